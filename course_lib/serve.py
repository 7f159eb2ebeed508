"""JupyterLab and Voilà as ``softmax-course start`` and ``present`` run them: the same servers,
up in half the time.

``python -m course_lib.serve jupyterlab ARGS`` is ``python -m jupyterlab ARGS`` and ``python -m
course_lib.serve voila ARGS`` is ``python -m voila ARGS``, in this process, except for one thing
done first. Both servers import jsonschema's format checkers (through ``jupyter_events``), which
import ``rfc3987_syntax`` when it is installed (JupyterLab's own dependencies install it); that
module builds some 35 Lark parsers at import, about 3 s of a 5 s start, for the ``iri`` formats no
Jupyter schema uses (python-jsonschema/jsonschema#1428). Marked absent, jsonschema skips those two
checkers, as it does where the module is not installed. A lecturer waits for the page that much
less; kernels are other processes and are not concerned. :mod:`course_lib.batch` does the same for
the grader's processes (each graded notebook's worker) and for pytest's (``-p course_lib.batch``).

Examples
--------
>>> serve_command("voila", ["demo.ipynb", "--port=8866"])[1:5]
['-m', 'course_lib.serve', 'voila', 'demo.ipynb']
"""

from __future__ import annotations

import runpy
import sys

__all__ = ["APPS", "serve_command", "skip_slow_iri_checker", "main"]

APPS = ("jupyterlab", "voila")


def skip_slow_iri_checker():
    """Mark ``rfc3987_syntax`` absent in this process, before anything imports jsonschema (see
    the module docstring); a process that imported it already keeps it."""
    sys.modules.setdefault("rfc3987_syntax", None)


def serve_command(app, args):
    """The command line that runs server ``app`` (one of :data:`APPS`) with ``args``."""
    if app not in APPS:
        raise ValueError(f"app must be one of {', '.join(APPS)}, not {app!r}")
    return [sys.executable, "-m", "course_lib.serve", app, *args]


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] not in APPS:
        raise SystemExit(f"usage: python -m course_lib.serve {{{','.join(APPS)}}} [ARGS...]")
    skip_slow_iri_checker()
    sys.argv = [argv[0], *argv[1:]]
    runpy.run_module(argv[0], run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
