"""The checker: it fails every known-wrong implementation and names the mistake, accepts every
correct route, never raises for a wrong answer, and never shows a hidden test's input."""

import copy
import html
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from course_lib.grading import EXERCISES, Case, CheckResult, Outcome, check, exercise, judge
from course_lib.grading.exercise import compare
from course_lib.grading.result import _html_text, show_array
from course_lib.grading.run import run_case
from grading_fixtures import DELEGATED, RIGHT, WRONG

LESSON_01_04 = {
    "softmax": ("01", ("z",)),
    "softmax_axis": ("02", ("z",)),
    "stable_softmax": ("03", ("z",)),
    "logsumexp": ("03", ("z",)),
    "log_softmax": ("03", ("z",)),
    "softmax_temperature": ("04", ("z", "temperature")),
}
SEEDS = (0, 1, 2)


@pytest.fixture(autouse=True)
def strict_detectors(monkeypatch):
    """A mistake detector that raises is a bug: make it fail the test instead of being skipped."""
    monkeypatch.setattr(exercise, "STRICT", True)


def _id(item):
    return f"{item[0]}-{getattr(item[-1], '__name__', 'lambda')}"


def grade_hidden(name, f, seed):
    """What the instructor's grader does: hidden tests, outcomes as data, judged apart."""
    ex = EXERCISES[name]
    cases = ex.hidden_cases(seed)
    outcomes = {c.name: run_case(f, c, ex.returns) for c in cases}
    return judge(ex, cases, outcomes, hidden=frozenset(outcomes)), cases


# --- the registry -------------------------------------------------------------------------------
def test_exercises_of_lessons_01_to_04_are_registered():
    for name, (lesson, params) in LESSON_01_04.items():
        ex = EXERCISES[name]
        assert (ex.lesson, ex.params) == (lesson, params)
        assert ex.points > 0 and len(ex.public) >= 8 and ex.task


@pytest.mark.parametrize("name", list(EXERCISES))
def test_hidden_tests_are_seeded_and_plain_data(name):
    """The same seed draws the same tests, another seed others; what goes into a student's
    kernel is numbers (arrays, lists, ints, floats), never an object it could act on."""
    ex = EXERCISES[name]

    def inputs(seed):
        return np.concatenate([np.ravel(np.asarray(a, dtype=float)) for c in ex.hidden_cases(seed)
                               for a in (*c.args, *c.kwargs.values())])

    assert np.array_equal(inputs(0), inputs(0))
    assert not np.array_equal(inputs(0), inputs(1))
    assert len(ex.hidden_cases(0)) >= 5
    for c in ex.hidden_cases(3):
        for a in (*c.args, *c.kwargs.values()):
            assert isinstance(a, (np.ndarray, list, int, float)) and np.asarray(a).dtype.kind in "biuf"


@pytest.mark.parametrize("name", LESSON_01_04)
def test_every_test_has_square_or_is_1d_and_square_input_is_tested(name):
    shapes = [np.shape(c.args[0]) for c in EXERCISES[name].public]
    if name != "softmax":
        assert any(len(s) == 2 and s[0] == s[1] for s in shapes), "always test square input"


@pytest.mark.parametrize("name", list(EXERCISES))
def test_every_known_mistake_is_proven_by_a_wrong_fixture(name):
    proven = {m for ex, m, _ in WRONG if ex == name}
    registered = {m.name for m in EXERCISES[name].mistakes}
    assert registered <= proven, f"mistakes without a fixture: {registered - proven}"


# --- known mistakes are caught and named --------------------------------------------------------
@pytest.mark.parametrize("item", WRONG, ids=_id)
def test_wrong_implementation_fails_and_the_hint_names_the_mistake(item):
    name, mistake, f = item
    result = check(name, f, show=False)
    assert not result.passed and result.status == "failed"
    assert result.score < result.max_score
    names = [n for n, _ in result.mistakes]
    assert mistake in names
    hint = dict(result.mistakes)[mistake]
    text = str(result)
    assert f"Likely mistake, {mistake}: {hint}" in text
    assert _html_text(hint) in result._repr_html_()
    shown = [f for f in result.failures if f.mistake == mistake]
    assert shown and shown[0].hint == hint, "the failure that shows the mistake carries its hint"
    template = next(m.hint for m in EXERCISES[name].mistakes if m.name == mistake)
    if "{input}" in template:
        assert shown[0].input in hint, "the hint shows the input that broke"


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("item", WRONG, ids=_id)
def test_wrong_implementation_fails_the_hidden_tests_without_seeing_them(item, seed):
    name, mistake, f = item
    result, cases = grade_hidden(name, f, seed)
    assert not result.passed
    assert mistake in [n for n, _ in result.mistakes]
    text = str(result) + result._repr_html_()
    template = next(m.hint for m in EXERCISES[name].mistakes if m.name == mistake)
    if "{input}" in template:
        assert "one of the hidden tests" in dict(result.mistakes)[mistake]
    for failure in result.failures:
        assert failure.hidden and failure.input is None
    for c in cases:  # no hidden input appears in what the student sees
        for a in c.args:
            if np.size(a) > 1 and np.asarray(a).dtype.kind == "f" and np.any(np.mod(a, 1)):
                assert show_array(a) not in text and show_array(a, one_line=True) not in text
                for v in map(show_array, np.ravel(a)):
                    if len(v.strip("-").replace(".", "").lstrip("0")) >= 6:
                        assert v not in text  # a random hidden value, as the checker shows it


def test_no_max_trick_names_the_input_and_the_nan():
    result = check("softmax", WRONG[0][2], show=False)
    assert "your softmax gives [nan, 0, 0] for z = [1000, 0, 0]" in str(result)
    assert "Subtract the largest logit first" in str(result)


def test_float32_breaks_at_89_without_the_max_trick():
    from grading_fixtures import softmax_no_max_keeps_dtype

    result = check("softmax", softmax_no_max_keeps_dtype, show=False)
    assert "float32_89" in [f.test for f in result.failures]
    result = check("stable_softmax", softmax_no_max_keeps_dtype, show=False)
    assert "float32_89" in [f.test for f in result.failures]


def test_temperature_multiplied_states_the_numbers():
    from grading_fixtures import temperature_multiplied

    text = str(check("softmax_temperature", temperature_multiplied, show=False))
    assert "[0.186, 0.307, 0.506], not [0.016, 0.117, 0.867]" in text
    assert "got      [0.01587624, 0.11731043, 0.86681333]" in text


def test_shares_caught_and_named_are_100_percent():
    caught = sum(not check(n, f, show=False).passed for n, _, f in WRONG)
    named = sum(m in [x for x, _ in check(n, f, show=False).mistakes] for n, m, f in WRONG)
    accepted = sum(check(n, f, show=False).passed for n, f in RIGHT)
    assert (caught, named, accepted) == (len(WRONG), len(WRONG), len(RIGHT))


# --- correct routes are accepted ----------------------------------------------------------------
@pytest.mark.parametrize("item", RIGHT, ids=_id)
def test_correct_alternative_passes(item):
    name, f = item
    result = check(name, f, show=False)
    assert result.passed, str(result)
    assert result.score == result.max_score and not result.failures and not result.mistakes
    for seed in SEEDS:
        assert grade_hidden(name, f, seed)[0].passed


@pytest.mark.parametrize("name", list(EXERCISES))
def test_the_reference_passes_public_and_hidden_tests(name):
    """The reference gives every expected value; it is course_lib's own function, so check
    reports it as delegating (right values, no points) rather than passing it."""
    ex = EXERCISES[name]
    result = check(name, ex.reference, show=False)
    assert result.n_passed == result.n_tests and not result.failures
    assert result.passed or (result.delegated and result.delegated.startswith("course_lib."))
    for seed in range(10):
        result = grade_hidden(name, ex.reference, seed)[0]
        assert result.n_passed == result.n_tests and not result.failures


# --- delegating to a library ----------------------------------------------------------------------
@pytest.mark.parametrize("item", DELEGATED, ids=_id)
def test_an_answer_that_calls_the_library_gets_no_points(item):
    name, f, function = item
    result = check(name, f, show=False)
    assert result.delegated == function and not result.passed
    assert result.score == 0.0 and result.status == "failed"
    assert result.n_passed == result.n_tests  # its values are right: it is the call that is not
    assert function in str(result) and "earns no points" in str(result)
    assert f"<code>{function}</code>" in result._repr_html_()
    hidden, _ = grade_hidden(name, f, 0)
    assert hidden.delegated == function and hidden.score == 0.0


def test_delegation_is_seen_by_what_runs_not_by_the_text():
    """An import under another name, a call through a helper: the call itself is recorded."""
    import importlib

    lib = importlib.import_module("course_lib.softmax")
    helper = {"f": getattr(lib, "soft" + "max")}

    def softmax(z):
        return helper["f"](np.asarray(z, dtype=float))

    assert check("softmax", softmax, show=False).delegated == "course_lib.softmax.softmax"
    # a softmax used inside cross_entropy is legitimate: only cross_entropy's own job counts
    from scipy.special import log_softmax

    def cross_entropy(z, y):
        return -np.mean(log_softmax(np.asarray(z, dtype=float), axis=1)[np.arange(len(y)), y])

    result = check("cross_entropy", cross_entropy, show=False)
    assert result.passed and result.delegated is None


def test_delegation_travels_as_plain_data():
    """The batch grader's kernel side records the library calls in its JSON outcome."""
    import json

    from course_lib.grading.run import call

    data = call(lambda z: __import__("scipy.special").special.softmax(z), ([1.0, 2.0],), {})
    assert json.loads(json.dumps(data["library_calls"])) == ["scipy.special.softmax"]
    outcome = Outcome(value=data["value"], library_calls=tuple(data["library_calls"]))
    result = judge(EXERCISES["softmax"], [EXERCISES["softmax"].public[0]],
                   {EXERCISES["softmax"].public[0].name: outcome})
    assert result.delegated == "scipy.special.softmax" and result.score == 0.0
    # a grader that decided it itself may set Outcome.delegated directly
    outcome = Outcome(value=data["value"], delegated="course_lib.softmax.softmax")
    result = judge(EXERCISES["softmax"], [EXERCISES["softmax"].public[0]],
                   {EXERCISES["softmax"].public[0].name: outcome})
    assert result.delegated == "course_lib.softmax.softmax"


# --- a stub, and answers that are not answers ---------------------------------------------------
def test_a_stub_is_not_implemented_yet_kindly():
    def softmax(z):
        raise NotImplementedError("softmax: replace this line with your code")

    result = check("softmax", softmax, show=False)
    assert (result.status, result.passed, result.score, result.max_score) == (
        "not implemented", False, 0.0, 2.0)
    assert "not implemented yet" in str(result)
    assert "Traceback" not in str(result) and "NotImplementedError(...)" in str(result)


def _raises(exc):
    def f(z, *args, **kwargs):
        raise exc

    return f


class _BadArray:
    def __array__(self, dtype=None, copy=None):
        raise RuntimeError("no")


def _recurse(z):
    return _recurse(z)


HOSTILE = [
    lambda z: "probabilities",
    lambda z: {"p": 1},
    lambda z: _BadArray(),
    lambda z: (x for x in z),
    lambda z: np.array([1 + 1j, 0, 0]),
    _raises(SystemExit(3)),
    _raises(ValueError("<script>alert(1)</script>")),
    _raises(MemoryError()),
    _recurse,
    lambda z: np.asmatrix([[0.1, 0.2, 0.7]]),
    print,
]


@pytest.mark.parametrize("f", HOSTILE)
def test_check_never_raises_for_a_wrong_answer(f):
    result = check("softmax", f, show=False)
    assert isinstance(result, CheckResult) and not result.passed and result.score == 0
    assert "<script>" not in result._repr_html_()
    str(result)


@pytest.mark.parametrize("name, obj, says", [
    ("softmx", lambda z: z, "Did you mean 'softmax'"),
    (None, lambda z: z, "There is no exercise named None"),
    ("softmax", [0.1, 0.2, 0.7], "check needs the function itself, but got a list"),
])
def test_check_explains_a_wrong_call(name, obj, says):
    result = check(name, obj, show=False)
    assert result.status == "error" and says in str(result)


def test_check_leaves_the_tests_inputs_alone():
    from grading_fixtures import axis_in_place, softmax_in_place

    before = copy.deepcopy([(c.args, c.kwargs) for ex in EXERCISES.values() for c in ex.public])
    check("softmax", softmax_in_place, show=False)
    check("softmax_axis", axis_in_place, show=False)
    after = [(c.args, c.kwargs) for ex in EXERCISES.values() for c in ex.public]
    for (a, _), (b, _) in zip(before, after):
        for x, y in zip(a, b):
            assert np.array_equal(np.asarray(x), np.asarray(y))


def test_a_checker_bug_becomes_a_message_not_an_exception(monkeypatch):
    monkeypatch.setattr(exercise, "STRICT", False)

    def broken_detector(ev):
        raise ZeroDivisionError

    ex = EXERCISES["softmax"]
    bad = exercise.Mistake("broken", broken_detector, "")
    monkeypatch.setitem(EXERCISES, "softmax", exercise.Exercise(**{**ex.__dict__, "mistakes": (bad,)}))
    result = check("softmax", WRONG[0][2], show=False)
    assert result.status == "failed"  # the detector is skipped, the verdict stands


# --- showing the result -------------------------------------------------------------------------
def test_outside_jupyter_check_prints_plain_text(capsys):
    from grading_fixtures import softmax_lists_max

    result = check("softmax", softmax_lists_max)
    out = capsys.readouterr().out
    assert out.strip() == str(result) == "✓ softmax: all 10 tests passed (2 / 2 points)"


def test_html_is_compact_and_escaped():
    result = check("softmax", _raises(TypeError("a < b & c")), show=False)
    page = result._repr_html_()
    assert "a &lt; b &amp; c" in page and "a < b" not in page
    assert len(page) < 4000
    assert re.search(r"<div style=\"border-left:4px solid var\(--jp-warn-color0, #[0-9a-f]{6}\)",
                     page), "JupyterLab's theme colour (readable in its dark theme), with a fallback"
    assert "color:#" not in page.replace("#1a7f37", "")  # no fixed colour but a pass's green


def test_html_text_keeps_the_themes_font_colour():
    """The status colour marks the bar only: no theme colour reads as text on both JupyterLab
    themes (measured in tests/test_lab_browser.py)."""
    from grading_fixtures import softmax_lists_max

    results = [check("softmax", softmax_lists_max, show=False),
               check("softmax", lambda z: np.exp(np.asarray(z, float)), show=False),
               check("softmax", _raises(NotImplementedError("todo")), show=False),
               check("softmax", "not a function", show=False)]
    assert sorted({r.status for r in results}) == ["error", "failed", "not implemented", "passed"]
    for result in results:
        page = result._repr_html_()
        assert re.search(r"(?<![-\w])color:", page) is None, page
        assert re.match(r'<div style="border-left:4px solid var\(--jp-[a-z0-9-]+, #[0-9a-f]{6}\)',
                        page), page


# --- comparisons --------------------------------------------------------------------------------
finite = hnp.arrays(np.float64, hnp.array_shapes(max_dims=3, max_side=5),
                    elements=st.floats(-1e6, 1e6, allow_subnormal=False))


@given(finite)
def test_compare_accepts_the_expected_value_itself(x):
    assert compare(Outcome(value=x.copy()), x, rtol=1e-7, atol=1e-12) is None


@given(finite, st.floats(1e-5, 1.0))
def test_compare_rejects_a_relative_error_beyond_the_tolerance(x, rel):
    x = x + np.sign(x) + (x == 0)  # every entry at least 1 away from 0
    got = x * (1 + rel)
    assert compare(Outcome(value=got), x, rtol=1e-7, atol=1e-12).startswith(("the values differ",
                                                                              "the value differs"))


@given(finite)
def test_compare_checks_shape_before_values(x):
    got = np.append(x.ravel(), 0.0)
    assert compare(Outcome(value=got), x, rtol=1e-7, atol=0).startswith("the shape is")


def test_compare_names_nan_and_inf():
    e = np.array([0.5, 0.5])
    assert compare(Outcome(value=np.array([np.nan, 0.5])), e, rtol=1e-7, atol=0) == \
        "nan where a number was expected"
    assert compare(Outcome(value=np.array([np.inf, 0.5])), e, rtol=1e-7, atol=0) == \
        "inf where a finite number was expected"


def test_score_is_in_proportion_to_the_tests_passed():
    ex = EXERCISES["softmax"]
    cases = list(ex.public)
    outcomes = {c.name: Outcome(value=np.asarray(ex.expected(c))) for c in cases}
    outcomes[cases[0].name] = Outcome(error="ValueError: no")
    result = judge(ex, cases, outcomes)
    assert result.n_passed == len(cases) - 1
    assert result.score == round(ex.points * (len(cases) - 1) / len(cases), 2)


def test_a_case_describes_its_input():
    assert Case("t", ([1.0, 2.0],), {"axis": 0}).describe(("z",)) == "z = [1, 2], axis = 0"


logits = hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=6),
                    elements=st.floats(-1000, 1000, allow_subnormal=False))


@given(logits, st.integers(-1, 2), st.floats(0.05, 20.0))
def test_any_textbook_implementation_is_accepted_on_any_logits(z, axis, tau):
    """The tolerances leave room for every correct route: scipy's functions, computed another
    way, pass each exercise's comparison on arbitrary logits."""
    import scipy.special as sc

    axis = min(axis, z.ndim - 1)
    routes = {
        "softmax_axis": ((z,), {"axis": axis}, sc.softmax(z, axis=axis)),
        "stable_softmax": ((z,), {"axis": axis}, np.exp(sc.log_softmax(z, axis=axis))),
        "logsumexp": ((z,), {"axis": axis}, sc.logsumexp(z, axis=axis)),
        "log_softmax": ((z,), {"axis": axis}, z - sc.logsumexp(z, axis=axis, keepdims=True)),
        "softmax_temperature": ((z, tau), {"axis": axis}, sc.softmax(z / tau, axis=axis)),
    }
    for name, (args, kwargs, value) in routes.items():
        ex = EXERCISES[name]
        case = Case("h", args, kwargs)
        outcome = Outcome(value=np.asarray(value))
        assert compare(outcome, ex.expected(case), rtol=ex.rtol, atol=ex.atol) is None, name


# --- feedback details (issue 16) ------------------------------------------------------------------
def test_hints_come_in_two_steps():
    from grading_fixtures import softmax_no_max

    result = check("softmax", softmax_no_max, show=False)
    more = result.more_help["no max trick"]
    assert more and more not in str(result) and "check(..., hints=2)" in str(result)
    assert f"More help: {more}" in result.text(hints=2)
    page = result._repr_html_()
    assert "<details" in page and "<summary>More help</summary>" in page
    assert _html_text(more) in page


def test_old_style_mistakes_with_one_hint_still_work():
    from course_lib.grading import Mistake

    m = Mistake("x", lambda ev: None, "one hint")
    assert (m.hint, m.more, m.supersedes) == ("one hint", "", ())


def test_inline_code_is_code_in_the_html_not_backticks():
    from grading_fixtures import softmax_in_place

    page = check("softmax", softmax_in_place, show=False)._repr_html_()
    assert "`" not in page and "<code>-=</code>" in page


def test_a_changed_input_shows_it_before_and_after():
    from grading_fixtures import softmax_in_place

    result = check("softmax", softmax_in_place, show=False)
    failure = next(f for f in result.failures if f.problem == "it changed the array it was given")
    assert failure.changed and "expected" not in "\n".join(failure.lines())
    assert failure.got == "z: before the call [5, 1, -2], after [0, -4, -7]"


def test_an_error_shows_the_line_of_the_learners_code_that_raised_it():
    def softmax(z):
        z = np.asarray(z, dtype=float)
        e = np.exp(z - z.max(axis=1))  # no axis 1 in a vector
        return e / e.sum()

    result = check("softmax", softmax, show=False)
    assert "e = np.exp(z - z.max(axis=1))  # no axis 1 in a vector" in str(result)
    assert "test_grading.py, line" in str(result)


def test_the_kernel_side_records_library_calls_and_the_raising_line(tmp_path):
    """run.py's source runs in a student's kernel (exec'd, without __file__): the outcome it
    writes carries the library calls and the learner's line that raised."""
    import inspect
    import json

    import course_lib.grading.run as run_module

    ns = {"__name__": "kernel"}
    exec(inspect.getsource(run_module), ns)

    def softmax(z):
        import scipy.special
        return scipy.special.softmax(z)

    def broken(z):
        return np.asarray(z).max(axis=3)

    calls = [{"id": "a", "function": "softmax", "args": [{"json": [1.0, 2.0]}], "kwargs": {}},
             {"id": "b", "function": "broken", "args": [{"json": [1.0, 2.0]}], "kwargs": {}}]
    (tmp_path / "request.json").write_text(json.dumps({"calls": calls}))
    ns["run_requests"]({"softmax": softmax, "broken": broken}, str(tmp_path))
    a, b = (json.loads(line)["outcome"] for line in (tmp_path / "outcomes.jsonl").read_text().splitlines())
    assert a["library_calls"] == ["scipy.special.softmax"] and a["where"] is None
    assert b["error"].startswith("AxisError") and b["where"].endswith(
        "return np.asarray(z).max(axis=3)")
