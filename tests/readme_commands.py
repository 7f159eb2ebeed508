"""The README's two set-up commands, read from README.md and run as a new user runs them.

Standard library only: ``.ci/run`` calls it with the machine's own ``python3`` before any venv
exists (``python3 tests/readme_commands.py start``), on CI's checkout, which is a fresh clone of
main. There the README's start command, as written, makes the venv from nothing and must serve
JupyterLab on 127.0.0.1; ``--no-browser --port P`` is appended so that it does not block on a
browser. ``tests/test_fresh_clone.py`` runs the same check, and the test command, in a clean
clone of the committed ``HEAD`` on request.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVER_START = 900   # seconds for the start command: a pip install into a new venv, then the lab


def marked_block(marker, readme=None):
    """The one-line ```sh block that directly follows ``<!-- marker -->`` in README.md."""
    text = (ROOT / "README.md").read_text(encoding="utf-8") if readme is None else readme
    m = re.search(rf"<!-- {marker} -->\s*\n```sh\n(.*?)^```", text, re.S | re.M)
    assert m, f"README.md has no ```sh block after <!-- {marker} -->"
    lines = [ln for ln in m.group(1).splitlines() if ln.strip()]
    assert len(lines) == 1, f"the {marker} block must be exactly one command line"
    return lines[0]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(proc):
    """SIGTERM the process group of ``proc`` (started in a session of its own), then SIGKILL
    what is left."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


@contextlib.contextmanager
def started(cmd, cwd, env, log):
    """``cmd`` in a shell of its own session; the whole session is stopped on the way out."""
    with open(log, "wb") as out:
        proc = subprocess.Popen(["bash", "-c", cmd], cwd=cwd, env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield proc
    finally:
        stop(proc)


def wait_for_http(url, proc, log, timeout=SERVER_START):
    """None once ``url`` answers 200, else what went wrong (with the end of the log)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return (f"the server exited with {proc.returncode}:\n"
                    f"{Path(log).read_text(errors='replace')[-4000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    return None
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    return f"no answer from {url} in {timeout} s:\n{Path(log).read_text(errors='replace')[-4000:]}"


def start_command_problem(repo, env, log, start=None, timeout=SERVER_START):
    """Run the README's start command (or ``start``) in ``repo``; None if JupyterLab's page was
    served."""
    start = marked_block("start-command") if start is None else start
    port, token = free_port(), secrets.token_hex(16)
    env = {**env, "JUPYTER_TOKEN": token}
    with started(f"{start} --no-browser --port {port}", repo, env, log) as proc:
        problem = wait_for_http(f"http://127.0.0.1:{port}/api/status?token={token}", proc, log,
                               timeout)
        if problem is None:  # the lab page itself, not only the API
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/lab?token={token}",
                                        timeout=30) as r:
                if r.status != 200 or b"JupyterLab" not in r.read():
                    problem = f"/lab answered {r.status} without JupyterLab's page"
    return f"start command: {start}\n{problem}" if problem else None


def main(argv):
    if argv != ["start"]:
        print("usage: python3 tests/readme_commands.py start", file=sys.stderr)
        return 2
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
        for var, sub in (("JUPYTER_RUNTIME_DIR", "runtime"), ("JUPYTER_CONFIG_DIR", "config"),
                         ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"), ("IPYTHONDIR", "ipython")):
            (Path(tmp) / sub).mkdir()
            env[var] = str(Path(tmp) / sub)
        problem = start_command_problem(ROOT, env, Path(tmp) / "start.log")
    if problem:
        print(problem, file=sys.stderr)
        return 1
    print(f"README start command: JupyterLab served from {ROOT} (stopped again)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
