"""Property-based tests (Hypothesis) for ``course_lib.softmax``.

Inputs are finite logits with |z| <= 1e3 in float64 and float32, of several shapes.  Every
tolerance below is derived from the rounding that the compared computations can legitimately
differ by (see the comment at each one), so every assertion can fail for a wrong implementation.
The Hypothesis profile (derandomized, no deadline) is set in ``conftest.py``.
"""

import math

import numpy as np
import pytest
from hypothesis import assume, example, given, strategies as st
from hypothesis.extra import numpy as hnp

from course_lib.softmax import (
    entropy,
    log_softmax,
    logsumexp,
    masked_softmax,
    online_softmax,
    softmax,
)

BOUND = 1e3
FLOAT_DTYPES = [np.float64, np.float32]


# --------------------------------------------------------------------------- helpers


def _ordered(a):
    """Map floats to integers whose order and differences count ULPs."""
    a = np.asarray(a)
    itype = {2: np.int16, 4: np.int32, 8: np.int64}[a.dtype.itemsize]
    i = a.view(itype).astype(object)
    sign_mask = (1 << (8 * a.dtype.itemsize - 1)) - 1
    return np.where(i < 0, -(i & sign_mask), i)


def max_ulp(a, b):
    """Largest ULP distance between equal-shaped float arrays of one dtype (nan==nan is 0)."""
    a = np.asarray(a)
    b = np.asarray(b)
    assert a.dtype == b.dtype and a.shape == b.shape, (a.dtype, b.dtype, a.shape, b.shape)
    if a.size == 0:
        return 0
    both_nan = np.isnan(a) & np.isnan(b)
    if np.any(np.isnan(a) != np.isnan(b)):
        return math.inf
    d = np.abs(_ordered(a) - _ordered(b))
    d = np.where(both_nan, 0, d)
    return int(np.max(d))


def assert_ulp(actual, desired, maxulp):
    d = max_ulp(actual, desired)
    assert d <= maxulp, f"{d} ULP apart (allowed {maxulp})\nactual={actual!r}\ndesired={desired!r}"


def sum_ulps(n):
    """ULPs a float sum of n positive terms may be off in numpy's pairwise summation.

    numpy adds blocks of <= 128 terms with 8 running accumulators (<= 16 terms each), then
    combines blocks pairwise: a relative error of about (16 + 3 + log2(n / 128)) eps, i.e. up
    to twice that in ULPs; counted for each of the two sums being compared.
    """
    k = min(n, 128) // 8 + 4 + max(0, math.ceil(math.log2(max(n, 1) / 128)))
    return 2 * 2 * k


def eps(dtype):
    return float(np.finfo(dtype).eps)


def tiny(dtype):
    return float(np.finfo(dtype).tiny)


@st.composite
def logits(draw, dtypes=FLOAT_DTYPES, min_dims=1, max_dims=3, min_side=1, max_side=6,
           bound=BOUND, integer_valued=False):
    dtype = draw(st.sampled_from(dtypes))
    shape = draw(hnp.array_shapes(min_dims=min_dims, max_dims=max_dims,
                                  min_side=min_side, max_side=max_side))
    if integer_valued:
        elements = st.integers(-int(bound), int(bound)).map(float)
    else:
        width = 32 if dtype == np.float32 else 64
        elements = st.floats(-bound, bound, allow_nan=False, allow_infinity=False,
                             allow_subnormal=False, width=width)
    return draw(hnp.arrays(dtype, shape, elements=elements))


def axis_for(draw, z):
    return draw(st.integers(-z.ndim, z.ndim - 1))


# --------------------------------------------------------------------------- basic laws


@given(data=st.data(), z=logits())
def test_sums_to_one_and_in_unit_interval(data, z):
    axis = axis_for(data.draw, z)
    p = softmax(z, axis=axis)
    assert p.dtype == z.dtype and p.shape == z.shape
    assert np.all(p >= 0) and np.all(p <= 1)
    # each p_i carries ~2 ULP of rounding; their sum is off by at most ~(n + 2) eps
    n = z.shape[axis]
    s = np.sum(p.astype(np.float64), axis=axis)
    np.testing.assert_allclose(s, 1.0, rtol=0, atol=(n + 3) * eps(z.dtype))
    # the argmax of each slice keeps a probability >= 1/n
    assert np.all(np.max(p, axis=axis) >= (1 - 4 * eps(z.dtype)) / n)


@given(z=logits(), c=st.integers(-10_000, 10_000))
@example(z=np.array([-541.0, 0.0, 0.0, 0.0]), c=112)
def test_shift_invariance_exact_arithmetic(z, c):
    # integer-valued logits and shift: z + c is exact, so z + c - max(z + c) == z - max(z)
    # exactly and softmax must agree to the last bits. Each result is rounded by exp, the sum,
    # the reciprocal and the product (up to about 2 ULP, and the two need not take the same
    # path), so they may lie up to 4 ULP apart: [-541, 0, 0, 0] and c = 112 are 3 apart.
    z = np.round(z)
    p = softmax(z, axis=-1)
    q = softmax(z + z.dtype.type(c), axis=-1)
    assert_ulp(q, p, 4)


@given(z=logits(dtypes=[np.float64]), c=st.floats(-1e3, 1e3, allow_nan=False))
def test_shift_invariance_float_shift(z, c):
    # z + c rounds: each logit moves by <= eps*(|z| + |c|), so the exponent of every p_i
    # can move by twice that; the relative change of p_i is bounded by ~4*eps*(|z|+|c|+1).
    p = softmax(z)
    q = softmax(z + c)
    rtol = 8 * eps(np.float64) * (np.max(np.abs(z)) + abs(c) + 1)
    np.testing.assert_allclose(q, p, rtol=rtol, atol=1e-300)


@given(data=st.data(), z=logits(min_dims=2))
def test_permuting_other_axes_is_exact(data, z):
    # softmax along axis -1: shuffling the *rows* must shuffle the result bit for bit
    perm = data.draw(st.permutations(range(z.shape[0])))
    p = softmax(z, axis=-1)
    q = softmax(z[list(perm)], axis=-1)
    np.testing.assert_array_equal(q, p[list(perm)])


@given(data=st.data(), z=logits(max_dims=2, max_side=12))
def test_permutation_equivariance_along_axis(data, z):
    # permuting *within* the softmax axis permutes the output; the only freedom is the
    # summation order of the normaliser (a few ULP for <= 12 terms).
    perm = list(data.draw(st.permutations(range(z.shape[-1]))))
    p = softmax(z, axis=-1)
    q = softmax(z[..., perm], axis=-1)
    assert_ulp(q, p[..., perm], 8)


@given(z=logits(max_dims=1, max_side=12))
def test_order_preserved(z):
    p = softmax(z)
    n = z.shape[0]
    zi, zj = np.broadcast_to(z[:, None], (n, n)), np.broadcast_to(z[None, :], (n, n))
    pi, pj = np.broadcast_to(p[:, None], (n, n)), np.broadcast_to(p[None, :], (n, n))
    assert np.all(pi[zi < zj] <= pj[zi < zj])
    assert np.all(pi[zi == zj] == pj[zi == zj])
    # the largest logit gets the largest probability (distinct logits may round to equal p)
    assert p[np.argmax(z)] == np.max(p)


@given(a=st.floats(-30, 30, allow_nan=False))
def test_two_classes_is_the_sigmoid(a):
    from scipy.special import expit

    p = softmax([a, 0.0])
    np.testing.assert_allclose(p[0], expit(a), rtol=4 * eps(np.float64))
    np.testing.assert_allclose(p[1], expit(-a), rtol=4 * eps(np.float64))


# --------------------------------------------------------------------------- temperature


@given(z=logits(dtypes=[np.float64]), tau=st.floats(0.05, 20))
def test_temperature_is_division(z, tau):
    # spec: softmax(z, temperature=t) == softmax(z / t).  Implementations may divide before or
    # after subtracting the max, so the exponent can differ by ~eps*|z/t| -> relative error.
    p = softmax(z, temperature=tau)
    q = softmax(z / tau)
    rtol = 8 * eps(np.float64) * (np.max(np.abs(z)) / tau + 1)
    np.testing.assert_allclose(p, q, rtol=rtol, atol=1e-300)
    lp = log_softmax(z, temperature=tau)
    lq = log_softmax(z / tau)
    np.testing.assert_allclose(lp, lq, rtol=rtol, atol=rtol)


@given(z=logits(max_dims=1, min_side=2, max_side=8))
@example(z=np.array([0.875, -121.0]))  # the winner comes out 1 - 2**-53
def test_small_temperature_is_one_hot(z):
    srt = np.sort(z.astype(np.float64))
    margin = srt[-1] - srt[-2]
    assume(margin >= 1e-2)
    tau = margin / 2000.0  # the runner-up's weight is exp(-2000) == 0 in any float type
    p = softmax(z, temperature=tau)
    expected = np.zeros_like(z)
    expected[np.argmax(z)] = 1
    # the others are exactly 0; the winner is 1 to one unit in the last place, since softmax
    # scales by the reciprocal of the sum (a division would cost about 15 % of its time)
    np.testing.assert_array_max_ulp(p, expected, maxulp=1)


@given(z=logits())
def test_huge_temperature_is_uniform(z):
    tau = 1e12 * (float(np.max(np.abs(z))) + 1)
    p = softmax(z, axis=-1, temperature=tau)
    n = z.shape[-1]
    np.testing.assert_allclose(p, 1.0 / n, rtol=8 * eps(z.dtype) * n + 1e-11)


@given(z=logits(max_dims=1, min_side=2, max_side=10),
       taus=st.lists(st.floats(0.01, 100), min_size=2, max_size=6, unique=True))
def test_entropy_nondecreasing_in_temperature(z, taus):
    taus = sorted(taus)
    h = [float(entropy(softmax(z, temperature=t))) for t in taus]
    slack = 1e-12 if z.dtype == np.float64 else 1e-5
    n = z.shape[0]
    for a, b in zip(h, h[1:]):
        assert b >= a - slack, (taus, h)
    assert all(-slack <= x <= math.log(n) + slack for x in h)


# --------------------------------------------------------------------------- log-space


@given(data=st.data(), z=logits())
def test_log_softmax_is_log_of_softmax(data, z):
    axis = axis_for(data.draw, z)
    lp = log_softmax(z, axis=axis)
    p = softmax(z, axis=axis)
    assert lp.dtype == z.dtype and lp.shape == z.shape
    assert np.all(lp <= 0)
    ok = p >= tiny(z.dtype)  # below that, p is subnormal (or 0) and log(p) is inaccurate
    ref = np.log(p[ok].astype(np.float64))
    # both sides carry a few rounding errors each relative to (1 + |value|)
    e = eps(z.dtype)
    np.testing.assert_allclose(lp[ok].astype(np.float64), ref, rtol=8 * e, atol=8 * e)
    # where p underflows, log_softmax must still be finite and very negative
    assert np.all(np.isfinite(lp))


@given(data=st.data(), z=logits(integer_valued=True), c=st.integers(-10_000, 10_000))
def test_logsumexp_shift(data, z, c):
    axis = axis_for(data.draw, z)
    a = logsumexp(z, axis=axis)
    b = logsumexp(z + z.dtype.type(c), axis=axis)
    assert np.asarray(a).dtype == z.dtype
    e = eps(z.dtype)
    scale = np.abs(np.asarray(a, np.float64)) + abs(c) + 1
    np.testing.assert_allclose(np.asarray(b, np.float64), np.asarray(a, np.float64) + c,
                               rtol=0, atol=4 * e * np.max(scale))


@given(data=st.data(), z=logits())
def test_logsumexp_bounds(data, z):
    axis = axis_for(data.draw, z)
    lse = np.asarray(logsumexp(z, axis=axis), np.float64)
    m = np.max(z, axis=axis).astype(np.float64)
    n = z.shape[axis]
    e = eps(z.dtype)
    assert np.all(lse >= m - 2 * e * np.abs(m))
    assert np.all(lse <= m + math.log(n) + 4 * e * (np.abs(m) + math.log(n) + 1))


@given(data=st.data(), z=logits())
def test_logsumexp_keepdims_and_against_log_softmax(data, z):
    axis = axis_for(data.draw, z)
    lse = logsumexp(z, axis=axis, keepdims=True)
    assert lse.shape == tuple(1 if i == axis % z.ndim else s for i, s in enumerate(z.shape))
    # z - logsumexp(z) is log_softmax(z)
    e = eps(z.dtype)
    ref = z.astype(np.float64) - lse.astype(np.float64)
    scale = 1 + np.abs(z.astype(np.float64)) + np.abs(lse.astype(np.float64))
    diff = np.abs(log_softmax(z, axis=axis).astype(np.float64) - ref)
    assert np.all(diff <= 8 * e * scale)


# --------------------------------------------------------------------------- entropy


@given(data=st.data(), z=logits())
def test_entropy_range(data, z):
    axis = axis_for(data.draw, z)
    p = softmax(z, axis=axis)
    h = np.asarray(entropy(p, axis=axis), np.float64)
    n = z.shape[axis]
    slack = 16 * eps(z.dtype) * (1 + math.log(n))
    assert np.all(h >= -slack) and np.all(h <= math.log(n) + slack)
    # compare with an independent float64 evaluation of -sum p log p
    p64 = p.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        ref = -np.sum(np.where(p64 > 0, p64 * np.log(np.where(p64 > 0, p64, 1)), 0), axis=axis)
    np.testing.assert_allclose(h, ref, rtol=16 * eps(z.dtype), atol=16 * eps(z.dtype) * n)


@given(n=st.integers(1, 300))
def test_entropy_uniform_and_one_hot(n):
    np.testing.assert_allclose(entropy(np.full(n, 1.0 / n)), math.log(n), rtol=1e-13, atol=1e-15)
    onehot = np.zeros(n)
    onehot[n // 2] = 1.0
    assert entropy(onehot) == 0.0


# --------------------------------------------------------------------------- masked / online


@given(data=st.data(), z=logits())
def test_masked_all_true_equals_softmax(data, z):
    axis = axis_for(data.draw, z)
    got = masked_softmax(z, np.ones(z.shape, bool), axis=axis)
    assert got.dtype == z.dtype
    assert_ulp(got, softmax(z, axis=axis), 4)


@given(data=st.data(), z=logits(dtypes=[np.float64], max_dims=1, max_side=10))
def test_masked_equals_softmax_of_kept_entries(data, z):
    mask = data.draw(hnp.arrays(bool, z.shape))
    got = masked_softmax(z, mask)
    assert np.all(got[~mask] == 0)
    if mask.any():
        # the zeros of the masked-out entries may be summed in a different order
        assert_ulp(got[mask], softmax(z[mask]), 8)
    else:
        np.testing.assert_array_equal(got, np.zeros_like(z))


@st.composite
def long_logits(draw):
    dtype = draw(st.sampled_from(FLOAT_DTYPES))
    n = draw(st.integers(1, 700))
    rows = draw(st.integers(1, 3))
    width = 32 if dtype == np.float32 else 64
    scale = draw(st.sampled_from([1.0, 30.0, BOUND]))
    elements = st.floats(-scale, scale, allow_nan=False, allow_subnormal=False, width=width)
    return draw(hnp.arrays(dtype, (rows, n), elements=elements))


@given(z=long_logits(), block_size=st.sampled_from([128, 200, 256, 1000]),
       sort=st.sampled_from([None, "up", "down"]))
def test_online_equals_softmax_large_blocks(z, block_size, sort):
    # sorted inputs force the running max to change in every block (the worst case)
    if sort:
        z = np.sort(z, axis=-1)
        if sort == "down":
            z = z[:, ::-1].copy()
    got = online_softmax(z, axis=-1, block_size=block_size)
    assert got.dtype == z.dtype and got.shape == z.shape
    # 8 ULP (the spec) plus the rounding of softmax's own normaliser: numpy's pairwise sum
    # runs 8 serial accumulators, so many equal small terms added to a large one round the
    # same way (softmax([27.5] + [6.1e-5] * 126) is 13 ULP from the exact value, scipy's 16),
    # while online_softmax keeps its sum in long double (within 1 ULP there; see
    # test_softmax_accuracy.py). A wrong rescaling is off by orders of magnitude more.
    assert_ulp(got, softmax(z, axis=-1), 8 + sum_ulps(z.shape[-1]))


@given(z=long_logits(), block_size=st.sampled_from([1, 2, 3, 7, 64]),
       ascending=st.booleans())
def test_online_equals_softmax_small_blocks(z, block_size, ascending):
    if ascending:  # every block raises the running max: one extra rescale per block
        z = np.sort(z, axis=-1)
    got = online_softmax(z, axis=-1, block_size=block_size)
    assert got.dtype == z.dtype
    # each rescaling of the running sum costs ~1 ULP: allow 8 plus 2 per block
    n_blocks = -(-z.shape[-1] // block_size)
    assert_ulp(got, softmax(z, axis=-1), 8 + 2 * n_blocks)


@given(data=st.data(), z=logits(min_dims=2, max_side=5),
       block_size=st.sampled_from([1, 3, 128]))
def test_online_any_axis(data, z, block_size):
    axis = axis_for(data.draw, z)
    got = online_softmax(z, axis=axis, block_size=block_size)
    n_blocks = -(-z.shape[axis] // block_size)
    assert_ulp(got, softmax(z, axis=axis), 8 + 2 * n_blocks)


# --------------------------------------------------------------------------- axis tuples / None


@given(z=logits(min_dims=3, max_dims=3, max_side=5))
def test_axis_tuple_equals_reshaped(z):
    a, b, c = z.shape
    ref = softmax(z.reshape(a * b, c), axis=0).reshape(a, b, c)
    e = eps(z.dtype)
    n = a * b
    for axis in [(0, 1), (1, 0), (0, -2), (-3, -2)]:
        got = softmax(z, axis=axis)
        assert got.shape == z.shape and got.dtype == z.dtype
        # only the summation order of the normaliser may differ
        np.testing.assert_allclose(got, ref, rtol=4 * (n + 2) * e, atol=0)
    np.testing.assert_allclose(np.sum(got.astype(np.float64), axis=(0, 1)), 1,
                               atol=(n + 3) * e)
    lse = logsumexp(z, axis=(0, 1))
    np.testing.assert_allclose(lse, logsumexp(z.reshape(a * b, c), axis=0),
                               rtol=4 * (n + 2) * e, atol=4 * (n + 2) * e)


@given(z=logits(min_dims=1, max_dims=3, max_side=5))
def test_axis_none_is_whole_array(z):
    e = eps(z.dtype)
    n = z.size
    got = softmax(z, axis=None)
    ref = softmax(z.ravel()).reshape(z.shape)
    assert got.shape == z.shape
    np.testing.assert_allclose(got, ref, rtol=4 * (n + 2) * e, atol=0)
    np.testing.assert_allclose(log_softmax(z, axis=None), log_softmax(z.ravel()).reshape(z.shape),
                               rtol=8 * e, atol=8 * e * (n + 2))
    lse = logsumexp(z, axis=None)
    assert np.ndim(lse) == 0
    np.testing.assert_allclose(lse, logsumexp(z.ravel()), rtol=4 * (n + 2) * e,
                               atol=4 * (n + 2) * e)


# --------------------------------------------------------------------------- accuracy vs mpmath


@pytest.mark.parametrize("precise", [False, True])
@given(z=logits(dtypes=[np.float64], max_dims=1, max_side=8, bound=50))
def test_accuracy_against_mpmath(z, precise):
    import mpmath

    mpmath.mp.prec = 200
    m = max(mpmath.mpf(float(v)) for v in z)
    ex = [mpmath.exp(mpmath.mpf(float(v)) - m) for v in z]
    s = mpmath.fsum(ex)
    exact = np.array([float(v / s) for v in ex])
    got = softmax(z, precise=precise)
    assert got.dtype == np.float64
    # forward error of the max trick: rounding z - max perturbs the exponent by
    # eps*|z - max| (relative error of exp), plus a few ULP for exp, sum and division
    spread = float(np.max(z) - np.min(z))
    rtol = eps(np.float64) * (8 + 2 * spread)
    np.testing.assert_allclose(got, exact, rtol=rtol, atol=1e-300)
