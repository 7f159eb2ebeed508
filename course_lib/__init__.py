"""softmax-course: reference implementations, plots, widgets and grading for the course.

One module per topic (see ``COURSE.md``); the softmax family lives in
:mod:`course_lib.softmax` and is re-exported here for convenience.
"""

from course_lib.softmax import (
    entropy,
    log_softmax,
    logsumexp,
    masked_softmax,
    online_softmax,
    softmax,
)

__all__ = [
    "softmax",
    "log_softmax",
    "logsumexp",
    "masked_softmax",
    "online_softmax",
    "entropy",
]

__version__ = "0.1.0"
