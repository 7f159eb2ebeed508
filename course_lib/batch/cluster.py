"""Grading on a Dask cluster: ``softmax-course grade … --cluster ADDRESS``.

Each submission becomes one task on an existing `Dask distributed
<https://distributed.dask.org>`_ cluster (the optional ``cluster`` extra:
``pip install "softmax-course[cluster]"``). What travels and what runs:

* the task carries the submission's **bytes** and plain options (exercises, seed, limits): no
  shared file system is assumed; it runs :func:`.gradebook.grade_data`, the very function the
  local pool runs, in a disposable sandbox on the worker (:mod:`.isolation`), and returns
  **plain data** (a dict); the gradebook, the journal and the feedback pages are written on the
  instructor's machine, as rows finish, by :func:`.gradebook.grade_submissions`;
* each task also carries the instructor's **course fingerprint** (:func:`course_fingerprint`:
  the course's version, a hash of its code and exercise bank, numpy's and Python's versions); a
  worker whose own differs refuses the task with :class:`CourseVersionMismatch`, and the batch
  stops (every worker is asked first, when the cluster is reached);
* a worker that **dies** while grading (killed, out of memory) costs its submissions one more
  try elsewhere; a submission whose attempts killed :data:`DEATHS` workers in a row gets the row
  ``"killed its worker"``, not a third try. Dask re-runs a task whose worker died by itself, up
  to ``distributed.scheduler.allowed-failures`` times, which the cluster's owner sets; so each
  attempt marks itself on the scheduler when it starts (a :class:`distributed.Event`), and a
  re-run that finds the mark returns at once without grading: the client counts one death and
  decides whether to try again, whatever that setting is;
* a **lost scheduler** stops the batch (:class:`SchedulerLost`): the journal keeps the rows
  finished so far, and the same command with ``--resume`` continues.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import hashlib
import platform
import re
import threading
import uuid
from pathlib import Path

from . import isolation
from .gradebook import BatchStopped, _result_dict, grade_data
from .notebook import notebook_language
from ..i18n import get_language, gettext as _, language, ngettext

# what Dask raises for a timeout (asyncio's: the built-in one from Python 3.11, not before) and
# for a cancelled future (concurrent.futures', e.g. when the scheduler's connection is lost)
_TIMEOUTS = (TimeoutError, asyncio.TimeoutError)
_CANCELLED = (concurrent.futures.CancelledError, asyncio.CancelledError)

__all__ = ["ClusterRunner", "ClusterError", "CourseVersionMismatch", "SchedulerLost",
           "course_fingerprint", "grade_on_worker", "DEATHS"]

DEATHS = 2                  # workers a submission may kill in a row before it is given up
KILLED = "killed its worker"


class ClusterError(BatchStopped):
    """The cluster cannot grade this batch (unreachable, no workers, no sandbox there)."""


class SchedulerLost(ClusterError):
    """The connection to the scheduler was lost mid-batch; ``--resume`` goes on."""


class CourseVersionMismatch(ClusterError):
    """A worker has another version of the course than the instructor: it would grade against
    other exercises and references, so it is refused.

    Examples
    --------
    >>> err = CourseVersionMismatch("tcp://10.0.0.7:40111", {"course": "0.1.0", "code": "ab"},
    ...                             {"course": "0.1.0", "code": "cd"})
    >>> print(err)  # doctest: +NORMALIZE_WHITESPACE
    the worker tcp://10.0.0.7:40111 has another version of softmax-course (code: ab here, cd
    there); it would grade against other references: install the same version on every worker
    """

    def __init__(self, worker, expected, found):
        self.worker, self.expected, self.found = worker, dict(expected), dict(found)
        parts = [_("{key}: {here} here, {there} there").format(
                     key=k, here=expected.get(k), there=found.get(k))
                 for k in sorted(set(expected) | set(found)) if expected.get(k) != found.get(k)]
        super().__init__(_("the worker {worker} has another version of softmax-course ({parts}); "
                           "it would grade against other references: install the same version "
                           "on every worker").format(worker=worker, parts="; ".join(parts)))

    def __reduce__(self):  # it travels back from the worker
        return type(self), (self.worker, self.expected, self.found)


@functools.lru_cache(maxsize=None)
def _fingerprint() -> tuple:
    import numpy

    import course_lib

    root = Path(course_lib.__file__).parent
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*")
                       if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return (("course", course_lib.__version__), ("code", digest.hexdigest()[:16]),
            ("numpy", numpy.__version__), ("python", platform.python_version()))


def course_fingerprint() -> dict:
    """What must be equal on the instructor's machine and a worker for both to grade alike:
    the course's version, a hash of every file of the installed ``course_lib`` (exercise bank,
    grader, reference implementations, data), numpy's and Python's versions.

    Examples
    --------
    >>> sorted(course_fingerprint())
    ['code', 'course', 'numpy', 'python']
    """
    return dict(_fingerprint())


# --- on the worker -------------------------------------------------------------------------------
_BASE, _BASE_LOCK = [None], threading.Lock()


def _base() -> Path:
    """This worker process's folder of sandboxes (made once, removed when it exits)."""
    import atexit
    import shutil

    from .notebook import make_base

    with _BASE_LOCK:
        if _BASE[0] is None or not _BASE[0].exists():
            _BASE[0] = make_base()
            atexit.register(shutil.rmtree, _BASE[0], True)
        return _BASE[0]


@functools.lru_cache(maxsize=None)
def _protection(mode) -> isolation.Protection:
    return isolation.protection(mode)


def _address() -> str:
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):
        return platform.node()


def _started_before(attempt: str) -> bool:
    """Has ``attempt`` started before (Dask re-runs a task whose worker died)? Marks it as
    started, on the scheduler (a :class:`distributed.Event`, which the client clears)."""
    from distributed import Event

    mark = Event(attempt)
    if mark.is_set():
        return True
    mark.set()
    return False


def grade_on_worker(data: bytes, options: dict, expected: dict, attempt: str = "") -> dict:
    """The task: check the course fingerprint, then grade ``data`` with
    :func:`.gradebook.grade_data`. Returns ``{"plain": ...}``; ``{"rerun": True}`` when
    this attempt already started on a worker that died; ``{"failed": [error name, message]}``
    when the grader itself failed."""
    found = course_fingerprint()
    if found != expected:
        raise CourseVersionMismatch(_address(), expected, found)
    if attempt and _started_before(attempt):
        return {"rerun": True}
    options = dict(options)
    try:
        protection = _protection(options.pop("sandbox", None))
    except (RuntimeError, ValueError) as err:
        raise ClusterError(f"the worker {_address()} cannot grade: {err}") from None
    try:
        # slot 0 preferred: a sandbox that runs as a user of its own takes a slot no other
        # grader on this machine holds (isolation._lease_slot), other Dask workers included
        return {"plain": grade_data(data, protection=protection, slot=0, base=_base(),
                                    **options)}
    except Exception as exc:  # the grader's own failure, as plain data (it may not pickle)
        return {"failed": [type(exc).__name__, str(exc)[:2000]]}


def probe_worker(expected: dict, sandbox) -> dict:
    """What the client asks every worker before the batch: its fingerprint and protection."""
    found = course_fingerprint()
    if found != expected:
        return {"mismatch": found}
    try:
        return {"protection": _protection(sandbox).as_dict()}
    except (RuntimeError, ValueError) as err:
        return {"error": str(err)}


# --- on the instructor's machine -----------------------------------------------------------------
def _weakest(protections: list) -> isolation.Protection:
    """The least protection among the workers': what the summary must promise."""
    best = min(protections, key=lambda p: (p["mode"] == "bubblewrap", p["landlock"] > 0,
                                           bool(p["cgroup"])))
    return isolation.Protection(best["mode"], best["landlock"], best["cgroup"], best["user"],
                                best.get("why", ""))


class ClusterRunner:
    """Hands each submission to a Dask cluster (a runner for
    :func:`.gradebook.grade_submissions`).

    Parameters
    ----------
    address : str
        The scheduler's address (``tcp://host:8786``, or ``host:8786``).
    sandbox : str, optional
        The sandbox mode the workers must use (``"auto"``, ``"bubblewrap"``, ``"fallback"``).
    jobs : int, optional
        Submissions handed to the cluster at once; default twice its threads, so that a worker
        finds the next one waiting.
    timeout : float, optional
        Seconds to reach the scheduler, to wait for a first worker, and to reconnect after a
        lost connection before the batch stops (:class:`SchedulerLost`); default Dask's own
        connect timeout (``distributed.comm.timeouts.connect``, 30 s unless configured, e.g.
        ``DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT=10s``).
    """

    def __init__(self, address, *, sandbox=None, jobs=None, timeout=None):
        try:
            import dask
            import distributed
        except ImportError:
            raise ClusterError(_("--cluster needs Dask's distributed package: "
                                 "pip install \"softmax-course[cluster]\"")) from None
        if timeout is None:
            timeout = dask.utils.parse_timedelta(
                dask.config.get("distributed.comm.timeouts.connect"), default="seconds")
        if not isinstance(address, str) or not address.strip():
            raise ValueError(_("--cluster must be a scheduler's address, not {address}").format(
                address=repr(address)))
        self.address, self.sandbox, self.stopped = address, sandbox, None
        self.expected = course_fingerprint()
        try:
            self.client = distributed.Client(address, timeout=timeout, set_as_default=False)
        except (OSError, *_TIMEOUTS) as err:
            raise ClusterError(_("cannot reach the Dask scheduler at {address} ({error})").format(
                address=address, error=err)) from None
        try:
            try:
                self.client.wait_for_workers(1, timeout=timeout)
            except _TIMEOUTS:
                raise ClusterError(_("the Dask scheduler at {address} has no worker").format(
                    address=address)) from None
            replies = self.client.run(probe_worker, self.expected, sandbox, on_error="return")
            protections = []
            for worker, reply in sorted(replies.items()):
                if isinstance(reply, BaseException):
                    raise ClusterError(_("the worker {worker} cannot grade: {error} (is "
                                         "softmax-course installed there?)").format(
                        worker=worker, error=f"{type(reply).__name__}: {reply}"))
                if "mismatch" in reply:
                    raise CourseVersionMismatch(worker, self.expected, reply["mismatch"])
                if "error" in reply:
                    raise ClusterError(_("the worker {worker} cannot grade: {error}").format(
                        worker=worker, error=reply["error"]))
                protections.append(reply["protection"])
            self.protection = _weakest(protections)
            threads = sum(self.client.nthreads().values())
            self.jobs = jobs or max(1, 2 * threads)
        except BaseException:
            self.close()
            raise

    def __call__(self, data: bytes, options: dict) -> dict:
        from distributed import Event
        from distributed.scheduler import KilledWorker

        died = 0
        while died < DEATHS:
            if self.stopped is not None:
                raise self.stopped
            # the task's name says which submission it grades (on the dashboard, in logs)
            stem = re.sub(r"[^A-Za-z0-9_-]+", "_", Path(options["file"]).stem)[:40]
            attempt = f"softmax-course-grade-{stem}-{uuid.uuid4().hex}"
            try:
                future = self.client.submit(
                    grade_on_worker, data, {**options, "sandbox": self.sandbox}, self.expected,
                    attempt, key=attempt, pure=False, retries=0)
                reply = future.result()
            except KilledWorker:  # the cluster's own limit on re-runs came first
                died += 1
                continue
            except BatchStopped as err:
                self.stopped = err
                raise
            except (*_CANCELLED, OSError, *_TIMEOUTS) as err:
                if self.client.status == "running" and not isinstance(err, _CANCELLED):
                    raise  # the grader's own failure on the worker: a row that says so
                self.stopped = SchedulerLost(_(
                    "lost the connection to the Dask scheduler at {address} ({error}); the rows "
                    "graded so far are in the journal: run the same command with --resume to "
                    "go on").format(address=self.address, error=type(err).__name__))
                raise self.stopped from None
            finally:
                try:
                    Event(attempt, client=self.client).clear()  # which deletes it
                except Exception:
                    pass
            if "rerun" in reply:
                died += 1
                continue
            if "failed" in reply:  # the row says it as local grading would
                name, message = reply["failed"]
                raise type(name, (Exception,), {})(message)
            return reply["plain"]
        return killed_row(options["exercises"], died, self.protection.mode,
                          lang=options.get("lang") or notebook_language(None, options["file"]))

    def close(self) -> None:
        client = getattr(self, "client", None)
        if client is not None:
            try:
                client.close()
            except Exception:
                pass


def killed_row(exercises, deaths, sandbox, lang=None) -> dict:
    """The plain data of a submission whose grading killed ``deaths`` workers in a row.

    Examples
    --------
    >>> row = killed_row(["softmax"], 2, "bubblewrap")
    >>> row["status"], row["results"][0]["score"], row["results"][0]["status"]
    ('killed its worker', 0.0, 'error')
    """
    from ..grading.registry import EXERCISES
    from ..grading.result import CheckResult

    with language(lang):
        message = ngettext("grading it killed {n} Dask worker; it was not tried again",
                           "grading it killed {n} Dask workers in a row; it was not tried again",
                           deaths).format(n=deaths)
        why = _("The notebook killed the Dask workers that graded it.")
        results = [_result_dict(CheckResult.error(n, EXERCISES[n].points, why))
                   for n in exercises]
    return {"status": KILLED, "message": message, "cell_errors": [], "notes": [],
            "sandbox": sandbox, "seconds": 0.0, "peak_bytes": 0, "sandbox_id": "",
            "lang": get_language(lang), "results": results}
