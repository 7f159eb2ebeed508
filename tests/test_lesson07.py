"""Lesson 07: the numbers its text states, recomputed, and its exercises' registration."""

import re
from pathlib import Path

import nbformat
import numpy as np
import pytest

from course_lib.grading import EXERCISES
from course_lib.policies import boltzmann_policy, gradient_bandit, gradient_bandit_step
from grading_fixtures import WRONG

ROOT = Path(__file__).resolve().parents[1]
LESSON = ROOT / "notebooks" / "07_rl_policies.ipynb"
SOLUTION = ROOT / "solutions" / "07_rl_policies.ipynb"


def _markdown(path):
    nb = nbformat.read(path, as_version=4)
    return "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def _outputs(path):
    nb = nbformat.read(path, as_version=4)
    return "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                     for o in c.outputs)


def _shown(values):
    return "[" + ", ".join(f"{v:.8f}".rstrip("0").rstrip(".") for v in np.ravel(values)) + "]"


def _corridor(p):
    return (2 * p - 4) / (p * (1 - p))


def test_numbers_the_lesson_states_are_right():
    text = _markdown(LESSON)
    log_max = np.log(np.finfo(np.float64).max)
    p_star = 2 - np.sqrt(2)
    stated = {
        "$\\log 10 = 2.30$": f"{np.log(10):.2f}" == "2.30",
        "709.78": f"{log_max:.2f}" == "709.78",
        "a preference of 7.1": f"{0.01 * log_max:.1f}" == "7.1",
        "$-4 \\log 0.1 \\approx 9.2$": f"{-4 * np.log(0.1):.1f}" == "9.2",
        "p^* = 2 - \\sqrt 2": abs(p_star - 0.5858) < 1e-4,
        "$p^2 - 4p + 2 = 0$": abs(p_star**2 - 4 * p_star + 2) < 1e-12,
        "$v(p) = (2p - 4) / (p(1 - p))$": True,  # the notebook checks it against a linear solve
        "about 59 : 41": (round(100 * p_star), round(100 * (1 - p_star))) == (59, 41),
        "11.66 steps": f"{-_corridor(p_star):.2f}" == "11.66",
        "about 44 or 82 steps": (round(-_corridor(0.95)), round(-_corridor(0.05))) == (44, 82),
        "$p = 0.95$ or\n$p = 0.05$": True,  # 1 - 0.1 / 2 and 0.1 / 2
        "10%": True,  # a uniform policy over 10 arms
    }
    for phrase, right in stated.items():
        assert phrase in text, f"the lesson no longer says {phrase!r}"
        assert right, phrase


def test_the_baseline_that_includes_r_t_is_a_smaller_step():
    # R_t - Rbar_t = (1 - 1/t)(R_t - Rbar_{t-1}) for the incremental average, from step 2 on
    text = _markdown(LESSON)
    assert "$R_t - \\bar R_t = (1 - 1/t)\\,(R_t - \\bar R_{t-1})$" in text
    rewards = np.random.default_rng(0).normal(4.0, 1.0, 50)
    avg = 0.0
    for t, r in enumerate(rewards, 1):
        before = avg
        avg += (r - avg) / t
        assert np.isclose(r - avg, (1 - 1 / t) * (r - before), rtol=1e-12, atol=1e-12)
        if t > 1:
            assert np.isclose(before, rewards[:t - 1].mean(), rtol=1e-12)


def test_figure_2_5_figures_the_lesson_states_match_the_library():
    text = _markdown(LESSON)
    assert "about 84–85% (α = 0.1,\nbaseline), 72% (α = 0.4, baseline), 50% (α = 0.1, none), 27% (α = 0.4, none)" \
        in text
    out = _outputs(LESSON)
    for alpha, baseline in ((0.1, True), (0.4, True), (0.1, False), (0.4, False)):
        ours = 100 * gradient_bandit(alpha=alpha, baseline=baseline).optimal[900:].mean()
        row = rf"{alpha:5}  {'yes' if baseline else 'no':8}\s+{ours:.1f}\s"
        assert re.search(row, out), f"the stored table does not show {ours:.1f} for {alpha, baseline}"


def test_numbers_the_exercise_notebook_states_are_right():
    text = _markdown(SOLUTION)
    for tau in (0.5, 1.0, 2.0):
        assert _shown(boltzmann_policy([1.0, 2.0, 3.0], tau)) in text
    assert _shown(gradient_bandit_step(np.zeros(4), 2, 5.0, 1.0, 0.5)) in text
    assert "[-0.5, -0.5, 1.5, -0.5]" in text
    assert "`[3, 1, 2] / 0.001` is `[3000, 1000, 2000]`" in text
    assert np.allclose(np.array([3, 1, 2]) / 0.001, [3000, 1000, 2000])


@pytest.mark.parametrize("name", ["boltzmann_policy", "gradient_bandit_step"])
def test_lesson_07_exercises_are_registered_and_every_mistake_is_proven(name):
    ex = EXERCISES[name]
    assert ex.lesson == "07" and ex.points == 2.0 and len(ex.public) >= 8
    proven = {m for e, m, _ in WRONG if e == name}
    registered = {m.name for m in ex.mistakes}
    assert registered <= proven, f"mistakes without a fixture: {registered - proven}"
    for required in {"boltzmann_policy": ("greedy one-hot policy", "temperature multiplied",
                                          "no max trick", "modifies its input"),
                     "gradient_bandit_step": ("sign error", "only the chosen arm updated",
                                              "baseline ignored", "greedy policy in the update",
                                              "no max trick", "modifies its input")}[name]:
        assert required in registered
