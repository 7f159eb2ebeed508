"""Grading, the student side: ``check(name, obj)`` and the exercise registry behind it.

>>> from course_lib.grading import check
>>> import numpy as np
>>> def softmax(z):
...     z = np.asarray(z, dtype=float)
...     e = np.exp(z - z.max())
...     return e / e.sum()
>>> check("softmax", softmax, show=False).passed
True

Grading lives in three packages that change for different reasons:

- :mod:`course_lib.grading` (this one): the student-side API, small and stable: ``check``, the
  ``Exercise``/``Case``/``Mistake`` framework, ``CheckResult`` and the registry;
- :mod:`course_lib.exercises`: the exercise bank, one module ``lessonNN`` per lesson with its
  exercises' public tests, hidden tests and known mistakes (content);
- :mod:`course_lib.batch`: the instructor's batch engine: running notebooks in a sandbox, the
  gradebook (infrastructure), driven by ``softmax-course check`` and ``softmax-course grade``.

The old module names (``course_lib.grading.lesson01``, ``course_lib.grading.gradebook``, ...) keep
working: each is the same module object as its new home.
"""

from .check import check
from .exercise import Case, Exercise, Mistake, Outcome, judge
from .registry import EXERCISES, get_exercise
from .result import CheckResult, Failure

from .. import exercises as _bank  # noqa: E402,F401  (registers every lesson's exercises)

__all__ = ["check", "CheckResult", "Failure", "EXERCISES", "get_exercise", "Exercise", "Case",
           "Mistake", "Outcome", "judge"]
