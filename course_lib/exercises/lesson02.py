"""Lesson 02, shift invariance: the exercise ``softmax_axis`` (softmax along any axis).

Each slice along ``axis`` is shifted by its own max. The tests always include square input,
where a ``max`` without ``keepdims`` broadcasts silently into wrong values instead of failing.
The axis mistakes defined here are shared with lessons 03 and 04.
"""

from __future__ import annotations

import numpy as np

from .. import softmax as sm
from ..grading.exercise import Case, Exercise, Mistake
from ..i18n import N_
from .lesson01 import MAX_TRICK_HINT_NAMING, MAX_TRICK_MORE, shift_by_mean, shift_by_min
from .mistakes import FLOAT32, max_along_another_axis, SOFTMAX_LIBRARY, broken, common, like, raised, resembles, unnormalised
from .mistakes import like_any
from ..grading.registry import register

__all__ = ["SOFTMAX_AXIS", "axis_basics", "axis_mistakes", "hidden_arrays", "A", "S", "OFFSET_ROWS"]

A = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 8.0]])                      # (2, 3)
S = np.array([[1.0, 2.0, 0.0], [4.0, 1.0, 3.0], [0.0, 5.0, 2.0]])     # square, not symmetric
CUBE = np.arange(24.0).reshape(2, 3, 4) / 3.0 - np.array([0.0, 5.0, 1.0, 2.0])
OFFSET_ROWS = np.array([[1000.0, 1001.0, 1002.0], [-1000.0, -999.0, -998.0]])
SPREAD_ROWS = np.array([[800.0, 0.0, -800.0], [1.0, 2.0, 3.0]])


# --- known-wrong implementations ---------------------------------------------------------------
def whole_array(z, axis=-1):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max())
    return e / e.sum()


def max_without_keepdims(z, axis=-1):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max(axis=axis))
    return e / e.sum(axis=axis)


def global_max(z, axis=-1):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max())
    return e / e.sum(axis=axis, keepdims=True)


def axis_basics(function, reference):
    """The mistakes of any function that works along an axis: it ignores ``axis``, works along
    the other axis of a 2-D input, or drops the axis so that shapes no longer line up.

    Parameters
    ----------
    function : str
        The exercise's function name, for the hints.
    reference : callable
        The correct function, ``reference(z, *rest, axis=...)``; the look-alikes are built
        from it.
    """

    def ignores_axis(z, *rest, axis=-1):
        return reference(np.asarray(z, dtype=float), *rest, axis=-1)

    def other_axis(z, *rest, axis=-1):
        z = np.asarray(z, dtype=float)
        if z.ndim != 2:
            raise ValueError("only defined for 2-D input")
        return reference(z, *rest, axis=1 - axis % 2)

    return (
        Mistake(N_("ignores axis"), like(ignores_axis),
                N_("your {function} works along the last axis whatever `axis` says: for {input} "
                   "it gives {got}. Pass `axis` on to every max and sum."),
                supersedes=("wrong axis", "not normalised"), values={"function": function}),
        Mistake(N_("wrong axis"), resembles(other_axis),
                N_("your {function} works along the other axis: for {input} you get {got}. "
                   "axis=-1 means along each row (the last axis), axis=0 down each column."),
                supersedes=("not normalised",), values={"function": function}),
        Mistake(N_("broadcast error"), raised("ValueError", containing="broadcast"),
                N_("for {input} your function gives {got}: the shapes of two arrays you combine do "
                   "not line up. A max or sum taken along `axis` drops that axis (and one taken "
                   "along another axis drops another), so it no longer lines up with z."),
                more=N_("Take every max and sum along the same `axis`, and keep that axis where "
                        "the result is combined with z again (`keepdims=True`).")),
    )


def _shifted_softmax(z, m, axis=-1):
    e = np.exp(z - m)
    return e / e.sum(axis=axis, keepdims=True)


def axis_mistakes(function):
    """The mistakes of a softmax along an axis: :func:`axis_basics`, and the shifts and sums
    that go wrong.

    Parameters
    ----------
    function : str
        The exercise's function name, for the hints.
    """
    return axis_basics(function, lambda z, axis=-1: sm.softmax(z, axis)) + (
        max_along_another_axis(_shifted_softmax),
        Mistake(N_("max without keepdims"), like(max_without_keepdims),
                N_("z.max(axis) drops the axis, so z - z.max(axis) lines the maxima up against "
                   "the wrong entries: for {input} you get {got}. On square input this is silently "
                   "wrong; elsewhere it is a broadcast error. Use z.max(axis=axis, keepdims=True) "
                   "(and the same for the sum)."),
                supersedes=("broadcast error", "not normalised")),
        Mistake(N_("whole array"), like(whole_array),
                N_("your function normalises over the whole array, not each slice along `axis`: "
                   "for {input} the entries of the whole array sum to 1 ({got}). Sum along the "
                   "axis: e.sum(axis=axis, keepdims=True)."),
                supersedes=("global max", "not normalised", "no max trick")),
        Mistake(N_("global max"), like(global_max),
                N_("you shift every slice by the largest logit of the whole array, not by each "
                   "slice's own max: for {input} a slice far below it underflows to 0/0 = nan "
                   "({got}). Use z.max(axis=axis, keepdims=True)."),
                supersedes=("no max trick",)),
        Mistake(N_("shift by the mean"), like(shift_by_mean),
                N_("you shift the logits by their mean, not their max: for {input} that leaves "
                   "exponents above 709 ({got}). Use z - z.max(axis=axis, keepdims=True)."),
                supersedes=("no max trick",)),
        Mistake(N_("shift by the min"), like(shift_by_min),
                N_("you shift the logits by their min, not their max, so exp overflows sooner: "
                   "for {input} you get {got}. Use z - z.max(axis=axis, keepdims=True)."),
                supersedes=("no max trick",)),
        Mistake(N_("no max trick"), broken(),
                MAX_TRICK_HINT_NAMING, more=MAX_TRICK_MORE, values={"function": function}),
        Mistake(N_("not normalised"), unnormalised(),
                N_("for {input} your values have the right proportions but do not sum to 1 along "
                   "the axis: divide by e.sum(axis=axis, keepdims=True).")),
    )


def hidden_arrays(rng):
    """Seeded random tests along an axis: square input both ways, 3-D, slices far apart,
    spread slices, integers and float32."""
    cases = []
    for shape, axis in (((4, 4), -1), ((4, 4), 0), ((3, 5), 1), ((5, 3), 0), ((2, 3, 4), 1)):
        z = rng.normal(0.0, float(rng.choice([1.0, 10.0])), shape)
        cases.append(Case("", (z,), {"axis": axis}))
    offsets = np.array([[900.0], [0.0], [-900.0]]) * rng.choice([1.0, -1.0])
    cases.append(Case("", (rng.normal(0.0, 1.0, (3, 4)) + offsets,), {"axis": -1}))
    a = float(rng.uniform(760.0, 1000.0))
    cases.append(Case("", (np.array([[a, 0.0, -a], [0.0, 1.0, 2.0]])[:, rng.permutation(3)],),
                      {"axis": -1}))
    cases.append(Case("", (rng.integers(-4, 5, (3, 3)),), {"axis": 0}))
    cases.append(Case("", (rng.normal(0.0, 1.0, (2, 4)).astype(np.float32) + np.float32(92.0),),
                      {"axis": -1}, rtol=1e-5, atol=1e-7))
    return cases


SOFTMAX_AXIS = register(Exercise(
    name="softmax_axis",
    delegates=SOFTMAX_LIBRARY,
    lesson="02",
    params=("z",),
    reference=lambda z, axis=-1: sm.softmax(z, axis),
    task=N_("softmax_axis(z, axis=-1): softmax of each slice along axis, shifted by its own max"),
    points=2.0,
    public=(
        Case("vector", ([1.0, 2.0, 3.0],)),
        Case("rows", (A,), shown=N_("z = [[1, 2, 3], [2, 4, 8]] (default axis=-1)")),
        Case("columns", (A,), {"axis": 0}),
        Case("square_rows", (S,), {"axis": -1}),
        Case("square_columns", (S,), {"axis": 0}),
        Case("cube_axis_1", (CUBE,), {"axis": 1}, shown=N_("z of shape (2, 3, 4), axis = 1")),
        Case("offset_rows", (OFFSET_ROWS,), {"axis": -1}),
        Case("spread_rows", (SPREAD_ROWS,), {"axis": -1}),
        Case("int_array", (np.array([[1, 2, 3], [3, 2, 1]]),), {"axis": -1},
             shown=N_("z = np.array([[1, 2, 3], [3, 2, 1]]) (integers), axis = -1")),
        Case("large", (np.array([[1000.0, 0.0, 0.0], [0.0, 0.0, 0.0]]),), {"axis": -1}),
    ),
    hidden=hidden_arrays,
    mistakes=(common("softmax_axis(z, axis=-1)") + (FLOAT32,))
    + axis_mistakes("softmax_axis"),
))


# --- logits_from_probs ---------------------------------------------------------------------------
# Softmax inverted up to its shift: log p minus its mean along the axis, the mean taken over the
# entries with p > 0 (a probability 0 gives the logit -inf). The batches hold rows at very
# different scales (tiny probabilities next to ordinary ones) and square arrays.

from ..classification import canonical_weights as _canonical  # noqa: E402


def _logits(p, axis=-1):
    return sm.logits_from_probs(p, axis)


def _log0(p):
    """log p with -inf for p = 0, quietly."""
    p = np.asarray(p, dtype=float)
    with np.errstate(divide="ignore"):
        return np.log(p)


def logits_not_centred(p, axis=-1):
    return _log0(p)


def logits_max_centred(p, axis=-1):
    logp = _log0(p)
    return logp - logp.max(axis=axis, keepdims=True)


def logits_naive_mean(p, axis=-1):
    logp = _log0(p)
    with np.errstate(invalid="ignore"):
        return logp - logp.mean(axis=axis, keepdims=True)


def logits_zeros_in_mean(p, axis=-1):
    logp = _log0(p)
    return logp - np.where(np.isfinite(logp), logp, 0.0).mean(axis=axis, keepdims=True)


def logits_global_mean(p, axis=-1):
    logp = _log0(p)
    return logp - logp[np.isfinite(logp)].mean()


def logits_mean_without_keepdims(p, axis=-1):
    logp = _log0(p)
    finite = np.isfinite(logp)
    return logp - np.where(finite, logp, 0.0).sum(axis=axis) / finite.sum(axis=axis)


def logits_log10(p, axis=-1):
    return _logits(p, axis) / np.log(10.0)


def logits_exp(p, axis=-1):
    e = np.exp(np.asarray(p, dtype=float))
    return e - e.mean(axis=axis, keepdims=True)


def _logits_centred_by(p, axis, sum_axis, count_axis):
    """log p minus (sum of log p along sum_axis) / (count of p > 0 along count_axis): the
    centre's sum and count taken along the axes given (None: the whole array)."""
    p = np.asarray(p, dtype=float)
    positive = p > 0
    logp = np.log(np.where(positive, p, 1.0))
    centre = logp.sum(axis=sum_axis, keepdims=True) / positive.sum(axis=count_axis, keepdims=True)
    return np.where(positive, logp - centre, -np.inf)


def logits_sum_of_whole_array(p, axis=-1):
    return _logits_centred_by(p, axis, None, axis)


def logits_count_of_whole_array(p, axis=-1):
    return _logits_centred_by(p, axis, axis, None)


def logits_count_along_axis_0(p, axis=-1):
    return _logits_centred_by(p, axis, axis, 0)


def logits_sum_along_axis_0(p, axis=-1):
    return _logits_centred_by(p, axis, 0, axis)


def _hidden_probs(rng):
    def probs(shape, axis=-1, spread=3.0):
        return sm.softmax(rng.normal(0.0, spread, shape), axis)

    cases = []
    for shape, axis in (((4, 4), -1), ((4, 4), 0), ((3, 5), 1), ((2, 3, 4), 1)):
        cases.append(Case("", (probs(shape, axis),), {"axis": axis}))
    # rows at very different scales: one row of ordinary probabilities, one with entries near
    # 1e-300 (log p near -690), one with a zero
    rows = np.stack([probs(4), sm.softmax(rng.normal(0.0, 1.0, 4) * 250.0),
                     probs(4) * np.array([1.0, 0.0, 1.0, 1.0])])
    rows[2] /= rows[2].sum()
    cases.append(Case("", (rows[rng.permutation(3)],), {"axis": -1}))
    p = probs((3, 3), 0)
    p[int(rng.integers(3)), int(rng.integers(3))] = 0.0
    cases.append(Case("", (p / p.sum(axis=0, keepdims=True),), {"axis": 0}))
    cases.append(Case("", (probs(int(rng.integers(3, 8))),), {}))
    cases.append(Case("", (rng.integers(1, 9, (3, 3)),), {"axis": -1}))     # integer counts
    return cases


P_SQUARE = np.array([[0.2, 0.3, 0.5], [0.7, 0.1, 0.2], [0.25, 0.25, 0.5]])
P_SCALES = np.array([[1e-300, 0.5, 0.5], [0.2, 0.3, 0.5], [1e-12, 1e-6, 1.0 - 1e-6 - 1e-12]])

LOGITS_FROM_PROBS = register(Exercise(
    name="logits_from_probs",
    lesson="02",
    params=("p",),
    reference=_logits,
    task=N_("logits_from_probs(p, axis=-1): logits whose softmax is p, centred: log p minus its "
            "mean along axis (over the entries with p > 0; p = 0 gives -inf)"),
    points=2.0,
    public=(
        Case("quarter_half", ([0.25, 0.25, 0.5],)),
        Case("softmax_123", (sm.softmax([1.0, 2.0, 3.0]),), shown="p = softmax([1, 2, 3])"),
        Case("rows", (np.array([[0.1, 0.2, 0.7], [0.5, 0.25, 0.25]]),)),
        Case("columns", (np.array([[0.1, 0.2, 0.7], [0.9, 0.8, 0.3]]),), {"axis": 0}),
        Case("square_rows", (P_SQUARE,), {"axis": -1}),
        Case("square_columns", (P_SQUARE.T,), {"axis": 0}),
        Case("a_zero", (np.array([0.5, 0.0, 0.5]),)),
        Case("scales", (P_SCALES,), {"axis": -1},
             shown="p = [[1e-300, 0.5, 0.5], [0.2, 0.3, 0.5], [1e-12, 1e-6, 1 - 1e-6 - 1e-12]]"),
        Case("cube_axis_1", (sm.softmax(CUBE, 1),), {"axis": 1},
             shown=N_("p of shape (2, 3, 4), each slice along axis 1 a distribution, axis = 1")),
        Case("int_counts", (np.array([[1, 3], [2, 2]]),), {"axis": -1},
             shown=N_("p = np.array([[1, 3], [2, 2]]) (integer counts), axis = -1")),
    ),
    hidden=_hidden_probs,
    mistakes=common("logits_from_probs(p, axis=-1)")
    + axis_basics("logits_from_probs", _logits)
    + (
        Mistake(N_("not centred"), like(logits_not_centred),
                hint=N_("for {input} you return log p itself, {got}: those are valid logits (their "
                        "softmax is p), but not the centred ones asked for. Subtract the mean of log "
                        "p along the axis, keepdims=True.")),
        Mistake(N_("centred on the max"), like(logits_max_centred),
                hint=N_("for {input} you get {got}: you subtract the largest log p, so the largest "
                        "logit is 0. That is a valid shift too, but the exercise asks for logits of "
                        "mean 0: subtract the mean of log p instead.")),
        Mistake(N_("a zero probability gives nan"), like(logits_naive_mean),
                hint=N_("for {input} you get {got}: log 0 is -inf, so the mean of log p is -inf, "
                        "and -inf - (-inf) is nan. Take the mean over the entries with p > 0 only "
                        "(np.mean(..., where=p > 0), or a sum and a count), and keep -inf where "
                        "p = 0."),
                supersedes=("broadcast error",)),
        Mistake(N_("zeros counted in the mean"), like(logits_zeros_in_mean),
                hint=N_("for {input} you get {got}: you replace log 0 by 0 and average over every "
                        "entry, so the mean is divided by too many entries. Average log p over the "
                        "entries with p > 0 only.")),
        Mistake(N_("one mean for the whole array"), like(logits_global_mean),
                hint=N_("for {input} you get {got}: you subtract one mean of the whole array, not "
                        "each slice's own along the axis. Every slice is a distribution of its own, "
                        "with its own shift: mean(..., axis=axis, keepdims=True)."),
                supersedes=("ignores axis",)),
        Mistake(N_("mean without keepdims"), like(logits_mean_without_keepdims),
                hint=N_("the mean along the axis without keepdims=True lines up with the wrong "
                        "entries: for {input} you get {got} (silently wrong on square input, a "
                        "broadcast error elsewhere). Keep the axis: keepdims=True."),
                supersedes=("broadcast error",)),
        Mistake(N_("log base 10"), like(logits_log10),
                hint=N_("for {input} you get {got}: softmax uses e^z, so its inverse is the natural "
                        "log, np.log. Any other base, np.log10 or np.log2, scales the logits (a "
                        "temperature): softmax of your logits is not p.")),
        Mistake(N_("sum and count along different axes"),
                like_any(logits_sum_of_whole_array, logits_count_of_whole_array,
                         logits_count_along_axis_0, logits_sum_along_axis_0),
                hint=N_("for {input} you get {got}: the mean of log p is a sum divided by a count, "
                        "and you take the two over different entries (one of them over the whole "
                        "array, or along another axis). Each slice's centre needs its own sum and "
                        "its own count of the entries with p > 0."),
                more=N_("Pass the same `axis`, with `keepdims=True`, to both the sum of log p and "
                        "the count of the positive entries."),
                supersedes=("wrong axis", "one mean for the whole array", "broadcast error")),
        Mistake(N_("exp instead of log"), like(logits_exp),
                hint=N_("for {input} you get {got}: undoing e^z takes the logarithm, np.log(p), "
                        "not np.exp(p).")),
    ),
))


# --- canonical_weights -----------------------------------------------------------------------------
# Softmax regression p = softmax(W x + b): W and W + 1 v^T (b and b + c) predict the same. The
# minimum-norm pair, the one weight decay picks, centres every column of W, and b, over the
# classes. The tests include square W (a mean along the wrong axis fits silently there) and
# classes whose weights sit at very different scales.


def canonical_feature_mean(W, b):
    W = np.asarray(W, dtype=float)
    b = np.asarray(b, dtype=float)
    return W - W.mean(axis=1, keepdims=True), b - b.mean()


def canonical_b_kept(W, b):
    return _canonical(W, b)[0], np.asarray(b, dtype=float)


def canonical_W_kept(W, b):
    return np.asarray(W, dtype=float), _canonical(W, b)[1]


def canonical_reference_class(W, b):
    W = np.asarray(W, dtype=float)
    b = np.asarray(b, dtype=float)
    return W - W[-1], b - b[-1]


def canonical_first_class(W, b):
    W = np.asarray(W, dtype=float)
    b = np.asarray(b, dtype=float)
    return W - W[0], b - b[0]


def canonical_sum(W, b):
    W = np.asarray(W, dtype=float)
    b = np.asarray(b, dtype=float)
    return W - W.sum(axis=0), b - b.sum()


def canonical_swapped(W, b):
    W0, b0 = _canonical(W, b)
    return b0, W0


def canonical_global_mean(W, b):
    W = np.asarray(W, dtype=float)
    b = np.asarray(b, dtype=float)
    return W - W.mean(), b - b.mean()


def _a_reference_class(ev):
    return like(canonical_reference_class)(ev) or like(canonical_first_class)(ev)


def _hidden_weights(rng):
    cases = []
    for K, d in ((3, 3), (4, 2), (2, 5), (5, 5)):
        cases.append(Case("", (rng.normal(0.0, 2.0, (K, d)), rng.normal(0.0, 2.0, K))))
    K, d = 4, 3
    scales = np.array([1e3, 1.0, -1e3, 1e-3])[rng.permutation(4)][:, None]
    cases.append(Case("", (rng.normal(0.0, 1.0, (K, d)) * np.abs(scales) + scales,
                           rng.normal(0.0, 100.0, K))))
    cases.append(Case("", (rng.integers(-5, 6, (3, 4)), rng.integers(-5, 6, 3))))
    cases.append(Case("", (rng.normal(0.0, 1.0, (3, 1)), rng.normal(0.0, 1.0, 3))))
    return cases


W_SQUARE = np.array([[1.0, 2.0, 0.0], [4.0, 1.0, 3.0], [0.0, 5.0, 2.0]])

CANONICAL_WEIGHTS = register(Exercise(
    name="canonical_weights",
    lesson="02",
    params=("W", "b"),
    reference=_canonical,
    task=N_("canonical_weights(W, b): the equivalent softmax-regression weights of least norm, "
            "(W - mean of the rows of W, b - mean of b), so that they sum to zero over the classes"),
    points=2.0,
    returns=("W", "b"),
    public=(
        Case("two_by_two", (np.array([[1.0, 2.0], [3.0, 6.0]]), np.array([5.0, 1.0]))),
        Case("three_classes", (np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 2.0]]),
                               np.array([0.0, 1.0, 5.0]))),
        Case("square", (W_SQUARE, np.array([1.0, -1.0, 3.0]))),
        Case("wide", (np.array([[1.0, 2.0, 3.0, 4.0], [0.0, -1.0, 1.0, 0.5]]), np.array([0.0, 2.0]))),
        Case("one_feature", (np.array([[3.0], [1.0], [-1.0], [5.0]]), np.array([1.0, 1.0, 1.0, 1.0]))),
        Case("already_centred", (np.array([[1.0, -2.0], [-1.0, 2.0]]), np.array([0.5, -0.5]))),
        Case("scales", (np.array([[1000.0, 1001.0], [0.5, -0.5], [-1000.0, -999.0]]),
                        np.array([100.0, 0.0, -300.0]))),
        Case("int_arrays", (np.array([[1, 2], [3, 5], [0, 0]]), np.array([1, 2, 6])),
             shown=N_("W = np.array([[1, 2], [3, 5], [0, 0]]), b = np.array([1, 2, 6]) (integers)")),
    ),
    hidden=_hidden_weights,
    mistakes=common("canonical_weights(W, b)") + (
        Mistake(N_("mean over the features"), resembles(canonical_feature_mean),
                hint=N_("for {input} you get {got}: you subtract each row's mean, the mean over the "
                        "features of one class. The redundancy adds the same vector v to every "
                        "class's row, so centre each column over the classes: "
                        "W - W.mean(axis=0, keepdims=True).")),
        Mistake(N_("broadcast error"), raised("ValueError", containing="broadcast"),
                hint=N_("for {input} your function gives {got}: a mean taken along an axis drops "
                        "that axis, and its shape no longer lines up with W. W.mean(axis=0, "
                        "keepdims=True) has shape (1, d) and lines up with every row.")),
        Mistake(N_("b not centred"), like(canonical_b_kept),
                hint=N_("for {input} your W is right but b comes back unchanged ({got}): adding the "
                        "same c to every bias changes nothing either, so the least-norm b is "
                        "b - b.mean().")),
        Mistake(N_("W not centred"), like(canonical_W_kept),
                hint=N_("for {input} your b is right but W comes back unchanged ({got}): subtract "
                        "from every row of W the mean row, W.mean(axis=0).")),
        Mistake(N_("a reference class, not the least norm"), _a_reference_class,
                hint=N_("for {input} you get {got}: you subtract one class's row (a reference "
                        "class). Those weights predict the same, but they are not the smallest: "
                        "the least-norm ones subtract the mean over the classes, W - W.mean(axis=0).")),
        Mistake(N_("sum instead of mean"), like(canonical_sum),
                hint=N_("for {input} you get {got}: subtract the mean over the classes, not the "
                        "sum: then the rows sum to zero.")),
        Mistake(N_("one mean for the whole array"), like(canonical_global_mean),
                hint=N_("for {input} you get {got}: W.mean() is one number, the mean of every "
                        "entry. Each feature (column) has its own mean over the classes: "
                        "W.mean(axis=0, keepdims=True).")),
        Mistake(N_("returned in the wrong order"), like(canonical_swapped),
                hint=N_("for {input} you return b first and W second ({got}): return W0, b0 in "
                        "this order.")),
    ),
))
