"""Known-wrong and known-right ``logsumexp_log1p(z)``, as students write them: with np.delete,
with a mask, with -inf in the max's place, with loops and math.log1p."""

import math

import numpy as np


# --- right --------------------------------------------------------------------------------------
def log1p_delete(z):
    z = np.asarray(z, dtype=float)
    k = np.argmax(z)
    return z[k] + np.log1p(np.exp(np.delete(z, k) - z[k]).sum())


def log1p_mask(z):
    z = np.asarray(z, dtype=float)
    others = np.ones(z.size, dtype=bool)
    others[np.argmax(z)] = False
    m = z.max()
    return m + np.log1p(np.sum(np.exp(z[others] - m)))


def log1p_loop(z):
    z = [float(x) for x in z]
    k = max(range(len(z)), key=lambda i: z[i])
    t = sum(math.exp(x - z[k]) for i, x in enumerate(z) if i != k)
    return z[k] + math.log1p(t)


def log1p_minus_one(z):
    z = np.asarray(z, dtype=float)
    m = z.max()
    t = np.exp(z - m).sum() - 1.0          # the largest term is exactly 1: take it off again
    return m + np.log1p(t)


# --- wrong --------------------------------------------------------------------------------------
def log1p_uses_log(z):
    z = np.asarray(z, dtype=float)
    k = np.argmax(z)
    return z[k] + np.log(1.0 + np.exp(np.delete(z, k) - z[k]).sum())


def log1p_of_whole_sum(z):
    z = np.asarray(z, dtype=float)
    return z.max() + np.log1p(np.exp(z - z.max()).sum())


def log1p_drops_ties(z):
    z = np.asarray(z, dtype=float)
    m = z.max()
    return m + np.log1p(np.exp(z[z != m] - m).sum())


def log1p_no_max(z):
    z = np.asarray(z, dtype=float)
    return np.log(np.exp(z).sum())


def log1p_math_exp(z):
    e = [math.exp(x) for x in z]                 # OverflowError above 709
    return math.log(sum(e))


def log1p_minus_inf_in_place(z):
    z = np.asarray(z, dtype=float)             # no copy for a float array: the caller's
    k = np.argmax(z)
    m = z[k]
    z[k] = -np.inf
    return m + np.log1p(np.exp(z - m).sum())


def log1p_minus_inf_int(z):
    z = np.array(z)                            # a copy, but integers stay integers
    k = np.argmax(z)
    m = float(z[k])
    z[k] = -np.inf                             # OverflowError: cannot put -inf in an int array
    return m + np.log1p(np.exp(z - m).sum())


def log1p_wrong_parameters(z, axis):
    return log1p_delete(z)


def log1p_forgot_return(z):
    log1p_delete(z)


def log1p_returns_text(z):
    return f"{log1p_delete(z):.6f}"


WRONG = [
    ("logsumexp_log1p", "log instead of log1p", log1p_uses_log),
    ("logsumexp_log1p", "largest term kept in t", log1p_of_whole_sum),
    ("logsumexp_log1p", "every tied maximum removed", log1p_drops_ties),
    ("logsumexp_log1p", "no max trick", log1p_no_max),
    ("logsumexp_log1p", "no max trick", log1p_math_exp),
    ("logsumexp_log1p", "modifies its input", log1p_minus_inf_in_place),
    ("logsumexp_log1p", "integer input", log1p_minus_inf_int),
    ("logsumexp_log1p", "wrong signature", log1p_wrong_parameters),
    ("logsumexp_log1p", "no return", log1p_forgot_return),
    ("logsumexp_log1p", "result is not numbers", log1p_returns_text),
]

RIGHT = [
    ("logsumexp_log1p", log1p_delete),
    ("logsumexp_log1p", log1p_mask),
    ("logsumexp_log1p", log1p_loop),
]


# --- logsumexp, log_softmax, logsumexp_log1p: the slips the mutation report found (issue 16) ---
def lse_max_first_axis(z, axis=-1):
    z = np.asarray(z, dtype=float)
    m = np.max(z, axis=0, keepdims=True)                 # axis 0 whatever axis says
    return np.squeeze(m, axis=axis) + np.log(np.sum(np.exp(z - m), axis=axis))


def lse_minus(z, axis=-1):
    z = np.asarray(z, dtype=float)
    m = np.max(z, axis=axis)
    return m - np.log(np.sum(np.exp(z - np.expand_dims(m, axis)), axis=axis))


def lse_max_only_outside(z, axis=-1):
    z = np.asarray(z, dtype=float)
    m = np.max(z, axis=axis)
    return m + np.log(np.sum(np.exp(z), axis=axis))


def log_softmax_max_by_column(z, axis=-1):
    z = np.asarray(z, dtype=float)
    m = z.max(axis=0, keepdims=True) if z.ndim > 1 else z.max()
    shifted = z - m
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def log_softmax_plus(z, axis=-1):
    z = np.asarray(z, dtype=float)
    m = z.max(axis=axis, keepdims=True)
    return (z - m) + np.log(np.exp(z - m).sum(axis=axis, keepdims=True))


def log_softmax_exp_of_z(z, axis=-1):
    z = np.asarray(z, dtype=float)
    m = z.max(axis=axis, keepdims=True)
    return z - m - np.log(np.exp(z).sum(axis=axis, keepdims=True))


def log1p_smallest_out(z):
    z = np.asarray(z, dtype=float)
    i = int(np.argmin(z))
    rest = np.concatenate([z[:i], z[i + 1:]])
    return z[i] + np.log1p(np.sum(np.exp(rest - z[i])))


def log1p_minus(z):
    z = np.asarray(z, dtype=float)
    k = np.argmax(z)
    others = np.delete(z, k)
    return z[k] - np.log1p(np.exp(others - z[k]).sum())


WRONG += [
    ("logsumexp", "axis 0 hard-coded", lse_max_first_axis),
    ("logsumexp", "sign error", lse_minus),
    ("logsumexp", "exp not shifted", lse_max_only_outside),
    ("log_softmax", "max along another axis", log_softmax_max_by_column),
    ("log_softmax", "sign error", log_softmax_plus),
    ("log_softmax", "exp not shifted", log_softmax_exp_of_z),
    ("logsumexp_log1p", "shift by the min", log1p_smallest_out),
    ("logsumexp_log1p", "sign error", log1p_minus),
]
