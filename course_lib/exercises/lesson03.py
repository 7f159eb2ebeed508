"""Lesson 03, overflow and the max trick: ``stable_softmax``, ``logsumexp`` and ``log_softmax``.

Every function has no overflow and no nan for finite logits, in float64 and float32 alike;
``stable_softmax`` and ``logsumexp`` are finite for any finite logits, ``log_softmax`` wherever
the true log-probability is a float (for [1e308, -1e308] it is -2e308, so -inf). The tests push
``exp`` past its limits: ``exp(710)`` is inf in float64 and ``exp(89)`` in float32.
"""

from __future__ import annotations

import numpy as np

from .. import softmax as sm
from ..grading.exercise import Case, Exercise, Mistake
from ..i18n import N_
from .lesson01 import hidden_vectors
from .lesson02 import OFFSET_ROWS, A, S, axis_basics, axis_mistakes, hidden_arrays
from .mistakes import FLOAT32, SOFTMAX_LIBRARY, global_max, broken, common, like
from .mistakes import like_any, max_along_another_axis
from .mistakes import _is_broken
from ..grading.registry import register

__all__ = ["STABLE_SOFTMAX", "LOGSUMEXP", "LOG_SOFTMAX"]

F32 = np.float32


def _hidden(rng):
    return hidden_vectors(rng)[:7] + hidden_arrays(rng)


def _hidden_log_softmax(rng):
    tiny = np.array([0.0, -float(rng.uniform(760.0, 900.0)), 1.0])  # exp(-760) is 0 in float64
    return _hidden(rng) + [Case("", (rng.permutation(tiny),))]


def _shared_cases(extreme=True):
    """Tests every lesson-03 function gets: huge, tiny and spread logits, float32, 2-D, square.

    ``extreme`` adds [1e308, -1e308], whose log-softmax -2e308 is not a float64 (so it is left
    out for ``log_softmax``, finite only where the true log-probability is a float). ``rows``
    leaves ``axis`` at its default, so a default other than -1 shows on 2-D input.
    """
    cases = (
        Case("seed_123", ([1.0, 2.0, 3.0],)),
        Case("large", (np.array([1000.0, 0.0, 0.0]),)),
        Case("very_negative", (np.array([-1000.0, -1000.0, -1000.0]),)),
        Case("spread", (np.array([800.0, 0.0, -800.0]),)),
        Case("float32_89", (np.array([89.0, 0.0, 0.0], dtype=F32),), rtol=1e-5, atol=1e-7),
        Case("rows", (A,), shown=N_("z = [[1, 2, 3], [2, 4, 8]] (default axis=-1)")),
        Case("columns", (A,), {"axis": 0}),
        Case("square_rows", (S,), {"axis": -1}),
        Case("square_columns", (S,), {"axis": 0}),
        Case("offset_rows", (OFFSET_ROWS,), {"axis": -1}),
        Case("int_array", (np.array([[1, 2, 3], [3, 2, 1]]),), {"axis": -1},
             shown=N_("z = np.array([[1, 2, 3], [3, 2, 1]]) (integers), axis = -1")),
    )
    return cases + (Case("extreme", (np.array([1e308, -1e308]),)),) if extreme else cases


STABLE_SOFTMAX = register(Exercise(
    name="stable_softmax",
    delegates=SOFTMAX_LIBRARY,
    lesson="03",
    params=("z",),
    reference=lambda z, axis=-1: sm.softmax(z, axis),
    task=N_("stable_softmax(z, axis=-1): softmax along axis, finite for any finite logits"),
    points=2.0,
    public=_shared_cases(),
    hidden=_hidden,
    mistakes=(common("stable_softmax(z, axis=-1)") + (FLOAT32,))
    + axis_mistakes("stable_softmax"),
))


# --- logsumexp ----------------------------------------------------------------------------------
def lse_without_max_back(z, axis=-1):
    z = np.asarray(z, dtype=float)
    m = z.max(axis=axis, keepdims=True)
    return np.log(np.exp(z - m).sum(axis=axis))


def lse_keepdims(z, axis=-1):
    return sm.logsumexp(np.asarray(z, dtype=float), axis, keepdims=True)


def lse_global_max(z, axis=-1):
    z = np.asarray(z, dtype=float)
    m = z.max()
    return m + np.log(np.exp(z - m).sum(axis=axis))


def lse_max_without_keepdims(z, axis=-1):
    z = np.asarray(z, dtype=float)
    m = z.max(axis=axis)
    return m + np.log(np.exp(z - m).sum(axis=axis))


def lse_minus_log(z, axis=-1):
    z = np.asarray(z, dtype=float)
    m = z.max(axis=axis, keepdims=True)
    return m.squeeze(axis=axis) - np.log(np.exp(z - m).sum(axis=axis))


def lse_plus_shift(z, axis=-1):
    z = np.asarray(z, dtype=float)
    m = z.max(axis=axis, keepdims=True)
    return m.squeeze(axis=axis) + np.log(np.exp(z + m).sum(axis=axis))


def lse_exp_not_shifted(z, axis=-1):
    z = np.asarray(z, dtype=float)
    m = z.max(axis=axis, keepdims=True)
    return m.squeeze(axis=axis) + np.log(np.exp(z).sum(axis=axis))


def lse_max_along_axis_0(z, axis=-1):
    z = np.asarray(z, dtype=float)
    m = z.max(axis=0, keepdims=True)
    return m.squeeze(axis=axis) + np.log(np.exp(z - m).sum(axis=axis))


def lse_squeeze_axis_0(z, axis=-1):
    z = np.asarray(z, dtype=float)
    m = z.max(axis=axis, keepdims=True)
    return m.squeeze(axis=0) + np.log(np.exp(z - m).sum(axis=axis))


AXIS_0_HINT = (
    N_("for {input} your function gives {got}, and it is right for 1-D input and for axis=0: one "
       "of its steps (the max, the sum or the squeeze of the max) works along axis 0 whatever "
       "`axis` says."))
AXIS_0_MORE = (N_("Pass `axis=axis` to every step that works along an axis, not only to some of "
                  "them."))

EXP_NOT_SHIFTED_HINT = (
    N_("for {input} you get {got}: you use the max m outside the log but take exp of z itself, "
       "not of z - m. The identity needs m in both places: it cancels only if it is subtracted "
       "inside the exponentials and added back outside; and exp(z) still overflows."))


LOGSUMEXP = register(Exercise(
    name="logsumexp",
    delegates=SOFTMAX_LIBRARY,
    lesson="03",
    params=("z",),
    reference=lambda z, axis=-1: sm.logsumexp(z, axis),
    task=N_("logsumexp(z, axis=-1): log(sum(exp(z))) along axis, without overflow; the axis is "
            "removed from the shape"),
    points=2.0,
    public=_shared_cases() + (Case("pair_1000", (np.array([1000.0, 1000.0]),)),),
    hidden=_hidden,
    rtol=1e-9,
    atol=1e-10,
    mistakes=(common("logsumexp(z, axis=-1)") + (FLOAT32,))
    + axis_basics("logsumexp", lambda z, axis=-1: sm.logsumexp(z, axis)) + (
        Mistake(N_("max not added back"), like(lse_without_max_back),
                N_("your log-sum-exp forgets to add the max back: log(sum(exp(z - m))) is "
                   "logsumexp(z) - m, so for {input} you get {got}. Return m + log(sum(exp(z - m)))."),
                supersedes=("broadcast error",)),
        Mistake(N_("keeps the axis"), like(lse_keepdims),
                N_("your result keeps the reduced axis (length 1): for {input} you get {got}. "
                   "Use keepdims=True only for the max you subtract, and return "
                   "m.squeeze(axis) + log(s), or sums taken without keepdims.")),
        Mistake(N_("max without keepdims"), like(lse_max_without_keepdims),
                N_("z - z.max(axis) lines the maxima up against the wrong entries when the max "
                   "drops the axis: for {input} you get {got} (silently wrong on square input, a "
                   "broadcast error elsewhere). Use z.max(axis=axis, keepdims=True) for the "
                   "subtraction."),
                supersedes=("broadcast error",)),
        Mistake(N_("global max"), like(lse_global_max),
                N_("you shift every slice by the largest logit of the whole array, not by its own "
                   "max: for {input} a slice far below it gives log(0) = -inf ({got}). Use "
                   "z.max(axis=axis, keepdims=True)."),
                supersedes=("no max trick",)),
        Mistake(N_("no max trick"), broken(),
                N_("your logsumexp gives {got} for {input}: exp overflows to inf above about 709 "
                   "(89 in float32), or every term underflows to 0 and log(0) = -inf. Factor out "
                   "the max: logsumexp(z) = m + log(sum(exp(z - m))) with m = max(z), so the "
                   "largest term is exactly 1 and the log never sees 0 or inf.")),
        Mistake(N_("axis 0 hard-coded"), like_any(lse_max_along_axis_0, lse_squeeze_axis_0),
                AXIS_0_HINT, more=AXIS_0_MORE, supersedes=("wrong axis",)),
        Mistake(N_("sign error"), like_any(lse_minus_log, lse_plus_shift),
                N_("for {input} you get {got}: a sign in your formula is flipped. The max trick "
                   "subtracts m inside the exponentials and adds it back outside the log, and the "
                   "log-sum-exp is then added to m."),
                more=N_("Check each sign against logsumexp(z) = m + log(sum(exp(z - m))), m the "
                        "max along the axis."),
                supersedes=("no max trick",)),
        Mistake(N_("exp not shifted"), like(lse_exp_not_shifted), EXP_NOT_SHIFTED_HINT,
                more=N_("Subtract m (the max along the axis, kept with keepdims=True) from z "
                        "before exp, and add the same m back to the log of the sum."),
                supersedes=("no max trick",)),
    ),
))


# --- log_softmax --------------------------------------------------------------------------------
def log_of_softmax(z, axis=-1):
    return np.log(sm.softmax(np.asarray(z, dtype=float), axis))


def log_softmax_without_max_back(z, axis=-1):
    z = np.asarray(z, dtype=float)
    return z - lse_without_max_back(z, axis)[..., None] if axis in (-1, z.ndim - 1) else \
        z - np.expand_dims(lse_without_max_back(z, axis), axis)


def _log_eps(ev):
    """log(p + eps): right wherever p is not tiny; where it is, a finite floor near log(eps)
    (between about -40 and -9) above the right, much lower, value."""
    evidence = None
    for name in ev.names():
        o, expected = ev.outcome(name), ev.expected(name)
        v = o.value
        if o.error is not None or not isinstance(v, np.ndarray) or v.shape != expected.shape \
                or v.dtype.kind != "f" or not np.isfinite(v).all():
            return None
        off = ~np.isclose(v, expected, rtol=1e-6, atol=1e-9)
        if not off.any():
            continue
        if not (np.all((v[off] > -40) & (v[off] < -9) & (v[off] > expected[off]))):
            return None
        evidence = evidence or name
    return evidence


def log_softmax_global_max(z, axis=-1):
    z = np.asarray(z, dtype=float)
    m = z.max()
    return (z - m) - np.log(np.exp(z - m).sum(axis=axis, keepdims=True))


def _log_of_softmax(ev):
    """-inf where a finite log-probability was expected, and never nan or +inf: log(0) of an
    underflowed probability (a log-sum-exp without the max trick gives +inf or nan somewhere)."""
    for name in ev.names():
        v = ev.outcome(name).value
        if v is not None and v.dtype.kind == "f" and (np.isnan(v).any() or np.isposinf(v).any()):
            return None
    for name in ev.names():
        o, expected = ev.outcome(name), ev.expected(name)
        if o.value is None or o.value.shape != expected.shape or o.value.dtype.kind != "f":
            continue
        neg_inf = np.isneginf(o.value) & np.isfinite(expected)
        if neg_inf.any() and not np.isnan(o.value).any():
            return name
    return None


def _log_softmax_shifted(z, m, axis=-1):
    """(z - m) - log(sum(exp(z - m))) along axis: the log-softmax computed with the shift m."""
    return (z - m) - np.log(np.exp(z - m).sum(axis=axis, keepdims=True))


def _log_softmax_signs(z, axis, outer, inner, lse):
    z = np.asarray(z, dtype=float)
    m = z.max(axis=axis, keepdims=True)
    return z - outer * m + lse * np.log(np.exp(z - inner * m).sum(axis=axis, keepdims=True))


def log_softmax_plus_log(z, axis=-1):
    return _log_softmax_signs(z, axis, 1.0, 1.0, 1.0)


def log_softmax_plus_inner(z, axis=-1):
    return _log_softmax_signs(z, axis, 1.0, -1.0, -1.0)


def log_softmax_plus_outer(z, axis=-1):
    return _log_softmax_signs(z, axis, -1.0, 1.0, -1.0)


def log_softmax_exp_not_shifted(z, axis=-1):
    return _log_softmax_signs(z, axis, 1.0, 0.0, -1.0)


LOG_SOFTMAX = register(Exercise(
    name="log_softmax",
    delegates=SOFTMAX_LIBRARY,
    lesson="03",
    params=("z",),
    reference=lambda z, axis=-1: sm.log_softmax(z, axis),
    task=N_("log_softmax(z, axis=-1): log of the softmax along axis, in the log domain: no "
            "overflow and no nan for finite logits, finite wherever the true log-probability is a "
            "float (for [1e308, -1e308] it is -2e308, so -inf there)"),
    points=2.0,
    public=_shared_cases(extreme=False) + (Case("tiny_probability", (np.array([0.0, -800.0]),)),),
    hidden=_hidden_log_softmax,
    rtol=1e-9,
    atol=1e-10,
    mistakes=(common("log_softmax(z, axis=-1)") + (FLOAT32,))
    + axis_basics("log_softmax", lambda z, axis=-1: sm.log_softmax(z, axis)) + (
        global_max(log_softmax_global_max, supersedes=("no max trick", "log of softmax")),
        Mistake(N_("log of softmax"), lambda ev: _log_of_softmax(ev) and like(log_of_softmax)(ev),
                N_("you take log(softmax(z)): exp of a logit more than about 745 below the max is "
                   "0 in float64 (the smallest positive float64 is about 4.9e-324), and log(0) = "
                   "-inf, so for {input} you get {got}. The log of a probability is a perfectly "
                   "good number (-800 here) even when the probability itself is not."),
                more=N_("Stay in the log domain all the way: with m the max along the axis, the "
                        "log-softmax is (z - m) minus the log of the sum of exp(z - m). No "
                        "probability is ever formed, so none can round to 0."),
                supersedes=("no max trick",)),
        Mistake(N_("log(p + eps)"), _log_eps,
                N_("for {input} you get {got}: a floor near log(eps), where the right value is far "
                   "lower. Adding a small eps before the log hides the -inf of log(0), but the "
                   "answer is then log(eps), not the log-probability: -800 is a perfectly good "
                   "log-probability even though its probability is 0 in float64."),
                supersedes=("log of softmax",),
                more=N_("Never form the probability: with m the max along the axis, the "
                        "log-softmax is (z - m) minus the log of the sum of exp(z - m).")),
        Mistake(N_("max not added back"), like(log_softmax_without_max_back),
                N_("your log-sum-exp inside log_softmax forgets to add the max back: for {input} "
                   "you get {got}. Either return (z - m) - log(sum(exp(z - m))), or "
                   "z - (m + log(sum(exp(z - m))))."),
                supersedes=("broadcast error",)),
        Mistake(N_("no max trick"), broken(),
                N_("your log_softmax gives {got} for {input}: log(sum(exp(z))) overflows to inf "
                   "once a logit passes about 709 (89 in float32), and z - inf = -inf; or every "
                   "exp underflows to 0 and log(0) = -inf. Subtract the max first: log_softmax(z) "
                   "= (z - m) - log(sum(exp(z - m))) with m = max(z).")),
        max_along_another_axis(_log_softmax_shifted),
        Mistake(N_("sign error"), like_any(log_softmax_plus_log, log_softmax_plus_inner,
                                       log_softmax_plus_outer),
                N_("for {input} you get {got}: a sign in your formula is flipped. The max trick "
                   "subtracts m inside the exponentials and adds it back outside the log, and the "
                   "log-sum-exp is then subtracted from z; every log-probability is at most 0."),
                more=N_("Check each sign against log_softmax(z) = (z - m) - log(sum(exp(z - m))), "
                        "m the max along the axis."),
                supersedes=("no max trick",)),
        Mistake(N_("exp not shifted"), like(log_softmax_exp_not_shifted), EXP_NOT_SHIFTED_HINT,
                more=N_("Take exp of z - m (m the max along the axis, keepdims=True), the same "
                        "z - m that comes before the minus sign."),
                supersedes=("no max trick",)),
    ),
))


# --- logsumexp_log1p ----------------------------------------------------------------------------
# Section 4's refinement: take one largest term out of the sum, m + log1p(t) with t the sum of
# exp(z_j - m) over the other entries. When one logit dominates, t is tiny and log(1 + t) would
# round it away; log1p keeps it. Tied maxima stay in t (each adds exactly 1).


def LOG1P_REFERENCE(z):
    """m + log1p(sum of the other terms), for a 1-D z: the course's own logsumexp."""
    return sm.logsumexp(np.asarray(z, dtype=float))


def lse_log_not_log1p(z):
    z = np.asarray(z, dtype=float)
    m = z.max()
    return m + np.log(np.exp(z - m).sum())


def lse_max_term_kept(z):
    z = np.asarray(z, dtype=float)
    m = z.max()
    return m + np.log1p(np.exp(z - m).sum())


def lse_every_max_removed(z):
    z = np.asarray(z, dtype=float)
    m = z.max()
    return m + np.log1p(np.exp(z[z < m] - m).sum())


def lse_log1p_min(z):
    z = np.asarray(z, dtype=float)
    k = np.argmin(z)
    return z[k] + np.log1p(np.exp(np.delete(z, k) - z[k]).sum())


def lse_log1p_minus(z):
    z = np.asarray(z, dtype=float)
    k = np.argmax(z)
    return z[k] - np.log1p(np.exp(np.delete(z, k) - z[k]).sum())


def lse_log1p_plus_shift(z):
    z = np.asarray(z, dtype=float)
    k = np.argmax(z)
    return z[k] + np.log1p(np.exp(np.delete(z, k) + z[k]).sum())


def _no_max_trick_log1p(ev):
    """exp left its range: nan, inf or an arithmetic error on some test; elsewhere right, or
    what log(sum(exp(z))) gives where one logit dominates (1 + t rounded to 1: the same answer
    without log1p either; math.log(0) raises "math domain error"); and right on a test of two entries or more (a 1-entry test has
    t = 0, which an answer wrong everywhere else, exp and log swapped, gets right too)."""
    evidence, some_right = None, False
    for name in ev.names():
        o, case = ev.outcome(name), ev.cases[name]
        if _is_broken(o, ev.expected(name)) or (o.error or "").endswith("math domain error"):
            evidence = evidence or name
        elif ev.right(name):
            some_right = some_right or np.size(case.args[0]) >= 2
        elif not (o.error is None and isinstance(o.value, np.ndarray) and o.value.shape == ()
                  and np.isclose(float(o.value), lse_log_not_log1p(*case.args), rtol=1e-9, atol=0.0)):
            return None
    return evidence if some_right else None


def _like_to_the_last_digits(wrong):
    """Like :func:`~.mistakes.like`, without an absolute tolerance: log(1 + t) and log1p(t)
    differ by about 1e-22 where one logit dominates, far below the usual ``atol``."""

    def detect(ev):
        evidence = None
        for name in ev.names():
            o, case = ev.outcome(name), ev.cases[name]
            if o.value is None or o.value.dtype.kind not in "iuf" or o.value.shape != ():
                return None
            w, expected = float(wrong(*case.args)), float(ev.expected(name))
            if not np.isclose(float(o.value), w, rtol=1e-9, atol=0.0):
                return None
            if evidence is None and not np.isclose(w, expected, rtol=1e-12, atol=0.0):
                evidence = name
        return evidence

    return detect


def _hidden_log1p(rng):
    cases = []
    for k in (4, 7, 10):
        cases.append(Case("", (rng.normal(0.0, 3.0, k),)))
    for gap in (40.0, 60.0, 300.0):      # one logit, 0, far above the others: the result is ~t
        z = rng.normal(0.0, 1.0, int(rng.integers(3, 7))) - gap
        z[rng.integers(z.size)] = 0.0
        cases.append(Case("", (z,), rtol=1e-12, atol=0.0))
    tied = rng.normal(0.0, 1.0, 5) - 45.0                   # two tied maxima far above the rest
    i, j = rng.choice(5, size=2, replace=False)
    tied[[i, j]] = float(rng.uniform(-3.0, 3.0))
    cases.append(Case("", (tied,), rtol=1e-12, atol=0.0))
    cases.append(Case("", (rng.normal(0.0, 1.0, 6) + 800.0,)))   # exp(z) overflows
    cases.append(Case("", (rng.integers(-5, 6, 5),)))
    s = float(rng.uniform(400.0, 700.0))          # a spread above 709: exp(z_j - min) overflows
    cases.append(Case("", (rng.permutation(np.array([s, 0.0, -s])),)))
    return cases


LOGSUMEXP_LOG1P = register(Exercise(
    name="logsumexp_log1p",
    lesson="03",
    params=("z",),
    reference=LOG1P_REFERENCE,
    task=N_("logsumexp_log1p(z): log(sum(exp(z))) of a 1-D z as m + log1p(t), t the sum of "
            "exp(z_j - m) over every entry but one largest"),
    points=2.0,
    rtol=1e-12,
    atol=0.0,
    public=(
        Case("seed_123", ([1.0, 2.0, 3.0],)),
        Case("pair_1000", (np.array([1000.0, 1000.0]),)),
        Case("dominant", (np.array([0.0, -50.0]),)),
        Case("dominant_three", (np.array([-60.0, 2.0, -45.0]),)),
        Case("tied_dominant", (np.array([-40.0, 0.0, 0.0]),)),
        Case("very_negative", (np.array([-1000.0, -1000.0, -1000.0]),)),
        Case("single", (np.array([7.5]),)),
        Case("large", (np.array([1000.0, 0.0, 0.0]),)),
        Case("int_array", (np.array([3, 1, 2]),), shown=N_("z = np.array([3, 1, 2]) (integers)")),
    ),
    hidden=_hidden_log1p,
    mistakes=common("logsumexp_log1p(z)") + (
        Mistake(N_("log instead of log1p"), _like_to_the_last_digits(lse_log_not_log1p),
                hint=N_("you compute log(1 + t) (or log of the whole sum): when one logit towers "
                        "over the others, t is below 1e-16, 1 + t rounds to exactly 1 and the log "
                        "is 0, so for {input} you get {got}. Call np.log1p(t), which is accurate "
                        "for tiny t.")),
        Mistake(N_("largest term kept in t"), like(lse_max_term_kept),
                hint=N_("your t still contains the largest term, exp(m - m) = 1, so you add log 2 "
                        "too much where one logit dominates: for {input} you get {got}. Leave out "
                        "exactly one largest entry when you add up t (np.delete(z, np.argmax(z))).")),
        Mistake(N_("every tied maximum removed"), like(lse_every_max_removed),
                hint=N_("you leave out *every* entry equal to the max, so tied maxima are lost: "
                        "for {input} you get {got}. Leave out only one of them (at np.argmax(z)); "
                        "each other one adds exactly 1 to t."),
                supersedes=("log instead of log1p",)),
        Mistake(N_("no max trick"), _no_max_trick_log1p,
                N_("your function gives {got} for {input}: exp overflows to inf above about 709, or "
                   "every term underflows to 0 and log(0) = -inf. Subtract the max first: "
                   "m + log1p(t) with t = sum of exp(z_j - m) over the other entries.")),
        Mistake(N_("shift by the min"), like(lse_log1p_min),
                hint=N_("you take out the *smallest* logit instead of a largest one: on paper "
                        "min(z) + log(1 + t) is the same number, but every other term exp(z_j - "
                        "min) is then at least 1, so for {input} you get {got} (exp overflows, or "
                        "the log1p of a huge t loses the small result to rounding)."),
                more=N_("Take out a largest entry (np.argmax), so that every other term is at "
                        "most 1 and t stays small."),
                supersedes=("no max trick", "log instead of log1p")),
        Mistake(N_("sign error"), like_any(lse_log1p_minus, lse_log1p_plus_shift),
                hint=N_("for {input} you get {got}: a sign in your formula is flipped. Each other "
                        "term is exp(z_j - m), at most 1, and log1p(t) is *added* to m: the result "
                        "is never below the largest logit."),
                more=N_("Check each sign against m + log1p(t), t the sum of exp(z_j - m) over "
                        "every entry but one largest."),
                supersedes=("no max trick", "log instead of log1p")),
    ),
))
__all__ += ["LOGSUMEXP_LOG1P"]
