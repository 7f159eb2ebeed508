"""The temperature demos, driven from Python as a lecturer's clicks would drive them."""

import io
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from course_lib.softmax import entropy, softmax
from course_lib.widgets import temperature_compare, temperature_explorer, temperature_sampler
from course_lib.widgets._core import (PNG_SIGNATURE, BarPanel, LiveFigure, make_figure,
                                      parse_logits)

Z = np.array([2.0, 1.0, 0.5, -1.0, 3.0, 0.0, -2.0, 1.5, 0.25, -0.5])
DEMOS = [temperature_explorer, temperature_compare, temperature_sampler]
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def watch(widget, name="value"):
    seen = []
    widget.observe(lambda change: seen.append(change["new"]), names=name)
    return seen


def png_size(data):
    assert data[:8] == PNG_SIGNATURE
    with Image.open(io.BytesIO(data)) as im:
        return im.size


@pytest.mark.parametrize("demo", DEMOS)
def test_moving_the_slider_updates_plot_and_readout(demo):
    d = demo(Z)
    images, readouts = watch(d.image), watch(d.readout)
    before_image, before_readout = d.image.value, d.readout.value
    d.tau_slider.value = 3.0
    assert len(images) == 1 and images[0] != before_image      # one new picture per move
    assert readouts and readouts[-1] != before_readout
    assert "τ = 3" in d.readout.value
    np.testing.assert_allclose(d.p, softmax(Z / 3.0), rtol=1e-12)


def test_explorer_reads_out_entropy_and_max_probability():
    d = temperature_explorer(Z, tau=0.5, labels=list("abcdefghij"))
    p = softmax(Z / 0.5)
    assert f"H = {float(entropy(p)):.3f} nats" in d.readout.value
    assert f"log 10 = {np.log(10):.3f}" in d.readout.value
    assert f"max p = {p.max():.3f} (token e)" in d.readout.value
    d.tau_slider.value = 2 ** d.tau_slider.max                    # ≈ 20: nearly uniform
    assert float(entropy(d.p)) > 0.99 * np.log(10)
    d.tau_slider.value = 2 ** d.tau_slider.min                    # ≈ 0.05: nearly one-hot
    assert d.p.max() > 0.99 and int(np.argmax(d.p)) == 4


def test_the_slider_spans_005_to_20_on_a_log_scale():
    s = temperature_explorer(Z).tau_slider
    assert type(s).__name__ == "FloatLogSlider"
    assert 0.04 <= s.base ** s.min <= 0.06 and 18 <= s.base ** s.max <= 22
    # 1/4, 1/2, 1, 2, 4 are on the slider's grid (a front end snaps values to it)
    for tau in (0.25, 0.5, 1.0, 2.0, 4.0):
        k = (np.log(tau) / np.log(s.base) - s.min) / s.step
        assert abs(k - round(k)) < 1e-9, tau


def test_editing_the_logits_and_reset():
    d = temperature_explorer([1.0, 2.0, 3.0])
    d.tau_slider.value = 2.0
    d.logits_text.value = "0, 0, 5"
    np.testing.assert_allclose(d.p, softmax(np.array([0.0, 0.0, 5.0]) / 2.0))
    d.logits_text.value = "1, 2, 3, 4, 5"                          # another K: a new chart
    assert len(d.panel.bars) == 5 and d.p.shape == (5,)
    d.logits_text.value = "1, two"                                 # a typo: said, nothing breaks
    assert "could not read 'two'" in d.message.value and d.p.shape == (5,)
    d.reset_button.click()
    assert d.tau_slider.value == 1.0 and d.logits_text.value == "1, 2, 3"
    assert d.message.value == "" and len(d.panel.bars) == 3
    np.testing.assert_allclose(d.p, softmax([1.0, 2.0, 3.0]))


def test_compare_has_two_independent_temperatures():
    d = temperature_compare(Z, taus=(0.5, 2.0))
    right = watch(d.image)
    d.tau_sliders[1].value = 10.0
    assert len(right) == 1
    np.testing.assert_allclose(d.ps[0], softmax(Z / 0.5))
    np.testing.assert_allclose(d.ps[1], softmax(Z / 10.0))
    assert "left, τ = 0.5" in d.readout.value and "right, τ = 10" in d.readout.value
    d.reset_button.click()
    assert [s.value for s in d.tau_sliders] == [0.5, 2.0]


def test_sampler_is_seeded_and_draws_again_on_request():
    a, b = temperature_sampler(Z, n=500, seed=3), temperature_sampler(Z, n=500, seed=3)
    np.testing.assert_array_equal(a.samples, b.samples)
    assert a.samples.shape == (500,) and a.frequencies.sum() == pytest.approx(1.0)
    assert np.abs(a.frequencies - a.p).max() < 0.08                  # 500 draws: within noise
    first = a.samples.copy()
    a.draw_button.click()
    assert not np.array_equal(a.samples, first)
    a.reset_button.click()
    np.testing.assert_array_equal(a.samples, first)
    a.tau_slider.value = 0.05
    assert (a.samples == np.argmax(Z)).mean() > 0.99
    c = temperature_sampler(Z, n=500, seed=4)
    assert not np.array_equal(c.samples, first)


@given(st.lists(st.floats(-20, 20), min_size=2, max_size=12),
       st.floats(0.05, 20), st.integers(0, 2**32 - 1))
def test_sampler_frequencies_follow_the_inverse_cdf(z, tau, seed):
    d = temperature_sampler(z, tau=tau, n=50, seed=seed)
    u = np.random.default_rng([seed, 0]).random(50)
    c = np.cumsum(d.p)
    expected = [min(int(np.sum(c / c[-1] <= x)), len(z) - 1) for x in u]
    np.testing.assert_array_equal(d.samples, expected)
    assert d.p[d.samples].min() > 0 or d.p.min() == 0


@pytest.mark.parametrize("demo", DEMOS)
def test_without_a_widget_front_end_a_static_png_is_shown(demo):
    d = demo(Z)
    bundle = d._repr_mimebundle_()
    assert set(bundle) == {"text/plain", WIDGET_VIEW, "image/png"}
    assert bundle[WIDGET_VIEW]["model_id"] == d.model_id
    width, height = png_size(bundle["image/png"])
    assert width >= 600 and 150 <= height <= 400
    assert len(bundle["image/png"]) < 60_000
    assert demo.__name__ in bundle["text/plain"] and "\n" not in bundle["text/plain"]
    assert demo(Z).static_png() == bundle["image/png"], "the same bytes on every run"


@pytest.mark.parametrize("demo", DEMOS)
def test_the_live_picture_is_a_png_of_the_figure_size(demo):
    d = demo(Z)
    assert png_size(d.image.value) == (int(d.image.width), int(d.image.height))


@pytest.mark.parametrize("demo", DEMOS)
@pytest.mark.parametrize("z, error, words", [
    ([], ValueError, "at least 2 logits"),
    ([1.0], ValueError, "at least 2 logits"),
    ([1.0, np.inf], ValueError, "finite"),
    ([np.nan, 0.0], ValueError, "finite"),
    ([[1.0, 2.0], [3.0, 4.0]], ValueError, "1-D"),
    (["a", "b"], TypeError, "real numbers"),
    ([[1.0], [2.0, 3.0]], ValueError, "1-D vector"),
])
def test_bad_logits_raise_clear_errors(demo, z, error, words):
    with pytest.raises(error, match=words) as exc:
        demo(z)
    assert str(exc.value).startswith("z ")


@pytest.mark.parametrize("kwargs, error, words", [
    ({"tau": 0.0}, ValueError, "tau must be a finite number > 0"),
    ({"tau": float("nan")}, ValueError, "tau must be a finite number > 0"),
    ({"tau": "1"}, TypeError, "tau must be a number"),
    ({"labels": ["a", "b"]}, ValueError, "labels must have one entry per logit"),
])
def test_bad_options_raise_clear_errors(kwargs, error, words):
    with pytest.raises(error, match=words):
        temperature_explorer([1.0, 2.0, 3.0], **kwargs)


def test_bad_sampler_and_compare_options():
    with pytest.raises(ValueError, match="n must be a positive integer"):
        temperature_sampler([1, 2], n=0)
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        temperature_sampler([1, 2], seed=-1)
    with pytest.raises(ValueError, match="taus must be two temperatures"):
        temperature_compare([1, 2], taus=(1.0, 2.0, 3.0))


@pytest.mark.parametrize("demo", DEMOS)
def test_inputs_are_not_modified(demo):
    z = Z.copy()
    labels = [f"t{i}" for i in range(10)]
    d = demo(z, labels=labels)
    d.logits_text.value = "0, 1, 2, 3, 4, 5, 6, 7, 8, 9"
    d.tau_slider.value = 0.1
    np.testing.assert_array_equal(z, Z)
    assert labels == [f"t{i}" for i in range(10)]


def test_integer_and_float32_logits_are_accepted():
    d = temperature_explorer(np.array([1, 2, 3]), tau=2)
    np.testing.assert_allclose(d.p, softmax(np.array([1.0, 2.0, 3.0]) / 2))
    d = temperature_explorer(np.array([1, 2, 3], dtype=np.float32))
    np.testing.assert_allclose(d.p, softmax([1.0, 2.0, 3.0]), rtol=1e-6)


def test_parse_logits_reads_commas_and_spaces():
    np.testing.assert_array_equal(parse_logits(" 1,2  3 ,-4e1 "), [1.0, 2.0, 3.0, -40.0])
    with pytest.raises(ValueError, match="finite"):
        parse_logits("1, inf")


def test_live_figure_redraws_only_what_changes():
    fig, ax = make_figure(figsize=(3, 2), dpi=50)
    live = LiveFigure(fig)
    panel = BarPanel(ax, ["a", "b"])
    live.animate(*panel.artists)
    panel.set([0.2, 0.8])
    first = live.render()
    panel.set([0.8, 0.2])
    second = live.render()
    panel.set([0.2, 0.8])
    assert live.render() == first != second     # restoring the background leaves no trace
    assert [t.get_text() for t in panel.texts] == ["0.20", "0.80"]


def test_bar_panel_colours_per_bar_multi_line_labels_and_no_values():
    fig, ax = make_figure(figsize=(6, 2), dpi=50)
    labels = [f"{a + 1}\n{v:.1f}" for a, v in enumerate(np.linspace(2, 5, 10))]  # 5 chars each
    panel = BarPanel(ax, labels, color=["C0"] * 9 + ["C1"], fmt=None)
    panel.set(np.full(10, 0.1))
    assert panel.texts == [] and panel.artists == panel.bars
    assert panel.bars[0].get_facecolor() != panel.bars[-1].get_facecolor()
    assert all(t.get_rotation() == 0 for t in ax.get_xticklabels())  # widest line: 3 chars
    wide = BarPanel(make_figure()[1], [f"token {i:02d}" for i in range(10)])
    assert all(t.get_rotation() == 45 for t in wide.ax.get_xticklabels())


# --------------------------------------------------------------------------- languages


@pytest.fixture
def no_language(monkeypatch):
    from course_lib.i18n import set_language

    monkeypatch.delenv("SOFTMAX_COURSE_LANG", raising=False)
    set_language(None)
    yield set_language
    set_language(None)


def test_the_demos_speak_korean_when_asked(no_language):
    labels = ["고양이", "개", "물고기"]
    d = temperature_explorer([2.0, 1.0, 0.1], tau=0.5, labels=labels, lang="ko")
    assert d.logits_text.description == "로짓"
    assert d.reset_button.description == "초기화"
    assert d.tau_box.description == "온도 τ"
    assert d.panel.ax.get_ylabel() == "확률"
    p = softmax(np.array([2.0, 1.0, 0.1]) / 0.5)
    assert f"엔트로피 H = {float(entropy(p)):.3f} nats" in d.readout.value
    assert f"최대 확률 p = {p.max():.3f} (토큰 고양이)" in d.readout.value
    s = temperature_sampler([2.0, 1.0, 0.1], n=20, lang="ko")
    assert s.draw_button.description == "다시 뽑기"
    assert "처음 뽑힌 토큰" in s.readout.value and "토큰 3개 중" in s.readout.value
    c = temperature_compare([2.0, 1.0, 0.1], lang="ko")
    assert [sl.description for sl in c.tau_sliders] == ["왼쪽 τ", "오른쪽 τ"]
    assert "<b>왼쪽, τ = 0.5</b>" in c.readout.value


@pytest.mark.parametrize("demo", DEMOS)
def test_korean_readouts_carry_the_same_numbers(demo, no_language):
    english, korean = demo(Z, lang="en"), demo(Z, lang="ko")
    for d in (english, korean):
        d.tau_slider.value = 0.7
    number = re.compile(r"\d+\.\d+|\d+")
    # the same numbers (Korean may order a phrase's numbers differently: "토큰 10개 중 6개")
    assert sorted(number.findall(korean.readout.value)) == sorted(number.findall(english.readout.value))
    assert korean.readout.value != english.readout.value
    assert korean.image.value != english.image.value          # Korean labels on the plot


def test_the_language_is_the_notebooks_at_creation(no_language, monkeypatch):
    no_language("ko")
    d = temperature_explorer(Z)
    assert d.reset_button.description == "초기화"
    no_language("en")                                       # later changes leave it Korean
    d.tau_slider.value = 2.0
    assert "엔트로피" in d.readout.value
    assert temperature_explorer(Z).reset_button.description == "Reset"
    monkeypatch.setenv("SOFTMAX_COURSE_LANG", "ko")         # the environment beats the notebook
    assert temperature_explorer(Z).reset_button.description == "초기화"
    assert temperature_explorer(Z, lang="en").reset_button.description == "Reset"


def test_an_unknown_language_is_a_clear_error(no_language):
    with pytest.raises(ValueError, match="lang must be one of"):
        temperature_explorer(Z, lang="fr")
