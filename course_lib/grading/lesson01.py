"""Lesson 01, the definition: the exercise ``softmax`` (a softmax of a 1-D vector).

Its tests include large logits, because a softmax that overflows is the most common bug of all;
the hint then points ahead to lesson 03's max trick.
"""

from __future__ import annotations

import numpy as np

from .. import softmax as sm
from .exercise import Case, Exercise, Mistake
from .mistakes import broken, common, like, unnormalised
from .registry import register

__all__ = ["SOFTMAX"]


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


def _hidden(rng):
    cases = []
    for scale in (1.0, 5.0, 50.0, 400.0):
        n = int(rng.integers(2, 12))
        cases.append(Case("", (rng.normal(0.0, scale, n),)))
    cases.append(Case("", (rng.normal(0.0, 3.0, 1),)))
    cases.append(Case("", (rng.normal(0.0, 2.0, 6) + rng.choice([-900.0, 900.0]),)))
    cases.append(Case("", (list(rng.integers(-5, 6, 5).astype(float)),)))
    return cases


MAX_TRICK_HINT = (
    "your softmax gives {got} for {input}: exp overflows to inf above about 709 (89 in "
    "float32) and underflows to 0 below about -745, and then inf/inf or 0/0 is nan. "
    "Subtract the largest logit first: softmax(z) = softmax(z - max(z)), so every exponent "
    "is at most 0 and the largest term is exactly 1 (lesson 03, the max trick)."
)

_LARGE = ("large", "very_negative", "spread", "float32_89")
_FLOAT64 = ("seed_123", "uniform", "mixed_signs", "single", "int_array", "large", "very_negative",
            "spread", "ten")

SOFTMAX = register(Exercise(
    name="softmax",
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
    hidden=_hidden,
    mistakes=common(("seed_123", "int_array"), "softmax(z)") + (
        Mistake("shift by the mean", like(shift_by_mean, only=_FLOAT64),
                "you shift the logits by their mean, not their max: for {input} that leaves "
                "exponents far above 709, and you get {got}. Any shift gives the same softmax on "
                "paper, but only the max makes every exponent at most 0. Use z - z.max().",
                supersedes=("no max trick",)),
        Mistake("shift by the min", like(shift_by_min, only=_FLOAT64),
                "you shift the logits by their min, not their max: that makes every exponent at "
                "least 0, so exp overflows sooner (for {input} you get {got}). Use z - z.max().",
                supersedes=("no max trick",)),
        Mistake("no max trick", broken(_LARGE), MAX_TRICK_HINT),
        Mistake("not normalised", unnormalised(),
                "for {input} your values have the right proportions but do not sum to 1: divide "
                "the exponentials by their sum, p = e / e.sum()."),
    ),
))
