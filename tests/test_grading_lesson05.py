"""Lesson 05's exercises: registered as the lesson needs them, and hints that state the numbers
(test_grading.py proves every fixture, the seeding and the reference for every exercise)."""

import pytest

from course_lib.grading import EXERCISES, check

LESSON_05 = {
    "cross_entropy": ("z", "y"),
    "expected_calibration_error": ("p", "y"),
    "fit_temperature": ("z", "y"),
}


@pytest.mark.parametrize("name", LESSON_05)
def test_registered_with_public_and_hidden_tests(name):
    """Seeding, plain-data inputs, fixtures for every mistake and the reference's full marks are
    checked for every exercise in test_grading.py."""
    ex = EXERCISES[name]
    assert ex.lesson == "05" and ex.params == LESSON_05[name] and ex.points > 0 and ex.task
    assert len(ex.public) >= 7 and len(ex.hidden_cases(0)) >= 5


def test_double_softmax_hint_states_the_numbers():
    from grading_fixtures_lesson05 import ce_double_softmax

    text = str(check("cross_entropy", ce_double_softmax, show=False))
    assert "Likely mistake, double softmax" in text
    assert "the right loss is 0.4076, the double-softmax one 0.797" in text


def test_the_stated_numbers_are_right():
    from course_lib.classification import cross_entropy
    from course_lib.softmax import softmax

    assert f"{float(cross_entropy([[1.0, 2.0, 3.0]], [2])):.4f}" == "0.4076"
    assert f"{float(cross_entropy(softmax([[1.0, 2.0, 3.0]]), [2])):.3f}" == "0.797"
