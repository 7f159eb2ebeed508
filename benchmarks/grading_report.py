"""How well and how fast the checker works, on the fixtures of ``tests/grading_fixtures.py``.

Prints
* the share of known-wrong implementations that fail (caught) and whose mistake is named
  (named), on the public tests (what ``check`` runs) and on the hidden tests (what a grader
  runs, over several seeds), and the share of correct alternatives accepted;
* the time of one ``check`` per exercise (median), against its floor: calling the same
  function on the same public inputs and comparing with ``numpy.testing.assert_allclose``,
  with no copies, no mistake diagnosis and no verdict;
* the time ``softmax-course check`` takes for each solution notebook (kernel start included).

Run: ``python benchmarks/grading_report.py [--seeds N] [--repeat N] [--no-notebooks]``
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from course_lib.grading import EXERCISES, check, judge  # noqa: E402
from course_lib.grading.run import run_case  # noqa: E402
from grading_fixtures import RIGHT, WRONG  # noqa: E402


def shares(seeds):
    public = [check(n, f, show=False) for n, _, f in WRONG]
    caught = sum(not r.passed for r in public)
    named = sum(m in [x for x, _ in r.mistakes] for (_, m, _), r in zip(WRONG, public))
    accepted = sum(check(n, f, show=False).passed for n, f in RIGHT)
    h_caught = h_named = h_accepted = 0
    for seed in seeds:
        for n, m, f in WRONG:
            r = grade_hidden(n, f, seed)
            h_caught += not r.passed
            h_named += m in [x for x, _ in r.mistakes]
        h_accepted += sum(grade_hidden(n, f, seed).passed for n, f in RIGHT)
    k, w, a = len(seeds), len(WRONG), len(RIGHT)
    print(f"known-wrong fixtures: {w}, correct alternatives: {a}, hidden seeds: {k}")
    print(f"{'':24}{'caught':>10}{'named':>10}{'accepted':>10}")
    print(f"{'public tests (check)':24}{caught / w:>10.0%}{named / w:>10.0%}{accepted / a:>10.0%}")
    print(f"{'hidden tests (grader)':24}{h_caught / (w * k):>10.0%}{h_named / (w * k):>10.0%}"
          f"{h_accepted / (a * k):>10.0%}")
    missed = [(n, m, f.__name__) for (n, m, f), r in zip(WRONG, public)
              if m not in [x for x, _ in r.mistakes]]
    if missed:
        print("not named:", missed)


def grade_hidden(name, f, seed):
    ex = EXERCISES[name]
    cases = ex.hidden_cases(seed)
    outcomes = {c.name: run_case(f, c) for c in cases}
    return judge(ex, cases, outcomes, hidden=frozenset(outcomes))


def floor(name, f):
    """The least a check could do: call, compare, nothing else."""
    ex = EXERCISES[name]
    with np.errstate(all="ignore"):
        _floor(ex, f)


def _floor(ex, f):
    for c in ex.public:
        try:
            np.testing.assert_allclose(np.asarray(f(*c.args, **c.kwargs), float),
                                       ex.expected(c), rtol=1e-7, atol=1e-12)
        except Exception:
            pass


def median_ms(fn, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1e3 * statistics.median(times)


def timings(repeat):
    print(f"\ncheck() time per call, median of {repeat} (ms); floor = same calls + "
          "assert_allclose, nothing else")
    print(f"{'exercise':22}{'function':34}{'check':>8}{'floor':>8}{'ratio':>8}")
    picks = {}
    for n, m, f in WRONG:
        picks.setdefault((n, "wrong"), (f, m))
    for n, f in RIGHT:
        picks.setdefault((n, "right"), (f, "correct"))
    for (n, kind), (f, label) in sorted(picks.items()):
        floor(n, f)  # warm up
        c = median_ms(lambda: check(n, f, show=False), repeat)
        b = median_ms(lambda: floor(n, f), repeat)
        print(f"{n:22}{label[:33]:34}{c:>8.2f}{b:>8.2f}{c / b:>7.1f}x")


def notebooks():
    from course_lib.batch.notebook import grade_notebook

    print("\nsoftmax-course check on each solution notebook (fresh kernel, public + hidden tests)")
    for path in sorted((ROOT / "solutions").glob("*.ipynb")):
        t = time.perf_counter()
        report = grade_notebook(path, seed=0)
        print(f"{path.name:28}{time.perf_counter() - t:6.2f} s   score {report.score:g} / "
              f"{report.max_score:g}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=10, help="hidden-test seeds (default 10)")
    ap.add_argument("--repeat", type=int, default=20, help="timing repeats (default 20)")
    ap.add_argument("--no-notebooks", action="store_true", help="skip the notebook timings")
    args = ap.parse_args()
    shares(range(args.seeds))
    timings(args.repeat)
    if not args.no_notebooks:
        notebooks()


if __name__ == "__main__":
    main()
