"""Lesson 06's exercises: registered, seeded, every known mistake proven by a wrong fixture.

Every fixture (``scaled_dot_product_attention``'s tuple results too) is proven on public and
hidden tests by ``tests/test_grading.py``; this file checks what is particular to lesson 06.
"""


import numpy as np
import pytest

from course_lib.grading import EXERCISES, check, exercise, judge
from course_lib.grading.run import run_case
from grading_fixtures_lesson06 import WRONG

LESSON_06 = {
    "masked_softmax": (("z", "mask"), ()),
    "online_softmax": (("z",), ()),
    "scaled_dot_product_attention": (("q", "k", "v"), ("output", "weights")),
}
SEEDS = (0, 1, 2)


@pytest.fixture(autouse=True)
def strict_detectors(monkeypatch):
    monkeypatch.setattr(exercise, "STRICT", True)


def _id(item):
    return f"{item[0]}-{getattr(item[-1], '__name__', 'lambda')}"


def grade_hidden(name, f, seed):
    ex = EXERCISES[name]
    cases = ex.hidden_cases(seed)
    outcomes = {c.name: run_case(f, c, ex.returns) for c in cases}
    return judge(ex, cases, outcomes, hidden=frozenset(outcomes)), cases


def test_the_three_exercises_are_registered():
    for name, (params, returns) in LESSON_06.items():
        ex = EXERCISES[name]
        assert (ex.lesson, ex.params, ex.returns) == ("06", params, returns)
        assert ex.points > 0 and len(ex.public) >= 8 and ex.task


@pytest.mark.parametrize("name", LESSON_06)
def test_hidden_tests_are_seeded_and_plain_data(name):
    ex = EXERCISES[name]

    def inputs(seed):
        return np.concatenate([np.ravel(a).astype(float) for c in ex.hidden_cases(seed)
                               for a in (*c.args, *c.kwargs.values())])

    assert np.array_equal(inputs(0), inputs(0)) and not np.array_equal(inputs(0), inputs(1))
    assert len(ex.hidden_cases(0)) >= 7
    for c in ex.hidden_cases(0):
        for a in (*c.args, *c.kwargs.values()):
            assert isinstance(a, (np.ndarray, list, int, float)) and np.asarray(a).dtype.kind in "biuf"


@pytest.mark.parametrize("name", LESSON_06)
def test_every_known_mistake_is_proven_by_a_wrong_fixture(name):
    proven = {m for ex, m, _ in WRONG if ex == name}
    registered = {m.name for m in EXERCISES[name].mistakes}
    assert registered <= proven, f"mistakes without a fixture: {registered - proven}"


@pytest.mark.parametrize("name", LESSON_06)
def test_the_reference_passes_public_and_hidden_tests(name):
    ex = EXERCISES[name]
    assert check(name, ex.reference, show=False).passed
    for seed in range(10):
        assert grade_hidden(name, ex.reference, seed)[0].passed


def test_the_traps_are_in_the_public_tests():
    names = {n: [c.name for c in EXERCISES[n].public] for n in LESSON_06}
    assert {"nothing_kept", "square_columns", "large_masked"} <= set(names["masked_softmax"])
    assert {"increasing", "decreasing", "increasing_large"} <= set(names["online_softmax"])
    sdpa = EXERCISES["scaled_dot_product_attention"].public
    assert any(np.shape(c.args[0])[0] == np.shape(c.args[1])[0] for c in sdpa), "square scores"
    assert any(np.shape(c.args[0])[1] >= 16 for c in sdpa), "a d_k where the scale matters"
    assert any("mask" in c.kwargs and not np.any(c.kwargs["mask"], axis=-1).all()
               and not np.all(np.any(c.kwargs["mask"], axis=-1)) for c in sdpa), "an empty row"


# --- what the learner reads ----------------------------------------------------------------------
def test_the_forgotten_rescale_is_shown_on_the_increasing_row():
    from grading_fixtures_lesson06 import online_forgets_rescale

    result = check("online_softmax", online_forgets_rescale, show=False)
    assert [f.test for f in result.failures] == ["increasing", "seed_123", "zigzag",
                                                 "increasing_large", "int_array"]
    hint = dict(result.mistakes)["no rescale"]
    assert hint.startswith("for z = [0, 1, 2, 3, 4, 5] you get [")
    assert "exp(m_old - m_new)" in hint and "not normalised" not in dict(result.mistakes)


def test_two_passes_are_not_a_mistake():
    from grading_fixtures_lesson06 import two_passes

    assert check("online_softmax", two_passes, show=False).passed


def test_attention_failures_name_the_wrong_value():
    from grading_fixtures_lesson06 import attention_mask_zero

    result = check("scaled_dot_product_attention", attention_mask_zero, show=False)
    assert {f.test for f in result.failures} == {"causal_mask", "padding_mask", "empty_row"}
    assert all(f.problem.startswith(("output: ", "weights: ")) for f in result.failures)
    assert "weights = " in result.failures[0].got


def test_returning_the_output_only_says_return_both():
    from grading_fixtures_lesson06 import attention_output_only

    result = check("scaled_dot_product_attention", attention_output_only, show=False)
    assert [m for m, _ in result.mistakes] == ["returns the output only"]
    assert "`return output, weights`" in dict(result.mistakes)["returns the output only"]
