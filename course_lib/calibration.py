r"""Calibration: does a classifier's confidence match how often it is right?

Notation, as in lesson 05: ``p`` predicted probabilities of shape ``(N, K)``, ``y`` the true
labels, the *confidence* of example n is ``max_k p[n, k]`` and its *prediction*
``argmax_k p[n, k]``. Following Guo et al. (2017), the confidences are put into M equal-width
bins ``B_m = ((m - 1)/M, m/M]``, right-closed, with the first bin also taking confidence 0, and

.. math:: \mathrm{ECE} = \sum_{m=1}^{M} \frac{|B_m|}{N}\,
          \bigl|\mathrm{acc}(B_m) - \mathrm{conf}(B_m)\bigr|,

the gap between accuracy and mean confidence of each bin, weighted by the share of examples in
it (empty bins count 0). A confidence of exactly 1.0 lies in the last bin. The *maximum*
calibration error (Guo et al., 2017) is the largest of those gaps,
``MCE = max_m |acc(B_m) - conf(B_m)|`` over the non-empty bins: the worst bin, whatever its
size. With *equal-mass* bins (each holding about N/M examples, so that no bin is a handful of
images; Nixon et al., 2019; Roelofs et al., 2022) the same weighted sum is the equal-mass ECE.

Temperature scaling (Guo et al., 2017) divides the logits by one number T > 0 fitted on a
validation split by minimising the negative log-likelihood; the argmax, hence the accuracy,
cannot change.

Reference: C. Guo, G. Pleiss, Y. Sun and K. Q. Weinberger, "On Calibration of Modern Neural
Networks", ICML 2017, PMLR 70:1321-1330. J. Nixon, M. Dusenberry, L. Zhang, G. Jerfel and
D. Tran, "Measuring Calibration in Deep Learning", CVPR Workshops 2019. R. Roelofs, N. Cain,
J. Shlens and M. C. Mozer, "Mitigating Bias in Calibration Error Estimation", AISTATS 2022.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .classification import _labels, _logits_and_labels
from .softmax import _as_real_array, log_softmax, softmax

__all__ = ["ReliabilityBins", "reliability_bins", "expected_calibration_error",
           "maximum_calibration_error", "equal_mass_calibration_error",
           "negative_log_likelihood", "fit_temperature", "reliability_diagram"]

#: The range of temperatures :func:`fit_temperature` searches.
T_MIN, T_MAX = 1e-3, 1e3


# --------------------------------------------------------------------------- validation


def _n_bins(n_bins):
    if isinstance(n_bins, (bool, np.bool_)) or not isinstance(n_bins, (int, np.integer)):
        raise TypeError(f"n_bins must be a positive int, got {n_bins!r}")
    if n_bins < 1:
        raise ValueError(f"n_bins must be a positive int, got {n_bins!r}")
    return int(n_bins)


def _probabilities_and_labels(p, y):
    p = _as_real_array(p, "p")
    if p.ndim != 2 or p.shape[0] == 0 or p.shape[1] == 0:
        raise ValueError(f"p must have shape (N, K) with N, K >= 1, got {p.shape}")
    p = p.astype(np.float64)
    if not np.all(np.isfinite(p)) or p.min() < 0 or p.max() > 1:
        raise ValueError("p must hold probabilities in [0, 1] (did you pass logits? "
                         "apply softmax first)")
    if not np.allclose(p.sum(axis=1), 1.0, rtol=0, atol=1e-3):
        raise ValueError("each row of p must sum to 1 (probabilities, not logits or scores)")
    y = _labels(y, p.shape[1])
    if y.shape != (p.shape[0],):
        raise ValueError(f"y must hold one label per row of p ({p.shape[0]}), got shape {y.shape}")
    return p, y


# --------------------------------------------------------------------------- bins and ECE


@dataclass(frozen=True)
class ReliabilityBins:
    """Per-bin statistics of a reliability diagram (see :func:`reliability_bins`).

    Attributes
    ----------
    edges : ndarray, shape (M + 1,)
        ``0, 1/M, ..., 1`` (equal-mass bins: ``0``, the confidence that closes each bin, ``1``);
        bin m is ``(edges[m], edges[m + 1]]`` (the first also takes 0).
    counts : ndarray of int, shape (M,)
        How many examples fall in each bin.
    confidence : ndarray, shape (M,)
        Mean confidence (max probability) in each bin; nan where a bin is empty.
    accuracy : ndarray, shape (M,)
        Share of correct predictions (argmax == label) in each bin; nan where empty.
    """

    edges: np.ndarray
    counts: np.ndarray
    confidence: np.ndarray
    accuracy: np.ndarray

    @property
    def ece(self) -> float:
        """The expected calibration error: the count-weighted mean gap |accuracy - confidence|."""
        full = self.counts > 0
        gaps = np.abs(self.accuracy[full] - self.confidence[full])
        return float(np.sum(self.counts[full] * gaps) / np.sum(self.counts))

    @property
    def mce(self) -> float:
        """The maximum calibration error: the largest gap |accuracy - confidence| of a non-empty bin."""
        full = self.counts > 0
        return float(np.max(np.abs(self.accuracy[full] - self.confidence[full])))


def _binning(binning):
    if binning not in ("width", "mass"):
        raise ValueError(f"binning must be 'width' (equal-width bins) or 'mass' (equal-mass "
                         f"bins), got {binning!r}")
    return binning


def _equal_mass_edges(conf, m):
    """Edges 0 < ... < 1 that cut the sorted confidences into ``m`` groups of N // m or N // m + 1.

    Edge m is the largest confidence of group m, so with right-closed bins every group is one
    bin; tied confidences that a cut would separate stay together, in the lower bin."""
    c = np.sort(conf)
    cuts = (np.arange(1, m) * len(c)) // m               # the first index of groups 2..m
    inner = np.where(cuts > 0, c[np.maximum(cuts - 1, 0)], 0.0)
    return np.concatenate([[0.0], inner, [1.0]])


def reliability_bins(p, y, *, n_bins=15, binning="width"):
    """Bin the confidences ``max(p)`` into ``n_bins`` bins; accuracy and confidence per bin.

    Parameters
    ----------
    p : array_like, shape (N, K)
        Predicted probabilities, each row summing to 1.
    y : array_like of int, shape (N,)
        True labels in ``[0, K)``.
    n_bins : int, default 15
        M, the number of bins on [0, 1].
    binning : {"width", "mass"}, default "width"
        ``"width"``: M equal-width bins ``((m-1)/M, m/M]`` (Guo et al., 2017).
        ``"mass"``: M bins holding N // M or N // M + 1 examples each, cut at the sorted
        confidences (tied confidences stay in one bin).

    Returns
    -------
    ReliabilityBins
        ``edges``, ``counts``, ``confidence`` and ``accuracy`` per bin, ``ece`` and ``mce``.

    Examples
    --------
    >>> from course_lib.calibration import reliability_bins
    >>> b = reliability_bins([[0.9, 0.1], [0.6, 0.4], [0.3, 0.7]], [0, 1, 1], n_bins=2)
    >>> b.counts                       # bins (0, 0.5] and (0.5, 1]
    array([0, 3])
    >>> b.confidence.round(3), b.accuracy.round(3)
    (array([  nan, 0.733]), array([  nan, 0.667]))
    >>> m = reliability_bins([[0.9, 0.1], [0.6, 0.4], [0.3, 0.7], [0.8, 0.2]], [0, 1, 1, 0],
    ...                      n_bins=2, binning="mass")
    >>> m.edges, m.counts              # two examples per bin, cut after confidence 0.7
    (array([0. , 0.7, 1. ]), array([2, 2]))
    """
    p, y = _probabilities_and_labels(p, y)
    m = _n_bins(n_bins)
    conf = p.max(axis=1)
    correct = (p.argmax(axis=1) == y).astype(np.float64)
    if _binning(binning) == "width":
        edges = np.linspace(0.0, 1.0, m + 1)
    else:
        edges = _equal_mass_edges(conf, m)
    # right-closed bins: edges[b] < conf <= edges[b + 1]; conf = 0 joins the first bin
    idx = np.clip(np.searchsorted(edges, conf, side="left") - 1, 0, m - 1)
    counts = np.bincount(idx, minlength=m)
    with np.errstate(invalid="ignore", divide="ignore"):
        confidence = np.bincount(idx, weights=conf, minlength=m) / counts
        accuracy = np.bincount(idx, weights=correct, minlength=m) / counts
    return ReliabilityBins(edges, counts, confidence, accuracy)


def expected_calibration_error(p, y, *, n_bins=15):
    r"""Expected calibration error (Guo et al., 2017) with ``n_bins`` equal-width bins.

    .. math:: \mathrm{ECE} = \sum_m \frac{|B_m|}{N}\,|\mathrm{acc}(B_m) - \mathrm{conf}(B_m)|

    Confidence is ``max_k p[n, k]``, the prediction ``argmax_k p[n, k]``; bins are
    right-closed, ``((m-1)/M, m/M]``, the first one including 0, so a confidence of exactly 1
    counts in the last bin.

    Parameters
    ----------
    p : array_like, shape (N, K)
        Predicted probabilities (not logits), each row summing to 1.
    y : array_like of int, shape (N,)
        True labels in ``[0, K)``.
    n_bins : int, default 15

    Returns
    -------
    float
        In [0, 1]; 0 for a perfectly calibrated model (on these bins).

    Examples
    --------
    >>> from course_lib.calibration import expected_calibration_error
    >>> p = [[0.9, 0.1], [0.9, 0.1], [0.2, 0.8], [0.2, 0.8]]
    >>> round(expected_calibration_error(p, [0, 0, 1, 0]), 4)   # (2*0.1 + 2*0.3) / 4
    0.2
    >>> expected_calibration_error([[1.0, 0.0]], [0])            # confidence 1.0 is binned
    0.0
    """
    return reliability_bins(p, y, n_bins=n_bins).ece


def maximum_calibration_error(p, y, *, n_bins=15):
    r"""Maximum calibration error (Guo et al., 2017): the largest gap of a non-empty bin.

    .. math:: \mathrm{MCE} = \max_{m:\,|B_m| > 0} |\mathrm{acc}(B_m) - \mathrm{conf}(B_m)|

    with the equal-width, right-closed bins of :func:`expected_calibration_error`. Every
    non-empty bin counts alike, whatever its size: a bin of one image can set the MCE, so read
    it with the bins' counts (:func:`reliability_bins`). It is never below the ECE.

    Parameters
    ----------
    p : array_like, shape (N, K)
        Predicted probabilities (not logits), each row summing to 1.
    y : array_like of int, shape (N,)
        True labels in ``[0, K)``.
    n_bins : int, default 15

    Returns
    -------
    float
        In [0, 1].

    Examples
    --------
    >>> from course_lib.calibration import maximum_calibration_error
    >>> p = [[0.9, 0.1], [0.9, 0.1], [0.2, 0.8], [0.2, 0.8]]
    >>> round(maximum_calibration_error(p, [0, 0, 1, 0]), 4)   # bins: gaps 0.1 and 0.3
    0.3
    """
    return reliability_bins(p, y, n_bins=n_bins).mce


def equal_mass_calibration_error(p, y, *, n_bins=15):
    r"""The ECE with equal-mass bins: each of the ``n_bins`` bins holds about N / M examples.

    The same count-weighted sum of gaps as :func:`expected_calibration_error`, but the bins are
    cut at the sorted confidences instead of at ``m / M``, so every bin's accuracy is estimated
    from about as many examples (``reliability_bins(..., binning="mass")``). A trained network's
    confidences crowd near 1: with equal-width bins most examples share the last bin or two and
    the other bins hold a handful each; equal-mass bins resolve the crowded range instead.

    Parameters
    ----------
    p : array_like, shape (N, K)
        Predicted probabilities (not logits), each row summing to 1.
    y : array_like of int, shape (N,)
        True labels in ``[0, K)``.
    n_bins : int, default 15

    Returns
    -------
    float
        In [0, 1].

    Examples
    --------
    >>> from course_lib.calibration import equal_mass_calibration_error
    >>> p = [[0.9, 0.1], [0.6, 0.4], [0.3, 0.7], [0.8, 0.2]]
    >>> round(equal_mass_calibration_error(p, [0, 1, 1, 0], n_bins=2), 4)  # gaps 0.15, 0.15
    0.15
    """
    return reliability_bins(p, y, n_bins=n_bins, binning="mass").ece


# --------------------------------------------------------------------------- temperature


def negative_log_likelihood(z, y, *, temperature=1.0):
    """The mean negative log-likelihood of ``softmax(z / temperature)`` for labels ``y``.

    Examples
    --------
    >>> from course_lib.calibration import negative_log_likelihood
    >>> round(negative_log_likelihood([[1.0, 2.0, 3.0]], [2]), 4)
    0.4076
    """
    z, y = _logits_and_labels(z, y)
    logp = log_softmax(z.astype(np.float64), axis=-1, temperature=temperature)
    return float(-np.take_along_axis(logp, y[..., None], axis=-1).mean())


def _nll_slope(beta, z, zy):
    """d NLL / d beta at inverse temperature ``beta``: mean over examples of E_p[z] - z_y."""
    p = softmax(beta * z, axis=-1)
    return float(np.mean(np.einsum("nk,nk->n", p, z) - zy))


def fit_temperature(z, y):
    r"""The temperature T > 0 that minimises the NLL of ``softmax(z / T)`` on ``(z, y)``.

    Pass the logits of a *validation* split (not the test split you will report on).

    As a function of ``beta = 1/T`` the NLL is convex: its slope is
    ``mean_n(E_{p_n}[z_n] - z_{n, y_n})`` and its curvature the mean variance of the logits
    under ``p_n``, which is >= 0. So the slope has one root, found by bisection on ``log beta``
    (to float precision, no scipy needed). When the NLL keeps falling to the edge of
    ``[1e-3, 1e3]`` (the logits carry no information, or every example is right with a
    margin), that edge is returned.

    Parameters
    ----------
    z : array_like, shape (N, K)
        Logits (not probabilities).
    y : array_like of int, shape (N,)
        True labels in ``[0, K)``.

    Returns
    -------
    float
        T: divide the logits by it. T > 1 softens an overconfident model, T < 1 sharpens an
        underconfident one. The argmax of ``z / T`` is that of ``z``.

    Examples
    --------
    >>> import numpy as np
    >>> from course_lib.calibration import fit_temperature
    >>> rng = np.random.default_rng(0)
    >>> z = rng.normal(0.0, 2.0, (20000, 5))
    >>> y = np.array([rng.choice(5, p=q) for q in np.exp(z) / np.exp(z).sum(1, keepdims=True)])
    >>> round(fit_temperature(3 * z, y), 1)      # a model three times too confident
    3.0
    """
    z, y = _logits_and_labels(z, y)
    if z.ndim != 2:
        raise ValueError(f"z must have shape (N, K), got {z.shape}")
    z = z.astype(np.float64)
    if not np.all(np.isfinite(z)):
        raise ValueError("z must hold finite logits")
    zy = z[np.arange(z.shape[0]), y]
    lo, hi = np.log(1.0 / T_MAX), np.log(1.0 / T_MIN)  # log beta
    if _nll_slope(np.exp(lo), z, zy) >= 0:
        return T_MAX
    if _nll_slope(np.exp(hi), z, zy) <= 0:
        return T_MIN
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):
            break
        if _nll_slope(np.exp(mid), z, zy) > 0:
            hi = mid
        else:
            lo = mid
    return float(1.0 / np.exp(0.5 * (lo + hi)))


# --------------------------------------------------------------------------- the diagram


def reliability_diagram(p, y, ax=None, *, n_bins=15, title=None, color=None, lang=None):
    """Draw a reliability diagram: accuracy per confidence bin, and how many examples each holds.

    Bars show the accuracy of each bin; the hatched boxes span the gap between it and the bin's
    mean confidence (the box stands on the bar where the model is overconfident, and covers the
    top of the bar where it is underconfident: then the box's top is the accuracy, outlined in
    the bars' colour); the dashed diagonal is perfect calibration. The ECE and MCE are in the
    legend. Under it, as in Guo et al. (2017, Fig. 1), a histogram counts the examples per bin:
    a bin of one example can show a tall bar and a large gap, and weighs next to nothing in the
    ECE.

    Parameters
    ----------
    p, y, n_bins
        As for :func:`reliability_bins`.
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure's axes. The histogram is drawn in an inset axes
        below it (``ax.child_axes``), sharing its confidence axis.
    title : str, optional
    color : str, optional
        The bars' colour (default the course's blue).
    lang : {"en", "ko"}, optional
        The language of the labels; default :func:`course_lib.i18n.get_language`.

    Returns
    -------
    matplotlib.axes.Axes
        The diagram's axes (not the histogram's).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> ax = reliability_diagram([[0.9, 0.1], [0.6, 0.4], [0.3, 0.7]], [0, 1, 1])
    >>> ax.get_ylabel(), ax.child_axes[0].get_xlabel()
    ('accuracy', 'confidence (max probability)')
    >>> [int(bar.get_height()) for bar in ax.child_axes[0].patches][8:]   # examples per bin
    [1, 0, 1, 0, 0, 1, 0]
    >>> plt.close(ax.figure)
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import to_rgb

    from .i18n import gettext
    from .plots import BLUE, GREY, VERMILION, figure_language

    b = reliability_bins(p, y, n_bins=n_bins)
    lang = figure_language(lang)
    if ax is None:
        _, ax = plt.subplots(figsize=(3.6, 4.4))
    bar_color = color or BLUE
    # the gap's face: vermilion at 30 % on white, opaque, so it shows the legend's colour even
    # where it lies over a bar (an underconfident bin)
    gap_face = tuple(0.7 + 0.3 * c for c in to_rgb(VERMILION))
    full = b.counts > 0
    left, width = b.edges[:-1][full], np.diff(b.edges)[full]
    acc, conf = b.accuracy[full], b.confidence[full]
    ax.bar(left, acc, width=width, align="edge", color=bar_color, edgecolor="white",
           linewidth=0.6, label=gettext("accuracy", lang), zorder=2)
    ax.bar(left, conf - acc, bottom=acc, width=width, align="edge", color=gap_face,
           edgecolor=VERMILION, hatch="//", linewidth=0.6,
           label=gettext("gap to confidence", lang),
           zorder=3)
    under = acc > conf                        # the box covers the bar's top: outline the accuracy
    ax.hlines(acc[under], left[under], (left + width)[under], color=bar_color, lw=1.6, zorder=4)
    ax.plot([0, 1], [0, 1], ls="--", color=GREY, lw=1.2, label=gettext("calibrated", lang),
            zorder=5)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    ax.tick_params(labelbottom=False)
    ax.set_ylabel(gettext("accuracy", lang))
    ax.legend(loc="upper left", fontsize=8, title=f"ECE = {100 * b.ece:.1f}%, MCE = "
              f"{100 * b.mce:.0f}%", title_fontsize=8.5, handlelength=1.2, borderaxespad=0.2,
              frameon=True, framealpha=0.9, facecolor="white",
              edgecolor="none")  # readable over a tall low-confidence bar
    if title is not None:
        ax.set_title(title)
    hist = ax.inset_axes([0.0, -0.36, 1.0, 0.3], sharex=ax)
    hist.bar(b.edges[:-1], b.counts, width=np.diff(b.edges), align="edge", color=GREY,
             edgecolor="white", linewidth=0.6)
    hist.set_ylim(0, 1.1 * b.counts.max())
    hist.set_xlabel(gettext("confidence (max probability)", lang))
    hist.set_ylabel(gettext("examples", lang), fontsize=9)
    hist.tick_params(labelsize=8)
    hist.locator_params(axis="y", nbins=3)
    return ax
