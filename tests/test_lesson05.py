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

from course_lib.calibration import fit_temperature, reliability_bins
from course_lib.classification import cross_entropy, one_hot, train_mlp
from course_lib.datasets import load_digits
from course_lib.softmax import softmax

ROOT = Path(__file__).resolve().parents[1]
LESSON = ROOT / "notebooks" / "05_classification_calibration.ipynb"
SOLUTION = ROOT / "solutions" / "05_classification_calibration.ipynb"


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
    assert f"{untrained.loss(X / 16.0, y):.2f}" == "2.44" and "true labels, 2.44," in text
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


def _means(table):
    """{row name: mean} from the comparison table's markdown."""
    rows = {}
    for name, value in re.findall(r"^\| ([^|]+?) \| (-?[\d.]+)", table, flags=re.M):
        rows[name] = float(value)
    return rows


def test_the_digits_reproduction_lands_in_the_issues_ranges():
    rows = _means(_outputs(LESSON, "comparison-code"))
    assert 0.85 <= rows["accuracy"] <= 0.95
    assert 3.0 <= rows["ECE before scaling"] <= 8.0
    assert rows["ECE after scaling"] <= 3.0 < rows["ECE before scaling"]
    assert 1.3 <= rows["fitted T"] <= 2.2
    assert rows["NLL after scaling"] < rows["NLL before scaling"]
    assert rows["label smoothing 0.1: fitted T"] < 1.0
    assert rows["label smoothing 0.1: ECE before"] >= 10.0
    checks = _outputs(LESSON, "digits-code") + _outputs(LESSON, "smoothing-code")
    assert checks.count("True") == 6 and "False" not in checks


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
    """The sweep over input scalings and training lengths: its '300 steps, pixels / 16' cell is
    the comparison table's figure, it spans several points, and every run is underconfident."""
    out = _outputs(LESSON, "smoothing-sensitivity-code")
    cells = {}
    for line in out.splitlines():
        if line.startswith("| ") and "%" in line:
            name, *values = [part.strip() for part in line.strip("|").split("|")]
            cells[name] = [float(v.split(" %")[0]) for v in values]
    assert set(cells) == {"pixels / 16 (as above)", "raw pixels 0–16", "standardised pixels"}
    table = _means(_outputs(LESSON, "comparison-code"))
    assert cells["pixels / 16 (as above)"][1] == table["label smoothing 0.1: ECE before"]
    means = [m for row in cells.values() for m in row]
    lo, hi = map(float, re.search(r"means run from ([\d.]+) % to ([\d.]+) %", out).groups())
    assert (lo, hi) == (min(means), max(means)) and hi - lo >= 3.0
    assert "below 1 in 45 of the 45 runs" in out
    assert "inside the range of single runs, above every mean" in out
    assert hi < 19 <= float(re.search(r"single runs from [\d.]+ % to ([\d.]+) %", out).group(1))
