"""Exercises whose function returns a tuple (``Exercise.returns``), e.g. attention's
``(output, weights)``: each value is compared on its own, failures name the wrong value, known
mistakes are recognised value by value, and the notebook grader brings tuples back as ``.npy``."""

import numpy as np
import pytest

from course_lib.grading import Case, Exercise, Mistake, check, judge
from course_lib.exercises.mistakes import broken, common, like
from course_lib.batch.notebook import grade_notebook
from course_lib.softmax import softmax

import nbformat


def weighted(z, v):
    """The weights softmax(z) and the weighted sum of v's rows: (output, weights)."""
    p = softmax(np.asarray(z, dtype=float))
    return p @ np.asarray(v, dtype=float), p


def weighted_no_max(z, v):
    e = np.exp(np.asarray(z, dtype=float))
    p = e / e.sum()
    return p @ np.asarray(v, dtype=float), p


def weighted_swapped(z, v):
    out, p = weighted(z, v)
    return p, out


V = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
TOY = Exercise(
    name="weighted_toy", lesson="99", params=("z", "v"), reference=weighted,
    task="weighted_toy(z, v) -> (output, weights)", points=2.0, returns=("output", "weights"),
    public=(Case("small", ([1.0, 2.0, 3.0], V)), Case("large", ([1000.0, 0.0, 0.0], V))),
    hidden=lambda rng: [Case("", (rng.normal(size=3), rng.normal(size=(3, 2))))],
    mistakes=common("weighted_toy(z, v)") + (
        Mistake("swapped", like(weighted_swapped), "you return (weights, output) for {input}."),
        Mistake("no max trick", broken(), "for {input} you get {got}: subtract the max."),
    ),
)


@pytest.fixture
def toy(monkeypatch):
    from course_lib.grading import registry

    monkeypatch.setitem(registry.EXERCISES, TOY.name, TOY)
    return TOY


def test_a_right_tuple_passes_and_each_value_is_compared(toy):
    assert check("weighted_toy", weighted, show=False).passed
    assert check("weighted_toy", lambda z, v: list(weighted(z, v)), show=False).passed

    def wrong_weights(z, v):
        out, p = weighted(z, v)
        return out, p + 0.1

    result = check("weighted_toy", wrong_weights, show=False)
    assert not result.passed
    assert result.failures[0].problem.startswith("weights: the values differ")
    assert "output = " in result.failures[0].got and "weights = " in result.failures[0].expected


def test_known_mistakes_are_recognised_value_by_value(toy):
    swapped = check("weighted_toy", weighted_swapped, show=False)
    assert [m for m, _ in swapped.mistakes] == ["swapped"]
    no_max = check("weighted_toy", weighted_no_max, show=False)
    assert "no max trick" in [m for m, _ in no_max.mistakes]
    assert "weights = [nan, 0, 0]" in no_max.failures[0].got


@pytest.mark.parametrize("returned, says", [
    (lambda z, v: weighted(z, v)[0], "not a tuple (output, weights)"),
    (lambda z, v: weighted(z, v)[:1], "tuple of 1 value, not a tuple (output, weights)"),
    (lambda z, v: (weighted(z, v)[0], "p"), "weights (value 2 of the tuple) returned a str"),
    (lambda z, v: None, "returned None"),
])
def test_a_result_of_the_wrong_form_is_named(toy, returned, says):
    result = check("weighted_toy", returned, show=False)
    assert not result.passed and says in result.failures[0].got


def test_judge_reads_tuples_as_plain_data(toy):
    from course_lib.grading import Outcome

    cases = list(toy.public)
    outcomes = {c.name: Outcome(value=tuple(np.asarray(x) for x in weighted(*c.args))) for c in cases}
    assert judge(toy, cases, outcomes).passed


def test_the_notebook_grader_brings_tuples_back_and_judges_them(toy, tmp_path):
    import inspect

    nb = nbformat.v4.new_notebook()
    source = "import numpy as np\nfrom course_lib.softmax import softmax\n" + inspect.getsource(weighted)
    nb.cells = [nbformat.v4.new_code_cell(source.replace("def weighted(", "def weighted_toy("))]
    path = tmp_path / "99_toy.ipynb"
    nbformat.write(nb, path)
    report = grade_notebook(path, seed=3, exercises=["weighted_toy"])
    assert report.status == "graded" and report.results[0].passed, report.summary(verbose=True)
    assert report.results[0].n_tests == 3  # two public tests and one hidden
