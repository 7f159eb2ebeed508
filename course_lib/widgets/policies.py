r"""Lesson 07's demo: temperature as exploration, on a fixed 10-armed bandit.

:func:`exploration_explorer` shows the Boltzmann policy :math:`\pi = \operatorname{softmax}
(q_* / \tau)` over a bandit's true values as bars (the best arm in orange), with the expected
reward :math:`\sum_a \pi(a) q_*(a)` and the entropy of :math:`\pi`, under a log-scale slider for
:math:`\tau`. One matplotlib figure is drawn once and updated in place; each change is rendered
by the Agg canvas into an ``ipywidgets.Image``. The object it returns also carries a static PNG
(and a line of text), so nbval, an HTML export or a forge's notebook viewer shows a figure
instead of a dead widget.
"""

from __future__ import annotations

import io
import itertools
import uuid

import numpy as np

from ..plots import BLUE, COLORS, ORANGE, STYLE
from ..softmax import _temperature, entropy, softmax

__all__ = ["exploration_explorer", "ExplorationExplorer"]

TAU_RANGE = (0.01, 100.0)

# The displayed widget's model id is stored in the notebook: derive it from a per-kernel counter
# instead of a random uuid, so that re-running a notebook in a fresh kernel stores the same bytes.
_NAMESPACE = uuid.UUID("5d0b7a53-6c1e-4a57-9a43-0e6f1f6a0707")
_COUNTER = itertools.count()


def _model_id():
    return uuid.uuid5(_NAMESPACE, f"course_lib.widgets.policies/{next(_COUNTER)}").hex


def _style():
    import matplotlib as mpl
    from cycler import cycler

    return mpl.rc_context(dict(STYLE, **{"axes.prop_cycle": cycler(color=COLORS)}))


class ExplorationExplorer:
    """A τ slider over a fixed bandit, its policy as bars, and a static fallback.

    Use :func:`exploration_explorer` to make one. ``tau`` (a property) sets the slider;
    :meth:`png` gives the current figure as PNG bytes (the same bytes for the same state).

    Attributes
    ----------
    q : ndarray, shape (k,)
        The bandit's true action values.
    widget : ipywidgets.VBox
        The slider, the figure (an ``ipywidgets.Image``) and nothing else.
    """

    def __init__(self, q, tau):
        import ipywidgets as widgets
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self.q = q
        self._best = int(np.argmax(q))
        with _style():
            self._fig = Figure(figsize=(6.4, 3.2), dpi=80)
            FigureCanvasAgg(self._fig)
            ax = self._fig.add_subplot()
            labels = [f"{i + 1}\n{v:.1f}" for i, v in enumerate(q)]
            colors = [ORANGE if i == self._best else BLUE for i in range(q.size)]
            self._bars = ax.bar(labels, np.zeros(q.size), color=colors)
            self._values = [ax.text(i, 0.0, "", ha="center", va="bottom", fontsize=9)
                            for i in range(q.size)]
            ax.set_ylim(0.0, 1.1)
            ax.set_ylabel(r"$\pi(a)$")
            ax.set_xlabel(r"arm $a$ (and its true value $q_*(a)$); orange: the best arm")
            self._title = ax.set_title("τ\nexpected reward", fontsize=10)
            self._fig.tight_layout()  # leaves room for the two-line title
        self._ax = ax
        self._image = widgets.Image(format="png", layout=widgets.Layout(width="512px"))
        self._slider = widgets.FloatLogSlider(
            value=tau, base=10, min=np.log10(TAU_RANGE[0]), max=np.log10(TAU_RANGE[1]),
            step=0.05, description="τ", readout_format=".3g", continuous_update=True,
            layout=widgets.Layout(width="512px"),
        )
        self._slider.observe(lambda change: self._draw(change["new"]), names="value")
        self.widget = widgets.VBox([self._slider, self._image], model_id=_model_id())
        self._draw(tau)

    # -- state -------------------------------------------------------------------------------
    @property
    def tau(self):
        """The temperature shown (setting it moves the slider and redraws)."""
        return float(self._slider.value)

    @tau.setter
    def tau(self, value):
        self._slider.value = _temperature(value)

    def policy(self, tau=None):
        r"""The policy :math:`\operatorname{softmax}(q_* / \tau)` at ``tau`` (default: shown)."""
        return softmax(self.q, temperature=self.tau if tau is None else tau)

    def summary(self, tau=None):
        """``(expected reward, entropy in nats, probability of the best arm)`` at ``tau``."""
        p = self.policy(tau)
        return float(p @ self.q), float(entropy(p)), float(p[self._best])

    # -- drawing -----------------------------------------------------------------------------
    def _draw(self, tau):
        p = self.policy(tau)
        for bar, text, v in zip(self._bars, self._values, p):
            bar.set_height(v)
            text.set_y(v + 0.01)
            text.set_text(f"{v:.2f}")
        expected, h, _ = self.summary(tau)
        self._title.set_text(
            f"τ = {tau:.3g}\nexpected reward Σ π(a) q*(a) = {expected:.2f} "
            f"(best arm: {self.q[self._best]:.2f}),  entropy {h:.2f} nats")
        self._png = self._render()
        self._image.value = self._png

    def _render(self):
        buf = io.BytesIO()
        with _style():  # no date, no version string: the same state gives the same bytes
            self._fig.savefig(buf, format="png", metadata={"Software": None})
        return buf.getvalue()

    def png(self):
        """The figure as it is now, as PNG bytes."""
        return self._png

    # -- display -----------------------------------------------------------------------------
    def __repr__(self):
        expected, h, best = self.summary()
        return (f"exploration_explorer(k={self.q.size}, tau={self.tau:.3g}): "
                f"pi(best arm) = {best:.2f}, expected reward {expected:.2f}, "
                f"entropy {h:.2f} nats")

    def _repr_mimebundle_(self, include=None, exclude=None, **kwargs):
        data = dict(self.widget._repr_mimebundle_(**kwargs) or {})
        data["text/plain"] = repr(self)
        data["image/png"] = self._png
        return data


def exploration_explorer(q=None, *, tau=1.0, k=10, true_mean=4.0, seed=8):
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

    Returns
    -------
    ExplorationExplorer
        Displayed in Jupyter as the live widget, with a PNG of the figure for viewers that
        cannot run widgets.

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
    return ExplorationExplorer(q, tau)
