"""``softmax-course present``: the command line it runs, and what it ships (the page itself is
driven in a browser by tests/test_browser.py)."""

import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
try:
    import tomllib  # Python 3.11 and later
except ModuleNotFoundError:  # Python 3.10: the test extra installs tomli there
    import tomli as tomllib
from pathlib import Path

import nbformat
import pytest

from course_lib import cli, present

ROOT = Path(__file__).resolve().parents[1]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_dry_run_prints_a_local_voila_command(capsys):
    assert cli.main(["present", "temperature", "--dry-run", "--port", "9123", "--no-browser"]) == 0
    cmd = shlex.split(capsys.readouterr().out)
    assert cmd[:4] == [sys.executable, "-m", "course_lib.serve", "voila"]
    assert Path(cmd[4]) == present.PRESENTATIONS_DIR / "temperature.ipynb"
    for arg in ["--port=9123", "--Voila.port_retries=0", "--Voila.ip=127.0.0.1",
                "--template=softmax-course", "--no-browser", "--strip_sources=True"]:
        assert arg in cmd


def test_without_a_port_a_free_one_is_chosen(capsys):
    assert cli.main(["present", "temperature", "--dry-run"]) == 0
    cmd = shlex.split(capsys.readouterr().out)
    port = int(next(a for a in cmd if a.startswith("--port=")).split("=")[1])
    assert port >= present.DEFAULT_PORT and "--no-browser" not in cmd


def test_an_unknown_demo_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["present", "nope"])
    assert exc.value.code == 2
    assert "invalid choice: 'nope'" in capsys.readouterr().err
    assert present.main("nope", dry_run=True) == 2
    assert "choose one of: temperature" in capsys.readouterr().err


def test_the_kernel_is_this_python_and_the_template_is_found(tmp_path):
    env = present.present_environment(tmp_path, environ={"JUPYTER_PATH": "/elsewhere"})
    spec = json.loads((tmp_path / "kernels" / "python3" / "kernel.json").read_text())
    assert spec["argv"][0] == sys.executable
    paths = env["JUPYTER_PATH"].split(os.pathsep)
    assert paths == [str(tmp_path), str(present.PRESENTATIONS_DIR), "/elsewhere"]
    template = present.PRESENTATIONS_DIR / "voila" / "templates" / present.TEMPLATE
    assert json.loads((template / "conf.json").read_text())["base_template"] == "lab"
    assert str(ROOT) in env["PYTHONPATH"].split(os.pathsep)


def test_the_template_fetches_nothing_from_the_network():
    text = (present.PRESENTATIONS_DIR / "voila" / "templates" / present.TEMPLATE /
            "index.html.j2").read_text()
    # every https:// in it is inside a replace(...) that removes it
    for line in text.splitlines():
        if "https://" in line:
            assert line.strip().startswith("| replace('<link"), line


def test_the_presentation_notebook_shows_the_demos_and_stores_no_outputs():
    nb = nbformat.read(present.presentation_path("temperature"), as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    source = "\n".join(c.source for c in code)
    assert code[0].source.rstrip().splitlines()[-1].startswith("temperature_explorer(")
    assert "temperature_compare(" in source and "temperature_sampler(" in source


def test_package_data_ships_the_presentations():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    globs = meta["tool"]["setuptools"]["package-data"]["course_lib"]
    shipped = {p for g in globs for p in (ROOT / "course_lib").glob(g)}
    wanted = {p for p in present.PRESENTATIONS_DIR.rglob("*") if p.is_file()}
    assert wanted and wanted <= shipped
    assert "voila" in " ".join(meta["project"]["dependencies"])


def test_the_course_voila_config_sets_the_xsrf_cookie_and_kernels_are_culled(tmp_path):
    cmd = present.present_command("temperature", port=9123, config_dir=tmp_path)
    assert f"--Voila.config_file_paths={tmp_path}" in cmd
    assert "--MappingKernelManager.cull_connected=False" in cmd
    assert f"--MappingKernelManager.cull_idle_timeout={present.CULL_IDLE_TIMEOUT}" in cmd
    assert 0 < present.CULL_INTERVAL < present.CULL_IDLE_TIMEOUT <= 300
    c = type("Config", (), {})()
    c.VoilaConfiguration = type("Section", (), {})()
    exec(present.voila_config(), {"c": c})  # noqa: S102 - the file Voila itself executes
    assert c.VoilaConfiguration.prelaunch_hook is present.set_xsrf_cookie

    class Handler:
        read = 0

        @property
        def xsrf_token(self):
            Handler.read += 1
            return b"token"

    assert present.set_xsrf_cookie(Handler(), notebook=object(), cwd=".") is None
    assert Handler.read == 1


@pytest.mark.skipif(not hasattr(os, "killpg"), reason="needs POSIX process groups")
def test_a_kernel_whose_page_never_connects_is_culled(tmp_path):
    """A page fetched without JavaScript (or a browser that crashed) never says goodbye."""
    import urllib.request

    psutil = pytest.importorskip("psutil")
    port = _free_port()
    env = present.present_environment(tmp_path / "kernels")
    env["JUPYTER_RUNTIME_DIR"] = str(tmp_path / "runtime")
    config = tmp_path / "config"   # not the working folder: `python -m voila` would import it
    config.mkdir()
    (config / "voila.py").write_text(present.voila_config(), encoding="utf-8")
    cmd = present.present_command("temperature", port=port, no_browser=True,
                                  config_dir=config, cull_idle_timeout=3, cull_interval=1)
    log = (tmp_path / "voila.log").open("wb")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path,
                            start_new_session=True)

    def kernels():
        """The server's live kernels: a culled kernel is a zombie until the server reaps it, and
        a zombie or a process gone in between has no command line (and is no kernel any more)."""
        found = []
        for p in psutil.Process(proc.pid).children(recursive=True):
            try:
                if p.status() != psutil.STATUS_ZOMBIE and "ipykernel_launcher" in " ".join(p.cmdline()):
                    found.append(p)
            except psutil.Error:
                pass
        return found

    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=60) as r:
                    page = r.read().decode("utf-8", errors="replace")
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline
                time.sleep(0.5)
        assert "widget" in page and len(kernels()) == 1
        deadline = time.monotonic() + 60
        while kernels() and time.monotonic() < deadline:
            time.sleep(0.5)
        assert kernels() == [], (tmp_path / "voila.log").read_text(errors="replace")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()
