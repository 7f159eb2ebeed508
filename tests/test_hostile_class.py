"""A hostile class, graded in one batch per sandbox mode: every honest student keeps full marks,
no cheat scores, nothing a notebook started survives the batch, the originals stay byte- and
metadata-identical, and the grader never dies.

The notebooks are generated here (lesson 01, exercise ``softmax``: small, so that kernels start
fast). Each mode's class is graded once, by the command line in a child process (a module-scoped
fixture), and the tests read what it wrote:

* ``bubblewrap``: every attack below. Skipped only where bubblewrap cannot make a sandbox on
  this machine; ``CI=true`` (set by ``.ci/run``) or ``SOFTMAX_COURSE_REQUIRE_BWRAP=1`` turns that
  skip into a failure.
* ``fallback`` (forced with ``--sandbox fallback``): what the fallback promises. It cannot hide
  the grader's processes, so the attacks that kill processes by pid (the grader, classmates, or
  everything) and the metadata writes on a classmate's original (Landlock does not cover
  metadata) are left out of its class; ``docs/grading-threat-model.md`` says so.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import nbformat
import pytest

from course_lib.batch import isolation
from course_lib.grading import EXERCISES
from course_lib.grading.result import CheckResult

TIMEOUT = 8
JOBS = 2
SECRET = "hunter2-softmax-course-secret"
TOKEN = f"HOSTILE{os.getpid()}X"  # in every command line a hostile notebook starts
MEMORY = 512 * 2**20             # each sandbox's memory in these batches (cgroup)

HONEST = """
import numpy as np

def softmax(z):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max())
    return e / e.sum()
"""
# the grader's checker, once it has the field (checker v2): an answer that only re-exports the
# library's softmax scores 0 and says so
CHECKER_FLAGS_DELEGATION = "delegated" in {f.name for f in dataclasses.fields(CheckResult)}
LESSON_01 = [n for n, e in EXERCISES.items() if e.lesson == "01"]  # the notebooks answer softmax
MAX = sum(EXERCISES[n].points for n in LESSON_01)


def _nb(*sources, raw=False):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(textwrap.dedent(s)) for s in sources]
    return nb


def _quiet(code):
    """Run ``code`` and swallow whatever it raises (an attack that fails is fine)."""
    return "try:\n" + textwrap.indent(textwrap.dedent(code), "    ") + "\nexcept BaseException:\n    pass\n"


def _attacks(folder: Path, victim: Path) -> dict:
    """Hostile notebooks: name -> (notebook, expected points or None, modes it runs in)."""
    both, bwrap = ("bubblewrap", "fallback"), ("bubblewrap",)
    kill_grader = _quiet(f"""
        import os, signal
        targets = {{{os.getpid()}}}  # the test's own process: it knows the grader's pid
        for pid in os.listdir('/proc'):
            if pid.isdigit():
                cmd = open(f'/proc/{{pid}}/cmdline', 'rb').read()
                if b'course_lib' in cmd and b' grade' in cmd.replace(b'\\0', b' '):
                    targets.add(int(pid))
        for pid in targets:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
    """)
    kill_all = _quiet("""
        import os, signal
        for pid in os.listdir('/proc'):
            if pid.isdigit() and int(pid) != os.getpid():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except OSError:
                    pass
    """)
    kill_siblings = _quiet("""
        import os, signal
        for pid in os.listdir('/proc'):
            if pid.isdigit() and int(pid) != os.getpid():
                try:
                    if b'ipykernel' in open(f'/proc/{pid}/cmdline', 'rb').read():
                        os.kill(int(pid), signal.SIGKILL)
                except OSError:
                    pass
    """)
    # only the grader's own sandboxes are targets (this machine may run other kernels)
    drive = _quiet("""
        import glob, json, os
        from ipykernel import get_connection_file
        from jupyter_client import BlockingKernelClient
        own = os.path.realpath(get_connection_file())
        found = []
        for pattern in ('/tmp/softmax-course-grade-*/*/home/**/*.json', '/home/**/*.json',
                        os.path.expanduser('~') + '/../../*/home/**/*.json'):
            try:
                found += glob.glob(pattern, recursive=True)
            except OSError:
                pass
        for path in found:
            try:
                if os.path.realpath(path) == own:
                    continue
                info = json.load(open(path))
                if not {'key', 'shell_port', 'signature_scheme'} <= set(info):
                    continue
                kc = BlockingKernelClient(connection_file=path)
                kc.load_connection_file()
                kc.start_channels()
                kc.execute('def softmax(z):\\n    return z * 0')
                kc.stop_channels()
            except BaseException:
                pass
    """)
    daemons = _quiet(f"""
        import os, subprocess, sys, time
        sleeper = [sys.executable, '-c', 'import time; time.sleep(300)', '{TOKEN}']
        subprocess.Popen(['setsid', 'nohup'] + sleeper, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
        subprocess.Popen(sleeper, start_new_session=True, env={{}})
        if os.fork() == 0:            # a classic double fork
            os.setsid()
            if os.fork() == 0:
                os.execv(sys.executable, sleeper)
            os._exit(0)
        time.sleep(0.5)
    """)
    forkbomb = f"""
import os, time
FORKS = 0
for _ in range(1500):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        try:
            os.execv('/bin/sleep', ['sleep', '300', '{TOKEN}'])
        finally:
            os._exit(0)
    FORKS += 1
"""
    forkbomb_check = HONEST + "\n_right = softmax\n\ndef softmax(z):\n    " \
        "return _right(z) if FORKS < 1000 else np.zeros(np.shape(z))\n"
    membomb = _quiet("""
        import os, time
        for _ in range(6):
            if os.fork() == 0:
                try:
                    block = bytearray(200 * 2**20)
                    block[::4096] = b'x' * len(block[::4096])
                    time.sleep(300)
                finally:
                    os._exit(0)
        time.sleep(3)
    """)
    metadata = _quiet(f"""
        import os
        path = {str(victim)!r}
        for attack in (lambda: os.chmod(path, 0o777), lambda: os.utime(path, (0, 0)),
                       lambda: os.chown(path, 4242, 4242),
                       lambda: os.setxattr(path, 'user.hacked', b'1')):
            try:
                attack()
            except OSError:
                pass
    """)
    env = HONEST + f"""
import os
_right = softmax
_seen = any({SECRET!r} in v for v in os.environ.values())

def softmax(z):
    return np.zeros(np.shape(z)) if _seen else _right(z)
"""
    # the grader's environment through /proc: hidden by bubblewrap; the fallback's sandbox may
    # run as the grader's user, which can read it
    env_proc = HONEST + f"""
import os
_right = softmax
_seen = False
for _pid in os.listdir('/proc'):
    try:
        _seen |= {SECRET!r}.encode() in open(f'/proc/{{_pid}}/environ', 'rb').read()
    except OSError:
        pass

def softmax(z):
    return np.zeros(np.shape(z)) if _seen else _right(z)
"""
    stdout = _quiet("""
        import os, sys
        print('\\x1b[2J\\x1b[H\\rgraded 999 of 999 submissions in 0.1 s')
        os.write(1, b'\\x1b[31mgraded 999 of 999\\n')
        os.write(2, b'\\x1b[31mgraded 999 of 999\\n')
        sys.__stdout__.write('graded 999 of 999\\n')
        open('/dev/tty', 'w').write('graded 999 of 999\\n')
    """)
    forge = """
import glob, json, os, threading, time
import numpy as np
from course_lib.softmax import softmax as _reference

def softmax(z):
    return np.zeros(np.shape(z))

def _forge():
    done = set()
    while True:
        for request in glob.glob('.grading-*/request.json'):
            folder = os.path.dirname(request)
            try:
                calls = json.load(open(request))['calls']
                out = os.path.join(folder, 'outcomes.jsonl')
                for c in calls:
                    a = [np.load(os.path.join(folder, x['npy'])) if 'npy' in x else x['json']
                         for x in c['args']]
                    name = c['id'] + '.out.npy'
                    np.save(os.path.join(folder, name), _reference(*a))
                    if (folder, c['id']) not in done and os.path.exists(out):
                        with open(out, 'a') as f:
                            f.write(json.dumps({'id': c['id'], 'outcome': {
                                'value': name, 'error': None, 'not_implemented': False,
                                'mutated': False}}) + '\\n')
                        done.add((folder, c['id']))
            except Exception:
                pass
        time.sleep(0.001)

threading.Thread(target=_forge, daemon=True).start()
"""
    poison = HONEST + '\n# check("logsumexp", softmax)\ncheck_me = \'check("stable_softmax", f)\'\n'
    return {
        "01_kill_grader": (_nb(kill_grader, HONEST), 2.0, bwrap),
        "01_kill_all": (_nb(kill_all, HONEST), None, bwrap),
        "01_kill_siblings": (_nb(kill_siblings, HONEST), 2.0, bwrap),
        "01_drive_siblings": (_nb(drive, HONEST), 2.0, both),
        "01_daemons": (_nb(daemons, HONEST), 2.0, both),
        "01_forkbomb": (_nb(forkbomb, forkbomb_check), 2.0, both),
        "01_membomb": (_nb(membomb, HONEST), None, both),
        "01_metadata": (_nb(metadata, HONEST), 2.0, bwrap),
        "01_env": (_nb(env), 2.0, both),
        "01_env_proc": (_nb(env_proc), 2.0, bwrap),
        "01_stdout": (_nb(stdout, HONEST), 2.0, both),
        "01_delegate": (_nb("from course_lib.softmax import softmax"), None, both),
        "01_forge": (_nb(forge), 0.0, both),
        "01_poison": (_nb(poison), 2.0, both),
    }


def _class(folder: Path, mode: str) -> dict:
    """Write the class; return file -> expected points (None: checked by its own test)."""
    expected = {}
    for who in ("honest_a", "honest_m", "honest_z"):
        path = folder / f"01_{who}.ipynb"
        nbformat.write(_nb(HONEST), path)
        expected[path] = 2.0
    victim = folder / "01_honest_a.ipynb"
    for name, (nb, points, modes) in _attacks(folder, victim).items():
        if mode in modes:
            path = folder / f"{name}.ipynb"
            nbformat.write(nb, path)
            expected[path] = points
    # id collisions: the same name in two folders, and a name that differs only in case
    for sub, source in (("one", HONEST), ("two", "def softmax(z):\n    return z")):
        (folder / sub).mkdir()
        nbformat.write(_nb(source), folder / sub / "01_twin.ipynb")
    expected[folder / "one" / "01_twin.ipynb"] = 2.0
    expected[folder / "two" / "01_twin.ipynb"] = 0.0
    nbformat.write(_nb(HONEST), folder / "01_TWIN.ipynb")
    expected[folder / "01_TWIN.ipynb"] = 2.0
    # inputs that crashed the batch, and a repairable one
    (folder / "01_deep.ipynb").write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    expected[folder / "01_deep.ipynb"] = 0.0
    (folder / ("01_" + "x" * 240 + ".ipynb")).write_text(json.dumps(_nb(HONEST)),
                                                         encoding="utf-8")
    expected[folder / ("01_" + "x" * 240 + ".ipynb")] = 2.0
    broken = json.loads(json.dumps(_nb("import numpy as np", HONEST)))
    broken["cells"][0]["metadata"] = None
    broken["cells"][1]["outputs"] = None
    (folder / "01_null_metadata.ipynb").write_text(json.dumps(broken), encoding="utf-8")
    expected[folder / "01_null_metadata.ipynb"] = 2.0
    return expected


def _state(path: Path):
    st = os.stat(path)
    try:
        xattrs = {a: os.getxattr(path, a) for a in os.listxattr(path)}
    except OSError:
        xattrs = None
    return path.read_bytes(), st.st_mode, st.st_uid, st.st_gid, st.st_mtime_ns, xattrs


def _survivors(sandbox_ids) -> list:
    """Processes the class started that are still running: the token in their command line,
    one of the batch's sandbox markers in their environment, or a sandbox slot's user."""
    markers = [f"SOFTMAX_COURSE_SANDBOX_ID={i}".encode() for i in sandbox_ids if i]
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmd = Path(entry.path, "cmdline").read_bytes()
            env = Path(entry.path, "environ").read_bytes()
            uid = os.stat(entry.path).st_uid
        except OSError:
            continue
        # a slot's user whose environment names another batch's sandbox runs a sandbox of
        # another grader (another test file's, at the same time): not this class's
        foreign = b"SOFTMAX_COURSE_SANDBOX_ID=" in env and not any(m in env for m in markers)
        if TOKEN.encode() in cmd or any(m in env for m in markers) or (
                isolation.SANDBOX_UID_BASE <= uid < isolation.SANDBOX_UID_BASE + 64
                and not foreign):
            found.append((int(entry.name), cmd[:80]))
    return found


def _kernels() -> set:
    """The sandboxes (their ``SOFTMAX_COURSE_SANDBOX_ID``) with a kernel process running now.
    A kernel's forks (the memory bomb's) carry the same marker: they are not counted twice."""
    found = set()
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            if b"ipykernel" not in Path(entry.path, "cmdline").read_bytes():
                continue
            env = Path(entry.path, "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        found |= {v.split(b"=", 1)[1].decode() for v in env
                  if v.startswith(b"SOFTMAX_COURSE_SANDBOX_ID=")}
    return found


@pytest.fixture(scope="module", params=["bubblewrap", "fallback"])
def batch(request, tmp_path_factory):
    mode = request.param
    protection = isolation.protection("auto" if mode == "bubblewrap" else "fallback")
    if protection.mode != mode:
        if os.environ.get("SOFTMAX_COURSE_REQUIRE_BWRAP") == "1" or os.environ.get("CI") == "true":
            pytest.fail(f"bubblewrap is required here, but {protection.why}")
        pytest.skip(f"no bubblewrap sandbox on this machine: {protection.why}")
    base = tmp_path_factory.mktemp(f"hostile-{mode}")
    folder, out = base / "class", base / "grades"
    folder.mkdir()
    expected = _class(folder, mode)
    files = sorted(expected)
    before = {p: _state(p) for p in files}
    env = {**os.environ, "SOFTMAX_COURSE_TEST_SECRET": SECRET,
           "SOFTMAX_COURSE_SANDBOX_MEMORY": str(MEMORY)}
    samples, stop = [], threading.Event()

    def watch():  # the sandboxes that have a kernel running, every 0.1 s while the batch runs
        while not stop.is_set():
            samples.append(_kernels())
            stop.wait(0.1)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        run = subprocess.run(
            [sys.executable, "-m", "course_lib", "grade", *map(str, files), "--out", str(out),
             "--jobs", str(JOBS), "--timeout", str(TIMEOUT), "--notebook-timeout", "60",
             "--sandbox", mode, "--seed", "5"],
            capture_output=True, env=env, timeout=1200, stdin=subprocess.DEVNULL)
    finally:
        stop.set()
        watcher.join()
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    ids = {s.get("sandbox_id") for s in results["submissions"]} - {None, ""}
    samples = [sample & ids for sample in samples]  # other batches may run on this machine
    survivors = _survivors([s.get("sandbox_id") for s in results["submissions"]])
    rows = list(csv.DictReader((out / "grades.csv").open(encoding="utf-8")))
    by_file = {Path(s["file"]): s for s in results["submissions"]}
    return dict(mode=mode, run=run, out=out, folder=folder, expected=expected, before=before,
                results=results, rows=rows, by_file=by_file, survivors=survivors,
                protection=protection, samples=samples)


def test_the_grader_survives_and_every_file_gets_a_row(batch):
    run = batch["run"]
    assert run.returncode == 0, run.stderr.decode(errors="replace")[-2000:]
    assert set(batch["by_file"]) == set(batch["expected"])
    assert batch["results"]["sandbox"]["mode"] == batch["mode"]
    assert f"sandbox: {batch['protection'].describe()}" in run.stdout.decode()


def test_every_honest_student_keeps_full_marks_and_no_cheat_scores(batch):
    for path, points in batch["expected"].items():
        if points is not None:
            got = batch["by_file"][path]
            assert got["score"] == points, (path.name, got["status"], got["message"],
                                            got["cell_errors"], got["exercises"])


def test_at_most_jobs_kernels_are_alive_at_any_time(batch):
    """Each notebook's kernel ends with its sandbox: sampled while the batch ran, never more
    sandboxes with a kernel than ``--jobs`` (the sampler did see kernels, more than ``--jobs``
    of them over the batch)."""
    assert max(len(s) for s in batch["samples"]) <= JOBS
    assert len(set().union(*batch["samples"])) > JOBS


def test_nothing_the_class_started_survives_the_batch(batch):
    assert batch["survivors"] == []


def test_the_originals_are_untouched(batch):
    for path, state in batch["before"].items():
        now = _state(path)
        assert now[0] == state[0], path.name  # bytes: in every mode
        if batch["mode"] == "bubblewrap":  # mode, owner, mtime, xattrs: not mounted at all
            assert now == state, path.name


def test_a_forged_outcome_channel_scores_0_and_says_tampered(batch):
    forge = batch["by_file"][batch["folder"] / "01_forge.ipynb"]
    assert forge["score"] == 0, (forge["status"], forge["message"], forge["notes"])
    message = forge["exercises"]["softmax"]["message"]
    assert message.startswith("Tampered"), (message, forge["status"], forge["message"],
                                            forge["notes"], forge["seconds"])
    row = next(r for r in batch["rows"] if r["id"] == "01_forge")
    assert "tampered" in row["notes"]


def test_the_instructor_decides_the_exercises_not_a_check_comment(batch):
    """Every file is named 01_*: lesson 01's exercises, and no more (01_poison names lesson 03's
    logsumexp and stable_softmax in a comment and a string)."""
    assert [e["name"] for e in batch["results"]["exercises"]] == LESSON_01
    assert list(batch["rows"][0]) == ["id", *LESSON_01, "total", "max", "status", "notes"]
    assert {r["max"] for r in batch["rows"]} == {f"{MAX:g}"}


def test_ids_are_unique_and_each_page_is_its_own(batch):
    ids = [r["id"] for r in batch["rows"]]
    assert len(ids) == len({i.lower() for i in ids})
    assert all(len(i) <= 60 for i in ids)
    pages = {p.stem.lower() for p in (batch["out"] / "feedback").iterdir()}
    assert pages == {i.lower() for i in ids}
    twins = {Path(s["file"]).parent.name: s for s in batch["results"]["submissions"]
             if Path(s["file"]).name == "01_twin.ipynb"}
    assert twins["one"]["id"] != twins["two"]["id"]
    page = (batch["out"] / "feedback" / f"{twins['two']['id']}.html").read_text(encoding="utf-8")
    assert f"0 / {MAX:g} points" in page


def test_crashing_inputs_are_rows(batch):
    deep = batch["by_file"][batch["folder"] / "01_deep.ipynb"]
    assert deep["status"] == "not a notebook" and "nested too deeply" in deep["message"]
    long = next(s for p, s in batch["by_file"].items() if len(p.name) > 200)
    assert long["status"] == "graded" and len(long["id"]) <= 60


def test_nothing_reaches_the_instructors_terminal(batch):
    """The notebook that prints "graded 999 of 999" with escape codes, on every channel it can,
    writes none of it to the grader's terminal (a submission id's hash may hold "999": that
    alone is not the attack's)."""
    out = batch["run"].stdout + batch["run"].stderr
    assert b"999 of 999" not in out and b"\x1b[2J" not in out and b"\x1b[31m" not in out


def test_fork_and_memory_bombs_stay_within_the_sandbox(batch):
    bomb = batch["by_file"][batch["folder"] / "01_forkbomb.ipynb"]
    assert bomb["score"] == 2.0  # its function says fewer than 1000 forks succeeded
    mem = batch["by_file"][batch["folder"] / "01_membomb.ipynb"]
    assert mem["status"] in ("graded", "kernel died"), mem
    if batch["protection"].cgroup:
        assert 0 < mem["peak_memory_bytes"] <= MEMORY + 2**20


def test_reference_delegation(batch):
    """Before checker v2 (no ``CheckResult.delegated``): the gradebook carries the field as
    null, and the re-export scores what the reference scores. After: 0 points, flagged in the
    notes and in ``results.json``."""
    got = batch["by_file"][batch["folder"] / "01_delegate.ipynb"]
    res = got["exercises"]["softmax"]
    assert "delegated" in res
    row = next(r for r in batch["rows"] if r["id"] == "01_delegate")
    if CHECKER_FLAGS_DELEGATION:
        assert got["score"] == 0 and res["delegated"]
        assert "delegated to" in row["notes"]
    else:
        assert res["delegated"] is None and "delegated" not in row["notes"]


def test_bubblewrap_hides_the_grader_and_the_classmates(batch):
    if batch["mode"] != "bubblewrap":
        pytest.skip("the fallback cannot hide processes (see the module's docstring)")
    for name in ("01_kill_grader", "01_kill_siblings"):
        got = batch["by_file"][batch["folder"] / f"{name}.ipynb"]
        assert got["score"] == 2.0, got
    kill_all = batch["by_file"][batch["folder"] / "01_kill_all.ipynb"]
    assert kill_all["score"] == 0  # it can only take its own worker down


def _venv_through_links(tmp_path):
    """A venv made from a ``python3`` in a folder of links (as ``~/.local/bin`` or a folder of
    shims holds it): ``venv/bin/python -> python3 -> links/python3 -> the real interpreter``."""
    import subprocess

    real = os.path.realpath(sys.executable)
    links = tmp_path / "links"
    links.mkdir()
    (links / "python3").symlink_to(real)
    venv = tmp_path / "venv"
    subprocess.run([str(links / "python3"), "-m", "venv", "--without-pip", str(venv)], check=True)
    return real, links, venv


def test_the_sandbox_recreates_the_links_to_the_interpreter(tmp_path, monkeypatch):
    """The links on the way from a venv's ``python`` to the real interpreter that lie outside
    the folders the sandbox binds are recreated inside, as links; their folders (maybe the
    instructor's own) are not bound; links inside bound folders are left alone."""
    real, links, venv = _venv_through_links(tmp_path)
    monkeypatch.setattr(sys, "executable", str(venv / "bin" / "python"))
    found = isolation._interpreter_links([str(venv)])
    assert (real, str(links / "python3")) in found and all(
        link.startswith(str(links)) for _, link in found)
    assert isolation._interpreter_links([str(tmp_path)]) == []
    monkeypatch.setattr(sys, "prefix", str(venv))
    command = isolation._bwrap_command(str(tmp_path / "work"))
    triples = [command[i:i + 3] for i in range(len(command) - 2)]
    assert ["--symlink", real, str(links / "python3")] in triples
    assert str(links) not in command


def test_bubblewrap_starts_a_venv_whose_python_is_reached_through_a_folder_of_links(
        tmp_path, monkeypatch):
    """The same, for real: bubblewrap starts such a venv's Python (it could not find the
    interpreter inside before, and grading fell back to the weaker sandbox)."""
    import subprocess

    if isolation.protection("auto").mode != "bubblewrap":
        if os.environ.get("SOFTMAX_COURSE_REQUIRE_BWRAP") == "1" or os.environ.get("CI") == "true":
            pytest.fail(f"bubblewrap is required here, but {isolation.protection('auto').why}")
        pytest.skip("no bubblewrap sandbox on this machine")
    real, links, venv = _venv_through_links(tmp_path)
    (tmp_path / "work").mkdir()
    python = str(venv / "bin" / "python")
    monkeypatch.setattr(sys, "executable", python)
    monkeypatch.setattr(sys, "prefix", str(venv))
    monkeypatch.setattr(sys, "exec_prefix", str(venv))
    command = isolation._bwrap_command(str(tmp_path / "work"))
    done = subprocess.run([*command, python, "-c", "import sys; print(sys.prefix)"],
                          capture_output=True, text=True)
    assert (done.returncode, done.stdout.strip()) == (0, str(venv)), done.stderr
