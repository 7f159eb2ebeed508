"""What an exercise is: its tests, its known mistakes, and how answers are judged.

An :class:`Exercise` holds everything the checker and the instructor's grader need:

* the parameters the student's function must accept, and its points;
* a ``reference`` (from :mod:`course_lib`) that gives the expected value of every test;
* ``public`` tests (:class:`Case`), whose inputs a student may see in a verdict, and a
  ``hidden`` generator of seeded random tests, whose inputs never appear in student-facing text;
* ``mistakes`` (:class:`Mistake`): each a symptom detector with a targeted hint.

Answers reach the judge as plain data: one :class:`Outcome` per test, holding the returned value
as a numpy array (or the error the call raised). The same :func:`judge` therefore serves
``check`` (which calls the student's function in the learner's kernel) and a grader that runs
a notebook in another process and sends back only arrays. Comparisons are made here, on
copies, never by the student's object.
"""

from __future__ import annotations

import copy
import fnmatch
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import numpy as np

from ..i18n import get_language, gettext as _, language
from .result import CheckResult, Failure, show_array, show_value

__all__ = ["Case", "Outcome", "Mistake", "Exercise", "compare", "judge"]


@dataclass(frozen=True)
class Case:
    """One test: the arguments the student's function is called with.

    Parameters
    ----------
    name : str
        Identifier, unique within the exercise (``"large_logits"``).
    args : tuple
        Positional arguments. Arrays are copied before every call.
    kwargs : dict
        Keyword arguments.
    shown : str, optional
        How the call's input is shown to the student, e.g. ``"z = [1000, 0, 0]"``.
        Default: built from ``args`` and ``kwargs``. Words in it are marked ``N_()`` and
        translated where shown.
    rtol, atol : float, optional
        Tolerances for this test; default: the exercise's.
    """

    name: str
    args: tuple
    kwargs: dict = field(default_factory=dict)
    shown: str | None = None
    rtol: float | None = None
    atol: float | None = None

    def describe(self, params: Sequence[str]) -> str:
        """The input as the student sees it: ``shown``, or ``z = [...], axis = 0``."""
        if self.shown is not None:
            return _(self.shown)
        parts = [f"{p} = {show_array(a, one_line=True)}" for p, a in zip(params, self.args)]
        parts += [f"{k} = {show_array(v, one_line=True)}" for k, v in self.kwargs.items()]
        return ", ".join(parts)


@dataclass
class Outcome:
    """What one call of the student's function gave, as plain data.

    Exactly one of ``value`` and ``error`` is set, unless ``not_implemented``.

    Parameters
    ----------
    value : numpy.ndarray or tuple of them, optional
        The return value converted with ``np.array(..., copy=True)``; for an exercise whose
        function returns a tuple (``Exercise.returns``), a tuple of such arrays.
    error : str, optional
        ``"TypeName: message"`` of the exception the call raised, or of the reason the return
        value could not be read as numbers (``"ReturnedNone: ..."``); a call that does not fit
        the function's signature gives ``"SignatureError: ..."``.
    not_implemented : bool
        The call raised ``NotImplementedError`` (the exercise's stub is still there).
    mutated : bool
        The call changed an array it was given.
    library_calls : tuple of str
        The library functions the call used (course_lib's reference modules and scipy.special),
        by public qualified name (``"scipy.special.softmax"``), outermost calls only, in order;
        recorded by :func:`~course_lib.grading.run.call` from what ran, not from the code's text.
    delegated : str, optional
        The qualified name of a library function that does the exercise's whole job and that
        the call used (``"course_lib.softmax.softmax"``). :func:`judge` fills it in from
        ``library_calls`` and :attr:`Exercise.delegates`; a grader may also set it directly.
    where : str, optional
        For an error: the line of the learner's own code that raised it, as Jupyter names it
        (``"cell [5], line 3: e = np.exp(z - z.max(axis))"``).
    changed : str, optional
        For a call that changed an argument: which one, before and after
        (``"z: before the call [3, 1], after [0, -2]"``).
    """

    value: np.ndarray | tuple | None = None
    error: str | None = None
    not_implemented: bool = False
    mutated: bool = False
    library_calls: tuple = ()
    delegated: str | None = None
    where: str | None = None
    changed: str | None = None

    @property
    def error_type(self) -> str | None:
        """The part of ``error`` before the first colon (``"OverflowError"``), or None."""
        return None if self.error is None else self.error.split(":", 1)[0]

    def phrase(self, names=()) -> str:
        """What came back, for a sentence: ``[nan, 0, 0]`` or ``an OverflowError (math range error)``.

        ``names`` name the values of a tuple result."""
        if self.not_implemented:
            return self.shown()
        if self.error is None:
            return show_value(self.value, names, one_line=True)
        kind, _sep, message = self.error.partition(": ")
        if kind in ("SignatureError", "ReturnedNone", "NotNumbers"):
            return message
        text = (_("an error, {kind}: {message}").format(kind=kind, message=message) if message
                else _("an error, {kind}").format(kind=kind))
        return text if len(text) <= 120 else text[:117] + "..."

    def shown(self, names=()) -> str:
        """What came back, as the student sees it (``names`` name a tuple result's values)."""
        if self.not_implemented:
            return _("NotImplementedError (the exercise stub)")
        if self.error is not None:
            text = self.error if len(self.error) <= 160 else self.error[:157] + "..."
            if not self.where:
                return text
            return text + "\n" + _("(raised in {where})").format(where=self.where)
        return show_value(self.value, names)


@dataclass(frozen=True)
class Mistake:
    """A known mistake: a symptom detector and the hint that names it.

    Parameters
    ----------
    name : str
        Short, stable name shown to the student and recorded by graders ("no max trick"),
        marked ``N_()``: graders record it in English, the student sees it translated.
    detect : callable
        ``detect(view) -> str or None``: given a :class:`Evidence` view of the tests, return the
        name of a test whose outcome shows the mistake, or None.
    hint : str
        The first step of help: names the idea (why it is wrong, on which input). May use
        ``{input}`` (the revealing test's input, or "one of the hidden tests") and ``{got}``
        (what came back there), and the names in ``values``. Inline code goes between
        backticks: `z.max()`. Marked ``N_()``; translated when the mistake is diagnosed.
    supersedes : tuple of str
        Names of mistakes this one explains; they are not reported when this one is.
    more : str, optional
        A second, more specific step ("more help"): what to do, still without the finished
        code. Shown on request (``check(..., hints=2)``; a collapsible part in the HTML).
        Same placeholders as ``hint``.
    values : mapping, optional
        More placeholders of ``hint`` and ``more``, filled after translation
        (``{"function": "softmax(z)"}`` for ``"check calls your function as {function}"``).
    """

    name: str
    detect: Callable[["Evidence"], str | None]
    hint: str
    supersedes: tuple = ()
    more: str = ""
    values: Mapping = field(default_factory=dict, compare=False, hash=False)

    def text(self, step: str, **values) -> str:
        """The ``"hint"`` or the ``"more"`` step, translated, its placeholders filled."""
        message = self.hint if step == "hint" else self.more
        return _(message).format(**{**self.values, **values}) if message else ""


@dataclass(frozen=True)
class Exercise:
    """An auto-graded exercise.

    Parameters
    ----------
    name : str
        Public exercise name, also the name of the student's function (``"stable_softmax"``).
    lesson : str
        The lesson it belongs to (``"03"``).
    params : tuple of str
        Parameter names the function is called with, in order (``("z", "axis")``).
    reference : callable
        Correct implementation; ``reference(*case.args, **case.kwargs)`` is the expected value.
    public : tuple of Case
        Tests whose inputs may be shown to the student.
    hidden : callable
        ``hidden(rng) -> list of Case``: seeded random tests for the instructor's grader.
    mistakes : tuple of Mistake
        Known mistakes, most specific first.
    points : float
        Points the exercise is worth.
    rtol, atol : float
        Default tolerances of the comparison.
    task : str
        One line saying what the student writes (marked ``N_()``, translated where shown).
    returns : tuple of str
        For a function that returns a tuple, the names of its values (``("output",
        "weights")``): each is compared on its own, and failures name the value that is wrong.
        Empty (the default) for a function that returns one array.
    delegates : tuple of str, optional
        Library functions that do the exercise's whole job, as ``fnmatch`` patterns over the
        public qualified names recorded in :attr:`Outcome.library_calls`
        (``"scipy.special.softmax"``, ``"course_lib.softmax.*"``). An answer that calls one
        earns no points. Default: any course_lib function or scipy.special function with the
        exercise's own name. Functions the exercise may use (a softmax inside a cross-entropy)
        must not be listed.
    """

    name: str
    lesson: str
    params: tuple
    reference: Callable
    public: tuple
    hidden: Callable[[np.random.Generator], list]
    mistakes: tuple = ()
    points: float = 1.0
    rtol: float = 1e-7
    atol: float = 1e-12
    task: str = ""
    returns: tuple = ()
    delegates: tuple | None = None

    def delegated_to(self, outcome: "Outcome") -> str | None:
        """The library function doing this exercise's whole job that ``outcome`` used, or None.

        Examples
        --------
        >>> from course_lib.grading import get_exercise
        >>> get_exercise("softmax").delegated_to(Outcome(library_calls=("scipy.special.softmax",)))
        'scipy.special.softmax'
        >>> get_exercise("cross_entropy").delegated_to(Outcome(library_calls=("scipy.special.log_softmax",)))
        """
        if outcome.delegated:
            return outcome.delegated
        patterns = self.delegates if self.delegates is not None else (
            f"course_lib.*.{self.name}", f"scipy.special.{self.name}")
        for name in outcome.library_calls or ():
            if any(fnmatch.fnmatchcase(name, p) for p in patterns):
                return name
        return None

    def hidden_cases(self, seed: int) -> list:
        """The hidden tests drawn with ``seed`` (the same seed gives the same tests)."""
        cases = list(self.hidden(np.random.default_rng(seed)))
        return [Case(f"hidden_{i}", c.args, c.kwargs, None, c.rtol, c.atol) for i, c in enumerate(cases, 1)]

    def expected(self, case: Case):
        """The reference value for ``case``: a numpy array, or a tuple of them (``returns``).

        Remembered for the last few hundred tests (the same test object gives the same value),
        so that checking many answers against the same tests computes each value once."""
        key = (id(self), id(case))
        if key in _EXPECTED:
            return _EXPECTED[key][2]
        with np.errstate(all="ignore"):
            value = self.reference(*copy.deepcopy(case.args), **copy.deepcopy(case.kwargs))
        value = tuple(np.asarray(v) for v in value) if self.returns else np.asarray(value)
        _remember(_EXPECTED, key, (self, case, value))
        return value

    def compare(self, got: "Outcome", case: Case, expected=None) -> str | None:
        """:func:`compare` the outcome of ``case`` with the expected value, at the test's
        tolerances (the exercise's by default)."""
        expected = self.expected(case) if expected is None else expected
        return compare(got, expected, rtol=_tol(case.rtol, self.rtol),
                       atol=_tol(case.atol, self.atol), names=self.returns)


_EXPECTED: dict = {}
MEMORY = 512  # values remembered per cache


def _remember(cache: dict, key, item):
    """Keep ``item`` (which holds the objects whose ids make ``key``, so the ids stay theirs)."""
    cache[key] = item
    while len(cache) > MEMORY:
        del cache[next(iter(cache))]


def compare(got: Outcome, expected, *, rtol: float, atol: float, names=()) -> str | None:
    """Judge one outcome against the expected value.

    Shape is checked before values; values are compared like
    ``numpy.testing.assert_allclose(got, expected, rtol, atol, equal_nan=True)``. A tuple of
    expected values (named by ``names``) is compared value by value.

    Returns
    -------
    str or None
        None when the outcome is right, else what is wrong with it, in a few words.

    Examples
    --------
    >>> compare(Outcome(value=np.array([0.5, 0.5])), np.array([0.5, 0.5]), rtol=1e-7, atol=0)
    >>> compare(Outcome(value=np.array([0.5])), np.array([0.5, 0.5]), rtol=1e-7, atol=0)
    'the shape is (1,); expected (2,)'
    >>> compare(Outcome(value=np.array([np.nan, 1.0])), np.array([0.5, 0.5]), rtol=1e-7, atol=0)
    'nan where a number was expected'
    >>> compare(Outcome(value=(np.ones(2), np.ones(3))), (np.ones(2), np.zeros(3)), rtol=1e-7,
    ...         atol=0, names=("output", "weights"))
    'weights: the values differ (by up to 1, at index (0,))'
    """
    if got.not_implemented:
        return _("not implemented yet")
    if got.error is not None:
        return _("it raised an error") if got.error_type not in _NOT_NUMBERS else _("it did not return numbers")
    if isinstance(expected, tuple):
        names = tuple(names) or tuple(_("value {i}").format(i=i) for i in range(1, len(expected) + 1))
        if not isinstance(got.value, tuple) or len(got.value) != len(expected):
            return _("it did not return a tuple ({names})").format(names=", ".join(names))
        for name, value, part in zip(names, got.value, expected):
            problem = compare(Outcome(value=value), part, rtol=rtol, atol=atol)
            if problem is not None:
                return f"{name}: {problem}"
        return None
    value, expected = got.value, np.asarray(expected)
    if value.shape != expected.shape:
        return _("the shape is {shape}; expected {expected}").format(shape=value.shape,
                                                                     expected=expected.shape)
    if value.dtype.kind == "c":
        return _("complex numbers were returned")
    value = value.astype(np.float64)
    expected = expected.astype(np.float64)
    nan = np.isnan(value) & ~np.isnan(expected)
    if nan.any():
        return _("nan where a number was expected")
    inf = np.isinf(value) & ~np.isinf(expected)
    if inf.any():
        if (value[inf] > 0).all():
            return _("inf where a finite number was expected")
        return _("-inf where a finite number was expected")
    try:
        np.testing.assert_allclose(value, expected, rtol=rtol, atol=atol, equal_nan=True)
    except AssertionError:
        with np.errstate(invalid="ignore"):
            diff = np.abs(value - expected)
        diff = np.where(np.isnan(diff), 0.0, diff)  # inf - inf: the infinities agree
        if diff.ndim == 0:
            return _("the value differs by {diff}").format(diff=f"{float(diff):.3g}")
        i = np.unravel_index(np.argmax(diff), diff.shape)
        return _("the values differ (by up to {diff}, at index {index})").format(
            diff=f"{float(diff[i]):.3g}", index=tuple(int(k) for k in i))
    return None


_NOT_NUMBERS = {"ReturnedNone", "NotNumbers"}

#: Raise when a mistake detector fails (tests set this), instead of skipping it.
STRICT = False


class Evidence:
    """A read-only view of one exercise's tests and outcomes, handed to mistake detectors."""

    def __init__(self, exercise: Exercise, cases: Sequence[Case], outcomes: Mapping[str, Outcome]):
        self.exercise = exercise
        self.cases = {c.name: c for c in cases}
        self.outcomes = outcomes
        self._expected = {}

    def outcome(self, name) -> Outcome:
        return self.outcomes[name]

    def expected(self, name):
        if name not in self._expected:
            self._expected[name] = self.exercise.expected(self.cases[name])
        return self._expected[name]

    def right(self, name) -> bool:
        """True when test ``name`` ran and returned the right value (changed input or not)."""
        return self.exercise.compare(self.outcomes[name], self.cases[name], self.expected(name)) is None

    def passed(self, name) -> bool:
        """True when test ``name`` returned the right value and left its input alone."""
        return self.right(name) and not self.outcomes[name].mutated

    def names(self):
        """The names of the tests that ran, in order."""
        return [n for n in self.cases if n in self.outcomes]


def _tol(case_tol, default):
    return default if case_tol is None else case_tol


def judge(exercise: Exercise, cases: Sequence[Case], outcomes: Mapping[str, Outcome], *,
          hidden: frozenset = frozenset(), lang: str | None = None) -> CheckResult:
    """Turn the outcomes of an exercise's tests into a :class:`CheckResult`.

    Parameters
    ----------
    exercise : Exercise
    cases : sequence of Case
        The tests that were run (public, and for a grader, hidden ones).
    outcomes : mapping of str to Outcome
        One outcome per test name. A test without an outcome counts as failed.
    hidden : frozenset of str
        Names of tests whose inputs must not be shown: their failures say only that a hidden
        test failed, and hints name "one of the hidden tests" instead of the input.
    lang : str, optional
        The language of the verdict (``"en"``, ``"ko"``); default: the language in effect
        (:func:`course_lib.i18n.get_language`). The result remembers it.

    Returns
    -------
    CheckResult
    """
    with language(get_language(lang)) as lang:
        result = _judge(exercise, cases, outcomes, hidden)
    result.lang = lang
    return result


def _judge(exercise, cases, outcomes, hidden) -> CheckResult:
    params = exercise.params
    ev = Evidence(exercise, cases, outcomes)
    ran = [outcomes.get(c.name) for c in cases]
    if ran and all(o is not None and o.not_implemented for o in ran):
        return CheckResult.not_implemented(exercise.name, exercise.points, len(cases))

    failures, n_passed = [], 0
    for c in cases:
        o = outcomes.get(c.name)
        if o is None:
            failures.append(Failure(c.name, None if c.name in hidden else c.describe(params),
                                    "", _("no result"), _("the test did not run"),
                                    hidden=c.name in hidden))
            continue
        exp = exercise.expected(c)
        problem = exercise.compare(o, c, exp)
        if problem is None and o.mutated:
            problem = _("it changed the array it was given")
            if o.changed and c.name not in hidden:  # before and after, not "expected X, got X"
                failures.append(Failure(c.name, c.describe(params), "", o.changed, problem,
                                        changed=True))
                continue
        if problem is None:
            n_passed += 1
            continue
        failures.append(Failure(
            test=c.name,
            input=None if c.name in hidden else c.describe(params),
            expected=show_value(exp, exercise.returns),
            got=o.shown(exercise.returns),
            problem=problem,
            hidden=c.name in hidden,
        ))
    delegated = next((d for d in map(exercise.delegated_to, filter(None, ran)) if d), None)
    if delegated is not None:
        return CheckResult.delegated_to(exercise.name, exercise.points, delegated,
                                        n_passed, len(cases))

    diagnosed = _diagnose(exercise, ev, hidden) if failures else []
    for f in failures:
        for mistake, test, hint, _more in diagnosed:
            if test == f.test:
                f.hint = hint
                f.mistake = mistake.name
                break
    score = round(exercise.points * n_passed / len(cases), 2) if cases else 0.0
    return CheckResult(
        name=exercise.name,
        passed=not failures,
        score=exercise.points if not failures else min(score, exercise.points),
        max_score=exercise.points,
        failures=failures,
        n_passed=n_passed,
        n_tests=len(cases),
        mistakes=[(m.name, h) for m, _test, h, _more in diagnosed],
        more_help={m.name: more for m, _test, _hint, more in diagnosed if more},
    )


def _diagnose(exercise: Exercise, ev: Evidence, hidden) -> list:
    found = []
    for mistake in exercise.mistakes:
        try:
            with np.errstate(all="ignore"):
                test = mistake.detect(ev)
        except Exception as exc:  # a detector's bug must not break a student's check
            if STRICT:  # the test-suite turns this on, so such bugs are found
                raise RuntimeError(f"mistake detector {mistake.name!r} of {exercise.name} failed") from exc
            continue
        if test is not None:
            found.append((mistake, test))
    superseded = {s for m, _test in found for s in m.supersedes}
    out = []
    for mistake, test in found:
        if mistake.name in superseded:
            continue
        if test in hidden:  # an error message is the student's own; a value might hint the input
            o = ev.outcome(test)
            shown_input = _("one of the hidden tests")
            got = o.phrase() if o.error is not None else _("a wrong result")
        else:
            shown_input = ev.cases[test].describe(exercise.params)
            got = ev.outcome(test).phrase(exercise.returns)
        out.append((mistake, test, mistake.text("hint", input=shown_input, got=got),
                    mistake.text("more", input=shown_input, got=got)))
    return out
