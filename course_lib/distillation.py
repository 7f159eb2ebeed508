r"""Knowledge distillation (Hinton, Vinyals & Dean, 2015): a student learns a teacher's soft targets.

Notation, as in lesson 04: ``z`` the student's logits and ``v`` the teacher's, both of shape
``(N, K)``, ``T`` the temperature, ``q = softmax(v / T)`` the soft targets and
``p = softmax(z / T)`` the student's softened probabilities. The soft loss is the batch average

.. math:: C = -\frac{1}{N} \sum_n \sum_k q_{nk} \log p_{nk},
          \qquad \frac{\partial C}{\partial z_{nk}} = \frac{p_{nk} - q_{nk}}{N T},

whose size shrinks like :math:`1/T^2` at a high temperature; :func:`distill_mlp` multiplies it
by :math:`T^2`, as the paper does, before adding the ordinary (hard-label) cross-entropy.
"""

from __future__ import annotations

import numbers

import numpy as np

from .classification import MLP, _labels, cross_entropy, cross_entropy_grad
from .softmax import _as_real_array, _temperature, log_softmax, softmax

__all__ = ["distillation_loss", "distillation_grad", "weight_gradients", "distill_mlp"]


def _pair(z, v):
    z, v = _as_real_array(z, "z"), _as_real_array(v, "v")
    if z.ndim != 2 or z.shape != v.shape:
        raise ValueError(f"z and v must be 2-D arrays of the same shape (N, K), got {z.shape} "
                         f"and {v.shape}")
    return z, v


def distillation_loss(z, v, temperature):
    """The soft cross-entropy of the student's ``softmax(z / T)`` against ``softmax(v / T)``.

    Parameters
    ----------
    z : array_like, shape (N, K)
        The student's logits.
    v : array_like, shape (N, K)
        The teacher's logits.
    temperature : float
        ``T > 0``, shared by teacher and student.

    Returns
    -------
    float
        The batch average of ``-sum_k q_k log p_k`` (not multiplied by ``T**2``).

    Examples
    --------
    >>> import numpy as np
    >>> from course_lib.distillation import distillation_loss
    >>> v = np.array([[2.0, 0.0, -1.0]])
    >>> round(distillation_loss(v, v, 2.0), 6)      # equal logits: the entropy of q
    0.905959
    """
    z, v = _pair(z, v)
    T = _temperature(temperature)
    return float(-(softmax(v, temperature=T) * log_softmax(z, temperature=T)).sum(axis=1).mean())


def distillation_grad(z, v, temperature):
    """The gradient of :func:`distillation_loss` with respect to ``z``: ``(p - q) / (N T)``.

    Examples
    --------
    >>> import numpy as np
    >>> from course_lib.distillation import distillation_grad
    >>> g = distillation_grad([[1.0, 0.0]], [[0.0, 1.0]], 1.0)
    >>> np.round(g, 4)
    array([[ 0.4621, -0.4621]])
    """
    z, v = _pair(z, v)
    T = _temperature(temperature)
    return (softmax(z, temperature=T) - softmax(v, temperature=T)) / (z.shape[0] * T)


def weight_gradients(model, X, dz):
    """Backpropagate a gradient ``dz`` at the logits of ``model`` to its weights.

    Parameters
    ----------
    model : MLP
    X : array_like, shape (N, D)
        The inputs the logits were computed from.
    dz : array_like, shape (N, K)
        The gradient of a loss with respect to ``model.logits(X)``.

    Returns
    -------
    dict of ndarray
        ``{"W1": dL/dW1, "b1": ..., "W2": ..., "b2": ...}``, each of its weight's shape.

    Examples
    --------
    >>> import numpy as np
    >>> from course_lib.classification import MLP, cross_entropy_grad
    >>> from course_lib.distillation import weight_gradients
    >>> model = MLP.init(3, 4, 2, np.random.default_rng(0))
    >>> X, y = np.ones((5, 3)), np.array([0, 1, 0, 1, 1])
    >>> g = weight_gradients(model, X, cross_entropy_grad(model.logits(X), y))
    >>> all(np.allclose(g[n], model.gradients(X, y)[1][n]) for n in model.NAMES)
    True
    """
    dz = _as_real_array(dz, "dz")
    X, h, _ = model._forward(X)
    dh = (dz @ model.W2.T) * (1.0 - h * h)
    return {"W1": X.T @ dh, "b1": dh.sum(axis=0), "W2": h.T @ dz, "b2": dz.sum(axis=0)}


def distill_mlp(X, v, y, *, temperature, alpha=0.5, scale_by_t2=True, hidden=16, steps=300,
                lr=0.01, seed=0):
    r"""Train a student :class:`~course_lib.classification.MLP` on a teacher's soft targets.

    The loss is :math:`\alpha\,s\,C_T + (1 - \alpha)\,\mathrm{CE}`, with :math:`C_T` the soft
    loss of :func:`distillation_loss` at temperature ``T``, :math:`s = T^2` (or 1 with
    ``scale_by_t2=False``) and CE the cross-entropy on the labels ``y`` at ``T = 1``; full-batch
    Adam as in :func:`~course_lib.classification.train_mlp`, seeded and deterministic.

    Parameters
    ----------
    X : array_like, shape (N, D)
        Inputs.
    v : array_like, shape (N, K)
        The teacher's logits on ``X``.
    y : array_like of int, shape (N,)
        The labels.
    temperature : float
        ``T > 0``.
    alpha : float in [0, 1], default 0.5
        Weight of the soft loss; 0 trains on the labels alone.
    scale_by_t2 : bool, default True
        Multiply the soft loss by ``T**2``.
    hidden, steps, lr, seed
        As in :func:`~course_lib.classification.train_mlp`.

    Returns
    -------
    MLP
        With ``losses``: the combined loss before each step.

    Examples
    --------
    >>> import numpy as np
    >>> from course_lib.distillation import distill_mlp
    >>> X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    >>> v = np.array([[3.0, -3.0], [-3.0, 3.0], [-3.0, 3.0], [3.0, -3.0]])   # a teacher for XOR
    >>> student = distill_mlp(X, v, [0, 1, 1, 0], temperature=2.0, hidden=8, lr=0.05)
    >>> student.logits(X).argmax(axis=1)
    array([0, 1, 1, 0])
    """
    X = _as_real_array(X, "X")
    v = _as_real_array(v, "v")
    y = _labels(y, v.shape[-1] if v.ndim == 2 else None)
    if X.ndim != 2 or v.shape != (X.shape[0], v.shape[-1]) or y.shape != (X.shape[0],):
        raise ValueError(f"X, v and y must have shapes (N, D), (N, K) and (N,), got {X.shape}, "
                         f"{v.shape} and {y.shape}")
    T = _temperature(temperature)
    if isinstance(alpha, (bool, np.bool_)) or not isinstance(alpha, numbers.Real) or not 0 <= alpha <= 1:
        raise ValueError(f"alpha must be a number in [0, 1], got {alpha!r}")
    s = T * T if scale_by_t2 else 1.0
    model = MLP.init(X.shape[1], int(hidden), v.shape[1], np.random.default_rng(seed))
    m = {n: np.zeros_like(w) for n, w in model.params.items()}
    u = {n: np.zeros_like(w) for n, w in model.params.items()}
    b1, b2, tiny = 0.9, 0.999, 1e-8
    for t in range(1, int(steps) + 1):
        z = model.logits(X)
        model.losses.append(alpha * s * distillation_loss(z, v, T)
                            + (1 - alpha) * float(cross_entropy(z, y)))
        dz = alpha * s * distillation_grad(z, v, T) + (1 - alpha) * cross_entropy_grad(z, y)
        grads = weight_gradients(model, X, dz)
        for n, w in model.params.items():
            m[n] = b1 * m[n] + (1 - b1) * grads[n]
            u[n] = b2 * u[n] + (1 - b2) * grads[n] ** 2
            w -= lr * (m[n] / (1 - b1**t)) / (np.sqrt(u[n] / (1 - b2**t)) + tiny)
    return model
