"""The gradebook in the import format of a learning management system (LMS).

``softmax-course export grades/ --format canvas|moodle|csv [--roster roster.csv] [--out FILE]``
reads the gradebook ``softmax-course grade`` wrote (``grades.csv``, and ``results.json`` for each
exercise's points) and writes one file an LMS imports:

``canvas``
    Canvas's gradebook CSV: ``Student``, ``ID``, ``SIS User ID``, ``SIS Login ID``, ``Section``,
    then the grade column(s), and a second row ``Points Possible`` with each column's maximum.
    By default one column holds each student's total (``--assignment NAME`` names it; name it as
    the column of a Canvas export, ``Lesson 3 (1234)``, to fill an existing assignment);
    ``--per-exercise`` gives one column per exercise instead (``NAME: exercise``).
``moodle``
    Moodle's CSV grade import: an identifier column for each user field Moodle can map to
    (``ID number``, ``Email address``, ``Username``), ``Full name``, then the grade column(s) as
    plain numbers (the same choice of one total or one per exercise).
``csv``
    A plain spreadsheet: the roster's columns, each exercise's points, total, maximum, status
    and the gradebook's notes.

The roster (``--roster``) is a UTF-8 CSV with a header; ``file_id`` (the gradebook's ``id``, the
name of the submitted file without ``.ipynb``) and ``student_id`` are required, ``name``,
``email``, ``username``, ``section``, ``sis_user_id``, ``sis_login_id`` optional. Without a
roster each file id stands for the student (Canvas: ``SIS User ID``; Moodle: ``ID number``).

Nothing is dropped silently: a submission that is not in the roster, and a roster student
without a submission, are listed on stderr and counted in the summary line. The ``csv`` format
keeps both; ``canvas`` and ``moodle`` keep the missing students with an empty grade (``0`` with
``--missing-zero``) and leave out the unknown submissions, which they could not match to anyone.
A cell a student controls (a file id comes from a file name the student chose) that starts with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return is prefixed with ``'`` so that a
spreadsheet does not run it as a formula.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["ExportError", "Export", "read_gradebook", "read_roster", "export_grades",
           "neutralise", "FORMATS", "ROSTER_COLUMNS"]

FORMATS = ("canvas", "moodle", "csv")
ROSTER_COLUMNS = ("file_id", "student_id", "name", "email", "username", "section",
                  "sis_user_id", "sis_login_id")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


class ExportError(ValueError):
    """Bad input: the message names the argument (``GRADES``, ``--roster``, ...)."""


def neutralise(text) -> str:
    """A cell that a spreadsheet will show as text, never run as a formula.

    Examples
    --------
    >>> neutralise("=HYPERLINK(\\"http://x\\")")
    '\\'=HYPERLINK("http://x")'
    >>> neutralise("-2+3"), neutralise("alice"), neutralise("김민준")
    ("'-2+3", 'alice', '김민준')
    """
    text = "" if text is None else str(text)
    return "'" + text if text.startswith(_FORMULA) else text


@dataclass
class Row:
    """One submission of the gradebook."""

    id: str
    scores: dict          # exercise -> points ("" where the file was not graded on it)
    total: str
    max: str
    status: str
    notes: str


@dataclass
class Gradebook:
    """What ``export`` reads from a gradebook folder."""

    exercises: list       # names, in the gradebook's order
    points: dict          # exercise -> maximum points
    rows: list            # of Row


def _number(text, what) -> float:
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise ExportError(f"{what}: not a number: {text!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ExportError(f"{what}: not a finite number: {text!r}")
    return value


def _fmt(value: float) -> str:
    """Points as a plain number: no exponent, no thousands separator, ``.`` as decimal point.

    Examples
    --------
    >>> _fmt(2.0), _fmt(1.5), _fmt(0.6666666)
    ('2', '1.5', '0.67')
    """
    text = f"{round(value, 2):.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def read_gradebook(folder) -> Gradebook:
    """Read ``grades.csv`` (and ``results.json``'s points per exercise, when it is there).

    Raises
    ------
    ExportError
        When ``folder`` is not a gradebook ``softmax-course grade`` wrote (naming ``GRADES``).
    """
    from ..grading.registry import EXERCISES

    folder = Path(folder)
    if not folder.is_dir():
        raise ExportError(f"GRADES {folder}: no such folder (give the --out folder of "
                          "softmax-course grade)")
    path = folder / "grades.csv"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ExportError(f"GRADES {folder}: cannot read grades.csv "
                          f"({exc.strerror or type(exc).__name__}); is it the --out folder of "
                          "softmax-course grade?") from None
    except UnicodeDecodeError:
        raise ExportError(f"GRADES {path}: not UTF-8 text") from None
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    tail = ["total", "max", "status", "notes"]
    if not header or header[0] != "id" or header[-4:] != tail or len(header) < 5:
        raise ExportError(f"GRADES {path}: not a gradebook (its header should be id, the "
                          "exercises, total, max, status, notes)")
    exercises = header[1:-4]
    points = {}
    try:
        results = json.loads((folder / "results.json").read_text(encoding="utf-8"))
        points = {e["name"]: float(e["points"]) for e in results.get("exercises", [])}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    for name in exercises:
        if name not in points:
            if name not in EXERCISES:
                raise ExportError(f"GRADES {path}: unknown exercise {name!r} and no "
                                  "results.json to say its points")
            points[name] = float(EXERCISES[name].points)
    rows, seen = [], set()
    for n, cells in enumerate(reader, 2):
        if not cells:
            continue
        if len(cells) != len(header):
            raise ExportError(f"GRADES {path}, line {n}: {len(cells)} cells, the header has "
                              f"{len(header)}")
        sid = cells[0]
        if sid in seen:
            raise ExportError(f"GRADES {path}, line {n}: id {sid!r} appears twice")
        seen.add(sid)
        scores = {}
        for name, cell in zip(exercises, cells[1:-4]):
            scores[name] = _number(cell, f"GRADES {path}, line {n}, {name}") if cell else ""
        total = _number(cells[-4], f"GRADES {path}, line {n}, total")
        top = _number(cells[-3], f"GRADES {path}, line {n}, max")
        rows.append(Row(sid, scores, total, top, cells[-2], cells[-1]))
    return Gradebook(exercises, points, rows)


def read_roster(path) -> list:
    """The roster's rows as dicts (every column of :data:`ROSTER_COLUMNS`, ``""`` if absent).

    Raises
    ------
    ExportError
        A missing file, a missing ``file_id`` or ``student_id`` column or value, or a file id or
        student id given twice (naming ``--roster``).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ExportError(f"--roster {path}: cannot be read "
                          f"({exc.strerror or type(exc).__name__})") from None
    except UnicodeDecodeError:
        raise ExportError(f"--roster {path}: not UTF-8 text (save it as CSV UTF-8)") from None
    reader = csv.DictReader(io.StringIO(text))
    fields = [(f or "").strip().lower() for f in (reader.fieldnames or [])]
    missing = [c for c in ("file_id", "student_id") if c not in fields]
    if missing:
        raise ExportError(f"--roster {path}: no column {' or '.join(missing)} (its header must "
                          f"name file_id and student_id; optional: {', '.join(ROSTER_COLUMNS[2:])})")
    reader.fieldnames = fields
    rows, files, students = [], {}, {}
    for n, raw in enumerate(reader, 2):
        row = {c: (raw.get(c) or "").strip() for c in ROSTER_COLUMNS}
        if not any(row.values()):
            continue
        for c in ("file_id", "student_id"):
            if not row[c]:
                raise ExportError(f"--roster {path}, line {n}: empty {c}")
        if row["file_id"] in files:
            raise ExportError(f"--roster {path}, line {n}: file_id {row['file_id']!r} is also on "
                              f"line {files[row['file_id']]}")
        if row["student_id"] in students:
            raise ExportError(f"--roster {path}, line {n}: student_id {row['student_id']!r} is "
                              f"also on line {students[row['student_id']]}")
        files[row["file_id"]], students[row["student_id"]] = n, n
        rows.append(row)
    return rows


@dataclass
class Export:
    """The file's text, and what the instructor must know about it."""

    text: str
    exported: int = 0
    unknown: list = field(default_factory=list)   # file ids not in the roster
    missing: list = field(default_factory=list)   # roster rows without a submission
    not_graded: list = field(default_factory=list)  # (file id, status)
    left_out: list = field(default_factory=list)  # file ids not in the file
    warnings: list = field(default_factory=list)

    def report(self) -> list:
        """The lines for stderr: every unknown, missing or ungraded student, then a summary."""
        lines = [f"not in the roster: {sid}" + (" (left out of the file: it cannot be matched "
                                               "to a student)" if sid in self.left_out else "")
                 for sid in self.unknown]
        lines += [f"no submission: {r['student_id']}" + (f" ({r['name']})" if r["name"] else "")
                  for r in self.missing]
        lines += [f"not graded: {sid} ({status})" for sid, status in self.not_graded]
        lines += [f"warning: {w}" for w in self.warnings]
        lines.append(f"exported {self.exported} row{'s' if self.exported != 1 else ''}; "
                     f"{len(self.unknown)} not in the roster, {len(self.missing)} without a "
                     f"submission, {len(self.not_graded)} not graded")
        return lines


def _lesson_name(book: Gradebook) -> str:
    from ..grading.registry import EXERCISES

    lessons = sorted({EXERCISES[n].lesson for n in book.exercises if n in EXERCISES})
    return "softmax-course" + (f" lesson {', '.join(lessons)}" if lessons else "")


def export_grades(grades, fmt="csv", *, roster=None, assignment=None, per_exercise=False,
                  missing_zero=False) -> Export:
    """The gradebook in ``grades`` as an LMS import file.

    Parameters
    ----------
    grades : path-like
        The folder ``softmax-course grade --out`` wrote.
    fmt : {"canvas", "moodle", "csv"}
    roster : path-like, optional
        A CSV mapping ``file_id`` to ``student_id`` (and name, email, section ...).
    assignment : str, optional
        The grade column's name (default ``softmax-course lesson NN``).
    per_exercise : bool
        One grade column per exercise instead of the total (``canvas``, ``moodle``).
    missing_zero : bool
        A roster student without a submission gets 0 instead of an empty grade.

    Returns
    -------
    Export
    """
    if fmt not in FORMATS:
        raise ExportError(f"--format {fmt!r}: one of {', '.join(FORMATS)}")
    if assignment is not None and not str(assignment).strip():
        raise ExportError("--assignment: an empty name")
    book = read_gradebook(grades)
    people = read_roster(roster) if roster is not None else None
    by_file = {r["file_id"]: r for r in people} if people is not None else {}
    ids = {r.id for r in book.rows}
    out = Export("")
    out.unknown = [r.id for r in book.rows if people is not None and r.id not in by_file]
    out.missing = [p for p in people or [] if p["file_id"] not in ids]
    out.not_graded = [(r.id, r.status) for r in book.rows if r.status != "graded"]
    name = (assignment or _lesson_name(book)).strip()
    maxima_seen = sorted({row.max for row in book.rows})
    if not per_exercise and fmt != "csv" and len(maxima_seen) > 1:
        out.warnings.append(
            "the submissions were graded on different exercises (maximums "
            f"{', '.join(map(_fmt, maxima_seen))}), but the total column's Points Possible is "
            f"{_fmt(sum(book.points.values()))}: --per-exercise gives each exercise its own column")
    columns = ([f"{name}: {n}" for n in book.exercises] if per_exercise else [name])
    maxima = ([book.points[n] for n in book.exercises] if per_exercise
              else [sum(book.points[n] for n in book.exercises)])
    empty = ["0" if missing_zero else ""] * len(columns)

    def grades_of(row):
        if per_exercise:
            return [_fmt(row.scores[n]) if row.scores[n] != "" else "" for n in book.exercises]
        return [_fmt(row.total)]

    def person(row):
        if people is None:
            return {c: "" for c in ROSTER_COLUMNS} | {"file_id": row.id, "student_id": row.id}
        return by_file.get(row.id)

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n" if fmt == "canvas" else "\n")
    text = neutralise
    if fmt == "csv":
        writer.writerow([*ROSTER_COLUMNS, *book.exercises, "total", "max", "status", "notes"])
        rows = sorted(book.rows, key=lambda r: (by_file.get(r.id, {}).get("student_id", ""), r.id))
        for row in rows:
            p = person(row) or {c: "" for c in ROSTER_COLUMNS} | {"file_id": row.id}
            writer.writerow([*(text(p[c]) for c in ROSTER_COLUMNS),
                             *(_fmt(row.scores[n]) if row.scores[n] != "" else ""
                               for n in book.exercises),
                             _fmt(row.total), _fmt(row.max), text(row.status), text(row.notes)])
            out.exported += 1
        for p in out.missing:
            writer.writerow([*(text("" if c == "file_id" else p[c]) for c in ROSTER_COLUMNS),
                             *(["0" if missing_zero else ""] * len(book.exercises)),
                             "0" if missing_zero else "",
                             _fmt(sum(book.points.values())), "no submission", ""])
            out.exported += 1
    else:
        if fmt == "canvas":
            writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
                             *map(text, columns)])
            writer.writerow(["    Points Possible", "", "", "", "", *map(_fmt, maxima)])

            def ident(p):
                sis = p["sis_user_id"] or (p["student_id"] if people is None else "")
                return [text(p["name"] or p["student_id"]),
                        text(p["student_id"] if people is not None else ""),
                        text(sis), text(p["sis_login_id"]), text(p["section"])]
        else:
            writer.writerow(["ID number", "Email address", "Username", "Full name",
                             *map(text, columns)])

            def ident(p):
                return [text(p["student_id"]), text(p["email"]), text(p["username"]),
                        text(p["name"])]
        entries = []
        for row in book.rows:
            p = person(row)
            if p is None:
                out.left_out.append(row.id)
                continue
            entries.append((p["student_id"], ident(p) + grades_of(row)))
        for p in out.missing:
            entries.append((p["student_id"], ident(p) + empty))
        for _, cells in sorted(entries, key=lambda e: e[0]):
            writer.writerow(cells)
            out.exported += 1
    out.text = buffer.getvalue()
    return out
