"""Ground truth from mpmath (50 digits) and the seeded stress sets of the accuracy tests.

Used by ``tests/test_softmax_accuracy.py`` and by ``benchmarks/accuracy_report.py``, which prints
the same figures next to scipy's.

An error is measured in ULPs of the output's dtype against the exactly rounded reference:
``|y - ref| / spacing(ref)``, with ``ref`` carried as a double-double so that a result that is
correctly rounded shows at most 0.5.
"""

from __future__ import annotations

import mpmath
import numpy as np

mpmath.mp.dps = 50

_MP_CACHE: dict = {}


def _mp_row(z):
    """mpmath softmax, log_softmax and logsumexp of one finite-or-inf 1-D slice."""
    z = [float(v) for v in z]
    finite = [v for v in z if v != -np.inf]
    if any(np.isnan(v) for v in z) or not finite or any(v == np.inf for v in z):
        raise ValueError("reference rows must be finite or -inf, with one finite entry")
    m = mpmath.mpf(max(finite))
    e = [mpmath.exp(mpmath.mpf(v) - m) if v != -np.inf else mpmath.mpf(0) for v in z]
    k = z.index(max(finite))  # log(1 + t), t the sum without one maximal entry: the
    t = mpmath.fsum(e[:k] + e[k + 1 :])  # dominant logit's log p is -t, far below 1e-50
    s = 1 + t
    logs = mpmath.log1p(t)
    p = [ei / s for ei in e]
    lp = [(mpmath.mpf(v) - m) - logs if v != -np.inf else None for v in z]
    return p, lp, m + logs


def _split(values):
    """mpmath numbers as a (hi, lo) pair of float64 arrays; None means -inf."""
    hi = np.empty(len(values))
    lo = np.zeros(len(values))
    for i, v in enumerate(values):
        if v is None:
            hi[i] = -np.inf
            continue
        h = float(v)
        hi[i] = h
        if np.isfinite(h):
            lo[i] = float(v - mpmath.mpf(h))
    return hi, lo


def reference(z, axis=-1):
    """(p, log_p, lse) references for ``z`` along ``axis`` as double-double pairs."""
    z = np.asarray(z, dtype=np.float64)
    zt = np.moveaxis(z, axis, -1)
    rows = zt.reshape(-1, zt.shape[-1])
    ps, lps, lses = [], [], []
    for row in rows:
        p, lp, lse = _mp_row(row)
        ps.append(_split(p))
        lps.append(_split(lp))
        lses.append(lse)
    p_hi = np.array([a for a, _ in ps]).reshape(zt.shape)
    p_lo = np.array([b for _, b in ps]).reshape(zt.shape)
    l_hi = np.array([a for a, _ in lps]).reshape(zt.shape)
    l_lo = np.array([b for _, b in lps]).reshape(zt.shape)
    s_hi, s_lo = _split(lses)
    return (
        (np.moveaxis(p_hi, -1, axis), np.moveaxis(p_lo, -1, axis)),
        (np.moveaxis(l_hi, -1, axis), np.moveaxis(l_lo, -1, axis)),
        (s_hi.reshape(zt.shape[:-1]), s_lo.reshape(zt.shape[:-1])),
    )


def ulp_errors(y, ref):
    """Error of each entry of ``y`` in ULPs of its own dtype against the pair ``ref = (hi, lo)``."""
    y = np.asarray(y)
    hi, lo = ref
    dtype = y.dtype if y.dtype.kind == "f" else np.dtype(np.float64)
    yf = y.astype(np.float64)
    with np.errstate(all="ignore"):
        r = hi.astype(dtype)  # the reference rounded to the output's dtype
        spacing = np.spacing(np.abs(r)).astype(np.float64)
        err = np.abs((yf - hi) - lo) / spacing
    same = (yf == hi) | (np.isnan(yf) & np.isnan(hi))  # also equal infinities
    err = np.where(same & (lo == 0), 0.0, err)
    return np.where(np.isnan(err), np.inf, err)


def ulp_error(y, ref):
    """Largest error of ``y`` in ULPs of its own dtype against the pair ``ref = (hi, lo)``."""
    err = ulp_errors(y, ref)
    return float(np.max(err)) if err.size else 0.0


def well_conditioned_lse(z, p_hi, lse_hi, axis=-1):
    """Slices where logsumexp is well conditioned: ``sum p_i |z_i| <= 2 |lse|``.

    Elsewhere the result cancels to about 0 and no double-precision ``m + log1p(t)`` can be
    within 1 ULP of it. ``p_hi`` and ``lse_hi`` are the mpmath references of :func:`reference`.
    """
    z = np.asarray(z, dtype=np.float64)
    with np.errstate(all="ignore"):
        weighted = np.where(p_hi > 0, p_hi * np.abs(z), 0.0)
        kappa = np.sum(weighted, axis=axis) / np.abs(lse_hi)
    return kappa <= 2


# --------------------------------------------------------------------------- stress sets


def stress_sets(dtype=np.float64, seed=0):
    """Named, seeded, well-conditioned logit arrays (rows along the last axis)."""
    rng = np.random.default_rng(seed)
    big = 709.0 if dtype == np.float64 else 88.0
    sets = {
        "N(0,1) K=2": rng.standard_normal((200, 2)),
        "N(0,1) K=10": rng.standard_normal((100, 10)),
        "N(0,1) K=1000": rng.standard_normal((8, 1000)),
        "N(0,3) K=100": 3 * rng.standard_normal((40, 100)),
        "near +overflow": big + rng.uniform(-3, 1, (40, 50)),
        "near -overflow": -big - 30 + rng.uniform(-3, 3, (40, 50)),
        "with -inf": np.where(rng.random((60, 40)) < 0.3, -np.inf, rng.standard_normal((60, 40))),
        "dominant logit": np.concatenate(
            [rng.uniform(20, 60, (60, 1)), rng.standard_normal((60, 9))], axis=1
        ),
    }
    for name, z in sets.items():
        z[:, 0] = np.where(np.all(z == -np.inf, axis=1), 0.0, z[:, 0])
        sets[name] = z.astype(dtype)
    return sets


def spread_sets(seed=0):
    """float64 logits spread over hundreds: inside exp's range, and shifted beyond it."""
    rng = np.random.default_rng(seed)
    return {
        "spread +-500": rng.uniform(-500, 500, (60, 20)),
        "spread 300..1100": rng.uniform(300, 1100, (60, 20)),
        "spread -1100..-300": rng.uniform(-1100, -300, (60, 20)),
    }


# --------------------------------------------------------------------------- the promises
#
# course_lib.softmax calls np.exp and np.log1p, and neither is correctly rounded everywhere:
# numpy runs its own SIMD kernels where the CPU has them (AVX2, AVX-512) and the C library's
# functions elsewhere (glibc, Apple's libm, Microsoft's CRT), each with its own error. The
# promises below are therefore stated for an ``np.exp`` and ``np.log1p`` within ``u`` ULP, and
# follow from a first-order error analysis (module docstring of course_lib.softmax):
#
# * portable: ``u = PORTABLE_U[dtype]``, the assumption made of every machine (float64: 1 ULP,
#   faithful rounding, as glibc, Apple's libm, Microsoft's CRT and numpy's SIMD kernels give;
#   float32 exp: 3 ULP, numpy's AVX-512F float32 exp is measured at about 2.1 here);
# * this machine: ``u`` measured by :func:`elementary_errors` on a seeded sample, which is
#   tighter wherever the machine's functions are better than the assumption.

PORTABLE_U = {np.dtype(np.float64): 1.0, np.dtype(np.float32): 3.0}


def max_ulp_error(fn, exact, x):
    """Largest error of ``fn(x)`` in ULPs of ``x``'s dtype against mpmath's ``exact``."""
    y = fn(x)
    worst = 0.0
    for xi, yi in zip(x.tolist(), y.tolist()):
        r = exact(mpmath.mpf(xi))
        rounded = x.dtype.type(float(r))
        spacing = float(np.spacing(np.abs(rounded)))
        worst = max(worst, float(abs(mpmath.mpf(yi) - r)) / spacing)
    return worst


def elementary_errors(dtype=np.float64, n=3000, seed=0):
    """This machine's largest error, in ULPs, of ``np.exp`` and ``np.log1p`` of ``dtype``.

    Measured against mpmath on a seeded sample of the arguments softmax gives them: exp of
    N(0, 3), of [-30, 0] and of the whole range where exp is normal; log1p of [0, 1] and of
    log-uniform values up to 1000 (``t`` is a sum of at most K - 1 terms below 1). A sample
    finds a lower bound of the true maximum, close to it for kernels without rare bad cases.
    """
    dtype = np.dtype(dtype)
    rng = np.random.default_rng(seed)
    hi = float(np.log(np.finfo(dtype).max))
    lo = float(np.log(np.finfo(dtype).tiny))
    x = np.concatenate([3 * rng.standard_normal(n), rng.uniform(-30, 0, n), rng.uniform(lo, hi, n)])
    t = np.concatenate([rng.random(n), np.exp(rng.uniform(np.log(1e-8), np.log(1e3), n))])
    return {"exp": max_ulp_error(np.exp, mpmath.exp, x.astype(dtype)),
            "log1p": max_ulp_error(np.log1p, mpmath.log1p, t.astype(dtype))}


def softmax_limit(u):
    """softmax and softmax(precise=True): ``4 + 4u`` ULP of p.

    ``p_i = e_i / s``: ``e_i`` carries exp's ``u`` ULP, so does every term of ``s``; each is a
    relative error of at most ``2u`` ULP of ``p`` (an ULP is relative to a binade, which spans a
    factor 2). The other 4: rounding ``z - m`` (compensated or absent), the pairwise sum of at
    most 1000 positive terms, the division.
    """
    return 4 + 4 * u


def online_softmax_limit(u, extended=True):
    """online_softmax: ``2 + 2u`` ULP of p with its running sum in 80-bit long double (only
    exp's error, the compensated shift and the final division count). Where long double is
    plain double (Windows, macOS on ARM) the sum is compensated across blocks but each block's
    pairwise sum rounds as softmax's does: then softmax's promise, ``4 + 4u``."""
    return 2 + 2 * u if extended else softmax_limit(u)


def log_softmax_limit(u_exp, u_log1p):
    """log_softmax: ``1 + u_log1p + 2 u_exp`` ULP (float64).

    ``log p_i = d_i - L`` with ``L = log1p(t)`` and ``|log p_i| >= L``: L's error, ``u_log1p``
    ULP of L from log1p and at most ``2 u_exp`` from the relative error of ``t`` (``t / (1 + t)
    <= log1p(t)``), is at most as many ULPs of ``log p_i``; 1 for the two roundings of
    ``(d - L) + err``. On the long-double path log1p is computed in long double: pass 0.
    """
    return 1 + u_log1p + 2 * u_exp


def logsumexp_row_limits(z, lse_hi, u_exp, u_log1p, axis=-1):
    """logsumexp, row by row: ``1/2 + (u_log1p + 2 u_exp + s_K) ulp(L) / ulp(lse)`` ULP.

    ``lse = m + L`` is rounded once (1/2 ULP); ``L = log1p(t)`` carries ``u_log1p`` ULP from
    log1p, ``2 u_exp`` from exp's relative error in ``t``, and ``s_K = log2(K) / 2`` from its
    pairwise sum of K - 1 positive terms. L's ULP can be larger than lse's (when ``m < 0``):
    the ratio of the two spacings, a power of 2, carries it over. On well-conditioned rows
    (:func:`well_conditioned_lse`) ``L <= 3 |lse|``, so the ratio is at most 4.
    """
    z = np.asarray(z, dtype=np.float64)
    m = np.max(z, axis=axis)
    K = np.sum(z > -np.inf, axis=axis)
    with np.errstate(all="ignore"):
        L = lse_hi - m
        ratio = np.spacing(np.abs(L)) / np.spacing(np.abs(lse_hi))
    return 0.5 + (u_log1p + 2 * u_exp + np.log2(np.maximum(K, 1)) / 2) * ratio
