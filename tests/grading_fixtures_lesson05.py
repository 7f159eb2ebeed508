"""Lesson 05's known-wrong and known-right exercise answers, written as a learner might.

``cross_entropy(z, y)``, ``expected_calibration_error(p, y, n_bins=15)`` and
``fit_temperature(z, y)``; merged into ``grading_fixtures.WRONG`` and ``RIGHT``.
"""

import math

import numpy as np
import scipy.optimize as so
import scipy.special as sc

# ---------------------------------------------------------------------------------------------
# cross_entropy(z, y)


def ce_ok(z, y):
    z = np.asarray(z, dtype=float)
    m = z.max(axis=1, keepdims=True)
    log_p = (z - m) - np.log(np.exp(z - m).sum(axis=1, keepdims=True))
    return -np.mean(log_p[np.arange(len(y)), y])


def ce_scipy(z, y):
    return -np.mean(sc.log_softmax(np.asarray(z, dtype=float), axis=1)[np.arange(len(y)), y])


def ce_onehot_sum(z, y):
    z = np.asarray(z, dtype=float)
    t = np.eye(z.shape[1])[y]
    lse = sc.logsumexp(z, axis=1, keepdims=True)
    return float(-(t * (z - lse)).sum() / z.shape[0])


def ce_loop(z, y):
    total = 0.0
    for row, label in zip(np.asarray(z, dtype=float), y):
        m = max(row)
        total += m + math.log(sum(math.exp(v - m) for v in row)) - row[label]
    return total / len(y)


def ce_double_softmax(z, y):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)  # probabilities ...
    return ce_ok(p, y)                     # ... fed to a loss that applies softmax again


def ce_log_of_softmax(z, y):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    return -np.mean(np.log(p[np.arange(len(y)), y]))


def ce_no_max(z, y):
    z = np.asarray(z, dtype=float)
    log_p = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.mean(log_p[np.arange(len(y)), y])


def ce_summed(z, y):
    z = np.asarray(z, dtype=float)
    return -np.sum(sc.log_softmax(z, axis=1)[np.arange(len(y)), y])


def ce_mean_over_everything(z, y):
    z = np.asarray(z, dtype=float)
    onehot = np.eye(z.shape[1])[y]
    return -np.mean(onehot * sc.log_softmax(z, axis=1))


def ce_no_minus(z, y):
    return np.mean(sc.log_softmax(np.asarray(z, dtype=float), axis=1)[np.arange(len(y)), y])


def ce_in_place(z, y):
    z -= z.max(axis=1, keepdims=True)  # the caller's logits
    return -np.mean(z[np.arange(len(y)), y] - np.log(np.exp(z).sum(axis=1)))


def ce_exp_in_place(z, y):
    z = np.array(z)
    d = z - z.max(axis=1, keepdims=True)
    e = d.copy()
    np.exp(e, out=e)  # integer logits: "Cannot cast ufunc 'exp' output"
    return -np.mean(d[np.arange(len(y)), y] - np.log(e.sum(axis=1)))


def ce_shift_only_outside(z, y):
    z = np.asarray(z, dtype=float)
    m = z.max(axis=1, keepdims=True)
    log_p = z - np.log(np.sum(np.exp(z - m), axis=1, keepdims=True))   # z, not z - m, in front
    return -np.mean(log_p[np.arange(len(y)), y])


def ce_shift_only_in_front(z, y):
    z = np.asarray(z, dtype=float)
    m = z.max(axis=1, keepdims=True)
    with np.errstate(over="ignore"):
        log_p = (z - m) - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.mean(log_p[np.arange(len(y)), y])


def ce_plus_log_sum(z, y):
    z = np.asarray(z, dtype=float)
    s = z - z.max(axis=1, keepdims=True)
    log_p = s + np.log(np.exp(s).sum(axis=1, keepdims=True))
    return -np.mean(log_p[np.arange(len(y)), y])


def ce_log_mean_exp(z, y):
    z = np.asarray(z, dtype=float)
    s = z - z.max(axis=1, keepdims=True)
    log_p = s - np.log(np.mean(np.exp(s), axis=1, keepdims=True))
    return -np.mean(log_p[np.arange(len(y)), y])


def ce_one_argument(z):
    return ce_ok(z, np.zeros(len(z), dtype=int))


def ce_no_return(z, y):
    loss = ce_ok(z, y)  # noqa: F841


def ce_returns_text(z, y):
    return f"loss = {ce_ok(z, y):.4f}"


# ---------------------------------------------------------------------------------------------
# expected_calibration_error(p, y, n_bins=15)


def ece_ok(p, y, n_bins=15):
    p = np.asarray(p, dtype=float)
    y = np.asarray(y)
    conf = p.max(axis=1)
    correct = p.argmax(axis=1) == y
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    ece = 0.0
    for b in range(n_bins):
        lo, hi = edges[b], edges[b + 1]
        inside = (conf > lo) & (conf <= hi)
        if b == 0:
            inside |= conf == 0
        if inside.any():
            ece += inside.mean() * abs(correct[inside].mean() - conf[inside].mean())
    return ece


def ece_digitize(p, y, n_bins=15):
    p = np.asarray(p, dtype=float)
    conf, pred = p.max(axis=1), p.argmax(axis=1)
    idx = np.clip(np.digitize(conf, np.linspace(0, 1, n_bins + 1), right=True) - 1, 0, n_bins - 1)
    ece = 0.0
    for b in range(n_bins):
        m = idx == b
        if m.sum() > 0:
            ece += m.sum() / len(conf) * abs(np.mean(pred[m] == np.asarray(y)[m]) - conf[m].mean())
    return ece


def ece_lists(p, y, n_bins=15):
    bins = [[] for _ in range(n_bins)]
    for row, label in zip(p, y):
        row = [float(v) for v in row]
        c = max(row)
        b = min(n_bins - 1, max(0, math.ceil(c * n_bins) - 1))  # (lo, hi]
        bins[b].append((c, row.index(c) == label))
    n = len(y)
    return sum(len(bn) / n * abs(sum(ok for _, ok in bn) / len(bn) - sum(c for c, _ in bn) / len(bn))
               for bn in bins if bn)


def ece_floor_index(p, y, n_bins=15):
    p = np.asarray(p, dtype=float)
    conf, correct = p.max(axis=1), p.argmax(axis=1) == np.asarray(y)
    idx = (conf * n_bins).astype(int)  # 1.0 -> n_bins: in no bin
    ece = 0.0
    for b in range(n_bins):
        m = idx == b
        if m.any():
            ece += m.sum() / len(conf) * abs(correct[m].mean() - conf[m].mean())
    return ece


def ece_half_open_loop(p, y, n_bins=15):
    p = np.asarray(p, dtype=float)
    conf, correct = p.max(axis=1), p.argmax(axis=1) == np.asarray(y)
    kept, gaps = 0, 0.0
    for b in range(n_bins):
        m = (conf >= b / n_bins) & (conf < (b + 1) / n_bins)  # [lo, hi): 1.0 is lost
        if m.any():
            kept += m.sum()
            gaps += m.sum() * abs(correct[m].mean() - conf[m].mean())
    return gaps / kept  # and averaged over the binned examples only


def ece_open_interval_loop(p, y, n_bins=15):
    p = np.asarray(p, dtype=float)
    conf, correct = p.max(axis=1), p.argmax(axis=1) == np.asarray(y)
    ece = 0.0
    for b in range(n_bins):
        m = (conf > b / n_bins) & (conf < (b + 1) / n_bins)  # (lo, hi): edges and 1.0 are lost
        if m.any():
            ece += m.mean() * abs(correct[m].mean() - conf[m].mean())
    return ece


def ece_closed_interval_loop(p, y, n_bins=15):
    p = np.asarray(p, dtype=float)
    conf, correct = p.max(axis=1), p.argmax(axis=1) == np.asarray(y)
    ece = 0.0
    for b in range(n_bins):
        m = (conf >= b / n_bins) & (conf <= (b + 1) / n_bins)  # [lo, hi]: an edge in two bins
        if m.any():
            ece += m.mean() * abs(correct[m].mean() - conf[m].mean())
    return ece


def ece_floor_clipped(p, y, n_bins=15):
    p = np.asarray(p, dtype=float)
    conf, correct = p.max(axis=1), p.argmax(axis=1) == np.asarray(y)
    idx = np.minimum((conf * n_bins).astype(int), n_bins - 1)  # [lo, hi), last bin closed
    return sum((idx == b).mean() * abs(correct[idx == b].mean() - conf[idx == b].mean())
               for b in range(n_bins) if (idx == b).any())


def ece_true_class(p, y, n_bins=15):
    p = np.asarray(p, dtype=float)
    y = np.asarray(y)
    conf = p[np.arange(len(y)), y]  # the probability of the right answer
    correct = p.argmax(axis=1) == y
    edges = np.linspace(0, 1, n_bins + 1)
    ece = 0.0
    for b in range(n_bins):
        m = (conf > edges[b]) & (conf <= edges[b + 1]) | ((b == 0) & (conf == 0))
        if m.any():
            ece += m.mean() * abs(correct[m].mean() - conf[m].mean())
    return ece


def ece_unweighted(p, y, n_bins=15):
    p = np.asarray(p, dtype=float)
    conf, correct = p.max(axis=1), p.argmax(axis=1) == np.asarray(y)
    edges = np.linspace(0, 1, n_bins + 1)
    gaps = []
    for b in range(n_bins):
        m = (conf > edges[b]) & (conf <= edges[b + 1])
        if m.any():
            gaps.append(abs(correct[m].mean() - conf[m].mean()))
    return np.mean(gaps)


def ece_signed(p, y, n_bins=15):
    p = np.asarray(p, dtype=float)
    conf, correct = p.max(axis=1), p.argmax(axis=1) == np.asarray(y)
    edges = np.linspace(0, 1, n_bins + 1)
    ece = 0.0
    for b in range(n_bins):
        m = (conf > edges[b]) & (conf <= edges[b + 1])
        if m.any():
            ece += m.mean() * (correct[m].mean() - conf[m].mean())
    return ece


def ece_fifteen_bins(p, y, n_bins=15):
    return ece_ok(p, y)  # n_bins never used


def ece_no_n_bins(p, y):
    return ece_ok(p, y)


def ece_no_return(p, y, n_bins=15):
    ece = ece_ok(p, y, n_bins)  # noqa: F841


def ece_returns_dict(p, y, n_bins=15):
    return {"ece": ece_ok(p, y, n_bins)}


# ---------------------------------------------------------------------------------------------
# fit_temperature(z, y)


def _nll(z, y, T):
    s = np.asarray(z, dtype=float) / T
    m = s.max(axis=1, keepdims=True)
    log_p = s - m - np.log(np.exp(s - m).sum(axis=1, keepdims=True))
    return -np.mean(log_p[np.arange(len(y)), y])


def temperature_golden(z, y):
    lo, hi = np.log(1e-3), np.log(1e3)
    g = (math.sqrt(5) - 1) / 2
    a, b = hi - g * (hi - lo), lo + g * (hi - lo)
    fa, fb = _nll(z, y, math.exp(a)), _nll(z, y, math.exp(b))
    while hi - lo > 1e-7:
        if fa < fb:
            hi, b, fb = b, a, fa
            a = hi - g * (hi - lo)
            fa = _nll(z, y, math.exp(a))
        else:
            lo, a, fa = a, b, fb
            b = lo + g * (hi - lo)
            fb = _nll(z, y, math.exp(b))
    return math.exp((lo + hi) / 2)


def temperature_scipy(z, y):
    res = so.minimize_scalar(lambda t: _nll(z, y, math.exp(t)), bounds=(-7, 7), method="bounded",
                             options={"xatol": 1e-8})
    return float(np.exp(res.x))


def temperature_grid_refined(z, y):
    grid = np.exp(np.linspace(np.log(1e-3), np.log(1e3), 400))
    for _ in range(6):
        losses = [_nll(z, y, t) for t in grid]
        i = int(np.argmin(losses))
        grid = np.linspace(grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)], 50)
    return float(grid[np.argmin([_nll(z, y, t) for t in grid])])


def temperature_multiplied(z, y):
    z = np.asarray(z, dtype=float)
    res = so.minimize_scalar(lambda u: _nll(z * math.exp(u), y, 1.0), bounds=(-7, 7),
                             method="bounded", options={"xatol": 1e-8})
    return float(math.exp(res.x))  # softmax(z * T): the inverse of the right T


def temperature_returns_log(z, y):
    res = so.minimize_scalar(lambda t: _nll(z, y, math.exp(t)), bounds=(-7, 7), method="bounded",
                             options={"xatol": 1e-8})
    return float(res.x)  # log T


def temperature_by_accuracy(z, y):
    z = np.asarray(z, dtype=float)
    best_t, best_acc = None, -1.0
    for t in np.linspace(0.1, 10.0, 100):
        acc = np.mean((z / t).argmax(axis=1) == y)
        if acc > best_acc:  # every t gives the same accuracy: the first one wins
            best_t, best_acc = t, acc
    return best_t


def temperature_narrow_range(z, y):
    res = so.minimize_scalar(lambda t: _nll(z, y, t), bounds=(0.1, 10.0), method="bounded",
                             options={"xatol": 1e-8})
    return float(res.x)


def temperature_coarse_grid(z, y):
    grid = np.exp(np.linspace(np.log(1e-3), np.log(1e3), 200))
    return float(grid[np.argmin([_nll(z, y, t) for t in grid])])


def temperature_in_place(z, y):
    best, best_t = np.inf, 1.0
    for t in np.exp(np.linspace(-5, 5, 101)):
        z /= t  # the caller's logits, divided again at every step
        loss = _nll(z, y, 1.0)
        if loss < best:
            best, best_t = loss, t
    return best_t


def temperature_int_in_place(z, y):
    def nll(t):
        s = np.array(z)
        s /= t  # integer logits: "Cannot cast ufunc 'divide' output"
        return _nll(s, y, 1.0)

    res = so.minimize_scalar(lambda u: nll(math.exp(u)), bounds=(-7, 7), method="bounded",
                             options={"xatol": 1e-8})
    return float(math.exp(res.x))


def _golden(score, lo, hi, g=(math.sqrt(5) - 1) / 2, inner_a=None):
    """A golden-section search of ``score`` over [lo, hi]; the middle of the final interval."""
    a, b = hi - g * (hi - lo), lo + g * (hi - lo)
    fa, fb = score(a), score(b)
    for _ in range(200):
        if not hi - lo > 1e-7:
            break
        if fa < fb:
            hi, b, fb = b, a, fa
            a = hi - g * (hi - lo) if inner_a is None else inner_a(lo, hi, g)
            fa = score(a)
        else:
            lo, a, fa = a, b, fb
            b = lo + g * (hi - lo)
            fb = score(b)
    return (lo + hi) / 2


def temperature_golden_ratio_itself(z, y):
    # the golden ratio 1.618 where its conjugate 0.618 belongs: the inner points leave the
    # interval, exp of them overflows, and the search ends on nan
    with np.errstate(all="ignore"):
        return float(np.exp(_golden(lambda s: _nll(z, y, np.exp(s)), np.log(1e-3), np.log(1e3),
                                    g=(math.sqrt(5) + 1) / 2)))


def temperature_score_without_return(z, y):
    def nll(s):
        _nll(z, y, math.exp(s))  # computed, never returned: the score is None

    return float(math.exp(_golden(nll, math.log(1e-3), math.log(1e3))))


def temperature_score_divides_by_s(z, y):
    # searches s = log T and returns exp(s), but scores softmax(z / s): the best s is T itself
    with np.errstate(all="ignore"):
        return float(math.exp(_golden(lambda s: _nll(z, y, s), math.log(1e-3), math.log(1e3))))


def temperature_range_one_to_ten(z, y):
    # "a temperature softens": the search only looks at T from 1 to 10
    return float(math.exp(_golden(lambda s: _nll(z, y, math.exp(s)), 0.0, math.log(10.0))))


def temperature_inner_point_outside(z, y):
    # the new inner point after "the minimum is in [lo, b]" put above hi instead of below it
    return float(math.exp(_golden(lambda s: _nll(z, y, math.exp(s)), math.log(1e-3), math.log(1e3),
                                  inner_a=lambda lo, hi, g: hi + g * (hi - lo))))


def _ece(z, y, t, n_bins=15):
    s = np.asarray(z, dtype=float) / t
    p = np.exp(s - s.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    conf, correct = p.max(axis=1), p.argmax(axis=1) == y
    bins = np.clip(np.ceil(conf * n_bins).astype(int) - 1, 0, n_bins - 1)
    return sum(abs(correct[bins == m].mean() - conf[bins == m].mean()) * np.mean(bins == m)
               for m in range(n_bins) if np.any(bins == m))


def temperature_by_ece(z, y):
    # fitted by the ECE, not the NLL: the binned gap has its minimum elsewhere
    grid = np.exp(np.linspace(np.log(1e-3), np.log(1e3), 200))
    return float(grid[np.argmin([_ece(z, y, t) for t in grid])])


def temperature_one_argument(z):
    return 1.0


def temperature_no_return(z, y):
    t = temperature_golden(z, y)  # noqa: F841


def temperature_returns_text(z, y):
    return f"T = {temperature_golden(z, y):.3f}"


WRONG = [
    ("cross_entropy", "double softmax", ce_double_softmax),
    ("cross_entropy", "log of softmax", ce_log_of_softmax),
    ("cross_entropy", "shift in one term only", ce_shift_only_outside),
    ("cross_entropy", "shift in one term only", ce_shift_only_in_front),
    ("cross_entropy", "log-sum-exp added", ce_plus_log_sum),
    ("cross_entropy", "mean inside the log-sum-exp", ce_log_mean_exp),
    ("cross_entropy", "no max trick", ce_no_max),
    ("cross_entropy", "summed, not averaged", ce_summed),
    ("cross_entropy", "averaged over classes too", ce_mean_over_everything),
    ("cross_entropy", "sign flipped", ce_no_minus),
    ("cross_entropy", "modifies its input", ce_in_place),
    ("cross_entropy", "integer input", ce_exp_in_place),
    ("cross_entropy", "wrong signature", ce_one_argument),
    ("cross_entropy", "no return", ce_no_return),
    ("cross_entropy", "result is not numbers", ce_returns_text),
    ("expected_calibration_error", "last bin drops confidence 1.0", ece_floor_index),
    ("expected_calibration_error", "last bin drops confidence 1.0", ece_half_open_loop),
    ("expected_calibration_error", "left-closed bins", ece_floor_clipped),
    ("expected_calibration_error", "last bin drops confidence 1.0", ece_open_interval_loop),
    ("expected_calibration_error", "bins closed on both sides", ece_closed_interval_loop),
    ("expected_calibration_error", "confidence of the true class", ece_true_class),
    ("expected_calibration_error", "unweighted mean of bins", ece_unweighted),
    ("expected_calibration_error", "signed gaps", ece_signed),
    ("expected_calibration_error", "n_bins ignored", ece_fifteen_bins),
    ("expected_calibration_error", "wrong signature", ece_no_n_bins),
    ("expected_calibration_error", "no return", ece_no_return),
    ("expected_calibration_error", "result is not numbers", ece_returns_dict),
    ("fit_temperature", "temperature multiplied", temperature_multiplied),
    ("fit_temperature", "returns log T", temperature_returns_log),
    ("fit_temperature", "same temperature for every input", temperature_by_accuracy),
    ("fit_temperature", "search range too narrow", temperature_narrow_range),
    ("fit_temperature", "not precise enough", temperature_coarse_grid),
    ("fit_temperature", "modifies its input", temperature_in_place),
    ("fit_temperature", "integer input", temperature_int_in_place),
    ("fit_temperature", "wrong signature", temperature_one_argument),
    ("fit_temperature", "not a positive temperature", temperature_golden_ratio_itself),
    ("fit_temperature", "score returns None", temperature_score_without_return),
    ("fit_temperature", "score and returned T differ", temperature_score_divides_by_s),
    ("fit_temperature", "search range too narrow", temperature_range_one_to_ten),
    ("fit_temperature", "NLL not at its minimum", temperature_inner_point_outside),
    ("fit_temperature", "NLL not at its minimum", temperature_by_ece),
    ("fit_temperature", "no return", temperature_no_return),
    ("fit_temperature", "result is not numbers", temperature_returns_text),
]

RIGHT = [
    ("cross_entropy", ce_ok),
    ("cross_entropy", ce_scipy),
    ("cross_entropy", ce_onehot_sum),
    ("cross_entropy", ce_loop),
    ("expected_calibration_error", ece_ok),
    ("expected_calibration_error", ece_digitize),
    ("expected_calibration_error", ece_lists),
    ("fit_temperature", temperature_golden),
    ("fit_temperature", temperature_scipy),
    ("fit_temperature", temperature_grid_refined),
]


# ---------------------------------------------------------------------------------------------
# maximum_calibration_error(p, y, n_bins=15)   (appended: lesson 05, section 4)


def _gaps_by_loop(p, y, n_bins, *, first=lambda c, lo, hi: (c > lo) & (c <= hi)):
    """(count, |acc - conf|, conf - acc) of each non-empty bin, the way exercise 2 loops."""
    p = np.asarray(p, dtype=float)
    y = np.asarray(y)
    conf = p.max(axis=1)
    correct = p.argmax(axis=1) == y
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    out = []
    for m in range(n_bins):
        in_bin = first(conf, edges[m], edges[m + 1])
        if in_bin.any():
            acc, c = correct[in_bin].mean(), conf[in_bin].mean()
            out.append((in_bin.sum(), abs(acc - c), c - acc))
    return out


def mce_ok(p, y, n_bins=15):
    return max(gap for _, gap, _ in _gaps_by_loop(p, y, n_bins))


def mce_searchsorted(p, y, n_bins=15):
    p = np.asarray(p, dtype=float)
    conf, correct = p.max(axis=1), p.argmax(axis=1) == np.asarray(y)
    edges = np.linspace(0, 1, n_bins + 1)
    idx = np.clip(np.searchsorted(edges, conf, side="left") - 1, 0, n_bins - 1)
    return max(abs(correct[idx == b].mean() - conf[idx == b].mean())
               for b in np.unique(idx))


def mce_from_course_bins(p, y, n_bins=15):
    from course_lib.calibration import reliability_bins

    b = reliability_bins(p, y, n_bins=n_bins)
    return float(np.nanmax(np.abs(b.accuracy - b.confidence)))


def mce_nan_from_empty_bins(p, y, n_bins=15):
    p = np.asarray(p, dtype=float)
    conf, correct = p.max(axis=1), p.argmax(axis=1) == np.asarray(y)
    edges = np.linspace(0, 1, n_bins + 1)
    gaps = []
    for m in range(n_bins):
        in_bin = (conf > edges[m]) & (conf <= edges[m + 1])
        with np.errstate(invalid="ignore"):
            gaps.append(abs(np.mean(correct[in_bin]) - np.mean(conf[in_bin])))   # nan if empty
    return np.max(gaps)


def mce_floor_index(p, y, n_bins=15):
    p = np.asarray(p, dtype=float)
    conf, correct = p.max(axis=1), p.argmax(axis=1) == np.asarray(y)
    idx = (conf * n_bins).astype(int)                 # 1.0 -> n_bins: no such bin
    return max(abs(correct[idx == b].mean() - conf[idx == b].mean())
               for b in range(n_bins) if np.any(idx == b))


def mce_open_interval_loop(p, y, n_bins=15):
    def open_bin(c, lo, hi):
        return (c > lo) & (c < hi)                    # (lo, hi): edges and 1.0 are lost
    return max(gap for _, gap, _ in _gaps_by_loop(p, y, n_bins, first=open_bin))


def mce_left_closed_loop(p, y, n_bins=15):
    def left(c, lo, hi):
        return (c >= lo) & ((c < hi) | (hi == 1.0))
    return max(gap for _, gap, _ in _gaps_by_loop(p, y, n_bins, first=left))


def mce_true_class(p, y, n_bins=15):
    p = np.asarray(p, dtype=float)
    y = np.asarray(y)
    conf = p[np.arange(len(y)), y]                    # the true class's probability
    correct = p.argmax(axis=1) == y
    edges = np.linspace(0, 1, n_bins + 1)
    gaps = [abs(correct[b].mean() - conf[b].mean())
            for b in ((conf > lo) & (conf <= hi) for lo, hi in zip(edges[:-1], edges[1:]))
            if b.any()]
    return max(gaps)


def mce_weighted_gaps(p, y, n_bins=15):
    bins = _gaps_by_loop(p, y, n_bins)
    total = sum(n for n, _, _ in bins)
    return max(n / total * gap for n, gap, _ in bins)


def mce_overconfident_bins_only(p, y, n_bins=15):
    return max(over for _, _, over in _gaps_by_loop(p, y, n_bins))


def mce_summed(p, y, n_bins=15):
    bins = _gaps_by_loop(p, y, n_bins)
    total = sum(n for n, _, _ in bins)
    return sum(n / total * gap for n, gap, _ in bins)


def mce_fifteen(p, y, n_bins=15):
    return mce_ok(p, y, 15)


def mce_num_bins(p, y, num_bins=15):
    return mce_ok(p, y, num_bins)


def mce_no_return(p, y, n_bins=15):
    worst = mce_ok(p, y, n_bins)  # noqa: F841


def mce_text(p, y, n_bins=15):
    return f"MCE = {100 * mce_ok(p, y, n_bins):.1f} %"


WRONG += [
    ("maximum_calibration_error", "empty bins not skipped", mce_nan_from_empty_bins),
    ("maximum_calibration_error", "last bin drops confidence 1.0", mce_floor_index),
    ("maximum_calibration_error", "left-closed bins", mce_left_closed_loop),
    ("maximum_calibration_error", "last bin drops confidence 1.0", mce_open_interval_loop),
    ("maximum_calibration_error", "confidence of the true class", mce_true_class),
    ("maximum_calibration_error", "gaps weighted by the bin's share", mce_weighted_gaps),
    ("maximum_calibration_error", "overconfidence only", mce_overconfident_bins_only),
    ("maximum_calibration_error", "the ECE instead of the max", mce_summed),
    ("maximum_calibration_error", "n_bins ignored", mce_fifteen),
    ("maximum_calibration_error", "wrong signature", mce_num_bins),
    ("maximum_calibration_error", "no return", mce_no_return),
    ("maximum_calibration_error", "result is not numbers", mce_text),
]

RIGHT += [
    ("maximum_calibration_error", mce_ok),
    ("maximum_calibration_error", mce_searchsorted),
    ("maximum_calibration_error", mce_from_course_bins),
]
