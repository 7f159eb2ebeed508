r"""Lesson 06's slider demo: how d_k saturates an unscaled attention row, and how 1/√d_k fixes it.

:func:`scaling_explorer` draws one query and ``n_keys`` keys with entries from N(0, 1) in
``d_k`` dimensions and shows the attention weights of that query, ``softmax(q·k_j)`` unscaled or
``softmax(q·k_j / sqrt(d_k))`` scaled, as bars, with the largest weight as a readout. A slider
picks ``d_k``; a toggle switches the scale on and off.

It is built on :mod:`course_lib.widgets._core`: a :class:`~._core.LiveFigure` whose bars are
redrawn in place; where widgets cannot render (a notebook viewer, static HTML, nbval) the demo
shows a PNG of its current state instead. Its labels, readout and figure speak the notebook's
language (:func:`course_lib.i18n.get_language`) or the one given as ``lang=``.

Examples
--------
>>> from course_lib.widgets.attention import scaling_explorer
>>> demo = scaling_explorer(d_k=256)
>>> demo.readout.value
'd_k = 256, unscaled: largest weight 1.000'
>>> demo.toggle.value = True
>>> demo.readout.value
'd_k = 256, scaled by 1/√d_k: largest weight 0.368'
"""

from __future__ import annotations

import numbers

import ipywidgets as widgets
import numpy as np

from ..i18n import gettext
from ..plots import VERMILION, figure_language
from ..softmax import softmax
from ._core import BarPanel, Demo, LiveFigure, course_style, make_figure

__all__ = ["scaling_explorer"]

D_K = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


def attention_row(d_k, *, scaled, n_keys=16, seed=0):
    """The weights of one query over ``n_keys`` keys, entries N(0, 1) in ``d_k`` dimensions.

    The same ``seed`` and ``d_k`` always give the same query and keys.

    Examples
    --------
    >>> attention_row(4, scaled=True, n_keys=3).round(3)
    array([0.659, 0.207, 0.134])
    """
    rng = np.random.default_rng([seed, d_k])
    q = rng.standard_normal(d_k)
    k = rng.standard_normal((n_keys, d_k))
    scores = k @ q
    return softmax(scores / np.sqrt(d_k) if scaled else scores)


class ScalingExplorer(Demo, widgets.VBox):
    """The demo returned by :func:`scaling_explorer`: ``slider``, ``toggle``, ``readout``, ``image``.

    The demo is the ipywidgets box a live kernel shows; :meth:`png` is its current picture,
    which it also shows (with a line of text) where widgets cannot render.
    """

    description = "scaling_explorer"

    def __init__(self, d_k, scaled, n_keys, seed, lang=None):
        super().__init__()
        self.lang = figure_language(lang)
        self.n_keys, self.seed = n_keys, seed
        self.slider = widgets.SelectionSlider(options=D_K, value=d_k, description="d_k",
                                              continuous_update=True)
        self.toggle = widgets.ToggleButtons(
            options=[(self._("unscaled"), False), (self._("scaled by 1/√d_k"), True)],
            value=scaled)
        self.readout = widgets.HTML()
        self._build_figure()
        self.slider.observe(self._update, names="value")
        self.toggle.observe(self._update, names="value")
        self._update()
        self.children = (widgets.HBox([self.slider, self.toggle]), self.readout, self.image)

    def _(self, message):
        """``message`` in the demo's language."""
        return gettext(message, self.lang)

    def _build_figure(self):
        """Bars for the weights, a dashed line and a label at the largest; all redrawn live."""
        fig, ax = make_figure()
        self.live = LiveFigure(fig)
        self.image = self.live.image
        keys = [str(j) for j in range(1, self.n_keys + 1)]
        every = max(1, self.n_keys // 8)
        with course_style():
            # no Korean between $...$: mathtext has no fallback font
            self.panel = BarPanel(ax, keys, ylim=(0.0, 1.12), ylabel=self._("weight $w_j$"),
                                  fmt=None)
            ax.set_xticks(np.arange(self.n_keys)[::every], keys[::every])
            ax.set_xlabel(self._("key j"))
            self.max_line = ax.axhline(0.0, color=VERMILION, lw=1.5, ls="--")
            self.max_text = ax.text(-0.5, 0.0, "", color=VERMILION, fontsize=10, va="bottom")
        self.live.animate(*self.panel.artists, self.max_line, self.max_text, ax.title)

    def weights(self):
        """The attention row now shown."""
        return attention_row(self.slider.value, scaled=self.toggle.value, n_keys=self.n_keys,
                             seed=self.seed)

    def _update(self, _change=None):
        w = self.weights()
        top = float(w.max())
        self.panel.set(w)
        self.max_line.set_ydata([top, top])
        self.max_text.set(y=top + 0.01,
                          text=self._("largest weight {w}").format(w=f"{top:.3f}"))
        how = self._("scaled by 1/√d_k") if self.toggle.value else self._("unscaled")
        self.panel.ax.title.set_text(self._("one query, {n} keys, d_k = {d_k}, {how}").format(
            n=self.n_keys, d_k=self.slider.value, how=how))
        self.readout.value = self._("d_k = {d_k}, {how}: largest weight {w}").format(
            d_k=self.slider.value, how=how, w=f"{top:.3f}")
        self.live.refresh()

    def png(self) -> bytes:
        """The picture now shown, as PNG bytes (the same state gives the same bytes)."""
        return bytes(self.image.value)

    static_png = png

    def __repr__(self):
        return f"<scaling explorer: {self.readout.value}>"


def scaling_explorer(d_k=64, *, scaled=False, n_keys=16, seed=0, lang=None):
    """A slider over d_k and a scaled/unscaled toggle, showing one row of attention weights.

    Parameters
    ----------
    d_k : int, default 64
        The starting dimension, a power of 2 from 1 to 1024.
    scaled : bool, default False
        Start with the scores divided by sqrt(d_k).
    n_keys : int, default 16
        Keys in the row (2 to 64).
    seed : int, default 0
        Seeds the query and keys drawn for each d_k.
    lang : {"en", "ko"}, optional
        The language of the labels, readout and figure (default: the notebook's).

    Returns
    -------
    ScalingExplorer
        An ``ipywidgets.VBox``: the live demo, or a static picture where widgets cannot render.
    """
    if isinstance(d_k, (bool, np.bool_)) or d_k not in D_K:
        raise ValueError(f"d_k must be one of {D_K}, got {d_k!r}")
    if not isinstance(scaled, (bool, np.bool_)):
        raise TypeError(f"scaled must be True or False, got {scaled!r}")
    if isinstance(n_keys, (bool, np.bool_)) or not isinstance(n_keys, numbers.Integral) \
            or not 2 <= n_keys <= 64:
        raise ValueError(f"n_keys must be an int from 2 to 64, got {n_keys!r}")
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    return ScalingExplorer(int(d_k), bool(scaled), int(n_keys), int(seed), lang)
