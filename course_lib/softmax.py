r"""The softmax family: the reference implementation every lesson, check and grader uses.

Notation, as in the lessons: ``z`` logits, ``p`` probabilities, ``tau`` the temperature,
``m`` the largest logit of a slice, ``d = z - m`` the shifted logits, ``e = exp(d)``, and
``t`` the sum of ``e`` over every entry *but one* of the maximal ones, so that

.. math::

    \operatorname{softmax}(z)_i = \frac{e^{d_i}}{1 + t}, \qquad
    \log\operatorname{softmax}(z)_i = d_i - \log(1 + t), \qquad
    \operatorname{logsumexp}(z) = m + \log(1 + t).

Writing the normaliser as ``1 + t`` and taking ``log1p(t)`` is what keeps the dominant logit
accurate: when one logit towers over the rest, ``t`` is tiny and ``log(1 + t)`` computed as
``log(sum(e))`` would round it away (scipy's log_softmax returns 0 there instead of about -1.9e-22).

How the numbers are kept right (each point is measured by ``tests/test_softmax_accuracy.py``):

* **No subtraction when none is needed.** ``softmax`` first tries ``exp(z)`` directly. When a
  slice's sum ``s`` is finite and at least 1 (or positive, with no ``exp(z_j)`` subnormal),
  ``exp(z) / s`` is as accurate as the max trick and more accurate on logits spread over
  hundreds, because ``z - max(z)`` is itself rounded and ``exp`` turns an absolute error
  ``delta`` in its argument into a relative error ``delta``. Only slices that overflow, or that
  underflow with a sum below 1, take the max trick.
* **The same idea in the log domain.** For a float64 slice with ``m <= 709`` (and ``m >= 0``,
  or no ``exp(z_j)`` subnormal),
  ``log_softmax`` and ``logsumexp`` take ``t = sum(exp(z_j), j != k) * exp(-m)`` from the exact
  logits, with the per-slice numbers (``exp(-m)``, ``log1p(t)``, ``m + log1p(t)``) in 80-bit
  long double where the platform has it (``np.finfo(np.longdouble).nmant >= 63``: x86 Linux;
  on Windows and on macOS with ARM long double is plain double, and the compensated kernel
  below runs instead): five passes over the data.
* **Compensated subtraction** everywhere else (``precise=True`` for ``softmax``; the other
  slices, dtypes and platforms for ``log_softmax`` and ``logsumexp``): ``d = z - m`` is computed
  together with its exact rounding error ``err`` (Knuth's TwoSum), and
  ``exp(d + err) = exp(d) * (1 + err)`` to first order.
* **Pairwise sums on every axis.** numpy sums pairwise only along the innermost axis in memory;
  along any other axis it adds serially. Such axes are summed block by block (blocks of 256).
* **Narrow floats are computed wider:** float16 in float32, and float16/float32 in float64 for
  the log-domain functions. The result keeps the input's dtype.
* **Memory:** the output array is the workspace (the compensated kernel borrows rows of it that
  it has not written yet). Extra memory is a few per-slice vectors, plus at most chunks of
  about 1/128 of the input; ``logsumexp``, which has no full-size output, uses 1/16.
* **Speed:** numpy 2 streams a broadcast operation (``o * r[:, None]``) through 8192-entry
  buffers; on rows of 256 or more, running it unbuffered is 2-3x faster (``_small_buffers``).

How accurate, on any machine. The functions call ``np.exp`` and ``np.log1p``, which are not
correctly rounded everywhere: numpy runs its own SIMD kernels where the CPU has AVX2 or AVX-512
and the C library's functions elsewhere (glibc, Apple's libm, Microsoft's CRT), each with its own
error. The promises are therefore stated for an ``exp`` and ``log1p`` within ``u`` ULP of the
exact value, and assume of every IEEE-754 machine ``u <= 1`` in float64 (faithful rounding; the
libraries above and numpy's kernels give it) and ``u <= 3`` for float32 ``exp`` (numpy's
AVX-512 float32 kernel: about 2). In ULPs of the result, for float64 (``K`` entries a slice,
``L = log1p(t)``):

* ``softmax``: ``4 + 4u``, so 8 ULP, on slices of up to a thousand entries (float32, with
  float32's exp: 16 ULP), with ``precise=True`` always and by default on every slice that needs
  no max trick; a slice whose exp overflows (or underflows with a sum below 1) takes the max
  trick, and by default also carries the rounding of ``z - m``: up to about ``|z_i - m|`` ULP
  more on entry ``i`` (scipy's softmax has the same; ``precise=True`` removes it);
* ``online_softmax``: ``2 + 2u``, so 4 ULP, where long double is 80-bit (x86 Linux); where it is
  plain double (Windows, macOS on ARM) softmax's ``4 + 4u``;
* ``log_softmax``: ``1 + u_log1p + 2u``, so 4 ULP (``1 + 2u``, 3 ULP, on the long-double path);
* ``logsumexp``: ``1/2 + (u_log1p + 2u + log2(K)/2) * ulp(L) / ulp(logsumexp)``: half an ULP
  plus what the normaliser ``L`` carries, which counts fully only where ``L`` is not small
  next to the result; on slices where logsumexp is well conditioned
  (``sum p_i |z_i| <= 2 |logsumexp|``) at most ``1/2 + 4 (3 + log2(K)/2)``;
* float32 and float16 results of ``log_softmax`` and ``logsumexp`` are computed in float64:
  within half an ULP and a hair; float16 ``softmax`` (in float32): 1 ULP.

These are first-order bounds (``tests/accuracy.py`` derives each) and
``tests/test_softmax_accuracy.py`` checks them with ``u`` measured on the machine's own
functions; ``python benchmarks/accuracy_report.py`` prints the machine's figures, usually well
inside (about 2-5 ULP for softmax, 1-1.6 for log_softmax, 0.5-1.5 for logsumexp).

Edges: ``-inf`` logits get probability exactly 0; ``+inf`` logits share the mass equally; a NaN
makes its whole slice NaN; a slice of only ``-inf`` is NaN for ``softmax`` and ``log_softmax``,
``-inf`` for ``logsumexp`` and all zeros for ``masked_softmax``. No function emits a
RuntimeWarning.
"""

from __future__ import annotations

import contextlib
import numbers
import operator

import numpy as np

__all__ = [
    "softmax",
    "log_softmax",
    "logsumexp",
    "masked_softmax",
    "online_softmax",
    "entropy",
    "softmax_jacobian",
    "logits_from_probs",
]

_BLOCK = 256  # summation block along non-innermost axes


# --------------------------------------------------------------------------- validation


def _as_real_array(x, name):
    """``x`` as an ndarray of floats; integers and booleans become float64 first."""
    try:
        a = np.asarray(x)
    except ValueError as exc:  # ragged nested lists
        raise ValueError(f"{name} must be a rectangular array of numbers: {exc}") from None
    if a.dtype.kind in "biu":
        return a.astype(np.float64)
    if a.dtype.kind != "f":
        raise TypeError(
            f"{name} must hold real numbers (floats, ints or bools), got dtype {a.dtype}"
        )
    return a


def _axes(axis, ndim):
    """Normalise ``axis`` (int, tuple of ints or None) to a sorted tuple of axes."""
    if axis is None:
        return tuple(range(ndim))
    items = axis if isinstance(axis, tuple) else (axis,)
    out = []
    for ax in items:
        if isinstance(ax, (bool, np.bool_)) or not isinstance(ax, (numbers.Integral, np.integer)):
            raise TypeError(f"axis must be an int, a tuple of ints or None, got {axis!r}")
        ax = operator.index(ax)
        if ndim == 0 and ax in (0, -1):
            continue  # a 0-d input is its own slice
        if not -ndim <= ax < ndim:
            raise np.exceptions.AxisError(
                f"axis {ax} is out of bounds for an array of dimension {ndim}"
            )
        out.append(ax % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"axis {axis!r} names the same axis twice")
    return tuple(sorted(out))


def _temperature(temperature):
    """``temperature`` as a float, checked finite and > 0."""
    t = temperature
    if isinstance(t, np.ndarray) and t.ndim == 0:
        t = t[()]
    if isinstance(t, (bool, np.bool_)) or not isinstance(t, numbers.Real):
        raise TypeError(f"temperature must be a real number > 0, got {temperature!r}")
    t = float(t)
    if not (np.isfinite(t) and t > 0):
        raise ValueError(f"temperature must be finite and > 0, got {t!r}")
    return t


def _wide(dtype, log_domain=False):
    """The dtype to compute in: float16 in float32; in the log domain float32 in float64."""
    if dtype == np.float16:
        return np.dtype(np.float64) if log_domain else np.dtype(np.float32)
    if dtype == np.float32 and log_domain:
        return np.dtype(np.float64)
    return dtype


def _scalar_if_0d(a):
    return a[()] if a.ndim == 0 else a


# --------------------------------------------------------------------------- accurate sums


def _sum(e, axes):
    """Sum over ``axes`` (keepdims) pairwise on every axis, not only the innermost one.

    numpy's pairwise summation applies to the innermost loop; a reduced axis that is not the
    innermost in memory is added serially (error growing like n). Such axes are summed in
    blocks of 256 with ``np.add.reduceat`` and the block sums summed the same way.
    """
    if not axes or e.size == 0:
        return np.add.reduce(e, axis=axes, keepdims=True)
    live = [ax for ax in range(e.ndim) if e.shape[ax] > 1]
    inner = min(live, key=lambda ax: abs(e.strides[ax])) if live else None
    if inner is None or inner in axes:
        return np.add.reduce(e, axis=axes, keepdims=True)
    for ax in axes:  # the innermost axis is not reduced: every reduced axis is serial
        e = _blocked_sum(e, ax)
    return e


def _blocked_sum(e, ax):
    n = e.shape[ax]
    if n <= _BLOCK:
        return np.add.reduce(e, axis=ax, keepdims=True)
    partial = np.add.reduceat(e, np.arange(0, n, _BLOCK), axis=ax)
    return _blocked_sum(partial, ax)


# --------------------------------------------------------------------------- the max-trick kernel


@contextlib.contextmanager
def _small_buffers(active=True):
    """Run broadcast ufuncs unbuffered: 2-3x faster on rows of 256 entries or more.

    numpy 2 streams an operation with a broadcast operand (``o * r[:, None]``) through its
    8192-element buffers, copying rows into them; with buffers smaller than a row it works on
    each row in place. Only for operations without a dtype cast (a cast needs the buffers).
    """
    if not active or not hasattr(np, "setbufsize"):
        yield
        return
    old = np.setbufsize(16)
    try:
        yield
    finally:
        np.setbufsize(old)


def _two_diff(x, m, d, c=None, err=None):
    """Exact rounding error of ``d = fl(x - m)``: Knuth's TwoSum, six flops and no branches.

    ``x - m == d + err`` exactly. Entries where an infinity took part get ``err = 0``.
    ``c`` and ``err`` are optional workspaces of the shape of ``x``; the error goes to ``err``.
    """
    c = np.subtract(d, x, out=c)  # the part of d that came from -m
    err = np.subtract(d, c, out=err)  # the part that came from x ...
    np.subtract(x, err, out=err)  # ... and what x lost in it
    np.add(c, m, out=c)  # what -m lost
    np.subtract(err, c, out=err)
    np.copyto(err, 0.0, where=np.isnan(err))
    return err


def _chunk_rows(n_rows, n, select, spare):
    """Yield ``(rows, scratch)``: the rows of one chunk, and two workspaces or None.

    With ``spare`` (the output, as ``(rows, n)``), a chunk of 1/16 of the data borrows the
    output rows of the next two chunks, not yet written, as its workspace: few large chunks
    and no extra memory. The last rows, or rows picked by ``select``, go in chunks of 1/128
    with workspaces of their own.
    """
    small = max(1, max(8192, (n_rows * n) // 128) // max(n, 1))
    if select is not None:
        rows = np.flatnonzero(select)
        for start in range(0, rows.size, small):
            yield rows[start : start + small], None
        return
    start = 0
    if spare is not None:
        big = max(1, max(8192, (n_rows * n) // 16) // max(n, 1))
        while start + 3 * big <= n_rows:
            ws = (spare[start + big : start + 2 * big], spare[start + 2 * big : start + 3 * big])
            yield slice(start, start + big), ws
            start += big
    for s in range(start, n_rows, small):
        yield slice(s, min(n_rows, s + small)), None


def _kernel(x, tau, precise, want, ob, scratch=None):
    """softmax / log_softmax / logsumexp of each row of ``x`` (2-D), written into ``ob``.

    ``x`` is read only. ``ob`` has the shape of ``x`` (``(rows,)`` for logsumexp) and may be a
    strided view of the caller's output; it also serves as the workspace for ``d``.
    ``scratch``: two more workspaces of the shape of ``x``, or None to allocate them.
    """
    a, b = scratch if scratch is not None else (None, None)
    n = x.shape[1]
    if n == 0:
        if want == "logsumexp":
            ob[...] = -np.inf
        return
    m = np.max(x, axis=1, keepdims=True)
    special = ~np.isfinite(m[:, 0])  # nan, or a +-inf maximum: set right at the end
    if special.any():
        m = np.where(special[:, None], 0.0, m)
    d = ob if (want != "logsumexp" and ob.dtype == x.dtype) else np.empty_like(x)
    np.subtract(x, m, out=d)
    err = _two_diff(x, m, d, a, b) if precise else None
    if tau != 1.0:
        d /= tau
        if err is not None:
            err /= tau
    if want == "softmax":
        e = np.exp(d, out=d)
        if err is not None:
            err *= e
            e += err
        np.divide(e, _sum(e, (1,)), out=ob, casting="same_kind")
    else:
        e = np.exp(d, out=a)
        e[np.arange(e.shape[0]), np.argmax(x, axis=1)] = 0.0  # one maximal entry: exactly 1
        t = _sum(e, (1,))[:, 0]
        if err is not None:
            t += np.einsum("ij,ij->i", e, err)  # exp(d + err) = exp(d) (1 + err)
        L = np.log1p(t)
        if want == "logsumexp":
            np.add(m[:, 0] / tau, L, out=ob, casting="same_kind")
        else:
            np.subtract(d, L[:, None], out=d)  # (d - L) + err: err is below half an ulp of d
            np.add(d, err, out=ob, casting="same_kind") if err is not None else np.copyto(
                ob, d, casting="same_kind"
            )
    if special.any():
        _special_rows(x, special, want, ob)


def _special_rows(x, special, want, ob):
    """Rows whose maximum is nan, +inf or -inf (all -inf), by the semantics in the docstring."""
    for i in np.flatnonzero(special):
        row = x[i]
        top = np.max(row)
        if np.isnan(top):
            ob[i] = np.nan
        elif top == -np.inf:  # only -inf: softmax undefined; logsumexp of nothing
            ob[i] = -np.inf if want == "logsumexp" else np.nan
        else:  # +inf entries share the mass equally
            inf = row == np.inf
            k = np.count_nonzero(inf)
            if want == "softmax":
                ob[i] = np.where(inf, 1.0 / k, 0.0)
            elif want == "log_softmax":
                ob[i] = np.where(inf, -np.log(k), -np.inf)
            else:
                ob[i] = np.inf


def _as_rows(a, axes):
    """``a`` with ``axes`` moved last and flattened to ``(rows, n)``, and whether it is a view.

    It is a view for a single axis and for the usual tuples; some tuples of axes need a copy.
    """
    k = len(axes)
    at = np.moveaxis(a, axes, range(a.ndim - k, a.ndim))
    n = int(np.prod(at.shape[a.ndim - k :], dtype=np.int64))
    rows = int(np.prod(at.shape[: a.ndim - k], dtype=np.int64))
    r = at.reshape(rows, n)
    return r, (r.size == 0 or np.shares_memory(r, a))


def _run_kernel(x, axes, out, tau, precise, want, select=None):
    """Apply the kernel to the slices of ``x`` along ``axes``, chunk by chunk, into ``out``."""
    work = _wide(x.dtype, log_domain=want != "softmax")
    x2, _ = _as_rows(x, axes)
    if want == "logsumexp":
        o2, direct = out.reshape(-1), True
    else:
        o2, direct = _as_rows(out, axes)
    # not direct: o2 is a copy of out (with what the fast path wrote); copied back below
    alias = np.shares_memory(x, out)  # softmax(z, out=z): read each chunk before writing it
    spare = o2 if (want != "logsumexp" and o2.dtype == work and not alias) else None
    for rows, scratch in _chunk_rows(x2.shape[0], x2.shape[1], select, spare):
        xb = x2[rows]
        if alias or xb.dtype != work:
            xb = xb.astype(work)  # a copy
        if isinstance(rows, slice) and o2.dtype == work:
            with _small_buffers(x2.shape[1] >= 256):
                _kernel(xb, tau, precise, want, o2[rows], scratch)
        else:
            ob = np.empty((xb.shape[0],) + o2.shape[1:], dtype=work)
            with _small_buffers(x2.shape[1] >= 256):
                _kernel(xb, tau, precise, want, ob)
            o2[rows] = ob
    if not direct:
        k = len(axes)
        ot = np.moveaxis(out, axes, range(out.ndim - k, out.ndim))
        ot[...] = o2.reshape(ot.shape)


_EXTENDED = np.finfo(np.longdouble).nmant >= 63  # x87 80-bit long double (x86 Linux, ...)
_LOG_MAX = float(np.log(np.finfo(np.float64).max))


def _some_exp_subnormal(x, axes, tau, keepdims=False):
    """Per slice: is some ``exp(z / tau)`` subnormal, i.e. has it lost bits to underflow?"""
    low = np.min(x, axis=axes, keepdims=keepdims, initial=np.inf) / tau
    return low < np.log(np.finfo(x.dtype).tiny)


def _direct_log(x, axes, tau, out, want):
    """log_softmax / logsumexp of float64 rows in five passes, without the max trick's rounding.

    For a row whose maximum ``m`` is at most ``log(max float)``, and is ``>= 0`` or has no
    logit below ``log(tiny)`` (so that no ``exp(z_j)`` is subnormal)::

        t = sum(exp(z_j) for all j but one maximal entry) * exp(-m)

    is computed with ``exp(z)`` straight from the exact logits (no rounded ``z - m``), and
    ``exp(-m)``, ``t``, ``log1p(t)`` and ``m + log1p(t)`` per row in 80-bit long double, so
    that ``log_softmax = (z - m) - log1p(t)`` is within ``1 + 2u`` ULP (``u``: exp's error). ``m >= 0`` keeps every
    ``exp(z_j)`` at least as large as ``exp(z_j - m)``, so none loses bits that matter.

    Returns a boolean mask of the rows left to the compensated kernel (other rows, or where
    the sum overflows), or None when this path does not apply at all: another dtype, a
    platform whose long double is plain double, or axes whose rows are not a view.
    """
    if not _EXTENDED or x.dtype != np.float64 or x.size == 0:
        return None
    x2, view = _as_rows(x, axes)
    if not view:
        return None
    n_rows, n = x2.shape
    if want == "log_softmax":
        o2, view = _as_rows(out, axes)
        if not view:
            return None
        chunks = [(slice(0, n_rows), o2)]
    else:  # a workspace of 1/16 of the input at a time
        per = max(1, max(8192, x2.size // 16) // n)
        work = np.empty((min(per, n_rows), n))
        chunks = [(slice(i, min(n_rows, i + per)), None) for i in range(0, n_rows, per)]
    rest = np.zeros(n_rows, dtype=bool)
    with _small_buffers(n >= 256):
        for rows, o in chunks:
            xb = x2[rows]
            e = o[rows] if o is not None else work[: xb.shape[0]]
            r = np.arange(xb.shape[0])
            am = np.argmax(xb, axis=1)
            m = xb[r, am] / tau
            if tau == 1.0:
                np.exp(xb, out=e)
            else:
                np.divide(xb, tau, out=e)
                np.exp(e, out=e)
            e[r, am] = 0.0  # the maximal entry's term is exactly 1: it is the "1" in 1 + t
            s = _sum(e, (1,))[:, 0]
            ok = (m <= _LOG_MAX) & (s < np.inf)
            neg = ok & ~(m >= 0)  # every exp(z_j) must then be normal: min(z) >= log(tiny)
            if neg.any():
                ok &= ~neg | ~_some_exp_subnormal(xb, 1, tau)
            rest[rows] = ~ok
            m_ld = m.astype(np.longdouble)
            L = np.log1p(s.astype(np.longdouble) * np.exp(-m_ld))
            if want == "logsumexp":
                out.reshape(-1)[rows] = m_ld + L
                continue
            if tau == 1.0:
                np.subtract(xb, m[:, None], out=e)
            else:
                np.divide(xb, tau, out=e)
                e -= m[:, None]
            e -= L.astype(np.float64)[:, None]
    return rest


# --------------------------------------------------------------------------- public functions


def softmax(z, axis=-1, *, temperature=1.0, out=None, precise=False):
    r"""Softmax of logits ``z`` along ``axis``: probabilities in [0, 1] summing to 1.

    .. math:: p_i = \frac{e^{z_i / \tau}}{\sum_j e^{z_j / \tau}}

    Parameters
    ----------
    z : array_like
        Logits. Integers and booleans are converted to float64 first; float16 and float32
        keep their dtype (float16 is computed in float32).
    axis : int, tuple of ints or None, default -1
        The axis or axes that make up one distribution; None means the whole array.
    temperature : float, default 1.0
        ``tau``, finite and > 0: the logits are divided by it.
    out : ndarray, optional
        Where to write the result (same shape, a floating dtype); may be ``z`` itself.
    precise : bool, default False
        Compensate the rounding of ``z - max(z)`` on slices that need the max trick. Costs
        about 2x there; only matters for logits spread over hundreds beyond exp's range.

    Returns
    -------
    p : ndarray or numpy scalar
        Same shape as ``z`` (``out`` itself when given). Within ``4 + 4u`` ULP of the exact
        value for an ``np.exp`` within ``u`` ULP: 8 ULP in float64 on any machine, except by
        default on slices beyond exp's range spread over hundreds (module docstring).

    Examples
    --------
    >>> import numpy as np
    >>> from course_lib.softmax import softmax
    >>> softmax([1.0, 2.0, 3.0])
    array([0.09003057, 0.24472847, 0.66524096])
    >>> softmax([1000.0, 0.0, 0.0])           # the max trick: no overflow
    array([1., 0., 0.])
    >>> softmax([[1, 2], [3, 3]], axis=0)     # each column is a distribution
    array([[0.11920292, 0.26894142],
           [0.88079708, 0.73105858]])
    >>> softmax([1.0, 2.0, 3.0], temperature=100.0).round(3)   # hot: close to uniform
    array([0.33 , 0.333, 0.337])
    >>> softmax([np.inf, 1.0, np.inf])
    array([0.5, 0. , 0.5])
    """
    x = _as_real_array(z, "z")
    axes = _axes(axis, x.ndim)
    tau = _temperature(temperature)
    if out is None:
        o = np.empty_like(x)
    else:
        o = _check_out(out, x.shape)
    with np.errstate(all="ignore"):
        if o.dtype != _wide(x.dtype) or x.dtype != _wide(x.dtype) or np.shares_memory(o, x):
            # float16 (computed in float32), a narrower out=, or in place: slice by slice
            _run_kernel(x, axes, o, tau, precise, "softmax")
            return _scalar_if_0d(o)
        if tau == 1.0:
            np.exp(x, out=o)
        else:
            np.divide(x, tau, out=o)
            np.exp(o, out=o)
        s = _sum(o, axes)
        bad = ~((s >= 1.0) & (s < np.inf))  # overflow, nan, or a sum below 1: look closer
        if bad.any():  # below 1 is fine too unless some exp(z) lost bits to underflow
            bad &= ~((s > 0) & (s < np.inf)) | _some_exp_subnormal(x, axes, tau, keepdims=True)
        _scale(o, np.reciprocal(s))
        if bad.any():
            keep = [ax for ax in range(x.ndim) if ax not in axes]
            select = bad.reshape([x.shape[ax] for ax in keep]) if keep else None
            _run_kernel(x, axes, o, tau, precise, "softmax", select=select)
    return _scalar_if_0d(o)


def _scale(o, r):
    """``o *= r`` (``r`` broadcast along the reduced axes), in place."""
    inner = min(range(o.ndim), key=lambda ax: abs(o.strides[ax])) if o.ndim else None
    with _small_buffers(inner is not None and o.shape[inner] >= 256 and r.shape[inner] == 1):
        np.multiply(o, r, out=o)


def _check_out(out, shape):
    if not isinstance(out, np.ndarray):
        raise TypeError(f"out must be a numpy array, got {type(out).__name__}")
    if out.shape != shape:
        raise ValueError(f"out must have the shape of the result {shape}, got {out.shape}")
    if out.dtype.kind != "f":
        raise TypeError(f"out must have a floating dtype, got {out.dtype}")
    return out


def log_softmax(z, axis=-1, *, temperature=1.0):
    r"""Logarithm of :func:`softmax`, computed without ever taking ``log`` of a probability.

    .. math:: \log p_i = d_i - \log\bigl(1 + \textstyle\sum_{j \ne k} e^{d_j}\bigr),
              \quad d = (z - \max z)/\tau,

    with ``k`` one maximal entry: ``log1p`` keeps the dominant logit's tiny negative value.

    Parameters
    ----------
    z : array_like
        Logits (integers and booleans become float64; float16/float32 keep their dtype).
    axis : int, tuple of ints or None, default -1
        The axis or axes of one distribution; None means the whole array.
    temperature : float, default 1.0
        ``tau``, finite and > 0.

    Returns
    -------
    ndarray or numpy scalar
        Same shape and dtype as ``z`` (float64 for integer input). float64: within
        ``1 + u_log1p + 2u`` ULP for ``np.exp`` and ``np.log1p`` within ``u`` and ``u_log1p``
        ULP, so 4 ULP on any machine; float32 and float16: half an ULP and a hair.

    Examples
    --------
    >>> from course_lib.softmax import log_softmax
    >>> log_softmax([1.0, 2.0, 3.0])
    array([-2.40760596, -1.40760596, -0.40760596])
    >>> log_softmax([0.0, -800.0])        # log(softmax) would give -inf here
    array([   0., -800.])
    >>> float(log_softmax([0.0, -50.0])[0])   # the dominant logit keeps its tiny value
    -1.9287498479639178e-22
    """
    x = _as_real_array(z, "z")
    axes = _axes(axis, x.ndim)
    tau = _temperature(temperature)
    o = np.empty_like(x)
    with np.errstate(all="ignore"):
        rest = _direct_log(x, axes, tau, o, "log_softmax")
        if rest is None or rest.any():
            _run_kernel(x, axes, o, tau, True, "log_softmax", select=rest)
    return _scalar_if_0d(o)


def logsumexp(z, axis=-1, *, keepdims=False):
    r"""``log(sum(exp(z)))`` along ``axis`` without overflow: ``m + log1p(t)``.

    Parameters
    ----------
    z : array_like
        Logits (integers and booleans become float64; float16/float32 keep their dtype).
    axis : int, tuple of ints or None, default -1
        The axis or axes to reduce; None reduces the whole array.
    keepdims : bool, default False
        Keep the reduced axes with length 1, as numpy's reductions do.

    Returns
    -------
    ndarray or numpy scalar
        ``-inf`` for an empty slice or a slice of only ``-inf``; ``+inf`` if any entry is.
        float64: within half an ULP plus ``(u_log1p + 2u + log2(K)/2)`` ULPs of ``log1p(t)``
        (module docstring), so at most ``1/2 + 4 (3 + log2(K)/2)`` ULP on a well-conditioned
        slice on any machine.

    Examples
    --------
    >>> import numpy as np
    >>> from course_lib.softmax import logsumexp
    >>> float(logsumexp([1.0, 2.0, 3.0]))
    3.40760596444438
    >>> float(logsumexp([1000.0, 1000.0]))     # 1000 + log 2, no overflow
    1000.6931471805599
    >>> logsumexp([[0.0, 0.0], [1.0, -np.inf]], keepdims=True)
    array([[0.69314718],
           [1.        ]])
    """
    x = _as_real_array(z, "z")
    axes = _axes(axis, x.ndim)
    keep = [ax for ax in range(x.ndim) if ax not in axes]
    o = np.empty([x.shape[ax] for ax in keep], dtype=x.dtype)
    with np.errstate(all="ignore"):
        rest = _direct_log(x, axes, 1.0, o, "logsumexp")
        if rest is None or rest.any():
            _run_kernel(x, axes, o, 1.0, True, "logsumexp", select=rest)
    if keepdims:
        o = np.expand_dims(o, axes)
    return _scalar_if_0d(o)


def masked_softmax(z, mask, axis=-1):
    """Softmax over the entries where ``mask`` is True; the others get exactly 0.

    A slice where no entry takes part gives all zeros (never nan), so a fully masked row in
    attention contributes nothing instead of poisoning the output with nan.

    Parameters
    ----------
    z : array_like
        Logits. The values of masked-out entries do not matter (even nan or inf).
    mask : array_like of bool
        True where an entry takes part; broadcastable to the shape of ``z``.
    axis : int, tuple of ints or None, default -1
        The axis or axes of one distribution.

    Returns
    -------
    ndarray or numpy scalar
        Same shape and dtype as ``z`` (float64 for integer input).

    Examples
    --------
    >>> import numpy as np
    >>> from course_lib.softmax import masked_softmax
    >>> masked_softmax([1.0, 2.0, 3.0], [True, True, False])
    array([0.26894142, 0.73105858, 0.        ])
    >>> masked_softmax([[1.0, 2.0], [3.0, np.nan]], [[True, True], [False, False]])
    array([[0.26894142, 0.73105858],
           [0.        , 0.        ]])
    """
    x = _as_real_array(z, "z")
    mk = np.asarray(mask)
    if mk.dtype != np.bool_:
        raise TypeError(
            f"mask must be boolean (True where an entry takes part), got dtype {mk.dtype}; "
            "for an additive 0/-inf mask pass mask=(additive == 0)"
        )
    try:
        mk = np.broadcast_to(mk, x.shape)
    except ValueError:
        raise ValueError(
            f"mask of shape {mk.shape} does not broadcast to the shape of z {x.shape}"
        ) from None
    axes = _axes(axis, x.ndim)
    zm = np.where(mk, x, np.asarray(-np.inf, dtype=x.dtype))
    # a slice with no entry taking part, or only -inf ones, gives zeros (softmax would be nan)
    none_kept = ~np.any(zm != -np.inf, axis=axes, keepdims=True)
    p = np.asarray(softmax(zm, axis=axes))
    np.copyto(p, 0.0, where=none_kept)
    return _scalar_if_0d(p)


def online_softmax(z, axis=-1, *, block_size=128):
    r"""Softmax in one streaming pass over blocks (Milakov & Gimelshein, 2018).

    Reads each slice ``block_size`` entries at a time, keeping a running maximum ``m`` and a
    running sum ``s`` of ``exp(z - m)``. When a block brings a larger maximum, the sum so far
    is rescaled by ``exp(m_old - m_new)``: the step that makes one pass enough, and the step
    a hand-written version most often forgets. A second, element-wise pass divides by ``s``.

    Three refinements keep it within a few ULP of :func:`softmax`: the shift is only moved
    when the maximum grows by more than ``16`` (far from overflow, and it saves most
    rescalings, as FlashAttention-4 does); ``exp(z - m)`` is compensated for the rounding of
    ``z - m``; and the running sum is kept in ``np.longdouble`` (80-bit on x86 Linux), or,
    where that is plain double (Windows, macOS on ARM), with its rounding error carried
    alongside (Neumaier's compensated sum). Within ``2 + 2u`` ULP of the exact result for an
    ``exp`` within ``u`` ULP (4 + 4u where long double is double; module docstring).

    Parameters
    ----------
    z : array_like
        Logits (integers and booleans become float64; float16/float32 keep their dtype).
    axis : int, tuple of ints or None, default -1
        The axis or axes of one distribution.
    block_size : int, default 128
        How many entries of a slice each step reads.

    Returns
    -------
    ndarray or numpy scalar
        Equal to :func:`softmax` to a few ULP, with the same edge semantics.

    Examples
    --------
    >>> from course_lib.softmax import online_softmax
    >>> online_softmax([1.0, 2.0, 3.0, 4.0], block_size=2)
    array([0.0320586 , 0.08714432, 0.23688282, 0.64391426])
    >>> online_softmax([-float("inf")] * 3 + [0.0], block_size=2)   # an all -inf prefix
    array([0., 0., 0., 1.])
    """
    x = _as_real_array(z, "z")
    if isinstance(block_size, (bool, np.bool_)) or not isinstance(
        block_size, (numbers.Integral, np.integer)
    ):
        raise TypeError(f"block_size must be a positive int, got {block_size!r}")
    if block_size < 1:
        raise ValueError(f"block_size must be a positive int, got {block_size!r}")
    axes = _axes(axis, x.ndim)
    work = _wide(x.dtype)
    z2, _ = _as_rows(x, axes)
    rows, n = z2.shape
    m = np.full((rows, 1), -np.inf, dtype=work)  # the shift: a maximum seen so far
    s = np.zeros((rows, 1), dtype=np.longdouble)  # extended precision where the platform has it
    # where long double is plain double (Windows, macOS on ARM), the running sum also keeps
    # its rounding error c (Neumaier): added serially over many blocks it would grow with n
    c = None if np.finfo(np.longdouble).nmant >= 63 else np.zeros_like(s)
    with np.errstate(all="ignore"):
        for j in range(0, n, block_size):
            blk = z2[:, j : j + block_size].astype(work)
            grows = np.max(blk, axis=1, keepdims=True) > m + 16
            if grows.any():  # rescale the sum so far: s * exp(m_old - m_new)
                m_new = np.where(grows, np.max(blk, axis=1, keepdims=True), m)
                r = np.where(np.isfinite(m), _exp_diff(m, m_new), 0.0)
                s *= r
                if c is not None:
                    c *= r
                m = m_new
            shift = np.where(np.isfinite(m), m, 0.0)  # rows with no finite entry yet
            b = np.add.reduce(_exp_diff(blk, shift), axis=1, keepdims=True, dtype=s.dtype)
            if c is None:
                s += b
            else:
                t = s + b
                c += np.where(np.abs(s) >= np.abs(b), (s - t) + b, (b - t) + s)
                s = t
        if c is not None:
            s += np.where(np.isfinite(c), c, 0.0)
        p = _exp_diff(z2.astype(work), np.where(np.isfinite(m), m, 0.0))
        p /= s.astype(work)
        _special_rows(z2, ~np.isfinite(np.max(z2, axis=1)) if n else np.zeros(rows, bool),
                      "softmax", p)
    res = np.moveaxis(p.reshape(np.moveaxis(x, axes, range(x.ndim - len(axes), x.ndim)).shape),
                      range(x.ndim - len(axes), x.ndim), axes)
    return _scalar_if_0d(res.astype(x.dtype))


def _exp_diff(a, b):
    """``exp(a - b)`` compensated for the rounding of ``a - b``; 0 where ``a`` is -inf."""
    d = a - b
    err = _two_diff(a, b, d)
    e = np.exp(d)
    err *= e
    e += err
    return e


def entropy(p, axis=-1):
    r"""Shannon entropy :math:`H(p) = -\sum_i p_i \log p_i` in nats, with :math:`0 \log 0 = 0`.

    Parameters
    ----------
    p : array_like
        Probabilities (non-negative; not renormalised).
    axis : int, tuple of ints or None, default -1
        The axis or axes of one distribution.

    Returns
    -------
    ndarray or numpy scalar
        Between 0 (one-hot) and ``log K`` (uniform over K entries).

    Examples
    --------
    >>> import numpy as np
    >>> from course_lib.softmax import entropy
    >>> float(entropy([0.25, 0.25, 0.25, 0.25])) == float(np.log(4))
    True
    >>> float(entropy([1.0, 0.0, 0.0]))
    0.0
    """
    x = _as_real_array(p, "p")
    axes = _axes(axis, x.ndim)
    if np.any(x < 0):
        raise ValueError("p must be non-negative (probabilities); found a negative entry")
    with np.errstate(all="ignore"):
        terms = np.where(x > 0, x * np.log(np.where(x > 0, x, 1)), np.asarray(0.0, x.dtype))
        h = -np.add.reduce(terms, axis=axes)
    h = h + 0.0  # -0.0 -> 0.0
    return _scalar_if_0d(np.asarray(h))


def softmax_jacobian(z):
    r"""The Jacobian :math:`J = \mathrm{diag}(p) - pp^\top` of softmax at ``z``, :math:`p = \mathrm{softmax}(z)`.

    :math:`J_{ij} = \partial p_i / \partial z_j = p_i (\delta_{ij} - p_j)`. It is the covariance
    of the one-hot label drawn from ``p``, and the Hessian of :func:`logsumexp`: symmetric,
    positive semidefinite, of rank ``K - 1`` when every :math:`p_i > 0` (its null space is spanned
    by the all-ones vector: shifting every logit changes nothing).

    Parameters
    ----------
    z : array_like, shape (..., K)
        Logits along the last axis (integers and booleans become float64; float16/float32 keep
        their dtype). Leading axes are a batch: one Jacobian per slice.

    Returns
    -------
    ndarray, shape (..., K, K)
        No overflow for large logits (:func:`softmax` shifts by the max).

    Examples
    --------
    >>> import numpy as np
    >>> from course_lib.softmax import softmax_jacobian
    >>> softmax_jacobian([0.0, 0.0])
    array([[ 0.25, -0.25],
           [-0.25,  0.25]])
    >>> J = softmax_jacobian([1000.0, 1001.0, 1002.0])
    >>> bool(np.allclose(J, softmax_jacobian([1.0, 2.0, 3.0]))), bool(np.allclose(J.sum(axis=1), 0))
    (True, True)
    """
    x = _as_real_array(z, "z")
    if x.ndim == 0:
        raise ValueError("z must have at least one axis (the K logits), got a 0-d value")
    p = softmax(x, axis=-1)
    J = -p[..., :, None] * p[..., None, :]
    i = np.arange(x.shape[-1])
    J[..., i, i] += p
    J += 0.0  # -0.0 -> 0.0
    return J


def logits_from_probs(p, axis=-1):
    r"""The logits of mean zero whose softmax is ``p``: softmax inverted up to its shift.

    Softmax forgets one number, the shift (:math:`\mathrm{softmax}(z + c) = \mathrm{softmax}(z)`),
    so from ``p`` the logits come back only up to a constant, :math:`z_i = \log p_i + C`. This
    picks the constant that centres them: :math:`z_i = \log p_i - \overline{\log p}`, the mean
    taken over the entries of the slice with :math:`p_i > 0`.

    Parameters
    ----------
    p : array_like
        Probabilities, non-negative (integers and booleans become float64; float16/float32
        keep their dtype). A slice that does not sum to 1 is read as proportions:
        ``softmax(logits_from_probs(p))`` is ``p`` divided by its sum.
    axis : int, tuple of ints or None, default -1
        The axis or axes of one distribution.

    Returns
    -------
    ndarray
        The shape of ``p``. A probability 0 gives the logit ``-inf`` (softmax gives ``-inf``
        exactly 0), and the finite logits of a slice have mean 0; a slice without any positive
        entry, or with a ``nan``, is all ``nan``.

    Raises
    ------
    ValueError
        If ``p`` has a negative entry.

    Examples
    --------
    >>> import numpy as np
    >>> from course_lib.softmax import logits_from_probs, softmax
    >>> z = logits_from_probs([0.25, 0.25, 0.5])
    >>> np.round(z, 6), bool(abs(z.sum()) < 1e-15)
    (array([-0.231049, -0.231049,  0.462098]), True)
    >>> logits_from_probs([0.5, 0.0, 0.5])
    array([  0., -inf,   0.])
    >>> bool(np.allclose(softmax(logits_from_probs(softmax([1.0, 2.0, 3.0]))), softmax([1.0, 2.0, 3.0])))
    True
    """
    x = _as_real_array(p, "p")
    axes = _axes(axis, x.ndim)
    if np.any(x < 0):
        raise ValueError("p must be non-negative (probabilities); found a negative entry")
    w = x.astype(np.float64)
    positive = w > 0
    with np.errstate(all="ignore"):
        logp = np.log(np.where(positive, w, 1.0))
        n = positive.sum(axis=axes, keepdims=True)
        centre = np.where(n > 0, logp.sum(axis=axes, keepdims=True, where=positive) / n, np.nan)
        z = np.where(positive, logp - centre, np.where(n > 0, -np.inf, np.nan))
    z = np.where(np.isnan(w).any(axis=axes, keepdims=True), np.nan, z)  # nan spreads to its slice
    return _scalar_if_0d(z.astype(x.dtype))
