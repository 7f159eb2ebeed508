"""Symptom detectors for known mistakes, shared by the exercises of every lesson.

A detector is a function ``detect(ev) -> str or None`` over an :class:`~.exercise.Evidence` view:
it returns the name of the test whose outcome shows the mistake. Two kinds:

* **symptoms** -- "some large-logit test came back nan, inf or raised OverflowError"
  (:func:`broken`), "an argument array was changed" (:func:`mutated`), "the call raised this
  kind of error" (:func:`raised`);
* **look-alikes** -- "the outcomes agree, test by test, with those of this known-wrong
  implementation" (:func:`like`). It names a mistake exactly, whatever the student's code looks
  like, because it looks only at what the code returns.

Detectors see outcomes only (plain data), so they work the same in the learner's kernel and in
the instructor's grader.
"""

from __future__ import annotations

import copy

import numpy as np

from ..grading.exercise import Mistake, _remember
from ..i18n import N_

__all__ = ["SOFTMAX_LIBRARY", "FLOAT32", "global_max", "max_along_another_axis", "broken", "mutated", "raised", "like", "resembles", "unnormalised", "common"]

_ARITHMETIC = {"OverflowError", "ZeroDivisionError", "FloatingPointError"}

#: Library functions that compute a whole softmax (or its log): an answer to a softmax
#: exercise that calls one of them delegates the exercise (:attr:`Exercise.delegates`).
SOFTMAX_LIBRARY = ("course_lib.softmax.softmax", "course_lib.softmax.log_softmax",
                   "course_lib.softmax.logsumexp", "course_lib.softmax.online_softmax",
                   "scipy.special.softmax", "scipy.special.log_softmax", "scipy.special.logsumexp")


def _value(result):
    """A wrong implementation's result as the checker reads it: an array, or a tuple of them."""
    return tuple(np.asarray(v) for v in result) if isinstance(result, tuple) else np.asarray(result)


def _nonfinite_where_finite(value, expected) -> bool:
    if isinstance(expected, tuple):
        return (isinstance(value, tuple) and len(value) == len(expected)
                and any(map(_nonfinite_where_finite, value, expected)))
    if value is None or isinstance(value, tuple) or value.shape != np.shape(expected) or value.dtype.kind not in "fc":
        return False
    bad = ~np.isfinite(value) & np.isfinite(expected)
    return bool(bad.any())


def _is_broken(outcome, expected) -> bool:
    if outcome.not_implemented:
        return False
    if outcome.error is not None:
        return outcome.error_type in _ARITHMETIC
    return _nonfinite_where_finite(outcome.value, expected)


def broken():
    """Detect an answer that breaks only where exp leaves its range: nan/inf results (or
    OverflowError, ZeroDivisionError) where numbers were expected on some test, and the right
    value on every test where it returned finite numbers.

    The second condition makes it specific: an answer that is also wrong on moderate inputs
    (another axis, exp and log swapped) has another mistake, which this one must not hide."""

    def detect(ev):
        evidence, some_right = None, False
        for name in ev.names():
            o = ev.outcome(name)
            if _is_broken(o, ev.expected(name)) or _underflowed(o, ev.expected(name)):
                evidence = evidence or name
            elif not ev.right(name):
                return None
            else:
                some_right = some_right or _informative(ev.expected(name))
        return evidence if some_right else None

    return detect


def _informative(expected) -> bool:
    """Does a right answer here say anything (not only zeros and ones, which an answer that
    is nan or 0 everywhere can match by accident)?"""
    if isinstance(expected, tuple):
        return any(map(_informative, expected))
    e = np.asarray(expected, dtype=float)
    return bool(np.any((e != 0) & (e != 1) & np.isfinite(e)))


def _underflowed(outcome, expected) -> bool:
    """Exactly 0 wherever the value is wrong, and numbers there were expected: exp underflowed
    (an answer that guards its division by 0 returns zeros instead of nan)."""
    v = outcome.value
    if outcome.error is not None or not isinstance(v, np.ndarray) or isinstance(expected, tuple) \
            or v.shape != np.shape(expected) or v.dtype.kind != "f":
        return False
    expected = np.asarray(expected, dtype=float)
    with np.errstate(all="ignore"):
        off = ~np.isclose(v, expected, rtol=1e-6, atol=1e-12)
    return bool(off.any() and np.all(v[off] == 0) and np.all(expected[off] != 0))


def _narrow(value) -> bool:
    if isinstance(value, tuple):
        return any(map(_narrow, value))
    return isinstance(value, np.ndarray) and value.dtype in (np.float32, np.float16)


def computes_in_float32(ev):
    """A wrong result in float32 (or float16) for a test whose input has no float32 in it."""
    for name in ev.names():
        if _narrow_floats(ev.cases[name]):
            continue
        o = ev.outcome(name)
        if o.error is None and _narrow(o.value) and not ev.right(name):
            return name
    return None


FLOAT32 = Mistake(
    N_("computes in float32"), computes_in_float32,
    N_("for {input} your result is in float32: {got}. float32 keeps about 7 significant digits "
       "(float64 about 16), so your values are off in the 7th digit, and exp already overflows "
       "above about 88.7 instead of 709.8."),
    supersedes=("not normalised", "no max trick", "integer input", "log of softmax",
                "divided by the wrong sum"),
    more=N_("Convert the input once, at the start, to float64 (`dtype=float`), and do not cast "
            "to `np.float32` along the way: numpy then keeps float64 all through."))


def mutated():
    """Detect a call that changed an array it was given."""

    def detect(ev):
        for name in ev.names():
            if ev.outcome(name).mutated:
                return name
        return None

    return detect


def raised(*types, containing=""):
    """Detect a test that raised one of ``types`` (names), its message containing ``containing``."""

    def detect(ev):
        for name in ev.names():
            o = ev.outcome(name)
            if o.error_type in types and containing in o.error:
                return name
        return None

    return detect


_WRONG: dict = {}


def _wrong_value(wrong, case):
    """``wrong`` on ``case``'s arguments (copies), as the checker reads it, or the exception it
    raised; remembered, since every answer checked meets the same known-wrong values."""
    key = (id(wrong), id(case))
    if key in _WRONG:
        return _WRONG[key][2]
    try:
        with np.errstate(all="ignore"):
            w = _value(wrong(*copy.deepcopy(case.args), **copy.deepcopy(case.kwargs)))
    except Exception as exc:  # the wrong implementation fails here, like the student's may
        w = exc
    _remember(_WRONG, key, (wrong, case, w))
    return w


def _agrees(outcome, wrong, expected, rtol) -> bool:
    """Does the student's outcome agree with the wrong implementation's on one test?"""
    if outcome.not_implemented:
        return False
    if isinstance(wrong, BaseException):
        return outcome.error is not None
    if outcome.error is not None:
        return _nonfinite_where_finite(wrong, expected) and outcome.error_type in _ARITHMETIC
    value = outcome.value
    if isinstance(wrong, tuple) or isinstance(value, tuple):
        return (isinstance(wrong, tuple) and isinstance(value, tuple) and len(value) == len(wrong)
                and all(_agrees(type(outcome)(value=v), w, e, rtol)
                        for v, w, e in zip(value, wrong, expected)))
    if value.shape != wrong.shape or value.dtype.kind not in "biuf" or wrong.dtype.kind not in "biuf":
        return False
    value, wrong = value.astype(float), wrong.astype(float)
    finite = np.isfinite(wrong)
    if not np.array_equal(np.isfinite(value), finite):
        return False
    return bool(np.allclose(value[finite], wrong[finite], rtol=rtol, atol=1e-12))


def _differs(wrong, expected, rtol) -> bool:
    if isinstance(wrong, BaseException):
        return True
    if isinstance(wrong, tuple) or isinstance(expected, tuple):
        return not (isinstance(wrong, tuple) and isinstance(expected, tuple)
                    and len(wrong) == len(expected)) or any(
            _differs(w, e, rtol) for w, e in zip(wrong, expected))
    if wrong.shape != np.shape(expected):
        return True
    with np.errstate(invalid="ignore"):
        return not np.allclose(wrong.astype(float), np.asarray(expected, float), rtol=rtol,
                               atol=1e-12, equal_nan=True)


def like(wrong, *, rtol=1e-6):
    """Detect outcomes that agree, on every test, with those of a known-wrong implementation.

    Parameters
    ----------
    wrong : callable
        The wrong implementation, called with the test's arguments.
    rtol : float
        Relative tolerance of the agreement.

    Returns
    -------
    callable
        A detector whose evidence is the first test on which ``wrong`` is wrong. It fires only
        when ``wrong`` is wrong somewhere and the student's outcomes agree with it everywhere
        (an exception agrees with an exception; OverflowError agrees with nan or inf). Tests
        with float32 or float16 input are skipped: there the result depends on the dtype a
        correct or wrong implementation happens to compute in.
    """

    def detect(ev):
        evidence = None
        for name in ev.names():
            case = ev.cases[name]
            if _narrow_floats(case):  # float32 results depend on the dtype the student computes in
                continue
            w = _wrong_value(wrong, case)
            expected = ev.expected(name)
            if not _agrees(ev.outcome(name), w, expected, rtol):
                return None
            if evidence is None and _differs(w, expected, rtol):
                evidence = name
        return evidence

    return detect


def unnormalised(ev_axis=lambda case: case.kwargs.get("axis", -1)):
    """Detect results proportional to the right ones along the axis, but not summing to 1."""

    def detect(ev):
        for name in ev.names():
            o = ev.outcome(name)
            expected = ev.expected(name)
            if not isinstance(o.value, np.ndarray) or ev.right(name) or o.value.shape != expected.shape:
                continue
            if o.value.dtype.kind not in "biuf" or not np.all(np.isfinite(o.value)):
                continue
            axis = ev_axis(ev.cases[name])
            with np.errstate(all="ignore"):
                s = o.value.astype(float).sum(axis=axis, keepdims=True)
                if np.all(s > 0) and np.allclose(o.value / s, expected, rtol=1e-6, atol=1e-12):
                    return name
        return None

    return detect


def _has_integers(case) -> bool:
    """Do the test's logits (its first argument) consist of integers?"""
    z = case.args[0] if case.args else None
    if isinstance(z, np.ndarray):
        return z.dtype.kind in "biu"
    return isinstance(z, (list, tuple)) and len(z) > 0 and all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in z)


def _narrow_floats(case) -> bool:
    """Does the test pass float32 or float16 arrays (whose results depend on the dtype used)?"""
    return any(isinstance(a, np.ndarray) and a.dtype in (np.float32, np.float16)
               for a in (*case.args, *case.kwargs.values()))


def common(function):
    """The mistakes every exercise diagnoses: a wrong signature, no ``return``, a result that is
    not numbers, a changed argument, and integer input that breaks in-place arithmetic.
    (:data:`FLOAT32`, "computes in float32", is added by the exercises whose tolerance a float32
    computation exceeds.)

    Parameters
    ----------
    function : str
        How the function is called, for the signature hint (``"softmax_axis(z, axis=-1)"``).
    """
    def integer(ev):
        int_tests = [n for n in ev.names() if _has_integers(ev.cases[n])]
        ints = [n for n in int_tests if not ev.right(n)]
        for name in ints:  # the telltale signs: a failed cast, or integers returned
            o = ev.outcome(name)
            if (o.error is not None and ("Cannot cast" in o.error or "casting" in o.error)) or (
                    isinstance(o.value, np.ndarray) and o.value.dtype.kind in "biu"):
                return name
        others = [n for n in ev.names() if n not in int_tests]
        if ints and others and all(ev.right(n) for n in others):
            return ints[0]
        return None

    return (
        Mistake(N_("wrong signature"), raised("SignatureError"),
                N_("check calls your function as {function}, and Python says: {got}. "
                   "Define it with exactly these parameters: def {function}:"),
                values={"function": function}),
        Mistake(N_("no return"), raised("ReturnedNone"),
                N_("your function returned None for {input}: a function that ends without "
                   "`return` gives None. End it with `return p` (your result).")),
        Mistake(N_("result is not numbers"), raised("NotNumbers"),
                N_("for {input} your function {got}. Return a numpy array (or a list of floats).")),
        Mistake(N_("modifies its input"), mutated(),
                N_("your function changed the array it was given, for {input}: an in-place "
                   "operation (`-=`, `/=`, or an assignment into `z[...]`) writes into the "
                   "caller's own array, so whoever calls it loses their logits. (`np.asarray` "
                   "does not copy an array that is already float.)"),
                more=N_("Compute new arrays instead: a plain `-` or `/` makes a new array and "
                        "leaves the input alone; or start from a copy of the input.")),
        Mistake(N_("integer input"), integer,
                N_("for integer logits {input} your function gives {got}. An integer array keeps "
                   "its dtype: an in-place `/=` or `-=` with fractions cannot store them in it "
                   "(numpy refuses), and a result built in an integer array is truncated."),
                more=N_("Convert the input to a float array once, at the start, before any "
                        "arithmetic (`dtype=float`).")),
    )


GLOBAL_MAX_HINT = N_(
    "you shift every row by the largest value of the whole array, not by each row's own max: "
    "for {input} a row far below that max underflows, exp gives 0 everywhere in it, and you "
    "get {got}. On paper any shift is allowed; in floating point only a row's own max keeps "
    "its largest term at exactly 1.")
GLOBAL_MAX_MORE = N_(
    "Take the max along the same axis as the sum, keeping that axis (`keepdims=True`), so "
    "that each row is shifted by its own largest entry.")


def global_max(wrong, *, supersedes=("no max trick", "not normalised")):
    """The mistake "global max": the outcomes agree with ``wrong``, a version of the exercise
    that shifts by the max of the whole array (told apart by a batch whose rows sit at very
    different scales)."""
    return Mistake(N_("global max"), like(wrong), GLOBAL_MAX_HINT, supersedes=supersedes,
                   more=GLOBAL_MAX_MORE)


MAX_AXIS_HINT = N_(
    "for {input} you get {got}: your max and your sum are taken along different axes. Each "
    "slice must be shifted by a constant of its own, its own max; a max along another axis "
    "subtracts a different number from each entry of the slice, which changes the softmax.")
MAX_AXIS_MORE = N_("Pass the same `axis` to the max and to the sum, both with `keepdims=True`.")


def max_along_another_axis(softmax_of_shifted):
    """The mistake "max along another axis": the max taken along the first or the last axis
    whatever ``axis`` says, the sum along ``axis``. ``softmax_of_shifted(z, m, *rest, axis)``
    is the exercise computed with the shift ``m``."""

    def along(fixed):
        def wrong(z, *rest, axis=-1):
            z = np.asarray(z, dtype=float)
            return softmax_of_shifted(z, z.max(axis=fixed, keepdims=True), *rest, axis=axis)
        return like(wrong)

    def detect(ev):
        return along(0)(ev) or along(-1)(ev)

    return Mistake(N_("max along another axis"), detect, MAX_AXIS_HINT,
                   supersedes=("wrong axis", "no max trick", "global max"), more=MAX_AXIS_MORE)


def resembles(wrong, *, rtol=1e-6):
    """Detect a test on which the student's outcome agrees with a known-wrong implementation
    where that implementation is wrong (a single such test suffices, unlike :func:`like`).

    Use it for mistakes that need not show on every test, such as reducing the other axis of a
    2-D input; ``wrong`` may raise on tests where it is not defined (those are skipped).
    """

    def detect(ev):
        for name in ev.names():
            case = ev.cases[name]
            w = _wrong_value(wrong, case)
            if isinstance(w, BaseException):
                continue
            expected = ev.expected(name)
            if _differs(w, expected, rtol) and _agrees(ev.outcome(name), w, expected, rtol):
                return name
        return None

    return detect


def like_any(*wrongs, rtol=1e-6):
    """Detect outcomes that agree, on every test, with those of one of several known-wrong
    implementations: the same mistake written in different ways (a sign flipped in one place
    or in another). The evidence is that of the first one that agrees (see :func:`like`)."""
    detectors = [like(w, rtol=rtol) for w in wrongs]

    def detect(ev):
        for d in detectors:
            found = d(ev)
            if found is not None:
                return found
        return None

    return detect


__all__ += ["like_any"]
