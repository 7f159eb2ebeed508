"""``softmax-course build``: exercises/ generated from solutions/ (course_lib.build)."""

import ast
import copy
import json
import os
import re
from pathlib import Path

import nbformat
import pytest

from course_lib import cli
from course_lib.build import (
    BuildError,
    BuildReport,
    build,
    build_notebook,
    content_sha256,
    exercise_name,
    read_notebook,
    render,
    strip_solutions,
)

ROOT = Path(__file__).parents[1]
MARKER = re.compile(r"^\s*### (BEGIN|END) SOLUTION")

SOFTMAX = '''import numpy as np


def softmax(z):
    """Softmax of a 1-D vector."""
    ### BEGIN SOLUTION
    z = np.asarray(z, dtype=float)
    shifted = np.exp(z - z.max())
    return shifted / shifted.sum()
    ### END SOLUTION
'''


# --- helpers ----------------------------------------------------------------------------------


def code(source, id="code", **kwargs):
    return nbformat.v4.new_code_cell(source, id=id, **kwargs)


def markdown(source, id="text", **kwargs):
    return nbformat.v4.new_markdown_cell(source, id=id, **kwargs)


def notebook(*cells, **metadata):
    nb = nbformat.v4.new_notebook(metadata=metadata)
    nb.cells = list(cells)  # new_notebook(cells=...) would silently repair duplicate ids
    return nb


def save_solution(root, name, nb):
    path = root / "solutions" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(nb), encoding="utf-8")
    return path


def save_raw_solution(root, name, raw):
    """Write notebook JSON as given: nbformat would invent or repair cell ids."""
    path = root / "solutions" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(raw), encoding="utf-8")
    return path


def exercise(root, name="01_demo.ipynb"):
    return root / "exercises" / name


def solution_lines(source):
    """The non-marker, non-blank lines inside the regions of a source."""
    inside, lines = False, []
    for line in source.split("\n"):
        if MARKER.match(line):
            inside = line.strip().startswith("### BEGIN")
        elif inside and line.strip():
            lines.append(line.strip())
    return lines


def edit_exercise(path, new_source="def softmax(z):\n    return 42\n"):
    """What a learner does: type an answer into the first cell and save."""
    nb = read_notebook(path)
    nb.cells[0].source = new_source
    path.write_text(render(nb), encoding="utf-8")


# --- strip_solutions: one cell ----------------------------------------------------------------


def test_region_inside_a_def_names_the_function():
    assert strip_solutions(SOFTMAX) == (
        "import numpy as np\n\n\n"
        "def softmax(z):\n"
        '    """Softmax of a 1-D vector."""\n'
        '    raise NotImplementedError("softmax: replace this line with your code")\n'
    )


def test_text_after_the_begin_marker_is_the_instruction():
    source = (
        "def softmax(z):\n"
        "    ### BEGIN SOLUTION: return the softmax of the 1-D vector z\n"
        "    return np.exp(z) / np.exp(z).sum()\n"
        "    ### END SOLUTION\n"
    )
    assert strip_solutions(source) == (
        "def softmax(z):\n"
        '    raise NotImplementedError("return the softmax of the 1-D vector z")\n'
    )


@pytest.mark.parametrize(
    "instruction",
    ['use "np.exp"', "a back\\slash", "온도 τ로 나누기", "it's\ttabbed", "ends with a quote'"],
)
def test_any_instruction_text_becomes_a_valid_string_literal(instruction):
    source = f"### BEGIN SOLUTION: {instruction}\nx = 1\n### END SOLUTION"
    line = strip_solutions(source)
    call = ast.parse(line).body[0].exc
    assert ast.literal_eval(call.args[0]) == instruction.strip()
    assert "\n" not in line


def test_region_outside_any_def_gets_the_generic_instruction():
    source = "x = 1\n### BEGIN SOLUTION\ny = 2\n### END SOLUTION\nprint(y)"
    assert strip_solutions(source) == (
        'x = 1\nraise NotImplementedError("replace this line with your code")\nprint(y)'
    )


def test_indentation_nested_blocks_and_the_nearest_enclosing_def():
    source = (
        "@decorator\n"
        "async def outer(z):\n"
        "    def helper(x):\n"
        "        ### BEGIN SOLUTION\n"
        "        return x\n"
        "        ### END SOLUTION\n"
        "    for i in range(3):\n"
        "        if i:\n"
        "            ### BEGIN SOLUTION\n"
        "            total = i\n"
        "            ### END SOLUTION\n"
        "    ### BEGIN SOLUTION\n"
        "    return helper(z)\n"
        "    ### END SOLUTION\n"
        "\n"
        "class Policy:\n"
        "    ### BEGIN SOLUTION\n"
        "    temperature = 1.0\n"
        "    ### END SOLUTION\n"
        "    def act(self, h):\n"
        "        ### BEGIN SOLUTION\n"
        "        return h\n"
        "        ### END SOLUTION\n"
    )
    assert strip_solutions(source).split("\n") == [
        "@decorator",
        "async def outer(z):",
        "    def helper(x):",
        '        raise NotImplementedError("helper: replace this line with your code")',
        "    for i in range(3):",
        "        if i:",
        '            raise NotImplementedError("outer: replace this line with your code")',
        '    raise NotImplementedError("outer: replace this line with your code")',
        "",
        "class Policy:",
        '    raise NotImplementedError("replace this line with your code")',
        "    def act(self, h):",
        '        raise NotImplementedError("act: replace this line with your code")',
        "",
    ]


def test_tab_indentation_is_kept():
    source = "def f():\n\t### BEGIN SOLUTION\n\treturn 1\n\t### END SOLUTION"
    assert strip_solutions(source) == (
        'def f():\n\traise NotImplementedError("f: replace this line with your code")'
    )


def test_several_regions_in_one_cell_and_code_between_them_kept():
    source = (
        "def f(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION\n"
        "\n"
        "check('f', f)\n"
        "### BEGIN SOLUTION: define g\n"
        "def g(x):\n    return x\n"
        "### END SOLUTION\n"
    )
    assert strip_solutions(source) == (
        'def f(x):\n    raise NotImplementedError("f: replace this line with your code")\n'
        "\n"
        "check('f', f)\n"
        'raise NotImplementedError("define g")\n'
    )


def test_markdown_regions_become_your_answer_here():
    source = (
        "Why is softmax(z + c) = softmax(z)?\n\n"
        "### BEGIN SOLUTION\nexp(c) cancels.\n### END SOLUTION\n"
        "- and when is it not?\n"
        "  ### BEGIN SOLUTION: ignored in markdown\n  scaling.\n  ### END SOLUTION"
    )
    assert strip_solutions(source, cell_type="markdown") == (
        "Why is softmax(z + c) = softmax(z)?\n\n"
        "_Your answer here._\n"
        "- and when is it not?\n"
        "  _Your answer here._"
    )


def test_ipython_magics_are_allowed_next_to_a_region():
    source = "%matplotlib inline\n!echo hi\n### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n%time x"
    assert strip_solutions(source).split("\n")[2] == (
        'raise NotImplementedError("replace this line with your code")'
    )


@pytest.mark.parametrize("cell_type", ["code", "markdown", "raw"])
def test_a_source_without_regions_is_returned_unchanged(cell_type):
    source = "this is not python (and need not compile)\nin the end solution quality matters"
    assert strip_solutions(source, cell_type=cell_type) is source


@pytest.mark.parametrize(
    "source, message",
    [
        ("x = 1\n### BEGIN SOLUTION\ny = 2\n", r"line 2: BEGIN SOLUTION without an END SOLUTION"),
        ("x = 1\n### END SOLUTION\n", r"line 2: END SOLUTION without a BEGIN SOLUTION above it"),
        (
            "### BEGIN SOLUTION\nx = 1\n    ### BEGIN SOLUTION\n### END SOLUTION\n### END SOLUTION",
            r"line 3: BEGIN SOLUTION inside the region opened at line 1; regions cannot nest",
        ),
        (
            "## BEGIN SOLUTION\nx = 1\n## END SOLUTION",
            r"line 1 looks like a solution marker but is not one: '## BEGIN SOLUTION'",
        ),
        (
            "x = 1  ### BEGIN SOLUTION\ny = 2\n### END SOLUTION",
            r"line 1 looks like a solution marker",
        ),
        ("### begin solution\nx = 1\n### END SOLUTION", r"line 1 looks like a solution marker"),
        (
            "def f():\n### BEGIN SOLUTION\n    return 1\n### END SOLUTION",
            r"does not compile once its solution regions are replaced: .*line 2 of the exercise cell"
            r".*indent each `### BEGIN SOLUTION` like the code",
        ),
    ],
)
def test_malformed_regions_are_clear_errors(source, message):
    with pytest.raises(BuildError, match=message):
        strip_solutions(source)


def test_a_region_in_a_raw_cell_is_an_error():
    with pytest.raises(BuildError, match="code or markdown cells, not raw cells"):
        strip_solutions("### BEGIN SOLUTION\nx\n### END SOLUTION", cell_type="raw")
    with pytest.raises(ValueError, match="cell_type"):
        strip_solutions("x", cell_type="heading")


def test_build_error_is_a_value_error():
    assert issubclass(BuildError, ValueError)


# --- build_notebook: one notebook -------------------------------------------------------------


def leaky_solution():
    """A solution notebook with solution text hidden wherever nbformat allows it."""
    secret = "SECRET-ANSWER"
    return notebook(
        markdown("# Lesson 01\nNothing to hide here.", id="intro",
                 attachments={"figure.png": {"image/png": "Zmlnd=="}}),
        code(
            SOFTMAX,
            id="ex-softmax",
            execution_count=7,
            metadata={
                "tags": ["exercise"],
                "editable": True,
                "deletable": False,
                "solution": secret,
                "collapsed": False,
                "execution": {"iopub.execute_input": "2024-01-01T00:00:00Z"},
            },
            outputs=[
                nbformat.v4.new_output("stream", text=f"{secret}\n"),
                nbformat.v4.new_output(
                    "execute_result", data={"text/plain": secret}, execution_count=7
                ),
            ],
        ),
        code('check("softmax", softmax)', id="check-softmax", execution_count=8,
             outputs=[nbformat.v4.new_output("stream", text=f"passed {secret}\n")]),
        markdown(
            "Why subtract the max?\n### BEGIN SOLUTION\nexp overflows past 709.78\n### END SOLUTION",
            id="why",
            attachments={"answer.png": {"image/png": "U0VDUkVULUFOU1dFUg=="}},
        ),
        code(f"# {secret}: the grader's notes", id="notes", metadata={"tags": ["solution-only"]}),
        kernelspec={"name": "python3", "display_name": "Python 3 (ipykernel)",
                    "language": "python", "env": {"PATH": "/home/author/.venv/bin"}},
        language_info={"name": "python", "version": "3.11.7", "mimetype": "text/x-python",
                       "codemirror_mode": {"name": "ipython", "version": 3}},
        widgets={"application/vnd.jupyter.widget-state+json": {"state": secret}},
        softmax_course={"author_note": secret},
    )


def test_exercise_keeps_ids_and_drops_solution_only_cells():
    exercise = build_notebook(leaky_solution(), generated_from="solutions/01_demo.ipynb")
    assert [cell.id for cell in exercise.cells] == ["intro", "ex-softmax", "check-softmax", "why"]


def test_outputs_counts_and_metadata_are_stripped():
    exercise = build_notebook(leaky_solution(), generated_from="solutions/01_demo.ipynb")
    intro, softmax, check, why = exercise.cells
    for cell in (softmax, check):
        assert cell.outputs == [] and cell.execution_count is None
    assert softmax.metadata == {"tags": ["exercise"], "editable": True, "deletable": False}
    assert check.metadata == {} and why.metadata == {}
    assert "attachments" not in why  # it had a region
    assert intro.attachments == {"figure.png": {"image/png": "Zmlnd=="}}  # it had none
    assert exercise.metadata == {
        "kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)",
                       "language": "python"},
        # what the kernel announces (JupyterLab then sees nothing to change on opening)
        "language_info": {"name": "python", "version": "3.11.7", "mimetype": "text/x-python",
                          "codemirror_mode": {"name": "ipython", "version": 3}},
        "softmax_course": {"generated_from": "solutions/01_demo.ipynb",
                           "content_sha256": content_sha256(exercise.cells)},
    }
    nbformat.validate(exercise)


def test_no_solution_text_is_left_anywhere_in_the_exercise_json():
    solution = leaky_solution()
    text = render(build_notebook(solution, generated_from="solutions/01_demo.ipynb"))
    assert "SECRET-ANSWER" not in text and "U0VDUkVULUFOU1dFUg==" not in text
    hidden = [line for cell in solution.cells for line in solution_lines(cell.source)]
    assert len(hidden) == 4
    for line in hidden:
        assert line not in text and json.dumps(line)[1:-1] not in text, line
    assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text


def test_build_notebook_does_not_modify_its_input():
    solution = leaky_solution()
    before = copy.deepcopy(solution)
    build_notebook(solution, generated_from="solutions/01_demo.ipynb")
    assert solution == before


def test_render_is_deterministic_and_ends_with_one_newline():
    texts = {
        render(build_notebook(leaky_solution(), generated_from="solutions/01_demo.ipynb"))
        for _ in range(2)
    }
    assert len(texts) == 1
    text = texts.pop()
    assert text.endswith("}\n") and not text.endswith("\n\n")
    assert text == nbformat.writes(nbformat.reads(text, as_version=4), version=4) + "\n"


def test_content_hash_survives_the_round_trip_through_a_file(tmp_path):
    exercise = build_notebook(leaky_solution(), generated_from="solutions/01_demo.ipynb")
    path = tmp_path / "01_demo.ipynb"
    path.write_text(render(exercise), encoding="utf-8")
    again = read_notebook(path)
    assert again.metadata.softmax_course.content_sha256 == content_sha256(again.cells)


def test_cell_errors_name_the_cell_index_and_id():
    solution = notebook(code("x = 1", id="a"), code("### BEGIN SOLUTION\ny = 2", id="b"))
    with pytest.raises(BuildError, match=r"^cell 1 \(id 'b'\): line 1: BEGIN SOLUTION without"):
        build_notebook(solution, generated_from="solutions/01_demo.ipynb")


def test_a_cell_without_an_id_is_an_error_telling_how_to_fix_it():
    solution = notebook(code("x = 1", id="a"), code("y = 2", id="b"))
    del solution.cells[1]["id"]
    with pytest.raises(BuildError, match=r"cell 1 has no id; open and save it in JupyterLab 4"):
        build_notebook(solution, generated_from="solutions/01_demo.ipynb")


def test_duplicate_ids_are_an_error_naming_both_cells():
    solution = notebook(code("x = 1", id="same"), markdown("hi", id="other"), code("y", id="same"))
    with pytest.raises(BuildError, match=r"cells 0 and 2 have the same id 'same'"):
        build_notebook(solution, generated_from="solutions/01_demo.ipynb")


# --- build: the exercises/ folder -------------------------------------------------------------


def test_build_writes_the_exercise_notebook(tmp_path):
    solution = leaky_solution()
    save_solution(tmp_path, "01_demo.ipynb", solution)
    report = build(tmp_path)
    assert report.written == ["exercises/01_demo.ipynb"] and report.ok
    expected = render(build_notebook(solution, generated_from="solutions/01_demo.ipynb"))
    assert exercise(tmp_path).read_bytes() == expected.encode("utf-8")
    assert [p.name for p in (tmp_path / "exercises").iterdir()] == ["01_demo.ipynb"]  # no temp


def test_build_is_deterministic_across_folders(tmp_path):
    for folder in ("a", "b"):
        save_solution(tmp_path / folder, "01_demo.ipynb", leaky_solution())
        build(tmp_path / folder)
    assert exercise(tmp_path / "a").read_bytes() == exercise(tmp_path / "b").read_bytes()


def test_an_unchanged_exercise_is_not_rewritten(tmp_path):
    save_solution(tmp_path, "01_demo.ipynb", leaky_solution())
    build(tmp_path)
    path = exercise(tmp_path)
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    before = path.stat()
    report = build(tmp_path)
    after = path.stat()
    assert report.unchanged == ["exercises/01_demo.ipynb"] and report.written == []
    assert (after.st_mtime_ns, after.st_ino) == (before.st_mtime_ns, before.st_ino)


def test_an_untouched_exercise_is_updated_when_the_solution_changes(tmp_path):
    save_solution(tmp_path, "01_demo.ipynb", notebook(code(SOFTMAX)))
    build(tmp_path)
    changed = notebook(code(SOFTMAX.replace("### BEGIN SOLUTION", "### BEGIN SOLUTION: do it")))
    save_solution(tmp_path, "01_demo.ipynb", changed)
    assert build(tmp_path).written == ["exercises/01_demo.ipynb"]
    assert '"do it"' in read_notebook(exercise(tmp_path)).cells[0].source


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_rewriting_keeps_the_file_mode(tmp_path):
    save_solution(tmp_path, "01_demo.ipynb", notebook(code(SOFTMAX)))
    build(tmp_path)
    exercise(tmp_path).chmod(0o640)
    save_solution(tmp_path, "01_demo.ipynb", notebook(code(SOFTMAX + "\n# v2")))
    assert build(tmp_path).written
    assert exercise(tmp_path).stat().st_mode & 0o777 == 0o640


def test_an_exercise_with_the_learners_edits_is_refused_unless_forced(tmp_path):
    save_solution(tmp_path, "01_demo.ipynb", notebook(code(SOFTMAX)))
    build(tmp_path)
    path = exercise(tmp_path)
    edit_exercise(path)
    edited = path.read_bytes()
    report = build(tmp_path)
    assert report.refused == ["exercises/01_demo.ipynb"] and not report.ok
    assert path.read_bytes() == edited
    report = build(tmp_path, force=True)
    assert report.written == ["exercises/01_demo.ipynb"] and report.ok
    assert "return 42" not in path.read_text(encoding="utf-8")


def test_an_exercise_without_a_recorded_hash_counts_as_edited(tmp_path):
    save_solution(tmp_path, "01_demo.ipynb", notebook(code(SOFTMAX)))
    path = exercise(tmp_path)
    path.parent.mkdir()
    path.write_text(render(notebook(code("my own work"))), encoding="utf-8")
    assert build(tmp_path).refused == ["exercises/01_demo.ipynb"]
    path.write_text("not even json", encoding="utf-8")
    assert build(tmp_path).refused == ["exercises/01_demo.ipynb"]


def test_notebook_metadata_saved_by_jupyterlab_is_not_an_edit(tmp_path):
    save_solution(tmp_path, "01_demo.ipynb", notebook(code(SOFTMAX)))
    build(tmp_path)
    path = exercise(tmp_path)
    nb = read_notebook(path)
    nb.metadata.language_info = {"name": "python", "version": "3.12.1"}
    path.write_text(render(nb), encoding="utf-8")
    assert build(tmp_path).written == ["exercises/01_demo.ipynb"]


def test_check_writes_nothing_and_lists_what_is_out_of_date(tmp_path):
    save_solution(tmp_path, "01_demo.ipynb", notebook(code(SOFTMAX)))
    report = build(tmp_path, check=True)
    assert report.would_change == ["exercises/01_demo.ipynb"] and not report.ok
    assert not (tmp_path / "exercises").exists()
    build(tmp_path)
    assert build(tmp_path, check=True).ok


def test_orphan_exercises_are_reported_not_deleted(tmp_path):
    save_solution(tmp_path, "01_demo.ipynb", notebook(code(SOFTMAX)))
    orphan = exercise(tmp_path, "02_gone.ipynb")
    orphan.parent.mkdir()
    orphan.write_text("{}", encoding="utf-8")
    report = build(tmp_path)
    assert report.orphans == ["exercises/02_gone.ipynb"] and report.ok
    assert orphan.read_text(encoding="utf-8") == "{}"
    assert not build(tmp_path, check=True).ok


def test_exercise_names_say_exercises_after_the_lesson_number():
    assert exercise_name("05_solutions_classification_calibration.ipynb") == (
        "05_exercises_classification_calibration.ipynb")
    assert exercise_name("01_solutions_a_solutions_b.ipynb") == "01_exercises_a_solutions_b.ipynb"
    for kept in ("01_demo.ipynb", "solutions_x.ipynb", "1_solutions_x.ipynb"):
        assert exercise_name(kept) == kept


def test_renamed_solutions_replace_the_exercises_build_made_under_the_old_name(tmp_path):
    """The course's move from exercises/NN_slug.ipynb to exercises/NN_exercises_slug.ipynb."""
    old = save_solution(tmp_path, "01_demo.ipynb", notebook(code(SOFTMAX)))
    save_solution(tmp_path, "02_other.ipynb", notebook(code(SOFTMAX)))
    build(tmp_path)
    edit_exercise(exercise(tmp_path, "02_other.ipynb"))  # a learner's work under an old name
    edited = exercise(tmp_path, "02_other.ipynb").read_bytes()
    old.rename(tmp_path / "solutions" / "01_solutions_demo.ipynb")
    (tmp_path / "solutions" / "02_other.ipynb").rename(
        tmp_path / "solutions" / "02_solutions_other.ipynb")

    report = build(tmp_path, check=True)
    assert report.removed == ["exercises/01_demo.ipynb"] and not report.ok
    assert report.orphans == ["exercises/02_other.ipynb"]
    assert exercise(tmp_path, "01_demo.ipynb").is_file()  # check deletes nothing
    assert report.lines()[0] == ("would remove exercises/01_demo.ipynb: made by build and no "
                                 "solution notebook makes it any more")

    report = build(tmp_path)
    assert report.written == ["exercises/01_exercises_demo.ipynb",
                              "exercises/02_exercises_other.ipynb"]
    assert report.removed == ["exercises/01_demo.ipynb"] and report.ok
    assert report.orphans == ["exercises/02_other.ipynb"]
    assert sorted(p.name for p in (tmp_path / "exercises").iterdir()) == [
        "01_exercises_demo.ipynb", "02_exercises_other.ipynb", "02_other.ipynb"]
    assert exercise(tmp_path, "02_other.ipynb").read_bytes() == edited
    assert build(tmp_path).removed == []
    assert build(tmp_path, force=True).orphans == ["exercises/02_other.ipynb"]  # never deleted


def test_build_deletes_only_untouched_notebooks_it_made(tmp_path):
    save_solution(tmp_path, "01_solutions_demo.ipynb", notebook(code(SOFTMAX)))
    build(tmp_path)
    made = exercise(tmp_path, "01_exercises_demo.ipynb").read_bytes()
    folder = tmp_path / "exercises"
    (folder / "03_gone.ipynb").write_bytes(made)  # made by build, its solution since removed
    nb = read_notebook(folder / "01_exercises_demo.ipynb")
    nb.metadata.language_info = {"name": "python", "version": "3.12.1"}  # saved by JupyterLab
    (folder / "04_saved.ipynb").write_text(render(nb), encoding="utf-8")
    del nb.metadata["softmax_course"]
    (folder / "05_mine.ipynb").write_text(render(nb), encoding="utf-8")  # no hash: not build's
    (folder / "06_junk.ipynb").write_text("not json", encoding="utf-8")
    (folder / "07_folder.ipynb").mkdir()
    report = build(tmp_path)
    assert report.removed == ["exercises/03_gone.ipynb", "exercises/04_saved.ipynb"]
    assert report.orphans == ["exercises/05_mine.ipynb", "exercises/06_junk.ipynb",
                              "exercises/07_folder.ipynb"]
    assert sorted(p.name for p in folder.iterdir()) == [
        "01_exercises_demo.ipynb", "05_mine.ipynb", "06_junk.ipynb", "07_folder.ipynb"]


def test_a_bad_solution_notebook_is_named_and_nothing_is_written(tmp_path):
    save_solution(tmp_path, "01_good.ipynb", notebook(code(SOFTMAX)))
    save_solution(tmp_path, "02_bad.ipynb", notebook(code("x = 1", id="a"),
                                                      code("### END SOLUTION", id="b")))
    with pytest.raises(BuildError, match=r"^solutions/02_bad.ipynb: cell 1 \(id 'b'\): line 1"):
        build(tmp_path)
    assert not (tmp_path / "exercises").exists()


def test_ids_missing_or_repeated_on_disk_are_errors_not_silently_repaired(tmp_path):
    raw = json.loads(render(notebook(code("x = 1", id="a"), code("y = 2", id="b"))))
    del raw["cells"][0]["id"]
    save_raw_solution(tmp_path, "01_demo.ipynb", raw)
    with pytest.raises(BuildError, match=r"^solutions/01_demo.ipynb: cell 0 has no id; .*JupyterLab 4"):
        build(tmp_path)
    raw["cells"][0]["id"] = "b"
    save_raw_solution(tmp_path, "01_demo.ipynb", raw)
    with pytest.raises(BuildError, match=r"cells 0 and 1 have the same id 'b'"):
        build(tmp_path)


def test_an_old_or_broken_notebook_file_is_an_error(tmp_path):
    save_raw_solution(tmp_path, "01_demo.ipynb", {"nbformat": 3, "worksheets": []})
    with pytest.raises(BuildError, match=r"^solutions/01_demo.ipynb: not an nbformat 4 notebook"):
        build(tmp_path)
    (tmp_path / "solutions" / "01_demo.ipynb").write_text("{", encoding="utf-8")
    with pytest.raises(BuildError, match=r"^solutions/01_demo.ipynb: not a notebook: invalid JSON"):
        build(tmp_path)


def test_report_lines():
    report = BuildReport(
        solutions=["solutions/01_a.ipynb", "solutions/02_b.ipynb"],
        refused=["exercises/02_b.ipynb"],
        written=["exercises/01_a.ipynb"],
        orphans=["exercises/09_z.ipynb"],
    )
    assert report.lines() == [
        "wrote exercises/01_a.ipynb",
        "refused exercises/02_b.ipynb: it has your edits; save them elsewhere or pass --force",
        "orphan exercises/09_z.ipynb: no notebook in solutions/ makes it; left in place",
    ]


# --- the command line -------------------------------------------------------------------------


def run(capsys, *args):
    status = cli.main(["build", *args])
    out, err = capsys.readouterr()
    return status, out, err


def test_cli_builds_checks_and_refuses(tmp_path, capsys):
    save_solution(tmp_path, "01_demo.ipynb", notebook(code(SOFTMAX)))
    assert run(capsys, "--root", str(tmp_path), "--check") == (
        1, "out of date exercises/01_demo.ipynb\n", ""
    )
    assert run(capsys, "--root", str(tmp_path)) == (0, "wrote exercises/01_demo.ipynb\n", "")
    assert run(capsys, "--root", str(tmp_path), "--check") == (
        0, "unchanged exercises/01_demo.ipynb\n", ""
    )
    save_solution(tmp_path, "01_demo.ipynb", notebook(code(SOFTMAX + "\n# v2")))
    edit_exercise(exercise(tmp_path))
    status, out, _ = run(capsys, "--root", str(tmp_path))
    assert status == 1
    assert out == (
        "refused exercises/01_demo.ipynb: it has your edits; save them elsewhere or pass --force\n"
    )
    assert run(capsys, "--root", str(tmp_path), "--force")[:2] == (
        0, "wrote exercises/01_demo.ipynb\n"
    )


def test_cli_build_error_exits_2_with_the_message_and_no_traceback(tmp_path, capsys):
    save_solution(tmp_path, "01_demo.ipynb", notebook(code("### BEGIN SOLUTION\nx", id="c")))
    status, out, err = run(capsys, "--root", str(tmp_path))
    assert status == 2 and out == ""
    assert err == (
        "softmax-course: error: solutions/01_demo.ipynb: cell 0 (id 'c'): "
        "line 1: BEGIN SOLUTION without an END SOLUTION\n"
    )


def test_cli_without_solution_notebooks_says_so(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cli, "course_root", lambda: tmp_path)
    assert run(capsys) == (0, "no solution notebooks in solutions/: nothing to build\n", "")


# --- the repository ---------------------------------------------------------------------------


def test_exercises_are_built_from_solutions():
    solutions = sorted((ROOT / "solutions").glob("*.ipynb"))
    assert solutions and all(p.name.startswith(p.name[:2] + "_solutions_") for p in solutions)
    names = {exercise_name(path.name) for path in solutions}
    orphans = [p.name for p in (ROOT / "exercises").glob("*.ipynb") if p.name not in names]
    assert not orphans, f"exercise notebooks without a solution notebook: {orphans}"
    for path in solutions:
        nb = read_notebook(path)
        assert any(
            strip_solutions(cell.source, cell_type=cell.cell_type) != cell.source
            for cell in nb.cells
            if cell.cell_type in ("code", "markdown")
        ), f"solutions/{path.name} has no ### BEGIN SOLUTION region"
        target = ROOT / "exercises" / exercise_name(path.name)
        assert target.is_file(), f"exercises/{target.name} is missing: run softmax-course build"
        expected = render(build_notebook(nb, generated_from=f"solutions/{path.name}"))
        assert target.read_bytes() == expected.encode("utf-8"), (
            f"exercises/{target.name} is out of date: run softmax-course build"
        )


def test_a_translation_builds_its_own_exercises_folder(tmp_path):
    """solutions/ko/ builds exercises/ko/ by the same rules, next to the English edition; a
    Korean exercise made by build and no longer made is removed there, not in exercises/."""
    save_solution(tmp_path, "01_solutions_demo.ipynb", leaky_solution())
    save_solution(tmp_path, "ko/01_solutions_demo.ipynb", leaky_solution())
    report = build(tmp_path)
    assert report.written == ["exercises/01_exercises_demo.ipynb",
                              "exercises/ko/01_exercises_demo.ipynb"] and report.ok
    assert report.solutions == ["solutions/01_solutions_demo.ipynb",
                                "solutions/ko/01_solutions_demo.ipynb"]
    made = nbformat.reads((tmp_path / "exercises" / "ko" / "01_exercises_demo.ipynb")
                          .read_text(encoding="utf-8"), as_version=4)
    assert made.metadata.softmax_course.generated_from == "solutions/ko/01_solutions_demo.ipynb"
    assert build(tmp_path, check=True).ok
    (tmp_path / "solutions" / "ko" / "01_solutions_demo.ipynb").unlink()
    report = build(tmp_path)
    assert report.removed == ["exercises/ko/01_exercises_demo.ipynb"]
    assert (tmp_path / "exercises" / "01_exercises_demo.ipynb").is_file()
