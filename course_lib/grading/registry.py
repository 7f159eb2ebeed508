"""The exercise registry: every auto-graded exercise of the course, by its public name.

Each lesson's module (``lesson01`` ... ) registers its exercises when it is imported;
importing :mod:`course_lib.grading` imports them all.
"""

from __future__ import annotations

import difflib

from ..i18n import gettext as _
from .exercise import Exercise

__all__ = ["EXERCISES", "register", "get_exercise", "unknown_name_message"]

#: name -> Exercise, in the order of the syllabus
EXERCISES: dict = {}


def register(exercise: Exercise) -> Exercise:
    """Add ``exercise`` to the registry (its name must be new) and return it."""
    if not isinstance(exercise, Exercise):
        raise TypeError(f"exercise must be an Exercise, not {type(exercise).__name__}")
    if exercise.name in EXERCISES:
        raise ValueError(f"an exercise named {exercise.name!r} is already registered")
    names = [c.name for c in exercise.public]
    if len(set(names)) != len(names):
        raise ValueError(f"{exercise.name}: public test names must be unique")
    EXERCISES[exercise.name] = exercise
    return exercise


def unknown_name_message(name) -> str:
    """The message for a name that is not an exercise, with the closest names."""
    close = difflib.get_close_matches(str(name), EXERCISES, n=3, cutoff=0.5)
    text = _("There is no exercise named {name}.").format(name=repr(name))
    if close:
        text += " " + _("Did you mean {names}?").format(names=_(" or ").join(map(repr, close)))
    return text + " " + _("The exercises are: {names}.").format(names=", ".join(EXERCISES))


def get_exercise(name) -> Exercise:
    """The exercise called ``name``.

    Raises
    ------
    KeyError
        With the closest names, when there is no such exercise.

    Examples
    --------
    >>> import course_lib.grading
    >>> get_exercise("softmax").params
    ('z',)
    """
    try:
        return EXERCISES[name]
    except (KeyError, TypeError):
        raise KeyError(unknown_name_message(name)) from None
