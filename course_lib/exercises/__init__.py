"""The exercise bank: every lesson's exercises, their tests and the mistakes they name.

One module ``lessonNN`` per lesson (found by name and imported in order, so a lesson adds a module
and edits nothing else). Each module builds :class:`~course_lib.grading.Exercise` objects with
their public tests, hidden tests and known mistakes, and registers them in
:data:`course_lib.grading.EXERCISES`. ``mistakes`` holds the detectors several lessons share.

>>> from course_lib.exercises import EXERCISES
>>> "softmax" in EXERCISES
True
"""

import importlib as _importlib
import pkgutil as _pkgutil
import re as _re

from ..grading.registry import EXERCISES, get_exercise

LESSONS = sorted(m.name for m in _pkgutil.iter_modules(__path__) if _re.fullmatch(r"lesson\d\d", m.name))
for _name in LESSONS:
    _importlib.import_module(f".{_name}", __name__)  # each registers its lesson's exercises

__all__ = ["EXERCISES", "get_exercise", "LESSONS"]
