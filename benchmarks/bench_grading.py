"""Batch grading against plain execution: is grading a class in parallel worth its overhead?

Grades N copies of a solution notebook with ``softmax-course grade --jobs J`` (every notebook
run in a confined kernel, then its exercises called with public and hidden tests), and runs the
same N copies one after another with ``jupyter nbconvert --to notebook --execute`` (what a
hand-rolled grading script does, without any tests). Both are timed as whole commands, start-up
included, in the same run, and the ratio is printed. Goal: grading at most 0.8x the time of the
plain executions.

Run::

    python benchmarks/bench_grading.py              # 20 copies of solutions/03_max_trick, 2 jobs
    python benchmarks/bench_grading.py --copies 40 --jobs 2 --notebook solutions/01_definition.ipynb
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(cmd, **kwargs) -> float:
    began = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kwargs)
    return time.perf_counter() - began


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebook", default=str(ROOT / "solutions" / "03_max_trick.ipynb"))
    parser.add_argument("--copies", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="bench-grading-"))
    try:
        folder = work / "submissions"
        folder.mkdir()
        source = Path(args.notebook)
        for i in range(args.copies):
            shutil.copyfile(source, folder / f"student{i:03d}_{source.name}")
        files = sorted(str(p) for p in folder.iterdir())
        env = {**os.environ, "PYTHONHASHSEED": "0"}

        grade = timed([sys.executable, "-m", "course_lib", "grade", *files, "--out",
                       str(work / "grades"), "--jobs", str(args.jobs)], env=env)
        plain_out = work / "executed"
        plain = 0.0
        for f in files:
            plain += timed([sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook",
                            "--execute", "--output-dir", str(plain_out), f], env=env)
        rows = (work / "grades" / "grades.csv").read_text(encoding="utf-8").splitlines()
        assert len(rows) == args.copies + 1 and all(",graded," in r for r in rows[1:]), rows[:3]
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"{args.copies} copies of {source.name}, {os.cpu_count()} cores")
    print(f"  softmax-course grade --jobs {args.jobs}:      {grade:6.1f} s "
          f"({grade / args.copies:.2f} s per notebook, tests included)")
    print(f"  jupyter nbconvert --execute, one by one: {plain:6.1f} s "
          f"({plain / args.copies:.2f} s per notebook, no tests)")
    print(f"  ratio grade / plain execution: {grade / plain:.2f}  (goal: at most 0.8)")


if __name__ == "__main__":
    main()
