"""Grading a whole notebook as the instructor does: run it, then test its functions from outside.

:func:`grade_notebook` runs a private copy of the notebook top to bottom in a fresh kernel, in a
temporary working folder, with a timeout per cell (a cell that runs too long is interrupted and
the run goes on). Then, for each exercise, it sends the public and hidden tests into the kernel as
plain data, calls the student's function *by name* there (so moved, retyped or duplicated cells do
not matter), and judges what comes back in this process, against :mod:`course_lib`. A notebook
that redefines ``check`` or hard-codes the public answers gains nothing: the hidden inputs are
drawn from a seed only the grader knows.

``softmax-course check NOTEBOOK`` prints the report for one notebook.
"""

from __future__ import annotations

import inspect
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..execute import KERNEL_NAME, kernel_manager
from . import run as run_module
from .exercise import Outcome, judge
from .registry import EXERCISES
from .result import CheckResult

__all__ = ["NotebookReport", "grade_notebook", "exercises_for"]

_CHECK_CALL = re.compile(r"""check\(\s*["']([A-Za-z_][A-Za-z0-9_]*)["']""")


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
        ``"cell N: ErrorName: message"`` for each cell that raised or timed out.
    status : str
        ``"graded"``, or why it could not be: ``"not a notebook"``, ``"kernel died"``.
    seconds : float
        Wall time of the run.
    """

    path: str
    results: list = field(default_factory=list)
    cell_errors: list = field(default_factory=list)
    status: str = "graded"
    message: str = ""
    seconds: float = 0.0

    @property
    def score(self) -> float:
        return round(sum(r.score for r in self.results), 2)

    @property
    def max_score(self) -> float:
        return round(sum(r.max_score for r in self.results), 2)

    def summary(self, *, verbose=False) -> str:
        """The report as text: one line per exercise, then the total."""
        lines = [f"{self.path}: {self.status}" + (f" ({self.message})" if self.message else "")
                 + f", {self.seconds:.1f} s"]
        for e in self.cell_errors:
            lines.append(f"  ! {e}")
        width = max([len(r.name) for r in self.results] + [5])
        for r in self.results:
            verdict = {"passed": "passed", "not implemented": "not implemented yet"}.get(
                r.status, f"{r.n_passed} of {r.n_tests} tests passed")
            if r.status == "error":
                verdict = r.message
            lines.append(f"  {r.name:<{width}}  {_pts(r.score):>5} / {_pts(r.max_score):<4} "
                         f"{verdict}")
            if r.mistakes:
                lines.append(f"  {'':<{width}}  likely mistake: {', '.join(n for n, _ in r.mistakes)}")
            if verbose and r.status == "failed":
                lines.extend("      " + ln for ln in str(r).splitlines()[1:])
        lines.append(f"  {'total':<{width}}  {_pts(self.score):>5} / {_pts(self.max_score)}")
        return "\n".join(lines)


def _pts(x) -> str:
    return f"{x:g}"


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


def _read(path):
    import nbformat

    try:
        nb = nbformat.read(str(path), as_version=4)
    except Exception as exc:
        return None, f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    for cell in nb.cells:  # cells without a type or source are repaired, not fatal
        cell.setdefault("source", "")
        if cell.get("cell_type") == "code":
            cell.setdefault("outputs", [])
            cell["outputs"] = []
    return nb, ""


def grade_notebook(path, *, timeout=60.0, seed=None, exercises=None) -> NotebookReport:
    """Run a notebook in a fresh kernel and grade its exercises with public and hidden tests.

    Parameters
    ----------
    path : path-like
        The notebook. It is never modified: a copy runs in a temporary folder.
    timeout : float
        Seconds each cell may run before it is interrupted (the run then goes on).
    seed : int, optional
        Seed of the hidden tests. Default: drawn at random (so a notebook cannot know them).
    exercises : list of str, optional
        The exercises to grade. Default: :func:`exercises_for` the notebook.

    Returns
    -------
    NotebookReport
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    start = time.perf_counter()
    report = NotebookReport(str(path))
    nb, problem = _read(path)
    if nb is None:
        report.status, report.message = "not a notebook", problem
        return report
    names = list(exercises) if exercises is not None else exercises_for(path, nb)
    if seed is None:
        seed = int.from_bytes(os.urandom(4), "little")
    work = Path(tempfile.mkdtemp(prefix="softmax-course-grade-"))
    try:
        client = NotebookClient(
            nb, km=kernel_manager(), timeout=timeout, kernel_name=KERNEL_NAME, allow_errors=True,
            record_timing=False,
            interrupt_on_timeout=True,
            error_on_timeout={"ename": "Timeout", "evalue": f"the cell ran longer than {timeout:g} s "
                              "and was interrupted", "traceback": []},
            resources={"metadata": {"path": str(work)}},
        )
        # the kernel's own stderr is only ipykernel's start-up chatter; cells' output comes
        # through the kernel protocol either way
        with client.setup_kernel(cwd=str(work), stderr=subprocess.DEVNULL):
            for index, cell in enumerate(nb.cells):
                if cell.get("cell_type") != "code":
                    continue
                began = time.perf_counter()
                try:
                    client.execute_cell(cell, index)
                except DeadKernelError:
                    report.cell_errors.append(f"cell {index}: the kernel died")
                    report.status = "kernel died"
                    break
                timed_out = time.perf_counter() - began >= timeout
                for out in cell.get("outputs", []):
                    if out.get("output_type") != "error":
                        continue
                    if timed_out and out.get("ename") in ("KeyboardInterrupt", "Timeout"):
                        report.cell_errors.append(f"cell {index}: ran longer than {timeout:g} s "
                                                  "and was interrupted")
                    else:
                        report.cell_errors.append(f"cell {index}: {out.get('ename')}: "
                                                  f"{str(out.get('evalue', ''))[:200]}")
            outcomes = {} if report.status != "graded" else _call_in_kernel(client, names, seed, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report.results = [_judge(name, seed, outcomes.get(name)) for name in names]
    report.seconds = time.perf_counter() - start
    return report


def _cases(name, seed):
    ex = EXERCISES[name]
    return list(ex.public), ex.hidden_cases(seed)


def _call_in_kernel(client, names, seed, work) -> dict:
    """Send every test of every exercise into the kernel; return name -> {test: Outcome}."""
    import nbformat

    folder = work / f".grading-{os.urandom(8).hex()}"
    folder.mkdir()
    calls = []
    for name in names:
        public, hidden = _cases(name, seed)
        for case in public + hidden:
            cid = f"{name}.{case.name}"
            args = [run_module.encode_argument(a, str(folder), f"{cid}.a{i}")
                    for i, a in enumerate(case.args)]
            kwargs = {k: run_module.encode_argument(v, str(folder), f"{cid}.k{k}")
                      for k, v in case.kwargs.items()}
            calls.append({"id": cid, "function": name, "args": args, "kwargs": kwargs,
                          "parts": list(EXERCISES[name].returns)})
    (folder / "request.json").write_text(json.dumps({"calls": calls}), encoding="utf-8")
    code = (
        "def __softmax_course_grade():\n"
        "    __ns = {'__name__': 'softmax_course_grading'}\n"
        f"    exec({inspect.getsource(run_module)!r}, __ns)\n"
        f"    __ns['run_requests'](globals(), {str(folder)!r})\n"
        "__softmax_course_grade()\n"
        "del __softmax_course_grade\n"
    )
    cell = nbformat.v4.new_code_cell(code)
    client.nb.cells.append(cell)  # the grader's own cell, run after the student's
    client.execute_cell(cell, len(client.nb.cells) - 1)
    try:
        raw = json.loads((folder / "outcomes.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    per_exercise = {}
    for cid, data in raw.items():
        name, _, test = cid.partition(".")
        if data.get("missing"):
            per_exercise[name] = None
            continue
        value, stored = None, data.get("value")
        try:
            if isinstance(stored, str):
                value = np.load(folder / os.path.basename(stored), allow_pickle=False)
            elif isinstance(stored, list):
                value = tuple(np.load(folder / os.path.basename(str(s)), allow_pickle=False)
                              for s in stored)
        except (OSError, ValueError):
            data["error"] = "NotNumbers: the result could not be read back"
        outcome = Outcome(value=value, error=data.get("error"),
                          not_implemented=bool(data.get("not_implemented")),
                          mutated=bool(data.get("mutated")))
        if per_exercise.get(name, {}) is not None:
            per_exercise.setdefault(name, {})[test] = outcome
    return per_exercise


def _judge(name, seed, outcomes) -> CheckResult:
    ex = EXERCISES[name]
    if outcomes is None or not outcomes:
        return CheckResult.error(name, ex.points, f"no function named {name} was defined")
    public, hidden = _cases(name, seed)
    return judge(ex, public + hidden, outcomes, hidden=frozenset(c.name for c in hidden))
