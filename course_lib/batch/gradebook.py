"""Batch grading for a class: a folder of submitted notebooks in, a gradebook and feedback out.

``softmax-course grade submissions/*.ipynb --out grades/`` calls :func:`grade_submissions`:

1. every file gets a unique, stable id from its name (:func:`submission_ids`);
2. the exercises are the instructor's: ``--lesson``/``--exercise``, or else, per file, those of the
   lesson its own name says (``NN_*.ipynb``); never what another submission contains;
3. the notebooks run ``jobs`` at a time, each in a disposable sandbox of its own
   (:mod:`.isolation`, :func:`~.notebook.grade_notebook`); at most ``jobs`` kernels are alive;
4. as each submission is done, its feedback page is written and its row appended to
   ``journal.jsonl`` (flushed and synced): a batch killed from outside continues with
   ``resume=True`` (``--resume``), grading nothing twice and losing nothing, and an unchanged
   submission (same bytes, exercises, seed, limits and course version) keeps its result;
5. ``grades.csv`` and ``results.json`` are written atomically from the journal at the end.

Each feedback page speaks its submission's language: ``--lang`` for the whole batch, or else the
notebook's own (:func:`~.notebook.notebook_language`, read without running it); ``results.json``
records it per submission (``"lang"``). The gradebook's columns, keys and ids stay English.

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
import queue
import re
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from ..build import write_atomically
from . import isolation
from .notebook import NotebookReport, grade_notebook, make_base, notebook_language, status_text, \
    verdict_text
from ..grading.registry import EXERCISES
from ..i18n import get_language, gettext as _, language, ngettext

__all__ = ["Submission", "Gradebook", "grade_submissions", "submission_ids", "lesson_of",
           "plain_text", "grade_data", "LocalRunner", "BatchStopped"]

FILES = ("grades.csv", "results.json", "feedback")
JOURNAL = "journal.jsonl"
MAX_ID = 60  # longer ids are shortened, with a hash of the path to keep them unique
_CONTROL = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-_]|[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def plain_text(text) -> str:
    r"""Text from a submission made safe for a terminal or a CSV cell: no escape sequences, no
    control characters (a notebook cannot move the cursor or fake a line of the summary).

    Examples
    --------
    >>> plain_text("\x1b[2K\rgraded 999 of 999\x07")
    'graded 999 of 999'
    """
    return _CONTROL.sub("", str(text)).replace("\n", " ").strip()


@dataclass
class Submission:
    """One submitted file, what it is graded on, and the row its grading gave."""

    id: str
    path: Path
    exercises: list = field(default_factory=list)
    sha256: str = ""
    entry: dict | None = None  # its ``results.json`` entry, once graded (without failure details)
    reused: bool = False
    offset: int = -1           # where its full entry is in the journal
    lang: str = "en"           # the language of its feedback

    @property
    def status(self) -> str:
        return self.entry["status"] if self.entry else "not graded"


@dataclass
class Gradebook:
    """The outcome of a batch: one row per file, and where it was written."""

    submissions: list
    exercises: list
    seed: int
    timeout: float
    out: Path
    notebook_timeout: float = 0.0
    protection: isolation.Protection | None = None
    seconds: float = 0.0
    files: list = field(default_factory=list)

    @property
    def graded(self) -> list:
        return [s for s in self.submissions if s.status == "graded"]

    def mean_scores(self) -> dict:
        """Mean points per exercise over the graded submissions that were graded on it."""
        means = {}
        for name in self.exercises:
            scores = [s.entry["exercises"][name]["score"] for s in self.graded
                      if name in s.entry["exercises"]]
            means[name] = sum(scores) / len(scores) if scores else 0.0
        return means

    def summary(self, lang=None) -> str:
        """What the instructor reads at the end of a run (nothing a notebook wrote verbatim), in
        ``lang`` (default: the language in effect)."""
        with language(lang):
            return self._summary()

    def _summary(self) -> str:
        n, ok = len(self.submissions), len(self.graded)
        reused = sum(s.reused for s in self.submissions)
        head = ngettext("graded {ok} of {n} submission in {seconds} s",
                        "graded {ok} of {n} submissions in {seconds} s", n)
        lines = [head.format(ok=ok, n=n, seconds=f"{self.seconds:.1f}")
                 + (" " + _("({n} reused from the journal)").format(n=reused) if reused else "")
                 + ("; " + _("{n} could not be graded:").format(n=n - ok) if ok < n else "")]
        for s in self.submissions:
            if s.status != "graded":
                message = plain_text(s.entry.get("message", "")) if s.entry else ""
                lines.append(f"  {s.id}: {status_text(s.status)}"
                             + (f" ({message[:200]})" if message else ""))
        if ok:
            width = max(len(n) for n in self.exercises + ["total"])
            lines.append(_("mean score per exercise:"))
            for name, mean in self.mean_scores().items():
                lines.append(f"  {name:<{width}}  {mean:5.2f} / {EXERCISES[name].points:g}")
        if self.protection is not None:
            lines.append(f"sandbox: {self.protection.describe()}")
            if self.protection.mode != "bubblewrap":
                lines.append(_("warning: without bubblewrap a submission can see the grader's "
                               "processes and, as your own user, signal them; see "
                               "docs/grading-threat-model.md"))
            if not self.protection.landlock and self.protection.mode != "bubblewrap":
                lines.append(_("warning: this system has no Landlock (Linux 5.13+) either, so "
                               "the notebooks ran unconfined: they could read and write your "
                               "files"))
        lines.append(_("wrote {files}").format(files=", ".join(str(self.out / f) for f in FILES)))
        return "\n".join(lines)


def _clean(text) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._-") or "submission"


def _short(text, path) -> str:
    if len(text) <= MAX_ID:
        return text
    digest = hashlib.sha256(str(path).encode("utf-8", "surrogateescape")).hexdigest()[:10]
    return f"{text[:MAX_ID - 11]}-{digest}"


def submission_ids(paths) -> list:
    """A unique, stable id per file, from its name: ``alice.ipynb`` -> ``alice``.

    Names that clash (ignoring case, since feedback pages may land on a case-insensitive disk)
    get their folder's name (``a/x.ipynb``, ``b/x.ipynb`` -> ``a-x``, ``b-x``), then, if they
    still clash, a hash of their full path; ids longer than 60 characters are shortened with a
    hash. The same files give the same ids whatever their order.

    Examples
    --------
    >>> submission_ids(["in/alice.ipynb", "in/Bob Smith (2).ipynb", "a/x.ipynb", "b/x.ipynb"])
    ['alice', 'Bob_Smith_2', 'a-x', 'b-x']
    """
    paths = [Path(p) for p in paths]
    full = [os.path.abspath(p) for p in paths]
    stems = [_short(_clean(p.stem), f) for p, f in zip(paths, full)]

    def clashes(ids):
        count = {}
        for i in ids:
            count[i.lower()] = count.get(i.lower(), 0) + 1
        return {k for k, v in count.items() if v > 1}

    bad = clashes(stems)
    ids = [_short(f"{_clean(p.parent.name)}-{s}", f) if s.lower() in bad else s
           for p, s, f in zip(paths, stems, full)]
    bad = clashes(ids)
    for i, (sid, f) in enumerate(zip(ids, full)):
        if sid.lower() in bad:
            digest = hashlib.sha256(f.encode("utf-8", "surrogateescape")).hexdigest()[:10]
            ids[i] = f"{sid[:MAX_ID - 11]}-{digest}"
    return ids


def lesson_of(path) -> str | None:
    """The lesson a file answers, from its own name (``03_max_trick.ipynb``, ``03-alice.ipynb``
    -> ``"03"``), or None."""
    m = re.match(r"(\d\d)(?:[_\-. ]|$)", Path(path).name)
    return m.group(1) if m else None


def _expand(paths) -> list:
    """Files as given, and the notebooks inside any folder given."""
    out = []
    for p in map(Path, paths):
        out.extend(sorted(p.glob("*.ipynb")) if p.is_dir() else [p])
    return out


def _previous_seed(out: Path):
    try:
        seed = json.loads((out / "results.json").read_text(encoding="utf-8"))["seed"]
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        return None
    return seed if isinstance(seed, int) else None


def _course_version() -> str:
    """The package version and a hash of the grading code and exercise bank: results graded by
    another version are not reused."""
    import course_lib

    root = Path(course_lib.__file__).parent
    digest = hashlib.sha256()
    for folder in ("grading", "exercises", "batch"):
        for f in sorted((root / folder).glob("*.py")):
            digest.update(f.name.encode() + f.read_bytes())
    return f"{course_lib.__version__}+{digest.hexdigest()[:16]}"


def _read_journal(path: Path) -> dict:
    """(id, sha256, key) -> offset of its line, from a journal (a line cut short by a kill is
    skipped). Only offsets are kept: the grader's memory does not grow with the class."""
    found = {}
    try:
        with path.open("rb") as f:
            while True:
                offset = f.tell()
                line = f.readline()
                if not line:
                    break
                try:
                    item = json.loads(line)
                    found[(item["id"], item["sha256"], item["key"])] = offset
                except (ValueError, KeyError, TypeError, RecursionError):
                    continue
    except OSError:
        pass
    return found


def _journal_entry(path: Path, offset: int) -> dict:
    with path.open("rb") as f:
        f.seek(offset)
        return json.loads(f.readline())["entry"]


def _compact(entry: dict) -> dict:
    """What the summary, ``grades.csv`` and a rebuilt page need: no failure details (the full
    entry stays in the journal, and goes into ``results.json`` from there)."""
    small = dict(entry)
    small["exercises"] = {n: {k: r.get(k) for k in ("score", "max_score", "status", "message",
                                                      "n_passed", "n_tests", "delegated")}
                          for n, r in entry["exercises"].items()}
    return small


class BatchStopped(RuntimeError):
    """Raised by a runner when the batch cannot go on (a cluster lost, or one that grades with
    another version of the course): no row is written for the submission at hand, the journal
    keeps the rows so far, and ``--resume`` continues."""


def grade_data(data: bytes, *, file, exercises, seed, timeout, notebook_timeout, protect=(),
               protection=None, slot=0, base=None, lang=None) -> dict:
    """Grade one submission's bytes into plain data: what a local pool and a cluster's worker
    (:mod:`.cluster`) both run, so that both give the same rows.

    Returns ``{"status", "message", "cell_errors", "notes", "sandbox", "seconds",
    "peak_bytes", "sandbox_id", "lang", "results"}``, each result as in ``results.json``;
    ``lang`` (``--lang``) is the language of every message, else the notebook's own.
    """
    report = grade_notebook(file, timeout=timeout, seed=seed, exercises=exercises,
                            protect=protect, data=data, notebook_timeout=notebook_timeout,
                            protection=protection, slot=slot, base=base, lang=lang)
    _fill(report, exercises)
    plain = {k: getattr(report, k) for k in ("status", "message", "cell_errors", "notes",
                                             "sandbox", "seconds", "peak_bytes", "sandbox_id",
                                             "lang")}
    plain["results"] = [_result_dict(r) for r in report.results]
    return plain


def _report(plain: dict, path) -> NotebookReport:
    """The report :func:`grade_data` described, its results rebuilt for the feedback page."""
    from ..grading.result import CheckResult, Failure

    names = {f.name for f in dataclasses.fields(CheckResult)}
    results = []
    for d in plain["results"]:
        d = {k: v for k, v in d.items() if k in names}
        d["failures"] = [Failure(**f) for f in d.get("failures", [])]
        d["mistakes"] = [(m["name"], m["hint"]) for m in d.get("mistakes", [])]
        results.append(CheckResult(**d))
    fields = {k: v for k, v in plain.items() if k != "results"}
    return NotebookReport(str(path), results=results, **fields)


class LocalRunner:
    """Grades submissions on this machine, ``jobs`` at a time, each in a sandbox of its own."""

    def __init__(self, jobs=None, sandbox=None):
        self.jobs = max(1, jobs or os.cpu_count() or 1)
        self.protection = isolation.protection(sandbox)
        self.base = make_base()
        self.slots = queue.Queue()
        for k in range(self.jobs):
            self.slots.put(k)

    def __call__(self, data: bytes, options: dict) -> dict:
        slot = self.slots.get()
        try:
            return grade_data(data, protection=self.protection, slot=slot, base=self.base,
                              **options)
        finally:
            self.slots.put(slot)

    def close(self) -> None:
        import shutil

        shutil.rmtree(self.base, ignore_errors=True)
        if self.protection.mode == "fallback":
            isolation.reap_orphans(set())


def grade_submissions(paths, out, *, jobs=None, timeout=60.0, seed=None, exercises=None,
                      progress=None, notebook_timeout=None, resume=False,
                      sandbox=None, lang=None, runner=None) -> Gradebook:
    """Grade every submitted notebook and write the gradebook and the feedback into ``out``.

    Parameters
    ----------
    paths : sequence of path-like
        Submitted notebooks (folders stand for the ``*.ipynb`` files in them).
    out : path-like
        The folder for ``grades.csv``, ``results.json``, ``journal.jsonl`` and ``feedback/``.
    jobs : int, optional
        Notebooks graded at the same time (sandboxes, and kernels, alive at once); default:
        the number of cores.
    timeout : float
        Seconds each cell may run.
    seed : int, optional
        Seed of the hidden tests; default: the one of the previous run into ``out``, or a new
        random one.
    exercises : list of str, optional
        The exercises to grade, for every file. Default: per file, those of the lesson its name
        says (``NN_*.ipynb``); a file whose name says none gets a row saying so.
    progress : callable, optional
        ``progress(done, total, submission)``, called as each submission is graded.
    notebook_timeout : float, optional
        Seconds a whole notebook may run (default: :data:`.notebook.NOTEBOOK_SECONDS`).
    resume : bool
        Keep the journal's rows for unchanged submissions (a killed batch, or grading again).
    sandbox : str, optional
        ``"auto"``, ``"bubblewrap"`` or ``"fallback"`` (:func:`.isolation.protection`).
    lang : {"en", "ko"}, optional
        The language of every feedback page (and every kernel's ``SOFTMAX_COURSE_LANG``).
        Default: per submission, its notebook's own (:func:`.notebook.notebook_language`).
    runner : optional
        Who grades each submission: default a :class:`LocalRunner` of ``jobs`` and ``sandbox``;
        a :class:`.cluster.ClusterRunner` hands them to a Dask cluster. It has ``jobs``
        (submissions handed over at once), ``protection``, ``close()``, and is called as
        ``runner(data, options)`` for :func:`grade_data`'s plain data.

    Returns
    -------
    Gradebook
    """
    from . import notebook as nb_module

    lang = None if lang is None else get_language(lang)
    start = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "feedback").mkdir(exist_ok=True)
    files = _expand(paths)
    subs = [Submission(sid, p) for sid, p in zip(submission_ids(files), files)]
    for s in subs:
        if exercises:
            s.exercises = list(exercises)
        else:
            lesson = lesson_of(s.path)
            s.exercises = [n for n, ex in EXERCISES.items() if ex.lesson == lesson]
    names = [n for n in EXERCISES if any(n in s.exercises for s in subs)]
    if not names:
        raise ValueError("found no exercises to grade: name the files after their lesson "
                         "(NN_*.ipynb), or pass --lesson NN")
    if seed is None:
        seed = _previous_seed(out)
    if seed is None:
        seed = int.from_bytes(os.urandom(4), "little")
    notebook_timeout = nb_module.NOTEBOOK_SECONDS if notebook_timeout is None else notebook_timeout
    runner = runner or LocalRunner(jobs, sandbox)
    protection = runner.protection
    version = _course_version()
    journal_path = out / JOURNAL
    previous = _read_journal(journal_path) if resume else {}
    journal = journal_path.open("ab" if resume else "wb")
    protected = [s.path.parent.resolve() for s in subs] + [out.resolve()]
    protected = list(dict.fromkeys(protected))
    done, lock = [0], threading.Lock()

    def key_of(s):
        return hashlib.sha256(json.dumps(
            [s.exercises, seed, version, timeout, notebook_timeout, lang]).encode()).hexdigest()

    def grade(s):
        try:
            try:
                data = s.path.read_bytes()
            except OSError as exc:
                data, why = None, f"cannot be read ({exc.strerror or type(exc).__name__})"
            s.sha256 = hashlib.sha256(data).hexdigest() if data is not None else ""
            key = key_of(s)
            offset = previous.get((s.id, s.sha256, key)) if data is not None else None
            if offset is not None:
                s.entry, s.offset, s.reused = _compact(_journal_entry(journal_path, offset)), \
                    offset, True
                if not (out / "feedback" / f"{s.id}.html").exists():
                    _write_page(out, s, None)
                return
            s.lang = lang or notebook_language(None, s.path)
            if data is None:
                with language(s.lang):
                    report = NotebookReport(str(s.path), status="not a notebook", message=why,
                                            lang=s.lang)
            elif not s.exercises:
                with language(s.lang):
                    report = NotebookReport(str(s.path), status="not graded", lang=s.lang, message=_(
                        "its name does not say which lesson it answers (NN_*.ipynb); grade it "
                        "with --lesson NN"))
            else:
                report = _report(runner(data, {
                    "file": str(s.path), "exercises": s.exercises, "seed": seed,
                    "timeout": timeout, "notebook_timeout": notebook_timeout,
                    "protect": [str(p) for p in protected], "lang": lang}), s.path)
            del data
            s.lang = report.lang
            _fill(report, s.exercises)
            s.entry = _entry(s, report)
            _write_page(out, s, report)
        except BatchStopped:
            raise
        except Exception as exc:  # the grader's own failure: a row that says so, never a crash
            report = NotebookReport(str(s.path), status="could not run",
                                    message=f"{type(exc).__name__}: {exc}", lang=s.lang)
            _fill(report, s.exercises)
            s.entry = _entry(s, report)
            try:
                _write_page(out, s, report)
            except Exception:
                pass
        finally:
            with lock:
                if s.entry is not None and not s.reused:
                    s.offset = journal.tell()
                    journal.write((json.dumps({"id": s.id, "sha256": s.sha256, "key": key_of(s),
                                               "entry": s.entry}) + "\n").encode("utf-8"))
                    journal.flush()
                    os.fsync(journal.fileno())
                    s.entry = _compact(s.entry)
                done[0] += 1
                if progress is not None and s.entry is not None:
                    try:
                        progress(done[0], len(subs), s)
                    except Exception:  # a closed terminal never stops the batch
                        pass

    try:
        with ThreadPoolExecutor(max_workers=runner.jobs) as pool:
            for future in [pool.submit(grade, s) for s in subs]:
                future.result()
    finally:
        journal.close()
        runner.close()
    book = Gradebook(subs, names, seed, timeout, out, notebook_timeout=notebook_timeout,
                     protection=protection, seconds=time.perf_counter() - start)
    _write(book)
    return book


def _fill(report, names) -> None:
    """Every exercise of the file gets a result: 0 with the reason where it could not run."""
    from ..grading.result import CheckResult

    have = {r.name for r in report.results}
    with language(report.lang):
        for n in names:
            if n not in have:
                report.results.append(CheckResult.error(
                    n, EXERCISES[n].points, report.message or status_text(report.status)))


def _entry(s: Submission, r: NotebookReport) -> dict:
    """A submission's ``results.json`` entry (everything, hidden tests included)."""
    return {
        "id": s.id,
        "file": str(s.path),
        "sha256": s.sha256,
        "status": r.status,
        "message": plain_text(r.message),
        "score": r.score,
        "max_score": r.max_score,
        "exercises_graded": list(s.exercises),
        "cell_errors": [plain_text(e) for e in r.cell_errors],
        "notes": [plain_text(n) for n in r.notes],
        "sandbox": r.sandbox,
        "seconds": round(r.seconds, 2),
        "peak_memory_bytes": r.peak_bytes,
        "sandbox_id": r.sandbox_id,
        "lang": r.lang,
        "exercises": {res.name: _result_dict(res) for res in r.results},
    }


def _write_page(out: Path, s: Submission, report) -> None:
    write_atomically(out / "feedback" / f"{s.id}.html", feedback_html(s, report).encode("utf-8"))


# --- the files ---------------------------------------------------------------------------------
def _write(book: Gradebook) -> None:
    _write_results(book)
    write_atomically(book.out / "grades.csv", grades_csv(book).encode("utf-8"))
    book.files = [book.out / f for f in FILES]


#: Words of the notes that go into ``grades.csv``, in English and in Korean (a note is in its
#: submission's language): a restarted kernel, a time limit, stopped processes, a repaired file.
_NOTEWORTHY = ("restarted", "longer than", "stopped", "nbformat",
               "다시 시작", "넘게 실행", "중단했습니다")


def _notes(entry) -> list:
    """What the row's notes say: why it was not graded, what went wrong, flagged exercises."""
    notes = [entry["message"]] if entry.get("message") else []
    errors = entry.get("cell_errors", [])
    if errors:
        notes.append(f"{len(errors)} cell error{'s' if len(errors) > 1 else ''}, first "
                     f"{errors[0][:160]}")
    notes += [n for n in entry.get("notes", []) if any(w in n for w in _NOTEWORTHY)]
    for name, res in entry.get("exercises", {}).items():
        if res.get("delegated"):
            notes.append(f"{name}: delegated to {res['delegated']} (0 points)")
        if res.get("status") == "error":
            message = res.get("message") or ""
            notes.append(f"{name}: tampered outcome channel (0 points)"
                         if message.startswith("Tampered") else
                         f"{name} not graded: {message.rstrip('.')[:160]}")
    return [plain_text(n) for n in notes]


def grades_csv(book: Gradebook) -> str:
    """One row per submission: id, points per exercise (empty where the file is not graded on
    it), total, maximum, status, notes."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["id", *book.exercises, "total", "max", "status", "notes"])
    for s in sorted(book.submissions, key=lambda s: s.id):
        e = s.entry
        cells = [f"{e['exercises'][n]['score']:g}" if n in e["exercises"] else ""
                 for n in book.exercises]
        writer.writerow([s.id, *cells, f"{e['score']:g}", f"{e['max_score']:g}", e["status"],
                         "; ".join(_notes(e))])
    return buffer.getvalue()


def _write_results(book: Gradebook) -> None:
    """``results.json``, each submission's full entry read back from the journal one at a time;
    written to a temporary file and renamed, so a reader never sees half of it."""
    import tempfile

    head = results_json(book, entries=False)
    target = book.out / "results.json"
    fd, tmp = tempfile.mkstemp(dir=book.out, prefix=".results.json.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            text = json.dumps(head, indent=1, ensure_ascii=False)
            f.write(text[:text.rindex("[]")] + "[")
            for n, s in enumerate(sorted(book.submissions, key=lambda s: s.id)):
                entry = _journal_entry(book.out / JOURNAL, s.offset) if s.offset >= 0 else s.entry
                f.write(("," if n else "") + "\n" + json.dumps(entry, ensure_ascii=False))
            f.write("\n]\n}\n")
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def results_json(book: Gradebook, *, entries=True) -> dict:
    """Everything, for programs: the run's settings, the protection in force, and each
    submission's full results (hidden tests included: this file is the instructor's)."""
    graded = [s for s in book.graded]
    return {
        "seed": book.seed,
        "timeout": book.timeout,
        "notebook_timeout": book.notebook_timeout,
        "sandbox": book.protection.as_dict() if book.protection else None,
        "exercises": [{"name": n, "lesson": EXERCISES[n].lesson, "points": EXERCISES[n].points}
                      for n in book.exercises],
        "max_score": sum(EXERCISES[n].points for n in book.exercises),
        "seconds": round(book.seconds, 2),
        "mean_scores": {n: round(m, 3) for n, m in book.mean_scores().items()},
        "graded": len(graded),
        "submissions": [s.entry for s in sorted(book.submissions, key=lambda s: s.id)]
        if entries else [],
    }


def _result_dict(r) -> dict:
    d = dataclasses.asdict(r)
    d["mistakes"] = [{"name": n, "hint": h} for n, h in r.mistakes]
    # the checker's flag (``CheckResult.delegated``: the library function the answer delegated
    # to), whether or not this version of the checker has it
    d["delegated"] = getattr(r, "delegated", None) or None
    return d


_PAGE = """<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8">
<title>{title}</title>
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
<h1>{title}</h1>
<p><b>{points}</b> &middot; {file}</p>
{status}
<table><tr><th>{exercise}</th><th>{points_head}</th><th>{result}</th></tr>
{rows}
</table>
{problems}
<h2>{each}</h2>
{details}
<p class="small">{about}</p>
</body></html>
"""


def feedback_html(s: Submission, report: NotebookReport | None) -> str:
    """The student's page: points, what passed, what failed on which public input, hints;
    never a hidden test's input or expected value. ``report`` None: rebuilt from the journal's
    entry (points and messages, without the detailed failures). In the submission's language
    (its entry's ``"lang"``)."""
    lang = get_language(s.entry.get("lang") or "en")
    with language(lang):
        return _feedback_html(s, report, lang)


def _feedback_html(s: Submission, report, lang) -> str:
    e = html.escape
    entry = s.entry
    status = "" if entry["status"] == "graded" else (
        "<p><b>" + e(_("This file could not be graded: {status}").format(
            status=status_text(entry["status"]))) + "</b>"
        + (f" ({e(entry['message'])})" if entry["message"] else "") + ".</p>")
    rows = []
    for name, res in entry["exercises"].items():
        verdict = verdict_text(res["status"], res["n_passed"], res["n_tests"])
        if res.get("delegated"):
            verdict += " " + _("(your answer calls {function}: 0 points)").format(
                function=res["delegated"])
        rows.append(f"<tr><td><code>{e(name)}</code></td>"
                    f'<td class="pts">{res["score"]:g} / {res["max_score"]:g}</td>'
                    f"<td>{e(verdict)}</td></tr>")
    problems = ""
    if entry["cell_errors"] or entry["notes"]:
        items = [f"<li>{e(c)}</li>" for c in entry["cell_errors"]]
        items += [f"<li>{e(n)}</li>" for n in entry["notes"]]
        numbering = e(_("Code cells are numbered as JupyterLab numbers them after {menu}: [1] "
                        "is the first code cell that is not empty, [2] the next one, and so on."))
        menu = "<i>" + e(_("Kernel > Restart Kernel and Run All Cells")) + "</i>"
        problems = ("<h2>" + e(_("While your notebook ran")) + "</h2><ul>" + "".join(items)
                    + "</ul><p class='small'>" + numbering.replace("{menu}", menu) + "</p>")
    if report is not None:
        details = "\n".join(res._repr_html_() for res in report.results)
    else:
        details = "\n".join(f"<p><code>{e(n)}</code>: "
                            f"{e(r.get('message') or status_text(r['status']))}</p>"
                            for n, r in entry["exercises"].items())
    about = e(_("Your functions were called with the public tests you can run yourself with "
                "{check}, and with hidden tests: inputs you have not seen, drawn at random, so "
                "that only a function that works in general passes them. Their inputs are not "
                "shown here.")).replace("{check}", "<code>check</code>")
    return _PAGE.format(
        lang=lang, title=e(_("Feedback: {id}").format(id=s.id)),
        points=e(_("{score} / {max_score} points").format(score=f"{entry['score']:g}",
                                                          max_score=f"{entry['max_score']:g}")),
        file=e(s.path.name), status=status, rows="\n".join(rows), exercise=e(_("exercise")),
        points_head=e(_("points")), result=e(_("result")), problems=problems,
        each=e(_("Each exercise")), details=details, about=about)


# --- the command line's progress bar ------------------------------------------------------------
def progress_printer(stream=None, lang=None):
    """A ``progress`` callback: a bar on a terminal, one line per submission otherwise (its
    words in ``lang``, default: the language in effect)."""
    stream = stream or sys.stderr
    tty = hasattr(stream, "isatty") and stream.isatty()
    lang = get_language(lang)

    def show(done, total, s):
        e = s.entry or {"status": "not graded"}
        with language(lang):
            what = (f"{e['score']:g}/{e['max_score']:g}" if e["status"] == "graded"
                    else status_text(e["status"]))
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
