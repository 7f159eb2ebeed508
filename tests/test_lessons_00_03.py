"""Lessons 00-03 as a reader meets them: the numbers their text states, their links, their shape,
00's glossary and 00's install and test commands.

nbval (see pyproject.toml) re-runs each lesson and compares every printed output. These tests read
the *markdown*, which nbval cannot check: every decimal number and power of ten the text states is
recomputed here with numpy and ``course_lib``, and a lesson that states a new one fails
``test_every_decimal_the_text_states_is_checked`` until a check is added below.
"""

import re
from pathlib import Path

import nbformat
import numpy as np
import pytest

from course_lib.grading import EXERCISES
from course_lib.softmax import log_softmax, logsumexp, softmax

ROOT = Path(__file__).resolve().parents[1]
LESSONS = {
    "00": ("00_start_here", "Start here"),
    "01": ("01_definition", "The definition of softmax"),
    "02": ("02_shift_invariance", "Shift invariance"),
    "03": ("03_max_trick", "Overflow and the max trick"),
}
# Every lesson of the course (brief and COURSE.md); 04-07 may be written in parallel.
ALL_LESSONS = dict(LESSONS, **{
    "04": ("04_temperature", "Temperature"),
    "05": ("05_classification_calibration", "Classification and calibration"),
    "06": ("06_attention", "Attention"),
    "07": ("07_rl_policies", "Softmax policies in reinforcement learning"),
})


def _nb(slug):
    return nbformat.read(ROOT / "notebooks" / f"{slug}.ipynb", as_version=4)


def _markdown(slug, *, references=True, code_blocks=True):
    """The lesson's markdown; optionally without its references and its ``` code blocks."""
    cells = [c for c in _nb(slug).cells if c.cell_type == "markdown"
             and (references or c.get("id") != "references")]
    text = "\n".join(c.source for c in cells)
    return text if code_blocks else re.sub(r"```.*?```", "", text, flags=re.S)


def _cell(slug, cell_id):
    (cell,) = [c for c in _nb(slug).cells if c.get("id") == cell_id]
    return cell.source


def _sci(x):
    """``x`` as LaTeX ``m.m \\times 10^{e}``, computed in logs (works below the float range)."""
    e = int(np.floor(x))
    return f"{10 ** (x - e):.1f} \\times 10^{{{e}}}"


Z = np.array([1.0, 2.0, 3.0])


def _fd_error(h=1e-4):
    """Lesson 01's measurement: diag(p) - pp^T against central differences at z = [1, 2, 3]."""
    p = softmax(Z)
    J = np.diag(p) - np.outer(p, p)
    cols = [(softmax(Z + h * e) - softmax(Z - h * e)) / (2 * h) for e in np.eye(3)]
    return float(np.max(np.abs(J - np.stack(cols, axis=1))))


def _stated_00():
    return {f"{np.e:.6f}": True}


def _stated_01():
    p = softmax(Z)
    err = _fd_error()
    return {
        **{f"{v:.8f}": True for v in p},                          # softmax(1, 2, 3)
        # the finite-difference error "agree to about 10^{-10}", "h = 10^{-4}", "h^2 = 10^{-8}"
        "10^{-10}": 1e-11 < err < 1e-9 and round(np.log10(err)) == -10,
        "10^{-4}": "h=1e-4" in _cell("01_definition", "jacobian-check").replace(" ", ""),
        "10^{-8}": (1e-4) ** 2 == pytest.approx(1e-8),
        # Guo et al.'s overconfidence, described: "probability 0.9, fewer than 90 % are right"
        "0.9": True,
    }


def _stated_02():
    largest = np.finfo(np.float64).max
    rows = np.array([[1000.0, 1001.0, 1002.0], [1.0, 2.0, 3.0], [-1000.0, -999.0, -998.0]])
    return {
        _sci(np.log10(largest)): f"{largest:.1e}" == "1.8e+308",
        # the batch at three scales: every row's true softmax is softmax(1, 2, 3)
        **{f"{v:.8f}": np.allclose(softmax(rows, axis=1), softmax(Z), rtol=1e-15, atol=0)
           for v in softmax(Z)},
    }


def _scipy_version():
    import scipy

    return tuple(int(part) for part in re.findall(r"\d+", scipy.__version__)[:2])


def _scipy_logsumexp_uses_log1p():
    import inspect

    import scipy.special._logsumexp as scipy_logsumexp

    return "log1p(" in inspect.getsource(scipy_logsumexp.logsumexp) + inspect.getsource(
        getattr(scipy_logsumexp, "_logsumexp", scipy_logsumexp.logsumexp))


def _bfloat16_limits():
    """bfloat16's largest value, smallest normal, smallest subnormal and epsilon, read off the
    bit patterns: a bfloat16 is the upper 16 bits of a float32."""
    bits = np.array([0x7F7F0000, 0x00800000, 0x00010000, 0x3F810000], dtype=np.uint32)
    largest, tiny, smallest, one_plus_eps = bits.view(np.float32).astype(float)
    return largest, tiny, smallest, one_plus_eps - 1.0


def _to_bfloat16(x):
    """Round float32 values to the nearest bfloat16 (ties to even), returned as float32."""
    bits = np.asarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000
    return rounded.astype(np.uint32).view(np.float32)


def _stated_03():
    f64 = np.finfo(np.float64)
    log_max = {dt: f"{np.log(float(np.finfo(dt).max)):.2f}" for dt in (np.float16, np.float32, np.float64)}
    with np.errstate(over="ignore"):
        f16_12_overflows = bool(np.isinf(np.exp(np.float16(12))) and np.isfinite(np.exp(np.float16(11))))
    return {
        log_max[np.float16]: log_max[np.float16] == "11.09",
        log_max[np.float32]: log_max[np.float32] == "88.72",
        log_max[np.float64]: log_max[np.float64] == "709.78",
        _sci(np.log10(f64.max)): f"{f64.max:.1e}" == "1.8e+308",
        "65504": float(np.finfo(np.float16).max) == 65504.0 and f16_12_overflows,
        # below z - m = -745 exp underflows to 0 (it is 0 below log(smallest subnormal / 2)),
        # and then the true probability is below 10^{-323}
        "10^{-323}": round(float(np.log(f64.smallest_subnormal) - np.log(2))) == -745
        and np.exp(-745.0) < 1e-323,
        # 1 + t rounds to 1 once t < 10^{-16}
        "10^{-16}": 1.0 + 1e-16 == 1.0 and 1.0 + 2.3e-16 != 1.0,
        # e^-800 = 3.7 x 10^-348, below the smallest float64, 4.9 x 10^-324
        _sci(-800 / np.log(10)): _sci(-800 / np.log(10)) == "3.7 \\times 10^{-348}",
        _sci(np.log10(f64.smallest_subnormal)): f"{f64.smallest_subnormal:.1e}" == "4.9e-324",
        # scipy.special.logsumexp has used log1p since SciPy 1.15 (its 1.15.0 release notes:
        # "now preserves precision when one element of the sum has magnitude much bigger than
        # the rest"): the installed scipy uses it exactly when it is 1.15 or later
        "1.15": _scipy_logsumexp_uses_log1p() == (_scipy_version() >= (1, 15)),
        # bfloat16's epsilon, 2^-7 (7 stored fraction bits)
        "0.0078": f"{_bfloat16_limits()[3]:.4f}" == "0.0078" and _bfloat16_limits()[3] == 2.0**-7,
    }


STATED = {"00": _stated_00, "01": _stated_01, "02": _stated_02, "03": _stated_03}


@pytest.mark.parametrize("nn", sorted(LESSONS))
def test_numbers_the_text_states_are_right(nn):
    slug = LESSONS[nn][0]
    text = _markdown(slug)
    for stated, right in STATED[nn]().items():
        assert right, f"{slug}: the stated {stated!r} is not what numpy computes"
        assert stated in text, f"{slug}: {stated!r} is not stated as computed"


def _decimals_and_powers(text):
    """Every decimal (``0.24472847``) and power of ten (``10^{-8}``) the text states, outside
    code blocks, the references and section numbers (``§6.2.2.3``)."""
    text = re.sub(r"§[\d.]+", "", text)
    text = re.sub(r"\b3\.10\b", "", text)   # "Python 3.10", a version, not a result
    found = set(re.findall(r"(?<![\w.])\d+\.\d+(?![\w.])", text))
    found |= set(re.findall(r"10\^\{-?\d+\}", text))
    found |= {m.replace(" ", "") for m in re.findall(r"\d+\.\d+ \\times 10\^\{-?\d+\}", text)}
    return found


@pytest.mark.parametrize("nn", sorted(LESSONS))
def test_every_decimal_the_text_states_is_checked(nn):
    slug = LESSONS[nn][0]
    stated = _decimals_and_powers(_markdown(slug, references=False, code_blocks=False))
    checked = set()
    for key in STATED[nn]():
        key = key.replace(" ", "")
        checked |= {key, *key.split("\\times")}      # "3.7\times10^{-348}" and its parts
    assert stated <= checked, f"{slug} states numbers no test recomputes: {sorted(stated - checked)}"


def test_the_seed_values_and_what_the_lessons_show():
    """The values the issue asks for, computed with course_lib as the lessons print them."""
    np.testing.assert_allclose(softmax(Z), [0.09003057, 0.24472847, 0.66524096], atol=5e-9)
    assert softmax([2.0, 2.0, 2.0]).sum() == pytest.approx(1.0, abs=1e-15)
    assert np.all(softmax([5.0, 1.0, -2.0]) > 0)
    np.testing.assert_allclose(softmax(Z + 1000), softmax(Z), rtol=1e-15)
    assert float(logsumexp(Z + 1000) - logsumexp(Z)) == pytest.approx(1000.0, abs=1e-9)
    np.testing.assert_array_equal(log_softmax([0.0, -800.0]), [0.0, -800.0])
    with np.errstate(divide="ignore"):
        assert np.log(softmax([0.0, -800.0]))[1] == -np.inf
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(np.array([1000.0, 0.0, 0.0]))
        assert np.isnan(e / e.sum())[0]
        e = np.exp(np.full(3, -1000.0))
        assert np.isnan(e / e.sum()).all()
    # 00: the deliberately wrong softmax fails the public tests the lesson says it has
    assert len(EXERCISES["softmax"].public) == 10
    assert "ten tests" in _markdown("00_start_here")


_LINK = re.compile(r"\]\(([^)\s]+)\)")


@pytest.mark.parametrize("nn", sorted(LESSONS))
def test_links_point_to_files_that_exist_or_to_the_course_lessons(nn):
    slug = LESSONS[nn][0]
    planned = {f"notebooks/{s}.ipynb" for s, _ in ALL_LESSONS.values()} | {
        f"{folder}/{s[:3]}{folder}_{s[3:]}.ipynb" for s, _ in ALL_LESSONS.values()
        for folder in ("exercises", "solutions")}
    targets = _LINK.findall(_markdown(slug))
    assert targets
    for target in targets:
        if target.startswith(("http://", "https://")):
            continue
        resolved = (ROOT / "notebooks" / target).resolve()
        rel = resolved.relative_to(ROOT).as_posix()
        assert resolved.exists() or rel in planned, f"{slug} links to {target}, which is not there"


@pytest.mark.parametrize("nn", sorted(LESSONS))
def test_each_lesson_has_the_course_shape(nn):
    slug, title = LESSONS[nn]
    nb = _nb(slug)
    assert nb.cells[0].source.startswith(f"# Lesson {nn} · {title}\n")
    head = nb.cells[0].source
    assert "**You will learn**" in head and "*Time:* about" in head and "*Before this:*" in head
    assert nb.cells[1].cell_type == "code" and nb.cells[1].id == "setup"
    text = _markdown(slug)
    for heading in ("## Pitfalls", "## Summary", "## Exercises", "## References"):
        assert heading in text, f"{slug} has no {heading}"
    assert "> **Predict, then run.**" in text
    prev_next = [ALL_LESSONS.get(f"{int(nn) + d:02d}") for d in (-1, 1)]
    last = nb.cells[-1].source.strip().splitlines()[-1]
    for k, (other, sign) in enumerate(zip(prev_next, ("← ", " →"))):
        if other is not None:
            number = f"{int(nn) + (-1, 1)[k]:02d}"
            label = f"← {number} · {other[1]}" if k == 0 else f"{number} · {other[1]} →"
            assert f"[{label}]({other[0]}.ipynb)" in last, f"{slug}: navigation line {last!r}"
    if nn != "00":
        assert f"../exercises/{nn}_exercises_{slug[3:]}.ipynb" in text
        assert f"../solutions/{nn}_solutions_{slug[3:]}.ipynb" in text
        names = {n for n, e in EXERCISES.items() if e.lesson == nn}
        exercises = _cell(slug, "exercises")
        assert names and all(f"`{n}" in exercises for n in names), (slug, names)


def test_lessons_01_to_03_show_a_figure():
    for nn in ("01", "02", "03"):
        outputs = [o for c in _nb(LESSONS[nn][0]).cells if c.cell_type == "code" for o in c.outputs]
        assert any("image/png" in o.get("data", {}) for o in outputs), nn


KOREAN = ["로짓", "소프트맥스", "확률 분포", "정규화", "이동 불변성", "오버플로", "언더플로",
          "로그-합-지수", "온도", "엔트로피", "보정", "교차 엔트로피", "어텐션", "정책",
          "야코비 행렬", "시그모이드", "레이블 스무딩", "볼츠만 분포", "탐색"]
ENGLISH = ["logit", "softmax", "probability distribution", "normalisation", "shift invariance",
           "overflow", "underflow", "log-sum-exp", "temperature", "entropy", "calibration",
           "cross-entropy", "attention", "policy", "argmax", "one-hot", "Jacobian", "sigmoid",
           "max trick", "label smoothing", "Boltzmann distribution", "exploration"]


def _glossary_rows():
    rows = [r for r in _cell("00_start_here", "glossary").splitlines() if r.startswith("| ")]
    return [[c.strip() for c in r.strip("|").split("|")] for r in rows[1:]]   # no header


def test_the_glossary_has_every_term_in_english_and_korean_with_its_lesson():
    rows = _glossary_rows()
    english = " ; ".join(r[0] for r in rows)
    korean = " ; ".join(r[1] for r in rows)
    for term in ENGLISH:
        assert term in english, f"glossary lacks {term!r}"
    for term in KOREAN:
        assert term in korean, f"glossary lacks {term!r}"
    for row in rows:
        assert len(row) == 4 and row[2], row                       # a one-line definition
        assert row[3] in ALL_LESSONS, f"{row[0]}: lesson {row[3]!r} is not a lesson"
    # terms of the lessons written here name the lesson that introduces them
    where = {r[0]: r[3] for r in rows}
    assert where["shift invariance"] == "02" and where["Jacobian"] == "01"
    assert where["overflow"] == "03" and where["log-softmax"] == "03"


def _readme_block(marker):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(re.escape(marker) + r"\s*```sh\n(.*?)\n```", readme, flags=re.S)
    assert match, marker
    return match.group(1).strip()


def test_start_here_gives_the_readme_commands_exactly():
    blocks = re.findall(r"```sh\n(.*?)\n```", _cell("00_start_here", "install"), flags=re.S)
    assert _readme_block("<!-- start-command -->") in [b.strip() for b in blocks]
    assert _readme_block("<!-- test-command -->") in [b.strip() for b in blocks]
    assert "softmax-course check exercises/01_exercises_definition.ipynb" in _cell("00_start_here", "hints")


def test_start_here_demonstrates_check_on_a_wrong_and_a_right_softmax():
    nb = _nb("00_start_here")
    shown = {c.id: "".join(o.get("data", {}).get("text/plain", "") for o in c.outputs)
             for c in nb.cells if c.cell_type == "code"}
    assert 'check("softmax", wrong_softmax)' in _cell("00_start_here", "check-wrong")
    assert "Likely mistake, no max trick" in shown["check-wrong"]
    assert "✓ softmax: all 10 tests passed" in shown["check-right"]
    assert "not implemented yet" in shown["check-stub"]


# --- lesson 03: the formats table, the error figure, the range of log-softmax ---------------------
def _lesson_03_namespace(*cell_ids):
    import matplotlib

    matplotlib.use("Agg")
    ns = {}
    for cell_id in ("setup", *cell_ids):
        exec(_cell("03_max_trick", cell_id), ns)
    return ns


def test_lesson_03_formats_table_computes_bfloat16_from_its_layout():
    """The table's limits() gives numpy's finfo for float16/32/64 (asserted in the cell) and,
    for bfloat16, the values of its bit patterns; bfloat16 shares float32's range, not its
    precision (257 rounds to 256, as the text says)."""
    import matplotlib.pyplot as plt

    ns = _lesson_03_namespace("limits-table")
    plt.close("all")
    assert ns["LAYOUTS"]["bfloat16"] == (8, 7)
    assert ns["limits"](8, 7) == _bfloat16_limits()
    assert f"{np.log(_bfloat16_limits()[0]):.2f}" == f"{np.log(float(np.finfo(np.float32).max)):.2f}" == "88.72"
    assert float(_to_bfloat16(257.0)) == 256.0 and float(_to_bfloat16(256.0)) == 256.0
    text = _markdown("03_max_trick")
    assert "cannot even tell 256 from 257" in text and "88.72 (float32 and" in text


def test_lesson_03_error_figure_counts_every_entry_and_states_the_bound():
    """The right panel's claims, recomputed: the naive formula stays within 5 eps where it is
    finite; the max trick within (d/2 + 5) eps at every gap d, and its error grows with the gap
    (its mean at gaps 100-700 is tens of eps in float64, far above its mean at gaps below 1)."""
    import matplotlib.pyplot as plt

    ns = _lesson_03_namespace("figure")
    plt.close("all")
    for label, (f, dtype, *_) in ns["runs"].items():
        _, gaps, errors = ns["measure"](f, dtype)
        assert gaps.size > 50_000
        bound = gaps / 2 + 5 if f is ns["stable_rows"] else 5
        assert np.all(errors <= bound), label
        if label == "max trick, float64":
            assert errors[gaps < 1].mean() < 2 and 10 < errors[(gaps > 100) & (gaps < 700)].mean() < 350
        if label == "max trick, float32":
            assert 3 < errors[(gaps > 20) & (gaps < 87)].mean() < 44
        worst_top = 0.0                          # the largest entry (d = 0): a few eps
        for s in ns["scales"]:
            z = (s * ns["X"]).astype(dtype)
            with np.errstate(over="ignore", invalid="ignore"):
                p = f(z).astype(np.float64)
            exact = softmax(z.astype(np.float64), axis=1, precise=True)
            top = (np.arange(len(z)), z.argmax(axis=1))
            fine = ~np.isnan(p).any(axis=1)
            err = np.abs(p[top] - exact[top]) / exact[top] / np.finfo(dtype).eps
            worst_top = max(worst_top, float(err[fine].max()) if fine.any() else 0.0)
        assert worst_top <= 5, label
    assert "never beyond the dashed line $d/2$" in _markdown("03_max_trick")
    assert "is accurate to a few $\\varepsilon$\nin both formulas" in _markdown("03_max_trick")


def test_log_softmax_range_is_stated_as_it_is():
    """log-softmax of [1e308, -1e308] is -2e308, beyond float64: -inf is the right rounding,
    while softmax and logsumexp stay finite; the lesson and the exercises say so."""
    with np.errstate(over="ignore"):
        assert np.isneginf(log_softmax(np.array([1e308, -1e308]))[1])
    assert np.all(np.isfinite(softmax(np.array([1e308, -1e308]))))
    assert np.isfinite(logsumexp(np.array([1e308, -1e308])))
    exercises = _cell("03_max_trick", "exercises")
    assert "each along an `axis` and finite for any finite logits" not in exercises   # the old claim
    assert "The\nfirst two are finite for any finite logits" in exercises
    assert "$-2 \\times 10^{308}$" in _cell("03_max_trick", "exercises")
    solutions = nbformat.read(ROOT / "solutions" / "03_solutions_max_trick.ipynb", as_version=4)
    intro = solutions.cells[0].source
    assert "finite for any finite logits" not in intro and "[1e308, -1e308]" in intro



def test_the_log1p_exercise_states_its_examples_right():
    from course_lib.exercises.lesson03 import LOG1P_REFERENCE

    solutions = nbformat.read(ROOT / "solutions" / "03_solutions_max_trick.ipynb", as_version=4)
    text = "\n".join(c.source for c in solutions.cells if c.cell_type == "markdown")
    assert f"{float(LOG1P_REFERENCE([0.0, -50.0])):.2e}" == "1.93e-22" and "1.93 \\times 10^{-22}" in text
    assert 1.0 + np.exp(-50.0) == 1.0 and np.log1p(np.exp(-50.0)) > 0
    assert abs(float(LOG1P_REFERENCE([-40.0, 0.0, 0.0])) - np.log(2)) < 1e-15
    assert "for `[-40, 0, 0]` the answer is about $\\log 2$" in text
    assert f"{float(LOG1P_REFERENCE([1, 2, 3])):.8f}" == "3.40760596" and "`3.40760596`" in text
    assert "`logsumexp_log1p`" in _cell("03_max_trick", "exercises")
