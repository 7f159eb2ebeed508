"""``course_lib.attention``: PyTorch's semantics, blockwise = full, the laws of attention, edges.

The comparison with PyTorch runs against ``torch.nn.functional.scaled_dot_product_attention``
itself when torch is importable, and otherwise against its outputs stored in
``tests/data/sdpa_torch_reference.npz`` (made by ``python tests/test_attention.py``). torch is
not a course dependency.
"""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from course_lib.attention import blockwise_attention, causal_mask, scaled_dot_product_attention
from course_lib.softmax import softmax

REFERENCE = Path(__file__).parent / "data" / "sdpa_torch_reference.npz"

pytestmark = pytest.mark.filterwarnings("error")


# --- the reference cases, and PyTorch's answers ---------------------------------------------------
def reference_cases():
    """Seeded inputs: ``name -> dict(q, k, v, mask, causal, scale)`` (mask None when absent)."""
    rng = np.random.default_rng(2022)
    n = rng.normal
    cases = {
        "plain": dict(q=n(size=(2, 3, 5, 8)), k=n(size=(2, 3, 7, 8)), v=n(size=(2, 3, 7, 4))),
        "broadcast": dict(q=n(size=(2, 1, 5, 8)), k=n(size=(3, 7, 8)), v=n(size=(7, 4))),
        "large_scores": dict(q=4 * n(size=(4, 16)), k=4 * n(size=(6, 16)), v=n(size=(6, 3))),
        "causal_square": dict(q=n(size=(2, 6, 4)), k=n(size=(2, 6, 4)), v=n(size=(2, 6, 3)),
                              causal=True),
        "causal_wide": dict(q=n(size=(3, 4)), k=n(size=(7, 4)), v=n(size=(7, 2)), causal=True),
        "causal_tall": dict(q=n(size=(7, 4)), k=n(size=(3, 4)), v=n(size=(3, 2)), causal=True),
        "padding_mask": dict(q=n(size=(2, 5, 4)), k=n(size=(2, 6, 4)), v=n(size=(2, 6, 3)),
                             mask=np.array([[[1, 1, 1, 1, 0, 0]], [[1, 1, 1, 1, 1, 1]]], bool)),
        "random_mask": dict(q=n(size=(2, 5, 4)), k=n(size=(2, 6, 4)), v=n(size=(2, 6, 3)),
                            mask=rng.random((2, 5, 6)) < 0.6),
        "scale": dict(q=n(size=(5, 8)), k=n(size=(6, 8)), v=n(size=(6, 2)), scale=0.3),
        "scale_mask": dict(q=n(size=(5, 8)), k=n(size=(6, 8)), v=n(size=(6, 2)), scale=2.5,
                           mask=rng.random((5, 6)) < 0.5),
    }
    cases["random_mask"]["mask"][0, 2] = False  # a query that sees no key
    cases["scale_mask"]["mask"][3] = False
    for c in cases.values():
        c.setdefault("mask", None)
        c.setdefault("causal", False)
        c.setdefault("scale", None)
    return cases


def torch_outputs(case):
    """PyTorch's output and weights (the output for v = identity) for one case, as numpy."""
    import torch
    import torch.nn.functional as F

    batch = np.broadcast_shapes(case["q"].shape[:-2], case["k"].shape[:-2], case["v"].shape[:-2])
    if case["mask"] is not None:
        batch = np.broadcast_shapes(batch, case["mask"].shape[:-2])

    def t(x):
        return torch.tensor(np.broadcast_to(x, batch + x.shape[-2:]).copy())

    n_k = case["k"].shape[-2]
    kw = dict(is_causal=case["causal"], scale=case["scale"])
    if case["mask"] is not None:
        kw["attn_mask"] = torch.tensor(np.broadcast_to(case["mask"], batch + case["mask"].shape[-2:]))
    q, k, v = t(case["q"]), t(case["k"]), t(case["v"])
    out = F.scaled_dot_product_attention(q, k, v, **kw).numpy()
    weights = F.scaled_dot_product_attention(q, k, t(np.eye(n_k)), **kw).numpy()
    return out, weights


def _torch():
    return importlib.util.find_spec("torch") is not None


def write_reference():
    arrays = {}
    for name, case in reference_cases().items():
        arrays[f"{name}/output"], arrays[f"{name}/weights"] = torch_outputs(case)
    REFERENCE.parent.mkdir(exist_ok=True)
    np.savez_compressed(REFERENCE, **arrays)


@pytest.mark.parametrize("name", list(reference_cases()))
def test_matches_pytorch(name):
    """Equal to PyTorch's (live, or its stored answers); zeros for a query that sees no key."""
    case = reference_cases()[name]
    stored = np.load(REFERENCE)
    expected = stored[f"{name}/output"], stored[f"{name}/weights"]
    if _torch():  # the stored answers are PyTorch's own
        for live, kept in zip(torch_outputs(case), expected):
            np.testing.assert_allclose(live, kept, rtol=1e-12, atol=1e-14, equal_nan=True)
    out, weights = scaled_dot_product_attention(case["q"], case["k"], case["v"], mask=case["mask"],
                                                causal=case["causal"], scale=case["scale"])
    mask = np.ones(weights.shape, bool) if case["mask"] is None else case["mask"]
    blind = np.broadcast_to(~mask.any(axis=-1), weights.shape[:-1])  # queries that see no key
    assert blind.any() == (name in ("random_mask", "scale_mask"))
    for got, exp in zip((out, weights), expected):
        assert got.shape == exp.shape
        np.testing.assert_allclose(got[~blind], exp[~blind], rtol=1e-12, atol=1e-14)
        assert np.all(got[blind] == 0.0)
        # older PyTorch gave nan there; recent versions (2.13) give zeros, as course_lib does
        assert np.all((exp[blind] == 0.0) | np.isnan(exp[blind]))


def test_pytorch_comparison_covers_causal_alignment():
    """Top-left alignment: with 3 queries and 7 keys, query 0 sees key 0 only."""
    w = np.load(REFERENCE)["causal_wide/weights"]
    np.testing.assert_array_equal(w > 0, causal_mask(3, 7))
    w = np.load(REFERENCE)["causal_tall/weights"]
    np.testing.assert_array_equal(w > 0, causal_mask(7, 3))


# --- blockwise = full -----------------------------------------------------------------------------
@st.composite
def qkv(draw, max_n=12):
    seed = draw(st.integers(0, 2**32 - 1))
    n_q, n_k = draw(st.integers(1, max_n)), draw(st.integers(1, max_n))
    d_k, d_v = draw(st.integers(1, 6)), draw(st.integers(1, 4))
    batch = draw(st.sampled_from([(), (2,), (2, 3)]))
    spread = draw(st.sampled_from([0.1, 1.0, 5.0, 30.0]))
    rng = np.random.default_rng(seed)
    return (spread * rng.normal(size=batch + (n_q, d_k)), spread * rng.normal(size=batch + (n_k, d_k)),
            rng.normal(size=batch + (n_k, d_v)))


@given(qkv(), st.integers(1, 14), st.booleans())
def test_blockwise_equals_full_attention_for_every_block_size(x, block_size, causal):
    q, k, v = x
    full = scaled_dot_product_attention(q, k, v, causal=causal)[0]
    got = blockwise_attention(q, k, v, block_size=block_size, causal=causal)
    assert got.shape == full.shape
    np.testing.assert_allclose(got, full, rtol=1e-12, atol=1e-12)


@given(qkv(), st.integers(1, 5))
def test_blockwise_with_a_scale_equals_full(x, block_size):
    q, k, v = x
    np.testing.assert_allclose(blockwise_attention(q, k, v, block_size=block_size, scale=0.7),
                               scaled_dot_product_attention(q, k, v, scale=0.7)[0],
                               rtol=1e-12, atol=1e-12)


def test_blockwise_on_an_increasing_row_needs_the_rescale():
    """Keys whose scores grow tile after tile: every tile raises the running max."""
    q = np.array([[1.0]])
    k = np.arange(0.0, 40.0, 2.0)[:, None]
    v = np.arange(20.0)[:, None]
    full = scaled_dot_product_attention(q, k, v, scale=1.0)[0]
    for b in (1, 3, 20):
        np.testing.assert_allclose(blockwise_attention(q, k, v, block_size=b, scale=1.0), full,
                                   rtol=1e-14)


def test_blockwise_float32_and_float16_stay_narrow():
    rng = np.random.default_rng(0)
    q, k, v = rng.normal(size=(4, 3)), rng.normal(size=(9, 3)), rng.normal(size=(9, 2))
    for dt, tol in ((np.float32, 1e-5), (np.float16, 5e-3)):
        got = blockwise_attention(q.astype(dt), k.astype(dt), v.astype(dt), block_size=4)
        assert got.dtype == dt
        np.testing.assert_allclose(got, scaled_dot_product_attention(q, k, v)[0], atol=tol)


# --- the laws ----------------------------------------------------------------------------------------
@st.composite
def masked_qkv(draw):
    q, k, v = draw(qkv())
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    mask = rng.random(np.broadcast_shapes(q.shape[:-2], k.shape[:-2])
                      + (q.shape[-2], k.shape[-2])) < draw(st.sampled_from([0.0, 0.3, 0.8, 1.0]))
    return q, k, v, mask


@given(masked_qkv(), st.booleans())
def test_weight_rows_sum_to_one_or_to_zero_when_nothing_is_seen(x, causal):
    q, k, v, mask = x
    out, w = scaled_dot_product_attention(q, k, v, mask=mask, causal=causal)
    allowed = mask & causal_mask(q.shape[-2], k.shape[-2]) if causal else mask
    assert np.all(w[~allowed] == 0.0)
    seen = allowed.any(axis=-1)
    np.testing.assert_allclose(w.sum(axis=-1), np.where(seen, 1.0, 0.0), atol=1e-12)
    assert np.all(out[~seen] == 0.0) and np.all(np.isfinite(out))


@given(qkv(), st.integers(0, 2**32 - 1))
def test_a_vector_added_to_every_key_shifts_a_row_of_scores_and_changes_nothing(x, seed):
    """q·(k_j + u) = q·k_j + q·u: the same shift for every key of a query (lesson 02)."""
    q, k, v = x
    u = 3.0 * np.random.default_rng(seed).normal(size=k.shape[-1])
    out, w = scaled_dot_product_attention(q, k, v)
    out2, w2 = scaled_dot_product_attention(q, k + u, v)
    np.testing.assert_allclose(w2, w, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(out2, out, rtol=1e-9, atol=1e-9)


@given(qkv(), st.integers(0, 2**32 - 1))
def test_permuting_keys_with_their_values_permutes_the_weights_only(x, seed):
    q, k, v = x
    perm = np.random.default_rng(seed).permutation(k.shape[-2])
    out, w = scaled_dot_product_attention(q, k, v)
    out2, w2 = scaled_dot_product_attention(q, k[..., perm, :], v[..., perm, :])
    np.testing.assert_allclose(w2, w[..., perm], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(out2, out, rtol=1e-9, atol=1e-12)


@given(qkv())
def test_weights_are_the_softmax_of_the_scaled_scores(x):
    q, k, v = x
    out, w = scaled_dot_product_attention(q, k, v)
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    np.testing.assert_allclose(w, softmax(scores), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(out, w @ v, rtol=1e-12, atol=1e-12)
    # the scale is an inverse temperature
    _, w_hot = scaled_dot_product_attention(q, k, v, scale=0.5 / np.sqrt(q.shape[-1]))
    np.testing.assert_allclose(w_hot, softmax(scores, temperature=2.0), rtol=1e-12, atol=1e-300)


@given(masked_qkv(), st.booleans())
def test_inputs_are_not_modified(x, causal):
    q, k, v, mask = x
    before = [a.copy() for a in (q, k, v, mask)]
    scaled_dot_product_attention(q, k, v, mask=mask, causal=causal)
    blockwise_attention(q, k, v, block_size=3, causal=causal)
    for a, b in zip((q, k, v, mask), before):
        np.testing.assert_array_equal(a, b)


# --- dtypes, shapes and edges ---------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_narrow_floats_are_kept(dtype):
    rng = np.random.default_rng(1)
    q, k, v = rng.normal(size=(3, 4)), rng.normal(size=(5, 4)), rng.normal(size=(5, 2))
    out, w = scaled_dot_product_attention(q.astype(dtype), k.astype(dtype), v.astype(dtype),
                                          causal=True)
    assert out.dtype == dtype and w.dtype == dtype
    ref_out, ref_w = scaled_dot_product_attention(q, k, v, causal=True)
    tol = 1e-6 if dtype == np.float32 else 3e-3
    np.testing.assert_allclose(w, ref_w, atol=tol)
    np.testing.assert_allclose(out, ref_out, atol=2 * tol)


def test_integers_and_lists_become_float64():
    out, w = scaled_dot_product_attention([[1, 0]], [[1, 0], [0, 1]], np.array([[1], [3]]))
    assert out.dtype == w.dtype == np.float64
    np.testing.assert_allclose(w, softmax([[1 / np.sqrt(2), 0.0]]))
    assert blockwise_attention([[1, 0]], [[1, 0], [0, 1]], [[1], [3]]).dtype == np.float64


def test_mixed_dtypes_give_the_common_one():
    q = np.ones((2, 3), np.float32)
    out, w = scaled_dot_product_attention(q, np.ones((4, 3)), np.ones((4, 2), np.float32))
    assert out.dtype == w.dtype == np.float64


def test_padding_mask_broadcasts_over_queries_and_batch():
    rng = np.random.default_rng(3)
    q, k, v = rng.normal(size=(2, 4, 3)), rng.normal(size=(2, 5, 3)), rng.normal(size=(2, 5, 2))
    pad = np.array([True, True, True, False, False])
    out, w = scaled_dot_product_attention(q, k, v, mask=pad)
    np.testing.assert_allclose(out, scaled_dot_product_attention(q, k[:, :3], v[:, :3])[0],
                               rtol=1e-12)
    assert w.shape == (2, 4, 5) and np.all(w[..., 3:] == 0.0)


def test_a_mask_with_more_batch_dimensions_widens_the_result():
    rng = np.random.default_rng(4)
    q, k, v = rng.normal(size=(3, 2)), rng.normal(size=(4, 2)), rng.normal(size=(4, 1))
    mask = np.ones((5, 3, 4), bool)
    out, w = scaled_dot_product_attention(q, k, v, mask=mask)
    assert out.shape == (5, 3, 1) and w.shape == (5, 3, 4)


def test_causal_and_mask_combine():
    rng = np.random.default_rng(5)
    q, k, v = rng.normal(size=(4, 2)), rng.normal(size=(4, 2)), rng.normal(size=(4, 3))
    pad = np.array([False, True, True, True])
    out, w = scaled_dot_product_attention(q, k, v, mask=pad, causal=True)
    both = pad & causal_mask(4)
    np.testing.assert_array_equal(w > 0, both)
    np.testing.assert_allclose(out, scaled_dot_product_attention(q, k, v, mask=both)[0])
    assert np.all(out[0] == 0.0)  # query 0 sees only key 0, which is padding


def test_a_fully_masked_row_gives_zeros_and_no_warning():
    q = k = v = np.eye(3)
    out, w = scaled_dot_product_attention(q, k, v, mask=np.zeros((3, 3), bool))
    assert np.all(out == 0.0) and np.all(w == 0.0)


def test_no_keys_gives_zero_output_and_empty_weights():
    out, w = scaled_dot_product_attention(np.ones((2, 3)), np.ones((0, 3)), np.ones((0, 4)))
    assert out.shape == (2, 4) and w.shape == (2, 0) and np.all(out == 0.0)
    assert np.all(blockwise_attention(np.ones((2, 3)), np.ones((0, 3)), np.ones((0, 4))) == 0.0)


def test_causal_mask():
    np.testing.assert_array_equal(causal_mask(3), np.tril(np.ones((3, 3), bool)))
    np.testing.assert_array_equal(causal_mask(2, 3), [[1, 0, 0], [1, 1, 0]])
    np.testing.assert_array_equal(causal_mask(3, 2), [[1, 0], [1, 1], [1, 1]])
    assert causal_mask(0).shape == (0, 0) and causal_mask(3).dtype == bool


@pytest.mark.parametrize("call, error, words", [
    (lambda: scaled_dot_product_attention(np.ones(3), np.ones((2, 3)), np.ones((2, 1))),
     ValueError, "q must have at least 2 dimensions"),
    (lambda: scaled_dot_product_attention(np.ones((1, 3)), np.ones((2, 4)), np.ones((2, 1))),
     ValueError, "same last dimension d_k"),
    (lambda: scaled_dot_product_attention(np.ones((1, 3)), np.ones((2, 3)), np.ones((3, 1))),
     ValueError, "the same n_k"),
    (lambda: scaled_dot_product_attention(np.ones((1, 0)), np.ones((2, 0)), np.ones((2, 1))),
     ValueError, "d_k >= 1"),
    (lambda: scaled_dot_product_attention(np.ones((2, 1, 3)), np.ones((3, 2, 3)),
                                          np.ones((3, 2, 1))), ValueError, "do not broadcast"),
    (lambda: scaled_dot_product_attention(np.ones((1, 3)), np.ones((2, 3)), np.ones((2, 1)),
                                          mask=np.ones((1, 2))), TypeError, "mask must be boolean"),
    (lambda: scaled_dot_product_attention(np.ones((1, 3)), np.ones((2, 3)), np.ones((2, 1)),
                                          mask=np.ones(3, bool)), ValueError, "mask of shape (3,)"),
    (lambda: scaled_dot_product_attention(np.ones((1, 3)), np.ones((2, 3)), np.ones((2, 1)),
                                          scale="2"), TypeError, "scale must be a real number"),
    (lambda: scaled_dot_product_attention(np.ones((1, 3)), np.ones((2, 3)), np.ones((2, 1)),
                                          scale=np.inf), ValueError, "scale must be finite"),
    (lambda: scaled_dot_product_attention(np.ones((1, 3)), np.ones((2, 3)), np.ones((2, 1)),
                                          causal=1), TypeError, "causal must be True or False"),
    (lambda: scaled_dot_product_attention([["a"]], [[1.0]], [[1.0]]), TypeError, "q must hold real"),
    (lambda: scaled_dot_product_attention([[1.0], [1.0, 2.0]], [[1.0]], [[1.0]]), ValueError,
     "q must be a rectangular array"),
    (lambda: blockwise_attention(np.ones((1, 3)), np.ones((2, 3)), np.ones((2, 1)), block_size=0),
     ValueError, "block_size must be a positive int"),
    (lambda: blockwise_attention(np.ones((1, 3)), np.ones((2, 3)), np.ones((2, 1)), block_size=2.0),
     TypeError, "block_size must be a positive int"),
    (lambda: blockwise_attention(np.ones((1, 3)), np.ones((2, 3)), np.ones((2, 1)), causal="yes"),
     TypeError, "causal must be True or False"),
    (lambda: causal_mask(-1), ValueError, "n_q must be a non-negative int"),
    (lambda: causal_mask(2, 1.5), TypeError, "n_k must be a non-negative int"),
])
def test_bad_input_is_named(call, error, words):
    with pytest.raises(error) as info:
        call()
    assert words in str(info.value)


if __name__ == "__main__":  # regenerate the stored PyTorch answers (needs torch)
    write_reference()
    print(f"wrote {REFERENCE}")


# --- partial softmax states (m, l, o): the merge is associative and commutative ------------------
from course_lib.attention import SoftmaxState, merge_softmax_states, softmax_state  # noqa: E402


@st.composite
def blocks_of_keys(draw):
    """Scores of n_q queries over n_k keys (some masked: -inf), values, and a cut into blocks."""
    n_q, n_k, d_v = draw(st.integers(1, 4)), draw(st.integers(1, 24)), draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**32 - 1))
    r = np.random.default_rng(seed)
    s = r.normal(0.0, draw(st.sampled_from([1.0, 5.0, 300.0])), (n_q, n_k))
    s[r.random((n_q, n_k)) < draw(st.sampled_from([0.0, 0.3, 0.9]))] = -np.inf
    v = r.normal(size=(n_k, d_v))
    cuts = sorted(draw(st.sets(st.integers(1, n_k - 1), max_size=n_k - 1)) if n_k > 1 else [])
    return s, v, np.split(np.arange(n_k), cuts), r


def _reduce_in_random_grouping(states, r):
    """Merge neighbours or any two states, chosen at random, until one is left."""
    states = list(states)
    while len(states) > 1:
        i, j = r.choice(len(states), 2, replace=False)
        merged = merge_softmax_states(*states[i], *states[j])
        states = [st_ for k, st_ in enumerate(states) if k not in (i, j)] + [merged]
    return states[0]


def _expected_output(s, v):
    """softmax over the unmasked keys (zeros for a query that sees none), times v."""
    seen = np.isfinite(s)
    m = np.where(seen.any(axis=1, keepdims=True), np.where(seen, s, -np.inf).max(axis=1, keepdims=True), 0.0)
    e = np.where(seen, np.exp(np.where(seen, s, 0.0) - m), 0.0)
    total = e.sum(axis=1, keepdims=True)
    return np.where(total > 0, e / np.where(total > 0, total, 1.0), 0.0) @ v


@given(blocks_of_keys())
def test_merging_blocks_in_any_grouping_and_order_gives_full_attention(x):
    """Associativity and commutativity at work: any cut, any grouping, any order, one answer."""
    s, v, blocks, r = x
    states = [softmax_state(s[:, b], v[b]) for b in blocks]
    total = _reduce_in_random_grouping(states, r)
    np.testing.assert_array_equal(total.m, s.max(axis=1))      # a max of maxes: exact
    np.testing.assert_allclose(total.output(), _expected_output(s, v), rtol=1e-12, atol=1e-14)
    whole = softmax_state(s, v)
    np.testing.assert_allclose(total.l, whole.l, rtol=1e-12, atol=0)
    np.testing.assert_allclose(total.o, whole.o, rtol=1e-12, atol=1e-14)


@given(blocks_of_keys())
def test_two_groupings_of_three_blocks_agree_to_rounding(x):
    s, v, _, r = x
    n_k = s.shape[1]
    if n_k < 3:
        return
    i, j = sorted(r.choice(np.arange(1, n_k), 2, replace=False))
    a, b, c = (softmax_state(s[:, k], v[k]) for k in np.split(np.arange(n_k), [i, j]))
    left = merge_softmax_states(*merge_softmax_states(*a, *b), *c)
    right = merge_softmax_states(*a, *merge_softmax_states(*b, *c))
    np.testing.assert_array_equal(left.m, right.m)
    np.testing.assert_allclose(left.l, right.l, rtol=1e-13, atol=0)
    np.testing.assert_allclose(left.o, right.o, rtol=1e-13, atol=1e-15)


@given(blocks_of_keys())
def test_the_merge_is_exactly_commutative_and_an_empty_block_changes_nothing(x):
    s, v, blocks, _ = x
    a = softmax_state(s[:, blocks[0]], v[blocks[0]])
    b = softmax_state(s[:, blocks[-1]], v[blocks[-1]])
    for got, want in zip(merge_softmax_states(*a, *b), merge_softmax_states(*b, *a)):
        np.testing.assert_array_equal(got, want)
    empty = SoftmaxState(np.full(s.shape[0], -np.inf), np.zeros(s.shape[0]),
                         np.zeros((s.shape[0], v.shape[1])))
    for got, want in zip(merge_softmax_states(*a, *empty), a):
        np.testing.assert_array_equal(got, want)


def test_two_empty_blocks_merge_into_an_empty_block_without_nan():
    empty = (np.array([-np.inf]), np.array([0.0]), np.array([[0.0, 0.0]]))
    m, l, o = merge_softmax_states(*empty, *empty)
    assert m[0] == -np.inf and l[0] == 0.0 and np.all(o == 0.0)
    assert np.all(SoftmaxState(m, l, o).output() == 0.0)


def test_the_merge_rescales_the_side_with_the_smaller_max():
    # one key each: scores 1 and 3, values 2 and 4 -> l = e^-2 + 1, o = 2 e^-2 + 4
    m, l, o = merge_softmax_states([1.0], [1.0], [[2.0]], [3.0], [1.0], [[4.0]])
    assert m[0] == 3.0
    assert l[0] == pytest.approx(np.exp(-2) + 1, rel=1e-15)
    assert o[0, 0] == pytest.approx(2 * np.exp(-2) + 4, rel=1e-15)
    # large scores on both sides: no overflow, the result is that of the union
    s, v = np.array([[800.0, -800.0, 799.0]]), np.array([[1.0], [2.0], [3.0]])
    both = merge_softmax_states(*softmax_state(s[:, :2], v[:2]), *softmax_state(s[:, 2:], v[2:]))
    np.testing.assert_allclose(both.output(), softmax(s) @ v, rtol=1e-14)


def test_state_functions_do_not_modify_their_inputs():
    r = np.random.default_rng(0)
    s, v = r.normal(size=(3, 5)), r.normal(size=(5, 2))
    a, b = softmax_state(s[:, :2], v[:2]), softmax_state(s[:, 2:], v[2:])
    args = [x.copy() for x in (*a, *b)]
    given_ = [x.copy() for x in args]
    s_copy, v_copy = s.copy(), v.copy()
    merge_softmax_states(*args)
    softmax_state(s, v)
    for x, y in zip(args, given_):
        np.testing.assert_array_equal(x, y)
    np.testing.assert_array_equal(s, s_copy)
    np.testing.assert_array_equal(v, v_copy)


@pytest.mark.parametrize("call, error, words", [
    (lambda: softmax_state([[1.0, 2.0]], [[1.0]]), ValueError, "v must have one row per score"),
    (lambda: softmax_state([[np.nan, 1.0]], [[1.0], [2.0]]), ValueError, "s must hold"),
    (lambda: softmax_state([[np.inf, 1.0]], [[1.0], [2.0]]), ValueError, "s must hold"),
    (lambda: softmax_state(["a"], [[1.0]]), TypeError, "s"),
    (lambda: merge_softmax_states([0.0], [1.0], [1.0], [0.0], [1.0], [[1.0]]), ValueError,
     "o_a"),
    (lambda: merge_softmax_states([0.0], [1.0], [[1.0]], [0.0, 1.0], [1.0], [[1.0]]), ValueError,
     "m_b, l_b"),
    (lambda: merge_softmax_states([0.0], [1.0], [[1.0]], [0.0], [1.0], "x"), TypeError, "o_b"),
])
def test_state_bad_input_is_named(call, error, words):
    with pytest.raises(error, match=words):
        call()
