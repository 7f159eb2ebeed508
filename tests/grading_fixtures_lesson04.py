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


# --- top_p_filter(p, top_p) ---------------------------------------------------------------------
# Right: the mass strictly above each token, by comparison matrix, by loop, or by a sort whose
# tied tokens share the mass above the first of them; wrong: the mistakes the checker names.
def top_p_matrix(p, top_p):
    p = np.asarray(p, dtype=float)
    above = (p[..., None, :] * (p[..., None, :] > p[..., :, None])).sum(axis=-1)
    q = np.where((above < top_p) | (top_p >= 1), p, 0.0)
    return q / q.sum(axis=-1, keepdims=True)


def _top_p_row_loop(row, top_p):
    out = []
    for pi in row:
        above = sum(pj for pj in row if pj > pi)
        out.append(pi if above < top_p or top_p == 1 else 0.0)
    s = sum(out)
    return [x / s for x in out]


def top_p_loop(p, top_p):
    p = np.asarray(p, dtype=float)
    if p.ndim == 1:
        return _top_p_row_loop(list(p), top_p)
    return [_top_p_row_loop(list(row), top_p) for row in p]


def top_p_sort_with_ties(p, top_p):
    rows = np.array(p, dtype=float, ndmin=2)
    out = np.zeros_like(rows)
    for n, row in enumerate(rows):
        s = np.sort(row)[::-1]
        before = np.cumsum(s) - s
        if top_p >= 1:
            cut = s[-1]
        else:
            cut = s[before < top_p][-1]      # the smallest kept probability
        out[n] = np.where(row >= cut, row, 0.0)
        out[n] /= out[n].sum()
    return out if np.ndim(p) == 2 else out[0]


def top_p_course_lib(p, top_p):
    from course_lib.sampling import top_p_probs

    return top_p_probs(p, top_p)


def top_p_cumsum_le(p, top_p):
    p = np.asarray(p, dtype=float)
    order = np.argsort(p)[::-1]
    c = np.cumsum(p[order])
    q = np.zeros_like(p)
    q[order[c <= top_p]] = p[order[c <= top_p]]
    return q / q.sum()


def top_p_searchsorted_off_by_one(p, top_p):
    rows = np.array(p, dtype=float, ndmin=2)
    out = np.zeros_like(rows)
    for n, row in enumerate(rows):
        order = np.argsort(-row)
        c = np.cumsum(row[order])
        k = max(int(np.searchsorted(c, top_p)), 1)     # the crossing token is at index k: not kept
        out[n, order[:k]] = row[order[:k]]
        out[n] /= out[n].sum()
    return out if np.ndim(p) == 2 else out[0]


def top_p_argsort_cut(p, top_p):
    p = np.asarray(p, dtype=float)
    order = np.argsort(-p, axis=-1, kind="stable")
    s = np.take_along_axis(p, order, axis=-1)
    keep_sorted = (np.cumsum(s, axis=-1) - s < top_p) | (top_p >= 1)   # ties split by position
    keep = np.zeros_like(keep_sorted)
    np.put_along_axis(keep, order, keep_sorted, axis=-1)
    q = np.where(keep, p, 0.0)
    return q / q.sum(axis=-1, keepdims=True)


def top_p_no_sort(p, top_p):
    p = np.asarray(p, dtype=float)
    c = np.cumsum(p, axis=-1)
    q = np.where((c - p < top_p) | (top_p >= 1), p, 0.0)
    return q / q.sum(axis=-1, keepdims=True)


def top_p_left_sorted(p, top_p):
    p = np.asarray(p, dtype=float)
    s = -np.sort(-p, axis=-1)
    above = (s[..., None, :] * (s[..., None, :] > s[..., :, None])).sum(axis=-1)
    q = np.where((above < top_p) | (top_p >= 1), s, 0.0)
    return q / q.sum(axis=-1, keepdims=True)


def top_p_no_exception_at_one(p, top_p):
    p = np.asarray(p, dtype=float)
    above = (p[..., None, :] * (p[..., None, :] > p[..., :, None])).sum(axis=-1)
    q = np.where(above < top_p, p, 0.0)
    return q / q.sum(axis=-1, keepdims=True)


def top_p_forgot_keepdims(p, top_p):
    q = np.asarray(top_p_matrix(p, top_p)) * np.asarray(p, dtype=float)
    q = np.where(q > 0, np.asarray(p, dtype=float), 0.0)
    return q / q.sum(axis=-1)


def top_p_zeros_only(p, top_p):
    p = np.asarray(p, dtype=float)
    above = (p[..., None, :] * (p[..., None, :] > p[..., :, None])).sum(axis=-1)
    return np.where((above < top_p) | (top_p >= 1), p, 0.0)


def top_p_in_place(p, top_p):
    keep = np.asarray(top_p_matrix(p, top_p)) > 0
    p = np.asarray(p, dtype=float)               # no copy for a float array: the caller's
    p[~keep] = 0.0
    p /= p.sum(axis=-1, keepdims=True)
    return p


def top_p_int_copy(p, top_p):
    keep = np.asarray(top_p_matrix(p, top_p)) > 0
    q = np.array(p)                              # a copy, but integer input stays integer
    q[~keep] = 0
    q /= q.sum(axis=-1, keepdims=True)           # integer q: cannot cast
    return q


def top_p_wrong_parameters(p):
    return top_p_matrix(p, 0.9)


def top_p_forgot_return(p, top_p):
    top_p_matrix(p, top_p)


def top_p_returns_text(p, top_p):
    return str(np.round(top_p_matrix(p, top_p), 3))


WRONG += [
    ("top_p_filter", "token that reaches top_p dropped", top_p_cumsum_le),
    ("top_p_filter", "token that reaches top_p dropped", top_p_searchsorted_off_by_one),
    ("top_p_filter", "ties split", top_p_argsort_cut),
    ("top_p_filter", "not sorted", top_p_no_sort),
    ("top_p_filter", "returned in sorted order", top_p_left_sorted),
    ("top_p_filter", "top_p = 1 drops a token", top_p_no_exception_at_one),
    ("top_p_filter", "sum without keepdims", top_p_forgot_keepdims),
    ("top_p_filter", "not normalised", top_p_zeros_only),
    ("top_p_filter", "modifies its input", top_p_in_place),
    ("top_p_filter", "integer input", top_p_int_copy),
    ("top_p_filter", "wrong signature", top_p_wrong_parameters),
    ("top_p_filter", "no return", top_p_forgot_return),
    ("top_p_filter", "result is not numbers", top_p_returns_text),
]

RIGHT += [
    ("top_p_filter", top_p_matrix),
    ("top_p_filter", top_p_loop),
    ("top_p_filter", top_p_sort_with_ties),
    ("top_p_filter", top_p_course_lib),
]


# --- the slips the mutation report found (issue 16) ---------------------------------------------
def sample_no_clip(z, temperature, u):
    x = np.asarray(z, dtype=float) / temperature
    p = np.exp(x - x.max())
    p /= p.sum()
    c = np.cumsum(p)
    return np.array([int(np.sum(c <= v)) for v in np.atleast_1d(np.asarray(u, dtype=float))])


def top_p_float32(p, top_p):
    p = np.asarray(p, dtype=np.float32)
    above = (p[..., None, :] * (p[..., None, :] > p[..., :, None])).sum(axis=-1)
    q = np.where((above < top_p) | (top_p >= 1), p, np.float32(0.0))
    return q / q.sum(axis=-1, keepdims=True)


def top_p_less_or_equal(p, top_p):
    p = np.asarray(p, dtype=float)
    out = np.zeros_like(p)
    for idx in np.ndindex(p.shape[:-1]):
        row = p[idx]
        keep = [row[row > x].sum() <= top_p or top_p >= 1 for x in row]
        out[idx] = np.where(keep, row, 0.0)
        out[idx] /= out[idx].sum()
    return out


WRONG += [
    ("sample_with_temperature", "index past the last token", sample_no_clip),
    ("top_p_filter", "computes in float32", top_p_float32),
    ("top_p_filter", "token past top_p kept", top_p_less_or_equal),
]
