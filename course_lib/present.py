"""``softmax-course present NAME``: a slider demo alone on a page, without code, for a lecture.

The demo is a small notebook shipped inside the package (``course_lib/presentations/NAME.ipynb``)
served by Voila, which runs it in a fresh kernel and shows only its outputs (Voila leaves out
code cells' sources by default). Nothing is fetched from the network: the page uses the
course's Voila template (``presentations/voila/templates/softmax-course``), Voila's "lab"
template without the Font Awesome style sheet it links from a CDN and without the Mermaid loader.

The kernel is this Python (a kernelspec written to a temporary folder and put first on
``JUPYTER_PATH``), so the page imports the same ``course_lib`` as the command, whatever other
``python3`` kernels the machine has.

Examples
--------
>>> sorted(PRESENTATIONS)
['temperature']
>>> cmd = present_command("temperature", port=8899, no_browser=True)
>>> cmd[1:3], cmd[3].endswith("temperature.ipynb")
(['-m', 'voila'], True)
>>> [a for a in cmd if a.startswith(("--port", "--Voila.ip", "--template", "--no-browser"))]
['--port=8899', '--Voila.ip=127.0.0.1', '--template=softmax-course', '--no-browser']
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

__all__ = ["PRESENTATIONS", "PRESENTATIONS_DIR", "presentation_path", "present_command",
           "present_environment", "free_port", "main"]

PRESENTATIONS_DIR = Path(__file__).resolve().parent / "presentations"
PRESENTATIONS = {"temperature": "temperature.ipynb"}   # lesson 04's slider demos
TEMPLATE = "softmax-course"
DEFAULT_PORT = 8866                                     # Voila's own default


def presentation_path(name):
    """The notebook that presents demo ``name``; ``ValueError`` naming the choices otherwise."""
    if name not in PRESENTATIONS:
        raise ValueError(f"no demo called {name!r}; choose one of: {', '.join(sorted(PRESENTATIONS))}")
    return PRESENTATIONS_DIR / PRESENTATIONS[name]


def free_port(ip="127.0.0.1", start=DEFAULT_PORT, tries=50):
    """The first port from ``start`` on that nothing listens on at ``ip``."""
    for port in range(start, start + tries):
        with socket.socket() as s:
            try:
                s.bind((ip, port))
            except OSError:
                continue
            return port
    raise OSError(f"no free port in {start}..{start + tries - 1} on {ip}")


def present_command(name, *, ip="127.0.0.1", port=DEFAULT_PORT, no_browser=False):
    """The Voila command line that serves demo ``name`` (see the module's docstring)."""
    cmd = [
        sys.executable, "-m", "voila", str(presentation_path(name)),
        f"--port={int(port)}",
        "--Voila.port_retries=0",           # the printed URL must be the one served
        f"--Voila.ip={ip}",
        f"--template={TEMPLATE}",
        "--theme=light",
        "--strip_sources=True",
        "--VoilaConfiguration.show_tracebacks=False",
    ]
    if no_browser:
        cmd.append("--no-browser")
    return cmd


def present_environment(kernel_dir, environ=None):
    """The environment Voila runs in: this Python as the ``python3`` kernel, the course's
    template findable, ``course_lib`` importable by the kernel.

    ``kernel_dir`` is a folder to write the kernelspec into (``kernels/python3/kernel.json``).
    """
    env = dict(os.environ if environ is None else environ)
    spec_dir = Path(kernel_dir) / "kernels" / "python3"
    spec_dir.mkdir(parents=True, exist_ok=True)
    spec = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "Python 3 (softmax-course)", "language": "python"}
    (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    paths = [str(kernel_dir), str(PRESENTATIONS_DIR)]
    if env.get("JUPYTER_PATH"):
        paths.append(env["JUPYTER_PATH"])
    env["JUPYTER_PATH"] = os.pathsep.join(paths)
    package_root = str(Path(__file__).resolve().parent.parent)
    if env.get("PYTHONPATH"):
        if package_root not in env["PYTHONPATH"].split(os.pathsep):
            env["PYTHONPATH"] = os.pathsep.join([env["PYTHONPATH"], package_root])
    else:
        env["PYTHONPATH"] = package_root
    return env


def main(name, *, ip="127.0.0.1", port=None, no_browser=False, dry_run=False):
    """Serve demo ``name``; print its URL first. Returns the exit status."""
    try:
        notebook = presentation_path(name)
    except ValueError as err:
        print(f"softmax-course: error: {err}", file=sys.stderr)
        return 2
    if importlib.util.find_spec("voila") is None:
        print("softmax-course: error: presenting needs Voila: python -m pip install voila",
              file=sys.stderr)
        return 2
    if port is None:
        port = free_port(ip)
    cmd = present_command(name, ip=ip, port=port, no_browser=no_browser)
    if dry_run:
        import shlex

        print(shlex.join(cmd))
        return 0
    print(f"softmax-course: the {name} demo ({notebook.name}) is at http://{ip}:{port}/ "
          f"-- open it in a browser; Ctrl-C stops it.", flush=True)
    with tempfile.TemporaryDirectory(prefix="softmax-course-present-") as kernel_dir:
        proc = subprocess.Popen(cmd, env=present_environment(kernel_dir))
        # SIGTERM stops Voila (which stops its kernel) before the temporary folder goes
        previous = signal.signal(signal.SIGTERM, lambda *_: proc.terminate())
        try:
            while True:
                try:
                    return proc.wait()
                except KeyboardInterrupt:  # Voila got the Ctrl-C too: let it shut down
                    try:
                        proc.wait(timeout=10)
                    except subprocess.TimeoutExpired:
                        proc.terminate()
                    except KeyboardInterrupt:
                        proc.terminate()
        finally:
            signal.signal(signal.SIGTERM, previous)
