"""Calling a student's function safely, one test at a time, and turning what it did into data.

Each call gets fresh copies of the test's arguments (so nothing a call does carries over), runs
with numpy warnings and printing silenced (their symptoms become hints instead), and is checked
afterwards for having changed the arrays it was given. Exceptions become text: a wrong or
unfinished answer never raises out of here. ``KeyboardInterrupt`` is let through, so a learner can
stop a function that never returns.

This module imports nothing from the course but numpy: the instructor's grader sends its source
into a student's kernel and runs :func:`run_requests` there, so that only plain data (JSON and
``.npy`` files, never pickles) comes back to be judged in the grader's own process. Its messages
go through :mod:`course_lib.i18n` where that can be imported (in the kernel, in the language
``SOFTMAX_COURSE_LANG`` gives it), and stay English where it cannot.
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import io
import json
import linecache
import os
import sys
import warnings

import numpy as np

__all__ = ["call", "run_case", "signature_problem", "as_numbers", "as_parts", "run_requests",
           "library_calls"]

#: Modules whose functions are recorded when a learner's function calls them (see
#: :func:`library_calls`): the course's reference implementations and scipy.special.
WATCHED = ("course_lib.", "scipy.special")
#: The course's own machinery, never recorded (it is not a reference implementation).
NOT_WATCHED = ("course_lib.grading", "course_lib.exercises", "course_lib.batch")
MAX_CALLS = 20  # library functions recorded per call, at most


def _(message: str) -> str:
    """``message`` in the language in effect (English where course_lib cannot be imported)."""
    try:
        from course_lib.i18n import gettext
    except Exception:  # this module runs on its own too
        return message
    return gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural message for ``n``, as :func:`_` translates."""
    try:
        from course_lib.i18n import ngettext as translate
    except Exception:
        return singular if n == 1 else plural
    return translate(singular, plural, n)


def signature_problem(obj, args, kwargs) -> str | None:
    """Why ``obj`` cannot be called with ``args`` and ``kwargs``, or None.

    Examples
    --------
    >>> signature_problem(lambda z: z, ([1.0],), {"axis": 0})
    "got an unexpected keyword argument 'axis'"
    """
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):  # builtins and ufuncs: just call them
        return None
    try:
        sig.bind(*args, **kwargs)
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
    'ReturnedNone: returned None (is a `return` missing?)'
    >>> as_numbers("0.1 0.9")[1]
    'NotNumbers: returned a str, not numbers'
    """
    if result is None:
        return None, "ReturnedNone: " + _("returned None (is a `return` missing?)")
    kind = type(result).__name__
    result = _from_tensor(result)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = np.array(result, copy=True, subok=False)
    except Exception as exc:
        return None, "NotNumbers: " + _(
            "returned a {type}, which numpy cannot read as an array ({error})").format(
                type=kind, error=exc)
    if value.dtype.kind not in "biufc":
        return None, "NotNumbers: " + _("returned a {type}, not numbers").format(type=kind)
    return value, None


# --- PyTorch tensors (lesson 08): read as arrays, without importing torch -----------------------
def _from_tensor(result):
    """A torch tensor as a numpy array (detached, on the CPU, bfloat16 widened to float32);
    anything else unchanged. torch is never imported here: a tensor brings its own methods."""
    if not (type(result).__module__.split(".")[0] == "torch" and hasattr(result, "detach")):
        return result
    try:
        t = result.detach().cpu()
        if str(t.dtype) == "torch.bfloat16":  # numpy has no bfloat16
            t = t.float()
        return t.numpy()
    except Exception:  # not readable as a tensor after all: let numpy say what it is
        return result


def as_parts(result, parts) -> tuple:
    """Read a result that must be a tuple of ``len(parts)`` arrays, named ``parts``.

    Returns ``(tuple of arrays, None)`` or ``(None, error text)``.

    Examples
    --------
    >>> as_parts(([1.0, 2.0], [[0.5, 0.5]]), ("output", "weights"))[0]
    (array([1., 2.]), array([[0.5, 0.5]]))
    >>> as_parts(np.zeros((2, 3)), ("output", "weights"))[1]
    'NotNumbers: returned a ndarray, not a tuple (output, weights)'
    >>> as_parts((np.zeros(3),), ("output", "weights"))[1]
    'NotNumbers: returned a tuple of 1 value, not a tuple (output, weights)'
    """
    wanted = _("a tuple ({names})").format(names=", ".join(parts))
    if result is None:
        return None, "ReturnedNone: " + _(
            "returned None (is a `return` missing?); expected {wanted}").format(wanted=wanted)
    kind = type(result).__name__
    if not isinstance(result, (tuple, list)) or len(result) != len(parts):
        if isinstance(result, (tuple, list)):
            what = ngettext("a {type} of {n} value", "a {type} of {n} values",
                            len(result)).format(type=kind, n=len(result))
        else:
            what = _("a {type}").format(type=kind)
        return None, "NotNumbers: " + _("returned {what}, not {wanted}").format(what=what,
                                                                               wanted=wanted)
    values = []
    for i, (name, part) in enumerate(zip(parts, result), 1):
        value, error = as_numbers(part)
        if error is not None:
            kind, _sep, message = error.partition(": ")
            return None, f"{kind}: " + _("{name} (value {i} of the tuple) {message}").format(
                name=name, i=i, message=message)
        values.append(value)
    return tuple(values), None


def _public_name(frame) -> str | None:
    """``module.qualname`` of a frame's function if its module is watched, else None.

    Private submodules are dropped (``scipy.special._logsumexp.softmax`` is recorded as
    ``scipy.special.softmax``, its public name)."""
    module = frame.f_globals.get("__name__", "")
    if not isinstance(module, str) or not module.startswith(WATCHED) or module.startswith(NOT_WATCHED):
        return None
    code = frame.f_code
    if code.co_name == "<module>":  # a module being imported: not a call of its functions
        return None
    public = ".".join(p for p in module.split(".") if not p.startswith("_"))
    return f"{public}.{getattr(code, 'co_qualname', code.co_name)}"


@contextlib.contextmanager
def library_calls(record: list):
    """Record, in ``record``, the watched library functions called inside the block.

    Only the outermost ones: the functions a learner's code called, not what those call in
    turn. Detected by what runs (``sys.setprofile``), not by reading the learner's text, so an
    import under another name or a call through a helper is seen too.

    Examples
    --------
    >>> import scipy.special
    >>> seen = []
    >>> with library_calls(seen):
    ...     _ = scipy.special.softmax([1.0, 2.0])
    >>> seen
    ['scipy.special.softmax']
    """
    depth = [0, 0]  # inside a watched function; inside an import (module code running)
    previous = sys.getprofile()

    def profile(frame, event, arg):
        if event not in ("call", "return"):
            return
        if frame.f_code.co_name == "<module>" and frame.f_globals.get("__spec__") is not None:
            # an import runs the module's code (its globals have a __spec__): not a call
            depth[1] += 1 if event == "call" else -1
            return
        if depth[1] > 0:
            return
        name = _public_name(frame)
        if name is None:
            return
        if event == "call":
            if depth[0] == 0 and name not in record and len(record) < MAX_CALLS:
                record.append(name)
            depth[0] += 1
        elif depth[0]:
            depth[0] -= 1

    sys.setprofile(profile)
    try:
        yield record
    finally:
        sys.setprofile(previous)


def _cell_name(filename) -> str:
    """How Jupyter names the cell a file name belongs to (``cell [5]``), or the file's name."""
    try:
        from IPython import get_ipython

        shell = get_ipython()
        if shell is not None:
            kind, number = shell.compile.format_code_name(filename) or (None, None)
            if kind:
                return f"{kind.lower()} {number.replace('In', '')}"
    except Exception:  # pragma: no cover - an unusual IPython: fall back to the file name
        pass
    return os.path.basename(filename)


def where_raised(exc) -> str | None:
    """The line of the learner's own code that raised ``exc``: ``cell [5], line 3: e = ...``.

    The last frame of the traceback outside numpy, the standard library and this module, so an
    error raised inside ``np.exp`` is shown at the learner's line that called it."""
    here = globals().get("__file__")  # None when a grader exec()s this source in a kernel
    skip = {os.path.normcase(os.path.abspath(here))} if here else set()
    roots = tuple(os.path.normcase(os.path.abspath(p)) + os.sep for p in
                  {os.path.dirname(os.__file__), os.path.dirname(os.path.dirname(np.__file__))})
    found = None
    tb = exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        path = os.path.normcase(os.path.abspath(filename))
        if path not in skip and not path.startswith(roots):
            found = (filename, tb.tb_lineno)
        tb = tb.tb_next
    if found is None:
        return None
    filename, line = found
    text = linecache.getline(filename, line).strip()
    where = _("{cell}, line {line}").format(cell=_cell_name(filename), line=line)
    return f"{where}: {text}" if text else where


def _changes(given, after, names) -> str | None:
    """``z was [3, 1] before the call and [0, -2] after``, for the first argument changed."""
    for name, a, b in zip(names, given, after):
        if not _same(a, b):
            def short(x):
                try:
                    text = np.array2string(np.asarray(x), separator=", ", threshold=12,
                                           edgeitems=3,
                                           formatter={"float_kind": lambda v: f"{v:.8g}"})
                except Exception:
                    return _("a {type}").format(type=type(x).__name__)
                return " ".join(text.split())
            return _("{name}: before the call {before}, after {after}").format(
                name=name, before=short(a), after=short(b))
    return None


def _names(obj, args, kwargs) -> list:
    try:
        bound = inspect.signature(obj).bind(*args, **kwargs)
        return list(bound.arguments)
    except (TypeError, ValueError):
        return [_("argument {i}").format(i=i) for i in range(1, len(args) + 1)] + list(kwargs)


def call(obj, args, kwargs, parts=()) -> dict:
    """Call ``obj(*args, **kwargs)`` on copies and describe what happened, as plain data.

    ``parts`` names the values of a function that returns a tuple (``("output", "weights")``);
    empty for a function that returns one array.

    Returns
    -------
    dict
        ``value`` (numpy array, a tuple of them, or None), ``error`` (``"TypeName: message"`` or
        None), ``not_implemented`` (bool) and ``mutated`` (bool: an argument was changed); and
        three optional keys (plain strings): ``library_calls`` (list of the watched library
        functions the call used, see :func:`library_calls`), ``where`` (for an error, the line
        of the learner's code that raised it, see :func:`where_raised`) and ``changed`` (for a
        changed argument, its value before and after).
    """
    problem = signature_problem(obj, args, kwargs)
    if problem is not None:
        return dict(value=None, error=f"SignatureError: {problem}", not_implemented=False,
                    mutated=False)
    args, kwargs = copy.deepcopy(tuple(args)), copy.deepcopy(dict(kwargs))
    given = copy.deepcopy((args, kwargs))
    sink = io.StringIO()
    used = []
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"), \
                contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            warnings.simplefilter("ignore")
            with library_calls(used):
                result = obj(*args, **kwargs)
    except NotImplementedError:
        return dict(value=None, error=None, not_implemented=True, mutated=False)
    except (Exception, SystemExit) as exc:
        text = str(exc).strip()
        message = text.splitlines()[0] if text else ""
        mutated = not _same(given, (args, kwargs))
        return dict(value=None, error=f"{type(exc).__name__}: {message}".rstrip(": "),
                    not_implemented=False, mutated=mutated, library_calls=used,
                    where=where_raised(exc), changed=_changed(obj, given, args, kwargs, mutated))
    mutated = not _same(given, (args, kwargs))
    value, error = as_parts(result, tuple(parts)) if parts else as_numbers(result)
    return dict(value=value, error=error, not_implemented=False, mutated=mutated,
                library_calls=used, where=None,
                changed=_changed(obj, given, args, kwargs, mutated))


def _changed(obj, given, args, kwargs, mutated):
    if not mutated:
        return None
    before = list(given[0]) + list(given[1].values())
    after = list(args) + list(kwargs.values())
    return _changes(before, after, _names(obj, given[0], given[1]))


def run_case(obj, case, parts=()):
    """Call ``obj`` on one test (:class:`~course_lib.grading.exercise.Case`) and return its
    :class:`~course_lib.grading.exercise.Outcome`.

    Examples
    --------
    >>> from course_lib.grading import Case
    >>> def halve(z):
    ...     z /= 2          # changes the caller's array
    ...     return z
    >>> out = run_case(halve, Case("t", (np.array([2.0, 4.0]),)))
    >>> out.value, out.mutated
    (array([1., 2.]), True)
    >>> run_case(lambda z: 1 / 0, Case("t", ([1.0],))).error
    'ZeroDivisionError: division by zero'
    """
    from course_lib.grading.exercise import Outcome

    result = call(obj, case.args, case.kwargs, parts)
    result["library_calls"] = tuple(result.get("library_calls", ()))
    return Outcome(**result)


# --- the kernel side of a notebook grader -------------------------------------------------------
def encode_argument(value, folder, stem) -> dict:
    """Write one argument as plain data: arrays to ``.npy``, numbers and lists as JSON."""
    if isinstance(value, np.ndarray):
        np.save(os.path.join(folder, stem + ".npy"), value, allow_pickle=False)
        return {"npy": stem + ".npy"}
    if isinstance(value, (np.floating, np.integer)):
        value = value.item()
    return {"json": value}


def decode_argument(spec, folder):
    if "npy" in spec:
        return np.load(os.path.join(folder, os.path.basename(spec["npy"])), allow_pickle=False)
    return spec["json"]


def run_requests(namespace, folder) -> None:
    """Kernel side: call the functions named in ``folder/request.json`` and write the outcomes.

    ``request.json`` holds ``{"calls": [{"id", "function", "args", "kwargs", "parts"}, ...]}``
    with arguments encoded by :func:`encode_argument`. Each outcome is appended to
    ``outcomes.jsonl`` as soon as its call returns (``{"id", "outcome"}``; values as
    ``<id>.out.npy``, or a list of ``<id>.out<i>.npy`` for a tuple), so the calls made before
    an interrupted one still count. A name that is not a function in ``namespace`` gives
    ``{"missing": true}``.
    """
    with open(os.path.join(folder, "request.json"), encoding="utf-8") as f:
        request = json.load(f)
    # append mode (O_APPEND): every line lands at the end of the file, so a line written by
    # anything else in the kernel (a thread, a child) stays there for the worker to count;
    # a plain "w" would write over it from its own offset and hide the forgery
    with open(os.path.join(folder, "outcomes.jsonl"), "a", encoding="utf-8") as sink:
        for item in request["calls"]:
            fn = namespace.get(item["function"])
            if not callable(fn):
                result = {"missing": True}
            else:
                args = [decode_argument(a, folder) for a in item["args"]]
                kwargs = {k: decode_argument(v, folder) for k, v in item["kwargs"].items()}
                result = call(fn, args, kwargs, item.get("parts", ()))
                value = result.pop("value")
                if isinstance(value, tuple):
                    names = [f"{item['id']}.out{i}.npy" for i in range(len(value))]
                    for name, part in zip(names, value):
                        np.save(os.path.join(folder, name), part, allow_pickle=False)
                    result["value"] = names
                elif value is not None:
                    name = f"{item['id']}.out.npy"
                    np.save(os.path.join(folder, name), value, allow_pickle=False)
                    result["value"] = name
            sink.write(json.dumps({"id": item["id"], "outcome": result}) + "\n")
            sink.flush()
