"""Accuracy of course_lib.softmax next to scipy.special's, in ULPs against mpmath (50 digits).

    python benchmarks/accuracy_report.py

First the machine's own ``np.exp`` and ``np.log1p`` errors (a seeded sample against mpmath) and
what the course assumes of every machine. Then, for each seeded stress set of
``tests/accuracy.py`` (the sets the accuracy tests assert on), the largest error this machine
achieves, as ``achieved/promise``: the promise is the portable one (for ``u`` = the assumption,
``tests/accuracy.py``), which holds on any machine whose functions meet it, whatever this
machine achieves. softmax (default, ``precise=True``), online_softmax, log_softmax and
logsumexp on both log-domain paths (the long-double path where long double is 80-bit, and the
compensated kernel that Windows and macOS on ARM run), scipy's figures alongside. logsumexp is
measured on its well-conditioned rows (sum p_i |z_i| <= 2 |lse|), where a small error is
possible at all; its promise there is the largest of its row-by-row limits.

To see another machine's figures here, switch numpy's SIMD kernels off:
``NPY_DISABLE_CPU_FEATURES="X86_V3 X86_V4 AVX512_ICL AVX512_SPR" python benchmarks/accuracy_report.py``.
"""

import sys
import time
from pathlib import Path

import numpy as np
import scipy.special as sp

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from accuracy import (  # noqa: E402
    PORTABLE_U,
    elementary_errors,
    log_softmax_limit,
    logsumexp_row_limits,
    online_softmax_limit,
    reference,
    softmax_limit,
    spread_sets,
    stress_sets,
    ulp_error,
    well_conditioned_lse,
)

import course_lib.softmax as sm  # noqa: E402
from course_lib.softmax import log_softmax, logsumexp, online_softmax, softmax  # noqa: E402

HEAD = ["softmax", "precise", "scipy", "online", "log_sm LD", "log_sm K", "scipy",
        "lse LD", "lse K", "scipy"]


def _both_paths(fn):
    """``fn()`` on the long-double path (None where long double is double) and in the kernel."""
    extended = sm._EXTENDED
    try:
        ld = fn() if extended else None
        sm._EXTENDED = False
        return ld, fn()
    finally:
        sm._EXTENDED = extended


def row(label, z, axis=-1):
    dtype = np.dtype(z.dtype)
    wide = dtype == np.float64
    u_p = PORTABLE_U.get(dtype, PORTABLE_U[np.dtype(np.float32)])
    (p, lp, (lh, ll)) = reference(z, axis)
    ok = well_conditioned_lse(z, p[0], lh, axis)
    with np.errstate(all="ignore"):
        lsm_ld, lsm_k = _both_paths(lambda: ulp_error(log_softmax(z, axis=axis), lp))
        lse_ld, lse_k = _both_paths(
            lambda: ulp_error(logsumexp(z, axis=axis)[ok], (lh[ok], ll[ok])))
        lse_promise = float(np.max(logsumexp_row_limits(z, lh, 1.0, 1.0, axis=axis)[ok],
                                   initial=0.5)) if wide else 0.501
        extra = 8 if axis == 0 else 0   # the blocked sum along a long strided axis
        # the default max trick (slices beyond exp's range, or with a subnormal exp) also
        # carries the rounding of z - m
        finite = z[np.isfinite(z)]
        trick = (np.max(finite) > np.log(np.finfo(dtype).max)
                 or np.min(finite) < np.log(np.finfo(dtype).tiny))
        spread = float(np.max(np.max(z, axis=axis, keepdims=True) - np.where(
            np.isfinite(z), z, np.max(z)))) if trick and wide else 0.0
        cells = [
            (ulp_error(softmax(z, axis=axis), p), softmax_limit(u_p) + extra + round(spread)),
            (ulp_error(softmax(z, axis=axis, precise=True), p), softmax_limit(u_p) + extra),
            (ulp_error(sp.softmax(z, axis=axis), p), None),
            (ulp_error(online_softmax(z, axis=axis), p),
             online_softmax_limit(u_p, extended=sm._EXTENDED) + extra),
            (lsm_ld, log_softmax_limit(1.0, 0.0) if wide else 0.501),
            (lsm_k, log_softmax_limit(1.0, 1.0) if wide else 0.501),
            (ulp_error(sp.log_softmax(z, axis=axis), lp), None),
            (lse_ld, lse_promise),
            (lse_k, lse_promise),
            (ulp_error(sp.logsumexp(z, axis=axis)[ok], (lh[ok], ll[ok])), None),
        ]
    if dtype == np.float16:  # computed in float32 (softmax) or float64: 1 ULP
        cells = [(v, None if lim is None else 1.0) for v, lim in cells]

    def fmt(cell):
        v, lim = cell
        if v is None:
            return f"{'-':>12s}"
        got = f"{v:.2f}" if v < 1e4 else f"{v:.0e}"
        return f"{got + ('' if lim is None else f'/{lim:.4g}'):>12s}"

    print(f"{label:30s}" + "".join(fmt(c) for c in cells))


def main():
    t0 = time.perf_counter()
    print("this machine's elementary functions, largest error in ULPs on a seeded sample "
          "(the promises assume at most):")
    for dt in (np.float64, np.float32):
        u = elementary_errors(dt)
        print(f"  {np.dtype(dt).name}: np.exp {u['exp']:.3f}, np.log1p {u['log1p']:.3f}"
              f"   (assumed: {PORTABLE_U[np.dtype(dt)]:g})")
    print(f"  long double: {np.finfo(np.longdouble).nmant + 1}-bit significand "
          f"({'the long-double path runs' if sm._EXTENDED else 'plain double: only the kernel'})")
    print()
    print("largest error in ULPs of the output dtype (mpmath, 50 digits, as ground truth), "
          "as achieved here / promised on any machine")
    print("(LD: long-double path, K: compensated kernel, the path where long double is double)")
    print(f"{'set':30s}" + "".join(f"{h:>12s}" for h in HEAD))
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
