"""A fresh machine: a clean ``git clone``, then the README's two set-up commands as written.

The start command runs as the README gives it, with ``--no-browser --port P`` appended so that it
does not block on a browser, and must answer on 127.0.0.1; the test command runs as written up
to its last word, where ``pytest`` only collects (``--collect-only``, which imports every test
module and, through ``--doctest-modules``, every module of ``course_lib``) and then runs
``tests/test_project.py``. Every module the notebooks import must import in the new venv too
(nbval's collection does not run them). A dependency used but not declared in
``pyproject.toml`` fails here, as it would on a learner's machine.

The whole suite is not run again in the clone: CI already runs it once in its own fresh venv
(``.ci/run``), and twice would not fit its time budget. What the clone adds is what CI's
checkout cannot see: only the committed files, a venv made by the README's commands, nothing
installed by hand.

It takes a few minutes (two pip installs into a new venv), so it runs in CI (``CI=true``) and on
request (``SOFTMAX_COURSE_FRESH_CLONE=1``); elsewhere it is skipped with one summary line. It
clones the committed ``HEAD``: commit before running it.
"""

from __future__ import annotations

import ast
import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest

from test_browser import TRUE
from test_project import marked_block

ROOT = Path(__file__).resolve().parents[1]
SKIP_REASON = ("fresh-clone check skipped: it takes minutes (a clean clone, the README's commands "
               "in a new venv); CI runs it; run it with SOFTMAX_COURSE_FRESH_CLONE=1 "
               "python -m pytest tests/test_fresh_clone.py")
SERVER_START = 900   # seconds for the start command: a pip install into a new venv, then the lab


def fresh_clone_wanted(environ=os.environ):
    return any(environ.get(v, "").strip().lower() in TRUE
               for v in ("CI", "SOFTMAX_COURSE_FRESH_CLONE"))


def clone(dest):
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(dest)],
                   check=True, timeout=300)
    return dest


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env(tmp):
    """The environment a new shell has: no venv active, Jupyter's state kept in ``tmp``, and a
    learner's, not CI's (``CI`` would require what the README's plain install leaves out:
    PyTorch for lesson 08)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PYTEST_ADDOPTS", "CI")
           and not k.startswith(("JUPYTER", "SOFTMAX_COURSE_"))}
    venv_bin = str(Path(sys.prefix) / "bin")
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p != venv_bin)
    for var, sub in (("JUPYTER_RUNTIME_DIR", "runtime"), ("JUPYTER_CONFIG_DIR", "config"),
                     ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"), ("IPYTHONDIR", "ipython")):
        (tmp / sub).mkdir(parents=True, exist_ok=True)
        env[var] = str(tmp / sub)
    return env


def sh(cmd, cwd, env, timeout=900):
    run = subprocess.run(["bash", "-c", cmd], cwd=cwd, env=env, capture_output=True, text=True,
                         timeout=timeout)
    return run


@contextlib.contextmanager
def started(cmd, cwd, env, log):
    with open(log, "wb") as out:
        proc = subprocess.Popen(["bash", "-c", cmd], cwd=cwd, env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield proc
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def wait_for_lab(url, proc, log, timeout=SERVER_START):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return f"the start command exited with {proc.returncode}:\n{log.read_text(errors='replace')[-4000:]}"
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    return None
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(1)
    return f"no answer from {url} in {timeout} s:\n{log.read_text(errors='replace')[-4000:]}"


OPTIONAL_MODULES = {"torch"}  # from an extra, not the README's plain install


def notebook_imports(root):
    """Top-level module names the code cells of notebooks/ and solutions/ import."""
    names = set()
    for nb_path in sorted([*root.glob("notebooks/*.ipynb"), *root.glob("solutions/*.ipynb")]):
        for cell in nbformat.read(nb_path, as_version=4).cells:
            if cell.cell_type != "code":
                continue
            source = "\n".join(ln for ln in cell.source.splitlines()
                               if not ln.lstrip().startswith(("%", "!")))
            with contextlib.suppress(SyntaxError):
                for node in ast.walk(ast.parse(source)):
                    if isinstance(node, ast.Import):
                        names.update(a.name.split(".")[0] for a in node.names)
                    elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                        names.add(node.module.split(".")[0])
    return sorted(names)


def readme_commands_on_a_fresh_clone(tmp):
    """Run both README commands in a clone at ``tmp / "clone"``; return a list of problems."""
    repo = tmp / "clone"
    if not repo.exists():
        clone(repo)
    env = clean_env(tmp)
    start = marked_block("start-command")
    test = marked_block("test-command")
    problems = []

    port, token = free_port(), secrets.token_hex(16)
    env_start = {**env, "JUPYTER_TOKEN": token}
    log = tmp / "start.log"
    with started(f"{start} --no-browser --port {port}", repo, env_start, log) as proc:
        problem = wait_for_lab(f"http://127.0.0.1:{port}/api/status?token={token}", proc, log)
        if problem is None:  # the lab page itself, not only the API
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/lab?token={token}",
                                        timeout=30) as r:
                if r.status != 200 or b"JupyterLab" not in r.read():
                    problem = f"/lab answered {r.status} without JupyterLab's page"
    if problem:
        return [f"start command: {start}\n{problem}"]

    assert test.endswith(" -m pytest")
    collect = sh(f"{test} --collect-only -q", repo, env)
    if collect.returncode != 0:
        problems.append(f"test command (collection): {test} --collect-only\n"
                        f"{collect.stdout[-6000:]}\n{collect.stderr[-3000:]}")
    quick = sh(".venv/bin/python -m pytest -q tests/test_project.py", repo, env)
    if quick.returncode != 0:
        problems.append(f"tests/test_project.py in the clone:\n{quick.stdout[-4000:]}")
    # lesson 08 imports torch, which comes with the torch extra (pip install -e ".[torch]"):
    # without it the lesson is skipped with one summary line, as the README says
    names = [n for n in notebook_imports(repo) if n not in OPTIONAL_MODULES]
    imports = sh(".venv/bin/python -c " + repr("; ".join(f"import {n}" for n in names)), repo, env)
    if imports.returncode != 0:
        problems.append(f"a module the notebooks import is missing: {imports.stderr[-2000:]}")
    return problems


@pytest.mark.skipif(not fresh_clone_wanted(), reason=SKIP_REASON)
def test_the_readme_commands_work_on_a_fresh_clone(tmp_path):
    problems = readme_commands_on_a_fresh_clone(tmp_path)
    assert not problems, "\n\n".join(problems)


def test_the_fresh_clone_check_runs_in_ci_and_on_request():
    assert fresh_clone_wanted({"CI": "true"}) and fresh_clone_wanted({"SOFTMAX_COURSE_FRESH_CLONE": "1"})
    assert not fresh_clone_wanted({}) and not fresh_clone_wanted({"CI": "false"})


def test_the_notebooks_imports_are_found():
    names = notebook_imports(ROOT)
    assert {"numpy", "course_lib"} <= set(names)
