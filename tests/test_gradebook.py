"""Batch grading (``softmax-course grade``) on a class of generated submissions: correct, empty,
broken and hostile notebooks. Each must get the score it deserves, the batch must complete, and
every original must be byte-identical afterwards.

The class is graded once (a module fixture, about half a minute with two jobs); the tests then
read the gradebook it wrote.
"""

import copy
import csv
import json
import re
import time
from pathlib import Path

import nbformat
import numpy as np
import pytest

from course_lib import cli
from course_lib.grading import EXERCISES, notebook, sandbox
from course_lib.batch.gradebook import grade_submissions, submission_ids
from course_lib.grading.result import show_array

ROOT = Path(__file__).resolve().parents[1]
SOLUTION = nbformat.read(ROOT / "solutions" / "03_solutions_max_trick.ipynb", as_version=4)
EXERCISE = nbformat.read(ROOT / "exercises" / "03_exercises_max_trick.ipynb", as_version=4)
NAMES = ["stable_softmax", "logsumexp", "log_softmax"]  # three of lesson 03's, chosen with --exercise
TIMEOUT = 6.0  # generous: only the looping cells may reach it, even on a loaded machine

NO_MAX_TRICK = '''
def stable_softmax(z, axis=-1):
    e = np.exp(np.asarray(z, dtype=float))
    return e / e.sum(axis=axis, keepdims=True)
'''


def _cells(nb):
    return {c.id: c for c in nb.cells}


def _with(nb, *, drop=(), after=None, cells=(), replace=None):
    """A copy of ``nb`` without the cells ``drop``, with ``cells`` (sources) inserted after the
    cell ``after`` (default: at the end), and sources replaced by id (``replace``)."""
    nb = copy.deepcopy(nb)
    nb.cells = [c for c in nb.cells if c.id not in drop]
    for c in nb.cells:
        if replace and c.id in replace:
            c.source = replace[c.id]
    new = [nbformat.v4.new_code_cell(s) for s in cells]
    where = len(nb.cells) if after is None else [c.id for c in nb.cells].index(after) + 1
    nb.cells[where:where] = new
    return nb


def _memorised(name):
    """A function that knows the public tests' answers by heart, and nothing else."""
    ex = EXERCISES[name]
    answers = {json.dumps([np.asarray(c.args[0], float).tolist(), c.kwargs.get("axis", -1)]):
               np.asarray(ex.expected(c)).tolist() for c in ex.public}
    return (f"import json\nimport numpy as np\n_answers = json.loads({json.dumps(answers)!r})\n\n"
            f"def {name}(z, axis=-1):\n"
            "    key = json.dumps([np.asarray(z, float).tolist(), axis])\n"
            "    return np.array(_answers.get(key, np.zeros(np.shape(z)).tolist()))\n")


def _checks(nb):
    return [c.id for c in nb.cells if c.id.endswith("-check")]


def _class(folder: Path, out: Path) -> dict:
    """Write the class's submissions into ``folder``; return id -> expected points per exercise
    (None where the exercise's points are checked separately)."""
    full, zero = [2.0, 2.0, 2.0], [0.0, 0.0, 0.0]
    other = folder / "zz_other_student.ipynb"
    notebooks = {
        "full": (SOLUTION, full),
        "empty": (EXERCISE, zero),
        "loop_after": (_with(SOLUTION, cells=["while True:\n    pass"]), full),
        "exit_middle": (_with(SOLUTION, after="logsumexp-check",
                              cells=["import os\nos._exit(1)"]), full),
        "killer_function": (_with(SOLUTION, drop=["logsumexp-check"], replace={"logsumexp-code": (
            "import os\n\ndef logsumexp(z, axis=-1):\n    os._exit(1)")}), [2.0, 0.0, 2.0]),
        "deaf_loop": (_with(SOLUTION, after="setup", cells=[
            "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"]),
            full),
        "cheat": (_with(SOLUTION, replace={"stable-softmax-code": NO_MAX_TRICK}, cells=[
            "import numpy, numpy.testing\n"
            "numpy.allclose = lambda *a, **k: True\n"
            "numpy.testing.assert_allclose = lambda *a, **k: None\n"
            "numpy.isfinite = lambda x: numpy.ones(numpy.shape(x), bool)\n"
            "def check(name, fn, **kw):\n    print('✓ passed')\n"
            "import course_lib.grading\ncourse_lib.grading.check = check\n"
            "course_lib.grading.exercise.compare = lambda *a, **k: None\n"
            "course_lib.grading.exercise.judge = lambda *a, **k: None\n"]), None),
        "honest_no_max": (_with(SOLUTION, replace={"stable-softmax-code": NO_MAX_TRICK}), None),
        "hardcoded": (_with(SOLUTION, replace={"stable-softmax-code": _memorised("stable_softmax")}),
                      None),
        "no_checks": (_with(SOLUTION, drop=_checks(SOLUTION)), full),
        "duplicated": (_with(SOLUTION, after="log-softmax-code", cells=[]), full),
        "markdown": (_with(SOLUTION), [2.0, 0.0, 2.0]),
        "flood": (_with(SOLUTION, after="setup", cells=[
            "import sys\nfor _ in range(50):\n    sys.stdout.write('x' * 1_000_000 + '\\n')"]), full),
        "vandal": (_with(SOLUTION, after="setup", cells=[
            f"open({str(out / 'grades.csv')!r}, 'w').write('id,total\\nvandal,999\\n')",
            f"open({str(out / 'feedback' / 'full.html')!r}, 'w').write('hacked')",
            f"open({str(other)!r}, 'w').write('overwritten')",
            f"import os\nos.remove({str(other)!r})",
            f"print(open({str(other)!r}).read()[:100])",
            f"open({str(Path.home() / 'softmax-course-was-here')!r}, 'w').write('x')",
        ]), full),
    }
    expected = {}
    for sid, (nb, points) in notebooks.items():
        nb = copy.deepcopy(nb)
        if sid == "duplicated":  # a copy of the log_softmax cell, same id, wrong version first
            cells = _cells(nb)
            wrong = copy.deepcopy(cells["log-softmax-code"])
            wrong.source = "def log_softmax(z, axis=-1):\n    return z"
            i = nb.cells.index(cells["log-softmax-code"])
            nb.cells[i:i] = [wrong]
        if sid == "markdown":  # the logsumexp cell turned into markdown
            cells = _cells(nb)
            md = nbformat.v4.new_markdown_cell(cells["logsumexp-code"].source)
            nb.cells[nb.cells.index(cells["logsumexp-code"])] = md
        (folder / f"{sid}.ipynb").write_text(json.dumps(nb), encoding="utf-8")  # ids as they are
        expected[sid] = points
    nbformat.write(SOLUTION, other)
    expected["zz_other_student"] = full
    (folder / "broken_json.ipynb").write_text('{"nbformat": 4, "cells": [', encoding="utf-8")
    (folder / "picture.ipynb").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    expected["broken_json"] = expected["picture"] = zero
    v3 = {"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [{"cells": [
        {"cell_type": "code", "language": "python", "outputs": [], "metadata": {},
         "input": _cells(SOLUTION)["setup"].source + "\n" + _cells(SOLUTION)["logsumexp-code"].source}]}]}
    (folder / "old_format.ipynb").write_text(json.dumps(v3), encoding="utf-8")
    expected["old_format"] = [0.0, 2.0, 0.0]
    return expected


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("class")
    folder, out = base / "submissions", base / "grades"
    folder.mkdir()
    (out / "feedback").mkdir(parents=True)
    (out / "feedback" / "full.html").write_text("a previous run's page", encoding="utf-8")
    expected = _class(folder, out)
    originals = {p: p.read_bytes() for p in folder.iterdir()}
    saved, notebook.PROBE_SECONDS = notebook.PROBE_SECONDS, 2.0
    try:
        status = cli.main(["grade", *map(str, sorted(folder.iterdir())), "--out", str(out),
                           "--jobs", "2", "--timeout", str(TIMEOUT),
                           *(f"--exercise={n}" for n in NAMES)])
    finally:
        notebook.PROBE_SECONDS = saved
    rows = {r["id"]: r for r in csv.DictReader((out / "grades.csv").open(encoding="utf-8"))}
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    return dict(folder=folder, out=out, status=status, expected=expected, originals=originals,
                rows=rows, results={s["id"]: s for s in results["submissions"]}, meta=results)


def _points(row):
    return [float(row[n]) for n in NAMES]


def _label(graded, sid, cell_id):
    """How the grader names a cell: ``cell [k]``, k-th non-empty code cell (as JupyterLab
    numbers them after Restart and Run All)."""
    nb = nbformat.reads(graded["originals"][graded["folder"] / f"{sid}.ipynb"].decode(), 4)
    code = [c for c in nb.cells if c.cell_type == "code" and "".join(c.source).strip()]
    return f"cell [{[c.get('id') for c in code].index(cell_id) + 1}]"


def _id_of(graded, sid, position):
    nb = nbformat.reads(graded["originals"][graded["folder"] / f"{sid}.ipynb"].decode(), 4)
    return nb.cells[position].get("id")


def test_every_file_gets_a_row_and_the_batch_exits_0(graded):
    assert graded["status"] == 0
    assert set(graded["rows"]) == set(graded["expected"]) | {"cheat", "honest_no_max", "hardcoded"}
    assert list(next(iter(graded["rows"].values()))) == ["id", *NAMES, "total", "max", "status",
                                                         "notes"]


def test_each_submission_gets_the_score_it_deserves(graded):
    for sid, points in graded["expected"].items():
        if points is not None:
            row = graded["rows"][sid]
            assert _points(row) == points, (sid, row, graded["results"][sid]["cell_errors"])
            assert float(row["total"]) == sum(points) and float(row["max"]) == 6.0


def test_originals_are_byte_identical_and_nothing_escaped(graded):
    for path, data in graded["originals"].items():
        assert path.read_bytes() == data, path.name
    assert set(graded["folder"].iterdir()) == set(graded["originals"])
    assert not (Path.home() / "softmax-course-was-here").exists()
    vandal = graded["results"]["vandal"]
    assert len(vandal["cell_errors"]) == 6
    # Landlock denies (fallback), or the paths are not there at all (bubblewrap mounts none of
    # them: a private /tmp, no /root or /home)
    assert all(e.split(": ")[1] in ("PermissionError", "FileNotFoundError", "OSError")
               for e in vandal["cell_errors"]), vandal["cell_errors"]
    assert "vandal,999" not in (graded["out"] / "grades.csv").read_text(encoding="utf-8")
    assert "hacked" not in (graded["out"] / "feedback" / "full.html").read_text(encoding="utf-8")
    assert {s["sandbox"] for s in graded["results"].values() if s["status"] == "graded"} == {
        f"{graded['meta']['sandbox']['mode']}+landlock-{sandbox.landlock_abi()}"}
    assert sandbox.landlock_abi() > 0, "this Linux has no Landlock: the notebooks ran unconfined"


def test_a_timeout_interrupts_one_cell_and_the_run_goes_on(graded):
    loop = graded["results"]["loop_after"]
    last = _label(graded, "loop_after", _id_of(graded, "loop_after", -1))  # the last cell
    assert loop["cell_errors"] == [f"{last}: ran longer than {TIMEOUT:g} s and was interrupted"]
    deaf = graded["results"]["deaf_loop"]  # ignores the interrupt: stopped, restarted, replayed
    cell = _label(graded, "deaf_loop", _id_of(graded, "deaf_loop", 2))
    assert deaf["cell_errors"] == [f"{cell}: the kernel died or stopped answering while it ran"]
    assert f"the kernel died in {cell}; it was restarted once and the notebook run again " \
        f"without {cell}" in deaf["notes"]


def test_a_dead_kernel_is_restarted_once_and_only_what_it_took_down_scores_0(graded):
    exit_middle = graded["results"]["exit_middle"]
    cell = _label(graded, "exit_middle", _id_of(graded, "exit_middle", 10))
    assert exit_middle["cell_errors"] == [f"{cell}: the kernel died or stopped answering while it ran"]
    assert "restarted" in graded["rows"]["exit_middle"]["notes"]
    killer = graded["results"]["killer_function"]["exercises"]["logsumexp"]
    assert killer["status"] == "error" and killer["message"] == "Calling logsumexp killed the kernel."
    assert graded["results"]["killer_function"]["notes"] == [
        "calling logsumexp killed the kernel; it was restarted once and the notebook run again"]
    assert "logsumexp not graded: Calling logsumexp killed the kernel" in (
        graded["rows"]["killer_function"]["notes"])


def test_cheating_gains_nothing(graded):
    rows = graded["rows"]
    assert _points(rows["cheat"]) == _points(rows["honest_no_max"])
    assert 0 < float(rows["cheat"]["stable_softmax"]) < 2.0
    hardcoded = graded["results"]["hardcoded"]["exercises"]["stable_softmax"]
    assert not hardcoded["passed"] and all(f["hidden"] for f in hardcoded["failures"])
    assert float(rows["hardcoded"]["stable_softmax"]) < 2.0
    cheat = graded["results"]["cheat"]["exercises"]["stable_softmax"]
    assert [m["name"] for m in cheat["mistakes"]] == ["no max trick"]


def test_layout_problems_are_repaired_or_pointed_out(graded):
    results = graded["results"]
    assert "1 duplicate or missing cell id renamed" in results["duplicated"]["notes"]
    md = results["markdown"]["exercises"]["logsumexp"]
    assert md["status"] == "error" and "is a markdown cell" in md["message"]
    assert "logsumexp not graded: no function named logsumexp was defined: the markdown cell" in (
        graded["rows"]["markdown"]["notes"])  # the gradebook's row says why, not only the page
    assert "nbformat 3, upgraded to 4" in results["old_format"]["notes"]
    assert results["broken_json"]["status"] == results["picture"]["status"] == "not a notebook"
    assert "not JSON" in results["broken_json"]["message"]
    assert "not text" in results["picture"]["message"]
    assert results["flood"]["cell_errors"] == []


def test_feedback_shows_public_failures_and_hints_but_never_hidden_inputs(graded):
    page = (graded["out"] / "feedback" / "honest_no_max.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "Feedback: honest_no_max" in page
    assert "Likely mistake, no max trick" in page and "z = [1000, 0, 0]" in page
    seed = graded["meta"]["seed"]
    for name in NAMES:
        for case in EXERCISES[name].hidden_cases(seed):
            for arg in case.args:
                if isinstance(arg, np.ndarray) and arg.size > 1:
                    assert show_array(arg, one_line=True) not in page
                    assert show_array(arg) not in page
    assert "hidden_" not in page
    for sid in graded["rows"]:
        assert (graded["out"] / "feedback" / f"{sid}.html").is_file()
    bad = (graded["out"] / "feedback" / "picture.html").read_text(encoding="utf-8")
    assert "could not be graded: not a notebook" in bad


def test_results_json_holds_everything(graded):
    meta = graded["meta"]
    assert meta["exercises"] == [{"name": n, "lesson": "03", "points": 2.0} for n in NAMES]
    full = graded["results"]["full"]
    assert full["score"] == 6.0 and full["status"] == "graded"
    assert re.fullmatch(r"[0-9a-f]{64}", full["sha256"])
    assert full["exercises"]["logsumexp"]["n_tests"] > len(EXERCISES["logsumexp"].public)
    assert set(meta["mean_scores"]) == set(NAMES)


def test_grading_again_gives_the_same_grades(graded, tmp_path):
    """The same folder into the same --out: the seed is kept, the gradebook is the same."""
    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    for sid in ("full", "honest_no_max", "hardcoded"):
        (folder / f"{sid}.ipynb").write_bytes(graded["originals"][graded["folder"] / f"{sid}.ipynb"])
    first = grade_submissions(sorted(folder.iterdir()), out, jobs=2, timeout=30, exercises=NAMES)
    csv_first = (out / "grades.csv").read_bytes()
    second = grade_submissions(sorted(folder.iterdir()), out, jobs=2, timeout=30,
                               exercises=NAMES)
    assert second.seed == first.seed
    assert (out / "grades.csv").read_bytes() == csv_first
    pages = sorted((out / "feedback").iterdir())
    assert [p.name for p in pages] == ["full.html", "hardcoded.html", "honest_no_max.html"]


def test_submission_ids_are_unique_and_safe():
    ids = submission_ids(["a/x.ipynb", "b/x.ipynb", "c/x.ipynb", "c/x.IPYNB", "../../etc.ipynb",
                          "Émilie Durand.ipynb"])
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"[A-Za-z0-9._-]+", i) for i in ids)


def test_the_command_line_says_what_is_wrong(tmp_path, capsys):
    assert cli.main(["grade", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    assert "no submissions found" in capsys.readouterr().err
    nb = tmp_path / "notes.ipynb"
    nbformat.write(nbformat.v4.new_notebook(), nb)
    assert cli.main(["grade", str(nb), "--out", str(tmp_path / "o")]) == 2
    assert "found no exercises to grade" in capsys.readouterr().err
    assert cli.main(["grade", str(nb), "--out", str(tmp_path / "o"), "--lesson", "42"]) == 2
    assert "lesson 42 has no exercises" in capsys.readouterr().err
    assert cli.main(["grade", str(nb), "--out", str(tmp_path / "o"), "--exercise", "sofmax"]) == 2
    assert "no exercise named sofmax" in capsys.readouterr().err


def test_a_confined_kernel_cannot_lift_its_limits(tmp_path):
    """The sandbox as a kernel sees it: the memory cap and the file rules hold for good."""
    import subprocess
    import sys

    work, secret = tmp_path / "work", tmp_path / "secret.ipynb"
    work.mkdir()
    secret.write_text("answers", encoding="utf-8")
    policy = sandbox.write_policy(work / "policy.json", writable=[work], protected=[secret],
                                  memory_bytes=2 * 2**30)
    probe = (
        "import resource, os\n"
        "soft, hard = resource.getrlimit(resource.RLIMIT_AS)\n"
        "try:\n    resource.setrlimit(resource.RLIMIT_AS, (hard, resource.RLIM_INFINITY)); lifted = 1\n"
        "except (ValueError, OSError):\n    lifted = 0\n"
        "try:\n    b = bytearray(3 * 2**30); big = 1\nexcept MemoryError:\n    big = 0\n"
        f"try:\n    open({str(secret)!r}).read(); read = 1\nexcept PermissionError:\n    read = 0\n"
        f"open({str(work / 'ok')!r}, 'w').write('x')\n"
        "print(soft == hard == 2 * 2**30, lifted, big, read, os.environ['SOFTMAX_COURSE_SANDBOX'])\n"
    )
    out = subprocess.run(sandbox.launcher(policy) + [sys.executable, "-c", probe],
                         capture_output=True, text=True, check=True).stdout.split()
    assert out == ["True", "0", "0", "0", f"landlock-{sandbox.landlock_abi()}"]
    assert (work / "ok").read_text() == "x"


def test_a_grader_killed_midway_resumes_without_grading_twice(tmp_path):
    """Rows are journaled as they finish: after a SIGKILL, --resume keeps them and grades the
    rest; an unchanged submission is not graded again."""
    import os
    import signal
    import subprocess
    import sys
    import time

    honest = ("import numpy as np\n\ndef softmax(z):\n    e = np.exp(np.asarray(z, float) - "
              "np.max(z))\n    return e / e.sum()\n")
    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    for who in ("a", "b", "c"):
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(honest)]
        nbformat.write(nb, folder / f"01_{who}.ipynb")
    cmd = [sys.executable, "-m", "course_lib", "grade", str(folder), "--out", str(out),
           "--jobs", "1", "--seed", "3"]
    grader = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    journal = out / "journal.jsonl"
    began = time.monotonic()
    while time.monotonic() - began < 300 and (
            not journal.exists() or journal.read_text().count("\n") < 1):
        time.sleep(0.1)
    os.kill(grader.pid, signal.SIGKILL)
    grader.wait()
    first = [json.loads(line)["id"] for line in journal.read_text().splitlines()]
    assert 1 <= len(first) < 3 and not (out / "grades.csv").exists()
    resumed = subprocess.run(cmd + ["--resume"], capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    assert f"({len(first)} reused from the journal)" in resumed.stdout
    lines = [json.loads(line) for line in journal.read_text().splitlines()]
    assert sorted(item["id"] for item in lines) == ["01_a", "01_b", "01_c"]  # none twice
    rows = list(csv.DictReader((out / "grades.csv").open(encoding="utf-8")))
    assert [(r["id"], r["total"]) for r in rows] == [("01_a", "2"), ("01_b", "2"), ("01_c", "2")]
    again = subprocess.run(cmd + ["--resume"], capture_output=True, text=True, timeout=600)
    assert "(3 reused from the journal)" in again.stdout
    # a changed submission is graded again, the unchanged ones are reused
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("def softmax(z):\n    return z")]
    nbformat.write(nb, folder / "01_b.ipynb")
    changed = subprocess.run(cmd + ["--resume"], capture_output=True, text=True, timeout=600)
    assert "(2 reused from the journal)" in changed.stdout, changed.stdout
    rows = list(csv.DictReader((out / "grades.csv").open(encoding="utf-8")))
    assert [(r["id"], r["total"]) for r in rows] == [("01_a", "2"), ("01_b", "0"), ("01_c", "2")]


def test_a_notebook_time_limit_and_plain_error_notes(tmp_path):
    """--notebook-timeout stops a notebook's remaining cells (its functions are still graded);
    errors name their type and message, with no sandbox or temporary path; the page is not a
    notebook, so it never says to run a check again."""
    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in (
        "import numpy as np\n\ndef softmax(z):\n    e = np.exp(np.asarray(z, float) - np.max(z))\n"
        "    return e / e.sum()",
        "open('data.csv')",
        "", "import time\ntime.sleep(4)", "import time\ntime.sleep(4)", "raise ValueError('never')",
    )]
    nbformat.write(nb, folder / "01_slow.ipynb")
    stub = nbformat.v4.new_notebook()
    stub.cells = [nbformat.v4.new_code_cell("def softmax(z):\n    raise NotImplementedError")]
    nbformat.write(stub, folder / "01_stub.ipynb")
    book = grade_submissions(sorted(folder.iterdir()), out, jobs=1, timeout=30,
                             notebook_timeout=6, seed=1)
    slow = next(s.entry for s in book.submissions if s.id == "01_slow")
    assert slow["score"] == 2.0 and slow["status"] == "graded"
    assert slow["cell_errors"][0] == (
        "cell [2]: FileNotFoundError: [Errno 2] No such file or directory: 'data.csv'")
    assert not any("ValueError" in e for e in slow["cell_errors"])  # never ran
    assert any(n.startswith("the notebook ran longer than 6 s") for n in slow["notes"])
    rows = {r["id"]: r for r in csv.DictReader((out / "grades.csv").open(encoding="utf-8"))}
    assert "1 cell error, first cell [2]: FileNotFoundError" in rows["01_slow"]["notes"]
    pages = "".join(p.read_text(encoding="utf-8") for p in (out / "feedback").iterdir())
    text = (out / "results.json").read_text(encoding="utf-8") + pages
    for leak in ("/home/student", "softmax-course-grade", "run this check again"):
        assert leak not in text
    assert str(tmp_path) not in pages
    page = (out / "feedback" / "01_stub.html").read_text(encoding="utf-8")
    assert "not implemented yet" in page


@pytest.mark.parametrize("name, lesson", [
    ("04_temperature.ipynb", "04"),                      # the exercise notebook's old name
    ("04_exercises_temperature.ipynb", "04"),            # its name since issue 18
    ("04_exercises_temperature (1).ipynb", "04"),        # as a browser saves a second download
    ("04_exercises_temperature-alice.ipynb", "04"),
    ("04_solutions_temperature.ipynb", "04"),
    ("4_temperature.ipynb", None), ("exercises_04.ipynb", None), ("alice.ipynb", None),
])
def test_the_lesson_is_read_from_old_and_new_exercise_names(name, lesson):
    from course_lib.batch.gradebook import lesson_of
    from course_lib.batch.notebook import exercises_for

    assert lesson_of(name) == lesson
    wanted = [n for n, e in EXERCISES.items() if e.lesson == lesson] if lesson else []
    assert exercises_for(name) == wanted


def test_submissions_under_the_old_and_the_new_names_grade_alike(tmp_path):
    """A learner who saved the exercise notebook before it was renamed hands in
    ``01_definition.ipynb``; another hands in ``01_exercises_definition.ipynb``: without
    ``--lesson`` both are graded on lesson 01's exercises, with full marks."""
    solution = (ROOT / "solutions" / "01_solutions_definition.ipynb").read_bytes()
    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    for name in ("01_definition.ipynb", "01_exercises_definition.ipynb"):
        (folder / name).write_bytes(solution)
    book = grade_submissions(sorted(folder.iterdir()), out, jobs=2, timeout=60, seed=1)
    lesson01 = [n for n, e in EXERCISES.items() if e.lesson == "01"]
    total = sum(EXERCISES[n].points for n in lesson01)
    graded = {s.id: s.entry for s in book.submissions}
    assert sorted(graded) == ["01_definition", "01_exercises_definition"]
    for entry in graded.values():
        assert entry["status"] == "graded" and list(entry["exercises"]) == lesson01
        assert entry["score"] == total


def test_after_a_replay_errors_name_cells_as_jupyterlab_numbers_them(tmp_path):
    """A cell that kills the kernel is left out when the notebook is run again; the cells after
    it keep their numbers, so an error raised in a function defined there names the cell the
    student sees as [3], not the [2] it would be in a replay that skipped a number."""
    folder = tmp_path / "in"
    folder.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in (
        "import numpy as np", "", "import os\nos._exit(1)",
        "def softmax(z):\n    z = np.asarray(z, float)\n    return np.exp(z) / no_such_name",
    )]
    nbformat.write(nb, folder / "01_replayed.ipynb")
    book = grade_submissions(sorted(folder.iterdir()), tmp_path / "out", jobs=1, timeout=30,
                             exercises=["softmax"], seed=1)
    entry = book.submissions[0].entry
    assert entry["cell_errors"] == [
        "cell [2]: the kernel died or stopped answering while it ran"]
    page = (tmp_path / "out" / "feedback" / "01_replayed.html").read_text(encoding="utf-8")
    assert "raised in cell [3], line 3: return np.exp(z) / no_such_name" in page
    assert "cell [2], line" not in page


def test_a_line_forged_during_the_calls_stays_visible(tmp_path):
    """The hostile class's forge, made deterministic: while the grader's calls run, something
    else in the kernel (a thread) appends an outcome line of its own. The kernel side appends
    its lines after it (O_APPEND), so the worker counts one line too many and the exercise is
    tampered. (Written from its own offset, the kernel side wrote over the forged line and hid
    it: the forger's values then scored, now and then, as the threads' timing allowed.)"""
    import inspect

    from course_lib.batch import worker
    from course_lib.grading import run as run_module

    ns = {"__name__": "kernel"}
    exec(inspect.getsource(run_module), ns)
    channel = tmp_path / "outcomes.jsonl"
    calls = [{"id": f"t{i}-nonce", "function": "softmax", "args": [{"json": [1.0, 2.0]}],
              "kwargs": {}} for i in range(3)]
    (tmp_path / "request.json").write_text(json.dumps({"calls": calls}))
    forged = []

    def softmax(z):
        if not forged:  # once, during the first call, as a forging thread would
            with channel.open("a") as f:
                f.write(json.dumps({"id": "t0-nonce", "outcome": {}}) + "\n")
            forged.append(1)
        return np.zeros(np.shape(z))

    ns["run_requests"]({"softmax": softmax}, str(tmp_path))
    assert len(channel.read_text().splitlines()) == 4
    got = worker.read_outcomes(str(tmp_path), [(f"t{i}", f"t{i}-nonce") for i in range(3)])
    assert got["tampered"] == ("4 outcomes for 3 calls: something else wrote into the "
                               "grader's channel")
    honest = tmp_path / "honest"
    honest.mkdir()
    (honest / "request.json").write_text(json.dumps({"calls": calls}))
    ns["run_requests"]({"softmax": lambda z: np.zeros(np.shape(z))}, str(honest))
    got = worker.read_outcomes(str(honest), [(f"t{i}", f"t{i}-nonce") for i in range(3)])
    assert got["tampered"] is None and len(got["outcomes"]) == 3


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="the reaper reads /proc")
def test_a_starting_worker_is_never_taken_for_an_orphan(tmp_path):
    """The fallback's reaper runs after each notebook, while other slots start their workers.
    A worker running but not yet registered as live looked like an orphan of a sandbox (a child
    of the grader with a sandbox's environment) and was killed: an honest classmate's row said
    "the sandbox ended without a result". Starting and registering are one step now."""
    import sys
    import threading

    from course_lib.batch import isolation
    from course_lib.batch import notebook as batch

    protection = isolation.protection("fallback")
    stop = threading.Event()

    def other_slot():
        # a reaper after every notebook: as often as slots can finish, yet not in a loop that
        # holds the lock all the time (Python's locks are not fair: the starts would starve,
        # and on a loaded machine the workers ran out their sleep before the last one started)
        while not stop.is_set():
            batch._reap_orphans()
            time.sleep(0.002)

    reaper = threading.Thread(target=other_slot)
    reaper.start()
    started = []
    try:
        for _ in range(30):
            box = isolation.Sandbox(tmp_path, 0, protection)
            started.append((box, batch._start(box, [sys.executable, "-S", "-c",
                                                    "import time; time.sleep(3600)"])))
            time.sleep(0.01)
    finally:
        stop.set()
        reaper.join()
        killed = [proc.returncode for _, proc in started if proc.poll() is not None]
        for box, proc in started:
            with batch._LIVE_LOCK:
                batch._LIVE.discard(proc.pid)
            proc.kill()   # gone before end(), which would otherwise wait for it to leave
            proc.wait()
            box.end()
    assert killed == []


@pytest.mark.skipif(sandbox.landlock_abi() == 0, reason="no Landlock on this machine")
def test_a_fallback_sandbox_cannot_read_another_grading_runs_sandboxes():
    """Two grading runs on one machine (fallback mode: the network is open): a kernel of one
    may not read the other run's connection files, nor its own run's other sandboxes."""
    import shutil
    import subprocess
    import sys

    from course_lib.batch import isolation
    from course_lib.batch.notebook import make_base

    protection = isolation.protection("fallback")
    other, mine = make_base(), make_base()
    try:
        secret = other / "s1" / "home" / "kernel-1.json"
        secret.parent.mkdir(parents=True)
        secret.write_text('{"key": "k"}', encoding="utf-8")
        box = isolation.Sandbox(mine, 0, protection)
        sibling = isolation.Sandbox(mine, 1, protection)
        (sibling.work / "kernel-2.json").write_text("{}", encoding="utf-8")
        own = box.work / "kernel-0.json"
        own.write_text("{}", encoding="utf-8")
        policy = sandbox.write_policy(box.root / "policy.json", writable=box.writable(),
                                      protected=box.landlock_protected())
        probe = (
            "import sys\nfor path in sys.argv[1:]:\n    try:\n        open(path).read()\n"
            "        print('read')\n    except PermissionError:\n        print('denied')\n")
        out = subprocess.run(
            sandbox.launcher(policy) + [sys.executable, "-c", probe, str(secret),
                                        str(sibling.work / "kernel-2.json"), str(own)],
            capture_output=True, text=True, check=True).stdout.split()
        assert out == ["denied", "denied", "read"]
    finally:
        shutil.rmtree(other, ignore_errors=True)
        shutil.rmtree(mine, ignore_errors=True)


def test_the_batch_engine_skips_jsonschemas_slow_iri_checker():
    """Every graded notebook starts a process that imports nbformat; jsonschema's rfc3987_syntax
    (2-3 s of parsers built at import) is skipped there, and nbformat still validates."""
    import subprocess
    import sys

    probe = ("import sys, course_lib.batch.worker, nbformat, nbclient\n"
             "assert sys.modules['rfc3987_syntax'] is None\n"
             "nb = nbformat.v4.new_notebook()\nnbformat.validate(nb)\n"
             "nb.cells.append({'cell_type': 'code'})\n"
             "try:\n    nbformat.validate(nb)\nexcept nbformat.ValidationError:\n    print('invalid')\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout == "invalid\n", done.stderr


def test_sandboxes_of_two_graders_never_share_a_user(tmp_path, monkeypatch):
    """Where each slot's sandbox runs as a user of its own (a root grader, a Python others can
    run), every process of that user is reaped as the sandbox's own; two graders on one machine
    asking for the same slot (two batches, a batch and ``check``) get two users, and a slot is
    free again once its sandbox has ended."""
    from course_lib.batch import isolation

    monkeypatch.setattr(isolation, "_others_can_run_python", lambda: True)
    monkeypatch.setattr(isolation.os, "getuid", lambda: 0)
    monkeypatch.setattr(isolation, "SLOT_LOCKS", tmp_path)  # the slot locks of this test alone
    # ...and users of its own: ending a sandbox reaps every process of its user, and on a machine
    # where graders really run as root, slot 0's real user may run another grader's sandbox now
    monkeypatch.setattr(isolation, "SANDBOX_UID_BASE", isolation.SANDBOX_UID_BASE - 1_000_000)
    protection = isolation.protection("fallback")
    first = isolation.Sandbox(tmp_path, 0, protection)
    second = isolation.Sandbox(tmp_path, 0, protection)   # another grader's slot 0
    third = isolation.Sandbox(tmp_path, 1, protection)
    assert len({first.uid, second.uid, third.uid}) == 3
    assert first.uid == isolation.SANDBOX_UID_BASE and third.uid != first.uid
    first.end()
    again = isolation.Sandbox(tmp_path, 0, protection)
    assert again.uid == isolation.SANDBOX_UID_BASE       # slot 0 is free again
    for box in (second, third, again):
        box.end()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
def test_a_zombie_is_not_a_process_left_running():
    """A sandbox's process that has exited but is not reaped yet (orphaned to an init that is
    slow to reap) runs nothing: it is not counted as a process the notebook left running."""
    import subprocess
    import sys

    from course_lib.batch import isolation

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 30
    while Path(f"/proc/{child.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
        assert time.monotonic() < deadline
        time.sleep(0.01)
    try:
        assert child.pid not in isolation._proc_table()
        assert isolation.reap(child.pid) == 0
    finally:
        child.wait()


def test_a_time_limit_reap_ends_before_the_sandbox_gives_up_its_slot(tmp_path, monkeypatch):
    """The notebook's time limit fires in a timer thread, which reaps the sandbox (its slot's
    user too, where each slot runs as a user of its own). The sandbox's end, which frees the slot
    for another grader, must wait for that reap: one still running after it would kill the next
    sandbox of that user."""
    import threading

    from course_lib.batch import isolation
    from course_lib.batch import notebook as batch

    events, real_reap, real_end = [], isolation.reap, isolation.Sandbox.end

    def slow_reap(*args, **kwargs):
        killed = real_reap(*args, **kwargs)
        if isinstance(threading.current_thread(), threading.Timer):     # the time limit's
            time.sleep(0.5)          # a reap loop still going (up to 20 rounds on a busy machine)
            events.append("time-limit reap done")
        return killed

    def end(self):
        events.append("sandbox end")
        return real_end(self)

    monkeypatch.setattr(isolation, "reap", slow_reap)
    monkeypatch.setattr(isolation.Sandbox, "end", end)
    monkeypatch.setattr(batch, "START_SECONDS", -2.9)   # the limit: 0.1 s, within the start
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import time\ntime.sleep(60)")]
    path = tmp_path / "01_slow.ipynb"
    nbformat.write(nb, path)
    report = batch.grade_notebook(path, timeout=1.0, notebook_timeout=0.0, seed=1,
                                  exercises=["softmax"], protection=isolation.protection())
    assert report.status == "could not run" and "time limit" in report.message, report.message
    assert events == ["time-limit reap done", "sandbox end"], events
