"""Batch grading against plain execution: is grading a class in sandboxes worth its overhead?

Grades N copies of a solution notebook with ``softmax-course grade --jobs J`` (every notebook run
in a disposable sandbox of its own, then its exercises called with public and hidden tests), and
runs the same copies one after another with ``jupyter nbconvert --to notebook --execute`` (what a
hand-rolled grading script does, without any tests or isolation). Both are timed as whole
commands, start-up included, in the same run (half of the plain executions before the grading,
half after), and the ratio is printed, with the machine's load along the way. Goal: grading at most
0.8x the time of the plain executions, the sandbox included.

It also prints the grader's peak memory (the ``softmax-course grade`` process alone: its
``VmHWM``) and the peak resident memory of its whole process tree (sandboxes and kernels
included, sampled every 0.2 s), and the most kernels alive at once (which ``--jobs`` bounds).

``--plain-sample K`` times only K of the plain executions and scales their time to N (say so
when you quote the ratio): with 300 copies the plain runs alone take most of an hour.

``--cluster`` compares instead grading on a Dask cluster (``softmax-course grade --cluster``,
the ``cluster`` extra) with local grading: it starts a local cluster (``dask scheduler`` and
``dask worker --nworkers J --nthreads 1`` on 127.0.0.1, stopped by pid at the end), grades the
copies through it and with local ``--jobs J``, checks that both gradebooks agree, and prints the
ratio (goal: at most 1.10). Then it measures what would limit adding workers: how many tasks a
second the scheduler turns around when each carries a notebook's bytes and brings back a row's
worth of plain data, against the seconds one notebook takes to grade.

Run::

    python benchmarks/bench_grading.py              # 20 copies of solutions/03_solutions_max_trick, 2 jobs
    python benchmarks/bench_grading.py --copies 300 --jobs 2 --plain-sample 30
    python benchmarks/bench_grading.py --cluster --copies 300 --jobs 2
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(cmd, **kwargs) -> float:
    began = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kwargs)
    return time.perf_counter() - began


def _tree(root: int) -> dict:
    """pid -> (ppid, rss in bytes, is a kernel) for every process, then filtered to ``root``'s
    descendants."""
    table = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
            ppid = int(stat[stat.rindex(")") + 2:].split()[1])
            rss = int(stat[stat.rindex(")") + 2:].split()[21]) * os.sysconf("SC_PAGE_SIZE")
            kernel = b"ipykernel" in Path(entry.path, "cmdline").read_bytes()
        except (OSError, ValueError, IndexError):
            continue
        table[int(entry.name)] = (ppid, rss, kernel)
    found, frontier = {root}, {root}
    while frontier:
        frontier = {p for p, (ppid, *_) in table.items() if ppid in frontier and p not in found}
        found |= frontier
    return {p: table[p] for p in found if p in table}


def grade_and_watch(cmd, env) -> dict:
    """Run the grading command; sample its process tree's memory and kernels as it runs."""
    began = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    peak = {"tree": 0, "grader": 0, "kernels": 0}
    done = threading.Event()

    def watch():
        while not done.is_set():
            tree = _tree(proc.pid)
            peak["tree"] = max(peak["tree"], sum(rss for _, rss, _ in tree.values()))
            peak["kernels"] = max(peak["kernels"], sum(k for *_, k in tree.values()))
            try:
                status = Path(f"/proc/{proc.pid}/status").read_text()
                hwm = next(ln for ln in status.splitlines() if ln.startswith("VmHWM:"))
                peak["grader"] = max(peak["grader"], int(hwm.split()[1]) * 1024)
            except (OSError, StopIteration, ValueError):
                pass
            done.wait(0.2)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    rc = proc.wait()
    done.set()
    watcher.join()
    if rc != 0:
        raise SystemExit(f"grading failed with status {rc}")
    return {"seconds": time.perf_counter() - began, **peak}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebook", default=str(ROOT / "solutions" / "03_solutions_max_trick.ipynb"))
    parser.add_argument("--copies", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--plain-sample", type=int, default=None, metavar="K",
                        help="time only K plain executions and scale to --copies")
    parser.add_argument("--sandbox", default="auto", choices=["auto", "bubblewrap", "fallback"])
    parser.add_argument("--cluster", action="store_true",
                        help="compare a local Dask cluster of --jobs single-threaded workers "
                        "with local --jobs")
    parser.add_argument("--cluster-first", action="store_true",
                        help="with --cluster: grade on the cluster first, then locally (run "
                        "both orders on a shared machine, whose load drifts)")
    args = parser.parse_args(argv)
    if args.cluster:
        return bench_cluster(args)

    work = Path(tempfile.mkdtemp(prefix="bench-grading-"))
    try:
        source = Path(args.notebook)
        folder = _class(work, source, args.copies)
        files = sorted(str(p) for p in folder.iterdir())
        env = {**os.environ, "PYTHONHASHSEED": "0"}

        plain_out = work / "executed"
        sample = files if args.plain_sample is None else files[:args.plain_sample]

        def plain_runs(part):
            return sum(timed([sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook",
                              "--execute", "--output-dir", str(plain_out), f], env=env)
                       for f in part)

        # half of the plain executions before the grading and half after, so that a shared
        # machine's load drifting during the run weighs on both sides alike
        load_before = os.getloadavg()
        plain = plain_runs(sample[:len(sample) // 2])
        load_grade = os.getloadavg()
        grade = grade_and_watch([sys.executable, "-m", "course_lib", "grade", *files, "--out",
                                 str(work / "grades"), "--jobs", str(args.jobs), "--sandbox",
                                 args.sandbox], env)
        load_grade_end = os.getloadavg()
        plain += plain_runs(sample[len(sample) // 2:])
        plain *= len(files) / len(sample)
        load_after = os.getloadavg()
        rows = (work / "grades" / "grades.csv").read_text(encoding="utf-8").splitlines()
        assert len(rows) == args.copies + 1 and all(",graded," in r for r in rows[1:]), rows[:3]
        import json

        sandbox = json.loads((work / "grades" / "results.json").read_text())["sandbox"]
    finally:
        shutil.rmtree(work, ignore_errors=True)

    mb = 2**20
    print(f"{args.copies} copies of {source.name}, {os.cpu_count()} cores; 1-minute load "
          f"average {load_before[0]:.1f} at the start, {load_grade[0]:.1f} and "
          f"{load_grade_end[0]:.1f} as the grading began and ended, {load_after[0]:.1f} at the end")
    print(f"  sandbox: {sandbox['description']}")
    print(f"  softmax-course grade --jobs {args.jobs}:      {grade['seconds']:6.1f} s "
          f"({grade['seconds'] / args.copies:.2f} s per notebook, tests included)")
    scaled = "" if len(sample) == len(files) else f", {len(sample)} timed and scaled"
    print(f"  jupyter nbconvert --execute, one by one: {plain:6.1f} s "
          f"({plain / args.copies:.2f} s per notebook, no tests{scaled})")
    print(f"  ratio grade / plain execution: {grade['seconds'] / plain:.2f}  (goal: at most 0.8)")
    print(f"  peak memory: grader process {grade['grader'] / mb:.0f} MB, whole tree "
          f"{grade['tree'] / mb:.0f} MB; at most {grade['kernels']} kernels alive at once")


# --- --cluster ---------------------------------------------------------------------------------
def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _class(work: Path, source: Path, copies: int) -> Path:
    """``copies`` copies of ``source`` in ``work/submissions``, named as students' files."""
    folder = work / "submissions"
    folder.mkdir()
    for i in range(copies):
        shutil.copyfile(source, folder / f"{source.name[:3]}student{i:03d}.ipynb")
    return folder


def _stop(procs) -> None:
    """Stop what was started, and what it started (the workers under their nanny), by pid."""
    import psutil
    import signal

    pids = []
    for proc in procs:
        try:
            pids += [c.pid for c in psutil.Process(proc.pid).children(recursive=True)]
        except psutil.Error:
            pass
        pids.append(proc.pid)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except OSError:
            pass
    for proc in procs:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def _echo(data: bytes, reply_bytes: int) -> dict:
    """A task that does no grading: the notebook's bytes in, a row's worth of plain data out."""
    return {"status": "graded", "bytes": len(data), "text": "x" * reply_bytes}


def _scheduler_rate(address: str, data: bytes, count: int, reply_bytes: int) -> float:
    """Tasks a second the cluster turns around, each with ``data`` in and a reply out: the
    scheduler's and the transfer's share of a task, without any grading."""
    import distributed

    with distributed.Client(address, set_as_default=False) as client:
        client.submit(_echo, b"", 0, pure=False).result()  # warm up
        began = time.perf_counter()
        futures = [client.submit(_echo, data, reply_bytes, pure=False) for _ in range(count)]
        client.gather(futures)
        return count / (time.perf_counter() - began)


def bench_cluster(args) -> None:
    import json

    work = Path(tempfile.mkdtemp(prefix="bench-grading-cluster-"))
    procs = []
    env = {**os.environ, "PYTHONHASHSEED": "0", "OPENBLAS_NUM_THREADS": "1"}
    dask = str(Path(sys.executable).parent / "dask")
    try:
        source = Path(args.notebook)
        folder = _class(work, source, args.copies)
        port = _free_port()
        address = f"tcp://127.0.0.1:{port}"
        log = open(work / "dask.log", "wb")
        procs.append(subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port",
                                       str(port), "--no-dashboard"], stdout=log,
                                      stderr=subprocess.STDOUT, env=env, cwd=work))
        procs.append(subprocess.Popen([dask, "worker", address, "--host", "127.0.0.1",
                                       "--nworkers", str(args.jobs), "--nthreads", "1",
                                       "--no-dashboard", "--memory-limit", "0",
                                       "--local-directory", str(work / "scratch")],
                                      stdout=log, stderr=subprocess.STDOUT, env=env, cwd=work))
        import distributed

        with distributed.Client(address, timeout=60, set_as_default=False) as client:
            client.wait_for_workers(args.jobs, timeout=120)
        common = [sys.executable, "-m", "course_lib", "grade", str(folder), "--seed", "1",
                  "--sandbox", args.sandbox]
        load = [os.getloadavg()[0]]
        runs = {"local": common + ["--out", str(work / "local"), "--jobs", str(args.jobs)],
                "cluster": common + ["--out", str(work / "cluster"), "--cluster", address]}
        seconds = {}
        for name in (("cluster", "local") if args.cluster_first else ("local", "cluster")):
            seconds[name] = timed(runs[name], env=env)
            load.append(os.getloadavg()[0])
        local, remote = seconds["local"], seconds["cluster"]
        same = (work / "local" / "grades.csv").read_bytes() == \
            (work / "cluster" / "grades.csv").read_bytes()
        rows = (work / "cluster" / "grades.csv").read_text(encoding="utf-8").splitlines()
        assert len(rows) == args.copies + 1 and all(",graded," in r for r in rows[1:]), rows[:3]
        entry = json.loads((work / "cluster" / "results.json").read_text())["submissions"][0]
        reply = len(json.dumps(entry))
        data = source.read_bytes()
        print(f"{args.copies} copies of {source.name} ({len(data) // 1024} KB each), "
              f"{os.cpu_count()} cores; 1-minute load average {load[0]:.1f}, {load[1]:.1f}, "
              f"{load[2]:.1f} before, between and after "
              f"({'cluster' if args.cluster_first else 'local'} first)")
        print(f"  softmax-course grade --jobs {args.jobs}:                    {local:6.1f} s")
        print(f"  softmax-course grade --cluster ({args.jobs} workers x 1 thread): "
              f"{remote:6.1f} s   gradebooks {'identical' if same else 'DIFFER'}")
        print(f"  ratio cluster / local: {remote / local:.3f}  (goal: at most 1.10)", flush=True)
        rate = _scheduler_rate(address, data, max(args.copies, 200), reply)
    finally:
        _stop(procs)
        shutil.rmtree(work, ignore_errors=True)

    per_notebook = remote * args.jobs / args.copies  # seconds of one worker thread per notebook
    print(f"  the scheduler alone: {rate:.0f} tasks/s with a notebook in ({len(data) // 1024} KB) "
          f"and a row out ({reply // 1024} KB), i.e. {1000 / rate:.1f} ms a task, against "
          f"{per_notebook:.2f} s of a worker thread per notebook")
    print(f"  so grading scales with the workers' threads until about {per_notebook * rate:.0f} "
          "threads, where the scheduler (and the transfers through it) would be busy all the "
          "time; before that, the instructor's machine, which reads, journals and writes a "
          "feedback page per row, may be the limit")


if __name__ == "__main__":
    main()
