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
import shutil
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("playwright.sync_api")
if shutil.which("chromium") is None:
    pytest.skip("Chromium is not installed (apt-get install -y chromium)", allow_module_level=True)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_browser import browser_page, lab_server  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
LESSON = ROOT / "notebooks" / "07_rl_policies.ipynb"


def opened_modified(page, url):
    """Open ``url`` (a notebook in JupyterLab), wait for its kernel, and tell whether its tab
    is marked modified a few seconds later."""
    page.goto(url)
    status = page.locator("#jp-main-statusbar")
    status.get_by_text(re.compile(r"\|\s*Idle")).wait_for()
    time.sleep(3)  # the metadata update follows the kernel's info reply
    tab = page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.jp-mod-current")
    tab.wait_for()
    return "jp-mod-dirty" in (tab.get_attribute("class") or "")


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
    with lab_server(tmp_path) as (url, base, token), browser_page() as page:
        course = tmp_path / "course" / "notebooks"
        old = json.loads(LESSON.read_text(encoding="utf-8"))
        old["metadata"]["language_info"] = {"name": "python"}     # what was stored before
        (course / "old_metadata.ipynb").write_text(json.dumps(old), encoding="utf-8")
        stored = opened_modified(page, url)
        page.screenshot(path=str(tmp_path / "lesson.png"))
        minimal = opened_modified(page, f"{base}/lab/tree/notebooks/old_metadata.ipynb?token={token}")
        page.screenshot(path=str(tmp_path / "old.png"))
    assert minimal, "the control (minimal metadata) should be marked modified"
    assert not stored, "the stored lesson opened marked modified"
