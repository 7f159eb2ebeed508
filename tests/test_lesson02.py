"""Lesson 02 beyond its printed outputs: softmax undone up to its shift
(``course_lib.softmax.logits_from_probs``), one shift for a whole batch, Gaussian classes giving
linear logits, softmax regression's redundant weights (``course_lib.classification.canonical_weights``)
and the numbers the exercise notebook states."""

from pathlib import Path

import nbformat
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from course_lib.classification import canonical_weights
from course_lib.grading import EXERCISES
from course_lib.softmax import logits_from_probs, softmax

ROOT = Path(__file__).resolve().parents[1]
LESSON = nbformat.read(ROOT / "notebooks" / "02_shift_invariance.ipynb", as_version=4)
SOLUTION = nbformat.read(ROOT / "solutions" / "02_solutions_shift_invariance.ipynb", as_version=4)
TEXT = "\n".join(c.source for c in LESSON.cells if c.cell_type == "markdown")
SOLUTION_TEXT = "\n".join(c.source for c in SOLUTION.cells if c.cell_type == "markdown")

batches = hnp.arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(2, 6)),
                     elements=st.floats(-30, 30))


# --- logits_from_probs ----------------------------------------------------------------------------
@given(batches, st.sampled_from([0, 1, -1]))
def test_logits_from_probs_undoes_softmax_up_to_a_shift(z, axis):
    p = softmax(z, axis=axis)
    x = logits_from_probs(p, axis=axis)
    np.testing.assert_allclose(softmax(x, axis=axis), p, rtol=1e-9, atol=1e-300)
    finite = np.isfinite(x)
    np.testing.assert_array_equal(finite, p > 0)
    centre = np.sum(np.where(finite, x, 0.0), axis=axis) / finite.sum(axis=axis)
    np.testing.assert_allclose(centre, 0.0, atol=1e-12 * (1 + np.abs(z).max()))
    # where nothing underflows, it is z minus its mean along the axis: the shift is all that is lost
    if np.all(p > 1e-300):
        np.testing.assert_allclose(x, z - z.mean(axis=axis, keepdims=True), atol=1e-9 * (1 + np.abs(z).max()))


def test_logits_from_probs_at_the_edges_and_for_bad_input():
    np.testing.assert_array_equal(logits_from_probs([0.5, 0.0, 0.5]), [0.0, -np.inf, 0.0])
    assert np.isnan(logits_from_probs([[0.0, 0.0], [0.5, 0.5]])[0]).all()
    assert np.isnan(logits_from_probs([[np.nan, 0.5], [0.5, 0.5]])[0]).all()
    np.testing.assert_allclose(logits_from_probs([[1, 3], [2, 2]]), [[-np.log(3) / 2, np.log(3) / 2], [0, 0]])
    assert logits_from_probs(np.float32([0.25, 0.75])).dtype == np.float32
    p = np.array([[1e-300, 0.5, 0.5], [0.2, 0.3, 0.5]])
    x = logits_from_probs(p)
    np.testing.assert_allclose(x[0], np.log(p[0]) - np.log(p[0]).mean(), rtol=1e-15)
    np.testing.assert_array_equal(p, [[1e-300, 0.5, 0.5], [0.2, 0.3, 0.5]])   # input untouched
    with pytest.raises(ValueError, match="p must be non-negative"):
        logits_from_probs([0.5, -0.1, 0.6])
    with pytest.raises(TypeError, match="p"):
        logits_from_probs(["a"])


# --- one shift for the whole batch ---------------------------------------------------------------
def test_one_global_shift_is_valid_for_every_row_and_underflows_far_below():
    z = np.array([[1000.0, 1001.0, 1002.0], [1.0, 2.0, 3.0], [-1000.0, -999.0, -998.0]])
    for row in z:                                      # exact arithmetic: any constant is a valid shift
        np.testing.assert_allclose(softmax(row - z.max()), softmax(row), rtol=1e-15)
    with np.errstate(invalid="ignore"):
        e = np.exp(z - z.max())
        one_shift = e / e.sum(axis=1, keepdims=True)
    assert np.isfinite(one_shift[0]).all() and np.isnan(one_shift[1:]).all()
    assert "still a valid shift for the rows near that max" not in TEXT.replace("\n", " ")
    assert "a valid shift for every row" in TEXT.replace("\n", " ")


# --- Gaussian classes ------------------------------------------------------------------------------
@given(st.integers(0, 10_000))
def test_gaussian_classes_with_a_shared_covariance_give_softmax_of_linear_logits(seed):
    rng = np.random.default_rng(seed)
    K, d = int(rng.integers(2, 5)), int(rng.integers(1, 4))
    mu = rng.normal(0.0, 2.0, (K, d))
    A = rng.normal(0.0, 1.0, (d, d))
    Sigma = A @ A.T + 0.5 * np.eye(d)
    prior = rng.dirichlet(np.ones(K))
    X = rng.normal(0.0, 2.0, (6, d))
    inv = np.linalg.inv(Sigma)
    log_joint = np.stack([np.log(prior[k]) - 0.5 * np.sum((X - mu[k]) @ inv * (X - mu[k]), axis=1)
                          for k in range(K)], axis=1)   # log pi_k + log N, up to the shared constant
    W = mu @ inv
    b = -0.5 * np.sum(mu @ inv * mu, axis=1) + np.log(prior)
    np.testing.assert_allclose(softmax(X @ W.T + b, axis=1), softmax(log_joint, axis=1), rtol=1e-8, atol=1e-14)


# --- canonical_weights and weight decay ------------------------------------------------------------
@given(st.integers(0, 10_000))
def test_canonical_weights_predict_the_same_with_the_least_norm(seed):
    rng = np.random.default_rng(seed)
    K, d = int(rng.integers(2, 6)), int(rng.integers(1, 5))
    W, b, X = rng.normal(0, 3, (K, d)), rng.normal(0, 3, K), rng.normal(0, 1, (7, d))
    W0, b0 = canonical_weights(W, b)
    np.testing.assert_allclose(softmax(X @ W0.T + b0, axis=1), softmax(X @ W.T + b, axis=1), rtol=1e-10)
    np.testing.assert_allclose(W0.sum(axis=0), 0.0, atol=1e-12)
    assert abs(b0.sum()) < 1e-12
    v, c = rng.normal(0, 1, d), float(rng.normal())
    W1, b1 = canonical_weights(W + v, b + c)             # every equivalent pair has the same one
    np.testing.assert_allclose(W1, W0, atol=1e-12)
    np.testing.assert_allclose(b1, b0, atol=1e-12)
    assert np.sum(W0**2) <= np.sum((W0 + v) ** 2) + 1e-12


def test_canonical_weights_bad_input_and_no_mutation():
    W, b = np.array([[1.0, 2.0], [3.0, 6.0]]), np.array([5.0, 1.0])
    W0, b0 = canonical_weights(W, b)
    np.testing.assert_array_equal(W0, [[-1.0, -2.0], [1.0, 2.0]])
    np.testing.assert_array_equal(b0, [2.0, -2.0])
    np.testing.assert_array_equal(W, [[1.0, 2.0], [3.0, 6.0]])
    np.testing.assert_array_equal(b, [5.0, 1.0])
    with pytest.raises(ValueError, match="W must be 2-D"):
        canonical_weights([1.0, 2.0], [0.0, 0.0])
    with pytest.raises(ValueError, match="b must have one entry per row of W"):
        canonical_weights(W, [1.0, 2.0, 3.0])


def test_weight_decay_drives_the_rows_to_sum_to_zero_and_plain_training_keeps_their_sum():
    """The lesson's claim, rechecked on other data: the cross-entropy gradient's rows sum to zero."""
    rng = np.random.default_rng(7)
    X = rng.normal(0.0, 1.0, (120, 3))
    y = rng.integers(0, 4, 120)
    Y = np.eye(4)[y]
    W_start, b_start = rng.normal(0, 1, (4, 3)) + 2.0, rng.normal(0, 1, 4) + 1.0
    for weight_decay in (0.0, 0.1):
        W, b = W_start.copy(), b_start.copy()
        for _ in range(600):
            G = (softmax(X @ W.T + b, axis=1) - Y) / len(X)
            W -= 0.5 * (G.T @ X + weight_decay * W)
            b -= 0.5 * (G.sum(axis=0) + weight_decay * b)
        if weight_decay:
            np.testing.assert_allclose(W.sum(axis=0), 0.0, atol=1e-9)
            W0, b0 = canonical_weights(W, b)
            np.testing.assert_allclose(W0, W, atol=1e-9)
        else:
            np.testing.assert_allclose(W.sum(axis=0), W_start.sum(axis=0), atol=1e-10)
            np.testing.assert_allclose(b.sum(), b_start.sum(), atol=1e-10)


# --- the exercises ---------------------------------------------------------------------------------
def test_lesson_02_has_three_graded_exercises():
    names = [n for n, e in EXERCISES.items() if e.lesson == "02"]
    assert names == ["softmax_axis", "logits_from_probs", "canonical_weights"]


def test_the_numbers_the_exercise_notebook_states():
    x = logits_from_probs([0.25, 0.25, 0.5])
    assert "`[-0.231049, -0.231049, 0.462098]`" in SOLUTION_TEXT
    assert [f"{v:.6f}" for v in x] == ["-0.231049", "-0.231049", "0.462098"]
    np.testing.assert_allclose(x, np.log(2) * np.array([-1, -1, 2]) / 3, rtol=1e-15)
    assert "reach $-690.8$" in SOLUTION_TEXT and f"{np.log(1e-300):.1f}" == "-690.8"
    assert "stay above $-2$" in SOLUTION_TEXT and np.log(0.2) > -2
    assert "`[0, -inf, 0]`" in SOLUTION_TEXT
    assert "`W0 = [[-1, -2], [1, 2]]`, `b0 = [2, -2]`" in SOLUTION_TEXT
    for k, name in ((2, "logits_from_probs"), (3, "canonical_weights")):
        assert f"## Exercise {k} · `{name}`" in SOLUTION_TEXT
