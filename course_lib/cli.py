"""The ``softmax-course`` command line.

Subcommands that exist today:

``start``
    Open the course in JupyterLab at lesson 00 (or at the ``notebooks/`` folder
    while lesson 00 does not exist yet). Prints only the address to open; JupyterLab's
    own log goes to a file in Jupyter's runtime folder (``--verbose`` shows it instead).
    ``--lang ko`` opens the Korean lesson 00 (``notebooks/ko/``) and, with JupyterLab's
    Korean language pack installed (``pip install -e ".[ko]"``), a Korean JupyterLab.

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
    :mod:`course_lib.present`); ``--lang ko`` shows the Korean page.

Each subcommand registers itself in :func:`make_parser`.

Importing this module has no side effects: nothing runs until :func:`main` is called.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shlex
import subprocess
import sys
from pathlib import Path

from course_lib.i18n import LANGUAGES  # stdlib only: the --lang choices of every command
from course_lib.serve import serve_command  # stdlib only
importlib.import_module("course_lib.batch")  # first: its processes skip a slow import (see there)

__all__ = ["course_root", "start_command", "start_log_path", "make_parser", "main"]

LESSON_00 = Path("notebooks") / "00_start_here.ipynb"
LAB_SETTINGS = Path(__file__).resolve().parent / "lab_settings"  # JupyterLab overrides.json
# the same overrides with JupyterLab's interface in Korean (its translation extension's locale)
LAB_SETTINGS_KO = LAB_SETTINGS / "ko"
# JupyterLab's Korean language pack: the optional extra ``ko`` (pip install -e ".[ko]")
LANGUAGE_PACK_KO = "jupyterlab_language_pack_ko_KR"


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
    lang="en",
    korean_interface=False,
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
    lang : {"en", "ko"}, default "en"
        The course's language: ``"ko"`` opens ``notebooks/ko/00_start_here.ipynb``.
    korean_interface : bool, default False
        Show JupyterLab itself in Korean (its settings from ``lab_settings/ko``); needs
        JupyterLab's Korean language pack.

    Returns
    -------
    list of str
        ``[sys.executable, "-m", "course_lib.serve", "jupyterlab", ...]`` (``python -m
        jupyterlab``, started faster: :mod:`course_lib.serve`), ready for :mod:`subprocess`.
        It opens ``notebooks/00_start_here.ipynb`` when that file exists, otherwise
        the ``notebooks/`` folder, and turns off JupyterLab's news feed and update check
        (both would reach the network).

    Examples
    --------
    >>> cmd = start_command("/course", port=8899, no_browser=True, allow_root=False)
    >>> cmd[1:4]
    ['-m', 'course_lib.serve', 'jupyterlab']
    >>> [a for a in cmd if a.startswith(("--ServerApp.ip", "--ServerApp.port="))]
    ['--ServerApp.ip=127.0.0.1', '--ServerApp.port=8899']
    >>> cmd[-1]
    '--LabApp.default_url=/lab/tree/notebooks'
    >>> [a for a in start_command("/course", lang="ko", korean_interface=True)
    ...  if "app_settings_dir" in a][0].endswith("ko")      # JupyterLab's menus in Korean
    True
    """
    root = Path(root)
    if allow_root is None:
        allow_root = hasattr(os, "geteuid") and os.geteuid() == 0
    target = Path(_start_target(root, lang))
    settings = LAB_SETTINGS_KO if korean_interface else LAB_SETTINGS
    args = [
        f"--ServerApp.root_dir={root}",
        f"--ServerApp.ip={ip}",
        # the course needs no network at run time: no news feed, no update check on PyPI,
        # and no prompt asking the learner about them (lab_settings/overrides.json)
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        f"--LabApp.app_settings_dir={settings}",
    ]
    cmd = serve_command("jupyterlab", args)   # python -m jupyterlab, started faster (serve.py)
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
    from course_lib.i18n import get_language, gettext

    lang = get_language(args.lang)
    korean_interface = lang == "ko" and importlib.util.find_spec(LANGUAGE_PACK_KO) is not None
    if lang == "ko" and not korean_interface:
        print(gettext("softmax-course: JupyterLab's own menus stay in English; for them in Korean "
                      "too, install its Korean language pack: {command}", lang).format(
                          command='python -m pip install -e ".[ko]"'), file=sys.stderr)
    cmd = start_command(
        root,
        ip=args.ip,
        port=args.port,
        no_browser=args.no_browser,
        token=args.token,
        lang=lang,
        korean_interface=korean_interface,
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
    return _serve_quietly(cmd, target=_start_target(root, lang))


def _start_target(root, lang="en") -> str:
    """The path, under the server's root, that ``start`` opens.

    Lesson 00 of the language (Korean: ``notebooks/ko/00_start_here.ipynb``), else its folder;
    English's while the Korean lessons are not there.
    """
    root = Path(root)
    if lang == "ko" and (root / LESSON_00.parent / "ko").is_dir():
        lesson = LESSON_00.parent / "ko" / LESSON_00.name
    else:
        lesson = LESSON_00
    return (lesson if (root / lesson).is_file() else lesson.parent).as_posix()


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


def _error(message) -> None:
    """Print ``message`` (already in the command's language) as the command's error."""
    from course_lib.i18n import gettext as _

    print(_("softmax-course: error: {message}").format(message=message), file=sys.stderr)


def _build(args) -> int:
    from course_lib.build import BuildError, build  # nbformat only when building

    root = args.root if args.root is not None else course_root()
    try:
        report = build(root, check=args.check, force=args.force)
    except BuildError as err:
        _error(err)
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
    from course_lib.i18n import language

    with language(args.lang):
        return _check_in_language(args)


def _check_in_language(args) -> int:
    from course_lib.batch.notebook import grade_notebook  # nbclient only when grading
    from course_lib.batch import isolation
    from course_lib.i18n import gettext as _

    try:
        protection = isolation.protection(args.sandbox)
    except (RuntimeError, ValueError) as err:
        _error(err)
        return 2
    status = 0
    for path in args.notebooks:
        if not Path(path).is_file():
            _error(_("no such file: {path}").format(path=path))
            status = 2
            continue
        # without --lang, each notebook's report speaks the notebook's own language
        report = grade_notebook(path, timeout=args.timeout, seed=args.seed,
                                notebook_timeout=args.notebook_timeout, protection=protection,
                                lang=args.lang)
        print(report.summary(verbose=args.verbose))
        if report.status != "graded":
            status = 2
        elif status == 0 and (report.score < report.max_score or report.cell_errors):
            status = 1
    return status


def _usable_out(out: Path) -> str | None:
    """Why ``out`` cannot hold a gradebook, or None."""
    from course_lib.i18n import gettext as _

    if out.exists() and not out.is_dir():
        return _("--out {out} is a file, not a folder").format(out=out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".softmax-course-probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        return _("cannot write in --out {out} ({reason})").format(
            out=out, reason=exc.strerror or type(exc).__name__)
    return None


def _grade(args) -> int:
    from course_lib.i18n import language

    with language(args.lang):
        return _grade_in_language(args)


def _grade_in_language(args) -> int:
    from course_lib.grading import EXERCISES
    from course_lib.batch.gradebook import _expand, grade_submissions, progress_printer
    from course_lib.batch import isolation
    from course_lib.i18n import get_language, gettext as _

    names = list(args.exercise or [])
    for lesson in args.lesson or []:
        names += [n for n, ex in EXERCISES.items() if ex.lesson == lesson.zfill(2)]
        if not any(ex.lesson == lesson.zfill(2) for ex in EXERCISES.values()):
            _error(_("lesson {lesson} has no exercises").format(lesson=lesson))
            return 2
    unknown = [n for n in names if n not in EXERCISES]
    if unknown:
        _error(_("no exercise named {names} (the exercises: {exercises})").format(
            names=", ".join(unknown), exercises=", ".join(EXERCISES)))
        return 2
    files = _expand(args.submissions)
    if not files:
        _error(_("no submissions found in {paths}").format(paths=" ".join(args.submissions)))
        return 2
    why = _usable_out(args.out)
    if why:
        _error(why)
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
                                 progress=progress_printer(lang=get_language()),
                                 notebook_timeout=args.notebook_timeout, resume=args.resume,
                                 sandbox=args.sandbox, lang=args.lang, runner=runner)
    except (ValueError, RuntimeError) as err:
        _error(err)
        return 2
    finally:
        if runner is not None:
            runner.close()
    print(book.summary())
    return 0 if all(s.entry is not None for s in book.submissions) else 1


def _execute(args) -> int:
    from nbclient.exceptions import CellExecutionError

    from course_lib.execute import execute_notebook
    from course_lib.i18n import gettext as _

    for path in args.notebooks:
        try:
            execute_notebook(path, timeout=args.timeout)
        except CellExecutionError as err:
            _error(_("{path} did not run (nothing written):\n{error}").format(path=path,
                                                                              error=err))
            return 1
        except (OSError, ValueError) as err:
            _error(f"{path}: {err}")
            return 2
        print(_("executed {path}").format(path=path))
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
        "--lang", choices=LANGUAGES, default=None,
        help="the course's language: ko opens the Korean lessons (notebooks/ko/), and "
        "JupyterLab in Korean too if its Korean language pack is installed "
        "(python -m pip install -e \".[ko]\"); default: $SOFTMAX_COURSE_LANG, else en",
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
    check.add_argument("--lang", choices=LANGUAGES, default=None,
                       help="language of the verdicts and messages (default: each notebook's "
                       "own, from its set_language(...) call or a ko/ folder)")
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
    grade.add_argument("--lang", choices=LANGUAGES, default=None,
                       help="language of every feedback page, of the kernels "
                       "(SOFTMAX_COURSE_LANG) and of the summary (default: each submission's "
                       "feedback in its notebook's own language)")
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
    present.add_argument("--lang", choices=LANGUAGES, default=None,
                         help="the page's language (its text, the widgets' labels and "
                         "readouts); default: $SOFTMAX_COURSE_LANG, else en")
    present.set_defaults(func=_present)
    _add_lms_commands(sub)
    return parser


def _present(args) -> int:
    from course_lib import present  # Voila only when presenting
    from course_lib.i18n import get_language

    return present.main(args.demo, port=args.port, no_browser=args.no_browser,
                        dry_run=args.dry_run, lang=get_language(args.lang))


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


# --- gradescope and export: the gradebook's way out to Gradescope and to an LMS -----------------
def _add_lms_commands(sub) -> None:
    """The ``gradescope`` and ``export`` subcommands (:mod:`course_lib.batch.gradescope`,
    :mod:`course_lib.batch.export`)."""
    gradescope = sub.add_parser(
        "gradescope",
        help="(instructors) build a Gradescope autograder for a lesson",
        description="Write a Gradescope autograder zip for lesson NN: setup.sh (installs this "
        "course from a wheel built from this tree), run_autograder (grades the submitted "
        "notebook with the engine of `softmax-course grade`, in its sandbox, and writes "
        "results.json: public tests visible, hidden tests after grades are published) and the "
        "hidden tests' fixed seed. See docs/gradescope.md.",
    )
    gradescope.add_argument("lesson", metavar="NN", help="the lesson whose exercises are graded")
    gradescope.add_argument("--out", required=True, type=Path, metavar="ZIP",
                            help="the autograder zip to write (e.g. autograder.zip)")
    gradescope.add_argument("--seed", type=int, default=None,
                            help="seed of the hidden tests, fixed in the bundle (default: random)")
    gradescope.add_argument("--timeout", type=_seconds, default=60.0, metavar="SECONDS",
                            help="seconds each cell may run (default: 60)")
    gradescope.add_argument("--notebook-timeout", type=_seconds, default=None, metavar="SECONDS",
                            help="seconds the whole notebook may run (default: 600)")
    gradescope.add_argument("--sandbox", choices=["auto", "bubblewrap", "fallback"],
                            default=None, help="how to confine the notebook in Gradescope's "
                            "container (default: bubblewrap where it works, else the fallback)")
    gradescope.add_argument("--lang", choices=LANGUAGES, default=None,
                            help="language of the students' feedback, and of this command's "
                            "messages (default: the feedback in English, or in "
                            "$SOFTMAX_COURSE_LANG of Gradescope's container; the messages in "
                            "$SOFTMAX_COURSE_LANG, else en)")
    gradescope.set_defaults(func=_gradescope)

    export = sub.add_parser(
        "export",
        help="(instructors) write a gradebook in Canvas's, Moodle's or a plain CSV format",
        description="Read the gradebook `softmax-course grade --out GRADES` wrote and write it "
        "as a file an LMS imports. Submissions not in the roster and roster students without a "
        "submission are listed on stderr, never dropped silently. Exit status 0, or 2 for bad "
        "input. See docs/lms-export.md.",
    )
    export.add_argument("grades", type=Path, metavar="GRADES",
                        help="the gradebook folder (the --out of softmax-course grade)")
    export.add_argument("--format", required=True, choices=["canvas", "moodle", "csv"],
                        help="canvas: Canvas's gradebook CSV; moodle: Moodle's CSV grade import; "
                        "csv: a plain spreadsheet")
    export.add_argument("--roster", type=Path, default=None, metavar="CSV",
                        help="CSV with the columns file_id and student_id (and name, email, "
                        "username, section, sis_user_id, sis_login_id)")
    export.add_argument("--out", type=Path, default=None, metavar="FILE",
                        help="the file to write (default: stdout)")
    export.add_argument("--assignment", default=None, metavar="NAME",
                        help="the grade column's name (default: 'softmax-course lesson NN'); for "
                        "Canvas, the column of an existing assignment as a Canvas export names it, "
                        "'Name (id)'")
    export.add_argument("--per-exercise", action="store_true",
                        help="one grade column per exercise instead of the total")
    export.add_argument("--missing-zero", action="store_true",
                        help="give 0 to roster students without a submission (default: empty)")
    export.add_argument("--lang", choices=LANGUAGES, default=None,
                        help="language of the messages and of the report on stderr (the file "
                        "written is the same in every language); default: "
                        "$SOFTMAX_COURSE_LANG, else en")
    export.set_defaults(func=_export)


def _gradescope(args) -> int:
    from course_lib.i18n import language

    # one --lang: the bundle's feedback (args.lang as given: None leaves it to the container)
    # and, resolved here ($SOFTMAX_COURSE_LANG, else en), this command's own messages
    with language(args.lang):
        return _gradescope_in_language(args)


def _gradescope_in_language(args) -> int:
    from course_lib.batch.gradescope import GradescopeError, build_bundle
    from course_lib.i18n import gettext as _

    try:
        config = build_bundle(args.lesson, args.out, seed=args.seed, timeout=args.timeout,
                              notebook_timeout=args.notebook_timeout, sandbox=args.sandbox,
                              lang=args.lang)
    except GradescopeError as err:
        _error(err)
        return 2
    except (OSError, RuntimeError) as err:
        _error(_("could not write --out {out}: {error}").format(out=args.out, error=err))
        return 1
    print(_("wrote {out}: lesson {lesson} ({exercises}), hidden tests' seed {seed}, {wheel}\n"
            "Upload it as the autograder of a Gradescope programming assignment "
            "(docs/gradescope.md).").format(out=args.out, lesson=config["lesson"],
                                            exercises=", ".join(config["exercises"]),
                                            seed=config["seed"], wheel=config["wheel"]))
    return 0


def _export(args) -> int:
    from course_lib.i18n import language

    # the messages and the report follow --lang; the file written never does
    with language(args.lang):
        return _export_in_language(args)


def _export_in_language(args) -> int:
    from course_lib.batch.export import ExportError, export_grades
    from course_lib.batch.gradebook import plain_text
    from course_lib.i18n import gettext as _

    try:
        result = export_grades(args.grades, args.format, roster=args.roster,
                               assignment=args.assignment, per_exercise=args.per_exercise,
                               missing_zero=args.missing_zero)
    except ExportError as err:
        _error(err)
        return 2
    if args.out is None:
        sys.stdout.write(result.text)
        sys.stdout.flush()
    else:
        from course_lib.build import write_atomically

        try:
            write_atomically(args.out, result.text.encode("utf-8"))
        except OSError as exc:
            _error(_("cannot write --out {out} ({reason})").format(
                out=args.out, reason=exc.strerror or type(exc).__name__))
            return 2
    for line in result.report():
        print(plain_text(line), file=sys.stderr)
    return 0
