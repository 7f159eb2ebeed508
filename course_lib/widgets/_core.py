"""The parts every slider demo shares: a fast live figure, bar panels, and a static fallback.

A live demo redraws its plot each time a slider moves, so the redraw must be cheap. The usual
routes are slow: ``interact`` with the inline backend makes a new figure and saves it with a
tight bounding box (which draws it twice). Here one figure is made once and kept:

* :class:`LiveFigure` draws a matplotlib ``Figure`` with the Agg canvas, keeps the static part
  (axes, ticks, grid, labels) as a pixel buffer, and on each update restores that buffer and
  redraws only the artists that change (bar heights, value labels), then encodes the pixels as
  a PNG straight into an ``ipywidgets.Image`` -- no new figure, no tight bounding box, no pyplot;
* :class:`BarPanel` is one axes of bars whose heights and labels are updated in place;
* :class:`Demo` is the widget a demo returns. Its ``_repr_mimebundle_`` carries the live
  widget view *and* a static PNG (and plain text): JupyterLab and Voila show the live widget,
  while places without a widget front end (nbval, a static HTML export, a forge's notebook
  viewer) show the PNG instead of a dead widget;
* :func:`png_bytes` renders a figure to PNG bytes that are the same on every run.

Examples
--------
>>> from matplotlib.figure import Figure
>>> fig = Figure(figsize=(4, 2), dpi=50)
>>> live = LiveFigure(fig)
>>> panel = BarPanel(fig.add_subplot(), ["a", "b", "c"])
>>> live.animate(*panel.artists)
>>> panel.set([0.2, 0.3, 0.5])
>>> live.render()[:8] == PNG_SIGNATURE
True
>>> live.refresh()       # the widget now shows the new pixels
>>> live.image.format
'png'
"""

from __future__ import annotations

import io
import math

import numpy as np

from ..plots import BLUE, STYLE

__all__ = ["PNG_SIGNATURE", "course_style", "LiveFigure", "BarPanel", "Demo", "make_figure", "png_bytes",
           "tau_box",
           "as_logits", "parse_logits", "format_logits", "check_tau"]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def course_style():
    """A context in which matplotlib draws in the course's style (see :mod:`course_lib.plots`)."""
    import matplotlib as mpl
    from cycler import cycler

    from ..plots import COLORS, use_korean_font

    style = dict(STYLE, **{"axes.prop_cycle": cycler(color=COLORS)})
    use_korean_font(style)   # Hangul falls back to the course's Korean font
    return mpl.rc_context(style)


def make_figure(figsize=None, dpi=None, **subplots):
    """A matplotlib ``Figure`` in the course's style, *not* registered with pyplot.

    A pyplot figure would be shown a second time by the inline backend at the end of the cell
    and kept alive by pyplot; a bare ``Figure`` is owned by the demo alone.

    Parameters
    ----------
    figsize, dpi : optional
        Default: the course's style (:data:`course_lib.plots.STYLE`).
    **subplots
        Passed to ``Figure.subplots`` (``ncols=2``, ``sharey=True``, ...).

    Returns
    -------
    (matplotlib.figure.Figure, axes)
    """
    from matplotlib.figure import Figure

    with course_style():
        fig = Figure(figsize=figsize or STYLE["figure.figsize"], dpi=dpi or STYLE["figure.dpi"],
                     layout="constrained")
        axes = fig.subplots(**subplots)
    return fig, axes


def png_bytes(fig):
    """Render ``fig`` to PNG bytes, identical on every run (no timestamp, no software tag).

    Examples
    --------
    >>> fig, ax = make_figure(figsize=(2, 1))
    >>> _ = ax.bar(["a", "b"], [0.3, 0.7])
    >>> png_bytes(fig) == png_bytes(fig)
    True
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


class LiveFigure:
    """One figure drawn with Agg into an ``ipywidgets.Image``, updated in place (blitting).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        A figure made once (for instance by :func:`make_figure`); it is never replaced.
    compress_level : int
        zlib level of the PNG: 1 is fast and, for flat-coloured charts, barely larger.

    Notes
    -----
    Artists passed to :meth:`animate` are left out of the background and redrawn on each
    :meth:`render`; everything else is drawn once. Call :meth:`invalidate` after changing
    anything that is not animated (tick labels, limits, titles), and the next render redraws the
    background. The figure's layout is frozen after its first draw, so updates never move axes.
    """

    def __init__(self, fig, *, compress_level=1):
        import ipywidgets as widgets
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        self.fig = fig
        self.canvas = FigureCanvasAgg(fig)
        self.compress_level = compress_level
        self._animated = []
        self._background = None
        width, height = (int(round(v)) for v in fig.bbox.size)
        self.image = widgets.Image(format="png", width=width, height=height)

    def animate(self, *artists):
        """Mark ``artists`` as the ones that change: they are redrawn on every render."""
        for artist in artists:
            artist.set_animated(True)
            self._animated.append(artist)
        self._background = None

    def forget(self, *artists):
        """Stop redrawing ``artists`` (they have been removed from the figure)."""
        drop = {id(a) for a in artists}
        self._animated = [a for a in self._animated if id(a) not in drop]
        self._background = None

    def invalidate(self):
        """Redraw the static background on the next render."""
        self._background = None

    def render(self):
        """Draw the figure (background from cache, animated artists anew); return PNG bytes."""
        from PIL import Image

        if self._background is None:
            self.canvas.draw()
            if self.fig.get_layout_engine() is not None:  # freeze the layout found by the draw
                self.fig.set_layout_engine("none")
            self._background = self.canvas.copy_from_bbox(self.fig.bbox)
        else:
            self.canvas.restore_region(self._background)
        renderer = self.canvas.get_renderer()
        for artist in self._animated:
            if artist.get_visible():
                artist.draw(renderer)
        width, height = self.canvas.get_width_height()
        rgba = Image.frombuffer("RGBA", (width, height), self.canvas.buffer_rgba(), "raw",
                                "RGBA", 0, 1)
        buffer = io.BytesIO()
        rgba.convert("RGB").save(buffer, format="png", compress_level=self.compress_level)
        return buffer.getvalue()

    def refresh(self):
        """Render and show the new pixels in :attr:`image`."""
        self.image.value = self.render()


class BarPanel:
    """Bars on one axes whose heights and value labels are changed in place.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    labels : sequence of str
        One tick label per bar (a label may have several lines).
    color : str or sequence of str
        One colour for every bar, or one per bar (to pick one out).
    ylim : (float, float)
    ylabel, title : str, optional
    fmt : str or None
        Format of the value written above each bar; ``None`` writes no values.

    Attributes
    ----------
    bars : list of matplotlib.patches.Rectangle
    texts : list of matplotlib.text.Text
        The value labels (empty if ``fmt`` is None).
    artists : list
        Everything :meth:`set` changes: pass it to :meth:`LiveFigure.animate`.

    Examples
    --------
    >>> fig, ax = make_figure(figsize=(2, 1))
    >>> panel = BarPanel(ax, ["a", "b"], color=["C0", "C1"], fmt=None)
    >>> panel.set([0.25, 0.75])
    >>> [float(bar.get_height()) for bar in panel.bars], panel.texts
    ([0.25, 0.75], [])
    """

    def __init__(self, ax, labels, *, color=BLUE, ylim=(0.0, 1.0), ylabel="probability",
                 title=None, fmt="{:.2f}"):
        self.ax = ax
        self.fmt = fmt
        self.ylim = ylim
        labels = [str(s) for s in labels]
        x = np.arange(len(labels))
        self.bars = list(ax.bar(x, np.zeros(len(labels)), color=color, width=0.75))
        long = sum(max(len(line) for line in s.split("\n")) for s in labels) > 40
        ax.set_xticks(x, labels, rotation=45 if long else 0, ha="right" if long else "center")
        ax.set_xlim(-0.6, len(labels) - 0.4)
        ax.set_ylim(*ylim)
        if ylabel:
            ax.set_ylabel(ylabel)
        if title:
            ax.set_title(title)
        fontsize = 9 if len(labels) <= 12 else 7
        self.texts = [ax.text(i, 0.0, "", ha="center", va="bottom", fontsize=fontsize)
                      for i in x] if fmt is not None else []
        self.artists = self.bars + self.texts

    def set(self, heights, *, above=None):
        """Set the bars' heights and write each value above its bar (and above ``above``)."""
        heights = np.asarray(heights, dtype=float)
        tops = heights if above is None else np.maximum(heights, np.asarray(above, dtype=float))
        pad = 0.015 * (self.ylim[1] - self.ylim[0])
        inside = 0.9 * self.ylim[1]      # a bar this tall is labelled inside, in white
        for bar, h in zip(self.bars, heights):
            bar.set_height(h)
        for text, h, top in zip(self.texts, heights, tops):
            if top > inside and h > inside:
                text.set(y=h - pad, va="top", color="white")
            else:
                text.set(y=min(top, inside) + pad, va="bottom", color="black")
            text.set_text(self.fmt.format(h))


class Demo:
    """Mix-in for a demo widget: the live view, plus a static PNG where widgets cannot render.

    A subclass (also an ``ipywidgets`` box) implements :meth:`static_figure`, returning a
    ``Figure`` of what the demo shows at several settings, and sets ``description`` (one line,
    the plain-text form). A demo whose static form is simply its current picture overrides
    :meth:`static_png` instead (to return ``bytes(self.image.value)``), and a demo with a
    better line of text overrides ``__repr__``. Jupyter's display machinery calls :meth:`_repr_mimebundle_`;
    the front end picks the richest type it can render: the live widget in JupyterLab and Voila,
    the PNG in nbconvert's HTML (which drops widget views without stored widget state), on
    GitHub, and in nbval, the text in a terminal.
    """

    description = "a slider demo"
    static_description = "the static figure shows it as it is"

    @property
    def widget(self):
        """The widget to show: the demo itself (kept for code that displays ``demo.widget``)."""
        return self

    def static_figure(self):  # pragma: no cover - every demo overrides it or static_png
        raise NotImplementedError

    def static_png(self):
        """The static figure as PNG bytes (the same bytes on every run)."""
        return png_bytes(self.static_figure())

    def __repr__(self):
        return f"<{self.description}: a live widget in JupyterLab; {self.static_description}>"

    def _repr_mimebundle_(self, **kwargs):
        data = super()._repr_mimebundle_(**kwargs)  # the widget view (and a long repr)
        data["text/plain"] = repr(self)
        data["image/png"] = self.static_png()
        return data


# --------------------------------------------------------------------------- input checking


def tau_box(slider, *, description="temperature τ", digits=3):
    """A number box that names the temperature and reads it, kept equal to ``slider``'s value.

    ipywidgets 8's sliders give assistive technology neither a name (their label is not tied to
    the slider) nor the value shown: a ``FloatLogSlider`` announces its exponent (log τ), not τ.
    A numeric text box is a native ``<input type="number">`` whose label *is* tied to it
    (``<label for=...>``): screen readers read "temperature τ, 1.41", and typing a number there
    moves the slider. The box shows τ to ``digits`` decimals.

    Parameters
    ----------
    slider : ipywidgets.FloatLogSlider
        The temperature slider (its ``value`` is τ itself).
    description : str
        The box's label.
    digits : int
        Decimals shown in the box.

    Returns
    -------
    ipywidgets.BoundedFloatText

    Examples
    --------
    >>> import ipywidgets as widgets
    >>> s = widgets.FloatLogSlider(value=1.0, base=2, min=-3, max=3, step=0.25)
    >>> box = tau_box(s)
    >>> s.value = 2 ** 0.25
    >>> box.value, box.description
    (1.189, 'temperature τ')
    >>> box.value = 4.0
    >>> s.value
    4.0
    """
    import ipywidgets as widgets

    low, high = slider.base ** slider.min, slider.base ** slider.max
    box = widgets.BoundedFloatText(
        value=round(slider.value, digits), min=round(low, digits), max=round(high, digits),
        description=description, style={"description_width": "initial"},
        layout=widgets.Layout(width="190px"))

    def to_box(change):
        shown = round(change["new"], digits)
        if box.value != shown:
            box.value = shown

    def to_slider(change):
        if round(slider.value, digits) != change["new"]:
            slider.value = min(max(change["new"], low), high)

    slider.observe(to_box, names="value")
    box.observe(to_slider, names="value")
    return box


def as_logits(z, name="z"):
    """``z`` as a new 1-D float64 array of finite logits (at least two), or a clear error.

    Examples
    --------
    >>> as_logits([1, 2, 3])
    array([1., 2., 3.])
    >>> as_logits([[1.0, 2.0]])
    Traceback (most recent call last):
    ...
    ValueError: z must be a 1-D vector of logits, got shape (1, 2)
    """
    try:
        a = np.asarray(z)
    except ValueError as exc:
        raise ValueError(f"{name} must be a 1-D vector of logits: {exc}") from None
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {a.dtype}")
    if a.ndim != 1:
        raise ValueError(f"{name} must be a 1-D vector of logits, got shape {a.shape}")
    if a.size < 2:
        raise ValueError(f"{name} needs at least 2 logits to compare, got {a.size}")
    if not np.isfinite(a).all():
        raise ValueError(f"{name} must be finite, got {a.tolist()}")
    return np.array(a, dtype=np.float64)


def parse_logits(text):
    """Read logits typed in a text box: numbers separated by commas or spaces.

    Examples
    --------
    >>> parse_logits("1, 2.5 -3")
    array([ 1. ,  2.5, -3. ])
    >>> parse_logits("1, x")
    Traceback (most recent call last):
    ...
    ValueError: logits must be numbers separated by commas, could not read 'x'
    """
    values = []
    for part in text.replace(",", " ").split():
        try:
            values.append(float(part))
        except ValueError:
            raise ValueError(f"logits must be numbers separated by commas, could not read "
                             f"{part!r}") from None
    return as_logits(values, "logits")


def format_logits(z):
    """Logits as the text box shows them: ``'1, 2, 3'`` (``%g``, no trailing zeros)."""
    return ", ".join(f"{v:g}" for v in z)


def check_tau(tau, name="tau"):
    """``tau`` as a float, if it is a finite number > 0."""
    if isinstance(tau, bool) or not isinstance(tau, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {type(tau).__name__}")
    tau = float(tau)
    if not (math.isfinite(tau) and tau > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {tau}")
    return tau
