"""The Korean catalog is complete and right, and ``check`` speaks Korean when asked.

(a)-(d) read the whole catalog and the whole source, so they catch a message added anywhere
later (a lesson's mistakes, a widget's label): extracted afresh with Babel's own API, every
message must be in ``course_lib.po``, translated (not empty, not fuzzy), with the same
``{named}`` placeholders and ``%`` specs, and the committed ``.mo`` must hold exactly the
``.po``'s translations. (e) checks a wrong softmax in Korean against the same in English.
"""

import gettext
import html.parser
import re
import string
from pathlib import Path

import numpy as np
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from course_lib.grading import check
from course_lib.i18n import DOMAIN, gettext as translate

ROOT = Path(__file__).resolve().parents[1]
LOCALE = ROOT / "course_lib" / "locale"
PO = LOCALE / "ko" / "LC_MESSAGES" / f"{DOMAIN}.po"
MO = PO.with_suffix(".mo")
# the keywords of course_lib/locale/README.md's `pybabel extract -k N_ -k _ -k gettext -k ngettext:1,2`
KEYWORDS = {"N_": None, "_": None, "gettext": None, "ngettext": (1, 2)}
HANGUL = re.compile(r"[\uac00-\ud7a3]")


def _catalog():
    with PO.open("rb") as f:
        return read_po(f, locale="ko", domain=DOMAIN)


def _extracted() -> dict:
    """msgid (a str, or the (singular, plural) pair) -> where, from the source as it is now."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f)
    found = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS, comment_tags=()):
        found.setdefault(message, f"{filename}:{lineno}")
    return found


def _ids(message) -> tuple:
    return message if isinstance(message, tuple) else (message,)


def test_the_source_has_messages_to_translate():
    found = _extracted()
    assert len(found) > 100, "extraction found too few messages: is babel.cfg read?"
    assert "nan where a number was expected" in found
    assert any(where.startswith("course_lib/exercises/mistakes.py") for where in found.values())


def test_every_message_of_the_source_is_in_the_korean_catalog():
    catalog = _catalog()
    missing = [f"{where}: {message!r}" for message, where in _extracted().items()
               if catalog.get(_ids(message)[0]) is None]
    assert not missing, (f"{len(missing)} messages of the source are not in {PO.name}; run the "
                         "extract and update of course_lib/locale/README.md, then translate "
                         "them:\n" + "\n".join(missing))


def test_every_message_has_a_korean_translation():
    untranslated = []
    for m in _catalog():
        if not m.id:
            continue
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        if m.fuzzy or not all(s and s.strip() for s in strings):
            untranslated.append(("fuzzy " if m.fuzzy else "") + repr(m.id))
    assert not untranslated, (f"{len(untranslated)} messages have no Korean translation (or a "
                              f"fuzzy one) in {PO.name}:\n" + "\n".join(untranslated))


def _placeholders(text) -> tuple:
    """The ``{named}`` fields of ``text`` (a set) and its ``%`` specs (sorted)."""
    names = set()
    for _literal, field, _spec, _conversion in string.Formatter().parse(text):
        if field is not None:
            names.add(field)
    percent = sorted(re.findall(r"%\(\w+\)[#0 +-]*\d*(?:\.\d+)?[diouxXeEfFgGcrs]"
                                r"|%[#0 +-]*\d*(?:\.\d+)?[diouxXeEfFgGcrs]", text))
    return names, percent


def test_placeholders_are_the_same_in_english_and_korean():
    wrong = []
    for m in _catalog():
        if not m.id:
            continue
        ids = _ids(m.id)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        try:
            english = [_placeholders(i) for i in ids]
        except ValueError as exc:
            wrong.append(f"{m.id!r}: the English is not a format string ({exc})")
            continue
        # Korean has one form for every n: it must hold the plural's placeholders
        want = english[-1]
        if english[0][0] - want[0]:
            wrong.append(f"{m.id!r}: the plural lacks {english[0][0] - want[0]}")
        for s in strings:
            if not s:
                continue  # the translation test lists it
            try:
                got = _placeholders(s)
            except ValueError as exc:
                wrong.append(f"{m.id!r}: the Korean is not a format string ({exc}): {s!r}")
                continue
            if got != want:
                wrong.append(f"{m.id!r}: English has {sorted(want[0])} {want[1]}, Korean "
                             f"{sorted(got[0])} {got[1]}: {s!r}")
            positional = [n for n in got[0] if not n.isidentifier()]
            if positional:
                wrong.append(f"{m.id!r}: unnamed or indexed placeholders {positional}")
    assert not wrong, "placeholders differ:\n" + "\n".join(wrong)


def test_the_committed_mo_holds_exactly_the_po(tmp_path):
    compiled = tmp_path / f"{DOMAIN}.mo"
    with compiled.open("wb") as f:
        write_mo(f, _catalog())
    with compiled.open("rb") as f:
        fresh = gettext.GNUTranslations(f)._catalog
    with MO.open("rb") as f:
        committed = gettext.GNUTranslations(f)._catalog
    stale = sorted(set(fresh.items()) ^ set(committed.items()), key=str)
    assert not stale, (f"{MO.name} differs from {PO.name} (run `pybabel compile` of "
                       "course_lib/locale/README.md):\n" + "\n".join(map(repr, stale[:20])))


# --- (e) check() in Korean -----------------------------------------------------------------------
def no_max_trick(z):
    e = np.exp(np.asarray(z, dtype=float))
    return e / e.sum()


def in_place(z):
    z = np.asarray(z, dtype=float)
    z -= z.max()  # changes the caller's float array
    e = np.exp(z)
    return e / e.sum()


def unfinished(z):
    raise NotImplementedError("write softmax here")


def _numbers(text) -> list:
    return re.findall(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?|nan|inf", text)


class _Tags(html.parser.HTMLParser):
    VOID = {"br", "hr", "img", "meta", "input", "link"}

    def __init__(self):
        super().__init__()
        self.stack, self.errors = [], []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack.pop() != tag:
            self.errors.append(tag)


def _balanced(page) -> bool:
    parser = _Tags()
    parser.feed(page)
    parser.close()
    return not parser.errors and not parser.stack


def test_a_wrong_softmax_gets_korean_feedback_with_the_same_numbers():
    en = check("softmax", no_max_trick, show=False, lang="en")
    ko = check("softmax", no_max_trick, show=False, lang="ko")
    assert (ko.lang, en.lang) == ("ko", "en")
    assert (ko.passed, ko.score, ko.n_passed, ko.mistakes[0][0]) == (
        en.passed, en.score, en.n_passed, en.mistakes[0][0]) == (False, 1.4, 7, "no max trick")
    text = str(ko)
    assert text.startswith("✗ softmax: 테스트 10개 중 7개를 통과했습니다 (1.4 / 2점)")
    assert f"예상되는 실수, {translate('no max trick', 'ko')}:" in text
    assert "숫자가 나와야 할 자리에 nan이 나왔습니다" in text and "Failed tests" not in text
    # the same inputs, values and points, in the same order
    assert _numbers(en.failures[0].input + en.failures[0].got) == _numbers(
        ko.failures[0].input + ko.failures[0].got)
    en_failures = "\n".join(str(en).split("Failed tests:")[1:])
    ko_failures = "\n".join(text.split("실패한 테스트:")[1:])
    assert _numbers(en_failures) == _numbers(ko_failures) and _numbers(ko_failures)


def test_a_named_mistake_and_its_hint_in_korean():
    en = check("softmax", in_place, show=False, lang="en")
    ko = check("softmax", in_place, show=False, lang="ko")
    assert [n for n, _ in ko.mistakes] == [n for n, _ in en.mistakes] == ["modifies its input"]
    hint = dict(ko.mistakes)["modifies its input"]
    assert hint.startswith("z = [5, 1, -2]에서 함수가 전달받은 배열을 바꿨습니다.")
    page = ko._repr_html_()
    assert "<b>예상되는 실수, 입력을 수정함:</b>" in page
    assert "<summary>더 자세한 도움말</summary>" in page and "<code>-=</code>" in page
    assert _balanced(page) and _balanced(en._repr_html_())
    assert "입력을 수정함" in ko.text(hints=2) and "더 자세한 도움말: " in ko.text(hints=2)


def test_a_result_keeps_its_language_whatever_is_in_effect_later(monkeypatch):
    ko = check("softmax", no_max_trick, show=False, lang="ko")
    en = check("softmax", no_max_trick, show=False, lang="en")
    korean, english = str(ko), str(en)
    monkeypatch.setenv("SOFTMAX_COURSE_LANG", "en")
    assert str(ko) == korean and HANGUL.search(ko._repr_html_())
    monkeypatch.setenv("SOFTMAX_COURSE_LANG", "ko")
    assert str(en) == english and not HANGUL.search(english + en._repr_html_())
    # and the environment chooses the language of a check that names none
    assert check("softmax", no_max_trick, show=False).lang == "ko"


def test_the_language_follows_the_notebook_and_the_environment(monkeypatch):
    from course_lib.i18n import set_language

    monkeypatch.delenv("SOFTMAX_COURSE_LANG", raising=False)
    try:
        set_language("ko")
        assert check("softmax", no_max_trick, show=False).lang == "ko"
        assert check("softmax", no_max_trick, show=False, lang="en").lang == "en"
        monkeypatch.setenv("SOFTMAX_COURSE_LANG", "en")
        assert check("softmax", no_max_trick, show=False).lang == "en"
    finally:
        set_language(None)


def test_wrong_names_and_types_are_explained_in_korean():
    unknown = check("softmx", no_max_trick, show=False, lang="ko")
    assert unknown.status == "error" and "이름이 'softmx'인 연습 문제는 없습니다." in unknown.message
    assert "'softmax'" in unknown.message and "찾으십니까?" in unknown.message
    not_a_function = check("softmax", no_max_trick([1.0, 2.0]), show=False, lang="ko")
    assert "check에는 함수 자체가 필요한데 ndarray이(가) 들어왔습니다" in not_a_function.message
    assert "check('softmax', softmax)" in not_a_function.message
    stub = check("softmax", unfinished, show=False, lang="ko")
    assert stub.status == "not implemented" and "아직 구현되지 않았습니다" in str(stub)


def test_an_unknown_language_is_the_callers_error():
    with pytest.raises(ValueError, match="lang must be one of"):
        check("softmax", no_max_trick, show=False, lang="fr")


def test_english_is_unchanged():
    text = str(check("softmax", no_max_trick, show=False, lang="en"))
    assert text.splitlines()[:2] == [
        "✗ softmax: 7 of 10 tests passed (1.4 / 2 points)",
        "Likely mistake, no max trick: your softmax gives [nan, 0, 0] for z = [1000, 0, 0]: exp "
        "overflows to inf above about 709 (89 in float32) and underflows to 0 below about -745, "
        "and then inf/inf or 0/0 is nan. Subtract the largest logit first: softmax(z) = "
        "softmax(z - max(z)), so every exponent is at most 0 and the largest term is exactly 1 "
        "(lesson 03, the max trick)."]
    assert "\n  • z = [1000, 0, 0]: nan where a number was expected\n      expected [1, 0, 0]\n" \
           "      got      [nan, 0, 0]\n" in text


def test_korean_labels_line_up_by_columns_not_characters():
    ko = check("softmax", no_max_trick, show=False, lang="ko")
    lines = str(ko).splitlines()
    i = next(k for k, line in enumerate(lines) if line.strip().startswith("기댓값"))
    # "기댓값" is 6 columns wide, "결과" 4: the values start in the same column
    from course_lib.grading.result import _columns

    assert lines[i + 1].lstrip().startswith("결과")
    assert _columns(lines[i][:lines[i].index("[")]) == _columns(lines[i + 1][:lines[i + 1].index("[")])
