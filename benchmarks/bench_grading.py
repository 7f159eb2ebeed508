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

Run::

    python benchmarks/bench_grading.py              # 20 copies of solutions/03_solutions_max_trick, 2 jobs
    python benchmarks/bench_grading.py --copies 300 --jobs 2 --plain-sample 30
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
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="bench-grading-"))
    try:
        folder = work / "submissions"
        folder.mkdir()
        source = Path(args.notebook)
        for i in range(args.copies):
            shutil.copyfile(source, folder / f"{source.name[:3]}student{i:03d}.ipynb")
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


if __name__ == "__main__":
    main()
