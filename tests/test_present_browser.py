"""Lecturer mode leaks no kernel: reloading or leaving the ``present`` page shuts its kernel down;
and ``present --lang ko`` shows the Korean page, its Hangul drawn even without a Korean font.

Each page load of ``softmax-course present`` starts a kernel. The page asks Voila to shut it
down when it unloads; without the ``_xsrf`` cookie (which Voila itself never sets) that request
failed and every reload left a kernel behind. The test opens the page in headless Chromium,
reloads it several times, then leaves it, and counts the server's kernel processes each time.
Skipped when Chromium or Playwright is missing (tests/test_browser.py says how to get them).
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("playwright.sync_api")
psutil = pytest.importorskip("psutil")

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_browser import browser_page, chromium, free_port, isolated_env, stop  # noqa: E402

RELOADS = 2       # each reload starts a kernel that runs the demo: two show the count stays 1
SETTLE = 20.0      # seconds a shut-down kernel's process may take to go (the machine may be loaded)


def kernels(proc):
    """The kernel processes under ``proc`` (the present command, then Voila, then kernels)."""
    try:
        children = psutil.Process(proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    found = []
    for child in children:
        with contextlib.suppress(psutil.Error):
            if "ipykernel_launcher" in " ".join(child.cmdline()):
                found.append(child.pid)
    return found


def settle(proc, wanted, timeout=SETTLE):
    """The kernel count once it is ``wanted`` (or whatever it is after ``timeout``)."""
    deadline = time.monotonic() + timeout
    while True:
        n = len(kernels(proc))
        if n == wanted or time.monotonic() > deadline:
            return n
        time.sleep(0.25)


@contextlib.contextmanager
def present(tmp, *options):
    """``softmax-course present temperature [options]``; yields (process, URL) once the port
    listens (without fetching the page: every fetch of it starts a kernel)."""
    port = free_port()
    log = tmp / "present.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "course_lib", "present", "temperature", "--no-browser",
             "--port", str(port), *options],
            cwd=tmp, env=isolated_env(tmp), stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, log.read_text(errors="replace")
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            assert time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.2)
        yield proc, f"http://127.0.0.1:{port}/", log
    finally:
        stop(proc)


def test_reloading_or_leaving_the_page_leaves_no_kernel_behind(tmp_path):
    with present(tmp_path) as (proc, url, log), browser_page(chromium()) as page:
        assert kernels(proc) == []
        counts = []
        for _ in range(1 + RELOADS):
            page.goto(url)                                    # a reload: a new page, a new kernel
            page.locator(".widget-slider").first.wait_for()
            counts.append(settle(proc, 1))
        assert {c["name"] for c in page.context.cookies()} >= {"_xsrf"}
        page.goto("about:blank")                              # the lecturer leaves
        left = settle(proc, 0)
        text = log.read_text(errors="replace")
    assert counts == [1] * (1 + RELOADS), (counts, text)
    assert left == 0, text
    assert "_xsrf' argument missing" not in text
    assert text.count("Kernel shutdown:") >= 1 + RELOADS


def test_the_korean_page_shows_korean_labels_and_draws_hangul(tmp_path):
    """``present temperature --lang ko``: Korean text, widget labels, buttons and readouts, and
    the page's Korean font loaded (this machine may have none of its own)."""
    with present(tmp_path, "--lang", "ko") as (proc, url, log), \
            browser_page(chromium()) as page:
        page.goto(url)
        page.locator(".widget-slider").first.wait_for()
        draw = page.locator("button", has_text="다시 뽑기")
        draw.wait_for()
        heading = page.locator("h1").first.inner_text()
        labels = page.locator(".widget-label").all_inner_texts()
        buttons = page.locator("button").all_inner_texts()
        readouts = page.locator(".widget-html-content").all_inner_texts()
        # the browser fetches the font only for Hangul that its own fonts lack
        fonts = page.evaluate("""() => ["h1", "h2", "p", ".widget-label", ".widget-html-content",
            "button"].map(s => getComputedStyle(document.querySelector(s)).fontFamily)""")
        loaded = page.evaluate("""async () => {
            const faces = await document.fonts.load('16px "softmax-course Hangul"', '온도');
            return faces.map(f => f.status); }""")
        page.goto("about:blank")
    assert heading.startswith("온도(temperature)"), heading
    assert {"온도 τ", "로짓", "왼쪽 τ", "오른쪽 τ"} <= set(labels), labels
    assert "초기화" in buttons and "Reset" not in buttons, buttons
    assert any(r.startswith("τ = 1") and "엔트로피 H = " in r and "최대 확률 p = " in r
               for r in readouts), readouts
    assert any("처음 뽑힌 토큰: 바닥 매트" in r for r in readouts), readouts
    assert loaded == ["loaded"]
    assert all("softmax-course Hangul" in f for f in fonts), fonts   # headings, text, widgets
    assert page.external == []
