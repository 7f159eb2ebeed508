"""Grading, the student side: ``check(name, obj)`` and the exercise registry behind it.

>>> from course_lib.grading import check
>>> import numpy as np
>>> def softmax(z):
...     z = np.asarray(z, dtype=float)
...     e = np.exp(z - z.max())
...     return e / e.sum()
>>> check("softmax", softmax, show=False).passed
True

Each lesson's exercises are defined in a module ``lessonNN`` of this package (one module per
lesson, imported here in order), with their public tests, hidden tests and known mistakes. The
instructor's side is the command line (``softmax-course check`` and ``softmax-course grade``).
"""

import importlib as _importlib
import pkgutil as _pkgutil
import re as _re

from .check import check
from .exercise import Case, Exercise, Mistake, Outcome, judge
from .registry import EXERCISES, get_exercise
from .result import CheckResult, Failure

for _name in sorted(m.name for m in _pkgutil.iter_modules(__path__)
                    if _re.fullmatch(r"lesson\d\d", m.name)):
    _importlib.import_module(f".{_name}", __name__)  # each registers its lesson's exercises

__all__ = ["check", "CheckResult", "Failure", "EXERCISES", "get_exercise", "Exercise", "Case",
           "Mistake", "Outcome", "judge"]
