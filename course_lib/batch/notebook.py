"""Grading a whole notebook as the instructor does: run it in a sandbox, then judge its functions.

:func:`grade_notebook` reads and repairs the submission (:func:`read_submission`), prepares the
grader's calls (each exercise's public tests, and hidden tests drawn from a seed only the grader
knows, as plain data), and hands both to a worker (:mod:`.worker`) started in a disposable
sandbox of its own (:mod:`.isolation`: bubblewrap, or the fallback). The worker runs the cells in
a fresh kernel (a limit per cell, and one per notebook), calls the student's functions *by name*
there (so moved, retyped or duplicated cells do not matter), and sends back a signed document of
plain data; the outcomes are judged here, against :mod:`course_lib`. A notebook that redefines
``check``, patches numpy or hard-codes the public answers gains nothing.

What a hostile or broken notebook cannot do is in ``docs/grading-threat-model.md``; in short:

* **reach anything outside its sandbox**: not the grader, not a classmate, not the originals or
  the gradebook (not mounted under bubblewrap; denied by Landlock in the fallback);
* **stop the run**: a cell that runs too long is interrupted; a kernel that ignores the
  interrupt, or dies (``os._exit``), is restarted once and the notebook replayed without the
  cell that took it down; an exercise whose function kills the kernel scores 0, with the reason;
  a notebook that runs too long in all has its remaining cells skipped;
* **forge its outcomes**: exactly one outcome per call, with that call's nonce, or the exercise
  is marked as tampered;
* **flood the grader**: cells' printed output and figures are not kept (only error names), and
  what comes back is size-checked and read as JSON and ``.npy`` (never pickle);
* **confuse it with its layout**: duplicate or missing cell ids, ``null`` metadata, cells without
  source, old nbformat versions are repaired (and noted); a function left in a markdown cell is
  pointed out; a file that cannot be read is a row with the reason.

``softmax-course check NOTEBOOK`` prints the report for one notebook; ``softmax-course grade``
runs many (:mod:`.gradebook`).

Each submission is graded in a language (:func:`notebook_language`): the one chosen
(``--lang``), else its own notebook's, read from its source without running it. Its kernel gets
it in ``SOFTMAX_COURSE_LANG``, and its verdicts are made in it here, in the grader's process: what
a notebook does to its own kernel's language cannot reach another submission's.
"""

from __future__ import annotations

import ast
import dataclasses
import hmac
import json
import os
import re
import shutil
import tempfile
import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path, PurePath

import numpy as np

from . import isolation, worker
from ..grading.exercise import Outcome, judge
from ..grading.registry import EXERCISES
from ..grading.result import CheckResult
from ..i18n import LANGUAGES, DEFAULT, get_language, gettext as _, language, ngettext

__all__ = ["NotebookReport", "grade_notebook", "exercises_for", "read_submission",
           "notebook_language"]

_CHECK_CALL = re.compile(r"""check\(\s*["']([A-Za-z_][A-Za-z0-9_]*)["']""")
MAX_NOTEBOOK_BYTES = 100 * 2**20     # a submission larger than this is not run
MAX_REPLY_BYTES = 512 * 2**20       # the worker's whole reply
PROBE_SECONDS = 10.0                 # how long an interrupted kernel gets to answer again
NOTEBOOK_SECONDS = 600.0             # default limit for a whole notebook (--notebook-timeout)
START_SECONDS = 60.0                 # the sandbox's start and end, beyond the notebook's limits


@dataclass
class NotebookReport:
    """What grading one notebook gave.

    Attributes
    ----------
    path : str
        The notebook, as given.
    results : list of CheckResult
        One per exercise, public and hidden tests together.
    cell_errors : list of str
        ``"cell N: ErrorName: message"`` for each cell that raised, timed out or took the kernel
        down.
    status : str
        ``"graded"``, or why it could not be: ``"not a notebook"``, ``"kernel died"`` (twice:
        nothing could be graded), ``"could not run"``.
    message : str
        Details for a status other than ``"graded"``.
    notes : list of str
        What was repaired or noticed on the way (renamed cell ids, a restarted kernel, ...).
    sandbox : str
        How the worker was confined: ``"bubblewrap"`` or ``"fallback"``, with
        ``"+landlock-N"`` when Landlock (ABI N) held too.
    seconds : float
        Wall time of the run.
    lang : str
        The language the notebook was graded in (its verdicts and messages).
    """

    path: str
    results: list = field(default_factory=list)
    cell_errors: list = field(default_factory=list)
    status: str = "graded"
    message: str = ""
    notes: list = field(default_factory=list)
    sandbox: str = "none"
    seconds: float = 0.0
    peak_bytes: int = 0
    sandbox_id: str = ""
    lang: str = DEFAULT

    @property
    def score(self) -> float:
        return round(sum(r.score for r in self.results), 2)

    @property
    def max_score(self) -> float:
        return round(sum(r.max_score for r in self.results), 2)

    def summary(self, *, verbose=False, lang=None) -> str:
        """The report as text: one line per exercise, then the total; in ``lang`` (default: the
        language the notebook was graded in)."""
        with language(lang or self.lang):
            return self._summary(verbose)

    def _summary(self, verbose) -> str:
        status = status_text(self.status)
        head = (_("{path}: {status} ({message}), {seconds} s") if self.message
                else _("{path}: {status}, {seconds} s"))
        lines = [head.format(path=self.path, status=status, message=self.message,
                             seconds=f"{self.seconds:.1f}")]
        for e in self.cell_errors:
            lines.append(f"  ! {e}")
        for n in self.notes:
            lines.append(f"  - {n}")
        total = _("total")
        width = max([len(r.name) for r in self.results] + [len(total), 5])
        for r in self.results:
            verdict = verdict_text(r.status, r.n_passed, r.n_tests)
            if r.status == "error":
                verdict = r.message
            lines.append(f"  {r.name:<{width}}  {_pts(r.score):>5} / {_pts(r.max_score):<4} "
                         f"{verdict}")
            if r.mistakes:
                named = _(", ").join(_(n) for n, _hint in r.mistakes)
                lines.append(f"  {'':<{width}}  " + _("likely mistake: {names}").format(names=named))
            if verbose and r.status == "failed":
                with language(r.lang):
                    lines.extend("      " + ln for ln in r.text().splitlines()[1:])
        lines.append(f"  {total:<{width}}  {_pts(self.score):>5} / {_pts(self.max_score)}")
        return "\n".join(lines)


def _pts(x) -> str:
    return f"{x:g}"


def status_text(status: str) -> str:
    """A report's status (``"graded"``, ``"not a notebook"``, ...: machine values, kept in the
    gradebook as they are) in the language in effect."""
    return {"graded": _("graded"), "not a notebook": _("not a notebook"),
            "kernel died": _("kernel died"), "could not run": _("could not run"),
            "not graded": _("not graded")}.get(status, status)


def verdict_text(status: str, n_passed: int, n_tests: int) -> str:
    """One exercise's verdict in a few words, in the language in effect."""
    if status == "passed":
        return _("passed")
    if status == "not implemented":
        return _("not implemented yet")
    if status == "error":
        return _("not graded")
    return ngettext("{n_passed} of {n_tests} test passed", "{n_passed} of {n_tests} tests passed",
                    n_tests).format(n_passed=n_passed, n_tests=n_tests)


def notebook_language(nb=None, path=None) -> str:
    """The language of a submission, read from it without running it.

    The first ``set_language("..")`` call in a code cell whose argument is a literal naming a
    course language (anything else is ignored: a notebook is never run to find out); else
    ``"ko"`` when a folder of its path is named ``ko``; else English.

    Examples
    --------
    >>> import nbformat
    >>> cells = ["import course_lib", "set_language(lang)  # not a literal: ignored",
    ...          'set_language("ko")', 'set_language("en")']
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    >>> notebook_language(nb)
    'ko'
    >>> notebook_language(None, "submissions/ko/alice.ipynb")
    'ko'
    >>> notebook_language(nbformat.v4.new_notebook(), "alice.ipynb")
    'en'
    """
    for cell in getattr(nb, "cells", None) or ():
        if cell.get("cell_type") != "code":
            continue
        found = _literal_language(cell.get("source", ""))
        if found is not None:
            return found
    if path is not None and "ko" in PurePath(str(path).replace("\\", "/")).parts[:-1]:
        return "ko"
    return DEFAULT


def _literal_language(source) -> str | None:
    """The language of the first ``set_language("xx")`` in one cell's source, or None."""
    if not isinstance(source, str) or "set_language" not in source:
        return None
    # IPython's magics and shell escapes are not Python: blank them out, keep the line numbers
    lines = ["" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()]
    try:
        tree = ast.parse("\n".join(lines))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    calls = []
    try:
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            f = node.func
            name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
            given = list(node.args) + [k.value for k in node.keywords if k.arg == "lang"]
            if name != "set_language" or len(given) != 1 or len(node.keywords) > 1:
                continue
            arg = given[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                code = arg.value.strip().lower().replace("_", "-").split("-")[0]
                if code in LANGUAGES:
                    calls.append((node.lineno, node.col_offset, code))
    except RecursionError:
        return None
    return min(calls)[2] if calls else None


def exercises_for(path, nb=None) -> list:
    """The exercises a notebook answers: its lesson's (from an ``NN_`` file name prefix) and
    every exercise named in a ``check("name", ...)`` call in its cells, in registry order."""
    names = set()
    m = re.match(r"(\d\d)_", Path(path).name)
    if m:
        names |= {n for n, ex in EXERCISES.items() if ex.lesson == m.group(1)}
    if nb is not None:
        for cell in nb.cells:
            if cell.get("cell_type") == "code":
                names |= set(_CHECK_CALL.findall(cell.get("source", ""))) & EXERCISES.keys()
    return [n for n in EXERCISES if n in names]


# --- reading and repairing a submission ---------------------------------------------------------
def read_submission(data: bytes):
    """Read a submitted notebook from its bytes and repair what can be repaired.

    Returns
    -------
    (nb, notes) or (None, reason)
        The notebook (nbformat 4, code cells without outputs, every cell with a unique id and a
        string source) and what was repaired; or None and why it is not a notebook.

    Examples
    --------
    >>> read_submission(b"%PDF-1.7 ...")
    (None, 'not JSON (a notebook is a JSON file): Expecting value')
    >>> nb, notes = read_submission(b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, '
    ...     b'"cells": [{"cell_type": "code", "id": "a", "source": "1", "metadata": {}}, '
    ...     b'{"cell_type": "code", "id": "a", "source": ["2"], "metadata": {}}]}')
    >>> [c.id for c in nb.cells], notes
    (['a', 'cell-2'], ['1 duplicate or missing cell id renamed'])
    """
    import nbformat

    if len(data) > MAX_NOTEBOOK_BYTES:
        return None, _("{size} MB, larger than {limit} MB").format(
            size=f"{len(data) / 2**20:.0f}", limit=MAX_NOTEBOOK_BYTES // 2**20)
    try:
        raw = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        return None, _("not text (a notebook is a JSON file)")
    except ValueError as exc:
        return None, _("not JSON (a notebook is a JSON file): {error}").format(
            error=str(exc).split(":")[0])
    except RecursionError:
        return None, _("JSON nested too deeply to be a notebook")
    if not isinstance(raw, dict) or "nbformat" not in raw:
        return None, _("JSON, but not a notebook (no nbformat version)")
    notes = []
    version = raw.get("nbformat")
    if not isinstance(version, int) or not 3 <= version <= 4:
        return None, _("nbformat version {version}, which cannot be read (3 and 4 can)").format(
            version=repr(version))
    if version == 3:
        notes.append(_("nbformat 3, upgraded to 4"))
    try:  # no validation: what is broken is repaired below, or reported
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nb = nbformat.from_dict(raw)
            if version == 3:
                nb = nbformat.convert(nb, 4)
    except Exception as exc:
        return None, _("a damaged notebook ({error})").format(
            error=f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}")
    cells, seen, renamed, dropped = [], set(), 0, 0
    if not isinstance(nb.get("metadata"), dict):
        nb["metadata"] = {}
    for i, cell in enumerate(nb.get("cells") if isinstance(nb.get("cells"), list) else [], 1):
        if not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown", "raw"):
            dropped += 1
            continue
        source = cell.get("source", "")
        cell["source"] = ("".join(map(str, source)) if isinstance(source, list)
                          else "" if source is None else str(source))
        if not isinstance(cell.get("metadata"), dict):
            cell["metadata"] = nbformat.NotebookNode()
        for extra in ("attachments",):
            if extra in cell and not isinstance(cell[extra], dict):
                del cell[extra]
        cid = cell.get("id")
        if not isinstance(cid, str) or not cid or cid in seen:
            cid = f"cell-{i}"
            while cid in seen:
                cid += "x"
            cell["id"] = cid
            renamed += 1
        seen.add(cid)
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
        cells.append(cell)
    nb["cells"] = cells
    if renamed:
        notes.append(ngettext("{n} duplicate or missing cell id renamed",
                              "{n} duplicate or missing cell ids renamed", renamed).format(n=renamed))
    if dropped:
        notes.append(ngettext("{n} cell of unknown type ignored",
                              "{n} cells of unknown type ignored", dropped).format(n=dropped))
    return nb, notes


# --- grading: the worker runs in a sandbox; only plain data comes back ----------------------------
_LIVE = set()                   # pids of the running sandboxes' first processes
_LIVE_LOCK = threading.Lock()


def grade_notebook(path, *, timeout=60.0, seed=None, exercises=None, protect=(),
                   data: bytes | None = None, notebook_timeout=None, protection=None,
                   slot: int = 0, base=None, lang=None) -> NotebookReport:
    """Run a notebook in a disposable sandbox and grade its exercises with public and hidden tests.

    Parameters
    ----------
    path : path-like
        The notebook. It is never modified (nor given to the sandbox: its repaired content is).
    timeout : float
        Seconds each cell (and each exercise's set of grader calls) may run before it is
        interrupted (the run then goes on).
    seed : int, optional
        Seed of the hidden tests. Default: drawn at random (so a notebook cannot know them).
    exercises : list of str, optional
        The exercises to grade. Default: :func:`exercises_for` the notebook.
    protect : sequence of path-like
        Further paths the sandbox may not read (the other submissions, the gradebook); they are
        not even mounted in bubblewrap's sandbox; Landlock denies them in the fallback.
    data : bytes, optional
        The notebook's content, when the caller has already read it.
    notebook_timeout : float, optional
        Seconds the whole notebook may run (default :data:`NOTEBOOK_SECONDS`); cells left when
        it is over are not run, the exercises are still called.
    protection : isolation.Protection, optional
        The batch's; default: :func:`isolation.protection` (bubblewrap when it works here).
    slot, base :
        The batch's parallel slot and folder of sandboxes (set by :mod:`.gradebook`).
    lang : {"en", "ko"}, optional
        The language of the verdicts and of the kernel (``SOFTMAX_COURSE_LANG``). Default: the
        notebook's own (:func:`notebook_language`).

    Returns
    -------
    NotebookReport
    """
    lang = None if lang is None else get_language(lang)
    start = time.perf_counter()
    report = NotebookReport(str(path), lang=lang or notebook_language(None, path))
    with language(report.lang):
        try:
            data = Path(path).read_bytes() if data is None else data
        except OSError as exc:
            report.status = "not a notebook"
            report.message = _("cannot be read ({reason})").format(reason=exc.strerror)
            return report
        try:
            nb, notes = read_submission(data)
        except Exception as exc:  # nothing in a file may crash the grader
            nb, notes = None, _("cannot be read ({reason})").format(reason=type(exc).__name__)
    if nb is None:
        report.status, report.message = "not a notebook", notes
        report.seconds = time.perf_counter() - start
        return report
    report.lang = lang or notebook_language(nb, path)
    if notes and lang is None and report.lang != notebook_language(None, path):
        with language(report.lang):  # the repairs, said in the notebook's own language
            notes = read_submission(data)[1]
    report.notes.extend(notes)
    names = list(exercises) if exercises is not None else exercises_for(path, nb)
    if seed is None:
        seed = int.from_bytes(os.urandom(4), "little")
    protection = protection or isolation.protection()
    report.sandbox = protection.mode
    notebook_timeout = NOTEBOOK_SECONDS if notebook_timeout is None else notebook_timeout
    own_base = base is None
    if own_base:
        base = make_base()
    try:
        reply = _run_in_sandbox(nb, names, seed, timeout, notebook_timeout, protection, slot,
                                Path(base), [Path(path), *protect], report)
    except Exception as exc:  # the machine, not the notebook: say so, never crash a batch
        reply = {"status": "could not run", "message": f"{type(exc).__name__}: {exc}"}
    finally:
        if own_base:
            shutil.rmtree(base, ignore_errors=True)
    report.status = reply.get("status", "could not run")
    report.message = reply.get("message", "")
    report.cell_errors.extend(reply.get("cell_errors", []))
    report.notes.extend(reply.get("notes", []))
    if reply.get("landlock"):
        report.sandbox += f"+landlock-{reply['landlock']}"
    got = reply.get("exercises", {})
    with language(report.lang):
        report.results = [_judge(name, seed, got.get(name), nb) for name in names]
    report.seconds = time.perf_counter() - start
    return report


def make_base() -> Path:
    """A batch's folder of sandboxes: traversable only (0711) when sandboxes run as other users."""
    base = Path(tempfile.mkdtemp(prefix="softmax-course-grade-"))
    os.chmod(base, 0o711 if os.getuid() == 0 else 0o700)
    return base


def _calls(name, seed) -> list:
    """The grader's calls of one exercise, as plain data (``.npy`` bytes or JSON)."""
    public, hidden = _cases(name, seed)
    parts = list(EXERCISES[name].returns)

    def spec(value):
        if isinstance(value, np.ndarray):
            return {"npy64": worker.npy_bytes(value)}
        if isinstance(value, (np.floating, np.integer)):
            value = value.item()
        return {"json": value}

    return [{"id": case.name, "parts": parts, "args": [spec(a) for a in case.args],
             "kwargs": {k: spec(v) for k, v in case.kwargs.items()}} for case in public + hidden]


def _run_in_sandbox(nb, names, seed, timeout, notebook_timeout, protection, slot, base,
                    protected, report) -> dict:
    import base64

    key = os.urandom(32)
    box = isolation.Sandbox(base, slot, protection, lang=report.lang)
    report.sandbox_id = box.token
    try:
        command = box.prepare(protected=protected)
        request = {
            "key": base64.b64encode(key).decode("ascii"), "home": box.home,
            "writable": box.writable(), "protected": box.landlock_protected(),
            "notebook": nb, "timeout": timeout, "notebook_timeout": notebook_timeout,
            "probe_seconds": PROBE_SECONDS, "mode": protection.mode,
            "exercises": [{"name": n, "calls": _calls(n, seed)} for n in names],
        }
        payload = json.dumps(request).encode("utf-8")
        del request
        if protection.mode == "fallback":
            isolation.harden_grader()
        proc = _start(box, command)
        limit = notebook_timeout + timeout * (len(names) + 2) + START_SECONDS
        expired = threading.Event()

        def stop():
            expired.set()
            isolation.reap(proc.pid, session=proc.pid, uid=box.uid, cgroup=box.cgroup)

        timer = threading.Timer(limit, stop)
        timer.daemon = True
        timer.start()

        def feed():
            try:
                proc.stdin.write(payload)
                proc.stdin.close()
            except OSError:  # the worker is gone already
                pass

        writer = threading.Thread(target=feed, daemon=True)
        writer.start()
        chunks, size = [], 0
        try:
            while True:
                chunk = proc.stdout.read(1 << 16)
                if not chunk:
                    break
                size += len(chunk)
                if size > MAX_REPLY_BYTES:
                    stop()
                    break
                chunks.append(chunk)
            proc.wait()
        finally:
            timer.cancel()
            # a stop() already running reaps the slot's user: it must be done before end()
            # gives the slot (and that user) to another sandbox, which it would otherwise kill
            timer.join()
            writer.join(5)
            with _LIVE_LOCK:
                _LIVE.discard(proc.pid)
    finally:
        killed = box.end()
        if protection.mode == "fallback":
            _reap_orphans()
        report.peak_bytes = box.peak_bytes
    if expired.is_set():
        with language(report.lang):
            return {"status": "could not run", "message": _(
                "stopped after {seconds} s (the notebook's time limit)").format(
                    seconds=f"{limit:g}")}
    reply = _verify(key, b"".join(chunks))
    if killed and reply.get("status") == "graded":
        with language(report.lang):
            reply.setdefault("notes", []).append(ngettext(
                "{n} process still running when the notebook was done was stopped",
                "{n} processes still running when the notebook was done were stopped",
                killed).format(n=killed))
    return reply


def _start(box, command):
    """Start a sandbox's worker and register it as live, in one step under the lock: a reaper
    running for another slot (:func:`_reap_orphans`) never sees a worker that is running but
    not yet registered, which it would take for an orphan and kill."""
    with _LIVE_LOCK:
        proc = box.start(command)
        _LIVE.add(proc.pid)
    return proc


def _reap_orphans() -> int:
    """Kill the orphans handed to the grader (fallback mode), sparing the live workers. The
    lock is held from the snapshot of the live workers to the last kill, so no worker can
    start in between."""
    with _LIVE_LOCK:
        return isolation.reap_orphans(set(_LIVE))


def _verify(key: bytes, raw: bytes) -> dict:
    """The worker's reply, if it is exactly one document signed with this run's key."""
    lines = raw.split(b"\n")
    if len(lines) != 3 or lines[2] != b"":
        if not raw:
            return {"status": "could not run", "message": "the sandbox ended without a result "
                    "(its worker was stopped)"}
        return {"status": "could not run",
                "message": "tampered: something other than the grader wrote its result"}
    mac, body = lines[0], lines[1]
    if not hmac.compare_digest(mac, worker.sign(key, body)):
        return {"status": "could not run",
                "message": "tampered: the result was not signed by the grader's worker"}
    try:
        reply = json.loads(body.decode("utf-8"))
    except ValueError:
        return {"status": "could not run", "message": "the worker's result cannot be read"}
    return reply if isinstance(reply, dict) else {"status": "could not run", "message": ""}


def _outcomes(got) -> dict | None:
    """Outcomes by test name from the worker's plain data (None: the function is missing)."""
    if got.get("missing"):
        return None
    known = {f.name for f in dataclasses.fields(Outcome)}
    outcomes = {}
    for item in got.get("outcomes", []):
        data = dict(item["outcome"])
        stored, value = data.pop("value", None), None
        try:
            if isinstance(stored, str):
                value = worker.from_npy_bytes(stored)
            elif isinstance(stored, list):
                value = tuple(worker.from_npy_bytes(s) for s in stored)
        except (ValueError, TypeError) as exc:
            data["error"] = "NotNumbers: " + _("the result could not be read back ({error})").format(
                error=exc)
        error = data.get("error")
        fields = {k: v for k, v in data.items() if k in known and k not in ("value", "error")}
        fields.update(value=None if error else value, error=str(error) if error else None,
                      not_implemented=bool(data.get("not_implemented")),
                      mutated=bool(data.get("mutated")))
        outcomes[str(item["test"])] = Outcome(**fields)
    return outcomes


def _cases(name, seed):
    ex = EXERCISES[name]
    return list(ex.public), ex.hidden_cases(seed)

def _in_markdown(nb, name) -> int | None:
    """The index of a markdown or raw cell that holds ``def name(``, if any."""
    pattern = re.compile(rf"^\s*def\s+{re.escape(name)}\s*\(", re.M)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" and pattern.search(cell.source):
            return i
    return None


def _judge(name, seed, got, nb) -> CheckResult:
    """Judge one exercise from the worker's plain data, in this process."""
    ex = EXERCISES[name]
    got = got or {"outcomes": [], "missing": False, "lost": _("the notebook could not be run")}
    if got.get("tampered"):
        # "Tampered" starts the message in every language: the gradebook's notes look for it
        return CheckResult.error(name, ex.points, "Tampered: " + _(
            "the grader's outcome channel was interfered with ({why}), so this exercise "
            "scores 0.").format(why=got["tampered"]))
    outcomes, lost = _outcomes(got), got.get("lost")
    if lost and not outcomes:
        return CheckResult.error(name, ex.points, lost[0].upper() + lost[1:] + ".")
    if not outcomes:
        where = _in_markdown(nb, name)
        if where is None:
            message = _("no function named {name} was defined").format(name=name)
        else:
            message = _("no function named {name} was defined: the {kind} cell number {number} "
                        "from the top defines it, but it is a {kind} cell, which does not run. "
                        "Change it back to a code cell.").format(
                            name=name, kind=nb.cells[where].cell_type, number=where + 1)
        return CheckResult.error(name, ex.points, message)
    public, hidden = _cases(name, seed)
    result = judge(ex, public + hidden, outcomes, hidden=frozenset(c.name for c in hidden))
    if lost:
        result.message = lost
    if result.status == "not implemented":  # the page is not a notebook: no "run this again"
        result.message = _("{name} is not implemented yet: the line `raise "
                           "NotImplementedError(...)` is still in its cell.").format(name=name)
    return result
