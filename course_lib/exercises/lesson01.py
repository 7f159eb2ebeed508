"""Lesson 01, the definition: the exercise ``softmax`` (a softmax of a 1-D vector).

Its tests include large logits, because a softmax that overflows is the most common bug of all;
the hint then points ahead to lesson 03's max trick.
"""

from __future__ import annotations

import numpy as np

from .. import softmax as sm
from ..grading.exercise import Case, Exercise, Mistake
from ..i18n import N_
from .mistakes import FLOAT32, SOFTMAX_LIBRARY, broken, common, like, like_any, unnormalised
from ..grading.registry import register

__all__ = ["SOFTMAX", "MAX_TRICK_HINT", "MAX_TRICK_HINT_NAMING", "MAX_TRICK_MORE"]


def _np(*values, dtype=float):
    return np.array(values, dtype=dtype)


# --- known-wrong implementations the look-alike detectors compare against ---------------------
def shift_by_mean(z, axis=-1):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.mean(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def shift_by_min(z, axis=-1):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.min(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def hidden_vectors(rng):
    """Seeded random 1-D tests, with each trap of the public tests in a new disguise."""
    n = lambda: int(rng.integers(3, 10))  # noqa: E731
    spread = float(rng.uniform(760.0, 1000.0))
    return [
        Case("", (rng.normal(0.0, 1.0, n()),)),
        Case("", (rng.normal(0.0, 20.0, n()),)),
        Case("", (rng.normal(0.0, 2.0, n()) + 900.0,)),                      # exp overflows
        Case("", (rng.normal(0.0, 2.0, n()) - 900.0,)),                      # exp underflows
        Case("", (rng.permutation([spread, 0.5, -spread, 1.5]),)),           # mean or min shift
        Case("", (np.append(rng.normal(0.0, 1.0, 3), float(rng.uniform(720.0, 900.0))),)),
        Case("", (rng.integers(-5, 6, n()),)),                               # integers
        Case("", (rng.normal(0.0, 1.0, n()).astype(np.float32) + np.float32(92.0),),
             rtol=1e-5, atol=1e-7),                                          # float32 overflow
        Case("", (rng.normal(0.0, 3.0, 1),)),
    ]


MAX_TRICK_HINT = (
    N_("your softmax gives {got} for {input}: exp overflows to inf above about 709 (89 in "
       "float32) and underflows to 0 below about -745, and then inf/inf or 0/0 is nan. "
       "Subtract the largest logit first: softmax(z) = softmax(z - max(z)), so every exponent "
       "is at most 0 and the largest term is exactly 1 (lesson 03, the max trick).")
)
# The same hint for another function, named when its mistakes are made (lesson 02's
# axis mistakes): {function} comes from the Mistake's values, {input} and {got} from the check.
MAX_TRICK_HINT_NAMING = (
    N_("your {function} gives {got} for {input}: exp overflows to inf above about 709 (89 in "
       "float32) and underflows to 0 below about -745, and then inf/inf or 0/0 is nan. "
       "Subtract the largest logit first: softmax(z) = softmax(z - max(z)), so every exponent "
       "is at most 0 and the largest term is exactly 1 (lesson 03, the max trick).")
)
MAX_TRICK_MORE = (
    N_("Find m, the largest logit (along the axis, keeping it), and take exp of z - m instead of "
       "exp of z: the largest exponent is then exactly 0, no exp can overflow, and the sum is at "
       "least 1, so it is never 0.")
)


SOFTMAX = register(Exercise(
    name="softmax",
    delegates=SOFTMAX_LIBRARY,
    lesson="01",
    params=("z",),
    reference=lambda z: sm.softmax(z),
    task=N_("softmax(z) for a 1-D vector of logits z"),
    points=2.0,
    public=(
        Case("seed_123", ([1, 2, 3],), shown="z = [1, 2, 3]"),
        Case("uniform", ([2.0, 2.0, 2.0],)),
        Case("mixed_signs", (_np(5, 1, -2),)),
        Case("single", (_np(7),)),
        Case("int_array", (_np(1, 2, 3, dtype=np.int64),), shown=N_("z = np.array([1, 2, 3]) (integers)")),
        Case("large", (_np(1000, 0, 0),)),
        Case("very_negative", (_np(-1000, -1000, -1000),)),
        Case("spread", (_np(800, 0, -800),)),
        Case("float32_89", (_np(89, 0, 0, dtype=np.float32),), rtol=1e-6),
        Case("ten", (np.linspace(-3.0, 3.0, 10),), shown="z = np.linspace(-3, 3, 10)"),
    ),
    hidden=hidden_vectors,
    mistakes=(common("softmax(z)") + (FLOAT32,)) + (
        Mistake(N_("shift by the mean"), like(shift_by_mean),
                N_("you shift the logits by their mean, not their max: for {input} that leaves "
                   "exponents far above 709, and you get {got}. Any shift gives the same softmax on "
                   "paper, but only the max makes every exponent at most 0. Use z - z.max()."),
                supersedes=("no max trick",)),
        Mistake(N_("shift by the min"), like(shift_by_min),
                N_("you shift the logits by their min, not their max: that makes every exponent at "
                   "least 0, so exp overflows sooner (for {input} you get {got}). Use z - z.max()."),
                supersedes=("no max trick",)),
        Mistake(N_("no max trick"), broken(), MAX_TRICK_HINT, more=MAX_TRICK_MORE),
        Mistake(N_("not normalised"), unnormalised(),
                N_("for {input} your values have the right proportions but do not sum to 1: divide "
                   "the exponentials by their sum, p = e / e.sum().")),
    ),
))


# --- softmax_jacobian ----------------------------------------------------------------------------
# J = diag(p) - p p^T, p = softmax(z), for a 1-D z. The tests put the logits far from 0 (exp
# overflows or underflows there), and use vectors of distinct probabilities, so that a sign, a
# missing diagonal and a scalar in place of the outer product all show.


def _probs(z):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max())
    return e / e.sum()


def jacobian_plus_outer(z):
    p = _probs(z)
    return np.diag(p) + np.outer(p, p)


def jacobian_diagonal_only(z):
    p = _probs(z)
    return np.diag(p * (1.0 - p))


def jacobian_no_diag(z):
    p = _probs(z)
    return -np.outer(p, p)


def jacobian_diag_p_only(z):
    return np.diag(_probs(z))


def jacobian_elementwise(z):
    p = _probs(z)
    return np.diag(p) - p * p  # (K,) broadcast along each row: row i gets -p_j**2


def jacobian_dot(z):
    p = _probs(z)
    return np.diag(p) - p @ p  # a number, subtracted from every entry


def jacobian_of_logits(z):
    z = np.asarray(z, dtype=float)
    return np.diag(z) - np.outer(z, z)


def jacobian_unnormalised(z):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max())
    return np.diag(e) - np.outer(e, e)


def _hidden_jacobians(rng):
    n = lambda: int(rng.integers(3, 8))  # noqa: E731
    return [
        Case("", (rng.normal(0.0, 1.0, n()),)),
        Case("", (rng.normal(0.0, 3.0, n()),)),
        Case("", (rng.normal(0.0, 1.0, n()) + float(rng.uniform(800.0, 1000.0)),)),  # overflow
        Case("", (rng.normal(0.0, 1.0, n()) - float(rng.uniform(800.0, 1000.0)),)),  # underflow
        Case("", (rng.integers(-3, 4, n()),)),                                      # integers
        Case("", (rng.normal(0.0, 0.5, 2),)),
        Case("", (np.append(rng.normal(0.0, 1.0, 3), float(rng.uniform(1.0, 2.0))) * 2.0,)),
        Case("", (rng.permutation(np.append(rng.normal(0.0, 1.0, 2),
                                            -float(rng.uniform(2500.0, 4000.0)))),)),  # spread
    ]


SOFTMAX_JACOBIAN = register(Exercise(
    name="softmax_jacobian",
    lesson="01",
    params=("z",),
    reference=lambda z: sm.softmax_jacobian(z),
    task=N_("softmax_jacobian(z): the K x K matrix of the derivatives dp_i/dz_j of softmax at a "
            "1-D z, diag(p) - p p^T"),
    points=2.0,
    atol=1e-12,
    public=(
        Case("seed_123", ([1.0, 2.0, 3.0],), shown="z = [1, 2, 3]"),
        Case("two_equal", ([0.0, 0.0],)),
        Case("mixed_signs", (_np(5, 1, -2),)),
        Case("four", (_np(0.5, -1, 2, 0),)),
        Case("single", (_np(7),)),
        Case("int_array", (_np(1, 2, 3, dtype=np.int64),), shown=N_("z = np.array([1, 2, 3]) (integers)")),
        Case("large", (_np(1000, 1001, 1002),)),
        Case("very_negative", (_np(-1000, -1001, -999),)),
        Case("spread", (_np(0, 0.5, -2200),)),
    ),
    hidden=_hidden_jacobians,
    mistakes=common("softmax_jacobian(z)") + (
        Mistake(N_("plus instead of minus"), like(jacobian_plus_outer),
                hint=N_("for {input} you get {got}: you add the outer product p p^T instead of "
                        "subtracting it. Raising another class's logit takes probability away from "
                        "class i, so the off-diagonal entries -p_i p_j are negative and every row "
                        "sums to 0: J = diag(p) - p p^T.")),
        Mistake(N_("off-diagonal entries missing"), like(jacobian_diagonal_only),
                hint=N_("for {input} you return only the diagonal p_i (1 - p_i), {got}: the "
                        "entries off the diagonal, dp_i/dz_j = -p_i p_j, are missing. Build the "
                        "whole matrix: np.diag(p) - np.outer(p, p).")),
        Mistake(N_("diag(p) missing"), like(jacobian_no_diag),
                hint=N_("for {input} you get {got}, which is -p p^T alone: the quotient rule gives "
                        "p_i delta_ij - p_i p_j, so add diag(p) (np.diag(p)).")),
        Mistake(N_("outer product missing"), like(jacobian_diag_p_only),
                hint=N_("for {input} you get {got}, which is diag(p) alone: subtract the outer "
                        "product p p^T, the matrix of all p_i p_j (np.outer(p, p)).")),
        Mistake(N_("elementwise product instead of outer"), like(jacobian_elementwise),
                hint=N_("for {input} you get {got}: p * p is a vector of the p_j squared, which "
                        "numpy stretches along every row, not the matrix of all p_i p_j. Use "
                        "np.outer(p, p) (or p[:, None] * p[None, :]).")),
        Mistake(N_("dot product instead of outer"), like(jacobian_dot),
                hint=N_("for {input} you get {got}: p @ p is one number (the sum of the p_i "
                        "squared), subtracted from every entry. The matrix of all p_i p_j is the "
                        "outer product, np.outer(p, p).")),
        Mistake(N_("logits instead of probabilities"), like(jacobian_of_logits),
                hint=N_("for {input} you get {got}: the formula diag(p) - p p^T is in the "
                        "probabilities p = softmax(z), not in the logits z. Compute p first.")),
        Mistake(N_("not normalised"), like(jacobian_unnormalised),
                hint=N_("for {input} you get {got}: you use exp(z - max) without dividing by its "
                        "sum. p must be the softmax, which sums to 1.")),
        Mistake(N_("no max trick"), broken(),
                hint=N_("for {input} you get {got}: exp overflows to inf above about 709 and "
                        "underflows to 0 below about -745, and then inf/inf or 0/0 is nan. Compute "
                        "p with the max subtracted first, p = softmax(z - max(z)).")),
    ),
))


# --- two_class_softmax ---------------------------------------------------------------------------
# The probability of the first of two classes with logits a and b, elementwise over arrays:
# softmax(a, b)_1 = sigmoid(a - b). Entries of one array sit at very different scales, so that
# anything but a shift of each pair by its own max (or the difference a - b) breaks somewhere.


def _two_class(a, b):
    a, b = np.broadcast_arrays(np.asarray(a, dtype=float), np.asarray(b, dtype=float))
    return sm.softmax(np.stack([a, b], axis=-1), axis=-1)[..., 0]


def two_class_second(a, b):
    return _two_class(b, a)


def two_class_odds(a, b):
    return np.exp(np.asarray(a, dtype=float) - np.asarray(b, dtype=float))


def two_class_ignores_b(a, b):
    return _two_class(a, np.zeros_like(np.asarray(a, dtype=float)))


def two_class_both(a, b):
    p = _two_class(a, b)
    return np.stack([p, 1.0 - p], axis=-1)


def two_class_sum(a, b):
    return _two_class(np.asarray(a, dtype=float) + np.asarray(b, dtype=float), 0.0)


def _two_class_shifted(a, b, sa, sb, sign=1.0):
    """e^(a - sa m) / (e^(a - sa m) + sign e^(b - sb m)), m the larger of a and b: the max
    trick with each logit's shift (1, 0 or -1 times m) and the denominator's sign chosen."""
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    m = np.maximum(a, b)
    ea = np.exp(a - sa * m)
    eb = np.exp(b - sb * m)
    return ea / (ea + sign * eb)


def two_class_a_not_shifted(a, b):
    return _two_class_shifted(a, b, 0.0, 1.0)


def two_class_b_not_shifted(a, b):
    return _two_class_shifted(a, b, 1.0, 0.0)


def two_class_a_plus_max(a, b):
    return _two_class_shifted(a, b, -1.0, 1.0)


def two_class_b_plus_max(a, b):
    return _two_class_shifted(a, b, 1.0, -1.0)


def two_class_minus_in_denominator(a, b):
    return _two_class_shifted(a, b, 1.0, 1.0, sign=-1.0)


def _hidden_pairs(rng):
    n = lambda: int(rng.integers(3, 9))  # noqa: E731
    k = n()
    scales = rng.choice([-900.0, -300.0, 0.0, 300.0, 900.0], k)  # pairs far apart in one array
    signs = rng.permutation([1.0, -1.0, 1.0, -1.0])
    return [
        Case("", (rng.normal(0.0, 2.0, n()), float(rng.normal(0.0, 2.0)))),    # b a number
        Case("", tuple(rng.normal(0.0, 3.0, (2, 4)))),
        Case("", (rng.normal(0.0, 1.0, k) + scales, rng.normal(0.0, 1.0, k) + scales)),
        Case("", (rng.normal(0.0, 1.0, 5) + 950.0, rng.normal(0.0, 1.0, 5) + 950.0)),   # overflow
        Case("", (rng.normal(0.0, 1.0, 5) - 950.0, rng.normal(0.0, 1.0, 5) - 950.0)),   # underflow
        Case("", (rng.integers(-4, 5, 6), rng.integers(-4, 5, 6))),                     # integers
        Case("", (rng.normal(0.0, 1.0, (3, 3)), rng.normal(0.0, 1.0, (3, 3)))),
        Case("", (rng.uniform(750.0, 1000.0, 4) * signs, -rng.uniform(750.0, 1000.0, 4) * signs)),
    ]                                                             # |a - b| above 1500: huge


TWO_CLASS_SOFTMAX = register(Exercise(
    name="two_class_softmax",
    lesson="01",
    params=("a", "b"),
    reference=_two_class,
    task=N_("two_class_softmax(a, b): the probability of the first class, softmax(a, b)_1 = "
            "sigmoid(a - b), entry by entry for arrays of logits a and b"),
    points=2.0,
    public=(
        Case("scalars", (2.0, 1.0), shown="a = 2.0, b = 1.0"),
        Case("equal", (np.array([0.0, 3.0]), np.array([0.0, 3.0]))),
        Case("vectors", (np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.0, 2.0]))),
        Case("negative_difference", (np.array([-3.0, 0.5]), np.array([1.0, 4.0]))),
        Case("int_array", (np.array([1, 2, 3]), np.array([3, 2, 1])),
             shown=N_("a = np.array([1, 2, 3]), b = np.array([3, 2, 1]) (integers)")),
        Case("large", (np.array([1000.0, 1001.0]), np.array([999.0, 1001.0]))),
        Case("very_negative", (np.array([-1000.0, -1002.0]), np.array([-1001.0, -1000.0]))),
        Case("far_apart", (np.array([1000.0, 0.5, -1000.0]), np.array([1001.0, 0.0, -999.5]))),
        Case("spread", (np.array([800.0, -800.0]), np.array([-800.0, 800.0]))),
        Case("grid", (np.array([[0.0, 1.0], [2.0, -1.0]]), np.array([[1.0, 1.0], [0.0, 0.0]]))),
    ),
    hidden=_hidden_pairs,
    mistakes=common("two_class_softmax(a, b)") + (
        Mistake(N_("probability of the second class"), like(two_class_second),
                hint=N_("for {input} you get {got}, the probability of the *second* class: "
                        "softmax(a, b)_1 = e^a / (e^a + e^b) = sigmoid(a - b), the difference a "
                        "minus b; sigmoid(b - a) is 1 minus it.")),
        Mistake(N_("odds instead of probability"), like(two_class_odds),
                hint=N_("for {input} you get {got}, which is e^(a - b) = p_1 / p_2, the odds, not "
                        "a probability (it can exceed 1). The probability is "
                        "1 / (1 + e^-(a - b)) = sigmoid(a - b).")),
        Mistake(N_("ignores b"), like(two_class_ignores_b),
                hint=N_("for {input} you get {got}, the same whatever b is: the probability "
                        "depends on the difference of the two logits, sigmoid(a - b).")),
        Mistake(N_("sigmoid of the sum"), like(two_class_sum),
                hint=N_("for {input} you get {got}, which is sigmoid(a + b): dividing the numerator "
                        "and the denominator of e^a / (e^a + e^b) by e^a leaves e^(b - a), so the "
                        "answer is sigmoid(a - b), the difference.")),
        Mistake(N_("returns both probabilities"), like(two_class_both),
                hint=N_("for {input} you return an extra axis, both probabilities ({got}): return "
                        "only the first, an array of the shape of a and b.")),
        Mistake(N_("no max trick"), broken(),
                hint=N_("for {input} you get {got}: e^a and e^b overflow to inf for logits above "
                        "about 709 (and underflow to 0 below about -745), and inf/inf or 0/0 is "
                        "nan. Use the difference: sigmoid(a - b) = 1 / (1 + e^-(a - b)), or "
                        "subtract max(a, b) (np.maximum) from both first.")),
        Mistake(N_("a and b shifted differently"),
                like_any(two_class_a_not_shifted, two_class_b_not_shifted),
                hint=N_("for {input} you get {got}: you subtract the max from one logit but not "
                        "from the other. Shifting changes nothing only when *both* logits move by "
                        "the same amount: e^(a - c) / (e^(a - c) + e^(b - c)) is e^a / (e^a + e^b) "
                        "for any c, but shifting one alone changes the ratio e^a / e^b."),
                more=N_("Compute m, the larger of a and b entry by entry, once, and subtract that "
                        "same m from a and from b before taking exp.")),
        Mistake(N_("sign error"),
                like_any(two_class_a_plus_max, two_class_b_plus_max, two_class_minus_in_denominator),
                hint=N_("for {input} you get {got}: a sign in your formula is flipped. The max "
                        "trick *subtracts* the same m from both logits, and the denominator *adds* "
                        "the two exponentials, so the result always lies between 0 and 1."),
                more=N_("Check each sign against p = e^(a - m) / (e^(a - m) + e^(b - m)), with m "
                        "the larger of a and b.")),
    ),
))
