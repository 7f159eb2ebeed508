"""The instructor's batch engine: run submitted notebooks, each confined, into a gradebook.

- :mod:`~course_lib.batch.sandbox`: Landlock confinement and resource limits (standard library only);
- :mod:`~course_lib.batch.isolation`: one disposable sandbox per submission (bubblewrap, or a
  fallback with a reaper), cgroup limits;
- :mod:`~course_lib.batch.worker`: what runs inside a sandbox: the kernel and the grader's calls;
- :mod:`~course_lib.batch.notebook`: read, repair and run one submission, then grade its exercises;
- :mod:`~course_lib.batch.gradebook`: a whole class, in parallel, into ``grades.csv``,
  ``results.json`` and a feedback page per student.

The command line drives it (``softmax-course check`` and ``softmax-course grade``); the exercises it
grades come from :mod:`course_lib.exercises`, compared by :mod:`course_lib.grading`.
"""

from course_lib.serve import skip_slow_iri_checker as _skip_slow_iri_checker  # stdlib only

# Every graded notebook runs in a fresh process (the sandboxed worker), which reads and runs it
# with nbformat and nbclient; nbformat imports jsonschema, whose format checkers would import
# rfc3987_syntax: 2-3 s of CPU per process, more than grading a notebook takes
# (course_lib.serve says why). Marked absent here, before anything imports jsonschema; a
# student's kernel is another process.
_skip_slow_iri_checker()
