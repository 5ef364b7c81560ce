"""ts_headline's output as Furet's snippets: escaped HTML whose only markup is <mark>.

PostgreSQL marks matches with StartSel/StopSel and joins passages with FragmentDelimiter;
here they are control characters that articles never hold (indexer/records.py strips them),
so the text can be escaped whole and the marks put back after, exactly as
search/snippets.py renders. Passages are joined with `…` like the Whoosh snippets.
"""

from __future__ import annotations

import re
from html import escape

__all__ = ["SNIPPET_OPTIONS", "TITLE_OPTIONS", "snippet_html", "title_html"]

START, STOP, BETWEEN = "\x02", "\x03", "\x01"
_MARKERS = f"StartSel={START}, StopSel={STOP}"
TITLE_OPTIONS = f"{_MARKERS}, HighlightAll=true"
SNIPPET_OPTIONS = (f"{_MARKERS}, MaxWords=32, MinWords=12, ShortWord=3, MaxFragments=3, "
                   f"FragmentDelimiter={BETWEEN}")
# PostgreSQL marks the words of a phrase one by one and leaves its stop words unmarked:
# marks separated by at most two short words are joined into one when phrases were asked.
_PHRASE_GAP = re.compile(f"{STOP}((?:[\\s’'-]+[^\\s{START}{STOP}]{{1,3}}){{0,2}}[\\s’'-]+){START}")
_SPACE_GAP = re.compile(f"{STOP}(\\s+){START}")


def _marked(text: str, phrases: bool) -> str:
    text = (_PHRASE_GAP if phrases else _SPACE_GAP).sub(r"\1", text)
    return escape(text, quote=False).replace(START, "<mark>").replace(STOP, "</mark>")


def title_html(headline: str, *, phrases: bool = False) -> str:
    """A title highlighted whole (HighlightAll) as escaped HTML with <mark>."""
    return _marked(headline, phrases)


def snippet_html(headline: str, start: str, end: str, *, phrases: bool = False) -> str:
    """Passages of a headline as escaped HTML, `…` where they do not begin or end the text.

    `start` and `end` are the first and last characters of the text the headline was
    made from; "" when nothing was marked (the caller shows the opening instead).
    """
    if START not in headline:
        return ""
    start, end = " ".join(start.split()), " ".join(end.split())
    parts = []
    for fragment in headline.split(BETWEEN):
        fragment = " ".join(fragment.split())
        if not fragment:
            continue
        plain = fragment.replace(START, "").replace(STOP, "")
        prefix = "" if start.startswith(plain[:60]) else "…"
        suffix = "" if end.endswith(plain[-60:]) else "…"
        parts.append(prefix + _marked(fragment, phrases) + suffix)
    return " ".join(parts).replace("… …", " … ")
