"""course_lib.sampling (top-k, top-p) and course_lib.distillation: the laws they promise."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from course_lib.classification import MLP, cross_entropy_grad
from course_lib.distillation import (distill_mlp, distillation_grad, distillation_loss,
                                     weight_gradients)
from course_lib.sampling import top_k_probs, top_p_probs
from course_lib.softmax import softmax

# probabilities with ties: softmax of logits drawn from a few values
tied_logits = st.lists(st.sampled_from([-3.0, -1.0, 0.0, 0.5, 2.0]), min_size=1, max_size=9)
logits = st.lists(st.floats(-20, 20), min_size=1, max_size=12)
top_ps = st.floats(1e-6, 1.0)


def _mass_above(p):
    return np.array([p[p > pi].sum() for pi in p])


@given(st.one_of(logits, tied_logits), top_ps)
def test_top_p_keeps_exactly_the_tokens_the_rule_names(zl, top_p):
    p = softmax(np.array(zl))
    q = top_p_probs(p, top_p)
    keep = ((_mass_above(p) < top_p * p.sum()) | (top_p >= 1)) & (p > 0)
    np.testing.assert_array_equal(q > 0, keep)
    np.testing.assert_allclose(q[keep], p[keep] / p[keep].sum(), rtol=1e-12)
    assert p[keep].sum() >= min(top_p, 1.0) * p.sum() * (1 - 1e-12)     # the nucleus reaches top_p
    if keep.sum() > 1 and top_p < 1:    # minimal up to ties: without its least likely tokens it falls short
        smallest = p[keep].min()
        assert p[keep & (p > smallest)].sum() < top_p * p.sum() * (1 + 1e-12)


@given(st.one_of(logits, tied_logits), top_ps, st.integers(0, 2**32 - 1))
def test_top_p_and_top_k_never_look_at_positions(zl, top_p, seed):
    p = softmax(np.array(zl))
    perm = np.random.default_rng(seed).permutation(p.size)
    k = 1 + seed % p.size
    for f, arg in ((top_p_probs, top_p), (top_k_probs, k)):
        moved, back = f(p[perm], arg), f(p, arg)[perm]
        np.testing.assert_array_equal(moved > 0, back > 0)            # the same tokens kept
        np.testing.assert_allclose(moved, back, rtol=1e-14)          # (sums in another order)


@given(st.one_of(logits, tied_logits), st.integers(1, 15))
def test_top_k_keeps_the_k_most_likely_and_their_ties(zl, k):
    p = softmax(np.array(zl))
    q = top_k_probs(p, k)
    kept = q > 0
    assert kept.sum() >= min(k, np.count_nonzero(p))
    if (~kept & (p > 0)).any():
        assert p[kept].min() > p[~kept].max()       # every kept token beats every dropped one
        assert kept.sum() == np.sum(p >= np.sort(p)[::-1][k - 1])
    np.testing.assert_allclose(q.sum(), 1.0, rtol=1e-12)


def test_rows_are_filtered_on_their_own_and_inputs_are_left_alone():
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.45, 0.45], [0.25, 0.5, 0.25]])
    before = p.copy()
    np.testing.assert_array_equal(top_p_probs(p, 0.6), np.stack([top_p_probs(r, 0.6) for r in p]))
    np.testing.assert_array_equal(top_k_probs(p, 1), np.stack([top_k_probs(r, 1) for r in p]))
    np.testing.assert_array_equal(p, before)
    assert top_p_probs(np.float32([0.5, 0.5]), 0.5).dtype == np.float32
    np.testing.assert_array_equal(top_p_probs([1.0, 1e-20], 1.0), [1.0, 1e-20])   # top_p = 1 keeps all


@pytest.mark.parametrize("call, error, message", [
    (lambda: top_k_probs([0.5, 0.5], 1.5), TypeError, "k must be an integer"),
    (lambda: top_k_probs([0.5, 0.5], True), TypeError, "k must be an integer"),
    (lambda: top_k_probs([0.5, 0.5], 0), ValueError, "k must be an integer >= 1"),
    (lambda: top_p_probs([0.5, 0.5], 0.0), ValueError, "top_p must be in"),
    (lambda: top_p_probs([0.5, 0.5], "0.5"), TypeError, "top_p must be a number"),
    (lambda: top_p_probs([0.5, -0.5], 0.5), ValueError, "p must hold finite, non-negative"),
    (lambda: top_p_probs([np.nan, 0.5], 0.5), ValueError, "p must hold finite, non-negative"),
    (lambda: top_p_probs([0.0, 0.0], 0.5), ValueError, "positive sum"),
    (lambda: top_k_probs(0.5, 1), ValueError, "at least one entry"),
])
def test_bad_arguments_are_named(call, error, message):
    with pytest.raises(error, match=message):
        call()


@given(st.lists(st.floats(-5, 5), min_size=6, max_size=6), st.floats(0.5, 20))
def test_the_distillation_gradient_is_the_derivative_of_the_loss(zl, T):
    z = np.array(zl).reshape(2, 3)
    v = np.roll(z, 1, axis=1) + 0.3
    h = 1e-6
    fd = np.zeros_like(z)
    for idx in np.ndindex(z.shape):
        e = np.zeros_like(z)
        e[idx] = h
        fd[idx] = (distillation_loss(z + e, v, T) - distillation_loss(z - e, v, T)) / (2 * h)
    np.testing.assert_allclose(fd, distillation_grad(z, v, T), atol=1e-7)


def test_weight_gradients_backpropagate_like_the_mlp_and_distill_mlp_checks_its_arguments():
    rng = np.random.default_rng(0)
    model = MLP.init(4, 5, 3, rng)
    X, y = rng.normal(size=(6, 4)), np.array([0, 1, 2, 0, 1, 2])
    g = weight_gradients(model, X, cross_entropy_grad(model.logits(X), y))
    _, expected = model.gradients(X, y)
    for name in model.NAMES:
        np.testing.assert_allclose(g[name], expected[name], rtol=1e-12)
    v = rng.normal(size=(6, 3))
    with pytest.raises(ValueError, match="temperature"):
        distill_mlp(X, v, y, temperature=0.0)
    with pytest.raises(ValueError, match="alpha"):
        distill_mlp(X, v, y, temperature=2.0, alpha=1.5)
    with pytest.raises(ValueError, match="shapes"):
        distill_mlp(X, v[:5], y, temperature=2.0)
    a = distill_mlp(X, v, y, temperature=2.0, steps=5, hidden=4)
    b = distill_mlp(X, v, y, temperature=2.0, steps=5, hidden=4)
    np.testing.assert_array_equal(a.W1, b.W1)                   # seeded, deterministic
    assert a.losses[-1] < a.losses[0]
