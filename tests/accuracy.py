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


def ulp_error(y, ref):
    """Largest error of ``y`` in ULPs of its own dtype against the pair ``ref = (hi, lo)``."""
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
    if np.any(np.isnan(err)):
        return np.inf
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
