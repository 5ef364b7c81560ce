"""Cleaning an article's text: spaces collapsed in the whole text as in each line."""

from __future__ import annotations

import re
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

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

