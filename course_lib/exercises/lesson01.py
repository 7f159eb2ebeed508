"""Lesson 01, the definition: the exercise ``softmax`` (a softmax of a 1-D vector).

Its tests include large logits, because a softmax that overflows is the most common bug of all;
the hint then points ahead to lesson 03's max trick.
"""

from __future__ import annotations

import numpy as np

from .. import softmax as sm
from ..grading.exercise import Case, Exercise, Mistake
from .mistakes import SOFTMAX_LIBRARY, broken, common, like, unnormalised
from ..grading.registry import register

__all__ = ["SOFTMAX", "MAX_TRICK_HINT", "MAX_TRICK_MORE"]


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
    "your softmax gives {got} for {input}: exp overflows to inf above about 709 (89 in "
    "float32) and underflows to 0 below about -745, and then inf/inf or 0/0 is nan. "
    "Subtract the largest logit first: softmax(z) = softmax(z - max(z)), so every exponent "
    "is at most 0 and the largest term is exactly 1 (lesson 03, the max trick)."
)
MAX_TRICK_MORE = (
    "Find m, the largest logit (along the axis, keeping it), and take exp of z - m instead of "
    "exp of z: the largest exponent is then exactly 0, no exp can overflow, and the sum is at "
    "least 1, so it is never 0."
)


SOFTMAX = register(Exercise(
    name="softmax",
    delegates=SOFTMAX_LIBRARY,
    lesson="01",
    params=("z",),
    reference=lambda z: sm.softmax(z),
    task="softmax(z) for a 1-D vector of logits z",
    points=2.0,
    public=(
        Case("seed_123", ([1, 2, 3],), shown="z = [1, 2, 3]"),
        Case("uniform", ([2.0, 2.0, 2.0],)),
        Case("mixed_signs", (_np(5, 1, -2),)),
        Case("single", (_np(7),)),
        Case("int_array", (_np(1, 2, 3, dtype=np.int64),), shown="z = np.array([1, 2, 3]) (integers)"),
        Case("large", (_np(1000, 0, 0),)),
        Case("very_negative", (_np(-1000, -1000, -1000),)),
        Case("spread", (_np(800, 0, -800),)),
        Case("float32_89", (_np(89, 0, 0, dtype=np.float32),), rtol=1e-6),
        Case("ten", (np.linspace(-3.0, 3.0, 10),), shown="z = np.linspace(-3, 3, 10)"),
    ),
    hidden=hidden_vectors,
    mistakes=common("softmax(z)") + (
        Mistake("shift by the mean", like(shift_by_mean),
                "you shift the logits by their mean, not their max: for {input} that leaves "
                "exponents far above 709, and you get {got}. Any shift gives the same softmax on "
                "paper, but only the max makes every exponent at most 0. Use z - z.max().",
                supersedes=("no max trick",)),
        Mistake("shift by the min", like(shift_by_min),
                "you shift the logits by their min, not their max: that makes every exponent at "
                "least 0, so exp overflows sooner (for {input} you get {got}). Use z - z.max().",
                supersedes=("no max trick",)),
        Mistake("no max trick", broken(), MAX_TRICK_HINT, more=MAX_TRICK_MORE),
        Mistake("not normalised", unnormalised(),
                "for {input} your values have the right proportions but do not sum to 1: divide "
                "the exponentials by their sum, p = e / e.sum()."),
    ),
))
