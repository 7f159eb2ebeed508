"""Lesson 08, softmax in PyTorch: ``torch_softmax_dim``, ``torch_cross_entropy_logits`` and
``torch_masked_attention``.

The learner writes these with PyTorch (``F.softmax``, ``F.cross_entropy``,
``F.scaled_dot_product_attention``); the tests, the reference and the known-wrong look-alikes are
numpy and ``course_lib``, so this module imports without torch and the instructor's grader judges
the answers without it. Inputs are numpy arrays (plain data, as every exercise's are: hidden tests
travel into a learner's kernel as ``.npy``); the learner's function turns them into tensors with
``torch.as_tensor`` (given in the exercise notebook), and the tensor it returns is compared as an
array (``course_lib.grading.run`` reads tensors).

The tests are built around the framework's traps: batches whose rows have very different
scales (so a softmax over the batch is visibly wrong), square batches (where a wrong ``dim``
raises no shape error), 3-D batches (where ``F.softmax`` without ``dim`` picks dim 0), logits
whose true class underflows (where ``log(softmax)`` gives ``inf``), and padding masks with a batch
item whose keys are all padding.
"""

from __future__ import annotations

import numpy as np

from .. import attention as attn
from .. import classification as cls
from .. import softmax as sm
from ..grading.exercise import Case, Exercise, Mistake
from ..grading.registry import register
from ..i18n import N_
from .mistakes import _agrees, _differs, _value, broken, common, like, resembles

__all__ = ["TORCH_SOFTMAX_DIM", "TORCH_CROSS_ENTROPY_LOGITS", "TORCH_MASKED_ATTENTION"]

T, F = True, False


def _f(z):
    return np.asarray(z, dtype=float)


def _float32(ev):
    """A wrong result that came back in float32 (or narrower) for float64 input."""
    for name in ev.names():
        value = ev.outcome(name).value
        parts = value if isinstance(value, tuple) else (value,)
        if any(isinstance(v, np.ndarray) and v.dtype in (np.float32, np.float16) for v in parts) \
                and not ev.right(name):
            return name
    return None


FLOAT32_HINT = (
    N_("for {input} your result is float32, and it differs from the float64 answer in its last "
       "digits. The tests give float64 arrays, and torch.as_tensor keeps float64; a dtype=torch.float32, "
       ".float() or torch.tensor(..., dtype=...) on the way narrows it (float32 is PyTorch's default "
       "for new tensors, not for these). Keep the input's dtype.")
)


# --- torch_softmax_dim ----------------------------------------------------------------------------
def softmax_dim_reference(z):
    """Probabilities over the classes, the last dim of a batch of logits."""
    return sm.softmax(_f(z), -1)


def softmax_over(axis):
    """The softmax along ``axis`` (a wrong dim when it is not the last one)."""
    def wrong(z):
        z = _f(z)
        if z.ndim < 2 or axis % z.ndim == z.ndim - 1:
            raise ValueError("not a wrong dim for this input")
        return sm.softmax(z, axis)
    return wrong


def softmax_implicit_dim(z):
    """``F.softmax(z)`` without ``dim``: torch picks dim 0 for 0-, 1- and 3-D input, else dim 1."""
    z = _f(z)
    return sm.softmax(z, 0 if z.ndim in (0, 1, 3) else 1)


def softmax_log_probabilities(z):
    """F.log_softmax where F.softmax belongs: log-probabilities."""
    return sm.log_softmax(_f(z), -1)


def softmax_sigmoid(z):
    """torch.sigmoid(z): each logit squashed on its own, as if every class were a yes/no."""
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-_f(z)))


def softmax_exp_only(z):
    """exp(z - max) without the division by the sum."""
    z = _f(z)
    return np.exp(z - z.max(axis=-1, keepdims=True))


def softmax_exp_only_no_shift(z):
    with np.errstate(over="ignore"):
        return np.exp(_f(z))


def _either(*detectors):
    """A detector that fires when any of ``detectors`` does (several forms of one mistake)."""
    def detect(ev):
        for d in detectors:
            name = d(ev)
            if name is not None:
                return name
        return None
    return detect


def _wrong_dim(ev):
    for axis in (0, 1):
        found = resembles(softmax_over(axis))(ev)
        if found is not None:
            return found
    return None


_rows = np.array([[0.5, -0.5, 2.0], [40.0, -10.0, 25.0], [0.01, 0.03, 0.02]])
_batch3 = np.random.default_rng(8).normal(0.0, 2.0, (2, 3, 4)) * np.array([[[1.0]], [[20.0]]])

TORCH_SOFTMAX_DIM = register(Exercise(
    name="torch_softmax_dim",
    lesson="08",
    params=("z",),
    reference=softmax_dim_reference,
    task=N_("torch_softmax_dim(z): with F.softmax, the probabilities over the classes (the last "
            "dim) of a batch of logits of shape (..., K), as a tensor"),
    points=2.0,
    public=(
        Case("vector", (np.array([1.0, 2.0, 3.0]),), shown=N_("z = [1, 2, 3] (one example, K = 3)")),
        Case("batch", (np.array([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]]),),
             shown=N_("z = [[1, 2, 3], [1, 1, 1]] (2 examples, K = 3)")),
        Case("square_batch", (_rows,),
             shown=N_("z = [[0.5, -0.5, 2], [40, -10, 25], [0.01, 0.03, 0.02]] (3 examples, K = 3)")),
        Case("tall_batch", (np.arange(8.0).reshape(4, 2) - 3.0,),
             shown=N_("z = np.arange(8.0).reshape(4, 2) - 3 (4 examples, K = 2)")),
        Case("sequence_batch", (_batch3,),
             shown=N_("z of shape (2, 3, 4): 2 sequences of 3 tokens, K = 4 (random, seeded; the "
                      "second sequence 20 times larger)")),
        Case("large", (np.array([[1000.0, 0.0, -1000.0], [0.0, 1000.0, 999.0]]),),
             shown="z = [[1000, 0, -1000], [0, 1000, 999]]"),
        Case("one_class", (np.array([[3.0], [-2.0]]),), shown="z = [[3], [-2]] (K = 1)"),
        Case("single_example", (np.array([[2.0, -1.0, 0.0, 5.0]]),),
             shown=N_("z = [[2, -1, 0, 5]] (a batch of 1)")),
    ),
    hidden=lambda rng: _hidden_softmax_dim(rng),
    mistakes=common("torch_softmax_dim(z)")[:4] + (
        Mistake(N_("no dim"), like(softmax_implicit_dim),
                N_("for {input} you get {got}: F.softmax(z) without `dim` guesses one (dim 0 for a "
                   "1-D or 3-D tensor, dim 1 for a 2-D one; newer PyTorch warns that this is "
                   "deprecated), and for a batch of sequences it guesses the batch. Always pass the "
                   "dim of the classes: the last one, which dim=-1 names whatever the shape."),
                supersedes=("wrong dim",)),
        Mistake(N_("wrong dim"), _wrong_dim,
                N_("for {input} you get {got}: your probabilities sum to 1 along another dim "
                   "(over the batch, or over the tokens), not over the K classes. PyTorch raises no "
                   "error: every dim of a square batch has a valid softmax. Each example's "
                   "probabilities run along the last dim (dim=-1 for (N, K) and (N, T, K) alike).")),
        Mistake(N_("computed in float32"), _float32, FLOAT32_HINT),
        Mistake(N_("log-probabilities"), like(softmax_log_probabilities),
                N_("for {input} you get {got}: negative numbers, the logarithms of the "
                   "probabilities. F.log_softmax is what a loss wants (it is exact where log of a "
                   "softmax underflows); the exercise asks for the probabilities themselves, "
                   "which are between 0 and 1 and sum to 1 over the classes."),
                more=N_("Keep the same dim, and use the softmax itself rather than its log.")),
        Mistake(N_("sigmoid instead of softmax"), like(softmax_sigmoid),
                N_("for {input} you get {got}: each logit went through a sigmoid on its own, so "
                   "a row does not sum to 1 and each value ignores the other classes. A sigmoid "
                   "answers K separate yes/no questions; a softmax shares one unit of probability "
                   "among the K classes."),
                more=N_("Use the softmax over the classes' dim: every value of a row is then "
                        "divided by the same sum of exponentials.")),
        Mistake(N_("not normalised"), _either(like(softmax_exp_only), like(softmax_exp_only_no_shift)),
                N_("for {input} you get {got}: the exponentials of the logits, not divided by "
                   "their sum, so a row does not sum to 1."),
                more=N_("Divide each row by its sum over the classes' dim (keep that dim so the "
                        "division broadcasts), or let F.softmax do both steps.")),
        Mistake(N_("no max trick"), broken(),
                N_("for {input} you get {got}: exp of a logit above about 709 (89 in float32) is "
                   "inf, and inf/inf is nan. F.softmax subtracts the max for you; an exp-and-divide "
                   "written by hand must subtract z.amax(dim=-1, keepdim=True) first (lesson 03).")),
    ),
))


def _hidden_softmax_dim(rng):
    cases = []
    for shape in ((4, 4), (5, 3), (3, 6), (2, 4, 5), (3, 3, 3)):
        z = rng.normal(0.0, 1.0, shape)
        scales = 10.0 ** rng.uniform(-2, 2, shape[:-1] + (1,))     # rows at very different scales
        cases.append(Case("", (z * scales,)))
    big = rng.normal(0.0, 1.0, (3, 4))
    big[1] += 900.0
    cases.append(Case("", (big,)))
    cases.append(Case("", (rng.normal(0.0, 3.0, 5),)))
    return cases


# --- torch_cross_entropy_logits ---------------------------------------------------------------------
def cross_entropy_reference(z, y, label_smoothing=0.0):
    """The mean cross-entropy from logits (course_lib), PyTorch's label-smoothing convention."""
    return cls.cross_entropy(_f(z), np.asarray(y), label_smoothing=label_smoothing)


def _nll(log_p, y, eps):
    k = log_p.shape[-1]
    t = (1.0 - eps) * cls.one_hot(np.asarray(y), k) + eps / k
    with np.errstate(all="ignore"):
        return float(np.mean(-np.sum(np.where(t > 0, t * log_p, 0.0), axis=-1)))


def ce_after_softmax(z, y, label_smoothing=0.0):
    """F.cross_entropy(F.softmax(z, dim=1), y): probabilities given to a loss that wants logits."""
    return cls.cross_entropy(sm.softmax(_f(z), -1), np.asarray(y), label_smoothing=label_smoothing)


def ce_log_of_softmax(z, y, label_smoothing=0.0):
    """F.nll_loss(torch.log(F.softmax(z, dim=1)), y): log(0) = -inf where p_y underflows."""
    with np.errstate(divide="ignore"):
        return _nll(np.log(sm.softmax(_f(z), -1)), y, label_smoothing)


def ce_no_smoothing(z, y, label_smoothing=0.0):
    return cls.cross_entropy(_f(z), np.asarray(y))


def ce_summed(z, y, label_smoothing=0.0):
    return len(np.asarray(y)) * cross_entropy_reference(z, y, label_smoothing)


def ce_over_batch(z, y, label_smoothing=0.0):
    """log_softmax over dim 0, the batch, then the loss."""
    return _nll(sm.log_softmax(_f(z), 0), y, label_smoothing)


def ce_of_log_softmax_over_batch(z, y, label_smoothing=0.0):
    """F.cross_entropy(F.log_softmax(z, dim=0), y): log-probabilities over the batch given as
    logits (the loss's own log_softmax over the classes comes on top)."""
    return cls.cross_entropy(sm.log_softmax(_f(z), 0), np.asarray(y), label_smoothing=label_smoothing)


def ce_nll_of_logits(z, y, label_smoothing=0.0):
    """F.nll_loss(z, y): -mean z[n, y_n], the log_softmax left out."""
    z = _f(z)
    y = np.asarray(y)
    return float(-np.mean(z[np.arange(len(y)), y]))


def ce_per_example(z, y, label_smoothing=0.0):
    """reduction='none': one loss per example."""
    z = _f(z)
    y = np.asarray(y)
    return np.array([cls.cross_entropy(z[i:i + 1], y[i:i + 1], label_smoothing=label_smoothing)
                     for i in range(len(y))])


_Z5 = np.array([[2.0, 0.5, -1.0], [0.0, 3.0, 1.0], [1.0, 1.0, 4.0], [-2.0, 0.0, 2.0],
                [0.3, 0.2, 0.1]])
_Y5 = np.array([0, 1, 2, 0, 1])
_ZBIG = np.array([[0.0, 800.0, -5.0], [1000.0, 0.0, 0.0], [1.0, 2.0, 3.0]])
_YBIG = np.array([0, 1, 2])

TORCH_CROSS_ENTROPY_LOGITS = register(Exercise(
    name="torch_cross_entropy_logits",
    lesson="08",
    params=("z", "y"),
    reference=cross_entropy_reference,
    task=N_("torch_cross_entropy_logits(z, y, label_smoothing=0.0): with F.cross_entropy (or "
            "nn.CrossEntropyLoss), the mean loss of logits z (N, K) for labels y (N,), as a 0-d tensor"),
    points=2.0,
    rtol=1e-10,                 # float64 routes agree to ~1e-15; a float32 loss is ~6e-8 off
    atol=1e-12,
    public=(
        Case("batch", (_Z5, _Y5), shown="z = [[2, 0.5, -1], [0, 3, 1], [1, 1, 4], [-2, 0, 2], "
                                         "[0.3, 0.2, 0.1]], y = [0, 1, 2, 0, 1]"),
        Case("seed_123", (np.array([[1.0, 2.0, 3.0]]), np.array([2])),
             shown="z = [[1, 2, 3]], y = [2]"),
        Case("confident_right", (np.array([[10.0, 0.0, 0.0], [0.0, 12.0, 0.0]]), np.array([0, 1])),
             shown="z = [[10, 0, 0], [0, 12, 0]], y = [0, 1]"),
        Case("confidently_wrong", (_ZBIG, _YBIG),
             shown=N_("z = [[0, 800, -5], [1000, 0, 0], [1, 2, 3]], y = [0, 1, 2] (the first two "
                      "are confidently wrong)")),
        Case("square", (np.array([[4.0, 0.0, 1.0], [0.0, 0.0, 0.0], [1.0, -3.0, 2.0]]),
                        np.array([1, 1, 1])),
             shown="z = [[4, 0, 1], [0, 0, 0], [1, -3, 2]], y = [1, 1, 1]"),
        Case("smoothing", (_Z5, _Y5), {"label_smoothing": 0.1},
             shown=N_("z and y of the test 'batch', label_smoothing = 0.1")),
        Case("smoothing_wrong", (_ZBIG, _YBIG), {"label_smoothing": 0.2},
             shown=N_("z and y of the test 'confidently_wrong', label_smoothing = 0.2")),
        Case("ten_classes", (np.linspace(-3.0, 3.0, 40).reshape(4, 10), np.array([9, 0, 5, 3])),
             shown="z = np.linspace(-3, 3, 40).reshape(4, 10), y = [9, 0, 5, 3]"),
    ),
    hidden=lambda rng: _hidden_cross_entropy(rng),
    mistakes=common("torch_cross_entropy_logits(z, y, label_smoothing=0.0)")[:4] + (
        Mistake(N_("softmax before the loss"), like(ce_after_softmax),
                N_("for {input} you get {got}: F.cross_entropy and nn.CrossEntropyLoss take "
                   "logits and apply log_softmax themselves; giving them F.softmax(z) applies "
                   "softmax twice. The loss then cannot fall below log(1 + (K-1)/e) and its "
                   "gradient fades on confident mistakes (lesson 05). Pass the logits.")),
        Mistake(N_("log(softmax)"), like(ce_log_of_softmax),
                N_("for {input} you get {got}: torch.log(F.softmax(z)) is -inf once a "
                   "probability underflows to 0 (a logit gap above about 745 in float64, 104 in "
                   "float32), and the loss becomes inf (its gradient nan). log_softmax computes "
                   "z - logsumexp(z) and stays finite: use F.log_softmax with F.nll_loss, or "
                   "F.cross_entropy on the logits.")),
        Mistake(N_("label smoothing ignored"), like(ce_no_smoothing),
                N_("for {input} you get {got}: the loss is the one without label smoothing. "
                   "Pass label_smoothing on: F.cross_entropy(z, y, label_smoothing=...) "
                   "(nn.CrossEntropyLoss(label_smoothing=...)).")),
        Mistake(N_("summed, not averaged"), like(ce_summed),
                N_("for {input} you get {got}, N times the mean: the loss is averaged over the "
                   "batch (reduction='mean', the default), so that the learning rate does not "
                   "depend on the batch size.")),
        Mistake(N_("computed in float32"), _float32, FLOAT32_HINT),
        Mistake(N_("nll_loss on logits"), like(ce_nll_of_logits),
                N_("for {input} you get {got}: minus the mean logit of the true class. F.nll_loss "
                   "expects log-probabilities and only picks -log p[n, y_n]; given logits it skips "
                   "the log_softmax, so the loss can be negative and never sees the other classes."),
                more=N_("Either apply F.log_softmax over the classes before F.nll_loss, or give "
                        "the logits to F.cross_entropy, which does both.")),
        Mistake(N_("no reduction"), like(ce_per_example),
                N_("for {input} you get {got}: one loss per example. The exercise asks for the "
                   "mean over the batch, a single number (a 0-d tensor)."),
                more=N_("Leave reduction at its default, 'mean' (or average the per-example "
                        "losses yourself).")),
        Mistake(N_("wrong dim"), _either(like(ce_over_batch), like(ce_of_log_softmax_over_batch)),
                N_("for {input} you get {got}: your log-probabilities are normalised over the "
                   "batch (dim 0), not over the classes. For logits of shape (N, K) use "
                   "F.log_softmax(z, dim=1), or let F.cross_entropy do it.")),
    ),
))


def _hidden_cross_entropy(rng):
    cases = []
    for n, k, eps in ((6, 4, 0.0), (5, 5, 0.0), (8, 10, 0.1), (4, 3, 0.25), (5, 5, 0.05)):
        z = rng.normal(0.0, 1.0, (n, k)) * 10.0 ** rng.uniform(-1, 1.5, (n, 1))
        cases.append(Case("", (z, rng.integers(0, k, n)), {"label_smoothing": eps}))
    z = rng.normal(0.0, 1.0, (4, 5))
    y = rng.integers(0, 5, 4)
    z[np.arange(4), (y + 1) % 5] += 800.0                     # confidently wrong: p_y underflows
    cases.append(Case("", (z, y)))
    cases.append(Case("", (z, y), {"label_smoothing": 0.1}))
    return cases


# --- torch_masked_attention -----------------------------------------------------------------------
def masked_attention_reference(q, k, v, pad):
    """Attention of each batch item over its keys that are not padding; a query with every key
    padding gets zeros (as PyTorch's scaled_dot_product_attention gives since 2024)."""
    q, k, v = _f(q), _f(k), _f(v)
    pad = np.asarray(pad, dtype=bool)
    out = [attn.scaled_dot_product_attention(q[b], k[b], v[b], mask=np.broadcast_to(
        ~pad[b], (q.shape[1], k.shape[1])))[0] for b in range(q.shape[0])]
    return np.stack(out)


def _attend(q, k, v, keep, *, fill=-np.inf, additive=None):
    """Attention with the boolean ``keep`` (B, n_q, n_k) used as given, or an additive mask."""
    q, k, v = _f(q), _f(k), _f(v)
    s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if additive is not None:
        w = sm.softmax(s + additive, -1)
    elif fill is None:
        w = sm.masked_softmax(s, keep, -1)
    else:
        w = sm.softmax(np.where(keep, s, fill), -1)
    return w @ v


def _keep(q, pad):
    pad = np.asarray(pad, dtype=bool)
    return np.broadcast_to(~pad[:, None, :], (pad.shape[0], np.shape(q)[1], pad.shape[1]))


def attention_wrong_polarity(q, k, v, pad):
    """attn_mask=pad: the padding keys are the ones that take part."""
    return _attend(q, k, v, ~_keep(q, pad), fill=None)


def attention_float_mask(q, k, v, pad):
    """attn_mask=(~pad).float(): a float mask is added to the scores (+1 for kept keys)."""
    return _attend(q, k, v, None, additive=_keep(q, pad).astype(float))


def attention_mask_over_queries(q, k, v, pad):
    """attn_mask=~pad[:, :, None]: the padding mask laid along the queries' axis."""
    pad = np.asarray(pad, dtype=bool)
    if np.shape(q)[1] != pad.shape[1]:
        raise ValueError("only defined for square scores")
    keep = np.broadcast_to(~pad[:, :, None], (pad.shape[0], pad.shape[1], np.shape(k)[1]))
    return _attend(q, k, v, keep, fill=None)


def attention_nan_rows(q, k, v, pad):
    """Scores filled with -inf and a plain softmax: 0/0 = nan where every key is padding."""
    return _attend(q, k, v, _keep(q, pad), fill=-np.inf)


def attention_uniform_rows(q, k, v, pad):
    """Scores filled with -1e9: a query with every key padding averages them uniformly."""
    return _attend(q, k, v, _keep(q, pad), fill=-1e9)


def attention_unmasked(q, k, v, pad):
    """No attn_mask: every key takes part, padding included."""
    q = np.asarray(q, dtype=float)
    return _attend(q, k, v, np.ones((q.shape[0], q.shape[1], np.shape(k)[1]), dtype=bool), fill=None)


def attention_no_scale(q, k, v, pad):
    return _attend(np.asarray(q, dtype=float) * np.sqrt(np.shape(q)[-1]), k, v, _keep(q, pad),
                   fill=None)


def attention_scale_multiplied(q, k, v, pad):
    """scale=sqrt(d): the scores multiplied by sqrt(d) instead of divided."""
    d = np.shape(q)[-1]
    return _attend(np.asarray(q, dtype=float) * d, k, v, _keep(q, pad), fill=None)


def attention_scale_by_d(q, k, v, pad):
    """scale=1/d: the scores divided by d instead of sqrt(d)."""
    d = np.shape(q)[-1]
    return _attend(np.asarray(q, dtype=float) / np.sqrt(d), k, v, _keep(q, pad), fill=None)


def attention_zero_fill(q, k, v, pad):
    """Padding scores set to 0 (masked_fill(pad, 0)): e^0 = 1, the padding keeps weight."""
    return _attend(q, k, v, _keep(q, pad), fill=0.0)


def only(wrong, *others, rtol=1e-6):
    """Like :func:`~.mistakes.resembles`, on the tests where ``wrong`` gives another answer than
    each of ``others``: mistakes that look alike on some inputs are told apart on the others."""
    def detect(ev):
        for name in ev.names():
            case = ev.cases[name]
            try:
                with np.errstate(all="ignore"):
                    w = _value(wrong(*case.args, **case.kwargs))
                    rest = [_value(o(*case.args, **case.kwargs)) for o in others]
            except Exception:
                continue
            expected = ev.expected(name)
            if any(not _differs(w, o, rtol) for o in rest):
                continue
            if _differs(w, expected, rtol) and _agrees(ev.outcome(name), w, expected, rtol):
                return name
        return None
    return detect


def _batch(rng, b, n_q, n_k, d, d_v):
    return (rng.normal(size=(b, n_q, d)), rng.normal(size=(b, n_k, d)),
            rng.normal(size=(b, n_k, d_v)))


_r = np.random.default_rng(2026)
QA, KA, VA = _batch(_r, 2, 4, 4, 16, 3)
QW, KW, VW = _batch(_r, 3, 2, 5, 8, 2)
del _r
PAD_A = np.array([[F, F, F, T], [F, F, T, T]])
PAD_EMPTY = np.array([[F, F, F, T, T], [T, T, T, T, T], [F, F, F, F, F]])


def _shown(q, k, v, pad):
    return (f"q, k, v of shapes {q.shape}, {k.shape}, {v.shape} (random, seeded), "
            f"pad = {np.asarray(pad).tolist()}".replace("True", "T").replace("False", "F"))


TORCH_MASKED_ATTENTION = register(Exercise(
    name="torch_masked_attention",
    lesson="08",
    params=("q", "k", "v", "pad"),
    reference=masked_attention_reference,
    task=N_("torch_masked_attention(q, k, v, pad): F.scaled_dot_product_attention of q (B, n_q, d) "
            "over the keys k (B, n_k, d), values v (B, n_k, d_v), where pad (B, n_k) is True for "
            "a padding key that must get no weight; the output (B, n_q, d_v) as a tensor"),
    points=3.0,
    rtol=1e-7,
    atol=1e-12,
    public=(
        Case("no_padding", (QA, KA, VA, np.zeros((2, 4), dtype=bool)),
             shown=_shown(QA, KA, VA, np.zeros((2, 4), dtype=bool))),
        Case("padding_square", (QA, KA, VA, PAD_A), shown=_shown(QA, KA, VA, PAD_A)),
        Case("padding_wide", (QW, KW, VW, PAD_EMPTY[[0, 2, 0]]),
             shown=_shown(QW, KW, VW, PAD_EMPTY[[0, 2, 0]])),
        Case("all_padding", (QW, KW, VW, PAD_EMPTY),
             shown=_shown(QW, KW, VW, PAD_EMPTY) + " (batch item 1 is all padding)"),
        Case("large_scores", (100.0 * QA, KA, VA, PAD_A),
             shown=_shown(QA, KA, VA, PAD_A) + ", q multiplied by 100"),
        Case("one_key", (QA[:, :, :2], KA[:, :1, :2], VA[:, :1], np.array([[F], [T]])),
             shown=N_("q of shape (2, 4, 2), one key per batch item, pad = [[F], [T]]")),
    ),
    hidden=lambda rng: _hidden_attention(rng),
    mistakes=common("torch_masked_attention(q, k, v, pad)")[:4] + (
        Mistake(N_("mask of the wrong polarity"), resembles(attention_wrong_polarity),
                N_("for {input} you get {got}: only the padding keys got weight. A boolean "
                   "attn_mask in F.scaled_dot_product_attention is True where a key TAKES PART; "
                   "a padding mask is True where a key must be ignored. Invert it (~pad) and "
                   "give it a query axis: shape (B, 1, n_k) broadcasts over the queries.")),
        # a batch item whose keys are all padding comes out uniform here too: not the -1e9 fill
        Mistake(N_("float 0/1 mask"), only(attention_float_mask, attention_unmasked),
                N_("for {input} you get {got}: the padding keys still get weight. A float attn_mask "
                   "is ADDED to the scores, so a 0/1 mask only shifts them by 1. Pass a boolean "
                   "mask (True where a key takes part), or an additive one of 0 and -inf."),
                supersedes=("fully masked row is uniform",)),
        Mistake(N_("mask not used"), only(attention_unmasked, attention_float_mask,
                                      attention_uniform_rows),
                N_("for {input} you get {got}: every key got weight, the padding too, as if no "
                   "mask reached the attention. Pass attn_mask= to F.scaled_dot_product_attention: "
                   "a boolean mask that is True where a key takes part."),
                supersedes=("fully masked row is uniform",)),
        Mistake(N_("computed in float32"), _float32, FLOAT32_HINT),
        Mistake(N_("mask over the queries"), resembles(attention_mask_over_queries),
                N_("for {input} you get {got}: the padding mask is laid along the queries (shape "
                   "(B, n, 1)), so whole queries are masked instead of padding keys; on square "
                   "scores nothing raises. Give it the keys' axis: shape (B, 1, n_k).")),
        Mistake(N_("fully masked row gives nan"), like(attention_nan_rows),
                N_("for {input} you get {got}: a batch item whose keys are all padding has only "
                   "-inf scores, and a plain softmax gives 0/0 = nan. F.scaled_dot_product_attention "
                   "with a boolean mask gives zeros there; by hand, set the weights of such a row "
                   "to 0 (lesson 06).")),
        Mistake(N_("fully masked row is uniform"), like(attention_uniform_rows),
                N_("for {input} you get {got}: filling padding scores with a large finite number "
                   "(-1e9) makes a row with every key padded uniform, so that query averages the "
                   "padding. Use a boolean mask (or -inf): such a query gets zeros.")),
        Mistake(N_("mask filled with 0"), like(attention_zero_fill),
                N_("for {input} you get {got}: the padding keys still get weight. Setting a "
                   "padding score to 0 gives it e^0 = 1, like any score of 0, and a batch item "
                   "whose keys are all padding averages them uniformly."),
                supersedes=("fully masked row is uniform",),
                more=N_("Fill the padding scores with -inf before the softmax (e^-inf = 0), and "
                        "give a query that sees no key zero weights; or pass a boolean attn_mask.")),
        Mistake(N_("scale multiplied"), like(attention_scale_multiplied),
                N_("for {input} you get {got}: the scores are multiplied by sqrt(d) instead of "
                   "divided. The scale brings the variance of q·k, which grows like d, back to 1; "
                   "multiplying makes it d squared, and the softmax saturates."),
                more=N_("scale=None lets F.scaled_dot_product_attention use 1/sqrt(q.size(-1)); "
                        "by hand, divide the scores by math.sqrt(d).")),
        Mistake(N_("scale by d"), like(attention_scale_by_d),
                N_("for {input} you get {got}: the scores are divided by d, not by sqrt(d). q·k "
                   "has variance d, so its standard deviation is sqrt(d): dividing by d flattens "
                   "the weights towards uniform as d grows."),
                more=N_("The scale is 1/sqrt(d) with d = q.size(-1): leave scale=None, or divide "
                        "by math.sqrt(d) by hand.")),
        Mistake(N_("no scale"), resembles(attention_no_scale),
                N_("for {input} you get {got}: the scores are not divided by sqrt(d). "
                   "F.scaled_dot_product_attention scales by 1/sqrt(q.size(-1)) itself (scale=None); "
                   "by hand, divide q @ k.transpose(-2, -1) by math.sqrt(d).")),
    ),
))


def _hidden_attention(rng):
    cases = []
    for b, n_q, n_k, d, d_v in ((2, 5, 5, 16, 3), (3, 3, 6, 8, 2), (2, 6, 4, 32, 4), (4, 4, 4, 4, 2)):
        q, k, v = _batch(rng, b, n_q, n_k, d, d_v)
        pad = rng.random((b, n_k)) < 0.4
        pad[0] = False                        # an item with no padding
        pad[-1] = True                        # an item whose keys are all padding
        pad[1 % b, 0] = False
        pad[1 % b, -1] = True
        cases.append(Case("", (q, k, v, pad)))
    q, k, v = _batch(rng, 2, 4, 6, 16, 2)
    lengths = rng.integers(2, 6, 2)
    cases.append(Case("", (q * 30.0, k, v, np.arange(6) >= lengths[:, None])))   # large scores
    return cases
