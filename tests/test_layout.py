"""Grading is three packages (student API, exercise bank, batch engine); the old names still work."""

import importlib

import pytest

MOVED = {f"lesson0{n}": "course_lib.exercises" for n in range(1, 8)}
MOVED.update(mistakes="course_lib.exercises", notebook="course_lib.batch",
             gradebook="course_lib.batch", sandbox="course_lib.batch")


@pytest.mark.parametrize("name", sorted(MOVED))
def test_old_grading_module_name_is_the_moved_module(name):
    old = importlib.import_module(f"course_lib.grading.{name}")
    new = importlib.import_module(f"{MOVED[name]}.{name}")
    assert old is new
    assert getattr(importlib.import_module("course_lib.grading"), name) is new


def test_student_api_names_and_bank_agree():
    from course_lib import exercises, grading
    assert grading.EXERCISES is exercises.EXERCISES
    assert {"softmax", "stable_softmax", "gradient_bandit_step"} <= set(grading.EXERCISES)
    assert exercises.LESSONS[:7] == [f"lesson0{n}" for n in range(1, 8)]
