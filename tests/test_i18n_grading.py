"""Korean feedback where the learner and the instructor meet it: a Korean exercise notebook's own
``check`` cells, ``softmax-course check --lang``, and ``softmax-course grade`` with and without
``--lang`` (each submission in its own language; a hostile one cannot change another's).

These run real kernels (a notebook with nbclient; the grader's sandboxes), a minute or so in all.
"""

import copy
import html
import json
import os
import re
import subprocess
from pathlib import Path

import nbformat
import pytest

from course_lib import cli
from course_lib.batch.notebook import notebook_language
from course_lib.i18n import gettext as translate

ROOT = Path(__file__).resolve().parents[1]
SOLUTION = ROOT / "solutions" / "01_solutions_definition.ipynb"
HANGUL = re.compile(r"[\uac00-\ud7a3]")
NO_MAX_TRICK = '''def softmax(z):
    e = np.exp(np.asarray(z, dtype=float))  # no max trick: overflows for large logits
    return e / e.sum()
'''


def _solution():
    return nbformat.read(SOLUTION, as_version=4)


def _cell(nb, cell_id):
    return next(c for c in nb.cells if c.get("id") == cell_id)


def _korean(nb):
    """``nb`` with its first code cell's ``set_language("en")`` changed to ``"ko"``."""
    nb = copy.deepcopy(nb)
    setup = _cell(nb, "setup")
    assert 'set_language("en")' in setup.source
    setup.source = setup.source.replace('set_language("en")', 'set_language("ko")')
    return nb


def _broken(nb):
    """``nb`` with its softmax replaced by one without the max trick."""
    nb = copy.deepcopy(nb)
    _cell(nb, "softmax-code").source = NO_MAX_TRICK
    return nb


def _softmax_only(nb, *, setup=None, extra=()):
    """The setup and the softmax cells of ``nb`` (a quick submission), with ``extra`` cells."""
    nb = copy.deepcopy(nb)
    nb.cells = [c for c in nb.cells if c.get("id") in ("setup", "softmax-code", "softmax-check")]
    if setup is not None:
        _cell(nb, "setup").source = setup
    nb.cells[1:1] = [nbformat.v4.new_code_cell(s) for s in extra]
    return nb


def _outputs(cell, mime):
    return "".join(o.get("data", {}).get(mime, "") for o in cell.outputs
                   if o.output_type in ("display_data", "execute_result"))


# --- (f) a Korean exercise notebook, out of the box ----------------------------------------------
def test_a_korean_notebook_gets_korean_check_output_out_of_the_box(tmp_path):
    from nbclient import NotebookClient

    from course_lib.execute import KERNEL_NAME, kernel_manager

    nb = _broken(_korean(_solution()))
    env = {k: v for k, v in os.environ.items() if k not in ("SOFTMAX_COURSE_LANG", "JPY_SESSION_NAME")}
    NotebookClient(nb, km=kernel_manager(), timeout=120, kernel_name=KERNEL_NAME,
                   resources={"metadata": {"path": str(tmp_path)}}).execute(
        env={**env, "PYTHONHASHSEED": "0"}, stderr=subprocess.DEVNULL)
    check_cell = _cell(nb, "softmax-check")
    text, page = _outputs(check_cell, "text/plain"), _outputs(check_cell, "text/html")
    assert text.startswith("✗ softmax: 테스트 10개 중 7개를 통과했습니다 (1.4 / 2점)"), text
    assert f"예상되는 실수, {translate('no max trick', 'ko')}:" in text
    assert "숫자가 나와야 할 자리에 nan이 나왔습니다" in text and "Failed tests" not in text
    assert "z = [1000, 0, 0]" in text and "[nan, 0, 0]" in text
    # the HTML keeps its structure with Hangul in it: one block, the verdict, a list of failures
    assert page.startswith('<div style="border-left:4px solid') and page.endswith("</div>")
    assert page.count("<div") == page.count("</div>") and page.count("<li>") == 3
    assert html.escape("✗ softmax: 테스트 10개 중 7개를 통과했습니다 (1.4 / 2점)") in page
    assert "<pre style=\"margin:0 0 0 1em\">기댓값 [1, 0, 0]\n결과   [nan, 0, 0]</pre>" in page
    # the checks that pass say so in Korean too
    assert _outputs(_cell(nb, "jacobian-check"), "text/plain").startswith(
        "✓ softmax_jacobian: 테스트")


# --- the language of a submission, read without running it -----------------------------------------
@pytest.mark.parametrize("sources, path, lang", [
    (['set_language("ko")'], "a.ipynb", "ko"),
    (["from course_lib.i18n import set_language as s\nimport course_lib.i18n as i\n"
      "i.set_language('ko')"], "a.ipynb", "ko"),
    (["lang = 'ko'\nset_language(lang)", 'set_language("en")'], "ko/a.ipynb", "en"),
    (["set_language('k' + 'o')", "set_language(*['ko'])"], "a.ipynb", "en"),
    (["set_language('fr')", "%matplotlib inline\n!ls\nset_language('ko')"], "a.ipynb", "ko"),
    (["def f(:\n  set_language('ko')"], "a.ipynb", "en"),  # not Python: ignored
    (["x = 1"], "class/ko/alice.ipynb", "ko"),
    (["set_language(lang='ko')", "set_language('en')"], "a.ipynb", "ko"),
    (["set_language(**{'lang': 'ko'})"], "a.ipynb", "en"),
    (["x = 1"], "ko.ipynb", "en"),
    (["# set_language('ko') in a comment", "s = \"set_language('ko')\""], "a.ipynb", "en"),
])
def test_the_language_is_read_from_the_first_literal_call_then_the_path(sources, path, lang):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    assert notebook_language(nb, path) == lang


def test_markdown_cells_do_not_choose_the_language():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell('set_language("ko")'),
                                         nbformat.v4.new_code_cell('set_language("en")')])
    assert notebook_language(nb) == "en"


# --- (g) the batch grader ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """One English, one Korean and one hostile submission, graded together without --lang."""
    folder = tmp_path_factory.mktemp("submissions")
    english = _softmax_only(_broken(_solution()))
    korean = _korean(english)
    korean.cells.append(nbformat.v4.new_code_cell("1 / 0"))  # a cell error, said in Korean
    hostile = _softmax_only(_broken(_solution()), extra=[
        # it says English where the grader reads it, then tries to turn every kernel Korean
        "import os\n"
        "os.environ['SOFTMAX_COURSE_LANG'] = 'ko'\n"
        "from course_lib.i18n import set_language\n"
        "set_language('k' + 'o')\n"
        "open(os.path.expanduser('~/SOFTMAX_COURSE_LANG'), 'w').write('ko')"])
    for name, nb in (("01_english", english), ("01_korean", korean), ("01_hostile", hostile)):
        (folder / f"{name}.ipynb").write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
    out = tmp_path_factory.mktemp("out")
    status = cli.main(["grade", str(folder), "--out", str(out), "--jobs", "2", "--timeout", "30",
                       "--exercise", "softmax", "--seed", "7"])
    assert status == 0
    pages = {p.stem: p.read_text(encoding="utf-8") for p in (out / "feedback").glob("*.html")}
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    return folder, out, pages, {s["id"]: s for s in results["submissions"]}


def test_each_submission_gets_feedback_in_its_own_language(batch):
    _folder, _out, pages, entries = batch
    assert {i: e["lang"] for i, e in entries.items()} == {
        "01_english": "en", "01_korean": "ko", "01_hostile": "en"}
    res = entries["01_korean"]["exercises"]["softmax"]
    n, passed, score = res["n_tests"], res["n_passed"], res["score"]
    assert n > 10 and 0 < passed < n  # public and hidden tests, the large-logit ones failed
    korean = pages["01_korean"]
    assert '<html lang="ko">' in korean and "<title>피드백: 01_korean</title>" in korean
    assert f"<b>{score:g} / 2점</b>" in korean
    assert f"✗ softmax: 테스트 {n}개 중 {passed}개를 통과했습니다 ({score:g} / 2점)" in korean
    assert html.escape(translate("no max trick", "ko")) in korean
    assert "숨은 테스트" in korean and "Each exercise" not in korean
    assert "<h2>노트북을 실행하는 동안</h2>" in korean
    assert "<li>셀 [4]: ZeroDivisionError: division by zero</li>" in korean
    for name in ("01_english", "01_hostile"):
        page = pages[name]
        assert '<html lang="en">' in page and not HANGUL.search(page), name
        assert "<h1>Feedback: " in page and f"{passed} of {n} tests passed" in page
        assert "Likely mistake, no max trick:" in page


def test_the_same_answer_scores_the_same_in_every_language(batch):
    _folder, _out, _pages, entries = batch
    scores = {i: (e["score"], e["exercises"]["softmax"]["n_passed"],
                  [m["name"] for m in e["exercises"]["softmax"]["mistakes"]])
              for i, e in entries.items()}
    assert len(set(map(str, scores.values()))) == 1, scores
    # the gradebook's machine-readable names stay English whatever the language
    assert entries["01_korean"]["status"] == "graded"
    assert entries["01_korean"]["exercises"]["softmax"]["mistakes"][0]["name"] == "no max trick"


def test_the_gradebook_columns_stay_the_same(batch):
    _folder, out, _pages, _entries = batch
    header = (out / "grades.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == "id,softmax,total,max,status,notes"


def test_grade_with_lang_ko_writes_korean_pages_and_summary(batch, tmp_path, capsys):
    folder, _out, _pages, _entries = batch
    out = tmp_path / "out"
    status = cli.main(["grade", str(folder / "01_english.ipynb"), "--out", str(out), "--lang",
                       "ko", "--timeout", "30", "--exercise", "softmax", "--seed", "7"])
    assert status == 0
    printed = capsys.readouterr().out
    assert "제출물 1개 중 1개를 채점했습니다" in printed and "연습 문제별 평균 점수:" in printed
    page = (out / "feedback" / "01_english.html").read_text(encoding="utf-8")
    entry = json.loads((out / "results.json").read_text(encoding="utf-8"))["submissions"][0]
    res = entry["exercises"]["softmax"]
    assert entry["lang"] == "ko" and res["score"] == _entries["01_english"]["score"]
    assert '<html lang="ko">' in page
    assert f"테스트 {res['n_tests']}개 중 {res['n_passed']}개를 통과했습니다" in page
    assert "Likely mistake" not in page and "Feedback" not in page


def test_check_with_lang_prints_korean(batch, capsys):
    folder, _out, _pages, _entries = batch
    status = cli.main(["check", str(folder / "01_english.ipynb"), "--lang", "ko", "--timeout",
                       "30", "--seed", "7", "--verbose"])
    printed = capsys.readouterr().out
    assert status == 1
    assert ": 채점됨, " in printed.splitlines()[0]
    assert "예상되는 실수: " in printed and "숫자가 나와야 할 자리에 nan이 나왔습니다" in printed
    assert "합계" in printed


def test_cli_errors_follow_the_chosen_language(tmp_path, capsys):
    assert cli.main(["check", str(tmp_path / "missing.ipynb"), "--lang", "ko"]) == 2
    assert "softmax-course: 오류: 파일이 없습니다: " in capsys.readouterr().err
    assert cli.main(["grade", str(tmp_path), "--out", str(tmp_path / "o"), "--lang", "ko"]) == 2
    assert "에서 제출물을 찾지 못했습니다" in capsys.readouterr().err
    assert cli.main(["grade", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    assert "softmax-course: error: no submissions found in " in capsys.readouterr().err
