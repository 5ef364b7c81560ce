"""Snippets as they were made before the single-pass changes of search/snippets.py (a
Highlighter a page, folding that says which characters move offsets, clause cuts found
through the mark alone, passages escaped only when needed): the reference the tests
compare today's code with, answer for answer."""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from functools import lru_cache
from html import escape

from search.analysis import OffsetMap, fold, stem
from search.snippets import CHUNK_CHARS, ENOUGH_MATCHES, MAX_FRAGMENTS, SNIPPET_CHARS, Terms

_WORD_AT = re.compile(r"[A-Za-z0-9]+(?:'[A-Za-z0-9]+)*")
_ELIDED = re.compile(r"(?i)(?:jusqu|lorsqu|puisqu|quoiqu|qu|[ldjnscmt])'")
_SENTENCE_END = re.compile(r"[.!?…](?=\s)")
_SENTENCE_GAP = re.compile(r"[.!?…][»”)]?[ \t]+(?=[«“(]?[\w«“(])")
_SENTENCE_BEFORE = re.compile(r"[.!?…][»”)]?[ \t]+$")
_CLAUSE_GAP = re.compile(r"[ \t\u00a0\u202f]*[,;:][ \t]+")
_REACH = 60
_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")


def check() -> None:
    """No deadline here."""


@lru_cache(maxsize=256)
def _scanner(terms: Terms) -> tuple[re.Pattern[str], tuple[str, ...] | None] | None:
    starts = set(terms.stems) | set(terms.exact) | set(terms.prefixes)
    starts |= {phrase[0] for phrase in terms.phrases if phrase}
    starts = {s.lower() for s in starts if s}
    if not starts:
        return None
    ordered = sorted(starts, key=lambda s: (-len(s), s))
    alternatives = "|".join(re.escape(s) for s in ordered)
    if all(s.isascii() and s.isalnum() for s in starts):
        return re.compile(alternatives), tuple(ordered)
    return re.compile(rf"(?<![A-Za-z0-9])(?:{alternatives})", re.IGNORECASE), None


def literal_starts(scanned: str, literals: tuple[str, ...]) -> list[int]:
    longest: dict[int, int] = {}
    for literal in literals:
        size = len(literal)
        at = scanned.find(literal)
        while at != -1:
            longest.setdefault(at, size)
            at = scanned.find(literal, at + 1)
    starts = []
    end = 0
    for at in sorted(longest):
        if at >= end:
            starts.append(at)
            end = at + longest[at]
    return starts


def _word_matches(word: str, terms: Terms) -> bool:
    low = word.lower()
    if low in terms.exact or any(low.startswith(p) for p in terms.prefixes):
        return True
    return stem(word) in terms.stems


def _phrase_end(folded: str, start: int, phrase: tuple[str, ...]) -> int | None:
    """End (folded offset) of `phrase` if it starts at `start`, else None."""
    pos = start
    for n, expected in enumerate(phrase):
        if n:
            # Skip separators and elided articles between the words, like the analysis does.
            while pos < len(folded) and not folded[pos].isalnum():
                pos += 1
            elided = _ELIDED.match(folded, pos)
            if elided and expected != folded[pos:elided.end() - 1].lower():
                pos = elided.end()
        word = _WORD_AT.match(folded, pos)
        if not word or word.group().lower() != expected:
            return None
        pos = word.end()
    return pos


def _matches_in(text: str, terms: Terms,
                scanner: tuple[re.Pattern[str], tuple[str, ...] | None]
                ) -> list[tuple[int, int]]:
    folded = fold(text)
    found: list[tuple[int, int]] = []
    last_end = 0
    pattern, literals = scanner
    lowered = literals is not None
    scanned = folded.lower() if lowered else folded
    candidates = literal_starts(scanned, literals) if literals is not None else \
        (m.start() for m in pattern.finditer(scanned))
    for start in candidates:
        check()
        if start < last_end or (lowered and start and scanned[start - 1] in _WORD_CHARS):
            continue
        end = None
        for phrase in terms.phrases:
            end = _phrase_end(folded, start, phrase)
            if end is not None:
                break
        if end is None:
            word = _WORD_AT.match(folded, start)
            if word is None or not _word_matches(word.group(), terms):
                continue
            end = word.end()
        found.append((start, end))
        last_end = end
    if folded is text or not found:
        return found
    offsets = OffsetMap(text, until=found[-1][1] - 1)  # the matches are in order
    mapped = [(offsets.original(s), offsets.original(e - 1) + 1, s, e) for s, e in found]
    # A character folded into several words (« ¼ » is "1/4") is no match for one of them.
    return [(s, e) for s, e, fs, fe in mapped
            if fold(text[s:e]).lower() == folded[fs:fe].lower()]


def find_matches(text: str, terms: Terms, *, enough: int | None = None
                 ) -> list[tuple[int, int]]:
    """(start, end) in `text` of every matching word or phrase, in order, not overlapping.

    With `enough`, long texts are read a chunk at a time and reading stops once that many
    matches are found: a snippet needs the first good passages, not every match of a
    100,000-character article.
    """
    scanner = _scanner(terms)
    if scanner is None or not text:
        return []
    if enough is None or len(text) <= CHUNK_CHARS:
        return _matches_in(text, terms, scanner)
    found: list[tuple[int, int]] = []
    start = 0
    while start < len(text) and len(found) < enough:
        end = min(len(text), start + CHUNK_CHARS)
        if end < len(text):  # cut between words, so none is split
            space = text.rfind(" ", start + CHUNK_CHARS // 2, end)
            end = space if space != -1 else end
        found.extend((s + start, e + start)
                     for s, e in _matches_in(text[start:end], terms, scanner))
        start = end
    return found


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


def mark_all(text: str, terms: Terms) -> str:
    """All of `text` (a title), escaped, with every match marked."""
    return _render(text, 0, len(text), find_matches(text, terms))


def _word_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """Move `start` forward and `end` backward to the nearest word boundaries."""
    if start > 0 and not text[start - 1].isspace():
        space = text.find(" ", start, start + 40)
        start = space + 1 if space != -1 else start
    if end < len(text) and not text[end].isspace():
        space = text.rfind(" ", max(start, end - 40), end)
        end = space if space > start else end
    while end > start and text[end - 1] in " ,;:":
        end -= 1
    return start, end


def _cut(text: str, start: int, end: int, first: int, last: int,
         paragraph: tuple[int, int]) -> tuple[int, int]:
    """Bounds of a passage that shows `text[first:last]`: inside its paragraph, starting at
    a sentence (else a clause, else a word) and ending at one, never mid-word."""
    top, bottom = paragraph
    if start > top:
        starts = [m.end() for m in _SENTENCE_GAP.finditer(text, start, first)] or \
            [m.end() for m in _SENTENCE_GAP.finditer(text, max(top, start - _REACH), start)
             ][-1:] or ([top] if start - top <= _REACH else []) or \
            [m.end() for m in _CLAUSE_GAP.finditer(text, start, first)]
        start = starts[0] if starts else _word_bounds(text, start, end)[0]
    if end < bottom:
        ends = [m.start() + 1 for m in _SENTENCE_GAP.finditer(text, last, end + 1)] or \
            [m.start() for m in _CLAUSE_GAP.finditer(text, last, end + 1)]
        end = ends[-1] if ends else _word_bounds(text, start, end)[1]
    return start, end


def _paragraph_at(text: str, at: int) -> tuple[int, int]:
    """(start, end) of the paragraph (text between line breaks) holding `at`."""
    bottom = text.find("\n", at)
    return text.rfind("\n", 0, at) + 1, len(text) if bottom == -1 else bottom


def _windows(text: str, spans: list[tuple[int, int]], size: int
             ) -> list[tuple[int, int, tuple[int, int]]]:
    """The best non-overlapping passages: most distinct matched words, then earliest; each
    within one paragraph, so that a heading never runs into the next sentence."""
    scored = []
    # Spans are in order and do not overlap: those inside a passage are a run of them.
    starts = [a for a, _ in spans]
    ends = [b for _, b in spans]
    matched = [text[a:b].lower() for a, b in spans]  # each span's word, once
    for s, e in spans:
        top, bottom = _paragraph_at(text, s)
        if e > bottom:  # a phrase matched across a line break joins the two lines
            bottom = _paragraph_at(text, e - 1)[1]
        start = max(top, s - size // 3)
        end = max(min(bottom, start + size), e)  # the match whole, however long
        start = max(top, min(start, end - size))  # a paragraph ending soon: look back more
        first, last = bisect_left(starts, start), bisect_right(ends, end)
        scored.append((-len(set(matched[first:last])), start, end, starts[first],
                       ends[last - 1], (top, bottom)))
    scored.sort()
    chosen: list[tuple[int, int, tuple[int, int]]] = []
    for _, start, end, first, last, paragraph in scored:
        start, end = _cut(text, start, end, first, last, paragraph)
        if all(end <= a or start >= b for a, b, _ in chosen):
            chosen.append((start, end, paragraph))
        if len(chosen) == MAX_FRAGMENTS:
            break
    return sorted(chosen)


def _join(text: str, passages: list[tuple[int, int, tuple[int, int]]],
          render: Callable[[int, int], str]) -> str:
    """Passages joined by ` … `; the first opens with `…` if it starts mid-sentence, the
    last ends with `…` if it stops mid-sentence: never an ellipsis glued to a period."""
    (first, _, (top, _)), (_, last, (_, bottom)) = passages[0], passages[-1]
    out = " … ".join(render(start, end) for start, end, _ in passages).replace("\n", " ")
    if first > top and not _SENTENCE_BEFORE.search(text, max(0, first - 4), first):
        out = "…" + out
    if last < bottom and text[max(0, last - 8):last].rstrip("»”) ")[-1:] not in (
            ".", "!", "?", "…"):
        out += "…"
    return out


def _opening(text: str, size: int) -> str:
    """The first sentences of `text`, about `size` characters: when nothing matched."""
    shown = ""
    for paragraph in text[:4 * size].split("\n"):
        if shown and len(shown) + len(paragraph) > size + 60:
            break
        if shown:
            shown += " " if shown[-1] in ".!?…»" else " — "  # a heading stays one
        shown += paragraph
    if len(shown) <= size + 60:
        more = len(shown) < len(text.strip())
        return escape(shown, quote=False) + ("…" if more and shown[-1] not in ".!?…" else "")
    cut = None
    for match in _SENTENCE_END.finditer(shown, 0, size + 60):
        if match.end() >= size // 2:
            cut = match.end()
    if cut is None:
        cut = _word_bounds(shown, 0, size)[1]
        return escape(shown[:cut], quote=False) + "…"
    return escape(shown[:cut], quote=False)


def highlight(text: str, terms: Terms, *, size: int = SNIPPET_CHARS,
              fragments: int = 2) -> str:
    """Up to `fragments` passages of about `size` characters around the best matches, each
    inside one paragraph (lines of `text`) and cut at sentence or clause boundaries.

    Returns "" when nothing in `text` matches, so the caller can fall back (to the lead).
    """
    spans = find_matches(text, terms, enough=ENOUGH_MATCHES)
    if not spans:
        return ""
    passages = _windows(text, spans, size)
    passages = sorted(passages[:fragments] if fragments < MAX_FRAGMENTS else passages)
    return _join(text, passages, lambda start, end: _render(text, start, end, spans))


def one_line_break(text: str) -> str:
    """`text` stripped, each run of blank space holding line breaks made one line break
    (as `re.sub(r"\\s*\\n\\s*", "\\n", text.strip())`, without a regex trying every
    character of the article)."""
    text = text.strip()
    if "\n" not in text:
        return text
    return "\n".join(filter(None, map(str.strip, text.split("\n"))))


def snippet(lead: str, body: str, terms: Terms, *, size: int = SNIPPET_CHARS) -> str:
    """The snippet of a hit: passages of the lead and body, else the opening of the article."""
    text = f"{lead}\n{body}" if lead and not body.startswith(lead[:80]) else body or lead
    text = one_line_break(text)
    return highlight(text, terms, size=size) or _opening(text, size)
