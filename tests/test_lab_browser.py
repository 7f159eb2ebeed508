"""What a learner sees in JupyterLab (headless Chromium): readable widgets and checks in both
themes, a temperature box with a name, and a stored lesson that opens unmodified.

One JupyterLab (the course's ``start`` command line) and one browser serve this file's tests;
each test opens its notebook in a workspace of its own (no tab of another test is restored
beside it) and in a fresh kernel.

- **Both themes.** Lesson 04's temperature demo shows a grey note beside the entropy; it was
  ``#555`` on any background, unreadable on the dark theme's near-black. ``check``'s headline
  took the status colour as text colour: a pass's green and the dark theme's red fall below
  WCAG's 4.5:1 on the dark theme, the light theme's orange below it on white. The notes now take
  JupyterLab's theme colours; the status colour marks only the bar on the left of a check (3:1 is
  the minimum for such a mark). The test runs the demo and a check of each status in the dark
  theme, measures the contrast of each text against the page behind it, switches to the light
  theme from the Settings menu, as a learner does, and measures again.
- **The temperature box.** ipywidgets 8's slider announces log10 τ and has no name; the labelled
  box beside it (``course_lib.widgets._core.tau_box``) is found by its label and reads τ itself.
- **A lesson opens unmodified.** On connecting to its kernel, JupyterLab writes the kernel's
  ``kernelspec`` and ``language_info`` into the notebook's metadata, and marks the notebook
  modified when they differ from what was stored (then asks to save it on closing, and autosave
  rewrites the file). The course stores what the kernel announces (course_lib/execute.py). The
  test opens lesson 07 as stored, and a copy of it with the old minimal metadata, and looks at
  each tab's "modified" mark.

Skipped without Chromium or Playwright (tests/test_browser.py says how to get them).
"""

from __future__ import annotations

import json
import re
import shutil
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

pytest.importorskip("playwright.sync_api")

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_browser import browser_page, chromium, lab_server, run_all  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
LESSON_04 = ROOT / "notebooks" / "04_temperature.ipynb"
LESSON_07 = ROOT / "notebooks" / "07_rl_policies.ipynb"
IDLE = re.compile(r"\|\s*Idle")

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
# the bar's colour against the page behind it (the same walk, for the left border)
BAR_JS = CONTRAST_JS.replace("getComputedStyle(el).color", "getComputedStyle(el).borderLeftColor")

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


def demo_notebook(path: Path, *sources) -> Path:
    """A notebook of one code cell per source (a lesson's demo, not the whole lesson)."""
    import nbformat

    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {
        "name": "python3", "display_name": "Python 3", "language": "python"}})
    nb.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    nbformat.write(nb, path)
    return path


def lesson_04_demo():
    """Lesson 04's temperature demo as the lesson writes it: its imports, its tokens and logits,
    and the call (running the whole lesson is tests/test_browser.py's job)."""
    import nbformat

    cells = [c.source for c in nbformat.read(LESSON_04, as_version=4).cells if c.cell_type == "code"]
    data = next(src for src in cells if "z_tok = " in src).split("\n\n")[0]   # tokens, z_tok
    call = next(src for src in cells if src.strip().startswith("temperature_explorer(z_tok"))
    return f"import numpy as np\nfrom course_lib.widgets import temperature_explorer\n{data}\n{call}"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab, started in the dark theme on a course folder of this file's notebooks, and a
    page of headless Chromium. The kernelspec is the one a learner's environment has
    (ipykernel's own display name), not the one test_browser writes for the present command."""
    import test_browser
    from course_lib.execute import KERNELSPEC

    tmp = tmp_path_factory.mktemp("lab")
    settings = tmp / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "themes.jupyterlab-settings").write_text(json.dumps({"theme": "JupyterLab Dark"}))
    isolated = test_browser.isolated_env

    def environment(folder):
        env = isolated(folder)
        spec_file = folder / "jupyter-path" / "kernels" / "python3" / "kernel.json"
        spec = json.loads(spec_file.read_text(encoding="utf-8"))
        spec.update(display_name=KERNELSPEC["display_name"], language=KERNELSPEC["language"])
        spec_file.write_text(json.dumps(spec), encoding="utf-8")
        return env

    demos = tmp / "demos"
    demos.mkdir()
    themes = demo_notebook(demos / "themes.ipynb", lesson_04_demo(), CHECKS)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(test_browser, "isolated_env", environment)
        mp.setattr(test_browser, "LESSON", themes)
        with lab_server(tmp) as (url, base, token), browser_page(chromium()) as page:
            notebooks = tmp / "course" / "notebooks"
            demo_notebook(notebooks / "tau.ipynb", "from course_lib.widgets import "
                          "exploration_explorer\nexploration_explorer(tau=1.0)")
            shutil.copy(LESSON_07, notebooks / LESSON_07.name)
            old = json.loads(LESSON_07.read_text(encoding="utf-8"))
            old["metadata"]["language_info"] = {"name": "python"}     # what was stored before
            (notebooks / "old_metadata.ipynb").write_text(json.dumps(old), encoding="utf-8")
            yield SimpleNamespace(page=page, tmp=tmp, open=lambda workspace, name: (
                f"{base}/lab/workspaces/{workspace}/tree/notebooks/{name}?token={token}"))


def open_notebook(page, url):
    """Open ``url`` and wait for its kernel to be idle."""
    page.goto(url)
    page.locator("#jp-main-statusbar").get_by_text(IDLE).wait_for()


def use_theme(page, theme):
    """Settings > Theme > ``theme``, as a learner switches it; returns once it is drawn."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Settings$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Theme$")).hover()
    page.locator('.lm-Menu-item[data-command="apputils:change-theme"]').filter(
        has_text=re.compile(rf"^{re.escape(theme)}$")).click()
    page.wait_for_function(f"document.body.dataset.jpThemeName === {json.dumps(theme)}",
                           timeout=60_000)
    page.keyboard.press("Escape")


def measure(page, demo_cell, check_cell):
    """The contrast of the demo's note and of each check's headline, body and bar."""
    demo = demo_cell.locator(".jp-OutputArea-output").filter(
        has=page.locator(".widget-slider")).first
    note = demo.locator(".widget-html-content span").first
    note.wait_for()
    boxes = check_cell.locator('.jp-OutputArea-output div[style*="border-left"]')
    boxes.nth(3).wait_for()
    checks = [{"headline": box.locator("div").first.inner_text(),
               "text": box.locator("div").first.evaluate(CONTRAST_JS),
               "body": box.evaluate(CONTRAST_JS), "bar": box.evaluate(BAR_JS)}
              for box in (boxes.nth(i) for i in range(boxes.count()))]
    return note.evaluate(CONTRAST_JS), checks


def test_widget_notes_and_check_results_are_readable_in_both_themes(lab):
    page = lab.page
    open_notebook(page, lab.open("themes", "themes.ipynb"))
    run_all(page)
    cells = page.locator(".jp-Notebook .jp-CodeCell")
    demo_cell, check_cell = cells.nth(0), cells.nth(1)
    demo_cell.locator(".widget-slider .noUi-handle").first.wait_for()
    found = {}
    for theme in ("JupyterLab Dark", "JupyterLab Light"):   # the settings start it dark
        if theme != "JupyterLab Dark":
            use_theme(page, theme)
        assert page.evaluate("document.body.dataset.jpThemeName") == theme
        found[theme] = measure(page, demo_cell, check_cell)
        shot = theme.split()[-1].lower()
        demo_cell.scroll_into_view_if_needed()
        demo_cell.screenshot(path=str(lab.tmp / f"demo-{shot}.png"))
        check_cell.scroll_into_view_if_needed()
        check_cell.screenshot(path=str(lab.tmp / f"check-{shot}.png"))
    for theme, (note, checks) in found.items():
        dark_page = sum(note["bg"]) < 3 * 128
        assert dark_page == (theme == "JupyterLab Dark"), (theme, note)
        assert note["ratio"] >= 4.5, (theme, note)
        assert [c["headline"][:1] for c in checks] == ["✓", "✗", "…", "✗"], (theme, checks)
        assert "not implemented" in checks[2]["headline"], checks
        assert (sum(checks[0]["text"]["bg"]) < 3 * 128) == dark_page, (theme, checks)
        for c in checks:
            assert c["text"]["ratio"] >= 4.5 and c["body"]["ratio"] >= 4.5, (theme, c)
            assert c["bar"]["ratio"] >= 3.0, (theme, c)


def test_the_lesson_07_temperature_has_an_accessible_name_and_reads_tau(lab):
    page = lab.page
    open_notebook(page, lab.open("tau", "tau.ipynb"))
    run_all(page)
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
    demo.screenshot(path=str(lab.tmp / "tau_box.png"))
    assert first == "1"
    assert float(after) == pytest.approx(10 ** 0.15, abs=1e-3)   # three steps of 0.05 in log10 τ
    assert valuetext != after                                    # the slider alone says log10 τ


def opened_modified(page, url, *, within):
    """Open ``url`` (a notebook in JupyterLab), wait for its kernel, and return how many seconds
    after the kernel went idle its tab was marked modified (None: not within ``within`` s)."""
    open_notebook(page, url)
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


def test_a_stored_lesson_opens_unmodified_and_old_metadata_would_not(lab):
    # the control first: how long JupyterLab takes here to mark a notebook modified (a loaded
    # machine takes longer); the stored lesson is then given three times as long
    minimal = opened_modified(lab.page, lab.open("control", "old_metadata.ipynb"), within=60)
    lab.page.screenshot(path=str(lab.tmp / "old.png"))
    assert minimal is not None, "the control (minimal metadata) should be marked modified"
    stored = opened_modified(lab.page, lab.open("lesson", LESSON_07.name),
                             within=max(5.0, 3 * minimal))
    lab.page.screenshot(path=str(lab.tmp / "lesson.png"))
    assert stored is None, f"the stored lesson was marked modified {stored:.1f} s after opening"
