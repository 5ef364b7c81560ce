"""Cleaning an article's text: spaces collapsed in the whole text as in each line."""

from __future__ import annotations

import re
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from indexer import records
from indexer.records import clean_text

_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u205f\u3000]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")


def _line_by_line(text: str, one_line: bool) -> str:
    """clean_text as first written: spaces collapsed in each line on its own (for text
    without control characters, which it drops first)."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n"))
    text = text.replace("\r", "\n")
    if one_line:
        return " ".join(text.split())
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


_CHARS = list("ab \t\n\r\u00a0\u2003\u202f\u3000\u2028\u1680e\u0301é\u200b\u200c\u205f\u2000"
               "\u1fff\u200a")


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from(_CHARS), max_size=60), st.booleans())
def test_clean_text_is_the_line_by_line_cleaning(text, one_line):
    assert clean_text(text, one_line=one_line) == _line_by_line(text, one_line)



def _general(text: str, one_line: bool) -> str:
    """clean_text without its shortcut for latin-1 text: every control character dropped
    by the regular expression, then NFC."""
    text = records._CONTROL.sub("", text.replace("\r\n", "\n"))
    text = unicodedata.normalize("NFC", text).replace("\r", "\n")
    if one_line:
        return " ".join(text.split())
    lines = (line.strip() for line in records._collapse_spaces(text).split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


# Latin-1 characters (controls, \r, tab, no-break space, letters) and a few past it.
_LATIN1_CHARS = [chr(n) for n in range(256)] + list("\u2014\u2019\u202e\ufeff\u2003")


@settings(max_examples=600, deadline=None)
@given(st.text(alphabet=st.sampled_from(_LATIN1_CHARS), max_size=80), st.booleans())
def test_clean_text_shortcut_for_latin1_is_the_general_cleaning(text, one_line):
    assert clean_text(text, one_line=one_line) == _general(text, one_line)


def test_clean_text_shortcut_cases():
    for text in ("Art. 1er\r\n\r\nAlinéa\x00 2", "a\x85b", "a\rb", "  é  \n\n\n à\t\u00a0b ",
                 "Code civil \u2014 Article 1", "x\u202ey", "\x7f", "", "\r\n"):
        for one_line in (False, True):
            assert clean_text(text, one_line=one_line) == _general(text, one_line), text


def test_latin1_text_is_nfc():
    """The shortcut's premise: no latin-1 character combines or decomposes (pairs suffice,
    none has a combining class)."""
    chars = [chr(n) for n in range(256)]
    assert all(unicodedata.combining(c) == 0 for c in chars)
    assert all(unicodedata.normalize("NFC", a + b) == a + b for a in chars for b in chars)


def test_printable_text_holds_no_control_character():
    """The general path's shortcut: what `str.isprintable` accepts, the control
    characters' expression finds nothing in (every one of them is in the BMP)."""
    found = [c for c in map(chr, range(0x10000)) if records._CONTROL.match(c)]
    assert found and not any(c.isprintable() for c in found)
    assert not records._CONTROL.search("".join(chr(n) for n in range(0x10000, 0x110000, 97)))


# Latin-1 text of many lines: spaces of every kind beside newlines, blank lines of spaces.
_LINES_CHARS = list("ab \n\n\t\u00a0\r")


@settings(max_examples=600, deadline=None)
@given(st.text(alphabet=st.sampled_from(_LINES_CHARS), max_size=60))
def test_latin1_lines_without_a_call_a_line_are_the_general_cleaning(text):
    assert clean_text(text) == _general(text, False)


def test_latin1_lines_cases():
    for text in (" a \n b \n\n\n c ", "a\n \n \nb", " \n", "\n \n", "a \n\n \n\n b",
                 "a\t\n\u00a0b", "a\r\n\r\n\r\nb", "\n\n\na\n\n\n"):
        assert clean_text(text) == _general(text, False), text
