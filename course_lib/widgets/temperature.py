r"""Lesson 04's slider demos: the softmax at a temperature, :math:`p = \mathrm{softmax}(z/\tau)`.

``temperature_explorer(z)``
    One temperature slider (log scale, about 0.05 to 20) and a bar chart of ``p``, with the entropy
    and the largest probability read out; the logits can be edited; a button resets everything.
``temperature_compare(z)``
    Two temperatures side by side, each with its own slider.
``temperature_sampler(z, n=200, seed=0)``
    ``n`` tokens drawn at the chosen temperature: their frequencies against the exact
    probabilities. The draws are seeded and reuse the same uniforms at every temperature (common
    random numbers), so moving the slider moves samples from token to token instead of drawing a
    fresh, noisy set each time; *Draw again* takes the next set.

Each returns a widget (an ``ipywidgets.VBox``). Shown in JupyterLab or Voila it is live; where
widgets cannot render (nbval, a static HTML export, a forge's notebook viewer) the same output
shows a static figure of several temperatures instead (see :class:`course_lib.widgets._core.Demo`).
Drive them from Python too: ``demo.tau_slider.value = 2.0``, ``demo.reset_button.click()``.
Their labels, readouts, buttons and figures speak the language of the notebook when they are
made (:func:`course_lib.i18n.get_language`), or the one given as ``lang=`` (``"en"``, ``"ko"``).

Examples
--------
>>> demo = temperature_explorer([1.0, 2.0, 3.0])
>>> demo.tau_slider.value = 2.0
>>> [round(float(v), 4) for v in demo.p]
[0.1863, 0.3072, 0.5065]
>>> "H = 1.0" in demo.readout.value          # entropy in nats, to 3 decimals
True
>>> demo.reset_button.click()
>>> demo.tau_slider.value
1.0
"""

from __future__ import annotations

import os

import html
import math

import ipywidgets as widgets
import numpy as np
from matplotlib.patches import Patch

from ..i18n import gettext
from ..plots import BLUE, GREY, ORANGE, VERMILION, figure_language
from ..softmax import entropy, softmax
from ._core import (BarPanel, Demo, LiveFigure, as_logits, check_tau, course_style, format_logits,
                    make_figure, parse_logits, tau_box)

__all__ = ["temperature_explorer", "temperature_compare", "temperature_sampler",
           "TAU_MIN", "TAU_MAX", "STATIC_TAUS"]

# The slider moves log2(tau) from -4.4 to 4.4 in steps of 0.1 (a factor 1.07 per arrow key):
# tau from 0.047 to 21, with 1/4, 1/2, 1, 2, 4, ... exactly on the grid (a front end snaps
# the value to the grid, so a base-10 slider would show tau = 0.998 for 1).
LOG2_TAU_RANGE, LOG2_TAU_STEP = 4.4, 0.1
TAU_MIN, TAU_MAX = 2.0 ** -LOG2_TAU_RANGE, 2.0 ** LOG2_TAU_RANGE
STATIC_TAUS = (0.1, 0.5, 1.0, 2.0, 10.0)   # the temperatures of the static figures
LIVE_DPI = 100                             # the live plots: 640 x 300 pixels for one panel
# softmax-course present sets SOFTMAX_COURSE_LIVE_DPI (200: twice the pixels each way), and its
# page stretches the plot to the window's width: crisp on a projector
try:
    LIVE_DPI = min(max(int(os.environ.get("SOFTMAX_COURSE_LIVE_DPI", LIVE_DPI)), 50), 300)
except ValueError:
    pass


def _labels(labels, k):
    if labels is None:
        return [str(i + 1) for i in range(k)]
    labels = [str(s) for s in labels]
    if len(labels) != k:
        raise ValueError(f"labels must have one entry per logit ({k}), got {len(labels)}")
    return labels


# Colours of the notes in the widgets' HTML: JupyterLab's theme variables (light and dark themes,
# Voila's "lab" template too), with the light theme's look as the fallback elsewhere.
NOTE_COLOR = "var(--jp-content-font-color2, #555)"
ERROR_COLOR = f"var(--jp-error-color1, {VERMILION})"


def _tau_slider(value, description="τ"):
    import ipywidgets as widgets

    return widgets.FloatLogSlider(
        value=value, base=2, min=-LOG2_TAU_RANGE, max=LOG2_TAU_RANGE, step=LOG2_TAU_STEP,
        description=description, readout_format=".3g", continuous_update=True,
        layout=widgets.Layout(width="460px"),
    )


def _summary(p, labels, lang=None):
    """Entropy and the largest probability of ``p``, as HTML."""
    k = p.size
    i = int(np.argmax(p))
    bounds = (f"<span style='color:{NOTE_COLOR}'>(0 &le; H &le; log {k} = {math.log(k):.3f})"
              f"</span>")
    return gettext("entropy H = {h} nats {bounds} &nbsp;&middot;&nbsp; max p = {p_max} "
                   "(token {token})", lang).format(
        h=f"{float(entropy(p)):.3f}", bounds=bounds, p_max=f"{float(p[i]):.3f}",
        token=html.escape(labels[i]))


def _inverse_cdf(p, u):
    """Token index for each uniform in ``u``: the first i with u < p_1 + ... + p_i."""
    c = np.cumsum(p)
    return np.minimum(np.searchsorted(c / c[-1], u, side="right"), p.size - 1)


class _TemperatureDemo(Demo):
    """What the three demos share: logits in a text box, a reset button, a live figure."""

    static_description = "the static figure shows several temperatures"

    def _init_logits(self, z, labels, lang):
        self.lang = figure_language(lang)
        self.z0 = as_logits(z)
        self._labels0 = _labels(labels, self.z0.size)
        self.z = self.z0.copy()
        self.labels = list(self._labels0)
        self.logits_text = widgets.Text(value=format_logits(self.z0),
                                        description=self._("logits"),
                                        continuous_update=False,
                                        layout=widgets.Layout(width="460px"))
        self.reset_button = widgets.Button(
            description=self._("Reset"), tooltip=self._("back to the first logits and temperature"))
        self.message = widgets.HTML("")
        self.readout = widgets.HTML("")
        self.logits_text.observe(self._on_logits, names="value")

    def _(self, message):
        """``message`` in the demo's language."""
        return gettext(message, self.lang)

    def _on_logits(self, change):
        try:
            z = parse_logits(change["new"])
        except (TypeError, ValueError) as err:
            self.message.value = (f"<span style='color:{ERROR_COLOR}'>"
                                  f"{html.escape(str(err), quote=False)}</span>")
            return
        self.message.value = ""
        if z.size != self.z.size:
            self.labels = (list(self._labels0) if z.size == self.z0.size
                           else [str(i + 1) for i in range(z.size)])
            self.z = z
            self._build_panels()
        self.z = z
        self.update()

    def _reset(self, _button=None):
        self.logits_text.value = format_logits(self.z0)  # rebuilds if the size changed
        self._reset_taus()
        self.update()

    def _finish(self, *rows):
        self.reset_button.on_click(self._reset)
        self._build_panels()
        self.update()
        self.children = (self.readout, self.live.image, *rows,
                         widgets.HBox([self.logits_text, self.reset_button]), self.message)

    def _new_panel(self, ax, color, ylabel="probability"):
        panel = BarPanel(ax, self.labels, color=color, ylabel=ylabel and self._(ylabel))
        ax.set_title(" ")
        ax.title.set_animated(True)
        return panel

    def _rebuild(self, panels_of):
        """(Re)make every panel for the current labels; ``panels_of(axes)`` makes them."""
        if getattr(self, "live", None) is None:
            fig, axes = make_figure(figsize=self._figsize, dpi=LIVE_DPI, **self._subplots)
            self.live = LiveFigure(fig)
        else:
            fig = self.live.fig
            fig.set_layout_engine("constrained")
            for ax in self._axes:
                ax.clear()
            self.live.forget(*self.live._animated)
            axes = self._axes
        self._axes = np.atleast_1d(axes).tolist()
        with course_style():
            panels = panels_of(self._axes)
        for ax in self._axes:
            self.live.animate(ax.title)
        for panel in panels:
            self.live.animate(*panel.artists)
        self.live.invalidate()
        return panels


def _static_panels(z, labels, taus, *, draw=None, title=None, ylabel=None, lang=None):
    """A static figure: one panel of bars per temperature (``draw(ax, p, tau)`` may add more)."""
    title = gettext("softmax(z / τ) at several temperatures", lang) if title is None else title
    ylabel = gettext("probability", lang) if ylabel is None else ylabel
    fig, axes = make_figure(figsize=(2.0 * len(taus) + 0.6, 2.9), ncols=len(taus), sharey=True)
    long = sum(len(s) for s in labels) > 12
    for ax, tau in zip(np.atleast_1d(axes), taus):
        p = softmax(z, temperature=tau)
        if draw is None:
            ax.bar(range(z.size), p, color=BLUE, width=0.75)
        else:
            draw(ax, p, tau)
        ax.set_xticks(range(z.size), labels, rotation=90 if long else 0,
                      fontsize=8 if long or z.size > 8 else 10)
        ax.set_ylim(0, 1)
        ax.set_title(f"τ = {tau:g}\nH = {float(entropy(p)):.2f} nats", fontsize=10)
    np.atleast_1d(axes)[0].set_ylabel(ylabel)
    fig.suptitle(title, fontsize=11)
    return fig


# --------------------------------------------------------------------------- explorer


class TemperatureExplorer(_TemperatureDemo, widgets.VBox):
    """The widget :func:`temperature_explorer` returns."""

    _figsize = (6.4, 3.0)
    _subplots = {}

    def __init__(self, z, tau, labels, lang=None):
        super().__init__()
        self._init_logits(z, labels, lang)
        self.tau0 = check_tau(tau)
        self.tau_slider = _tau_slider(self.tau0)
        self.tau_slider.observe(lambda _change: self.update(), names="value")
        # a labelled number box names τ for screen readers and takes a typed value (tau_box)
        self.tau_box = tau_box(self.tau_slider, description=self._("temperature τ"))
        self._finish(widgets.HBox([self.tau_slider, self.tau_box]))

    @property
    def description(self):
        return f"temperature_explorer(z = [{format_logits(self.z0)}])"

    def _build_panels(self):
        (self.panel,) = self._rebuild(lambda axes: [self._new_panel(axes[0], BLUE)])
        self.image = self.live.image

    def _reset_taus(self):
        self.tau_slider.value = self.tau0

    def update(self):
        """Recompute p at the slider's temperature; redraw the bars; update the readout."""
        tau = float(self.tau_slider.value)
        self.p = softmax(self.z, temperature=tau)
        self.panel.set(self.p)
        self.panel.ax.set_title(f"p = softmax(z / τ),  τ = {tau:.3g}")
        # the readout first: a front end that shows the new picture already has its numbers
        self.readout.value = f"<b>τ = {tau:.3g}</b> &nbsp;&middot;&nbsp; " \
                             + _summary(self.p, self.labels, self.lang)
        self.live.refresh()

    def static_figure(self):
        return _static_panels(self.z0, self._labels0, STATIC_TAUS, lang=self.lang)


def temperature_explorer(z, *, tau=1.0, labels=None, lang=None):
    """A temperature slider driving a bar chart of ``softmax(z / tau)``.

    Parameters
    ----------
    z : array_like, shape (K,)
        At least two finite logits. Not modified (the demo keeps its own copy).
    tau : float, default 1.0
        The starting temperature (the slider spans about 0.05 to 20 on a log scale).
    labels : sequence of str, optional
        A name per logit (tokens, classes); default ``"1" ... "K"``.
    lang : {"en", "ko"}, optional
        The language of the labels, readout and figures; default
        :func:`course_lib.i18n.get_language` (the notebook's language).

    Returns
    -------
    ipywidgets.VBox
        The live demo. Its parts: ``tau_slider``, ``logits_text`` (comma-separated logits;
        a different number of logits redraws the chart), ``reset_button``, ``readout`` (HTML:
        temperature, entropy, max probability), ``image`` (the plot) and ``p`` (the
        probabilities shown). Without a widget front end it displays as a static figure of
        softmax(z / tau) at tau = 0.1, 0.5, 1, 2 and 10.

    Raises
    ------
    ValueError
        If ``z`` is not 1-D, has fewer than 2 entries or a non-finite one, or ``tau`` is not a
        finite number > 0, or ``labels`` does not have K entries.
    TypeError
        If ``z`` does not hold real numbers or ``tau`` is not a number.

    Examples
    --------
    >>> demo = temperature_explorer([2.0, 1.0, 0.1], tau=0.5, labels=["cat", "dog", "fish"])
    >>> [round(float(v), 3) for v in demo.p]
    [0.864, 0.117, 0.019]
    """
    return TemperatureExplorer(z, tau, labels, lang)


# --------------------------------------------------------------------------- compare


class TemperatureCompare(_TemperatureDemo, widgets.VBox):
    """The widget :func:`temperature_compare` returns."""

    _figsize = (9.0, 3.0)
    _subplots = {"ncols": 2, "sharey": True}

    def __init__(self, z, taus, labels, lang=None):
        super().__init__()
        self._init_logits(z, labels, lang)
        if len(taus) != 2:
            raise ValueError(f"taus must be two temperatures, got {len(taus)}")
        self.taus0 = tuple(check_tau(t, "taus") for t in taus)
        self.tau_sliders = [_tau_slider(t, d) for t, d in
                            zip(self.taus0, (self._("τ left"), self._("τ right")))]
        for s in self.tau_sliders:
            s.style.description_width = "60px"
            s.observe(lambda _change: self.update(), names="value")
        self.tau_slider = self.tau_sliders[0]
        self.tau_boxes = [tau_box(sl, description=self._("temperature {name}").format(
                              name=sl.description)) for sl in self.tau_sliders]
        self._finish(widgets.VBox([widgets.HBox([sl, box]) for sl, box in
                                   zip(self.tau_sliders, self.tau_boxes)]))

    @property
    def description(self):
        return f"temperature_compare(z = [{format_logits(self.z0)}])"

    def _build_panels(self):
        self.panels = self._rebuild(lambda axes: [self._new_panel(axes[0], BLUE),
                                                  self._new_panel(axes[1], ORANGE, None)])
        self.image = self.live.image

    def _reset_taus(self):
        for s, t in zip(self.tau_sliders, self.taus0):
            s.value = t

    def update(self):
        """Recompute both distributions; redraw both panels; update the readout."""
        taus = [float(s.value) for s in self.tau_sliders]
        self.ps = [softmax(self.z, temperature=t) for t in taus]
        self.p = self.ps[0]
        rows = []
        sides = (self._("<b>left, τ = {tau}</b>: {summary}"),
                 self._("<b>right, τ = {tau}</b>: {summary}"))
        for side, panel, p, t in zip(sides, self.panels, self.ps, taus):
            panel.set(p)
            panel.ax.set_title(f"τ = {t:.3g}")
            rows.append(side.format(tau=f"{t:.3g}", summary=_summary(p, self.labels, self.lang)))
        self.readout.value = "<br>".join(rows)
        self.live.refresh()

    def static_figure(self):
        """The two temperatures side by side, and the entropy over all of them."""
        fig, axes = make_figure(figsize=(10.0, 2.9), ncols=3,
                                gridspec_kw={"width_ratios": [1, 1, 1.1]})
        long = sum(len(s) for s in self._labels0) > 12
        for ax, tau, color in zip(axes, self.taus0, (BLUE, ORANGE)):
            p = softmax(self.z0, temperature=tau)
            ax.bar(range(p.size), p, color=color, width=0.75)
            ax.set_xticks(range(p.size), self._labels0, rotation=90 if long else 0,
                          fontsize=8 if long or p.size > 8 else 10)
            ax.set_ylim(0, 1)
            ax.set_title(f"τ = {tau:g}: H = {float(entropy(p)):.2f} nats", fontsize=10)
        axes[0].set_ylabel(self._("probability"))
        taus = np.geomspace(TAU_MIN, TAU_MAX, 200)
        h = [float(entropy(softmax(self.z0, temperature=t))) for t in taus]
        axes[2].plot(taus, h, color=GREY)
        for tau, color in zip(self.taus0, (BLUE, ORANGE)):
            axes[2].plot([tau], [float(entropy(softmax(self.z0, temperature=tau)))], "o",
                         color=color, markersize=7)
        axes[2].axhline(math.log(self.z0.size), color=GREY, ls="--", lw=0.8)
        axes[2].set_xscale("log")
        axes[2].set_xlabel("τ")
        axes[2].set_ylabel(self._("entropy (nats)"))
        axes[2].set_title(self._("entropy H(τ); log K dashed"), fontsize=10)
        fig.suptitle(self._("softmax(z / τ) at two temperatures"), fontsize=11)
        return fig


def temperature_compare(z, *, taus=(0.5, 2.0), labels=None, lang=None):
    """Two bar charts of ``softmax(z / tau)`` side by side, each with its own temperature slider.

    Parameters
    ----------
    z : array_like, shape (K,)
        At least two finite logits. Not modified.
    taus : pair of float, default (0.5, 2.0)
        The starting temperatures of the left and right panels.
    labels : sequence of str, optional
        A name per logit.
    lang : {"en", "ko"}, optional
        The language of the labels, readout and figures (default: the notebook's).

    Returns
    -------
    ipywidgets.VBox
        The live demo, with ``tau_sliders`` (two), ``logits_text``, ``reset_button``,
        ``readout``, ``image`` and ``ps`` (the two distributions). Without a widget front end it
        displays as a static figure of the two temperatures and the entropy curve.

    Raises
    ------
    ValueError, TypeError
        As :func:`temperature_explorer`; also if ``taus`` is not two temperatures.

    Examples
    --------
    >>> demo = temperature_compare([1.0, 2.0, 3.0], taus=(0.5, 5.0))
    >>> [round(float(p.max()), 3) for p in demo.ps]
    [0.867, 0.402]
    """
    return TemperatureCompare(z, tuple(taus), labels, lang)


# --------------------------------------------------------------------------- sampler


class TemperatureSampler(_TemperatureDemo, widgets.VBox):
    """The widget :func:`temperature_sampler` returns."""

    _figsize = (6.4, 3.0)
    _subplots = {}

    def __init__(self, z, tau, n, seed, labels, lang=None):
        super().__init__()
        self._init_logits(z, labels, lang)
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"n must be a positive integer (the number of draws), got {n!r}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        self.n, self.seed, self.draw = int(n), int(seed), 0
        self.tau0 = check_tau(tau)
        self.tau_slider = _tau_slider(self.tau0)
        self.tau_slider.observe(lambda _change: self.update(), names="value")
        self.draw_button = widgets.Button(description=self._("Draw again"),
                                          tooltip=self._("the next {n} draws").format(n=self.n))
        self.draw_button.on_click(self._draw_again)
        self.tau_box = tau_box(self.tau_slider, description=self._("temperature τ"))
        self._finish(widgets.HBox([self.tau_slider, self.tau_box, self.draw_button]))

    @property
    def description(self):
        return (f"temperature_sampler(z = [{format_logits(self.z0)}], n = {self.n}, "
                f"seed = {self.seed})")

    def _uniforms(self):
        return np.random.default_rng([self.seed, self.draw]).random(self.n)

    def _build_panels(self):
        def make(axes):
            panel = self._new_panel(axes[0], ORANGE, "frequency")
            x = np.arange(len(self.labels))
            (self.exact,) = axes[0].plot(x, np.zeros(x.size), ls="none", marker="_",
                                         markersize=26, markeredgewidth=2.5, color=GREY,
                                         label=self._("exact probability"))
            axes[0].legend(handles=[Patch(color=ORANGE, label=self._("sampled frequency")),
                                    self.exact],
                           loc="upper left", fontsize=9)
            return [panel]

        (self.panel,) = self._rebuild(make)
        self.live.animate(self.exact)
        self.image = self.live.image

    def _reset_taus(self):
        self.draw = 0
        self.tau_slider.value = self.tau0

    def _draw_again(self, _button=None):
        self.draw += 1
        self.update()

    def update(self):
        """Draw ``n`` tokens at the slider's temperature; redraw; update the readout."""
        tau = float(self.tau_slider.value)
        self.p = softmax(self.z, temperature=tau)
        self.samples = _inverse_cdf(self.p, self._uniforms())
        self.frequencies = np.bincount(self.samples, minlength=self.z.size) / self.n
        self.panel.set(self.frequencies, above=self.p + 0.01)
        self.exact.set_ydata(self.p)
        self.panel.ax.set_title(self._("{n} draws at τ = {tau} (set {set})").format(
            n=self.n, tau=f"{tau:.3g}", set=self.draw + 1))
        shown = " ".join(html.escape(self.labels[i]) for i in self.samples[:30])
        more = " …" if self.n > 30 else ""
        gap = float(np.abs(self.frequencies - self.p).max())
        self.readout.value = self._(
            "<b>τ = {tau}</b> &nbsp;&middot;&nbsp; first draws: <tt>{draws}</tt><br>largest gap "
            "|frequency − p| = {gap} &nbsp;&middot;&nbsp; {seen} of {k} tokens seen "
            "&nbsp;&middot;&nbsp; {summary}").format(
            tau=f"{tau:.3g}", draws=shown + more, gap=f"{gap:.3f}",
            seen=len(np.unique(self.samples)), k=self.z.size,
            summary=_summary(self.p, self.labels, self.lang))
        self.live.refresh()

    def static_figure(self):
        u = np.random.default_rng([self.seed, 0]).random(self.n)

        def draw(ax, p, tau):
            freq = np.bincount(_inverse_cdf(p, u), minlength=p.size) / self.n
            ax.bar(range(p.size), freq, color=ORANGE, width=0.75)
            ax.plot(range(p.size), p, ls="none", marker="_", markersize=12,
                    markeredgewidth=2, color=GREY)

        return _static_panels(self.z0, self._labels0, STATIC_TAUS, draw=draw,
                              title=self._("{n} seeded draws (bars) against the exact "
                                           "probabilities (grey) at several temperatures"
                                           ).format(n=self.n),
                              ylabel=self._("frequency"), lang=self.lang)


def temperature_sampler(z, *, tau=1.0, n=200, seed=0, labels=None, lang=None):
    """``n`` tokens drawn from ``softmax(z / tau)``: their frequencies against the probabilities.

    Parameters
    ----------
    z : array_like, shape (K,)
        At least two finite logits. Not modified.
    tau : float, default 1.0
        The starting temperature.
    n : int, default 200
        Draws per set.
    seed : int, default 0
        Seeds the draws: set ``k`` (0, 1, ... as *Draw again* is pressed) uses the uniforms of
        ``np.random.default_rng([seed, k])``, the same at every temperature, each mapped to a
        token through the cumulative probabilities (inverse-CDF sampling).
    labels : sequence of str, optional
        A name per logit.
    lang : {"en", "ko"}, optional
        The language of the labels, readout and figures (default: the notebook's).

    Returns
    -------
    ipywidgets.VBox
        The live demo, with ``tau_slider``, ``draw_button``, ``logits_text``, ``reset_button``,
        ``readout`` (the first draws, the largest gap between frequency and probability, the
        entropy), ``image``, ``p``, ``samples`` (token indices) and ``frequencies``. Without a
        widget front end it displays as a static figure of seeded draws at several temperatures.

    Raises
    ------
    ValueError, TypeError
        As :func:`temperature_explorer`; also if ``n`` is not a positive integer or ``seed`` a
        non-negative integer.

    Examples
    --------
    >>> demo = temperature_sampler([1.0, 2.0, 3.0], tau=0.05, n=100, seed=1)
    >>> demo.frequencies.tolist()     # at a low temperature nearly every draw is the argmax
    [0.0, 0.0, 1.0]
    """
    return TemperatureSampler(z, tau, n, seed, labels, lang)
