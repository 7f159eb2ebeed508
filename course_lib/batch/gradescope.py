"""A Gradescope autograder for one lesson: the bundle, and what runs in Gradescope's container.

``softmax-course gradescope NN --out autograder.zip`` calls :func:`build_bundle`. The zip holds,
at its root (as Gradescope's autograder specification asks):

``setup.sh``
    Installs the course with pip from the wheel in the bundle (built from this tree, so the
    autograder grades with exactly this version of the exercises and the grader), and nothing
    else.
``run_autograder``
    Runs ``python3 -m course_lib.batch.gradescope``: :func:`run`.
``softmax-course-autograder.json``
    The lesson, its exercises, the time limits and the fixed seed of the hidden tests (every
    submission gets the same hidden tests; a regrade gives the same score).
``softmax_course-*.whl``
    The course.

:func:`run` grades the one notebook in ``ROOT/submission`` with the engine of
``softmax-course grade`` (:func:`~.notebook.grade_notebook`: the notebook runs in a disposable
sandbox, bubblewrap where the container allows it, otherwise the fallback, which the output then
names), and writes ``ROOT/results/results.json`` in Gradescope's format: the total, a text for the
student, and one entry per test, public ones ``visible`` and hidden ones ``after_published``.
``ROOT`` is ``/autograder``, or the folder in the environment variable
``SOFTMAX_COURSE_AUTOGRADER_ROOT`` (the tests emulate Gradescope's layout in a temporary folder).

What a student sees before grades are published is built from the public tests only: the hidden
tests' results, and the hints drawn from them, are in their ``after_published`` entries, and a
hidden test's input is never written anywhere (its entry names it ``hidden test N`` and says only
what went wrong). The whole ``ROOT`` (the seed, the results, the submission's folder) is out of
the notebook's reach: not mounted under bubblewrap, denied by Landlock in the fallback.

A submission with no notebook, with several, or with one that is not a notebook gets score 0 and
an ``output`` saying why; an error of the autograder itself gets a ``results.json`` too.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import zipfile
from pathlib import Path

from ..i18n import _, ngettext

__all__ = ["ROOT_ENV", "CONFIG", "GradescopeError", "build_bundle", "build_wheel", "run",
           "results_from_report", "setup_script", "run_script"]

ROOT_ENV = "SOFTMAX_COURSE_AUTOGRADER_ROOT"
CONFIG = "softmax-course-autograder.json"
PUBLIC, HIDDEN = "visible", "after_published"


class GradescopeError(ValueError):
    """Bad input to :func:`build_bundle` (the message names the argument)."""


# --- the bundle ---------------------------------------------------------------------------------
def setup_script(wheel: str) -> str:
    """``setup.sh``: install the bundled wheel (and, through pip, its dependencies from PyPI).

    Examples
    --------
    >>> "pip install" in setup_script("softmax_course-0.1.0-py3-none-any.whl")
    True
    """
    return f"""#!/usr/bin/env bash
# Written by `softmax-course gradescope`. Gradescope runs this once, as root, when it builds the
# autograder's image: it installs the course from the wheel in this bundle, with pip (which takes
# the course's dependencies from PyPI), and nothing else.
set -euo pipefail
cd "$(dirname "$0")"
# an Ubuntu image whose Python is "externally managed" (PEP 668) would refuse a system-wide install
export PIP_BREAK_SYSTEM_PACKAGES=1
python3 -m pip install --no-cache-dir "./{wheel}"
python3 -c "import course_lib.batch.gradescope"
"""


def run_script() -> str:
    """``run_autograder``: grade the submission; a results.json even if Python cannot start."""
    return f"""#!/usr/bin/env bash
# Written by `softmax-course gradescope`. Gradescope runs this for every submission: it grades
# the notebook in $ROOT/submission and writes $ROOT/results/results.json. ROOT is /autograder, or
# ${ROOT_ENV} (to try the autograder on a copy of Gradescope's layout).
root="${{{ROOT_ENV}:-/autograder}}"
cd "$root"
python3 -m course_lib.batch.gradescope "$root"
status=$?
if [ $status -ne 0 ] && [ ! -s "$root/results/results.json" ]; then
    mkdir -p "$root/results"
    printf '%s\\n' '{{"score": 0, "output": "The autograder could not run (an error of the \
autograder, not of your notebook). Please tell your instructor.", "stdout_visibility": "hidden", \
"tests": []}}' > "$root/results/results.json"
fi
exit $status
"""


def _course_tree(root=None) -> Path:
    from ..cli import course_root

    root = Path(root) if root is not None else course_root()
    if not (root / "pyproject.toml").is_file() or not (root / "course_lib").is_dir():
        raise GradescopeError(_(
            "the course's source tree was not found in {root} (no pyproject.toml): build the "
            "bundle from a clone of the course installed with `pip install -e .`").format(
                root=root))
    return root


def build_wheel(dest, root=None) -> Path:
    """Build the course's wheel from the source tree ``root`` (default: this clone) into ``dest``.

    The package files are copied to a temporary folder first, so the tree is left as it was
    (no ``build/`` or ``*.egg-info``); pip builds without the network (``--no-build-isolation``,
    ``--no-index``), with this environment's setuptools.
    """
    root = _course_tree(root)
    dest = Path(dest)
    with tempfile.TemporaryDirectory(prefix="softmax-course-wheel-") as tmp:
        tree = Path(tmp) / "tree"
        shutil.copytree(root / "course_lib", tree / "course_lib",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints"))
        for name in ("pyproject.toml", "README.md", "LICENSE", "LICENSE.md", "LICENSE.txt"):
            if (root / name).is_file():
                shutil.copy2(root / name, tree / name)
        out = Path(tmp) / "wheel"
        done = subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
             "--no-index", "--disable-pip-version-check", "-q", "-w", str(out), str(tree)],
            capture_output=True, text=True)
        wheels = sorted(out.glob("softmax_course-*.whl"))
        if done.returncode != 0 or len(wheels) != 1:
            raise RuntimeError("pip could not build the course's wheel:\n"
                               + (done.stderr or done.stdout)[-2000:])
        dest.mkdir(parents=True, exist_ok=True)
        return Path(shutil.copy2(wheels[0], dest / wheels[0].name))


def lesson_exercises(lesson) -> list:
    """The exercises of lesson ``lesson`` (``"1"`` or ``"01"``), in the exercise bank's order.

    Examples
    --------
    >>> lesson_exercises("1")
    ['softmax', 'softmax_jacobian', 'two_class_softmax']
    """
    from ..grading.registry import EXERCISES

    text = str(lesson).strip()
    if not text.isdigit():
        raise GradescopeError(_("LESSON {lesson}: a lesson number such as 03").format(
            lesson=repr(lesson)))
    names = [n for n, ex in EXERCISES.items() if ex.lesson == text.zfill(2)]
    if not names:
        lessons = sorted({ex.lesson for ex in EXERCISES.values()})
        raise GradescopeError(_("LESSON {lesson}: no exercises (the lessons with exercises: "
                                "{lessons})").format(lesson=lesson, lessons=", ".join(lessons)))
    return names


def build_bundle(lesson, out, *, seed=None, timeout=60.0, notebook_timeout=None, sandbox=None,
                 lang=None, root=None) -> dict:
    """Write Gradescope's autograder zip for ``lesson`` to ``out``.

    Parameters
    ----------
    lesson : str
        The lesson number (``"03"``); its exercises are graded.
    out : path-like
        The zip to write (its folder must exist; an existing file is replaced).
    seed : int, optional
        The hidden tests' seed, fixed in the bundle. Default: drawn at random now.
    timeout, notebook_timeout : float
        Seconds per cell, and for the whole notebook (default :data:`.notebook.NOTEBOOK_SECONDS`).
    sandbox : str, optional
        ``"auto"`` (default), ``"bubblewrap"`` or ``"fallback"``; ``SOFTMAX_COURSE_SANDBOX`` in
        the container still applies when this is not given.
    lang : {"en", "ko"}, optional
        The language of the students' feedback (default: English, or ``SOFTMAX_COURSE_LANG``
        in the container).
    root : path-like, optional
        The course's source tree (default: this clone).

    Returns
    -------
    dict
        The configuration written into the bundle.
    """
    from . import notebook as nb_module
    from .gradebook import _course_version

    names = lesson_exercises(lesson)
    out = Path(out)
    if out.exists() and out.is_dir():
        raise GradescopeError(_("--out {out}: a folder; give the zip file to write").format(
            out=out))
    if not out.parent.is_dir():
        raise GradescopeError(_("--out {out}: no folder {folder}").format(out=out,
                                                                        folder=out.parent))
    if seed is None:
        seed = int.from_bytes(os.urandom(4), "little")
    if sandbox not in (None, "auto", "bubblewrap", "fallback"):
        raise GradescopeError(_("--sandbox {sandbox}: auto, bubblewrap or fallback").format(
            sandbox=repr(sandbox)))
    if lang is not None:
        from ..i18n import LANGUAGES

        if lang not in LANGUAGES:
            raise GradescopeError(_("--lang {lang}: one of {languages}").format(
                lang=repr(lang), languages=", ".join(LANGUAGES)))
    config = {
        "lesson": str(lesson).strip().zfill(2),
        "exercises": names,
        "seed": int(seed),
        "timeout": float(timeout),
        "notebook_timeout": float(nb_module.NOTEBOOK_SECONDS if notebook_timeout is None
                                  else notebook_timeout),
        "sandbox": None if sandbox in (None, "auto") else sandbox,
        "lang": lang,
        "course_version": _course_version(),
    }
    with tempfile.TemporaryDirectory(prefix="softmax-course-bundle-") as tmp:
        wheel = build_wheel(tmp, root)
        config["wheel"] = wheel.name
        files = [("setup.sh", setup_script(wheel.name).encode(), 0o755),
                 ("run_autograder", run_script().encode(), 0o755),
                 (CONFIG, (json.dumps(config, indent=1) + "\n").encode(), 0o644),
                 (wheel.name, wheel.read_bytes(), 0o644)]
        part = out.with_name(f".{out.name}.{os.getpid()}.tmp")
        try:
            with zipfile.ZipFile(part, "w", zipfile.ZIP_DEFLATED) as z:
                for name, data, mode in files:
                    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                    info.external_attr = (0o100000 | mode) << 16
                    info.compress_type = zipfile.ZIP_DEFLATED
                    z.writestr(info, data)
            os.replace(part, out)
        finally:
            part.unlink(missing_ok=True)
    return config


# --- in the container ---------------------------------------------------------------------------
def _notebooks(folder: Path) -> list:
    """The submitted notebooks: every ``*.ipynb`` under ``folder``, but not in hidden folders
    (``.ipynb_checkpoints``)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*.ipynb")
                  if p.is_file() and not any(part.startswith(".")
                                             for part in p.relative_to(folder).parts))


def _likely(failure) -> str:
    return _("Likely mistake, {mistake}: {hint}").format(mistake=failure.mistake,
                                                          hint=failure.hint)


def _per_test(points, n) -> float:
    return round(points / n, 4) if n else 0.0


def results_from_report(report, config, *, sandbox_note="") -> dict:
    """Gradescope's ``results.json`` for a :class:`~.notebook.NotebookReport`.

    One entry per test of each exercise: public tests ``visible``, with what failed and the hint;
    hidden tests ``after_published``, with what went wrong and the likely mistake's name, never
    their input nor any text the student's code wrote. The top-level ``output`` (always
    visible) is built from the public tests only, so that nothing about the hidden tests shows
    before grades are published; the top-level ``score`` is the grader's total.
    """
    from ..grading.registry import EXERCISES
    from .gradebook import plain_text

    seed = config["seed"]
    tests, lines = [], []
    if report.status != "graded":
        lines.append(_("Your notebook could not be graded: {reason}. Every exercise scores 0.")
                     .format(reason=plain_text(report.message) or report.status))
    for res in report.results:
        ex = EXERCISES[res.name]
        public, hidden = list(ex.public), ex.hidden_cases(seed)
        per = _per_test(ex.points, len(public) + len(hidden))
        failed = {f.test: f for f in res.failures}
        ran = res.status in ("passed", "failed") and not res.delegated
        public_ok = sum(ran and c.name not in failed for c in public)
        if res.status == "error" or res.status == "not implemented" or res.delegated:
            head = _("{name}: 0 / {points} points.").format(name=res.name,
                                                             points=f"{ex.points:g}")
        else:
            head = ngettext("{name}: {passed} of {total} public tests passed; the {hidden} "
                            "hidden test is shown when grades are published.",
                            "{name}: {passed} of {total} public tests passed; the {hidden} "
                            "hidden tests are shown when grades are published.",
                            len(hidden)).format(name=res.name, passed=public_ok,
                                                total=len(public), hidden=len(hidden))
        lines.append("")
        lines.append(head)
        if res.message:
            lines.append(plain_text(res.message))
        shown = [failed[c.name] for c in public if ran and c.name in failed]
        for f in shown[:3]:
            lines.extend("  " + line for line in f.lines())
            if f.hint:
                lines.append("  " + _likely(f))
        if len(shown) > 3:
            lines.append("  " + ngettext("(and {n} more public test failed)",
                                         "(and {n} more public tests failed)",
                                         len(shown) - 3).format(n=len(shown) - 3))
        for number, case in enumerate(public, 1):
            f = failed.get(case.name)
            ok = ran and f is None
            output = "" if ok else ("\n".join(f.lines()) + ("\n" + _likely(f) if f.hint else "")
                                    if ran else plain_text(res.message or res.status))
            tests.append({"name": _("{name}: public test {test}").format(name=res.name,
                                                                        test=case.name),
                          "number": f"{res.name}.{number}",
                          "score": per if ok else 0.0, "max_score": per,
                          "status": "passed" if ok else "failed",
                          "output": output, "visibility": PUBLIC,
                          "tags": [res.name, "public"]})
        for number, case in enumerate(hidden, 1):
            f = failed.get(case.name)
            ok = ran and f is None
            if ok:
                output = ""
            elif ran:  # the mistake's name, not its hint: a hint may quote the student's own
                # error message, which a function can fill with its (hidden) input
                output = (_("failed: {problem}").format(problem=f.problem)
                          + ("\n" + _("Likely mistake: {mistake}").format(mistake=f.mistake)
                             if f.mistake else ""))
            else:
                output = _("not run: {reason}").format(reason=plain_text(res.message or res.status))
            tests.append({"name": _("{name}: hidden test {number}").format(name=res.name,
                                                                          number=number),
                          "number": f"{res.name}.h{number}",
                          "score": per if ok else 0.0, "max_score": per,
                          "status": "passed" if ok else "failed",
                          "output": output, "visibility": HIDDEN,
                          "tags": [res.name, "hidden"]})
    problems = [plain_text(e) for e in report.cell_errors] + [plain_text(n) for n in report.notes]
    if problems:
        lines += ["", _("While your notebook ran:")] + [f"  {p[:300]}" for p in problems]
    if sandbox_note:
        lines += ["", sandbox_note]
    total = sum(EXERCISES[r.name].points for r in report.results)
    return {
        "score": report.score if report.status == "graded" else 0.0,
        "output": (_("softmax-course, lesson {lesson}: {n} exercises, {points} points, graded by "
                     "public tests (shown now) and hidden tests (shown when grades are "
                     "published).").format(lesson=config["lesson"], n=len(report.results),
                                           points=f"{total:g}")
                   + "\n" + "\n".join(lines)).rstrip() + "\n",
        "output_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "extra_data": {"lesson": config["lesson"], "status": report.status,
                       "course_version": config.get("course_version", ""),
                       "sandbox": report.sandbox},
        "tests": tests,
    }


def _grade(root: Path, config: dict) -> dict:
    from . import isolation
    from .gradebook import _fill, plain_text
    from .notebook import NotebookReport, grade_notebook

    names = list(config["exercises"])
    found = _notebooks(root / "submission")
    lesson = config["lesson"]
    if len(found) != 1:
        if not found:
            why = _("there is no notebook (.ipynb file) in your submission: upload your lesson "
                    "{lesson} notebook").format(lesson=lesson)
        else:
            listed = ", ".join(plain_text(p.relative_to(root / "submission")) for p in found[:5])
            why = _("there are {n} notebooks in your submission ({names}): upload only your "
                    "lesson {lesson} notebook").format(
                        n=len(found), names=listed + (", ..." if len(found) > 5 else ""),
                        lesson=lesson)
        report = NotebookReport("", status="not graded", message=why)
        _fill(report, names)
        return results_from_report(report, config)
    protection = isolation.protection(config.get("sandbox"))
    note = ""
    print(f"sandbox: {protection.describe()}")
    if protection.mode != "bubblewrap":
        note = (_("Sandbox: this container cannot run bubblewrap, so your notebook ran in the "
                  "course's fallback sandbox (with Landlock).") if protection.landlock else
                _("Sandbox: this container cannot run bubblewrap, so your notebook ran in the "
                  "course's fallback sandbox (without Landlock)."))
        print(f"warning: fallback sandbox ({protection.describe()})")
    report = grade_notebook(found[0], timeout=config["timeout"], seed=config["seed"],
                            exercises=names, protect=[root], protection=protection,
                            notebook_timeout=config["notebook_timeout"])
    _fill(report, names)
    print(report.summary())
    return results_from_report(report, config, sandbox_note=note)


def run(root=None) -> dict:
    """Grade ``ROOT/submission`` and write ``ROOT/results/results.json``; return the results.

    ``root`` defaults to ``$SOFTMAX_COURSE_AUTOGRADER_ROOT``, or ``/autograder``. Whatever
    happens, a ``results.json`` is written (an error of the autograder: score 0, an output that
    says so, the details on stdout for the instructor).
    """
    from ..build import write_atomically

    start = time.monotonic()
    root = Path(root or os.environ.get(ROOT_ENV) or "/autograder")
    try:
        config = json.loads((root / "source" / CONFIG).read_text(encoding="utf-8"))
        if config.get("lang"):  # the grader's messages, and the kernels it starts
            from ..i18n import ENV

            os.environ[ENV] = config["lang"]
        results = _grade(root, config)
    except Exception:
        traceback.print_exc(file=sys.stdout)
        results = {"score": 0.0, "output": _("The autograder could not grade this submission "
                                             "(an error of the autograder, not of your "
                                             "notebook). Please tell your instructor."),
                   "stdout_visibility": "hidden", "tests": []}
    results["execution_time"] = max(1, round(time.monotonic() - start))
    write_atomically(root / "results" / "results.json",
                     (json.dumps(results, indent=1, ensure_ascii=False) + "\n").encode("utf-8"))
    print(f"score {results['score']:g}; wrote {root / 'results' / 'results.json'}")
    return results


def main(argv=None) -> int:
    """``python3 -m course_lib.batch.gradescope [ROOT]``, what ``run_autograder`` calls."""
    argv = sys.argv[1:] if argv is None else argv
    run(argv[0] if argv else None)
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
