"""The repository layout, README commands, CI script and packaging metadata agree."""

import doctest
import importlib
import os
import re
import stat
from pathlib import Path

import pytest
from readme_commands import marked_block

try:
    import tomllib  # Python 3.11 and later
except ModuleNotFoundError:  # Python 3.10, which the README supports: the test extra has tomli
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
SH_BLOCK = re.compile(r"^```sh\n(.*?)^```", re.S | re.M)


def test_readme_has_exactly_two_setup_blocks_before_the_lesson_table():
    table = README.index("| NN | lesson")
    blocks = SH_BLOCK.findall(README[:table])
    assert len(blocks) == 2
    assert [b.strip() for b in blocks] == [marked_block("start-command"), marked_block("test-command")]


def test_readme_commands_create_a_venv_and_do_what_they_say():
    start, test = marked_block("start-command"), marked_block("test-command")
    for cmd in (start, test):
        assert cmd.startswith("python3 -m venv .venv && .venv/bin/python -m pip install -e ")
    assert start.endswith("&& .venv/bin/softmax-course start")
    assert '-e ".[test]"' in test
    assert test.endswith("&& .venv/bin/python -m pytest")


def test_ci_runs_the_readme_test_command_verbatim():
    ci = ROOT / ".ci" / "run"
    text = ci.read_text(encoding="utf-8")
    assert marked_block("test-command") in text.splitlines()
    assert "set -euo pipefail" in text
    assert "rm -rf .venv" in text
    if os.name == "posix":
        assert ci.stat().st_mode & stat.S_IXUSR, ".ci/run must be executable"


@pytest.mark.parametrize("folder", ["notebooks", "exercises", "solutions"])
def test_course_folders_have_a_readme(folder):
    text = (ROOT / folder / "README.md").read_text(encoding="utf-8")
    assert text.startswith(f"# {folder}/")


def test_console_script_points_at_an_importable_callable():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    target = meta["project"]["scripts"]["softmax-course"]
    module, _, attr = target.partition(":")
    assert callable(getattr(importlib.import_module(module), attr))


def test_a_wheel_holds_every_subpackage_and_data_file():
    """A non-editable install gets all of course_lib: every folder with Python code is a package
    that discovery finds, and every other file is declared as package data."""
    from fnmatch import fnmatch

    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert meta["tool"]["setuptools"]["packages"]["find"]["include"] == ["course_lib*"]
    patterns = meta["tool"]["setuptools"]["package-data"]["course_lib"]
    package = ROOT / "course_lib"
    for path in package.rglob("*"):
        if "__pycache__" in path.parts:
            continue
        if path.is_dir() and any(path.glob("*.py")):
            assert (path / "__init__.py").is_file(), f"{path} is not a package"
        elif path.is_file() and path.suffix != ".py":
            rel = path.relative_to(package).as_posix()
            assert any(fnmatch(rel, p) for p in patterns), f"{rel} is not package data"


def test_environment_yml_matches_pyproject():
    yaml = pytest.importorskip("yaml")
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert env["name"] == "softmax-course"
    conda = {re.split(r"[<>=]", d)[0].lower() for d in env["dependencies"] if isinstance(d, str)}
    wanted = meta["project"]["dependencies"] + meta["project"]["optional-dependencies"]["test"]
    # conda-forge spells every name in lower case (Babel is babel)
    assert {re.split(r"[<>=;]", d)[0].strip().lower() for d in wanted} <= conda
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert any(p.replace(" ", "").startswith("-e.") for p in pip), "must install the package itself"


def test_readme_api_example_runs():
    parser = doctest.DocTestParser()
    examples = "\n".join(re.findall(r"^```python\n(>>>.*?)^```", README, re.S | re.M))
    assert examples, "README.md has no runnable >>> example"
    test = parser.get_doctest(examples, {}, "README.md", str(ROOT / "README.md"), 0)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    assert runner.summarize(verbose=False).failed == 0


def test_ci_runs_the_emulated_machine_after_the_test_command():
    """.ci/run ends with the numerical tests on the emulated other machine: numpy's AVX2 and
    AVX-512 kernels off, one BLAS thread, OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE left as the
    machine sets them. (The notebooks run so in the test command itself: see
    tests/test_korean_edition.py.)"""
    lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    test = lines.index(marked_block("test-command"))
    assert any(ln.startswith(".ci/emulated-machine") for ln in lines[test + 1:])
    assert any(ln.startswith('export CI="${CI:-true}"') for ln in lines)
    script = ROOT / ".ci" / "emulated-machine"
    text = script.read_text(encoding="utf-8")
    assert 'export NPY_DISABLE_CPU_FEATURES="X86_V3 X86_V4 AVX512_ICL AVX512_SPR"' in text
    assert "OPENBLAS_NUM_THREADS=1" in text and "OMP_NUM_THREADS=1" in text
    assert "OPENBLAS_CORETYPE" not in text.split("set -euo pipefail")[1]
    assert "OPENBLAS_L2_SIZE" not in text.split("set -euo pipefail")[1]
    for target in ("tests/test_softmax_accuracy.py", "course_lib/softmax.py"):
        assert target in text
    if os.name == "posix":
        assert script.stat().st_mode & stat.S_IXUSR, ".ci/emulated-machine must be executable"


def test_the_emulated_machine_switches_off_every_simd_dispatch_target():
    """The names numpy's NPY_DISABLE_CPU_FEATURES takes change between numpy versions: the
    ones .ci/emulated-machine gives must cover every dispatch target of this numpy, or the run
    would not emulate anything (it checks this itself too, and fails)."""
    np_core = pytest.importorskip("numpy._core._multiarray_umath")
    text = (ROOT / ".ci" / "emulated-machine").read_text(encoding="utf-8")
    off = re.search(r'NPY_DISABLE_CPU_FEATURES="([^"]*)"', text).group(1).split()
    assert set(np_core.__cpu_dispatch__) <= set(off)


def test_readme_lesson_table_lists_every_lesson_and_its_graded_exercises():
    """One row per lesson notebook; each row names exactly its lesson's exercises (from the
    exercise bank) and links to files that exist, so a new exercise or lesson shows up here."""
    from course_lib.grading import EXERCISES

    rows = {m.group(1): m.group(0) for m in re.finditer(r"^\| (\d\d) \|.*\|$", README, re.M)}
    lessons = sorted(p.name[:2] for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert sorted(rows) == lessons and "08" in lessons
    for nn, row in rows.items():
        cells = [c.strip() for c in row.strip("|").split(" | ")]
        wanted = [n for n, e in EXERCISES.items() if e.lesson == nn]
        named = re.findall(r"`(\w+)`", cells[-1].split(" — ")[0])
        assert named == wanted, f"README row {nn} lists {named}, the bank has {wanted}"
        links = re.findall(r"\]\(([^)\s]+)\)", row)
        assert any(link.startswith(f"notebooks/{nn}_") for link in links), row
        if wanted:
            assert any(link.startswith(f"exercises/{nn}_exercises_") for link in links), row
            assert any(link.startswith(f"solutions/{nn}_solutions_") for link in links), row
        for link in links:
            assert (ROOT / link).is_file(), f"README row {nn} links to {link}, not a file"


def _root_conftest():
    import importlib.util

    spec = importlib.util.spec_from_file_location("root_conftest", ROOT / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_parallel_run_starts_with_files_that_exist_and_caps_its_workers(monkeypatch):
    """The slow-first order names files that exist (a renamed file would silently fall back to
    the end of the run), and ``-n auto`` uses one worker per core, at most four."""
    conftest = _root_conftest()
    missing = [p for p in conftest.SLOW_FIRST if not (ROOT / p).is_file()]
    assert not missing, f"conftest.SLOW_FIRST names files that are gone: {missing}"
    for cores, workers in ((1, 1), (2, 2), (3, 3), (64, conftest.MAX_WORKERS)):
        monkeypatch.setattr(conftest, "_cores", lambda cores=cores: cores)
        assert conftest.pytest_xdist_auto_num_workers(None) == workers


def test_pytest_marks_jsonschemas_slow_iri_checker_absent():
    """pyproject's addopts load course_lib.batch (``-p``) before nbval imports nbformat, so that
    jsonschema skips rfc3987_syntax, whose import builds ~35 parsers (3-4 s in every pytest
    process: the controller and each worker; course_lib/batch/__init__.py)."""
    import sys

    assert "rfc3987_syntax" in sys.modules and sys.modules["rfc3987_syntax"] is None
