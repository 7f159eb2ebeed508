"""Lesson 06's known-wrong and known-right implementations, written as a learner would.

``WRONG`` and ``RIGHT`` are merged into ``grading_fixtures`` and proven, on public and hidden
tests, by ``tests/test_grading.py``. The attention exercise returns a tuple ``(output, weights)``,
which the checker compares value by value.
"""

import math

import numpy as np
import scipy.special as sc

from course_lib.softmax import online_softmax as course_online_softmax


# ---------------------------------------------------------------------------------------------
# masked_softmax(z, mask, axis=-1)


def masked_ok(z, mask, axis=-1):
    z = np.asarray(z, dtype=float)
    mask = np.broadcast_to(np.asarray(mask, dtype=bool), z.shape)
    s = np.where(mask, z, -np.inf)
    m = s.max(axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)        # a row with nothing kept: shift by 0
    e = np.exp(s - m)
    total = e.sum(axis=axis, keepdims=True)
    return np.where(total > 0, e / np.where(total > 0, total, 1.0), 0.0)


def masked_multiply_exp(z, mask, axis=-1):
    z = np.array(z, dtype=float)
    mask = np.asarray(mask, dtype=bool) & np.ones(z.shape, dtype=bool)
    z[~mask] = -np.inf
    with np.errstate(invalid="ignore"):
        m = np.max(z, axis=axis, keepdims=True)
    m[~np.isfinite(m)] = 0
    e = np.exp(z - m) * mask
    total = np.sum(e, axis=axis, keepdims=True)
    total[total == 0] = 1.0                    # nothing kept: 0 / 1 = 0
    return e / total


def masked_via_scipy(z, mask, axis=-1):
    z = np.asarray(z, dtype=float)
    mask = np.broadcast_to(np.asarray(mask, dtype=bool), z.shape)
    p = sc.softmax(np.where(mask, z, -np.inf), axis=axis)
    return np.nan_to_num(p, nan=0.0)


def masked_inf_nan(z, mask, axis=-1):
    z = np.where(mask, np.asarray(z, dtype=float), -np.inf)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def masked_big_negative(z, mask, axis=-1):
    z = np.where(mask, np.asarray(z, dtype=float), -1e9)     # as d2l does (-1e6 there)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def masked_times_mask(z, mask, axis=-1):
    z = np.asarray(z, dtype=float) * np.asarray(mask)        # masked scores become 0
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def masked_after(z, mask, axis=-1):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    p = e / e.sum(axis=axis, keepdims=True)
    return p * mask


def masked_no_max(z, mask, axis=-1):
    e = np.exp(np.asarray(z, dtype=float)) * np.asarray(mask)
    total = e.sum(axis=axis, keepdims=True)
    return np.divide(e, total, out=np.zeros_like(e), where=total != 0)


def masked_ignores_axis(z, mask, axis=-1):
    return masked_ok(z, mask)                  # always along the last axis


def masked_wrong_axis(z, mask, axis=-1):
    z = np.asarray(z, dtype=float)
    other = 0 if axis in (-1, z.ndim - 1) else -1
    return masked_ok(z, mask, axis=other)


def masked_no_keepdims(z, mask, axis=-1):
    z = np.asarray(z, dtype=float)
    mask = np.broadcast_to(np.asarray(mask, dtype=bool), z.shape)
    s = np.where(mask, z, -np.inf)
    m = s.max(axis=axis)
    m = np.where(np.isfinite(m), m, 0.0)
    e = np.exp(s - m)                          # (n, k) - (n,): a broadcast error, or wrong
    total = e.sum(axis=axis)
    return np.where(total > 0, e / np.where(total > 0, total, 1.0), 0.0)


def masked_in_place(z, mask, axis=-1):
    z[~np.asarray(mask, dtype=bool)] = -np.inf   # writes into the caller's array
    return masked_ok(z, mask, axis)


def masked_int_in_place(z, mask, axis=-1):
    z = np.array(z)
    p = np.zeros_like(z)                       # integer input: an integer array
    p[...] = masked_ok(z, mask, axis)          # the fractions are cut to 0
    return p


def masked_renamed(z, mask, dim=-1):          # numpy calls it axis
    return masked_ok(z, mask, dim)


def masked_no_return(z, mask, axis=-1):
    masked_ok(z, mask, axis)


def masked_text(z, mask, axis=-1):
    return str(masked_ok(z, mask, axis))


# ---------------------------------------------------------------------------------------------
# online_softmax(z), 1-D


def online_ok(z):
    m, s = -math.inf, 0.0
    for x in z:
        x = float(x)
        if x > m:
            s = s * math.exp(m - x) if s else 0.0   # rescale the sum to the new max
            m = x
        s += math.exp(x - m)
    return np.array([math.exp(float(x) - m) / s for x in z])


def online_numpy(z):
    z = np.asarray(z, dtype=float)
    m, s = -np.inf, 0.0
    for x in z:
        m_new = max(m, x)
        s = s * np.exp(m - m_new) + np.exp(x - m_new)
        m = m_new
    return np.exp(z - m) / s


def online_blocks(z, block=2):
    z = np.asarray(z, dtype=float)
    m, s = -np.inf, 0.0
    for i in range(0, z.size, block):
        b = z[i:i + block]
        m_new = max(m, b.max())
        s = s * np.exp(m - m_new) + np.exp(b - m_new).sum()
        m = m_new
    return np.exp(z - m) / s


def two_passes(z):
    """Not online: the max in one pass, the sum in another. Right values, so it passes."""
    z = np.asarray(z, dtype=float)
    m = z.max()
    e = np.exp(z - m)
    return e / e.sum()


def online_forgets_rescale(z):
    z = np.asarray(z, dtype=float)
    m, s = -np.inf, 0.0
    for x in z:
        m = max(m, x)
        s += np.exp(x - m)                     # the old terms stay relative to the old max
    return np.exp(z - m) / s


def online_forgets_rescale_lists(z):
    m, total = -math.inf, 0.0
    for x in z:
        if x > m:
            m = x
        total += math.exp(x - m)
    return [math.exp(x - m) / total for x in z]


def online_no_max(z):
    s = 0.0
    for x in z:
        s += np.exp(float(x))                  # overflows for x > 709
    return np.exp(np.asarray(z, dtype=float)) / s


def online_not_normalised(z):
    z = np.asarray(z, dtype=float)
    m, s = -np.inf, 0.0
    for x in z:
        m_new = max(m, x)
        s = s * np.exp(m - m_new) + np.exp(x - m_new)
        m = m_new
    return np.exp(z - m)                       # forgot / s


def online_in_place(z):
    z -= np.max(z)                             # the caller's array
    return online_numpy(z)


def online_int_in_place(z):
    z = np.array(z)
    out = np.empty_like(z)
    out[:] = np.exp(z - z.max())
    out = out / out.sum()
    return out


def online_renamed(z, block_size):             # an extra parameter without a default
    return online_blocks(z, block_size)


def online_no_return(z):
    online_numpy(z)


def online_text(z):
    return " ".join(str(v) for v in online_numpy(z))


# ---------------------------------------------------------------------------------------------
# scaled_dot_product_attention(q, k, v, mask=None) -> (output, weights)


def _softmax_rows(s):
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def attention_ok(q, k, v, mask=None):
    q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
    scores = q @ k.T / np.sqrt(q.shape[-1])
    if mask is not None:
        mask = np.broadcast_to(np.asarray(mask, dtype=bool), scores.shape)
        scores = np.where(mask, scores, -np.inf)
        m = scores.max(axis=-1, keepdims=True)
        e = np.exp(scores - np.where(np.isfinite(m), m, 0.0))
        total = e.sum(axis=-1, keepdims=True)
        weights = np.where(total > 0, e / np.where(total > 0, total, 1.0), 0.0)
    else:
        weights = _softmax_rows(scores)
    return weights @ v, weights


def attention_loops(q, k, v, mask=None):
    q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
    n_q, n_k, d_k = q.shape[0], k.shape[0], q.shape[1]
    allowed = np.ones((n_q, n_k), bool) if mask is None else np.broadcast_to(mask, (n_q, n_k))
    weights = np.zeros((n_q, n_k))
    for i in range(n_q):
        idx = np.flatnonzero(allowed[i])
        if idx.size == 0:
            continue                            # sees nothing: weights stay 0
        s = np.array([q[i] @ k[j] for j in idx]) / math.sqrt(d_k)
        e = np.exp(s - s.max())
        weights[i, idx] = e / e.sum()
    return weights @ v, weights


def attention_scipy(q, k, v, mask=None):
    q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
    s = q @ k.T / np.sqrt(q.shape[1])
    if mask is not None:
        s = np.where(mask, s, -np.inf)
    with np.errstate(invalid="ignore"):
        w = np.nan_to_num(sc.softmax(s, axis=1))
    return w @ v, w


def attention_list_result(q, k, v, mask=None):
    return list(attention_ok(q, k, v, mask))


def attention_no_scale(q, k, v, mask=None):
    q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
    scores = q @ k.T                           # forgot / sqrt(d_k)
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    m = scores.max(axis=1, keepdims=True)
    e = np.exp(scores - np.where(np.isfinite(m), m, 0))
    total = e.sum(axis=1, keepdims=True)
    w = np.where(total > 0, e / np.where(total > 0, total, 1), 0)
    return w @ v, w


def attention_scale_dk(q, k, v, mask=None):
    q = np.asarray(q, dtype=float)
    return attention_ok(q * np.sqrt(q.shape[1]) / q.shape[1], k, v, mask)   # / d_k


def attention_over_queries(q, k, v, mask=None):
    q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
    scores = q @ k.T / np.sqrt(q.shape[1])
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    e = np.exp(scores - scores.max(axis=0, keepdims=True))
    w = e / e.sum(axis=0, keepdims=True)        # over the queries
    return w @ v, w


def attention_mask_after(q, k, v, mask=None):
    q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
    w = _softmax_rows(q @ k.T / np.sqrt(q.shape[1]))
    if mask is not None:
        w = w * mask
    return w @ v, w


def attention_mask_zero(q, k, v, mask=None):
    q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
    scores = q @ k.T / np.sqrt(q.shape[1])
    if mask is not None:
        scores = scores * mask                   # "zero out" the masked scores
    w = _softmax_rows(scores)
    return w @ v, w


def attention_mask_nan(q, k, v, mask=None):
    q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
    scores = q @ k.T / np.sqrt(q.shape[1])
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    w = _softmax_rows(scores)                   # a row of -inf: nan
    return w @ v, w


def attention_mask_big_negative(q, k, v, mask=None):
    q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
    scores = q @ k.T / np.sqrt(q.shape[1])
    if mask is not None:
        scores = np.where(mask, scores, -1e9)
    w = _softmax_rows(scores)
    return w @ v, w


def attention_no_max(q, k, v, mask=None):
    q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
    e = np.exp(q @ k.T / np.sqrt(q.shape[1]))
    if mask is not None:
        e = e * mask
    total = e.sum(axis=1, keepdims=True)
    w = np.divide(e, total, out=np.zeros_like(e), where=total > 0)
    return w @ v, w


def attention_output_only(q, k, v, mask=None):
    return attention_ok(q, k, v, mask)[0]


def attention_in_place(q, k, v, mask=None):
    q = np.asarray(q, dtype=float)
    q /= np.sqrt(q.shape[1])                    # a float array: the caller's own queries
    return attention_ok(q * np.sqrt(q.shape[1]), k, v, mask)


def attention_int_in_place(q, k, v, mask=None):
    q, k, v = (np.asarray(a) for a in (q, k, v))
    w = np.zeros_like(q @ k.T)                   # integer dtype for integer input
    w[...] = attention_ok(q, k, v, mask)[1]      # the fractions are cut to 0
    return w @ v, w


def attention_weights_as_text(q, k, v, mask=None):
    out, w = attention_ok(q, k, v, mask)
    return out, str(w.round(3))                  # printed, not returned as numbers


def attention_renamed(q, k, v, attn_mask=None):   # PyTorch's name for it
    return attention_ok(q, k, v, attn_mask)


def attention_no_return(q, k, v, mask=None):
    attention_ok(q, k, v, mask)


# ---------------------------------------------------------------------------------------------
WRONG = [
    ("masked_softmax", "fully masked row gives nan", masked_inf_nan),
    ("masked_softmax", "fully masked row is uniform", masked_big_negative),
    ("masked_softmax", "mask filled with 0", masked_times_mask),
    ("masked_softmax", "mask after the softmax", masked_after),
    ("masked_softmax", "no max trick", masked_no_max),
    ("masked_softmax", "ignores axis", masked_ignores_axis),
    ("masked_softmax", "wrong axis", masked_wrong_axis),
    ("masked_softmax", "broadcast error", masked_no_keepdims),
    ("masked_softmax", "modifies its input", masked_in_place),
    ("masked_softmax", "integer input", masked_int_in_place),
    ("masked_softmax", "wrong signature", masked_renamed),
    ("masked_softmax", "no return", masked_no_return),
    ("masked_softmax", "result is not numbers", masked_text),
    ("online_softmax", "no rescale", online_forgets_rescale),
    ("online_softmax", "no rescale", online_forgets_rescale_lists),
    ("online_softmax", "no max trick", online_no_max),
    ("online_softmax", "not normalised", online_not_normalised),
    ("online_softmax", "modifies its input", online_in_place),
    ("online_softmax", "integer input", online_int_in_place),
    ("online_softmax", "wrong signature", online_renamed),
    ("online_softmax", "no return", online_no_return),
    ("online_softmax", "result is not numbers", online_text),
    # the attention exercise returns (output, weights), which the checker compares value by value
    ("scaled_dot_product_attention", "no scale", attention_no_scale),
    ("scaled_dot_product_attention", "scale by d_k", attention_scale_dk),
    ("scaled_dot_product_attention", "softmax over the queries' axis", attention_over_queries),
    ("scaled_dot_product_attention", "mask after the softmax", attention_mask_after),
    ("scaled_dot_product_attention", "mask filled with 0", attention_mask_zero),
    ("scaled_dot_product_attention", "fully masked row gives nan", attention_mask_nan),
    ("scaled_dot_product_attention", "fully masked row is uniform", attention_mask_big_negative),
    ("scaled_dot_product_attention", "no max trick", attention_no_max),
    ("scaled_dot_product_attention", "returns the output only", attention_output_only),
    ("scaled_dot_product_attention", "modifies its input", attention_in_place),
    ("scaled_dot_product_attention", "integer input", attention_int_in_place),
    ("scaled_dot_product_attention", "wrong signature", attention_renamed),
    ("scaled_dot_product_attention", "no return", attention_no_return),
    ("scaled_dot_product_attention", "result is not numbers", attention_weights_as_text),
]

DELEGATED = [
    ("online_softmax", lambda z: course_online_softmax(z, block_size=3),
     "course_lib.softmax.online_softmax"),
]

RIGHT = [
    ("masked_softmax", masked_ok),
    ("masked_softmax", masked_multiply_exp),
    ("masked_softmax", masked_via_scipy),
    ("online_softmax", online_ok),
    ("online_softmax", online_numpy),
    ("online_softmax", online_blocks),
    ("online_softmax", two_passes),              # two passes are fine: values are what is checked
    ("scaled_dot_product_attention", attention_ok),
    ("scaled_dot_product_attention", attention_loops),
    ("scaled_dot_product_attention", attention_scipy),
    ("scaled_dot_product_attention", attention_list_result),
]


# ---------------------------------------------------------------------------------------------
# merge_softmax_states(m_a, l_a, o_a, m_b, l_b, o_b) -> (m, l, o)   (appended: lesson 06, section 6)


def merge_ok(m_a, l_a, o_a, m_b, l_b, o_b):
    m_a, l_a, o_a, m_b, l_b, o_b = (np.asarray(x, dtype=float) for x in (m_a, l_a, o_a, m_b, l_b, o_b))
    m = np.maximum(m_a, m_b)
    shift = np.where(np.isfinite(m), m, 0.0)
    alpha, beta = np.exp(m_a - shift), np.exp(m_b - shift)
    return m, alpha * l_a + beta * l_b, alpha[:, None] * o_a + beta[:, None] * o_b


def merge_loops(m_a, l_a, o_a, m_b, l_b, o_b):
    """One query at a time, with math.exp and a test for the empty case."""
    m, l, o = [], [], []
    for i in range(len(m_a)):
        mi = max(m_a[i], m_b[i])
        if mi == -math.inf:                      # neither block has a key
            m.append(mi), l.append(0.0), o.append([0.0] * len(o_a[i]))
            continue
        a, b = math.exp(m_a[i] - mi), math.exp(m_b[i] - mi)
        m.append(mi)
        l.append(a * l_a[i] + b * l_b[i])
        o.append([a * x + b * y for x, y in zip(o_a[i], o_b[i])])
    return np.array(m, dtype=float), np.array(l), np.array(o, dtype=float)


def merge_via_logaddexp(m_a, l_a, o_a, m_b, l_b, o_b):
    """Through log l: logaddexp(m_a + log l_a, m_b + log l_b) is m + log l."""
    m_a, l_a, o_a, m_b, l_b, o_b = (np.asarray(x, dtype=float) for x in (m_a, l_a, o_a, m_b, l_b, o_b))
    with np.errstate(divide="ignore", invalid="ignore"):
        m = np.fmax(m_a, m_b)
        safe = np.where(m > -np.inf, m, 0.0)
        l = np.exp(np.logaddexp(m_a + np.log(l_a), m_b + np.log(l_b)) - safe)
        wa, wb = np.exp(m_a - safe), np.exp(m_b - safe)
    return m, np.nan_to_num(l), wa[:, None] * o_a + wb[:, None] * o_b


def merge_forgets_rescale(m_a, l_a, o_a, m_b, l_b, o_b):
    m = np.maximum(m_a, m_b)
    return m, np.asarray(l_a) + np.asarray(l_b), np.asarray(o_a) + np.asarray(o_b)


def merge_rescales_l_only(m_a, l_a, o_a, m_b, l_b, o_b):
    m_a, l_a, o_a, m_b, l_b, o_b = (np.asarray(x, dtype=float) for x in (m_a, l_a, o_a, m_b, l_b, o_b))
    m = np.maximum(m_a, m_b)
    shift = np.where(np.isfinite(m), m, 0.0)
    l = np.exp(m_a - shift) * l_a + np.exp(m_b - shift) * l_b
    return m, l, o_a + o_b                       # the output keeps its old scales


def merge_upside_down(m_a, l_a, o_a, m_b, l_b, o_b):
    m_a, l_a, o_a, m_b, l_b, o_b = (np.asarray(x, dtype=float) for x in (m_a, l_a, o_a, m_b, l_b, o_b))
    m = np.maximum(m_a, m_b)
    shift = np.where(np.isfinite(m), m, 0.0)
    alpha, beta = np.exp(shift - m_a), np.exp(shift - m_b)      # exp(m - m_a): the wrong way up
    return m, alpha * l_a + beta * l_b, alpha[:, None] * o_a + beta[:, None] * o_b


def merge_no_guard(m_a, l_a, o_a, m_b, l_b, o_b):
    m_a, l_a, o_a, m_b, l_b, o_b = (np.asarray(x, dtype=float) for x in (m_a, l_a, o_a, m_b, l_b, o_b))
    m = np.maximum(m_a, m_b)
    alpha, beta = np.exp(m_a - m), np.exp(m_b - m)             # -inf - (-inf) = nan
    return m, alpha * l_a + beta * l_b, alpha[:, None] * o_a + beta[:, None] * o_b


def merge_divides(m_a, l_a, o_a, m_b, l_b, o_b):
    m, l, o = merge_ok(m_a, l_a, o_a, m_b, l_b, o_b)
    with np.errstate(invalid="ignore"):
        return m, l, o / l[:, None]              # the attention output, not the state


def merge_in_place(m_a, l_a, o_a, m_b, l_b, o_b):
    m = np.maximum(m_a, m_b)
    shift = np.where(np.isfinite(m), m, 0.0)
    alpha, beta = np.exp(m_a - shift), np.exp(m_b - shift)
    o_a *= alpha[:, None]                        # the caller's o_a is rescaled too
    o_a += beta[:, None] * o_b
    return m, alpha * l_a + beta * l_b, o_a


def merge_renamed(a, b):                         # states as two tuples
    return merge_ok(*a, *b)


def merge_no_return(m_a, l_a, o_a, m_b, l_b, o_b):
    merge_ok(m_a, l_a, o_a, m_b, l_b, o_b)


def merge_text(m_a, l_a, o_a, m_b, l_b, o_b):
    m, l, o = merge_ok(m_a, l_a, o_a, m_b, l_b, o_b)
    return m, l, str(o)


WRONG += [
    ("merge_softmax_states", "no rescale", merge_forgets_rescale),
    ("merge_softmax_states", "output not rescaled", merge_rescales_l_only),
    ("merge_softmax_states", "rescale factor inverted", merge_upside_down),
    ("merge_softmax_states", "nan for two empty blocks", merge_no_guard),
    ("merge_softmax_states", "normalised output", merge_divides),
    ("merge_softmax_states", "modifies its input", merge_in_place),
    ("merge_softmax_states", "wrong signature", merge_renamed),
    ("merge_softmax_states", "no return", merge_no_return),
    ("merge_softmax_states", "result is not numbers", merge_text),
]

RIGHT += [
    ("merge_softmax_states", merge_ok),
    ("merge_softmax_states", merge_loops),
    ("merge_softmax_states", merge_via_logaddexp),
]


# --- mistakes named for issue 16's mutation goals ----------------------------------------------
def online_running_min(z):
    z = np.asarray(z, dtype=float)
    m, total = -np.inf, 0.0
    for x in z:
        m_new = min(m, x)                                  # min: m never leaves -inf
        total = total * np.exp(m - m_new) + np.exp(x - m_new)
        m = m_new
    return np.exp(z - m) / total


def online_starts_at_inf(z):
    z = np.asarray(z, dtype=float)
    m, total = np.inf, 0.0                                 # the running max starts at +inf
    for x in z:
        m_new = max(m, x)
        total = total * np.exp(m - m_new) + np.exp(x - m_new)
        m = m_new
    return np.exp(z - m) / total


def online_adds_the_gap(z):
    z = np.asarray(z, dtype=float)
    m, total = -np.inf, 0.0
    for x in z:
        m_new = max(m, x)
        total = total * np.exp(m - m_new) + (x - m_new)    # the new term without its exp
        m = m_new
    return np.exp(z - m) / total


def online_subtracts_the_term(z):
    z = np.asarray(z, dtype=float)
    m, total = -np.inf, 0.0
    for x in z:
        m_new = max(m, x)
        total = total * np.exp(m - m_new) - np.exp(x - m_new)
        m = m_new
    return np.exp(z - m) / total


def attention_float32_inputs(q, k, v, mask=None):
    q, k, v = (np.asarray(a, dtype=np.float32) for a in (q, k, v))
    s = q @ k.T / np.sqrt(q.shape[-1])                     # a float64 scalar: float64 from here
    if mask is not None:
        s = np.where(mask, s, -np.inf)
    m = s.max(axis=-1, keepdims=True)
    e = np.exp(s - np.where(np.isfinite(m), m, 0.0))
    total = e.sum(axis=-1, keepdims=True)
    w = np.where(total > 0, e / np.where(total > 0, total, 1.0), 0.0)
    return w @ v, w


def attention_column_max(q, k, v, mask=None):
    q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
    s = q @ k.T / np.sqrt(q.shape[-1])
    if mask is not None:
        s = np.where(mask, s, -np.inf)
    m = s.max(axis=0, keepdims=True)                       # down each column
    with np.errstate(invalid="ignore"):
        e = np.exp(s - np.where(np.isfinite(m), m, 0.0))
    total = e.sum(axis=-1, keepdims=True)
    w = np.where(total > 0, e / np.where(total > 0, total, 1.0), 0.0)
    return w @ v, w


WRONG += [
    ("online_softmax", "nan from the first step", online_running_min),
    ("online_softmax", "nan from the first step", online_starts_at_inf),
    ("online_softmax", "exp left out", online_adds_the_gap),
    ("online_softmax", "term subtracted from the running sum", online_subtracts_the_term),
    ("scaled_dot_product_attention", "inputs converted to float32", attention_float32_inputs),
    ("scaled_dot_product_attention", "max along another axis", attention_column_max),
]


def merge_returns_the_shift(m_a, l_a, o_a, m_b, l_b, o_b):
    m = np.maximum(m_a, m_b)
    shift = np.where(np.isfinite(m), m, 0.0)
    a, b = np.exp(np.subtract(m_a, shift)), np.exp(np.subtract(m_b, shift))
    o = a[:, None] * np.asarray(o_a, dtype=float) + b[:, None] * np.asarray(o_b, dtype=float)
    return shift, a * np.asarray(l_a) + b * np.asarray(l_b), o     # shift, not m


WRONG += [("merge_softmax_states", "shift returned for m", merge_returns_the_shift)]
