"""The Korean edition (한국어판): every notebook has a Korean twin that runs the same code.

- completeness: each lesson, solution and exercise notebook has its twin under ``ko/``;
- structure: the same cells (types, ids, tags) in the same order;
- one source of truth for code: a Korean code cell is its English twin token for token, except
  comments, string literals a reader reads (a translated literal contains Hangul, and keeps the
  same ``{placeholders}``) and the notebook's language, ``set_language("ko")``;
- the numbers in the stored outputs are the English twin's numbers;
- terminology: each term of lesson 00's glossary appears, in Korean, in the lesson that introduces
  it, and no English term of the glossary is left in Korean prose (code, maths, links and the
  English given in parentheses aside).

The Korean notebooks are run by nbval like the English ones (pytest collects ``notebooks/ko/``,
``solutions/ko/`` and ``exercises/ko/``), the lessons and solutions as on another machine:
numpy's SIMD kernels off, one BLAS thread (``conftest.py``; tested at the end of this file).
"""

from __future__ import annotations

import io
import re
from collections import Counter
import string
import sys
import tokenize
from pathlib import Path

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager

ROOT = Path(__file__).resolve().parents[1]
FOLDERS = ("notebooks", "solutions", "exercises")
HANGUL = re.compile(r"[\uac00-\ud7a3\u3131-\u318e]")
# ASCII boundaries: a number may be followed by a Korean particle (1e-8까지, 쿼리 3의)
NUMBER = re.compile(r"(?<![A-Za-z0-9_.])[-+−]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?(?![A-Za-z0-9_])")


def english_notebooks():
    return sorted(p.relative_to(ROOT).as_posix() for folder in FOLDERS
                  for p in (ROOT / folder).glob("*.ipynb"))


def twin(path: str) -> str:
    folder, name = path.split("/", 1)
    return f"{folder}/ko/{name}"


def read(path: str):
    return nbformat.read(ROOT / path, as_version=4)


PAIRS = [(en, twin(en)) for en in english_notebooks()]
IDS = [en for en, _ in PAIRS]


def test_every_notebook_has_a_korean_twin_and_nothing_else_is_in_ko():
    missing = [ko for _, ko in PAIRS if not (ROOT / ko).is_file()]
    assert not missing, f"no Korean twin: {missing}"
    twins = {ko for _, ko in PAIRS}
    extra = sorted(p.relative_to(ROOT).as_posix() for folder in FOLDERS
                   for p in (ROOT / folder / "ko").glob("*.ipynb")
                   if p.relative_to(ROOT).as_posix() not in twins)
    assert not extra, f"Korean notebooks without an English twin: {extra}"


@pytest.fixture(params=PAIRS, ids=IDS)
def pair(request):
    en, ko = request.param
    if not (ROOT / ko).is_file():
        pytest.fail(f"{ko} is missing")
    return en, read(en), ko, read(ko)


def test_the_same_cells_in_the_same_order(pair):
    en, nb_en, ko, nb_ko = pair
    assert len(nb_ko.cells) == len(nb_en.cells), f"{ko}: {len(nb_ko.cells)} cells, {en} has {len(nb_en.cells)}"
    for i, (a, b) in enumerate(zip(nb_en.cells, nb_ko.cells)):
        assert (b.cell_type, b.get("id")) == (a.cell_type, a.get("id")), f"{ko}, cell {i}"
        assert b.metadata == a.metadata, f"{ko}, cell {i} ({b.get('id')}): metadata differs"
    def kernel(metadata):  # build's record (its source, its hash) is each notebook's own
        return {k: v for k, v in metadata.items() if k != "softmax_course"}
    assert kernel(nb_ko.metadata) == kernel(nb_en.metadata), f"{ko}: notebook metadata differs from {en}'s"


# --- code: the same tokens ------------------------------------------------------------------


def _tokens(source: str):
    """The cell's Python tokens (magics turned into Python first), without comments."""
    python = TransformerManager().transform_cell(source)
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.ENCODING}
    return [t for t in tokenize.generate_tokens(io.StringIO(python).readline) if t.type not in skip]


_STRING_TYPES = {tokenize.STRING} | ({tokenize.FSTRING_MIDDLE} if sys.version_info >= (3, 12) else set())


def _fields(literal: str):
    """The ``{placeholders}`` of a string literal, in order (with their format specs); text
    quoted inside a placeholder (``{'yes' if ok else 'no'}``) is text, and may be translated."""
    literal = re.sub(r"'[^'{}]*'|\"[^\"{}]*\"", "''", literal) if "f" in _prefix(literal) else literal
    try:
        return [(name, spec, conv) for _, name, spec, conv in string.Formatter().parse(literal)
                if name is not None]
    except ValueError:  # braces that are no format fields (LaTeX): compare them as they are
        return re.findall(r"\{[^{}]*\}", literal)


def _placeholders(tokens, i):
    """What a string literal leaves to be filled: ``%`` specs where ``%`` formats it, and
    ``{fields}`` where it is an f-string or formatted with ``.format`` (elsewhere braces and
    percent signs are text: LaTeX, "95% interval")."""
    literal = tokens[i].string
    percent = i + 1 < len(tokens) and tokens[i + 1].string == "%"
    specs = re.findall(r"%[-+ #0]*\d*(?:\.\d+)?[sdifgeExXr%]", literal) if percent else None
    formatted = "f" in _prefix(literal) or [t.string for t in tokens[i + 1:i + 3]] == [".", "format"]
    return specs, (_fields(literal) if formatted else None)


def _prefix(literal: str) -> str:
    return re.match(r"[A-Za-z]*", literal).group().lower()


# a literal the program itself uses: translating it changes what the code does
NAME_CALLS = {"check", "get_exercise", "set_language", "getattr", "setattr", "hasattr"}
NAME_KEYWORDS = {"dtype", "axis", "dim", "mode", "method", "kind", "reduction", "ha", "va", "loc",
                 "color", "c", "marker", "linestyle", "ls", "cmap", "norm", "layout", "style",
                 "name", "key", "lang", "orientation", "interpolation", "aspect", "origin"}


def _enclosing_call(tokens, i):
    depth = 0
    for k in range(i - 1, 0, -1):
        s = tokens[k].string
        if s in ")]}":
            depth += 1
        elif s in "([{":
            if depth == 0:
                return tokens[k - 1].string if s == "(" else s
            depth -= 1
    return None


def _is_text(tokens, i) -> bool:
    """Whether the literal at ``tokens[i]`` is text a reader reads rather than a name the
    program uses: not an exercise's name, a subscript, a dictionary key, a compared value or an
    option such as ``dtype=`` (translating those would change what the code does)."""
    before = tokens[i - 1].string if i else ""
    after = tokens[i + 1].string if i + 1 < len(tokens) else ""
    if before in ("==", "!=", "in", "is") or after in ("==", "!=", ":") and _enclosing_call(tokens, i) == "{":
        return False
    if before == "[" and i >= 2 and tokens[i - 2].type in (tokenize.NAME, tokenize.OP) and \
            tokens[i - 2].string not in ("=", "(", ",", "[", "return", "in"):
        return False  # x["key"]
    if before == "=" and i >= 2 and tokens[i - 2].string in NAME_KEYWORDS:
        return False
    if _enclosing_call(tokens, i) in NAME_CALLS and before == "(":
        return False
    return True


def code_differences(en: str, ko: str) -> list[str]:
    r"""Why the Korean cell's code is not its English twin's (empty when it is).

    >>> code_differences('print("sum =", s)  # sum', 'print("합 =", s)  # 합')
    []
    >>> code_differences('plt.plot(x, label="logits")', 'plt.plot(x, label="로짓")')
    []
    >>> code_differences('print(n, "of", m, "rows")', 'print(n, "개 (전체", m, "개 중)")')
    []
    >>> code_differences('d["before"] = 1', 'd["이전"] = 1')
    ['line 1: \'"before"\' became \'"이전"\': a name the program uses stays as it is']
    >>> code_differences('check("softmax", f)', 'check("소프트맥스", f)')
    ['line 1: \'"softmax"\' became \'"소프트맥스"\': a name the program uses stays as it is']
    >>> code_differences('print(f"ECE = {e:.3f}")', 'print(f"ECE(기대 보정 오차) = {e:.2f}")')
    ['line 1: the placeholders of \'f"ECE = {e:.3f}"\' changed in \'f"ECE(기대 보정 오차) = {e:.2f}"\'']
    >>> code_differences('x = 1', 'x = 2')
    ["line 1: '2' where English has '1'"]
    """
    a, b = _tokens(en), _tokens(ko)
    problems = []
    for i, (x, y) in enumerate(zip(a, b)):
        if x.type == y.type and x.string == y.string:
            continue
        if x.type != y.type or x.type not in _STRING_TYPES:
            problems.append(f"line {y.start[0]}: {y.string!r} where English has {x.string!r}")
        elif (x.string, y.string) == ('"en"', '"ko"') and i >= 2 and a[i - 2].string == "set_language":
            continue
        elif x.string.split() == y.string.split():
            continue  # text realigned (a table's columns)
        elif not HANGUL.search(y.string) or not _is_text(a, i):
            problems.append(f"line {y.start[0]}: {x.string!r} became {y.string!r}: a name the "
                            f"program uses stays as it is")
        elif x.type == tokenize.STRING and set(_prefix(x.string)) & set("fb") != set(_prefix(y.string)) & set("fb"):
            problems.append(f"line {y.start[0]}: the prefix of {x.string!r} changed in {y.string!r}")
        elif _placeholders(a, i) != _placeholders(b, i):
            problems.append(f"line {y.start[0]}: the placeholders of {x.string!r} changed "
                            f"in {y.string!r}")
    if len(a) != len(b):
        problems.append(f"{len(b)} tokens, English has {len(a)}")
    return problems


def test_korean_code_is_the_english_code(pair):
    en, nb_en, ko, nb_ko = pair
    problems = []
    for i, (a, b) in enumerate(zip(nb_en.cells, nb_ko.cells)):
        if a.cell_type == "code" == b.cell_type:
            problems += [f"cell {i} ({b.get('id')}), {p}" for p in code_differences(a.source, b.source)]
    assert not problems, f"{ko} differs from {en} in its code:\n" + "\n".join(problems)


def test_a_korean_notebook_says_it_is_korean(pair):
    en, nb_en, ko, nb_ko = pair
    code = [c.source for c in nb_ko.cells if c.cell_type == "code"]
    if any('set_language("en")' in c for c in nb_en.cells if c.cell_type == "code" for c in [c.source]):
        assert 'set_language("ko")' in code[0], f"{ko}: its first code cell must set_language(\"ko\")"


# --- outputs: the same numbers ---------------------------------------------------------------


def _merged(outputs) -> list:
    """The outputs with consecutive writes to one stream joined (how a kernel splits a stream
    into outputs depends on timing, not on the code)."""
    merged = []
    for out in outputs:
        if (out.output_type == "stream" and merged and merged[-1].output_type == "stream"
                and merged[-1].name == out.name):
            merged[-1] = nbformat.from_dict({**merged[-1], "text": merged[-1].text + out.text})
        else:
            merged.append(out)
    return merged


def _output_text(output) -> str:
    if output.output_type == "stream":
        return output.text
    if output.output_type == "error":
        return "\n".join(output.traceback)
    data = output.get("data", {})
    for kind in ("text/markdown", "text/latex", "text/plain"):
        if kind in data:
            return data[kind]
    return ""


def numbers(text: str) -> list[str]:
    """The numbers a text shows, in order.

    >>> numbers("p = [0.09003057 0.24472847 0.66524096], 합: 1.0 (float64)")
    ['0.09003057', '0.24472847', '0.66524096', '1.0']
    >>> numbers("1e-8까지 같음, 쿼리 3의 출력")
    ['1e-8', '3']
    """
    return [n.replace("−", "-") for n in NUMBER.findall(text)]


def test_the_outputs_show_the_same_numbers(pair):
    en, nb_en, ko, nb_ko = pair
    problems = []
    for i, (a, b) in enumerate(zip(nb_en.cells, nb_ko.cells)):
        if a.cell_type != "code" or b.cell_type != "code":
            continue
        outs_a, outs_b = _merged(a.get("outputs", [])), _merged(b.get("outputs", []))
        kinds_a = [o.output_type for o in outs_a]
        kinds_b = [o.output_type for o in outs_b]
        if kinds_a != kinds_b:
            problems.append(f"cell {i} ({b.get('id')}): outputs {kinds_b}, English has {kinds_a}")
            continue
        for x, y in zip(outs_a, outs_b):
            # the same numbers; Korean word order may put them in another order within an output
            en_numbers, ko_numbers = numbers(_output_text(x)), numbers(_output_text(y))
            if sorted(en_numbers) != sorted(ko_numbers):
                missing = list((Counter(en_numbers) - Counter(ko_numbers)).elements())
                extra = list((Counter(ko_numbers) - Counter(en_numbers)).elements())
                problems.append(f"cell {i} ({b.get('id')}): English numbers missing {missing[:8]}, "
                                f"numbers English does not show {extra[:8]}")
    assert not problems, f"{ko}'s outputs differ from {en}'s:\n" + "\n".join(problems)


# --- terminology -------------------------------------------------------------------------------


def glossary():
    """Lesson 00's Korean glossary: (Korean term, English term, lesson) per row."""
    nb = read("notebooks/ko/00_start_here.ipynb")
    rows = []
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            cols = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cols) >= 4 and re.fullmatch(r"\d\d", cols[-1]) and HANGUL.search(cols[0]):
                rows.append((cols[0], cols[1], cols[-1]))
    return rows


def _korean_forms(cell: str) -> list[str]:
    """The Korean spellings a glossary cell allows: ``최댓값 빼기 기법 (맥스 트릭)`` gives both."""
    forms = [f.strip() for f in re.split(r"[(),/]| 또는 ", cell) if HANGUL.search(f)]
    return forms


def _prose(markdown: str) -> str:
    """Markdown with code, maths, links' targets, HTML tags and parentheses taken out."""
    text = re.sub(r"[A-Za-z_]+(?=[($])", " ", markdown)      # formulas: softmax(z / τ)
    text = re.sub(r"```.*?```", " ", text, flags=re.S)
    text = re.sub(r"`[^`]*`", " ", text)
    text = re.sub(r"\$\$.*?\$\$", " ", text, flags=re.S)
    text = re.sub(r"\$[^$]*\$", " ", text)
    text = re.sub(r"\]\([^)]*\)", "]", text)
    text = re.sub(r"https?://\S+", " ", text)
    text = re.sub(r"<[^>]+>", " ", text)
    text = re.sub(r"\*[^*]*→[^*]*\*", " ", text)          # a menu path: *Kernel → Restart …*
    while re.search(r"\([^()]*\)", text):                    # the English in parentheses
        text = re.sub(r"\([^()]*\)", " ", text)
    return text


REFERENCES = "## 참고 문헌"
GLOSSARY_HEADER = "| 한국어 | English |"


def _lesson_notebook(lesson: str):
    found = sorted((ROOT / "notebooks" / "ko").glob(f"{lesson}_*.ipynb"))
    return found[0] if found else None


def test_the_glossary_is_korean_first_and_complete():
    rows = glossary()
    assert len(rows) >= 45, f"lesson 00's Korean glossary has {len(rows)} terms"
    english = read("notebooks/00_start_here.ipynb")
    en_terms = set()
    for cell in english.cells:
        for line in cell.source.splitlines() if cell.cell_type == "markdown" else []:
            cols = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cols) >= 4 and re.fullmatch(r"\d\d", cols[-1]):
                en_terms.add(cols[0])
    missing = en_terms - {en for _, en, _ in rows}
    assert not missing, f"terms of the English glossary missing from the Korean one: {missing}"


def test_each_glossary_term_is_used_in_its_lesson():
    unused = []
    for ko, en, lesson in glossary():
        path = _lesson_notebook(lesson)
        if path is None:
            unused.append(f"{ko} ({en}): no Korean lesson {lesson}")
            continue
        text = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells
                         if c.cell_type == "markdown")
        if not any(form in text for form in _korean_forms(ko)):
            unused.append(f"{ko} ({en}) is not in {path.relative_to(ROOT)}")
    assert not unused, "glossary terms not used where they are introduced:\n" + "\n".join(unused)


def test_no_english_glossary_term_is_left_in_korean_prose():
    terms = []
    for ko, en, _ in glossary():
        if re.search(r"[A-Za-z]", ko):     # the Korean term itself is English (NaN, argmax)
            continue
        for term in re.split(r",\s*|\s+\(", en):
            term = term.strip(" ()*")
            if len(term) > 2 and not term.startswith("$") and term.upper() != term:
                terms.append(term)
    pattern = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, sorted(terms, key=len, reverse=True)))
                         + r")s?(?![\w-])", re.I)
    left = []
    for folder in ("notebooks", "solutions"):
        for path in sorted((ROOT / folder / "ko").glob("*.ipynb")):
            for i, cell in enumerate(nbformat.read(path, as_version=4).cells):
                if (cell.cell_type != "markdown" or cell.source.startswith(REFERENCES)
                        or GLOSSARY_HEADER in cell.source):
                    continue  # the references keep their English titles; the glossary its terms
                for m in pattern.finditer(_prose(cell.source)):
                    left.append(f"{path.relative_to(ROOT)}, cell {i}: {m.group()!r}")
    assert not left, "English glossary terms in Korean prose (translate them):\n" + "\n".join(left)


# --- README.ko.md --------------------------------------------------------------------------


def test_the_korean_readme_gives_the_same_two_commands():
    from readme_commands import marked_block

    korean = (ROOT / "README.ko.md").read_text(encoding="utf-8")
    assert marked_block("test-command-ko", korean) == marked_block("test-command")
    assert marked_block("start-command-ko", korean) == marked_block("start-command") + " --lang ko"


def test_the_korean_readme_links_files_that_exist():
    korean = (ROOT / "README.ko.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)#\s]+)\)", korean)
    assert len(targets) >= 20
    missing = [t for t in targets if not t.startswith("http") and not (ROOT / t).exists()]
    assert not missing, f"README.ko.md links files that do not exist: {missing}"


# --- the translations run as on another machine (conftest.py) -----------------------------------

def _root_conftest():
    import importlib.util

    spec = importlib.util.spec_from_file_location("course_root_conftest", ROOT / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_another_machine_switches_off_every_simd_kernel_this_cpu_has():
    """A fresh Python given the environment nbval starts a Korean notebook's kernel with runs
    numpy's baseline kernels only (no dispatch target left on), without a warning, with one BLAS
    thread; OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are not touched."""
    import json
    import os
    import subprocess

    env = _root_conftest().another_machine()
    assert env["OPENBLAS_NUM_THREADS"] == env["OMP_NUM_THREADS"] == "1"
    assert not {"OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"} & set(env)
    probe = ("import json, warnings\nwarnings.simplefilter('error')\nimport numpy\n"
             "try:\n    from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__\n"
             "except ImportError:\n    from numpy.core._multiarray_umath import __cpu_dispatch__, __cpu_features__\n"
             "print(json.dumps([f for f in __cpu_dispatch__ if __cpu_features__.get(f)]))")
    native = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True)  # as this process runs (maybe emulated already)
    emulated = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                              check=True, env={**os.environ, **env})
    assert json.loads(emulated.stdout) == [], emulated.stdout
    assert emulated.stderr == ""
    if json.loads(native.stdout):  # SIMD kernels on here: the emulation turns them off
        assert env["NPY_DISABLE_CPU_FEATURES"].split() == json.loads(native.stdout)
    else:  # none left on (an emulated run, a baseline-only CPU): nothing more to switch off
        assert "NPY_DISABLE_CPU_FEATURES" not in env


def test_nbval_starts_translated_kernels_as_on_another_machine(monkeypatch):
    """conftest.py gives the emulated environment to the kernel of a notebook in ``ko/`` (nbval
    starts it in the collector's setup) and to no other; the test process's own environment is
    as it was afterwards."""
    conftest = _root_conftest()
    monkeypatch.setattr(conftest, "another_machine", lambda: {"NPY_DISABLE_CPU_FEATURES": "X",
                                                              "OPENBLAS_NUM_THREADS": "1"})
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "7")
    monkeypatch.delenv("NPY_DISABLE_CPU_FEATURES", raising=False)

    class IPyNbFile:  # what nbval's collector is named; setup() is where it starts the kernel
        def __init__(self, path):
            self.path, self.seen = ROOT / path, None

        def setup(self):
            import os
            self.seen = (os.environ.get("NPY_DISABLE_CPU_FEATURES"),
                         os.environ.get("OPENBLAS_NUM_THREADS"))

    seen = {}
    for path in ("notebooks/ko/05_classification_calibration.ipynb",
                 "solutions/ko/01_solutions_definition.ipynb",
                 "notebooks/05_classification_calibration.ipynb",
                 "solutions/01_solutions_definition.ipynb"):
        nb = IPyNbFile(path)
        conftest.pytest_collectstart(nb)
        nb.setup()
        seen[path] = nb.seen
    import os
    assert seen == {"notebooks/ko/05_classification_calibration.ipynb": ("X", "1"),
                    "solutions/ko/01_solutions_definition.ipynb": ("X", "1"),
                    "notebooks/05_classification_calibration.ipynb": (None, "7"),
                    "solutions/01_solutions_definition.ipynb": (None, "7")}
    assert "NPY_DISABLE_CPU_FEATURES" not in os.environ and os.environ["OPENBLAS_NUM_THREADS"] == "7"
