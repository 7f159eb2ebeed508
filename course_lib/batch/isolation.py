"""One disposable sandbox per submission: how the grader starts a worker, bounds it and ends it.

Two modes (``docs/grading-threat-model.md`` says what each promises):

``bubblewrap`` (Linux with Debian's ``bubblewrap`` and user namespaces)
    The worker (:mod:`.worker`: the notebook's kernel *and* the grader's calls of the student's
    functions) runs under ``bwrap`` in its own user, PID, network, IPC, UTS and cgroup
    namespaces: it sees no process outside (so it cannot signal the grader or a classmate), has
    no network but its own loopback, sees the system read-only (``/usr``, ``/etc``, Python and
    ``course_lib``; not ``/home``, not the submissions, not the gradebook), writes only its
    private folder (mounted as ``/home/student``) and a private ``/tmp``, gets a minimal
    environment and no descriptor but its three standard streams. When the worker ends, PID 1 of
    the namespace (bubblewrap) ends and the kernel kills everything left in it.
``fallback`` (no bubblewrap, no user namespaces, or forced with ``SOFTMAX_COURSE_SANDBOX=fallback``)
    The worker runs as it did before, confined by Landlock (:mod:`.sandbox`), in a session of its
    own, with the same minimal environment and standard streams; a reaper kills every process it
    started (its session and process group, every descendant found by a ``/proc`` scan, and
    orphans handed to the grader, which is a child subreaper).

In both modes, where the machine allows it, the worker's whole process tree shares a cgroup
(v2, or v1's ``memory`` and ``pids`` hierarchies) capping its memory and number of processes,
which the reaper also empties; when the grader runs as root, each parallel slot runs as a user
of its own (``SANDBOX_UID_BASE + slot``), so rlimits such as ``RLIMIT_NPROC`` count that
sandbox alone and the reaper can kill every process of that user.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from . import sandbox as landlock

__all__ = ["Protection", "protection", "Sandbox", "reap_orphans", "SANDBOX_UID_BASE"]

SANDBOX_UID_BASE = 1_900_000_000  # root only: slot k runs as uid (and gid) SANDBOX_UID_BASE + k
HOME = "/home/student"             # the private folder, as the sandbox sees it
# the whole sandbox's memory (cgroup), when cgroups are writable
MEMORY_BYTES = int(os.environ.get("SOFTMAX_COURSE_SANDBOX_MEMORY", 4 * 2**30))
ADDRESS_SPACE = 8 * 2**30          # each process (RLIMIT_AS)
# where the slot locks live (_lease_slot): one place per machine whatever TMPDIR a grader has,
# or two graders with different TMPDIRs would take the same slot's user
SLOT_LOCKS = Path("/tmp")
MAX_PROCESSES = 256                # the whole sandbox (cgroup pids.max, or RLIMIT_NPROC)
_PR_SET_CHILD_SUBREAPER = 36


@dataclass(frozen=True)
class Protection:
    """What confines the submissions on this machine, as the summary and ``results.json`` say."""

    mode: str            # "bubblewrap" or "fallback"
    landlock: int        # Landlock ABI (0: none)
    cgroup: str          # "v2", "v1" or "" (none writable)
    user: str            # "per-slot uid" (root) or "grader's uid"
    why: str = ""        # why the fallback, when it is one

    def describe(self) -> str:
        parts = ["bubblewrap (own PID, network, IPC and user namespaces; read-only system)"
                 if self.mode == "bubblewrap" else
                 "fallback without bubblewrap" + (f" ({self.why})" if self.why else "")
                 + ": a session of its own and a reaper"]
        parts.append(f"Landlock ABI {self.landlock}" if self.landlock else "no Landlock")
        parts.append(f"cgroup {self.cgroup} memory and process limits per sandbox" if self.cgroup
                     else "per-process rlimits only (no writable cgroup)")
        parts.append({"per-slot uid": "a user of its own per slot",
                      "root without capabilities": "root, without capabilities outside its user "
                      "namespace (a per-slot user cannot run this Python)"}.get(
                          self.user, "the grader's own user"))
        return "; ".join(parts)

    def as_dict(self) -> dict:
        return {"mode": self.mode, "landlock": self.landlock, "cgroup": self.cgroup,
                "user": self.user, "why": self.why, "description": self.describe()}


# --- what this machine offers ------------------------------------------------------------------
def _bwrap() -> str | None:
    return shutil.which("bwrap") if sys.platform.startswith("linux") else None


@functools.lru_cache(maxsize=None)
def _bwrap_flags() -> tuple:
    """Optional flags this bubblewrap knows (``--disable-userns`` came in 0.8)."""
    try:
        text = subprocess.run([_bwrap(), "--help"], capture_output=True, text=True,
                              timeout=10).stdout
    except (OSError, subprocess.SubprocessError, TypeError):
        return ()
    return tuple(f for f in ("--disable-userns",) if f in text)


def _cgroup_v1_paths() -> dict:
    """This process's cgroup per v1 controller, for ``memory`` and ``pids`` if mounted."""
    found = {}
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return found
    for line in lines:
        _, controllers, path = line.split(":", 2)
        for c in controllers.split(","):
            if c in ("memory", "pids") and Path(f"/sys/fs/cgroup/{c}").is_dir():
                found[c] = Path(f"/sys/fs/cgroup/{c}") / path.lstrip("/")
    return found


def _cgroup_v2_path() -> Path | None:
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        if line.startswith("0::"):
            for root in (Path("/sys/fs/cgroup"), Path("/sys/fs/cgroup/unified")):
                if (root / "cgroup.controllers").is_file():
                    return root / line[3:].lstrip("/")
    return None


@functools.lru_cache(maxsize=None)
def cgroup_kind() -> str:
    """``"v2"`` when a child cgroup with the ``memory`` and ``pids`` controllers can be made
    here, ``"v1"`` when v1's ``memory`` and ``pids`` hierarchies are writable, else ``""``."""
    if not sys.platform.startswith("linux") or os.environ.get("SOFTMAX_COURSE_CGROUP") == "none":
        return ""
    v2 = _cgroup_v2_path()
    if v2 is not None:
        try:
            wanted = {"memory", "pids"}
            if wanted <= set((v2 / "cgroup.controllers").read_text().split()) and \
                    wanted <= set((v2 / "cgroup.subtree_control").read_text().split()):
                probe = v2 / f"softmax-course-probe-{os.getpid()}"
                probe.mkdir()
                probe.rmdir()
                return "v2"
        except OSError:
            pass
    v1 = _cgroup_v1_paths()
    if set(v1) == {"memory", "pids"}:
        try:
            for path in v1.values():
                probe = path / f"softmax-course-probe-{os.getpid()}"
                probe.mkdir()
                probe.rmdir()
            return "v1"
        except OSError:
            pass
    return ""


def _python_binds() -> list:
    """Folders the worker needs read-only: Python, its packages, ``course_lib``."""
    import course_lib

    found = {sys.prefix, sys.base_prefix, sys.exec_prefix,
             os.path.dirname(os.path.realpath(sys.executable)),
             os.path.dirname(os.path.abspath(course_lib.__file__))}
    prefixes = [os.path.realpath(p) for p in (sys.prefix, sys.base_prefix)]
    for entry in sys.path:  # site-packages and friends; never the current or a user's folder
        real = os.path.realpath(entry) if entry else ""
        if real and os.path.isdir(real) and any(real.startswith(p + os.sep) for p in prefixes):
            found.add(real)
    out = []
    for path in sorted({os.path.realpath(p) for p in found}):
        if path.startswith(("/usr/", "/etc/")) or path in ("/usr", "/etc"):
            continue  # bound as a whole already
        if not any(path.startswith(o + os.sep) for o in out):
            out.append(path)
    return out


def _interpreter_links(bound) -> list:
    """``(target, link)`` for each symbolic link on the way from ``sys.executable`` to the real
    interpreter that lies outside the folders ``bound`` (and ``/usr``): a venv's ``python`` may
    point at a ``python3`` in a folder of links (``~/.local/bin``, a folder of shims) before
    that one points into Python's own folder. The sandbox gets the same links, not the folders
    that hold them (which may be the instructor's own)."""
    inside = ("/usr", "/etc", *bound)
    out, path = [], os.path.abspath(sys.executable)
    for _ in range(40):  # a longer chain is a loop: the OS would refuse it too
        if not os.path.islink(path):
            break
        target = os.readlink(path)
        if not any(path == top or path.startswith(top + os.sep) for top in inside):
            out.append((target, path))
        path = os.path.normpath(os.path.join(os.path.dirname(path), target))
    return out


def _bwrap_command(work: str, extra_flags=(), env=None) -> list:
    cmd = [_bwrap(), "--unshare-all", "--unshare-user", "--die-with-parent", "--new-session",
           "--cap-drop", "ALL",
           "--hostname", "sandbox", *extra_flags,
           "--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            cmd += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            cmd += ["--ro-bind", top, top]
    # the private /tmp first, then Python's folders over it: a venv under /tmp (a CI checkout)
    # stays visible, read-only, inside an otherwise empty /tmp
    cmd += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--tmpfs", "/dev/shm"]
    binds = _python_binds()
    for path in binds:
        cmd += ["--ro-bind", path, path]
    for target, link in _interpreter_links(binds):
        cmd += ["--symlink", target, link]
    cmd += ["--dir", "/home", "--bind", work, HOME, "--chdir", HOME, "--clearenv"]
    for name, value in (env or {}).items():
        cmd += ["--setenv", name, value]
    return cmd + ["--"]


@functools.lru_cache(maxsize=None)
def _others_can_run_python() -> bool:
    """Can a user other than the grader's run this Python (every folder on its way searchable by
    others, the files readable)? pyenv under ``/root`` is not."""
    paths = {os.path.realpath(sys.executable), os.path.realpath(sys.base_prefix),
             os.path.realpath(sys.prefix), os.path.dirname(os.path.abspath(__file__))}
    for path in paths:
        parts = Path(path).parts
        for i in range(1, len(parts) + 1):
            try:
                mode = os.stat(os.path.join(*parts[:i])).st_mode
            except OSError:
                return False
            if not mode & 0o001 and os.path.isdir(os.path.join(*parts[:i])):
                return False
    return True


def _slot_uid(slot: int):
    """The user a slot's sandbox runs as: its own when the grader is root (and others can run
    this Python), else None (the grader's; bubblewrap then maps it in a user namespace)."""
    if os.getuid() == 0 and _others_can_run_python():
        return SANDBOX_UID_BASE + slot, SANDBOX_UID_BASE + slot
    return None, None


def _lease_slot(preferred: int):
    """``(slot, lock)``: a parallel slot that no other grader on this machine holds until
    ``lock`` is closed (a lock file per slot; the preferred one if it is free). Where sandboxes
    run as a user of their own per slot (:func:`_slot_uid`), every process of that user is
    reaped as the sandbox's own: two graders on one machine (two batches, a batch and
    ``softmax-course check``, two Dask workers) must never run sandboxes under one user.
    Elsewhere a slot is only a number: ``(preferred, None)``."""
    import fcntl
    import itertools

    if _slot_uid(preferred)[0] is None:
        return preferred, None
    folder = SLOT_LOCKS / f"softmax-course-slots-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    for k in itertools.chain([preferred], (k for k in itertools.count() if k != preferred)):
        lock = open(folder / f"{k}.lock", "wb")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            lock.close()
            continue
        return k, lock


def _user_kind() -> str:
    if os.getuid() != 0:
        return "grader's uid"
    return "per-slot uid" if _others_can_run_python() else "root without capabilities"


@functools.lru_cache(maxsize=None)
def _bwrap_works(forced: str) -> str:
    """``""`` when bubblewrap can start Python here as a sandbox would, else why not."""
    if forced == "fallback":
        return "forced with SOFTMAX_COURSE_SANDBOX=fallback"
    if _bwrap() is None:
        return "bubblewrap (bwrap) is not installed" if sys.platform.startswith("linux") \
            else f"bubblewrap needs Linux, this is {sys.platform}"
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="softmax-course-probe-"))
    lease = None
    try:
        slot, lease = _lease_slot(0)  # the probe is a sandbox too: a slot of its own
        uid, gid = _slot_uid(slot)
        os.chmod(base, 0o711)
        work = base / "w"
        work.mkdir(mode=0o700)
        if uid is not None:
            os.chown(work, uid, gid)
        spec = base / "spec.json"
        spec.write_text(json.dumps({"uid": uid, "gid": gid}), encoding="utf-8")
        os.chmod(spec, 0o644)
        cmd = [sys.executable, "-I", "-S", landlock.__file__, "--enter", str(spec), "--",
               *_bwrap_command(str(work), _bwrap_flags()), sys.executable, "-c",
               "import course_lib, numpy; print('ok')"]
        try:
            run = subprocess.run(cmd, capture_output=True, text=True, timeout=60,
                                 stdin=subprocess.DEVNULL, env={})
        except (OSError, subprocess.SubprocessError) as exc:
            return f"bubblewrap does not start ({type(exc).__name__})"
        if run.stdout.strip() != "ok":
            err = (run.stderr.strip().splitlines() or ["no output"])[-1][:160]
            return f"bubblewrap cannot make a sandbox here ({err})"
        return ""
    finally:
        shutil.rmtree(base, ignore_errors=True)
        if lease is not None:
            if uid is not None:  # nothing of the probe's user may outlive it
                reap(None, uid=uid)
            lease.close()


def protection(mode: str | None = None) -> Protection:
    """What will confine the submissions: ``mode`` is ``"auto"`` (default: bubblewrap when it
    works here), ``"bubblewrap"`` (required: ``RuntimeError`` when it does not work) or
    ``"fallback"``; the environment variable ``SOFTMAX_COURSE_SANDBOX`` gives the default."""
    mode = mode or os.environ.get("SOFTMAX_COURSE_SANDBOX", "auto") or "auto"
    if mode not in ("auto", "bubblewrap", "fallback"):
        raise ValueError(f"sandbox mode must be auto, bubblewrap or fallback, not {mode!r}")
    why = _bwrap_works(mode)
    if mode == "bubblewrap" and why:
        raise RuntimeError(f"bubblewrap was required, but {why}")
    return Protection("fallback" if why else "bubblewrap", landlock.landlock_abi(), cgroup_kind(),
                      _user_kind(), why)


# --- one sandbox ---------------------------------------------------------------------------------
class _Cgroup:
    """A cgroup of the sandbox's own, capping memory and processes, and emptied at the end."""

    def __init__(self, kind: str, name: str):
        self.kind, self.dirs = kind, []
        if kind == "v2":
            self.dirs = [_cgroup_v2_path() / name]
        elif kind == "v1":
            self.dirs = [p / name for p in _cgroup_v1_paths().values()]
        for d in self.dirs:
            d.mkdir()
        self._write("memory.max" if kind == "v2" else "memory.limit_in_bytes", MEMORY_BYTES)
        self._write("pids.max", MAX_PROCESSES)
        if kind == "v2":
            self._write("memory.swap.max", 0)

    def _write(self, name, value):
        for d in self.dirs:
            if (d / name).exists():
                try:
                    (d / name).write_text(str(value))
                except OSError:
                    pass

    @property
    def procs(self) -> list:
        return [str(d / "cgroup.procs") for d in self.dirs]

    def pids(self) -> set:
        found = set()
        for p in self.procs:
            try:
                found |= {int(x) for x in Path(p).read_text().split()}
            except (OSError, ValueError):
                pass
        return found

    def peak_bytes(self) -> int:
        for d in self.dirs:
            for name in ("memory.peak", "memory.max_usage_in_bytes"):
                try:
                    return int((d / name).read_text())
                except (OSError, ValueError):
                    continue
        return 0

    def kill_all(self) -> None:
        if self.kind == "v2" and (self.dirs[0] / "cgroup.kill").exists():
            self._write("cgroup.kill", 1)
        for _ in range(50):
            pids = self.pids()
            if not pids:
                break
            for pid in pids:
                _kill(pid)
            time.sleep(0.02)

    def remove(self) -> None:
        self.kill_all()
        for d in self.dirs:
            for _ in range(50):
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _proc_table() -> dict:
    """pid -> (ppid, session, uid) for every process that still runs, from ``/proc`` (zombies
    left out: they run nothing and hold nothing, and one orphaned to an init that is slow to
    reap it would be counted as a process the notebook left running)."""
    table = {}
    for entry in os.scandir("/proc") if os.path.isdir("/proc") else ():
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
            fields = stat[stat.rindex(")") + 2:].split()
            if fields[0] in ("Z", "X"):
                continue
            status = Path(entry.path, "status").read_text()
            uid = int(next(ln for ln in status.splitlines() if ln.startswith("Uid:")).split()[1])
        except (OSError, ValueError, StopIteration):
            continue
        table[int(entry.name)] = (int(fields[1]), int(fields[3]), uid)
    return table


def _descendants(roots, table) -> set:
    found, frontier = set(), set(roots)
    while frontier:
        children = {p for p, (ppid, *_) in table.items() if ppid in frontier and p not in found}
        found |= children
        frontier = children
    return found


def reap(root_pid: int | None, *, session: int | None = None, uid: int | None = None,
         cgroup: _Cgroup | None = None) -> int:
    """Kill every process a sandbox started: its cgroup, its session, its descendants, and every
    process of its own user; repeated until none is left. Returns how many were killed."""
    killed = set()
    for _ in range(20):
        if cgroup is not None:
            before = cgroup.pids()
            cgroup.kill_all()
            killed |= before
        table = _proc_table()
        targets = _descendants([root_pid] if root_pid else [], table)
        if root_pid in table:
            targets.add(root_pid)
        targets |= {p for p, (_, sid, u) in table.items()
                    if (session and sid == session) or (uid is not None and u == uid)}
        targets.discard(os.getpid())
        if not targets:
            break
        for pid in targets:
            _kill(pid)
        killed |= targets
        time.sleep(0.02)
    return len(killed)


_ADOPTER = {"children": None}  # the grader's own children when it became a subreaper


def reap_orphans(live: set) -> int:
    """Kill processes handed to the grader (a child subreaper) that are not its own: orphans of
    a sandbox whose worker is gone (double-forked daemons in the fallback mode). Children the
    grader had before it became a subreaper, and running sandboxes, are left alone."""
    table = _proc_table()
    me = os.getpid()
    keep = set(live) | (_ADOPTER["children"] or set())
    orphans = {p for p, (ppid, *_) in table.items() if ppid == me and p not in keep}
    orphans = {p for p in orphans if _is_sandboxed(p)}
    for pid in orphans | _descendants(orphans, table):
        _kill(pid)
    return len(orphans)


def _is_sandboxed(pid: int) -> bool:
    """Did this process come from a sandbox? (Its environment carries the sandbox marker, or it
    runs without the grader's own environment: only a sandbox's orphans become the grader's
    children without being started by it.)"""
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return True  # gone, or not readable: killing a gone process is harmless
    if b"SOFTMAX_COURSE_SANDBOX_ID=" in environ:
        return True
    mine = Path("/proc/self/environ").read_bytes()
    return environ != mine and not environ.startswith(mine[:64])


def harden_grader() -> bool:
    """For the fallback mode (Linux): make this process adopt its descendants' orphans, so the
    reaper finds them, and make it non-dumpable, so that a sandbox running as the same user
    cannot ptrace it or read its memory or descriptors through ``/proc``."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    if _ADOPTER["children"] is None:
        me = os.getpid()
        _ADOPTER["children"] = {p for p, (ppid, *_) in _proc_table().items() if ppid == me}
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE
        return libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False




class Sandbox:
    """A private folder and the way to run the worker in it, confined; removed on exit.

    Parameters
    ----------
    base : Path
        The batch's folder of sandboxes (mode 0711): each sandbox gets a folder in it, mode 0700.
    slot : int
        The parallel slot (0 .. jobs-1): the user the sandbox runs as when the grader is root.
    protection : Protection
    lang : str, optional
        The submission's language, given to its worker and kernel as ``SOFTMAX_COURSE_LANG``.
    """

    def __init__(self, base: Path, slot: int, protection: Protection, lang: str | None = None):
        import tempfile

        self.protection, self.slot = protection, slot
        self.root = Path(tempfile.mkdtemp(prefix="s", dir=base))
        self.work = self.root / "home"  # the private folder: the sandbox's HOME
        self.work.mkdir()
        slot, self.lease = _lease_slot(slot)  # a user of its own: a slot no other grader holds
        self.slot = slot
        self.uid, self.gid = _slot_uid(slot)
        self.cgroup = None
        self.proc = None
        self.peak_bytes = 0
        self.token = os.urandom(8).hex()
        self.lang = lang

    @property
    def home(self) -> str:
        """The private folder's path as the worker sees it."""
        return HOME if self.protection.mode == "bubblewrap" else str(self.work)

    def environment(self) -> dict:
        """The worker's whole environment: nothing of the grader's."""
        home = self.home
        return {
            "PATH": os.pathsep.join([os.path.dirname(sys.executable), "/usr/local/bin",
                                     "/usr/bin", "/bin"]),
            "HOME": home, "TMPDIR": f"{home}/tmp", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
            "PYTHONHASHSEED": "0", "PYTHONNOUSERSITE": "1", "PYTHONDONTWRITEBYTECODE": "1",
            "IPYTHONDIR": f"{home}/.ipython", "MPLCONFIGDIR": f"{home}/.matplotlib",
            "JUPYTER_RUNTIME_DIR": f"{home}/.runtime", "JUPYTER_DATA_DIR": f"{home}/.jupyter",
            "JUPYTER_CONFIG_DIR": f"{home}/.jupyter", "JUPYTER_PLATFORM_DIRS": "1",
            "MPLBACKEND": "module://matplotlib_inline.backend_inline",
            "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
            "SOFTMAX_COURSE_SANDBOX_ID": self.token,
            **({"SOFTMAX_COURSE_LANG": self.lang} if self.lang else {}),
        }

    def prepare(self, protected=()) -> list:
        """Make the private folder and the limits; return the command that starts the worker."""
        for sub in ("tmp", ".ipython", ".matplotlib", ".runtime", ".jupyter", "notebook"):
            (self.work / sub).mkdir(mode=0o700)
        _copy_font_cache(self.work / ".matplotlib")
        if self.uid is not None:
            for path in [self.work, *self.work.rglob("*")]:
                os.lchown(path, self.uid, self.gid)
        os.chmod(self.root, 0o711 if self.uid is not None else 0o700)
        os.chmod(self.work, 0o700)
        if self.protection.cgroup:
            try:
                self.cgroup = _Cgroup(self.protection.cgroup, f"softmax-course-{self.token}")
            except OSError:
                self.cgroup = None
        rlimits = {"AS": ADDRESS_SPACE, "CORE": 0}
        if self.cgroup is None and self.uid is not None:
            rlimits["NPROC"] = MAX_PROCESSES  # the slot's user runs this sandbox alone
        spec = {"cgroup_procs": self.cgroup.procs if self.cgroup else [], "rlimits": rlimits,
                "uid": self.uid, "gid": self.gid}
        spec_path = self.root / "spec.json"
        spec_path.write_text(json.dumps(spec), encoding="utf-8")
        entering = [sys.executable, "-I", "-S", landlock.__file__, "--enter", str(spec_path), "--"]
        worker = [sys.executable, "-m", "course_lib.batch.worker"]
        if self.protection.mode == "bubblewrap":
            return entering + _bwrap_command(str(self.work), _bwrap_flags(),
                                             self.environment()) + worker
        self.protected = [str(Path(p).resolve()) for p in protected]
        return entering + worker

    def writable(self) -> list:
        """What the worker may write (its Landlock rule): its folder, and its own ``/tmp``."""
        return [self.home] + (["/tmp", "/dev/shm"] if self.protection.mode == "bubblewrap" else [])

    def landlock_protected(self) -> list:
        """What the worker may not read (Landlock): in the fallback mode, the batch's other
        sandboxes, every other batch's folder of sandboxes beside it (another grading run on
        this machine: its kernels' connection files), and the given paths (the submissions,
        the gradebook). Folders made there later are not readable either: the temporary
        folder itself is not granted, only what it held when the sandbox was confined."""
        if self.protection.mode == "bubblewrap":
            return []  # nothing of the kind is mounted
        base = self.root.parent
        others = sorted(str(p) for p in base.parent.glob("softmax-course-grade-*") if p != base)
        return [str(base), *others, *getattr(self, "protected", [])]

    def start(self, command) -> subprocess.Popen:
        self.proc = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env=self.environment(), cwd=str(self.work), close_fds=True,
            start_new_session=True)
        return self.proc

    def _leftovers(self) -> bool:
        """Is anything of the sandbox's still there: in its cgroup, or run by its own user?"""
        if self.cgroup is not None and self.cgroup.pids():
            return True
        return self.uid is not None and any(u == self.uid for *_, u in _proc_table().values())

    def end(self) -> int:
        """Kill everything the sandbox started, release its cgroup and delete its folder."""
        pid = self.proc.pid if self.proc is not None else None
        if self.cgroup is not None:
            self.peak_bytes = self.cgroup.peak_bytes()
        for _ in range(25):  # processes on their way out (a PID namespace being torn down)
            if not self._leftovers():
                break
            time.sleep(0.02)
        killed = reap(pid, session=pid, uid=self.uid, cgroup=self.cgroup)
        if self.proc is not None:
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        if self.cgroup is not None:
            self.cgroup.remove()
        shutil.rmtree(self.root, ignore_errors=True)
        if self.root.exists():  # files the slot's user left without write permission
            subprocess.run(["chmod", "-R", "u+rwx", str(self.root)], check=False)
            shutil.rmtree(self.root, ignore_errors=True)
        if self.lease is not None:  # every process of the slot's user is gone: free the slot
            self.lease.close()
            self.lease = None
        return killed


def _copy_font_cache(folder: Path) -> None:
    """Give the kernel matplotlib's font cache, which takes a second to build on each import."""
    try:
        import matplotlib

        for cache in Path(matplotlib.get_cachedir()).glob("fontlist-*.json"):
            shutil.copyfile(cache, folder / cache.name)
    except Exception:  # no cache yet, or no matplotlib: the kernel builds its own
        pass
