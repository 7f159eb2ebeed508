"""The ``softmax-course`` command line.

Subcommands that exist today:

``start``
    Open the course in JupyterLab at lesson 00 (or at the ``notebooks/`` folder
    while lesson 00 does not exist yet). Prints only the address to open; JupyterLab's
    own log goes to a file in Jupyter's runtime folder (``--verbose`` shows it instead).

``build``
    Regenerate ``exercises/`` from ``solutions/`` (see :mod:`course_lib.build`):
    ``--check`` writes nothing and exits 1 if an exercise notebook is out of date or would
    be deleted;
    ``--force`` overwrites exercise notebooks that hold edits. Exit status 2 for a
    solution notebook that cannot be built.

``check``
    Grade notebooks as the instructor would, for self-study: each runs in a fresh kernel
    (on a private copy), then its exercises get the public and hidden tests; prints one line
    per exercise and the total (see :mod:`course_lib.batch.notebook`).

``grade``
    For instructors: grade a class's submitted notebooks in parallel, each in its own confined
    kernel, into ``grades.csv``, ``results.json`` and ``feedback/<id>.html``
    (see :mod:`course_lib.batch.gradebook`).

``execute``
    For authors: run lesson or solution notebooks in a fresh kernel and store their outputs,
    clean of anything machine-specific (see :mod:`course_lib.execute`).

``present``
    For lecturers: show a slider demo alone on a page, without code (Voila; see
    :mod:`course_lib.present`).

Each subcommand registers itself in :func:`make_parser`.

Importing this module has no side effects: nothing runs until :func:`main` is called.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
from pathlib import Path

__all__ = ["course_root", "start_command", "start_log_path", "make_parser", "main"]

LESSON_00 = Path("notebooks") / "00_start_here.ipynb"
LAB_SETTINGS = Path(__file__).resolve().parent / "lab_settings"  # JupyterLab overrides.json


def course_root() -> Path:
    """Return the course repository root: the parent folder of the ``course_lib`` package.

    Returns
    -------
    pathlib.Path
        Absolute path. It contains ``notebooks/`` only in a clone installed with
        ``pip install -e .``; a regular (non-editable) install has no course files.

    Examples
    --------
    >>> (course_root() / "course_lib" / "cli.py").is_file()
    True
    """
    return Path(__file__).resolve().parent.parent


def start_command(
    root,
    *,
    ip="127.0.0.1",
    port=None,
    no_browser=False,
    token=None,
    allow_root=None,
):
    """Build the command line that opens the course in JupyterLab.

    Parameters
    ----------
    root : path-like
        Course root; JupyterLab serves this folder (``--ServerApp.root_dir``).
    ip : str, default "127.0.0.1"
        Address the server listens on.
    port : int, optional
        Port to listen on. When given, JupyterLab fails instead of trying
        another port if it is taken. Default: JupyterLab's choice (8888 or next free).
    no_browser : bool, default False
        Do not open a web browser.
    token : str, optional
        Access token. Default: JupyterLab's (random, or ``$JUPYTER_TOKEN``).
    allow_root : bool, optional
        Pass ``--allow-root``. Default: only when running as root (POSIX).

    Returns
    -------
    list of str
        ``[sys.executable, "-m", "jupyterlab", ...]``, ready for :mod:`subprocess`.
        It opens ``notebooks/00_start_here.ipynb`` when that file exists, otherwise
        the ``notebooks/`` folder, and turns off JupyterLab's news feed and update check
        (both would reach the network).

    Examples
    --------
    >>> cmd = start_command("/course", port=8899, no_browser=True, allow_root=False)
    >>> cmd[1:3]
    ['-m', 'jupyterlab']
    >>> [a for a in cmd if a.startswith(("--ServerApp.ip", "--ServerApp.port="))]
    ['--ServerApp.ip=127.0.0.1', '--ServerApp.port=8899']
    >>> cmd[-1]
    '--LabApp.default_url=/lab/tree/notebooks'
    """
    root = Path(root)
    if allow_root is None:
        allow_root = hasattr(os, "geteuid") and os.geteuid() == 0
    target = LESSON_00 if (root / LESSON_00).is_file() else LESSON_00.parent
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        f"--ServerApp.root_dir={root}",
        f"--ServerApp.ip={ip}",
        # the course needs no network at run time: no news feed, no update check on PyPI,
        # and no prompt asking the learner about them (lab_settings/overrides.json)
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        f"--LabApp.app_settings_dir={LAB_SETTINGS}",
    ]
    if port is not None:
        cmd += [f"--ServerApp.port={int(port)}", "--ServerApp.port_retries=0"]
    if no_browser:
        cmd.append("--no-browser")
    if token is not None:
        cmd.append(f"--IdentityProvider.token={token}")
    if allow_root:
        cmd.append("--allow-root")
    cmd.append(f"--LabApp.default_url=/lab/tree/{target.as_posix()}")
    return cmd


def _start(args) -> int:
    root = course_root()
    if not (root / "notebooks").is_dir():
        print(
            f"softmax-course: error: the course notebooks were not found "
            f"(no folder {root / 'notebooks'}).\n"
            "Run the course from a clone of the repository installed with "
            "`pip install -e .`:\n"
            "    git clone <repository URL> && cd softmax-course && "
            "python -m pip install -e . && softmax-course start",
            file=sys.stderr,
        )
        return 2
    cmd = start_command(
        root,
        ip=args.ip,
        port=args.port,
        no_browser=args.no_browser,
        token=args.token,
    )
    if args.dry_run:
        print(shlex.join(cmd))
        return 0
    sys.stdout.flush()
    sys.stderr.flush()
    if args.verbose:
        if os.name == "posix":
            # Become JupyterLab: one process, its whole log on this terminal.
            os.execv(cmd[0], cmd)
        try:  # pragma: no cover - Windows
            return subprocess.call(cmd)
        except KeyboardInterrupt:  # pragma: no cover
            return 130
    return _serve_quietly(cmd, target=_start_target(root))


def _start_target(root) -> str:
    """The path, under the server's root, that ``start`` opens."""
    return (LESSON_00 if (Path(root) / LESSON_00).is_file() else LESSON_00.parent).as_posix()


def _server_info(pid, runtime_dir):
    """The ``jpserver-PID.json`` a Jupyter server writes once it listens, or None (yet)."""
    import json

    try:
        return json.loads((Path(runtime_dir) / f"jpserver-{pid}.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None


def start_log_path(runtime_dir=None) -> Path:
    """Where ``softmax-course start`` keeps JupyterLab's full log: the Jupyter runtime folder.

    Examples
    --------
    >>> start_log_path("/tmp/rt").as_posix()
    '/tmp/rt/softmax-course-start.log'
    """
    if runtime_dir is None:
        from jupyter_core.paths import jupyter_runtime_dir

        runtime_dir = jupyter_runtime_dir()
    return Path(runtime_dir) / "softmax-course-start.log"


def _serve_quietly(cmd, *, target, wait=120.0) -> int:
    """Run JupyterLab with its log in a file; print only the URL to open and where the log is.

    The server runs in its own session, so the terminal's Ctrl-C reaches only this process,
    which then stops the server with SIGTERM (JupyterLab's own Ctrl-C handler would ask a
    question on a terminal it no longer shows).
    """
    import signal
    import time

    from jupyter_core.paths import jupyter_runtime_dir

    runtime = Path(jupyter_runtime_dir())
    runtime.mkdir(parents=True, exist_ok=True)
    log_path = start_log_path(runtime)
    with log_path.open("wb") as log:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=os.name == "posix")
        previous = signal.signal(signal.SIGTERM, lambda *_: proc.terminate())
        try:
            deadline, info = time.monotonic() + wait, None
            while info is None and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.2)
                info = _server_info(proc.pid, runtime)
            if info is None:
                if proc.poll() is None:
                    proc.terminate()
                    proc.wait(timeout=30)
                tail = log_path.read_text("utf-8", errors="replace").splitlines()[-15:]
                print("softmax-course: error: JupyterLab did not start. The end of its log "
                      f"({log_path}):\n" + "\n".join("    " + line for line in tail),
                      file=sys.stderr)
                return proc.returncode or 1
            url = info["url"].rstrip("/") + f"/lab/tree/{target}"
            if info.get("token"):
                url += f"?token={info['token']}"
            print(f"softmax-course: the course is open at\n\n    {url}\n\n"
                  f"Open that address in a browser if none opened. Ctrl-C stops the server.\n"
                  f"(JupyterLab's full log is in {log_path}; `softmax-course start --verbose` "
                  "shows it here.)", flush=True)
            while True:
                try:
                    return proc.wait()
                except KeyboardInterrupt:
                    print("\nsoftmax-course: stopping JupyterLab ...", flush=True)
                    proc.terminate()
        finally:
            signal.signal(signal.SIGTERM, previous)
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()


def _build(args) -> int:
    from course_lib.build import BuildError, build  # nbformat only when building

    root = args.root if args.root is not None else course_root()
    try:
        report = build(root, check=args.check, force=args.force)
    except BuildError as err:
        print(f"softmax-course: error: {err}", file=sys.stderr)
        return 2
    for line in report.lines():
        print(line)
    return 0 if report.ok else 1


def _seconds(text) -> float:
    """``--timeout``-style values: a finite number of seconds above 0."""
    import math

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a finite number of seconds above 0, not {text}")
    return value


def _count(text) -> int:
    """``--jobs``: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _check(args) -> int:
    from course_lib.batch.notebook import grade_notebook  # nbclient only when grading
    from course_lib.batch import isolation

    try:
        protection = isolation.protection(args.sandbox)
    except (RuntimeError, ValueError) as err:
        print(f"softmax-course: error: {err}", file=sys.stderr)
        return 2
    status = 0
    for path in args.notebooks:
        if not Path(path).is_file():
            print(f"softmax-course: error: no such file: {path}", file=sys.stderr)
            status = 2
            continue
        report = grade_notebook(path, timeout=args.timeout, seed=args.seed,
                                notebook_timeout=args.notebook_timeout, protection=protection)
        print(report.summary(verbose=args.verbose))
        if report.status != "graded":
            status = 2
        elif status == 0 and (report.score < report.max_score or report.cell_errors):
            status = 1
    return status


def _usable_out(out: Path) -> str | None:
    """Why ``out`` cannot hold a gradebook, or None."""
    if out.exists() and not out.is_dir():
        return f"--out {out} is a file, not a folder"
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".softmax-course-probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        return f"cannot write in --out {out} ({exc.strerror or type(exc).__name__})"
    return None


def _grade(args) -> int:
    from course_lib.grading import EXERCISES
    from course_lib.batch.gradebook import _expand, grade_submissions, progress_printer
    from course_lib.batch import isolation

    names = list(args.exercise or [])
    for lesson in args.lesson or []:
        names += [n for n, ex in EXERCISES.items() if ex.lesson == lesson.zfill(2)]
        if not any(ex.lesson == lesson.zfill(2) for ex in EXERCISES.values()):
            print(f"softmax-course: error: lesson {lesson} has no exercises", file=sys.stderr)
            return 2
    unknown = [n for n in names if n not in EXERCISES]
    if unknown:
        print(f"softmax-course: error: no exercise named {', '.join(unknown)} "
              f"(the exercises: {', '.join(EXERCISES)})", file=sys.stderr)
        return 2
    files = _expand(args.submissions)
    if not files:
        print("softmax-course: error: no submissions found in " + " ".join(args.submissions),
              file=sys.stderr)
        return 2
    why = _usable_out(args.out)
    if why:
        print(f"softmax-course: error: {why}", file=sys.stderr)
        return 2
    runner = None
    try:
        if args.cluster:  # the workers' sandboxes, not this machine's
            from course_lib.batch.cluster import ClusterRunner

            runner = ClusterRunner(args.cluster, sandbox=args.sandbox, jobs=args.jobs)
        else:
            isolation.protection(args.sandbox)
        book = grade_submissions(files, args.out, jobs=args.jobs, timeout=args.timeout,
                                 seed=args.seed, exercises=list(dict.fromkeys(names)) or None,
                                 progress=progress_printer(),
                                 notebook_timeout=args.notebook_timeout, resume=args.resume,
                                 sandbox=args.sandbox, runner=runner)
    except (ValueError, RuntimeError) as err:
        print(f"softmax-course: error: {err}", file=sys.stderr)
        return 2
    finally:
        if runner is not None:
            runner.close()
    print(book.summary())
    return 0 if all(s.entry is not None for s in book.submissions) else 1


def _execute(args) -> int:
    from nbclient.exceptions import CellExecutionError

    from course_lib.execute import execute_notebook

    for path in args.notebooks:
        try:
            execute_notebook(path, timeout=args.timeout)
        except CellExecutionError as err:
            print(f"softmax-course: error: {path} did not run (nothing written):\n{err}",
                  file=sys.stderr)
            return 1
        except (OSError, ValueError) as err:
            print(f"softmax-course: error: {path}: {err}", file=sys.stderr)
            return 2
        print(f"executed {path}")
    return 0


def make_parser() -> argparse.ArgumentParser:
    """Build the argument parser of ``softmax-course``.

    Returns
    -------
    argparse.ArgumentParser
        One sub-parser per subcommand; each sets ``func`` to its handler.

    Examples
    --------
    >>> args = make_parser().parse_args(["start", "--dry-run", "--port", "9000"])
    >>> args.command, args.port, args.ip, args.dry_run
    ('start', 9000, '127.0.0.1', True)
    """
    parser = argparse.ArgumentParser(
        prog="softmax-course",
        description="The softmax course: open it in JupyterLab.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    start = sub.add_parser(
        "start",
        help="open the course in JupyterLab at lesson 00",
        description="Open the course in JupyterLab at lesson 00 (notebooks/00_start_here.ipynb).",
    )
    start.add_argument("--port", type=int, default=None, help="port to listen on")
    start.add_argument(
        "--ip", default="127.0.0.1", help="address to listen on (default: %(default)s)"
    )
    start.add_argument("--no-browser", action="store_true", help="do not open a browser")
    start.add_argument("--token", default=None, help="access token (default: random)")
    start.add_argument(
        "--dry-run", action="store_true", help="print the JupyterLab command instead of running it"
    )
    start.add_argument(
        "--verbose", action="store_true",
        help="show JupyterLab's whole log here (default: only the address to open; the log "
        "goes to a file in Jupyter's runtime folder)",
    )
    start.set_defaults(func=_start)

    build = sub.add_parser(
        "build",
        help="regenerate exercises/ from solutions/",
        description="Regenerate exercises/NN_exercises_slug.ipynb from "
        "solutions/NN_solutions_slug.ipynb: each ### BEGIN SOLUTION ... ### END SOLUTION region "
        "becomes raise NotImplementedError(...). Exercise notebooks that hold your edits are not "
        "overwritten without --force, nor ever deleted; those build made, untouched, that no "
        "solution notebook makes any more (such as the old exercises/NN_slug.ipynb) are deleted.",
    )
    build.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if an exercise notebook is missing, out of date or to delete",
    )
    build.add_argument(
        "--force", action="store_true", help="overwrite exercise notebooks even if you edited them"
    )
    build.add_argument(
        "--root", type=Path, default=None, metavar="DIR", help="course root (default: this clone)"
    )
    build.set_defaults(func=_build)

    check = sub.add_parser(
        "check",
        help="grade a notebook as the instructor would, for self-study",
        description="Run each notebook top to bottom in a fresh kernel (a private copy; the file "
        "is not changed), then test its exercises with the public and hidden tests and print "
        "one verdict per exercise and the score. Exit status 0 when everything passed, 1 "
        "otherwise, 2 when a notebook cannot be read or run.",
    )
    check.add_argument("notebooks", nargs="+", metavar="NOTEBOOK", help="notebook(s) to grade")
    check.add_argument("--timeout", type=_seconds, default=60.0,
                       help="seconds each cell may run before it is interrupted (default: 60)")
    check.add_argument("--notebook-timeout", type=_seconds, default=None, metavar="SECONDS",
                       help="seconds the whole notebook may run (default: 600)")
    check.add_argument("--sandbox", choices=["auto", "bubblewrap", "fallback"], default=None,
                       help="how to confine the notebook (default: bubblewrap where it works; "
                       "SOFTMAX_COURSE_SANDBOX)")
    check.add_argument("--seed", type=int, default=None,
                       help="seed of the hidden tests (default: random)")
    check.add_argument("-v", "--verbose", action="store_true",
                       help="show the failed tests and hints of each exercise")
    check.set_defaults(func=_check)

    grade = sub.add_parser(
        "grade",
        help="(instructors) grade a class's notebooks into a gradebook and feedback",
        description="Grade submitted notebooks in parallel: each runs in a disposable sandbox "
        "of its own (bubblewrap: no network, no other process, a read-only system and a private "
        "folder; else a fallback with Landlock and a reaper), with a time limit per cell and per "
        "notebook. Writes OUT/grades.csv (one row per file), OUT/results.json (everything), "
        "OUT/journal.jsonl (rows as they finish, for --resume) and OUT/feedback/<id>.html (one "
        "page per student; hidden tests' inputs are never shown). Exit status 0 when every file "
        "got a row, 2 for bad options.",
    )
    grade.add_argument("submissions", nargs="+", metavar="SUBMISSION",
                       help="submitted notebooks, or folders of them")
    grade.add_argument("--out", required=True, type=Path, metavar="DIR",
                       help="folder for the gradebook and the feedback (created if missing)")
    grade.add_argument("--jobs", "-j", type=_count, default=None, metavar="N",
                       help=f"notebooks graded at the same time (default: the number of cores, "
                       f"{os.cpu_count()})")
    grade.add_argument("--timeout", type=_seconds, default=60.0, metavar="SECONDS",
                       help="seconds each cell may run before it is interrupted (default: 60)")
    grade.add_argument("--notebook-timeout", type=_seconds, default=None, metavar="SECONDS",
                       help="seconds a whole notebook may run; its cells left then are not run "
                       "(default: 600)")
    grade.add_argument("--resume", action="store_true",
                       help="keep the rows of OUT/journal.jsonl for unchanged submissions (a "
                       "batch killed midway goes on where it stopped)")
    grade.add_argument("--sandbox", choices=["auto", "bubblewrap", "fallback"], default=None,
                       help="how to confine each submission (default: bubblewrap where it "
                       "works; SOFTMAX_COURSE_SANDBOX)")
    grade.add_argument("--lesson", action="append", metavar="NN",
                       help="grade the exercises of lesson NN (default: per file, the lesson "
                       "its name starts with, NN_*.ipynb)")
    grade.add_argument("--exercise", action="append", metavar="NAME",
                       help="grade this exercise (may be repeated)")
    grade.add_argument("--seed", type=int, default=None,
                       help="seed of the hidden tests (default: the previous run's in DIR, or "
                       "random)")
    grade.add_argument("--cluster", default=None, metavar="ADDRESS",
                       help="grade on the Dask cluster whose scheduler is at ADDRESS "
                       "(tcp://host:8786): each submission is a task, run in a sandbox on a "
                       "worker; the gradebook is written here (needs softmax-course[cluster]; "
                       "--jobs: submissions handed over at once, default twice its threads; "
                       "see docs/grading-cluster.md)")
    grade.set_defaults(func=_grade)

    execute = sub.add_parser(
        "execute",
        help="(authors) run notebooks and store clean outputs",
        description="Run each lesson or solution notebook top to bottom in a fresh kernel, in its "
        "own folder, and store its outputs without machine-specific metadata. A cell that "
        "raises stops the run and the file is left as it was.",
    )
    execute.add_argument("notebooks", nargs="+", metavar="NOTEBOOK")
    execute.add_argument("--timeout", type=float, default=120.0,
                         help="seconds each cell may run (default: 120)")
    execute.set_defaults(func=_execute)

    present = sub.add_parser(
        "present",
        help="show a slider demo alone on a page, without code (for lectures)",
        description="Serve a slider demo as a page without code, with Voila, on this machine "
        "only (127.0.0.1), and print its URL. Ctrl-C stops it.",
    )
    present.add_argument("demo", choices=["temperature"], help="the demo to show")
    present.add_argument("--port", type=int, default=None,
                         help="port to listen on (default: 8866 or the next free one)")
    present.add_argument("--no-browser", action="store_true", help="do not open a browser")
    present.add_argument("--dry-run", action="store_true",
                         help="print the Voila command instead of running it")
    present.set_defaults(func=_present)
    return parser


def _present(args) -> int:
    from course_lib import present  # Voila only when presenting

    return present.main(args.demo, port=args.port, no_browser=args.no_browser,
                        dry_run=args.dry_run)


def main(argv=None) -> int:
    """Run ``softmax-course``.

    Parameters
    ----------
    argv : list of str, optional
        Arguments without the program name. Default: ``sys.argv[1:]``.

    Returns
    -------
    int
        Exit status: 0 on success, 2 for usage errors or a missing ``notebooks/``.
    """
    parser = make_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    return args.func(args)
