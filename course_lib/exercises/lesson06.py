"""Lesson 06, attention: ``masked_softmax``, ``online_softmax`` and ``scaled_dot_product_attention``.

The tests are built around the lesson's traps: rows where no entry takes part (zeros, not nan,
not a uniform row), masks applied with 0 or after the softmax, increasing rows (where an online
softmax that forgets to rescale its running sum goes wrong, while a decreasing row hides it),
score matrices that are square (where a softmax over the queries' axis goes unnoticed) and wide
query/key vectors (where the 1/sqrt(d_k) scale matters).
"""

from __future__ import annotations

import numpy as np

from .. import attention as attn
from .. import softmax as sm
from ..grading.exercise import Case, Exercise, Mistake
from .lesson01 import MAX_TRICK_HINT
from .lesson02 import S, axis_basics
from .mistakes import broken, common, like, raised, resembles, unnormalised
from ..grading.registry import register

__all__ = ["MASKED_SOFTMAX", "ONLINE_SOFTMAX", "SCALED_DOT_PRODUCT_ATTENTION"]

T, F = True, False


# --- masked_softmax -------------------------------------------------------------------------------
def masked_reference(z, mask, axis=-1):
    """The softmax over the entries where mask is True; zeros elsewhere and on empty slices."""
    return sm.masked_softmax(z, np.asarray(mask, dtype=bool), axis)


def _filled(z, mask, fill, axis=-1):
    z = np.asarray(z, dtype=float)
    return sm.softmax(np.where(np.asarray(mask, dtype=bool), z, fill), axis)


def masked_with_inf_only(z, mask, axis=-1):
    return _filled(z, mask, -np.inf, axis)           # 0/0 = nan on an empty slice


def masked_with_big_negative(z, mask, axis=-1):
    return _filled(z, mask, -1e9, axis)              # an empty slice turns uniform


def masked_with_zero(z, mask, axis=-1):
    return _filled(z, mask, 0.0, axis)


def masked_after_softmax(z, mask, axis=-1):
    return sm.softmax(np.asarray(z, dtype=float), axis) * np.asarray(mask, dtype=bool)


MASK_EMPTY_NAN_HINT = (
    "for {input} you get {got}: where no entry takes part, every score is -inf and the softmax "
    "is 0/0 = nan (and nan spreads through everything computed from it). Return zeros for such "
    "a slice: e.g. with s the sum of the kept exponentials, np.where(s > 0, e / s, 0), and shift "
    "an empty slice by 0 instead of by its max -inf."
)
MASK_UNIFORM_HINT = (
    "for {input} you get {got}: a row where no entry takes part came out uniform. That is what "
    "filling masked scores with a large finite number (-1e9, or d2l's -1e6) does: the row "
    "becomes equal numbers and softmax spreads the weight evenly over entries that were all "
    "masked. Fill with -inf, and return zeros for a slice with no entry taking part."
)
MASK_ZERO_HINT = (
    "for {input} you get {got}: masked entries still get weight. Setting a masked score to 0 "
    "(or multiplying the scores by the mask) gives it e^0 = 1, like any score of 0. Set masked "
    "scores to -inf before the softmax, so that e^-inf = 0: np.where(mask, z, -np.inf)."
)
MASK_AFTER_HINT = (
    "for {input} you get {got}, which does not sum to 1: zeroing the masked entries after the "
    "softmax removes their share without renormalising. Mask before the softmax (scores to "
    "-inf), so the kept entries share all the weight."
)

_M = np.array([[2.0, 1.0, 0.5, 3.0], [1.0, -1.0, 0.0, 2.0], [0.0, 4.0, 1.0, -2.0]])
MASKED_SOFTMAX = register(Exercise(
    name="masked_softmax",
    lesson="06",
    params=("z", "mask"),
    reference=masked_reference,
    task="masked_softmax(z, mask, axis=-1): softmax along axis over the entries where mask is "
         "True; 0 elsewhere, and all zeros for a slice where nothing takes part",
    points=2.0,
    public=(
        Case("basic", ([1.0, 2.0, 3.0], [T, T, F])),
        Case("all_kept", ([1.0, 2.0, 3.0], [T, T, T])),
        Case("nothing_kept", (np.array([1.0, 2.0, 3.0]), np.array([F, F, F]))),
        Case("rows", (_M, np.array([[T, T, F, F], [F, F, F, F], [T, F, T, T]])), {"axis": -1}),
        Case("square_columns", (S, np.array([[T, F, T], [T, F, F], [F, F, T]])), {"axis": 0}),
        Case("padding_mask", (_M, np.array([T, T, T, F])), {"axis": -1},
             shown="z of shape (3, 4), mask = [True, True, True, False] (one mask for every "
                   "row), axis = -1"),
        Case("large", (np.array([1000.0, 0.0, 0.0]), np.array([T, T, T]))),
        Case("large_masked", (np.array([1000.0, 1.0, 2.0]), np.array([F, T, T]))),
        Case("int_array", (np.array([[1, 2, 3], [3, 2, 1]]), np.array([[T, F, T], [T, T, F]])),
             {"axis": -1}, shown="z = np.array([[1, 2, 3], [3, 2, 1]]) (integers), "
                                 "mask = [[True, False, True], [True, True, False]], axis = -1"),
    ),
    hidden=lambda rng: _hidden_masked(rng),
    mistakes=common("masked_softmax(z, mask, axis=-1)")
    + axis_basics("masked_softmax", masked_reference) + (
        Mistake("fully masked row gives nan", like(masked_with_inf_only), MASK_EMPTY_NAN_HINT,
                supersedes=("no max trick",)),
        Mistake("fully masked row is uniform", like(masked_with_big_negative), MASK_UNIFORM_HINT),
        Mistake("mask filled with 0", like(masked_with_zero), MASK_ZERO_HINT),
        Mistake("mask after the softmax", like(masked_after_softmax), MASK_AFTER_HINT),
        Mistake("no max trick", broken(),
                MAX_TRICK_HINT.replace("your softmax", "your masked_softmax")
                + " Take the max over the kept entries only (the masked ones set to -inf): a "
                  "large masked entry must not shift the others to exp(-1000) = 0."),
    ),
))


def _hidden_masked(rng):
    cases = []
    for shape, axis in (((4, 5), -1), ((4, 4), 0), ((4, 4), -1), ((2, 3, 4), 1)):
        z = rng.normal(0.0, 3.0, shape)
        mask = rng.random(shape) < 0.6
        mask[(0,) * (len(shape) - 1)] = True           # at least one kept entry somewhere
        if axis in (-1, len(shape) - 1):
            mask[-1] = False                             # an empty row
        else:
            mask[:, -1] = False                          # an empty column
        cases.append(Case("", (z, mask), {"axis": axis}))
    z = rng.normal(0.0, 1.0, 6) + 900.0
    cases.append(Case("", (z, rng.random(6) < 0.7), {"axis": -1}))
    cases.append(Case("", (rng.normal(0.0, 1.0, (3, 5)), rng.random(5) < 0.6), {"axis": -1}))
    cases.append(Case("", (rng.integers(-4, 5, (3, 4)), rng.random((3, 4)) < 0.5), {"axis": -1}))
    return cases


# --- online_softmax -------------------------------------------------------------------------------
def online_no_rescale(z):
    """The running sum adds each term against the new max but never rescales the old terms."""
    m, s = -np.inf, 0.0
    z = np.asarray(z, dtype=float)
    for x in z:
        m = max(m, x)
        s = s + np.exp(x - m)
    return np.exp(z - m) / s


def _hidden_online(rng):
    n = lambda: int(rng.integers(4, 12))  # noqa: E731
    up = np.sort(rng.normal(0.0, 3.0, n()))
    return [
        Case("", (up,)),                                               # increasing
        Case("", (np.sort(rng.normal(0.0, 3.0, n()))[::-1].copy(),)),  # decreasing
        Case("", (rng.normal(0.0, 5.0, n()),)),
        Case("", (np.sort(rng.uniform(0.0, 1000.0, n())),)),          # increasing, exp overflows
        Case("", (rng.normal(0.0, 2.0, n()) - 900.0,)),
        Case("", (np.sort(rng.integers(-5, 6, n())),)),
        Case("", (rng.normal(0.0, 1.0, 1),)),
    ]


ONLINE_SOFTMAX = register(Exercise(
    name="online_softmax",
    lesson="06",
    params=("z",),
    reference=lambda z: sm.softmax(z),
    task="online_softmax(z): softmax of a 1-D vector with a running max and a running sum "
         "rescaled by exp(m_old - m_new) in one pass, then the normalisation",
    points=2.0,
    rtol=1e-9,
    atol=1e-14,
    public=(
        Case("increasing", (np.arange(6.0),)),
        Case("decreasing", (np.arange(6.0)[::-1].copy(),)),
        Case("seed_123", ([1.0, 2.0, 3.0],)),
        Case("zigzag", (np.array([0.0, 4.0, 1.0, 6.0, 2.0, 9.0]),)),
        Case("increasing_large", (np.array([0.0, 300.0, 600.0, 900.0]),)),
        Case("large", (np.array([1000.0, 0.0, 0.0]),)),
        Case("very_negative", (np.array([-1000.0, -1000.0, -1000.0]),)),
        Case("single", ([5.0],)),
        Case("int_array", (np.array([1, 2, 3, 4]),), shown="z = np.array([1, 2, 3, 4]) (integers)"),
    ),
    hidden=_hidden_online,
    mistakes=common("online_softmax(z)") + (
        Mistake("no rescale", like(online_no_rescale),
                "for {input} you get {got}, which does not sum to 1: when a new entry raises the "
                "running max from m_old to m_new, the terms already in the running sum are still "
                "exp(z_i - m_old). Multiply the running sum by exp(m_old - m_new) before adding "
                "the new term. (On a decreasing row the max never moves, which hides the bug; "
                "an increasing row shows it.)",
                supersedes=("not normalised", "no max trick")),
        Mistake("no max trick", broken(),
                MAX_TRICK_HINT.replace("your softmax", "your online_softmax")
                + " In the online version, keep the running sum relative to the running max."),
        Mistake("not normalised", unnormalised(lambda case: -1),
                "for {input} your values have the right proportions but do not sum to 1: after "
                "the pass, divide exp(z - m) by the running sum."),
    ),
))


# --- scaled_dot_product_attention -------------------------------------------------------------------
def attention_reference(q, k, v, mask=None):
    """(output, weights) of scaled dot-product attention, from course_lib.attention."""
    return attn.scaled_dot_product_attention(q, k, v, mask=mask)


def _attention(q, k, v, mask=None, *, scale=None, axis=-1, fill=None, after=False):
    """Attention with one thing changed: the scale, the softmax axis, or how the mask is used."""
    q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
    s = q @ k.T * (1.0 / np.sqrt(q.shape[-1]) if scale is None else scale)
    if mask is None:
        w = sm.softmax(s, axis)
    elif after:
        w = sm.softmax(s, axis) * np.asarray(mask, dtype=bool)
    elif fill is not None:
        w = sm.softmax(np.where(np.asarray(mask, dtype=bool), s, fill), axis)
    else:
        w = sm.masked_softmax(s, np.asarray(mask, dtype=bool), axis)
    return w @ v, w


def attention_no_scale(q, k, v, mask=None):
    return _attention(q, k, v, mask, scale=1.0)


def attention_scale_by_dk(q, k, v, mask=None):
    return _attention(q, k, v, mask, scale=1.0 / np.shape(q)[-1])


def attention_over_queries(q, k, v, mask=None):
    return _attention(q, k, v, mask, axis=0, fill=-np.inf)


def attention_mask_after(q, k, v, mask=None):
    return _attention(q, k, v, mask, after=True)


def attention_mask_zero(q, k, v, mask=None):
    return _attention(q, k, v, mask, fill=0.0)


def attention_mask_inf_only(q, k, v, mask=None):
    return _attention(q, k, v, mask, fill=-np.inf)


def attention_mask_big_negative(q, k, v, mask=None):
    return _attention(q, k, v, mask, fill=-1e9)


_r = np.random.default_rng(2017)
Q16, K16, V16 = _r.normal(size=(4, 16)), _r.normal(size=(5, 16)), _r.normal(size=(5, 3))
QS, KS, VS = _r.normal(size=(4, 2)), _r.normal(size=(4, 2)), _r.normal(size=(4, 2))
CAUSAL = attn.causal_mask(4)
EMPTY_ROW = np.array([[T, T, F, F], [F, F, F, F], [T, F, T, F], [F, T, T, T]])
del _r


def _qkv_shown(q, k, v, extra=""):
    return (f"q, k, v of shapes {np.shape(q)}, {np.shape(k)}, {np.shape(v)} (rows of random "
            f"numbers, seeded){extra}")


SCALED_DOT_PRODUCT_ATTENTION = register(Exercise(
    name="scaled_dot_product_attention",
    lesson="06",
    params=("q", "k", "v"),
    reference=attention_reference,
    returns=("output", "weights"),
    task="scaled_dot_product_attention(q, k, v, mask=None) -> (output, weights): softmax of "
         "q k^T / sqrt(d_k) over the keys of each query (masked keys excluded; a query that "
         "sees no key gets zeros), times v",
    points=3.0,
    rtol=1e-7,
    atol=1e-12,
    public=(
        Case("tiny", ([[1.0, 0.0]], [[1.0, 0.0], [0.0, 1.0]], [[10.0], [20.0]])),
        Case("square", (QS, KS, VS), shown=_qkv_shown(QS, KS, VS, ", n_q = n_k = 4")),
        Case("d_k_16", (Q16, K16, V16), shown=_qkv_shown(Q16, K16, V16)),
        Case("large_scores", (1000.0 * Q16, K16, V16),
             shown=_qkv_shown(Q16, K16, V16, ", q multiplied by 1000 (scores in the thousands)")),
        Case("causal_mask", (QS, KS, VS), {"mask": CAUSAL},
             shown=_qkv_shown(QS, KS, VS, ", mask = causal (lower-triangular 4 x 4)")),
        Case("padding_mask", (Q16, K16, V16), {"mask": np.array([T, T, T, F, F])},
             shown=_qkv_shown(Q16, K16, V16, ", mask = [True, True, True, False, False] "
                                             "(the last two keys are padding)")),
        Case("empty_row", (QS, KS, VS), {"mask": EMPTY_ROW},
             shown=_qkv_shown(QS, KS, VS, ", mask = [[T, T, F, F], [F, F, F, F], [T, F, T, F], "
                                          "[F, T, T, T]] (query 1 sees no key)")),
        Case("int_inputs", (np.array([[1, 0], [0, 2]]), np.array([[1, 1], [0, 1], [2, 0]]),
                            np.array([[1, 2], [3, 4], [5, 6]])),
             shown="q = [[1, 0], [0, 2]], k = [[1, 1], [0, 1], [2, 0]], "
                   "v = [[1, 2], [3, 4], [5, 6]] (integers)"),
    ),
    hidden=lambda rng: _hidden_attention(rng),
    mistakes=common("scaled_dot_product_attention(q, k, v, mask=None)") + (
        Mistake("returns the output only", raised("NotNumbers", containing="not a tuple"),
                "for {input} your function {got}. Return both, output first: "
                "`return output, weights`.",
                supersedes=("result is not numbers",)),
        Mistake("no scale", resembles(attention_no_scale),
                "for {input} you get {got}: the scores are not divided by sqrt(d_k). With "
                "d_k entries of variance 1, q·k has variance d_k, and the softmax saturates as "
                "d_k grows. Use scores = q @ k.T / np.sqrt(d_k), with d_k = q.shape[-1]."),
        Mistake("scale by d_k", resembles(attention_scale_by_dk),
                "for {input} you get {got}: you divide the scores by d_k; the scale is "
                "1 / sqrt(d_k), which brings the variance of q·k (d_k) back to 1. Use "
                "np.sqrt(q.shape[-1])."),
        Mistake("softmax over the queries' axis", resembles(attention_over_queries),
                "for {input} you get {got}: your weights sum to 1 down each column, over the "
                "queries. Each query's weights are a softmax over the keys: along the last axis "
                "of the (n_q, n_k) scores, axis=-1 (on a square score matrix nothing else "
                "complains).",
                supersedes=("no max trick",)),
        Mistake("mask after the softmax", resembles(attention_mask_after), MASK_AFTER_HINT),
        Mistake("mask filled with 0", resembles(attention_mask_zero), MASK_ZERO_HINT),
        Mistake("fully masked row gives nan", resembles(attention_mask_inf_only),
                MASK_EMPTY_NAN_HINT.replace("Return zeros for such a slice", "Give a query that "
                                            "sees no key zero weights").replace(
                    "shift an empty slice by 0", "shift its scores by 0"),
                supersedes=("no max trick",)),
        Mistake("fully masked row is uniform", resembles(attention_mask_big_negative),
                MASK_UNIFORM_HINT),
        Mistake("no max trick", broken(),
                "for {input} you get {got}: exp of a score above about 709 overflows to inf, "
                "and inf/inf is nan. Subtract each row's max score before exp (lesson 03)."),
    ),
))


def _hidden_attention(rng):
    cases = []
    for n_q, n_k, d_k, d_v in ((3, 5, 8, 2), (4, 4, 32, 3), (5, 4, 3, 4), (6, 6, 64, 2)):
        q, k, v = rng.normal(size=(n_q, d_k)), rng.normal(size=(n_k, d_k)), rng.normal(size=(n_k, d_v))
        cases.append(Case("", (q, k, v)))
    q, k, v = rng.normal(size=(5, 16)), rng.normal(size=(5, 16)), rng.normal(size=(5, 3))
    cases.append(Case("", (q, k, v), {"mask": attn.causal_mask(5)}))
    mask = rng.random((4, 6)) < 0.6
    mask[0] = False                                     # a query that sees nothing
    mask[1, 0] = True
    cases.append(Case("", (rng.normal(size=(4, 8)), rng.normal(size=(6, 8)), rng.normal(size=(6, 2))),
                      {"mask": mask}))
    cases.append(Case("", (rng.normal(size=(3, 8)), rng.normal(size=(6, 8)), rng.normal(size=(6, 2))),
                      {"mask": np.arange(6) < int(rng.integers(2, 5))}))
    cases.append(Case("", (1500.0 * rng.normal(size=(3, 16)), rng.normal(size=(4, 16)),
                           rng.normal(size=(4, 2)))))
    cases.append(Case("", (rng.integers(-2, 3, (3, 4)), rng.integers(-2, 3, (4, 4)),
                           rng.integers(-2, 3, (4, 2)))))
    return cases


# --- merge_softmax_states (appended for issue 18: lesson 06, section 6) -------------------------
# The partial softmax states (m, l, o) of two disjoint blocks of keys, one row per query, merge
# into the state of their union. The traps: maxes that differ in either direction (the side with
# the smaller max must be rescaled), d_v != n and d_v == n (a rescale broadcast along the wrong
# axis errs on the first and hides on the second), blocks where a query sees no key, (-inf, 0, 0),
# on one side and on both (where m_a - m is -inf - (-inf) = nan unless shifted by 0), and equal
# maxes (where every rescale is 1 and most mistakes hide).
__all__ += ["MERGE_SOFTMAX_STATES"]


def merge_reference(m_a, l_a, o_a, m_b, l_b, o_b):
    """(m, l, o) of the union of two blocks, from course_lib.attention."""
    return tuple(attn.merge_softmax_states(m_a, l_a, o_a, m_b, l_b, o_b))


def _merge(m_a, l_a, o_a, m_b, l_b, o_b, *, rescale_l=True, rescale_o=True, invert=False,
           guard=True, normalise=False):
    """The merge with one thing changed (each keyword names a known mistake)."""
    m_a, l_a, o_a, m_b, l_b, o_b = (np.asarray(x, dtype=float) for x in (m_a, l_a, o_a, m_b, l_b, o_b))
    m = np.maximum(m_a, m_b)
    shift = np.where(np.isfinite(m), m, 0.0) if guard else m
    sign = -1.0 if invert else 1.0
    alpha, beta = np.exp(sign * (m_a - shift)), np.exp(sign * (m_b - shift))
    l = alpha * l_a + beta * l_b if rescale_l else l_a + l_b
    o = alpha[:, None] * o_a + beta[:, None] * o_b if rescale_o else o_a + o_b
    return m, l, (o / l[:, None] if normalise else o)


def merge_no_rescale(*args):
    return _merge(*args, rescale_l=False, rescale_o=False)


def merge_output_not_rescaled(*args):
    return _merge(*args, rescale_o=False)


def merge_inverted_factor(*args):
    return _merge(*args, invert=True)


def merge_empty_gives_nan(*args):
    return _merge(*args, guard=False)


def merge_normalised(*args):
    return _merge(*args, normalise=True)


def _state(rng, n, d_v, n_keys=None, offset=0.0):
    """The state of a random block of n_keys keys (1-6) per query: computed, not invented."""
    k = int(rng.integers(1, 7)) if n_keys is None else n_keys
    s = rng.normal(offset, 2.0, (n, k))
    v = rng.normal(0.0, 1.0, (k, d_v))
    m = s.max(axis=1)
    e = np.exp(s - m[:, None])
    return [m, e.sum(axis=1), e @ v]


def _empty(n, d_v):
    return [np.full(n, -np.inf), np.zeros(n), np.zeros((n, d_v))]


_r = np.random.default_rng(606)
_A3, _B3 = _state(_r, 3, 2, offset=0.0), _state(_r, 3, 2, offset=0.0)
_A3[0][:] = [0.5, 4.0, -1.0]                       # maxes that differ both ways, and agree once
_B3[0][:] = [3.0, 1.0, -1.0]
_SQ_A, _SQ_B = _state(_r, 3, 3, offset=-2.0), _state(_r, 3, 3, offset=1.0)    # n == d_v
_BIG_A, _BIG_B = _state(_r, 2, 2, offset=800.0), _state(_r, 2, 2, offset=-800.0)
_HALF = _state(_r, 3, 2)
_HALF[0][1], _HALF[1][1], _HALF[2][1] = -np.inf, 0.0, 0.0   # query 1 saw no key in block a
_EQ_A, _EQ_B = _state(_r, 2, 3), _state(_r, 2, 3)
_EQ_B[0][:] = _EQ_A[0]                                       # equal maxes: every factor is 1
del _r


def _state_shown(what):
    return f"m_a, l_a, o_a, m_b, l_b, o_b: {what} (states of random blocks, seeded)"


MERGE_SOFTMAX_STATES = register(Exercise(
    name="merge_softmax_states",
    lesson="06",
    params=("m_a", "l_a", "o_a", "m_b", "l_b", "o_b"),
    reference=merge_reference,
    returns=("m", "l", "o"),
    task="merge_softmax_states(m_a, l_a, o_a, m_b, l_b, o_b) -> (m, l, o): the state of the "
         "union of two disjoint blocks of keys; both sides rescaled by exp(their max - m), "
         "o left unnormalised",
    points=2.0,
    rtol=1e-9,
    atol=1e-12,
    public=(
        Case("one_key_each", ([1.0], [1.0], [[2.0]], [3.0], [1.0], [[4.0]])),
        Case("b_larger", ([0.0], [2.0], [[1.0, -1.0]], [2.0], [1.5], [[3.0, 0.5]])),
        Case("a_larger", ([2.0], [1.5], [[3.0, 0.5]], [0.0], [2.0], [[1.0, -1.0]])),
        Case("three_queries", (*_A3, *_B3),
             shown=_state_shown("3 queries, d_v = 2; m_a = [0.5, 4, -1], m_b = [3, 1, -1]")),
        Case("square", (*_SQ_A, *_SQ_B), shown=_state_shown("3 queries, d_v = 3")),
        Case("equal_maxes", (*_EQ_A, *_EQ_B),
             shown=_state_shown("2 queries, d_v = 3, m_a = m_b")),
        Case("large_scores", (*_BIG_A, *_BIG_B),
             shown=_state_shown("2 queries, d_v = 2, maxes near 800 in a and near -800 in b")),
        Case("one_side_empty", (*_HALF, *_state(np.random.default_rng(7), 3, 2)),
             shown=_state_shown("3 queries, d_v = 2; query 1 saw no key in block a: "
                                "m_a[1] = -inf, l_a[1] = 0, o_a[1] = [0, 0]")),
        Case("both_empty", ([-np.inf, 1.0], [0.0, 1.0], [[0.0], [5.0]],
                            [-np.inf, -np.inf], [0.0, 0.0], [[0.0], [0.0]])),
    ),
    hidden=lambda rng: _hidden_merge(rng),
    mistakes=common("merge_softmax_states(m_a, l_a, o_a, m_b, l_b, o_b)")[:4] + (
        Mistake("no rescale", like(merge_no_rescale),
                "for {input} you get {got}: l and o are added as they are, but l_a and o_a are "
                "sums relative to m_a, l_b and o_b relative to m_b. Bring both sides to the "
                "common max m = max(m_a, m_b) first: multiply l_a and o_a by exp(m_a - m), l_b "
                "and o_b by exp(m_b - m), then add."),
        Mistake("output not rescaled", like(merge_output_not_rescaled),
                "for {input} you get {got}: l is rescaled, o is not. The output o is a sum "
                "relative to its block's max, like l: rescale each o by the same factor as its "
                "l (one factor per query, so the factor needs a new axis to multiply the rows "
                "of o)."),
        Mistake("rescale factor inverted", like(merge_inverted_factor),
                "for {input} you get {got}: the side with the smaller max is multiplied by "
                "exp(m - m_a), which is above 1. Its terms were exp(s - m_a) and must become "
                "exp(s - m), so multiply by exp(m_a - m), a number in (0, 1]."),
        Mistake("nan for two empty blocks", like(merge_empty_gives_nan),
                "for {input} you get {got}: when neither block has a key for a query, m_a = m_b "
                "= m = -inf and m_a - m is -inf - (-inf) = nan. Subtract a shift that is m where "
                "m is finite and 0 where it is not, so both factors become exp(-inf) = 0 and the "
                "state stays (-inf, 0, 0)."),
        Mistake("normalised output", like(merge_normalised),
                "for {input} you get {got}: your o is divided by l. A state keeps o "
                "unnormalised, since it will be merged again; the division o / l comes once, "
                "at the very end. Return the rescaled sum itself."),
    ),
))


def _hidden_merge(rng):
    cases = []
    for n, d_v in ((4, 3), (3, 3), (5, 1), (2, 4)):
        a = _state(rng, n, d_v, offset=float(rng.normal(0.0, 3.0)))
        b = _state(rng, n, d_v, offset=float(rng.normal(0.0, 3.0)))
        cases.append(Case("", (*a, *b)))
    a, b = _state(rng, 3, 2), _state(rng, 3, 2)
    b[0][0] = a[0][0]                                              # an equal max
    empty = _empty(3, 2)
    for x, e in zip(a, empty):                                     # query 2: a is empty
        x[2] = e[2]
    cases.append(Case("", (*a, *b)))
    a, b = _state(rng, 3, 2, offset=700.0), _empty(3, 2)
    b[0][0], b[1][0], b[2][0] = a[0][0] - 5.0, 1.0, [2.0, -1.0]    # query 0: b has one key
    cases.append(Case("", (*a, *b)))                               # queries 1, 2: b is empty
    e1, e2 = _empty(2, 3), _empty(2, 3)
    live = _state(rng, 1, 3)
    for x, y in zip(e1, live):
        x[1] = y[0]                                                # query 1: a has keys, b not
    cases.append(Case("", (*e1, *e2)))                             # query 0: both empty
    return cases
