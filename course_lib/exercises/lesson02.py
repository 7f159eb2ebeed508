"""Lesson 02, shift invariance: the exercise ``softmax_axis`` (softmax along any axis).

Each slice along ``axis`` is shifted by its own max. The tests always include square input,
where a ``max`` without ``keepdims`` broadcasts silently into wrong values instead of failing.
The axis mistakes defined here are shared with lessons 03 and 04.
"""

from __future__ import annotations

import numpy as np

from .. import softmax as sm
from ..grading.exercise import Case, Exercise, Mistake
from .lesson01 import MAX_TRICK_HINT, MAX_TRICK_MORE, shift_by_mean, shift_by_min
from .mistakes import max_along_another_axis, SOFTMAX_LIBRARY, broken, common, like, raised, resembles, unnormalised
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
        Mistake("ignores axis", like(ignores_axis),
                f"your {function} works along the last axis whatever `axis` says: for {{input}} "
                "it gives {got}. Pass `axis` on to every max and sum.",
                supersedes=("wrong axis", "not normalised")),
        Mistake("wrong axis", resembles(other_axis),
                f"your {function} works along the other axis: for {{input}} you get {{got}}. "
                "axis=-1 means along each row (the last axis), axis=0 down each column.",
                supersedes=("not normalised",)),
        Mistake("broadcast error", raised("ValueError", containing="broadcast"),
                "for {input} your function gives {got}: the shapes of two arrays you combine do "
                "not line up. A max or sum taken along `axis` drops that axis (and one taken "
                "along another axis drops another), so it no longer lines up with z.",
                more="Take every max and sum along the same `axis`, and keep that axis where "
                     "the result is combined with z again (`keepdims=True`)."),
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
        Mistake("max without keepdims", like(max_without_keepdims),
                "z.max(axis) drops the axis, so z - z.max(axis) lines the maxima up against "
                "the wrong entries: for {input} you get {got}. On square input this is silently "
                "wrong; elsewhere it is a broadcast error. Use z.max(axis=axis, keepdims=True) "
                "(and the same for the sum).",
                supersedes=("broadcast error", "not normalised")),
        Mistake("whole array", like(whole_array),
                "your function normalises over the whole array, not each slice along `axis`: "
                "for {input} the entries of the whole array sum to 1 ({got}). Sum along the "
                "axis: e.sum(axis=axis, keepdims=True).",
                supersedes=("global max", "not normalised", "no max trick")),
        Mistake("global max", like(global_max),
                "you shift every slice by the largest logit of the whole array, not by each "
                "slice's own max: for {input} a slice far below it underflows to 0/0 = nan "
                "({got}). Use z.max(axis=axis, keepdims=True).",
                supersedes=("no max trick",)),
        Mistake("shift by the mean", like(shift_by_mean),
                "you shift the logits by their mean, not their max: for {input} that leaves "
                "exponents above 709 ({got}). Use z - z.max(axis=axis, keepdims=True).",
                supersedes=("no max trick",)),
        Mistake("shift by the min", like(shift_by_min),
                "you shift the logits by their min, not their max, so exp overflows sooner: "
                "for {input} you get {got}. Use z - z.max(axis=axis, keepdims=True).",
                supersedes=("no max trick",)),
        Mistake("no max trick", broken(),
                MAX_TRICK_HINT.replace("your softmax", f"your {function}"), more=MAX_TRICK_MORE),
        Mistake("not normalised", unnormalised(),
                "for {input} your values have the right proportions but do not sum to 1 along "
                "the axis: divide by e.sum(axis=axis, keepdims=True)."),
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
    task="softmax_axis(z, axis=-1): softmax of each slice along axis, shifted by its own max",
    points=2.0,
    public=(
        Case("vector", ([1.0, 2.0, 3.0],)),
        Case("rows", (A,), shown="z = [[1, 2, 3], [2, 4, 8]] (default axis=-1)"),
        Case("columns", (A,), {"axis": 0}),
        Case("square_rows", (S,), {"axis": -1}),
        Case("square_columns", (S,), {"axis": 0}),
        Case("cube_axis_1", (CUBE,), {"axis": 1}, shown="z of shape (2, 3, 4), axis = 1"),
        Case("offset_rows", (OFFSET_ROWS,), {"axis": -1}),
        Case("spread_rows", (SPREAD_ROWS,), {"axis": -1}),
        Case("int_array", (np.array([[1, 2, 3], [3, 2, 1]]),), {"axis": -1},
             shown="z = np.array([[1, 2, 3], [3, 2, 1]]) (integers), axis = -1"),
        Case("large", (np.array([[1000.0, 0.0, 0.0], [0.0, 0.0, 0.0]]),), {"axis": -1}),
    ),
    hidden=hidden_arrays,
    mistakes=common("softmax_axis(z, axis=-1)")
    + axis_mistakes("softmax_axis"),
))
