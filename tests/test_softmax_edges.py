"""Edge cases, dtypes, argument validation and no-warning guarantees of ``course_lib.softmax``.

See the course syllabus ("Public API of course_lib") for the contract.  Every test that
feeds a nasty input runs with warnings turned into errors (a RuntimeWarning fails it).
"""

import math
import warnings

import numpy as np
import pytest

import course_lib
from course_lib.softmax import (
    entropy,
    log_softmax,
    logsumexp,
    masked_softmax,
    online_softmax,
    softmax,
)

INF = np.inf
NAN = np.nan

# one-argument views of every function taking logits (mask all-True for masked_softmax)
Z_FUNCS = {
    "softmax": lambda z, **kw: softmax(z, **kw),
    "log_softmax": lambda z, **kw: log_softmax(z, **kw),
    "logsumexp": lambda z, **kw: logsumexp(z, **kw),
    "masked_softmax": lambda z, **kw: masked_softmax(z, np.ones(np.shape(z), bool), **kw),
    "online_softmax": lambda z, **kw: online_softmax(z, **kw),
    "online_softmax_b3": lambda z, **kw: online_softmax(z, block_size=3, **kw),
}
# functions that return probabilities shaped like z
PROB_FUNCS = {k: Z_FUNCS[k] for k in ["softmax", "masked_softmax", "online_softmax",
                                      "online_softmax_b3"]}
SOFTMAX_LIKE = {k: Z_FUNCS[k] for k in ["softmax", "online_softmax", "online_softmax_b3"]}
ALL_FUNCS = dict(Z_FUNCS, entropy=lambda p, **kw: entropy(p, **kw))

pytestmark = pytest.mark.filterwarnings("error")


@pytest.fixture
def no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def ulps(a, b):
    """Largest ULP distance between two float arrays of the same dtype."""
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype
    itype = {2: np.int16, 4: np.int32, 8: np.int64}[a.dtype.itemsize]
    mask = (1 << (8 * a.dtype.itemsize - 1)) - 1

    def ordered(x):
        i = x.view(itype).astype(object)
        return np.where(i < 0, -(i & mask), i)

    return int(np.max(np.abs(ordered(a) - ordered(b)), initial=0))


# =========================================================================== reference values


def test_lesson_01_values():
    np.testing.assert_allclose(softmax([1, 2, 3]), [0.09003057, 0.24472847, 0.66524096],
                               atol=5e-9)


def test_public_names():
    # COURSE.md: the softmax family lives in the module ``course_lib.softmax``; ``import
    # course_lib.softmax`` must give that module (not a function re-exported over it)
    import course_lib.softmax as mod

    assert mod.__name__ == "course_lib.softmax"
    for name in ["softmax", "log_softmax", "logsumexp", "masked_softmax", "online_softmax",
                 "entropy"]:
        assert getattr(mod, name) is globals()[name]
        assert name in getattr(mod, "__all__", [name])
    assert course_lib.__version__


def test_against_scipy_on_a_square_input():
    from scipy import special

    z = np.array([[1.0, -2.0, 0.5], [3.0, 3.0, -1.0], [0.0, 10.0, -7.0]])
    for axis in [0, 1, -1, None]:
        np.testing.assert_allclose(softmax(z, axis=axis), special.softmax(z, axis=axis),
                                   rtol=1e-14)
        np.testing.assert_allclose(log_softmax(z, axis=axis),
                                   special.log_softmax(z, axis=axis), rtol=1e-14, atol=1e-15)
        np.testing.assert_allclose(logsumexp(z, axis=axis), special.logsumexp(z, axis=axis),
                                   rtol=1e-14)


# =========================================================================== axes


SQUARE = np.array([[0.0, 1.0, 2.0], [5.0, -1.0, 0.5], [-3.0, 4.0, 4.0]])


@pytest.mark.parametrize("name", list(SOFTMAX_LIKE) + ["masked_softmax"])
def test_square_axis_not_mixed_up(name):
    f = PROB_FUNCS[name]
    z = SQUARE.copy()
    p0 = f(z, axis=0)
    p1 = f(z, axis=1)
    np.testing.assert_allclose(p0.sum(axis=0), 1, rtol=1e-15, atol=4e-16)
    np.testing.assert_allclose(p1.sum(axis=1), 1, rtol=1e-15, atol=4e-16)
    assert not np.allclose(p0.sum(axis=1), 1)  # would hold only if axes were mixed up
    for j in range(3):
        col = np.exp(z[:, j] - z[:, j].max())
        np.testing.assert_allclose(p0[:, j], col / col.sum(), rtol=1e-14)
        row = np.exp(z[j] - z[j].max())
        np.testing.assert_allclose(p1[j], row / row.sum(), rtol=1e-14)
    np.testing.assert_array_equal(f(z, axis=-1), p1)
    np.testing.assert_array_equal(f(z, axis=-2), p0)


def test_axis0_equals_transpose_trick():
    rng = np.random.default_rng(0)
    z = rng.normal(scale=5, size=(7, 4))
    np.testing.assert_allclose(softmax(z, axis=0), softmax(z.T, axis=1).T, rtol=1e-14)
    np.testing.assert_allclose(log_softmax(z, axis=0), log_softmax(z.T, axis=1).T, rtol=1e-14,
                               atol=1e-14)
    np.testing.assert_allclose(logsumexp(z, axis=0), logsumexp(z.T, axis=1), rtol=1e-14)
    np.testing.assert_allclose(online_softmax(z, axis=0, block_size=3),
                               softmax(z.T, axis=1).T, rtol=1e-14)
    np.testing.assert_allclose(entropy(softmax(z, axis=0), axis=0),
                               entropy(softmax(z.T, axis=1), axis=1), rtol=1e-14)


def test_square_logsumexp_and_entropy_axes():
    z = SQUARE
    for axis in [0, 1]:
        np.testing.assert_allclose(logsumexp(z, axis=axis),
                                   np.log(np.sum(np.exp(z), axis=axis)), rtol=1e-14)
        p = softmax(z, axis=axis)
        np.testing.assert_allclose(entropy(p, axis=axis), -np.sum(p * np.log(p), axis=axis),
                                   rtol=1e-14)


def test_axis_numpy_integer_and_tuple_accepted():
    z = np.arange(24.0).reshape(2, 3, 4) / 7
    np.testing.assert_array_equal(softmax(z, axis=np.int64(1)), softmax(z, axis=1))
    np.testing.assert_array_equal(softmax(z, axis=(2,)), softmax(z, axis=2))
    p = softmax(z, axis=(0, 2))
    np.testing.assert_allclose(p.sum(axis=(0, 2)), 1, rtol=1e-15, atol=1e-15)


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", [0, 1, -1, (0, 2), (2, 0), None])
def test_logsumexp_keepdims_like_numpy(axis, keepdims):
    from scipy import special

    z = np.arange(24.0).reshape(2, 3, 4) / 5
    got = logsumexp(z, axis=axis, keepdims=keepdims)
    ref = special.logsumexp(z, axis=axis, keepdims=keepdims)
    assert np.shape(got) == np.shape(ref) == np.shape(np.sum(z, axis=axis, keepdims=keepdims))
    np.testing.assert_allclose(got, ref, rtol=1e-14)


# =========================================================================== 0-d, lists, empty


@pytest.mark.parametrize("z", [3.0, -1e300, np.float64(2.5), np.array(7.0), 5, True])
def test_zero_d_gives_numpy_scalar(z):
    for f, expected in [(softmax, 1.0), (log_softmax, 0.0), (online_softmax, 1.0)]:
        r = f(z)
        assert isinstance(r, np.floating) and r.dtype == np.float64, (f, type(r))
        assert r == expected
    r = logsumexp(z)
    assert isinstance(r, np.floating) and r == float(z)


@pytest.mark.parametrize("dtype", [np.float16, np.float32])
def test_zero_d_keeps_float_type(dtype):
    assert softmax(dtype(3)).dtype == dtype
    assert isinstance(softmax(dtype(3)), dtype)
    assert logsumexp(dtype(3)).dtype == dtype


def test_lists_and_tuples_accepted():
    ref = softmax(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(softmax([1.0, 2.0, 3.0]), ref)
    np.testing.assert_array_equal(softmax((1.0, 2.0, 3.0)), ref)
    np.testing.assert_array_equal(softmax([[1, 2, 3], [1, 2, 3]]), np.stack([ref, ref]))
    assert ulps(online_softmax((1.0, 2.0, 3.0)), ref) <= 8  # "equal to softmax to a few ULP"
    np.testing.assert_allclose(log_softmax([1.0, 2.0, 3.0]), np.log(ref), rtol=1e-15)
    np.testing.assert_allclose(logsumexp((1.0, 2.0, 3.0)), math.log(sum(math.exp(i)
                                                                           for i in (1, 2, 3))))
    got = masked_softmax([1.0, 5.0, 3.0], [True, False, True])
    np.testing.assert_allclose(got, [softmax([1.0, 3.0])[0], 0, softmax([1.0, 3.0])[1]])
    np.testing.assert_allclose(entropy([0.5, 0.5]), math.log(2), rtol=1e-15)
    np.testing.assert_allclose(entropy((0.25, 0.25, 0.25, 0.25)), math.log(4), rtol=1e-15)
    for r in [softmax([1, 2]), log_softmax((1, 2)), masked_softmax([1, 2], (True, True))]:
        assert isinstance(r, np.ndarray) and r.dtype == np.float64


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
@pytest.mark.parametrize("shape", [(0,), (3, 0), (0, 4), (2, 0, 3)])
def test_empty_arrays(shape, dtype, no_warnings):
    z = np.empty(shape, dtype)
    for name, f in PROB_FUNCS.items():
        r = f(z)
        assert r.shape == shape and r.dtype == dtype, name
    r = log_softmax(z)
    assert r.shape == shape and r.dtype == dtype
    lse = logsumexp(z)
    assert np.shape(lse) == shape[:-1] and np.asarray(lse).dtype == dtype
    if shape[-1] == 0:
        assert np.all(np.asarray(lse) == -INF)
    r = softmax(z, axis=0)
    assert r.shape == shape


def test_logsumexp_of_empty_is_minus_inf(no_warnings):
    assert logsumexp([]) == -INF
    np.testing.assert_array_equal(logsumexp(np.empty((3, 0))), [-INF] * 3)
    np.testing.assert_array_equal(logsumexp(np.empty((3, 0)), keepdims=True), [[-INF]] * 3)
    assert logsumexp(np.empty((0, 4)), axis=0).shape == (4,)
    np.testing.assert_array_equal(logsumexp(np.empty((0, 4)), axis=0), [-INF] * 4)


# =========================================================================== dtypes


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("name", list(ALL_FUNCS))
def test_float_dtype_preserved(name, dtype, no_warnings):
    z = np.array([[0.1, 0.2, 0.7], [0.5, 0.25, 0.25]], dtype=dtype)
    r = ALL_FUNCS[name](z)
    assert np.asarray(r).dtype == dtype


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int16, np.int32, np.int64, np.uint64,
                                   np.bool_])
@pytest.mark.parametrize("name", list(ALL_FUNCS))
def test_integer_and_bool_become_float64(name, dtype, no_warnings):
    z = np.array([[1, 0, 1], [0, 0, 1]], dtype=dtype)
    r = ALL_FUNCS[name](z)
    assert np.asarray(r).dtype == np.float64
    if name != "entropy":
        ref = Z_FUNCS[name](z.astype(np.float64))
        np.testing.assert_array_equal(r, ref)


def test_int8_does_not_wrap(no_warnings):
    z = np.array([100, -100], dtype=np.int8)
    tail = math.exp(-200) / (1 + math.exp(-200))
    for name, f in PROB_FUNCS.items():
        p = f(z)
        assert p.dtype == np.float64
        np.testing.assert_allclose(p, [1.0, tail], rtol=1e-14, err_msg=name)
    np.testing.assert_allclose(log_softmax(z), [-tail, -200.0], rtol=1e-14, atol=1e-80)
    np.testing.assert_allclose(logsumexp(z), 100.0, rtol=1e-15)
    # reversed and with a temperature (int8 would overflow in 2 * z)
    np.testing.assert_allclose(softmax(z[::-1]), [tail, 1.0], rtol=1e-14)
    np.testing.assert_allclose(softmax(z, temperature=0.5), [1.0, math.exp(-400)], rtol=1e-14)


def test_uint8_does_not_wrap(no_warnings):
    z = np.array([0, 255], dtype=np.uint8)  # 0 - 255 wraps to 1 in uint8
    p = softmax(z)
    np.testing.assert_allclose(p, [math.exp(-255), 1.0], rtol=1e-14)
    np.testing.assert_allclose(log_softmax(z), [-255.0, -math.exp(-255)], rtol=1e-14,
                               atol=1e-100)
    np.testing.assert_allclose(masked_softmax(z, np.array([True, True])), p, rtol=1e-14)
    np.testing.assert_allclose(online_softmax(z, block_size=1), p, rtol=1e-14)


def test_int64_large_values(no_warnings):
    z = np.array([2**62, 0, -(2**62)], dtype=np.int64)
    np.testing.assert_array_equal(softmax(z), [1.0, 0.0, 0.0])
    assert logsumexp(z) == float(2**62)


def test_bool_logits(no_warnings):
    p = softmax(np.array([True, False]))
    np.testing.assert_allclose(p, [math.e / (1 + math.e), 1 / (1 + math.e)], rtol=1e-15)


@pytest.mark.parametrize("z", [np.array([1 + 2j, 3]), np.array([1, "a"], dtype=object),
                               np.array([1.0, 2.0], dtype=object), np.array(["a", "b"]),
                               ["a", "b"], np.array([b"x"])])
@pytest.mark.parametrize("name", list(Z_FUNCS))
def test_bad_logit_dtype_is_type_error(name, z):
    with pytest.raises(TypeError, match=r"\bz\b"):
        Z_FUNCS[name](z)


@pytest.mark.parametrize("p", [np.array([0.5 + 0j, 0.5]), np.array([0.5, 0.5], dtype=object),
                               np.array(["a"])])
def test_entropy_bad_dtype(p):
    with pytest.raises(TypeError, match=r"\bp\b"):
        entropy(p)


def test_float16_computed_in_wider_type(no_warnings):
    # 65,520 equal logits: each probability 1/65520 (a float16 subnormal, not 0, not nan)
    z = np.zeros(65520, np.float16)
    expected = np.full(65520, 1 / 65520, np.float16)
    for name in ["softmax", "online_softmax", "masked_softmax"]:
        p = Z_FUNCS[name](z)
        assert p.dtype == np.float16
        assert np.all(p > 0) and np.all(np.isfinite(p)), name
        assert ulps(p, expected) <= 1, name
    lse = logsumexp(z)
    assert lse.dtype == np.float16 and abs(float(lse) - math.log(65520)) < 0.01
    lp = log_softmax(z)
    assert lp.dtype == np.float16
    assert np.all(np.abs(lp.astype(float) + math.log(65520)) < 0.01)
    np.testing.assert_allclose(float(entropy(np.full(4096, 1 / 4096, np.float16))),
                               math.log(4096), rtol=1e-3)


def test_float16_extremes(no_warnings):
    z = np.array([65504, -65504, 0], np.float16)  # z - max overflows float16
    for name, f in PROB_FUNCS.items():
        p = f(z)
        assert p.dtype == np.float16
        np.testing.assert_array_equal(p, [1, 0, 0], err_msg=name)
    lp = log_softmax(z)
    assert lp.dtype == np.float16
    np.testing.assert_array_equal(lp, [0, -INF, -65504])  # -131008 rounds to -inf in float16
    assert logsumexp(np.array([65504, 65504], np.float16)) == np.float16(65504)


# =========================================================================== edge semantics


@pytest.mark.parametrize("name", list(PROB_FUNCS))
def test_minus_inf_gets_exact_zero(name, no_warnings):
    f = PROB_FUNCS[name]
    p = f(np.array([0.0, -INF, 1.0, -INF]))
    assert p[1] == 0 and p[3] == 0
    np.testing.assert_allclose(p[[0, 2]], softmax([0.0, 1.0]), rtol=1e-15)
    np.testing.assert_array_equal(f(np.array([-INF, 5.0])), [0.0, 1.0])


@pytest.mark.parametrize("name", list(PROB_FUNCS))
def test_plus_inf_shares_mass(name, no_warnings):
    f = PROB_FUNCS[name]
    np.testing.assert_array_equal(f(np.array([INF, 1.0, INF])), [0.5, 0.0, 0.5])
    np.testing.assert_array_equal(f(np.array([INF])), [1.0])
    np.testing.assert_array_equal(f(np.array([-INF, INF, 1e308])), [0.0, 1.0, 0.0])
    np.testing.assert_array_equal(f(np.array([INF, INF, INF, -INF])), [1 / 3] * 3 + [0.0])
    # only the slice with +inf is affected
    got = f(np.array([[INF, 0.0], [0.0, 0.0]]))
    np.testing.assert_array_equal(got, [[1.0, 0.0], [0.5, 0.5]])
    got = f(np.array([[INF, 0.0], [0.0, INF]]), axis=0)
    np.testing.assert_array_equal(got, [[1.0, 0.0], [0.0, 1.0]])


def test_plus_inf_in_log_space(no_warnings):
    lp = log_softmax(np.array([INF, 1.0, INF]))
    np.testing.assert_allclose(lp[[0, 2]], [-math.log(2)] * 2, rtol=1e-15)
    assert lp[1] == -INF
    np.testing.assert_array_equal(log_softmax(np.array([INF, -INF])), [0.0, -INF])
    assert logsumexp([INF, 1.0]) == INF
    assert logsumexp([INF, -INF]) == INF
    np.testing.assert_array_equal(logsumexp(np.array([[INF, 0.0], [0.0, 0.0]])),
                                  [INF, math.log(2)])


@pytest.mark.parametrize("name", list(Z_FUNCS))
@pytest.mark.parametrize("bad", [[NAN, 1.0, 2.0], [1.0, NAN, INF], [-INF, NAN, -INF],
                                 [INF, NAN, 0.0]])
def test_nan_poisons_its_slice_only(name, bad, no_warnings):
    f = Z_FUNCS[name]
    good = [0.0, 1.0, 2.0]
    z = np.array([good, bad, good])
    r = f(z)
    assert np.all(np.isnan(r[1]))
    ref = f(np.array([good]))
    assert ulps(r[[0, 2]], np.concatenate([ref, ref])) <= 2  # other slices unaffected
    r0 = f(z.T, axis=0)  # the same along axis 0
    assert np.all(np.isnan(r0[..., 1]))
    assert not np.any(np.isnan(r0[..., [0, 2]]))


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "online_softmax",
                                  "online_softmax_b3"])
def test_all_minus_inf_slice_is_nan(name, no_warnings):
    f = Z_FUNCS[name]
    z = np.array([[-INF, -INF, -INF], [0.0, 0.0, -INF]])
    r = f(z)
    assert np.all(np.isnan(r[0]))
    expected = [0.5, 0.5, 0.0] if "log" not in name else [-math.log(2), -math.log(2), -INF]
    np.testing.assert_allclose(r[1], expected, rtol=1e-15)


def test_all_minus_inf_logsumexp_and_masked(no_warnings):
    z = np.array([[-INF, -INF, -INF], [0.0, 0.0, -INF]])
    np.testing.assert_allclose(logsumexp(z), [-INF, math.log(2)], rtol=1e-15)
    m = masked_softmax(z, np.ones(3, bool))
    np.testing.assert_array_equal(m, [[0.0, 0.0, 0.0], [0.5, 0.5, 0.0]])
    assert logsumexp(np.full(5, -INF)) == -INF


def test_log_softmax_does_not_underflow(no_warnings):
    lp = log_softmax(np.array([0.0, -800.0]))
    assert lp[0] == 0.0  # -0.0 == 0.0 as well
    assert lp[1] == -800.0
    lp = log_softmax(np.array([1000.0, 0.0], np.float32))
    assert lp.dtype == np.float32 and lp[1] == np.float32(-1000.0)


def test_huge_spread(no_warnings):
    z = np.array([-1.7e308, 1.7e308])
    np.testing.assert_array_equal(softmax(z), [0.0, 1.0])
    np.testing.assert_array_equal(online_softmax(z, block_size=1), [0.0, 1.0])
    np.testing.assert_array_equal(log_softmax(z), [-INF, 0.0])  # -3.4e308 rounds to -inf
    assert logsumexp(z) == 1.7e308
    big = np.array([1.7976931348623157e308] * 2)
    np.testing.assert_array_equal(softmax(big), [0.5, 0.5])
    assert logsumexp(big) == 1.7976931348623157e308  # max + log 2 rounds to max


def test_subnormal_logits(no_warnings):
    for dtype in [np.float64, np.float32, np.float16]:
        s = np.finfo(dtype).smallest_subnormal
        z = np.array([s, 0, -s], dtype)
        np.testing.assert_allclose(softmax(z).astype(float), 1 / 3, rtol=float(np.finfo(dtype).eps))
        np.testing.assert_allclose(logsumexp(z).astype(float), math.log(3),
                                   rtol=float(np.finfo(dtype).eps))


def test_temperature_overflow_is_handled(no_warnings):
    # z / t = [1e308, inf]: the +inf logit takes all the mass
    np.testing.assert_array_equal(softmax([1.0, 2.0], temperature=1e-308), [0.0, 1.0])
    # z / t underflows to (near) zero: uniform
    np.testing.assert_allclose(softmax([1.0, 2.0], temperature=1e308), [0.5, 0.5], rtol=1e-15)
    np.testing.assert_allclose(log_softmax([1.0, 2.0], temperature=1e308), [-math.log(2)] * 2,
                               rtol=1e-15)


NASTY = {
    "huge_spread": [-1.7e308, 1.7e308, 0.0],
    "max_float": [np.finfo(float).max] * 3,
    "min_float": [-np.finfo(float).max] * 3,
    "inf_mix": [INF, -INF, 1.0, INF],
    "neg_inf_mix": [-INF, -INF, 3.0],
    "all_neg_inf": [-INF, -INF],
    "all_pos_inf": [INF, INF],
    "nan": [NAN, 1.0],
    "nan_inf": [NAN, INF, -INF],
    "subnormal": [5e-324, -5e-324, 0.0],
    "big_and_small": [1e300, 1e-300, -1e300],
    "f32_huge": np.array([3.4e38, -3.4e38, 0], np.float32),
    "f32_inf": np.array([np.inf, -np.inf, 0], np.float32),
    "f32_allneginf": np.array([-np.inf, -np.inf], np.float32),
    "f16_extremes": np.array([65504, -65504, 6e-8], np.float16),
    "f16_inf_nan": np.array([np.inf, np.nan, -np.inf], np.float16),
    "f16_many": np.zeros(70000, np.float16),
    "int_extremes": np.array([np.iinfo(np.int64).max, np.iinfo(np.int64).min]),
    "uint_max": np.array([np.iinfo(np.uint64).max, 0], np.uint64),
    "int8": np.array([127, -128], np.int8),
    "prefix_neg_inf": [-INF] * 300 + [1.0, 2.0],
}


@pytest.mark.parametrize("case", list(NASTY))
@pytest.mark.parametrize("name", list(Z_FUNCS))
def test_no_warnings_on_nasty_inputs(name, case, no_warnings):
    z = NASTY[case]
    r = np.asarray(Z_FUNCS[name](z))
    zf = np.asarray(z).astype(np.float64)
    if not np.any(np.isnan(zf)) and not np.all(zf == -INF):
        assert not np.any(np.isnan(r)), r
        if name in PROB_FUNCS:
            np.testing.assert_allclose(np.sum(r, dtype=np.float64), 1.0,
                                       atol=4 * float(np.finfo(r.dtype).eps))


@pytest.mark.parametrize("case", list(NASTY))
def test_no_warnings_with_temperature(case, no_warnings):
    z = NASTY[case]
    for t in [1e-300, 1e-3, 7.0, 1e300]:
        softmax(z, temperature=t)
        log_softmax(z, temperature=t)
    masked_softmax(z, np.arange(np.size(z)) % 2 == 0)
    masked_softmax(z, np.zeros(np.shape(z), bool))


@pytest.mark.parametrize("p", [[0.0, 1.0], [1e-320, 1.0], [0.0, 0.0], [1.0, INF], [NAN, 0.5],
                               np.array([0, 1, 6e-8], np.float16)])
def test_entropy_no_warnings(p, no_warnings):
    entropy(p)


# =========================================================================== masked_softmax


def test_masked_out_values_do_not_matter(no_warnings):
    z = np.array([1.0, NAN, 2.0, INF, -INF])
    mask = np.array([True, False, True, False, False])
    got = masked_softmax(z, mask)
    ref = softmax([1.0, 2.0])
    assert np.all(got[[1, 3, 4]] == 0.0)
    assert ulps(got[[0, 2]], ref) <= 4
    assert masked_softmax(np.array([INF, 0.0]), np.array([False, True]))[0] == 0.0


def test_masked_fully_masked_rows_are_zero(no_warnings):
    z = np.array([[1.0, 2.0, 3.0], [1.0, NAN, INF], [4.0, 5.0, 6.0]])
    mask = np.array([[True, True, True], [False, False, False], [True, False, True]])
    got = masked_softmax(z, mask)
    np.testing.assert_array_equal(got[1], [0.0, 0.0, 0.0])
    np.testing.assert_allclose(got[0], softmax(z[0]), rtol=1e-15)
    ref = softmax([4.0, 6.0])
    np.testing.assert_allclose(got[2], [ref[0], 0.0, ref[1]], rtol=1e-15)
    # a kept slice that is all -inf also gives zeros
    np.testing.assert_array_equal(masked_softmax(np.array([-INF, -INF, 3.0]),
                                                 np.array([True, True, False])), [0, 0, 0])


def test_masked_broadcasting(no_warnings):
    z = np.arange(12.0).reshape(3, 4) / 3
    row_mask = np.array([True, False, True, True])
    got = masked_softmax(z, row_mask)  # mask of shape (4,) broadcasts over rows
    for i in range(3):
        ref = softmax(z[i, row_mask])
        np.testing.assert_allclose(got[i, row_mask], ref, rtol=1e-15)
        assert got[i, 1] == 0
    col_mask = np.array([[True], [False], [True]])
    got = masked_softmax(z, col_mask)  # (3, 1) broadcasts over columns
    np.testing.assert_array_equal(got[1], 0)
    np.testing.assert_allclose(got[0], softmax(z[0]), rtol=1e-15)
    got = masked_softmax(z, col_mask, axis=0)
    np.testing.assert_allclose(got[[0, 2]], softmax(z[[0, 2]], axis=0), rtol=1e-15)
    assert np.all(got[1] == 0)
    np.testing.assert_allclose(masked_softmax(z, np.bool_(True)), softmax(z), rtol=1e-15)


@pytest.mark.parametrize("mask", [np.array([1, 0, 1]), np.array([1.0, 0.0, 1.0]), [1, 0, 1],
                                  np.array(["a", "b", "c"]), None])
def test_mask_must_be_boolean(mask):
    with pytest.raises(TypeError, match="mask"):
        masked_softmax(np.zeros(3), mask)


@pytest.mark.parametrize("mask_shape", [(2,), (4,), (3, 3), (2, 3, 3), (1, 4)])
def test_mask_must_broadcast_to_z(mask_shape):
    with pytest.raises(ValueError, match="mask"):
        masked_softmax(np.zeros((2, 3)), np.ones(mask_shape, bool))


# =========================================================================== online_softmax


@pytest.mark.parametrize("block_size", [1, 3, 7, 128, 1000])
def test_online_prefix_of_minus_inf(block_size, no_warnings):
    z = np.array([-INF] * 300 + [1.0, 2.0])
    got = online_softmax(z, block_size=block_size)
    assert not np.any(np.isnan(got))
    np.testing.assert_array_equal(got[:300], 0.0)
    np.testing.assert_allclose(got[300:], softmax([1.0, 2.0]), rtol=1e-15)


@pytest.mark.parametrize("block_size", [1, 3, 128])
def test_online_late_plus_inf_and_nan(block_size, no_warnings):
    z = np.array([np.arange(300.0), np.arange(300.0), np.arange(300.0)])
    z[0, 250] = INF
    z[1, 5] = NAN
    z[2, 299] = -INF
    got = online_softmax(z, block_size=block_size)
    expected0 = np.zeros(300)
    expected0[250] = 1
    np.testing.assert_array_equal(got[0], expected0)
    assert np.all(np.isnan(got[1]))
    np.testing.assert_allclose(got[2], softmax(z[2]), rtol=1e-13)
    assert got[2, 299] == 0


@pytest.mark.parametrize("n", [1, 127, 128, 129, 300, 1000])
@pytest.mark.parametrize("block_size", [1, 3, 128, 256])
def test_online_sizes_not_divisible_by_block(n, block_size):
    rng = np.random.default_rng(n * 1000 + block_size)
    z = rng.normal(scale=10, size=(2, n))
    z[1] = np.sort(z[1])  # increasing: the running max changes in every block
    ref = softmax(z)
    got = online_softmax(z, block_size=block_size)
    n_blocks = -(-n // block_size)
    maxulp = 8 if block_size >= 128 else 8 + 2 * n_blocks
    assert ulps(got, ref) <= maxulp


@pytest.mark.parametrize("bs", [0, -1, -128])
def test_block_size_value_errors(bs):
    with pytest.raises(ValueError, match="block_size"):
        online_softmax(np.zeros(4), block_size=bs)


@pytest.mark.parametrize("bs", [1.5, 128.0, "128", None, [128]])
def test_block_size_type_errors(bs):
    with pytest.raises(TypeError, match="block_size"):
        online_softmax(np.zeros(4), block_size=bs)


def test_block_size_numpy_int_ok():
    np.testing.assert_allclose(online_softmax(np.arange(5.0), block_size=np.int64(2)),
                               softmax(np.arange(5.0)), rtol=1e-15)


# =========================================================================== entropy


def test_entropy_basics(no_warnings):
    for k in [1, 2, 3, 10, 1000]:
        np.testing.assert_allclose(entropy(np.full(k, 1 / k)), math.log(k), rtol=1e-13,
                                   atol=1e-15)
    assert entropy([0.0, 1.0, 0.0]) == 0
    assert entropy(np.array([[1.0, 0.0], [0.0, 1.0]]), axis=0).tolist() == [0.0, 0.0]
    np.testing.assert_allclose(entropy([[0.5, 0.5], [1.0, 0.0]]), [math.log(2), 0.0])
    np.testing.assert_allclose(entropy([[0.5, 1.0], [0.5, 0.0]], axis=0), [math.log(2), 0.0])
    p = np.array([0.1, 0.2, 0.3, 0.4])
    np.testing.assert_allclose(entropy(p), -np.sum(p * np.log(p)), rtol=1e-15)
    assert entropy(np.array([0, 1], np.int64)) == 0.0


@pytest.mark.parametrize("p", [[-0.1, 1.1], [0.5, -1e-300, 0.5], [[0.5, 0.5], [1.5, -0.5]],
                               [-INF, 1.0]])
def test_entropy_negative_is_value_error(p):
    with pytest.raises(ValueError, match=r"\bp\b"):
        entropy(p)


# =========================================================================== out=


def test_out_is_returned_and_filled(no_warnings):
    z = np.array([[1.0, 2.0, 3.0], [0.0, -INF, 5.0]])
    out = np.empty_like(z)
    r = softmax(z, out=out)
    assert r is out
    assert ulps(out, softmax(z)) <= 4
    out2 = np.empty_like(z)
    assert softmax(z, axis=0, temperature=2.0, out=out2) is out2
    assert ulps(out2, softmax(z, axis=0, temperature=2.0)) <= 4


def test_out_may_be_z(no_warnings):
    z = np.array([[1.0, 2.0, 3.0], [7.0, -1.0, 0.0]])
    ref = softmax(z.copy())
    r = softmax(z, out=z)
    assert r is z
    assert ulps(z, ref) <= 4  # an in-place path may round differently, not more
    z = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 9.0]], np.float32)
    ref = softmax(z.copy(), axis=0)
    assert softmax(z, axis=0, out=z) is z
    assert ulps(z, ref) <= 4


def test_out_may_be_a_strided_view(no_warnings):
    z = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    buf = np.full((2, 6), -7.0)
    view = buf[:, ::2]
    assert softmax(z, out=view) is view
    assert ulps(buf[:, ::2], softmax(z)) <= 4
    np.testing.assert_array_equal(buf[:, 1::2], -7.0)


def test_out_float16_and_float32(no_warnings):
    for dtype in [np.float16, np.float32]:
        z = np.array([1.0, 2.0, 3.0], dtype)
        out = np.empty(3, dtype)
        assert softmax(z, out=out) is out
        assert ulps(out, softmax(z)) <= 1


@pytest.mark.parametrize("out", [[0.0, 0.0, 0.0], (0.0, 0.0, 0.0), "out", 3.0])
def test_out_must_be_ndarray(out):
    with pytest.raises(TypeError, match=r"\bout\b"):
        softmax(np.zeros(3), out=out)


@pytest.mark.parametrize("shape", [(3, 2), (1, 3), (3,), (2, 3, 1), (6,), ()])
def test_out_wrong_shape(shape):
    with pytest.raises(ValueError, match=r"\bout\b"):
        softmax(np.zeros((2, 3)), out=np.empty(shape))


@pytest.mark.parametrize("dtype", [np.int64, np.int8, np.bool_, np.complex128, object])
def test_out_wrong_dtype(dtype):
    with pytest.raises(TypeError, match=r"\bout\b"):
        softmax(np.zeros(3), out=np.zeros(3, dtype))


# =========================================================================== bad arguments


@pytest.mark.parametrize("name", list(ALL_FUNCS))
@pytest.mark.parametrize("axis", [2, -3, 10, (0, 2), (-3,)])
def test_axis_out_of_range(name, axis):
    with pytest.raises(ValueError, match="axis"):
        ALL_FUNCS[name](np.full((2, 3), 0.5), axis=axis)


@pytest.mark.parametrize("name", list(ALL_FUNCS))
@pytest.mark.parametrize("axis", [(0, 0), (1, -1), (0, 1, 0)])
def test_axis_duplicates(name, axis):
    with pytest.raises(ValueError, match="axis"):
        ALL_FUNCS[name](np.full((2, 3), 0.5), axis=axis)


@pytest.mark.parametrize("name", list(ALL_FUNCS))
@pytest.mark.parametrize("axis", [1.5, 1.0, "0", (0, 1.5), np.float64(1)])
def test_axis_wrong_type(name, axis):
    with pytest.raises(TypeError, match="axis"):
        ALL_FUNCS[name](np.full((2, 3), 0.5), axis=axis)


@pytest.mark.parametrize("f", [softmax, log_softmax])
@pytest.mark.parametrize("t", [0, 0.0, -1, -1e-300, INF, -INF, NAN, np.float64(NAN)])
def test_temperature_value_errors(f, t):
    with pytest.raises(ValueError, match="temperature"):
        f(np.zeros(3), temperature=t)


@pytest.mark.parametrize("f", [softmax, log_softmax])
@pytest.mark.parametrize("t", ["hot", None, [1.0], object()])
def test_temperature_type_errors(f, t):
    with pytest.raises(TypeError, match="temperature"):
        f(np.zeros(3), temperature=t)


@pytest.mark.parametrize("f", [softmax, log_softmax])
@pytest.mark.parametrize("t", [1, 2.5, np.float32(0.5), np.int64(3), 1e-3])
def test_temperature_accepted(f, t, no_warnings):
    z = np.array([0.5, 1.0, 3.0])
    np.testing.assert_allclose(f(z, temperature=t), f(z / float(t)), rtol=1e-14, atol=1e-14)


# =========================================================================== inputs untouched


def _inputs():
    rng = np.random.default_rng(1)
    base = rng.normal(scale=3, size=(4, 5))
    base[0, 1] = -INF
    base[2, 3] = INF
    base[3, 0] = NAN
    out = [base, base.astype(np.float32), base.astype(np.float16),
           np.array([[100, -100, 3], [0, 1, 2]], np.int8), np.array([[True, False]]),
           np.asfortranarray(base), base[:, ::2], base[::-1]]
    return out


@pytest.mark.parametrize("i", range(8))
def test_inputs_never_modified(i, no_warnings):
    z = _inputs()[i]
    z_before = z.copy()
    mask = (np.arange(z.shape[-1]) % 2 == 0)
    mask_before = mask.copy()
    calls = [
        lambda: softmax(z),
        lambda: softmax(z, axis=0, temperature=0.5),
        lambda: softmax(z, temperature=3.0, out=np.empty_like(softmax(z))),
        lambda: softmax(z, precise=True),
        lambda: softmax(z, axis=None),
        lambda: log_softmax(z, temperature=2.0),
        lambda: log_softmax(z, axis=0),
        lambda: logsumexp(z, axis=(0, 1), keepdims=True),
        lambda: masked_softmax(z, mask),
        lambda: online_softmax(z, block_size=2),
        lambda: online_softmax(z, axis=0, block_size=1),
    ]
    for call in calls:
        call()
        assert z.dtype == z_before.dtype
        np.testing.assert_array_equal(z, z_before)
        np.testing.assert_array_equal(mask, mask_before)
    p = np.abs(np.nan_to_num(z_before.astype(float), posinf=1, neginf=0))
    p_before = p.copy()
    entropy(p)
    np.testing.assert_array_equal(p, p_before)


def test_list_input_not_modified():
    z = [3.0, -INF, 1.0]
    softmax(z, temperature=2.0)
    log_softmax(z)
    assert z == [3.0, -INF, 1.0]


def test_precise_flag(no_warnings):
    rng = np.random.default_rng(3)
    z = rng.normal(scale=100, size=(5, 50))
    p = softmax(z, precise=True)
    assert p.dtype == np.float64 and p.shape == z.shape
    np.testing.assert_allclose(p, softmax(z), rtol=1e-12, atol=1e-300)
    z32 = z.astype(np.float32)
    assert softmax(z32, precise=True).dtype == np.float32
    np.testing.assert_array_equal(softmax(np.array([INF, 1.0, INF]), precise=True),
                                  [0.5, 0.0, 0.5])
