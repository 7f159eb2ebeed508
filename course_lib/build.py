"""Generate the learners' exercise notebooks (``exercises/``) from ``solutions/``.

``solutions/NN_solutions_slug.ipynb`` is the only source. Authors mark what the learner must write with
lines ``### BEGIN SOLUTION`` and ``### END SOLUTION`` (leading whitespace allowed)::

    def softmax(z):
        ### BEGIN SOLUTION: return the softmax of the 1-D vector z
        e = np.exp(z - z.max())
        return e / e.sum()
        ### END SOLUTION

:func:`build` writes ``exercises/NN_exercises_slug.ipynb`` (see :func:`exercise_name`; a lesson,
its exercises and its solutions open in JupyterLab tabs that read differently) in which

* each region of a code cell, markers included, is one line at the indentation of its BEGIN
  marker: ``raise NotImplementedError("<instruction>")``. The instruction is the text after
  the BEGIN marker; without one it is ``"NAME: replace this line with your code"`` inside a
  ``def NAME(`` and ``"replace this line with your code"`` elsewhere. Every cell that had a
  region must still compile (IPython magics are allowed);
* each region of a markdown cell is the line ``_Your answer here._``;
* cells tagged ``solution-only`` are gone; every other cell keeps its id;
* code cells have no outputs and no execution count; cell metadata keeps only ``tags``,
  ``editable`` and ``deletable``; a cell that had a region loses its attachments;
* notebook metadata keeps only ``kernelspec``, ``language_info`` (the keys a kernel announces,
  so that JupyterLab does not mark a freshly opened notebook modified; see
  :mod:`course_lib.execute`) and ``softmax_course``: ``generated_from`` (the solution notebook) and ``content_sha256`` (see
  :func:`content_sha256`).

The output is deterministic: the same solution notebook always gives the same bytes.
An exercise notebook whose cells no longer match its ``content_sha256`` holds a learner's
work: :func:`build` does not overwrite it unless ``force=True``, and never deletes it. An exercise
notebook that :func:`build` wrote, still untouched, that no solution notebook builds any more (the
old ``exercises/NN_slug.ipynb`` names, or a solution notebook removed) is deleted.

Each translation has the same layout one folder down: ``solutions/ko/`` builds ``exercises/ko/``
(:data:`EDITIONS`), by the same rules.

Errors are :class:`BuildError` and name the notebook, the cell (its index, counted from 0, and
its id) and the line (counted from 1).
"""

from __future__ import annotations

import ast
import contextlib
import copy
import hashlib
import json
import os
import re
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

__all__ = [
    "BuildError",
    "BuildReport",
    "strip_solutions",
    "build_notebook",
    "content_sha256",
    "render",
    "read_notebook",
    "build",
    "exercise_name",
    "write_atomically",
]

NEW_CELL = {
    "code": nbformat.v4.new_code_cell,
    "markdown": nbformat.v4.new_markdown_cell,
    "raw": nbformat.v4.new_raw_cell,
}
SOLUTION_ONLY_TAG = "solution-only"
KEPT_CELL_METADATA = ("tags", "editable", "deletable")
KEPT_KERNELSPEC = ("name", "display_name", "language")
KEPT_LANGUAGE_INFO = ("codemirror_mode", "file_extension", "mimetype", "name",
                      "nbconvert_exporter", "pygments_lexer", "version")
MARKDOWN_ANSWER = "_Your answer here._"
SOLUTIONS_NAME = re.compile(r"^(?P<lesson>\d\d)_solutions_(?P<slug>.+)$")
GENERIC_INSTRUCTION = "replace this line with your code"
SAVE_IN_JUPYTERLAB = "open and save it in JupyterLab 4 (nbformat >= 4.5 gives every cell an id)"

BEGIN = re.compile(r"^(?P<indent>[ \t]*)### BEGIN SOLUTION(?P<text>(?:[\s:].*)?)$")
END = re.compile(r"^[ \t]*### END SOLUTION(?:\s.*)?$")
# lines that look meant as markers but are not: they would leak the solution, so they are errors
NEAR_MARKER = re.compile(r"(?i:#+\s*(begin|end)[\s_-]*solution)|\b(BEGIN|END) SOLUTION\b")


class BuildError(ValueError):
    """A solution notebook cannot be turned into an exercise; the message says where and why."""


@dataclass
class BuildReport:
    """What :func:`build` did, as paths relative to the course root (``exercises/NN_exercises_slug.ipynb``).

    Attributes
    ----------
    solutions : list of str
        The solution notebooks read.
    written : list of str
        Exercise notebooks written (created or updated).
    unchanged : list of str
        Exercise notebooks already up to date (not touched).
    refused : list of str
        Out-of-date exercise notebooks not overwritten because they hold edits.
    would_change : list of str
        With ``check=True``: exercise notebooks that are missing or out of date.
    removed : list of str
        Exercise notebooks that :func:`build` wrote, untouched since, that no solution notebook
        builds any more (deleted; with ``check=True``, those it would delete).
    orphans : list of str
        Other exercise notebooks without a solution notebook: a learner's work, or not made
        by :func:`build` (left in place).
    check : bool
        Whether this was a dry check.
    """

    solutions: list[str] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    would_change: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)
    check: bool = False

    @property
    def ok(self) -> bool:
        """True unless a notebook was refused, or a check found anything out of date, to remove
        or orphaned."""
        return not (self.refused or self.would_change
                    or (self.check and (self.orphans or self.removed)))

    def lines(self) -> list[str]:
        """One line per notebook, sorted by path, orphans last; for the command line.

        Examples
        --------
        >>> report = BuildReport(
        ...     solutions=["solutions/00_solutions_b.ipynb", "solutions/01_solutions_a.ipynb"],
        ...     written=["exercises/01_exercises_a.ipynb"],
        ...     unchanged=["exercises/00_exercises_b.ipynb"],
        ...     removed=["exercises/01_a.ipynb"],
        ... )
        >>> for line in report.lines():
        ...     print(line)
        removed exercises/01_a.ipynb: made by build and no solution notebook makes it any more
        unchanged exercises/00_exercises_b.ipynb
        wrote exercises/01_exercises_a.ipynb
        """
        header = [] if self.solutions else ["no solution notebooks in solutions/: nothing to build"]
        notebooks = sorted(
            [(path, f"wrote {path}") for path in self.written]
            + [(path, f"unchanged {path}") for path in self.unchanged]
            + [(path, f"out of date {path}") for path in self.would_change]
            + [
                (path, f"refused {path}: it has your edits; save them elsewhere or pass --force")
                for path in self.refused
            ]
        )
        removed = [
            f"{'would remove' if self.check else 'removed'} {path}: made by build and no "
            "solution notebook makes it any more"
            for path in sorted(self.removed)
        ]
        orphans = [
            f"orphan {path}: no notebook in solutions/ makes it; left in place"
            for path in sorted(self.orphans)
        ]
        return header + removed + [line for _, line in notebooks] + orphans


# --- one cell's source ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Region:
    """Lines ``begin`` .. ``end`` (0-based, both markers included) of a cell's source."""

    begin: int
    end: int
    indent: str
    instruction: str


@contextlib.contextmanager
def _located(where: str):
    """Prefix the message of a :class:`BuildError` raised inside with ``where``."""
    try:
        yield
    except BuildError as err:
        raise BuildError(f"{where}: {err}") from None


def _marker(line: str, number: int):
    """Return ``("begin", indent, instruction)``, ``("end", None, None)`` or None for a line."""
    if m := BEGIN.match(line):
        return "begin", m["indent"], m["text"].strip().lstrip(":").strip()
    if END.match(line):
        return "end", None, None
    if NEAR_MARKER.search(line):
        raise BuildError(
            f"line {number + 1} looks like a solution marker but is not one: {line.strip()!r}; "
            "write `### BEGIN SOLUTION` or `### END SOLUTION` on a line of its own"
        )
    return None


def _find_regions(lines: list[str]) -> list[_Region]:
    """The solution regions of a cell's lines, checking that markers pair up and do not nest."""
    regions, opened = [], None
    for number, line in enumerate(lines):
        kind, indent, instruction = _marker(line, number) or (None, None, None)
        if kind == "begin":
            if opened is not None:
                raise BuildError(
                    f"line {number + 1}: BEGIN SOLUTION inside the region opened at line "
                    f"{opened.begin + 1}; regions cannot nest (close it with END SOLUTION first)"
                )
            opened = _Region(number, -1, indent, instruction)
        elif kind == "end":
            if opened is None:
                raise BuildError(
                    f"line {number + 1}: END SOLUTION without a BEGIN SOLUTION above it"
                )
            regions.append(_Region(opened.begin, number, opened.indent, opened.instruction))
            opened = None
    if opened is not None:
        raise BuildError(f"line {opened.begin + 1}: BEGIN SOLUTION without an END SOLUTION")
    return regions


def _replace_regions(lines: list[str], regions: list[_Region], replacements: list[str]) -> str:
    """Join ``lines`` with each region replaced by its one-line replacement."""
    out, start = [], 0
    for region, replacement in zip(regions, replacements):
        out += lines[start : region.begin] + [replacement]
        start = region.end + 1
    return "\n".join(out + lines[start:])


def _replacement_line_numbers(regions: list[_Region]) -> list[int]:
    """1-based line number of each region's replacement in the stripped source."""
    numbers, removed = [], 0
    for region in regions:
        numbers.append(region.begin - removed + 1)
        removed += region.end - region.begin
    return numbers


def _raise_line(indent: str, instruction: str) -> str:
    # a JSON string is a valid Python string literal: quotes, backslashes and controls escaped
    return f"{indent}raise NotImplementedError({json.dumps(instruction, ensure_ascii=False)})"


def _parse_code(source: str) -> ast.Module:
    """Parse a code cell as the IPython kernel would (magics allowed); BuildError if it cannot."""
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        tree = ast.parse(TransformerManager().transform_cell(source))
        compile(tree, "<exercise cell>", "exec")
    except SyntaxError as err:
        raise BuildError(
            "the exercise cell does not compile once its solution regions are replaced: "
            f"{err.msg} (line {err.lineno} of the exercise cell: {(err.text or '').strip()!r}); "
            "indent each `### BEGIN SOLUTION` like the code it stands for"
        ) from None
    return tree


def _enclosing_function(tree: ast.Module, line: int) -> str | None:
    """Name of the innermost ``def`` whose body contains ``line``, or None."""
    functions = [
        node
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body[0].lineno <= line <= node.end_lineno
    ]
    return max(functions, key=lambda node: node.lineno).name if functions else None


def _code_instructions(lines: list[str], regions: list[_Region]) -> list[str]:
    """The instruction for each region of a code cell (explicit, ``NAME: ...`` or generic)."""
    placeholders = [_raise_line(r.indent, r.instruction or GENERIC_INSTRUCTION) for r in regions]
    tree = _parse_code(_replace_regions(lines, regions, placeholders))
    instructions = []
    for region, line in zip(regions, _replacement_line_numbers(regions)):
        name = _enclosing_function(tree, line)
        default = f"{name}: {GENERIC_INSTRUCTION}" if name else GENERIC_INSTRUCTION
        instructions.append(region.instruction or default)
    return instructions


def strip_solutions(source: str, *, cell_type: str = "code") -> str:
    """Replace each ``### BEGIN SOLUTION`` … ``### END SOLUTION`` region of one cell's source.

    Parameters
    ----------
    source : str
        The cell's source.
    cell_type : {"code", "markdown", "raw"}, default "code"
        In a code cell each region becomes ``raise NotImplementedError("<instruction>")`` at the
        indentation of its BEGIN marker; in a markdown cell it becomes ``_Your answer here._``.
        A raw cell may not contain regions.

    Returns
    -------
    str
        The source with every region, markers included, replaced by one line; ``source``
        itself when it has no region.

    Raises
    ------
    BuildError
        For a BEGIN without END, an END without BEGIN, a nested BEGIN, a line that looks like a
        marker but is not one, a region in a raw cell, or a code cell that no longer compiles.

    Examples
    --------
    >>> print(strip_solutions('''def softmax(z):
    ...     ### BEGIN SOLUTION
    ...     e = np.exp(z - z.max())
    ...     return e / e.sum()
    ...     ### END SOLUTION'''))
    def softmax(z):
        raise NotImplementedError("softmax: replace this line with your code")
    >>> print(strip_solutions('''### BEGIN SOLUTION: set p to softmax(z)
    ... p = softmax(z)
    ... ### END SOLUTION'''))
    raise NotImplementedError("set p to softmax(z)")
    >>> answer = "Why?\\n### BEGIN SOLUTION\\nBecause.\\n### END SOLUTION"
    >>> strip_solutions(answer, cell_type="markdown")
    'Why?\\n_Your answer here._'
    """
    if cell_type not in ("code", "markdown", "raw"):
        raise ValueError(f"cell_type must be 'code', 'markdown' or 'raw', not {cell_type!r}")
    lines = source.split("\n")
    regions = _find_regions(lines)
    if not regions:
        return source
    if cell_type == "raw":
        raise BuildError("solution regions belong in code or markdown cells, not raw cells")
    if cell_type == "markdown":
        return _replace_regions(lines, regions, [r.indent + MARKDOWN_ANSWER for r in regions])
    instructions = _code_instructions(lines, regions)
    stripped = _replace_regions(
        lines, regions, [_raise_line(r.indent, text) for r, text in zip(regions, instructions)]
    )
    _parse_code(stripped)
    return stripped


# --- one notebook -----------------------------------------------------------------------------


def _source_text(source) -> str:
    return source if isinstance(source, str) else "".join(source)


def _check_ids(cells) -> None:
    """Every cell has an id, and no two cells share one."""
    seen = {}
    for index, cell in enumerate(cells):
        cell_id = cell.get("id")
        if not cell_id:
            raise BuildError(f"cell {index} has no id; {SAVE_IN_JUPYTERLAB}")
        if cell_id in seen:
            raise BuildError(
                f"cells {seen[cell_id]} and {index} have the same id {cell_id!r}; "
                "give one of them a new id (copy cells in JupyterLab 4, not by editing the JSON)"
            )
        seen[cell_id] = index


def _is_solution_only(cell) -> bool:
    return SOLUTION_ONLY_TAG in cell.get("metadata", {}).get("tags", [])


def _exercise_cell(cell):
    """The exercise version of one solution cell (a new cell; ``cell`` is left alone)."""
    source = _source_text(cell.get("source", ""))
    stripped = strip_solutions(source, cell_type=cell.cell_type)
    metadata = {
        key: copy.deepcopy(value)
        for key, value in cell.metadata.items()
        if key in KEPT_CELL_METADATA
    }
    new_cell = NEW_CELL[cell.cell_type](stripped, id=cell.id, metadata=metadata)
    if "attachments" in cell and stripped == source:  # markdown and raw cells only
        new_cell.attachments = copy.deepcopy(cell.attachments)
    return new_cell


def content_sha256(cells) -> str:
    """The hash recorded in ``metadata.softmax_course.content_sha256`` of an exercise notebook.

    Parameters
    ----------
    cells : list of dict
        Notebook cells (sources as strings or lists of lines).

    Returns
    -------
    str
        Hex sha256 of ``json.dumps(cells, sort_keys=True, ensure_ascii=False)`` (UTF-8), with
        every source joined into one string.

    Examples
    --------
    >>> a = [{"cell_type": "markdown", "id": "a", "metadata": {}, "source": "x\\ny"}]
    >>> b = [{"cell_type": "markdown", "id": "a", "metadata": {}, "source": ["x\\n", "y"]}]
    >>> content_sha256(a) == content_sha256(b), len(content_sha256(a))
    (True, 64)
    """
    canonical = [{**cell, "source": _source_text(cell.get("source", ""))} for cell in cells]
    text = json.dumps(canonical, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _exercise_metadata(metadata, cells, generated_from: str) -> dict:
    """Notebook metadata with nothing machine-specific, plus the provenance and content hash."""
    kept = {}
    if "kernelspec" in metadata:
        kept["kernelspec"] = {
            key: value for key, value in metadata.kernelspec.items() if key in KEPT_KERNELSPEC
        }
    if "name" in metadata.get("language_info", {}):
        kept["language_info"] = {
            key: copy.deepcopy(value) for key, value in metadata.language_info.items()
            if key in KEPT_LANGUAGE_INFO
        }
    kept["softmax_course"] = {
        "generated_from": generated_from,
        "content_sha256": content_sha256(cells),
    }
    return kept


def build_notebook(nb, *, generated_from: str) -> nbformat.NotebookNode:
    """Make the exercise notebook of a solution notebook.

    Parameters
    ----------
    nb : NotebookNode or dict
        A solution notebook, nbformat 4.5 or later (every cell has a unique id).
        It is not modified.
    generated_from : str
        Recorded as ``metadata.softmax_course.generated_from``, e.g.
        ``"solutions/01_solutions_definition.ipynb"``.

    Returns
    -------
    NotebookNode
        A new, valid notebook: regions replaced (see :func:`strip_solutions`), ``solution-only``
        cells dropped, outputs, execution counts and extra metadata removed, ids kept.

    Raises
    ------
    BuildError
        For a cell without an id, duplicate ids, or a bad region; the message names the cell.

    Examples
    --------
    >>> code = "x = 1\\n### BEGIN SOLUTION\\ny = 2\\n### END SOLUTION"
    >>> solution = nbformat.v4.new_notebook(cells=[
    ...     nbformat.v4.new_code_cell(code, id="c1"),
    ...     nbformat.v4.new_markdown_cell("spoiler", id="m1", metadata={"tags": ["solution-only"]}),
    ... ])
    >>> exercise = build_notebook(solution, generated_from="solutions/01_demo.ipynb")
    >>> [(cell.id, cell.source) for cell in exercise.cells]
    [('c1', 'x = 1\\nraise NotImplementedError("replace this line with your code")')]
    >>> exercise.metadata.softmax_course.generated_from
    'solutions/01_demo.ipynb'
    """
    nb = nbformat.from_dict(copy.deepcopy(dict(nb)))
    if nb.get("nbformat") != 4:
        raise BuildError(f"nbformat {nb.get('nbformat')} is not supported; {SAVE_IN_JUPYTERLAB}")
    _check_ids(nb.cells)
    cells = []
    for index, cell in enumerate(nb.cells):
        if not _is_solution_only(cell):
            with _located(f"cell {index} (id {cell.id!r})"):
                cells.append(_exercise_cell(cell))
    exercise = nbformat.v4.new_notebook(
        cells=cells, metadata=_exercise_metadata(nb.metadata, cells, generated_from)
    )
    exercise.nbformat_minor = nb.nbformat_minor
    try:
        nbformat.validate(exercise)
    except nbformat.ValidationError as err:
        raise BuildError(f"the exercise notebook would not be valid: {err.message}") from None
    return exercise


def render(nb) -> str:
    """The exact text of a notebook file: nbformat's JSON (sorted keys, indent 1) and one newline.

    Parameters
    ----------
    nb : NotebookNode
        A valid nbformat 4 notebook.

    Returns
    -------
    str
        Write it encoded as UTF-8, without newline translation.

    Examples
    --------
    >>> text = render(nbformat.v4.new_notebook())
    >>> text.startswith('{\\n "cells": []'), text.endswith('}\\n')
    (True, True)
    """
    return nbformat.writes(nb, version=4).rstrip("\n") + "\n"


def _parse_notebook(text: str) -> nbformat.NotebookNode:
    """Parse notebook JSON without nbformat's silent repairs (it would invent missing cell ids)."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as err:
        raise BuildError(f"not a notebook: invalid JSON ({err})") from None
    is_v4 = isinstance(raw, dict) and raw.get("nbformat") == 4
    if not (is_v4 and isinstance(raw.get("cells"), list)):
        raise BuildError(f"not an nbformat 4 notebook; {SAVE_IN_JUPYTERLAB}")
    return nbformat.v4.to_notebook_json(raw)


def read_notebook(path) -> nbformat.NotebookNode:
    """Read a notebook file as it is on disk: no upgrade, no invented or repaired cell ids.

    Parameters
    ----------
    path : path-like
        An ``.ipynb`` file in nbformat 4.

    Returns
    -------
    NotebookNode
        Sources and outputs as strings, as :func:`nbformat.read` gives them.

    Raises
    ------
    BuildError
        If the file is not JSON or not nbformat 4; the message names the file.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = Path(tmp) / "demo.ipynb"
    ...     _ = path.write_text(render(nbformat.v4.new_notebook()), encoding="utf-8")
    ...     read_notebook(path).nbformat
    4
    """
    with _located(str(path)):
        return _parse_notebook(Path(path).read_text(encoding="utf-8"))


# --- the exercises/ folder --------------------------------------------------------------------


def exercise_name(solution: str) -> str:
    """The file name of the exercise notebook built from a solution notebook's file name.

    ``NN_solutions_slug.ipynb`` gives ``NN_exercises_slug.ipynb``: the lesson's number first, so
    that the batch grader reads the lesson from it, and the folder's word next, where a tab
    that is too narrow for the whole name still shows it. Any other name is kept.

    Examples
    --------
    >>> exercise_name("04_solutions_temperature.ipynb")
    '04_exercises_temperature.ipynb'
    >>> exercise_name("01_demo.ipynb")
    '01_demo.ipynb'
    """
    stem, suffix = os.path.splitext(solution)
    if m := SOLUTIONS_NAME.match(stem):
        return f"{m['lesson']}_exercises_{m['slug']}{suffix}"
    return solution


EDITIONS = ("", "ko")
"""The course's editions: English at the top of ``solutions/`` and ``exercises/``, and one
subfolder per translation (``solutions/ko/`` builds ``exercises/ko/``)."""


@dataclass(frozen=True)
class _Plan:
    name: str
    data: bytes
    edition: str = ""

    @property
    def exercise(self) -> str:
        return _in_edition("exercises", self.edition, self.name)


def _in_edition(folder: str, edition: str, name: str) -> str:
    return f"{folder}/{edition}/{name}" if edition else f"{folder}/{name}"


def _plan(path: Path, edition: str = "") -> _Plan:
    """Read one solution notebook and render its exercise; errors name the solution notebook."""
    generated_from = _in_edition("solutions", edition, path.name)
    with _located(generated_from):
        nb = _parse_notebook(path.read_text(encoding="utf-8"))
        text = render(build_notebook(nb, generated_from=generated_from))
    return _Plan(exercise_name(path.name), text.encode("utf-8"), edition)


def _is_untouched(data: bytes) -> bool:
    """Whether an exercise notebook's cells still match its recorded ``content_sha256`` (then
    :func:`build` made it and nobody has edited it since)."""
    try:
        nb = _parse_notebook(data.decode("utf-8"))
    except (BuildError, UnicodeDecodeError):
        return False
    recorded = nb.metadata.get("softmax_course")
    if not isinstance(recorded, dict):
        return False
    return recorded.get("content_sha256") == content_sha256(nb.cells)


def _new_file_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_atomically(target, data: bytes) -> None:
    """Write ``data`` to a temporary file next to ``target``, then rename it over ``target``
    (keeping its permissions): a reader sees the old file or the new one, never half of one."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    mode = stat.S_IMODE(target.stat().st_mode) if target.exists() else _new_file_mode()
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _apply(plan: _Plan, root: Path, report: BuildReport, *, check: bool, force: bool) -> None:
    """Write one exercise notebook if it is out of date and safe to overwrite; record the result."""
    target = root / plan.exercise
    current = target.read_bytes() if target.exists() else None
    if current == plan.data:
        report.unchanged.append(plan.exercise)
    elif check:
        report.would_change.append(plan.exercise)
    elif current is not None and not force and not _is_untouched(current):
        report.refused.append(plan.exercise)
    else:
        write_atomically(target, plan.data)
        report.written.append(plan.exercise)


def build(root, *, check: bool = False, force: bool = False) -> BuildReport:
    """Regenerate ``exercises/NN_exercises_slug.ipynb`` from every
    ``solutions/NN_solutions_slug.ipynb`` (see :func:`exercise_name`), and the same in each
    translation's folder (``solutions/ko/`` to ``exercises/ko/``; see :data:`EDITIONS`), and delete
    the exercise notebooks it made that no solution notebook makes any more.

    Every solution notebook is built before anything is written, so a :class:`BuildError`
    leaves ``exercises/`` as it was. A file whose bytes would not change is not touched.

    Parameters
    ----------
    root : path-like
        The course root, holding ``solutions/`` and ``exercises/``.
    check : bool, default False
        Write and delete nothing; list missing and out-of-date exercise notebooks in
        ``would_change``, and those it would delete in ``removed``.
    force : bool, default False
        Overwrite exercise notebooks even when they hold edits (a learner's answers).

    Returns
    -------
    BuildReport
        What was written, left unchanged, refused (edited and out of date), would change
        (with ``check``), removed (made by build, untouched, no longer made by any solution
        notebook) and the orphans (other exercise notebooks without a solution notebook, such as
        a learner's work under an old name; never deleted).

    Raises
    ------
    BuildError
        If a solution notebook cannot be built; the message names it, the cell and the line.

    Examples
    --------
    >>> import tempfile
    >>> solution = nbformat.v4.new_notebook(cells=[
    ...     nbformat.v4.new_code_cell("### BEGIN SOLUTION\\nx = 1\\n### END SOLUTION", id="c1")])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     (Path(tmp) / "solutions").mkdir()
    ...     path = Path(tmp) / "solutions" / "01_solutions_demo.ipynb"
    ...     _ = path.write_text(render(solution), encoding="utf-8")
    ...     first, second = build(tmp), build(tmp)
    >>> first.written, second.unchanged, second.ok
    (['exercises/01_exercises_demo.ipynb'], ['exercises/01_exercises_demo.ipynb'], True)
    """
    root = Path(root)
    report = BuildReport(check=check)
    plans = []
    for edition in EDITIONS:
        solutions = sorted((root / "solutions" / edition).glob("*.ipynb"))
        made = [_plan(path, edition) for path in solutions]
        plans += made
        report.solutions += [_in_edition("solutions", edition, path.name) for path in solutions]
        names = {plan.name for plan in made}
        for path in sorted((root / "exercises" / edition).glob("*.ipynb")):
            if path.name not in names:
                owned = path.is_file() and _is_untouched(path.read_bytes())
                where = _in_edition("exercises", edition, path.name)
                (report.removed if owned else report.orphans).append(where)
    for plan in plans:
        _apply(plan, root, report, check=check, force=force)
    if not check:
        for path in report.removed:
            (root / path).unlink()
    return report
