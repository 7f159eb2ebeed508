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
from ..i18n import N_
from .lesson02 import S, axis_basics
from .mistakes import FLOAT32, SOFTMAX_LIBRARY, global_max, broken, common, like, raised, resembles, unnormalised
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


def masked_global_max(z, mask, axis=-1):
    z = np.asarray(z, dtype=float)
    s = np.where(np.broadcast_to(np.asarray(mask, dtype=bool), z.shape), z, -np.inf)
    m = s.max()
    e = np.exp(s - (m if np.isfinite(m) else 0.0))
    total = e.sum(axis=axis, keepdims=True)
    with np.errstate(all="ignore"):
        return np.where(total > 0, e / np.where(total > 0, total, 1.0), 0.0)


def masked_max_of_all(z, mask, axis=-1):
    """The max taken over every entry, masked ones included."""
    z = np.asarray(z, dtype=float)
    keep = np.broadcast_to(np.asarray(mask, dtype=bool), z.shape)
    e = np.where(keep, np.exp(z - z.max(axis=axis, keepdims=True)), 0.0)
    total = e.sum(axis=axis, keepdims=True)
    with np.errstate(all="ignore"):
        return np.where(total > 0, e / np.where(total > 0, total, 1.0), 0.0)


def masked_after_softmax(z, mask, axis=-1):
    return sm.softmax(np.asarray(z, dtype=float), axis) * np.asarray(mask, dtype=bool)


MASK_EMPTY_NAN_HINT = (
    N_("for {input} you get {got}: where no entry takes part, every score is -inf and the softmax "
       "is 0/0 = nan (and nan spreads through everything computed from it). Return zeros for such "
       "a slice: e.g. with s the sum of the kept exponentials, np.where(s > 0, e / s, 0), and shift "
       "an empty slice by 0 instead of by its max -inf.")
)
MASK_UNIFORM_HINT = (
    N_("for {input} you get {got}: a row where no entry takes part came out uniform. That is what "
       "filling masked scores with a large finite number (-1e9, or d2l's -1e6) does: the row "
       "becomes equal numbers and softmax spreads the weight evenly over entries that were all "
       "masked. Fill with -inf, and return zeros for a slice with no entry taking part.")
)
MASK_ZERO_HINT = (
    N_("for {input} you get {got}: masked entries still get weight. Setting a masked score to 0 "
       "(or multiplying the scores by the mask) gives it e^0 = 1, like any score of 0. Set masked "
       "scores to -inf before the softmax, so that e^-inf = 0: np.where(mask, z, -np.inf).")
)
MASK_AFTER_HINT = (
    N_("for {input} you get {got}, which does not sum to 1: zeroing the masked entries after the "
       "softmax removes their share without renormalising. Mask before the softmax (scores to "
       "-inf), so the kept entries share all the weight.")
)

_M = np.array([[2.0, 1.0, 0.5, 3.0], [1.0, -1.0, 0.0, 2.0], [0.0, 4.0, 1.0, -2.0]])
MASKED_SOFTMAX = register(Exercise(
    name="masked_softmax",
    lesson="06",
    params=("z", "mask"),
    reference=masked_reference,
    task=N_("masked_softmax(z, mask, axis=-1): softmax along axis over the entries where mask is "
            "True; 0 elsewhere, and all zeros for a slice where nothing takes part"),
    points=2.0,
    public=(
        Case("basic", ([1.0, 2.0, 3.0], [T, T, F])),
        Case("all_kept", ([21.3, 25.7, 23.1], [T, T, T])),
        Case("nothing_kept", (np.array([1.0, 2.0, 3.0]), np.array([F, F, F]))),
        Case("rows", (_M + np.array([[0.0], [0.0], [-900.0]]),
                      np.array([[T, T, F, F], [F, F, F, F], [T, F, T, T]])), {"axis": -1}),
        Case("square_columns", (S, np.array([[T, F, T], [T, F, F], [F, F, T]])), {"axis": 0}),
        Case("padding_mask", (_M, np.array([T, T, T, F])), {"axis": -1},
             shown=N_("z of shape (3, 4), mask = [True, True, True, False] (one mask for every "
                      "row), axis = -1")),
        Case("large", (np.array([[1000.0, 999.0, 998.0, 5000.0], [1.0, 2.0, 3.0, 0.0]]),
                       np.array([[T, T, T, F], [T, T, T, T]])), {"axis": -1}),
        Case("large_masked", (np.array([1000.0, 1.0, 2.0]), np.array([F, T, T]))),
        Case("int_array", (np.array([[1, 2, 3], [3, 2, 1]]), np.array([[T, F, T], [T, T, F]])),
             {"axis": -1}, shown=N_("z = np.array([[1, 2, 3], [3, 2, 1]]) (integers), mask = "
                                    "[[True, False, True], [True, True, False]], axis = -1")),
    ),
    hidden=lambda rng: _hidden_masked(rng),
    mistakes=(common("masked_softmax(z, mask, axis=-1)") + (FLOAT32,))
    + axis_basics("masked_softmax", masked_reference) + (
        global_max(masked_global_max),
        Mistake(N_("fully masked row gives nan"), like(masked_with_inf_only), MASK_EMPTY_NAN_HINT,
                supersedes=("no max trick",)),
        Mistake(N_("fully masked row is uniform"), like(masked_with_big_negative), MASK_UNIFORM_HINT),
        Mistake(N_("mask filled with 0"), like(masked_with_zero), MASK_ZERO_HINT),
        Mistake(N_("mask after the softmax"), like(masked_after_softmax), MASK_AFTER_HINT),
        Mistake(N_("max includes masked entries"), like(masked_max_of_all),
                N_("for {input} you get {got}: you shift by the max of every entry, masked ones "
                   "included. A large masked entry (1000 next to kept entries of 1 and 2) then "
                   "pushes the kept ones to exp(-998) = 0, and the row comes out as zeros."),
                supersedes=("no max trick", "global max"),
                more=N_("Take the max over the kept entries only: set the masked scores to -inf "
                        "first, then take the max along the axis (and shift an empty slice by 0).")),
        Mistake(N_("no max trick"), broken(),
                N_("your masked_softmax gives {got} for {input}: exp overflows to inf above about "
                   "709 (89 in float32) and underflows to 0 below about -745, and then inf/inf or "
                   "0/0 is nan. Subtract the largest logit first: softmax(z) = softmax(z - max(z)), "
                   "so every exponent is at most 0 and the largest term is exactly 1 (lesson 03, "
                   "the max trick). Take the max over the kept entries only (the masked ones set "
                   "to -inf): a large masked entry must not shift the others to exp(-1000) = 0.")),
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
    far = rng.normal(0.0, 1.0, (3, 4)) + np.array([[0.0], [-900.0], [900.0]])[rng.permutation(3)]
    cases.append(Case("", (far, rng.random((3, 4)) < 0.7), {"axis": -1}))       # rows far apart
    z, mask = rng.normal(0.0, 1.0, (2, 5)), np.ones((2, 5), dtype=bool)
    j = int(rng.integers(5))
    z[:, j], mask[:, j] = rng.uniform(800.0, 1000.0), False      # a huge entry, masked out
    cases.append(Case("", (z, mask), {"axis": -1}))
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


def _online(z, *, start=-np.inf, take=max, sign=1.0):
    """The one-pass softmax with its running max started at ``start``, moved by ``take``, and
    the new term added with ``sign`` to the running sum."""
    z = np.asarray(z, dtype=float)
    m, l = start, 0.0
    with np.errstate(all="ignore"):
        for x in z:
            m_new = take(m, x)
            l = l * np.exp(m - m_new) + sign * np.exp(x - m_new)
            m = m_new
        return np.exp(z - m) / l


def _nan_everywhere(ev):
    """Every test came back as numbers that are all nan, where numbers were expected: nan from
    the first step of the loop (a symptom, whatever its cause)."""
    found = None
    for name in ev.names():
        v = ev.outcome(name).value
        if not isinstance(v, np.ndarray) or v.dtype.kind != "f" or v.size == 0 \
                or not np.isnan(v).all() or not np.isfinite(ev.expected(name)).all():
            return None
        found = found or name
    return found


def _online_parts(z, *, term=np.exp, final=np.exp):
    """The one-pass softmax with the new term of the running sum, or the numerators, computed
    by ``term`` and ``final`` instead of exp."""
    z = np.asarray(z, dtype=float)
    m, l = -np.inf, 0.0
    with np.errstate(all="ignore"):
        for x in z:
            m_new = max(m, x)
            l = l * np.exp(m - m_new) + term(x - m_new)
            m = m_new
        return final(z - m) / l


def _same(x):
    return x


def online_numerator_log(z):
    return _online_parts(z, final=np.log)


def online_numerator_no_exp(z):
    return _online_parts(z, final=_same)


def online_term_log(z):
    return _online_parts(z, term=np.log)


def online_term_no_exp(z):
    return _online_parts(z, term=_same)


def online_running_min(z):
    """m_new = min(m, x) from m = -inf: m stays -inf, and exp(-inf - (-inf)) = nan."""
    return _online(z, take=min)


def online_starts_at_plus_inf(z):
    """m = +inf at the start: max(inf, x) stays inf, and exp(inf - inf) = nan."""
    return _online(z, start=np.inf)


def online_term_subtracted(z):
    """The new term subtracted from the running sum."""
    return _online(z, sign=-1.0)


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


def _divided(detect, divided):
    """``detect``, kept only where the largest value is 1 (``divided=False``: exp(z - m) was
    returned as it is) or where it is not (``divided=True``: divided by a wrong sum)."""

    def check(ev):
        name = detect(ev)
        if name is None:
            return None
        v = ev.outcome(name).value
        top_is_one = bool(np.isclose(np.max(v), 1.0, rtol=1e-12, atol=0))
        return name if top_is_one != divided else None

    return check


ONLINE_SOFTMAX = register(Exercise(
    name="online_softmax",
    delegates=SOFTMAX_LIBRARY,
    lesson="06",
    params=("z",),
    reference=lambda z: sm.softmax(z),
    task=N_("online_softmax(z): softmax of a 1-D vector with a running max and a running sum "
            "rescaled by exp(m_old - m_new) in one pass, then the normalisation"),
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
        Case("int_array", (np.array([1, 2, 3, 4]),), shown=N_("z = np.array([1, 2, 3, 4]) "
                                                              "(integers)")),
    ),
    hidden=_hidden_online,
    mistakes=(common("online_softmax(z)") + (FLOAT32,)) + (
        Mistake(N_("no rescale"), like(online_no_rescale),
                N_("for {input} you get {got}, which does not sum to 1: when a new entry raises the "
                   "running max from m_old to m_new, the terms already in the running sum are still "
                   "exp(z_i - m_old). Multiply the running sum by exp(m_old - m_new) before adding "
                   "the new term. (On a decreasing row the max never moves, which hides the bug; "
                   "an increasing row shows it.)"),
                supersedes=("not normalised", "no max trick")),
        Mistake(N_("nan from the first step"), _nan_everywhere,
                N_("for {input} you get {got}: nan everywhere, on every test, even for a single "
                   "entry. Something in your loop is nan from its first step on, and nan spreads "
                   "to everything computed from it: inf - inf (a running max that starts at +inf, "
                   "or stays at -inf when updated with min), 0 * inf, or the log of a negative "
                   "number."),
                supersedes=("no max trick", "exp left out"),
                more=N_("Print m and l after each step for z = [5]: m must become 5 (start at -inf, "
                        "m_new = max(m, x)) and l must become exp(5 - 5) = 1.")),
        Mistake(N_("exp left out"),
                lambda ev: next(filter(None, (like(w)(ev) for w in (
                    online_numerator_log, online_numerator_no_exp, online_term_log,
                    online_term_no_exp))), None),
                N_("for {input} you get {got}: your running sum or your numerators are not "
                   "exponentials. Every term of the softmax is exp(x - m): a term added as x - m "
                   "itself, or with np.log in place of np.exp, is not one (and the log of a "
                   "number <= 0 is nan or -inf)."),
                supersedes=("no max trick",),
                more=N_("Use np.exp for each new term of the running sum and for the numerators "
                        "exp(z - m) at the end; the rescale factor of the old sum is an exp too.")),
        Mistake(N_("term subtracted from the running sum"), like(online_term_subtracted),
                N_("for {input} you get {got}: negative values. Each new entry adds its term "
                   "exp(x - m_new) to the running sum; subtracting it makes the sum negative, "
                   "so every probability changes sign."),
                more=N_("After rescaling the old sum, add the new term: the running sum is a sum "
                        "of positive exponentials and stays positive.")),
        Mistake(N_("no max trick"), broken(),
                N_("your online_softmax gives {got} for {input}: exp overflows to inf above about "
                   "709 (89 in float32) and underflows to 0 below about -745, and then inf/inf or "
                   "0/0 is nan. Subtract the largest logit first: softmax(z) = softmax(z - max(z)), "
                   "so every exponent is at most 0 and the largest term is exactly 1 (lesson 03, "
                   "the max trick). In the online version, keep the running sum relative to the "
                   "running max.")),
        Mistake(N_("divided by the wrong sum"), _divided(unnormalised(lambda case: -1), True),
                N_("for {input} you get {got}: the right proportions, divided by a number that is "
                   "not their sum. The division is there; the numerator and the running sum are "
                   "out of step. Both must be relative to the same max (the final m), and each "
                   "time the max moves up, from m_old to m_new, the old sum must shrink by the "
                   "factor exp(m_old - m_new), which is at most 1."),
                supersedes=("no max trick",),
                more=N_("Follow your loop by hand on z = [0, 1]: after the first entry m = 0, l = 1; "
                        "after the second m = 1, and l must be exp(0 - 1) + exp(1 - 1). Check the "
                        "sign of the exponent of your rescale factor and which max it uses.")),
        Mistake(N_("not normalised"), _divided(unnormalised(lambda case: -1), False),
                N_("for {input} your values have the right proportions but do not sum to 1: the "
                   "largest is exactly 1, so nothing divided exp(z - m) by the running sum."),
                more=N_("After the pass, divide exp(z - m) by the running sum l.")),
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


def _attention_as_written(q, k, v, mask=None, *, dtype=float, max_axis=-1):
    """The lesson's attention, step by step, with the dtype of the conversion or the axis of
    the max changed (the way a learner's code does it, so float32 rounds in the same places)."""
    q, k, v = (np.asarray(a, dtype=dtype) for a in (q, k, v))
    scores = q @ k.T / np.sqrt(q.shape[-1])
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    m = scores.max(axis=max_axis, keepdims=True)
    with np.errstate(all="ignore"):
        e = np.exp(scores - np.where(np.isfinite(m), m, 0.0))
        total = e.sum(axis=-1, keepdims=True)
        weights = np.where(total > 0, e / np.where(total > 0, total, 1.0), 0.0)
    return weights @ v, weights


def attention_float32_inputs(q, k, v, mask=None):
    """q, k, v converted with dtype=np.float32: float32 scores, float64 from the sqrt on."""
    return _attention_as_written(q, k, v, mask, dtype=np.float32)


def attention_max_over_queries(q, k, v, mask=None):
    """The max taken down each column (over the queries), the sum along each row."""
    return _attention_as_written(q, k, v, mask, max_axis=0)


def _float32_inputs(ev):
    """Agreement, to 1e-9, with attention computed from float32 inputs, on every test; the
    evidence is the first test failed (float32's error is near the tests' tolerance)."""
    if like(attention_float32_inputs, rtol=1e-9)(ev) is None:
        return None
    return next((name for name in ev.names() if not ev.right(name)), None)


def attention_swapped(q, k, v, mask=None):
    return tuple(reversed(attention_reference(q, k, v, mask)))


def attention_no_scale(q, k, v, mask=None):
    return _attention(q, k, v, mask, scale=1.0)


def attention_scale_multiplied(q, k, v, mask=None):
    return _attention(q, k, v, mask, scale=np.sqrt(np.shape(q)[-1]))


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


# the public cases' shown texts spell out these shapes: each is one whole message, translated
# where shown (see course_lib.exercises)
_r = np.random.default_rng(2017)
Q16, K16, V16 = _r.normal(size=(4, 16)), _r.normal(size=(5, 16)), _r.normal(size=(5, 3))
QS, KS, VS = _r.normal(size=(4, 2)), _r.normal(size=(4, 2)), _r.normal(size=(4, 2))
CAUSAL = attn.causal_mask(4)
EMPTY_ROW = np.array([[T, T, F, F], [F, F, F, F], [T, F, T, F], [F, T, T, T]])
del _r


SCALED_DOT_PRODUCT_ATTENTION = register(Exercise(
    name="scaled_dot_product_attention",
    delegates=("course_lib.attention.*",),
    lesson="06",
    params=("q", "k", "v"),
    reference=attention_reference,
    returns=("output", "weights"),
    task=N_("scaled_dot_product_attention(q, k, v, mask=None) -> (output, weights): softmax of "
            "q k^T / sqrt(d_k) over the keys of each query (masked keys excluded; a query that "
            "sees no key gets zeros), times v"),
    points=3.0,
    rtol=1e-7,
    atol=1e-12,
    public=(
        Case("tiny", ([[1.0, 0.0]], [[1.0, 0.0], [0.0, 1.0]], [[10.0], [20.0]])),
        Case("square", (QS, KS, VS), shown=N_("q, k, v of shapes (4, 2), (4, 2), (4, 2) (rows of "
                                              "random numbers, seeded), n_q = n_k = 4")),
        Case("d_k_16", (Q16, K16, V16), shown=N_("q, k, v of shapes (4, 16), (5, 16), (5, 3) (rows "
                                                 "of random numbers, seeded)")),
        Case("large_scores", (1000.0 * Q16, K16, V16),
             shown=N_("q, k, v of shapes (4, 16), (5, 16), (5, 3) (rows of random numbers, "
                      "seeded), q multiplied by 1000 (scores in the thousands)")),
        Case("causal_mask", (QS, KS, VS), {"mask": CAUSAL},
             shown=N_("q, k, v of shapes (4, 2), (4, 2), (4, 2) (rows of random numbers, seeded), "
                      "mask = causal (lower-triangular 4 x 4)")),
        Case("padding_mask", (Q16, K16, V16), {"mask": np.array([T, T, T, F, F])},
             shown=N_("q, k, v of shapes (4, 16), (5, 16), (5, 3) (rows of random numbers, "
                      "seeded), mask = [True, True, True, False, False] (the last two keys are "
                      "padding)")),
        Case("empty_row", (QS, KS, VS), {"mask": EMPTY_ROW},
             shown=N_("q, k, v of shapes (4, 2), (4, 2), (4, 2) (rows of random numbers, seeded), "
                      "mask = [[T, T, F, F], [F, F, F, F], [T, F, T, F], [F, T, T, T]] (query 1 "
                      "sees no key)")),
        Case("int_inputs", (np.array([[1, 0], [0, 2]]), np.array([[1, 1], [0, 1], [2, 0]]),
                            np.array([[1, 2], [3, 4], [5, 6]])),
             shown=N_("q = [[1, 0], [0, 2]], k = [[1, 1], [0, 1], [2, 0]], "
                      "v = [[1, 2], [3, 4], [5, 6]] (integers)")),
    ),
    hidden=lambda rng: _hidden_attention(rng),
    mistakes=(common("scaled_dot_product_attention(q, k, v, mask=None)") + (FLOAT32,)) + (
        Mistake(N_("returns the output only"), raised("NotNumbers", containing="not a tuple"),
                N_("for {input} your function {got}. Return both, output first: "
                   "`return output, weights`."),
                supersedes=("result is not numbers",)),
        Mistake(N_("outputs in the wrong order"), like(attention_swapped),
                N_("for {input} you get {got}: the weights first and the output second. check "
                   "reads the first value as the output (n_q x d_v) and the second as the "
                   "weights (n_q x n_k)."),
                supersedes=("softmax over the queries' axis", "no scale", "scale by d_k"),
                more=N_("Return the output first: the tuple (output, weights).")),
        Mistake(N_("no scale"), resembles(attention_no_scale),
                N_("for {input} you get {got}: the scores are not divided by sqrt(d_k). With "
                   "d_k entries of variance 1, q·k has variance d_k, and the softmax saturates as "
                   "d_k grows. Use scores = q @ k.T / np.sqrt(d_k), with d_k = q.shape[-1].")),
        Mistake(N_("scale multiplied"), resembles(attention_scale_multiplied),
                N_("for {input} you get {got}: you multiply the scores by sqrt(d_k) instead of "
                   "dividing. The scale is there to bring the variance of q·k (which grows like "
                   "d_k) back to 1; multiplying makes it d_k squared, and the softmax saturates."),
                more=N_("Divide q @ k.T by the square root of d_k = q.shape[-1].")),
        Mistake(N_("scale by d_k"), resembles(attention_scale_by_dk),
                N_("for {input} you get {got}: you divide the scores by d_k; the scale is "
                   "1 / sqrt(d_k), which brings the variance of q·k (d_k) back to 1. Use "
                   "np.sqrt(q.shape[-1]).")),
        Mistake(N_("softmax over the queries' axis"), resembles(attention_over_queries),
                N_("for {input} you get {got}: your weights sum to 1 down each column, over the "
                   "queries. Each query's weights are a softmax over the keys: along the last axis "
                   "of the (n_q, n_k) scores, axis=-1 (on a square score matrix nothing else "
                   "complains)."),
                supersedes=("no max trick",)),
        Mistake(N_("mask after the softmax"), resembles(attention_mask_after), MASK_AFTER_HINT),
        Mistake(N_("inputs converted to float32"), _float32_inputs,
                N_("for {input} your output is off in its 7th or 8th significant digit: q, k and v "
                   "were converted to float32, which keeps about 7 significant digits (float64 "
                   "about 16), so every score is rounded before the softmax."),
                more=N_("Convert the inputs with dtype=float (float64) and keep that dtype through "
                        "the products.")),
        Mistake(N_("max along another axis"), like(attention_max_over_queries),
                N_("for {input} you get {got}: you shift the scores by the max of each column "
                   "(over the queries) and normalise along each row. The shift must be one "
                   "number per row, that row's own max, or it changes the softmax."),
                supersedes=("softmax over the queries' axis",),
                more=N_("Take the max along the keys' axis, the same axis as the sum (axis=-1, "
                        "keepdims=True).")),
        Mistake(N_("mask filled with 0"), resembles(attention_mask_zero), MASK_ZERO_HINT),
        Mistake(N_("fully masked row gives nan"), resembles(attention_mask_inf_only),
                N_("for {input} you get {got}: where no entry takes part, every score is -inf and "
                   "the softmax is 0/0 = nan (and nan spreads through everything computed from "
                   "it). Give a query that sees no key zero weights: e.g. with s the sum of the "
                   "kept exponentials, np.where(s > 0, e / s, 0), and shift its scores by 0 "
                   "instead of by its max -inf."),
                supersedes=("no max trick",)),
        Mistake(N_("fully masked row is uniform"), resembles(attention_mask_big_negative),
                MASK_UNIFORM_HINT),
        Mistake(N_("no max trick"), broken(),
                N_("for {input} you get {got}: exp of a score above about 709 overflows to inf, "
                   "and inf/inf is nan. Subtract each row's max score before exp (lesson 03).")),
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


def merge_shift_as_max(*args):
    """The guarded shift (0 where both blocks are empty) returned for m."""
    m, l, o = _merge(*args)
    return np.where(np.isfinite(m), m, 0.0), l, o


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


MERGE_SOFTMAX_STATES = register(Exercise(
    name="merge_softmax_states",
    lesson="06",
    params=("m_a", "l_a", "o_a", "m_b", "l_b", "o_b"),
    reference=merge_reference,
    returns=("m", "l", "o"),
    task=N_("merge_softmax_states(m_a, l_a, o_a, m_b, l_b, o_b) -> (m, l, o): the state of the "
            "union of two disjoint blocks of keys; both sides rescaled by exp(their max - m), "
            "o left unnormalised"),
    points=2.0,
    rtol=1e-9,
    atol=1e-12,
    public=(
        Case("one_key_each", ([1.0], [1.0], [[2.0]], [3.0], [1.0], [[4.0]])),
        Case("b_larger", ([0.0], [2.0], [[1.0, -1.0]], [2.0], [1.5], [[3.0, 0.5]])),
        Case("a_larger", ([2.0], [1.5], [[3.0, 0.5]], [0.0], [2.0], [[1.0, -1.0]])),
        Case("three_queries", (*_A3, *_B3),
             shown=N_("m_a, l_a, o_a, m_b, l_b, o_b: 3 queries, d_v = 2; m_a = [0.5, 4, -1], "
                      "m_b = [3, 1, -1] (states of random blocks, seeded)")),
        Case("square", (*_SQ_A, *_SQ_B), shown=N_("m_a, l_a, o_a, m_b, l_b, o_b: 3 queries, d_v = "
                                                  "3 (states of random blocks, seeded)")),
        Case("equal_maxes", (*_EQ_A, *_EQ_B),
             shown=N_("m_a, l_a, o_a, m_b, l_b, o_b: 2 queries, d_v = 3, m_a = m_b"
                      " (states of random blocks, seeded)")),
        Case("large_scores", (*_BIG_A, *_BIG_B),
             shown=N_("m_a, l_a, o_a, m_b, l_b, o_b: 2 queries, d_v = 2, maxes near 800 in "
                      "a and near -800 in b (states of random blocks, seeded)")),
        Case("one_side_empty", (*_HALF, *_state(np.random.default_rng(7), 3, 2)),
             shown=N_("m_a, l_a, o_a, m_b, l_b, o_b: 3 queries, d_v = 2; query 1 saw no key in "
                      "block a: m_a[1] = -inf, l_a[1] = 0, o_a[1] = [0, 0] (states of random "
                      "blocks, seeded)")),
        Case("both_empty", ([-np.inf, 1.0], [0.0, 1.0], [[0.0], [5.0]],
                            [-np.inf, -np.inf], [0.0, 0.0], [[0.0], [0.0]])),
    ),
    hidden=lambda rng: _hidden_merge(rng),
    mistakes=common("merge_softmax_states(m_a, l_a, o_a, m_b, l_b, o_b)")[:4] + (
        Mistake(N_("no rescale"), like(merge_no_rescale),
                N_("for {input} you get {got}: l and o are added as they are, but l_a and o_a are "
                   "sums relative to m_a, l_b and o_b relative to m_b. Bring both sides to the "
                   "common max m = max(m_a, m_b) first: multiply l_a and o_a by exp(m_a - m), l_b "
                   "and o_b by exp(m_b - m), then add.")),
        Mistake(N_("output not rescaled"), like(merge_output_not_rescaled),
                N_("for {input} you get {got}: l is rescaled, o is not. The output o is a sum "
                   "relative to its block's max, like l: rescale each o by the same factor as its "
                   "l (one factor per query, so the factor needs a new axis to multiply the rows "
                   "of o).")),
        Mistake(N_("rescale factor inverted"), like(merge_inverted_factor),
                N_("for {input} you get {got}: the side with the smaller max is multiplied by "
                   "exp(m - m_a), which is above 1. Its terms were exp(s - m_a) and must become "
                   "exp(s - m), so multiply by exp(m_a - m), a number in (0, 1].")),
        Mistake(N_("nan for two empty blocks"), like(merge_empty_gives_nan),
                N_("for {input} you get {got}: when neither block has a key for a query, m_a = m_b "
                   "= m = -inf and m_a - m is -inf - (-inf) = nan. Subtract a shift that is m where "
                   "m is finite and 0 where it is not, so both factors become exp(-inf) = 0 and the "
                   "state stays (-inf, 0, 0).")),
        Mistake(N_("shift returned for m"), like(merge_shift_as_max),
                N_("for {input} you get {got}: where neither block has a key, your merged max is "
                   "0. The max of two empty blocks is -inf, and a state (-inf, 0, 0) says \"no key "
                   "yet\" to the next merge; the 0 is only the shift that keeps exp away from "
                   "-inf - (-inf)."),
                more=N_("Use the guarded value only inside the exponentials; return the max of "
                        "m_a and m_b itself as m.")),
        Mistake(N_("normalised output"), like(merge_normalised),
                N_("for {input} you get {got}: your o is divided by l. A state keeps o "
                   "unnormalised, since it will be merged again; the division o / l comes once, "
                   "at the very end. Return the rescaled sum itself.")),
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
