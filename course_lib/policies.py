r"""Softmax (Boltzmann) policies and the gradient-bandit algorithm (Sutton & Barto, 2nd ed., §2.8).

Notation, as in lesson 07: ``h`` action preferences :math:`H(a)`, ``p`` the policy
:math:`\pi(a) = \operatorname{softmax}(H / \tau)(a)`, ``tau`` the temperature, ``q`` the true
action values :math:`q_*(a)`, ``alpha`` the step size, ``baseline`` :math:`\bar R_t`.

The gradient-bandit update is stochastic gradient ascent on the expected reward:

.. math::

    H_{t+1}(a) = H_t(a) + \frac{\alpha}{\tau}\,(R_t - \bar R_t)\,
                 \bigl(\mathbb 1\{a = A_t\} - \pi_t(a)\bigr),

because :math:`\partial \log \pi(A) / \partial H(a) = (\mathbb 1\{a = A\} - \pi(a)) / \tau`.
At :math:`\tau = 1` this is the book's update (§2.8). The increments sum to zero over the
actions, so every update keeps :math:`\sum_a H(a)` where it was, at any temperature.

:func:`gradient_bandit` runs the book's 10-armed testbed for many independent runs at once (one
row per run), so reproducing Figure 2.5 (2000 runs x 1000 steps per curve) takes about a second
per curve instead of the minute a per-run Python loop takes. :func:`parameter_study` runs many
step sizes at once the same way, for a parameter study in the spirit of the book's Figure 2.6.
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

import numpy as np

from .softmax import _as_real_array, _temperature, softmax

__all__ = [
    "boltzmann_policy",
    "sample_action",
    "inverse_cdf",
    "gradient_bandit_step",
    "gradient_bandit",
    "BanditResult",
    "parameter_study",
    "StudyResult",
]


def boltzmann_policy(h, temperature=1.0):
    r"""The Boltzmann (softmax) policy :math:`\pi(a) = \operatorname{softmax}(H / \tau)(a)`.

    Computed with :func:`course_lib.softmax.softmax` (the max trick), so it never overflows,
    however large the preferences grow.

    Parameters
    ----------
    h : array_like, shape (..., k)
        Action preferences, one row per state (or per run); the last axis holds the actions.
    temperature : float, default 1.0
        ``tau``, finite and > 0. Small: nearly greedy; large: nearly uniform.

    Returns
    -------
    p : ndarray, shape (..., k)
        Probabilities summing to 1 along the last axis (float32/float16 kept).

    Examples
    --------
    >>> from course_lib.policies import boltzmann_policy
    >>> boltzmann_policy([1.0, 2.0, 3.0])
    array([0.09003057, 0.24472847, 0.66524096])
    >>> boltzmann_policy([1.0, 2.0, 3.0], temperature=0.01).round(6)   # nearly greedy
    array([0., 0., 1.])
    >>> boltzmann_policy([1000.0, 0.0])                                # no overflow
    array([1., 0.])
    """
    x = _as_real_array(h, "h")
    if x.ndim == 0:
        raise ValueError("h must have at least one axis (the actions), got a scalar")
    if x.shape[-1] == 0:
        raise ValueError("h must hold at least one action along its last axis, got none")
    return softmax(x, axis=-1, temperature=_temperature(temperature))


def _check_policy(p):
    x = _as_real_array(p, "p")
    if x.ndim == 0 or x.shape[-1] == 0:
        raise ValueError(
            f"p must have at least one action along its last axis, got shape {x.shape}")
    if not np.all(np.isfinite(x)) or np.any(x < 0):
        raise ValueError("p must hold finite, non-negative probabilities")
    total = x.sum(axis=-1, dtype=np.float64)
    if np.any(np.abs(total - 1.0) > 1e-6 * max(1, x.shape[-1] / 100)):
        raise ValueError(
            f"p must sum to 1 along its last axis (up to rounding); a sum of "
            f"{float(total.flat[np.argmax(np.abs(total - 1.0))]):.9g} was found"
        )
    return x


def inverse_cdf(p, u):
    r"""The action whose slice of the cumulative distribution holds ``u``.

    Action ``a`` is returned when :math:`\sum_{b<a} p_b \le u\,S < \sum_{b\le a} p_b`, with
    :math:`S = \sum_b p_b` (so a ``p`` that sums to 1 only up to rounding is fine): for ``u``
    uniform on [0, 1) this draws ``a`` with probability ``p[a] / S``. An action with
    probability 0 is never returned.

    Parameters
    ----------
    p : array_like, shape (..., k)
        Probabilities along the last axis, non-negative and summing to 1 (up to rounding).
    u : array_like, shape broadcastable to ``p.shape[:-1]``
        Numbers in [0, 1).

    Returns
    -------
    ndarray of int64, shape ``broadcast(p.shape[:-1], u.shape)`` (a numpy int for 0-d)

    Examples
    --------
    >>> from course_lib.policies import inverse_cdf
    >>> inverse_cdf([0.2, 0.5, 0.3], [0.0, 0.19, 0.2, 0.69, 0.7, 0.999])
    array([0, 0, 1, 1, 2, 2])
    >>> int(inverse_cdf([0.5, 0.0, 0.5], 0.5))   # never the action of probability 0
    2
    """
    x = _check_policy(p)
    uu = _as_real_array(u, "u")
    if np.any(~(uu >= 0) | ~(uu < 1)):
        raise ValueError("u must hold numbers in [0, 1)")
    cdf = np.cumsum(x, axis=-1, dtype=np.float64)
    shape = np.broadcast_shapes(x.shape[:-1], uu.shape)
    target = (uu * cdf[..., -1])[..., None]  # u * S: the sum need not be exactly 1
    a = np.count_nonzero(np.broadcast_to(cdf, shape + x.shape[-1:]) <= target, axis=-1)
    # u * S can round up to S itself: fall back on the last action of positive probability
    last = x.shape[-1] - 1 - np.argmax((x > 0)[..., ::-1], axis=-1)
    return np.minimum(a, np.broadcast_to(last, shape)).astype(np.int64)


def sample_action(p, rng):
    """Draw one action per row of ``p`` by inverse-CDF sampling.

    Parameters
    ----------
    p : array_like, shape (..., k)
        A policy: probabilities along the last axis, summing to 1 up to rounding.
    rng : numpy.random.Generator
        The source of randomness (one uniform number per row is drawn).

    Returns
    -------
    int or ndarray of int64, shape ``p.shape[:-1]``
        A Python int for a 1-D ``p``.

    Examples
    --------
    >>> import numpy as np
    >>> from course_lib.policies import sample_action
    >>> rng = np.random.default_rng(0)
    >>> sample_action([0.0, 1.0, 0.0], rng)
    1
    >>> a = sample_action(np.full((10000, 4), 0.25), rng)
    >>> np.bincount(a, minlength=4) / a.size
    array([0.2524, 0.2466, 0.2505, 0.2505])
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    x = _check_policy(p)
    a = inverse_cdf(x, rng.random(x.shape[:-1]))
    return int(a) if a.ndim == 0 else a


def gradient_bandit_step(h, action, reward, baseline, alpha, temperature=1.0):
    r"""One gradient-bandit update of the preferences; returns the new ``h`` (``h`` is kept).

    .. math:: H'(a) = H(a) + \frac{\alpha}{\tau} (R - b)\,(\mathbb 1\{a = A\} - \pi(a)),
              \quad \pi = \operatorname{softmax}(H / \tau).

    Parameters
    ----------
    h : array_like, shape (..., k)
        The preferences before the update (one row per run for a batch).
    action : int or array_like of int, shape ``h.shape[:-1]``
        The action taken, :math:`A`, in ``0 .. k-1``.
    reward, baseline : float or array_like, broadcastable to ``h.shape[:-1]``
        The reward :math:`R` received and the baseline :math:`b` (0 for none).
    alpha : float
        The step size, > 0.
    temperature : float, default 1.0
        The policy's temperature; the gradient of :math:`\log\pi` carries a factor ``1/tau``.

    Returns
    -------
    ndarray, shape of ``h``
        The new preferences; their sum along the last axis equals the old one (up to
        rounding) at any temperature.

    Examples
    --------
    >>> from course_lib.policies import gradient_bandit_step
    >>> gradient_bandit_step([0.0, 0.0, 0.0, 0.0], 2, reward=5.0, baseline=1.0, alpha=0.5)
    array([-0.5, -0.5,  1.5, -0.5])
    >>> gradient_bandit_step([0.0, 0.0], 0, reward=0.0, baseline=1.0, alpha=0.5)  # worse: down
    array([-0.25,  0.25])
    """
    x = _as_real_array(h, "h")
    p = boltzmann_policy(x, temperature)
    tau = _temperature(temperature)
    a = np.asarray(action)
    if a.dtype.kind not in "iu" and not (a.dtype.kind == "f" and np.all(a == np.round(a))):
        raise TypeError(f"action must be an integer index (or an array of them), got {action!r}")
    a = a.astype(np.int64)
    k = x.shape[-1]
    if np.any((a < 0) | (a >= k)):
        raise ValueError(f"action must be in 0..{k - 1}, got {action!r}")
    if isinstance(alpha, (bool, np.bool_)) or not isinstance(alpha, numbers.Real) or not alpha > 0:
        raise ValueError(f"alpha must be a number > 0, got {alpha!r}")
    r = _as_real_array(reward, "reward")
    b = _as_real_array(baseline, "baseline")
    onehot = (np.arange(k) == a[..., None]).astype(p.dtype)
    scale = (float(alpha) / tau) * (r - b)
    return x + (scale[..., None] * (onehot - p)).astype(p.dtype)


class BanditResult(NamedTuple):
    """What :func:`gradient_bandit` returns, per step (averaged over the runs).

    Attributes
    ----------
    optimal : ndarray, shape (n_steps,)
        The fraction of runs that took the optimal action at each step (0 to 1).
    reward : ndarray, shape (n_steps,)
        The mean reward at each step.
    """

    optimal: np.ndarray
    reward: np.ndarray


def _positive_int(value, name):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, np.integer)):
        raise TypeError(f"{name} must be a positive int, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def gradient_bandit(*, k=10, n_runs=2000, n_steps=1000, alpha=0.1, baseline=True,
                    true_mean=4.0, seed=0, include_current=True, temperature=1.0):
    r"""The gradient-bandit algorithm on the k-armed testbed, all runs at once (Figure 2.5).

    Each run draws true values :math:`q_*(a) \sim N(\text{true\_mean}, 1)`, starts from
    :math:`H_1 = 0`, and at every step samples :math:`A_t \sim \pi_t = \operatorname{softmax}
    (H_t / \tau)`, receives :math:`R_t \sim N(q_*(A_t), 1)` and updates :math:`H` with
    :func:`gradient_bandit_step`. The baseline is the incremental average of the rewards,
    :math:`\bar R_t = \bar R_{t-1} + (R_t - \bar R_{t-1}) / t`, updated *before* the
    preferences (it includes :math:`R_t`), as in the widely used reference code (Zhang et
    al.); ``include_current=False`` uses the average of :math:`R_1 .. R_{t-1}` instead (with
    :math:`\bar R_1 = R_1`). Runs are rows of arrays: the only Python loop is over steps.

    Parameters
    ----------
    k : int, default 10
        Number of arms.
    n_runs, n_steps : int, default 2000 and 1000
        Independent runs (bandit problems) and steps per run.
    alpha : float, default 0.1
        Step size.
    baseline : bool, default True
        Use the average reward as the baseline (False: baseline 0).
    true_mean : float, default 4.0
        Mean of the true values (Figure 2.5 uses +4).
    seed : int, default 0
        Seed of the one ``numpy.random.Generator`` everything is drawn from.
    include_current : bool, default True
        Whether :math:`\bar R_t` includes :math:`R_t` (see above).
    temperature : float, default 1.0
        The policy's temperature (the book's algorithm is ``1``).

    Returns
    -------
    BanditResult
        ``(optimal, reward)``: per-step fraction of runs taking the optimal action, and mean
        reward, each of shape ``(n_steps,)``.

    Examples
    --------
    >>> from course_lib.policies import gradient_bandit
    >>> res = gradient_bandit(n_runs=200, n_steps=300, alpha=0.1, seed=1)
    >>> res.optimal.shape, res.reward.shape
    ((300,), (300,))
    >>> bool(res.optimal[-50:].mean() > 0.5 > res.optimal[:10].mean())   # it learns
    True
    """
    k = _positive_int(k, "k")
    n_runs = _positive_int(n_runs, "n_runs")
    n_steps = _positive_int(n_steps, "n_steps")
    if isinstance(alpha, (bool, np.bool_)) or not isinstance(alpha, numbers.Real) or not alpha > 0:
        raise ValueError(f"alpha must be a number > 0, got {alpha!r}")
    if not isinstance(true_mean, numbers.Real) or not np.isfinite(true_mean):
        raise ValueError(f"true_mean must be a finite number, got {true_mean!r}")
    tau = _temperature(temperature)
    rng = np.random.default_rng(seed)
    q = rng.normal(true_mean, 1.0, (n_runs, k))
    best = np.argmax(q, axis=1)
    rows = np.arange(n_runs)
    arms = np.arange(k)
    h = np.zeros((n_runs, k))
    avg = np.zeros(n_runs)
    optimal = np.empty(n_steps)
    mean_reward = np.empty(n_steps)
    step = float(alpha) / tau
    for t in range(1, n_steps + 1):
        p = softmax(h, axis=-1, temperature=tau)
        a = inverse_cdf(p, rng.random(n_runs))
        r = q[rows, a] + rng.standard_normal(n_runs)
        if include_current:
            avg += (r - avg) / t
            b = avg
        else:
            b = avg if t > 1 else r  # the average of the rewards before t, with R̄_1 = R_1
            avg = avg + (r - avg) / t
        # the update of gradient_bandit_step, inlined on the batch (it shares its softmax)
        h += (step * (r - b) if baseline else step * r)[:, None] * ((arms == a[:, None]) - p)
        optimal[t - 1] = np.mean(a == best)
        mean_reward[t - 1] = r.mean()
    return BanditResult(optimal, mean_reward)


class StudyResult(NamedTuple):
    """What :func:`parameter_study` returns, one entry per step size.

    Attributes
    ----------
    alpha : ndarray, shape (n_alphas,)
        The step sizes, as given.
    reward : ndarray, shape (n_alphas,)
        The average reward over all steps and runs.
    stderr : ndarray, shape (n_alphas,)
        Its standard error: the standard deviation over the runs of each run's average reward,
        divided by the square root of the number of runs.
    """

    alpha: np.ndarray
    reward: np.ndarray
    stderr: np.ndarray


def parameter_study(alphas, *, baseline=True, k=10, n_runs=200, n_steps=1000, true_mean=0.0,
                    seed=0):
    r"""The gradient bandit's average reward over its first ``n_steps`` steps, per step size.

    A parameter study in the spirit of Sutton & Barto's Figure 2.6: every step size runs on the
    *same* ``n_runs`` testbed problems, with the same random numbers (one uniform number and one
    reward noise per run and step, shared by all step sizes), so the differences between step
    sizes are not blurred by different luck. All step sizes and runs are rows of one array: the
    only Python loop is over the steps. The algorithm is that of :func:`gradient_bandit` at
    temperature 1, with the baseline that includes :math:`R_t`.

    Parameters
    ----------
    alphas : array_like of float, shape (n_alphas,)
        Step sizes, each > 0.
    baseline : bool, default True
        Use the average reward as the baseline (False: baseline 0).
    k, n_runs, n_steps : int, default 10, 200 and 1000
        Arms, runs (bandit problems) and steps per run.
    true_mean : float, default 0.0
        Mean of the true values :math:`q_*(a) \sim N(\text{true\_mean}, 1)`; the book's
        Figure 2.6 uses the standard testbed, 0.
    seed : int, default 0
        Seed of the one ``numpy.random.Generator`` everything is drawn from.

    Returns
    -------
    StudyResult
        ``(alpha, reward, stderr)``, each of shape ``(n_alphas,)``.

    Examples
    --------
    >>> from course_lib.policies import parameter_study
    >>> res = parameter_study([0.1, 0.4], n_runs=50, n_steps=200, seed=1)
    >>> res.reward.shape, bool(res.reward.min() > 0.3)      # both learn: well above 0
    ((2,), True)
    """
    a_ = _as_real_array(alphas, "alphas")
    if a_.ndim != 1 or a_.size == 0:
        raise ValueError(f"alphas must be a 1-D sequence of step sizes, got shape {a_.shape}")
    if not np.all(np.isfinite(a_)) or np.any(a_ <= 0):
        raise ValueError("alphas must hold finite step sizes > 0")
    k = _positive_int(k, "k")
    n_runs = _positive_int(n_runs, "n_runs")
    n_steps = _positive_int(n_steps, "n_steps")
    if not isinstance(true_mean, numbers.Real) or not np.isfinite(true_mean):
        raise ValueError(f"true_mean must be a finite number, got {true_mean!r}")
    alpha = a_.astype(np.float64)[:, None]                  # one row of runs per step size
    rng = np.random.default_rng(seed)
    q = rng.normal(true_mean, 1.0, (n_runs, k))
    runs = np.arange(n_runs)
    arms = np.arange(k)
    h = np.zeros((alpha.shape[0], n_runs, k))
    avg = np.zeros((alpha.shape[0], n_runs))
    total = np.zeros((alpha.shape[0], n_runs))             # each run's sum of rewards
    for t in range(1, n_steps + 1):
        p = softmax(h, axis=-1)
        u = rng.random(n_runs)                               # shared by every step size
        noise = rng.standard_normal(n_runs)
        cdf = np.cumsum(p, axis=-1)
        a = np.minimum(np.count_nonzero(cdf <= (u * cdf[..., -1])[..., None], axis=-1), k - 1)
        r = q[runs, a] + noise
        total += r
        avg += (r - avg) / t
        step = alpha * (r - avg) if baseline else alpha * r
        h += step[..., None] * ((arms == a[..., None]) - p)
    per_run = total / n_steps
    return StudyResult(a_.copy(), per_run.mean(axis=1),
                       per_run.std(axis=1, ddof=1) / np.sqrt(n_runs) if n_runs > 1
                       else np.full(alpha.shape[0], np.nan))
