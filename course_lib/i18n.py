"""The course's languages: which one a message, a figure or a widget speaks, and its catalog.

The course speaks English (``"en"``) and Korean (``"ko"``). The language of a message is, in
this order of precedence:

1. an explicit ``lang=`` argument (``check(..., lang="ko")``), or the language of the
   enclosing ``with language(...)`` block (a check makes its whole verdict in one language);
2. the environment variable ``SOFTMAX_COURSE_LANG`` (``softmax-course grade --lang ko`` sets it
   for the kernels it starts);
3. the notebook's own language: each lesson, exercise and solution notebook starts with
   ``set_language("en")`` or ``set_language("ko")`` in its first code cell;
4. otherwise the notebook's path, where JupyterLab tells the kernel (a notebook under a ``ko``
   folder is Korean);
5. English.

Translations live in gettext catalogs, ``course_lib/locale/<lang>/LC_MESSAGES/course_lib.po``,
managed with Babel (``pybabel extract``, ``update``, ``compile``; see ``babel.cfg``).

>>> set_language("ko")
>>> get_language()
'ko'
>>> get_language("en")
'en'
>>> set_language(None)
"""

from __future__ import annotations

import contextvars
import gettext as _gettext
import os
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path, PurePath

LANGUAGES = ("en", "ko")
DEFAULT = "en"
ENV = "SOFTMAX_COURSE_LANG"
DOMAIN = "course_lib"
LOCALE_DIR = Path(__file__).parent / "locale"

_notebook_language: str | None = None
_in_effect: contextvars.ContextVar = contextvars.ContextVar("softmax_course_lang", default=None)


def _validated(lang, name: str = "lang") -> str:
    if not isinstance(lang, str):
        raise TypeError(f"{name} must be a language code, one of {LANGUAGES}; got {lang!r}")
    code = lang.strip().lower().replace("_", "-").split("-")[0]
    if code not in LANGUAGES:
        raise ValueError(f"{name} must be one of {LANGUAGES}; got {lang!r}")
    return code


def set_language(lang: str | None) -> None:
    """Set the notebook's language (``"en"`` or ``"ko"``); ``None`` forgets it.

    An explicit ``lang=`` argument or ``SOFTMAX_COURSE_LANG`` still takes precedence.
    """
    global _notebook_language
    _notebook_language = None if lang is None else _validated(lang)


def _session_language() -> str | None:
    """The language of the notebook's path, where JupyterLab gives it to the kernel."""
    path = os.environ.get("JPY_SESSION_NAME")
    if not path:
        return None
    parts = PurePath(path.replace("\\", "/")).parts
    return "ko" if "ko" in parts[:-1] else None


def get_language(lang: str | None = None) -> str:
    """The language to speak now: ``lang`` if given, else the environment, the notebook, English."""
    if lang is not None:
        return _validated(lang)
    chosen = _in_effect.get()
    if chosen is not None:
        return chosen
    env = os.environ.get(ENV)
    if env:
        try:
            return _validated(env, ENV)
        except ValueError:
            pass  # an unknown language in the environment falls back, never breaks a check
    return _notebook_language or _session_language() or DEFAULT


@contextmanager
def language(lang: str | None):
    """Speak ``lang`` inside the ``with`` block (``None``: the language in effect now).

    A check resolves its language once and makes its whole verdict in it, whatever the
    environment or the notebook say meanwhile; the block's language takes precedence over
    everything but an explicit ``lang=`` argument. It holds for the current thread (or asyncio
    task) only.

    >>> with language("ko"):
    ...     get_language()
    'ko'
    >>> get_language()
    'en'
    """
    token = _in_effect.set(get_language(lang))
    try:
        yield _in_effect.get()
    finally:
        _in_effect.reset(token)


@lru_cache(maxsize=None)
def translation(lang: str) -> _gettext.NullTranslations:
    """The gettext catalog of ``lang`` (English needs none: its messages are the msgids)."""
    lang = _validated(lang)
    if lang == DEFAULT:
        return _gettext.NullTranslations()
    return _gettext.translation(DOMAIN, localedir=LOCALE_DIR, languages=[lang], fallback=True)


def gettext(message: str, lang: str | None = None) -> str:
    """``message`` in the current language (or ``lang``)."""
    return translation(get_language(lang)).gettext(message)


def ngettext(singular: str, plural: str, n: int, lang: str | None = None) -> str:
    """The singular or plural ``message`` for ``n``, in the current language (or ``lang``)."""
    return translation(get_language(lang)).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark ``message`` for translation where it is defined; translate it where it is shown.

    Messages written when a module is imported (a mistake's hint, a case's description) cannot
    be translated then: the language is chosen later. They are marked with ``N_`` so that Babel
    extracts them, kept in English, and passed through :func:`gettext` where they are displayed.

    >>> N_("subtract the max first")
    'subtract the max first'
    """
    return message


_ = gettext
