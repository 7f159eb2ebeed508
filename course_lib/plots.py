"""The course's figures share one look: colour-blind-safe colours, small PNGs, readable labels.

Lessons call :func:`use_style` once in their set-up cell. Korean figures need a font with Hangul,
which few machines have: the package ships NanumGothic (``course_lib/fonts/``, SIL Open Font
License 1.1, see ``OFL.txt`` there), and :func:`use_korean_font` adds it to matplotlib's font
list as a *fallback* after the current font, so a Hangul character is drawn with it while every
other character keeps its usual font (English figures keep their pixels). Plots that belong to a topic live in
that topic's module (``calibration.reliability_diagram``); this module holds only what every
lesson draws: the palette and a bar chart of a probability vector.

Examples
--------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> import matplotlib.pyplot as plt
>>> use_style()
>>> fig, ax = plt.subplots()
>>> bars = probability_bars(ax, [0.09003057, 0.24472847, 0.66524096], labels=["a", "b", "c"])
>>> len(bars)
3
>>> plt.close(fig)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["COLORS", "BLUE", "ORANGE", "GREEN", "VERMILION", "SKY", "PURPLE", "YELLOW", "GREY",
           "STYLE", "KOREAN_FONT", "KOREAN_FAMILY", "use_style", "use_korean_font", "figure_language",
           "probability_bars"]

# NanumGothic 3.021 (NAVER), unmodified, under the SIL Open Font License 1.1 (fonts/OFL.txt)
KOREAN_FONT = Path(__file__).resolve().parent / "fonts" / "NanumGothic.ttf"
KOREAN_FAMILY = "NanumGothic"

# Okabe & Ito (2008), "Color Universal Design": distinguishable with every common colour-vision
# deficiency, and in greyscale by lightness.
BLUE, ORANGE, GREEN, VERMILION = "#0072B2", "#E69F00", "#009E73", "#D55E00"
SKY, PURPLE, YELLOW, GREY = "#56B4E9", "#CC79A7", "#F0E442", "#7F7F7F"
COLORS = (BLUE, ORANGE, GREEN, VERMILION, SKY, PURPLE, YELLOW, GREY)

STYLE = {
    "figure.figsize": (6.4, 3.0),
    "figure.dpi": 80,            # inline PNGs of about 500 x 240 pixels, 15-40 kB each
    "savefig.dpi": 80,
    "font.size": 11,
    "axes.titlesize": 11,
    "axes.labelsize": 11,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "legend.frameon": False,
    "axes.prop_cycle": None,     # filled in by use_style (cycler needs matplotlib)
    "svg.hashsalt": "softmax-course",
}


def use_style(*, retina=True) -> None:
    """Set matplotlib's defaults to the course's look (palette, sizes, fonts).

    In a notebook (IPython with the inline backend) the figures are also sent as ``retina``
    PNGs: twice the pixels each way, shown at the same size, so they stay sharp on
    high-resolution screens and projectors. ``retina=False`` keeps plain PNGs.
    """
    import matplotlib as mpl
    from cycler import cycler

    style = dict(STYLE, **{"axes.prop_cycle": cycler(color=COLORS)})
    mpl.rcParams.update(style)
    use_korean_font()
    if retina:
        _inline_formats("retina")


def use_korean_font(rc=None) -> list:
    """Make Hangul drawable: register the course's Korean font and add it as a fallback family.

    The font (:data:`KOREAN_FONT`) is added to matplotlib's font manager once, and its family
    is appended to ``font.family`` of ``rc`` (default: matplotlib's ``rcParams``) unless it is
    there already. Matplotlib (3.6 and later) draws each character with the first family of
    that list that has it, so text without Hangul looks as before, pixel for pixel.
    :func:`use_style` calls it, and so does every course figure drawn in Korean.

    Parameters
    ----------
    rc : dict-like, optional
        The settings to change (``matplotlib.rcParams`` by default, or a style dict).

    Returns
    -------
    list of str
        The font families now in ``rc["font.family"]``.

    Examples
    --------
    >>> import matplotlib as mpl
    >>> with mpl.rc_context():
    ...     use_korean_font()[-1]
    'NanumGothic'
    """
    import matplotlib as mpl
    from matplotlib import font_manager

    _register_korean_font(font_manager)
    rc = mpl.rcParams if rc is None else rc
    families = rc.get("font.family", mpl.rcParams["font.family"])
    families = [families] if isinstance(families, str) else list(families)
    if KOREAN_FAMILY not in families:
        families.append(KOREAN_FAMILY)
        rc["font.family"] = families
    return families


def figure_language(lang=None) -> str:
    """The language a course figure is drawn in (:func:`course_lib.i18n.get_language`).

    In Korean it also makes sure the Korean font is there (:func:`use_korean_font`).

    Examples
    --------
    >>> figure_language("en")
    'en'
    """
    from .i18n import get_language

    lang = get_language(lang)
    if lang == "ko":
        use_korean_font()
    return lang


def _register_korean_font(font_manager) -> None:
    """Add :data:`KOREAN_FONT` to matplotlib's font manager (once per font manager)."""
    manager = font_manager.fontManager
    if getattr(manager, "_softmax_course_korean", None) != str(KOREAN_FONT):
        if not any(Path(f.fname) == KOREAN_FONT for f in manager.ttflist):
            manager.addfont(str(KOREAN_FONT))
        manager._softmax_course_korean = str(KOREAN_FONT)


def _inline_formats(*formats) -> bool:
    """Ask IPython's inline backend for ``formats``; False outside a notebook kernel."""
    try:
        from IPython import get_ipython
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:
        return False
    if get_ipython() is None:
        return False
    set_matplotlib_formats(*formats)
    return True


def probability_bars(ax, p, *, labels=None, color=BLUE, annotate=True, ylim=(0.0, 1.0),
                     title=None):
    """Draw the probabilities ``p`` as bars on ``ax``, each labelled with its value.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    p : array_like, shape (K,)
        Probabilities (or any non-negative numbers, with ``ylim=None``).
    labels : sequence of str, optional
        One label per bar; default ``"1" ... "K"``.
    color : str
        The bars' colour.
    annotate : bool
        Write each value above its bar (to 2 decimals).
    ylim : tuple or None
        The y-range; ``None`` leaves matplotlib's.
    title : str, optional

    Returns
    -------
    matplotlib.container.BarContainer
    """
    figure_language()  # Korean labels or a Korean title need the Korean font
    p = np.asarray(p, dtype=float)
    if p.ndim != 1:
        raise ValueError(f"p must be 1-D, got shape {p.shape}")
    labels = [str(i + 1) for i in range(p.size)] if labels is None else [str(s) for s in labels]
    if len(labels) != p.size:
        raise ValueError(f"labels must have one entry per probability ({p.size}), got {len(labels)}")
    bars = ax.bar(labels, p, color=color)
    if annotate:
        ax.bar_label(bars, labels=[f"{v:.2f}" for v in p], padding=2, fontsize=9)
    if ylim is not None:
        ax.set_ylim(*ylim)
    if title is not None:
        ax.set_title(title)
    return bars
