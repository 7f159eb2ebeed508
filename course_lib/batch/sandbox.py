"""Confine a student's kernel: it may write only in its own working folder, and may not read the
other submissions or the gradebook.

The grader starts each kernel through this file, run as a script::

    python .../course_lib/batch/sandbox.py POLICY.json -- python -m ipykernel_launcher -f ...

It reads the policy, confines its own process with Linux's Landlock (an unprivileged access-control
mechanism of the kernel, Linux 5.13 and later: no root, no Docker), caps the address space, and
then replaces itself with the kernel, which inherits the confinement and cannot lift it. What a
confined kernel may do:

* read and run everything on the machine (Python, numpy, matplotlib, fonts, ...) except the
  ``protected`` paths (other students' submissions, the gradebook);
* write, create and delete only beneath its ``writable`` folders (its private working folder),
  and write to ``/dev/null``.

Where Landlock is not available (macOS, Windows, old or locked-down Linux kernels),
:func:`landlock_abi` returns 0, the kernel runs unconfined and the grader says so in its report.

This file imports nothing but the standard library, so that starting a kernel through it costs
almost nothing, and it can run before ``course_lib`` is importable.
"""

from __future__ import annotations

import ctypes
import json
import os
import stat
import sys

__all__ = ["landlock_abi", "confine", "launcher", "write_policy", "enter"]

# linux/landlock.h
_CREATE_RULESET, _ADD_RULE, _RESTRICT_SELF = 444, 445, 446  # the same on every architecture
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_PDEATHSIG = 1

EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
REMOVE_DIR, REMOVE_FILE, MAKE_CHAR, MAKE_DIR = 1 << 4, 1 << 5, 1 << 6, 1 << 7
MAKE_REG, MAKE_SOCK, MAKE_FIFO, MAKE_BLOCK, MAKE_SYM = 1 << 8, 1 << 9, 1 << 10, 1 << 11, 1 << 12
REFER, TRUNCATE, IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15  # ABI 2, 3 and 5

_FILE_RIGHTS = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV  # those a file rule may hold
_READ = EXECUTE | READ_FILE | READ_DIR


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def landlock_abi() -> int:
    """The Landlock ABI version this machine's kernel offers, or 0 when there is none.

    Examples
    --------
    >>> landlock_abi() >= 0
    True
    """
    if not sys.platform.startswith("linux"):
        return 0
    try:
        version = _libc().syscall(_CREATE_RULESET, None, ctypes.c_size_t(0),
                                  ctypes.c_uint32(_CREATE_RULESET_VERSION))
    except (OSError, AttributeError):
        return 0
    return max(int(version), 0)


def _handled(abi: int) -> int:
    """Every filesystem right the kernel knows: what is not granted below is denied."""
    rights = (1 << 13) - 1
    if abi >= 2:
        rights |= REFER
    if abi >= 3:
        rights |= TRUNCATE
    if abi >= 5:
        rights |= IOCTL_DEV
    return rights


def _is_within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _read_rules(protected) -> list:
    """Paths to grant reading to, so that everything is readable except ``protected``.

    Landlock only grants, so the tree is granted piece by piece: a folder that contains a
    protected path is not granted itself; its other entries are (recursively where they
    contain one too). Symbolic links are not followed: their targets are granted where they lie.
    """
    protected = [os.path.realpath(p) for p in protected]
    rules = []

    def visit(folder):
        if any(_is_within(folder, p) for p in protected):
            return  # the protected path itself, or inside it
        if not any(_is_within(p, folder) for p in protected):
            rules.append(folder)
            return
        try:
            entries = list(os.scandir(folder))
        except OSError:
            return
        for entry in entries:
            if entry.is_symlink():
                continue
            if entry.is_dir(follow_symlinks=False):
                visit(entry.path)
            elif not any(_is_within(entry.path, p) for p in protected):
                rules.append(entry.path)

    visit(os.sep)
    return rules


def confine(writable, protected=(), *, memory_bytes=None) -> int:
    """Confine this process and everything it starts (see the module's description).

    Parameters
    ----------
    writable : list of str
        Folders beneath which writing, creating and deleting are allowed.
    protected : list of str
        Files and folders that may not be read (nor written).
    memory_bytes : int, optional
        Cap on the address space (``RLIMIT_AS``), so a runaway allocation fails with a
        ``MemoryError`` in the kernel instead of exhausting the machine.

    Returns
    -------
    int
        The Landlock ABI used, or 0 when the process could not be confined (it then runs as is).
    """
    if memory_bytes:
        try:
            import resource

            soft, hard = resource.getrlimit(resource.RLIMIT_AS)
            limit = int(memory_bytes) if hard == resource.RLIM_INFINITY else min(int(memory_bytes), hard)
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))  # it cannot lift it again
        except (ImportError, ValueError, OSError):  # Windows, or a platform without RLIMIT_AS
            pass
    abi = landlock_abi()
    if abi <= 0:
        return 0
    libc = _libc()
    handled = _handled(abi)
    attr = ctypes.c_uint64(handled)  # struct landlock_ruleset_attr { __u64 handled_access_fs; }
    ruleset = libc.syscall(_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(8), ctypes.c_uint32(0))
    if ruleset < 0:
        return 0

    def grant(path, rights):
        try:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except OSError:
            return
        try:
            if not stat.S_ISDIR(os.fstat(fd).st_mode):
                rights &= _FILE_RIGHTS
            rule = _PathBeneath(rights & handled, fd)
            libc.syscall(_ADD_RULE, ctypes.c_int(ruleset), ctypes.c_int(_RULE_PATH_BENEATH),
                         ctypes.byref(rule), ctypes.c_uint32(0))
        finally:
            os.close(fd)

    try:
        for path in _read_rules(protected):
            grant(path, _READ)
        for folder in writable:
            grant(folder, handled)
        grant(os.devnull, READ_FILE | WRITE_FILE | TRUNCATE | IOCTL_DEV)
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            return 0
        if libc.syscall(_RESTRICT_SELF, ctypes.c_int(ruleset), ctypes.c_uint32(0)) != 0:
            return 0
    finally:
        os.close(ruleset)
    return abi


def write_policy(path, *, writable, protected=(), memory_bytes=None) -> str:
    """Write the policy file the launcher reads; returns ``path``."""
    policy = {"writable": [os.path.realpath(w) for w in writable],
              "protected": [os.path.realpath(p) for p in protected],
              "memory_bytes": memory_bytes}
    with open(path, "w", encoding="utf-8") as f:
        json.dump(policy, f)
    return str(path)


def launcher(policy_path) -> list:
    """The command prefix that starts a program confined by the policy at ``policy_path``."""
    return [sys.executable, os.path.abspath(__file__), str(policy_path), "--"]


def enter(spec: dict) -> None:
    """Apply the limits in ``spec`` to this process, then drop privileges (see :func:`main`).

    ``spec`` holds ``cgroup_procs`` (``cgroup.procs`` files to move this process into: its
    descendants are counted and capped together), ``rlimits`` (name -> value, e.g.
    ``{"NPROC": 512, "AS": 8 * 2**30, "CORE": 0}``), and ``uid``/``gid`` (switch to this user,
    when started as root; None keeps the user).
    """
    for procs in spec.get("cgroup_procs") or ():
        with open(procs, "w", encoding="ascii") as f:
            f.write("0")  # 0: the writing process itself
    try:
        import resource

        for name, value in (spec.get("rlimits") or {}).items():
            which = getattr(resource, "RLIMIT_" + name, None)
            if which is None:
                continue
            soft, hard = resource.getrlimit(which)
            value = int(value) if hard == resource.RLIM_INFINITY else min(int(value), hard)
            resource.setrlimit(which, (value, value))
    except ImportError:  # pragma: no cover - not POSIX
        pass
    uid, gid = spec.get("uid"), spec.get("gid")
    if uid is not None and os.getuid() == 0:
        os.setgroups([])
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)
    os.umask(0o077)
    if sys.platform.startswith("linux"):  # the grader gone (even killed): this process goes too
        try:
            _libc().prctl(_PR_SET_PDEATHSIG, 9, 0, 0, 0)
        except (OSError, AttributeError):
            pass


def main(argv=None) -> None:
    """``sandbox.py POLICY -- COMMAND...``: confine with Landlock, then replace this process with
    COMMAND. ``sandbox.py --enter SPEC -- COMMAND...``: join the sandbox's cgroups, set its
    resource limits and drop to its user (:func:`enter`), then replace this process with COMMAND
    (bubblewrap, or the worker)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "--enter":
        if len(argv) < 4 or argv[2] != "--":
            sys.exit("usage: sandbox.py --enter SPEC.json -- COMMAND [ARG...]")
        with open(argv[1], encoding="utf-8") as f:
            enter(json.load(f))
        os.execv(argv[3], argv[3:])
    if len(argv) < 3 or argv[1] != "--":
        sys.exit("usage: sandbox.py POLICY.json -- COMMAND [ARG...]")
    with open(argv[0], encoding="utf-8") as f:
        policy = json.load(f)
    abi = confine(policy["writable"], policy.get("protected", ()),
                  memory_bytes=policy.get("memory_bytes"))
    os.environ["SOFTMAX_COURSE_SANDBOX"] = f"landlock-{abi}" if abi else "none"
    command = argv[2:]
    os.execv(command[0], command)


if __name__ == "__main__":
    main()
