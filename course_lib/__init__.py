"""softmax-course: reference implementations, plots, widgets and grading for the course.

One module per topic, where the syllabus puts it::

    from course_lib.softmax import softmax, log_softmax, logsumexp

The functions are deliberately not re-exported here: ``course_lib.softmax`` names the module,
and rebinding it to the function would make ``import course_lib.softmax`` return a function.
"""

__version__ = "0.1.0"
