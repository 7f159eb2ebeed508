"""``softmax-course export``: a gradebook (written by the gradebook's own writers, as
``softmax-course grade`` writes it) as Canvas's gradebook CSV, Moodle's CSV grade import, or a
plain CSV, with a roster mapping file ids to students."""

import csv
import io
import json
import re
from pathlib import Path

import pytest

from course_lib import cli
from course_lib.batch import export, gradebook

NAMES = ["softmax", "softmax_jacobian", "two_class_softmax"]  # lesson 01, 2 points each


def _entry(sid, scores, status="graded", message=""):
    exercises = {n: {"score": s, "max_score": 2.0, "status": "passed" if s == 2 else "failed",
                     "message": "", "n_passed": 0, "n_tests": 10, "delegated": None}
                 for n, s in scores.items()}
    return {"id": sid, "status": status, "message": message, "score": sum(scores.values()),
            "max_score": 2.0 * len(scores), "cell_errors": [], "notes": [],
            "exercises": exercises}


@pytest.fixture
def grades(tmp_path):
    """A gradebook folder: alice (full marks), bob (partial), a file that is not a notebook,
    and a hostile file name (the ids are the gradebook's own, from submission_ids)."""
    files = ["01_alice.ipynb", "01_bob.ipynb", "01_carol.ipynb", "=HYPERLINK(evil).ipynb",
             "01_dave.ipynb"]
    ids = gradebook.submission_ids(files)
    scores = [{n: 2.0 for n in NAMES}, {"softmax": 2.0, "softmax_jacobian": 0.67,
                                        "two_class_softmax": 1.0},
              {n: 0.0 for n in NAMES}, {n: 1.0 for n in NAMES}, {n: 2.0 for n in NAMES}]
    subs = []
    for sid, path, score in zip(ids, files, scores):
        s = gradebook.Submission(sid, Path(path), exercises=list(NAMES))
        status = "not a notebook" if "carol" in sid else "graded"
        s.entry = _entry(sid, score, status, "not JSON" if status != "graded" else "")
        subs.append(s)
    book = gradebook.Gradebook(subs, list(NAMES), seed=1, timeout=60.0, out=tmp_path / "grades")
    book.out.mkdir()
    (book.out / "grades.csv").write_text(gradebook.grades_csv(book), encoding="utf-8")
    (book.out / "results.json").write_text(json.dumps(gradebook.results_json(book)),
                                           encoding="utf-8")
    return book.out, dict(zip(["alice", "bob", "carol", "evil", "dave"], ids))


@pytest.fixture
def roster(tmp_path, grades):
    _, ids = grades
    path = tmp_path / "roster.csv"
    rows = [["file_id", "student_id", "name", "email", "section", "sis_user_id"],
            [ids["alice"], "1001", "김민준", "minjun@example.com", "A", "S1001"],
            [ids["bob"], "1002", "Bob Smith", "bob@example.com", "B", "S1002"],
            [ids["carol"], "1003", "Carol", "carol@example.com", "A", "S1003"],
            ["01_erin", "1005", "이서연", "seoyeon@example.com", "B", "S1005"],  # no submission
            [ids["dave"], "=1+1", "@Dave", "-dave@example.com", "+C", ""]]
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def _rows(text):
    return list(csv.reader(io.StringIO(text)))


def test_canvas_header_points_possible_and_rows(grades, roster):
    folder, ids = grades
    out = export.export_grades(folder, "canvas", roster=roster)
    rows = _rows(out.text)
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
                       "softmax-course lesson 01"]
    assert rows[1][0].strip() == "Points Possible" and rows[1][1:] == ["", "", "", "", "6"]
    body = {r[1]: r for r in rows[2:]}
    assert body["1001"] == ["김민준", "1001", "S1001", "", "A", "6"]
    assert body["1002"][-1] == "3.67"
    assert body["1003"][-1] == "0"  # graded 0 by the grader (not a notebook): 0, and reported
    assert body["1005"] == ["이서연", "1005", "S1005", "", "B", ""]  # no submission: empty
    assert ids["evil"] not in out.text  # not in the roster: left out, but reported
    assert out.unknown == [ids["evil"]] and out.left_out == [ids["evil"]]
    assert [p["student_id"] for p in out.missing] == ["1005"]
    assert out.exported == 5 and len(rows) == 2 + 5
    assert out.text.endswith("\r\n")


def test_canvas_assignment_name_and_per_exercise(grades, roster):
    folder, _ = grades
    rows = _rows(export.export_grades(folder, "canvas", roster=roster,
                                      assignment="Lesson 1 (4321)").text)
    assert rows[0][5:] == ["Lesson 1 (4321)"]
    rows = _rows(export.export_grades(folder, "canvas", roster=roster, per_exercise=True,
                                      assignment="L1").text)
    assert rows[0][5:] == [f"L1: {n}" for n in NAMES]
    assert rows[1][5:] == ["2", "2", "2"]
    bob = next(r for r in rows if r[1] == "1002")
    assert bob[5:] == ["2", "0.67", "1"]


def test_moodle_header_and_plain_numbers(grades, roster):
    folder, _ = grades
    out = export.export_grades(folder, "moodle", roster=roster, missing_zero=True)
    rows = _rows(out.text)
    assert rows[0] == ["ID number", "Email address", "Username", "Full name",
                       "softmax-course lesson 01"]
    body = {r[0]: r for r in rows[1:]}
    assert body["1001"] == ["1001", "minjun@example.com", "", "김민준", "6"]
    assert body["1002"][-1] == "3.67"
    assert body["1005"][-1] == "0"  # --missing-zero
    for r in rows[1:]:
        float(r[-1])  # plain numbers only
        assert "," not in r[-1] and "e" not in r[-1].lower()


def test_plain_csv_keeps_unknown_and_missing(grades, roster):
    folder, ids = grades
    out = export.export_grades(folder, "csv", roster=roster)
    rows = _rows(out.text)
    assert rows[0] == [*export.ROSTER_COLUMNS, *NAMES, "total", "max", "status", "notes"]
    by_file = {r[0]: r for r in rows[1:]}
    evil = by_file["'" + ids["evil"]] if ids["evil"].startswith(("=", "+", "-", "@")) \
        else by_file[ids["evil"]]
    assert evil[1] == "" and evil[-4] == "3"  # kept, without a student
    erin = next(r for r in rows if r[1] == "1005")
    assert erin[0] == "" and erin[-2] == "no submission" and erin[-5] == ""
    carol = next(r for r in rows if r[1] == "1003")
    assert carol[-2] == "not a notebook" and "not JSON" in carol[-1]
    assert out.exported == 6


def test_without_a_roster_the_file_ids_are_the_students(grades):
    folder, ids = grades
    out = export.export_grades(folder, "canvas")
    rows = _rows(out.text)
    alice = next(r for r in rows if r[2] == ids["alice"])
    assert alice[0] == ids["alice"] and alice[1] == "" and alice[-1] == "6"
    assert out.unknown == [] and out.missing == [] and out.exported == 5
    rows = _rows(export.export_grades(folder, "moodle").text)
    assert ids["bob"] in {r[0] for r in rows[1:]}


def test_csv_injection_is_neutralised(grades, roster, tmp_path):
    folder, ids = grades
    # a gradebook whose id starts with "=" (an older or hand-edited grades.csv)
    text = (folder / "grades.csv").read_text(encoding="utf-8")
    (folder / "grades.csv").write_text(text.replace(ids["alice"], "=cmd|' /C calc'!A0"),
                                       encoding="utf-8")
    for fmt in export.FORMATS:
        out = export.export_grades(folder, fmt, roster=roster if fmt != "csv" else None)
        for row in _rows(out.text)[1:]:
            for cell in row:
                if cell and not cell.strip() == "Points Possible":
                    try:
                        float(cell)
                        continue  # our own numbers
                    except ValueError:
                        pass
                    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (fmt, cell)
    out = export.export_grades(folder, "csv")
    assert "'=cmd|' /C calc'!A0" in out.text
    out = export.export_grades(folder, "moodle", roster=roster)
    dave = next(r for r in _rows(out.text) if "'@Dave" in r)
    assert dave[:4] == ["'=1+1", "'-dave@example.com", "", "'@Dave"]


def test_cli_writes_file_and_reports_on_stderr(grades, roster, tmp_path, capsys):
    folder, ids = grades
    target = tmp_path / "canvas.csv"
    assert cli.main(["export", str(folder), "--format", "canvas", "--roster", str(roster),
                     "--out", str(target)]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert target.read_bytes().decode("utf-8") == export.export_grades(
        folder, "canvas", roster=roster).text
    err = captured.err
    assert f"not in the roster: {ids['evil']}" in err
    assert "no submission: 1005 (이서연)" in err
    assert f"not graded: {ids['carol']} (not a notebook)" in err
    assert err.splitlines()[-1] == ("exported 5 rows; 1 not in the roster, 1 without a "
                                    "submission, 1 not graded")
    assert cli.main(["export", str(folder), "--format", "csv"]) == 0
    assert capsys.readouterr().out.startswith("file_id,student_id,")


def _broken(change, grades, roster, tmp_path) -> list:
    """The arguments of an ``export`` that fails on ``change`` (its files broken as it says)."""
    folder, ids = grades
    args = ["export", str(folder), "--format", "canvas", "--roster", str(roster)]
    if change == "no folder":
        args[1] = str(tmp_path / "nowhere")
    elif change == "no grades.csv":
        (folder / "grades.csv").unlink()
    elif change == "bad header":
        (folder / "grades.csv").write_text("name,score\nalice,3\n", encoding="utf-8")
    elif change == "bad score":
        text = (folder / "grades.csv").read_text(encoding="utf-8")
        (folder / "grades.csv").write_text(text.replace(",6,6,graded", ",six,6,graded", 1),
                                           encoding="utf-8")
    elif change == "roster without student_id":
        roster.write_text("file_id,name\nx,y\n", encoding="utf-8")
    elif change == "roster twice the same file":
        roster.write_text(f"file_id,student_id\n{ids['alice']},1\n{ids['alice']},2\n",
                          encoding="utf-8")
    elif change == "roster twice the same student":
        roster.write_text(f"file_id,student_id\n{ids['alice']},1\n{ids['bob']},1\n",
                          encoding="utf-8")
    elif change == "roster missing":
        args[5] = str(tmp_path / "nobody.csv")
    elif change == "empty assignment":
        args += ["--assignment", " "]
    return args


BAD_INPUTS = [
    ("no folder", "GRADES"),
    ("no grades.csv", "GRADES"),
    ("bad header", "GRADES"),
    ("bad score", "GRADES"),
    ("roster without student_id", "--roster"),
    ("roster twice the same file", "--roster"),
    ("roster twice the same student", "--roster"),
    ("roster missing", "--roster"),
    ("empty assignment", "--assignment"),
]


@pytest.mark.parametrize("change, argument", BAD_INPUTS)
def test_bad_input_names_the_argument(grades, roster, tmp_path, capsys, change, argument):
    args = _broken(change, grades, roster, tmp_path)
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("softmax-course: error: ") and argument in err
    assert "Traceback" not in err


def test_bad_format_is_refused(grades, capsys):
    folder, _ = grades
    with pytest.raises(SystemExit) as exc:
        cli.main(["export", str(folder), "--format", "blackboard"])
    assert exc.value.code == 2 and "--format" in capsys.readouterr().err
    with pytest.raises(export.ExportError, match="--format"):
        export.export_grades(folder, "xls")


def test_roster_with_bom_and_extra_columns_reads(grades, tmp_path):
    folder, ids = grades
    path = tmp_path / "excel.csv"
    path.write_text(f"\ufeffFile_ID,Student_ID,Name,Phone\n{ids['alice']},1001,김민준,010\n",
                    encoding="utf-8")
    rows = export.read_roster(path)
    assert rows[0]["file_id"] == ids["alice"] and rows[0]["name"] == "김민준"
    out = export.export_grades(folder, "moodle", roster=path)
    assert len(out.unknown) == 4 and out.exported == 1


def test_mixed_maximums_are_pointed_out(grades):
    folder, ids = grades
    text = (folder / "grades.csv").read_text(encoding="utf-8")
    (folder / "grades.csv").write_text(text.replace(",6,6,graded", ",2,2,graded", 1),
                                       encoding="utf-8")
    out = export.export_grades(folder, "canvas")
    assert any("--per-exercise" in line for line in out.report())
    assert not export.export_grades(folder, "canvas", per_exercise=True).warnings


# --- --lang: the messages speak Korean, the file written does not change -----------------------
HANGUL = re.compile("[\uac00-\ud7a3]")


def _numbers(text) -> list:
    """The ASCII numbers of ``text``, as a multiset (Korean puts them in another order)."""
    return sorted(re.findall(r"[0-9]+(?:\.[0-9]+)?", text))


def _quoted(text) -> list:
    return sorted(re.findall(r"'[^']*'", text))


@pytest.mark.parametrize("change, argument", BAD_INPUTS)
def test_bad_input_in_korean_names_the_same_argument_and_values(
        grades, roster, tmp_path, capsys, monkeypatch, change, argument):
    monkeypatch.delenv("SOFTMAX_COURSE_LANG", raising=False)
    args = _broken(change, grades, roster, tmp_path)
    assert cli.main(args) == 2
    en = capsys.readouterr().err
    assert cli.main(args + ["--lang", "ko"]) == 2
    ko = capsys.readouterr().err
    assert ko.startswith("softmax-course: 오류: ") and argument in ko, ko
    assert HANGUL.search(ko.removeprefix("softmax-course: 오류: ")), ko
    assert "Traceback" not in ko
    # the same facts: line numbers, counts, paths and the quoted values, as they are
    assert _numbers(ko) == _numbers(en) and _quoted(ko) == _quoted(en)
    assert en.removeprefix("softmax-course: error: ") not in ko  # not the English message


@pytest.mark.parametrize("fmt", export.FORMATS)
def test_korean_report_has_the_same_numbers_and_ids_and_the_same_file(
        grades, roster, tmp_path, capsys, monkeypatch, fmt):
    monkeypatch.delenv("SOFTMAX_COURSE_LANG", raising=False)
    folder, ids = grades
    written, report = {}, {}
    for lang in ("en", "ko"):
        target = tmp_path / f"{fmt}-{lang}.csv"
        assert cli.main(["export", str(folder), "--format", fmt, "--roster", str(roster),
                         "--out", str(target), "--lang", lang]) == 0
        written[lang] = target.read_bytes()
        report[lang] = capsys.readouterr().err.splitlines()
    assert written["ko"] == written["en"]  # headers and values are the LMS's, in any language
    en, ko = report["en"], report["ko"]
    assert len(ko) == len(en) >= 4
    for e, k in zip(en, ko):
        assert HANGUL.search(k) and _numbers(k) == _numbers(e), (e, k)
    text = "\n".join(ko)
    for kept in (ids["evil"], ids["carol"], "1005", "이서연", "(not a notebook)"):
        assert kept in text  # ids, names and the gradebook's statuses stay as they are
    for english in ("not in the roster", "no submission", "not graded", "exported"):
        assert english not in text
    summary = _numbers(ko[-1])
    assert summary == _numbers(en[-1]) == sorted(["6" if fmt == "csv" else "5", "1", "1", "1"])
    assert "명단" in ko[-1] and "학생" in ko[-1]
    if fmt != "csv":  # the unknown submission is left out of the file, and the report says why
        assert ids["evil"] not in written["ko"].decode("utf-8")
        unknown = next(line for line in ko if ids["evil"] in line)
        assert unknown != f"{ids['evil']}" and "뺐습니다" in unknown


def test_export_speaks_the_environments_language_unless_lang_says_otherwise(
        grades, roster, capsys, monkeypatch):
    folder, _ = grades
    args = ["export", str(folder), "--format", "moodle", "--roster", str(roster)]
    monkeypatch.delenv("SOFTMAX_COURSE_LANG", raising=False)
    assert cli.main(args) == 0
    english = capsys.readouterr()
    monkeypatch.setenv("SOFTMAX_COURSE_LANG", "ko")
    assert cli.main(args) == 0
    korean = capsys.readouterr()
    assert HANGUL.search(korean.err) and korean.err != english.err
    assert korean.out == english.out  # the file (here on stdout) is the same
    assert cli.main(args + ["--lang", "en"]) == 0
    assert capsys.readouterr() == english
    assert cli.main(args + ["--lang", "ko"]) == 0
    assert capsys.readouterr() == korean
    with pytest.raises(SystemExit) as exc:
        cli.main(args + ["--lang", "fr"])
    assert exc.value.code == 2 and "--lang" in capsys.readouterr().err
