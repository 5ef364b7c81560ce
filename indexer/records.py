"""Drafts: the raw fields a reader found, checked and coerced into an `Article`.

Every format reader (HTML, text, JSON, feeds) returns drafts, plain dicts whose values may
have any type. `make_article` is the one place that decides what is acceptable, so a
wrong type or a missing title is reported the same way whatever the format, and nothing
unchecked ever reaches Whoosh (a failed `add_document` corrupts its writer).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from datetime import datetime
from typing import Any

from indexer.dates import parse_date
from indexer.terminal import BIDI_CONTROLS
from indexer.urls import url_problem
from search.article import Article
from search.errors import ArticleError

__all__ = ["Draft", "clean_text", "make_article", "MAX_BODY_CHARS", "MAX_TITLE_CHARS"]

Draft = dict[str, Any]

KNOWN_KEYS = frozenset(
    "id url title lead body html published modified authors section tags lang".split()
)
MAX_BODY_CHARS = 2_000_000
MAX_TITLE_CHARS = 1_000
MAX_FIELD_CHARS = 10_000
MAX_ID_CHARS = 1_000

log = logging.getLogger("furet.indexer")  # furet-index --verbose shows its INFO lines

# Control characters other than tab and newline, lone surrogates, Unicode non-characters,
# and the bidirectional controls that reorder what a reader sees ("Facture \u202efdp.exe").
_CONTROL = re.compile(
    f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufeff\ufffe\uffff{BIDI_CONTROLS}]")
# Spaces other than " " (tab, no-break, thin, ideographic...), each made a " " before runs
# of spaces are collapsed: `in` and `replace` scan in C, where one regex over the class
# tried a match at every character (the most expensive step of reading an article).
_ODD_SPACES = "\t\u00a0" + "".join(map(chr, range(0x2000, 0x200C))) + "\u202f\u205f\u3000"
_BLANK_LINES = re.compile(r"\n\s*\n+")


# The characters _CONTROL drops that are latin-1 (every other one is past U+00FF), as bytes.
_LATIN1_CONTROLS = bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0)])
_LATIN1_ODD_SPACES = "\t\u00a0"  # those of _ODD_SPACES a latin-1 text may hold


def clean_text(text: str, *, one_line: bool = False) -> str:
    """NFC-normalise, drop control and bidirectional characters and collapse spaces; keep
    paragraphs."""
    plain = _plain_latin1(text)
    if plain:  # nothing to drop, and NFC already
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
    elif one_line and text.isprintable():  # nothing to drop (nor any \r)
        text = unicodedata.normalize("NFC", text)
    else:
        text = text.replace("\r\n", "\n")
        if not text.isprintable() and _CONTROL.search(text):  # (printable: none of them)
            text = _CONTROL.sub("", text)
        text = unicodedata.normalize("NFC", text).replace("\r", "\n")
    if one_line:
        # No space but single " " between words (a plain text's only other spaces are
        # tab, newline and no-break space): what splitting and joining would give.
        if "  " in text or text.startswith(" ") or text.endswith(" ") or (
                "\t" in text or "\n" in text or "\u00a0" in text if plain
                else not text.isprintable()):
            return " ".join(text.split())
        return text
    # Spaces collapsed in the whole text at once: no run of them spans a newline.
    text = _collapse_spaces(text, _LATIN1_ODD_SPACES if plain else _ODD_SPACES)
    if plain:
        return _plain_lines(text)
    lines = (line.strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def _plain_latin1(text: str) -> bool:
    """True when `text` is latin-1 without any of _CONTROL's characters: what cleaning's
    first steps leave as it is, the regular expression (which tried every character) and
    NFC's check spared. Every string of latin-1 characters is NFC (a test checks each
    pair), and a latin-1 string is encoded by a copy."""
    raw = text.encode("latin-1", "ignore")  # (shorter when it is not latin-1: no exception)
    return len(raw) == len(text) and len(raw.translate(None, _LATIN1_CONTROLS)) == len(raw)


def _plain_lines(text: str) -> str:
    """The end of `clean_text` for latin-1 text whose spaces are collapsed (each line
    stripped, runs of blank lines made one, the whole stripped) without a call a line: its
    only white space is now single " " and "\n", so a line's ends are a " " beside a "\n"
    (or the text's ends, which the last `strip` takes), and a run of blank lines is a run
    of "\n" (what `_BLANK_LINES` makes "\n\n" changes only runs of three or more)."""
    if " \n" in text:
        text = text.replace(" \n", "\n")
    if "\n " in text:
        text = text.replace("\n ", "\n")
    if "\n\n\n" in text:
        text = _BLANK_LINES.sub("\n\n", text)
    return text.strip()


def _collapse_spaces(text: str, odd: str = _ODD_SPACES) -> str:
    """Each run of spaces (of any kind in `odd`, or " ") made one " "."""
    for char in odd:
        if char in text:
            text = text.replace(char, " ")
    while "  " in text:  # each pass halves every run
        text = text.replace("  ", " ")
    return text


def make_article(draft: Draft, *, location: str, default_id: str) -> Article:
    """Check and coerce `draft` into an Article, or raise ArticleError(location, reason)."""
    try:
        return _make(draft, location, default_id)
    except _Invalid as err:
        raise ArticleError(location, str(err)) from None


class _Invalid(ValueError):
    pass


def _make(draft: Draft, location: str, default_id: str) -> Article:
    if not isinstance(draft, dict):
        raise _Invalid(f"expected an object with article fields, got {_kind(draft)}")
    # A field the draft does not have (None) is its default without a call to check it.
    get = draft.get
    title = _text(draft, "title", one_line=True, limit=MAX_TITLE_CHARS)
    body = _text(draft, "body", limit=MAX_BODY_CHARS)
    lead = "" if get("lead") is None else _text(draft, "lead", limit=MAX_FIELD_CHARS)
    if not body and lead:
        body, lead = lead, ""
    if not title:
        raise _Invalid("no title (give a title, a headline or an <h1>)")
    if not body:
        raise _Invalid("no text (the article body is empty)")
    url = "" if get("url") is None else _url(draft, location)
    article_id = _identifier(get("id")) or url or default_id
    return Article.of_checked(
        id=article_id,
        url=url,
        title=title,
        lead=lead,
        body=body,
        published=None if get("published") is None else _date(draft, "published"),
        modified=None if get("modified") is None else _date(draft, "modified"),
        authors=() if get("authors") is None else _names(draft, "authors"),
        section="" if get("section") is None else _shorten(
            _text(draft, "section", one_line=True, limit=MAX_BODY_CHARS), MAX_TITLE_CHARS),
        tags=() if get("tags") is None else _names(draft, "tags"),
        lang="fr" if get("lang") is None else
        (_text(draft, "lang", one_line=True, limit=20) or "fr").lower().split("-")[0],
        source=location,
    )


def _shorten(text: str, limit: int) -> str:
    """`text` cut at a word boundary to at most `limit` characters (long breadcrumbs)."""
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit - 1)
    return text[: cut if cut > limit // 2 else limit - 1].rstrip() + "…"


def _kind(value: object) -> str:
    return {
        dict: "an object",
        list: "a list",
        str: "a string",
        int: "a number",
        float: "a number",
        bool: "true/false",
        type(None): "null",
    }.get(type(value), type(value).__name__)


def _text(draft: Draft, key: str, *, one_line: bool = False, limit: int) -> str:
    value = draft.get(key)
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool) and key == "section":
        value = str(value)
    if not isinstance(value, str):
        raise _Invalid(f"{key}: expected a string, got {_kind(value)}")
    if len(value) > 2 * limit:  # refused before cleaning, which would copy it several times
        raise _Invalid(f"{key}: {len(value):,} characters, more than the limit of {limit:,}")
    text = clean_text(value, one_line=one_line)
    if len(text) > limit:
        raise _Invalid(f"{key}: {len(text):,} characters, more than the limit of {limit:,}")
    return text


def _identifier(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise _Invalid(f"id: expected a string or a number, got {_kind(value)}")
    text = clean_text(str(value), one_line=True)
    if len(text) > MAX_ID_CHARS:
        raise _Invalid(f"id: {len(text):,} characters, more than the limit of {MAX_ID_CHARS:,}")
    return text


def _url(draft: Draft, location: str) -> str:
    """The draft's URL if the index may keep it (indexer/urls.py); else "", said with
    --verbose: the article is still worth finding without its link."""
    url = _text(draft, "url", one_line=True, limit=MAX_FIELD_CHARS)
    problem = url_problem(url) if url else None
    if problem:
        log.info("%s: url %r left out: %s", location, _shorten(url, 100), problem)
        return ""
    return url


def _date(draft: Draft, key: str) -> datetime | None:
    value = draft.get(key)
    if value is None or value == "":
        return None
    try:
        return parse_date(value)
    except ValueError as err:
        raise _Invalid(f"{key}: {err}") from None


def _names(draft: Draft, key: str) -> tuple[str, ...]:
    value = draft.get(key)
    if value is None:
        return ()
    if isinstance(value, str):
        items: list[object] = re.split(r"\s*[,;]\s*", value)
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        raise _Invalid(f"{key}: expected a list of strings, got {_kind(value)}")
    names: list[str] = []
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            item = item["name"]  # schema.org Person
        if not isinstance(item, str):
            raise _Invalid(f"{key}: expected a list of strings, found {_kind(item)}")
        name = clean_text(item, one_line=True)[:200]
        if name and name not in names:
            names.append(name)
    return tuple(names[:50])
