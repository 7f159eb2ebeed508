"""Every number lesson 06 and its exercise notebook state in their text, recomputed.

(The numbers the notebooks print are checked by nbval, which re-runs them.)
"""

import re
from pathlib import Path

import nbformat
import numpy as np

from course_lib.attention import scaled_dot_product_attention
from course_lib.softmax import masked_softmax, softmax

ROOT = Path(__file__).resolve().parents[1]


def _markdown(path):
    nb = nbformat.read(ROOT / path, as_version=4)
    return "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def _code(path):
    nb = nbformat.read(ROOT / path, as_version=4)
    return "\n".join(c.source for c in nb.cells if c.cell_type == "code")


def _shown(values):
    return "[" + ", ".join(f"{v:.8f}".rstrip("0").rstrip(".") if v else "0"
                           for v in np.ravel(values)) + "]"


def test_numbers_the_lesson_states():
    text = _markdown("notebooks/06_attention.ipynb")
    code = _code("notebooks/06_attention.ipynb")
    # the token example: scores 6 / sqrt(4) = 3 or 0, and "sat" splits between two nouns
    assert "$6 / 2 = 3$" in text and "$d_k = 4$" in text
    assert f"\\approx {np.e ** 3 / (2 * np.e ** 3 + 4):.3f}" in text
    # the spread of unscaled scores at d_k = 1024
    assert "typically $\\pm 32$" in text and np.sqrt(1024) == 32
    # the saturation experiment's set-up is the one the text describes
    assert "1000 queries, each with its own 64 keys" in text
    assert "N_QUERIES, N_KEYS = 1000, 64" in code and "> 0.99" in code
    # the forgotten rescale on 0, 1, ..., 5
    up = np.arange(6.0)
    right_sum = np.exp(up - 5).sum()
    assert f"\\approx {right_sum:.2f}$" in text
    assert f"sums to about {right_sum / 6:.2f}" in text
    # a float64 score matrix at n = 65 536, and float64's resolution
    assert f"is {65536 ** 2 * 8 / 1e9:.0f} GB" in text
    assert f"${np.finfo(float).eps / 1e-16:.1f} \\times 10^{{-16}}$" in text
    # d2l's fill value
    assert "uses $-10^6$" in text
    # the Jacobian norm of a uniform row over n = 64 keys, of two keys at 1/2, and its peak
    n = 64
    uniform = np.full(n, 1 / n)
    two = np.zeros(n)
    two[:2] = 0.5
    frobenius = lambda w: np.linalg.norm(np.diag(w) - np.outer(w, w))
    assert np.isclose(frobenius(uniform), np.sqrt(n - 1) / n)
    assert "\\sqrt{n - 1}/n \\approx " + f"{np.sqrt(n - 1) / n:.2f}$ for $n = {n}$" in text
    assert np.isclose(frobenius(two), 0.5) and "two keys at $1/2$ each give\n$1/2$" in text
    assert "up to about $d_k = 8$–$16$" in text


def test_pytorch_gives_zeros_for_a_query_that_sees_no_key():
    # the lesson: PyTorch's scaled_dot_product_attention returns 0 there (checked with 2.13);
    # tests/test_attention.py checks these stored answers against live torch when it is installed
    text = _markdown("notebooks/06_attention.ipynb")
    assert "checked with\nPyTorch 2.13" in text
    stored = np.load(ROOT / "tests" / "data" / "sdpa_torch_reference.npz")
    assert np.all(stored["random_mask/weights"][0, 2] == 0.0)
    assert np.all(stored["random_mask/output"][0, 2] == 0.0)
    assert np.all(stored["scale_mask/output"][3] == 0.0)


def test_the_lesson_states_what_its_code_prints():
    nb = nbformat.read(ROOT / "notebooks/06_attention.ipynb", as_version=4)
    printed = "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                        for o in c.outputs)
    assert "weights of 'sat': [0.023 0.455 0.023 0.023 0.023 0.455]" in printed
    assert "increasing row: sum = 0.2630" in printed and "decreasing row: sum = 1.0000" in printed
    assert "below 1e-15: True" in printed
    table = re.findall(r"^\s*(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)$",
                       printed, flags=re.M)
    assert [int(row[0]) for row in table] == [4, 16, 64, 256, 1024]
    variance = [float(row[1]) for row in table]
    unscaled, scaled = [float(r[2]) for r in table], [float(r[3]) for r in table]
    assert np.allclose(variance, [4, 16, 64, 256, 1024], rtol=0.05)  # Var(q.k) = d_k
    assert unscaled == sorted(unscaled) and unscaled[-1] > 0.5 and max(scaled) == 0.0
    jac_unscaled, jac_scaled = [float(r[4]) for r in table], [float(r[5]) for r in table]
    assert jac_unscaled[-1] < jac_scaled[-1] / 2 and max(jac_scaled) - min(jac_scaled) < 0.01
    peak = re.search(r"unscaled Jacobian norm largest at d_k = (\d+); uniform row over 64 keys: "
                     r"0\.124, two keys at 1/2: 0\.500, one-hot: 0\.000", printed)
    assert peak and int(peak.group(1)) in (8, 16)


def test_numbers_the_exercise_notebook_states():
    text = _markdown("solutions/06_solutions_attention.ipynb")
    assert _shown(masked_softmax([1.0, 2.0, 3.0], [True, True, False])) in text
    assert _shown(masked_softmax([1000.0, 1.0, 2.0], [False, True, True])) in text
    assert _shown(softmax([1.0, 2.0, 3.0])) in text
    out, w = scaled_dot_product_attention([[1.0, 0.0]], [[1.0, 0.0], [0.0, 1.0]], [[10.0], [20.0]])
    assert f"`[{_shown(w)}]`" in text and f"`[[{float(out[0, 0]):.8g}]]`" in text


def test_section_6_merging_partial_states():
    """What section 6 prints and states: three merge orders agree with full attention, and the
    division counts of normalising every step and once at the end."""
    nb = nbformat.read(ROOT / "notebooks/06_attention.ipynb", as_version=4)
    out = {c.get("id"): "".join(o.get("text", "") for o in c.outputs) for c in nb.cells
           if c.cell_type == "code"}
    merged = out["merge-code"]
    sizes = [int(v) for v in re.search(r"block sizes: \[([\d, ]+)\]", merged).group(1).split(",")]
    assert len(sizes) == 16 and sum(sizes) == 1000
    for order in ("left to right", "as a tree", "shuffled"):
        assert re.search(rf"^{order}\s*: m = max score: True; largest \|o / l - full\| below "
                         r"1e-15: True$", merged, flags=re.M), order
    n_q, d_v, blocks = 4, 8, 16
    every_step = n_q * d_v * blocks + n_q * d_v * (blocks - 1)
    assert f"below 1e-15: True, {every_step} divisions" in out["normalise-code"]
    assert f"below 1e-15: True, {n_q * d_v} divisions" in out["normalise-code"]
    text = _markdown("notebooks/06_attention.ipynb")
    assert f"$n_q d_v$ divisions (here {n_q * d_v})" in text
    assert "16 times slower" in text and "commutative" in text and "associative" in text
    assert "merge_softmax_states(m_a, l_a, o_a, m_b, l_b, o_b)" in text


def test_the_exercise_notebook_states_the_merge_example():
    from course_lib.attention import merge_softmax_states

    text = _markdown("solutions/06_solutions_attention.ipynb")
    m, l, o = merge_softmax_states([1.0], [1.0], [[2.0]], [3.0], [1.0], [[4.0]])
    assert f"`l = [{float(l[0]):.8g}]`" in text and f"`o = [[{float(o[0, 0]):.8g}]]`" in text
    assert "`m = [3]`" in text and "($e^{-2} + 1$)" in text and "($2e^{-2} + 4$)" in text
