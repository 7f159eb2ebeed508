"""``softmax-course`` / ``python -m course_lib``: the start command."""

import json
import os
import re
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from course_lib import cli

ROOT = Path(__file__).resolve().parent.parent


def dry_run(capsys, *args):
    assert cli.main(["start", "--dry-run", *args]) == 0
    out, err = capsys.readouterr()
    return out, shlex.split(out)


def test_dry_run_prints_the_jupyterlab_command(capsys):
    out, cmd = dry_run(capsys)
    assert "-m course_lib.serve jupyterlab" in out
    assert cmd[:4] == [sys.executable, "-m", "course_lib.serve", "jupyterlab"]
    assert f"--ServerApp.root_dir={ROOT}" in cmd
    assert "--ServerApp.ip=127.0.0.1" in cmd
    assert cli.course_root() == ROOT
    # no network at run time: JupyterLab's news feed and PyPI update check are off
    assert "--LabApp.news_url=None" in cmd
    assert "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate" in cmd
    assert f"--LabApp.app_settings_dir={cli.LAB_SETTINGS}" in cmd


def test_dry_run_passes_options_through(capsys):
    _, cmd = dry_run(capsys, "--port", "9123", "--no-browser", "--ip", "0.0.0.0", "--token", "t0k")
    for arg in ["--ServerApp.port=9123", "--no-browser", "--ServerApp.ip=0.0.0.0",
                "--IdentityProvider.token=t0k"]:
        assert arg in cmd


def test_opens_lesson_00_when_it_exists_else_the_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cli, "course_root", lambda: tmp_path)
    (tmp_path / "notebooks").mkdir()
    _, cmd = dry_run(capsys)
    assert cmd[-1] == "--LabApp.default_url=/lab/tree/notebooks"
    (tmp_path / "notebooks" / "00_start_here.ipynb").write_text("{}")
    _, cmd = dry_run(capsys)
    assert cmd[-1] == "--LabApp.default_url=/lab/tree/notebooks/00_start_here.ipynb"
    assert f"--ServerApp.root_dir={tmp_path}" in cmd


def test_missing_notebooks_is_a_clear_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cli, "course_root", lambda: tmp_path)
    assert cli.main(["start", "--dry-run"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "notebooks" in err and "pip install -e ." in err


@pytest.mark.parametrize("euid, expected", [(0, True), (1000, False)])
def test_allow_root_only_as_root(monkeypatch, euid, expected):
    monkeypatch.setattr(os, "geteuid", lambda: euid, raising=False)
    assert ("--allow-root" in cli.start_command(ROOT)) is expected


def test_help_lists_only_existing_subcommands(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for now in ["start", "build", "check", "present"]:
        assert now in out
    listed = re.findall(r"^    (\w+)\s", out, re.M)
    assert set(listed) == {"start", "build", "check", "execute", "grade", "present",
                           "gradescope", "export"}
    assert cli.main([]) == 2


def test_python_dash_m_course_lib(tmp_path):
    res = subprocess.run([sys.executable, "-m", "course_lib", "start", "--dry-run"],
                         capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert res.returncode == 0, res.stderr
    assert "-m course_lib.serve jupyterlab" in res.stdout


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(not hasattr(os, "killpg"), reason="needs POSIX process groups")
def test_start_really_serves_jupyterlab(tmp_path):
    port, token = free_port(), secrets.token_hex(16)
    runtime = tmp_path / "runtime"
    env = dict(os.environ)
    env.pop("JUPYTER_TOKEN", None)
    env.update(
        JUPYTER_RUNTIME_DIR=str(runtime),
        JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
        JUPYTER_DATA_DIR=str(tmp_path / "data"),
        IPYTHONDIR=str(tmp_path / "ipython"),
    )
    log = (tmp_path / "jupyter.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "course_lib", "start", "--no-browser",
         "--port", str(port), "--token", token],
        cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/api/status?token={token}"
    try:
        deadline, status = time.monotonic() + 60, None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    status = r.status
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.5)
        assert status == 200, (tmp_path / "jupyter.log").read_text(errors="replace")
        # one server, serving the course root (a child of the CLI, whose log goes to a file)
        [server] = runtime.glob("jpserver-*.json")
        info = json.loads(server.read_text())
        assert Path(info["root_dir"]) == ROOT
        assert info["port"] == port
        base = f"http://127.0.0.1:{port}"
        # the root URL lands on the course's notebooks (lesson 00 once it exists)
        with urllib.request.urlopen(f"{base}/?token={token}", timeout=10) as r:
            assert "/lab/tree/notebooks" in r.geturl()
        # the learner is not asked about Jupyter news: the course's overrides are in force
        url = f"{base}/lab/api/settings/@jupyterlab/apputils-extension:notification?token={token}"
        with urllib.request.urlopen(url, timeout=10) as r:
            props = json.loads(r.read())["schema"]["properties"]  # overrides become defaults
        assert props["fetchNews"]["default"] == "false"
        assert props["checkForUpdates"]["default"] is False
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            pytest.fail("JupyterLab did not stop on SIGTERM")
        finally:
            log.close()
    assert not list(runtime.glob("jpserver-*.json")), "server did not shut down cleanly"
    with pytest.raises(ProcessLookupError):
        os.killpg(proc.pid, 0)  # nothing left in the process group


@pytest.mark.skipif(not hasattr(os, "killpg"), reason="needs POSIX process groups")
def test_start_prints_the_address_and_keeps_the_log_in_a_file(tmp_path):
    port, token = free_port(), secrets.token_hex(16)
    runtime = tmp_path / "runtime"
    env = {k: v for k, v in os.environ.items() if k != "JUPYTER_TOKEN"}
    env.update(JUPYTER_RUNTIME_DIR=str(runtime), JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
               JUPYTER_DATA_DIR=str(tmp_path / "data"), IPYTHONDIR=str(tmp_path / "ipython"))
    out = (tmp_path / "out.txt").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "course_lib", "start", "--no-browser", "--port", str(port),
         "--token", token],
        cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/lab/tree/notebooks/00_start_here.ipynb?token={token}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and proc.poll() is None:
            if url in (tmp_path / "out.txt").read_text(errors="replace"):
                break
            time.sleep(0.5)
        time.sleep(2)  # whatever JupyterLab logs next must not reach the terminal either
        printed = (tmp_path / "out.txt").read_text(errors="replace")
        assert url in printed, printed
        lines = [line for line in printed.splitlines() if line.strip()]
        assert len(lines) <= 5, printed
        # the address printed is the one served
        with urllib.request.urlopen(url, timeout=10) as r:
            assert r.status == 200
        log = cli.start_log_path(runtime)
        assert str(log) in printed
        full = log.read_text(errors="replace")
        assert "Jupyter Server" in full and "Serving notebooks from local directory" in full
        for chatter in ("Jupyter Server", "[I ", "[W "):
            assert chatter not in printed
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            pytest.fail("start did not stop on SIGTERM")
        finally:
            out.close()
    assert not list(runtime.glob("jpserver-*.json")), "the server did not shut down cleanly"


def test_start_has_a_verbose_switch():
    args = cli.make_parser().parse_args(["start", "--verbose"])
    assert args.verbose is True
    assert cli.make_parser().parse_args(["start"]).verbose is False


# --- grade: options are checked before anything runs ---------------------------------------------
@pytest.mark.parametrize("option, value", [
    ("--timeout", "0"), ("--timeout", "-1"), ("--timeout", "nan"), ("--timeout", "inf"),
    ("--timeout", "soon"), ("--notebook-timeout", "0"), ("--notebook-timeout", "nan"),
    ("--jobs", "0"), ("--jobs", "-1"), ("--jobs", "two"), ("--jobs", "1.5"),
])
def test_grade_rejects_bad_limits_with_status_2(tmp_path, capsys, option, value):
    nb = tmp_path / "01_a.ipynb"
    nb.write_text("{}", encoding="utf-8")
    with pytest.raises(SystemExit) as exc:
        cli.main(["grade", str(nb), "--out", str(tmp_path / "o"), f"{option}={value}"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert option in err and ("must be" in err or "not a" in err), err
    assert not (tmp_path / "o").exists()


def test_grade_says_when_the_out_folder_is_unusable(tmp_path, capsys):
    nb = tmp_path / "01_a.ipynb"
    nb.write_text("{}", encoding="utf-8")
    a_file = tmp_path / "grades.csv"
    a_file.write_text("x", encoding="utf-8")
    assert cli.main(["grade", str(nb), "--out", str(a_file)]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err
    locked = tmp_path / "locked"
    locked.mkdir()
    os.chmod(locked, 0o500)
    try:
        if os.access(locked, os.W_OK):  # root writes anyway: an out folder under a file instead
            target = a_file / "sub"
        else:
            target = locked / "grades"
        assert cli.main(["grade", str(nb), "--out", str(target)]) == 2
        assert "cannot write in --out" in capsys.readouterr().err
    finally:
        os.chmod(locked, 0o700)
    assert a_file.read_text(encoding="utf-8") == "x"


def test_grade_and_check_take_a_sandbox_mode():
    args = cli.make_parser().parse_args(["grade", "x.ipynb", "--out", "o", "--sandbox",
                                         "fallback", "--notebook-timeout", "30", "--resume"])
    assert (args.sandbox, args.notebook_timeout, args.resume) == ("fallback", 30.0, True)
    args = cli.make_parser().parse_args(["check", "x.ipynb", "--sandbox", "bubblewrap"])
    assert args.sandbox == "bubblewrap"


# --------------------------------------------------------------------------- --lang


def korean_course(tmp_path, monkeypatch, *, lesson=True):
    monkeypatch.setattr(cli, "course_root", lambda: tmp_path)
    (tmp_path / "notebooks" / "ko").mkdir(parents=True)
    (tmp_path / "notebooks" / "00_start_here.ipynb").write_text("{}")
    if lesson:
        (tmp_path / "notebooks" / "ko" / "00_start_here.ipynb").write_text("{}")


def settings_dir(cmd):
    return next(a for a in cmd if a.startswith("--LabApp.app_settings_dir=")).split("=", 1)[1]


def test_lang_ko_opens_the_korean_lesson_00(tmp_path, monkeypatch, capsys):
    korean_course(tmp_path, monkeypatch)
    monkeypatch.delenv("SOFTMAX_COURSE_LANG", raising=False)
    _, cmd = dry_run(capsys, "--lang", "ko")
    assert cmd[-1] == "--LabApp.default_url=/lab/tree/notebooks/ko/00_start_here.ipynb"
    _, cmd = dry_run(capsys, "--lang", "en")
    assert cmd[-1] == "--LabApp.default_url=/lab/tree/notebooks/00_start_here.ipynb"
    _, cmd = dry_run(capsys)                                     # no --lang, no environment
    assert cmd[-1] == "--LabApp.default_url=/lab/tree/notebooks/00_start_here.ipynb"


def test_without_lang_the_environment_chooses(tmp_path, monkeypatch, capsys):
    korean_course(tmp_path, monkeypatch)
    monkeypatch.setenv("SOFTMAX_COURSE_LANG", "ko")
    _, cmd = dry_run(capsys)
    assert cmd[-1] == "--LabApp.default_url=/lab/tree/notebooks/ko/00_start_here.ipynb"
    _, cmd = dry_run(capsys, "--lang", "en")                     # the option wins
    assert cmd[-1] == "--LabApp.default_url=/lab/tree/notebooks/00_start_here.ipynb"


def test_lang_ko_before_the_korean_lesson_00_exists_opens_its_folder(tmp_path, monkeypatch,
                                                                      capsys):
    korean_course(tmp_path, monkeypatch, lesson=False)
    _, cmd = dry_run(capsys, "--lang", "ko")
    assert cmd[-1] == "--LabApp.default_url=/lab/tree/notebooks/ko"


def test_korean_interface_with_the_language_pack_else_says_how_to_get_it(tmp_path, monkeypatch,
                                                                         capsys):
    korean_course(tmp_path, monkeypatch)
    monkeypatch.setattr(cli, "LANGUAGE_PACK_KO", "no_such_language_pack_ko")
    assert cli.main(["start", "--dry-run", "--lang", "ko"]) == 0
    out, err = capsys.readouterr()
    assert settings_dir(shlex.split(out)) == str(cli.LAB_SETTINGS)
    assert err.count('python -m pip install -e ".[ko]"') == 1, err
    assert "한국어 언어 팩" in err
    monkeypatch.setattr(cli, "LANGUAGE_PACK_KO", "json")        # an importable stand-in
    assert cli.main(["start", "--dry-run", "--lang", "ko"]) == 0
    out, err = capsys.readouterr()
    assert settings_dir(shlex.split(out)) == str(cli.LAB_SETTINGS_KO)
    assert err == ""
    assert cli.main(["start", "--dry-run", "--lang", "en"]) == 0
    out, err = capsys.readouterr()
    assert settings_dir(shlex.split(out)) == str(cli.LAB_SETTINGS) and err == ""


def test_the_korean_settings_are_the_course_settings_and_korean():
    base = json.loads((cli.LAB_SETTINGS / "overrides.json").read_text(encoding="utf-8"))
    ko = json.loads((cli.LAB_SETTINGS_KO / "overrides.json").read_text(encoding="utf-8"))
    assert ko.pop("@jupyterlab/translation-extension:plugin") == {"locale": "ko_KR"}
    assert ko == base


def test_start_and_present_explain_lang_in_help(capsys):
    for command in ("start", "present"):
        with pytest.raises(SystemExit):
            cli.main([command, "--help"])
        out = capsys.readouterr().out
        assert "--lang {en,ko}" in out and "SOFTMAX_COURSE_LANG" in out
    with pytest.raises(SystemExit):
        cli.main(["start", "--lang", "fr", "--dry-run"])
    assert "invalid choice: 'fr'" in capsys.readouterr().err


def test_present_lang_ko_serves_the_korean_page(capsys, monkeypatch):
    monkeypatch.delenv("SOFTMAX_COURSE_LANG", raising=False)
    assert cli.main(["present", "temperature", "--dry-run", "--lang", "ko"]) == 0
    notebook = Path(shlex.split(capsys.readouterr().out)[4])
    assert notebook.parts[-2:] == ("ko", "temperature.ipynb") and notebook.is_file()
    assert "set_language(\"ko\")" in notebook.read_text(encoding="utf-8").replace("\\\"", "\"")
    assert cli.main(["present", "temperature", "--dry-run"]) == 0
    english = Path(shlex.split(capsys.readouterr().out)[4])
    assert english.parent.name == "presentations"
