"""The vectorised gradient bandit against a per-run Python loop, as the well-known reference
code for the book's figures runs it (a Bandit object stepping one run at a time).

    python benchmarks/bench_policies.py                  # 2000 x 1000 vectorised, 100 runs looped
    python benchmarks/bench_policies.py --loop-runs 200  # more looped runs (steadier, slower)

The loop below is written in the style of Zhang et al.'s ``chapter02/ten_armed_testbed.py``
(``Bandit.reset/act/step`` with ``np.random.choice(p=...)`` for every step of every run), not
copied from it; its time for ``--loop-runs`` runs is scaled to 2000 runs. Both implementations
compute the same algorithm (the baseline includes the current reward, updated before the
preferences), so their % optimal action over steps 901-1000 is printed too: they agree within
the noise of the looped runs.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from course_lib.policies import gradient_bandit


class LoopBandit:
    """One 10-armed testbed problem at a time, one step at a time (the reference code's shape)."""

    def __init__(self, k=10, step_size=0.1, baseline=True, true_reward=4.0, rng=None):
        self.k, self.step_size, self.baseline, self.true_reward = k, step_size, baseline, true_reward
        self.indices = np.arange(k)
        self.rng = rng

    def reset(self):
        self.q_true = self.rng.standard_normal(self.k) + self.true_reward
        self.preferences = np.zeros(self.k)
        self.best_action = int(np.argmax(self.q_true))
        self.time = 0
        self.average_reward = 0.0

    def act(self):
        exp_est = np.exp(self.preferences)
        self.action_prob = exp_est / np.sum(exp_est)
        return self.rng.choice(self.indices, p=self.action_prob)

    def step(self, action):
        reward = self.rng.standard_normal() + self.q_true[action]
        self.time += 1
        self.average_reward += (reward - self.average_reward) / self.time
        one_hot = np.zeros(self.k)
        one_hot[action] = 1
        baseline = self.average_reward if self.baseline else 0.0
        self.preferences += self.step_size * (reward - baseline) * (one_hot - self.action_prob)
        return reward


def loop_gradient_bandit(n_runs, n_steps, alpha, baseline, seed=0):
    """Per-step share of optimal actions, one run after another."""
    bandit = LoopBandit(step_size=alpha, baseline=baseline, rng=np.random.default_rng(seed))
    best = np.zeros((n_runs, n_steps))
    for r in range(n_runs):
        bandit.reset()
        for t in range(n_steps):
            action = bandit.act()
            bandit.step(action)
            best[r, t] = action == bandit.best_action
    return best.mean(axis=0)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=2000, help="runs of the vectorised version")
    ap.add_argument("--loop-runs", type=int, default=100, help="runs of the Python loop")
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3, help="vectorised timings (median)")
    args = ap.parse_args(argv)

    print(f"gradient bandit, 10 arms, {args.steps} steps; vectorised: {args.runs} runs "
          f"(median of {args.repeat}); loop: {args.loop_runs} runs, time scaled to {args.runs}")
    print(f"{'alpha':>5} {'baseline':>8} {'vectorised s':>13} {'loop s (scaled)':>16} "
          f"{'ratio':>7} {'% opt vec':>10} {'% opt loop':>11}")
    ratios = []
    for alpha, baseline in ((0.1, True), (0.4, True), (0.1, False), (0.4, False)):
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            vec = gradient_bandit(alpha=alpha, baseline=baseline, n_runs=args.runs,
                                  n_steps=args.steps, seed=0)
            times.append(time.perf_counter() - t0)
        t_vec = float(np.median(times))
        t0 = time.perf_counter()
        loop = loop_gradient_bandit(args.loop_runs, args.steps, alpha, baseline, seed=1)
        t_loop = (time.perf_counter() - t0) * args.runs / args.loop_runs
        ratios.append(t_loop / t_vec)
        tail = slice(max(0, args.steps - 100), args.steps)
        print(f"{alpha:5} {str(baseline):>8} {t_vec:13.2f} {t_loop:16.1f} {t_loop / t_vec:6.0f}x "
              f"{100 * vec.optimal[tail].mean():10.1f} {100 * loop[tail].mean():11.1f}")
    print(f"the vectorised version is {np.median(ratios):.0f}x faster (median over the four curves)")


if __name__ == "__main__":
    main()
