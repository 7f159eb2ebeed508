"""The widgets' notes are readable in JupyterLab's dark theme (headless Chromium).

Lesson 04's temperature demo shows a grey note beside the entropy; it was ``#555`` on any
background, unreadable on the dark theme's near-black. The notes now take JupyterLab's theme
colours. The test turns the dark theme on (a settings file), runs lesson 04's demo, and measures the
contrast of the note against the page behind it (WCAG's ratio; 4.5 is the minimum for text).
Skipped without Chromium or Playwright.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

pytest.importorskip("playwright.sync_api")

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_browser import browser_page, chromium, lab_server  # noqa: E402

LESSON_04 = Path(__file__).resolve().parents[1] / "notebooks" / "04_temperature.ipynb"

CONTRAST_JS = """
(el) => {
  const rgb = (s) => (s.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  // the first ancestor with an opaque background is what the text sits on
  let bg = null;
  for (let n = el; n && !bg; n = n.parentElement) {
    const c = rgb(getComputedStyle(n).backgroundColor);
    if (c.length === 3 || (c.length === 4 && c[3] > 0.99)) bg = c.slice(0, 3);
  }
  let fg = rgb(getComputedStyle(el).color);
  if (fg.length === 4) fg = [0, 1, 2].map((i) => fg[i] * fg[3] + bg[i] * (1 - fg[3]));  // alpha over bg
  const [a, b] = [lum(fg) + 0.05, lum(bg) + 0.05];
  return {fg, bg, ratio: Math.max(a, b) / Math.min(a, b)};
}
"""


def demo_notebook(tmp_path, source):
    """A one-cell notebook with ``source`` (a lesson's demo, not the whole lesson)."""
    import nbformat

    path = tmp_path / "demo.ipynb"
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {
        "name": "python3", "display_name": "Python 3", "language": "python"}})
    nb.cells.append(nbformat.v4.new_code_cell(source))
    nbformat.write(nb, path)
    return path


def run_demo(page, url):
    """Open the demo notebook, run its cell, and return the widget's output area."""
    page.goto(url)
    status = page.locator("#jp-main-statusbar")
    status.get_by_text(__import__("re").compile(r"\|\s*Idle")).wait_for()
    page.locator(".jp-Notebook").first.click()
    page.keyboard.press("Shift+Enter")
    demo = page.locator(".jp-OutputArea-output").filter(has=page.locator(".widget-slider")).first
    demo.locator(".widget-slider .noUi-handle").first.wait_for()
    return demo


def lesson_04_demo():
    """Lesson 04's temperature demo as the lesson writes it: its imports, its tokens and logits,
    and the call (running the whole lesson is tests/test_browser.py's job)."""
    import nbformat

    cells = [c.source for c in nbformat.read(LESSON_04, as_version=4).cells if c.cell_type == "code"]
    data = next(src for src in cells if "z_tok = " in src).split("\n\n")[0]   # tokens, z_tok
    call = next(src for src in cells if src.strip().startswith("temperature_explorer(z_tok"))
    return f"import numpy as np\nfrom course_lib.widgets import temperature_explorer\n{data}\n{call}"


@pytest.mark.parametrize("theme", ["JupyterLab Dark", "JupyterLab Light"])
def test_widget_notes_are_readable_in_both_themes(tmp_path, monkeypatch, theme):
    import test_browser

    settings = tmp_path / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "themes.jupyterlab-settings").write_text(json.dumps({"theme": theme}))
    monkeypatch.setattr(test_browser, "LESSON", demo_notebook(tmp_path, lesson_04_demo()))
    with lab_server(tmp_path) as (url, base, token), browser_page(chromium()) as page:
        demo = run_demo(page, url)
        note = demo.locator(".widget-html-content span").first
        note.wait_for()
        result = note.evaluate(CONTRAST_JS)
        demo.scroll_into_view_if_needed()
        demo.screenshot(path=str(tmp_path / f"{theme.split()[-1].lower()}.png"))
        dark_page = sum(result["bg"]) < 3 * 128
    assert dark_page == (theme == "JupyterLab Dark"), result
    assert result["ratio"] >= 4.5, result


def test_the_lesson_07_temperature_has_an_accessible_name_and_reads_tau(tmp_path, monkeypatch):
    """ipywidgets 8's slider announces log10 τ and has no name; the labelled box beside it
    (course_lib.widgets._core.tau_box) is found by its label and reads τ itself."""
    import test_browser

    monkeypatch.setattr(test_browser, "LESSON", demo_notebook(
        tmp_path, "from course_lib.widgets import exploration_explorer\nexploration_explorer(tau=1.0)"))
    with lab_server(tmp_path) as (url, base, token), browser_page(chromium()) as page:
        run_demo(page, url)
        box = page.get_by_label("temperature τ")                 # the accessible name
        box.wait_for()
        first = box.input_value()
        handle = page.locator(".widget-slider .noUi-handle").first
        handle.focus()
        for _ in range(3):
            page.keyboard.press("ArrowRight")
        page.wait_for_function(
            "() => document.querySelector('.widget-text input').value === '1.413'", timeout=30_000)
        after = box.input_value()
        valuetext = handle.get_attribute("aria-valuetext")
        demo = page.locator(".jp-OutputArea-output").filter(has=page.locator(".widget-slider")).first
        demo.screenshot(path=str(tmp_path / "tau_box.png"))
    assert first == "1"
    assert float(after) == pytest.approx(10 ** 0.15, abs=1e-3)   # three steps of 0.05 in log10 τ
    assert valuetext != after                                    # the slider alone says log10 τ
