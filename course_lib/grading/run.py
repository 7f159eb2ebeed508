"""Calling a student's function safely, one test at a time, and turning what it did into data.

Each call gets fresh copies of the test's arguments (so nothing a call does carries over), runs
with numpy warnings and printing silenced (their symptoms become hints instead), and is checked
afterwards for having changed the arrays it was given. Exceptions become text: a wrong or
unfinished answer never raises out of here. ``KeyboardInterrupt`` is let through, so a learner can
stop a function that never returns.
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import io
import warnings

import numpy as np

from .exercise import Case, Outcome

__all__ = ["run_case", "signature_problem"]


def signature_problem(obj, case: Case) -> str | None:
    """Why ``obj`` cannot be called with the test's arguments, or None.

    Examples
    --------
    >>> signature_problem(lambda z: z, Case("t", ([1.0],), {"axis": 0}))
    "got an unexpected keyword argument 'axis'"
    """
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):  # builtins and ufuncs: just call them
        return None
    try:
        sig.bind(*case.args, **case.kwargs)
    except TypeError as exc:
        return str(exc)
    return None


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.dtype == b.dtype
                and a.shape == b.shape and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, float) and isinstance(b, float) and a != a and b != b:
        return True
    return type(a) is type(b) and a == b


def as_numbers(result) -> tuple:
    """``(array, None)`` for a result that reads as numbers, else ``(None, error text)``.

    Examples
    --------
    >>> as_numbers([0.5, 0.5])[0]
    array([0.5, 0.5])
    >>> as_numbers(None)[1]
    'ReturnedNone: the function returned None (is a `return` missing?)'
    """
    if result is None:
        return None, "ReturnedNone: the function returned None (is a `return` missing?)"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = np.array(result, copy=True, subok=False)
    except Exception as exc:
        return None, f"NotNumbers: the result ({type(result).__name__}) could not be read as " \
                     f"an array: {exc}"
    if value.dtype.kind not in "biufc":
        return None, f"NotNumbers: the result is a {type(result).__name__} of " \
                     f"{value.dtype} values, not numbers"
    return value, None


def run_case(obj, case: Case) -> Outcome:
    """Call ``obj`` on one test and record what happened.

    Parameters
    ----------
    obj : callable
        The student's function.
    case : Case
        The test. Its arguments are deep-copied for the call; the originals are never exposed.

    Returns
    -------
    Outcome

    Examples
    --------
    >>> def halve(z):
    ...     z /= 2          # changes the caller's array
    ...     return z
    >>> out = run_case(halve, Case("t", (np.array([2.0, 4.0]),)))
    >>> out.value, out.mutated
    (array([1., 2.]), True)
    >>> run_case(lambda z: 1 / 0, Case("t", ([1.0],))).error
    'ZeroDivisionError: division by zero'
    """
    problem = signature_problem(obj, case)
    if problem is not None:
        return Outcome(error=f"SignatureError: {problem}")
    args, kwargs = copy.deepcopy(case.args), copy.deepcopy(case.kwargs)
    given = copy.deepcopy((args, kwargs))
    sink = io.StringIO()
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"), \
                contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            warnings.simplefilter("ignore")
            result = obj(*args, **kwargs)
    except NotImplementedError:
        return Outcome(not_implemented=True)
    except (Exception, SystemExit) as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return Outcome(error=f"{type(exc).__name__}: {message}".rstrip(": "),
                       mutated=not _same(given, (args, kwargs)))
    mutated = not _same(given, (args, kwargs))
    value, error = as_numbers(result)
    return Outcome(value=value, error=error, mutated=mutated)
