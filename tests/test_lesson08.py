"""Every claim lesson 08 (softmax in PyTorch) and its exercise notebook make, recomputed.

The lesson's code cells are run once here, in this process, and each statement of its text is
checked against what they computed, with the tolerance the statement allows. nbval re-runs the
notebook and compares what it prints; these tests say *why* those prints are right, and recheck
the training figures at a stated tolerance so that a different machine or torch build within the
pinned range cannot silently change a claim. Needs PyTorch: without it (outside CI) conftest.py
skips this file with one line saying how to run it; in CI a missing torch fails here.
"""

import os
import re
from pathlib import Path

import matplotlib
import nbformat
import numpy as np
import pytest

if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no", "off"):
    import torch  # CI requires PyTorch: a missing torch fails here, it is never skipped
else:
    torch = pytest.importorskip("torch", reason='lesson 08 skipped: PyTorch is not installed; '
                                                'run it with: pip install -e ".[torch]"')

from course_lib.classification import cross_entropy
from course_lib.softmax import softmax

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
LESSON = ROOT / "notebooks" / "08_pytorch.ipynb"
SOLUTION = ROOT / "solutions" / "08_solutions_pytorch.ipynb"
FLOOR = np.log(1 + 9 / np.e)                      # lesson 05's floor of the double-softmax loss


def _markdown(path, *, code_blocks=True):
    nb = nbformat.read(path, as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    return text if code_blocks else re.sub(r"```.*?```", "", text, flags=re.S)


def _printed(cell_id):
    nb = nbformat.read(LESSON, as_version=4)
    (cell,) = [c for c in nb.cells if c.get("id") == cell_id]
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


@pytest.fixture(scope="module")
def lesson():
    """The namespace after running every code cell of the lesson, as a learner's kernel would."""
    import matplotlib.pyplot as plt

    ns = {}
    nb = nbformat.read(LESSON, as_version=4)
    threads, dtype = torch.get_num_threads(), torch.get_default_dtype()
    try:
        for cell in nb.cells:
            if cell.cell_type == "code":
                exec(compile(cell.source, f"lesson 08, cell {cell.id}", "exec"), ns)
    finally:
        plt.close("all")
        torch.set_num_threads(threads)
        torch.set_default_dtype(dtype)
        torch.use_deterministic_algorithms(False)
    return ns


# --- the installation ----------------------------------------------------------------------------
def test_the_installed_torch_is_the_pinned_one():
    """Stored outputs were made with the version the extra pins; the test runs with it too."""
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    (pin,) = re.findall(r'^torch = \[\s*"torch==([\d.]+)",\s*\]', pyproject, flags=re.M)
    assert torch.__version__.split("+")[0] == pin


# --- section 1: dim ------------------------------------------------------------------------------
def test_the_wrong_dim_numbers_the_text_states():
    text = _markdown(LESSON)
    Z = np.array([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0], [0.0, 10.0, 0.0]])
    P0 = softmax(Z, axis=0)
    first, second = P0[0], P0[1]
    assert f"$({first[0]:.4f}, {first[1]:.4f}, {first[2]:.4f})$" in text
    assert f"1.2664" in text and f"{first.sum():.4f}" == "1.2664"
    assert f"$({second[0]:.4f}, {second[1]:.4f}, {second[2]:.4f})$" in text
    np.testing.assert_allclose(torch.softmax(torch.tensor(Z), dim=0).numpy(), P0, rtol=1e-15)


def test_no_dim_guesses_as_the_text_says():
    """'dim 0 for a tensor of 1, 0 or 3 dimensions and dim 1 otherwise', with a warning."""
    import torch.nn.functional as F

    for shape, dim in (((), 0), ((4,), 0), ((3, 4), 1), ((2, 3, 4), 0), ((2, 2, 3, 4), 1)):
        z = torch.randn(shape, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
        with pytest.warns(UserWarning, match="Implicit dimension"):
            guessed = F.softmax(z)
        assert torch.equal(guessed, F.softmax(z, dim=dim)), shape


def test_log_of_softmax_breaks_at_the_gaps_the_text_states():
    """'about 745 in float64 and 104 in float32': where exp(-gap) rounds to 0."""
    def breaking_gap(dtype):
        gaps = np.arange(50.0, 800.0, 0.01)
        p = torch.softmax(torch.tensor(np.stack([np.zeros_like(gaps), -gaps], 1), dtype=dtype), dim=1)
        return gaps[np.argmax(p[:, 1].numpy() == 0)]

    assert round(breaking_gap(torch.float64)) == 745
    assert round(breaking_gap(torch.float32)) == 104
    text = _markdown(LESSON)
    assert "about 745 in\nfloat64 and 104 in float32" in text


# --- section 2: autograd -------------------------------------------------------------------------
def test_the_double_softmax_gradient_table(lesson):
    rows = [line.split() for line in _printed("double-grad-code").splitlines()[1:]]
    right = [float(r[1]) for r in rows]
    bug = [float(r[2]) for r in rows]
    assert right == sorted(right) and bug == sorted(bug, reverse=True)
    assert abs(right[-1] - np.sqrt(2)) < 1e-3 and bug[-1] < 1e-3        # "towards 1.414", "nothing"
    assert "$\\sqrt 2 \\approx 1.414$" in _markdown(LESSON)
    assert all(b < r for b, r in zip(bug, right))                          # "smaller from the start"


# --- section 3: the classifier -------------------------------------------------------------------
def _stored_table():
    """The stored table's numbers per run: first, step 50 and last loss, first and last gradient
    norm, test accuracy (the last six numbers of each row)."""
    rows = {}
    for line in _printed("classifier-code").splitlines():
        for name in ("as written (softmax in forward)", "fixed (logits in)",
                     "fixed, label_smoothing=0.1"):
            if line.startswith(name):
                rows[name] = [float(x) for x in re.findall(r"\d+\.\d+(?:e-\d+)?", line[len(name):])]
    return rows


def test_the_classifier_figures_recomputed_match_the_stored_ones(lesson):
    """The stored table (first, step 50, last loss; first, last gradient norm; test accuracy) is
    what the lesson's code computes, to 1e-4 (float64 training: machine differences stay far
    below the printed digits)."""
    stored = _stored_table()
    runs = lesson["runs"]
    assert set(stored) == set(runs)
    for name, key in ((n, n) for n in runs):
        r = runs[name]
        now = [r["loss"][0], r["loss"][50], r["loss"][-1], r["grad"][0], r["grad"][-1], r["accuracy"]]
        np.testing.assert_allclose(now, stored[key], rtol=1e-3, atol=1e-4, err_msg=name)


def test_the_classifier_claims(lesson):
    runs = lesson["runs"]
    written = runs["as written (softmax in forward)"]
    fixed = runs["fixed (logits in)"]
    smoothed = runs["fixed, label_smoothing=0.1"]
    text = _markdown(LESSON)
    # "starts at the same place": both near log K before training
    assert abs(written["loss"][0] - np.log(10)) < 0.05 and abs(fixed["loss"][0] - np.log(10)) < 0.05
    # "stalls just above log(1 + 9/e) = 1.4612": never below the floor, within 0.02 of it at the end
    assert f"{FLOOR:.4f}" == "1.4612" and "1.4612" in text
    assert written["loss"].min() > FLOOR and written["loss"][-1] - FLOOR < 0.02
    # "falls towards 0"
    assert fixed["loss"][-1] < 0.01
    # "its gradient starts ten times smaller ... and then fades"
    ratio = written["grad"][0] / fixed["grad"][0]
    assert 0.08 < ratio < 0.12
    assert written["grad"][-1] < written["grad"][0] / 10
    # label smoothing: "at least the entropy of its smoothed target, 0.5003 ... ends a little above"
    t = np.full(10, 0.01)
    t[0] = 0.91
    h = -(t * np.log(t)).sum()
    assert f"{h:.4f}" == "0.5003" and "0.5003" in text
    assert smoothed["loss"].min() >= h and smoothed["loss"][-1] - h < 0.05
    # "within a point of the fixed one's"
    assert abs(written["accuracy"] - fixed["accuracy"]) <= 0.01
    assert "within a\npoint of the fixed one's" in text


def test_the_figure_shows_the_two_loss_curves():
    nb = nbformat.read(LESSON, as_version=4)
    (cell,) = [c for c in nb.cells if c.get("id") == "classifier-figure"]
    assert any("image/png" in o.get("data", {}) for o in cell.outputs)
    assert "ax_loss.plot" in cell.source and "floor" in cell.source


# --- section 4: float16 and bfloat16 -------------------------------------------------------------
def test_float16_and_bfloat16_claims(lesson):
    ulps = lesson["ulps"]
    z = torch.tensor(np.random.default_rng(0).normal(0.0, 3.0, (20_000, 10)))
    for dtype in (torch.float16, torch.bfloat16):
        zd = z.to(dtype)
        p = torch.softmax(zd, dim=-1)
        assert p.dtype == dtype                                                  # returns the input's dtype
        exact = softmax(zd.to(torch.float64).numpy(), axis=-1)
        worst = ulps(p.to(torch.float64).numpy(), exact, dtype).max()
        assert worst <= 0.5 + 2e-3, (dtype, worst)                               # "within half an ULP (0.50)"
        assert f"{worst:.2f}" == "0.50"
    zh = z.to(torch.float16)
    e = torch.exp(zh - zh.amax(dim=-1, keepdim=True))
    worst = ulps((e / e.sum(dim=-1, keepdim=True)).to(torch.float64).numpy(),
                 softmax(zh.to(torch.float64).numpy(), axis=-1), torch.float16).max()
    assert 2 < worst < 50                                                        # "loses several ULPs"
    h = torch.tensor([12.0, 0.0, 0.0], dtype=torch.float16)
    assert torch.isinf(torch.exp(h)[0])                                          # above 11.09
    assert np.array_equal(torch.softmax(h, dim=0).numpy(), softmax(h.numpy()))   # lesson 03's numbers
    assert torch.softmax(h, dim=0, dtype=torch.float32).dtype == torch.float32
    assert "11.09" in _markdown(LESSON) and float(np.log(np.finfo(np.float16).max)) == pytest.approx(11.09, abs=5e-3)


def test_the_ulp_unit_is_the_spacing_of_the_format(lesson):
    ulps = lesson["ulps"]
    x = np.array([0.3, 1e-3])
    one_ulp16 = np.spacing(x.astype(np.float16)).astype(float)
    np.testing.assert_allclose(ulps(x + one_ulp16, x, torch.float16), 1.0, rtol=1e-6)
    bf = torch.tensor(x, dtype=torch.bfloat16).to(torch.float64).numpy()
    step = 2.0 ** (np.floor(np.log2(bf)) - 7)                                    # bfloat16: 8 bits
    np.testing.assert_allclose(ulps(bf + step, bf, torch.bfloat16), 1.0, rtol=1e-6)


# --- section 5: sampling -------------------------------------------------------------------------
def test_sampling_claims(lesson):
    assert lesson["largest_gap"] < 0.005
    assert np.sqrt(0.25 / 100_000) <= 0.0016                                     # the largest sd
    assert round(np.log(4), 3) == 1.386
    z = np.array([2.0, 1.0, 0.5, -1.0])
    entropies = [float(torch.distributions.Categorical(logits=torch.tensor(z / tau)).entropy())
                 for tau in (0.25, 1.0, 4.0, 100.0)]
    assert entropies == sorted(entropies) and entropies[-1] < np.log(4)
    # "Categorical(logits=p) samples from softmax(p)"
    p = softmax(z)
    np.testing.assert_allclose(torch.distributions.Categorical(logits=torch.tensor(p)).probs.numpy(),
                               softmax(p), rtol=1e-12)


# --- section 6: attention ------------------------------------------------------------------------
def test_attention_claims(lesson):
    printed = _printed("attention-code") + _printed("attention-polarity")
    assert printed.count("True") == 9 and "False" not in printed
    assert "gets: [0. 0. 0.] (boolean mask)" in printed and "[0. 0. 0.] (additive mask)" in printed
    # lesson 06's stored PyTorch answers say the same about boolean masks
    stored = np.load(ROOT / "tests" / "data" / "sdpa_torch_reference.npz")
    assert stored["random_mask/output"].shape == (2, 5, 3)


def test_a_big_negative_fill_makes_the_empty_row_uniform():
    import torch.nn.functional as F

    s = torch.tensor([[1.0, 2.0, 3.0]])
    w = F.softmax(s.masked_fill(torch.ones(1, 3, dtype=torch.bool), -1e9), dim=-1)
    np.testing.assert_allclose(w.numpy(), 1 / 3)
    nan = F.softmax(s.masked_fill(torch.ones(1, 3, dtype=torch.bool), float("-inf")), dim=-1)
    assert torch.isnan(nan).all()                                # a softmax by hand gives nan


# --- section 7: temperature scaling --------------------------------------------------------------
def test_temperature_scaling_claims(lesson):
    printed = _printed("calibration-code")
    t_torch, t_course = (float(x) for x in re.findall(r"(\d+\.\d+)", printed.splitlines()[0]))
    assert t_torch == t_course                                   # "the two fits agree" (3 decimals)
    assert abs(lesson["T_torch"] - lesson["T_course"]) < 1e-3
    assert lesson["T_course"] > 1                                # overconfident
    before, after = (re.findall(r"ECE = (\d+\.\d) %, NLL = (\d+\.\d+), accuracy = (\d\.\d+)", line)[0]
                     for line in printed.splitlines()[1:])
    assert float(after[0]) < float(before[0]) and float(after[1]) < float(before[1])
    assert after[2] == before[2]                                 # the accuracy cannot move


# --- the exercise notebook -----------------------------------------------------------------------
def test_numbers_the_exercise_notebook_states():
    text = _markdown(SOLUTION)
    for v in softmax([1.0, 2.0, 3.0]):
        assert f"{v:.8f}" in text
    assert "gives a loss of about 800" in text
    assert cross_entropy(np.array([[0.0, 800.0, -5.0]]), np.array([0])) == pytest.approx(800.0, abs=1e-6)


def test_every_decimal_the_lesson_states_is_checked():
    """Each decimal of the lesson's prose is one of those the tests above recompute (or a
    setting the code uses: step size 0.01, smoothing 0.1, a section number 4.3)."""
    text = _markdown(LESSON, code_blocks=False)
    text = text.split("## References")[0]
    stated = set(re.findall(r"(?<![\w.])\d+\.\d+(?![\w.])", text))
    checked = {"0.4223", "0.0003", "0.8438", "1.2664", "0.0001", "0.1142", "1.414", "1.4612",
               "0.5003", "0.50", "0.005", "0.0016", "1.386", "11.09",
               "0.01", "0.1", "4.3", "0.0"}
    assert stated <= checked, sorted(stated - checked)


# --- the checker reads tensors -------------------------------------------------------------------
def test_the_checker_reads_tensors_as_arrays_without_importing_torch_itself():
    """course_lib.grading.run turns a returned tensor into an array: detached (a loss with a
    graph), on the CPU, bfloat16 widened to float32; run.py itself never imports torch (its
    source is sent into a learner's kernel)."""
    from course_lib.grading import run

    loss = torch.tensor([1.0, 2.0], requires_grad=True).sum()
    value, error = run.as_numbers(loss)
    assert error is None and value.shape == () and value == 3.0
    value, error = run.as_numbers(torch.tensor([0.5, 0.25], dtype=torch.bfloat16))
    assert error is None and value.dtype == np.float32 and value.tolist() == [0.5, 0.25]
    shared = torch.zeros(3)
    value, _ = run.as_numbers(shared)
    value[0] = 1.0                                   # a copy: the tensor is untouched
    assert shared[0] == 0.0
    parts, error = run.as_parts((torch.ones(2), torch.zeros(1, 2)), ("output", "weights"))
    assert error is None and [p.shape for p in parts] == [(2,), (1, 2)]
    source = Path(run.__file__).read_text(encoding="utf-8")
    assert "import torch" not in source
