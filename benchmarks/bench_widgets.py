"""How fast the temperature slider redraws: kernel time per update, and key press to pixels.

Run from the repository root:

    python benchmarks/bench_widgets.py                # everything (about a minute)
    python benchmarks/bench_widgets.py --updates 100  # more updates per renderer
    python benchmarks/bench_widgets.py --no-browser   # kernel times only

**Kernel time per slider update.** A fresh IPython kernel (this Python, the inline matplotlib
backend, as in JupyterLab) sets a temperature slider ``--updates`` times (after 5 warm-up
updates) over a 10-bar chart and times, with ``time.perf_counter``, each step from setting
``slider.value`` to the new picture being handed to the front end:

* ``course_lib.widgets``: ``temperature_explorer`` -- one figure, only the bars and labels
  redrawn (blitting) by Agg, a PNG straight into an ``ipywidgets.Image``; timed until the
  Image's ``value`` is set;
* ``Image + savefig(tight)``: the same reused figure, bars updated in place, but the whole figure
  saved with ``savefig(bbox_inches="tight")`` into an ``ipywidgets.Image`` (the tight bounding
  box draws the figure twice);
* ``Image + savefig``: as above without the tight bounding box (one full draw);
* ``interact + new figure``: ``ipywidgets.interactive`` calling a function that makes a new
  ``plt.subplots`` figure and ``plt.show()``s it through the inline backend (which also saves
  with a tight bounding box), the usual notebook idiom; timed until the function returned.

All four compute the same softmax and draw the same bars. Medians and 90th percentiles, and
each one's median as a multiple of ``course_lib.widgets``'.

**Key press to new pixels.** Unless ``--no-browser``: the browser test's own measurement
(``tests/test_browser.py``): JupyterLab on a copy of lesson 04 in headless Chromium, the
explorer's slider focused and moved 12 times with the arrow keys; each time from the keydown
event to the animation frame after the plot's ``<img>`` got its new ``src``. Needs Debian's
``chromium`` and the ``playwright`` package.

Timings depend on the machine and its load; nothing here is asserted (see benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

KERNEL_CODE = r"""
import io, json, time
import numpy as np
import matplotlib.pyplot as plt
import ipywidgets as widgets
from IPython import get_ipython
get_ipython().run_line_magic("matplotlib", "inline")
from course_lib.plots import use_style, BLUE
from course_lib.softmax import softmax
from course_lib.widgets import temperature_explorer
from course_lib.widgets.temperature import _tau_slider

use_style()
z = np.linspace(-2.0, 3.0, 10)              # 10 bars
labels = [str(i + 1) for i in range(10)]
N, WARM = {updates}, 5
grid = np.geomspace(0.05, 20.0, N + WARM)
taus = np.concatenate([grid[::2], grid[1::2]])   # jumps of two grid steps, like a dragged slider
now = time.perf_counter
results = {{}}

def timed(name, slider, done):
    times = []
    for i, tau in enumerate(taus):
        t0 = now()
        slider.value = float(tau)
        t1 = done(t0)
        if i >= WARM:
            times.append((t1 - t0) * 1e3)
    results[name] = times

# 1. course_lib.widgets: blitted Agg into a widgets.Image
demo = temperature_explorer(z, labels=labels)
stamp = {{}}
demo.image.observe(lambda c: stamp.__setitem__("t", now()), names="value")
timed("course_lib.widgets", demo.tau_slider, lambda t0: stamp["t"])

# 2. and 3. a reused figure saved whole (with and without a tight bbox) into a widgets.Image
def image_savefig(tight):
    fig, ax = plt.subplots()
    plt.close(fig)                              # not shown by the inline backend
    bars = ax.bar(labels, softmax(z), color=BLUE)
    texts = [ax.text(i, 0, "", ha="center", va="bottom", fontsize=9) for i in range(10)]
    ax.set_ylim(0, 1)
    image = widgets.Image(format="png")
    slider = _tau_slider(1.0)
    def update(change):
        p = softmax(z, temperature=change["new"])
        for b, t, v in zip(bars, texts, p):
            b.set_height(v); t.set_y(v); t.set_text(f"{{v:.2f}}")
        ax.set_title(f"tau = {{change['new']:.3g}}")
        buf = io.BytesIO()
        fig.savefig(buf, format="png", **({{"bbox_inches": "tight"}} if tight else {{}}))
        image.value = buf.getvalue()
        stamp["t"] = now()
    slider.observe(update, names="value")
    return slider

timed("Image + savefig(tight)", image_savefig(True), lambda t0: stamp["t"])
timed("Image + savefig", image_savefig(False), lambda t0: stamp["t"])

# 4. interact: a new figure each time, shown by the inline backend
def draw(tau):
    p = softmax(z, temperature=tau)
    fig, ax = plt.subplots()
    bars = ax.bar(labels, p, color=BLUE)
    ax.bar_label(bars, labels=[f"{{v:.2f}}" for v in p], padding=2, fontsize=9)
    ax.set_ylim(0, 1)
    ax.set_title(f"tau = {{tau:.3g}}")
    plt.show()
    stamp["t"] = now()

w = widgets.interactive(draw, tau=_tau_slider(1.0))
timed("interact + new figure", w.children[0], lambda t0: stamp["t"])
print("RESULTS " + json.dumps(results))
"""


def kernel_times(updates):
    """Run the four renderers in a fresh kernel of this Python; return ``{name: [ms, ...]}``."""
    from jupyter_client.manager import start_new_kernel

    from course_lib.present import present_environment

    with tempfile.TemporaryDirectory() as tmp:
        os.environ.update(present_environment(tmp))   # this Python as the python3 kernel
        km, kc = start_new_kernel(kernel_name="python3", cwd=str(ROOT),
                                  stderr=subprocess.DEVNULL)   # the kernel's start-up chatter
        try:
            out = []

            def collect(msg):
                if msg["msg_type"] == "stream":
                    out.append(msg["content"]["text"])
                elif msg["msg_type"] == "error":
                    out.append("\n".join(msg["content"]["traceback"]))

            reply = kc.execute_interactive(KERNEL_CODE.format(updates=updates), timeout=900,
                                           output_hook=collect)
            text = "".join(out)
            if reply["content"]["status"] != "ok" or "RESULTS " not in text:
                raise RuntimeError(f"the benchmark failed in the kernel:\n{text}")
            return json.loads(text.split("RESULTS ", 1)[1].splitlines()[0])
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=True)


def browser_times():
    """Key press -> new pixels in JupyterLab, with the browser test's own helpers."""
    sys.path.insert(0, str(ROOT / "tests"))
    import test_browser as tb

    with tempfile.TemporaryDirectory() as tmp:
        with tb.lab_server(Path(tmp)) as (url, _base, _token), tb.browser_page() as page:
            demo = tb.open_lesson_and_run_all(page, url)
            result = tb.drive_slider(page, demo)
    tb.check_moves(result)
    return result["latencies_ms"]


def quantile(values, q):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--updates", type=int, default=60, help="timed updates per renderer")
    parser.add_argument("--no-browser", action="store_true", help="skip the browser measurement")
    args = parser.parse_args(argv)
    import ipywidgets
    import matplotlib

    print(f"Python {platform.python_version()}, matplotlib {matplotlib.__version__}, "
          f"ipywidgets {ipywidgets.__version__}, {platform.machine()}, {os.cpu_count()} CPUs, "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    results = kernel_times(args.updates)
    base = quantile(results["course_lib.widgets"], 0.5)
    print(f"\nKernel time per slider update, 10-bar chart, {args.updates} updates each "
          f"(time.perf_counter, ms):")
    print(f"  {'renderer':<26} {'median':>8} {'p90':>8} {'x ours':>8}")
    for name, times in results.items():
        med, p90 = quantile(times, 0.5), quantile(times, 0.9)
        print(f"  {name:<26} {med:8.1f} {p90:8.1f} {med / base:8.2f}")
    print("  goal: course_lib.widgets median <= 40 ms")
    if not args.no_browser:
        latencies = browser_times()
        print(f"\nKey press -> new pixels in JupyterLab (headless Chromium, performance.now(), "
              f"{len(latencies)} presses): median {quantile(latencies, 0.5):.0f} ms, "
              f"p90 {quantile(latencies, 0.9):.0f} ms, max {max(latencies):.0f} ms")
        print("  goal: <= 150 ms")
        print(textwrap.indent("each: " + " ".join(f"{x:.0f}" for x in latencies), "  "))


if __name__ == "__main__":
    main()
