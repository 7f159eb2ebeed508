"""``check(name, obj)``: the student's button. It runs an exercise's public tests on a function and
shows what passed, what failed on which input, and which known mistake the symptoms point to.
"""

from __future__ import annotations

from ..i18n import get_language, gettext as _, language
from .exercise import judge
from .registry import EXERCISES, unknown_name_message
from .result import CheckResult
from .run import run_case

__all__ = ["check"]


def check(name, obj, *, show=True, hints=1, lang=None) -> CheckResult:
    """Check a function against the public tests of the exercise ``name``.

    It never raises for a wrong or unfinished answer, so "Run all" keeps going: errors raised by
    the function become part of the verdict.

    Parameters
    ----------
    name : str
        The exercise, e.g. ``"softmax"`` (see COURSE.md for the list).
    obj : callable
        Your function itself, without parentheses: ``check("softmax", softmax)``.
    show : bool, default True
        Display the verdict (HTML in Jupyter, text elsewhere). Set False to only get it back.
    hints : int, default 1
        How much help to show for a known mistake: 1, the idea; 2, also the "more help" step
        (in the HTML it is always there, folded under "More help").
    lang : {"en", "ko"}, optional
        The language of the verdict. Default: the language in effect
        (``SOFTMAX_COURSE_LANG``, else the notebook's ``set_language(...)``, else English; see
        :mod:`course_lib.i18n`). The result remembers it.

    Returns
    -------
    CheckResult
        ``passed``, ``score``, ``max_score`` and ``failures`` (each with the input tried, what was
        expected, what came back and a hint).

    Examples
    --------
    >>> import numpy as np
    >>> def softmax(z):
    ...     e = np.exp(np.asarray(z, dtype=float))      # no max trick
    ...     return e / e.sum()
    >>> result = check("softmax", softmax, show=False)
    >>> result.passed, result.mistakes[0][0]
    (False, 'no max trick')
    >>> print(result.failures[0].input, "->", result.failures[0].got)
    z = [1000, 0, 0] -> [nan, 0, 0]
    >>> print(check("softmax", softmax, show=False, lang="ko").failures[0].problem)
    숫자가 나와야 할 자리에 nan이 나왔습니다
    """
    lang = get_language(lang)  # an unknown language is the caller's error: it raises here
    with language(lang):
        try:
            result = _check(name, obj)
        except Exception as exc:  # a bug of the checker's must not stop "Run all"
            from . import exercise

            if exercise.STRICT:
                raise
            result = CheckResult.error(str(name), 0.0, _(
                "The checker itself failed ({error}). This is a bug in the course, not in your "
                "code: please report it.").format(error=f"{type(exc).__name__}: {exc}"))
    result.lang = lang
    if show:
        result.show(hints)
        result.mark_shown()  # if it is also the cell's value, the display hook skips it
    return result


def _check(name, obj) -> CheckResult:
    exercise = EXERCISES.get(name) if isinstance(name, str) else None
    if exercise is None:
        return CheckResult.error(str(name), 0.0, unknown_name_message(name))
    if not callable(obj):
        return CheckResult.error(name, exercise.points, _(
            "check needs the function itself, but got a {type}. "
            "Write {call} -- the name, without parentheses.").format(
                type=type(obj).__name__, call=f"check({name!r}, {exercise.name})"))
    cases = list(exercise.public)
    outcomes = {}
    for case in cases:
        outcomes[case.name] = outcome = run_case(obj, case, exercise.returns)
        if outcome.not_implemented and len(outcomes) == 1:
            # the stub raises on the first test; the others would only say the same
            return CheckResult.not_implemented(name, exercise.points, len(cases))
    return judge(exercise, cases, outcomes)
