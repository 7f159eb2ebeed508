"""The verdict a student sees: :class:`CheckResult`, its failures, and how both are shown.

``str(result)`` is the plain text; in Jupyter the result renders as compact HTML. Every piece of
text that came from a student's function (values, error messages) is escaped before it goes into
HTML. A result speaks the language it was made in (``result.lang``), in text and in HTML.
"""

from __future__ import annotations

import html
import unicodedata
import warnings
from dataclasses import dataclass, field

import numpy as np

from ..i18n import get_language, gettext as _, language

__all__ = ["Failure", "CheckResult", "show_array"]

MAX_SHOWN = 3  # failures listed in full; the rest are counted
MAX_ENTRIES = 12  # larger arrays are summarised by their shape and range


def _number(v) -> str:
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (complex, np.complexfloating)):
        return f"{complex(v):.8g}"
    return f"{float(v):.8g}"


def show_value(x, names=(), *, one_line=False) -> str:
    """Show one value like :func:`show_array`, or a tuple of them by name.

    Examples
    --------
    >>> print(show_value((np.array([1.0, 2.0]), np.array([0.25, 0.75])), ("output", "weights")))
    output = [1, 2]
    weights = [0.25, 0.75]
    >>> show_value(np.array([0.5, 0.5]))
    '[0.5, 0.5]'
    """
    if not isinstance(x, tuple):
        return show_array(x, one_line=one_line)
    names = tuple(names) or tuple(_("value {i}").format(i=i) for i in range(1, len(x) + 1))
    shown = [f"{n} = {show_array(v, one_line=one_line)}" for n, v in zip(names, x)]
    return ("; " if one_line else "\n").join(shown)


def show_array(x, *, one_line=False) -> str:
    """Show a value the way the checker prints it: short, 8 significant digits.

    Examples
    --------
    >>> show_array([1000.0, 0.0, 0.0])
    '[1000, 0, 0]'
    >>> show_array(np.array([0.0900305732, 0.2447284711, 0.6652409558]))
    '[0.090030573, 0.24472847, 0.66524096]'
    >>> show_array(np.float32(89.0))
    '89 (float32)'
    >>> show_array(np.arange(40.0).reshape(4, 10))
    'array of shape (4, 10), from 0 to 39'
    >>> show_array([[1, 2], [3, 4]], one_line=True)
    '[[1, 2], [3, 4]]'
    """
    if x is None:
        return "None"
    if isinstance(x, str):
        return repr(x)
    try:
        a = np.asarray(x)
    except Exception:  # an object numpy cannot read
        return _("a {type}").format(type=type(x).__name__)
    if a.dtype == object or a.dtype.kind not in "biufc":
        return _("a {type}").format(type=type(x).__name__)
    if a.size > MAX_ENTRIES:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # an all-nan array: nan to nan
            lo, hi = np.nanmin(a.real), np.nanmax(a.real)
        return _("array of shape {shape}, from {low} to {high}").format(
            shape=a.shape, low=_number(lo), high=_number(hi))
    suffix = f" ({a.dtype})" if a.dtype in (np.float32, np.float16) else ""
    if a.ndim == 0:
        return _number(a.item()) + suffix
    text = np.array2string(
        a, separator=", ", formatter={"all": _number}, max_line_width=100, threshold=1000
    )
    if one_line:
        text = " ".join(line.strip() for line in text.splitlines())
    return text + suffix


def _shell():
    """The running IPython shell, or None outside IPython."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with jupyterlab
        return None
    return get_ipython()


@dataclass
class Failure:
    """One failed test.

    Attributes
    ----------
    test : str
        The test's name.
    input : str or None
        The input as shown to the student; None for a hidden test.
    expected, got : str
        The expected value and what came back, as shown (empty for hidden tests' expected).
    problem : str
        What is wrong, in a few words ("nan where a number was expected").
    hint : str or None
        A targeted hint when a known mistake explains this failure.
    mistake : str or None
        The name of that mistake.
    hidden : bool
        The test is hidden: its input and expected value are not shown.
    changed : bool
        The function returned the right value but changed its input: ``got`` then says which
        argument, before and after the call (and ``expected`` is empty).
    """

    test: str
    input: str | None
    expected: str
    got: str
    problem: str
    hint: str | None = None
    mistake: str | None = None
    hidden: bool = False
    changed: bool = False

    def lines(self) -> list:
        """The failure as plain-text lines."""
        if self.hidden:
            return [_("a hidden test: {problem}").format(problem=self.problem)]
        if self.changed:
            return [f"{self.input}: {self.problem}", f"    {self.got}"]
        expected, got, width = _labels()
        return [
            f"{self.input}: {self.problem}",
            f"    {expected}{_indent(self.expected, 4 + width)}",
            f"    {got}{_indent(self.got, 4 + width)}",
        ]


def _indent(text, n):
    return text.replace("\n", "\n" + " " * n)


def _columns(text) -> int:
    """How many columns ``text`` takes in a monospaced font (Hangul takes two).

    >>> _columns("got"), _columns("결과")
    (3, 4)
    """
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _labels() -> tuple:
    """The "expected" and "got" labels, padded to one width (in columns), and that width."""
    expected, got = _("expected"), _("got")
    width = max(_columns(expected), _columns(got)) + 1
    return (expected + " " * (width - _columns(expected)),
            got + " " * (width - _columns(got)), width)


def _html_text(text) -> str:
    """Escape ``text`` for HTML, with `inline code` between backticks shown as <code>.

    Examples
    --------
    >>> _html_text("use `z.max(axis=axis, keepdims=True)` & divide")
    'use <code>z.max(axis=axis, keepdims=True)</code> &amp; divide'
    """
    parts = str(text).split("`")
    if len(parts) % 2 == 0:  # an odd number of backticks: show them as they are
        return html.escape(str(text))
    return "".join(f"<code>{html.escape(p)}</code>" if i % 2 else html.escape(p)
                   for i, p in enumerate(parts))


@dataclass
class CheckResult:
    """The result of checking one exercise.

    Attributes
    ----------
    name : str
        The exercise.
    passed : bool
        Every test passed.
    score, max_score : float
        Points earned (in proportion to the tests passed) and available.
    failures : list of Failure
    n_passed, n_tests : int
    mistakes : list of (str, str)
        The known mistakes diagnosed, as (name, hint): the first step of help.
    more_help : dict of str to str
        For the mistakes that have one, the second, more specific step, by mistake name (shown
        by ``result.text(hints=2)``, ``check(..., hints=2)``, and folded in the HTML).
    delegated : str or None
        The qualified name of a library function doing the exercise's whole job that the
        answer called (``"scipy.special.softmax"``); such an answer earns no points.
    status : str
        ``"passed"``, ``"failed"``, ``"not implemented"`` or ``"error"`` (the check itself
        could not run: unknown exercise name, or not a function).
    message : str
        For ``"not implemented"`` and ``"error"``: what to do.
    lang : str
        The language the result was made in (``"en"``, ``"ko"``; default: the language in
        effect when it is made). ``str()``, ``text()`` and the HTML speak it. Mistake names
        stay in English in ``mistakes`` (graders record them) and are translated when shown.
    """

    name: str
    passed: bool
    score: float
    max_score: float
    failures: list = field(default_factory=list)
    n_passed: int = 0
    n_tests: int = 0
    mistakes: list = field(default_factory=list)
    status: str = ""
    message: str = ""
    more_help: dict = field(default_factory=dict)
    delegated: str | None = None
    lang: str | None = None

    def __post_init__(self):
        if not self.status:
            self.status = "passed" if self.passed else "failed"
        self.lang = get_language(self.lang)
        self._shown_in = None

    @classmethod
    def not_implemented(cls, name, points, n_tests):
        return cls(name, False, 0.0, points, n_tests=n_tests, status="not implemented", message=_(
            "{name} is not implemented yet. Replace the line `raise NotImplementedError(...)` "
            "with your code, run that cell, then run this check again.").format(name=name))

    @classmethod
    def delegated_to(cls, name, points, function, n_passed, n_tests):
        """The result of an answer that calls ``function``, a library function that does the
        whole exercise: no points, whatever its values."""
        return cls(name, False, 0.0, points, n_passed=n_passed, n_tests=n_tests,
                   status="failed", delegated=function, message=_(
                       "Your {name} calls `{function}`, which does this exercise's whole job, "
                       "so it earns no points. The exercise is to write it yourself, with numpy; "
                       "use the library afterwards, to compare your answer with it.").format(
                           name=name, function=function))

    @classmethod
    def error(cls, name, points, message):
        return cls(name, False, 0.0, points, status="error", message=message)

    # ----- plain text --------------------------------------------------------------------------
    def headline(self) -> str:
        with language(self.lang):
            return self._headline()

    def _headline(self) -> str:
        values = dict(name=self.name, n_tests=self.n_tests, n_passed=self.n_passed,
                      function=self.delegated, points=_("{score} / {max_score} points").format(
                          score=_number(self.score), max_score=_number(self.max_score)))
        if self.status == "passed":
            return _("✓ {name}: all {n_tests} tests passed ({points})").format(**values)
        if self.status == "failed" and self.delegated:
            return _("✗ {name}: calls {function} ({points})").format(**values)
        if self.status == "failed":
            return _("✗ {name}: {n_passed} of {n_tests} tests passed ({points})").format(**values)
        if self.status == "not implemented":
            return _("… {name}: not implemented yet ({points})").format(**values)
        return _("✗ {name}: could not be checked ({points})").format(**values)

    def __str__(self) -> str:
        return self.text()

    def text(self, hints=1) -> str:
        """The verdict as plain text; ``hints=2`` adds the "more help" step of each mistake."""
        with language(self.lang):
            return self._text(hints)

    def _text(self, hints) -> str:
        out = [self._headline()]
        if self.message:
            out.append(self.message)
        for name, hint in self.mistakes:
            out.append(_("Likely mistake, {name}: {hint}").format(name=_(name), hint=hint))
            if hints >= 2 and self.more_help.get(name):
                out.append("  " + _("More help: {help}").format(help=self.more_help[name]))
        if hints < 2 and any(self.more_help.get(n) for n, _h in self.mistakes):
            out.append(_("(More help: check(..., hints=2).)"))
        if self.failures:
            if not self.mistakes:
                out.append(_("Tip: run your function on the first failing input in a new cell "
                             "and compare with the expected value."))
            out.append(_("Failed tests:"))
            for f in self.failures[:MAX_SHOWN]:
                first, *rest = f.lines()
                out.append("  • " + first)
                out.extend("  " + r for r in rest)
            if len(self.failures) > MAX_SHOWN:
                out.append("  " + _("(and {n} more)").format(n=len(self.failures) - MAX_SHOWN))
        return "\n".join(out)

    def __repr__(self) -> str:
        return (f"CheckResult(name={self.name!r}, status={self.status!r}, "
                f"score={self.score}, max_score={self.max_score}, failures={len(self.failures)})")

    # ----- HTML --------------------------------------------------------------------------------
    def _repr_html_(self) -> str:
        with language(self.lang):
            return self._html()

    def _html(self) -> str:
        # The status colour marks the bar on the left only: JupyterLab's theme colours, with
        # fallbacks for other front ends. No theme colour is readable as text on both themes'
        # backgrounds (orange on white, red and green on the dark theme's near-black fall below
        # WCAG's 4.5:1), so all text keeps the theme's own font colour; the ✓/✗ and the words
        # say the status.
        colour = {"passed": "var(--jp-success-color0, #1a7f37)",
                  "failed": "var(--jp-warn-color0, #b35900)",
                  "not implemented": "var(--jp-content-font-color2, #57606a)"}.get(
            self.status, "var(--jp-error-color0, #b31d28)")
        e = html.escape
        parts = [f'<div style="border-left:4px solid {colour};padding:2px 8px;margin:2px 0;'
                 f'font-size:0.92em;line-height:1.35">',
                 f'<div style="font-weight:600">{e(self._headline())}</div>']
        if self.message:
            parts.append(f"<div>{_html_text(self.message)}</div>")
        for name, hint in self.mistakes:
            label = _("Likely mistake, {name}:").format(name=e(_(name)))
            parts.append(f"<div><b>{label}</b> {_html_text(hint)}")
            if self.more_help.get(name):
                summary = e(_("More help"))
                parts.append(f'<details style="margin:1px 0 1px 1em"><summary>{summary}</summary>'
                             f"{_html_text(self.more_help[name])}</details>")
            parts.append("</div>")
        if self.failures:
            rows = []
            for f in self.failures[:MAX_SHOWN]:
                if f.hidden:
                    rows.append("<li>" + _("a hidden test: {problem}").format(problem=e(f.problem))
                                + "</li>")
                    continue
                if f.changed:
                    rows.append(f"<li><code>{e(f.input)}</code>: {e(f.problem)}"
                                f'<pre style="margin:0 0 0 1em">{e(f.got)}</pre></li>')
                    continue
                expected, got, width = _labels()
                rows.append(
                    f"<li><code>{e(f.input)}</code>: {e(f.problem)}"
                    f'<pre style="margin:0 0 0 1em">{e(expected)}{e(_indent(f.expected, width))}\n'
                    f"{e(got)}{e(_indent(f.got, width))}</pre></li>")
            more = len(self.failures) - MAX_SHOWN
            if more > 0:
                rows.append("<li>" + _("and {n} more").format(n=more) + "</li>")
            parts.append('<ul style="margin:2px 0;padding-left:1.2em">' + "".join(rows) + "</ul>")
        parts.append("</div>")
        return "".join(parts)

    def _ipython_display_(self):
        # ``check`` shows its result itself; when the same result is also the value of that
        # same cell, IPython's display hook calls this method: show it only once. In any
        # later cell (``result`` on its own line) it is shown again.
        shell = _shell()
        if shell is not None and self._shown_in == shell.execution_count:
            self._shown_in = None
            return
        self.show()

    def mark_shown(self):
        """Note that the result was just displayed by the running cell (see ``check``)."""
        shell = _shell()
        self._shown_in = None if shell is None else shell.execution_count

    def show(self, hints=1):
        """Display the result: HTML in Jupyter, plain text elsewhere (``hints=2``: with the
        "more help" step of each mistake; in the HTML it is always there, folded)."""
        if _shell() is None:
            print(self.text(hints))
            return
        from IPython.display import display

        display({"text/plain": self.text(hints), "text/html": self._repr_html_()}, raw=True)
