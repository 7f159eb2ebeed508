"""Lesson 06's exercises: registered, with their traps in the public tests and clear hints.

Every fixture (``scaled_dot_product_attention``'s tuple results too) is proven on public and
hidden tests by ``tests/test_grading.py``; this file checks what is particular to lesson 06.
"""

import numpy as np
import pytest

from course_lib.grading import EXERCISES, check, exercise

LESSON_06 = {
    "masked_softmax": (("z", "mask"), ()),
    "online_softmax": (("z",), ()),
    "scaled_dot_product_attention": (("q", "k", "v"), ("output", "weights")),
}


@pytest.fixture(autouse=True)
def strict_detectors(monkeypatch):
    monkeypatch.setattr(exercise, "STRICT", True)


def test_the_three_exercises_are_registered():
    for name, (params, returns) in LESSON_06.items():
        ex = EXERCISES[name]
        assert (ex.lesson, ex.params, ex.returns) == ("06", params, returns)
        assert ex.points > 0 and len(ex.public) >= 8 and ex.task


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
