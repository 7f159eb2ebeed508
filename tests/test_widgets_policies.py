"""The lesson-07 slider demo, driven from Python: state, redraws, and its static fallback."""

import numpy as np
import pytest

import course_lib.widgets as widgets
from course_lib.softmax import entropy, softmax
from course_lib.widgets.policies import exploration_explorer

Q = np.array([1.0, 3.0, 2.0, 0.5])


def test_the_demo_is_exported_by_the_widgets_package():
    assert widgets.exploration_explorer is exploration_explorer
    assert "exploration_explorer" in widgets.__all__


def test_the_slider_sets_the_policy_and_the_readouts():
    demo = exploration_explorer(Q, tau=1.0)
    np.testing.assert_allclose(demo.policy(), softmax(Q))
    demo.tau_slider.value = 0.5  # what moving the slider does
    assert demo.tau == 0.5
    p = softmax(Q / 0.5)
    expected, h, best = demo.summary()
    np.testing.assert_allclose([expected, h, best], [p @ Q, entropy(p), p[1]])
    heights = [bar.get_height() for bar in demo.panel.bars]
    np.testing.assert_allclose(heights, p)
    title = demo.panel.ax.get_title()
    assert "expected reward" in title and f"{p @ Q:.2f}" in title
    assert demo.image.value == demo.png()


def test_temperature_is_exploration():
    demo = exploration_explorer(Q)
    cold, warm, hot = (demo.summary(t) for t in (0.01, 1.0, 100.0))
    assert cold[2] > 0.999 and cold[1] < 1e-3 and abs(cold[0] - Q.max()) < 1e-3
    assert hot[1] > np.log(4) - 1e-3 and abs(hot[0] - Q.mean()) < 0.01
    assert cold[0] > warm[0] > hot[0] and cold[1] < warm[1] < hot[1]


def test_the_static_fallback_is_a_deterministic_png_with_text():
    a, b = exploration_explorer(tau=0.5), exploration_explorer(tau=0.5)
    bundle = a._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "image/png",
                           "application/vnd.jupyter.widget-view+json"}
    png = bundle["image/png"]
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png == b.png()
    assert b"Software" not in png  # no version string: the same bytes on every machine
    assert 10_000 < len(png) < 60_000
    assert bundle["text/plain"].startswith("exploration_explorer(k=10, tau=0.5)")
    a.tau = 3.0
    assert a.png() != png
    a.tau = 0.5
    assert a.png() == png, "redrawing in place gives the same figure back"


def test_the_default_bandit_is_fixed_and_around_four():
    a, b = exploration_explorer(), exploration_explorer()
    assert np.array_equal(a.q, b.q) and a.q.size == 10 and 3 < a.q.mean() < 5


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="q must be a 1-D array"):
        exploration_explorer([1.0])
    with pytest.raises(ValueError, match="tau must be in"):
        exploration_explorer(Q, tau=1000.0)
    with pytest.raises(ValueError, match="temperature"):
        exploration_explorer(Q, tau=-1.0)


def test_model_ids_are_unique_and_sanitized_for_nbval():
    """Like every demo's, the widget's model id is a fresh uuid: unique in a kernel, and of the
    form ``tests/sanitize.cfg`` replaces, so a re-run notebook compares equal under nbval."""
    import configparser
    import re
    from pathlib import Path

    cfg = configparser.ConfigParser()
    cfg.read(Path(__file__).with_name("sanitize.cfg"))
    pattern = cfg["widget model ids"]["regex"]
    demos = [exploration_explorer(Q) for _ in range(3)]
    ids = {d.widget.model_id for d in demos}
    assert len(ids) == 3 and all(re.fullmatch(pattern, i) for i in ids)
    bundle = demos[0]._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == demos[0].model_id


def test_exploration_explorer_speaks_korean_when_asked(monkeypatch):
    from course_lib.widgets import exploration_explorer

    monkeypatch.delenv("SOFTMAX_COURSE_LANG", raising=False)
    english, korean = exploration_explorer(tau=0.5, lang="en"), exploration_explorer(tau=0.5,
                                                                                     lang="ko")
    assert korean.tau_box.description == "온도 τ"
    title = korean.panel.ax.get_title()
    assert "기대 보상" in title and "엔트로피" in title
    assert "$" not in korean.panel.ax.get_xlabel()              # no Hangul in mathtext
    assert korean.summary() == english.summary()
