"""Highlighted snippets: the best passages of an article's original text, matches in <mark>.

The text is tokenised with the same analysis as the index (`FoldingTokenizer`), so `haifa`
marks `Haïfa` in the original, accents and case intact. The output is escaped HTML whose
only markup is `<mark>`; fragments are cut at word boundaries and joined with `…`.
"""

from __future__ import annotations

from collections.abc import Collection
from html import escape

from search.analysis import FoldingTokenizer, FrenchFilter

__all__ = ["highlight", "mark_all"]

_TOKENIZER = FoldingTokenizer()
_STEMMER = FrenchFilter(stem=True, stop=False)


def _matches(text: str, stems: Collection[str], exact: Collection[str]) -> list[tuple[int, int]]:
    """(start, end) of every word of `text` that matches a query term."""
    spans = []
    for token in _TOKENIZER(text, chars=True):
        word = token.text.lower()
        if word in exact or _STEMMER.term(token.text) in stems:
            spans.append((token.startchar, token.endchar))
    return spans


def _render(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> str:
    out, pos = [], start
    for s, e in spans:
        if s < start or e > end:
            continue
        out.append(escape(text[pos:s], quote=False))
        out.append("<mark>" + escape(text[s:e], quote=False) + "</mark>")
        pos = e
    out.append(escape(text[pos:end], quote=False))
    return "".join(out)


def mark_all(text: str, stems: Collection[str], exact: Collection[str]) -> str:
    """All of `text` (a title), escaped, with every match marked."""
    return _render(text, 0, len(text), _matches(text, stems, exact))


def _cut(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen nothing, shrink to word boundaries."""
    if start > 0:
        space = text.find(" ", start, start + 30)
        start = space + 1 if space != -1 else start
    if end < len(text):
        space = text.rfind(" ", end - 30, end)
        end = space if space > start else end
    return start, end


def highlight(
    text: str,
    stems: Collection[str],
    exact: Collection[str],
    *,
    size: int = 220,
    fragments: int = 2,
) -> str:
    """Up to `fragments` passages of about `size` characters around the matches."""
    if not text:
        return ""
    spans = _matches(text, stems, exact)
    if not spans:
        start, end = _cut(text, 0, min(len(text), size))
        return _render(text, start, end, []) + ("…" if end < len(text) else "")
    windows: list[tuple[int, int]] = []
    for s, _e in spans:
        if windows and s < windows[-1][1]:
            continue
        start = max(0, s - size // 3)
        windows.append(_cut(text, start, min(len(text), start + size)))
        if len(windows) == fragments:
            break
    parts = []
    for start, end in windows:
        prefix = "…" if start > 0 else ""
        suffix = "…" if end < len(text) else ""
        parts.append(prefix + _render(text, start, end, spans) + suffix)
    return " ".join(parts).replace("……", "…")
