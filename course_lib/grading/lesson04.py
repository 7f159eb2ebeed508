"""Lesson 04, temperature: the exercise ``softmax_temperature`` (softmax of z / tau).

Every correct route is accepted, including the renormalised power p ** (1 / tau) of a plain
softmax p. The tests use tau = 0.001, where z / tau reaches 3000 and only a max trick survives.
"""

from __future__ import annotations

import numpy as np

from .. import softmax as sm
from .exercise import Case, Exercise, Mistake
from .lesson01 import MAX_TRICK_HINT
from .lesson02 import A, S, axis_basics
from .mistakes import broken, common, like, unnormalised
from .registry import register

__all__ = ["SOFTMAX_TEMPERATURE"]


# --- known-wrong implementations ---------------------------------------------------------------
def temperature_multiplied(z, temperature, axis=-1):
    return sm.softmax(np.asarray(z, dtype=float) * temperature, axis)


def power_not_renormalised(z, temperature, axis=-1):
    return sm.softmax(np.asarray(z, dtype=float), axis) ** (1.0 / temperature)


def temperature_ignored(z, temperature, axis=-1):
    return sm.softmax(np.asarray(z, dtype=float), axis)


def REFERENCE(z, temperature, axis=-1):
    """softmax(z / temperature) along axis: the course's own."""
    return sm.softmax(z, axis, temperature=temperature)


def _hidden(rng):
    cases = []
    for shape, axis in (((5,), -1), ((8,), -1), ((3, 4), -1), ((4, 4), 0), ((2, 3, 4), 1)):
        z = rng.normal(0.0, 3.0, shape)
        tau = float(np.exp(rng.uniform(np.log(0.05), np.log(20.0))))
        cases.append(Case("", (z, tau), {"axis": axis}))
    cases.append(Case("", (rng.normal(0.0, 3.0, 6), 0.002), {"axis": -1}))   # z / tau overflows
    cases.append(Case("", (rng.normal(0.0, 1.0, 6), 500.0), {"axis": -1}))
    cases.append(Case("", (rng.integers(-5, 6, 5), int(rng.integers(2, 5))), {"axis": -1}))
    return cases


SOFTMAX_TEMPERATURE = register(Exercise(
    name="softmax_temperature",
    lesson="04",
    params=("z", "temperature"),
    reference=REFERENCE,
    task="softmax_temperature(z, temperature, axis=-1): softmax(z / temperature) along axis",
    points=2.0,
    rtol=1e-6,
    atol=1e-12,
    public=(
        Case("tau_1", ([1.0, 2.0, 3.0], 1.0)),
        Case("tau_2", ([1.0, 2.0, 3.0], 2.0)),
        Case("tau_half", ([1.0, 2.0, 3.0], 0.5)),
        Case("tau_small", ([1.0, 2.0, 3.0], 0.001)),
        Case("tau_large", ([1.0, 2.0, 3.0], 100.0)),
        Case("mixed_signs", (np.array([5.0, 1.0, -2.0]), 0.25)),
        Case("rows", (A, 0.5), {"axis": -1}),
        Case("columns", (A, 2.0), {"axis": 0}),
        Case("square_columns", (S, 3.0), {"axis": 0}),
        Case("int_array", (np.array([1, 2, 3]), 2),
             shown="z = np.array([1, 2, 3]) (integers), temperature = 2"),
        Case("large", (np.array([1000.0, 0.0, 0.0]), 1.0)),
    ),
    hidden=_hidden,
    mistakes=common("softmax_temperature(z, temperature, axis=-1)")
    + axis_basics("softmax_temperature", REFERENCE) + (
        Mistake("temperature multiplied", like(temperature_multiplied),
                "you multiply the logits by the temperature instead of dividing: for {input} you "
                "get {got}. A higher temperature must flatten the distribution, so use z / tau: "
                "at tau = 2, [1, 2, 3] gives [0.186, 0.307, 0.506], not [0.016, 0.117, 0.867].",
                supersedes=("no max trick",)),
        Mistake("powered without renormalising", like(power_not_renormalised),
                "you raise the probabilities to the power 1/tau but do not renormalise: for "
                "{input} you get {got}, which does not sum to 1. p ** (1 / tau) is only "
                "proportional to softmax(z / tau); divide it by its sum along the axis.",
                supersedes=("not normalised",)),
        Mistake("temperature ignored", like(temperature_ignored),
                "your result does not depend on the temperature: for {input} you get the plain "
                "softmax {got}. Divide the logits by it: softmax(z / temperature)."),
        Mistake("no max trick", broken(),
                MAX_TRICK_HINT.replace("your softmax", "your softmax_temperature")
                + " A small temperature makes z / tau huge: the max trick is not optional here."),
        Mistake("not normalised", unnormalised(),
                "for {input} your values have the right proportions but do not sum to 1: divide "
                "by their sum along the axis."),
    ),
))
