"""Grading on a Dask cluster (``softmax-course grade … --cluster``), with real processes.

A ``dask scheduler`` and two ``dask worker`` processes (one thread each, under a nanny) run on
127.0.0.1 on free ports. A small class of lesson 01 (honest notebooks made from
``solutions/01_solutions_definition.ipynb``, hostile ones from ``tests/test_hostile_class.py``)
is graded through them while one worker is killed (SIGKILL, by pid) in the middle of a task; the
gradebook must equal local grading of the same folder with the same seed, byte for byte. The
workers' preload (``KILLER`` below) makes one submission kill the worker that grades it, every
time: it must cost two workers and get the row "killed its worker", not be tried forever. A
third worker, whose course fingerprint is made to differ, is refused with a clear message; a
scheduler killed mid-batch leaves a journal that ``--resume`` (here: locally) completes.

Everything started here is stopped by pid in ``finally``. Without Dask's ``distributed`` the
tests skip, except where ``CI`` is set (``.ci/run`` installs the test extra, which has it).
"""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from course_lib.batch import cluster, isolation

if os.environ.get("CI"):
    import distributed  # noqa: F401  (CI must run these tests: a missing package fails)
else:
    distributed = pytest.importorskip(
        "distributed", reason="grading on a cluster needs Dask's distributed package "
        "(pip install -e \".[cluster]\")")

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SEED = 20261201
KILL_MARK = "KILL-THE-WORKER"
# the workers' preload: a submission carrying the mark kills the worker process that grades it
# (under bubblewrap a notebook cannot reach its worker; this stands for an out-of-memory kill)
# (Dask may import a preload twice in one process: patch once)
KILLER = f"""
import os, signal
from course_lib.batch import cluster

if not hasattr(cluster, "real_grade_data"):
    cluster.real_grade_data = cluster.grade_data

    def grade_data(data, **options):
        if {KILL_MARK!r}.encode() in data:
            os.kill(os.getpid(), signal.SIGKILL)
        return cluster.real_grade_data(data, **options)

    cluster.grade_data = grade_data
"""
# a worker that claims another version of the course
OTHER_VERSION = """
from course_lib.batch import cluster

if not hasattr(cluster, "real_course_fingerprint"):
    cluster.real_course_fingerprint = cluster.course_fingerprint
    cluster.course_fingerprint = lambda: {**cluster.real_course_fingerprint(),
                                          "code": "0000000000000000"}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env() -> dict:
    return {**os.environ, "OPENBLAS_NUM_THREADS": "1", "PYTHONHASHSEED": "0"}


class Cluster:
    """A scheduler and workers on 127.0.0.1, stopped by pid."""

    def __init__(self, folder: Path, name: str):
        self.folder, self.name, self.procs = folder, name, []
        self.port = _free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.scheduler = self._start("scheduler", "--host", "127.0.0.1", "--port",
                                     str(self.port), "--no-dashboard")

    def _start(self, *args):
        log = open(self.folder / f"{self.name}-{len(self.procs)}.log", "wb")
        proc = subprocess.Popen([str(BIN / "dask"), *args], stdout=log, stderr=subprocess.STDOUT,
                                env=_env(), cwd=self.folder, start_new_session=True)
        self.procs.append(proc)
        return proc

    def worker(self, preload: Path | None = None):
        return self._start("worker", self.address, "--host", "127.0.0.1", "--nthreads", "1",
                           "--no-dashboard", "--memory-limit", "0",
                           *(["--preload", str(preload)] if preload else []),
                           "--local-directory", str(self.folder / "scratch"))

    def client(self, workers: int):
        client = distributed.Client(self.address, timeout=60, set_as_default=False)
        client.wait_for_workers(workers, timeout=120)
        return client

    def stop(self):
        """Every process started, and what they started (a nanny's worker), by pid."""
        import psutil

        pids = []
        for proc in self.procs:
            try:
                pids += [c.pid for c in psutil.Process(proc.pid).children(recursive=True)]
            except psutil.Error:
                pass
            pids.append(proc.pid)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        for proc in self.procs:
            proc.wait(timeout=30)


def _honest(source: Path) -> nbformat.NotebookNode:
    """A student's notebook made from a solution: its imports and the cells that define the
    exercises' functions (no figures: kernels stay quick)."""
    nb = nbformat.read(source, as_version=4)
    nb.cells = [c for c in nb.cells if c.cell_type == "code" and (
        "def " in c.source or c.source.lstrip().startswith(("import", "from")))]
    return nb


def _class(folder: Path) -> None:
    import test_hostile_class as hostile

    folder.mkdir()
    solution = _honest(ROOT / "solutions" / "01_solutions_definition.ipynb")
    for who in ("ada", "bo"):  # two honest ones: a small class keeps CI's time
        nbformat.write(solution, folder / f"01_{who}.ipynb")
    slow = _honest(ROOT / "solutions" / "01_solutions_definition.ipynb")
    slow.cells.insert(0, nbformat.v4.new_code_cell("import time\ntime.sleep(6)"))
    nbformat.write(slow, folder / "01_slow.ipynb")  # the task its worker is killed in
    attacks = hostile._attacks(folder, folder / "01_ada.ipynb")
    # the fallback sandbox cannot hide one notebook's processes from another's
    # (docs/grading-threat-model.md): there a notebook that kills every process it can see
    # would make local grading itself depend on timing, as in tests/test_hostile_class.py
    bubblewrap = isolation.protection("auto").mode == "bubblewrap"
    for name in ("01_kill_all", "01_forge") if bubblewrap else ("01_forge",):
        nbformat.write(attacks[name][0], folder / f"{name}.ipynb")
    killer = hostile._nb(hostile.HONEST + f"\n# {KILL_MARK}\n")
    nbformat.write(killer, folder / "01_killer.ipynb")


def _grade(folder, out, *extra, check=True):
    return subprocess.run(
        [sys.executable, "-m", "course_lib", "grade", str(folder), "--out", str(out), "--seed",
         str(SEED), "--lesson", "01", "--timeout", "20", *extra],
        capture_output=True, text=True, env=_env(), check=check, timeout=600)


def _rows(out: Path) -> dict:
    """grades.csv by id; the forger's notes left out: which of its exercises its thread manages
    to tamper with is a race with the grader, locally as on a cluster (its points are 0 anyway)."""
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(
        (out / "grades.csv").read_text(encoding="utf-8")))}
    if "01_forge" in rows:
        rows["01_forge"]["notes"] = "tampered" if "tampered" in rows["01_forge"]["notes"] else ""
    return rows


def _journal_lines(out: Path) -> int:
    try:
        return (out / "journal.jsonl").read_bytes().count(b"\n")
    except OSError:
        return 0


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The class graded locally and on a cluster (one worker killed mid-task), the refused
    worker's and the lost scheduler's outcomes."""
    work = tmp_path_factory.mktemp("cluster")
    (work / "scratch").mkdir()
    killer = work / "killer_preload.py"
    killer.write_text(KILLER)
    other = work / "other_version.py"
    other.write_text(OTHER_VERSION)
    folder = work / "class"
    _class(folder)
    found = {}
    found["local"] = _grade(folder, work / "local", "--jobs", "2")
    dask = Cluster(work, "dask")
    try:
        dask.worker(killer)
        dask.worker(killer)
        client = dask.client(2)
        try:
            run = subprocess.Popen(
                [sys.executable, "-m", "course_lib", "grade", str(folder), "--out",
                 str(work / "cluster"), "--seed", str(SEED), "--lesson", "01", "--timeout",
                 "20", "--cluster", dask.address], stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, text=True, env=_env())
            # kill a worker while it grades the slow notebook (its sleep gives the time)
            killed, deadline = None, time.monotonic() + 300
            while killed is None and run.poll() is None and time.monotonic() < deadline:
                running = client.run(lambda dask_worker: (os.getpid(), [
                    str(k) for k, ts in dask_worker.state.tasks.items()
                    if ts.state == "executing"]), on_error="return")
                for worker, reply in running.items():
                    if not isinstance(reply, BaseException) and any(
                            "01_slow" in k for k in reply[1]):
                        os.kill(reply[0], signal.SIGKILL)
                        killed = reply[0]
                        break
                time.sleep(0.2)
            found["cluster"] = run.communicate(timeout=600) + (run.returncode, killed)
            # a worker with another version of the course: refused, by name
            dask.worker(other)
            client.wait_for_workers(3, timeout=120)
            found["refused"] = _grade(folder, work / "refused", "--cluster", dask.address,
                                      check=False)
        finally:
            client.close()
    finally:
        dask.stop()
    # a scheduler lost mid-batch: the journal stays valid, and --resume completes it (the class
    # without the killer, whose row differs from local grading)
    others = sorted(str(p) for p in folder.glob("*.ipynb") if "killer" not in p.name)
    dask = Cluster(work, "lost")
    try:
        dask.worker()
        dask.client(1).close()
        # Dask's connect timeout is also how long the client tries to reconnect (30 s by
        # default): a shorter one ends the batch sooner, as an instructor may configure it
        run = subprocess.Popen(
            [sys.executable, "-m", "course_lib", "grade", *others, "--out",
             str(work / "lost"), "--seed", str(SEED), "--lesson", "01", "--timeout", "20",
             "--cluster", dask.address], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, env={**_env(), "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "5s"})
        deadline = time.monotonic() + 300
        while _journal_lines(work / "lost") < 2 and run.poll() is None \
                and time.monotonic() < deadline:
            time.sleep(0.2)
        found["lost_rows"] = _journal_lines(work / "lost")
        os.kill(dask.scheduler.pid, signal.SIGKILL)
        killed_at = time.monotonic()
        found["lost"] = run.communicate(timeout=300) + (run.returncode,)
        found["lost_after"] = time.monotonic() - killed_at
    finally:
        dask.stop()
    found["resumed"] = subprocess.run(
        [sys.executable, "-m", "course_lib", "grade", *others, "--out", str(work / "lost"),
         "--seed", str(SEED), "--lesson", "01", "--timeout", "20", "--resume", "--jobs", "2"],
        capture_output=True, text=True, env=_env(), check=True, timeout=600)
    found["work"] = work
    return found


def test_the_cluster_grades_exactly_as_local_grading(graded):
    work = graded["work"]
    out, err, code, killed = graded["cluster"]
    assert code == 0, err
    assert killed, "no worker was killed while it graded 01_slow"
    local, remote = _rows(work / "local"), _rows(work / "cluster")
    assert set(local) == set(remote)
    for sid in local:
        if sid != "01_killer":
            assert remote[sid] == local[sid], sid
    assert remote["01_slow"]["status"] == "graded" and remote["01_slow"]["total"] == "6"
    assert remote["01_ada"]["total"] == "6" and remote["01_forge"]["total"] == "0"
    # every feedback page but the killer's, byte for byte
    for sid in local:
        if sid not in ("01_killer", "01_forge"):
            assert (work / "cluster" / "feedback" / f"{sid}.html").read_bytes() == \
                (work / "local" / "feedback" / f"{sid}.html").read_bytes(), sid
    # the progress, as locally: one line per submission
    assert err.count("] 01_") == len(local)
    assert out.startswith("graded ") and f"of {len(local)} submissions" in out


def test_a_submission_that_kills_two_workers_is_recorded_not_retried(graded):
    row = _rows(graded["work"] / "cluster")["01_killer"]
    assert row["status"] == "killed its worker"
    assert row["total"] == "0"
    assert "killed 2 Dask workers in a row" in row["notes"]
    entry = json.loads((graded["work"] / "cluster" / "results.json").read_text())
    assert [s["status"] for s in entry["submissions"] if s["id"] == "01_killer"] == \
        ["killed its worker"]


def test_a_worker_with_another_course_version_is_refused(graded):
    result = graded["refused"]
    assert result.returncode == 2
    assert "has another version of softmax-course" in result.stderr
    assert "code: " in result.stderr and "0000000000000000 there" in result.stderr
    assert not (graded["work"] / "refused" / "grades.csv").exists()


def test_the_course_version_check_on_the_worker_itself():
    expected = {**cluster.course_fingerprint(), "code": "not this one"}
    with pytest.raises(cluster.CourseVersionMismatch, match="not this one here"):
        cluster.grade_on_worker(b"{}", {}, expected)


def test_a_lost_scheduler_leaves_a_journal_that_resume_completes(graded):
    out, err, code = graded["lost"]
    assert graded["lost_rows"] >= 2
    assert code == 2, err
    assert "lost the connection to the Dask scheduler" in err and "--resume" in err
    assert graded["lost_after"] < 25, "the configured 5 s connect timeout, not Dask's 30 s"
    resumed = graded["resumed"]
    assert f"({graded['lost_rows']} reused from the journal)" in resumed.stdout or \
        "reused from the journal" in resumed.stdout
    local, lost = _rows(graded["work"] / "local"), _rows(graded["work"] / "lost")
    del local["01_killer"]
    assert lost == local


def test_an_unreachable_scheduler_is_a_clear_error(tmp_path):
    port = _free_port()
    nb = tmp_path / "01_x.ipynb"
    nbformat.write(nbformat.v4.new_notebook(), nb)
    result = subprocess.run(
        [sys.executable, "-m", "course_lib", "grade", str(nb), "--out", str(tmp_path / "out"),
         "--cluster", f"tcp://127.0.0.1:{port}"], capture_output=True, text=True,
        env={**_env(), "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "2s"}, timeout=120)
    assert result.returncode == 2
    assert f"cannot reach the Dask scheduler at tcp://127.0.0.1:{port}" in result.stderr


def test_the_weakest_protection_is_the_one_promised():
    strong = {"mode": "bubblewrap", "landlock": 7, "cgroup": "v2", "user": "grader's uid"}
    weak = {"mode": "fallback", "landlock": 7, "cgroup": "", "user": "grader's uid",
            "why": "no bwrap"}
    assert cluster._weakest([strong, weak]).mode == "fallback"
    assert cluster._weakest([strong]).mode == "bubblewrap"

