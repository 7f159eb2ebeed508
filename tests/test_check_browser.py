"""``check``'s result is readable in JupyterLab's dark and light themes (headless Chromium).

Its headline used to take the status colour as text colour: a pass's fixed green and the
dark theme's red fall below WCAG's 4.5:1 on the dark theme's near-black, the light theme's
orange below it on white. The status colour now marks only the bar on the left (3:1 is the
minimum for such a mark); the text keeps the theme's font colour. The test shows a check of
each status in each theme and measures both. Skipped without Chromium or Playwright.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

pytest.importorskip("playwright.sync_api")

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_browser import browser_page, chromium, lab_server  # noqa: E402
from test_widgets_browser import CONTRAST_JS, demo_notebook  # noqa: E402

CHECKS = '''import numpy as np
from course_lib.grading import check

def right(z):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max())
    return e / e.sum()

def no_max_trick(z):
    e = np.exp(np.asarray(z, dtype=float))
    return e / e.sum()

def unfinished(z):
    raise NotImplementedError("softmax: replace this line with your code")

for f in (right, no_max_trick, unfinished):
    check("softmax", f)
check("softmax", "not a function")
'''

# the bar's colour against the page behind it (the same walk as CONTRAST_JS, for the border)
BAR_JS = CONTRAST_JS.replace("getComputedStyle(el).color", "getComputedStyle(el).borderLeftColor")


@pytest.mark.parametrize("theme", ["JupyterLab Dark", "JupyterLab Light"])
def test_check_results_are_readable_in_both_themes(tmp_path, monkeypatch, theme):
    import test_browser

    settings = tmp_path / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "themes.jupyterlab-settings").write_text(json.dumps({"theme": theme}))
    monkeypatch.setattr(test_browser, "LESSON", demo_notebook(tmp_path, CHECKS))
    with lab_server(tmp_path) as (url, base, token), browser_page(chromium()) as page:
        page.goto(url)
        page.locator("#jp-main-statusbar").get_by_text(re.compile(r"\|\s*Idle")).wait_for()
        page.locator(".jp-Notebook").first.click()
        page.keyboard.press("Shift+Enter")
        boxes = page.locator('.jp-OutputArea-output div[style*="border-left"]')
        boxes.nth(3).wait_for()
        found = []
        for i in range(boxes.count()):
            box = boxes.nth(i)
            found.append({"headline": box.locator("div").first.inner_text(),
                          "text": box.locator("div").first.evaluate(CONTRAST_JS),
                          "body": box.evaluate(CONTRAST_JS),
                          "bar": box.evaluate(BAR_JS)})
        boxes.first.scroll_into_view_if_needed()
        page.screenshot(path=str(tmp_path / f"check-{theme.split()[-1].lower()}.png"))
    assert [f["headline"][:1] for f in found] == ["✓", "✗", "…", "✗"], found
    assert "not implemented" in found[2]["headline"], found
    dark_page = sum(found[0]["text"]["bg"]) < 3 * 128
    assert dark_page == (theme == "JupyterLab Dark"), found
    for f in found:
        assert f["text"]["ratio"] >= 4.5 and f["body"]["ratio"] >= 4.5, f
        assert f["bar"]["ratio"] >= 3.0, f
