r"""Scaled dot-product attention, its masks, and blockwise (FlashAttention-style) attention.

Notation, as in lesson 06: ``q`` queries of shape ``(..., n_q, d_k)``, ``k`` keys
``(..., n_k, d_k)``, ``v`` values ``(..., n_k, d_v)``; the leading (batch, head) dimensions
broadcast against each other. Each query ``i`` scores every key ``j``,

.. math::

    s_{ij} = \text{scale} \cdot q_i \cdot k_j, \qquad
    w_{ij} = \operatorname{softmax}_j(s_{ij}), \qquad
    o_i = \sum_j w_{ij} v_j ,

with ``scale = 1 / sqrt(d_k)`` by default (Vaswani et al., 2017). The semantics follow PyTorch's
``torch.nn.functional.scaled_dot_product_attention``: a boolean ``mask`` is True where a key takes
part, ``causal=True`` lets query ``i`` see keys ``j <= i`` (top-left aligned, like ``is_causal``).
A query that sees no key at all gets zero weights and a zero output, never nan (as recent
PyTorch does, e.g. 2.13 on CPU; older versions gave nan). One difference: ``mask`` and ``causal``
may be given together (an entry takes part when both allow it); PyTorch refuses the pair.

:func:`blockwise_attention` computes the same output reading the keys ``block_size`` at a time,
with a running max, a running sum and a running output per query, rescaled by
``exp(m_old - m_new)`` whenever the max grows (the online softmax of Milakov & Gimelshein, 2018,
as FlashAttention uses it; Dao et al., 2022). It never holds more than ``n_q x block_size``
scores.

The running quantities of any block of keys form a *state* ``(m, l, o)``: the max of its scores,
``l = sum_j exp(s_j - m)`` and the unnormalised output ``o = sum_j exp(s_j - m) v_j``
(:func:`softmax_state`). Two states, of two disjoint blocks, merge into the state of their union
(:func:`merge_softmax_states`): the operation is associative and commutative, so blocks can be
reduced in any order and grouping (split-K, a parallel tree reduction, FlashAttention's tiles),
and ``o / l`` is normalised once, at the end.
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

import numpy as np

from .softmax import _as_real_array, masked_softmax, softmax

__all__ = ["scaled_dot_product_attention", "causal_mask", "blockwise_attention", "SoftmaxState",
           "softmax_state", "merge_softmax_states"]


# --------------------------------------------------------------------------- validation


def _qkv(q, k, v):
    """q, k, v as float arrays of one common dtype, with their shapes checked."""
    arrays = [_as_real_array(x, name) for x, name in ((q, "q"), (k, "k"), (v, "v"))]
    for a, name, dims in zip(arrays, "qkv", ("(..., n_q, d_k)", "(..., n_k, d_k)",
                                             "(..., n_k, d_v)")):
        if a.ndim < 2:
            raise ValueError(f"{name} must have at least 2 dimensions {dims}, got shape {a.shape}")
    q, k, v = arrays
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(f"q and k must have the same last dimension d_k, got q {q.shape} and "
                         f"k {k.shape}")
    if q.shape[-1] == 0:
        raise ValueError(f"q and k must have at least one feature (d_k >= 1), got q {q.shape}")
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(f"k and v must have one row per key (the same n_k), got k {k.shape} "
                         f"and v {v.shape}")
    try:
        batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    except ValueError:
        raise ValueError(f"the leading (batch, head) dimensions of q {q.shape}, k {k.shape} and "
                         f"v {v.shape} do not broadcast") from None
    dtype = np.result_type(q, k, v)
    work = np.float32 if dtype == np.float16 else dtype  # float16 is computed in float32
    return q.astype(work, copy=False), k.astype(work, copy=False), v.astype(work, copy=False), \
        batch, dtype


def _scale(scale, d_k):
    if scale is None:
        return 1.0 / np.sqrt(d_k)
    s = scale[()] if isinstance(scale, np.ndarray) and scale.ndim == 0 else scale
    if isinstance(s, (bool, np.bool_)) or not isinstance(s, numbers.Real):
        raise TypeError(f"scale must be a real number or None (1/sqrt(d_k)), got {scale!r}")
    if not np.isfinite(float(s)):
        raise ValueError(f"scale must be finite, got {scale!r}")
    return float(s)


def _flag(value, name):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def _count(n, name):
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (numbers.Integral, np.integer)):
        raise TypeError(f"{name} must be a non-negative int, got {n!r}")
    if n < 0:
        raise ValueError(f"{name} must be a non-negative int, got {n!r}")
    return int(n)


# --------------------------------------------------------------------------- public functions


def causal_mask(n_q, n_k=None):
    """The causal mask: query ``i`` may look at keys ``j <= i`` (True = takes part).

    Lower-triangular and aligned at the top-left corner, as PyTorch's ``is_causal=True``:
    with more keys than queries, the last keys are seen by no query.

    Parameters
    ----------
    n_q : int
        Number of queries (rows).
    n_k : int, optional
        Number of keys (columns); default ``n_q``.

    Returns
    -------
    ndarray of bool, shape (n_q, n_k)

    Examples
    --------
    >>> from course_lib.attention import causal_mask
    >>> causal_mask(3).astype(int)
    array([[1, 0, 0],
           [1, 1, 0],
           [1, 1, 1]])
    >>> causal_mask(2, 4).astype(int)
    array([[1, 0, 0, 0],
           [1, 1, 0, 0]])
    """
    n_q = _count(n_q, "n_q")
    n_k = n_q if n_k is None else _count(n_k, "n_k")
    return np.tri(n_q, n_k, dtype=bool)


def scaled_dot_product_attention(q, k, v, *, mask=None, causal=False, scale=None):
    r"""Attention: ``softmax(scale * q k^T)`` over the keys of each query, times ``v``.

    .. math:: o = \operatorname{softmax}\!\left(\frac{q k^\top}{\sqrt{d_k}}\right) v

    Parameters
    ----------
    q : array_like, shape (..., n_q, d_k)
        Queries. Integers and booleans become float64; float32 stays float32 (float16 is
        computed in float32 and returned as float16). The common dtype of q, k, v is used.
    k : array_like, shape (..., n_k, d_k)
        Keys.
    v : array_like, shape (..., n_k, d_v)
        Values.
    mask : array_like of bool, optional
        True where key ``j`` takes part in query ``i``'s softmax; broadcastable with the
        scores' shape ``(..., n_q, n_k)`` (for a padding mask over keys, shape ``(..., 1, n_k)``
        or ``(n_k,)``).
    causal : bool, default False
        Query ``i`` sees keys ``j <= i`` only (:func:`causal_mask`); combined with ``mask``.
    scale : float, optional
        Multiplies the scores; default ``1 / sqrt(d_k)``.

    Returns
    -------
    output : ndarray, shape (..., n_q, d_v)
    weights : ndarray, shape (..., n_q, n_k)
        Each row sums to 1, or is all zeros when the query sees no key (its output is then 0).

    Examples
    --------
    >>> import numpy as np
    >>> from course_lib.attention import scaled_dot_product_attention
    >>> q = np.array([[1.0, 0.0]])
    >>> k = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> v = np.array([[10.0], [20.0]])
    >>> out, w = scaled_dot_product_attention(q, k, v)
    >>> w.round(4), out.round(4)
    (array([[0.6698, 0.3302]]), array([[13.3024]]))
    >>> scaled_dot_product_attention(q, k, v, mask=[False, False])[0]   # no key: zeros
    array([[0.]])
    """
    q, k, v, batch, dtype = _qkv(q, k, v)
    s = _scale(scale, q.shape[-1])
    causal = _flag(causal, "causal")
    n_q, n_k = q.shape[-2], k.shape[-2]
    allowed = None
    if mask is not None:
        allowed = np.asarray(mask)
        if allowed.dtype != np.bool_:
            raise TypeError(f"mask must be boolean (True where a key takes part), got dtype "
                            f"{allowed.dtype}; for an additive 0/-inf mask pass "
                            "mask=(additive == 0)")
        try:
            np.broadcast_shapes(allowed.shape, batch + (n_q, n_k))
        except ValueError:
            raise ValueError(f"mask of shape {allowed.shape} does not broadcast with the scores' "
                             f"shape {batch + (n_q, n_k)} (..., n_q, n_k)") from None
    if causal:
        c = causal_mask(n_q, n_k)
        allowed = c if allowed is None else allowed & c
    with np.errstate(all="ignore"):
        scores = np.matmul(q, np.swapaxes(k, -1, -2)) * s
        if allowed is None:
            weights = np.asarray(softmax(scores)) if n_k else scores
        else:
            shape = np.broadcast_shapes(scores.shape, allowed.shape)
            scores = np.broadcast_to(scores, shape)
            weights = np.asarray(masked_softmax(scores, allowed)) if n_k else scores.copy()
        output = np.matmul(weights, v)
    return output.astype(dtype, copy=False), weights.astype(dtype, copy=False)


def blockwise_attention(q, k, v, *, block_size=64, causal=False, scale=None):
    r"""Attention computed over tiles of ``block_size`` keys: FlashAttention's idea, in numpy.

    For each tile the scores ``S`` (``n_q x block_size``) are computed and folded into three
    running quantities per query: the max ``m``, the sum ``l`` of ``exp(s - m)`` and the
    unnormalised output ``o``. When a tile raises the max, what was accumulated is rescaled:

    .. math::

        m' = \max(m, \max_j S_{ij}),\quad
        l' = e^{m - m'} l + \sum_j e^{S_{ij} - m'},\quad
        o' = e^{m - m'} o + \sum_j e^{S_{ij} - m'} v_j ,

    and at the end ``o / l`` is the attention output. The full ``n_q x n_k`` score matrix is
    never formed: the memory per query is ``block_size + d_v + 2`` numbers, whatever ``n_k``.

    Parameters
    ----------
    q, k, v : array_like
        As in :func:`scaled_dot_product_attention`.
    block_size : int, default 64
        Keys per tile.
    causal : bool, default False
        Query ``i`` sees keys ``j <= i`` only; tiles that no query sees are skipped.
    scale : float, optional
        Multiplies the scores; default ``1 / sqrt(d_k)``.

    Returns
    -------
    output : ndarray, shape (..., n_q, d_v)
        Equal to ``scaled_dot_product_attention(q, k, v, causal=causal)[0]`` up to rounding;
        zeros for a query that sees no key.

    Examples
    --------
    >>> import numpy as np
    >>> from course_lib.attention import blockwise_attention, scaled_dot_product_attention
    >>> rng = np.random.default_rng(0)
    >>> q, k, v = rng.normal(size=(5, 4)), rng.normal(size=(9, 4)), rng.normal(size=(9, 3))
    >>> full = scaled_dot_product_attention(q, k, v, causal=True)[0]
    >>> bool(np.allclose(blockwise_attention(q, k, v, block_size=2, causal=True), full,
    ...                  rtol=1e-13, atol=1e-15))
    True
    """
    q, k, v, batch, dtype = _qkv(q, k, v)
    s = _scale(scale, q.shape[-1])
    causal = _flag(causal, "causal")
    if isinstance(block_size, (bool, np.bool_)) or not isinstance(
            block_size, (numbers.Integral, np.integer)):
        raise TypeError(f"block_size must be a positive int, got {block_size!r}")
    if block_size < 1:
        raise ValueError(f"block_size must be a positive int, got {block_size!r}")
    n_q, n_k, d_v = q.shape[-2], k.shape[-2], v.shape[-1]
    work = q.dtype
    m = np.full(batch + (n_q, 1), -np.inf, dtype=work)     # running max of the scores
    l = np.zeros(batch + (n_q, 1), dtype=work)             # running sum of exp(s - m)
    o = np.zeros(batch + (n_q, d_v), dtype=work)           # running sum of exp(s - m) v
    rows = np.arange(n_q)[:, None]
    last = min(n_k, n_q) if causal else n_k                # keys j >= n_q are seen by no query
    with np.errstate(all="ignore"):
        for j in range(0, last, block_size):
            kj, vj = k[..., j:j + block_size, :], v[..., j:j + block_size, :]
            tile = np.matmul(q, np.swapaxes(kj, -1, -2)) * s   # (..., n_q, block)
            if causal:
                tile = np.where(rows >= np.arange(j, j + kj.shape[-2]), tile, -np.inf)
            m_new = np.maximum(m, tile.max(axis=-1, keepdims=True))
            shift = np.where(np.isfinite(m_new), m_new, 0.0)  # rows that saw no key yet
            alpha = np.exp(m - shift)                          # exp(m_old - m_new); 0 at -inf
            p = np.exp(tile - shift)
            l = alpha * l + p.sum(axis=-1, keepdims=True)
            o = alpha * o + np.matmul(p, vj)
            m = m_new
        out = np.where(l > 0, o / np.where(l > 0, l, 1.0), 0.0)
    return out.astype(dtype, copy=False)


# --------------------------------------------------------------------------- partial states


class SoftmaxState(NamedTuple):
    """The partial softmax of one block of keys, per query: ``(m, l, o)``.

    Attributes
    ----------
    m : ndarray, shape (...,)
        The largest score of the block (``-inf`` for a block with no key).
    l : ndarray, shape (...,)
        ``sum_j exp(s_j - m)`` over the block's keys (0 for no key).
    o : ndarray, shape (..., d_v)
        ``sum_j exp(s_j - m) v_j``: the output *before* normalisation.
    """

    m: np.ndarray
    l: np.ndarray  # noqa: E741 (the lesson's letter)
    o: np.ndarray

    def output(self):
        """The normalised output ``o / l``; zeros for a query that saw no key."""
        l = self.l[..., None]  # noqa: E741
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(l > 0, self.o / np.where(l > 0, l, 1.0), 0.0)


def softmax_state(s, v):
    """The state ``(m, l, o)`` of one block: scores ``s`` of its keys, values ``v`` of its keys.

    Parameters
    ----------
    s : array_like, shape (..., n)
        The scores of the block's n keys, per query (``-inf`` for a masked key).
    v : array_like, shape (n, d_v) or (..., n, d_v)
        The values of those keys.

    Returns
    -------
    SoftmaxState
        ``m`` and ``l`` of shape ``s.shape[:-1]``, ``o`` of shape ``s.shape[:-1] + (d_v,)``.
        ``state.output()`` is the attention output of the block alone.

    Examples
    --------
    >>> import numpy as np
    >>> from course_lib.attention import softmax_state
    >>> st = softmax_state([[0.0, np.log(3.0)]], [[10.0], [20.0]])   # weights 1/4 and 3/4
    >>> st.m.round(4), st.l.round(4), st.o.round(4), st.output().round(4)
    (array([1.0986]), array([1.3333]), array([[23.3333]]), array([[17.5]]))
    """
    s = _as_real_array(s, "s").astype(np.float64)
    v = _as_real_array(v, "v").astype(np.float64)
    if s.ndim < 1:
        raise ValueError("s must have a last axis of scores (..., n), got a scalar")
    if v.ndim < 2 or v.shape[-2] != s.shape[-1]:
        raise ValueError(f"v must have one row per score, shape (..., {s.shape[-1]}, d_v), got "
                         f"shape {v.shape}")
    if np.isnan(s).any() or np.isposinf(s).any():
        raise ValueError("s must hold finite scores or -inf (a masked key)")
    m = s.max(axis=-1, initial=-np.inf)
    shift = np.where(np.isfinite(m), m, 0.0)              # a block with no key: shift by 0
    e = np.exp(s - shift[..., None])
    return SoftmaxState(m, e.sum(axis=-1), np.matmul(e[..., None, :], v)[..., 0, :])


def merge_softmax_states(m_a, l_a, o_a, m_b, l_b, o_b):
    r"""Merge the states of two disjoint blocks of keys into the state of their union.

    .. math::

        m = \max(m_a, m_b),\quad
        l = e^{m_a - m} l_a + e^{m_b - m} l_b,\quad
        o = e^{m_a - m} o_a + e^{m_b - m} o_b .

    Each side is rescaled to the common max before it is added; nothing is divided, so the
    result is normalised once, at the end (``o / l``). The merge is commutative (exactly) and
    associative (to rounding): blocks can be combined in any order and grouping. A state with
    ``m = -inf`` (a block with no key) leaves the other unchanged.

    Parameters
    ----------
    m_a, l_a : array_like, shape (...,)
        Max and sum of the first block, per query.
    o_a : array_like, shape (..., d_v)
        Its unnormalised output.
    m_b, l_b, o_b : array_like
        The same for the second block.

    Returns
    -------
    SoftmaxState
        ``(m, l, o)`` of the union; pass it on with ``merge_softmax_states(*state, *other)``.

    Examples
    --------
    >>> import numpy as np
    >>> from course_lib.attention import merge_softmax_states, softmax_state
    >>> s, v = np.array([[1.0, 3.0, 2.0, 5.0]]), np.array([[1.0], [2.0], [3.0], [4.0]])
    >>> left, right = softmax_state(s[:, :2], v[:2]), softmax_state(s[:, 2:], v[2:])
    >>> both = merge_softmax_states(*left, *right)
    >>> both.m, both.l.round(4)                  # m = 5; l = sum(exp(s - 5))
    (array([5.]), array([1.2034]))
    >>> bool(np.allclose(both.output(), softmax_state(s, v).output(), rtol=1e-15))
    True
    """
    m_a, l_a, o_a, m_b, l_b, o_b = (
        _as_real_array(x, name).astype(np.float64) for x, name in
        ((m_a, "m_a"), (l_a, "l_a"), (o_a, "o_a"), (m_b, "m_b"), (l_b, "l_b"), (o_b, "o_b")))
    for m, l, o, side in ((m_a, l_a, o_a, "a"), (m_b, l_b, o_b, "b")):
        if m.shape != l.shape or o.shape[:-1] != m.shape:
            raise ValueError(f"m_{side}, l_{side} must have one shape (...,) and o_{side} that "
                             f"shape plus d_v; got {m.shape}, {l.shape} and {o.shape}")
    m = np.maximum(m_a, m_b)
    shift = np.where(np.isfinite(m), m, 0.0)               # both empty: m = -inf, shift by 0
    with np.errstate(invalid="ignore"):
        alpha, beta = np.exp(m_a - shift), np.exp(m_b - shift)
    return SoftmaxState(m, alpha * l_a + beta * l_b, alpha[..., None] * o_a + beta[..., None] * o_b)
