"""The checker's mutation report: for every exercise, the mutants of its reference solution and
what ``check`` made of them (caught by public or hidden tests, named right, misnamed, generic
only, equivalent and excluded, missed).

    python benchmarks/mutation_report.py [--details] [EXERCISE ...]

``--details`` lists every mutant that is misnamed, generic only, missed or equivalent (with the
reason it is excluded). The goals, asserted by tests/test_mutation.py: no mutant missed, none
misnamed, and at least 90 % of the mutants in a registered category named.
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from mutation import report, run_all  # noqa: E402


def main(argv):
    details = "--details" in argv
    names = [a for a in argv if not a.startswith("--")] or None
    start = time.perf_counter()
    verdicts = run_all(names)
    print(report(verdicts))
    print(f"({len(verdicts)} mutants in {time.perf_counter() - start:.0f} s)")
    if details:
        for v in verdicts:
            if v.status != "named":
                m = v.mutant
                extra = v.equivalent or v.missed or ", ".join(v.named) or ""
                print(f"{v.status:10s} {m.exercise:28s} [{m.category}] {m.description} "
                      f"(line {m.line}) {extra}")


if __name__ == "__main__":
    main(sys.argv[1:])
