"""Lesson 07, softmax policies: ``boltzmann_policy`` and ``gradient_bandit_step``.

``boltzmann_policy(h, temperature=1.0)`` is the softmax of the preferences divided by the
temperature, along the last axis (one row per state). ``gradient_bandit_step(h, action, reward,
baseline, alpha)`` is one update of Sutton & Barto's gradient-bandit algorithm at temperature 1:
``h + alpha * (reward - baseline) * (onehot(action) - softmax(h))``, returned as a new array.
Updating only the chosen arm still learns, so the tests look at single updates, where it shows.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .. import softmax as sm
from ..policies import boltzmann_policy as _policy
from ..policies import gradient_bandit_step as _step
from ..grading.exercise import Case, Exercise, Mistake
from ..i18n import N_
from .mistakes import FLOAT32, MAX_AXIS_HINT, MAX_AXIS_MORE, SOFTMAX_LIBRARY, global_max, raised, broken, common, like, resembles, unnormalised
from ..grading.registry import register

__all__ = ["BOLTZMANN_POLICY", "GRADIENT_BANDIT_STEP", "GRADIENT_BANDIT_RUN"]


INTEGER_HINT = (
    N_("for integer preferences {input} your function gives {got}. An integer array keeps its "
       "dtype through in-place operations (`x /= tau`, `new -= ...`): it cannot store fractions. "
       "Convert first, before any arithmetic: `h = np.asarray(h, dtype=float)` (a new array).")
)


def _with_hints(mistakes, **hints):
    """``mistakes`` with the hints of those named (spaces as underscores) replaced."""
    return tuple(dataclasses.replace(m, hint=hints[m.name.replace(" ", "_")])
                 if m.name.replace(" ", "_") in hints else m for m in mistakes)


# --- boltzmann_policy: known-wrong implementations ----------------------------------------------
def greedy_policy(h, temperature=1.0):
    h = np.asarray(h, dtype=float)
    return (np.arange(h.shape[-1]) == np.argmax(h, axis=-1)[..., None]).astype(float)


def policy_temperature_multiplied(h, temperature=1.0):
    return sm.softmax(np.asarray(h, dtype=float) * temperature, axis=-1)


def policy_temperature_ignored(h, temperature=1.0):
    return sm.softmax(np.asarray(h, dtype=float), axis=-1)


def policy_first_axis(h, temperature=1.0):
    h = np.asarray(h, dtype=float)
    if h.ndim < 2:
        raise ValueError("only defined for 2-D input")
    return sm.softmax(h, axis=0, temperature=temperature)


def policy_whole_array(h, temperature=1.0):
    h = np.asarray(h, dtype=float)
    if h.ndim < 2:
        raise ValueError("only defined for 2-D input")
    return sm.softmax(h, axis=None, temperature=temperature)


def policy_global_max(h, temperature=1.0):
    x = np.asarray(h, dtype=float) / temperature
    e = np.exp(x - x.max())
    return e / e.sum(axis=-1, keepdims=True)


def policy_max_first_axis(h, temperature=1.0):
    x = np.asarray(h, dtype=float) / temperature
    e = np.exp(x - x.max(axis=0, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def POLICY_REFERENCE(h, temperature=1.0):
    """softmax(h / temperature) along the last axis: the course's own."""
    return _policy(h, temperature)


H2 = np.array([[1.0, 2.0, 3.0], [3.0, 0.0, 0.0]])


def _hidden_policy(rng):
    cases = []
    for shape in ((5,), (10,), (3, 4), (2, 6), (4, 3)):
        h = rng.normal(0.0, 2.0, shape)
        tau = float(np.exp(rng.uniform(np.log(0.05), np.log(20.0))))
        cases.append(Case("", (h, tau)))
    cases.append(Case("", (rng.normal(0.0, 2.0, 6),)))                      # default temperature
    cases.append(Case("", (rng.normal(0.0, 3.0, 6), 0.002)))                # h / tau overflows
    cases.append(Case("", (rng.normal(0.0, 1.0, 6), 500.0)))                # nearly uniform
    cases.append(Case("", (rng.normal(900.0, 5.0, 4), 1.0)))                # exp(h) overflows
    cases.append(Case("", (rng.integers(-5, 6, 5), int(rng.integers(2, 5)))))
    far = rng.normal(0.0, 1.0, (3, 4)) + np.array([[0.0], [-900.0], [900.0]])[rng.permutation(3)]
    cases.append(Case("", (far, float(rng.uniform(0.5, 1.0)))))                # rows far apart
    return cases


BOLTZMANN_POLICY = register(Exercise(
    name="boltzmann_policy",
    delegates=("course_lib.policies.boltzmann_policy",) + SOFTMAX_LIBRARY,
    lesson="07",
    params=("h", "temperature"),
    reference=POLICY_REFERENCE,
    task=N_("boltzmann_policy(h, temperature=1.0): softmax(h / temperature) along the last axis"),
    points=2.0,
    rtol=1e-6,
    atol=1e-12,
    public=(
        Case("default_tau", ([1.0, 2.0, 3.0],)),
        Case("tau_1", ([1.0, 2.0, 3.0], 1.0)),
        Case("tau_2", ([1.0, 2.0, 3.0], 2.0)),
        Case("tau_fifth", (np.array([20.06, -1.0, 19.14, 19.5]), 0.2)),
        Case("cold", ([0.5, 2.0, 1.0, 1.9], 0.01)),
        Case("hot", ([0.5, 2.0, 1.0, 1.9], 100.0)),
        Case("large_preferences", (np.array([1000.0, 0.0, -5.0]), 1.0)),
        Case("tiny_tau", (np.array([3.0, 1.0, 2.0]), 0.001)),
        Case("states", (np.array([[1.0, 2.0, 3.0], [-900.0, -899.0, -897.0]]), 1.0)),
        Case("states_hot", (H2, 4.0)),
        Case("int_array", (np.array([1, 2, 3]), 2),
             shown=N_("h = np.array([1, 2, 3]) (integers), temperature = 2")),
    ),
    hidden=_hidden_policy,
    mistakes=_with_hints(
        (common("boltzmann_policy(h, temperature=1.0)") + (FLOAT32,)), integer_input=INTEGER_HINT,
        modifies_its_input=N_("your function changed the preferences it was given, for {input}: "
           "`h -= h.max()` or `h /= temperature` writes into the caller's array, and an agent "
           "would lose what it learned. Make new arrays: `h = h / temperature`, `d = h - h.max(...)`."),
    ) + (
        global_max(policy_global_max),
        Mistake(N_("max along another axis"), like(policy_max_first_axis), MAX_AXIS_HINT,
                supersedes=("no max trick", "global max"), more=MAX_AXIS_MORE),
        Mistake(N_("broadcast error"), raised("ValueError", containing="broadcast"),
                N_("for {input} your function gives {got}: the shapes of two arrays you combine do "
                   "not line up. A max or sum along the last axis drops that axis, so for a 2-D h "
                   "(one row per state) it no longer lines up with h."),
                more=N_("Keep the reduced axis where you combine it with h again: "
                        "`keepdims=True` on the max and on the sum.")),
        Mistake(N_("greedy one-hot policy"), like(greedy_policy),
                N_("your policy puts all its probability on the best arm: for {input} you get {got}. "
                   "That is the limit tau -> 0, a policy that never explores. Return the softmax "
                   "of h / temperature: every arm gets a positive probability, and acting means "
                   "sampling from it, not taking the argmax."),
                supersedes=("not normalised",)),
        Mistake(N_("temperature multiplied"), like(policy_temperature_multiplied),
                N_("you multiply the preferences by the temperature instead of dividing: for "
                   "{input} you get {got}. A higher temperature must explore more (flatter), so "
                   "use h / temperature."),
                supersedes=("no max trick",)),
        Mistake(N_("temperature ignored"), like(policy_temperature_ignored),
                N_("your policy does not depend on the temperature: for {input} you get the plain "
                   "softmax {got}. Divide the preferences by it: softmax(h / temperature).")),
        Mistake(N_("normalised over the whole array"), resembles(policy_whole_array),
                N_("for a 2-D h (one row of preferences per state) your probabilities sum to 1 "
                   "over the whole array: for {input} you get {got}. Each row is its own policy: "
                   "take the max and the sum along the last axis, with keepdims=True."),
                supersedes=("not normalised",)),
        Mistake(N_("wrong axis"), resembles(policy_first_axis),
                N_("your policy is normalised down each column: for {input} you get {got}. The "
                   "actions are the last axis (each row is one state's policy): use axis=-1, "
                   "keepdims=True for the max and the sum."),
                supersedes=("not normalised",)),
        Mistake(N_("no max trick"), broken(),
                # lesson 01's MAX_TRICK_HINT for a policy, one message to translate whole
                N_("your policy gives {got} for {input}: exp overflows to inf above about 709 "
                   "(89 in float32) and underflows to 0 below about -745, and then inf/inf or "
                   "0/0 is nan. Subtract the largest logit first: softmax(z) = softmax(z - "
                   "max(z)), so every exponent is at most 0 and the largest term is exactly 1 "
                   "(lesson 03, the max trick). Preferences grow as an agent learns, and a small"
                   " temperature makes h / tau huge: subtract the max of h / tau along the last "
                   "axis.")),
        Mistake(N_("not normalised"), unnormalised(lambda case: -1),
                N_("for {input} your values have the right proportions but do not sum to 1 along "
                   "the last axis: divide by their sum there.")),
    ),
))


# --- gradient_bandit_step: known-wrong implementations ------------------------------------------
def _pi(h):
    return sm.softmax(np.asarray(h, dtype=float))


def step_sign_flipped(h, action, reward, baseline, alpha):
    h = np.asarray(h, dtype=float)
    return h - alpha * (reward - baseline) * (np.eye(h.size)[action] - _pi(h))


def step_baseline_ignored(h, action, reward, baseline, alpha):
    h = np.asarray(h, dtype=float)
    return h + alpha * reward * (np.eye(h.size)[action] - _pi(h))


def step_baseline_added(h, action, reward, baseline, alpha):
    h = np.asarray(h, dtype=float)
    return h + alpha * (reward + baseline) * (np.eye(h.size)[action] - _pi(h))


def step_policy_added(h, action, reward, baseline, alpha):
    h = np.asarray(h, dtype=float)
    return h + alpha * (reward - baseline) * (np.eye(h.size)[action] + _pi(h))


BASELINE_ADDED_HINT = (
    N_("for {input} you get {got}: your update uses reward + baseline. The baseline is what the "
       "reward is compared with: only a reward above it should raise the chosen arm, so the "
       "update is proportional to reward - baseline."))
BASELINE_ADDED_MORE = N_("Check a step with reward equal to the baseline: nothing may change.")
POLICY_ADDED_HINT = (
    N_("for {input} you get {got}: your update adds the policy to the one-hot vector. The "
       "gradient of log pi(A) is onehot(A) - pi: the chosen arm moves by (1 - pi(A)), every "
       "other arm by -pi(a), so the preferences keep their sum."))
POLICY_ADDED_MORE = N_("Check that the sum of your update over the arms is 0.")


def step_greedy_policy(h, action, reward, baseline, alpha):
    h = np.asarray(h, dtype=float)
    greedy = np.eye(h.size)[np.argmax(h)]
    return h + alpha * (reward - baseline) * (np.eye(h.size)[action] - greedy)


def step_reads_updated(h, action, reward, baseline, alpha):
    """Updates h arm by arm in place, each arm's pi computed from the partly updated h."""
    h = np.array(h, dtype=float)
    for a in range(h.size):
        pi = _pi(h)[a]
        h[a] += alpha * (reward - baseline) * ((a == action) - pi)
    return h


def step_unnormalised_policy(h, action, reward, baseline, alpha):
    """exp(h - max) used as the policy, without dividing by its sum."""
    h = np.asarray(h, dtype=float)
    return h + alpha * (reward - baseline) * (np.eye(h.size)[action] - np.exp(h - h.max()))


def step_policy_over_mean(h, action, reward, baseline, alpha):
    """exp(h - max) divided by its mean: K times the policy."""
    h = np.asarray(h, dtype=float)
    e = np.exp(h - h.max())
    return h + alpha * (reward - baseline) * (np.eye(h.size)[action] - e / e.mean())


def _only_chosen_arm(ev):
    """A wrong result that changes h only at the chosen action: the other arms kept their
    preferences (they must move by -alpha (R - b) pi(a))."""
    for name in ev.names():
        o, case = ev.outcome(name), ev.cases[name]
        if o.value is None or ev.right(name):
            continue
        h = np.asarray(case.args[0], dtype=float)
        a = int(case.args[1])
        if o.value.shape != h.shape or o.value.dtype.kind not in "biuf":
            continue
        v = o.value.astype(float)
        others = np.arange(h.size) != a
        if np.array_equal(v[others], h[others]) and v[a] != h[a]:
            return name
    return None


def STEP_REFERENCE(h, action, reward, baseline, alpha):
    """h + alpha (reward - baseline) (onehot(action) - softmax(h)): the course's own."""
    return _step(h, action, reward, baseline, alpha)


def _hidden_step(rng):
    cases = []
    for k in (3, 4, 5, 8, 10, 10):
        h = rng.normal(0.0, 2.0, k)
        cases.append(Case("", (h, int(rng.integers(k)), float(rng.normal(4.0, 1.0)),
                               float(rng.normal(4.0, 0.5)), float(rng.uniform(0.05, 0.5)))))
    cases.append(Case("", (np.zeros(6), int(rng.integers(6)), float(rng.normal(4.0, 1.0)), 0.0,
                           0.1)))
    h = rng.normal(0.0, 1.0, 5)
    h[int(rng.integers(5))] = float(rng.uniform(750.0, 900.0))                 # exp(h) overflows
    cases.append(Case("", (h, int(rng.integers(5)), float(rng.normal(1.0, 1.0)), 0.5, 0.1)))
    k = int(rng.integers(3, 6))
    cases.append(Case("", (rng.integers(-3, 4, k), int(rng.integers(k)),
                           float(rng.normal(2.0, 1.0)), 1.0, 0.5)))
    return cases


GRADIENT_BANDIT_STEP = register(Exercise(
    name="gradient_bandit_step",
    delegates=("course_lib.policies.gradient_bandit*",),
    lesson="07",
    params=("h", "action", "reward", "baseline", "alpha"),
    reference=STEP_REFERENCE,
    task=N_("gradient_bandit_step(h, action, reward, baseline, alpha): the new preferences "
            "h + alpha (reward - baseline) (onehot(action) - softmax(h)), h left unchanged"),
    points=2.0,
    rtol=1e-9,
    atol=1e-12,
    public=(
        Case("zero_start", (np.zeros(4), 2, 5.0, 1.0, 0.5)),
        Case("worse_than_baseline", (np.zeros(4), 1, 0.0, 1.0, 0.5)),
        Case("equal_to_baseline", (np.array([0.5, -0.5, 0.0]), 0, 2.0, 2.0, 0.1)),
        Case("learned", (np.array([1.0, -0.5, 2.0, 0.0]), 0, 4.5, 4.0, 0.1)),
        Case("not_the_favourite", (np.array([1.0, -0.5, 2.0, 0.0]), 3, 3.0, 4.0, 0.4)),
        Case("no_baseline", (np.array([0.2, 0.1, -0.3]), 1, 4.0, 0.0, 0.1)),
        Case("large_preferences", (np.array([1000.0, 0.0, -1000.0]), 1, 1.0, 0.5, 0.1)),
        Case("ten_arms", (np.linspace(-1.0, 1.0, 10), 7, 5.2, 4.1, 0.1)),
        Case("int_array", (np.array([1, 0, -1]), 2, 2.5, 1.0, 0.5),
             shown=N_("h = np.array([1, 0, -1]) (integers), action = 2, reward = 2.5, "
                      "baseline = 1, alpha = 0.5")),
    ),
    hidden=_hidden_step,
    mistakes=_with_hints(
        (common("gradient_bandit_step(h, action, reward, baseline, alpha)") + (FLOAT32,)),
        integer_input=INTEGER_HINT,
        modifies_its_input=N_("your function changed the preferences it was given, for {input}: "
           "`h += ...` or `h[action] += ...` writes into the caller's array. Return a new array: "
           "`new_h = h + alpha * (reward - baseline) * (onehot - pi)`."),
    ) + (
        Mistake(N_("sign error"), like(step_sign_flipped),
                N_("your update goes the wrong way: for {input} you get {got}. A reward above the "
                   "baseline must raise the chosen arm's preference (and lower the others): "
                   "h + alpha * (reward - baseline) * (onehot - pi), with a plus. With the sign "
                   "flipped the agent learns to avoid its best arm.")),
        Mistake(N_("baseline added"), like(step_baseline_added), BASELINE_ADDED_HINT,
                more=BASELINE_ADDED_MORE),
        Mistake(N_("policy added"), like(step_policy_added), POLICY_ADDED_HINT, more=POLICY_ADDED_MORE),
        Mistake(N_("baseline ignored"), like(step_baseline_ignored),
                N_("your update does not use the baseline: for {input} you get {got}, the update "
                   "for baseline 0. Use (reward - baseline): an arm is reinforced only when it "
                   "does better than the average so far.")),
        Mistake(N_("greedy policy in the update"), like(step_greedy_policy),
                N_("your update uses a one-hot vector at the argmax of h where the policy pi "
                   "belongs: for {input} you get {got}. Use pi = softmax(h), the probabilities "
                   "the action was drawn with: every arm moves by -alpha (R - b) pi(a), the "
                   "chosen one by +alpha (R - b) (1 - pi(A)).")),
        Mistake(N_("reads values it already updated"), like(step_reads_updated),
                N_("for {input} you get {got}: you update the arms one by one, and each arm's "
                   "probability is computed from preferences some of which you have already "
                   "changed. The gradient uses one policy, softmax of the preferences before the "
                   "step, for every arm."),
                more=N_("Compute pi = softmax(h) once, before any change, then update every arm "
                        "from that same pi (a whole-vector expression does this by itself).")),
        Mistake(N_("policy not normalised"),
                lambda ev: like(step_unnormalised_policy)(ev) or like(step_policy_over_mean)(ev),
                N_("for {input} you get {got}: the policy in your update does not sum to 1. The "
                   "exponentials exp(h - max) are only proportional to the probabilities; the "
                   "update needs pi itself."),
                more=N_("Divide the exponentials by their sum (not their max or mean) before "
                        "using them as pi in onehot - pi.")),
        Mistake(N_("only the chosen arm updated"), _only_chosen_arm,
                N_("your update changes only the chosen arm's preference: for {input} you get "
                   "{got}. Every arm moves: the others by -alpha (reward - baseline) pi(a). "
                   "(Such an agent still learns, but it is not the gradient, and the "
                   "preferences no longer keep their sum.) Use onehot(action) - softmax(h) for "
                   "the whole vector.")),
        Mistake(N_("no max trick"), broken(),
                N_("your update gives {got} for {input}: exp(h) overflows to inf above about 709, "
                   "and inf / inf is nan. Compute pi = softmax(h) with the max trick "
                   "(exp(h - max(h)) / sum), as in exercises 03.")),
    ),
))


# --- gradient_bandit_run: known-wrong implementations -------------------------------------------
# gradient_bandit_run(actions, rewards, k, alpha) replays an agent's log: from H = 0, at every
# step t the average reward is updated first (it includes R_t), then the gradient-bandit step.
def _replay(actions, rewards, k, alpha, *, baseline="current", sign=1.0, policy="softmax",
            count_from=1, update="gradient", average=lambda avg, r, t: avg + (r - avg) / t,
            advantage=lambda r, b: r - b, direction=lambda onehot, pi: onehot - pi):
    h = np.zeros(int(k))
    avg = 0.0
    pi0 = sm.softmax(h)
    for t, (a, r) in enumerate(zip(actions, rewards), start=count_from):
        r = float(r)
        before = avg
        avg = average(avg, r, t)
        b = {"current": avg, "previous": before, "none": 0.0}[baseline]
        if policy == "softmax":
            with np.errstate(over="ignore", invalid="ignore"):
                pi = sm.softmax(h)
        elif policy == "naive":
            with np.errstate(over="ignore", invalid="ignore"):
                e = np.exp(h)
                pi = e / e.sum()
        else:                                       # "frozen": the policy of H = 0, never updated
            pi = pi0
        onehot = np.zeros(int(k))
        onehot[int(a)] = 1.0
        if update == "gradient":
            h = h + sign * alpha * advantage(r, b) * direction(onehot, pi)
        else:                                       # "chosen": only the chosen arm moves
            h = h + sign * alpha * (r - b) * onehot * (1.0 - pi)
    return h


def run_baseline_before_reward(actions, rewards, k, alpha):
    return _replay(actions, rewards, k, alpha, baseline="previous")


def run_no_baseline(actions, rewards, k, alpha):
    return _replay(actions, rewards, k, alpha, baseline="none")


def run_count_off_by_one(actions, rewards, k, alpha):
    return _replay(actions, rewards, k, alpha, count_from=2)


def run_frozen_policy(actions, rewards, k, alpha):
    return _replay(actions, rewards, k, alpha, policy="frozen")


def run_sign_flipped(actions, rewards, k, alpha):
    return _replay(actions, rewards, k, alpha, sign=-1.0)


def run_average_away_from_reward(actions, rewards, k, alpha):
    """R̄ - (R - R̄) / t: the running average moved away from the new reward."""
    return _replay(actions, rewards, k, alpha, average=lambda avg, r, t: avg - (r - avg) / t)


def run_average_plus(actions, rewards, k, alpha):
    """R̄ + (R + R̄) / t: the old average added to the reward."""
    return _replay(actions, rewards, k, alpha, average=lambda avg, r, t: avg + (r + avg) / t)


def run_baseline_added(actions, rewards, k, alpha):
    return _replay(actions, rewards, k, alpha, advantage=lambda r, b: r + b)


def run_policy_added(actions, rewards, k, alpha):
    return _replay(actions, rewards, k, alpha, direction=lambda onehot, pi: onehot + pi)


def run_chosen_arm_only(actions, rewards, k, alpha):
    return _replay(actions, rewards, k, alpha, update="chosen")


def run_chosen_arm_only_no_pi(actions, rewards, k, alpha):
    h = np.zeros(int(k))
    avg = 0.0
    for t, (a, r) in enumerate(zip(actions, rewards), start=1):
        avg = avg + (float(r) - avg) / t
        h[int(a)] += alpha * (float(r) - avg)
    return h


def _either(*detectors):
    """A detector that fires when any of ``detectors`` does (several forms of one mistake)."""
    def detect(ev):
        for d in detectors:
            name = d(ev)
            if name is not None:
                return name
        return None
    return detect


def RUN_REFERENCE(actions, rewards, k, alpha):
    """The preferences after replaying the log: the course's own step, from H = 0."""
    h = np.zeros(int(k))
    avg = 0.0
    for t, (a, r) in enumerate(zip(actions, rewards), start=1):
        avg = avg + (float(r) - avg) / t
        h = _step(h, int(a), float(r), avg, alpha)
    return h


def _log(rng, n, k, mean=4.0):
    """A plausible log: actions drawn from the learning agent itself, rewards N(q*(A), 1)."""
    q = rng.normal(mean, 1.0, k)
    h, avg, actions, rewards = np.zeros(k), 0.0, [], []
    for t in range(1, n + 1):
        p = sm.softmax(h)
        a = int(min(np.searchsorted(np.cumsum(p), rng.random() * p.sum(), side="right"), k - 1))
        r = float(q[a] + rng.standard_normal())
        avg += (r - avg) / t
        h = _step(h, a, r, avg, 0.1)
        actions.append(a)
        rewards.append(round(r, 3))
    return actions, rewards


def _hidden_run(rng):
    cases = []
    for n, k, alpha in ((20, 3, 0.1), (50, 5, 0.2), (100, 10, 0.1), (30, 4, 0.5), (200, 10, 0.25)):
        actions, rewards = _log(rng, n, k, mean=float(rng.choice([0.0, 4.0])))
        cases.append(Case("", (actions, rewards, k, alpha)))
    k = int(rng.integers(3, 6))                     # rewards in the thousands: H passes 709
    actions = [int(a) for a in rng.integers(0, k, 12)]
    rewards = [float(v) for v in rng.normal(0.0, 3000.0, 12).round(1)]
    cases.append(Case("", (actions, rewards, k, 1.0)))
    cases.append(Case("", ([int(rng.integers(4))], [round(float(rng.normal(4.0, 1.0)), 2)], 4, 0.1)))
    return cases


_LOG_A = ([2, 0, 2, 1, 2, 2, 0, 2], [4.8, 3.1, 5.6, 2.9, 5.2, 4.4, 3.7, 6.0])
_LOG_B = ([0, 1, 1, 3, 1, 2, 1, 1, 0, 1], [0.4, 1.9, 1.2, -0.8, 2.3, 0.1, 1.5, 0.9, -0.2, 2.0])

GRADIENT_BANDIT_RUN = register(Exercise(
    name="gradient_bandit_run",
    lesson="07",
    params=("actions", "rewards", "k", "alpha"),
    reference=RUN_REFERENCE,
    task=N_("gradient_bandit_run(actions, rewards, k, alpha): the preferences after replaying the "
            "log from H = 0, the average reward (including R_t) updated before each step"),
    points=2.0,
    rtol=1e-9,
    atol=1e-12,
    public=(
        Case("two_steps", ([0, 1], [1.0, 3.0], 2, 0.5)),
        Case("one_step", ([2], [5.0], 3, 0.1)),
        Case("three_steps", ([0, 0, 1], [2.0, 4.0, 0.0], 3, 0.5)),
        Case("around_4", (*_LOG_A, 3, 0.1)),
        Case("around_0", (*_LOG_B, 4, 0.2)),
        Case("large_step", (*_LOG_A, 3, 0.8)),
        Case("never_chosen_arm", ([1, 1, 0, 1], [1.0, 2.0, -1.0, 3.0], 5, 0.25)),
        Case("empty_log", ([], [], 3, 0.1)),
        Case("huge_rewards", ([0, 1, 0, 2, 1, 0], [0.0, 2000.0, -3000.0, 1500.0, 2500.0, -1000.0],
                              3, 1.0)),
    ),
    hidden=_hidden_run,
    mistakes=_with_hints(
        tuple(m for m in common("gradient_bandit_run(actions, rewards, k, alpha)")
              if m.name != "integer input"),    # the actions are integers by nature
        modifies_its_input=N_("your function changed the log it was given, for {input}: "
           "`rewards.pop()`, `rewards.sort()` or writing into `actions` changes the caller's "
           "record. Read the lists; build the preferences in a new array, `h = np.zeros(k)`."),
    ) + (
        Mistake(N_("baseline before the reward"), like(run_baseline_before_reward),
                hint=N_("your baseline leaves out the reward of the step it is used in: for {input} "
                   "you get {got}. Here the average is updated first, R̄_t = R̄_(t-1) + (R_t - "
                   "R̄_(t-1)) / t, and the step then uses R_t - R̄_t (so the first step does "
                   "nothing).")),
        Mistake(N_("no baseline"), like(run_no_baseline),
                hint=N_("your run ignores the average reward: for {input} you get {got}, the "
                   "preferences of a run with baseline 0. Keep the running average of the rewards "
                   "and use R_t minus it in every step.")),
        Mistake(N_("average over the wrong count"), like(run_count_off_by_one),
                hint=N_("your average reward divides by the wrong count: for {input} you get "
                   "{got}. At step t (counted from 1) the average of t rewards is R̄_(t-1) + "
                   "(R_t - R̄_(t-1)) / t; `enumerate` counts from 0 unless you pass start=1.")),
        Mistake(N_("running average miscomputed"),
                _either(like(run_average_away_from_reward), like(run_average_plus)),
                hint=N_("for {input} you get {got}: your running average is not the mean of the "
                   "rewards so far. The incremental mean moves from R̄_(t-1) towards the new "
                   "reward by a 1/t share of the gap: R̄_t = R̄_(t-1) + (R_t - R̄_(t-1)) / t."),
                more=N_("Check it on rewards [2, 4]: the averages must be 2, then 3.")),
        Mistake(N_("baseline added"), like(run_baseline_added), hint=BASELINE_ADDED_HINT,
                more=BASELINE_ADDED_MORE),
        Mistake(N_("policy added"), like(run_policy_added), hint=POLICY_ADDED_HINT,
                more=POLICY_ADDED_MORE),
        Mistake(N_("policy never updated"), like(run_frozen_policy),
                hint=N_("your policy stays the uniform one it started as: for {input} you get "
                   "{got}. pi must be recomputed from the current preferences at every step, "
                   "pi = softmax(H_t), before the update.")),
        Mistake(N_("sign error"), like(run_sign_flipped),
                hint=N_("your preferences move the wrong way: for {input} you get {got}. A reward "
                   "above the average must raise the chosen arm: H + alpha (R - R̄)(onehot - pi).")),
        Mistake(N_("only the chosen arm updated"), _either(like(run_chosen_arm_only),
                                                        like(run_chosen_arm_only_no_pi)),
                hint=N_("only the chosen arm's preference changes in your run: for {input} you get "
                   "{got}. Every arm moves at every step, the others by -alpha (R - R̄) pi(a): "
                   "use the whole vector onehot(A_t) - pi.")),
        Mistake(N_("no max trick"), broken(),
                hint=N_("your run gives {got} for {input}: with rewards in the thousands the "
                   "preferences pass 709 and exp(H) overflows to inf, and inf / inf is nan. "
                   "Compute pi with the max trick, exp(H - max H) / sum.")),
    ),
))
