r"""Softmax classification: cross-entropy from logits, its gradient, and a small MLP.

Notation, as in lesson 05: ``z`` logits of shape ``(N, K)`` (N examples, K classes), ``y``
integer class labels of shape ``(N,)``, ``p = softmax(z)`` row by row, ``eps`` the label
smoothing. The target of example ``n`` is

.. math:: t_n = (1 - \varepsilon)\,\mathrm{onehot}(y_n) + \varepsilon / K,

the convention of PyTorch's ``nn.CrossEntropyLoss(label_smoothing=eps)``: the ``eps`` mass is
spread over *all* K classes, the true one included, so the true class gets
``1 - eps + eps / K``. The loss is the batch average

.. math:: L = -\frac{1}{N} \sum_n \sum_k t_{nk} \log p_{nk},
          \qquad \frac{\partial L}{\partial z_{nk}} = \frac{p_{nk} - t_{nk}}{N}.

``log p`` comes from :func:`course_lib.softmax.log_softmax`, never from ``log(softmax(z))``,
so the loss stays finite for any finite logits.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field

import numpy as np

from .softmax import _as_real_array, log_softmax, softmax

__all__ = ["one_hot", "cross_entropy", "cross_entropy_grad", "MLP", "train_mlp", "canonical_weights"]


# --------------------------------------------------------------------------- validation


def _labels(y, k=None, name="y"):
    """``y`` as an int64 array of class labels, checked to lie in ``[0, k)``."""
    a = np.asarray(y)
    if a.dtype.kind == "b" or a.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integer class labels, got dtype {a.dtype}")
    a = a.astype(np.int64)
    if a.size and (a.min() < 0 or (k is not None and a.max() >= k)):
        bad = a[(a < 0) | ((a >= k) if k is not None else False)].ravel()[0]
        upper = f" and at most {k - 1} (K = {k} classes)" if k is not None else ""
        raise ValueError(f"{name} must hold labels >= 0{upper}, found {bad}")
    return a


def _count(k, name="k"):
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, (numbers.Integral, np.integer)):
        raise TypeError(f"{name} must be a positive int, got {k!r}")
    if k < 1:
        raise ValueError(f"{name} must be a positive int, got {k!r}")
    return int(k)


def _smoothing(eps):
    if isinstance(eps, (bool, np.bool_)) or not isinstance(eps, numbers.Real):
        raise TypeError(f"label_smoothing must be a number in [0, 1), got {eps!r}")
    eps = float(eps)
    if not 0.0 <= eps < 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1), got {eps!r}")
    return eps


def _logits_and_labels(z, y):
    """Checked ``(z, y)``: ``z`` of shape ``(..., K)`` and ``y`` of shape ``z.shape[:-1]``."""
    z = _as_real_array(z, "z")
    if z.ndim == 0:
        raise ValueError("z must have a last axis of K >= 1 class logits, got a scalar")
    if z.shape[-1] < 1:
        raise ValueError("z must have at least one class (its last axis is empty)")
    y = _labels(y, z.shape[-1])
    if y.shape != z.shape[:-1]:
        raise ValueError(
            f"y must hold one label per row of z: z has shape {z.shape}, so y needs shape "
            f"{z.shape[:-1]}, got {y.shape}"
        )
    if y.size == 0:
        raise ValueError("z and y hold no examples: the average loss is undefined")
    return z, y


# --------------------------------------------------------------------------- public functions


def one_hot(y, k):
    """One-hot encoding of integer labels: ``one_hot(y, k)[..., c]`` is 1 where ``y == c``.

    Parameters
    ----------
    y : array_like of int
        Class labels in ``[0, k)``, any shape.
    k : int
        The number of classes.

    Returns
    -------
    ndarray of float64, shape ``y.shape + (k,)``

    Examples
    --------
    >>> from course_lib.classification import one_hot
    >>> one_hot([2, 0], 3)
    array([[0., 0., 1.],
           [1., 0., 0.]])
    """
    k = _count(k)
    y = _labels(y, k)
    return (y[..., None] == np.arange(k)).astype(np.float64)


def _target(y, k, eps, dtype):
    t = one_hot(y, k).astype(dtype, copy=False)
    if eps:
        t = (1.0 - eps) * t + eps / k
    return t


def cross_entropy(z, y, *, label_smoothing=0.0):
    r"""Mean cross-entropy of softmax(z) against integer labels, from the logits.

    .. math:: L = -\frac{1}{N}\sum_{n}\sum_k t_{nk}\,\log\operatorname{softmax}(z_n)_k,
              \qquad t_n = (1-\varepsilon)\,\mathrm{onehot}(y_n) + \varepsilon/K

    Label smoothing follows PyTorch's ``label_smoothing``: the ``eps`` mass is shared by all K
    classes, the true one included (it gets ``1 - eps + eps/K``). With ``eps = 0`` this is the
    negative log-likelihood ``-mean(log p[n, y_n])``.

    Parameters
    ----------
    z : array_like, shape (N, K) or (K,)
        Logits (not probabilities: softmax is applied here). Any leading shape ``(..., K)``
        works; the loss is averaged over all of it.
    y : array_like of int, shape ``z.shape[:-1]``
        Class labels in ``[0, K)``; a single int for a 1-D ``z``.
    label_smoothing : float in [0, 1), default 0.0
        ``eps``.

    Returns
    -------
    numpy scalar
        The average loss, >= 0; float64 (float32 for float32 logits).

    Examples
    --------
    >>> from course_lib.classification import cross_entropy
    >>> round(float(cross_entropy([1.0, 2.0, 3.0], 2)), 4)
    0.4076
    >>> round(float(cross_entropy([[0.0] * 10], [3])), 4)          # uniform: log K
    2.3026
    >>> round(float(cross_entropy([1.0, 2.0, 3.0], 2, label_smoothing=0.1)), 4)
    0.5076
    """
    eps = _smoothing(label_smoothing)
    z, y = _logits_and_labels(z, y)
    logp = log_softmax(z, axis=-1)
    k = z.shape[-1]
    true = np.take_along_axis(logp, y[..., None], axis=-1)[..., 0]
    per_example = -(1.0 - eps) * true
    if eps:
        per_example = per_example - (eps / k) * logp.sum(axis=-1)
    return per_example.mean(dtype=np.float64).astype(logp.dtype)[()]


def cross_entropy_grad(z, y, *, label_smoothing=0.0):
    r"""Gradient of :func:`cross_entropy` with respect to the logits: ``(p - t) / N``.

    Each example contributes ``softmax(z_n) - t_n`` (the famous "p minus y"), divided by the
    number of examples N because the loss is their average.

    Parameters
    ----------
    z, y, label_smoothing
        As for :func:`cross_entropy`.

    Returns
    -------
    ndarray, the shape of ``z``
        Each row sums to 0 (softmax is shift invariant, so the loss does not change along
        ``(1, ..., 1)``).

    Examples
    --------
    >>> from course_lib.classification import cross_entropy_grad
    >>> cross_entropy_grad([1.0, 2.0, 3.0], 2)
    array([ 0.09003057,  0.24472847, -0.33475904])
    >>> cross_entropy_grad([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]], [2, 0]).round(4)
    array([[ 0.045 ,  0.1224, -0.1674],
           [-0.3333,  0.1667,  0.1667]])
    """
    eps = _smoothing(label_smoothing)
    z, y = _logits_and_labels(z, y)
    p = softmax(z, axis=-1)
    p = p.astype(np.float32) if p.dtype == np.float16 else p
    g = (p - _target(y, z.shape[-1], eps, p.dtype)) / y.size
    return g.astype(z.dtype if z.dtype.kind == "f" else g.dtype, copy=False)


# --------------------------------------------------------------------------- a small MLP


@dataclass
class MLP:
    r"""A one-hidden-layer perceptron ``x -> W2 tanh(W1 x + b1) + b2``: logits for K classes.

    Parameters
    ----------
    W1 : ndarray, shape (D, H)
    b1 : ndarray, shape (H,)
    W2 : ndarray, shape (H, K)
    b2 : ndarray, shape (K,)
    losses : list of float
        The training loss before each step (filled in by :func:`train_mlp`).
    """

    W1: np.ndarray
    b1: np.ndarray
    W2: np.ndarray
    b2: np.ndarray
    losses: list = field(default_factory=list)

    NAMES = ("W1", "b1", "W2", "b2")

    @classmethod
    def init(cls, d, hidden, k, rng):
        """Random weights (scaled by 1/sqrt(fan-in)), zero biases."""
        return cls(W1=rng.normal(0.0, 1.0 / np.sqrt(d), (d, hidden)), b1=np.zeros(hidden),
                   W2=rng.normal(0.0, 1.0 / np.sqrt(hidden), (hidden, k)), b2=np.zeros(k))

    @property
    def params(self):
        """The weights by name (the arrays themselves, not copies)."""
        return {n: getattr(self, n) for n in self.NAMES}

    def _forward(self, X):
        X = _as_real_array(X, "X")
        if X.ndim != 2 or X.shape[1] != self.W1.shape[0]:
            raise ValueError(f"X must have shape (N, {self.W1.shape[0]}), got {X.shape}")
        h = np.tanh(X @ self.W1 + self.b1)
        return X, h, h @ self.W2 + self.b2

    def logits(self, X):
        """The logits ``z`` of shape (N, K) for the inputs ``X`` of shape (N, D)."""
        return self._forward(X)[2]

    def loss(self, X, y, *, label_smoothing=0.0):
        """The mean cross-entropy on ``(X, y)``."""
        return float(cross_entropy(self.logits(X), y, label_smoothing=label_smoothing))

    def gradients(self, X, y, *, label_smoothing=0.0):
        """The loss and its gradient with respect to every weight, by backpropagation.

        Returns
        -------
        loss : float
        grads : dict of ndarray
            ``{"W1": dL/dW1, ...}``, each of its weight's shape.
        """
        X, h, z = self._forward(X)
        loss = float(cross_entropy(z, y, label_smoothing=label_smoothing))
        dz = cross_entropy_grad(z, y, label_smoothing=label_smoothing)  # (p - t) / N
        dh = (dz @ self.W2.T) * (1.0 - h * h)  # tanh' = 1 - tanh^2
        return loss, {"W1": X.T @ dh, "b1": dh.sum(axis=0), "W2": h.T @ dz, "b2": dz.sum(axis=0)}


def train_mlp(X, y, *, hidden=128, steps=300, lr=0.01, label_smoothing=0.0,
              weight_decay=0.0, seed=0):
    """Train an :class:`MLP` on ``(X, y)`` with full-batch Adam; seeded, deterministic.

    Parameters
    ----------
    X : array_like, shape (N, D)
        Inputs (scale them to about unit size first, e.g. pixels / 16).
    y : array_like of int, shape (N,)
        Labels in ``[0, K)``; K is ``max(y) + 1``, at least 2.
    hidden : int, default 128
        Width of the hidden layer.
    steps : int, default 300
        Adam steps on the whole batch.
    lr : float, default 0.01
        Adam's step size (betas 0.9 and 0.999).
    label_smoothing : float in [0, 1), default 0.0
        Train on the smoothed targets of :func:`cross_entropy`.
    weight_decay : float, default 0.0
        L2 penalty ``weight_decay / 2 * (|W1|^2 + |W2|^2)`` added to the loss.
    seed : int, default 0
        Seeds the initial weights.

    Returns
    -------
    MLP
        With ``losses``: the training cross-entropy before each step, then after the last.

    Examples
    --------
    >>> import numpy as np
    >>> from course_lib.classification import train_mlp
    >>> X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    >>> model = train_mlp(X, [0, 1, 1, 0], hidden=8, steps=300, lr=0.05)     # XOR
    >>> model.logits(X).argmax(axis=1)
    array([0, 1, 1, 0])
    """
    X = _as_real_array(X, "X")
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (N examples, D features), got shape {X.shape}")
    y = _labels(y)
    if y.shape != (X.shape[0],):
        raise ValueError(f"y must hold one label per row of X ({X.shape[0]}), got shape {y.shape}")
    eps = _smoothing(label_smoothing)
    hidden, steps = _count(hidden, "hidden"), _count(steps, "steps")
    k = max(2, int(y.max()) + 1)
    model = MLP.init(X.shape[1], hidden, k, np.random.default_rng(seed))
    m = {n: np.zeros_like(w) for n, w in model.params.items()}
    v = {n: np.zeros_like(w) for n, w in model.params.items()}
    b1, b2, tiny = 0.9, 0.999, 1e-8
    for t in range(1, steps + 1):
        loss, grads = model.gradients(X, y, label_smoothing=eps)
        model.losses.append(loss)
        for n, w in model.params.items():
            g = grads[n] + (weight_decay * w if weight_decay and n.startswith("W") else 0.0)
            m[n] = b1 * m[n] + (1 - b1) * g
            v[n] = b2 * v[n] + (1 - b2) * g * g
            w -= lr * (m[n] / (1 - b1**t)) / (np.sqrt(v[n] / (1 - b2**t)) + tiny)
    model.losses.append(model.loss(X, y, label_smoothing=eps))
    return model


def canonical_weights(W, b):
    r"""Softmax regression's weights with the redundancy removed: each column centred over the classes.

    The model :math:`p = \mathrm{softmax}(W x + b)`, ``W`` of shape ``(K, d)``, predicts exactly
    the same for :math:`W + \mathbf{1} v^\top` and :math:`b + c\mathbf{1}` (any ``v``, ``c``):
    every logit moves by the same :math:`v^\top x + c`, and softmax is shift invariant. Of all
    these equivalent parameters, this returns the one of smallest norm, the one L2 weight decay
    converges to: :math:`W - \mathbf{1}\bar w^\top` and :math:`b - \bar b`, with
    :math:`\bar w` the mean of the rows of ``W`` and :math:`\bar b` the mean of ``b``, so that
    the K weight vectors (and the K biases) sum to zero.

    Parameters
    ----------
    W : array_like, shape (K, d)
        One row of weights per class (integers become float64).
    b : array_like, shape (K,)
        One bias per class.

    Returns
    -------
    W0 : ndarray, shape (K, d)
        ``W0.sum(axis=0)`` is 0.
    b0 : ndarray, shape (K,)
        ``b0.sum()`` is 0.

    Raises
    ------
    ValueError
        If ``W`` is not 2-D or ``b`` is not 1-D with one entry per row of ``W``.

    Examples
    --------
    >>> import numpy as np
    >>> from course_lib.classification import canonical_weights
    >>> W0, b0 = canonical_weights([[1.0, 2.0], [3.0, 6.0]], [5.0, 1.0])
    >>> W0, b0
    (array([[-1., -2.],
           [ 1.,  2.]]), array([ 2., -2.]))
    """
    W = _as_real_array(W, "W")
    b = _as_real_array(b, "b")
    if W.ndim != 2:
        raise ValueError(f"W must be 2-D, one row per class (K, d), got shape {W.shape}")
    if b.shape != (W.shape[0],):
        raise ValueError(f"b must have one entry per row of W, shape ({W.shape[0]},), got {b.shape}")
    return W - W.mean(axis=0, keepdims=True), b - b.mean()
