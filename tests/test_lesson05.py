"""Lesson 05 and its exercise notebook: every number their text states, recomputed; and the
reproduction's stored figures land where the lesson (and the issue behind it) says they do.

nbval re-runs the notebooks and compares every output with the stored one, so checking the
stored outputs here checks what a fresh run prints.
"""

import re
from pathlib import Path

import nbformat
import numpy as np
import pytest

from course_lib.calibration import expected_calibration_error, fit_temperature, reliability_bins
from course_lib.classification import cross_entropy, cross_entropy_grad, one_hot, train_mlp
from course_lib.datasets import load_digits
from course_lib.softmax import softmax

ROOT = Path(__file__).resolve().parents[1]
LESSON = ROOT / "notebooks" / "05_classification_calibration.ipynb"
SOLUTION = ROOT / "solutions" / "05_solutions_classification_calibration.ipynb"


def _nb(path):
    return nbformat.read(path, as_version=4)


def _markdown(path):
    """The notebook's markdown, with every run of white space (line breaks too) as one space."""
    return " ".join(" ".join(c.source for c in _nb(path).cells if c.cell_type == "markdown").split())


def _outputs(path, cell_id):
    (cell,) = [c for c in _nb(path).cells if c.get("id") == cell_id]
    parts = []
    for out in cell.outputs:
        if out.output_type == "stream":
            parts.append(out.text)
        else:
            parts.append(out.get("data", {}).get("text/markdown", ""))
    return "\n".join(parts)


def test_the_numbers_the_lesson_states():
    text = _markdown(LESSON)
    z = np.array([1.0, 2.0, 3.0])
    stated = {
        "2.302585": f"{np.log(10):.6f}",
        "0.4076": f"{float(cross_entropy(z, 2)):.4f}",
        "0.797": f"{float(cross_entropy(softmax(z), 2)):.3f}",
        "0.5514": f"{np.log(1 + 2 / np.e):.4f}",
        "1.4612": f"{np.log(1 + 9 / np.e):.4f}",
        "0.91": f"{1 - 0.1 + 0.1 / 10:.2f}",
        "0.0111": f"{0.1 / 9:.4f}",
        "0.01": f"{0.1 / 10:.2f}",
        "4.9 \\times 10^{-324}": f"{np.finfo(np.float64).smallest_subnormal:.1e}".replace(
            "e-", " \\times 10^{-") + "}",
    }
    for shown, computed in stated.items():
        assert shown == computed
        assert shown in text, f"{shown} is no longer stated; update this test"
    # the buggy loss of K classes spans exactly one nat: log(e + K - 1) = 1 + log(1 + (K-1)/e)
    for k in (3, 10):
        perfect = float(cross_entropy(one_hot(np.arange(k), k), np.arange(k)))
        wrong = float(cross_entropy(one_hot((np.arange(k) + 1) % k, k), np.arange(k)))
        assert perfect == pytest.approx(np.log(1 + (k - 1) / np.e), rel=1e-14)
        assert wrong - perfect == pytest.approx(1.0, rel=1e-14)
    assert "one nat wide" in text
    # the untrained network of section 1: at log K or a little above
    from course_lib.classification import MLP

    X, y = load_digits()
    untrained = MLP.init(64, 128, 10, np.random.default_rng(0))
    assert f"{untrained.loss(X / 16.0, y):.2f}" == "2.44" and "labels here, 2.44, is one draw of it" in text
    z0 = untrained.logits(X / 16.0)
    assert f"{np.mean(np.log(np.exp(z0).sum(axis=1)) - z0.mean(axis=1)):.4f}" == "2.3840"
    assert "2.3840 here" in text
    # the split sizes the text names
    n = len(load_digits()[1])
    assert (n, n - 1000, n - 500) == (1797, 797, 1297)
    for words in ("1797", "797 images", "**100 training**", "**400 validation**", "**1297 test**",
                  "16.53 %", "1.26 %", "M = 15"):
        assert words in text


def test_the_exercise_notebook_states_right_numbers():
    text = _markdown(SOLUTION)
    assert f"{float(cross_entropy([[1.0, 2.0, 3.0]], [2])):.4f}" == "0.4076" and "0.4076" in text
    assert f"{np.log(10):.6f}" == "2.302585" and "2.302585" in text
    assert float(cross_entropy([[0.0, -800.0]], [1])) == 800.0 and "exactly 800" in text
    from course_lib.calibration import expected_calibration_error

    p = [[0.9, 0.1], [0.9, 0.1], [0.15, 0.85], [0.15, 0.85]]
    assert expected_calibration_error(p, [0, 0, 1, 0]) == pytest.approx(0.225)
    assert "= 0.225$" in text
    b = reliability_bins([[0.75, 0.25]], [0], n_bins=4)
    assert b.counts.tolist() == [0, 0, 1, 0] and "0.75 is in $(0.5, 0.75]$" in text
    from course_lib.calibration import maximum_calibration_error

    assert maximum_calibration_error(p, [0, 0, 1, 0]) == pytest.approx(0.35)
    assert "so the MCE is 0.35 (where the ECE was 0.225)" in text


def test_the_gradient_is_ten_times_smaller_with_the_bug():
    out = _outputs(LESSON, "stall-code")
    assert "the right gradient is 10.0 times the double-softmax one" in out
    right, bug = re.findall(r"step 300 (\d\.\d+);", out)
    assert float(bug) > np.log(1 + 9 / np.e) > float(right)  # stalls above its floor


def test_the_known_answer_case_lands_near_three():
    out = _outputs(LESSON, "known-answer-summary")
    T, sd = map(float, re.search(r"temperature is \*\*(\d\.\d+) ± (\d\.\d+)\*\*", out).groups())
    before, after = map(float, re.search(r"from \*\*([\d.]+) %\*\* to \*\*([\d.]+) %\*\*", out).groups())
    assert 2.9 <= T <= 3.1 and sd < 0.1
    assert 30 <= before <= 38 and after <= 2.0


def _rows(table):
    """{row name: (mean, min, max)} from section 4.4's table of mean ± sd (min–max)."""
    rows = {}
    for name, mean, lo, hi in re.findall(
            r"^\| ([^|]+?) \| (-?[\d.]+)(?: %)? ± [\d.]+ \((-?[\d.]+)–(-?[\d.]+)\)", table, flags=re.M):
        rows[name] = (float(mean), float(lo), float(hi))
    return rows


def _means(table):
    return {name: mean for name, (mean, _, _) in _rows(table).items()}


def test_the_digits_reproduction_lands_in_the_issues_ranges():
    rows = _means(_outputs(LESSON, "spread-code"))
    assert len(rows) == 10
    assert 0.85 <= rows["accuracy"] <= 0.95
    assert 3.0 <= rows["ECE before scaling"] <= 8.0
    assert rows["ECE after scaling"] <= 3.0 < rows["ECE before scaling"]
    assert 1.3 <= rows["fitted T"] <= 2.2
    assert rows["NLL after scaling"] < rows["NLL before scaling"]
    assert rows["label smoothing 0.1: fitted T"] < 1.0
    assert rows["label smoothing 0.1: ECE before"] >= 10.0
    checks = _outputs(LESSON, "digits-code") + _outputs(LESSON, "smoothing-code")
    assert checks.count("True") == 6 and "False" not in checks
    out = _outputs(LESSON, "spread-code")
    left, floor = map(float, re.search(r"after scaling, ([\d.]+) % on average.*ECE of ([\d.]+) % "
                                       r"on average", out, flags=re.S).groups())
    assert left == rows["ECE after scaling"] and abs(left - floor) <= 0.5   # "close to"


# The figures measured when this lesson was designed (issue 18 moved this audit out of the
# lesson): accuracy, ECE before and after scaling, T and NLL of the plain network, and the ECE and
# T of the label-smoothed one, each with the rounding it was quoted with.
DESIGN_FIGURES = {
    "accuracy": (0.90, 0.005), "ECE before scaling": (5.1, 0.05), "ECE after scaling": (2.2, 0.05),
    "fitted T": (1.7, 0.05), "NLL before scaling": (0.40, 0.005), "NLL after scaling": (0.33, 0.005),
    "label smoothing 0.1: ECE before": (19, 0.5), "label smoothing 0.1: fitted T": (0.5, 0.05),
}


def test_the_reproduction_against_the_figures_measured_when_the_lesson_was_designed():
    """Each design figure lies within the five seeds' range (allowing for its rounding), except
    label smoothing's ECE, which depends on the set-up (section 4.5) and lies inside the range
    of the sweep's single runs instead (test_the_label_smoothing_sweep)."""
    rows = _rows(_outputs(LESSON, "spread-code"))
    outside = [name for name, (value, rounding) in DESIGN_FIGURES.items()
               if not rows[name][1] - rounding <= value <= rows[name][2] + rounding]
    assert outside == ["label smoothing 0.1: ECE before"]
    assert rows["label smoothing 0.1: ECE before"][2] < 19      # above every seed here
    # the direction of every effect is the design's: overconfident plain, underconfident smoothed
    assert rows["fitted T"][1] > 1 > rows["label smoothing 0.1: fitted T"][2]
    assert "author" not in _markdown(LESSON) and "author" not in "".join(
        _outputs(LESSON, c) for c in ("spread-code", "known-answer-summary"))


def test_the_three_calibration_errors_and_what_the_text_says_of_them():
    out = _outputs(LESSON, "other-errors-code")
    table = {name.strip(): tuple(map(float, v)) for name, *v in re.findall(
        r"^(MLP|MLP, after scaling|label smoothing 0.1)\s+([\d.]+) %\s+([\d.]+) %\s+([\d.]+) %$",
        out, flags=re.M)}
    assert set(table) == {"MLP", "MLP, after scaling", "label smoothing 0.1"}
    for name, (ece, ece_mass, mce) in table.items():
        assert abs(ece - ece_mass) <= 1            # "agree to within a point"
        if name.startswith("MLP"):
            assert mce >= 4 * ece                  # "many times the ECE, before scaling and after"
    ratio = table["MLP, after scaling"][2] / table["MLP"][2]
    assert 0.35 <= ratio <= 0.65                   # "scaling halves the MCE on average"
    assert "the MCE is set by a bin of 1 image(s)" in out
    # seed 0: that image is the tall bar near 0.3, right at a confidence of about 33 %
    X, y = load_digits()
    order = np.random.default_rng(0).permutation(len(y))
    tr, te = order[:100], order[500:]
    model = train_mlp(X[tr] / 16.0, y[tr], hidden=128, steps=300, lr=0.01, seed=0)
    b = reliability_bins(softmax(model.logits(X[te] / 16.0)), y[te])
    worst = np.nanargmax(np.abs(b.accuracy - b.confidence))
    assert b.counts[worst] == 1 and b.accuracy[worst] == 1.0
    assert round(100 * b.confidence[worst]) == 33 and b.edges[worst] < 0.3 < b.edges[worst + 1]
    text = _markdown(LESSON)
    for words in ("agree to within a point", "many times the ECE, before scaling and after it",
                  "the single image of the tall bar near 0.3", "claiming about 33 %",
                  "Scaling halves the MCE on average"):
        assert words in text


def test_the_gradient_keeps_the_sum_of_the_class_columns():
    """Section 3: W and W + v 1^T predict the same, and gradient descent never moves the sum of
    the class columns, because p - onehot(y) sums to 0 over the classes."""
    assert "True" in _outputs(LESSON, "redundant-code")
    text = _markdown(LESSON)
    assert "lesson 02 shows that $W$ and $W + \\mathbf{1}v^\\top$ predict the same" in text
    assert "covariance matrix of the one-hot label" in text and "**convex in the logits**" in text
    X, y = load_digits()
    Xb = np.hstack([X / 16.0, np.ones((len(X), 1))])
    W = 0.01 * np.random.default_rng(0).normal(size=(65, 10))
    start = W.sum(axis=1)
    for _ in range(50):
        W = W - Xb.T @ cross_entropy_grad(Xb @ W, y)
    np.testing.assert_allclose(W.sum(axis=1), start, atol=1e-12)
    shifted = W + np.random.default_rng(1).normal(size=(65, 1))      # W + v 1^T
    np.testing.assert_allclose(softmax(Xb @ shifted), softmax(Xb @ W), atol=1e-12)


def test_what_the_diagrams_are_said_to_show():
    """Two things the text reads off the figures of seed 0, recomputed."""
    text = _markdown(LESSON)
    # the MLP's tall bar near 0.3 holds a single image
    X, y = load_digits()
    X = X / 16.0
    order = np.random.default_rng(0).permutation(len(y))
    tr, te = order[:100], order[500:]
    model = train_mlp(X[tr], y[tr], hidden=128, steps=300, lr=0.01, seed=0)
    b = reliability_bins(softmax(model.logits(X[te])), y[te])
    bar = np.searchsorted(b.edges, 0.3) - 1
    assert b.counts[bar] == 1 and b.accuracy[bar] == 1.0
    assert "the tall bar near 0.3 holds a single image" in text
    # the known answer, seed 0: at about 90 % confidence, about half are right
    r = np.random.default_rng(0)
    z = r.normal(0.0, 1.0, (20_000, 10))
    labels = (np.cumsum(softmax(z), axis=1) > r.random((20_000, 1))).argmax(axis=1)
    b = reliability_bins(softmax(3 * z[10_000:]), labels[10_000:])
    assert 0.4 <= b.accuracy[np.searchsorted(b.edges, 0.9) - 1] <= 0.6
    assert fit_temperature(3 * z[:10_000], labels[:10_000]) == pytest.approx(2.967, abs=5e-4)
    assert "only about half are right" in text


def test_an_untrained_network_can_start_below_log_k():
    """The Jensen bound holds for the loss averaged over all labels, not for the true labels."""
    from course_lib.classification import MLP
    from course_lib.softmax import logsumexp

    X, y = load_digits()
    X = X / 16.0
    inits = [MLP.init(64, 128, 10, np.random.default_rng(seed)) for seed in range(20)]
    true_label = np.array([m.loss(X, y) for m in inits])
    average = np.array([np.mean(logsumexp(z) - z.mean(axis=1)) for z in (m.logits(X) for m in inits)])
    assert np.all(average >= np.log(10)) and np.sum(true_label < np.log(10)) >= 1
    out = _outputs(LESSON, "log-k-seeds")
    for name, v in (("on the true labels", true_label), ("averaged over all labels", average)):
        assert (f"{name:25s}: {v.min():.3f} to {v.max():.3f}, mean {v.mean():.3f}; "
                f"below log K in {np.sum(v < np.log(10))} of 20") in out
    assert "can land a little below $\\log K$ by chance" in _markdown(LESSON)


def test_the_label_smoothing_sweep():
    """Section 4.5's claims, recomputed: its figure's 45 trainings are machine-dependent in their
    last digits (BLAS kernels and thread counts round differently, and 1000 Adam steps amplify
    that: the pixels / 16, 1000-step mean was measured at 15.7 % here and 16.1 % on another
    machine), so the cell prints only the count of runs with T < 1 and this test checks the
    text's numbers with a tolerance of 1 percentage point on "about 14 %" and "about 18 %"."""
    X, y = load_digits()
    X = X / 16.0
    sd = X.std(axis=0)
    scalings = {"/16": X, "raw": 16.0 * X, "standardised": (X - X.mean(axis=0)) / np.where(sd > 0, sd, 1.0)}
    eces, temperatures, means = [], [], {}
    for name, inputs in scalings.items():
        for steps in (100, 300, 1000):
            runs = []
            for seed in range(5):
                order = np.random.default_rng(seed).permutation(len(y))
                tr, va, te = order[:100], order[100:500], order[500:]
                model = train_mlp(inputs[tr], y[tr], hidden=128, steps=steps, lr=0.01,
                                  label_smoothing=0.1, seed=seed)
                runs.append(100 * expected_calibration_error(softmax(model.logits(inputs[te])), y[te]))
                temperatures.append(fit_temperature(model.logits(inputs[va]), y[va]))
            eces += runs
            means[name, steps] = np.mean(runs)
    lo, hi = min(means.values()), max(means.values())
    assert abs(lo - 14) <= 1 and abs(hi - 18) <= 1          # "from about 14 % to about 18 %"
    assert hi - lo >= 3                                      # "several percentage points"
    assert min(eces) < lo - 1 and max(eces) > hi + 1        # "single runs spread a few points wider"
    assert max(temperatures) < 0.9                           # "in every run ... below 1"
    assert "fitted temperature below 1 in 45 of the 45 runs" in _outputs(LESSON, "sweep-code")
    # section 4.4's label-smoothing figure is the sweep's pixels / 16, 300 steps
    table = _means(_outputs(LESSON, "spread-code"))
    assert abs(means["/16", 300] - table["label smoothing 0.1: ECE before"]) <= 0.05
    # the design figure of 19 % (see DESIGN_FIGURES) lies inside the single runs, above every mean
    assert min(eces) <= 19 <= max(eces) and 19 > hi
    text = _markdown(LESSON)
    assert "(from about 14 % to about 18 %)" in text and "45 small trainings" in text
