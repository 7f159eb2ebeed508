"""Grading, the student side: ``check(name, obj)`` and the exercise registry behind it.

>>> from course_lib.grading import check
>>> import numpy as np
>>> def softmax(z):
...     z = np.asarray(z, dtype=float)
...     e = np.exp(z - z.max())
...     return e / e.sum()
>>> check("softmax", softmax, show=False).passed
True

Each lesson's exercises are defined in ``lesson01`` ... ``lesson04`` (one module per lesson), with
their public tests, hidden tests and known mistakes. The instructor's side is the command line
(``softmax-course check`` and ``softmax-course grade``).
"""

from . import lesson01, lesson02, lesson03, lesson04  # noqa: F401  (they register the lessons' exercises)
from .check import check
from .exercise import Case, Exercise, Mistake, Outcome, judge
from .registry import EXERCISES, get_exercise
from .result import CheckResult, Failure

__all__ = ["check", "CheckResult", "Failure", "EXERCISES", "get_exercise", "Exercise", "Case",
           "Mistake", "Outcome", "judge"]
