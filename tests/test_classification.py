"""course_lib.classification: cross-entropy from logits, its gradient, one_hot and the MLP."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from course_lib.classification import (MLP, cross_entropy, cross_entropy_grad, one_hot,
                                       train_mlp)
from course_lib.softmax import softmax


@st.composite
def batches(draw, max_k=6, max_n=5, scale=20.0):
    """Logits (N, K) and labels (N,)."""
    k = draw(st.integers(1, max_k))
    n = draw(st.integers(1, max_n))
    z = draw(hnp.arrays(np.float64, (n, k), elements=st.floats(-scale, scale)))
    y = draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, k - 1)))
    return z, y


smoothing = st.sampled_from([0.0, 0.05, 0.1, 0.5, 0.9])


def ce_by_definition(z, y, eps=0.0):
    """The loss written out, with scipy: -mean(sum(t * log_softmax(z)))."""
    from scipy.special import log_softmax as sc_log_softmax

    z = np.asarray(z, float)
    k = z.shape[-1]
    t = (1 - eps) * np.eye(k)[y] + eps / k
    return float(-(t * sc_log_softmax(z, axis=-1)).sum(-1).mean())


# --- known values ------------------------------------------------------------------------------
def test_known_values():
    assert float(cross_entropy([1.0, 2.0, 3.0], 2)) == pytest.approx(0.40760596444438, rel=1e-14)
    assert float(cross_entropy(np.zeros((4, 10)), [0, 3, 9, 2])) == pytest.approx(np.log(10), rel=1e-15)
    # the double-softmax bug: probabilities passed as logits
    p = softmax([1.0, 2.0, 3.0])
    assert round(float(cross_entropy(p, 2)), 3) == 0.797


@given(batches(), smoothing)
def test_agrees_with_the_definition(batch, eps):
    z, y = batch
    assert float(cross_entropy(z, y, label_smoothing=eps)) == pytest.approx(
        ce_by_definition(z, y, eps), rel=1e-10, abs=1e-12)


# --- the maths laws ----------------------------------------------------------------------------
@given(batches(), smoothing)
def test_loss_is_non_negative_and_finite(batch, eps):
    z, y = batch
    loss = float(cross_entropy(z, y, label_smoothing=eps))
    assert np.isfinite(loss) and loss >= 0


@given(batches(), st.floats(-1e3, 1e3), smoothing)
def test_loss_and_gradient_are_shift_invariant(batch, c, eps):
    z, y = batch
    shifted = z + c
    assert float(cross_entropy(shifted, y, label_smoothing=eps)) == pytest.approx(
        float(cross_entropy(z, y, label_smoothing=eps)), rel=1e-9, abs=1e-9)
    np.testing.assert_allclose(cross_entropy_grad(shifted, y, label_smoothing=eps),
                               cross_entropy_grad(z, y, label_smoothing=eps), atol=1e-9)


@given(st.integers(1, 50), st.integers(1, 6), st.floats(-100, 100), smoothing)
def test_uniform_logits_give_log_k(k, n, c, eps):
    y = np.arange(n) % k
    assert float(cross_entropy(np.full((n, k), c), y, label_smoothing=eps)) == pytest.approx(
        np.log(k), rel=1e-12, abs=1e-15)


@given(batches(scale=5.0), smoothing)
def test_gradient_matches_central_finite_differences(batch, eps):
    z, y = batch
    g = cross_entropy_grad(z, y, label_smoothing=eps)
    h = 1e-5
    fd = np.zeros_like(z)
    for idx in np.ndindex(z.shape):
        up, down = z.copy(), z.copy()
        up[idx] += h
        down[idx] -= h
        fd[idx] = (float(cross_entropy(up, y, label_smoothing=eps))
                   - float(cross_entropy(down, y, label_smoothing=eps))) / (2 * h)
    np.testing.assert_allclose(g, fd, atol=1e-8)


@given(batches(), smoothing)
def test_gradient_rows_sum_to_zero_and_equal_p_minus_t_over_n(batch, eps):
    z, y = batch
    n, k = z.shape
    g = cross_entropy_grad(z, y, label_smoothing=eps)
    np.testing.assert_allclose(g.sum(axis=1), 0.0, atol=1e-15)
    t = (1 - eps) * one_hot(y, k) + eps / k
    np.testing.assert_allclose(g, (softmax(z) - t) / n, atol=1e-15)


@given(batches(), st.sampled_from([0.05, 0.1, 0.3, 0.6]))
def test_label_smoothing_bounds(batch, eps):
    """With smoothing the loss is at least the entropy of the target, which a perfect model
    reaches; and it lies between the plain loss weighted by 1 - eps and that plus eps times
    the mean of -log p over classes."""
    z, y = batch
    k = z.shape[1]
    t_true = 1 - eps + eps / k
    floor = -(t_true * np.log(t_true) + (k - 1) * (eps / k) * np.log(eps / k)) if k > 1 else 0.0
    loss = float(cross_entropy(z, y, label_smoothing=eps))
    assert loss >= floor - 1e-12
    # the floor is reached by the logits log t (softmax(log t) = t)
    t = (1 - eps) * one_hot(y, k) + eps / k
    assert float(cross_entropy(np.log(t), y, label_smoothing=eps)) == pytest.approx(floor, abs=1e-12)
    plain = float(cross_entropy(z, y))
    assert loss >= (1 - eps) * plain - 1e-9


def test_smoothing_keeps_a_confident_model_from_reaching_zero():
    z = np.array([[30.0, 0.0, 0.0]])
    assert float(cross_entropy(z, [0])) < 1e-12
    assert float(cross_entropy(z, [0], label_smoothing=0.1)) > 1.9  # 0.1 * 2/3 * 30 - ...


def test_large_logits_stay_finite():
    z = np.array([[1000.0, -1000.0, 0.0], [0.0, 800.0, -800.0]])
    loss = float(cross_entropy(z, [1, 2]))
    assert loss == pytest.approx((2000.0 + 1600.0) / 2)
    assert np.all(np.isfinite(cross_entropy_grad(z, [1, 2])))


# --- shapes and dtypes ----------------------------------------------------------------------------
def test_one_hot():
    np.testing.assert_array_equal(one_hot([1, 0, 2], 3), np.eye(3)[[1, 0, 2]])
    assert one_hot(np.array([[0, 1]]), 2).shape == (1, 2, 2)
    assert one_hot(2, 3).tolist() == [0.0, 0.0, 1.0]


def test_single_example_and_leading_axes():
    z = np.random.default_rng(0).normal(size=(2, 3, 4))
    y = np.array([[0, 1, 2], [3, 0, 1]])
    assert float(cross_entropy(z, y)) == pytest.approx(ce_by_definition(z.reshape(6, 4), y.ravel()))
    assert cross_entropy_grad(z, y).shape == z.shape
    assert cross_entropy_grad([1.0, 2.0, 3.0], 2).shape == (3,)


def test_dtypes():
    z32 = np.array([[1.0, 2.0, 3.0]], dtype=np.float32)
    assert cross_entropy(z32, [2]).dtype == np.float32
    assert cross_entropy_grad(z32, [2]).dtype == np.float32
    assert cross_entropy([[1, 2, 3]], [2]).dtype == np.float64
    assert cross_entropy_grad([[1, 2, 3]], [2]).dtype == np.float64
    assert isinstance(cross_entropy([[1.0, 2.0]], [0]), np.floating)


def test_inputs_are_not_modified():
    z = np.array([[1.0, 2.0, 3.0], [0.5, 0.0, -1.0]])
    y = np.array([2, 0])
    z0, y0 = z.copy(), y.copy()
    cross_entropy(z, y, label_smoothing=0.1)
    cross_entropy_grad(z, y, label_smoothing=0.1)
    one_hot(y, 3)
    np.testing.assert_array_equal(z, z0)
    np.testing.assert_array_equal(y, y0)


# --- bad input --------------------------------------------------------------------------------------
@pytest.mark.parametrize("f", [cross_entropy, cross_entropy_grad])
@pytest.mark.parametrize("z, y, kwargs, error, says", [
    ([[1.0, 2.0]], [2], {}, ValueError, "y must hold labels"),
    ([[1.0, 2.0]], [-1], {}, ValueError, "y must hold labels"),
    ([[1.0, 2.0]], [0.0], {}, TypeError, "integer class labels"),
    ([[1.0, 2.0]], [True], {}, TypeError, "integer class labels"),
    ([[1.0, 2.0], [0.0, 1.0]], [0], {}, ValueError, "one label per row"),
    ([[1.0, 2.0]], [0], {"label_smoothing": 1.0}, ValueError, "label_smoothing"),
    ([[1.0, 2.0]], [0], {"label_smoothing": -0.1}, ValueError, "label_smoothing"),
    ([[1.0, 2.0]], [0], {"label_smoothing": "0.1"}, TypeError, "label_smoothing"),
    (np.zeros((0, 3)), np.zeros(0, int), {}, ValueError, "no examples"),
    (3.0, 0, {}, ValueError, "scalar"),
    ([["a", "b"]], [0], {}, TypeError, "z must hold real numbers"),
])
def test_bad_input_names_the_argument(f, z, y, kwargs, error, says):
    with pytest.raises(error, match=says):
        f(z, y, **kwargs)


def test_one_hot_bad_input():
    with pytest.raises(ValueError, match="at most 2"):
        one_hot([3], 3)
    with pytest.raises(TypeError, match="k must be a positive int"):
        one_hot([0], 3.0)
    with pytest.raises(ValueError, match="k must be a positive int"):
        one_hot([0], 0)


# --- the MLP ----------------------------------------------------------------------------------------
def test_mlp_gradients_match_central_finite_differences():
    rng = np.random.default_rng(1)
    model = MLP.init(5, 7, 4, rng)
    model.b1 += rng.normal(size=7)
    model.b2 += rng.normal(size=4)
    X = rng.normal(size=(6, 5))
    y = rng.integers(0, 4, 6)
    for eps in (0.0, 0.1):
        loss, grads = model.gradients(X, y, label_smoothing=eps)
        assert loss == pytest.approx(model.loss(X, y, label_smoothing=eps))
        h = 1e-6
        for name, w in model.params.items():
            fd = np.zeros_like(w)
            for idx in np.ndindex(w.shape):
                old = w[idx]
                w[idx] = old + h
                up = model.loss(X, y, label_smoothing=eps)
                w[idx] = old - h
                down = model.loss(X, y, label_smoothing=eps)
                w[idx] = old
                fd[idx] = (up - down) / (2 * h)
            np.testing.assert_allclose(grads[name], fd, atol=1e-8, err_msg=name)


def test_train_mlp_is_seeded_learns_and_leaves_its_input_alone():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + 2 * (X[:, 2] > 0)
    X0 = X.copy()
    a = train_mlp(X, y, hidden=16, steps=150, lr=0.02, seed=3)
    b = train_mlp(X, y, hidden=16, steps=150, lr=0.02, seed=3)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(a.logits(X), b.logits(X))
    assert len(a.losses) == 151 and a.losses[0] > a.losses[-1]
    assert a.losses[0] == pytest.approx(np.log(4), rel=0.2)  # untrained: about log K
    assert (a.logits(X).argmax(axis=1) == y).mean() > 0.95
    c = train_mlp(X, y, hidden=16, steps=150, lr=0.02, seed=4)
    assert not np.array_equal(a.logits(X), c.logits(X))


def test_train_mlp_bad_input():
    with pytest.raises(ValueError, match="one label per row"):
        train_mlp(np.zeros((3, 2)), [0, 1])
    with pytest.raises(TypeError, match="steps"):
        train_mlp(np.zeros((2, 2)), [0, 1], steps=1.5)
    with pytest.raises(ValueError, match="X must have shape"):
        train_mlp(np.zeros((2, 2)), [0, 1], steps=1).logits(np.zeros((2, 3)))
