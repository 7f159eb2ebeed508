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
