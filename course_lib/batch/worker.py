"""The per-submission worker: runs *inside* the sandbox, and only plain data comes out.

The grader (:mod:`.notebook`) starts ``python -m course_lib.batch.worker`` in a sandbox of its
own (:mod:`.isolation`) and writes one request on its standard input: the repaired notebook, the
time limits, the grader's calls (each exercise's public and hidden tests, arguments as ``.npy``
bytes or JSON, never pickle) and a one-time key. The worker then

1. makes itself non-dumpable (``prctl(PR_SET_DUMPABLE, 0)``): the kernel it starts runs as the
   same user, but may not ptrace it or read its memory, descriptors or environment through
   ``/proc``; so the key and the result channel stay out of the student's reach;
2. keeps its standard output as the private result channel (close-on-exec, so no child inherits
   it) and points its standard streams at ``/dev/null``: nothing a notebook prints reaches the
   instructor's terminal;
3. confines itself with Landlock (a second layer inside bubblewrap; the only one in the fallback);
4. runs the notebook's cells in a fresh kernel with nbclient (a limit per cell and one for the
   whole notebook), then, for each exercise, sends the calls into the kernel with per-call
   nonces created only now, after the student's code has run, and calls the functions there
   (:func:`course_lib.grading.run.run_requests`, its source sent as is);
5. checks the outcome channel: exactly one outcome per call, in order, each carrying its call's
   nonce; anything else (extra, missing or reordered lines, a wrong nonce) marks that exercise
   as tampered;
6. shuts the kernel down and writes one JSON document, authenticated with the key (HMAC-SHA256),
   to the result channel.

The grader judges the outcomes in its own process (:func:`course_lib.grading.exercise.judge`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import inspect
import io
import json
import os
import re
import sys
import time

MAX_RESULT_BYTES = 64 * 2**20        # one value sent back by the kernel
_PR_SET_DUMPABLE = 4


def _(message: str) -> str:
    """``message`` in the submission's language (the sandbox's ``SOFTMAX_COURSE_LANG``)."""
    from course_lib.i18n import gettext

    return gettext(message)


def _no_dumps() -> None:
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
        except (OSError, AttributeError):
            pass


def npy_bytes(value) -> str:
    """An array as base64 ``.npy`` bytes (never pickle)."""
    import numpy as np

    buffer = io.BytesIO()
    np.save(buffer, np.asarray(value), allow_pickle=False)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def from_npy_bytes(text: str):
    import numpy as np

    data = base64.b64decode(text.encode("ascii"), validate=True)
    if len(data) > MAX_RESULT_BYTES:
        raise ValueError(f"larger than {MAX_RESULT_BYTES // 2**20} MB")
    return np.load(io.BytesIO(data), allow_pickle=False)


def sign(key: bytes, body: bytes) -> bytes:
    return hmac.new(key, body, hashlib.sha256).hexdigest().encode("ascii")


# --- the kernel ----------------------------------------------------------------------------------
def _client_class():
    from nbclient import NotebookClient

    class QuietClient(NotebookClient):
        """Keeps only error outputs: printed text and figures never pile up in the worker."""

        def output(self, outs, msg, display_id, cell_index):
            if msg.get("msg_type") != "error":
                return None
            return super().output(outs, msg, display_id, cell_index)

    return QuietClient


def _kernel_manager():
    """A kernel manager whose kernel runs this Python (already confined: it inherits it all)."""
    import ipykernel.kernelspec
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager

    class ThisPython(KernelSpecManager):
        def get_kernel_spec(self, kernel_name):
            spec = ipykernel.kernelspec.get_kernel_dict()
            spec["argv"] = [sys.executable] + spec["argv"][1:]
            return self.kernel_spec_class(resource_dir=ipykernel.kernelspec.RESOURCES, **spec)

    return AsyncKernelManager(kernel_name="python3", kernel_spec_manager=ThisPython())


class Kernel:
    """One kernel session: runs the student's cells, then the grader's calls."""

    def __init__(self, nb, work: str, timeout: float, probe_seconds: float, mode: str = ""):
        self.nb, self.work, self.timeout, self.probe_seconds = nb, work, timeout, probe_seconds
        self.mode = mode
        self.client = _client_class()(
            nb, km=_kernel_manager(), timeout=_whole(timeout), kernel_name="python3",
            allow_errors=True, record_timing=False, store_widget_state=False,
            interrupt_on_timeout=True, iopub_timeout=4,
            error_on_timeout={"ename": "Timeout", "evalue": "", "traceback": []},
            resources={"metadata": {"path": work}},
        )
        self._context = None

    def __enter__(self):
        self._context = self.client.setup_kernel(cwd=self.work, env=dict(os.environ),
                                                 stdout=open(os.devnull, "wb"),
                                                 stderr=open(os.devnull, "wb"))
        self._context.__enter__()
        _first_to_go(self.client.km)
        return self

    def __exit__(self, *exc):
        from jupyter_core.utils import run_sync

        try:
            return self._context.__exit__(*exc)
        except Exception:  # a kernel that is already gone
            return False
        finally:  # nbclient leaves a kernel it does not own running: stop it now
            try:
                run_sync(self.client.km.shutdown_kernel)(now=True)
            except Exception:
                pass

    def run(self, cell, index, timeout=None) -> str:
        """Run one cell: ``"ok"``, ``"error"``, ``"timeout"`` or ``"dead"`` (stuck counts as dead)."""
        from nbclient.exceptions import DeadKernelError

        limit = self.timeout if timeout is None else timeout
        began = time.perf_counter()
        saved, self.client.timeout = self.client.timeout, _whole(limit)
        try:
            self.client.execute_cell(cell, index)
        except DeadKernelError:
            return "dead"
        finally:
            self.client.timeout = saved
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if time.perf_counter() - began >= _whole(limit) and (
                not errors or errors[-1].get("ename") in ("Timeout", "KeyboardInterrupt")):
            return "timeout" if self._answers() else "dead"
        return "error" if errors else "ok"

    def skip_number(self) -> None:
        """Take the execution number of a cell that is not run (one that killed the kernel
        before), so that the cells after it keep the numbers JupyterLab gives them: an error
        raised later in a student's function names its cell as ``cell [k]`` (see
        :func:`course_lib.grading.run.where_raised`)."""
        import nbformat
        from nbclient.exceptions import DeadKernelError

        placeholder = nbformat.v4.new_code_cell("pass")
        self.nb.cells.append(placeholder)
        saved, self.client.timeout = self.client.timeout, _whole(self.probe_seconds)
        try:
            self.client.execute_cell(placeholder, len(self.nb.cells) - 1)
        except DeadKernelError:
            pass
        finally:
            self.client.timeout = saved
            self.nb.cells.pop()

    def _answers(self) -> bool:
        """Does an interrupted kernel take orders again? If not, it is stopped."""
        import nbformat
        from nbclient.exceptions import DeadKernelError

        probe = nbformat.v4.new_code_cell("pass")
        self.nb.cells.append(probe)
        began = time.perf_counter()
        saved, self.client.timeout = self.client.timeout, _whole(self.probe_seconds)
        try:
            self.client.execute_cell(probe, len(self.nb.cells) - 1, store_history=False)
        except DeadKernelError:
            return False
        finally:
            self.client.timeout = saved
            self.nb.cells.pop()
        if time.perf_counter() - began < _whole(self.probe_seconds):
            return True
        from jupyter_core.utils import run_sync

        try:  # it ignores interrupts: stop it (the caller restarts it)
            run_sync(self.client.km.shutdown_kernel)(now=True)
        except Exception:
            pass
        return False


def _whole(seconds) -> int:
    """nbclient counts its timeouts in whole seconds: round up, at least 1."""
    import math

    return max(1, math.ceil(seconds))


def _first_to_go(km) -> None:
    """Make the kernel (and what it starts) the out-of-memory killer's first choice, so that a
    notebook that exhausts its sandbox's memory takes itself down, not the worker."""
    pid = getattr(getattr(km, "provisioner", None), "pid", None)
    try:
        with open(f"/proc/{int(pid)}/oom_score_adj", "w") as f:
            f.write("1000")
    except (OSError, TypeError, ValueError):
        pass


class _Clean:
    """Error text without the sandbox's paths."""

    def __init__(self, home: str):
        self.home = home.rstrip("/")

    def __call__(self, text: str) -> str:
        text = text.replace(self.home + "/notebook/", "").replace(self.home + "/notebook", ".")
        text = text.replace(self.home, "~")
        return re.sub(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-_]|[\x00-\x08\x0b-\x1f\x7f-\x9f]", "", text)


def _error_text(cell, clean) -> str:
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            evalue = clean(str(out.get("evalue", ""))).strip().splitlines()
            message = evalue[0][:200] if evalue else ""
            return f"{out.get('ename')}: {message}".rstrip(": ")
    return ""


def cell_label(position: int) -> str:
    """A code cell as JupyterLab numbers it after *Restart Kernel and Run All Cells*: ``[k]``
    for the k-th non-empty code cell (empty cells get no number there either)."""
    return _("cell [{number}]").format(number=position)


# --- a whole run ---------------------------------------------------------------------------------
def run(request: dict) -> dict:
    """Run the notebook and the grader's calls; return what the grader needs, as plain data."""
    import nbformat

    home = request["home"]
    clean = _Clean(home)
    work = os.path.join(home, "notebook")
    nb = nbformat.from_dict(request["notebook"])
    timeout = float(request["timeout"])
    limit = float(request["notebook_timeout"])
    deadline = None  # set when the first cell starts: a slow kernel start is not the notebook's
    reply = {"status": "graded", "message": "", "notes": [], "cell_errors": [], "exercises": {}}
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.source.strip()]
    label = {index: cell_label(k) for k, index in enumerate(code, 1)}
    skip, pending, reported = set(), list(request["exercises"]), set()
    out_of_time = False
    for attempt in (1, 2):
        died = None
        with Kernel(nb, work, timeout, float(request.get("probe_seconds", 10.0)),
                    request.get("mode", "")) as kernel:
            for index in code:
                if out_of_time:
                    continue
                if index in skip:
                    kernel.skip_number()
                    continue
                if deadline is None:
                    deadline = time.monotonic() + limit
                left = deadline - time.monotonic()
                if left <= 0:
                    out_of_time = True
                    reply["notes"].append(_(
                        "the notebook ran longer than {seconds} s: its cells from {cell} on "
                        "were not run").format(seconds=f"{limit:g}", cell=label[index]))
                    continue
                state = kernel.run(nb.cells[index], index, timeout=min(timeout, max(left, 0.5)))
                if state == "dead":
                    died = index
                    break
                if state == "timeout" and left < timeout:
                    out_of_time = True
                    reply["notes"].append(_(
                        "the notebook ran longer than {seconds} s: {cell} was interrupted and "
                        "the cells after it were not run").format(seconds=f"{limit:g}",
                                                                  cell=label[index]))
                    continue
                if index in reported:
                    continue
                reported.add(index)
                if state == "timeout":
                    reply["cell_errors"].append(_(
                        "{cell}: ran longer than {seconds} s and was interrupted").format(
                            cell=label[index], seconds=f"{timeout:g}"))
                elif state == "error":
                    reply["cell_errors"].append(f"{label[index]}: "
                                                f"{_error_text(nb.cells[index], clean)}")
            if died is not None:
                skip.add(died)
                reply["cell_errors"].append(_(
                    "{cell}: the kernel died or stopped answering while it ran").format(
                        cell=label[died]))
            else:
                while pending:
                    exercise = pending.pop(0)
                    result, state = _call_in_kernel(kernel, exercise, work, timeout)
                    reply["exercises"][exercise["name"]] = result
                    if state == "dead":
                        result["lost"] = _("calling {name} killed the kernel").format(
                            name=exercise["name"])
                        died = "call"
                        break
        if died is None:
            break
        if attempt == 1:
            if died == "call":
                reply["notes"].append(_(
                    "calling {name} killed the kernel; it was restarted once and the notebook "
                    "run again").format(name=exercise["name"]))
            else:
                reply["notes"].append(_(
                    "the kernel died in {cell}; it was restarted once and the notebook run "
                    "again without {cell}").format(cell=label[died]))
    else:
        for exercise in pending:
            reply["exercises"].setdefault(exercise["name"], {"outcomes": [], "lost": _(
                "the kernel died twice, so it could not be graded")})
        if not any(e.get("outcomes") for e in reply["exercises"].values()):
            reply["status"], reply["message"] = "kernel died", _("twice; nothing could be graded")
    return reply


def _write_argument(spec, folder, stem) -> dict:
    if "npy64" in spec:
        with open(os.path.join(folder, stem + ".npy"), "wb") as f:
            f.write(base64.b64decode(spec["npy64"]))
        return {"npy": stem + ".npy"}
    return {"json": spec["json"]}


def _call_in_kernel(kernel, exercise, work, timeout):
    """Send one exercise's calls into the kernel, with fresh nonces; read back what came out.

    Returns ``({"outcomes": [...], "missing": bool, "lost": str|None, "tampered": str|None},
    cell state)``.
    """
    import nbformat

    from course_lib.grading import run as run_module

    folder = os.path.join(work, f".grading-{os.urandom(8).hex()}")
    os.mkdir(folder, 0o700)
    calls, expected = [], []
    for call in exercise["calls"]:
        cid = f"{call['id']}-{os.urandom(8).hex()}"  # the nonce: made now, after the cells ran
        expected.append((call["id"], cid))
        calls.append({
            "id": cid, "function": exercise["name"], "parts": list(call.get("parts", [])),
            "args": [_write_argument(a, folder, f"{cid}.a{i}") for i, a in enumerate(call["args"])],
            "kwargs": {k: _write_argument(v, folder, f"{cid}.k{k}")
                       for k, v in call["kwargs"].items()},
        })
    with open(os.path.join(folder, "request.json"), "w", encoding="utf-8") as f:
        json.dump({"calls": calls}, f)
    code = (
        "def __softmax_course_grade():\n"
        "    __ns = {'__name__': 'softmax_course_grading'}\n"
        f"    exec({inspect.getsource(run_module)!r}, __ns)\n"
        f"    __ns['run_requests'](globals(), {folder!r})\n"
        "__softmax_course_grade()\n"
        "del __softmax_course_grade\n"
    )
    cell = nbformat.v4.new_code_cell(code)
    kernel.nb.cells.append(cell)  # the grader's own cell, run after the student's, then removed
    try:
        state = kernel.run(cell, len(kernel.nb.cells) - 1, timeout=timeout)
    finally:
        kernel.nb.cells.pop()
    stopped = _freeze(kernel.mode)  # nothing else in the sandbox runs while the outcomes are read
    try:
        result = read_outcomes(folder, expected, interrupted=state in ("timeout", "dead"))
    finally:
        _thaw(stopped)
    if state == "timeout":
        result["lost"] = _("the grader's calls of {name} ran longer than {seconds} s and were "
                           "interrupted").format(name=exercise["name"], seconds=f"{timeout:g}")
    return result, state


def _others(mode) -> set:
    """Every other process of the sandbox: all but PID 1 (bubblewrap) and this one in its PID
    namespace; in the fallback, this worker's descendants and the members of its cgroup."""
    import signal  # noqa: F401

    me, table = os.getpid(), {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as f:
                    stat = f.read()
                table[int(name)] = int(stat[stat.rindex(")") + 2:].split()[1])
            except (OSError, ValueError):
                continue
    if mode == "bubblewrap":
        return set(table) - {1, me}
    found, frontier = set(), {me}
    while frontier:
        frontier = {p for p, ppid in table.items() if ppid in frontier and p not in found}
        found |= frontier
    try:
        with open("/proc/self/cgroup") as f:
            for line in f:
                _, controllers, path = line.strip().split(":", 2)
                if "pids" in controllers.split(",") and path != "/":
                    with open(f"/sys/fs/cgroup/pids{path}/cgroup.procs") as procs:
                        found |= {int(x) for x in procs.read().split()}
    except (OSError, ValueError):
        pass
    return found - {me}


def _freeze(mode) -> set:
    """Stop (SIGSTOP) every other process of the sandbox, until the set no longer grows."""
    import signal

    stopped = set()
    if not sys.platform.startswith("linux"):
        return stopped
    for _ in range(20):
        todo = _others(mode) - stopped
        if not todo:
            break
        for pid in todo:
            try:
                os.kill(pid, signal.SIGSTOP)
            except OSError:
                pass
        stopped |= todo
    return stopped


def _thaw(stopped) -> None:
    import signal

    for pid in stopped:
        try:
            os.kill(pid, signal.SIGCONT)
        except OSError:
            pass


def read_outcomes(folder, expected, *, interrupted=False) -> dict:
    """Read what the kernel wrote, and check it is exactly one outcome per call.

    ``expected`` lists ``(test name, id with nonce)`` in the order of the calls. The file must
    hold one line per call, in that order, each with its call's id; fewer lines only when the
    calls were interrupted (the last one may then be cut short). Values must be the ``.npy``
    files named after their call.
    """
    result = {"outcomes": [], "missing": False, "lost": None, "tampered": None}
    path = os.path.join(folder, "outcomes.jsonl")
    try:
        if os.stat(path).st_size > MAX_RESULT_BYTES:
            result["tampered"] = "the outcome file is too large"
            return result
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        if not interrupted:
            result["tampered"] = "the outcome file was removed"
        return result
    except (OSError, UnicodeDecodeError):
        result["tampered"] = "the outcome file cannot be read"
        return result
    if len(lines) > len(expected):
        result["tampered"] = (f"{len(lines)} outcomes for {len(expected)} calls: something "
                              "else wrote into the grader's channel")
        return result
    if len(lines) < len(expected) and not interrupted:
        result["tampered"] = f"{len(lines)} outcomes for {len(expected)} calls"
        return result
    missing = []
    for n, (line, (test, cid)) in enumerate(zip(lines, expected)):
        try:
            item = json.loads(line)
            ok = isinstance(item, dict) and item.get("id") == cid and isinstance(
                item.get("outcome"), dict)
        except ValueError:
            if interrupted and n == len(lines) - 1:
                break  # the line being written when the interrupt came
            ok = False
        if not ok:
            result["tampered"] = f"outcome {n + 1} does not answer the call it should"
            result["outcomes"] = []
            return result
        data = item["outcome"]
        missing.append(bool(data.get("missing")))
        if data.get("missing"):
            continue
        outcome = {k: data.get(k) for k in ("error", "not_implemented", "mutated")}
        for key, value in data.items():  # fields a newer checker adds (``delegated``, ...)
            if key not in ("value", "error", "not_implemented", "mutated", "missing") and \
                    isinstance(value, (str, bool, int, float, type(None))):
                outcome[key] = value
            elif key == "library_calls" and isinstance(value, list) and len(value) <= 64 and \
                    all(isinstance(v, str) and len(v) <= 200 for v in value):
                outcome[key] = tuple(value)  # what the call used (the checker's delegation test)
        stored = data.get("value")
        try:
            if isinstance(stored, str):
                if stored != f"{cid}.out.npy":
                    raise ValueError("an unexpected file name")
                outcome["value"] = _npy_file(folder, stored)
            elif isinstance(stored, list):
                if stored != [f"{cid}.out{i}.npy" for i in range(len(stored))]:
                    raise ValueError("unexpected file names")
                outcome["value"] = [_npy_file(folder, s) for s in stored]
            else:
                outcome["value"] = None
        except (OSError, ValueError) as exc:
            outcome["value"] = None
            outcome["error"] = "NotNumbers: " + _("the result could not be read back ({error})").format(
                error=exc)
        result["outcomes"].append({"test": test, "outcome": outcome})
    if missing and all(missing):
        result["missing"] = True
    elif any(missing):
        result["tampered"] = "the function was there for some calls and not for others"
        result["outcomes"] = []
    return result


def _npy_file(folder, name) -> str:
    import numpy as np

    path = os.path.join(folder, os.path.basename(name))
    if os.stat(path).st_size > MAX_RESULT_BYTES:
        raise ValueError(f"larger than {MAX_RESULT_BYTES // 2**20} MB")
    np.load(path, allow_pickle=False)  # it must read as an array, without pickle
    with open(path, "rb") as f:
        return base64.b64encode(f.read()).decode("ascii")


def main() -> None:
    _no_dumps()
    request = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    key = base64.b64decode(request.pop("key"))
    channel = os.dup(1)
    os.set_inheritable(channel, False)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    from course_lib.batch import sandbox

    abi = sandbox.confine(request["writable"], request.get("protected", ()))
    try:
        reply = run(request)
    except Exception as exc:  # the worker's own failure: the grader makes it a row
        reply = {"status": "could not run", "message": f"{type(exc).__name__}: {exc}"[:300],
                 "notes": [], "cell_errors": [], "exercises": {}}
    reply["landlock"] = abi
    body = json.dumps(reply).encode("utf-8")
    with os.fdopen(channel, "wb") as out:
        out.write(sign(key, body) + b"\n" + body + b"\n")


if __name__ == "__main__":
    main()
