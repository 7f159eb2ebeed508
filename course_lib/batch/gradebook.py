"""Batch grading for a class: a folder of submitted notebooks in, a gradebook and feedback out.

``softmax-course grade submissions/*.ipynb --out grades/`` calls :func:`grade_submissions`:

1. every submission is read into memory first (so nothing a notebook does during the run can
   change what another is graded on), and given an id from its file name;
2. the exercises are those of the lesson(s) the submissions answer (from file names and their
   ``check`` calls), the same columns for the whole class;
3. the notebooks run in parallel, ``jobs`` at a time, each with :func:`~.notebook.grade_notebook`:
   its own fresh, confined kernel on a private copy, which cannot read the other submissions or
   the gradebook, nor write anywhere but its own temporary folder;
4. ``grades.csv``, ``results.json`` and ``feedback/<id>.html`` are written atomically at the end.

The hidden tests are drawn from a seed kept in ``results.json``: grading the same folder into the
same ``--out`` again draws the same tests, and gives the same grades.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import html
import io
import json
import os
import re
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ..build import write_atomically
from .notebook import NotebookReport, exercises_for, grade_notebook, read_submission
from ..grading.registry import EXERCISES

__all__ = ["Submission", "Gradebook", "grade_submissions", "submission_ids"]

FILES = ("grades.csv", "results.json", "feedback")


@dataclass
class Submission:
    """One submitted file and what grading it gave."""

    id: str
    path: Path
    data: bytes | None = None
    sha256: str = ""
    report: NotebookReport | None = None


@dataclass
class Gradebook:
    """The outcome of a batch: one graded submission per file, and where it was written."""

    submissions: list
    exercises: list
    seed: int
    timeout: float
    out: Path
    seconds: float = 0.0
    files: list = field(default_factory=list)

    @property
    def graded(self) -> list:
        return [s for s in self.submissions if s.report.status == "graded"]

    def mean_scores(self) -> dict:
        """Mean points per exercise over the graded submissions."""
        means = {}
        for name in self.exercises:
            scores = [_result(s, name).score for s in self.graded]
            means[name] = sum(scores) / len(scores) if scores else 0.0
        return means

    def summary(self) -> str:
        """What the instructor reads at the end of a run."""
        n, ok = len(self.submissions), len(self.graded)
        lines = [f"graded {ok} of {n} submission{'s' if n != 1 else ''} in {self.seconds:.1f} s"
                 + (f"; {n - ok} could not be graded:" if ok < n else "")]
        for s in self.submissions:
            if s.report.status != "graded":
                lines.append(f"  {s.id}: {s.report.status}" +
                             (f" ({s.report.message})" if s.report.message else ""))
        if ok:
            width = max(len(n) for n in self.exercises + ["total"])
            lines.append("mean score per exercise:")
            for name, mean in self.mean_scores().items():
                lines.append(f"  {name:<{width}}  {mean:5.2f} / {EXERCISES[name].points:g}")
            total = sum(s.report.score for s in self.graded) / ok
            lines.append(f"  {'total':<{width}}  {total:5.2f} / {self.max_score:g}")
        sandboxes = {s.report.sandbox for s in self.graded}
        if sandboxes == {"none"}:
            lines.append("warning: this system has no Landlock (Linux 5.13+), so the notebooks ran "
                         "unconfined: they could read and write your files")
        lines.append(f"wrote {', '.join(str(self.out / f) for f in FILES)}")
        return "\n".join(lines)

    @property
    def max_score(self) -> float:
        return sum(EXERCISES[n].points for n in self.exercises)


def _result(submission, name):
    return next(r for r in submission.report.results if r.name == name)


def submission_ids(paths) -> list:
    """An id per file, from its name: ``alice.ipynb`` -> ``alice``; made unique with the
    folder's name (``a/x.ipynb``, ``b/x.ipynb`` -> ``a-x``, ``b-x``), then a number.

    Examples
    --------
    >>> submission_ids(["in/alice.ipynb", "in/Bob Smith (2).ipynb", "a/x.ipynb", "b/x.ipynb"])
    ['alice', 'Bob_Smith_2', 'a-x', 'b-x']
    """
    def clean(text):
        return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._-") or "submission"

    stems = [clean(Path(p).stem) for p in paths]
    ids = [s if stems.count(s) == 1 else f"{clean(Path(p).parent.name)}-{s}"
           for p, s in zip(paths, stems)]
    seen = {}
    for i, sid in enumerate(ids):
        if ids.count(sid) > 1:
            seen[sid] = seen.get(sid, 0) + 1
            ids[i] = f"{sid}-{seen[sid]}"
    return ids


def _expand(paths) -> list:
    """Files as given, and the notebooks inside any folder given."""
    out = []
    for p in map(Path, paths):
        out.extend(sorted(p.glob("*.ipynb")) if p.is_dir() else [p])
    return out


def _previous_seed(out: Path):
    try:
        seed = json.loads((out / "results.json").read_text(encoding="utf-8"))["seed"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return seed if isinstance(seed, int) else None


def grade_submissions(paths, out, *, jobs=None, timeout=60.0, seed=None, exercises=None,
                      progress=None) -> Gradebook:
    """Grade every submitted notebook and write the gradebook and the feedback into ``out``.

    Parameters
    ----------
    paths : sequence of path-like
        Submitted notebooks (folders stand for the ``*.ipynb`` files in them).
    out : path-like
        The folder for ``grades.csv``, ``results.json`` and ``feedback/`` (created if missing).
    jobs : int, optional
        Notebooks graded at the same time; default: the number of cores.
    timeout : float
        Seconds each cell may run.
    seed : int, optional
        Seed of the hidden tests; default: the one of the previous run into ``out``, or a new
        random one.
    exercises : list of str, optional
        The exercises to grade; default: those the submissions answer.
    progress : callable, optional
        ``progress(done, total, submission)``, called as each submission is graded.

    Returns
    -------
    Gradebook
    """
    start = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    subs = [Submission(sid, p) for sid, p in zip(submission_ids(_expand(paths)), _expand(paths))]
    for s in subs:  # read everything before anything runs
        try:
            s.data = s.path.read_bytes()
            s.sha256 = hashlib.sha256(s.data).hexdigest()
        except OSError as exc:
            s.report = NotebookReport(str(s.path), status="not a notebook",
                                      message=f"cannot be read ({exc.strerror})")
    names = list(exercises) if exercises else _exercises(subs)
    if not names:
        raise ValueError("found no exercises to grade: name the files after their lesson "
                         "(NN_*.ipynb) or keep their check cells, or pass --lesson NN")
    if seed is None:
        seed = _previous_seed(out)
    if seed is None:
        seed = int.from_bytes(os.urandom(4), "little")
    protected = [s.path for s in subs if s.data is not None]
    protected += [out / f for f in FILES if (out / f).exists()]
    todo = [s for s in subs if s.report is None]
    done, lock = [len(subs) - len(todo)], threading.Lock()

    def grade(s):
        try:
            s.report = grade_notebook(s.path, timeout=timeout, seed=seed, exercises=names,
                                      protect=protected, data=s.data)
        except Exception as exc:  # the grader's own failure: a row that says so, not a crash
            s.report = NotebookReport(str(s.path), status="could not run",
                                      message=f"{type(exc).__name__}: {exc}")
        with lock:
            done[0] += 1
            if progress is not None:
                progress(done[0], len(subs), s)

    with ThreadPoolExecutor(max_workers=max(1, jobs or os.cpu_count() or 1)) as pool:
        for future in [pool.submit(grade, s) for s in todo]:
            future.result()
    for s in subs:
        if not s.report.results:  # not a notebook: every exercise scores 0, with the reason
            from ..grading.result import CheckResult

            s.report.results = [CheckResult.error(n, EXERCISES[n].points, s.report.message or
                                                  s.report.status) for n in names]
    book = Gradebook(subs, names, seed, timeout, out, seconds=time.perf_counter() - start)
    _write(book)
    return book


def _exercises(subs) -> list:
    names = set()
    for s in subs:
        if s.data is None:
            continue
        nb, _ = read_submission(s.data)
        names |= set(exercises_for(s.path, nb) if nb is not None else exercises_for(s.path))
    return [n for n in EXERCISES if n in names]


# --- the files ---------------------------------------------------------------------------------
def _write(book: Gradebook) -> None:
    feedback = book.out / "feedback"
    feedback.mkdir(exist_ok=True)
    for s in book.submissions:
        write_atomically(feedback / f"{s.id}.html", feedback_html(s, book).encode("utf-8"))
    write_atomically(book.out / "results.json",
                     (json.dumps(results_json(book), indent=1, ensure_ascii=False) + "\n").encode())
    write_atomically(book.out / "grades.csv", grades_csv(book).encode("utf-8"))
    book.files = [book.out / f for f in FILES]


def grades_csv(book: Gradebook) -> str:
    """One row per submission: id, points per exercise, total, maximum, status, notes."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["id", *book.exercises, "total", "max", "status", "notes"])
    for s in sorted(book.submissions, key=lambda s: s.id):
        r = s.report
        notes = [r.message] if r.message else []
        if r.cell_errors:
            notes.append(f"{len(r.cell_errors)} cell error{'s' if len(r.cell_errors) > 1 else ''}")
        notes += [n for n in r.notes if "restarted" in n]
        writer.writerow([s.id, *(f"{_result(s, n).score:g}" for n in book.exercises),
                         f"{r.score:g}", f"{book.max_score:g}", r.status, "; ".join(notes)])
    return buffer.getvalue()


def results_json(book: Gradebook) -> dict:
    """Everything, for programs: the run's settings and each submission's full results
    (hidden tests included: this file is the instructor's, not the students')."""
    return {
        "seed": book.seed,
        "timeout": book.timeout,
        "exercises": [{"name": n, "lesson": EXERCISES[n].lesson, "points": EXERCISES[n].points}
                      for n in book.exercises],
        "max_score": book.max_score,
        "seconds": round(book.seconds, 2),
        "mean_scores": {n: round(m, 3) for n, m in book.mean_scores().items()},
        "submissions": [{
            "id": s.id,
            "file": str(s.path),
            "sha256": s.sha256,
            "status": s.report.status,
            "message": s.report.message,
            "score": s.report.score,
            "max_score": book.max_score,
            "cell_errors": s.report.cell_errors,
            "notes": s.report.notes,
            "sandbox": s.report.sandbox,
            "seconds": round(s.report.seconds, 2),
            "exercises": {r.name: _result_dict(r) for r in s.report.results},
        } for s in sorted(book.submissions, key=lambda s: s.id)],
    }


def _result_dict(r) -> dict:
    d = dataclasses.asdict(r)
    d["mistakes"] = [{"name": n, "hint": h} for n, h in r.mistakes]
    return d


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Feedback: {id}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 52em; margin: 2em auto; padding: 0 1em;
       color: #24292f; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
td, th {{ border-bottom: 1px solid #d0d7de; padding: 4px 12px; text-align: left; }}
td.pts {{ text-align: right; font-variant-numeric: tabular-nums; }}
pre {{ white-space: pre-wrap; }}
.small {{ color: #57606a; font-size: 0.9em; }}
</style></head>
<body>
<h1>Feedback: {id}</h1>
<p><b>{score:g} / {max_score:g} points</b> &middot; {file}</p>
{status}
<table><tr><th>exercise</th><th>points</th><th>result</th></tr>
{rows}
</table>
{problems}
<h2>Each exercise</h2>
{details}
<p class="small">Your functions were called with the public tests you can run yourself with
<code>check</code>, and with hidden tests: inputs you have not seen, drawn at random, so that
only a function that works in general passes them. Their inputs are not shown here.</p>
</body></html>
"""


def feedback_html(s: Submission, book: Gradebook) -> str:
    """The student's page: points, what passed, what failed on which public input, hints;
    never a hidden test's input or expected value."""
    e = html.escape
    r = s.report
    status = "" if r.status == "graded" else (
        f"<p><b>This file could not be graded: {e(r.status)}</b>"
        + (f" ({e(r.message)})" if r.message else "") + ".</p>")
    rows = []
    for res in r.results:
        verdict = {"passed": "passed", "not implemented": "not implemented yet",
                   "error": "not graded"}.get(res.status, f"{res.n_passed} of {res.n_tests} tests passed")
        rows.append(f"<tr><td><code>{e(res.name)}</code></td>"
                    f'<td class="pts">{res.score:g} / {res.max_score:g}</td><td>{e(verdict)}</td></tr>')
    problems = ""
    if r.cell_errors or r.notes:
        items = [f"<li>{e(c)}</li>" for c in r.cell_errors] + [f"<li>{e(n)}</li>" for n in r.notes]
        problems = ("<h2>While your notebook ran</h2><ul>" + "".join(items) + "</ul>"
                    "<p class='small'>Cells are numbered from 0, in the order of the notebook.</p>")
    details = "\n".join(res._repr_html_() for res in r.results)
    return _PAGE.format(id=e(s.id), score=r.score, max_score=book.max_score, file=e(s.path.name),
                        status=status, rows="\n".join(rows), problems=problems, details=details)


# --- the command line's progress bar ------------------------------------------------------------
def progress_printer(stream=None):
    """A ``progress`` callback: a bar on a terminal, one line per submission otherwise."""
    stream = stream or sys.stderr
    tty = hasattr(stream, "isatty") and stream.isatty()

    def show(done, total, s):
        r = s.report
        what = f"{r.score:g}/{r.max_score:g}" if r.status == "graded" else r.status
        if tty:
            width = 24
            bar = "#" * (width * done // total) + "-" * (width - width * done // total)
            stream.write(f"\r[{bar}] {done}/{total}  {s.id}: {what}\033[K")
            if done == total:
                stream.write("\n")
        else:
            stream.write(f"[{done:>{len(str(total))}}/{total}] {s.id}: {what}\n")
        stream.flush()

    return show
