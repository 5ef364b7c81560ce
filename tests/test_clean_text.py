"""Cleaning an article's text: spaces collapsed in the whole text as in each line."""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from indexer.records import _BLANK_LINES, _CONTROL, _SPACES, clean_text


def _line_by_line(text: str, one_line: bool) -> str:
    """clean_text as first written: spaces collapsed in each line on its own."""
    text = unicodedata.normalize("NFC", _CONTROL.sub("", text.replace("\r\n", "\n")))
    text = text.replace("\r", "\n")
    if one_line:
        return " ".join(text.split())
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab \t\n\r\u00a0\u2003\u202f\u3000\u2028\x0b\x85é")),
               max_size=60), st.booleans())
def test_clean_text_is_the_line_by_line_cleaning(text, one_line):
    assert clean_text(text, one_line=one_line) == _line_by_line(text, one_line)
