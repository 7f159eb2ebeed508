"""Lesson 07's known-wrong and known-right exercise answers, written as a learner might.

Merged into ``grading_fixtures.WRONG`` and ``RIGHT`` (see the end of ``grading_fixtures.py``).
"""

import math

import numpy as np
import scipy.special as sc

# ---------------------------------------------------------------------------------------------
# boltzmann_policy(h, temperature=1.0)


def policy_ok(h, temperature=1.0):
    x = np.asarray(h, dtype=float) / temperature
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def policy_scipy(h, temperature=1.0):
    return sc.softmax(np.asarray(h, dtype=float) / temperature, axis=-1)


def policy_log_domain(h, temperature=1.0):
    x = np.asarray(h, dtype=float) / temperature
    return np.exp(x - sc.logsumexp(x, axis=-1, keepdims=True))


def policy_rows_loop(h, temperature=1.0):
    x = np.atleast_2d(np.asarray(h, dtype=float))
    out = []
    for row in x:
        m = max(row / temperature)
        e = [math.exp(v / temperature - m) for v in row]
        out.append([v / sum(e) for v in e])
    return np.array(out).reshape(np.shape(h))


def policy_argmax(h, temperature=1.0):
    h = np.asarray(h, dtype=float)
    p = np.zeros_like(h)
    np.put_along_axis(p, np.argmax(h, axis=-1)[..., None], 1.0, axis=-1)
    return p


def policy_times_tau(h, temperature=1.0):
    x = np.asarray(h, dtype=float) * temperature
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def policy_no_tau(h, temperature=1.0):
    x = np.asarray(h, dtype=float)
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def policy_no_max(h, temperature=1.0):
    e = np.exp(np.asarray(h, dtype=float) / temperature)
    return e / e.sum(axis=-1, keepdims=True)


def policy_global_sum(h, temperature=1.0):
    x = np.asarray(h, dtype=float) / temperature
    e = np.exp(x - x.max())
    return e / e.sum()


def policy_columns(h, temperature=1.0):
    x = np.asarray(h, dtype=float) / temperature
    e = np.exp(x - x.max(axis=0))
    return e / e.sum(axis=0)


def policy_unnormalised(h, temperature=1.0):
    x = np.asarray(h, dtype=float) / temperature
    return np.exp(x - x.max(axis=-1, keepdims=True))


def policy_in_place(h, temperature=1.0):
    h /= temperature  # the caller's preferences
    h -= h.max(axis=-1, keepdims=True)
    e = np.exp(h)
    return e / e.sum(axis=-1, keepdims=True)


def policy_int_in_place(h, temperature=1.0):
    x = np.array(h)  # a copy, but integer preferences stay integers
    x /= temperature
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def policy_tau_required(h, temperature):
    return policy_ok(h, temperature)


def policy_no_return(h, temperature=1.0):
    p = policy_ok(h, temperature)  # noqa: F841


def policy_text(h, temperature=1.0):
    return str(policy_ok(h, temperature))


# ---------------------------------------------------------------------------------------------
# gradient_bandit_step(h, action, reward, baseline, alpha)


def step_ok(h, action, reward, baseline, alpha):
    h = np.asarray(h, dtype=float)
    e = np.exp(h - h.max())
    pi = e / e.sum()
    onehot = np.zeros_like(h)
    onehot[action] = 1.0
    return h + alpha * (reward - baseline) * (onehot - pi)


def step_loop(h, action, reward, baseline, alpha):
    pi = sc.softmax(np.asarray(h, dtype=float))
    new = []
    for a, (value, p) in enumerate(zip(h, pi)):
        if a == action:
            new.append(value + alpha * (reward - baseline) * (1 - p))
        else:
            new.append(value - alpha * (reward - baseline) * p)
    return new


def step_copy_then_in_place(h, action, reward, baseline, alpha):
    new = np.array(h, dtype=float)  # a float copy: updating it in place is fine
    pi = sc.softmax(new)
    new -= alpha * (reward - baseline) * pi
    new[action] += alpha * (reward - baseline)
    return new


def step_minus(h, action, reward, baseline, alpha):
    h = np.asarray(h, dtype=float)
    pi = sc.softmax(h)
    grad = -pi
    grad[action] += 1
    return h - alpha * (reward - baseline) * grad


def step_reversed_difference(h, action, reward, baseline, alpha):
    h = np.asarray(h, dtype=float)
    pi = sc.softmax(h)
    onehot = np.eye(len(h))[action]
    return h + alpha * (baseline - reward) * (onehot - pi)


def step_no_baseline(h, action, reward, baseline, alpha):
    h = np.asarray(h, dtype=float)
    pi = sc.softmax(h)
    onehot = np.eye(len(h))[action]
    return h + alpha * reward * (onehot - pi)


def step_argmax_policy(h, action, reward, baseline, alpha):
    h = np.asarray(h, dtype=float)
    pi = np.zeros_like(h)
    pi[np.argmax(h)] = 1.0  # "the policy" taken as the greedy choice
    onehot = np.zeros_like(h)
    onehot[action] = 1.0
    return h + alpha * (reward - baseline) * (onehot - pi)


def step_chosen_only(h, action, reward, baseline, alpha):
    new = np.array(h, dtype=float)
    pi = sc.softmax(new)
    new[action] += alpha * (reward - baseline) * (1 - pi[action])
    return new


def step_chosen_only_no_pi(h, action, reward, baseline, alpha):
    new = np.array(h, dtype=float)
    new[action] = new[action] + alpha * (reward - baseline)
    return new


def step_naive_exp(h, action, reward, baseline, alpha):
    h = np.asarray(h, dtype=float)
    pi = np.exp(h) / np.sum(np.exp(h))
    onehot = np.zeros_like(h)
    onehot[action] = 1.0
    return h + alpha * (reward - baseline) * (onehot - pi)


def step_naive_exp_math(h, action, reward, baseline, alpha):
    e = [math.exp(v) for v in h]  # OverflowError above 709
    pi = [v / sum(e) for v in e]
    return [v + alpha * (reward - baseline) * ((a == action) - p)
            for a, (v, p) in enumerate(zip(h, pi))]


def step_in_place(h, action, reward, baseline, alpha):
    pi = sc.softmax(h)
    h -= alpha * (reward - baseline) * pi  # the caller's preferences
    h[action] += alpha * (reward - baseline)
    return h


def step_int_copy(h, action, reward, baseline, alpha):
    new = np.copy(h)  # keeps an integer dtype
    pi = sc.softmax(new)
    new -= alpha * (reward - baseline) * pi
    new[action] += alpha * (reward - baseline)
    return new


def step_four_parameters(h, action, reward, alpha):
    return step_ok(h, action, reward, 0.0, alpha)


def step_no_return(h, action, reward, baseline, alpha):
    new = step_ok(h, action, reward, baseline, alpha)  # noqa: F841


def step_dict(h, action, reward, baseline, alpha):
    return {"h": step_ok(h, action, reward, baseline, alpha)}


WRONG = [
    ("boltzmann_policy", "greedy one-hot policy", policy_argmax),
    ("boltzmann_policy", "temperature multiplied", policy_times_tau),
    ("boltzmann_policy", "temperature ignored", policy_no_tau),
    ("boltzmann_policy", "no max trick", policy_no_max),
    ("boltzmann_policy", "normalised over the whole array", policy_global_sum),
    ("boltzmann_policy", "wrong axis", policy_columns),
    ("boltzmann_policy", "not normalised", policy_unnormalised),
    ("boltzmann_policy", "modifies its input", policy_in_place),
    ("boltzmann_policy", "integer input", policy_int_in_place),
    ("boltzmann_policy", "wrong signature", policy_tau_required),
    ("boltzmann_policy", "no return", policy_no_return),
    ("boltzmann_policy", "result is not numbers", policy_text),
    ("gradient_bandit_step", "sign error", step_minus),
    ("gradient_bandit_step", "sign error", step_reversed_difference),
    ("gradient_bandit_step", "baseline ignored", step_no_baseline),
    ("gradient_bandit_step", "greedy policy in the update", step_argmax_policy),
    ("gradient_bandit_step", "only the chosen arm updated", step_chosen_only),
    ("gradient_bandit_step", "only the chosen arm updated", step_chosen_only_no_pi),
    ("gradient_bandit_step", "no max trick", step_naive_exp),
    ("gradient_bandit_step", "no max trick", step_naive_exp_math),
    ("gradient_bandit_step", "modifies its input", step_in_place),
    ("gradient_bandit_step", "integer input", step_int_copy),
    ("gradient_bandit_step", "wrong signature", step_four_parameters),
    ("gradient_bandit_step", "no return", step_no_return),
    ("gradient_bandit_step", "result is not numbers", step_dict),
]

DELEGATED = [
    ("boltzmann_policy", policy_scipy, "scipy.special.softmax"),
    ("boltzmann_policy", policy_log_domain, "scipy.special.logsumexp"),
]

RIGHT = [
    ("boltzmann_policy", policy_ok),
    ("boltzmann_policy", policy_rows_loop),
    ("gradient_bandit_step", step_ok),
    ("gradient_bandit_step", step_loop),
    ("gradient_bandit_step", step_copy_then_in_place),
]


# ---------------------------------------------------------------------------------------------
# gradient_bandit_run(actions, rewards, k, alpha)


def run_ok(actions, rewards, k, alpha):
    h = np.zeros(k)
    avg = 0.0
    for t, (a, r) in enumerate(zip(actions, rewards), start=1):
        avg = avg + (r - avg) / t
        e = np.exp(h - h.max())
        pi = e / e.sum()
        onehot = np.zeros(k)
        onehot[a] = 1.0
        h = h + alpha * (r - avg) * (onehot - pi)
    return h


def run_with_step(actions, rewards, k, alpha):
    h = np.zeros(k)
    total = 0.0
    for t in range(len(actions)):
        total += rewards[t]
        h = step_ok(h, actions[t], rewards[t], total / (t + 1), alpha)
    return h


def run_python_lists(actions, rewards, k, alpha):
    h = [0.0] * k
    avg = 0.0
    for t, (a, r) in enumerate(zip(actions, rewards), start=1):
        avg += (r - avg) / t
        m = max(h)
        e = [math.exp(v - m) for v in h]
        s = sum(e)
        h = [v + alpha * (r - avg) * ((b == a) - x / s) for b, (v, x) in enumerate(zip(h, e))]
    return h


def run_scipy_in_place_copy(actions, rewards, k, alpha):
    h = np.zeros(k)  # its own array: updating it in place is fine
    rewards = np.asarray(rewards, dtype=float)
    for t in range(1, len(actions) + 1):
        avg = rewards[:t].mean()  # the average recomputed from scratch: same numbers
        g = -sc.softmax(h)
        g[actions[t - 1]] += 1.0
        h += alpha * (rewards[t - 1] - avg) * g
    return h


def run_previous_average(actions, rewards, k, alpha):
    h, avg = np.zeros(k), 0.0
    for t, (a, r) in enumerate(zip(actions, rewards), start=1):
        pi = sc.softmax(h)
        h = h + alpha * (r - avg) * (np.eye(k)[a] - pi)  # the average before R_t
        avg += (r - avg) / t
    return h


def run_reward_alone(actions, rewards, k, alpha):
    h = np.zeros(k)
    for a, r in zip(actions, rewards):
        h = h + alpha * r * (np.eye(k)[a] - sc.softmax(h))
    return h


def run_enumerate_from_zero(actions, rewards, k, alpha):
    h, avg = np.zeros(k), 0.0
    for t, (a, r) in enumerate(zip(actions, rewards)):
        avg += (r - avg) / (t + 2)  # "t + 1 rewards so far", counted once too many
        h = h + alpha * (r - avg) * (np.eye(k)[a] - sc.softmax(h))
    return h


def run_pi_once(actions, rewards, k, alpha):
    h, avg = np.zeros(k), 0.0
    pi = sc.softmax(h)  # computed once, before the loop
    for t, (a, r) in enumerate(zip(actions, rewards), start=1):
        avg += (r - avg) / t
        h = h + alpha * (r - avg) * (np.eye(k)[a] - pi)
    return h


def run_minus(actions, rewards, k, alpha):
    h, avg = np.zeros(k), 0.0
    for t, (a, r) in enumerate(zip(actions, rewards), start=1):
        avg += (r - avg) / t
        h = h + alpha * (avg - r) * (np.eye(k)[a] - sc.softmax(h))
    return h


def run_chosen_arm(actions, rewards, k, alpha):
    h, avg = np.zeros(k), 0.0
    for t, (a, r) in enumerate(zip(actions, rewards), start=1):
        avg += (r - avg) / t
        h[a] += alpha * (r - avg)
    return h


def run_chosen_arm_with_pi(actions, rewards, k, alpha):
    h, avg = np.zeros(k), 0.0
    for t, (a, r) in enumerate(zip(actions, rewards), start=1):
        avg += (r - avg) / t
        h[a] += alpha * (r - avg) * (1 - sc.softmax(h)[a])
    return h


def run_naive_exp(actions, rewards, k, alpha):
    h, avg = np.zeros(k), 0.0
    for t, (a, r) in enumerate(zip(actions, rewards), start=1):
        avg += (r - avg) / t
        pi = np.exp(h) / np.exp(h).sum()
        h = h + alpha * (r - avg) * (np.eye(k)[a] - pi)
    return h


def run_pops_rewards(actions, rewards, k, alpha):
    h, avg, t = np.zeros(k), 0.0, 0
    actions, queue = list(actions), rewards  # the caller's list of rewards, emptied
    while queue:
        r, a = queue.pop(0), actions.pop(0)
        t += 1
        avg += (r - avg) / t
        h = h + alpha * (r - avg) * (np.eye(k)[a] - sc.softmax(h))
    return h


def run_no_k(actions, rewards, alpha):
    return run_ok(actions, rewards, max(actions) + 1, alpha)


def run_no_return(actions, rewards, k, alpha):
    h = run_ok(actions, rewards, k, alpha)  # noqa: F841


def run_text(actions, rewards, k, alpha):
    return f"H = {run_ok(actions, rewards, k, alpha)}"


WRONG += [
    ("gradient_bandit_run", "baseline before the reward", run_previous_average),
    ("gradient_bandit_run", "no baseline", run_reward_alone),
    ("gradient_bandit_run", "average over the wrong count", run_enumerate_from_zero),
    ("gradient_bandit_run", "policy never updated", run_pi_once),
    ("gradient_bandit_run", "sign error", run_minus),
    ("gradient_bandit_run", "only the chosen arm updated", run_chosen_arm),
    ("gradient_bandit_run", "only the chosen arm updated", run_chosen_arm_with_pi),
    ("gradient_bandit_run", "no max trick", run_naive_exp),
    ("gradient_bandit_run", "modifies its input", run_pops_rewards),
    ("gradient_bandit_run", "wrong signature", run_no_k),
    ("gradient_bandit_run", "no return", run_no_return),
    ("gradient_bandit_run", "result is not numbers", run_text),
]

RIGHT += [
    ("gradient_bandit_run", run_ok),
    ("gradient_bandit_run", run_with_step),
    ("gradient_bandit_run", run_python_lists),
    ("gradient_bandit_run", run_scipy_in_place_copy),
]


# --- mistakes named for issue 16's mutation goals ----------------------------------------------
def step_plus_baseline(h, action, reward, baseline, alpha):
    h = np.asarray(h, dtype=float)
    return h + alpha * (reward + baseline) * (np.eye(h.size)[action] - sc.softmax(h))


def step_plus_pi(h, action, reward, baseline, alpha):
    h = np.asarray(h, dtype=float)
    return h + alpha * (reward - baseline) * (np.eye(h.size)[action] + sc.softmax(h))


def run_average_backwards(actions, rewards, k, alpha):
    h, avg = np.zeros(k), 0.0
    for t, (a, r) in enumerate(zip(actions, rewards), start=1):
        avg -= (r - avg) / t                               # away from the new reward
        h = h + alpha * (r - avg) * (np.eye(k)[a] - sc.softmax(h))
    return h


def run_plus_baseline(actions, rewards, k, alpha):
    h, avg = np.zeros(k), 0.0
    for t, (a, r) in enumerate(zip(actions, rewards), start=1):
        avg += (r - avg) / t
        h = h + alpha * (r + avg) * (np.eye(k)[a] - sc.softmax(h))
    return h


def run_plus_pi(actions, rewards, k, alpha):
    h, avg = np.zeros(k), 0.0
    for t, (a, r) in enumerate(zip(actions, rewards), start=1):
        avg += (r - avg) / t
        h = h + alpha * (r - avg) * (np.eye(k)[a] + sc.softmax(h))
    return h


WRONG += [
    ("gradient_bandit_step", "baseline added", step_plus_baseline),
    ("gradient_bandit_step", "policy added", step_plus_pi),
    ("gradient_bandit_run", "running average miscomputed", run_average_backwards),
    ("gradient_bandit_run", "baseline added", run_plus_baseline),
    ("gradient_bandit_run", "policy added", run_plus_pi),
]
