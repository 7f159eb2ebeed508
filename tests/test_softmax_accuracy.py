"""Accuracy of course_lib.softmax against mpmath (50 digits): the promises hold on any np.exp.

numpy's ``exp`` and ``log1p`` are not correctly rounded everywhere, and their error differs
between numpy's SIMD kernels (AVX2, AVX-512) and the C library's scalar functions. Each limit
here is therefore a promise stated for an ``exp`` and ``log1p`` within ``u`` ULP (the formulas
and their derivation are in ``tests/accuracy.py``), checked with ``u`` measured on this
machine's own functions; ``test_this_machines_exp_and_log1p_meet_the_portable_assumption``
checks that this ``u`` is within what the course assumes of every machine (``PORTABLE_U``), so
the portable promise holds wherever that test passes (where it fails, that one test says so and
the others check the promise scaled to the machine's own ``u``). scipy's figure on the same input is
asserted too where the goal is "better than scipy", so a test shows the defect it beats.
``benchmarks/accuracy_report.py`` prints the promises next to what this machine achieves;
``.ci/emulated-machine`` runs this file with numpy's AVX2/AVX-512 kernels switched off.
"""

import functools

import mpmath
import numpy as np
import pytest
import scipy.special as sp

from accuracy import (
    PORTABLE_U,
    elementary_errors,
    log_softmax_limit,
    logsumexp_row_limits,
    max_ulp_error,
    online_softmax_limit,
    reference,
    softmax_limit,
    spread_sets,
    stress_sets,
    ulp_error,
    ulp_errors,
    well_conditioned_lse,
)
import course_lib.softmax as sm
from course_lib.softmax import log_softmax, logsumexp, online_softmax, softmax

STRESS = {dt: stress_sets(dt) for dt in (np.float64, np.float32)}
CASES = [(dt, name) for dt in STRESS for name in STRESS[dt]]
_REF = {}


def ref(key, z, axis=-1):
    if key not in _REF:
        _REF[key] = reference(z, axis)
    return _REF[key]


@functools.cache
def machine_u(dtype=np.float64):
    """This machine's np.exp and np.log1p errors in ULP (a seeded sample against mpmath)."""
    return elementary_errors(dtype)


def test_this_machines_exp_and_log1p_meet_the_portable_assumption(record_property):
    for dtype in (np.float64, np.float32):
        u = machine_u(dtype)
        record_property(f"u_{np.dtype(dtype).name}", u)
        assumed = PORTABLE_U[np.dtype(dtype)]
        assert u["exp"] <= assumed, (
            f"this machine's np.exp({np.dtype(dtype).name}) is off by {u['exp']:.2f} ULP, more "
            f"than the {assumed} the accuracy promises assume: they are scaled to it here")
    assert machine_u(np.float64)["log1p"] <= PORTABLE_U[np.dtype(np.float64)]


def test_the_measurement_sees_an_exp_one_ulp_off():
    # the measured u scales every promise here: it must not hide an exp that is worse
    rng = np.random.default_rng(1)
    x = rng.uniform(-30, 30, 500)
    assert max_ulp_error(np.exp, mpmath.exp, x) <= PORTABLE_U[np.dtype(np.float64)]
    assert max_ulp_error(lambda v: np.nextafter(np.exp(v), np.inf), mpmath.exp, x) > 1.0


def log_limits(log_path):
    """(u_exp, u_log1p) for a log-domain path: the long-double path takes log1p in long double."""
    u = machine_u(np.float64)
    return u["exp"], (0.0 if log_path == "long-double path" else u["log1p"])


@pytest.fixture(params=["long-double path", "compensated kernel"])
def log_path(request, monkeypatch):
    """Run a log-domain test through both paths: where long double is 80-bit (x86 Linux),
    float64 rows take the long-double path; elsewhere, and for other rows, the kernel."""
    if request.param == "compensated kernel":
        monkeypatch.setattr(sm, "_EXTENDED", False)
    elif not sm._EXTENDED:
        pytest.skip("this platform's long double is plain double: only the kernel runs here")
    return request.param


def _u_exp(dtype):
    return machine_u(np.dtype(dtype) if dtype != np.float16 else np.float32)["exp"]


PROBABILITIES = {  # function, limit in ULP for an exp within u ULP
    "softmax": (softmax, softmax_limit),
    "softmax precise": (lambda z: softmax(z, precise=True), softmax_limit),
    "online_softmax": (online_softmax, online_softmax_limit),
    "online_softmax block 3": (lambda z: online_softmax(z, block_size=3), online_softmax_limit),
}


@pytest.mark.parametrize("fn", list(PROBABILITIES))
@pytest.mark.parametrize("dtype,name", CASES, ids=[f"{d.__name__}-{n}" for d, n in CASES])
def test_probabilities_within_their_promise(dtype, name, fn):
    f, limit = PROBABILITIES[fn]
    z = STRESS[dtype][name]
    p, _, _ = ref((dtype, name), z)
    with np.errstate(all="raise"):
        assert ulp_error(f(z), p) <= limit(_u_exp(dtype))


@pytest.mark.parametrize("dtype,name", CASES, ids=[f"{d.__name__}-{n}" for d, n in CASES])
def test_log_softmax_within_its_promise(dtype, name, log_path):
    z = STRESS[dtype][name]
    _, lp, _ = ref((dtype, name), z)
    # float32 is computed in float64: its own rounding, and float64's error 2^29 times smaller
    limit = log_softmax_limit(*log_limits(log_path)) if dtype == np.float64 else 0.501
    with np.errstate(all="raise"):
        assert ulp_error(log_softmax(z), lp) <= limit


@pytest.mark.parametrize("dtype,name", CASES, ids=[f"{d.__name__}-{n}" for d, n in CASES])
def test_logsumexp_within_its_promise(dtype, name, log_path):
    z = STRESS[dtype][name]
    (p_hi, _), _, (hi, lo) = ref((dtype, name), z)
    ok = well_conditioned_lse(z, p_hi, hi)
    assert ok.mean() > 0.5  # the filter keeps most rows: it must not hide the test
    with np.errstate(all="raise"):
        got = logsumexp(z)
    err = ulp_errors(got[ok], (hi[ok], lo[ok]))
    if dtype == np.float64:
        limits = logsumexp_row_limits(z, hi, *log_limits(log_path))[ok]
        assert np.all(err <= limits), f"worst row: {err.max():.2f} ULP, limit {limits[err.argmax()]:.2f}"
        # the portable promise, stated in the docstring for well-conditioned rows
        assert np.all(err <= logsumexp_row_limits(z, hi, 1.0, 1.0)[ok])
        assert np.all(logsumexp_row_limits(z, hi, 1.0, 1.0)[ok] <= 0.5 + 4 * (3 + np.log2(z.shape[-1]) / 2))
    else:
        assert err.max() <= 0.501


def test_dominant_logit_log_softmax_is_not_rounded_to_zero(log_path):
    # scipy returns exactly 0 here (relative error 1); the true value is about -1.9e-22
    z = np.array([0.0, -50.0])
    _, (hi, lo), _ = reference(z)
    assert sp.log_softmax(z)[0] == 0.0
    assert log_softmax(z)[0] < 0
    assert ulp_error(log_softmax(z), (hi, lo)) <= log_softmax_limit(*log_limits(log_path))


@pytest.mark.parametrize("name", list(spread_sets()))
def test_spread_logits_default_never_worse_than_scipy_and_precise_within_its_promise(name, log_path):
    z = spread_sets()[name]
    p, lp, _ = ref(("spread", name), z)
    ours, theirs = ulp_error(softmax(z), p), ulp_error(sp.softmax(z, axis=-1), p)
    assert ours <= theirs * 1.01 + 1
    assert ulp_error(softmax(z, precise=True), p) <= softmax_limit(_u_exp(np.float64))
    assert ulp_error(log_softmax(z), lp) <= log_softmax_limit(*log_limits(log_path))


def test_spread_logits_beyond_exp_range_show_the_defect_precise_fixes():
    z = spread_sets()["spread 300..1100"]
    p, _, _ = ref(("spread", "spread 300..1100"), z)
    assert ulp_error(sp.softmax(z, axis=-1), p) > 100  # the rounding of z - max(z)
    assert ulp_error(softmax(z, precise=True), p) <= softmax_limit(_u_exp(np.float64))


def test_axis_0_on_long_slices_within_the_promise(log_path):
    # numpy sums a strided axis serially; scipy's error grows with the slice (36 ULP measured);
    # softmax's promise gets 8 ULP more for the blocked sum of 2^17 terms (measured: 2.3)
    rng = np.random.default_rng(5)
    z = rng.standard_normal((2**17, 3))
    p, lp, lse = ref("axis0", z, axis=0)
    assert ulp_error(softmax(z, axis=0), p) <= softmax_limit(_u_exp(np.float64)) + 8
    assert ulp_error(softmax(z, axis=0), p) < ulp_error(sp.softmax(z, axis=0), p)
    assert ulp_error(log_softmax(z, axis=0), lp) <= log_softmax_limit(*log_limits(log_path))
    limits = logsumexp_row_limits(z, lse[0], *log_limits(log_path), axis=0)
    assert np.all(ulp_errors(logsumexp(z, axis=0), lse) <= limits)


def test_float16_is_computed_in_float32_within_1_ulp():
    rng = np.random.default_rng(6)
    z = (3 * rng.standard_normal((200, 30))).astype(np.float16)
    p, lp, _ = reference(z)
    got = softmax(z)
    assert got.dtype == np.float16
    assert ulp_error(got, p) <= 1
    assert ulp_error(log_softmax(z), lp) <= 1
    assert ulp_error(sp.softmax(z, axis=-1), p) > 1  # scipy computes in float16


def test_float16_many_equal_logits_do_not_overflow_the_sum():
    z = np.zeros(65520, dtype=np.float16)
    with np.errstate(all="raise"):
        p = softmax(z)
    assert p.dtype == np.float16
    assert np.all(p == np.float16(1 / 65520))


def test_integer_input_is_converted_before_arithmetic():
    z = np.array([100, -100], dtype=np.int8)
    p, _, _ = reference(z.astype(np.float64))
    assert ulp_error(softmax(z), p) <= softmax_limit(_u_exp(np.float64))


@pytest.mark.parametrize("block_size", [128, 256, 1000])
def test_online_softmax_within_both_promises_of_softmax(block_size):
    rng = np.random.default_rng(7)
    z = rng.standard_normal((50, 3000)) * 4
    z[:, : 2 * block_size] -= np.linspace(0, 30, 2 * block_size)  # maxima arrive late
    u = _u_exp(np.float64)
    limit = softmax_limit(u) + online_softmax_limit(u)   # both against the exact value
    np.testing.assert_array_max_ulp(online_softmax(z, block_size=block_size), softmax(z), limit)


@pytest.mark.parametrize("precise", [False, True])
def test_in_place_equals_out_of_place_on_the_slow_path(precise):
    # logits beyond exp's range take the max-trick kernel, chunk by chunk, in the output's
    # own memory: with out=z each chunk must be read before anything is written over it
    rng = np.random.default_rng(8)
    z = rng.uniform(300, 1100, (64, 1000))
    expected = softmax(z, precise=precise)
    got = softmax(z, out=z, precise=precise)
    assert got is z
    np.testing.assert_array_equal(z, expected)


@pytest.mark.parametrize("n", [43, 127, 1000])
def test_many_equal_small_terms(n):
    # numpy's pairwise sum adds them serially into 8 accumulators, rounding the same way each
    # time, so softmax (like scipy's: 3.9 to 15.8 ULP here) can pass its promise on such input;
    # it stays within 8 ULP more. online_softmax sums in long double (where the platform has
    # it): only exp's error and the division are left
    z = np.array([[27.5] + [6.103515625e-05] * (n - 1)])
    p, _, _ = reference(z)
    assert ulp_error(softmax(z), p) <= softmax_limit(_u_exp(np.float64)) + 8
    if sm._EXTENDED:  # every exp(z_j - m) has the same error: p_j carries it and the division
        assert ulp_error(online_softmax(z), p) <= 0.5 + _u_exp(np.float64)


@pytest.mark.parametrize("block_size", [128, 3])
@pytest.mark.parametrize("name", list(STRESS[np.float64]))
def test_online_softmax_where_long_double_is_double(name, block_size, monkeypatch):
    # Windows (MSVC) and macOS on ARM: np.longdouble is float64, so the running sum is a double,
    # compensated across blocks (without, block_size=3 on K=1000 measured 8.4 ULP)
    monkeypatch.setattr(np, "longdouble", np.float64)
    z = STRESS[np.float64][name]
    p, _, _ = ref((np.float64, name), z)
    got = online_softmax(z, block_size=block_size)
    assert ulp_error(got, p) <= online_softmax_limit(_u_exp(np.float64), extended=False)
