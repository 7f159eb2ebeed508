r"""Truncated sampling: top-k and nucleus (top-p) filtering of a next-token distribution.

Notation, as in lesson 04: ``p`` probabilities along the last axis (one distribution per row),
``k`` the number of tokens top-k keeps, ``top_p`` the mass nucleus sampling keeps. Both
functions zero the tokens they drop and renormalise the rest, so that a sampler (``rng.choice``
or lesson 04's inverse CDF) can draw from the result directly.

Ties are never broken by position: a token's fate depends only on its probability, never on
where it sits in the vocabulary.

* **top-k** keeps every token at least as likely as the k-th most likely one (a tie at the
  boundary keeps all the tied tokens, so more than ``k`` may stay);
* **top-p** (Holtzman et al., 2020) keeps a token when the tokens *strictly more likely* than it
  add up to less than ``top_p``: the smallest set of most likely tokens whose mass reaches
  ``top_p``, together with any token tied with the last one it needs. ``top_p = 1`` keeps every
  token of non-zero probability.
"""

from __future__ import annotations

import numbers

import numpy as np

from .softmax import _as_real_array

__all__ = ["top_k_probs", "top_p_probs"]


def _probabilities(p):
    """``p`` as a float array of at least one dimension, checked to hold distributions."""
    x = _as_real_array(p, "p")
    if x.ndim == 0 or x.shape[-1] == 0:
        raise ValueError(f"p must have at least one entry along its last axis, got shape {x.shape}")
    if not np.all(np.isfinite(x)) or np.any(x < 0):
        raise ValueError("p must hold finite, non-negative probabilities")
    if np.any(x.sum(axis=-1) <= 0):
        raise ValueError("every distribution in p must have a positive sum")
    return x


def _renormalise(x, keep):
    q = np.where(keep, x, 0.0).astype(x.dtype, copy=False)
    return q / q.sum(axis=-1, keepdims=True)


def top_k_probs(p, k):
    """Keep the ``k`` most likely tokens of each distribution, zero the others, renormalise.

    Parameters
    ----------
    p : array_like, shape (..., K)
        Probabilities along the last axis (renormalised first if they do not sum to 1).
    k : int
        How many tokens to keep, at least 1; ``k >= K`` keeps them all. A token tied with the
        k-th most likely one is kept too.

    Returns
    -------
    ndarray, shape (..., K)
        The kept tokens' probabilities divided by their sum, 0 elsewhere; float32 stays float32.

    Raises
    ------
    TypeError
        If ``k`` is not an integer.
    ValueError
        If ``k < 1``, or ``p`` holds a negative, infinite or nan entry, or a row sums to 0.

    Examples
    --------
    >>> import numpy as np
    >>> from course_lib.sampling import top_k_probs
    >>> top_k_probs([0.5, 0.1, 0.3, 0.1], 2)
    array([0.625, 0.   , 0.375, 0.   ])
    >>> top_k_probs([0.4, 0.2, 0.2, 0.2], 2)       # three tokens tie for second place
    array([0.4, 0.2, 0.2, 0.2])
    >>> top_k_probs([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]], 1)
    array([[1., 0., 0.],
           [0., 0., 1.]])
    >>> top_k_probs([0.5, 0.5], 0)
    Traceback (most recent call last):
    ...
    ValueError: k must be an integer >= 1, got 0
    """
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, (numbers.Integral, np.integer)):
        raise TypeError(f"k must be an integer >= 1, got {k!r}")
    if k < 1:
        raise ValueError(f"k must be an integer >= 1, got {k!r}")
    x = _probabilities(p)
    n = x.shape[-1]
    if k >= n:
        return _renormalise(x, np.ones(x.shape, bool))
    kth = np.partition(x, n - k, axis=-1)[..., n - k : n - k + 1]   # the k-th largest per row
    return _renormalise(x, (x >= kth) & (x > 0))


def top_p_probs(p, top_p):
    """Nucleus (top-p) filtering: keep the most likely tokens until their mass reaches ``top_p``.

    A token is kept when the tokens strictly more likely than it have a total probability below
    ``top_p`` (Holtzman et al., 2020): the most likely token is always kept, the token whose
    probability carries the running total to ``top_p`` or past it is kept, and so is every
    token tied with it.

    Parameters
    ----------
    p : array_like, shape (..., K)
        Probabilities along the last axis (renormalised first if they do not sum to 1).
    top_p : float
        The mass to keep, in (0, 1]. ``top_p = 1`` keeps every token of non-zero probability;
        a tiny ``top_p`` keeps only the most likely token (and any tied with it).

    Returns
    -------
    ndarray, shape (..., K)
        The kept tokens' probabilities divided by their sum, 0 elsewhere; float32 stays float32.

    Raises
    ------
    TypeError
        If ``top_p`` is not a real number.
    ValueError
        If ``top_p`` is not in (0, 1], or ``p`` holds a negative, infinite or nan entry, or a
        row sums to 0.

    Examples
    --------
    >>> import numpy as np
    >>> from course_lib.sampling import top_p_probs
    >>> top_p_probs([0.1, 0.5, 0.15, 0.25], 0.7)    # 0.5 + 0.25 reaches 0.7
    array([0.        , 0.66666667, 0.        , 0.33333333])
    >>> top_p_probs([0.5, 0.25, 0.25], 0.6)         # the two 0.25s tie at the boundary
    array([0.5 , 0.25, 0.25])
    >>> top_p_probs([0.5, 0.3, 0.2], 1.0)
    array([0.5, 0.3, 0.2])
    >>> top_p_probs([[0.1, 0.9], [0.6, 0.4]], 0.5)  # row by row
    array([[0., 1.],
           [1., 0.]])
    >>> top_p_probs([0.5, 0.5], 1.5)
    Traceback (most recent call last):
    ...
    ValueError: top_p must be in (0, 1], got 1.5
    """
    if isinstance(top_p, (bool, np.bool_)) or not isinstance(top_p, numbers.Real):
        raise TypeError(f"top_p must be a number in (0, 1], got {top_p!r}")
    if not 0.0 < float(top_p) <= 1.0:
        raise ValueError(f"top_p must be in (0, 1], got {top_p!r}")
    x = _probabilities(p)
    total = x.sum(axis=-1, keepdims=True)                   # 1, unless p is not normalised
    order = np.argsort(-x, axis=-1, kind="stable")
    s = np.take_along_axis(x, order, axis=-1)
    before = np.cumsum(s, axis=-1) - s                      # mass of the tokens ranked above
    # tied tokens share the mass above the first of them: a tie is kept or dropped as a whole
    first = np.concatenate([np.ones(s.shape[:-1] + (1,), bool), s[..., 1:] != s[..., :-1]], axis=-1)
    idx = np.where(first, np.arange(s.shape[-1]), 0)
    above = np.take_along_axis(before, np.maximum.accumulate(idx, axis=-1), axis=-1)
    # top_p = 1 keeps every token: a sum of 1 - p_i may round to 1 for a tiny p_i
    keep_sorted = ((above < top_p * total) | (top_p >= 1.0)) & (s > 0)
    keep = np.empty_like(keep_sorted)
    np.put_along_axis(keep, order, keep_sorted, axis=-1)
    return _renormalise(x, keep)
