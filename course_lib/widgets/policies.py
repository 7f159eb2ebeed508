r"""Lesson 07's demo: temperature as exploration, on a fixed 10-armed bandit.

:func:`exploration_explorer` shows the Boltzmann policy :math:`\pi = \operatorname{softmax}
(q_* / \tau)` over a bandit's true values as bars (the best arm in orange), with the expected
reward :math:`\sum_a \pi(a) q_*(a)` and the entropy of :math:`\pi`, under a log-scale slider for
:math:`\tau`. It is built on :mod:`course_lib.widgets._core`: a :class:`~._core.LiveFigure`
whose bars are redrawn in place; where widgets cannot render (nbval, an HTML export, a forge's
notebook viewer) the demo shows a PNG of its current state and a line of text instead. Its
labels and figure speak the notebook's language (:func:`course_lib.i18n.get_language`) or the one
given as ``lang=``.
"""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from ..i18n import gettext
from ..plots import BLUE, ORANGE, figure_language
from ..softmax import _temperature, entropy, softmax
from ._core import BarPanel, Demo, LiveFigure, course_style, make_figure, tau_box

__all__ = ["exploration_explorer", "ExplorationExplorer"]

TAU_RANGE = (0.01, 100.0)


class ExplorationExplorer(Demo, widgets.VBox):
    """A τ slider over a fixed bandit, its policy as bars, and a static fallback.

    Use :func:`exploration_explorer` to make one. ``tau`` (a property) sets the slider;
    :meth:`png` gives the current figure as PNG bytes (the same bytes for the same state).

    Attributes
    ----------
    q : ndarray, shape (k,)
        The bandit's true action values.
    tau_slider : ipywidgets.FloatLogSlider
    tau_box : ipywidgets.BoundedFloatText
        "temperature τ": τ as a number, kept equal to the slider's (an accessible control).
    image : ipywidgets.Image
        The figure; the demo (an ``ipywidgets.VBox``) shows the slider above it.
    """

    description = "exploration_explorer"

    def __init__(self, q, tau, lang=None):
        super().__init__()
        self.lang = figure_language(lang)
        self.q = q
        self._best = int(np.argmax(q))
        self.tau_slider = widgets.FloatLogSlider(
            value=tau, base=10, min=np.log10(TAU_RANGE[0]), max=np.log10(TAU_RANGE[1]),
            step=0.05, description="τ", readout=False, continuous_update=True,
            layout=widgets.Layout(width="320px"),
        )
        # the slider's own readout is not announced by screen readers: a labelled number box
        # shows τ, reads it to them, and takes a typed value (see tau_box)
        self.tau_box = tau_box(self.tau_slider, description=self._("temperature τ"))
        self._build_figure()
        self.tau_slider.observe(lambda change: self._draw(change["new"]), names="value")
        self._draw(tau)
        self.children = (widgets.HBox([self.tau_slider, self.tau_box]), self.image)

    def _(self, message):
        """``message`` in the demo's language."""
        return gettext(message, self.lang)

    def _build_figure(self):
        """One bar per arm, labelled with its true value; the best arm in orange."""
        fig, ax = make_figure(figsize=(6.4, 3.2))
        self.live = LiveFigure(fig)
        self.image = self.live.image
        labels = [f"{a + 1}\n{v:.1f}" for a, v in enumerate(self.q)]
        colors = [ORANGE if a == self._best else BLUE for a in range(self.q.size)]
        with course_style():
            self.panel = BarPanel(ax, labels, color=colors, ylim=(0.0, 1.1), ylabel=r"$\pi(a)$")
            # no Korean between $...$: mathtext has no fallback font
            ax.set_xlabel(self._(r"arm $a$ (and its true value $q_*(a)$); orange: the best arm"))
            # two lines: the layout's room
            ax.set_title(self._("τ\nexpected reward"), fontsize=10)
        self.live.animate(*self.panel.artists, ax.title)

    # -- state -------------------------------------------------------------------------------
    @property
    def tau(self):
        """The temperature shown (setting it moves the slider and redraws)."""
        return float(self.tau_slider.value)

    @tau.setter
    def tau(self, value):
        self.tau_slider.value = _temperature(value)

    def policy(self, tau=None):
        r"""The policy :math:`\operatorname{softmax}(q_* / \tau)` at ``tau`` (default: shown)."""
        return softmax(self.q, temperature=self.tau if tau is None else tau)

    def summary(self, tau=None):
        """``(expected reward, entropy in nats, probability of the best arm)`` at ``tau``."""
        p = self.policy(tau)
        return float(p @ self.q), float(entropy(p)), float(p[self._best])

    # -- drawing -----------------------------------------------------------------------------
    def _draw(self, tau):
        self.panel.set(self.policy(tau))
        expected, h, _ = self.summary(tau)
        self.panel.ax.title.set_text(self._(
            "τ = {tau}\nexpected reward Σ π(a) q*(a) = {expected} (best arm: {best}),  "
            "entropy {h} nats").format(tau=f"{tau:.3g}", expected=f"{expected:.2f}",
                                       best=f"{self.q[self._best]:.2f}", h=f"{h:.2f}"))
        self.live.refresh()

    def png(self):
        """The figure as it is now, as PNG bytes."""
        return bytes(self.image.value)

    static_png = png

    def __repr__(self):
        expected, h, best = self.summary()
        return (f"exploration_explorer(k={self.q.size}, tau={self.tau:.3g}): "
                f"pi(best arm) = {best:.2f}, expected reward {expected:.2f}, "
                f"entropy {h:.2f} nats")


def exploration_explorer(q=None, *, tau=1.0, k=10, true_mean=4.0, seed=8, lang=None):
    r"""A slider demo: how the temperature of :math:`\operatorname{softmax}(q_*/\tau)` trades
    exploration for reward on a fixed bandit.

    Parameters
    ----------
    q : array_like, shape (k,), optional
        The true action values. Default: ``k`` values drawn from :math:`N(\text{true\_mean}, 1)`
        with ``seed`` (a fixed bandit, the same every time).
    tau : float, default 1.0
        The temperature shown first, in [0.01, 100] (the slider's range, log scale).
    k, true_mean, seed
        How the default bandit is drawn.
    lang : {"en", "ko"}, optional
        The language of the labels and figure (default: the notebook's).

    Returns
    -------
    ExplorationExplorer
        An ``ipywidgets.VBox``, displayed in Jupyter as the live widget, with a PNG of the
        figure for viewers that cannot run widgets.

    Examples
    --------
    >>> from course_lib.widgets import exploration_explorer
    >>> demo = exploration_explorer(tau=1.0)
    >>> demo.png()[:4]
    b'\x89PNG'
    >>> demo.tau = 0.01                     # nearly greedy: all on the best arm
    >>> round(demo.summary()[2], 3)
    1.0
    """
    if q is None:
        q = np.random.default_rng(seed).normal(true_mean, 1.0, k)
    q = np.array(q, dtype=float)
    if q.ndim != 1 or q.size < 2 or not np.all(np.isfinite(q)):
        raise ValueError(f"q must be a 1-D array of at least 2 finite values, got {q!r}")
    tau = _temperature(tau)
    if not TAU_RANGE[0] <= tau <= TAU_RANGE[1]:
        raise ValueError(f"tau must be in [{TAU_RANGE[0]}, {TAU_RANGE[1]}], got {tau!r}")
    return ExplorationExplorer(q, tau, lang)
