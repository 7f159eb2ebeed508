"""Known-wrong and known-right ``logits_from_probs(p, axis=-1)`` and ``canonical_weights(W, b)``
(lesson 02), as students write them: with ``np.log`` and masks, ``np.mean(..., where=...)``,
``np.nanmean``, loops over rows, and the slips the lesson warns about."""

import math

import numpy as np


# --- logits_from_probs: right --------------------------------------------------------------------
def logits_where_mean(p, axis=-1):
    p = np.asarray(p, dtype=float)
    with np.errstate(divide="ignore"):
        logp = np.log(p)
    centre = np.mean(logp, axis=axis, keepdims=True, where=p > 0)
    return logp - centre


def logits_nanmean(p, axis=-1):
    p = np.asarray(p, dtype=float)
    with np.errstate(divide="ignore"):
        logp = np.log(p)
    centre = np.nanmean(np.where(p > 0, logp, np.nan), axis=axis, keepdims=True)
    return logp - centre


def logits_sum_and_count(p, axis=-1):
    p = np.asarray(p, dtype=float)
    positive = p > 0
    logp = np.log(np.where(positive, p, 1.0))
    centre = logp.sum(axis=axis, keepdims=True) / positive.sum(axis=axis, keepdims=True)
    return np.where(positive, logp - centre, -np.inf)


def logits_rows_loop(p, axis=-1):
    p = np.moveaxis(np.array(p, dtype=float), axis, -1)
    out = np.empty_like(p)
    for idx in np.ndindex(p.shape[:-1]):
        row = p[idx]
        logs = [math.log(v) for v in row if v > 0]
        c = sum(logs) / len(logs)
        out[idx] = [math.log(v) - c if v > 0 else -math.inf for v in row]
    return np.moveaxis(out, -1, axis)


# --- logits_from_probs: wrong --------------------------------------------------------------------
def _log(p):
    with np.errstate(divide="ignore"):
        return np.log(np.asarray(p, dtype=float))


def logits_just_log(p, axis=-1):
    return _log(p)


def logits_minus_max(p, axis=-1):
    logp = _log(p)
    return logp - np.max(logp, axis=axis, keepdims=True)


def logits_plain_mean(p, axis=-1):
    logp = _log(p)
    with np.errstate(invalid="ignore"):
        return logp - logp.mean(axis=axis, keepdims=True)


def logits_zero_for_log0(p, axis=-1):
    p = np.asarray(p, dtype=float)
    logp = np.log(np.where(p > 0, p, 1.0))          # log 0 -> 0 "to avoid the -inf"
    return np.where(p > 0, logp - logp.mean(axis=axis, keepdims=True), -np.inf)


def logits_whole_array_mean(p, axis=-1):
    p = np.asarray(p, dtype=float)
    logp = _log(p)
    return logp - np.mean(logp, where=p > 0)


def logits_no_keepdims(p, axis=-1):
    p = np.asarray(p, dtype=float)
    logp = _log(p)
    return logp - np.mean(logp, axis=axis, where=p > 0)


def logits_centre_expanded(p, axis=-1):
    p = np.asarray(p, dtype=float)
    logp = _log(p)
    centre = np.mean(logp, axis=axis, where=p > 0)
    return logp - np.expand_dims(centre, -1)        # right for rows only


def logits_ignore_axis(p, axis=-1):
    return logits_where_mean(p)


def logits_other_axis(p, axis=-1):
    p = np.asarray(p, dtype=float)
    return logits_where_mean(p, 0 if axis in (-1, p.ndim - 1) else -1)


def logits_base_10(p, axis=-1):
    p = np.asarray(p, dtype=float)
    with np.errstate(divide="ignore"):
        logp = np.log10(p)
    return logp - np.mean(logp, axis=axis, keepdims=True, where=p > 0)


def logits_exp_not_log(p, axis=-1):
    e = np.exp(np.asarray(p, dtype=float))
    return e - np.mean(e, axis=axis, keepdims=True)


def logits_in_place(p, axis=-1):
    p = np.asarray(p, dtype=float)                  # no copy for a float array
    with np.errstate(divide="ignore"):
        np.log(p, out=p)                            # the caller's probabilities are gone
    return p - np.mean(p, axis=axis, keepdims=True, where=np.isfinite(p))


def logits_int_in_place(p, axis=-1):
    p = np.asarray(p)
    z = np.zeros_like(p)                            # integer counts: an integer array
    z[...] = logits_where_mean(p, axis)
    return z


def logits_wrong_parameters(p, axis, eps):
    return logits_where_mean(p, axis)


def logits_forgot_return(p, axis=-1):
    z = logits_where_mean(p, axis)  # noqa: F841


def logits_returns_text(p, axis=-1):
    return str(np.round(logits_where_mean(p, axis), 3))


# --- canonical_weights: right --------------------------------------------------------------------
def canonical_mean(W, b):
    W = np.asarray(W, dtype=float)
    b = np.asarray(b, dtype=float)
    return W - W.mean(axis=0), b - b.mean()


def canonical_projection(W, b):
    W = np.asarray(W, dtype=float)
    b = np.asarray(b, dtype=float)
    K = len(b)
    C = np.eye(K) - np.ones((K, K)) / K              # the centring matrix
    return C @ W, C @ b


def canonical_lists(W, b):
    K = len(W)
    means = [sum(row[j] for row in W) / K for j in range(len(W[0]))]
    mb = sum(b) / K
    return [[row[j] - means[j] for j in range(len(row))] for row in W], [x - mb for x in b]


# --- canonical_weights: wrong --------------------------------------------------------------------
def canonical_row_mean(W, b):
    W = np.asarray(W, dtype=float)
    b = np.asarray(b, dtype=float)
    return W - W.mean(axis=1, keepdims=True), b - b.mean()


def canonical_row_mean_no_keepdims(W, b):
    W = np.asarray(W, dtype=float)
    b = np.asarray(b, dtype=float)
    return W - W.mean(axis=1), b - b.mean()


def canonical_forgot_b(W, b):
    W = np.asarray(W, dtype=float)
    return W - W.mean(axis=0), np.asarray(b, dtype=float)


def canonical_forgot_W(W, b):
    b = np.asarray(b, dtype=float)
    return np.asarray(W, dtype=float), b - b.mean()


def canonical_last_class(W, b):
    W = np.asarray(W, dtype=float)
    b = np.asarray(b, dtype=float)
    return W - W[-1, :], b - b[-1]


def canonical_class_zero(W, b):
    W = np.asarray(W, dtype=float)
    b = np.asarray(b, dtype=float)
    return W - W[0], b - b[0]


def canonical_minus_sum(W, b):
    W = np.asarray(W, dtype=float)
    b = np.asarray(b, dtype=float)
    return W - W.sum(axis=0, keepdims=True), b - np.sum(b)


def canonical_scalar_mean(W, b):
    W = np.asarray(W, dtype=float)
    b = np.asarray(b, dtype=float)
    return W - np.mean(W), b - np.mean(b)


def canonical_b_first(W, b):
    W0, b0 = canonical_mean(W, b)
    return b0, W0


def canonical_in_place(W, b):
    W = np.asarray(W, dtype=float)                  # no copy for a float array
    W -= W.mean(axis=0)
    b = np.asarray(b, dtype=float)
    return W, b - b.mean()


def canonical_int_in_place(W, b):
    W = np.array(W)
    b = np.array(b)                                 # a copy, but integers stay integers
    W = W - W.mean(axis=0)
    b -= b.mean()                                   # integer b: "Cannot cast ufunc 'subtract'"
    return W, b


def canonical_wrong_parameters(W):
    return canonical_mean(W, np.zeros(len(W)))


def canonical_forgot_return(W, b):
    W0, b0 = canonical_mean(W, b)  # noqa: F841


def canonical_returns_text(W, b):
    W0, b0 = canonical_mean(W, b)
    return str(np.round(W0, 3)), str(np.round(b0, 3))


WRONG = [
    ("logits_from_probs", "not centred", logits_just_log),
    ("logits_from_probs", "centred on the max", logits_minus_max),
    ("logits_from_probs", "a zero probability gives nan", logits_plain_mean),
    ("logits_from_probs", "zeros counted in the mean", logits_zero_for_log0),
    ("logits_from_probs", "one mean for the whole array", logits_whole_array_mean),
    ("logits_from_probs", "mean without keepdims", logits_no_keepdims),
    ("logits_from_probs", "broadcast error", logits_centre_expanded),
    ("logits_from_probs", "ignores axis", logits_ignore_axis),
    ("logits_from_probs", "wrong axis", logits_other_axis),
    ("logits_from_probs", "log base 10", logits_base_10),
    ("logits_from_probs", "exp instead of log", logits_exp_not_log),
    ("logits_from_probs", "modifies its input", logits_in_place),
    ("logits_from_probs", "integer input", logits_int_in_place),
    ("logits_from_probs", "wrong signature", logits_wrong_parameters),
    ("logits_from_probs", "no return", logits_forgot_return),
    ("logits_from_probs", "result is not numbers", logits_returns_text),
    ("canonical_weights", "mean over the features", canonical_row_mean),
    ("canonical_weights", "broadcast error", canonical_row_mean_no_keepdims),
    ("canonical_weights", "b not centred", canonical_forgot_b),
    ("canonical_weights", "W not centred", canonical_forgot_W),
    ("canonical_weights", "a reference class, not the least norm", canonical_last_class),
    ("canonical_weights", "a reference class, not the least norm", canonical_class_zero),
    ("canonical_weights", "sum instead of mean", canonical_minus_sum),
    ("canonical_weights", "one mean for the whole array", canonical_scalar_mean),
    ("canonical_weights", "returned in the wrong order", canonical_b_first),
    ("canonical_weights", "modifies its input", canonical_in_place),
    ("canonical_weights", "integer input", canonical_int_in_place),
    ("canonical_weights", "wrong signature", canonical_wrong_parameters),
    ("canonical_weights", "no return", canonical_forgot_return),
    ("canonical_weights", "result is not numbers", canonical_returns_text),
]

RIGHT = [
    ("logits_from_probs", logits_where_mean),
    ("logits_from_probs", logits_nanmean),
    ("logits_from_probs", logits_sum_and_count),
    ("logits_from_probs", logits_rows_loop),
    ("canonical_weights", canonical_mean),
    ("canonical_weights", canonical_projection),
    ("canonical_weights", canonical_lists),
]


# --- logits_from_probs: the slips the mutation report found (issue 16) ------------------------
def logits_count_everything(p, axis=-1):
    p = np.asarray(p, dtype=float)
    ok = p > 0
    logp = np.log(np.where(ok, p, 1.0))
    centre = np.sum(logp, axis=axis, keepdims=True) / np.count_nonzero(ok)   # whole array's count
    return np.where(ok, logp - centre, -np.inf)


WRONG += [
    ("logits_from_probs", "sum and count along different axes", logits_count_everything),
]
