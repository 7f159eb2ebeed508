"""Known-wrong and known-right ``sample_with_temperature(z, temperature, u)``, as students write
them: with ``np.cumsum`` and ``np.searchsorted``, with loops, with comparison matrices."""

import math

import numpy as np
import scipy.special as sc


def _softmax(x):
    x = np.asarray(x, dtype=float)
    e = np.exp(x - x.max())
    return e / e.sum()


# --- right --------------------------------------------------------------------------------------
def sample_searchsorted(z, temperature, u):
    p = _softmax(np.asarray(z, dtype=float) / temperature)
    c = np.cumsum(p)
    return np.minimum(np.searchsorted(c, u, side="right"), len(p) - 1)


def sample_loop(z, temperature, u):
    x = [v / temperature for v in z]
    m = max(x)
    e = [math.exp(v - m) for v in x]
    s = sum(e)
    out = []
    for ui in u:
        acc = 0.0
        for i, ei in enumerate(e):
            acc += ei / s
            if ui < acc:
                break
        out.append(i)
    return out


def sample_comparison_matrix(z, temperature, u):
    p = sc.softmax(np.asarray(z, dtype=float) / temperature)
    c = np.cumsum(p)
    k = (np.asarray(u)[:, None] >= c[None, :]).sum(axis=1)
    return np.clip(k, 0, len(p) - 1)


def sample_digitize(z, temperature, u):
    p = _softmax(np.asarray(z, dtype=float) / temperature)
    edges = np.cumsum(p)[:-1]
    return np.digitize(u, edges)


# --- wrong --------------------------------------------------------------------------------------
def sample_times_temperature(z, temperature, u):
    return sample_searchsorted(np.asarray(z, dtype=float) * temperature ** 2, temperature, u)


def sample_no_temperature(z, temperature, u):
    return sample_searchsorted(z, 1.0, u)


def sample_argmax(z, temperature, u):
    return np.array([int(np.argmax(z))] * len(u))


def sample_tokens_from_one(z, temperature, u):
    return [k + 1 for k in sample_loop(z, temperature, u)]


def sample_less_equal_loop(z, temperature, u):
    p = _softmax(np.asarray(z, dtype=float) / temperature)
    out = []
    for ui in u:
        acc = 0.0
        for i in range(len(p)):
            acc += p[i]
            if ui <= acc:
                break
        out.append(i)
    return out


def sample_exp_not_divided(z, temperature, u):
    x = np.asarray(z, dtype=float) / temperature
    c = np.cumsum(np.exp(x - x.max()))
    return np.minimum(np.searchsorted(c, u, side="right"), len(c) - 1)


def sample_naive_exp(z, temperature, u):
    e = np.exp(np.asarray(z, dtype=float) / temperature)
    c = np.cumsum(e / e.sum())
    return np.minimum(np.searchsorted(c, u, side="right"), len(c) - 1)


def sample_math_exp(z, temperature, u):
    e = [math.exp(v / temperature) for v in z]   # OverflowError for a small temperature
    s = sum(e)
    return sample_loop([math.log(x / s) for x in e], 1.0, u)


def sample_int_in_place(z, temperature, u):
    z = np.asarray(z)
    z /= temperature                             # integer z: cannot cast
    return sample_searchsorted(z, 1.0, u)


def sample_float_in_place(z, temperature, u):
    z = np.asarray(z, dtype=float)               # no copy for a float array: the caller's
    z /= temperature
    return sample_searchsorted(z, 1.0, u)


def sample_u_in_place(z, temperature, u):
    u = np.asarray(u, dtype=float)
    u *= 0.999999                                # "just to stay below 1": the caller's u
    return sample_searchsorted(z, temperature, u)


def sample_wrong_parameters(z, u):
    return sample_searchsorted(z, 1.0, u)


def sample_forgot_return(z, temperature, u):
    sample_searchsorted(z, temperature, u)


def sample_returns_text(z, temperature, u):
    return " ".join(str(k) for k in sample_searchsorted(z, temperature, u))


WRONG = [
    ("sample_with_temperature", "temperature multiplied", sample_times_temperature),
    ("sample_with_temperature", "temperature ignored", sample_no_temperature),
    ("sample_with_temperature", "greedy", sample_argmax),
    ("sample_with_temperature", "one-based indices", sample_tokens_from_one),
    ("sample_with_temperature", "u <= c instead of u < c", sample_less_equal_loop),
    ("sample_with_temperature", "not normalised", sample_exp_not_divided),
    ("sample_with_temperature", "no max trick", sample_naive_exp),
    ("sample_with_temperature", "no max trick", sample_math_exp),
    ("sample_with_temperature", "integer input", sample_int_in_place),
    ("sample_with_temperature", "modifies its input", sample_float_in_place),
    ("sample_with_temperature", "modifies its input", sample_u_in_place),
    ("sample_with_temperature", "wrong signature", sample_wrong_parameters),
    ("sample_with_temperature", "no return", sample_forgot_return),
    ("sample_with_temperature", "result is not numbers", sample_returns_text),
]

RIGHT = [
    ("sample_with_temperature", sample_searchsorted),
    ("sample_with_temperature", sample_loop),
    ("sample_with_temperature", sample_comparison_matrix),
    ("sample_with_temperature", sample_digitize),
]
