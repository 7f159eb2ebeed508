"""pytest configuration for the course's notebooks (nbval runs them; see pyproject.toml).

``notebooks/`` and ``solutions/`` store their outputs, and nbval compares every cell's new output
with the stored one. ``exercises/`` run in lax mode: nbval only checks that every cell runs
without an error. Generated exercise notebooks store no outputs (nbval would not compare those
cells anyway); lax mode also covers a learner's own, executed exercise notebook in a clone.
"""

import os
from pathlib import Path

LAX_FOLDERS = {"exercises"}
EDITIONS = {"ko"}  # translations: notebooks/ko/, solutions/ko/, exercises/ko/


def course_folder(path) -> str:
    """The course folder a notebook lies in, a translation's subfolder counted as its parent's:
    ``exercises/ko/x.ipynb`` is in ``exercises``."""
    parent = Path(path).parent
    return parent.parent.name if parent.name in EDITIONS else parent.name


def pytest_collectstart(collector):
    """Turn off output comparison for notebooks directly inside a lax folder; run a translated
    lesson or solution notebook's kernel as on another machine (:func:`another_machine`)."""
    if type(collector).__name__ != "IPyNbFile":
        return
    if course_folder(collector.path) in LAX_FOLDERS:
        collector.compare_outputs = False
    elif Path(collector.path).parent.name in EDITIONS:
        _start_kernel_as_on(collector, another_machine())


# --- the translations run as on another machine --------------------------------------------------
# A translated notebook's code is its English twin's, token for token, and its stored outputs hold
# the twin's numbers (tests/test_korean_edition.py). nbval runs the English notebooks natively
# and their twins with numpy's SIMD kernels off and one BLAS thread: every run of the test
# command checks, at no extra cost, that the course's stored numbers come out the same on a
# machine without this one's vector instructions (an older PC, another architecture), which a
# stored output may not depend on. .ci/emulated-machine runs the numerical tests so as well.

def another_machine() -> dict:
    """The environment of a kernel that computes as on another machine: numpy's dispatched SIMD
    kernels this CPU has (AVX2, AVX-512 on x86-64; ASIMD extensions on ARM) switched off, its
    baseline kernels only, and one BLAS/OpenMP thread. ``OPENBLAS_CORETYPE`` and
    ``OPENBLAS_L2_SIZE`` stay as the machine sets them (on some processors they work around wrong
    OpenBLAS kernels)."""
    env = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    try:
        from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__
    except ImportError:  # numpy before 2.0 (the course needs 2.0; a machine may still have 1.x)
        from numpy.core._multiarray_umath import __cpu_dispatch__, __cpu_features__
    on = [f for f in __cpu_dispatch__ if __cpu_features__.get(f)]
    if on:
        env["NPY_DISABLE_CPU_FEATURES"] = " ".join(on)
    return env


def _start_kernel_as_on(nbfile, env):
    """Start ``nbfile``'s kernel (nbval starts it in the collector's setup, with this process's
    environment) with ``env`` added; this process's own environment is left as it was."""
    setup = nbfile.setup

    def setup_as_on_another_machine():
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            setup()
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v

    nbfile.setup = setup_as_on_another_machine

# --- parallel runs (pytest-xdist: -n auto --dist loadfile in pyproject.toml) ----------------------
MAX_WORKERS = 4   # each worker may run a JupyterLab and a browser: more costs memory, not time


def _cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def _sandbox_isolates() -> bool:
    """Whether graded notebooks run in bubblewrap here. Without it (no bubblewrap, or user
    namespaces forbidden) every grader's kernels run in the fallback under the same per-slot
    users, so a hostile test notebook of one test file could stop the kernels another file's
    test is grading at the same time (the fallback cannot hide processes)."""
    try:
        from course_lib.batch import isolation

        return isolation.protection(None).mode == "bubblewrap"
    except Exception:
        return False


def pytest_xdist_auto_num_workers(config):
    """``-n auto``: one worker per core this process may use, at most MAX_WORKERS; one worker
    where the grader's sandbox cannot keep test files apart (see :func:`_sandbox_isolates`)."""
    if not _sandbox_isolates():
        return 1
    return max(1, min(_cores(), MAX_WORKERS))


def pytest_configure(config):
    """Share the cores between the workers' BLAS threads (the controller runs no test): OpenBLAS
    threads spin while they wait, so two workers of two threads each on two cores run some
    numerical tests four times slower than one thread each. A thread count the caller set stays."""
    workers = getattr(config.option, "numprocesses", None)
    if hasattr(config, "workerinput") or not isinstance(workers, int) or workers < 2:
        return
    threads = str(max(1, _cores() // workers))
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, threads)


# The longest files first (seconds on two cores, pytest --durations): a file runs whole on one
# worker, so one that starts last while the other worker has nothing left to do is the run's tail.
# xdist would otherwise order files by their number of tests (--no-loadscope-reorder keeps this
# order), which puts the long, few-test files (the hostile class, the browser tests) last.
SLOW_FIRST = [
    "tests/test_cluster.py",            # a class graded locally and on a Dask cluster, twice
    "tests/test_gradebook.py",          # ~150 s: batches of notebooks, each in a sandbox
    "tests/test_hostile_class.py",      # ~100 s: a hostile class, in both protection modes
    "tests/test_notebooks.py",          # ~100 s: every solution and exercise graded
    "tests/test_lab_browser.py",        # JupyterLab and Chromium
    "tests/test_browser.py",
    "tests/test_present_browser.py",
    "tests/test_mutation.py",
    "tests/test_gradescope.py",
    "tests/test_i18n_grading.py",
    "notebooks/07_rl_policies.ipynb",
    "notebooks/ko/07_rl_policies.ipynb",
    "notebooks/05_classification_calibration.ipynb",
    "notebooks/ko/05_classification_calibration.ipynb",
    "tests/test_lesson07.py",
    "tests/test_lesson05.py",
    "tests/test_grading.py",
    "tests/test_softmax_accuracy.py",
]


def _slow_files_first(items):
    rank = {path: i for i, path in enumerate(SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(SLOW_FIRST)))


# course_lib/grading's old module names (lesson01.py, gradebook.py, ...) are aliases of the modules
# that moved to course_lib.exercises and course_lib.batch: their doctests run once, in the new home.
collect_ignore = [str(p) for p in Path(__file__).parent.glob("course_lib/grading/*.py")
                  if "sys.modules[__name__] = importlib.import_module" in p.read_text()]

# --- lesson 08 needs PyTorch, an optional extra (pip install -e ".[torch]") -----------------------
# Without torch, lesson 08's notebooks and tests are not collected, the items of shared tests that
# are about its exercises or notebooks are skipped, and pytest's summary says so in one line. In CI
# (CI set to a true value) torch is required: nothing is skipped, and a missing torch fails.
import importlib.util as _importlib_util  # noqa: E402
import os as _os  # noqa: E402
import re as _re  # noqa: E402

_HAS_TORCH = _importlib_util.find_spec("torch") is not None
_IN_CI = _os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no", "off")
_SKIP_08 = not _HAS_TORCH and not _IN_CI
_WHY_08 = 'lesson 08 skipped: PyTorch is not installed; run it with: pip install -e ".[torch]"'
# a lesson 08 notebook's cell (named on the command line), or a shared test's item about lesson 08
_ITEM_08 = _re.compile(r"^(notebooks|solutions|exercises)/(ko/)?08_|\[.*\b(torch_\w+|08_\w+)")


def pytest_ignore_collect(collection_path, config):
    if _SKIP_08 and (collection_path.name == "test_lesson08.py" or (
            collection_path.name.startswith("08_")
            and course_folder(collection_path) in ("notebooks", "solutions", "exercises"))):
        return True
    return None


def pytest_collection_modifyitems(config, items):
    _slow_files_first(items)
    if _SKIP_08:
        import pytest

        for item in items:
            if _ITEM_08.search(item.nodeid):
                item.add_marker(pytest.mark.skip(reason=_WHY_08))


def pytest_terminal_summary(terminalreporter):
    if _SKIP_08:
        terminalreporter.write_line(_WHY_08)
