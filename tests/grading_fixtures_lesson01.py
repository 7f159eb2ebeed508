"""Known-wrong and known-right ``softmax_jacobian(z)`` and ``two_class_softmax(a, b)`` (lesson 01),
as students write them: with loops over i and j, with ``np.outer`` or broadcasting, with the
quotient rule typed in, and with the slips the lesson warns about."""

import math

import numpy as np
import scipy.special as sc


def _p(z):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max())
    return e / e.sum()


# --- softmax_jacobian: right ---------------------------------------------------------------------
def jacobian_outer(z):
    p = _p(z)
    return np.diag(p) - np.outer(p, p)


def jacobian_loops(z):
    z = [float(v) for v in z]
    m = max(z)
    e = [math.exp(v - m) for v in z]
    s = sum(e)
    p = [v / s for v in e]
    K = len(p)
    J = [[0.0] * K for _ in range(K)]
    for i in range(K):
        for j in range(K):
            J[i][j] = p[i] * ((1.0 if i == j else 0.0) - p[j])
    return J


def jacobian_broadcast(z):
    p = sc.softmax(np.asarray(z, dtype=float))
    return p[:, None] * (np.eye(p.size) - p[None, :])


def jacobian_covariance(z):
    p = _p(z)
    Y = np.eye(p.size)                   # the one-hot labels, row k is class k
    mean = p @ Y
    return (Y - mean).T @ (p[:, None] * (Y - mean))


# --- softmax_jacobian: wrong ---------------------------------------------------------------------
def jacobian_plus(z):
    p = _p(z)
    return np.diag(p) + np.outer(p, p)


def jacobian_only_diagonal(z):
    p = _p(z)
    return np.diag(p - p**2)


def jacobian_forgot_diag(z):
    p = _p(z)
    return -np.outer(p, p)


def jacobian_forgot_outer(z):
    return np.diag(_p(z))


def jacobian_p_times_p(z):
    p = _p(z)
    return np.diag(p) - p * p


def jacobian_p_dot_p(z):
    p = _p(z)
    return np.diag(p) - np.dot(p, p)


def jacobian_in_logits(z):
    z = np.asarray(z, dtype=float)
    return np.diag(z) - np.outer(z, z)


def jacobian_exp_not_divided(z):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - np.max(z))
    return np.diag(e) - np.outer(e, e)


def jacobian_no_max(z):
    e = np.exp(np.asarray(z, dtype=float))
    p = e / e.sum()
    return np.diag(p) - np.outer(p, p)


def jacobian_math_exp(z):
    e = [math.exp(v) for v in z]               # OverflowError above 709
    s = sum(e)
    p = np.array([v / s for v in e])
    return np.diag(p) - np.outer(p, p)


def jacobian_in_place(z):
    z -= np.max(z)                             # the caller's array
    p = np.exp(z) / np.exp(z).sum()
    return np.diag(p) - np.outer(p, p)


def jacobian_int_matrix(z):
    z = np.asarray(z)
    J = np.zeros((z.size, z.size), dtype=z.dtype)   # integer z: an integer matrix
    p = _p(z)
    J[...] = np.diag(p) - np.outer(p, p)
    return J


def jacobian_wrong_parameters(z, p):
    return np.diag(p) - np.outer(p, p)


def jacobian_forgot_return(z):
    p = _p(z)
    J = np.diag(p) - np.outer(p, p)  # noqa: F841


def jacobian_returns_text(z):
    return str(np.round(jacobian_outer(z), 3))


# --- two_class_softmax: right ---------------------------------------------------------------------
def two_sigmoid(a, b):
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-d))


def two_max_shift(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    m = np.maximum(a, b)
    ea, eb = np.exp(a - m), np.exp(b - m)
    return ea / (ea + eb)


def two_stacked(a, b):
    z = np.stack(np.broadcast_arrays(np.asarray(a, float), np.asarray(b, float)), axis=-1)
    return sc.softmax(z, axis=-1)[..., 0]


def two_expit(a, b):
    return sc.expit(np.subtract(a, b, dtype=float))


# --- two_class_softmax: wrong ---------------------------------------------------------------------
def two_naive(a, b):
    ea, eb = np.exp(np.asarray(a, dtype=float)), np.exp(np.asarray(b, dtype=float))
    return ea / (ea + eb)


def two_flipped(a, b):
    return two_sigmoid(b, a)


def two_odds(a, b):
    return np.exp(np.asarray(a, dtype=float) - np.asarray(b, dtype=float))


def two_only_a(a, b):
    return two_sigmoid(a, 0.0)


def two_sum(a, b):
    return two_sigmoid(np.asarray(a, dtype=float) + np.asarray(b, dtype=float), 0.0)


def two_both(a, b):
    p = two_sigmoid(a, b)
    return np.stack([p, 1 - p], axis=-1)


def two_in_place(a, b):
    a = np.asarray(a, dtype=float)
    if a.ndim:
        a -= b                                 # the caller's a
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-a))


def two_int_in_place(a, b):
    d = np.array(a) - np.array(b)
    d *= -1
    e = np.exp(d)
    out = np.ones_like(d)                      # integers stay integers
    out[...] = 1.0 / (1.0 + e)
    return out


def two_wrong_parameters(z):
    return two_stacked(z[0], z[1])


def two_forgot_return(a, b):
    p = two_sigmoid(a, b)  # noqa: F841


def two_returns_text(a, b):
    return str(np.round(two_sigmoid(a, b), 3))


WRONG = [
    ("softmax_jacobian", "plus instead of minus", jacobian_plus),
    ("softmax_jacobian", "off-diagonal entries missing", jacobian_only_diagonal),
    ("softmax_jacobian", "diag(p) missing", jacobian_forgot_diag),
    ("softmax_jacobian", "outer product missing", jacobian_forgot_outer),
    ("softmax_jacobian", "elementwise product instead of outer", jacobian_p_times_p),
    ("softmax_jacobian", "dot product instead of outer", jacobian_p_dot_p),
    ("softmax_jacobian", "logits instead of probabilities", jacobian_in_logits),
    ("softmax_jacobian", "not normalised", jacobian_exp_not_divided),
    ("softmax_jacobian", "no max trick", jacobian_no_max),
    ("softmax_jacobian", "no max trick", jacobian_math_exp),
    ("softmax_jacobian", "modifies its input", jacobian_in_place),
    ("softmax_jacobian", "integer input", jacobian_int_matrix),
    ("softmax_jacobian", "wrong signature", jacobian_wrong_parameters),
    ("softmax_jacobian", "no return", jacobian_forgot_return),
    ("softmax_jacobian", "result is not numbers", jacobian_returns_text),
    ("two_class_softmax", "no max trick", two_naive),
    ("two_class_softmax", "probability of the second class", two_flipped),
    ("two_class_softmax", "odds instead of probability", two_odds),
    ("two_class_softmax", "ignores b", two_only_a),
    ("two_class_softmax", "sigmoid of the sum", two_sum),
    ("two_class_softmax", "returns both probabilities", two_both),
    ("two_class_softmax", "modifies its input", two_in_place),
    ("two_class_softmax", "integer input", two_int_in_place),
    ("two_class_softmax", "wrong signature", two_wrong_parameters),
    ("two_class_softmax", "no return", two_forgot_return),
    ("two_class_softmax", "result is not numbers", two_returns_text),
]

RIGHT = [
    ("softmax_jacobian", jacobian_outer),
    ("softmax_jacobian", jacobian_loops),
    ("softmax_jacobian", jacobian_broadcast),
    ("softmax_jacobian", jacobian_covariance),
    ("two_class_softmax", two_sigmoid),
    ("two_class_softmax", two_max_shift),
    ("two_class_softmax", two_stacked),
    ("two_class_softmax", two_expit),
]


# --- two_class_softmax: the slips the mutation report found (issue 16) ------------------------
def two_shift_only_a(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    m = np.maximum(a, b)
    return np.exp(a - m) / (np.exp(a - m) + np.exp(b))       # b is not shifted


def two_minus_in_denominator(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    m = np.maximum(a, b)
    return np.exp(a - m) / (np.exp(a - m) - np.exp(b - m))


WRONG += [
    ("two_class_softmax", "a and b shifted differently", two_shift_only_a),
    ("two_class_softmax", "sign error", two_minus_in_denominator),
]
