"""Grading a whole notebook as the instructor does: run it, then test its functions from outside.

:func:`grade_notebook` runs a private copy of the notebook top to bottom in a fresh kernel, in a
temporary working folder, with a timeout per cell (a cell that runs too long is interrupted and
the run goes on). Then, for each exercise, it sends the public and hidden tests into the kernel as
plain data, calls the student's function *by name* there (so moved, retyped or duplicated cells do
not matter), and judges what comes back in this process, against :mod:`course_lib`. A notebook
that redefines ``check``, patches numpy or hard-codes the public answers gains nothing: the hidden
inputs are drawn from a seed only the grader knows, and the comparison happens here.

What a hostile or broken notebook cannot do:

* **change files**: the kernel starts confined (:mod:`.sandbox`, Linux's Landlock): it can write
  only in its own working folder, and cannot read the ``protected`` paths (the other submissions,
  the gradebook);
* **stop the run**: a cell that runs too long is interrupted; a kernel that ignores the
  interrupt, or dies (``os._exit``), is restarted once and the notebook replayed without the
  cell that took it down; an exercise whose function kills the kernel scores 0, with the reason;
* **flood the grader**: cells' printed output and figures are not kept (only error names), and
  what the kernel sends back is size-checked and read as JSON and ``.npy`` (never pickle);
* **confuse it with its layout**: duplicate or missing cell ids, cells without source, old
  nbformat versions are repaired (and noted); a function left in a markdown cell is pointed out.

``softmax-course check NOTEBOOK`` prints the report for one notebook; ``softmax-course grade``
runs many (:mod:`.gradebook`).
"""

from __future__ import annotations

import inspect
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..execute import KERNEL_NAME
from ..grading import run as run_module
from . import sandbox
from ..grading.exercise import Outcome, judge
from ..grading.registry import EXERCISES
from ..grading.result import CheckResult

__all__ = ["NotebookReport", "grade_notebook", "exercises_for", "read_submission"]

_CHECK_CALL = re.compile(r"""check\(\s*["']([A-Za-z_][A-Za-z0-9_]*)["']""")
MAX_NOTEBOOK_BYTES = 100 * 2**20     # a submission larger than this is not run
MAX_RESULT_BYTES = 64 * 2**20        # one value sent back by the kernel
MEMORY_BYTES = 8 * 2**30             # the kernel's address space
PROBE_SECONDS = 10.0                 # how long an interrupted kernel gets to answer again


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
        How the kernel was confined: ``"landlock-N"`` (ABI version) or ``"none"``.
    seconds : float
        Wall time of the run.
    """

    path: str
    results: list = field(default_factory=list)
    cell_errors: list = field(default_factory=list)
    status: str = "graded"
    message: str = ""
    notes: list = field(default_factory=list)
    sandbox: str = "none"
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
        for n in self.notes:
            lines.append(f"  - {n}")
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
        return None, f"{len(data) / 2**20:.0f} MB, larger than {MAX_NOTEBOOK_BYTES // 2**20} MB"
    try:
        raw = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        return None, "not text (a notebook is a JSON file)"
    except ValueError as exc:
        return None, f"not JSON (a notebook is a JSON file): {str(exc).split(':')[0]}"
    if not isinstance(raw, dict) or "nbformat" not in raw:
        return None, "JSON, but not a notebook (no nbformat version)"
    notes = []
    version = raw.get("nbformat")
    if not isinstance(version, int) or not 3 <= version <= 4:
        return None, f"nbformat version {version!r}, which cannot be read (3 and 4 can)"
    if version == 3:
        notes.append("nbformat 3, upgraded to 4")
    try:  # no validation: what is broken is repaired below, or reported
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nb = nbformat.from_dict(raw)
            if version == 3:
                nb = nbformat.convert(nb, 4)
    except Exception as exc:
        return None, f"a damaged notebook ({type(exc).__name__}: {str(exc).splitlines()[0][:120]})"
    cells, seen, renamed, dropped = [], set(), 0, 0
    nb.setdefault("metadata", {})
    for i, cell in enumerate(nb.get("cells") if isinstance(nb.get("cells"), list) else [], 1):
        if not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown", "raw"):
            dropped += 1
            continue
        source = cell.get("source", "")
        cell["source"] = "".join(source) if isinstance(source, list) else str(source)
        cell.setdefault("metadata", {})
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
        notes.append(f"{renamed} duplicate or missing cell id{'s' if renamed > 1 else ''} renamed")
    if dropped:
        notes.append(f"{dropped} cell{'s' if dropped > 1 else ''} of unknown type ignored")
    return nb, notes


# --- the kernel ----------------------------------------------------------------------------------
def _client_class():
    from nbclient import NotebookClient

    class QuietClient(NotebookClient):
        """Keeps only error outputs: printed text and figures never pile up in the grader."""

        def output(self, outs, msg, display_id, cell_index):
            if msg.get("msg_type") != "error":
                return None
            return super().output(outs, msg, display_id, cell_index)

    return QuietClient


def _kernel_manager(policy_path):
    """A kernel manager whose kernel runs this environment's Python, started in the sandbox."""
    import ipykernel.kernelspec
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager

    class Confined(KernelSpecManager):
        def get_kernel_spec(self, kernel_name):
            spec = ipykernel.kernelspec.get_kernel_dict()
            spec["argv"] = sandbox.launcher(policy_path) + [sys.executable] + spec["argv"][1:]
            return self.kernel_spec_class(resource_dir=ipykernel.kernelspec.RESOURCES, **spec)

    return AsyncKernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=Confined())


def _kernel_env(work: Path) -> dict:
    """The kernel's environment: its caches and temporary files in its own folder."""
    for sub in ("tmp", ".ipython", ".matplotlib"):
        (work / sub).mkdir(exist_ok=True)
    _copy_font_cache(work / ".matplotlib")
    return {
        **os.environ,
        "PYTHONHASHSEED": "0",
        "TMPDIR": str(work / "tmp"),
        "IPYTHONDIR": str(work / ".ipython"),
        "MPLCONFIGDIR": str(work / ".matplotlib"),
        "MPLBACKEND": "module://matplotlib_inline.backend_inline",
        # parallel kernels share the cores: one thread each
        "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
    }


def _copy_font_cache(folder: Path) -> None:
    """Give the kernel matplotlib's font cache, which takes a second to build on each import."""
    try:
        import matplotlib

        for cache in Path(matplotlib.get_cachedir()).glob("fontlist-*.json"):
            shutil.copyfile(cache, folder / cache.name)
    except Exception:  # no cache yet, or no matplotlib: the kernel builds its own
        pass


class _Kernel:
    """One kernel session: runs the student's cells, then the grader's calls."""

    def __init__(self, nb, work: Path, policy: str, timeout: float):
        self.nb, self.work, self.timeout = nb, work, timeout
        self.client = _client_class()(
            nb, km=_kernel_manager(policy), timeout=timeout, kernel_name=KERNEL_NAME,
            allow_errors=True, record_timing=False, store_widget_state=False,
            interrupt_on_timeout=True, iopub_timeout=4,
            error_on_timeout={"ename": "Timeout", "evalue": "", "traceback": []},
            resources={"metadata": {"path": str(work)}},
        )
        self._context = None

    def __enter__(self):
        # the kernel's own stderr is only ipykernel's start-up chatter; cells' output comes
        # through the kernel protocol either way
        self._context = self.client.setup_kernel(cwd=str(self.work), env=_kernel_env(self.work),
                                                 stderr=subprocess.DEVNULL)
        self._context.__enter__()
        return self

    def __exit__(self, *exc):
        try:
            return self._context.__exit__(*exc)
        except Exception:  # a kernel that is already gone
            return False

    def run(self, cell, index) -> str:
        """Run one cell: ``"ok"``, ``"error"``, ``"timeout"`` or ``"dead"`` (stuck counts as dead)."""
        from nbclient.exceptions import DeadKernelError

        began = time.perf_counter()
        try:
            self.client.execute_cell(cell, index)
        except DeadKernelError:
            return "dead"
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if time.perf_counter() - began >= self.timeout and (
                not errors or errors[-1].get("ename") in ("Timeout", "KeyboardInterrupt")):
            return "timeout" if self._answers() else "dead"
        return "error" if errors else "ok"

    def _answers(self) -> bool:
        """Does an interrupted kernel take orders again? If not, it is stopped."""
        import nbformat
        from nbclient.exceptions import DeadKernelError

        probe = nbformat.v4.new_code_cell("pass")
        self.nb.cells.append(probe)
        began = time.perf_counter()
        saved, self.client.timeout = self.client.timeout, PROBE_SECONDS
        try:
            self.client.execute_cell(probe, len(self.nb.cells) - 1, store_history=False)
        except DeadKernelError:
            return False
        finally:
            self.client.timeout = saved
            self.nb.cells.pop()
        if time.perf_counter() - began < PROBE_SECONDS:
            return True
        from jupyter_core.utils import run_sync

        try:  # it ignores interrupts: stop it (the caller restarts it)
            run_sync(self.client.km.shutdown_kernel)(now=True)
        except Exception:
            pass
        return False


def _error_text(cell) -> str:
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            return f"{out.get('ename')}: {str(out.get('evalue', ''))[:200]}".rstrip(": ")
    return ""


# --- grading ---------------------------------------------------------------------------------------
def grade_notebook(path, *, timeout=60.0, seed=None, exercises=None, protect=(),
                   data: bytes | None = None) -> NotebookReport:
    """Run a notebook in a fresh, confined kernel and grade its exercises with public and hidden tests.

    Parameters
    ----------
    path : path-like
        The notebook. It is never modified: a copy runs in a temporary folder.
    timeout : float
        Seconds each cell (and each exercise's set of grader calls) may run before it is
        interrupted (the run then goes on).
    seed : int, optional
        Seed of the hidden tests. Default: drawn at random (so a notebook cannot know them).
    exercises : list of str, optional
        The exercises to grade. Default: :func:`exercises_for` the notebook.
    protect : sequence of path-like
        Further paths the kernel may not read or write (the other submissions, the gradebook);
        ``path`` itself is always protected.
    data : bytes, optional
        The notebook's content, when the caller has already read it (a batch reads every
        submission before any of them runs).

    Returns
    -------
    NotebookReport
    """
    start = time.perf_counter()
    report = NotebookReport(str(path))
    try:
        data = Path(path).read_bytes() if data is None else data
    except OSError as exc:
        report.status, report.message = "not a notebook", f"cannot be read ({exc.strerror})"
        return report
    nb, notes = read_submission(data)
    if nb is None:
        report.status, report.message = "not a notebook", notes
        report.seconds = time.perf_counter() - start
        return report
    report.notes.extend(notes)
    names = list(exercises) if exercises is not None else exercises_for(path, nb)
    if seed is None:
        seed = int.from_bytes(os.urandom(4), "little")
    work = Path(tempfile.mkdtemp(prefix="softmax-course-grade-"))
    try:
        home = work / "notebook"
        home.mkdir()
        policy = sandbox.write_policy(
            work / "policy.json", writable=[home], memory_bytes=MEMORY_BYTES,
            protected=[Path(path).resolve(), *(Path(p).resolve() for p in protect)])
        outcomes, lost = _run_and_call(nb, names, seed, home, policy, timeout, report)
    except Exception as exc:  # the machine, not the notebook: say so, never crash a batch
        report.status, report.message = "could not run", f"{type(exc).__name__}: {exc}"
        outcomes, lost = {}, {}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report.results = [_judge(name, seed, outcomes.get(name), lost.get(name), nb) for name in names]
    report.seconds = time.perf_counter() - start
    return report


def _run_and_call(nb, names, seed, home, policy, timeout, report):
    """Run the cells, then the grader's calls; restart a dead kernel once.

    Returns ``(outcomes, lost)``: per exercise, its outcomes by test name; and, for exercises
    that could not be graded, why.
    """
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.source.strip()]
    skip, outcomes, lost, pending = set(), {}, {}, list(names)
    reported = set()
    for attempt in (1, 2):
        died = None
        with _Kernel(nb, home, policy, timeout) as kernel:
            report.sandbox = _sandbox_name()
            for index in code:
                if index in skip:
                    continue
                state = kernel.run(nb.cells[index], index)
                if state == "dead":
                    died = index
                    break
                if index in reported:
                    continue
                reported.add(index)
                if state == "timeout":
                    report.cell_errors.append(f"cell {index}: ran longer than {timeout:g} s and "
                                              "was interrupted")
                elif state == "error":
                    report.cell_errors.append(f"cell {index}: {_error_text(nb.cells[index])}")
            if died is not None:
                skip.add(died)
                report.cell_errors.append(f"cell {died}: the kernel died or stopped answering "
                                          "while it ran")
            else:
                while pending:
                    name = pending.pop(0)
                    result, state = _call_in_kernel(kernel, name, seed, home)
                    if result is not None:
                        outcomes[name] = result
                    if state == "timeout":
                        lost.setdefault(name, f"the grader's calls of {name} ran longer than "
                                              f"{timeout:g} s and were interrupted")
                    if state == "dead":
                        lost[name] = f"calling {name} killed the kernel"
                        died = "call"
                        break
        if died is None:
            break
        if attempt == 1:
            why = (f"calling {name} killed the kernel" if died == "call"
                   else f"the kernel died in cell {died}")
            report.notes.append(f"{why}; it was restarted once and the notebook run again"
                                + (f" without cell {died}" if died != "call" else ""))
    else:
        for name in pending:
            lost.setdefault(name, "the kernel died twice, so it could not be graded")
        if not outcomes:
            report.status, report.message = "kernel died", "twice; nothing could be graded"
    return outcomes, lost


def _sandbox_name() -> str:
    abi = sandbox.landlock_abi()
    return f"landlock-{abi}" if abi else "none"


def _call_in_kernel(kernel, name, seed, home):
    """Send one exercise's tests into the kernel and call the function there, by name.

    Returns ``(outcomes by test name or None when the name is not defined, cell state)``.
    """
    import nbformat

    folder = home / f".grading-{os.urandom(8).hex()}"
    folder.mkdir()
    calls = []
    public, hidden = _cases(name, seed)
    for case in public + hidden:
        cid = case.name
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
        f"    __ns['run_requests'](globals(), {folder.name!r})\n"
        "__softmax_course_grade()\n"
        "del __softmax_course_grade\n"
    )
    cell = nbformat.v4.new_code_cell(code)
    kernel.nb.cells.append(cell)  # the grader's own cell, run after the student's, then removed
    try:
        state = kernel.run(cell, len(kernel.nb.cells) - 1)
    finally:
        kernel.nb.cells.pop()
    return _read_outcomes(folder), state


def _read_outcomes(folder: Path):
    """Read what the kernel wrote, defensively: it may have been tampered with."""
    path = folder / "outcomes.jsonl"
    try:
        if path.stat().st_size > MAX_RESULT_BYTES:
            return {}
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return {}
    outcomes = {}
    for line in lines:
        try:
            item = json.loads(line)
            test, data = item["id"], item["outcome"]
        except (ValueError, KeyError, TypeError):
            continue  # a line cut short by an interrupt
        if not isinstance(data, dict):
            continue
        if data.get("missing"):
            return None
        value, stored = None, data.get("value")
        try:
            if isinstance(stored, str):
                value = _load(folder, stored)
            elif isinstance(stored, list):
                value = tuple(_load(folder, str(s)) for s in stored)
        except (OSError, ValueError) as exc:
            data["error"] = f"NotNumbers: the result could not be read back ({exc})"
        error = data.get("error")
        outcomes[str(test)] = Outcome(
            value=None if error else value, error=str(error) if error else None,
            not_implemented=bool(data.get("not_implemented")), mutated=bool(data.get("mutated")))
    return outcomes


def _load(folder: Path, name: str):
    path = folder / os.path.basename(name)
    if path.stat().st_size > MAX_RESULT_BYTES:
        raise ValueError(f"larger than {MAX_RESULT_BYTES // 2**20} MB")
    return np.load(path, allow_pickle=False)


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


def _judge(name, seed, outcomes, lost, nb) -> CheckResult:
    ex = EXERCISES[name]
    if lost is not None and not outcomes:
        return CheckResult.error(name, ex.points, lost[0].upper() + lost[1:] + ".")
    if outcomes is None or not outcomes:
        message = f"no function named {name} was defined"
        where = _in_markdown(nb, name)
        if where is not None:
            message += (f": cell {where} defines it, but it is a {nb.cells[where].cell_type} "
                        "cell, which does not run. Change it back to a code cell.")
        return CheckResult.error(name, ex.points, message)
    public, hidden = _cases(name, seed)
    result = judge(ex, public + hidden, outcomes, hidden=frozenset(c.name for c in hidden))
    if lost is not None:
        result.message = lost
    return result
