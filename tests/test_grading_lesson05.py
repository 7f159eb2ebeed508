"""Lesson 05's exercises: registered, seeded, every registered mistake proven by a fixture, and
the reference passing its own public and hidden tests (test_grading.py runs the fixtures)."""

import numpy as np
import pytest

from course_lib.grading import EXERCISES, check
from grading_fixtures import WRONG
from test_grading import grade_hidden

LESSON_05 = {
    "cross_entropy": ("z", "y"),
    "expected_calibration_error": ("p", "y"),
    "fit_temperature": ("z", "y"),
}


@pytest.mark.parametrize("name", LESSON_05)
def test_registered_with_public_and_seeded_hidden_tests(name):
    ex = EXERCISES[name]
    assert ex.lesson == "05" and ex.params == LESSON_05[name] and ex.points > 0 and ex.task
    assert len(ex.public) >= 7 and len(ex.hidden_cases(0)) >= 5

    def inputs(seed):
        return np.concatenate([np.ravel(a).astype(float) for c in ex.hidden_cases(seed)
                               for a in c.args])

    assert np.array_equal(inputs(0), inputs(0)) and not np.array_equal(inputs(0), inputs(1))
    for c in ex.hidden_cases(3):  # hidden inputs are plain numeric arrays (and JSON kwargs)
        assert all(isinstance(a, np.ndarray) and a.dtype.kind in "iuf" for a in c.args)
        assert all(isinstance(v, int) for v in c.kwargs.values())


@pytest.mark.parametrize("name", LESSON_05)
def test_every_known_mistake_is_proven_by_a_wrong_fixture(name):
    proven = {m for ex, m, _ in WRONG if ex == name}
    registered = {m.name for m in EXERCISES[name].mistakes}
    assert registered <= proven, f"mistakes without a fixture: {registered - proven}"


@pytest.mark.parametrize("name", LESSON_05)
def test_the_reference_passes_public_and_hidden_tests(name):
    ex = EXERCISES[name]
    assert check(name, ex.reference, show=False).passed
    for seed in range(5):
        assert grade_hidden(name, ex.reference, seed)[0].passed


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
