"""Lesson 07: the numbers its text states, recomputed, and its exercises' registration."""

import re
from pathlib import Path

import nbformat
import numpy as np
import pytest
from scipy import stats

from course_lib.grading import EXERCISES
from course_lib.policies import boltzmann_policy, gradient_bandit, gradient_bandit_step
from grading_fixtures import WRONG

ROOT = Path(__file__).resolve().parents[1]
LESSON = ROOT / "notebooks" / "07_rl_policies.ipynb"
SOLUTION = ROOT / "solutions" / "07_solutions_rl_policies.ipynb"


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


def test_figure_2_5_is_compared_with_the_spread_over_seeds():
    """The claims the text makes about the table of section 7, read from the table as stored:
    nbval checks that the cell computes exactly that table (natively, and in the Korean twin as
    on another machine), so the 22 runs of 2000 bandits are not computed a third time here."""
    text = _markdown(LESSON)
    assert "about 84–85% (α = 0.1, baseline), 72% (α = 0.4, baseline), 50% (α = 0.1, none), 27% (α = 0.4,\nnone)" \
        in text
    assert "$t_{0.975,4} = 2.78$" in text and f"{stats.t.ppf(0.975, 4):.2f}" == "2.78"
    out = _outputs(LESSON)
    measured = {(0.1, True): (84, 85), (0.4, True): (72, 72), (0.1, False): (50, 50),
                (0.4, False): (27, 27)}
    number = r"(\d+\.\d)"
    spreads, means = [], {}
    for (alpha, baseline), (lo, hi) in measured.items():
        row = (rf"^ *{alpha} +{'yes' if baseline else 'no'} +{number} +{number}-{number} +"
               rf"{number}-{number} +{lo if lo == hi else f'{lo}-{hi}'} +(True|False)$")
        m = re.search(row, out, re.M)
        assert m, f"the stored table has no row for alpha = {alpha}, baseline {baseline}"
        mean, low, high, left, right = map(float, m.groups()[:5])
        assert low <= mean <= high and left < mean < right
        # the 95% interval for one seed is mean ± t s sqrt(1 + 1/5): its half-width is at least
        # t sqrt(6/5) times the smallest s five values spanning (high - low) can have
        assert (right - left) / 2 >= stats.t.ppf(0.975, 4) * np.sqrt(6 / 5) * (high - low) \
            / np.sqrt(2 * 4) - 0.1
        inside = left <= lo and hi <= right
        assert m.group(6) == str(inside) == "True"      # "inside", as printed and as recomputed
        spreads.append(high - low)
        means[alpha, baseline] = mean
    # "the 5 seeds of a setting lie within 3 points of each other"; "gaps ... 10 points and more"
    assert "lie within 3\npoints of each other" in text
    assert 1.0 <= max(spreads) < 3.0
    ordered = sorted(means.values())
    assert min(b - a for a, b in zip(ordered, ordered[1:])) >= 10


def test_figure_2_5_recomputed_from_course_lib_matches_the_stored_table():
    """One setting recomputed here from course_lib (5 seeds of 2000 runs), so that the table
    and the library cannot drift apart unnoticed between two executions of the lesson."""
    x = np.array([100 * gradient_bandit(alpha=0.4, baseline=False, seed=seed).optimal[900:].mean()
                  for seed in range(5)])
    half = stats.t.ppf(0.975, 4) * x.std(ddof=1) * np.sqrt(1 + 1 / 5)
    row = (rf"  0.4  no  +{x.mean():5.1f}   {x.min():4.1f}-{x.max():4.1f}\s+"
           rf"{x.mean() - half:4.1f}-{x.mean() + half:4.1f}\s")
    assert re.search(row, _outputs(LESSON)), f"the stored table does not show {row!r}"


def test_the_parameter_study_shows_what_the_lesson_says():
    from course_lib.policies import parameter_study

    alphas = 2.0 ** np.arange(-5, 3)
    study = {(mean, b): parameter_study(alphas, baseline=b, true_mean=mean, n_runs=300, seed=1)
             for mean in (0.0, 4.0) for b in (True, False)}
    text = _markdown(LESSON)
    with_b = study[(0.0, True)].reward
    # "a best step size, near alpha = 1/4"; "half or twice ... costs only a few hundredths"
    assert "near $\\alpha = 1/4$" in text and alphas[np.argmax(with_b)] == 0.25
    assert with_b.max() - max(with_b[2], with_b[4]) < 0.05
    assert with_b[0] < with_b.max() - 0.2 and with_b[-1] < with_b.max() - 0.2   # an inverted U
    # shift invariance with the baseline (up to rounding)
    assert np.abs(study[(4.0, True)].reward - 4.0 - with_b).max() < 1e-9
    # without it: little cost around 0, about the study's noise (standard errors about 0.04)
    se = max(r.stderr.max() for r in study.values())
    assert 0.03 <= se <= 0.07 and "about 0.04" in text
    assert np.abs(study[(0.0, False)].reward - with_b).max() < 2 * se
    # around +4: worse the larger alpha (from the top of its curve on), barely above random at 4
    off = study[(4.0, False)].reward - 4.0
    assert np.all(np.diff(off[2:]) < 0) and 0 < off[-1] < 0.2
    assert np.all(off[3:] < with_b[3:] - 0.3)
    out = _outputs(LESSON)
    assert "with the baseline, shifting every reward by 4 changes the curve by less than 1e-9: True" in out
    line = "with baseline, mean 0:   " + "  ".join(f"{v:6.2f}" for v in with_b)
    assert line in out


def test_numbers_the_exercise_notebook_states_are_right():
    text = _markdown(SOLUTION)
    for tau in (0.5, 1.0, 2.0):
        assert _shown(boltzmann_policy([1.0, 2.0, 3.0], tau)) in text
    assert _shown(gradient_bandit_step(np.zeros(4), 2, 5.0, 1.0, 0.5)) in text
    assert "[-0.5, -0.5, 1.5, -0.5]" in text
    assert "`[3, 1, 2] / 0.001` is `[3000, 1000, 2000]`" in text
    assert np.allclose(np.array([3, 1, 2]) / 0.001, [3000, 1000, 2000])


@pytest.mark.parametrize("name", ["boltzmann_policy", "gradient_bandit_step",
                                  "gradient_bandit_run"])
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
                                              "no max trick", "modifies its input"),
                     "gradient_bandit_run": ("baseline before the reward", "no baseline",
                                             "average over the wrong count",
                                             "policy never updated", "sign error",
                                             "only the chosen arm updated", "no max trick",
                                             "modifies its input")}[name]:
        assert required in registered


def test_the_replay_exercise_states_its_worked_example_and_matches_the_library():
    from course_lib.exercises.lesson07 import RUN_REFERENCE

    text = _markdown(SOLUTION)
    assert "the preferences become `[-0.25, 0.25]`" in text
    np.testing.assert_allclose(RUN_REFERENCE([0, 1], [1.0, 3.0], 2, 0.5), [-0.25, 0.25])
    # the replay of a run is the run: the preferences gradient_bandit_step builds along the way
    rng = np.random.default_rng(5)
    q = rng.normal(4.0, 1.0, 6)
    h, avg, actions, rewards = np.zeros(6), 0.0, [], []
    for t in range(1, 301):
        a = int(rng.integers(6)) if t % 3 else int(np.argmax(h))
        r = float(q[a] + rng.standard_normal())
        avg += (r - avg) / t
        h = gradient_bandit_step(h, a, r, avg, 0.2)
        actions.append(a)
        rewards.append(r)
    np.testing.assert_allclose(RUN_REFERENCE(actions, rewards, 6, 0.2), h, rtol=1e-12, atol=1e-12)
    assert abs(h.sum()) < 1e-9                                       # the sum is kept


def test_the_replay_exercise_hidden_tests_are_seeded_plain_data():
    ex = EXERCISES["gradient_bandit_run"]
    a, b = ex.hidden_cases(3), ex.hidden_cases(3)
    assert [c.args for c in a] == [c.args for c in b]
    assert [c.args for c in a] != [c.args for c in ex.hidden_cases(4)]
    for case in a:
        actions, rewards, k, alpha = case.args
        assert all(type(x) is int and 0 <= x < k for x in actions)
        assert all(type(x) is float for x in rewards) and len(actions) == len(rewards)
        assert type(k) is int and type(alpha) is float
