"""The Gradescope autograder (``softmax-course gradescope``): the bundle is built once (a module
fixture), extracted into an emulated ``/autograder`` (a temporary folder named by
``SOFTMAX_COURSE_AUTOGRADER_ROOT``), and its real ``run_autograder`` script grades an honest, a
wrong and a hostile submission with this environment's Python (instead of running ``setup.sh``,
which is checked on its own). Every ``results.json`` is validated against the fields and types of
Gradescope's autograder specification.
"""

import json
import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from course_lib import cli
from course_lib.batch import gradescope
from course_lib.grading.registry import EXERCISES

ROOT = Path(__file__).resolve().parents[1]
SEED = 918273645  # distinctive: it must not appear in anything the notebook could leak
LESSON = "01"
NAMES = ["softmax", "softmax_jacobian", "two_class_softmax"]
VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}
TOP = {"score": (int, float), "execution_time": (int, float), "output": str,
       "output_format": str, "test_output_format": str, "test_name_format": str,
       "visibility": str, "stdout_visibility": str, "extra_data": dict, "tests": list,
       "leaderboard": list}
TEST = {"score": (int, float), "max_score": (int, float), "status": str, "name": str,
        "name_format": str, "number": str, "output": str, "output_format": str, "tags": list,
        "visibility": str, "extra_data": dict}

HONEST = ['import numpy as np', '''
def softmax(z):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max())
    return e / e.sum()
''', '''
def softmax_jacobian(z):
    p = softmax(z)
    return np.diag(p) - np.outer(p, p)
''', '''
def two_class_softmax(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    m = np.maximum(a, b)
    return np.exp(a - m) / (np.exp(a - m) + np.exp(b - m))
''']

WRONG = ['import numpy as np', '''
def softmax(z):
    e = np.exp(np.asarray(z, dtype=float))  # no max trick: overflows on large logits
    return e / e.sum()
''', '''
def softmax_jacobian(z):
    # tries to smuggle its input out through its error message
    raise ValueError("LEAK " + np.array2string(np.asarray(z), separator=", "))
''', '''
def two_class_softmax(a, b):
    raise NotImplementedError("write two_class_softmax")
''']


def hostile(root: Path) -> list:
    """A notebook that knows where the autograder lives (as a student who read the docs would)
    and tries to read the hidden tests' seed and to write its own results.json; its answers are
    right, so only what it gets by cheating would change its score."""
    return HONEST + [f'''
import json, os, pathlib
ROOT = pathlib.Path({str(root)!r})
tried = []
for p in [ROOT / "source" / {gradescope.CONFIG!r}, ROOT / "source"]:
    try:
        tried.append(p.read_text()[:400] if p.is_file() else "ls:" + ",".join(os.listdir(p)))
    except Exception as exc:
        tried.append("read:" + type(exc).__name__)
try:
    (ROOT / "results").mkdir(parents=True, exist_ok=True)
    (ROOT / "results" / "results.json").write_text(json.dumps(
        {{"score": 1000, "output": "PWNED", "tests": []}}))
    (ROOT / "results" / "planted.txt").write_text("PWNED")
    tried.append("wrote in a results folder")
except Exception as exc:
    tried.append("write:" + type(exc).__name__)
print('{{"score": 1000}}')
raise RuntimeError("PROBE " + " | ".join(tried))
''']


def _notebook(cells) -> str:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in cells])
    return nbformat.writes(nb) + "\n"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    out = tmp_path_factory.mktemp("bundle") / "autograder.zip"
    assert cli.main(["gradescope", LESSON, "--out", str(out), "--seed", str(SEED),
                     "--timeout", "20"]) == 0
    return out


def _layout(bundle, tmp_path, files) -> Path:
    """An emulated /autograder: source/ (the extracted bundle), run_autograder copied to the
    root as Gradescope does, submission/ holding ``files`` (name -> text)."""
    root = tmp_path / "autograder"
    (root / "source").mkdir(parents=True)
    with zipfile.ZipFile(bundle) as z:
        z.extractall(root / "source")
    (root / "run_autograder").write_bytes((root / "source" / "run_autograder").read_bytes())
    (root / "run_autograder").chmod(0o755)
    (root / "submission").mkdir()
    for name, text in files.items():
        path = root / "submission" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def _run(root, **env) -> dict:
    """Run the real run_autograder script, with this environment's python3 first on PATH."""
    bin_dir = Path(sys.executable).parent
    assert (bin_dir / "python3").exists()
    environment = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
                       SOFTMAX_COURSE_AUTOGRADER_ROOT=str(root), **env)
    if "SOFTMAX_COURSE_SANDBOX" not in env:
        environment.pop("SOFTMAX_COURSE_SANDBOX", None)
    done = subprocess.run(["bash", str(root / "run_autograder")], env=environment,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    _validate(results)
    results["_stdout"] = done.stdout
    return results


def _validate(results: dict) -> None:
    """The fields and types of Gradescope's specification (``results.json``)."""
    assert set(results) <= set(TOP), set(results) - set(TOP)
    for key, value in results.items():
        assert isinstance(value, TOP[key]), (key, value)
    assert "score" in results or all("score" in t for t in results["tests"])
    for key in ("visibility", "stdout_visibility"):
        if key in results:
            assert results[key] in VISIBILITY
    assert results["stdout_visibility"] == "hidden"  # stdout is the instructor's
    assert results["score"] >= 0
    for t in results["tests"]:
        assert set(t) <= set(TEST), set(t) - set(TEST)
        for key, value in t.items():
            assert isinstance(value, TEST[key]), (key, value)
        assert t["visibility"] in VISIBILITY
        assert t["status"] in ("passed", "failed")
        assert 0 <= t["score"] <= t["max_score"]
        assert (t["status"] == "passed") == (t["score"] == t["max_score"] > 0)
    if results["tests"]:
        total = sum(t["score"] for t in results["tests"])
        assert abs(total - results["score"]) <= 0.01 * len(results["tests"])
        assert abs(sum(t["max_score"] for t in results["tests"])
                   - sum(EXERCISES[n].points for n in NAMES)) < 0.01


def _visible_text(results) -> str:
    """Everything a student can see before grades are published."""
    parts = [results.get("output", "")]
    for t in results["tests"]:
        if t["visibility"] == "visible":
            parts += [t["name"], t["output"]]
    return "\n".join(parts)


def _hidden_inputs() -> list:
    public = {c.describe(EXERCISES[n].params) for n in NAMES for c in EXERCISES[n].public}
    shown = [c.describe(EXERCISES[n].params) for n in NAMES
             for c in EXERCISES[n].hidden_cases(SEED)]
    return [s for s in shown if s not in public]


# --- the bundle ---------------------------------------------------------------------------------
def test_bundle_layout_and_setup_script(bundle, tmp_path):
    with zipfile.ZipFile(bundle) as z:
        names = z.namelist()
        modes = {i.filename: stat.S_IMODE(i.external_attr >> 16) for i in z.infolist()}
        config = json.loads(z.read(gradescope.CONFIG))
        z.extractall(tmp_path / "source")
    assert all("/" not in n for n in names)  # everything at the zip's root
    assert {"setup.sh", "run_autograder", gradescope.CONFIG} <= set(names)
    wheels = [n for n in names if n.endswith(".whl")]
    assert wheels == [config["wheel"]]
    assert modes["run_autograder"] & 0o111 and modes["setup.sh"] & 0o111
    assert config["lesson"] == LESSON and config["exercises"] == NAMES
    assert config["seed"] == SEED and config["timeout"] == 20.0
    with zipfile.ZipFile(tmp_path / "source" / config["wheel"]) as w:
        inside = w.namelist()
    for module in ("course_lib/batch/gradescope.py", "course_lib/grading/registry.py",
                   "course_lib/locale/ko/LC_MESSAGES/course_lib.mo"):
        assert module in inside
    for script in ("setup.sh", "run_autograder"):
        check = subprocess.run(["bash", "-n", str(tmp_path / "source" / script)],
                               capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
    # setup.sh, run with a python3 that only records its arguments: it installs the bundled
    # wheel with pip, and nothing else
    fake = tmp_path / "bin"
    fake.mkdir()
    log = tmp_path / "calls.log"
    (fake / "python3").write_text(f'#!/bin/sh\necho "$*" >> {log}\n')
    (fake / "python3").chmod(0o755)
    done = subprocess.run(["bash", str(tmp_path / "source" / "setup.sh")],
                          env=dict(os.environ, PATH=f"{fake}{os.pathsep}{os.environ['PATH']}"),
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    calls = log.read_text().splitlines()
    installs = [c for c in calls if "pip install" in c]
    assert installs[-1].endswith(f"./{config['wheel']}")
    assert all(c.startswith("-m pip install") or c.startswith("-c import course_lib")
               for c in calls), calls
    assert not any(w in (tmp_path / "source" / "setup.sh").read_text()
                   for w in ("apt-get", "curl", "wget", "git clone"))


def test_bundle_bad_arguments(tmp_path, capsys):
    assert cli.main(["gradescope", "99", "--out", str(tmp_path / "a.zip")]) == 2
    assert "LESSON 99" in capsys.readouterr().err
    assert cli.main(["gradescope", "x1", "--out", str(tmp_path / "a.zip")]) == 2
    assert "LESSON" in capsys.readouterr().err
    assert cli.main(["gradescope", "01", "--out", str(tmp_path)]) == 2
    assert "--out" in capsys.readouterr().err
    assert cli.main(["gradescope", "01", "--out", str(tmp_path / "no" / "a.zip")]) == 2
    assert "--out" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


# --- run_autograder on submissions ----------------------------------------------------------------
def test_honest_submission_gets_full_marks(bundle, tmp_path):
    root = _layout(bundle, tmp_path, {"01_alice.ipynb": _notebook(HONEST)})
    results = _run(root)
    assert results["score"] == 6.0
    tests = results["tests"]
    for name in NAMES:
        ex = EXERCISES[name]
        mine = [t for t in tests if t["tags"][0] == name]
        public = [t for t in mine if t["visibility"] == "visible"]
        hidden = [t for t in mine if t["visibility"] == "after_published"]
        assert len(public) == len(ex.public) and len(hidden) == len(ex.hidden_cases(SEED))
        assert len(mine) == len(public) + len(hidden)
        assert all(t["status"] == "passed" for t in mine)
        assert abs(sum(t["max_score"] for t in mine) - ex.points) < 0.01
        assert f"{name}: {len(ex.public)} of {len(ex.public)} public tests passed" \
            in results["output"]
    assert "bubblewrap" in results["_stdout"] or "fallback" in results["output"]


def test_wrong_submission_public_feedback_and_no_hidden_inputs(bundle, tmp_path):
    root = _layout(bundle, tmp_path, {"01_bob.ipynb": _notebook(WRONG)})
    results = _run(root, SOFTMAX_COURSE_SANDBOX="fallback")
    assert 0 < results["score"] < 6.0
    by_name = {t["name"]: t for t in results["tests"]}
    # the max trick missing: a public test with large logits fails, with its input and a hint
    failed = [t for t in results["tests"] if t["tags"] == ["softmax", "public"]
              and t["status"] == "failed"]
    assert failed and all("expected" in t["output"] for t in failed)
    assert any("Likely mistake" in t["output"] for t in failed)
    assert "Likely mistake" in results["output"]
    # not implemented: every test 0, and the message says so
    two = [t for t in results["tests"] if t["tags"][0] == "two_class_softmax"]
    assert two and all(t["score"] == 0 for t in two)
    assert "not implemented" in results["output"]
    # hidden tests: after publication only, and never their input, anywhere
    hidden = [t for t in results["tests"] if t["tags"][1] == "hidden"]
    assert hidden and all(t["visibility"] == "after_published" for t in hidden)
    assert any(t["status"] == "failed" for t in hidden if t["tags"][0] == "softmax")
    text = json.dumps(results, ensure_ascii=False)
    inputs = _hidden_inputs()
    assert inputs and not [s for s in inputs if s in text]
    visible = _visible_text(results)
    assert "a hidden test" not in visible and "hidden test 1" not in visible
    assert "softmax: hidden test 1" in by_name
    # the fallback sandbox worked, and the output says it ran there
    assert "fallback" in results["output"]
    assert str(SEED) not in text
    # its own error message, which quotes its input, is shown for public tests only
    jacobian = [t for t in results["tests"] if t["tags"][0] == "softmax_jacobian"]
    assert jacobian and all(t["score"] == 0 for t in jacobian)
    assert any("LEAK" in t["output"] for t in jacobian if t["tags"][1] == "public")
    assert not any("LEAK" in t["output"] for t in jacobian if t["tags"][1] == "hidden")


@pytest.mark.parametrize("sandbox", ["auto", "fallback"])
def test_hostile_submission_reads_and_writes_nothing(bundle, tmp_path, sandbox):
    from course_lib.batch import isolation

    protection = isolation.protection(sandbox)
    if protection.mode == "fallback" and not protection.landlock:
        # documented: without bubblewrap or Landlock a notebook runs unconfined
        pytest.skip("neither bubblewrap nor Landlock on this machine: nothing to confine it")
    root = _layout(bundle, tmp_path, {"01_mallory.ipynb": ""})
    (root / "submission" / "01_mallory.ipynb").write_text(_notebook(hostile(root)))
    results = _run(root, SOFTMAX_COURSE_SANDBOX=sandbox)
    text = json.dumps(results, ensure_ascii=False)
    assert "PROBE" in results["output"]  # its cell ran, and what it got is in the output
    assert str(SEED) not in text and '"seed"' not in text
    assert "read:" in results["output"] and "ls:" not in results["output"]
    # whatever it wrote (under bubblewrap: into the sandbox's own empty folders) is not here
    assert not (root / "results" / "planted.txt").exists()
    assert sorted(p.name for p in (root / "results").iterdir()) == ["results.json"]
    assert "PWNED" not in text and results["score"] == 6.0  # its right answers, nothing more
    assert len(results["tests"]) > 20


@pytest.mark.parametrize("files, expected", [
    ({}, "there is no notebook"),
    ({"README.txt": "my answers are in my head"}, "there is no notebook"),
    ({"01_a.ipynb": _notebook(HONEST), "copy/01_b.ipynb": _notebook(HONEST)},
     "there are 2 notebooks"),
    ({"01_broken.ipynb": '{"cells": [ this is not json'}, "not JSON"),
    ({"01_empty.ipynb": ""}, "not JSON"),
])
def test_unusable_submissions_score_zero_with_a_reason(bundle, tmp_path, files, expected):
    root = _layout(bundle, tmp_path, files)
    results = _run(root)
    assert results["score"] == 0
    assert expected in results["output"]
    assert results["tests"] and all(t["score"] == 0 for t in results["tests"])


def test_checkpoints_are_not_a_second_notebook(bundle, tmp_path):
    root = _layout(bundle, tmp_path, {"01_a.ipynb": "{}", ".ipynb_checkpoints/01_a-checkpoint.ipynb":
                                      "{}"})
    results = _run(root)
    assert "there are 2" not in results["output"]
    assert "not a notebook" in results["output"] or "nbformat" in results["output"]


def test_autograder_error_still_writes_results(bundle, tmp_path):
    root = _layout(bundle, tmp_path, {"01_a.ipynb": _notebook(HONEST)})
    (root / "source" / gradescope.CONFIG).write_text("{ damaged")
    results = _run(root)
    assert results["score"] == 0 and "error of the autograder" in results["output"]
    assert "Traceback" in results["_stdout"]  # the details: stdout, the instructor's


def test_feedback_in_korean(bundle, tmp_path):
    root = _layout(bundle, tmp_path, {})
    config = json.loads((root / "source" / gradescope.CONFIG).read_text(encoding="utf-8"))
    (root / "source" / gradescope.CONFIG).write_text(json.dumps(dict(config, lang="ko")))
    results = _run(root)
    assert "제출물에 노트북(.ipynb 파일)이 없습니다" in results["output"]
    assert "레슨 01" in results["output"] and "there is no" not in results["output"]
    assert "softmax: 숨은 테스트 1" in {t["name"] for t in results["tests"]}


# --- --lang: the command's own messages follow the option that sets the feedback's language ------
def test_command_messages_in_korean_name_the_same_argument(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("SOFTMAX_COURSE_LANG", raising=False)
    for args in (["99", "--out", str(tmp_path / "a.zip")], ["x1", "--out", str(tmp_path / "a.zip")],
                 ["01", "--out", str(tmp_path)], ["01", "--out", str(tmp_path / "no" / "a.zip")]):
        assert cli.main(["gradescope", *args]) == 2
        en = capsys.readouterr().err
        assert cli.main(["gradescope", *args, "--lang", "ko"]) == 2
        ko = capsys.readouterr().err
        assert ko.startswith("softmax-course: 오류: ") and "Traceback" not in ko
        assert any("\uac00" <= c <= "\ud7a3" for c in ko.split(": ", 2)[-1]), ko
        # the same argument (LESSON or --out) and value first, then the Korean message
        assert en.split()[2:4] == ko.split()[2:4] and en.split()[2] in ("LESSON", "--out")
        assert en.removeprefix("softmax-course: error: ") not in ko
    assert not list(tmp_path.iterdir())


def test_command_report_follows_lang_and_the_environment(tmp_path, capsys, monkeypatch):
    """The summary after writing the bundle (the bundle itself is built by the tests above)."""
    calls = []

    def fake_bundle(lesson, out, **kwargs):
        calls.append(kwargs["lang"])
        return {"lesson": "01", "exercises": NAMES, "seed": SEED, "wheel": "course.whl"}

    monkeypatch.setattr(gradescope, "build_bundle", fake_bundle)
    monkeypatch.delenv("SOFTMAX_COURSE_LANG", raising=False)
    args = ["gradescope", LESSON, "--out", str(tmp_path / "a.zip")]
    assert cli.main(args) == 0
    en = capsys.readouterr().out
    assert en == (f"wrote {tmp_path / 'a.zip'}: lesson 01 ({', '.join(NAMES)}), hidden tests' "
                  f"seed {SEED}, course.whl\nUpload it as the autograder of a Gradescope "
                  "programming assignment (docs/gradescope.md).\n")
    assert cli.main(args + ["--lang", "ko"]) == 0
    ko = capsys.readouterr().out
    monkeypatch.setenv("SOFTMAX_COURSE_LANG", "ko")
    assert cli.main(args) == 0
    assert capsys.readouterr().out == ko != en
    assert "썼습니다" in ko and str(SEED) in ko and ", ".join(NAMES) in ko
    assert "course.whl" in ko and "docs/gradescope.md" in ko
    # one option: --lang goes into the bundle as given (no --lang: the container decides)
    assert calls == [None, "ko", None]

    def failing(lesson, out, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(gradescope, "build_bundle", failing)
    assert cli.main(args + ["--lang", "en"]) == 1
    assert capsys.readouterr().err == f"softmax-course: error: could not write --out " \
        f"{tmp_path / 'a.zip'}: disk full\n"
    assert cli.main(args) == 1
    err = capsys.readouterr().err
    assert err.startswith("softmax-course: 오류: --out ") and "disk full" in err
