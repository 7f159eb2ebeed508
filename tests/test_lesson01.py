"""Lesson 01 beyond its printed outputs: the laws its new sections teach (why the exponential,
maximum entropy, the Jacobian as a covariance and a Hessian), ``course_lib.softmax.softmax_jacobian``,
and the numbers the exercise notebook states."""

import re
from pathlib import Path

import nbformat
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from course_lib.grading import EXERCISES
from course_lib.softmax import entropy, logsumexp, softmax, softmax_jacobian

ROOT = Path(__file__).resolve().parents[1]
LESSON = nbformat.read(ROOT / "notebooks" / "01_definition.ipynb", as_version=4)
SOLUTION = nbformat.read(ROOT / "solutions" / "01_solutions_definition.ipynb", as_version=4)
TEXT = "\n".join(c.source for c in LESSON.cells if c.cell_type == "markdown")
SOLUTION_TEXT = "\n".join(c.source for c in SOLUTION.cells if c.cell_type == "markdown")

logits = hnp.arrays(np.float64, st.integers(2, 8), elements=st.floats(-20, 20))


def _fd_jacobian(z, h=1e-5):
    return np.stack([(softmax(z + h * e) - softmax(z - h * e)) / (2 * h) for e in np.eye(z.size)], axis=1)


# --- softmax_jacobian -----------------------------------------------------------------------------
@given(logits)
def test_the_jacobian_is_the_derivative_and_a_covariance(z):
    J = softmax_jacobian(z)
    p = softmax(z)
    np.testing.assert_allclose(J, _fd_jacobian(z), atol=1e-8)
    Y = np.eye(z.size)                                  # row k: the one-hot label of class k
    cov = (Y - p).T @ (p[:, None] * (Y - p))            # Cov(Y) under p
    np.testing.assert_allclose(J, cov, atol=1e-15)
    np.testing.assert_allclose(J, J.T, atol=0)
    np.testing.assert_allclose(J @ np.ones(z.size), 0.0, atol=1e-15)
    assert np.linalg.eigvalsh(J).min() >= -1e-15        # positive semidefinite


@given(hnp.arrays(np.float64, st.integers(2, 6), elements=st.floats(-3, 3)))
def test_its_rank_is_k_minus_1_with_the_ones_as_null_space(z):
    eigenvalues, vectors = np.linalg.eigh(softmax_jacobian(z))
    assert np.sum(eigenvalues > 1e-10) == z.size - 1
    null = vectors[:, 0]
    np.testing.assert_allclose(np.abs(null), np.full(z.size, 1 / np.sqrt(z.size)), atol=1e-7)


@settings(max_examples=30)
@given(hnp.arrays(np.float64, st.integers(2, 5), elements=st.floats(-5, 5)))
def test_it_is_the_hessian_of_logsumexp_and_cross_entropy_is_convex(z):
    h = 1e-4
    E = h * np.eye(z.size)
    f = lambda x: float(logsumexp(x))  # noqa: E731
    H = np.array([[(f(z + E[i] + E[j]) - f(z + E[i] - E[j]) - f(z - E[i] + E[j]) + f(z - E[i] - E[j]))
                   / (4 * h * h) for j in range(z.size)] for i in range(z.size)])
    np.testing.assert_allclose(H, softmax_jacobian(z), atol=1e-6)
    # cross-entropy -log p_y = logsumexp(z) - z_y lies above its tangent plane (convexity)
    rng = np.random.default_rng(0)
    y = 0
    loss = lambda x: float(logsumexp(x)) - x[y]  # noqa: E731
    grad = softmax(z) - np.eye(z.size)[y]
    for _ in range(5):
        w = z + rng.normal(0.0, 3.0, z.size)
        assert loss(w) >= loss(z) + grad @ (w - z) - 1e-12


def test_softmax_jacobian_batches_dtypes_edges_and_bad_input():
    Z = np.array([[1000.0, 1001.0, 1002.0], [1.0, 2.0, 3.0], [-1000.0, -999.0, -998.0]])
    J = softmax_jacobian(Z)
    assert J.shape == (3, 3, 3)
    np.testing.assert_allclose(J[0], J[1], rtol=1e-13, atol=1e-16)
    np.testing.assert_allclose(J[2], J[1], rtol=1e-13, atol=1e-16)
    np.testing.assert_array_equal(softmax_jacobian([0.0, 0.0]), [[0.25, -0.25], [-0.25, 0.25]])
    assert softmax_jacobian(np.float32([1, 2])).dtype == np.float32
    assert softmax_jacobian([1, 2, 3]).dtype == np.float64
    J = softmax_jacobian([800.0, 0.0])                   # p = (1, 0): all zeros, none of them -0.0
    assert np.all(J == 0) and not np.any(np.signbit(J))
    z = np.array([3.0, 1.0])
    softmax_jacobian(z)
    np.testing.assert_array_equal(z, [3.0, 1.0])
    with pytest.raises(ValueError, match="z"):
        softmax_jacobian(1.0)
    with pytest.raises(TypeError, match="z"):
        softmax_jacobian(["a", "b"])


# --- why the exponential -------------------------------------------------------------------------
def _normalised(f, z):
    v = f(np.asarray(z, dtype=float))
    return v / v.sum()


def test_a_normalised_softplus_is_positive_increasing_smooth_and_not_shift_invariant():
    softplus = lambda x: np.log1p(np.exp(x))  # noqa: E731
    x = np.linspace(-5, 5, 101)
    assert np.all(softplus(x) > 0) and np.all(np.diff(softplus(x)) > 0)
    z = np.array([1.0, 2.0, 3.0])
    a, b = _normalised(softplus, z), _normalised(softplus, z + 5)
    assert np.max(np.abs(a - b)) > 0.05
    assert "softplus" in TEXT and "$(6, 7, 8)$" in TEXT


@given(logits, st.floats(1.1, 20), st.floats(-50, 50))
def test_any_base_is_softmax_at_a_temperature_and_shift_invariant(z, base, c):
    p = _normalised(lambda x: base ** x, z)
    np.testing.assert_allclose(p, softmax(z, temperature=1 / np.log(base)), rtol=1e-9, atol=1e-300)
    np.testing.assert_allclose(_normalised(lambda x: base ** x, z + c), p, rtol=1e-9, atol=1e-300)


def test_the_text_says_why_and_no_longer_that_only_the_exponential_keeps_everything():
    assert "Only the exponential\nkeeps everything" not in TEXT and "keeps everything." not in TEXT
    assert "h(a + b) = h(a)\\, h(b)" in TEXT and "\\tau = 1 / \\ln \\beta" in TEXT
    assert "singular, so softmax cannot be inverted" not in TEXT.replace("\n", " ")
    assert "What rules out an inverse is shift invariance" in TEXT.replace("\n", " ")


@given(hnp.arrays(np.float64, 3, elements=st.floats(-5, 5)), st.floats(-1, 1))
def test_softmax_has_the_largest_entropy_for_its_expected_score(z, s):
    """Any q with the same sum and the same expected score as p = softmax(z) has no more entropy."""
    p = softmax(z)
    A = np.stack([np.ones(3), z])
    d = np.linalg.svd(A)[2][-1]                          # orthogonal to 1 and to z
    if np.linalg.matrix_rank(A) < 2:
        return
    q = p + s * d
    if np.any(q < 0):
        return
    assert float(entropy(q)) <= float(entropy(p)) + 1e-12


# --- the exercises ---------------------------------------------------------------------------------
def test_lesson_01_has_three_graded_exercises():
    names = [n for n, e in EXERCISES.items() if e.lesson == "01"]
    assert names == ["softmax", "softmax_jacobian", "two_class_softmax"]


def test_the_numbers_the_exercise_notebook_states():
    assert "`[[0.25, -0.25], [-0.25, 0.25]]`" in SOLUTION_TEXT
    np.testing.assert_array_equal(EXERCISES["softmax_jacobian"].reference([0, 0]), [[0.25, -0.25], [-0.25, 0.25]])
    np.testing.assert_allclose(softmax_jacobian([1000.0, 1001.0, 1002.0]), softmax_jacobian([1, 2, 3]), rtol=1e-13)
    two = EXERCISES["two_class_softmax"].reference
    assert "0.73105858" in SOLUTION_TEXT and f"{float(two(2.0, 1.0)):.8f}" == "0.73105858"
    assert float(two(3, 3)) == 0.5
    sigmoid = lambda x: 1 / (1 + np.exp(-x))  # noqa: E731
    np.testing.assert_allclose(two(np.array([1000.0, 0.5, -1000.0]), np.array([1001.0, 0.0, -999.5])),
                               sigmoid(np.array([-1.0, 0.5, -0.5])), rtol=1e-15)
    np.testing.assert_array_equal(two(np.array([800.0, -800.0]), np.array([-800.0, 800.0])), [1.0, 0.0])
    with np.errstate(over="ignore", invalid="ignore"):
        ea, eb = np.exp([1000.0, -1000.0]), np.exp([1001.0, -999.5])
        assert np.isnan(ea / (ea + eb)).all()           # "typed in ... these give nan"
    for k, name in ((2, "softmax_jacobian"), (3, "two_class_softmax")):
        assert f"## Exercise {k} · `{name}`" in SOLUTION_TEXT
