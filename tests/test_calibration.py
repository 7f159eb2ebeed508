"""course_lib.calibration: reliability bins, ECE, temperature fitting and the diagram."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import assume, given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

from course_lib.calibration import (T_MAX, T_MIN, equal_mass_calibration_error,  # noqa: E402
                                    expected_calibration_error, fit_temperature,
                                    maximum_calibration_error, negative_log_likelihood,
                                    reliability_bins, reliability_diagram)
from course_lib.softmax import softmax  # noqa: E402


def sample_labels(p, rng):
    """One label per row of p, drawn from that row: a perfectly calibrated 'model'."""
    return (np.cumsum(p, axis=1) > rng.random((p.shape[0], 1))).argmax(axis=1)


@st.composite
def predictions(draw, max_n=40, max_k=5):
    n = draw(st.integers(1, max_n))
    k = draw(st.integers(1, max_k))
    z = draw(hnp.arrays(np.float64, (n, k), elements=st.floats(-30, 30)))
    y = draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, k - 1)))
    return softmax(z), y


def ece_by_definition(p, y, m):
    """Guo et al.'s ECE written out with explicit loops over right-closed bins."""
    p = np.asarray(p, float)
    conf, pred = p.max(1), p.argmax(1)
    total = 0.0
    for b in range(m):
        lo, hi = b / m, (b + 1) / m
        inside = [(c > lo or (b == 0 and c == 0)) and c <= hi for c in conf]
        inside = np.array(inside)
        if inside.any():
            gap = abs(np.mean(pred[inside] == y[inside]) - conf[inside].mean())
            total += inside.sum() / len(conf) * gap
    return total


# --- ECE -----------------------------------------------------------------------------------------
@given(predictions(), st.sampled_from([1, 2, 10, 15]))
def test_ece_is_in_0_1_and_agrees_with_the_definition(pred, m):
    p, y = pred
    ece = expected_calibration_error(p, y, n_bins=m)
    assert isinstance(ece, float) and 0.0 <= ece <= 1.0
    assert ece == pytest.approx(ece_by_definition(p, y, m), abs=1e-12)
    b = reliability_bins(p, y, n_bins=m)
    assert b.counts.sum() == len(y) and b.ece == ece


def test_bins_are_right_closed_and_keep_0_and_1():
    # 0.6 is exactly an edge of 5 bins (up to rounding: 3/5 in binary); it belongs to (0.4, 0.6]
    p = np.array([[0.6, 0.4], [1.0, 0.0], [0.5, 0.5], [0.2 + 0.8, 0.0]])
    b = reliability_bins(p, [0, 0, 1, 1], n_bins=5)
    assert b.counts.tolist() == [0, 0, 2, 0, 2]
    np.testing.assert_allclose(b.edges, [0, 0.2, 0.4, 0.6, 0.8, 1.0])
    # a confidence of 0 is impossible for probabilities; the first bin would take it
    assert reliability_bins([[0.0, 1.0]], [1], n_bins=4).counts.tolist() == [0, 0, 0, 1]


def test_ece_known_value_and_confidence_one():
    p = [[0.9, 0.1], [0.9, 0.1], [0.2, 0.8], [0.2, 0.8]]
    assert expected_calibration_error(p, [0, 0, 1, 0]) == pytest.approx(0.2)
    assert expected_calibration_error([[1.0, 0.0], [1.0, 0.0]], [0, 1]) == 0.5


def test_ece_of_a_perfectly_calibrated_sampler_tends_to_zero():
    rng = np.random.default_rng(0)
    eces = []
    for n in (300, 3000, 30000, 300000):
        p = softmax(rng.normal(0.0, 2.0, (n, 4)))
        eces.append(expected_calibration_error(p, sample_labels(p, rng)))
    assert eces[-1] < 0.004
    assert eces[-1] < eces[0] / 5
    # roughly like 1/sqrt(n): ten times the data, a third of the error
    assert all(b < a for a, b in zip(eces[1:], eces[2:]))


def test_an_overconfident_model_has_a_large_ece():
    rng = np.random.default_rng(1)
    z = rng.normal(size=(20000, 10))
    y = sample_labels(softmax(z), rng)
    assert expected_calibration_error(softmax(3 * z), y) > 0.25
    assert expected_calibration_error(softmax(z), y) < 0.02


# --- temperature --------------------------------------------------------------------------------
@pytest.mark.parametrize("planted", [0.4, 1.0, 3.0, 7.5])
def test_fitting_recovers_a_planted_temperature(planted):
    rng = np.random.default_rng(int(planted * 10))
    z = rng.normal(0.0, 2.0, (20000, 6))
    y = sample_labels(softmax(z), rng)
    assert fit_temperature(planted * z, y) == pytest.approx(planted, rel=0.04)


@given(st.integers(0, 10_000), st.floats(0.5, 5.0), st.floats(0.3, 3.0))
def test_fitted_temperature_minimises_the_nll_and_keeps_the_argmax(seed, scale, planted):
    rng = np.random.default_rng(seed)
    z = rng.normal(0.0, scale, (200, 4))
    y = sample_labels(softmax(z / planted), rng)  # informative labels ...
    y[:4] = z[:4].argmin(axis=1)  # ... with a few sure mistakes: the optimum is finite
    T = fit_temperature(z, y)
    assert isinstance(T, float) and T_MIN < T < T_MAX
    best = negative_log_likelihood(z, y, temperature=T)
    for factor in (0.9, 0.99, 1.01, 1.1):
        assert negative_log_likelihood(z, y, temperature=T * factor) >= best - 1e-12
    np.testing.assert_array_equal((z / T).argmax(axis=1), z.argmax(axis=1))


def test_fit_temperature_at_the_edges():
    z = np.array([[5.0, 0.0], [0.0, 5.0]])
    assert fit_temperature(z, [0, 1]) == T_MIN  # separable: sharper is always better
    assert fit_temperature(z, [1, 0]) == T_MAX  # always wrong: flatter is always better
    assert fit_temperature(np.zeros((3, 4)), [0, 1, 2]) == T_MAX  # no information


def test_nll_matches_cross_entropy():
    from course_lib.classification import cross_entropy

    z = np.random.default_rng(2).normal(size=(5, 3))
    y = np.array([0, 1, 2, 1, 0])
    assert negative_log_likelihood(z, y, temperature=2.0) == pytest.approx(
        float(cross_entropy(z / 2.0, y)))


def test_inputs_are_not_modified():
    z = np.random.default_rng(3).normal(size=(8, 3))
    y = np.array([0, 1, 2, 0, 1, 2, 0, 1])
    p = softmax(z)
    copies = z.copy(), y.copy(), p.copy()
    fit_temperature(z, y)
    expected_calibration_error(p, y)
    reliability_bins(p, y)
    plt.close(reliability_diagram(p, y).figure)
    for a, b in zip((z, y, p), copies):
        np.testing.assert_array_equal(a, b)


# --- bad input --------------------------------------------------------------------------------
@pytest.mark.parametrize("p, y, kwargs, error, says", [
    ([[2.0, -1.0]], [0], {}, ValueError, "did you pass logits"),
    ([[0.5, 0.4]], [0], {}, ValueError, "sum to 1"),
    ([0.5, 0.5], [0], {}, ValueError, r"shape \(N, K\)"),
    ([[0.5, 0.5]], [2], {}, ValueError, "y must hold labels"),
    ([[0.5, 0.5]], [0.0], {}, TypeError, "integer class labels"),
    ([[0.5, 0.5]], [0, 1], {}, ValueError, "one label per row"),
    ([[0.5, 0.5]], [0], {"n_bins": 0}, ValueError, "n_bins"),
    ([[0.5, 0.5]], [0], {"n_bins": 2.5}, TypeError, "n_bins"),
])
def test_ece_bad_input(p, y, kwargs, error, says):
    with pytest.raises(error, match=says):
        expected_calibration_error(p, y, **kwargs)


def test_fit_temperature_bad_input():
    with pytest.raises(ValueError, match="finite"):
        fit_temperature([[np.inf, 0.0]], [0])
    with pytest.raises(ValueError, match="one label per row"):
        fit_temperature([[1.0, 0.0]], [0, 1])
    with pytest.raises(ValueError, match=r"shape \(N, K\)"):
        fit_temperature(np.zeros((2, 2, 2)), np.zeros((2, 2), int))


# --- the diagram ---------------------------------------------------------------------------------
def test_reliability_diagram_draws_bars_gaps_and_the_ece():
    rng = np.random.default_rng(4)
    p = softmax(3 * rng.normal(size=(500, 5)))
    y = sample_labels(softmax(rng.normal(size=(500, 5))), rng)
    fig, ax = plt.subplots()
    assert reliability_diagram(p, y, ax=ax, title="t") is ax
    full = int((reliability_bins(p, y).counts > 0).sum())
    assert len(ax.patches) == 2 * full  # a bar and a gap box per non-empty bin
    assert ax.get_legend().get_title().get_text() == (
        f"ECE = {100 * expected_calibration_error(p, y):.1f}%, "
        f"MCE = {100 * maximum_calibration_error(p, y):.0f}%")
    assert ax.get_title() == "t" and ax.get_ylabel() == "accuracy"
    plt.close(fig)


def test_the_histogram_under_the_diagram_counts_the_examples_per_bin():
    rng = np.random.default_rng(5)
    p = softmax(3 * rng.normal(size=(400, 4)))
    y = sample_labels(softmax(rng.normal(size=(400, 4))), rng)
    ax = reliability_diagram(p, y, n_bins=10)
    (hist,) = ax.child_axes
    np.testing.assert_array_equal([bar.get_height() for bar in hist.patches],
                                  reliability_bins(p, y, n_bins=10).counts)
    assert hist.get_xlabel() == "confidence (max probability)"
    plt.close(ax.figure)


def test_gap_boxes_show_the_legends_colour_over_an_underconfident_bar():
    """Where accuracy exceeds confidence the box lies over the bar: it must be opaque and on top,
    so that it shows the colour its legend entry shows (not a blend with the bar's blue)."""
    rng = np.random.default_rng(6)
    z = rng.normal(size=(2000, 5))
    y = sample_labels(softmax(z), rng)
    p = softmax(z / 3)                                      # underconfident: bars above the diagonal
    ax = reliability_diagram(p, y)
    b = reliability_bins(p, y)
    full = b.counts > 0
    assert np.any(b.accuracy[full] > b.confidence[full])
    bars, boxes = ax.patches[:int(full.sum())], ax.patches[int(full.sum()):]
    handle = {t.get_text(): h for t, h in zip(ax.get_legend().get_texts(),
                                                ax.get_legend().legend_handles)}["gap to confidence"]
    for box, bar in zip(boxes, bars):
        assert box.get_facecolor() == handle.get_facecolor()
        assert box.get_facecolor()[3] == 1.0 and box.get_zorder() > bar.get_zorder()
    plt.close(ax.figure)


# --- the maximum calibration error and the equal-mass ECE -----------------------------------------
def mce_by_definition(p, y, m):
    """The largest gap of a non-empty right-closed bin, written out with loops."""
    p = np.asarray(p, float)
    conf, pred = p.max(1), p.argmax(1)
    gaps = []
    for b in range(m):
        lo, hi = b / m, (b + 1) / m
        inside = np.array([(c > lo or (b == 0 and c == 0)) and c <= hi for c in conf])
        if inside.any():
            gaps.append(abs(np.mean(pred[inside] == y[inside]) - conf[inside].mean()))
    return max(gaps)


@given(predictions(), st.sampled_from([1, 2, 10, 15]))
def test_mce_agrees_with_the_definition_and_is_at_least_the_ece(pred, m):
    p, y = pred
    mce = maximum_calibration_error(p, y, n_bins=m)
    assert mce == pytest.approx(mce_by_definition(p, y, m), abs=1e-12)
    assert expected_calibration_error(p, y, n_bins=m) <= mce + 1e-12 and 0.0 <= mce <= 1.0


def test_mce_known_values():
    p = [[0.9, 0.1], [0.9, 0.1], [0.15, 0.85], [0.15, 0.85]]
    assert maximum_calibration_error(p, [0, 0, 1, 0]) == pytest.approx(0.35)
    # a single right image at confidence 0.3 sets the MCE, whatever the size of the other bins
    p = np.array([[0.3, 0.7 / 3, 0.7 / 3, 0.7 / 3]] + [[0.95, 0.05 / 3, 0.05 / 3, 0.05 / 3]] * 99)
    y = np.zeros(100, int)
    assert maximum_calibration_error(p, y) == pytest.approx(0.7)
    assert expected_calibration_error(p, y) == pytest.approx((0.7 + 99 * 0.05) / 100)


def equal_mass_by_definition(p, y, m):
    """Sort by confidence, cut into m groups of N // m or N // m + 1 (the larger ones last)."""
    p = np.asarray(p, float)
    conf, right = p.max(1), (p.argmax(1) == y)
    order = np.argsort(conf, kind="stable")
    cuts = (np.arange(1, m) * len(conf)) // m
    total = 0.0
    for group in np.split(order, cuts):
        if len(group):
            total += len(group) / len(conf) * abs(right[group].mean() - conf[group].mean())
    return total


@st.composite
def distinct_confidences(draw):
    """Predictions whose confidences are all different (no ties for a cut to separate)."""
    n = draw(st.integers(1, 60))
    seed = draw(st.integers(0, 2**32 - 1))
    r = np.random.default_rng(seed)
    p = softmax(r.normal(0.0, draw(st.sampled_from([0.5, 2.0, 6.0])), (n, 3)))
    assume(len(np.unique(p.max(1))) == n)
    return p, r.integers(0, 3, n)


@given(distinct_confidences(), st.sampled_from([1, 2, 5, 15]))
def test_equal_mass_bins_hold_n_over_m_examples_and_agree_with_the_definition(pred, m):
    p, y = pred
    b = reliability_bins(p, y, n_bins=m, binning="mass")
    expected = np.diff(np.concatenate([[0], (np.arange(1, m) * len(y)) // m, [len(y)]]))
    np.testing.assert_array_equal(b.counts, expected)
    assert equal_mass_calibration_error(p, y, n_bins=m) == pytest.approx(
        equal_mass_by_definition(p, y, m), abs=1e-12)
    assert np.all(np.diff(b.edges) >= 0) and b.edges[0] == 0.0 and b.edges[-1] == 1.0


def test_equal_mass_bins_keep_tied_confidences_together():
    p = np.array([[0.6, 0.4]] * 3 + [[0.9, 0.1]])
    b = reliability_bins(p, [0, 1, 0, 0], n_bins=2, binning="mass")
    assert b.counts.tolist() == [3, 1]                  # the cut after 2 would split the 0.6s
    assert equal_mass_calibration_error(p, [0, 1, 0, 0], n_bins=2) == pytest.approx(
        3 / 4 * abs(2 / 3 - 0.6) + 1 / 4 * 0.1)


def test_equal_mass_and_equal_width_differ_where_confidences_crowd():
    """A trained network's confidences crowd near 1: equal-width bins lump them together."""
    rng = np.random.default_rng(8)
    z = rng.normal(0.0, 4.0, (3000, 10))
    y = sample_labels(softmax(z), rng)
    p = softmax(2 * z)
    assert reliability_bins(p, y).counts[-1] > 3000 / 3
    mass = reliability_bins(p, y, binning="mass").counts
    assert mass.max() - mass.min() <= 1
    assert equal_mass_calibration_error(p, y) != expected_calibration_error(p, y)


@pytest.mark.parametrize("call, error, says", [
    (lambda: reliability_bins([[0.5, 0.5]], [0], binning="quantile"), ValueError, "binning"),
    (lambda: maximum_calibration_error([[0.5, 0.5]], [0], n_bins=0), ValueError, "n_bins"),
    (lambda: equal_mass_calibration_error([[0.5, 0.5]], [0], n_bins=1.5), TypeError, "n_bins"),
    (lambda: maximum_calibration_error([[2.0, -1.0]], [0]), ValueError, "did you pass logits"),
    (lambda: equal_mass_calibration_error([[0.5, 0.5]], [0, 1]), ValueError, "one label per row"),
])
def test_new_summaries_bad_input(call, error, says):
    with pytest.raises(error, match=says):
        call()
