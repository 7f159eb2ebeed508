"""Lesson 04, temperature: the exercise ``softmax_temperature`` (softmax of z / tau).

Every correct route is accepted, including the renormalised power p ** (1 / tau) of a plain
softmax p. The tests use tau = 0.001, where z / tau reaches 3000 and only a max trick survives.
"""

from __future__ import annotations

import numpy as np

from .. import softmax as sm
from ..grading.exercise import Case, Evidence, Exercise, Mistake
from ..i18n import N_
from .lesson02 import A, S, axis_basics
from .mistakes import FLOAT32, SOFTMAX_LIBRARY, global_max, max_along_another_axis, broken, common, like, unnormalised
from ..grading.registry import register

__all__ = ["SOFTMAX_TEMPERATURE", "SAMPLE_WITH_TEMPERATURE"]


# --- known-wrong implementations ---------------------------------------------------------------
def temperature_multiplied(z, temperature, axis=-1):
    return sm.softmax(np.asarray(z, dtype=float) * temperature, axis)


def power_not_renormalised(z, temperature, axis=-1):
    return sm.softmax(np.asarray(z, dtype=float), axis) ** (1.0 / temperature)


def temperature_ignored(z, temperature, axis=-1):
    return sm.softmax(np.asarray(z, dtype=float), axis)


def temperature_global_max(z, temperature, axis=-1):
    x = np.asarray(z, dtype=float) / temperature
    e = np.exp(x - x.max())
    return e / e.sum(axis=axis, keepdims=True)


def _shifted_tau(z, m, temperature, axis=-1):
    """softmax of z / temperature, shifted by m / temperature."""
    e = np.exp((z - m) / temperature)
    return e / e.sum(axis=axis, keepdims=True)


def REFERENCE(z, temperature, axis=-1):
    """softmax(z / temperature) along axis: the course's own."""
    return sm.softmax(z, axis, temperature=temperature)


def _hidden(rng):
    cases = []
    for shape, axis in (((5,), -1), ((8,), -1), ((3, 4), -1), ((4, 4), 0), ((2, 3, 4), 1)):
        z = rng.normal(0.0, 3.0, shape)
        tau = float(np.exp(rng.uniform(np.log(0.05), np.log(20.0))))
        cases.append(Case("", (z, tau), {"axis": axis}))
    cases.append(Case("", (rng.normal(0.0, 3.0, 6), 0.002), {"axis": -1}))   # z / tau overflows
    cases.append(Case("", (rng.normal(0.0, 1.0, 6), 500.0), {"axis": -1}))
    cases.append(Case("", (rng.integers(-5, 6, 5), int(rng.integers(2, 5))), {"axis": -1}))
    far = rng.normal(0.0, 1.0, (3, 4)) + np.array([[0.0], [-900.0], [900.0]])[rng.permutation(3)]
    cases.append(Case("", (far, float(rng.uniform(0.5, 1.0))), {"axis": -1}))  # rows far apart
    return cases


SOFTMAX_TEMPERATURE = register(Exercise(
    name="softmax_temperature",
    delegates=SOFTMAX_LIBRARY,
    lesson="04",
    params=("z", "temperature"),
    reference=REFERENCE,
    task=N_("softmax_temperature(z, temperature, axis=-1): softmax(z / temperature) along axis"),
    points=2.0,
    rtol=1e-6,
    atol=1e-12,
    public=(
        Case("tau_1", ([1.0, 2.0, 3.0], 1.0)),
        Case("tau_2", ([1.0, 2.0, 3.0], 2.0)),
        Case("tau_half", ([1.0, 2.0, 3.0], 0.5)),
        Case("tau_small", ([1.0, 2.0, 3.0], 0.001)),
        Case("tau_large", ([1.0, 2.0, 3.0], 100.0)),
        Case("mixed_signs", (np.array([20.06, -4.02, 19.14]), 0.2)),
        Case("rows", (A, 0.5), shown=N_("z = [[1, 2, 3], [2, 4, 8]], temperature = 0.5 (default axis=-1)")),
        Case("columns", (A, 2.0), {"axis": 0}),
        Case("square_columns", (S, 3.0), {"axis": 0}),
        Case("int_array", (np.array([1, 2, 3]), 2),
             shown=N_("z = np.array([1, 2, 3]) (integers), temperature = 2")),
        Case("large", (np.array([[1000.0, 0.0, 0.0], [-900.0, -899.0, -897.0]]), 1.0),
             shown=N_("z = [[1000, 0, 0], [-900, -899, -897]] (rows far apart), temperature = 1")),
    ),
    hidden=_hidden,
    mistakes=(common("softmax_temperature(z, temperature, axis=-1)") + (FLOAT32,))
    + axis_basics("softmax_temperature", REFERENCE) + (
        global_max(temperature_global_max),
        max_along_another_axis(_shifted_tau),
        Mistake(N_("temperature multiplied"), like(temperature_multiplied),
                N_("you multiply the logits by the temperature instead of dividing: for {input} you "
                   "get {got}. A higher temperature must flatten the distribution, so use z / tau: "
                   "at tau = 2, [1, 2, 3] gives [0.186, 0.307, 0.506], not [0.016, 0.117, 0.867]."),
                supersedes=("no max trick",)),
        Mistake(N_("powered without renormalising"), like(power_not_renormalised),
                N_("you raise the probabilities to the power 1/tau but do not renormalise: for "
                   "{input} you get {got}, which does not sum to 1. p ** (1 / tau) is only "
                   "proportional to softmax(z / tau); divide it by its sum along the axis."),
                supersedes=("not normalised",)),
        Mistake(N_("temperature ignored"), like(temperature_ignored),
                N_("your result does not depend on the temperature: for {input} you get the plain "
                   "softmax {got}. Divide the logits by it: softmax(z / temperature).")),
        Mistake(N_("no max trick"), broken(),
                N_("your softmax_temperature gives {got} for {input}: exp overflows to inf "
                   "above about 709 (89 in float32) and underflows to 0 below about -745, and "
                   "then inf/inf or 0/0 is nan. Subtract the largest logit first: softmax(z) = "
                   "softmax(z - max(z)), so every exponent is at most 0 and the largest term is "
                   "exactly 1 (lesson 03, the max trick). A small temperature makes z / tau "
                   "huge: the max trick is not optional here.")),
        Mistake(N_("not normalised"), unnormalised(),
                N_("for {input} your values have the right proportions but do not sum to 1: divide "
                   "by their sum along the axis.")),
    ),
))


# --- sample_with_temperature ---------------------------------------------------------------------
# Sampling by the inverse CDF: token i for each uniform u in [c_(i-1), c_i), token 0 from 0 to
# c_0, c the running sum of softmax(z / temperature). The uniforms are an argument, so the result
# is deterministic.


def _sample(p, u):
    c = np.cumsum(p)
    c /= c[-1]  # ends at exactly 1: a u just below 1 never reaches a token of probability 0
    return np.minimum(np.searchsorted(c, np.asarray(u, dtype=float), side="right"), p.size - 1)


def SAMPLE_REFERENCE(z, temperature, u):
    """Inverse-CDF sampling of softmax(z / temperature): the course's own."""
    return _sample(sm.softmax(np.asarray(z, dtype=float), temperature=temperature), u)


def sample_temperature_multiplied(z, temperature, u):
    return _sample(sm.softmax(np.asarray(z, dtype=float) * temperature), u)


def sample_temperature_ignored(z, temperature, u):
    return _sample(sm.softmax(np.asarray(z, dtype=float)), u)


def sample_greedy(z, temperature, u):
    return np.full(np.shape(u), int(np.argmax(z)))


def sample_one_based(z, temperature, u):
    return SAMPLE_REFERENCE(z, temperature, u) + 1


def sample_less_or_equal(z, temperature, u):
    p = sm.softmax(np.asarray(z, dtype=float), temperature=temperature)
    return np.minimum(np.searchsorted(np.cumsum(p), np.asarray(u, dtype=float), side="left"),
                      p.size - 1)


def sample_not_normalised(z, temperature, u):
    x = np.asarray(z, dtype=float) / temperature
    return np.minimum(np.searchsorted(np.cumsum(np.exp(x - x.max())), np.asarray(u, dtype=float),
                                      side="right"), x.size - 1)


def _overflows(case):
    z, tau = np.asarray(case.args[0], dtype=float), float(case.args[1])
    return np.abs(z).max() / tau > 700


def _wrong_only_where_exp_overflows(ev):
    """Right wherever z / tau is moderate, wrong (or an arithmetic error) wherever it is huge."""
    big = [n for n in ev.names() if _overflows(ev.cases[n])]
    small = [n for n in ev.names() if n not in big]
    wrong = [n for n in big if not ev.right(n) and not ev.outcome(n).not_implemented]
    if wrong and small and all(ev.right(n) for n in small) and all(
            _overflow_symptom(ev.outcome(n), ev.expected(n)) for n in wrong):
        return wrong[0]
    return None


def _overflow_symptom(outcome, expected) -> bool:
    """What an overflowed sampler gives: an arithmetic error, or the same token for every u
    (every comparison with a nan cumulative sum is False), wrong for most of them."""
    if outcome.error is not None:
        return outcome.error_type in ("OverflowError", "ZeroDivisionError", "FloatingPointError")
    v = outcome.value
    return (v is not None and v.size > 1 and v.shape == np.shape(expected)
            and bool(np.all(v == v.flat[0])) and np.mean(v != expected) > 0.5)


def _past_the_last_token(ev):
    """A draw equal to K (the number of tokens), one past the last, where K - 1 was expected;
    every other draw right."""
    evidence = None
    for name in ev.names():
        o = ev.outcome(name)
        if ev.right(name) or o.error is not None or not isinstance(o.value, np.ndarray):
            continue
        K = np.size(ev.cases[name].args[0])
        v, expected = o.value, np.asarray(ev.expected(name))
        if v.shape != expected.shape or v.dtype.kind not in "iuf":
            return None
        off = v != expected
        if not (np.all(v[off] == K) and np.all(expected[off] == K - 1)):
            return None
        evidence = evidence or name
    return evidence


def _cannot_cast(ev):
    for name in ev.names():
        error = ev.outcome(name).error
        if error is not None and ("Cannot cast" in error or "casting" in error):
            return name
    return None


def _hidden_samples(rng):
    cases = []
    for k in (3, 5, 8, 10, 4):
        z = rng.normal(0.0, 3.0, k)
        tau = float(np.exp(rng.uniform(np.log(0.05), np.log(20.0))))
        cases.append(Case("", (z, tau, rng.random(int(rng.integers(10, 30))))))
    # z / tau overflows for two logits, the larger one second; the first gets probability 0,
    # and so does every other logit, so u = 0 must draw the larger one (u < c, not u <= c)
    z = rng.normal(0.0, 1.0, 6) - 3.0
    i = int(rng.integers(1, 5))
    j = int(rng.integers(i + 1, 6))
    z[i] = rng.uniform(2.0, 3.0)
    z[j] = z[i] + rng.uniform(0.5, 1.0)
    u = rng.random(12)
    u[rng.integers(12)] = 0.0
    cases.append(Case("", (z, 0.002, u)))
    cases.append(Case("", (rng.normal(0.0, 1.0, 6), 500.0, rng.random(12))))
    cases.append(Case("", (rng.integers(-5, 6, 5), int(rng.integers(2, 5)), rng.random(12))))
    for _ in range(200):  # a running sum that ends a hair below 1, and a u above its end
        z = np.round(rng.normal(0.0, 2.0, 5), 1)
        e = np.exp(z - z.max())
        if np.cumsum(e / e.sum())[-1] < 1.0:
            break
    cases.append(Case("", (z, 1.0, np.append(rng.random(3), ONE_MINUS))))
    return cases


_U = np.array([0.05, 0.2, 0.5, 0.95])
ONE_MINUS = 1.0 - 2.0 ** -53   # the largest float64 below 1: a uniform number can be this
#: softmax(Z_SHORT) summed by np.cumsum ends at 0.9999999999999999, below ONE_MINUS
Z_SHORT = np.array([0.7, 2.6, 1.9, -1.4, -2.5])

SAMPLE_WITH_TEMPERATURE = register(Exercise(
    name="sample_with_temperature",
    delegates=("course_lib.*.sample_with_temperature", "course_lib.policies.inverse_cdf",
               "course_lib.policies.sample_action"),
    lesson="04",
    params=("z", "temperature", "u"),
    reference=SAMPLE_REFERENCE,
    task=N_("sample_with_temperature(z, temperature, u): for each uniform number u, the index of "
            "the token it draws from softmax(z / temperature), by the cumulative probabilities"),
    points=2.0,
    rtol=0.0,
    atol=0.0,
    public=(
        Case("tau_1", ([1.0, 2.0, 3.0], 1.0, _U)),
        Case("tau_2", (np.array([2.0, 0.0, 1.0, -1.0]), 2.0, np.array([0.1, 0.45, 0.55, 0.8, 0.97]))),
        Case("tau_large", ([1.0, 2.0, 3.0], 100.0, np.array([0.1, 0.4, 0.7, 0.99]))),
        Case("tau_small", ([1.0, 2.0, 3.0], 0.001, np.array([0.0, 0.3, 0.9]))),
        Case("rare_token", (np.array([5.0, 1.0, -2.0]), 0.25, np.array([0.5, 0.99999995]))),
        Case("uniform", (np.zeros(4), 1.0, np.array([0.1, 0.3, 0.6, 0.9]))),
        Case("many", (np.array([0.5, -1.0, 2.0, 0.0, 1.5, -0.5]), 0.7,
                      np.linspace(0.01, 0.99, 12))),
        Case("u_list", (np.array([3.0, 1.0]), 2.0, [0.25, 0.5, 0.75])),
        Case("u_near_one", (Z_SHORT, 1.0, np.array([0.5, ONE_MINUS])),
             shown=N_("z = [0.7, 2.6, 1.9, -1.4, -2.5], temperature = 1, "
                      "u = [0.5, 0.9999999999999999] (1 - 2**-53)")),
        Case("int_array", (np.array([1, 2, 3]), 2, np.array([0.1, 0.3, 0.6, 0.9])),
             shown=N_("z = np.array([1, 2, 3]) (integers), temperature = 2, "
                      "u = [0.1, 0.3, 0.6, 0.9]")),
    ),
    hidden=_hidden_samples,
    mistakes=tuple(m for m in common("sample_with_temperature(z, temperature, u)")
                   if m.name not in ("integer input", "computes in float32")) + (
        Mistake(N_("integer input"), _cannot_cast,
                N_("for integer logits {input} your function {got}. An integer array keeps its "
                   "dtype through in-place operations: `z /= temperature` cannot store fractions "
                   "in it. Convert first: `z = np.asarray(z, dtype=float) / temperature`.")),
        Mistake(N_("temperature multiplied"), like(sample_temperature_multiplied),
                N_("you multiply the logits by the temperature instead of dividing: for {input} "
                   "you get {got}. A higher temperature must flatten the distribution you sample "
                   "from: use softmax(z / temperature)."),
                supersedes=("no max trick",)),
        Mistake(N_("temperature ignored"), like(sample_temperature_ignored),
                N_("your draws do not depend on the temperature: for {input} you get {got}, the "
                   "draws of the plain softmax. Sample from softmax(z / temperature).")),
        Mistake(N_("greedy"), like(sample_greedy),
                N_("you return the argmax for every u (greedy decoding): for {input} you get {got}. "
                   "Each u must pick the smallest token i with u < c[i], where c is the running sum "
                   "(np.cumsum) of the probabilities.")),
        Mistake(N_("one-based indices"), like(sample_one_based),
                N_("your token indices start at 1: for {input} you get {got}. numpy indices start "
                   "at 0: the first token is 0, the last K - 1.")),
        Mistake(N_("u <= c instead of u < c"), like(sample_less_or_equal),
                N_("at a boundary you pick the token below it: for {input} you get {got}, and "
                   "u = 0 picks token 0 even when its probability is 0. Token i owns the interval "
                   "from c[i-1] (included) to c[i] (excluded), token 0 from 0: count the c[i] with "
                   "c[i] <= u (np.searchsorted(c, u, side='right')), or loop while u >= c[i]."),
                supersedes=("no max trick",)),
        Mistake(N_("index past the last token"), _past_the_last_token,
                N_("for {input} one of your draws is K, one past the last token (K - 1): the "
                   "running sum of rounded probabilities can end a hair below 1 "
                   "(0.9999999999999999), and a u above that end finds no token."),
                more=N_("Make sure every u lands on a token: clip the index to K - 1 "
                        "(np.minimum), or divide the running sum by its last entry so that it ends "
                        "at exactly 1.")),
        Mistake(N_("not normalised"), like(sample_not_normalised),
                N_("your running sum does not end at 1: for {input} you get {got}. Divide exp(z / "
                   "temperature - max) by its sum before taking np.cumsum, so that c[-1] = 1.")),
        Mistake(N_("no max trick"), _wrong_only_where_exp_overflows,
                N_("your draws are right for moderate logits but for {input} you get {got}: a "
                   "small temperature makes z / temperature huge, exp overflows to inf above about "
                   "709, inf/inf is nan and the running sum is nan. Subtract the largest scaled "
                   "logit first (lesson 03's max trick): x = z / temperature, e = exp(x - max(x)).")),
    ),
))


# --- top_p_filter --------------------------------------------------------------------------------
# Nucleus (top-p) filtering: keep token i when the tokens strictly more likely than it add up to
# less than top_p (top_p = 1 keeps every token), zero the others and renormalise each row.
# The rule depends only on the probabilities, never on the tokens' positions: tied tokens are
# kept or dropped together.

from .. import sampling as _sampling  # noqa: E402  (appended section)


def TOP_P_REFERENCE(p, top_p):
    """Nucleus filtering of each row of p: the course's own."""
    return _sampling.top_p_probs(p, top_p)


def _top_p_sorted(p, top_p, *, keep_rule, scatter=True, sort=True, by_position=True):
    """A top-p filter built the way students build one: sort, running sum, keep, put back."""
    p = np.asarray(p, dtype=float)
    order = np.argsort(-p, axis=-1, kind="stable") if sort else np.broadcast_to(
        np.arange(p.shape[-1]), p.shape)
    s = np.take_along_axis(p, order, axis=-1)
    c = np.cumsum(s, axis=-1)
    keep = keep_rule(c, s, top_p)
    q = s * keep
    if scatter:
        out = np.empty_like(q)
        np.put_along_axis(out, order, q, axis=-1)
        q = out
    return q / q.sum(axis=-1, keepdims=True)


def top_p_position_ties(p, top_p):
    return _top_p_sorted(p, top_p, keep_rule=lambda c, s, t: (c - s < t) | (t >= 1))


def top_p_unsorted(p, top_p):
    return _top_p_sorted(p, top_p, keep_rule=lambda c, s, t: (c - s < t) | (t >= 1), sort=False)


def top_p_sorted_order(p, top_p):
    p = np.asarray(p, dtype=float)
    order = np.argsort(-TOP_P_REFERENCE(p, top_p) - 2 * p, axis=-1, kind="stable")
    return np.take_along_axis(TOP_P_REFERENCE(p, top_p), order, axis=-1)


def top_p_not_renormalised(p, top_p):
    p = np.asarray(p, dtype=float)
    return np.where(TOP_P_REFERENCE(p, top_p) > 0, p, 0.0)


def top_p_sum_without_keepdims(p, top_p):
    p = np.asarray(p, dtype=float)
    q = np.where(TOP_P_REFERENCE(p, top_p) > 0, p, 0.0)
    return q / q.sum(axis=-1)


def _drops_a_token_at_one(ev):
    """A test with top_p = 1 whose result is exactly 0 where a probability was expected (the
    difference can be far below any tolerance: 1e-20 against 0), and no test with top_p = 1
    that drops a token of ordinary probability (that is another mistake)."""
    evidence = None
    for name in ev.names():
        o, case = ev.outcome(name), ev.cases[name]
        expected = ev.expected(name)
        if (float(case.args[1]) >= 1 and isinstance(o.value, np.ndarray)
                and o.value.shape == expected.shape and o.value.dtype.kind == "f"):
            dropped = (o.value == 0) & (expected > 0)
            # only tokens so unlikely that 1 - p rounds to 1: another mistake drops others
            if np.any(expected[dropped] >= 1e-15):
                return None
            evidence = evidence or (name if dropped.any() else None)
    return evidence


def top_p_past_the_boundary(p, top_p):
    p = np.asarray(p, dtype=float)
    above = (p[..., None, :] * (p[..., None, :] > p[..., :, None])).sum(axis=-1)
    q = np.where((above <= top_p) | (top_p >= 1), p, 0.0)
    return q / q.sum(axis=-1, keepdims=True)


def _boundary_dropped(p, t, v, expected) -> bool | None:
    """For one row: None when ``v`` is right, True when it keeps the right tokens but the
    boundary ones (the least likely of those kept, whose running total reaches top_p), so that
    what it keeps adds up to at most top_p, False otherwise. Tied tokens may be dropped together
    or one by one. A row of nan: nothing kept, which fits when the most likely tokens reach
    top_p."""
    if np.allclose(v, expected, rtol=1e-9, atol=1e-12):
        return None
    kept = expected > 0
    if np.all(np.isnan(v)):
        return bool(p[p == p.max()].sum() >= t - 1e-12)
    if not np.all(np.isfinite(v)):
        return False
    s = v > 0
    lost = kept & ~s
    if np.any(s & ~kept) or not lost.any() or not s.any() or p[s].sum() > t + 1e-12:
        return False
    following = p[lost] == p[lost].max()  # the next token, with those tied with it
    if p[s].sum() + p[lost][following].sum() < t - 1e-12:  # they would not have reached top_p
        return False
    return bool(np.all(p[lost] <= p[s].min()) and np.allclose(v[s], p[s] / p[s].sum(), rtol=1e-9))


def _crossing_dropped(ev):
    """On every test with top_p < 1, each row is right or keeps all the right tokens but the
    boundary ones (see :func:`_boundary_dropped`); on one at least it drops them. Tests with
    top_p = 1, and batches the answer cannot handle (an error, another shape), say nothing."""
    evidence = None
    for name in ev.names():
        case, o = ev.cases[name], ev.outcome(name)
        p, t = np.asarray(case.args[0], dtype=float), float(case.args[1])
        if t >= 1:
            continue
        expected = np.asarray(ev.expected(name))
        v = o.value
        if o.error is not None or not isinstance(v, np.ndarray) or v.shape != expected.shape \
                or v.dtype.kind != "f":
            if p.ndim == 1:
                return None
            continue
        rows = zip(np.atleast_2d(p), np.atleast_2d(v), np.atleast_2d(expected))
        verdicts = [_boundary_dropped(*row[:1], t, *row[1:]) for row in rows]
        if False in verdicts:
            return None
        if True in verdicts:
            evidence = evidence or name
    return evidence


def _rows_not_normalised(ev):
    """:func:`~.mistakes.unnormalised` on a test whose rows do not sum to 1 (the rows of an
    answer that drops a token of probability 1e-20 sum to 1 and are proportional to the right
    ones, to within any tolerance)."""
    for name in ev.names():
        v = ev.outcome(name).value
        if isinstance(v, np.ndarray) and v.dtype.kind == "f" and v.size and np.all(np.isfinite(v)) \
                and not np.allclose(v.sum(axis=-1), 1.0, rtol=1e-9, atol=0.0):
            one = Evidence(ev.exercise, [ev.cases[name]], {name: ev.outcome(name)})
            if unnormalised()(one) is not None:
                return name
    return None


def _ties(rng):
    """A row whose boundary falls inside a tie: 1/2, then three tokens of 1/8, then the rest."""
    p = np.array([0.5, 0.125, 0.125, 0.125, 0.0625, 0.0625])
    return rng.permutation(p), float(rng.uniform(0.55, 0.74))   # needs one 1/8, keeps all three


def _hidden_top_p(rng):
    cases = []
    for rows in (1, 3, 4):
        k = int(rng.integers(5, 9))
        scales = rng.permutation(np.array([0.1, 1.0, 8.0, 2.0])[:max(rows, 2)])[:rows]
        z = rng.normal(0.0, 1.0, (rows, k)) * scales[:, None]      # flat, moderate and peaked rows
        p = sm.softmax(z, axis=-1)
        cases.append(Case("", (p[0] if rows == 1 else p, float(rng.uniform(0.3, 0.95)))))
    square = sm.softmax(rng.normal(0.0, 2.0, (4, 4)), axis=-1)
    cases.append(Case("", (square, float(rng.uniform(0.5, 0.9)))))
    p, t = _ties(rng)
    cases.append(Case("", (p, t)))
    q, _ = _ties(rng)
    cases.append(Case("", (np.stack([q, rng.permutation(q)]), t)))
    exact = rng.permutation(np.array([0.5, 0.25, 0.125, 0.0625, 0.0625]))  # sums are exact
    cases.append(Case("", (exact, float(rng.choice([0.5, 0.75, 0.875])))))   # top_p reached
    tiny = rng.permutation(np.array([1.0 - 3e-18, 2e-18, 1e-18]))
    cases.append(Case("", (tiny, 1.0), atol=0.0))
    cases.append(Case("", (sm.softmax(rng.normal(0.0, 1.0, 6)), 1.0)))
    one_hot = np.zeros(5, dtype=np.int64)
    one_hot[rng.integers(5)] = 1
    cases.append(Case("", (one_hot, float(rng.uniform(0.2, 0.9)))))
    return cases


_P4 = np.array([0.1, 0.5, 0.15, 0.25])
_BATCH = np.array([[0.05, 0.6, 0.1, 0.25], [0.25, 0.25, 0.25, 0.25], [0.97, 0.01, 0.01, 0.01]])
_SQUARE = np.array([[0.2, 0.5, 0.3], [0.6, 0.1, 0.3], [0.25, 0.25, 0.5]])

TOP_P_FILTER = register(Exercise(
    name="top_p_filter",
    lesson="04",
    params=("p", "top_p"),
    reference=TOP_P_REFERENCE,
    task=N_("top_p_filter(p, top_p): keep each row's most likely tokens until their probabilities "
            "reach top_p (ties kept together, top_p = 1 keeps all), zero the rest, renormalise"),
    points=2.0,
    rtol=1e-9,
    atol=1e-12,
    public=(
        Case("basic", (_P4, 0.7)),
        Case("first_token_enough", (_P4, 0.4)),
        Case("exactly_reached", (np.array([0.5, 0.25, 0.125, 0.125]), 0.75)),
        Case("tie_at_boundary", (np.array([0.25, 0.5, 0.25]), 0.6)),
        Case("tie_below_boundary", (np.array([0.125, 0.5, 0.125, 0.25]), 0.8)),
        Case("top_p_one", (np.array([0.2, 0.5, 0.3]), 1.0)),
        Case("top_p_one_tiny", (np.array([1.0, 1e-20]), 1.0), atol=0.0),
        Case("batch", (_BATCH, 0.8)),
        Case("square_batch", (_SQUARE, 0.65)),
        Case("list", ([0.3, 0.7], 0.5)),
        Case("int_one_hot", (np.array([0, 0, 1, 0]), 0.9),
             shown=N_("p = np.array([0, 0, 1, 0]) (integers), top_p = 0.9")),
    ),
    hidden=_hidden_top_p,
    mistakes=common("top_p_filter(p, top_p)") + (FLOAT32,) + (
        Mistake(N_("token past top_p kept"), like(top_p_past_the_boundary),
                hint=N_("for {input} you get {got}: you keep a token whose more likely tokens "
                        "already add up to exactly top_p. The nucleus is complete once their mass "
                        "reaches top_p; a token belongs to it only while that mass is still below "
                        "top_p."),
                more=N_("Compare the mass of the strictly more likely tokens with top_p by a "
                        "strict comparison (less than), not less than or equal.")),
        Mistake(N_("token that reaches top_p dropped"), _crossing_dropped,
                hint=N_("you keep only the tokens whose running total stays at or below top_p, so "
                        "the token that carries the total to top_p or past it is dropped: for "
                        "{input} you get {got}. Keep a token when the tokens *before* it (strictly "
                        "more likely) add up to less than top_p: the most likely token is always "
                        "kept, and so is the one that crosses the threshold."),
                supersedes=("not normalised",)),
        Mistake(N_("ties split"), like(top_p_position_ties),
                hint=N_("at a tie on the boundary you keep some of the tied tokens and drop others, "
                        "by their position: for {input} you get {got}. Tokens of equal probability "
                        "must share one fate: compare with the mass of the tokens *strictly* more "
                        "likely than the token (`p[p > p[i]].sum()`), not with a running sum in "
                        "sorted order.")),
        Mistake(N_("not sorted"), like(top_p_unsorted),
                hint=N_("you add up the probabilities in the order they come, not from the most "
                        "likely down: for {input} you get {got}. The nucleus is the set of the "
                        "*most likely* tokens: the tokens before token i are those with a larger "
                        "probability, wherever they sit.")),
        Mistake(N_("returned in sorted order"), like(top_p_sorted_order),
                hint=N_("your result is in sorted order, not in the tokens' own order: for {input} "
                        "you get {got}. Entry i of the result must belong to token i: put the "
                        "values back where they came from (or never move them).")),
        Mistake(N_("top_p = 1 drops a token"), _drops_a_token_at_one,
                hint=N_("with top_p = 1 you drop a token of tiny probability: for {input} you get "
                        "{got}. The mass above it is 1 - p_i, which rounds to exactly 1.0 when "
                        "p_i is below about 1e-16, and 1.0 < 1 is False. top_p = 1 must keep every "
                        "token: treat it as a case of its own."),
                supersedes=("not normalised",)),
        Mistake(N_("sum without keepdims"), like(top_p_sum_without_keepdims),
                hint=N_("for a batch {input} your function gives {got}: q.sum(axis=-1) drops the "
                        "axis, so dividing by it lines the sums up against the wrong entries (or "
                        "fails to broadcast). Use q.sum(axis=-1, keepdims=True)."),
                supersedes=("not normalised",)),
        Mistake(N_("not normalised"), _rows_not_normalised,
                hint=N_("for {input} you keep the right tokens but your row does not sum to 1: "
                        "divide the kept probabilities by their sum, row by row (axis=-1, "
                        "keepdims=True).")),
    ),
))
__all__ += ["TOP_P_FILTER"]
