"""Lesson 04, temperature: the numbers its text states, and the laws it teaches, rechecked."""

import contextlib
import functools
import io
import re
from pathlib import Path

import nbformat
import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from course_lib.softmax import entropy, log_softmax, softmax

ROOT = Path(__file__).resolve().parents[1]
LESSON = ROOT / "notebooks" / "04_temperature.ipynb"
NB = nbformat.read(LESSON, as_version=4)
TEXT = "\n".join(c.source for c in NB.cells if c.cell_type == "markdown")
CODE = {c.id: c.source for c in NB.cells if c.cell_type == "code"}

logits = st.lists(st.floats(-30, 30), min_size=2, max_size=10).map(np.array)
taus = st.floats(0.05, 50)


def test_the_numbers_the_text_states():
    assert "becomes $[1000, 2000, 3000]$" in TEXT
    np.testing.assert_array_equal(np.array([1.0, 2.0, 3.0]) / 0.001, [1000, 2000, 3000])
    # the largest standard deviation of a frequency from 1000 draws: sqrt(1/4 / 1000)
    assert "at most $0.016$ (at $p = 1/2$)" in TEXT
    assert f"{np.sqrt(0.25 / 1000):.3f}" == "0.016"
    assert "1000 seeded draws" in TEXT and "n = 1000" in CODE["sampling-demo"]
    assert "200 draws" in TEXT and "n=200" in CODE["demo-sampler"]


def test_the_lesson_has_the_course_shape():
    first = NB.cells[0].source
    assert first.startswith("# Lesson 04 · Temperature") and "**You will learn**" in first
    assert "[03 · Overflow and the max trick](03_max_trick.ipynb)" in first
    assert NB.cells[1].id == "setup"
    headings = re.findall(r"^## (.+)$", TEXT, re.M)
    assert headings[-4:] == ["Pitfalls", "Summary", "Exercises", "References"]
    assert [h.split(".")[0] for h in headings[:-4]] == [str(i) for i in range(1, 9)]
    assert TEXT.count("> **Predict, then run.**") >= 3
    assert "(../exercises/04_exercises_temperature.ipynb)" in TEXT and "(../solutions/04_solutions_temperature.ipynb)" in TEXT
    assert TEXT.rstrip().endswith("[05 · Classification and calibration →](05_classification_calibration.ipynb)")
    assert "Distilling the Knowledge in a Neural Network" in TEXT
    for demo in ("temperature_explorer(", "temperature_compare(", "temperature_sampler("):
        assert any(src.startswith(demo) for src in CODE.values()), demo


@given(logits, taus, taus)
def test_entropy_never_decreases_with_the_temperature(z, t1, t2):
    lo, hi = sorted((t1, t2))
    h_lo, h_hi = float(entropy(softmax(z / lo))), float(entropy(softmax(z / hi)))
    assert h_lo <= h_hi + 1e-9
    assert -1e-12 <= h_lo and h_hi <= np.log(z.size) + 1e-12


@given(logits, st.floats(0.2, 10))
def test_the_entropy_derivative_is_the_variance_over_tau_cubed(z, tau):
    p = softmax(z / tau)
    var = float(p @ (z - p @ z) ** 2)
    h = 1e-4 * tau
    fd = (float(entropy(softmax(z / (tau + h)))) - float(entropy(softmax(z / (tau - h))))) / (2 * h)
    assert abs(fd - var / tau**3) <= 1e-5 * (1 + var / tau**3)


@given(logits, taus)
def test_temperature_on_probabilities_is_a_renormalised_power(z, tau):
    np.testing.assert_allclose(softmax(log_softmax(z) / tau), softmax(z / tau), rtol=1e-9, atol=1e-300)


@given(logits)
def test_the_limits(z):
    # tau -> 0: the argmax (shared between ties); tau -> infinity: uniform
    m = z.max()
    top = np.isclose(z, m, rtol=0, atol=0)
    gap = np.min(m - z[~top]) if (~top).any() else 1.0
    cold = softmax(z / (gap / 800))
    np.testing.assert_allclose(cold, top / top.sum(), atol=1e-300, rtol=1e-12)
    hot = softmax(z / 1e9)
    np.testing.assert_allclose(hot, np.full(z.size, 1 / z.size), rtol=1e-6)


@given(st.lists(st.floats(-5, 5), min_size=3, max_size=8), st.floats(1.0, 30.0))
def test_the_distillation_gradient_is_p_minus_q_over_T(zl, T):
    z = np.array(zl)
    v = np.roll(z, 1) + 0.5
    def loss(x):
        return float(-(softmax(v / T) * log_softmax(x / T)).sum())
    h = 1e-6
    fd = np.array([(loss(z + h * e) - loss(z - h * e)) / (2 * h) for e in np.eye(z.size)])
    np.testing.assert_allclose(fd, (softmax(z / T) - softmax(v / T)) / T, atol=1e-7)


def test_the_sampling_exercise_states_its_numbers_right():
    from course_lib.exercises.lesson04 import SAMPLE_REFERENCE

    nb = nbformat.read(ROOT / "solutions" / "04_solutions_temperature.ipynb", as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    c = np.cumsum(softmax([1.0, 2.0, 3.0]))
    assert f"$c = [{c[0]:.3f}, {c[1]:.3f}, {c[2]:.0f}]$" in text
    tokens = SAMPLE_REFERENCE([1.0, 2.0, 3.0], 1.0, [0.05, 0.2, 0.5, 0.95]).tolist()
    assert f"`u = [0.05, 0.2, 0.5, 0.95]` draws tokens `{tokens}`" in text
    assert np.cumsum(softmax(np.array([1.0, 2.0, 3.0]) / 0.001)).tolist() == [0.0, 0.0, 1.0]
    assert "$c = [0, 0, 1]$, and `u = 0` must draw token 2" in text


def test_every_mistake_of_the_sampling_exercise_is_proven_by_a_wrong_fixture():
    from course_lib.grading import EXERCISES
    from grading_fixtures import RIGHT, WRONG

    name = "sample_with_temperature"
    proven = {m for ex, m, _ in WRONG if ex == name}
    assert {m.name for m in EXERCISES[name].mistakes} <= proven
    assert len([f for ex, f in RIGHT if ex == name]) >= 3


@given(logits, taus, st.integers(0, 2**32 - 1))
def test_inverse_cdf_sampling_draws_each_token_with_its_probability(z, tau, seed):
    """The exercise's rule, token i for c[i-1] <= u < c[i], never draws a token of probability
    0 and draws token i for a fraction p_i of a fine grid of u."""
    from course_lib.exercises.lesson04 import SAMPLE_REFERENCE

    p = softmax(z / tau)
    u = (np.arange(100_000) + np.random.default_rng(seed).random()) / 100_000
    k = SAMPLE_REFERENCE(z, tau, u)
    assert p[k].min() > 0
    np.testing.assert_allclose(np.bincount(k, minlength=z.size) / u.size, p, atol=2e-5)


@given(st.lists(st.floats(-5, 5), min_size=3, max_size=8), st.floats(-3, 3), st.floats(-3, 3))
def test_the_high_temperature_distillation_gradient_matches_the_centred_logits(zl, shift_z, shift_v):
    """Section 7: for T large against the logits, (p - q)/T is ((z - mean z) - (v - mean v))/(K T^2)
    up to a relative O(|z| / T), whatever the means (the paper's zero means make it (z - v)/(K T^2))."""
    z = np.array(zl) + shift_z
    v = np.roll(np.array(zl), 1) * 0.5 + shift_v
    K = z.size
    approx = ((z - z.mean()) - (v - v.mean())) / K
    for T in (1e3, 1e4):
        exact = T**2 * (softmax(z / T) - softmax(v / T)) / T
        np.testing.assert_allclose(exact, approx, rtol=0, atol=50 / T)   # 2nd order: <= 34 / T


# --- section 6: top-k and top-p -------------------------------------------------------------------
def test_the_truncation_section_states_its_numbers_right():
    from course_lib.sampling import top_k_probs, top_p_probs

    assert TEXT.count("## 6. Truncation: top-k and nucleus (top-p) sampling") == 1
    p_zipf = softmax(-1.1 * np.log(np.arange(1, 10_001)))
    tail = float(p_zipf[100:].sum())
    assert 0.30 < tail < 0.37 and "About one draw in three lands in the long tail" in TEXT
    kept = {t: int(np.count_nonzero(top_p_probs(softmax(-1.1 * np.log(np.arange(1, 10_001)) / t), 0.8)))
            for t in (0.5, 2.0)}
    assert kept[0.5] == 2 and "top-p keeps 2 tokens" in TEXT
    assert kept[2.0] > 1000 and "top-p keeps thousands" in TEXT
    p = softmax(np.array([3.2, 2.6, 2.3, 1.9, 1.6, 1.1, 0.9, 0.7, -0.8, -1.5]))
    assert np.count_nonzero(top_k_probs(p, 3)) == 3 and np.count_nonzero(top_p_probs(p, 0.8)) == 4
    assert "about the same words" in TEXT
    assert "from course_lib.sampling import top_k_probs, top_p_probs" in CODE["setup"]


# --- section 8: the distillation experiment -------------------------------------------------------
@functools.lru_cache(maxsize=None)
def _run_cells(*cell_ids):
    """Run the lesson's cells ``cell_ids`` after its set-up; their namespace and printed text
    (cached: the distillation cells train a teacher and three students)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ns, printed = {}, io.StringIO()
    with contextlib.redirect_stdout(printed), np.printoptions():    # the set-up sets print options
        for cell_id in ("setup", *cell_ids):
            exec(CODE[cell_id], ns)
    plt.close("all")
    return ns, printed.getvalue()


DISTILLATION = ("distillation-gradients", "distillation-students")


def test_the_distillation_experiment_shows_what_the_text_says():
    """The cell "distillation-students" is excluded from nbval's comparison (its digits come
    from 300 training steps, and so from the machine's kernels): its claims are checked here.
    Tolerances: every accuracy between 94% and 98%; the distilled students imitate the teacher
    (KL at T = 4) at least 3 times more closely than the label-trained one, with T^2 closer
    than without it; accuracies within 2.5 points of each other."""
    assert "nbval-ignore-output" in NB.cells[[c.id for c in NB.cells].index("distillation-students")].metadata.get("tags", [])
    ns, out = _run_cells(*DISTILLATION)
    rows = {line.split(" test accuracy")[0].strip(): line for line in out.splitlines() if "test accuracy" in line}
    assert len(rows) == 3
    accuracy = {k: float(re.search(r"accuracy ([\d.]+)%", v).group(1)) / 100 for k, v in rows.items()}
    kl = {k: float(re.search(r"T = 4: ([\d.]+)", v).group(1)) for k, v in rows.items()}
    labels, with_t2, without_t2 = (k for k in ns["runs"])
    assert all(0.94 <= a <= 0.98 for a in accuracy.values())
    assert max(accuracy.values()) - min(accuracy.values()) <= 0.025
    assert accuracy[labels] >= max(accuracy[with_t2], accuracy[without_t2]) - 0.005
    assert kl[labels] >= 3 * kl[with_t2] and kl[with_t2] < kl[without_t2] < kl[labels]
    assert "between 95% and 97%" in TEXT and "several times more closely" in TEXT
    assert 0.95 <= min(accuracy.values()) and max(accuracy.values()) <= 0.97 + 0.0005


def test_the_distillation_gradient_sizes_fall_like_one_over_T_squared():
    from course_lib.classification import cross_entropy_grad
    from course_lib.distillation import distillation_grad, weight_gradients

    ns, _ = _run_cells(*DISTILLATION)
    student, X, v = ns["student"], ns["X_digits"][ns["train"]], ns["v_train"]
    z = student.logits(X)
    def size(dz):
        return np.sqrt(sum(float((g**2).sum()) for g in weight_gradients(student, X, dz).values()))
    hard = size(cross_entropy_grad(z, ns["y_digits"][ns["train"]]))
    scaled = {T: T**2 * size(distillation_grad(z, v, T)) for T in (1, 2, 4, 8, 16)}
    assert abs(scaled[16] / scaled[8] - 1) < 0.05          # T^2 |gradient| levels off
    assert size(distillation_grad(z, v, 8)) < hard / 10     # "more than ten times more weakly"
    assert "more than ten times more weakly" in TEXT


# --- exercise 3: top_p_filter ---------------------------------------------------------------------
def test_the_top_p_exercise_states_its_examples_right():
    from course_lib.exercises.lesson04 import TOP_P_REFERENCE

    nb = nbformat.read(ROOT / "solutions" / "04_solutions_temperature.ipynb", as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    p = np.array([0.1, 0.5, 0.15, 0.25])
    np.testing.assert_allclose(TOP_P_REFERENCE(p, 0.4), [0, 1, 0, 0])
    np.testing.assert_allclose(TOP_P_REFERENCE(p, 0.7), [0, 2 / 3, 0, 1 / 3])
    np.testing.assert_allclose(TOP_P_REFERENCE(p, 0.75), [0, 2 / 3, 0, 1 / 3])
    np.testing.assert_allclose(TOP_P_REFERENCE(p, 1.0), p)
    for row in ("| 0.4 | 0.5 | `[0, 1, 0, 0]` |", "| 0.7 | 0.5 and 0.25", "`[0, 2/3, 0, 1/3]`",
                "| 1 | all four | `p` itself |"):
        assert row in text
    np.testing.assert_array_equal(TOP_P_REFERENCE([0.25, 0.5, 0.25], 0.6), [0.25, 0.5, 0.25])
    assert "for `p = [0.25, 0.5, 0.25]` at `top_p = 0.6` both 0.25s are kept" in text
    assert float(1.0 - 1e-20) == 1.0 and "rounds to exactly `1.0`" in text

