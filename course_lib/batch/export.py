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

Messages (errors, warnings, the report on stderr) speak the language in effect
(:func:`course_lib.i18n.get_language`; ``softmax-course export --lang ko``); the file written
never does: its headers, column names and values are what the LMS reads, in any language.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

from ..i18n import gettext as _, ngettext

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


def _number(text, path, line, column) -> float:
    """The number in cell ``column`` of ``line`` of the gradebook ``path``."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise ExportError(_("GRADES {path}, line {line}, {column}: not a number: {value}").format(
            path=path, line=line, column=column, value=repr(text))) from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ExportError(_("GRADES {path}, line {line}, {column}: not a finite number: "
                            "{value}").format(path=path, line=line, column=column,
                                              value=repr(text)))
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
        raise ExportError(_("GRADES {folder}: no such folder (give the --out folder of "
                            "softmax-course grade)").format(folder=folder))
    path = folder / "grades.csv"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ExportError(_("GRADES {folder}: cannot read grades.csv ({reason}); is it the "
                            "--out folder of softmax-course grade?").format(
                                folder=folder, reason=exc.strerror or type(exc).__name__)) from None
    except UnicodeDecodeError:
        raise ExportError(_("GRADES {path}: not UTF-8 text").format(path=path)) from None
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    tail = ["total", "max", "status", "notes"]
    if not header or header[0] != "id" or header[-4:] != tail or len(header) < 5:
        raise ExportError(_("GRADES {path}: not a gradebook (its header should be id, the "
                            "exercises, total, max, status, notes)").format(path=path))
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
                raise ExportError(_("GRADES {path}: unknown exercise {name} and no "
                                    "results.json to say its points").format(
                                        path=path, name=repr(name)))
            points[name] = float(EXERCISES[name].points)
    rows, seen = [], set()
    for n, cells in enumerate(reader, 2):
        if not cells:
            continue
        if len(cells) != len(header):
            # "cells" whatever the count, as before (the header has 5 cells or more)
            raise ExportError(_("GRADES {path}, line {line}: {cells} cells, the header has "
                                "{header}").format(path=path, line=n, cells=len(cells),
                                                   header=len(header)))
        sid = cells[0]
        if sid in seen:
            raise ExportError(_("GRADES {path}, line {line}: id {id} appears twice").format(
                path=path, line=n, id=repr(sid)))
        seen.add(sid)
        scores = {}
        for name, cell in zip(exercises, cells[1:-4]):
            scores[name] = _number(cell, path, n, name) if cell else ""
        total = _number(cells[-4], path, n, "total")
        top = _number(cells[-3], path, n, "max")
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
        raise ExportError(_("--roster {path}: cannot be read ({reason})").format(
            path=path, reason=exc.strerror or type(exc).__name__)) from None
    except UnicodeDecodeError:
        raise ExportError(_("--roster {path}: not UTF-8 text (save it as CSV UTF-8)").format(
            path=path)) from None
    reader = csv.DictReader(io.StringIO(text))
    fields = [(f or "").strip().lower() for f in (reader.fieldnames or [])]
    missing = [c for c in ("file_id", "student_id") if c not in fields]
    optional = ", ".join(ROSTER_COLUMNS[2:])
    if len(missing) == 2:
        raise ExportError(_("--roster {path}: no column file_id or student_id (its header must "
                            "name file_id and student_id; optional: {optional})").format(
                                path=path, optional=optional))
    if missing:
        raise ExportError(_("--roster {path}: no column {column} (its header must name file_id "
                            "and student_id; optional: {optional})").format(
                                path=path, column=missing[0], optional=optional))
    reader.fieldnames = fields
    rows, files, students = [], {}, {}
    for n, raw in enumerate(reader, 2):
        row = {c: (raw.get(c) or "").strip() for c in ROSTER_COLUMNS}
        if not any(row.values()):
            continue
        for c in ("file_id", "student_id"):
            if not row[c]:
                raise ExportError(_("--roster {path}, line {line}: empty {column}").format(
                    path=path, line=n, column=c))
        if row["file_id"] in files:
            raise ExportError(_("--roster {path}, line {line}: file_id {id} is also on line "
                                "{other}").format(path=path, line=n, id=repr(row["file_id"]),
                                                  other=files[row["file_id"]]))
        if row["student_id"] in students:
            raise ExportError(_("--roster {path}, line {line}: student_id {id} is also on line "
                                "{other}").format(path=path, line=n, id=repr(row["student_id"]),
                                                  other=students[row["student_id"]]))
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
        """The lines for stderr: every unknown, missing or ungraded student, then a summary.

        They speak the language in effect when this is called (ids, names and the gradebook's
        statuses stay as they are); the warnings, the language in effect at the export.
        """
        lines = [(_("not in the roster: {id} (left out of the file: it cannot be matched to a "
                    "student)") if sid in self.left_out else _("not in the roster: {id}")).format(
                        id=sid) for sid in self.unknown]
        lines += [(_("no submission: {student} ({name})") if r["name"]
                   else _("no submission: {student}")).format(student=r["student_id"],
                                                             name=r["name"])
                  for r in self.missing]
        lines += [_("not graded: {id} ({status})").format(id=sid, status=status)
                  for sid, status in self.not_graded]
        lines += [_("warning: {warning}").format(warning=w) for w in self.warnings]
        lines.append(ngettext(
            "exported {rows} row; {unknown} not in the roster, {missing} without a submission, "
            "{not_graded} not graded",
            "exported {rows} rows; {unknown} not in the roster, {missing} without a submission, "
            "{not_graded} not graded", self.exported).format(
                rows=self.exported, unknown=len(self.unknown), missing=len(self.missing),
                not_graded=len(self.not_graded)))
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
        raise ExportError(_("--format {format}: one of {formats}").format(
            format=repr(fmt), formats=", ".join(FORMATS)))
    if assignment is not None and not str(assignment).strip():
        raise ExportError(_("--assignment: an empty name"))
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
        out.warnings.append(_(
            "the submissions were graded on different exercises (maximums {maximums}), but the "
            "total column's Points Possible is {points}: --per-exercise gives each exercise its "
            "own column").format(maximums=", ".join(map(_fmt, maxima_seen)),
                                 points=_fmt(sum(book.points.values()))))
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
        for _student, cells in sorted(entries, key=lambda e: e[0]):
            writer.writerow(cells)
            out.exported += 1
    out.text = buffer.getvalue()
    return out
