"""Known-wrong and known-right implementations of the exercises, as a learner might write them.

``WRONG`` lists ``(exercise, mistake, function)``: the checker must fail the function *and* name
``mistake``. ``RIGHT`` lists ``(exercise, function)``: every correct route must pass. The functions
are written the way students write them (lists and ``math.exp``, in-place operators, forgotten
``keepdims``), not by calling the checker's own wrong implementations.
"""

import importlib
import math
from pathlib import Path

import numpy as np
import scipy.special as sc

# ---------------------------------------------------------------------------------------------
# lesson 01: softmax(z), 1-D


def softmax_no_max(z):
    e = np.exp(np.asarray(z, dtype=float))
    return e / e.sum()


def softmax_no_max_lists(z):
    e = [math.exp(x) for x in z]
    s = sum(e)
    return [x / s for x in e]


def softmax_no_max_keeps_dtype(z):
    z = np.asarray(z)
    e = np.exp(z)  # float32 stays float32, and exp(89) overflows there
    return e / np.sum(e)


def softmax_mean_shift(z):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - np.mean(z))
    return e / e.sum()


def softmax_min_shift(z):
    z = np.array(z, dtype=float)
    e = np.exp(z - z.min())
    return e / e.sum()


def softmax_in_place(z):
    z -= np.max(z)  # the caller's array
    e = np.exp(z)
    return e / e.sum()


def softmax_int_in_place(z):
    z = np.array(z)
    p = np.empty_like(z)
    p[:] = np.exp(z - z.max())
    p /= p.sum()  # integer input: "Cannot cast ufunc 'divide' output"
    return p


def softmax_no_return(z):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max())
    p = e / e.sum()  # noqa: F841


def softmax_not_normalised(z):
    z = np.asarray(z, dtype=float)
    return np.exp(z - z.max())


def softmax_extra_parameter(z, axis):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def softmax_lists_max(z):
    m = max(z)
    e = [math.exp(x - m) for x in z]
    s = sum(e)
    return [x / s for x in e]


def _my_logsumexp(z):
    z = np.asarray(z, dtype=float)
    m = z.max()
    return m + np.log(np.sum(np.exp(z - m)))


def softmax_via_logsumexp(z):
    return np.exp(np.asarray(z, dtype=float) - _my_logsumexp(z))


def softmax_keeps_float32(z):
    z = np.asarray(z)
    if z.dtype.kind != "f":
        z = z.astype(float)
    e = np.exp(z - z.max())
    return e / e.sum()


# ---------------------------------------------------------------------------------------------
# lesson 02 and 03: f(z, axis=-1)


def axis_ok(z, axis=-1):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def axis_no_max(z, axis=-1):
    e = np.exp(np.asarray(z, dtype=float))
    return e / e.sum(axis=axis, keepdims=True)


def axis_whole_array(z, axis=-1):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max())
    return e / np.sum(e)


def axis_wrong_axis(z, axis=-1):
    z = np.asarray(z, dtype=float)
    other = 0 if axis in (-1, z.ndim - 1) else -1  # mixes up rows and columns
    e = np.exp(z - z.max(axis=other, keepdims=True))
    return e / e.sum(axis=other, keepdims=True)


def axis_no_keepdims(z, axis=-1):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - np.max(z, axis=axis))
    return e / np.sum(e, axis=axis)


def axis_no_keepdims_max_only(z, axis=-1):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max(axis=axis))
    return e / e.sum(axis=axis, keepdims=True)


def axis_global_max(z, axis=-1):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max())
    return e / e.sum(axis=axis, keepdims=True)


def axis_ignores_axis(z, axis=-1):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def axis_mean_shift(z, axis=-1):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.mean(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def axis_min_shift(z, axis=-1):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.min(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def axis_in_place(z, axis=-1):
    z -= z.max(axis=axis, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=axis, keepdims=True)
    return z


def axis_no_axis_parameter(z):
    return axis_ok(z)


def axis_apply_along_axis(z, axis=-1):
    return np.apply_along_axis(softmax_lists_max, axis, np.asarray(z, dtype=float))


def axis_moveaxis(z, axis=-1):
    z = np.moveaxis(np.asarray(z, dtype=float), axis, -1)
    e = np.exp(z - z.max(axis=-1)[..., None])
    return np.moveaxis(e / e.sum(axis=-1)[..., None], -1, axis)


def axis_via_logsumexp(z, axis=-1):
    z = np.asarray(z, dtype=float)
    return np.exp(z - sc.logsumexp(z, axis=axis, keepdims=True))


# logsumexp -------------------------------------------------------------------------------------


def lse_ok(z, axis=-1):
    z = np.asarray(z, dtype=float)
    m = z.max(axis=axis, keepdims=True)
    return np.squeeze(m, axis) + np.log(np.exp(z - m).sum(axis=axis))


def lse_no_max(z, axis=-1):
    return np.log(np.sum(np.exp(z), axis=axis))


def lse_forgets_max(z, axis=-1):
    z = np.asarray(z, dtype=float)
    m = z.max(axis=axis, keepdims=True)
    return np.log(np.sum(np.exp(z - m), axis=axis))


def lse_keepdims(z, axis=-1):
    z = np.asarray(z, dtype=float)
    m = z.max(axis=axis, keepdims=True)
    return m + np.log(np.sum(np.exp(z - m), axis=axis, keepdims=True))


def lse_wrong_axis(z, axis=-1):
    z = np.asarray(z, dtype=float)
    axis = 0 if axis in (-1, z.ndim - 1) and z.ndim == 2 else axis
    m = z.max(axis=axis, keepdims=True)
    return np.squeeze(m, axis) + np.log(np.exp(z - m).sum(axis=axis))


def lse_global_max(z, axis=-1):
    z = np.asarray(z, dtype=float)
    m = z.max()
    return m + np.log(np.exp(z - m).sum(axis=axis))


def lse_no_keepdims(z, axis=-1):
    z = np.asarray(z, dtype=float)
    m = z.max(axis=axis)
    return m + np.log(np.exp(z - m).sum(axis=axis))


def lse_logaddexp(z, axis=-1):
    return np.logaddexp.reduce(np.asarray(z, dtype=float), axis=axis)


def lse_python_float(z, axis=-1):
    z = np.asarray(z, dtype=float)
    m = z.max(axis=axis, keepdims=True)
    out = np.squeeze(m, axis) + np.log(np.exp(z - m).sum(axis=axis))
    return float(out) if out.ndim == 0 else out


# log_softmax -----------------------------------------------------------------------------------


def log_softmax_ok(z, axis=-1):
    z = np.asarray(z, dtype=float)
    d = z - z.max(axis=axis, keepdims=True)
    return d - np.log(np.exp(d).sum(axis=axis, keepdims=True))


def log_softmax_log_of_softmax(z, axis=-1):
    return np.log(axis_ok(z, axis))


def log_softmax_no_max(z, axis=-1):
    z = np.asarray(z, dtype=float)
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))


def log_softmax_forgets_max(z, axis=-1):
    z = np.asarray(z, dtype=float)
    m = z.max(axis=axis, keepdims=True)
    return z - np.log(np.exp(z - m).sum(axis=axis, keepdims=True))


def log_softmax_wrong_axis(z, axis=-1):
    z = np.asarray(z, dtype=float)
    other = 0 if axis in (-1, z.ndim - 1) and z.ndim == 2 else axis
    return log_softmax_ok(z, other)


def log_softmax_in_place(z, axis=-1):
    z -= z.max(axis=axis, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))


def log_softmax_via_lse(z, axis=-1):
    z = np.asarray(z, dtype=float)
    return z - np.expand_dims(lse_ok(z, axis), axis)


# ---------------------------------------------------------------------------------------------
# lesson 04: softmax_temperature(z, temperature, axis=-1)


def temperature_ok(z, temperature, axis=-1):
    return axis_ok(np.asarray(z, dtype=float) / temperature, axis)


def temperature_multiplied(z, temperature, axis=-1):
    return axis_ok(np.asarray(z, dtype=float) * temperature, axis)


def temperature_power_not_renormalised(z, tau, axis=-1):
    return axis_ok(z, axis) ** (1 / tau)


def temperature_power_renormalised(z, tau, axis=-1):
    q = axis_ok(z, axis) ** (1 / tau)
    return q / q.sum(axis=axis, keepdims=True)


def temperature_ignored(z, temperature, axis=-1):
    return axis_ok(z, axis)


def temperature_no_max(z, temperature, axis=-1):
    e = np.exp(np.asarray(z, dtype=float) / temperature)
    return e / e.sum(axis=axis, keepdims=True)


def temperature_in_place_division(z, temperature, axis=-1):
    z = np.asarray(z)
    z /= temperature  # integer z: cannot cast; float arrays: the caller's array
    return axis_ok(z, axis)


def temperature_scipy(z, tau, axis=-1):
    return sc.softmax(np.asarray(z, dtype=float) / tau, axis=axis)


def temperature_via_logsumexp(z, temperature, axis=-1):
    x = np.asarray(z, dtype=float) / temperature
    return np.exp(x - sc.logsumexp(x, axis=axis, keepdims=True))


# Answers that call a library function doing the exercise's whole job: right values, no points.
# (exercise, function, the qualified name check reports)
DELEGATED = [
    ("softmax", lambda z: sc.softmax(z), "scipy.special.softmax"),
    ("softmax_axis", axis_via_logsumexp, "scipy.special.logsumexp"),
    ("softmax_axis", lambda z, axis=-1: sc.softmax(z, axis=axis), "scipy.special.softmax"),
    ("stable_softmax", axis_via_logsumexp, "scipy.special.logsumexp"),
    ("logsumexp", lambda z, axis=-1: sc.logsumexp(z, axis=axis), "scipy.special.logsumexp"),
    ("log_softmax", lambda z, axis=-1: sc.log_softmax(z, axis=axis), "scipy.special.log_softmax"),
    ("softmax_temperature", temperature_scipy, "scipy.special.softmax"),
    ("softmax_temperature", temperature_via_logsumexp, "scipy.special.logsumexp"),
]

WRONG = [
    ("softmax", "no max trick", softmax_no_max),
    ("softmax", "no max trick", softmax_no_max_lists),
    ("softmax", "no max trick", softmax_no_max_keeps_dtype),
    ("softmax", "shift by the mean", softmax_mean_shift),
    ("softmax", "shift by the min", softmax_min_shift),
    ("softmax", "modifies its input", softmax_in_place),
    ("softmax", "integer input", softmax_int_in_place),
    ("softmax", "no return", softmax_no_return),
    ("softmax", "not normalised", softmax_not_normalised),
    ("softmax", "wrong signature", softmax_extra_parameter),
    ("softmax_axis", "no max trick", axis_no_max),
    ("softmax_axis", "whole array", axis_whole_array),
    ("softmax_axis", "wrong axis", axis_wrong_axis),
    ("softmax_axis", "max without keepdims", axis_no_keepdims),
    ("softmax_axis", "broadcast error", axis_no_keepdims_max_only),
    ("softmax_axis", "global max", axis_global_max),
    ("softmax_axis", "ignores axis", axis_ignores_axis),
    ("softmax_axis", "shift by the mean", axis_mean_shift),
    ("softmax_axis", "modifies its input", axis_in_place),
    ("softmax_axis", "wrong signature", axis_no_axis_parameter),
    ("stable_softmax", "no max trick", axis_no_max),
    ("stable_softmax", "shift by the mean", axis_mean_shift),
    ("stable_softmax", "shift by the min", axis_min_shift),
    ("stable_softmax", "whole array", axis_whole_array),
    ("stable_softmax", "wrong axis", axis_wrong_axis),
    ("stable_softmax", "max without keepdims", axis_no_keepdims),
    ("stable_softmax", "global max", axis_global_max),
    ("stable_softmax", "modifies its input", axis_in_place),
    ("logsumexp", "no max trick", lse_no_max),
    ("logsumexp", "max not added back", lse_forgets_max),
    ("logsumexp", "keeps the axis", lse_keepdims),
    ("logsumexp", "wrong axis", lse_wrong_axis),
    ("logsumexp", "global max", lse_global_max),
    ("logsumexp", "max without keepdims", lse_no_keepdims),
    ("log_softmax", "log of softmax", log_softmax_log_of_softmax),
    ("log_softmax", "no max trick", log_softmax_no_max),
    ("log_softmax", "max not added back", log_softmax_forgets_max),
    ("log_softmax", "wrong axis", log_softmax_wrong_axis),
    ("log_softmax", "modifies its input", log_softmax_in_place),
    ("softmax_temperature", "temperature multiplied", temperature_multiplied),
    ("softmax_temperature", "powered without renormalising", temperature_power_not_renormalised),
    ("softmax_temperature", "temperature ignored", temperature_ignored),
    ("softmax_temperature", "no max trick", temperature_no_max),
    ("softmax_temperature", "integer input", temperature_in_place_division),
]

RIGHT = [
    ("softmax", softmax_lists_max),
    ("softmax", softmax_via_logsumexp),
    ("softmax", softmax_keeps_float32),
    ("softmax", axis_ok),
    ("softmax_axis", axis_ok),
    ("softmax_axis", axis_apply_along_axis),
    ("softmax_axis", axis_moveaxis),
    ("stable_softmax", axis_ok),
    ("stable_softmax", lambda z, axis=-1: np.exp(log_softmax_ok(z, axis))),
    ("logsumexp", lse_ok),
    ("logsumexp", lse_logaddexp),
    ("logsumexp", lse_python_float),
    ("log_softmax", log_softmax_ok),
    ("log_softmax", log_softmax_via_lse),
    ("softmax_temperature", temperature_ok),
    ("softmax_temperature", temperature_power_renormalised),
]


# ---------------------------------------------------------------------------------------------
# the mistakes any exercise can show, each written into a correct implementation


def _renamed(f, name):
    f.__name__ = name
    return f


def no_return(f):
    def g(*args, **kwargs):
        f(*args, **kwargs)  # computes the answer, forgets to return it

    return _renamed(g, f"{f.__name__}_no_return")


def returns_text(f):
    def g(*args, **kwargs):
        return str(np.round(f(*args, **kwargs), 3))  # prints nicely, but it is a string

    return _renamed(g, f"{f.__name__}_returns_text")


def axis_exp_in_place(z, axis=-1):
    z = np.asarray(z)
    d = z - z.max(axis=axis, keepdims=True)
    np.exp(d, out=d)  # integer z: "Cannot cast ufunc 'exp' output"
    return d / d.sum(axis=axis, keepdims=True)


def axis_renamed_parameter(z, dim=-1):
    return axis_ok(z, dim)


def axis_not_normalised(z, axis=-1):
    z = np.asarray(z, dtype=float)
    return np.exp(z - z.max(axis=axis, keepdims=True))


def axis_broadcast_error(z, axis=-1):
    z = np.asarray(z, dtype=float)
    m = z.max(axis=axis)
    e = np.exp(z - m[..., None])  # right for the last axis only
    return e / e.sum(axis=axis, keepdims=True)


def lse_exp_in_place(z, axis=-1):
    z = np.asarray(z)
    m = z.max(axis=axis, keepdims=True)
    d = z - m
    np.exp(d, out=d)
    return np.squeeze(m, axis) + np.log(d.sum(axis=axis))


def lse_renamed_parameter(z, dim=-1):
    return lse_ok(z, dim)


def lse_ignores_axis(z, axis=-1):
    return lse_ok(z, -1)


def lse_in_place(z, axis=-1):
    m = z.max(axis=axis, keepdims=True)
    z -= m
    return np.squeeze(m, axis) + np.log(np.exp(z).sum(axis=axis))


def lse_broadcast_error(z, axis=-1):
    z = np.asarray(z, dtype=float)
    m = z.max(axis=axis)
    return m + np.log(np.exp(z - m[..., None]).sum(axis=axis))


def log_softmax_exp_in_place(z, axis=-1):
    z = np.asarray(z)
    d = z - z.max(axis=axis, keepdims=True)
    e = d.copy()
    np.exp(e, out=e)
    return d - np.log(e.sum(axis=axis, keepdims=True))


def log_softmax_renamed_parameter(z, dim=-1):
    return log_softmax_ok(z, dim)


def log_softmax_ignores_axis(z, axis=-1):
    return log_softmax_ok(z, -1)


def log_softmax_broadcast_error(z, axis=-1):
    z = np.asarray(z, dtype=float)
    d = z - z.max(axis=axis)[..., None]
    return d - np.log(np.exp(d).sum(axis=axis, keepdims=True))


def temperature_renamed_parameter(z, tau, dim=-1):
    return temperature_ok(z, tau, dim)


def temperature_ignores_axis(z, tau, axis=-1):
    return temperature_ok(z, tau, -1)


def temperature_not_normalised(z, tau, axis=-1):
    x = np.asarray(z, dtype=float) / tau
    return np.exp(x - x.max(axis=axis, keepdims=True))


def temperature_in_place(z, tau, axis=-1):
    z /= tau  # float arrays: the caller's logits are divided too
    return axis_ok(z, axis)


def temperature_wrong_axis(z, tau, axis=-1):
    z = np.asarray(z, dtype=float)
    return temperature_ok(z, tau, 0 if axis in (-1, z.ndim - 1) else -1)


def temperature_broadcast_error(z, tau, axis=-1):
    return axis_broadcast_error(np.asarray(z, dtype=float) / tau, axis)


WRONG += [
    ("softmax", "result is not numbers", returns_text(softmax_lists_max)),
    ("softmax_axis", "no return", no_return(axis_ok)),
    ("softmax_axis", "result is not numbers", returns_text(axis_ok)),
    ("softmax_axis", "integer input", axis_exp_in_place),
    ("softmax_axis", "not normalised", axis_not_normalised),
    ("softmax_axis", "shift by the min", axis_min_shift),
    ("stable_softmax", "wrong signature", axis_renamed_parameter),
    ("stable_softmax", "no return", no_return(axis_ok)),
    ("stable_softmax", "result is not numbers", returns_text(axis_ok)),
    ("stable_softmax", "integer input", axis_exp_in_place),
    ("stable_softmax", "ignores axis", axis_ignores_axis),
    ("stable_softmax", "not normalised", axis_not_normalised),
    ("stable_softmax", "broadcast error", axis_broadcast_error),
    ("logsumexp", "wrong signature", lse_renamed_parameter),
    ("logsumexp", "no return", no_return(lse_ok)),
    ("logsumexp", "result is not numbers", returns_text(lse_ok)),
    ("logsumexp", "integer input", lse_exp_in_place),
    ("logsumexp", "ignores axis", lse_ignores_axis),
    ("logsumexp", "modifies its input", lse_in_place),
    ("logsumexp", "broadcast error", lse_broadcast_error),
    ("log_softmax", "wrong signature", log_softmax_renamed_parameter),
    ("log_softmax", "no return", no_return(log_softmax_ok)),
    ("log_softmax", "result is not numbers", returns_text(log_softmax_ok)),
    ("log_softmax", "integer input", log_softmax_exp_in_place),
    ("log_softmax", "ignores axis", log_softmax_ignores_axis),
    ("log_softmax", "broadcast error", log_softmax_broadcast_error),
    ("softmax_temperature", "wrong signature", temperature_renamed_parameter),
    ("softmax_temperature", "no return", no_return(temperature_ok)),
    ("softmax_temperature", "result is not numbers", returns_text(temperature_ok)),
    ("softmax_temperature", "ignores axis", temperature_ignores_axis),
    ("softmax_temperature", "not normalised", temperature_not_normalised),
    ("softmax_temperature", "modifies its input", temperature_in_place),
    ("softmax_temperature", "broadcast error", temperature_broadcast_error),
    ("softmax_temperature", "wrong axis", temperature_wrong_axis),
]


# ---------------------------------------------------------------------------------------------
# Later lessons keep theirs in grading_fixtures_lessonNN.py, with the same WRONG and RIGHT lists.
for _path in sorted(Path(__file__).parent.glob("grading_fixtures_lesson[0-9][0-9].py")):
    _module = importlib.import_module(_path.stem)
    WRONG += _module.WRONG
    RIGHT += _module.RIGHT
    DELEGATED += getattr(_module, "DELEGATED", [])


# ---------------------------------------------------------------------------------------------
# Mistakes named since the mutation harness (issue 16): float32 computations, a global max in a
# batch, an online softmax whose rescale factor is inverted, a temperature search that never
# responds to the data.
def softmax_float32(z, axis=-1):
    z = np.asarray(z, dtype=np.float32)  # "float32 is enough for probabilities"
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def lse_float32(z, axis=-1):
    z = np.asarray(z, dtype=np.float32)
    m = z.max(axis=axis, keepdims=True)
    return m.squeeze(axis) + np.log(np.exp(z - m).sum(axis=axis))


def log_softmax_float32(z, axis=-1):
    z = np.asarray(z, dtype=np.float32)
    m = z.max(axis=axis, keepdims=True)
    return (z - m) - np.log(np.exp(z - m).sum(axis=axis, keepdims=True))


def temperature_float32(z, temperature, axis=-1):
    return softmax_float32(np.asarray(z, dtype=np.float32) / np.float32(temperature), axis)


def ce_float32(z, y):
    z = np.asarray(z, dtype=np.float32)
    m = z.max(axis=1, keepdims=True)
    log_p = (z - m) - np.log(np.exp(z - m).sum(axis=1, keepdims=True))
    return -np.mean(log_p[np.arange(len(y)), y])


def masked_float32(z, mask, axis=-1):
    z = np.asarray(z, dtype=np.float32)
    mask = np.broadcast_to(np.asarray(mask, dtype=bool), z.shape)
    s = np.where(mask, z, np.float32(-np.inf))
    m = s.max(axis=axis, keepdims=True)
    e = np.exp(s - np.where(np.isfinite(m), m, np.float32(0)))
    total = e.sum(axis=axis, keepdims=True)
    return np.where(total > 0, e / np.where(total > 0, total, np.float32(1)), np.float32(0))


def online_float32(z):
    z = np.asarray(z, dtype=np.float32)
    m, l = np.float32(-np.inf), np.float32(0)
    for x in z:
        m_new = max(m, x)
        l = l * np.exp(m - m_new) + np.exp(x - m_new)
        m = m_new
    return np.exp(z - m) / l


def attention_float32(q, k, v, mask=None):
    q, k, v = (np.asarray(a, dtype=np.float32) for a in (q, k, v))
    s = q @ k.T / np.float32(np.sqrt(q.shape[-1]))
    if mask is not None:
        s = np.where(mask, s, np.float32(-np.inf))
    m = s.max(axis=-1, keepdims=True)
    e = np.exp(s - np.where(np.isfinite(m), m, np.float32(0)))
    total = e.sum(axis=-1, keepdims=True)
    w = np.where(total > 0, e / np.where(total > 0, total, np.float32(1)), np.float32(0))
    return w @ v, w


def policy_float32(h, temperature=1.0):
    return softmax_float32(np.asarray(h, dtype=np.float32) / np.float32(temperature), -1)


def step_float32(h, action, reward, baseline, alpha):
    h = np.asarray(h, dtype=np.float32)
    e = np.exp(h - h.max())
    onehot = np.zeros_like(h)
    onehot[action] = 1
    return h + np.float32(alpha * (reward - baseline)) * (onehot - e / e.sum())


def temperature_global_max(z, tau, axis=-1):
    x = np.asarray(z, dtype=float) / tau
    e = np.exp(x - np.max(x))  # the whole array's max
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax_global_max(z, axis=-1):
    z = np.asarray(z, dtype=float)
    shifted = z - z.max()
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def ce_global_max(z, y):
    z = np.asarray(z, dtype=float)
    z = z - z.max()
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return -np.mean(log_p[np.arange(len(y)), y])


def masked_global_max(z, mask, axis=-1):
    z = np.asarray(z, dtype=float)
    keep = np.broadcast_to(np.asarray(mask, dtype=bool), z.shape)
    e = np.where(keep, np.exp(z - z[keep].max()) if keep.any() else 0.0, 0.0)
    total = e.sum(axis=axis, keepdims=True)
    return np.divide(e, total, out=np.zeros_like(e), where=total > 0)


def policy_global_max(h, temperature=1.0):
    x = np.asarray(h, dtype=float) / temperature
    e = np.exp(x - x.max())
    return e / e.sum(axis=-1, keepdims=True)


def online_inverted_rescale(z):
    z = np.asarray(z, dtype=float)
    m, l = z[0], 1.0
    for x in z[1:]:
        m_new = max(m, x)
        l = l * np.exp(m_new - m) + np.exp(x - m_new)  # the factor upside down
        m = m_new
    return np.exp(z - m) / l


WRONG += [
    ("softmax", "computes in float32", softmax_float32),
    ("softmax_axis", "computes in float32", softmax_float32),
    ("stable_softmax", "computes in float32", softmax_float32),
    ("logsumexp", "computes in float32", lse_float32),
    ("log_softmax", "computes in float32", log_softmax_float32),
    ("cross_entropy", "computes in float32", ce_float32),
    ("online_softmax", "computes in float32", online_float32),
    ("softmax_temperature", "computes in float32", temperature_float32),
    ("masked_softmax", "computes in float32", masked_float32),
    ("boltzmann_policy", "computes in float32", policy_float32),
    ("scaled_dot_product_attention", "computes in float32", attention_float32),
    ("gradient_bandit_step", "computes in float32", step_float32),
    ("softmax_temperature", "global max", temperature_global_max),
    ("log_softmax", "global max", log_softmax_global_max),
    ("cross_entropy", "global max", ce_global_max),
    ("masked_softmax", "global max", masked_global_max),
    ("boltzmann_policy", "global max", policy_global_max),
    ("online_softmax", "divided by the wrong sum", online_inverted_rescale),
]



def log_softmax_eps(z, axis=-1):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return np.log(e / e.sum(axis=axis, keepdims=True) + 1e-12)  # "avoids log(0)"


def ece_half_correct(p, y, n_bins=15):
    p, y = np.asarray(p, dtype=float), np.asarray(y)
    conf = p.max(axis=1)
    correct = p[np.arange(len(y)), y] >= 0.5  # "the model gave the truth at least half"
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    total = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        b = (conf > lo) & (conf <= hi) | ((lo == 0) & (conf == 0))
        if b.any():
            total += b.sum() / len(conf) * abs(correct[b].mean() - conf[b].mean())
    return total


def attention_weights_first(q, k, v, mask=None):
    q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
    s = q @ k.T / np.sqrt(q.shape[1])
    if mask is not None:
        s = np.where(mask, s, -np.inf)
    m = s.max(axis=1, keepdims=True)
    e = np.exp(s - np.where(np.isfinite(m), m, 0.0))
    t = e.sum(axis=1, keepdims=True)
    w = np.divide(e, t, out=np.zeros_like(e), where=t > 0)
    return w, w @ v


def masked_max_everything(z, mask, axis=-1):
    z = np.asarray(z, dtype=float)
    mask = np.broadcast_to(np.asarray(mask, dtype=bool), z.shape)
    e = np.exp(z - z.max(axis=axis, keepdims=True)) * mask  # max over masked entries too
    t = e.sum(axis=axis, keepdims=True)
    return np.divide(e, t, out=np.zeros_like(e), where=t > 0)


def step_in_place_loop(h, action, reward, baseline, alpha):
    new = np.array(h, dtype=float)
    for a in range(len(new)):
        e = np.exp(new - new.max())
        pi_a = e[a] / e.sum()  # the policy of the preferences updated so far
        new[a] = new[a] + alpha * (reward - baseline) * ((1.0 if a == action else 0.0) - pi_a)
    return new


WRONG += [
    ("log_softmax", "log(p + eps)", log_softmax_eps),
    ("expected_calibration_error", "correct means p[y] >= 0.5", ece_half_correct),
    ("scaled_dot_product_attention", "outputs in the wrong order", attention_weights_first),
    ("masked_softmax", "max includes masked entries", masked_max_everything),
    ("gradient_bandit_step", "reads values it already updated", step_in_place_loop),
]


def axis_max_last_axis(z, axis=-1):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - np.max(z, axis=-1, keepdims=True))  # the max along the last axis, always
    return e / e.sum(axis=axis, keepdims=True)


def temperature_max_first_axis(z, temperature, axis=-1):
    x = np.asarray(z, dtype=float) / temperature
    e = np.exp(x - x.max(axis=0, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def policy_max_columns(h, temperature=1.0):
    x = np.asarray(h, dtype=float) / temperature
    e = np.exp(x - np.max(x, axis=0))
    return e / e.sum(axis=-1, keepdims=True)


def policy_no_keepdims(h, temperature=1.0):
    x = np.asarray(h, dtype=float) / temperature
    e = np.exp(x - x.max(axis=-1))
    return e / e.sum(axis=-1)


def step_exp_as_policy(h, action, reward, baseline, alpha):
    h = np.asarray(h, dtype=float)
    pi = np.exp(h - np.max(h))  # "the softmax" without its division
    onehot = np.zeros(len(h))
    onehot[action] = 1.0
    return h + alpha * (reward - baseline) * (onehot - pi)


WRONG += [
    ("softmax_axis", "max along another axis", axis_max_last_axis),
    ("stable_softmax", "max along another axis", axis_max_last_axis),
    ("softmax_temperature", "max along another axis", temperature_max_first_axis),
    ("boltzmann_policy", "max along another axis", policy_max_columns),
    ("boltzmann_policy", "broadcast error", policy_no_keepdims),
    ("gradient_bandit_step", "policy not normalised", step_exp_as_policy),
]


def attention_times_sqrt(q, k, v, mask=None):
    q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
    s = (q @ k.T) * math.sqrt(q.shape[-1])  # "scaled by sqrt(d_k)"
    if mask is not None:
        s = np.where(mask, s, -np.inf)
    m = s.max(axis=-1, keepdims=True)
    e = np.exp(s - np.where(np.isfinite(m), m, 0.0))
    t = e.sum(axis=-1, keepdims=True)
    w = np.divide(e, t, out=np.zeros_like(e), where=t > 0)
    return w @ v, w


WRONG += [("scaled_dot_product_attention", "scale multiplied", attention_times_sqrt)]
