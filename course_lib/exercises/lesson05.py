"""Lesson 05, classification and calibration: ``cross_entropy``, ``expected_calibration_error``
and ``fit_temperature``.

The tests carry the lesson's traps: logits past exp's range (a log-sum-exp without the max trick
or a log of a softmax breaks there), confidences of exactly 1.0 (which a bin ``[a, b)`` loses),
examples whose true class is not the predicted one (confidence is max p, not p[y]), and planted
temperatures far from 1 (3, 0.5, 40), which a fit by accuracy, a multiplied temperature or a
coarse or narrow grid cannot recover. "Fitted on the test split" cannot be seen from a function
of ``(z, y)`` alone, so it is taught in the lesson, not diagnosed here.
"""

from __future__ import annotations

import numpy as np

from .. import calibration as cal
from .. import classification as cls
from .. import softmax as sm
from ..grading.exercise import Case, Exercise, Mistake
from ..i18n import N_
from .mistakes import FLOAT32, global_max, broken, common, like, raised, resembles
from ..grading.registry import register

__all__ = ["CROSS_ENTROPY", "EXPECTED_CALIBRATION_ERROR", "FIT_TEMPERATURE"]


def _sampled_labels(p, rng):
    """One label per row of ``p``, drawn from that row (calibrated by construction)."""
    return (np.cumsum(p, axis=1) > rng.random((p.shape[0], 1))).argmax(axis=1)


# =================================================================================================
# cross_entropy(z, y)
# =================================================================================================
def ce_double_softmax(z, y):
    return cls.cross_entropy(sm.softmax(np.asarray(z, dtype=float), axis=-1), y)


def ce_summed(z, y):
    return cls.cross_entropy(z, y) * np.shape(z)[0]


def ce_mean_over_classes(z, y):
    z = np.asarray(z, dtype=float)
    return cls.cross_entropy(z, y) / z.shape[-1]


def ce_no_minus(z, y):
    return -cls.cross_entropy(z, y)


def ce_global_max(z, y):
    z = np.asarray(z, dtype=float)
    m = z.max()
    log_p = (z - m) - np.log(np.exp(z - m).sum(axis=1, keepdims=True))
    return -np.mean(log_p[np.arange(len(y)), np.asarray(y)])


def ce_log_of_softmax(z, y):
    p = sm.softmax(np.asarray(z, dtype=float), axis=-1)
    return -np.mean(np.log(p[np.arange(len(y)), np.asarray(y)]))


def _any_of(*detectors):
    def detect(ev):
        for d in detectors:
            name = d(ev)
            if name is not None:
                return name
        return None

    return detect


def _ce_of(log_p_of):
    """The loss -mean log_p[n, y_n] with ``log_p_of(z, m)`` a wrong log-softmax (m: row maxes)."""
    def wrong(z, y):
        z = np.asarray(z, dtype=float)
        m = z.max(axis=1, keepdims=True)
        with np.errstate(all="ignore"):
            log_p = log_p_of(z, m)
        return -np.mean(log_p[np.arange(len(y)), np.asarray(y)])
    return wrong


def _lse(x, reduce=np.sum):
    return np.log(reduce(np.exp(x), axis=1, keepdims=True))


#: the max trick applied to one term of log p = (z - m) - log(sum(exp(z - m))) and not the
#: other, or with its sign flipped in one of them: log p comes out off by -2m, -m, m or 2m
ce_shift_first_term_dropped = _ce_of(lambda z, m: z - _lse(z - m))
ce_shift_in_log_dropped = _ce_of(lambda z, m: (z - m) - _lse(z))
ce_shift_added_first_term = _ce_of(lambda z, m: (z + m) - _lse(z - m))
ce_shift_added_in_log = _ce_of(lambda z, m: (z - m) - _lse(z + m))
ce_log_term_added = _ce_of(lambda z, m: (z - m) + _lse(z - m))
ce_mean_in_log = _ce_of(lambda z, m: (z - m) - _lse(z - m, np.mean))


def _log_of_softmax(ev):
    """+inf where a finite loss was expected, on a test where log_softmax is finite but a
    probability underflows to 0; and never nan or -inf (those point to no max trick)."""
    found = None
    for name in ev.names():
        v = ev.outcome(name).value
        if v is None or v.dtype.kind != "f":
            continue
        if np.isnan(v).any() or np.isneginf(v).any():
            return None
        if found is None and np.isposinf(v).any() and np.isfinite(ev.expected(name)).all():
            found = name
    return found


_Z3 = np.array([[1.0, 2.0, 3.0], [2.0, 0.5, -1.0], [0.0, 0.0, 4.0], [-2.0, 1.0, 1.5]])
_Y3 = np.array([2, 0, 1, 1])


def _hidden_ce(rng):
    cases = []
    for n, k, scale in ((5, 3, 1.0), (8, 10, 3.0), (3, 4, 10.0), (12, 6, 2.0)):
        cases.append(Case("", (rng.normal(0.0, scale, (n, k)), rng.integers(0, k, n))))
    big = rng.normal(0.0, 1.0, (4, 5))
    big[np.arange(4), rng.integers(0, 5, 4)] += float(rng.uniform(750.0, 900.0))
    cases.append(Case("", (big, rng.integers(0, 5, 4))))                       # exp overflows
    cases.append(Case("", (rng.normal(0.0, 1.0, (3, 4)) - float(rng.uniform(760.0, 900.0)),
                           rng.integers(0, 4, 3))))                              # exp underflows
    gap = np.zeros((3, 3))
    gap[:, 0] = rng.uniform(760.0, 900.0, 3)
    cases.append(Case("", (gap, np.array([1, 2, 0]))))                          # p_y underflows
    cases.append(Case("", (rng.integers(-4, 5, (4, 3)), rng.integers(0, 3, 4))))  # integers
    far = rng.normal(0.0, 1.0, (3, 4)) + np.array([[0.0], [-900.0], [900.0]])[rng.permutation(3)]
    cases.append(Case("", (far, rng.integers(0, 4, 3))))                         # rows far apart
    sure = rng.normal(0.0, 1.0, (3, 4))
    sure[:, 0] += rng.uniform(1500.0, 2000.0)                 # the true class far above the rest
    cases.append(Case("", (sure, np.zeros(3, dtype=int))))
    return cases


CROSS_ENTROPY = register(Exercise(
    name="cross_entropy",
    delegates=("course_lib.classification.cross_entropy", "course_lib.calibration.negative_log_likelihood"),
    lesson="05",
    params=("z", "y"),
    reference=lambda z, y: cls.cross_entropy(z, y),
    task=N_("cross_entropy(z, y): the mean cross-entropy of softmax(z) for integer labels y, "
            "computed from the logits z of shape (N, K)"),
    points=2.0,
    rtol=1e-7,
    atol=1e-12,
    public=(
        Case("seed_123", (np.array([[1.0, 2.0, 3.0]]), np.array([2])),
             shown="z = [[1, 2, 3]], y = [2]"),
        Case("batch", (_Z3, _Y3)),
        Case("uniform_10", (np.zeros((4, 10)), np.array([0, 3, 7, 9])),
             shown="z = np.zeros((4, 10)), y = [0, 3, 7, 9]"),
        Case("two_classes", (np.array([[3.0, -1.0], [0.5, 0.5], [-2.0, 2.0]]), np.array([1, 0, 1]))),
        Case("large", (np.array([[1000.0, 0.0, -1000.0], [0.0, 1.0, -5.0]]), np.array([0, 1]))),
        Case("very_negative", (np.array([[-1000.0, -1000.0, -1001.0], [-900.0, -901.0, -902.0]]),
                               np.array([2, 0]))),
        Case("tiny_probability", (np.array([[0.0, -800.0], [5.0, -5.0]]), np.array([1, 0]))),
        Case("confident_right", (np.array([[1500.0, 0.0, 0.0], [0.0, 0.0, 1500.0]]), np.array([0, 2]))),
        Case("float32", (_Z3.astype(np.float32), _Y3), rtol=1e-5, atol=1e-7),
        Case("int_logits", (np.array([[1, 2, 3], [3, 2, 1]]), np.array([2, 2])),
             shown=N_("z = np.array([[1, 2, 3], [3, 2, 1]]) (integers), y = [2, 2]")),
    ),
    hidden=_hidden_ce,
    mistakes=(common("cross_entropy(z, y)") + (FLOAT32,)) + (
        global_max(ce_global_max, supersedes=("no max trick", "log of softmax")),
        Mistake(N_("double softmax"), like(ce_double_softmax),
                N_("you apply softmax twice: for {input} your loss is {got}, the cross-entropy of "
                   "softmax(softmax(z)). z are logits: take log_softmax of z itself, "
                   "loss = mean(logsumexp(z) - z[n, y_n]). (For z = [[1, 2, 3]], y = [2] the right "
                   "loss is 0.4076, the double-softmax one 0.797.)")),
        Mistake(N_("summed, not averaged"), like(ce_summed),
                N_("for {input} your loss is {got}: the sum over the N examples, not the mean. "
                   "Divide by N (np.mean over the examples), so the loss does not grow with the "
                   "batch size.")),
        Mistake(N_("averaged over classes too"), like(ce_mean_over_classes),
                N_("for {input} your loss is {got}, K times too small: np.mean(onehot * log p) "
                   "averages over all N * K entries. Sum over the classes, then average over the "
                   "N examples: -np.mean(log_p[np.arange(N), y]).")),
        Mistake(N_("sign flipped"), like(ce_no_minus),
                N_("for {input} your loss is {got}, which is negative: the cross-entropy is "
                   "-log p_y, and log p_y <= 0, so the loss is >= 0. Put the minus sign in.")),
        Mistake(N_("shift in one term only"),
                _any_of(*map(like, (ce_shift_first_term_dropped, ce_shift_in_log_dropped,
                                    ce_shift_added_first_term, ce_shift_added_in_log))),
                N_("for {input} you get {got}: your log-probabilities are off by a multiple of "
                   "each row's max m. The max trick shifts both terms of log p = (z - m) - "
                   "log(sum(exp(z - m))) by the same m, which then cancels; shifting one term and "
                   "not the other (or adding m in one of them) leaves m in the result. It shows "
                   "on rows whose max is not 0."),
                supersedes=("no max trick",),
                more=N_("Write the shifted logits once, s = z - m, and use s in both places: "
                        "log p = s - log(sum(exp(s))) along the classes.")),
        Mistake(N_("log-sum-exp added"), like(ce_log_term_added),
                N_("for {input} you get {got}: you add the log of the sum of exponentials where it "
                   "must be subtracted. log p_y = (z_y - m) - log(sum(exp(z - m))): the log of the "
                   "normaliser is subtracted, so that every log p is <= 0."),
                more=N_("Check on z = [[0, 0]], y = [0]: p = 1/2, so the loss must be log 2 = "
                        "0.693.")),
        Mistake(N_("mean inside the log-sum-exp"), like(ce_mean_in_log),
                N_("for {input} you get {got}, log K too small: you take the log of the mean of "
                   "the exponentials over the K classes, not of their sum. The softmax divides by "
                   "the sum: log p = (z - m) - log(sum(exp(z - m)))."),
                more=N_("Use a sum over the classes inside the log; the mean belongs only to the "
                        "average over the N examples.")),
        Mistake(N_("log of softmax"), lambda ev: _log_of_softmax(ev) and like(ce_log_of_softmax)(ev),
                N_("for {input} your loss is {got}: you take np.log of a softmax, and a "
                   "probability whose logit is more than about 745 below its row's max is exactly "
                   "0 in float64 (the smallest positive float64 is about 4.9e-324); log(0) = -inf."),
                more=N_("Stay in the log domain (lesson 03's log_softmax): log p_y is z_y - m minus "
                        "the log of the sum of exp(z - m) over the row, with m the row's max."),
                supersedes=("no max trick",)),
        Mistake(N_("no max trick"), broken(),
                N_("for {input} your loss is {got}: exp overflows to inf above about 709, or every "
                   "exp of a row underflows to 0 and log(0) = -inf. Subtract each row's max first: "
                   "logsumexp(z) = m + log(sum(exp(z - m))).")),
    ),
))


# =================================================================================================
# expected_calibration_error(p, y, n_bins=15)
# =================================================================================================
def _bins_ece(conf, correct, idx, n_bins, total):
    ece = 0.0
    for b in range(n_bins):
        inside = idx == b
        if inside.any():
            ece += inside.sum() / total * abs(correct[inside].mean() - conf[inside].mean())
    return ece


def ece_last_edge_dropped(p, y, n_bins=15):
    """Bins [a, b): a confidence of exactly 1.0 falls in no bin (still counted in N)."""
    p = np.asarray(p, dtype=float)
    conf, correct = p.max(axis=1), (p.argmax(axis=1) == np.asarray(y)).astype(float)
    idx = np.floor(conf * n_bins).astype(int)  # conf = 1.0 -> n_bins: no such bin
    return _bins_ece(conf, correct, idx, n_bins, len(conf))


def ece_last_edge_dropped_kept_only(p, y, n_bins=15):
    """The same, averaged over the binned examples only."""
    p = np.asarray(p, dtype=float)
    conf, correct = p.max(axis=1), (p.argmax(axis=1) == np.asarray(y)).astype(float)
    idx = np.floor(conf * n_bins).astype(int)
    return _bins_ece(conf, correct, idx, n_bins, max(1, int((idx < n_bins).sum())))


def ece_last_edge_dropped_none_kept(p, y, n_bins=15):
    """The same, dividing by the number binned: nothing binned raises ZeroDivisionError."""
    p = np.asarray(p, dtype=float)
    conf = p.max(axis=1)
    if not np.any(np.floor(conf * n_bins) < n_bins):
        raise ZeroDivisionError("float division by zero")
    return ece_last_edge_dropped_kept_only(p, y, n_bins)


def ece_left_closed(p, y, n_bins=15):
    """Bins [a, b) with the last one closed: differs on confidences exactly on an edge."""
    p = np.asarray(p, dtype=float)
    conf, correct = p.max(axis=1), (p.argmax(axis=1) == np.asarray(y)).astype(float)
    idx = np.minimum(np.floor(conf * n_bins).astype(int), n_bins - 1)
    return _bins_ece(conf, correct, idx, n_bins, len(conf))


def _ece_loop(p, y, n_bins, inside):
    """The ECE with the bin test ``inside(conf, lo, hi)`` (and 0 in the first bin), weights
    |B_m| / N: a confidence in two bins counts twice, one in none not at all."""
    p = np.asarray(p, dtype=float)
    conf, correct = p.max(axis=1), (p.argmax(axis=1) == np.asarray(y)).astype(float)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    ece = 0.0
    for m in range(n_bins):
        in_bin = inside(conf, edges[m], edges[m + 1]) | ((conf == 0.0) if m == 0 else False)
        if in_bin.any():
            ece += in_bin.mean() * abs(correct[in_bin].mean() - conf[in_bin].mean())
    return ece


def ece_open_bins(p, y, n_bins=15):
    """Bins lo < conf < hi: a confidence on an edge, 1.0 included, falls in no bin."""
    return _ece_loop(p, y, n_bins, lambda c, lo, hi: (c > lo) & (c < hi))


def ece_closed_bins(p, y, n_bins=15):
    """Bins lo <= conf <= hi: a confidence on an inner edge falls in two bins."""
    return _ece_loop(p, y, n_bins, lambda c, lo, hi: (c >= lo) & (c <= hi))


def ece_true_class_confidence(p, y, n_bins=15):
    p = np.asarray(p, dtype=float)
    y = np.asarray(y)
    conf = p[np.arange(len(y)), y]  # p[y], not max p
    correct = (p.argmax(axis=1) == y).astype(float)
    idx = np.clip(np.searchsorted(np.linspace(0, 1, n_bins + 1), conf, side="left") - 1, 0,
                  n_bins - 1)
    return _bins_ece(conf, correct, idx, n_bins, len(conf))


def ece_unweighted(p, y, n_bins=15):
    b = cal.reliability_bins(p, y, n_bins=n_bins)
    full = b.counts > 0
    return float(np.mean(np.abs(b.accuracy[full] - b.confidence[full])))


def ece_signed(p, y, n_bins=15):
    b = cal.reliability_bins(p, y, n_bins=n_bins)
    full = b.counts > 0
    return float(np.sum(b.counts[full] * (b.accuracy[full] - b.confidence[full])) / b.counts.sum())


def ece_fixed_bins(p, y, n_bins=15):
    return cal.expected_calibration_error(p, y, n_bins=15)


def ece_half_as_correct(p, y, n_bins=15):
    """"Correct" when the true class gets at least 0.5, not when it is the argmax."""
    p = np.asarray(p, dtype=float)
    y = np.asarray(y)
    conf = p.max(axis=1)
    correct = (p[np.arange(len(y)), y] >= 0.5).astype(float)
    idx = np.clip(np.searchsorted(np.linspace(0, 1, n_bins + 1), conf, side="left") - 1, 0,
                  n_bins - 1)
    return _bins_ece(conf, correct, idx, n_bins, len(conf))


def _with_confidence_one(f):
    """``f`` on tests where some confidence is exactly 1.0; it raises elsewhere (so that
    :func:`resembles` looks only at the tests where a dropped last edge shows)."""

    def g(p, y, n_bins=15):
        if not np.any(np.asarray(p, dtype=float).max(axis=1) == 1.0):
            raise ValueError("no confidence of exactly 1.0 in this test")
        return f(p, y, n_bins)

    return g


_BINNING = ("last bin drops confidence 1.0", "left-closed bins")


def _planted(rng, n, k, factor, scale=1.0):
    z = rng.normal(0.0, scale, (n, k))
    y = _sampled_labels(sm.softmax(z), rng)
    return sm.softmax(factor * z), y


_P_ONE = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.2, 0.5, 0.3],
                   [0.1, 0.05, 0.85], [1.0, 0.0, 0.0]])
_Y_ONE = np.array([0, 1, 0, 1, 2, 1])
_P_EDGES = np.array([[0.75, 0.25], [0.5, 0.5], [0.25, 0.75], [0.9, 0.1], [0.75, 0.25],
                     [0.6, 0.4]])
_Y_EDGES = np.array([0, 1, 1, 1, 1, 0])
_P_WRONG = np.array([[0.7, 0.2, 0.1], [0.1, 0.62, 0.28], [0.45, 0.1, 0.45], [0.05, 0.05, 0.9],
                     [0.29, 0.42, 0.29]])
_Y_WRONG = np.array([1, 2, 0, 2, 0])
_R = np.random.default_rng(505)
_P_OVER, _Y_OVER = _planted(_R, 300, 10, 3.0)
_P_RAND, _Y_RAND = _planted(_R, 60, 5, 1.0, scale=2.0)


def _hidden_ece(rng):
    cases = []
    for n, k, factor, bins in ((200, 10, 3.0, 15), (150, 4, 1.0, 15), (80, 5, 0.5, 10),
                               (120, 3, 2.0, 5)):
        p, y = _planted(rng, n, k, factor, scale=float(rng.uniform(0.8, 2.0)))
        cases.append(Case("", (p, y), {"n_bins": bins} if bins != 15 else {}))
    hard = np.eye(4)[rng.integers(0, 4, 6)]                                     # confidence 1.0
    soft = sm.softmax(rng.normal(0.0, 1.0, (6, 4)))
    cases.append(Case("", (np.vstack([hard, soft]), rng.integers(0, 4, 12))))
    # confidences on the edges of 4 bins: 0.75, right (underconfident), shares a bin (0.5, 0.75]
    # with nothing, while the 0.9s above it are wrong: a bin [0.75, 1) would mix the two
    n1, n2, n3 = (int(v) for v in rng.integers(2, 6, 3))
    p = np.vstack([np.tile([0.75, 0.25], (n1, 1)), np.tile([0.1, 0.9], (n2, 1)),
                   np.tile([0.5, 0.5], (n3, 1))])
    y = np.concatenate([np.zeros(n1, int), np.zeros(n2, int), rng.integers(0, 2, n3)])
    order = rng.permutation(len(y))
    cases.append(Case("", (p[order], y[order]), {"n_bins": 4}))
    return cases


#: The first public cases of both calibration errors (ECE and MCE): two bins of two examples,
#: and a perfectly calibrated one-hot batch.
_CALIBRATION_BASICS = (
    Case("two_bins", (np.array([[0.9, 0.1], [0.9, 0.1], [0.15, 0.85], [0.15, 0.85]]),
                      np.array([0, 0, 1, 0]))),
    Case("perfect", (np.eye(3)[[0, 1, 2, 1]], np.array([0, 1, 2, 1])),
         shown=N_("p = np.eye(3)[[0, 1, 2, 1]] (one-hot), y = [0, 1, 2, 1]")),
)


EXPECTED_CALIBRATION_ERROR = register(Exercise(
    name="expected_calibration_error",
    delegates=("course_lib.calibration.expected_calibration_error", "course_lib.calibration.reliability_bins"),
    lesson="05",
    params=("p", "y"),
    reference=lambda p, y, n_bins=15: cal.expected_calibration_error(p, y, n_bins=n_bins),
    task=N_("expected_calibration_error(p, y, n_bins=15): Guo et al.'s ECE with equal-width, "
            "right-closed bins on the confidence max(p)"),
    points=2.0,
    rtol=1e-9,
    atol=1e-12,
    public=(
        *_CALIBRATION_BASICS,
        Case("confidence_one", (_P_ONE, _Y_ONE),
             shown="p = [[1, 0, 0], [0, 1, 0], [0, 0, 1], [0.2, 0.5, 0.3], [0.1, 0.05, 0.85], "
                   "[1, 0, 0]], y = [0, 1, 0, 1, 2, 1]"),
        Case("edges_4_bins", (_P_EDGES, _Y_EDGES), {"n_bins": 4}),
        Case("wrong_predictions", (_P_WRONG, _Y_WRONG)),
        Case("overconfident", (_P_OVER, _Y_OVER),
             shown=N_("p = softmax(3 z) for 300 examples, 10 classes, labels drawn from softmax(z)")),
        Case("random_10_bins", (_P_RAND, _Y_RAND), {"n_bins": 10},
             shown=N_("p: 60 examples, 5 classes (labels drawn from p), n_bins = 10")),
        Case("lists", ([[0.65, 0.35], [0.3, 0.7], [0.95, 0.05]], [0, 0, 0])),
    ),
    hidden=_hidden_ece,
    # no integer or in-place traps here: p is read, never written, and integer p is unusual
    mistakes=common("expected_calibration_error(p, y, n_bins=15)")[:3] + (
        Mistake(N_("last bin drops confidence 1.0"),
                _any_of(like(ece_last_edge_dropped), like(ece_last_edge_dropped_kept_only),
                        like(ece_last_edge_dropped_none_kept), like(ece_open_bins)),
                N_("for {input} you get {got}: examples with confidence exactly 1.0 fall in no bin. "
                   "With floor(conf * n_bins) they get index n_bins, one past the last bin; with "
                   "lo <= conf < hi the last bin stops short of 1. Use right-closed bins "
                   "lo < conf <= hi, the first one also taking 0 (or clip the index to n_bins - 1)."),
                supersedes=("left-closed bins",)),
        Mistake(N_("left-closed bins"), like(ece_left_closed),
                N_("for {input} you get {got}: a confidence exactly on a bin edge (0.5, 0.75 with 4 "
                   "bins) lands in the bin above it. Guo et al.'s bins are right-closed, "
                   "((m - 1)/M, m/M]: 0.75 belongs to (0.5, 0.75]. Use lo < conf <= hi, or "
                   "np.searchsorted(edges, conf, side='left') - 1.")),
        Mistake(N_("bins closed on both sides"), like(ece_closed_bins),
                N_("for {input} you get {got}: a confidence exactly on an inner edge (0.5 or 0.75 "
                   "with 4 bins) is counted in two bins, so the bin weights |B_m| / N add up to "
                   "more than 1. Each confidence must fall in exactly one bin."),
                supersedes=_BINNING,
                more=N_("Make the bins right-closed, lo < conf <= hi: the test is strict on the "
                        "left and not on the right (the first bin also takes a confidence of 0).")),
        Mistake(N_("confidence of the true class"), like(ece_true_class_confidence),
                N_("for {input} you get {got}: your confidence is p[n, y_n], the probability of the "
                   "true class. The confidence is what the model claims for its own prediction: "
                   "conf = p.max(axis=1), with prediction p.argmax(axis=1)."),
                supersedes=_BINNING),
        Mistake(N_("correct means p[y] >= 0.5"), like(ece_half_as_correct),
                N_("for {input} you get {got}: you count an example as correct when its true class "
                   "gets at least 0.5. With three or more classes a prediction is right whenever "
                   "the true class has the largest probability, which can be 0.4 when no class "
                   "reaches 0.5: accuracy is about the prediction, the class the model would pick."),
                supersedes=_BINNING,
                more=N_("Correct means the argmax of the row is the label: compare p.argmax(axis=1) "
                        "with y.")),
        Mistake(N_("unweighted mean of bins"), like(ece_unweighted),
                N_("for {input} you get {got}: a plain mean of |accuracy - confidence| over the "
                   "bins, so a bin of 1 example counts as much as a bin of 1000. Weight each gap by "
                   "the share of examples in its bin, |B_m| / N."),
                supersedes=_BINNING),
        Mistake(N_("signed gaps"), like(ece_signed),
                N_("for {input} you get {got}: overconfident and underconfident bins cancel. The "
                   "ECE adds the absolute gaps |acc(B_m) - conf(B_m)|."),
                supersedes=_BINNING),
        Mistake(N_("n_bins ignored"), like(ece_fixed_bins),
                N_("for {input} you get {got}: the same as with 15 bins. Use the n_bins argument "
                   "for the number of bins."),
                supersedes=_BINNING),
    ),
))


# =================================================================================================
# fit_temperature(z, y)
# =================================================================================================
def _maps_to_expected(transform, rtol=1e-2):
    """Detect outcomes that, once transformed, agree with the expected value on every test."""

    def detect(ev):
        evidence = None
        for name in ev.names():
            o, expected = ev.outcome(name), np.asarray(ev.expected(name), dtype=float)
            v = o.value
            if v is None or v.shape != expected.shape or v.dtype.kind not in "iuf":
                return None
            with np.errstate(all="ignore"):
                t = transform(v.astype(float))
            if not np.all(np.isfinite(t)) or not np.allclose(t, expected, rtol=rtol, atol=0):
                return None
            if evidence is None and not ev.right(name):
                evidence = name
        return evidence

    return detect


def _same_for_every_input(ev):
    """Every test returns the same number, though the right temperatures differ."""
    values, expected, evidence = [], [], None
    for name in ev.names():
        v = ev.outcome(name).value
        if v is None or v.size != 1 or v.dtype.kind not in "iuf":
            return None
        if not np.isfinite(v).all():
            return None
        values.append(float(v.ravel()[0]))
        expected.append(float(np.ravel(ev.expected(name))[0]))
        if evidence is None and not ev.right(name):
            evidence = name
    if len(values) < 3 or np.ptp(expected) == 0 or np.ptp(values) > 1e-9 * max(1.0, abs(values[0])):
        return None
    return evidence


def _roughly_right(ev):
    """Within a few percent on every test, but not to the tolerance: a coarse search."""
    evidence = None
    for name in ev.names():
        v = ev.outcome(name).value
        expected = float(np.ravel(ev.expected(name))[0])
        if v is None or v.size != 1 or v.dtype.kind not in "iuf":
            return None
        if not np.isfinite(v).all() or abs(float(v.ravel()[0]) - expected) > 0.1 * expected:
            return None
        if evidence is None and not ev.right(name):
            evidence = name
    return evidence


def _range_too_narrow(ev):
    """Right where the temperature is moderate, wrong where it is far from 1."""
    evidence = None
    for name in ev.names():
        expected = float(np.ravel(ev.expected(name))[0])
        if 0.2 <= expected <= 5.0:
            if not ev.right(name):
                return None
        elif evidence is None and not ev.right(name):
            evidence = name
    return evidence


def _scalar(ev, name):
    """The number a test returned, or None when it returned anything else (or raised)."""
    v = ev.outcome(name).value
    if v is None or v.size != 1 or v.dtype.kind not in "iuf":
        return None
    return float(v.ravel()[0])


def _not_positive(ev):
    """A test returned nan, an infinity, zero or a negative number: no temperature."""
    for name in ev.names():
        v = _scalar(ev, name)
        if v is not None and not (np.isfinite(v) and v > 0):
            return name
    return None


def _clipped(transform=lambda v: v, rtol=1e-2, min_agree=2, min_clipped=2):
    """Detect outcomes that, once transformed, are the expected temperature clipped to a range:
    right (to ``rtol``) on at least ``min_agree`` tests, and on the others (at least
    ``min_clipped``) the same end value (the smallest or largest of them) where the right
    temperature lies beyond it."""

    def detect(ev):
        got, expected, names = [], [], list(ev.names())
        for name in names:
            v = _scalar(ev, name)
            if v is None:
                return None
            with np.errstate(all="ignore"):
                t = float(transform(v))
            if not np.isfinite(t):
                return None
            got.append(t)
            expected.append(float(np.ravel(ev.expected(name))[0]))
        low, high = min(got), max(got)
        agree, clipped, shown = [], [], None
        for name, t, e in zip(names, got, expected):
            if np.isclose(t, e, rtol=rtol, atol=0):
                agree.append(name)
            elif (np.isclose(t, low, rtol=1e-9, atol=0) and e < low) or \
                    (np.isclose(t, high, rtol=1e-9, atol=0) and e > high):
                clipped.append(name)
            else:
                return None
        if len(agree) < min_agree or len(clipped) < min_clipped:
            return None
        # the evidence shown: a clipped test (the range's end), or with a transform one where
        # the transformed value agrees (the plainest sign of the transform)
        order = agree + clipped if min_clipped == 0 else clipped + agree
        return next((name for name in order if not ev.right(name)), None)

    return detect


def _mean_nll(z, y, t):
    s = np.asarray(z, dtype=float) / t
    m = s.max(axis=1, keepdims=True)
    log_p = s - m - np.log(np.exp(s - m).sum(axis=1, keepdims=True))
    return -float(np.mean(log_p[np.arange(len(y)), np.asarray(y)]))


def _not_the_minimum(ev):
    """Every test returned a positive number, and on a wrong one the mean NLL at that T is
    higher than at the right T: what came back is not where the NLL is lowest."""
    evidence = None
    for name in ev.names():
        v = _scalar(ev, name)
        if v is None or not (np.isfinite(v) and v > 0):
            return None
        if evidence is None and not ev.right(name):
            z, y = ev.cases[name].args[:2]
            best = _mean_nll(z, y, float(np.ravel(ev.expected(name))[0]))
            if _mean_nll(z, y, v) > best + 1e-9 * max(1.0, abs(best)):
                evidence = name
    return evidence


def _temperature_case(rng, n, k, planted, scale=1.0):
    z = rng.normal(0.0, scale, (n, k))
    return planted * z, _sampled_labels(sm.softmax(z), rng)


_T = np.random.default_rng(2017)
_Z_T3, _Y_T3 = _temperature_case(_T, 1500, 5, 3.0)
_Z_HALF, _Y_HALF = _temperature_case(_T, 1500, 10, 0.5, scale=2.0)
_Z_ONE, _Y_ONE_T = _temperature_case(_T, 1000, 4, 1.0, scale=1.5)
_Z_40, _Y_40 = _temperature_case(_T, 800, 3, 40.0)
_Z_BIN, _Y_BIN = _temperature_case(_T, 600, 2, 2.0, scale=2.0)
_Z_SMALL = np.array([[2.0, 0.0, 0.0], [0.0, 1.0, 0.0], [1.0, 0.0, 3.0], [0.0, 2.0, 1.0],
                     [1.0, 1.5, 0.0], [3.0, 0.0, 1.0]])
_Y_SMALL = np.array([0, 1, 2, 2, 0, 1])
_Z_INT = np.array([[3, 0, 1], [0, 2, 0], [1, 0, 4], [2, 2, 0], [0, 1, 3], [4, 0, 0]])
_Y_INT = np.array([0, 1, 2, 0, 1, 0])


def _hidden_temperature(rng):
    cases = []
    for planted, n, k in ((float(np.exp(rng.uniform(np.log(1.5), np.log(4.0)))), 1200, 5),
                          (float(np.exp(rng.uniform(np.log(0.3), np.log(0.7)))), 1000, 8),
                          (float(rng.uniform(0.9, 1.1)), 800, 3),
                          (float(rng.uniform(20.0, 60.0)), 600, 4),
                          (float(rng.uniform(1.5, 3.0)), 500, 2)):
        z, y = _temperature_case(rng, n, k, planted, scale=float(rng.uniform(1.0, 2.0)))
        cases.append(Case("", (z, y)))
    z = rng.integers(-3, 4, (40, 3))
    y = np.where(rng.random(40) < 0.7, z.argmax(axis=1), rng.integers(0, 3, 40))  # integers
    cases.append(Case("", (z, y)))
    return cases


FIT_TEMPERATURE = register(Exercise(
    name="fit_temperature",
    lesson="05",
    params=("z", "y"),
    reference=lambda z, y: cal.fit_temperature(z, y),
    task=N_("fit_temperature(z, y): the T > 0 minimising the mean NLL of softmax(z / T), to a "
            "relative accuracy of 1e-3"),
    points=2.0,
    rtol=1e-3,
    atol=0.0,
    public=(
        Case("planted_3", (_Z_T3, _Y_T3),
             shown=N_("z = 3 z0 for 1500 examples, 5 classes, labels drawn from softmax(z0)")),
        Case("planted_half", (_Z_HALF, _Y_HALF),
             shown=N_("z = z0 / 2 for 1500 examples, 10 classes, labels drawn from softmax(z0)")),
        Case("calibrated", (_Z_ONE, _Y_ONE_T),
             shown=N_("z = z0 for 1000 examples, 4 classes, labels drawn from softmax(z0)")),
        Case("planted_40", (_Z_40, _Y_40),
             shown=N_("z = 40 z0 for 800 examples, 3 classes, labels drawn from softmax(z0)")),
        Case("two_classes", (_Z_BIN, _Y_BIN),
             shown=N_("z = 2 z0 for 600 examples, 2 classes, labels drawn from softmax(z0)")),
        Case("small", (_Z_SMALL, _Y_SMALL)),
        Case("int_logits", (_Z_INT, _Y_INT),
             shown=N_("z = np.array([[3, 0, 1], [0, 2, 0], ...]) (integers, 6 x 3), "
                      "y = [0, 1, 2, 0, 1, 0]")),
    ),
    hidden=_hidden_temperature,
    # a float32 computation is accurate enough for a temperature to 1e-3: not a mistake here
    mistakes=tuple(m for m in common("fit_temperature(z, y)") if m.name != "computes in float32") + (
        Mistake(N_("temperature multiplied"), _maps_to_expected(lambda t: 1.0 / t),
                N_("for {input} you return {got}, the inverse of the right temperature: you scale "
                   "the logits by z * T. The temperature divides: p = softmax(z / T), so T > 1 "
                   "flattens the probabilities."),
                supersedes=("NLL not at its minimum",)),
        Mistake(N_("returns log T"), _maps_to_expected(np.exp),
                N_("for {input} you return {got}, the logarithm of the right temperature. Searching "
                   "over log T is a good idea; return T = exp(log T) at the end."),
                supersedes=("not a positive temperature", "NLL not at its minimum")),
        Mistake(N_("same temperature for every input"), _same_for_every_input,
                N_("you return {got} whatever the data, though the right temperatures of these "
                   "tests differ (about 3, 0.5 and 40 for the first ones): your search never "
                   "responds to the data. Either the score it minimises does not depend on T "
                   "(accuracy does not: the argmax of z / T is the same for every T > 0), or the "
                   "search does not run, or it runs to one end of its range."),
                more=N_("Print your score at T = 0.5, 1 and 2 on one test: it must change. Score T "
                        "by the mean negative log-likelihood of softmax(z / T), and check that "
                        "each step of the search moves towards the lower score."),
                supersedes=("not a positive temperature", "NLL not at its minimum")),
        Mistake(N_("search range too narrow"), lambda ev: _range_too_narrow(ev) or _clipped()(ev),
                N_("for {input} you return {got}: the best temperature there is outside the range "
                   "you search, so your search stops at its end. Search log T over a wide range "
                   "(say T from 1e-3 to 1e3), or expand the bracket until the NLL rises on both "
                   "sides."),
                supersedes=("NLL not at its minimum",),
                more=N_("Print the two ends of your range as temperatures (exp of the ends if you "
                        "search over log T): the right temperatures of these tests run from about "
                        "0.5 to 40, and every one must lie inside. The end of a log range is "
                        "np.log of a temperature, not np.exp of one.")),
        Mistake(N_("not precise enough"), _roughly_right,
                N_("for {input} you return {got}: close, but not within 0.1 %. A coarse grid "
                   "cannot do better than its step; refine around the best point (golden-section "
                   "search on log T), or solve d NLL / dT = 0 by bisection."),
                supersedes=("search range too narrow", "NLL not at its minimum")),
        Mistake(N_("score and returned T differ"),
                lambda ev: (_clipped(np.log, min_agree=3, min_clipped=0)(ev)
                            or _clipped(lambda v: np.log(np.log(v)), min_agree=3, min_clipped=0)(ev)),
                N_("for {input} you return {got}, which is exp of what the right temperature would "
                   "be (or exp of exp of it), up to the end of your range: the score your search "
                   "minimises divides the logits by something other than the T you return. If you "
                   "search over s = log T, the score must use T = exp(s), the number you return."),
                supersedes=("search range too narrow", "NLL not at its minimum"),
                more=N_("Write the score as a function of s that computes T = exp(s) first and "
                        "then the mean NLL of softmax(z / T); return exp of the best s. Dividing "
                        "by s itself (or by log s) makes the best s the right T, and exp of it "
                        "is what comes back.")),
        Mistake(N_("not a positive temperature"), _not_positive,
                N_("for {input} you return {got}, which is not a temperature: T must be a finite "
                   "number above 0. A nan comes from a search that leaves its range or starts "
                   "from an infinite one (exp of a large number is inf, and inf - inf is nan), or "
                   "from a score that is nan itself (an NLL computed without the max trick, for "
                   "large logits); a negative number from returning a log."),
                more=N_("Print lo, hi and the two inner points at each step of your search: they "
                        "must stay finite and nested, lo < a < b < hi, with the interval "
                        "shrinking. The golden-section factor is (sqrt(5) - 1) / 2 = 0.618, below "
                        "1, and the answer is exp of the middle of the final log interval.")),
        Mistake(N_("score returns None"), raised("TypeError", containing="NoneType"),
                N_("for {input} your code stopped with {got}: a value that should be a number is "
                   "None. The "
                   "likely cause is a helper (the function that scores a temperature) that "
                   "computes the NLL but has no `return`, so it gives None, and comparing two "
                   "scores fails."),
                more=N_("Call your scoring function on its own, for one temperature, and print "
                        "what it gives: it must be a number. End it with a `return` of the mean "
                        "NLL.")),
        Mistake(N_("NLL not at its minimum"), _not_the_minimum,
                N_("for {input} you return {got}, but the mean NLL of softmax(z / T) is lower at "
                   "the right temperature: your search does not end at the NLL's minimum. Either "
                   "what it minimises is not the NLL, or its steps lose the minimum (an update of "
                   "the bracket with the wrong sign, an inner point outside [lo, hi])."),
                more=N_("Print the NLL at your T and at T * 1.01 and T / 1.01: at the minimum "
                        "both are higher. Then follow the search on this input: after each step "
                        "the minimum must still be inside [lo, hi] (if NLL(a) < NLL(b) it is in "
                        "[lo, b], otherwise in [a, hi]), and the inner points must lie inside the "
                        "interval.")),
    ),
))


# =================================================================================================
# maximum_calibration_error(p, y, n_bins=15)   (appended for issue 18: lesson 05, section 4)
# =================================================================================================
# The bins are exercise 2's; the traps are the MCE's own: the worst bin is a small one (so a max
# of count-weighted gaps, or the ECE's sum, lands elsewhere), an underconfident one (so a max of
# conf - acc misses it), and bins left empty (whose accuracy 0/0 = nan must be skipped, not
# allowed to turn the max into nan). This block defines its own data and wrong implementations,
# so that it stands apart from the ECE exercise above.
__all__ += ["MAXIMUM_CALIBRATION_ERROR"]


def _mce_bins(p, y, n_bins, *, closed="right", confidence="max"):
    """Per-bin (count, accuracy, mean confidence) with one binning detail changed."""
    p = np.asarray(p, dtype=float)
    y = np.asarray(y)
    conf = p.max(axis=1) if confidence == "max" else p[np.arange(len(y)), y]
    correct = (p.argmax(axis=1) == y).astype(float)
    if closed == "right":
        idx = np.clip(np.searchsorted(np.linspace(0, 1, n_bins + 1), conf, side="left") - 1, 0,
                      n_bins - 1)
    elif closed == "left":                               # [a, b), the last bin closed
        idx = np.minimum(np.floor(conf * n_bins).astype(int), n_bins - 1)
    else:                                                # [a, b): confidence 1.0 in no bin
        idx = np.floor(conf * n_bins).astype(int)
    counts = np.array([np.sum(idx == b) for b in range(n_bins)])
    with np.errstate(invalid="ignore"):
        acc = np.array([correct[idx == b].mean() if counts[b] else np.nan for b in range(n_bins)])
        mean_conf = np.array([conf[idx == b].mean() if counts[b] else np.nan for b in range(n_bins)])
    return counts, acc, mean_conf


def _max_gap(counts, acc, conf, *, signed=False, weighted=False):
    full = counts > 0
    gap = (conf - acc)[full] if signed else np.abs(acc - conf)[full]
    if weighted:
        gap = gap * counts[full] / counts.sum()
    return float(np.max(gap))


def mce_last_edge_dropped(p, y, n_bins=15):
    return _max_gap(*_mce_bins(p, y, n_bins, closed="none"))


def mce_open_bins(p, y, n_bins=15):
    """Bins lo < conf < hi: a confidence on an edge, 1.0 included, falls in no bin."""
    p = np.asarray(p, dtype=float)
    conf, correct = p.max(axis=1), (p.argmax(axis=1) == np.asarray(y)).astype(float)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    gaps = [abs(correct[b].mean() - conf[b].mean())
            for b in ((conf > lo) & (conf < hi) for lo, hi in zip(edges[:-1], edges[1:])) if b.any()]
    return max(gaps)


def mce_left_closed(p, y, n_bins=15):
    return _max_gap(*_mce_bins(p, y, n_bins, closed="left"))


def mce_true_class_confidence(p, y, n_bins=15):
    return _max_gap(*_mce_bins(p, y, n_bins, confidence="true"))


def mce_weighted(p, y, n_bins=15):
    return _max_gap(*_mce_bins(p, y, n_bins), weighted=True)


def mce_overconfidence_only(p, y, n_bins=15):
    return _max_gap(*_mce_bins(p, y, n_bins), signed=True)


def mce_empty_bins_nan(p, y, n_bins=15):
    counts, acc, conf = _mce_bins(p, y, n_bins)
    return float(np.max(np.abs(acc - conf)))           # nan as soon as one bin is empty


def mce_fixed_bins(p, y, n_bins=15):
    return cal.maximum_calibration_error(p, y, n_bins=15)


def mce_is_the_ece(p, y, n_bins=15):
    return cal.expected_calibration_error(p, y, n_bins=n_bins)


def _mce_planted(rng, n, k, factor, scale=1.0):
    """softmax(factor * z) for labels drawn from softmax(z): miscalibrated by a known factor."""
    z = rng.normal(0.0, scale, (n, k))
    y = (np.cumsum(sm.softmax(z), axis=1) > rng.random((n, 1))).argmax(axis=1)
    return sm.softmax(factor * z), y


# the worst bin is small and underconfident: one image right at confidence 0.3 (gap 0.7), nine at
# 0.95 of which seven are right (gap 0.17, but 9/10 of the weight)
_P_SMALL_WORST = np.array([[0.3, 0.25, 0.25, 0.2]] + [[0.95, 0.02, 0.02, 0.01]] * 9)
_Y_SMALL_WORST = np.array([0, 0, 0, 0, 0, 0, 0, 0, 1, 2])
_P_MCE_ONE = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.2, 0.5, 0.3],
                       [0.1, 0.05, 0.85], [0.9, 0.05, 0.05]])
_Y_MCE_ONE = np.array([1, 1, 0, 1, 2, 0])             # two of the three certain ones are wrong
_P_MCE_EDGES = np.array([[0.75, 0.25], [0.5, 0.5], [0.25, 0.75], [0.75, 0.25], [0.6, 0.4],
                         [0.5, 0.5]])
_Y_MCE_EDGES = np.array([1, 1, 1, 1, 0, 0])
_P_MCE_WRONG = np.array([[0.7, 0.2, 0.1], [0.1, 0.62, 0.28], [0.45, 0.1, 0.45],
                         [0.05, 0.05, 0.9], [0.29, 0.42, 0.29]])
_Y_MCE_WRONG = np.array([1, 2, 0, 2, 0])
_R_MCE = np.random.default_rng(1505)
_P_MCE_OVER, _Y_MCE_OVER = _mce_planted(_R_MCE, 300, 10, 3.0)
_P_MCE_UNDER, _Y_MCE_UNDER = _mce_planted(_R_MCE, 80, 5, 0.4, scale=3.0)
del _R_MCE


def _hidden_mce(rng):
    cases = []
    for n, k, factor, bins in ((200, 10, 3.0, 15), (150, 4, 1.0, 15), (80, 5, 0.4, 10),
                               (120, 3, 2.0, 5)):
        p, y = _mce_planted(rng, n, k, factor, scale=float(rng.uniform(1.0, 3.0)))
        cases.append(Case("", (p, y), {"n_bins": bins} if bins != 15 else {}))
    hard = np.eye(4)[rng.integers(0, 4, 6)]                          # confidence 1.0, labels
    soft = sm.softmax(rng.normal(0.0, 1.0, (6, 4)))                   # random: some are wrong
    cases.append(Case("", (np.vstack([hard, soft]), rng.integers(0, 4, 12))))
    # a small underconfident bin that is the worst, next to a large, slightly overconfident one
    n_big = int(rng.integers(8, 15))
    low = float(rng.uniform(0.28, 0.4))
    p = np.vstack([[low, 1 - low], *([[0.93, 0.07]] * n_big)])
    y = np.concatenate([[0], (rng.random(n_big) < 0.75).astype(int)])
    y[1] = 0                                                            # at least one right
    order = rng.permutation(len(y))
    cases.append(Case("", (p[order], y[order])))
    # confidences on the edges of 4 bins
    n1, n2 = (int(v) for v in rng.integers(2, 6, 2))
    p = np.vstack([np.tile([0.75, 0.25], (n1, 1)), np.tile([0.5, 0.5], (n2, 1)), [[0.6, 0.4]]])
    y = np.concatenate([rng.integers(0, 2, n1), rng.integers(0, 2, n2), [1]])
    y[0] = 1
    cases.append(Case("", (p, y), {"n_bins": 4}))
    return cases


_MCE_BINNING = ("last bin drops confidence 1.0", "left-closed bins")

MAXIMUM_CALIBRATION_ERROR = register(Exercise(
    name="maximum_calibration_error",
    lesson="05",
    params=("p", "y"),
    reference=lambda p, y, n_bins=15: cal.maximum_calibration_error(p, y, n_bins=n_bins),
    task=N_("maximum_calibration_error(p, y, n_bins=15): the largest |accuracy - mean confidence| "
            "over the non-empty bins of the ECE (equal-width, right-closed, on max(p))"),
    points=2.0,
    rtol=1e-9,
    atol=1e-12,
    public=(
        *_CALIBRATION_BASICS,
        Case("small_bin_worst", (_P_SMALL_WORST, _Y_SMALL_WORST),
             shown=N_("p = [[0.3, 0.25, 0.25, 0.2]] + 9 rows [0.95, 0.02, 0.02, 0.01], "
                      "y = [0, 0, 0, 0, 0, 0, 0, 0, 1, 2]")),
        Case("confidence_one", (_P_MCE_ONE, _Y_MCE_ONE),
             shown="p = [[1, 0, 0], [0, 1, 0], [0, 0, 1], [0.2, 0.5, 0.3], [0.1, 0.05, 0.85], "
                   "[0.9, 0.05, 0.05]], y = [1, 1, 0, 1, 2, 0]"),
        Case("edges_4_bins", (_P_MCE_EDGES, _Y_MCE_EDGES), {"n_bins": 4}),
        Case("wrong_predictions", (_P_MCE_WRONG, _Y_MCE_WRONG)),
        Case("overconfident", (_P_MCE_OVER, _Y_MCE_OVER),
             shown=N_("p = softmax(3 z) for 300 examples, 10 classes, labels drawn from softmax(z)")),
        Case("underconfident_10_bins", (_P_MCE_UNDER, _Y_MCE_UNDER), {"n_bins": 10},
             shown=N_("p = softmax(0.4 z) for 80 examples, 5 classes, labels drawn from "
                      "softmax(z), n_bins = 10")),
        Case("lists", ([[0.65, 0.35], [0.3, 0.7], [0.95, 0.05]], [0, 0, 0])),
    ),
    hidden=_hidden_mce,
    mistakes=common("maximum_calibration_error(p, y, n_bins=15)")[:3] + (
        Mistake(N_("empty bins not skipped"), like(mce_empty_bins_nan),
                N_("for {input} you get {got}: an empty bin has no accuracy (0 / 0 = nan), and the "
                   "max of anything with a nan is nan. Take the max over the bins that hold at "
                   "least one example only.")),
        # agreement on every test, not on one: a mutant that is wrong on the edges for another
        # reason (bins indexed one off, a sum for a mean) agrees with these on one test at most
        Mistake(N_("last bin drops confidence 1.0"),
                _any_of(like(mce_last_edge_dropped), like(mce_open_bins)),
                N_("for {input} you get {got}: examples with confidence exactly 1.0 fall in no bin. "
                   "Use exercise 2's right-closed bins lo < conf <= hi, so that 1.0 is in the last "
                   "bin."),
                supersedes=("left-closed bins",)),
        Mistake(N_("left-closed bins"), like(mce_left_closed),
                N_("for {input} you get {got}: a confidence exactly on a bin edge (0.5, 0.75 with "
                   "4 bins) lands in the bin above it. The bins are right-closed, ((m - 1)/M, m/M]: "
                   "0.75 belongs to (0.5, 0.75].")),
        Mistake(N_("confidence of the true class"), like(mce_true_class_confidence),
                N_("for {input} you get {got}: your confidence is p[n, y_n], the probability of the "
                   "true class. The confidence is what the model claims for its own prediction: "
                   "conf = p.max(axis=1)."),
                supersedes=_MCE_BINNING),
        Mistake(N_("gaps weighted by the bin's share"), like(mce_weighted),
                N_("for {input} you get {got}: you weight each bin's gap by |B_m| / N, as the ECE "
                   "does. The MCE is the largest gap itself, whatever the size of its bin: a bin of "
                   "one example counts as much as a bin of a thousand (which is why the lesson "
                   "reads it with the bin counts)."),
                supersedes=_MCE_BINNING),
        Mistake(N_("overconfidence only"), like(mce_overconfidence_only),
                N_("for {input} you get {got}: you take the largest confidence - accuracy, so a "
                   "bin that is right more often than it claims (underconfident) never counts. The "
                   "MCE takes the largest absolute gap |accuracy - confidence|."),
                supersedes=_MCE_BINNING),
        Mistake(N_("the ECE instead of the max"), like(mce_is_the_ece),
                N_("for {input} you get {got}, the expected calibration error: a weighted sum of "
                   "the gaps. The MCE is their maximum over the non-empty bins."),
                supersedes=_MCE_BINNING),
        Mistake(N_("n_bins ignored"), like(mce_fixed_bins),
                N_("for {input} you get {got}: the same as with 15 bins. Use the n_bins argument "
                   "for the number of bins."),
                supersedes=_MCE_BINNING),
    ),
))
