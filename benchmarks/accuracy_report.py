"""Accuracy of course_lib.softmax next to scipy.special's, in ULPs against mpmath (50 digits).

    python benchmarks/accuracy_report.py

Prints the largest error over each seeded stress set of ``tests/accuracy.py`` (the sets the
accuracy tests assert on), for softmax (default and ``precise=True``), log_softmax and
logsumexp, plus the long strided axis and float16. logsumexp is measured on its well-conditioned
rows (sum p_i |z_i| <= 2 |lse|), where a small error is possible at all.
"""

import sys
import time
from pathlib import Path

import numpy as np
import scipy.special as sp

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from accuracy import (  # noqa: E402
    reference,
    spread_sets,
    stress_sets,
    ulp_error,
    well_conditioned_lse,
)

from course_lib.softmax import log_softmax, logsumexp, softmax  # noqa: E402


def row(label, z, axis=-1):
    (p, lp, (lh, ll)) = reference(z, axis)
    ok = well_conditioned_lse(z, p[0], lh, axis)
    with np.errstate(all="ignore"):
        cells = [
            ulp_error(softmax(z, axis=axis), p),
            ulp_error(softmax(z, axis=axis, precise=True), p),
            ulp_error(sp.softmax(z, axis=axis), p),
            ulp_error(log_softmax(z, axis=axis), lp),
            ulp_error(sp.log_softmax(z, axis=axis), lp),
            ulp_error(logsumexp(z, axis=axis)[ok], (lh[ok], ll[ok])),
            ulp_error(sp.logsumexp(z, axis=axis)[ok], (lh[ok], ll[ok])),
        ]
    fmt = lambda v: f"{v:9.2f}" if v < 1e6 else f"{v:9.1e}"  # noqa: E731
    print(f"{label:30s}" + "".join(fmt(v) for v in cells))


def main():
    t0 = time.perf_counter()
    print("largest error in ULPs of the output dtype (mpmath, 50 digits, as ground truth)")
    head = ["softmax", "precise", "scipy", "log_sm", "scipy", "lse", "scipy"]
    print(f"{'set':30s}" + "".join(f"{h:>9s}" for h in head))
    for dt in (np.float64, np.float32):
        for name, z in stress_sets(dt).items():
            row(f"{dt.__name__} {name}", z)
    for name, z in spread_sets().items():
        row(f"float64 {name}", z)
    rng = np.random.default_rng(5)
    row("float64 axis=0, slices of 2^17", rng.standard_normal((2**17, 3)), axis=0)
    row("float16 N(0,3) K=30", (3 * rng.standard_normal((200, 30))).astype(np.float16))
    print(f"({time.perf_counter() - t0:.1f} s)")


if __name__ == "__main__":
    main()
