"""The exercise bank: every lesson's exercises, their tests and the mistakes they name.

One module ``lessonNN`` per lesson (found by name and imported in order, so a lesson adds a module
and edits nothing else). Each module builds :class:`~course_lib.grading.Exercise` objects with
their public tests, hidden tests and known mistakes, and registers them in
:data:`course_lib.grading.EXERCISES`. ``mistakes`` holds the detectors several lessons share.

>>> from course_lib.exercises import EXERCISES
>>> "softmax" in EXERCISES
True

Translating a lesson's messages
-------------------------------
Everything a lesson module writes for the learner is defined when the module is imported, before
anyone has chosen a language, so it is only *marked* there, with ``N_()`` from
:mod:`course_lib.i18n`, and kept in English (the msgid). The checker translates it where it is
shown, in the language of the check (``check(..., lang="ko")``, ``SOFTMAX_COURSE_LANG``, the
notebook's ``set_language(...)``), and only then fills its placeholders. Mark, in each module:

- a :class:`~course_lib.grading.Mistake`'s **name**, **hint** and **more** (the hint's
  ``{input}`` and ``{got}``, and any name given in ``values=``, are filled after translation);
- a :class:`~course_lib.grading.Case`'s ``shown=`` text when it has words in it (code alone,
  such as ``"z = [1, 2, 3]"``, needs no mark, and is shown as it is);
- an :class:`~course_lib.grading.Exercise`'s ``task``.

Example::

    from ..i18n import N_

    Mistake(N_("shift by the min"), like(shift_by_min),
            N_("you shift the logits by their min, not their max: that makes every exponent "
               "at least 0, so exp overflows sooner (for {input} you get {got}). "
               "Use z - z.max()."),
            supersedes=("no max trick",))            # references by name: not marked
    Mistake(N_("wrong signature"), raised("SignatureError"),
            N_("check calls your function as {function}, and Python says: {got}."),
            values={"function": "softmax(z)"})        # a placeholder of your own: not an f-string

Rules: the English text is the msgid and stays byte-for-byte what it was (only the ``N_(...)``
around it is new); one whole sentence or message per ``N_()``, never fragments glued together;
placeholders are ``{named}`` and never filled with an f-string or ``%`` inside the mark (a
literal brace is written ``{{``); code, function and exercise names stay as they are in the
translation; mistake names in ``supersedes=`` are references and stay unmarked. Then run the
extract/update/compile of ``course_lib/locale/README.md`` and fill each msgstr of
``course_lib/locale/ko/LC_MESSAGES/course_lib.po``: ``tests/test_i18n.py`` checks that every
message has a Korean translation with the same placeholders.
"""

import importlib as _importlib
import pkgutil as _pkgutil
import re as _re

from ..grading.registry import EXERCISES, get_exercise

LESSONS = sorted(m.name for m in _pkgutil.iter_modules(__path__) if _re.fullmatch(r"lesson\d\d", m.name))
for _name in LESSONS:
    _importlib.import_module(f".{_name}", __name__)  # each registers its lesson's exercises

__all__ = ["EXERCISES", "get_exercise", "LESSONS"]
