"""Text as a terminal or a log may show it: every control character escaped.

A file name or an id can hold any character but "/" and NUL, escape sequences included
(`ESC[2J` clears a screen, an OSC sequence retitles the window) and right-to-left overrides
that reorder what a reader sees. Whatever the indexer prints goes through `printable`:
newlines, tabs and carriage returns as \\n, \\t and \\r, other control characters as \\xNN,
bidirectional controls and line separators as \\uNNNN, undecodable bytes of a file name as
\\udcNN. Printable text, accents included, is left as it is.
"""

from __future__ import annotations

import os
import re

__all__ = ["BIDI_CONTROLS", "display_path", "printable"]

# The invisible characters that change the order text is shown in (Unicode UAX #9).
BIDI_CONTROLS = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_UNPRINTABLE = re.compile(f"[\x00-\x1f\x7f-\x9f\u2028\u2029{BIDI_CONTROLS}]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def printable(text: str) -> str:
    """`text` with every control character escaped, so that printing it is safe."""
    text = _UNPRINTABLE.sub(_escape, text)
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def display_path(path: str | os.PathLike[str]) -> str:
    """A path as it can be printed (see `printable`); undecodable bytes as \\udcNN."""
    return printable(os.fsdecode(path))
