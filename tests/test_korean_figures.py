"""Korean figures: every Hangul character is drawn with a real glyph, English figures unchanged.

The course ships NanumGothic (``course_lib/fonts/``) and adds it to matplotlib's fonts as a
fallback after the current family (``course_lib.plots.use_korean_font``). These tests render
figures with Korean labels on this machine, which has no Korean font of its own, and check that
matplotlib reports no missing glyph and that each Hangul character resolves to a font that has
it. ``test_the_check_sees_a_missing_glyph`` points the fallback at a Latin-only font and checks
that the same check then fails.
"""

from __future__ import annotations

import logging
import re
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.ft2font import FT2Font  # noqa: E402

from course_lib import plots  # noqa: E402
from course_lib.calibration import reliability_diagram  # noqa: E402
from course_lib.i18n import gettext, set_language  # noqa: E402

TERMS = ["소프트맥스", "로짓", "온도", "확률", "엔트로피", "보정"]
HANGUL = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3]")


@pytest.fixture(autouse=True)
def _clean_state():
    """Each test starts from matplotlib's defaults and no notebook language, and leaves them so."""
    set_language(None)
    with matplotlib.rc_context():
        matplotlib.rcParams.update(matplotlib.rcParamsDefault)
        yield
    set_language(None)
    plt.close("all")


def texts_of(fig):
    """Every Text artist of ``fig`` with non-empty text (titles, labels, legends, ticks)."""
    return [t for t in fig.findobj(matplotlib.text.Text) if t.get_visible() and t.get_text()]


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def missing_glyphs(fig):
    """Draw ``fig``; return (matplotlib's glyph warnings, Hangul characters no font has).

    Matplotlib reports a glyph missing from a text's fonts as a warning ("Glyph ... missing
    from font(s) ...") and one missing from mathtext's fonts in its log ("Font 'rm' does not
    have a glyph for ..."): both are collected.
    """
    handler = _Records()
    logger = logging.getLogger("matplotlib")
    logger.addHandler(handler)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fig.canvas.draw()
    finally:
        logger.removeHandler(handler)
    glyph_warnings = [m for m in [str(w.message) for w in caught] + handler.messages
                      if "glyph" in m.lower()]
    unmapped = set()
    for text in texts_of(fig):
        hangul = set(HANGUL.findall(text.get_text()))
        if not hangul:
            continue
        fonts = [font_manager.get_font(path) for path in
                 font_manager.fontManager._find_fonts_by_props(text.get_fontproperties())]
        for ch in hangul:
            if not any(font.get_char_index(ord(ch)) != 0 for font in fonts):
                unmapped.add(ch)
    return glyph_warnings, unmapped


def korean_figure():
    plots.use_style(retina=False)
    fig, ax = plt.subplots()
    plots.probability_bars(ax, [0.2, 0.3, 0.5], labels=["고양이", "개", "물고기"],
                           title="소프트맥스(softmax): 로짓을 확률로")
    ax.set_xlabel("온도 τ에서의 " + ", ".join(TERMS))
    ax.set_ylabel("확률 p")
    return fig


def test_the_font_has_every_hangul_syllable_of_the_course_terms():
    font = FT2Font(str(plots.KOREAN_FONT))
    chars = set("".join(TERMS)) | set("확률 분포 정규화 지수 함수 교차 엔트로피 기대 보정 오차 키 값 쿼리")
    chars.discard(" ")
    assert {ch for ch in chars if font.get_char_index(ord(ch)) == 0} == set()
    # and all 11 172 modern syllables, so a learner's own label works too
    assert all(font.get_char_index(c) != 0 for c in range(0xAC00, 0xD7A4))


def test_the_font_ships_with_its_licence():
    licence = plots.KOREAN_FONT.parent / "OFL.txt"
    text = licence.read_text(encoding="utf-8")
    assert "SIL OPEN FONT LICENSE" in text and "Version 1.1" in text
    assert "NanumGothic" in text
    assert font_manager.get_font(str(plots.KOREAN_FONT)).family_name == plots.KOREAN_FAMILY


def test_a_korean_figure_has_no_missing_glyph():
    fig = korean_figure()
    assert missing_glyphs(fig) == ([], set())
    assert matplotlib.rcParams["font.family"][-1] == plots.KOREAN_FAMILY


def test_the_check_sees_a_missing_glyph(monkeypatch):
    """Without the Korean font (the fallback pointed at DejaVu Sans) the check fails."""
    dejavu = font_manager.findfont("DejaVu Sans")
    monkeypatch.setattr(plots, "KOREAN_FONT", type(plots.KOREAN_FONT)(dejavu))
    monkeypatch.setattr(plots, "KOREAN_FAMILY", "DejaVu Sans")
    glyph_warnings, unmapped = missing_glyphs(korean_figure())
    assert any("missing from font" in w for w in glyph_warnings)
    assert set("소프트맥스확률") <= unmapped


def draw_english(fallback):
    with matplotlib.rc_context():
        if fallback:
            plots.use_style(retina=False)
        else:
            matplotlib.rcParams.update({k: v for k, v in plots.STYLE.items()
                                        if k != "axes.prop_cycle"})
        assert (plots.KOREAN_FAMILY in matplotlib.rcParams["font.family"]) == fallback
        fig, ax = plt.subplots()
        plots.probability_bars(ax, [0.1, 0.2, 0.7], labels=["cat", "dog", "fish"],
                               title="probability p at temperature τ; H(p) [nats] fi AV Wa")
        ax.set_xlabel("logits z = (1, 2, 3)")
        fig.canvas.draw()
        pixels = np.asarray(fig.canvas.buffer_rgba()).copy()
        plt.close(fig)
        return pixels


def test_the_check_sees_hangul_in_mathtext():
    """Mathtext has no fallback font: Hangul between $...$ is a box, and the check says so."""
    plots.use_style(retina=False)
    fig, ax = plt.subplots()
    ax.set_ylabel("가중치 $w_j$")
    glyph_warnings, _ = missing_glyphs(fig)
    assert any("does not have a glyph" in w for w in glyph_warnings)


def test_english_figures_keep_their_pixels():
    before, after = draw_english(False), draw_english(True)
    assert before.shape == after.shape
    assert np.array_equal(before, after)


@pytest.mark.parametrize("how", ["argument", "notebook"])
def test_reliability_diagram_in_korean(how):
    p = np.array([[0.9, 0.1], [0.6, 0.4], [0.3, 0.7], [0.2, 0.8]])
    y = np.array([0, 1, 1, 1])
    if how == "argument":
        ax = reliability_diagram(p, y, lang="ko")
    else:
        set_language("ko")
        ax = reliability_diagram(p, y)
    assert ax.get_ylabel() == gettext("accuracy", "ko") != "accuracy"
    assert HANGUL.search(ax.child_axes[0].get_xlabel())
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert all(HANGUL.search(t) for t in legend), legend
    assert missing_glyphs(ax.figure) == ([], set())


def test_reliability_diagram_in_english_is_unchanged():
    ax = reliability_diagram([[0.9, 0.1], [0.6, 0.4]], [0, 1], lang="en")
    assert ax.get_ylabel() == "accuracy"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "calibrated", "accuracy", "gap to confidence"]
    assert ax.child_axes[0].get_xlabel() == "confidence (max probability)"


# --------------------------------------------------------------------------- widgets


def make_demo(name, lang):
    from course_lib import widgets

    tokens = ["매트", "소파", "바닥", "침대", "의자", "지붕"]
    z = [3.2, 2.6, 2.3, 1.9, 1.6, 1.1]
    make = {
        "explorer": lambda: widgets.temperature_explorer(z, labels=tokens, lang=lang),
        "compare": lambda: widgets.temperature_compare(z, labels=tokens, lang=lang),
        "sampler": lambda: widgets.temperature_sampler(z, n=50, labels=tokens, lang=lang),
        "scaling": lambda: widgets.scaling_explorer(lang=lang),
        "exploration": lambda: widgets.exploration_explorer(lang=lang),
    }
    return make[name]()


def figure_texts(fig):
    return " ".join(t.get_text() for t in texts_of(fig))


@pytest.mark.parametrize("name", ["explorer", "compare", "sampler", "scaling", "exploration"])
def test_korean_widget_figures_have_every_glyph(name):
    demo = make_demo(name, "ko")
    live = demo.live.fig
    assert HANGUL.search(figure_texts(live)), figure_texts(live)
    assert missing_glyphs(live) == ([], set())
    if name in ("explorer", "compare", "sampler"):   # the others show their live picture
        static = demo.static_figure()
        assert HANGUL.search(figure_texts(static)), figure_texts(static)
        assert missing_glyphs(static) == ([], set())


@pytest.mark.parametrize("name", ["explorer", "compare", "sampler", "scaling", "exploration"])
def test_english_widget_figures_have_no_hangul(name):
    demo = make_demo(name, "en")
    texts = figure_texts(demo.live.fig)
    assert "확률" not in texts and "온도" not in texts and "가중치" not in texts
