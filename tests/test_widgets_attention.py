"""Lesson 06's slider demo, driven from Python: the controls change the readout and the figure,
the figure is reproducible, and the object shows a PNG wherever widgets cannot render."""

import numpy as np
import pytest

from course_lib import widgets
from course_lib.softmax import softmax
from course_lib.widgets.attention import D_K, attention_row, scaling_explorer


def test_it_is_exported_by_the_widgets_package():
    assert widgets.scaling_explorer is scaling_explorer and "scaling_explorer" in widgets.__all__


def test_the_slider_changes_the_readout_and_the_image():
    demo = scaling_explorer(d_k=4)
    readout, image = demo.readout.value, bytes(demo.image.value)
    assert readout == f"d_k = 4, unscaled: largest weight {attention_row(4, scaled=False).max():.3f}"
    demo.slider.value = 1024
    assert demo.readout.value.startswith("d_k = 1024, unscaled: largest weight ")
    assert demo.readout.value != readout and bytes(demo.image.value) != image
    assert image.startswith(b"\x89PNG") and bytes(demo.image.value) == demo.png()


def test_the_toggle_scales_the_scores_by_one_over_sqrt_dk():
    demo = scaling_explorer(d_k=256)
    unscaled = demo.weights()
    demo.toggle.value = True
    scaled = demo.weights()
    rng = np.random.default_rng([0, 256])  # the demo's query and keys for d_k = 256
    q, k = rng.standard_normal(256), rng.standard_normal((16, 256))
    np.testing.assert_allclose(unscaled, softmax(k @ q))
    np.testing.assert_allclose(scaled, softmax(k @ q / 16.0))
    assert demo.readout.value == f"d_k = 256, scaled by 1/√d_k: largest weight {scaled.max():.3f}"
    assert [b.get_height() for b in demo.panel.bars] == pytest.approx(list(scaled))


def test_unscaled_rows_saturate_as_dk_grows_and_scaled_ones_do_not():
    largest = {s: [attention_row(d, scaled=s, seed=s_).max() for d in D_K for s_ in range(5)]
               for s in (False, True)}
    assert np.mean(largest[False][-10:]) > 0.9 > np.mean(largest[True][-10:])


def test_the_png_is_byte_reproducible_and_in_the_mime_bundle():
    a, b = scaling_explorer(d_k=64), scaling_explorer(d_k=64)
    assert a.png() == b.png()
    a.slider.value, a.slider.value = 128, 64  # back to the same state: the same bytes
    assert a.png() == b.png()
    bundle = a._repr_mimebundle_()
    assert bundle["image/png"] == a.png()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/plain"] == "<scaling explorer: " + a.readout.value + ">"
    assert 5_000 < len(a.png()) < 60_000


@pytest.mark.parametrize("kwargs, error", [
    (dict(d_k=3), ValueError), (dict(d_k=True), ValueError), (dict(scaled=1), TypeError),
    (dict(n_keys=1), ValueError), (dict(n_keys=2.0), ValueError), (dict(seed=-1), ValueError),
])
def test_bad_arguments_are_named(kwargs, error):
    with pytest.raises(error, match=next(iter(kwargs))):
        scaling_explorer(**kwargs)


def test_scaling_explorer_speaks_korean_when_asked(monkeypatch):
    from course_lib.widgets import scaling_explorer

    monkeypatch.delenv("SOFTMAX_COURSE_LANG", raising=False)
    demo = scaling_explorer(d_k=256, lang="ko")
    assert demo.readout.value == "d_k = 256, 스케일링 없음: 최대 가중치 1.000"
    assert [label for label, _ in demo.toggle.options] == ["스케일링 없음", "1/√d_k로 스케일링"]
    demo.toggle.value = True
    assert demo.readout.value == "d_k = 256, 1/√d_k로 스케일링: 최대 가중치 0.368"
    ax = demo.panel.ax
    assert ax.get_xlabel() == "키 j" and "$" not in ax.get_ylabel()   # no Hangul in mathtext
