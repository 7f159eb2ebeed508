"""A freshly opened lesson is not marked modified in JupyterLab.

On connecting to its kernel, JupyterLab writes the kernel's ``kernelspec`` and ``language_info``
into the notebook's metadata, and marks the notebook modified when they differ from what was
stored (then asks to save it on closing, and autosave rewrites the file). The course stores what
the kernel announces (course_lib/execute.py). This test opens lesson 07 as stored, and a copy of
it with the old minimal metadata, in JupyterLab in headless Chromium, waits until the kernel is
idle, and looks at each tab's "modified" mark. Skipped without Chromium or Playwright.
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("playwright.sync_api")

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_browser import browser_page, chromium, lab_server  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
LESSON = ROOT / "notebooks" / "07_rl_policies.ipynb"


def opened_modified(page, url, *, within):
    """Open ``url`` (a notebook in JupyterLab), wait for its kernel, and return how many seconds
    after the kernel went idle its tab was marked modified (None: not within ``within`` s)."""
    page.goto(url)
    status = page.locator("#jp-main-statusbar")
    status.get_by_text(re.compile(r"\|\s*Idle")).wait_for()
    # this notebook's own tab (each url opens a workspace of its own, so no tab of another
    # notebook is restored beside it; a loaded machine once showed the control's dirty tab)
    name = url.split("?")[0].rsplit("/", 1)[-1]
    tab = page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.jp-mod-current", has_text=name)
    tab.wait_for()
    start = time.monotonic()  # the metadata update follows the kernel's info reply
    while time.monotonic() - start < within:
        if "jp-mod-dirty" in (tab.get_attribute("class") or ""):
            return time.monotonic() - start
        time.sleep(0.2)
    return None


def test_a_stored_lesson_opens_unmodified_and_old_metadata_would_not(tmp_path, monkeypatch):
    import test_browser
    from course_lib.execute import KERNELSPEC

    def environment(tmp):
        # the kernelspec a learner's environment has (ipykernel's own display name), not the
        # one test_browser writes for the present command
        env = isolated(tmp)
        spec_file = tmp / "jupyter-path" / "kernels" / "python3" / "kernel.json"
        spec = json.loads(spec_file.read_text(encoding="utf-8"))
        spec.update(display_name=KERNELSPEC["display_name"], language=KERNELSPEC["language"])
        spec_file.write_text(json.dumps(spec), encoding="utf-8")
        return env

    isolated = test_browser.isolated_env
    monkeypatch.setattr(test_browser, "isolated_env", environment)
    monkeypatch.setattr(test_browser, "LESSON", LESSON)
    with lab_server(tmp_path) as (url, base, token), browser_page(chromium()) as page:
        course = tmp_path / "course" / "notebooks"
        old = json.loads(LESSON.read_text(encoding="utf-8"))
        old["metadata"]["language_info"] = {"name": "python"}     # what was stored before
        (course / "old_metadata.ipynb").write_text(json.dumps(old), encoding="utf-8")
        # the control first: how long JupyterLab takes here to mark a notebook modified (a
        # loaded machine takes longer); the stored lesson is then given three times as long
        minimal = opened_modified(
            page, f"{base}/lab/workspaces/control/tree/notebooks/old_metadata.ipynb?token={token}",
            within=60)
        page.screenshot(path=str(tmp_path / "old.png"))
        assert minimal is not None, "the control (minimal metadata) should be marked modified"
        stored = opened_modified(
            page, f"{base}/lab/workspaces/lesson/tree/notebooks/{LESSON.name}?token={token}",
            within=max(5.0, 3 * minimal))
        page.screenshot(path=str(tmp_path / "lesson.png"))
    assert stored is None, f"the stored lesson was marked modified {stored:.1f} s after opening"
