"""``softmax-course present NAME``: a slider demo alone on a page, without code, for a lecture.

The demo is a small notebook shipped inside the package (``course_lib/presentations/NAME.ipynb``,
its Korean twin in ``presentations/ko/NAME.ipynb`` for ``--lang ko``) served by Voila, which runs it in a fresh kernel and shows only its outputs (Voila leaves out
code cells' sources by default). Nothing is fetched from the network: the page uses the
course's Voila template (``presentations/voila/templates/softmax-course``), Voila's "lab"
template without the Font Awesome style sheet it links from a CDN and without the Mermaid loader.

The kernel is this Python (a kernelspec written to a temporary folder and put first on
``JUPYTER_PATH``), so the page imports the same ``course_lib`` as the command, whatever other
``python3`` kernels the machine has.

Every page load starts a kernel; no kernel may outlive its page. When a page is closed or
reloaded, Voila's page sends a shutdown request carrying the ``_xsrf`` cookie, but Voila's page
handler never sets that cookie, so the request fails with "'_xsrf' argument missing from POST"
and the kernel stays (Voila issue #1458). The course's Voila configuration
(:func:`voila_config`, written to the same temporary folder) sets the cookie from a
``prelaunch_hook`` (:func:`set_xsrf_cookie`), so the shutdown succeeds at once. Kernels whose
page never said goodbye (a crashed browser, a page fetched without JavaScript) are culled:
once no page is connected and the kernel has been idle for ``CULL_IDLE_TIMEOUT`` seconds.

Examples
--------
>>> sorted(PRESENTATIONS)
['temperature']
>>> cmd = present_command("temperature", port=8899, no_browser=True)
>>> cmd[1:4], cmd[4].endswith("temperature.ipynb")
(['-m', 'course_lib.serve', 'voila'], True)
>>> presentation_path("temperature", lang="ko").parent.name
'ko'
>>> [a for a in cmd if a.startswith(("--port", "--Voila.ip", "--template", "--no-browser"))]
['--port=8899', '--Voila.ip=127.0.0.1', '--template=softmax-course', '--no-browser']
>>> [a for a in cmd if "cull" in a]
['--MappingKernelManager.cull_idle_timeout=120', '--MappingKernelManager.cull_interval=30', '--MappingKernelManager.cull_connected=False']
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

from course_lib.serve import serve_command

__all__ = ["PRESENTATIONS", "PRESENTATIONS_DIR", "presentation_path", "present_command",
           "present_environment", "free_port", "set_xsrf_cookie", "voila_config", "main",
           "CULL_IDLE_TIMEOUT", "CULL_INTERVAL"]

PRESENTATIONS_DIR = Path(__file__).resolve().parent / "presentations"
PRESENTATIONS = {"temperature": "temperature.ipynb"}   # lesson 04's slider demos
LANGUAGES = {"en": ".", "ko": "ko"}   # the folder of each language's pages, in PRESENTATIONS_DIR
TEMPLATE = "softmax-course"
DEFAULT_PORT = 8866                                     # Voila's own default
CULL_IDLE_TIMEOUT = 120     # seconds a kernel without a page may stay idle before it is culled
CULL_INTERVAL = 30          # seconds between two looks for such kernels


def set_xsrf_cookie(req_handler, notebook, cwd):
    """Voila ``prelaunch_hook``: give the page its ``_xsrf`` cookie (and leave the notebook).

    Reading tornado's ``xsrf_token`` sets the cookie on the response, before Voila writes any
    of the page; the page's shutdown request on unload sends it back, so the kernel is shut down.
    """
    req_handler.xsrf_token  # noqa: B018 - reading it sets the cookie
    return None


def voila_config():
    """The text of the ``voila.py`` configuration file ``present`` runs Voila with."""
    return (
        "# written by softmax-course present: see course_lib/present.py\n"
        "from course_lib.present import set_xsrf_cookie\n"
        "c.VoilaConfiguration.prelaunch_hook = set_xsrf_cookie\n"
    )


def presentation_path(name, lang="en"):
    """The notebook that presents demo ``name`` in ``lang``; ``ValueError`` naming the choices
    otherwise."""
    if name not in PRESENTATIONS:
        raise ValueError(f"no demo called {name!r}; choose one of: {', '.join(sorted(PRESENTATIONS))}")
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of: {', '.join(LANGUAGES)}; got {lang!r}")
    return PRESENTATIONS_DIR / LANGUAGES[lang] / PRESENTATIONS[name]


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


def present_command(name, *, ip="127.0.0.1", port=DEFAULT_PORT, no_browser=False,
                    config_dir=None, cull_idle_timeout=CULL_IDLE_TIMEOUT,
                    cull_interval=CULL_INTERVAL, lang="en"):
    """The Voila command line that serves demo ``name`` (see the module's docstring).

    ``config_dir`` is the folder holding the course's ``voila.py`` (:func:`voila_config`); it
    replaces Voila's search for configuration files. ``lang`` picks the page's language.
    """
    cmd = serve_command("voila", [
        str(presentation_path(name, lang)),
        f"--port={int(port)}",
        "--Voila.port_retries=0",           # the printed URL must be the one served
        f"--Voila.ip={ip}",
        f"--template={TEMPLATE}",
        "--theme=light",
        "--strip_sources=True",
        "--VoilaConfiguration.show_tracebacks=False",
        # a kernel whose page is gone (no connection) and that has been idle this long goes
        f"--MappingKernelManager.cull_idle_timeout={int(cull_idle_timeout)}",
        f"--MappingKernelManager.cull_interval={int(cull_interval)}",
        "--MappingKernelManager.cull_connected=False",
    ])   # python -m voila, started faster (course_lib.serve)
    if config_dir is not None:
        cmd.append(f"--Voila.config_file_paths={config_dir}")
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
    env.setdefault("SOFTMAX_COURSE_LIVE_DPI", "200")  # the page stretches the plots to its width
    _serve_korean_font(Path(kernel_dir))
    return env


WEB_FONT = "softmax-course-hangul.ttf"   # the page's Korean font (see _serve_korean_font)


def _serve_korean_font(jupyter_dir):
    """Put a web copy of the course's Korean font among the page template's static files.

    Voila serves ``<JUPYTER_PATH entry>/voila/templates/softmax-course/static/*`` at
    ``/voila/templates/softmax-course/static/``; the template's ``@font-face`` loads
    :data:`WEB_FONT` from there when the page shows Hangul that the machine's own fonts lack
    (a machine without a Korean font would show boxes). Browsers refuse NanumGothic.ttf as it
    is (Chromium's font sanitizer rejects its empty ``TSI3`` table: Visual TrueType's sources,
    unused for drawing), so the copy, written into the temporary folder ``present`` puts first
    on ``JUPYTER_PATH``, leaves out the ``TSI*`` tables and, being modified, is renamed as the
    SIL Open Font License asks (no Reserved Font Name).
    """
    from fontTools.ttLib import TTFont

    from .plots import KOREAN_FONT

    static = jupyter_dir / "voila" / "templates" / TEMPLATE / "static"
    target = static / WEB_FONT
    if target.exists():
        return
    static.mkdir(parents=True, exist_ok=True)
    font = TTFont(str(KOREAN_FONT))
    for table in [t for t in font.keys() if t.startswith("TSI")]:
        del font[table]
    names = {1: "softmax-course Hangul", 3: "softmax-course Hangul", 4: "softmax-course Hangul",
             6: "softmax-course-Hangul", 16: "softmax-course Hangul"}
    for record in font["name"].names:
        if record.nameID in names:
            record.string = names[record.nameID]
    font.save(str(target))


def main(name, *, ip="127.0.0.1", port=None, no_browser=False, dry_run=False, lang="en"):
    """Serve demo ``name`` in ``lang``; print its URL first. Returns the exit status."""
    try:
        notebook = presentation_path(name, lang)
    except ValueError as err:
        print(f"softmax-course: error: {err}", file=sys.stderr)
        return 2
    if importlib.util.find_spec("voila") is None:
        print("softmax-course: error: presenting needs Voila: python -m pip install voila",
              file=sys.stderr)
        return 2
    if port is None:
        port = free_port(ip)
    if dry_run:
        import shlex

        cmd = present_command(name, ip=ip, port=port, no_browser=no_browser,
                              config_dir="<temporary folder>", lang=lang)
        print(shlex.join(cmd))
        return 0
    print(f"softmax-course: the {name} demo ({notebook.name}) is at http://{ip}:{port}/ "
          f"-- open it in a browser; Ctrl-C stops it.", flush=True)
    with tempfile.TemporaryDirectory(prefix="softmax-course-present-") as kernel_dir:
        (Path(kernel_dir) / "voila.py").write_text(voila_config(), encoding="utf-8")
        cmd = present_command(name, ip=ip, port=port, no_browser=no_browser,
                              config_dir=kernel_dir, lang=lang)
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
