"""Time and peak memory of course_lib.softmax next to scipy.special, torch and two numpy baselines.

Run from the repository root:

    python benchmarks/bench_softmax.py              # full run
    python benchmarks/bench_softmax.py --quick      # fewer repeats, for a smoke test
    python benchmarks/bench_softmax.py --repeat 31 --size 2000

Times are the median of ``--repeat`` calls after warm-up (time.perf_counter). Peak memory is
measured in a separate call under tracemalloc (numpy reports its buffers to it): the peak of
traced memory minus what was traced before the call, as a multiple of the input's nbytes. The
result array counts, so a function that only allocates its output shows 1.00x. torch does not
report to tracemalloc, so its memory is 'n/a'. Nothing here is asserted: see benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import platform
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import scipy
import scipy.special as sp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

cl = importlib.import_module("course_lib.softmax")  # the module, however course_lib re-exports

try:
    import torch
except ImportError:  # torch is optional
    torch = None


# --------------------------------------------------------------------------- measuring


def median_time(fn, repeat, warmup):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def peak_extra_bytes(fn):
    """Peak traced memory during one call of ``fn``, minus what was traced before it."""
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        result = fn()
        _, peak = tracemalloc.get_traced_memory()
        del result
    finally:
        tracemalloc.stop()
    return max(0, peak - base)


# --------------------------------------------------------------------------- cases


def make_cases(size):
    rng = np.random.default_rng(0)
    z64 = rng.normal(scale=3.0, size=(size, size))
    z32 = z64.astype(np.float32)
    buf = np.empty_like(z64)
    t64 = torch.from_numpy(z64) if torch is not None else None
    t32 = torch.from_numpy(z32) if torch is not None else None
    # (label, input, course_lib call, scipy call, torch call or None, note)
    return [
        ("softmax axis=-1 f64 *", z64,
         lambda: cl.softmax(z64, axis=-1),
         lambda: sp.softmax(z64, axis=-1),
         (lambda: torch.softmax(t64, dim=-1)) if torch else None, ""),
        ("softmax out= f64", z64,
         lambda: cl.softmax(z64, axis=-1, out=buf),
         lambda: sp.softmax(z64, axis=-1),
         (lambda: torch.softmax(t64, dim=-1)) if torch else None,
         "scipy/torch have no out=: they allocate"),
        ("softmax axis=0 f64", z64,
         lambda: cl.softmax(z64, axis=0),
         lambda: sp.softmax(z64, axis=0),
         (lambda: torch.softmax(t64, dim=0)) if torch else None, ""),
        ("softmax axis=-1 f32", z32,
         lambda: cl.softmax(z32, axis=-1),
         lambda: sp.softmax(z32, axis=-1),
         (lambda: torch.softmax(t32, dim=-1)) if torch else None, ""),
        ("log_softmax axis=-1 f64", z64,
         lambda: cl.log_softmax(z64, axis=-1),
         lambda: sp.log_softmax(z64, axis=-1),
         (lambda: torch.log_softmax(t64, dim=-1)) if torch else None, ""),
        ("logsumexp axis=-1 f64", z64,
         lambda: cl.logsumexp(z64, axis=-1),
         lambda: sp.logsumexp(z64, axis=-1),
         (lambda: torch.logsumexp(t64, dim=-1)) if torch else None,
         "output is 1/size of the input"),
    ]


# --------------------------------------------------------------------------- output


def fmt_ms(t):
    return f"{t * 1e3:8.2f}" if t is not None else f"{'n/a':>8}"


def fmt_x(r, width=7):
    return f"{r:{width - 1}.2f}x" if r is not None else f"{'n/a':>{width}}"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=None,
                    help="timed calls per measurement (default 21, or 5 with --quick)")
    ap.add_argument("--quick", action="store_true", help="few repeats, one warm-up call")
    ap.add_argument("--size", type=int, default=1000, help="inputs are size x size (1000)")
    ap.add_argument("--torch-threads", type=int, default=1,
                    help="torch intra-op threads (default 1, like numpy and scipy)")
    args = ap.parse_args(argv)
    repeat = args.repeat or (5 if args.quick else 21)
    warmup = 1 if args.quick else 3
    if repeat < 1 or args.size < 1:
        ap.error("--repeat and --size must be positive")

    n = args.size
    torch_desc = "not installed"
    if torch is not None:
        torch.set_num_threads(max(1, args.torch_threads))
        nt = torch.get_num_threads()
        torch_desc = f"{torch.__version__} ({nt} thread{'s' if nt != 1 else ''})"
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    print(f"softmax benchmark: {n}x{n} inputs, median of {repeat} calls after {warmup} "
          f"warm-up call(s)")
    print(f"python {platform.python_version()} | numpy {np.__version__} | "
          f"scipy {scipy.__version__} | torch {torch_desc} | "
          f"CPUs {os.cpu_count()} ({usable} usable) | {platform.machine()}")
    print()

    cases = make_cases(n)
    # warm every call up once before timing any: the allocator settles (glibc raises its mmap
    # threshold after the first large free), so the case timed first is not penalised
    for _, z, *calls, _ in cases:
        for f in [lambda: np.exp(z), lambda: z.copy(), *calls]:
            if f is not None:
                for _ in range(warmup):
                    f()
    rows = []
    baselines = {}
    for label, z, f_cl, f_sp, f_t, note in cases:
        key = z.dtype.str
        if key not in baselines:
            baselines[key] = (
                median_time(lambda: np.exp(z), repeat, warmup),
                median_time(lambda: z.copy(), repeat, warmup),
                peak_extra_bytes(lambda: np.exp(z)) / z.nbytes,
                peak_extra_bytes(lambda: z.copy()) / z.nbytes,
            )
        t_exp, t_copy, m_exp, m_copy = baselines[key]
        t_cl = median_time(f_cl, repeat, warmup)
        t_sp = median_time(f_sp, repeat, warmup)
        t_t = median_time(f_t, repeat, warmup) if f_t else None
        m_cl = peak_extra_bytes(f_cl) / z.nbytes
        m_sp = peak_extra_bytes(f_sp) / z.nbytes
        rows.append(dict(label=label, note=note, t_cl=t_cl, t_sp=t_sp, t_t=t_t, t_exp=t_exp,
                         t_copy=t_copy, m_cl=m_cl, m_sp=m_sp, m_exp=m_exp, m_copy=m_copy))

    w = max(len(r["label"]) for r in rows) + 2
    print("TIME  (ms, median; ratios are course_lib's time divided by the other's)")
    head = (f"{'case':<{w}}{'course_lib':>10}{'scipy':>9}{'torch':>9}{'np.exp':>9}{'copy':>9}"
            f" | {'/scipy':>7}{'/torch':>7}{'/exp':>7}{'/copy':>7}")
    print(head)
    print("-" * len(head))
    for r in rows:
        print(f"{r['label']:<{w}}{fmt_ms(r['t_cl']):>10}{fmt_ms(r['t_sp']):>9}"
              f"{fmt_ms(r['t_t']):>9}{fmt_ms(r['t_exp']):>9}{fmt_ms(r['t_copy']):>9}"
              f" | {fmt_x(r['t_cl'] / r['t_sp'])}"
              f"{fmt_x(r['t_cl'] / r['t_t'] if r['t_t'] else None)}"
              f"{fmt_x(r['t_cl'] / r['t_exp'])}{fmt_x(r['t_cl'] / r['t_copy'])}")
    print()
    print("PEAK EXTRA MEMORY  (x the input's nbytes; the result array itself counts)")
    head = (f"{'case':<{w}}{'course_lib':>11}{'scipy':>8}{'torch':>8}{'np.exp':>8}{'copy':>8}"
            f"  note")
    print(head)
    print("-" * len(head))
    for r in rows:
        print(f"{r['label']:<{w}}{fmt_x(r['m_cl'], 11)}{fmt_x(r['m_sp'], 8)}{'n/a':>8}"
              f"{fmt_x(r['m_exp'], 8)}{fmt_x(r['m_copy'], 8)}  {r['note']}")
    print()
    h = rows[0]
    print(f"* headline, softmax(z, axis=-1) on {n}x{n} float64: "
          f"{h['t_cl'] / h['t_sp']:.2f}x scipy's time, {h['t_cl'] / h['t_exp']:.2f}x one "
          f"np.exp pass, peak memory {h['m_cl']:.2f}x the input (scipy {h['m_sp']:.2f}x)")
    print("  measured, not asserted; timings vary run to run by several percent")


if __name__ == "__main__":
    main()
