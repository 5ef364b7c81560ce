"""Highlighted snippets: the best passages of an article's original text, matches in <mark>.

Matches are found in the ASCII-folded text with one regular expression built from the
query (a C-speed scan, whatever the article's length), then checked word by word with the
index's own analysis, and mapped back to the original text: the query `haifa` marks
`Haïfa`, accents and case intact. Passages of about 200 characters around the densest
matches stay inside their paragraph (a subheading never runs into the next sentence), are
cut at sentence boundaries, else clause, else word boundaries, and are joined with ` … `.
The output is escaped HTML whose only markup is `<mark>`. The scan checks the search's
deadline (search/deadline.py). A page makes one `Highlighter` for its query and marks its
hits' titles and snippets with it; the functions below do the same for one text.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from html import escape

from search.analysis import OffsetMap, fold, fold_lower_uneven, stem, uneven_offsets
from search.deadline import check
from search.query import ParsedQuery, is_stop_word

__all__ = ["Highlighter", "Terms", "escaped", "find_matches", "highlight", "highlight_terms",
           "highlighter", "literal_starts", "mark_all", "one_line_break", "SNIPPET_CHARS"]

SNIPPET_CHARS = 200  # target length of one passage (160–300 once cut at word boundaries)
MAX_FRAGMENTS = 3
CHUNK_CHARS = 16_000  # long texts are scanned this much at a time (see find_matches)
ENOUGH_MATCHES = 12  # matches after which the rest of a long text is not scanned

_WORD_AT = re.compile(r"[A-Za-z0-9]+(?:'[A-Za-z0-9]+)*")
_ELIDED = re.compile(r"(?i)(?:jusqu|lorsqu|puisqu|quoiqu|qu|[ldjnscmt])'")
_SENTENCE_END = re.compile(r"[.!?…](?=\s)")
_SENTENCE_GAP = re.compile(r"[.!?…][»”)]?[ \t]+(?=[«“(]?[\w«“(])")  # then a sentence begins
_SENTENCE_BEFORE = re.compile(r"[.!?…][»”)]?[ \t]+$")
_CLAUSE_GAP = re.compile(r"[ \t\u00a0\u202f]*[,;:][ \t]+")  # French puts a space before ; :
_CLAUSE_MARK = re.compile(r"[,;:][ \t]+")  # _CLAUSE_GAP without its leading blanks
_CLAUSE_BLANKS = " \t\u00a0\u202f"
_SENTENCE_MARKS = frozenset(".!?…")
_CLOSERS = frozenset("»”) ")  # what may follow a sentence's mark before a passage ends
_REACH = 60  # characters a passage may start earlier to start with its sentence
_WORD_REACH = 40  # characters a passage's end may move back, its start on, to a word
_LINE_SAFE_SIZE = 100  # passages this long never look past their line (_unbroken_snippet)
_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")  # of lower-cased folded text


@dataclass(frozen=True)
class Terms:
    """What to mark: stems and exact forms of words, prefixes, phrases (exact forms)."""

    stems: frozenset[str] = frozenset()
    exact: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ()
    phrases: tuple[tuple[str, ...], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.stems or self.exact or self.prefixes or self.phrases)


def highlight_terms(parsed: ParsedQuery) -> Terms:
    """What snippets mark: the positive words, prefixes and phrases outside author/section."""
    stems: set[str] = set()
    exact: set[str] = set()
    prefixes: list[str] = []
    phrases: list[tuple[str, ...]] = []
    for group in parsed.groups:
        for clause in group:
            if clause.field in ("author", "section"):
                continue
            terms = clause.terms()
            if clause.kind == "phrase":
                phrases.append(tuple(terms))
            elif clause.kind == "prefix":
                prefixes.extend(terms[:1])
            elif is_stop_word(clause):
                continue
            else:
                exact.update(terms)
                stems.update(s for s in map(stem, terms) if s)
    if not (stems or exact or prefixes or phrases):
        # A query of stop words only is searched as a phrase; mark it as one.
        words = tuple(t for g in parsed.groups for c in g for t in c.terms())
        if words:
            phrases.append(words)
    return Terms(frozenset(stems), frozenset(exact), tuple(prefixes), tuple(phrases))


@lru_cache(maxsize=256)
def _scanner(terms: Terms) -> tuple[re.Pattern[str] | None, tuple[str, ...] | None] | None:
    """A regex finding, in folded text, the start of every word that may match; or, when
    it would be an alternation of plain literals run on the lower-cased text (the caller
    then checks word starts itself), no regex (compiling one costs a new query 20 µs and
    more, and `_starts` finds the literals without it) and those literals.

    Words of letters and digits only (nearly always) are looked for as plain literals: a
    look-behind or IGNORECASE would keep the regex engine from skipping ahead to the first
    letter of a literal (3 to 5 times slower on long articles). Such a literal matched
    inside a word ends inside it, so it never hides a match starting at a word.
    """
    starts = set(terms.stems) | set(terms.exact) | set(terms.prefixes)
    starts |= {phrase[0] for phrase in terms.phrases if phrase}
    starts = {s.lower() for s in starts if s}
    if not starts:
        return None
    ordered = sorted(starts, key=lambda s: (-len(s), s))
    alternatives = "|".join(re.escape(s) for s in ordered)
    if all(s.isascii() and s.isalnum() for s in starts):
        return None, tuple(ordered)
    return re.compile(rf"(?<![A-Za-z0-9])(?:{alternatives})", re.IGNORECASE), None


def literal_starts(scanned: str, literals: tuple[str, ...]) -> list[int]:
    """The starts of `re.finditer` of the literals' alternation (longest first) in
    `scanned`: every occurrence of each literal found with `str.find` (a C search, twice
    as fast as the regex trying the alternation wherever one could start), then the
    leftmost ones kept, the longest at each place, none starting inside the one before,
    as the regex's scan keeps them. A literal starting with another one (a word's exact
    form and its stem) is not searched for: it is tried where the shorter one is found."""
    return _starts(scanned, _literal_groups(literals))


def _starts(scanned: str, groups: tuple[tuple[str, tuple[tuple[str, int], ...]], ...]
            ) -> list[int]:
    """`literal_starts` of the literals grouped by `_literal_groups`."""
    if len(groups) == 1:
        # One literal (a rare word's stem), perhaps with longer ones starting with it (its
        # exact form): its occurrences, each searched for after the one before (after the
        # longest literal found there), are the leftmost that do not overlap: what keeping
        # every place and dropping those inside the one kept before gives.
        short, longer = groups[0]
        size = len(short)
        starts = []
        find = scanned.find
        at = find(short)
        if not longer:
            while at != -1:
                starts.append(at)
                at = find(short, at + size)
            return starts
        startswith = scanned.startswith
        while at != -1:
            starts.append(at)
            length = size
            for literal, longest in longer:  # longest first
                if startswith(literal, at):
                    length = longest
                    break
            at = find(short, at + length)
        return starts
    longest: dict[int, int] = {}
    for short, longer in groups:
        size = len(short)
        at = scanned.find(short)
        while at != -1:
            for literal, length in longer:  # longest first: a place keeps the longest
                if scanned.startswith(literal, at):
                    longest[at] = length
                    break
            else:
                longest[at] = size
            at = scanned.find(short, at + 1)
    starts = []
    end = 0
    for at in sorted(longest):
        if at >= end:
            starts.append(at)
            end = at + longest[at]
    return starts


@lru_cache(maxsize=256)
def _literal_groups(literals: tuple[str, ...]
                    ) -> tuple[tuple[str, tuple[tuple[str, int], ...]], ...]:
    """Each of `literals` (distinct, longest first) that starts with none of the others,
    with the others that start with it, longest first, and their lengths. Two literals found
    at one place start one with the other: each place is found once, through the shortest."""
    return tuple((short, tuple((other, len(other)) for other in literals
                               if other != short and other.startswith(short)))
                 for short in literals
                 if not any(other != short and short.startswith(other) for other in literals))


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


_CHECK_EVERY = 2048  # characters of a text scanned between two checks of the deadline
WORDS_KEPT = 512  # words a Highlighter remembers checking (then it forgets them all)


class Highlighter:
    """One query's highlighting, made once for a page's hits: its terms, the scanner of the
    words they start with (see `_scanner`), and the words already checked against them."""

    __slots__ = ("terms", "_checked", "_literals", "_pattern", "_groups", "_scans", "_phrases")

    def __init__(self, terms: Terms) -> None:
        self.terms = terms
        scanner = _scanner(terms)
        self._pattern, self._literals = scanner if scanner is not None else (None, None)
        self._scans = scanner is not None  # else nothing matches
        self._checked: dict[str, bool] = {}
        # The literals grouped once (see `_starts`), not hashed again for each text.
        self._groups = _literal_groups(self._literals) if self._literals is not None else ()
        # Each phrase, and its words joined by a space when they are plain letters and
        # digits (see `_matches_in`).
        self._phrases = tuple((phrase, " ".join(phrase) if phrase and all(
            word.isascii() and word.isalnum() for word in phrase) else None)
            for phrase in terms.phrases)

    def _word_matches(self, word: str) -> bool:
        known = self._checked.get(word)
        if known is None:
            known = _word_matches(word, self.terms)
            if len(self._checked) >= WORDS_KEPT:
                self._checked.clear()
            self._checked[word] = known
        return known

    def matches(self, text: str, *, enough: int | None = None) -> list[tuple[int, int]]:
        """`find_matches(text, terms, enough=enough)`."""
        if not self._scans or not text:
            return []
        if enough is None or len(text) <= CHUNK_CHARS:
            return self._matches_in(text)
        return self._chunked(text, enough)[0]

    def _chunked(self, text: str, enough: int) -> tuple[list[tuple[int, int]], int]:
        """`matches(text, enough=enough)` of a text read a chunk at a time, and where the
        reading stopped (the end of the last chunk read)."""
        found: list[tuple[int, int]] = []
        start = 0
        while start < len(text) and len(found) < enough:
            end = min(len(text), start + CHUNK_CHARS)
            if end < len(text):  # cut between words, so none is split
                space = text.rfind(" ", start + CHUNK_CHARS // 2, end)
                end = space if space != -1 else end
            found.extend((s + start, e + start) for s, e in self._matches_in(text[start:end]))
            start = end
        return found, start

    def _matches_in(self, text: str) -> list[tuple[int, int]]:
        # The folded text lower-cased as it is folded (see fold_lower_uneven): the words
        # and phrases are compared with the terms case-insensitively, so the scan, the
        # checks and the phrases all read it.
        folded, uneven = fold_lower_uneven(text)
        lowered = self._literals is not None
        if lowered:
            candidates: Iterable[int] = _starts(folded, self._groups)
            if not candidates:
                return []  # no word is there (most titles)
        else:
            candidates = (m.start() for m in self._pattern.finditer(folded))  # type: ignore[union-attr]
        found: list[tuple[int, int]] = []
        last_end = 0
        phrases = self._phrases
        checked = self._checked
        startswith = folded.startswith
        word_at = _WORD_AT.match
        word_chars = _WORD_CHARS
        # The deadline is checked before the first candidate and then once every
        # _CHECK_EVERY characters the scan moves on, not at every candidate.
        next_check = 0
        for start in candidates:
            if start >= next_check:
                check()
                next_check = start + _CHECK_EVERY
            if start < last_end or (lowered and start and folded[start - 1] in word_chars):
                continue
            end = None
            for phrase, joined in phrases:
                if joined is not None and startswith(joined, start):
                    # The phrase's words one space apart (nearly always): it matches
                    # there if its last word ends there, as `_phrase_end` finds.
                    after = start + len(joined)
                    if folded[after:after + 1] not in word_chars and \
                            (folded[after:after + 1] != "'" or
                             folded[after + 1:after + 2] not in word_chars):
                        end = after
                        break
                end = _phrase_end(folded, start, phrase)
                if end is not None:
                    break
            if end is None:
                word = word_at(folded, start)
                if word is None:
                    continue
                group = word.group()
                known = checked.get(group)
                if known is None:
                    known = self._word_matches(group)
                if not known:
                    continue
                end = word.end()
            found.append((start, end))
            last_end = end
        if not found or uneven == []:
            return found  # every character folds to one: the offsets are the original's
        until = found[-1][1] - 1  # the matches are in order
        if uneven is None:
            offsets = OffsetMap(text, until=until)
            mapped = [(offsets.original(s), offsets.original(e - 1) + 1, s, e)
                      for s, e in found]
            # A character folded into several words (« ¼ » is "1/4") is no match for one
            # of them.
            return [(s, e) for s, e, fs, fe in mapped
                    if fold(text[s:e]).lower() == folded[fs:fe]]
        moved = uneven_offsets(text, uneven, until)
        if not moved:
            # Up to the last match, every character folds to exactly one: the offsets are
            # the original's, and each match folds to itself, character by character.
            return found
        return _moved_back(text, found, moved)

    def mark_all(self, text: str) -> str:
        """`mark_all(text, terms)`."""
        spans = self._matches_in(text) if self._scans and text else []  # self.matches(text)
        return _render(text, 0, len(text), spans) if spans else escaped(text)

    def mark_titles(self, titles: list[str]) -> list[str]:
        """`[self.mark_all(title) for title in titles]`, the titles of a page: folded and
        scanned together first when the terms are plain literals (a literal holds no line
        break, so one found in the titles joined by line breaks is inside one of them):
        when none is there (most pages of a rare word), each title is only escaped, not
        folded and scanned on its own (a fold's fixed cost, ten times)."""
        if self._literals is not None and len(titles) > 1:
            folded, _ = fold_lower_uneven("\n".join(titles))
            if not _starts(folded, self._groups):
                return [escaped(title) for title in titles]
        mark = self.mark_all
        return [mark(title) for title in titles]

    def highlight(self, text: str, *, size: int = SNIPPET_CHARS, fragments: int = 2) -> str:
        """`highlight(text, terms, size=size, fragments=fragments)`."""
        if not self._scans or not text:
            return ""
        spans = self._matches_in(text) if len(text) <= CHUNK_CHARS else \
            self.matches(text, enough=ENOUGH_MATCHES)
        if not spans:
            return ""
        return _join(text, _windows(text, spans, size, keep=fragments), spans)  # in order

    def snippet(self, lead: str, body: str, *, size: int = SNIPPET_CHARS) -> str:
        """`snippet(lead, body, terms, size=size)`."""
        text = f"{lead}\n{body}" if lead and not body.startswith(lead[:80]) else body or lead
        if self._scans and text:
            shown = self._unbroken_snippet(text, size)
            if shown is not None:
                return shown
        text = one_line_break(text)
        return self.highlight(text, size=size) or _opening(text, size)

    def snippets(self, hits: list[tuple[str, str]], *, size: int = SNIPPET_CHARS) -> list[str]:
        """`[self.snippet(lead, body, size=size) for lead, body in hits]`, a page's snippets
        made a step at a time across its hits: every text's matches found, then every
        passage chosen, then every snippet joined, each step's code running for the whole
        page in a row. The deadline is checked before each hit's matches."""
        texts = [f"{lead}\n{body}" if lead and not body.startswith(lead[:80]) else body or lead
                 for lead, body in hits]
        shown: list[str | None] = [None] * len(texts)
        found: list[tuple[int, str, list[tuple[int, int]]]] = []  # the hits to pass on
        matches = self._matches_in
        for n, text in enumerate(texts):
            check()
            if self._scans and text and len(text) <= CHUNK_CHARS and size >= _LINE_SAFE_SIZE:
                spans = matches(text)
                if not spans:
                    shown[n] = _opening(one_line_break(text), size)
                elif not self._phrases or all(text.find("\n", s, e) == -1 for s, e in spans):
                    found.append((n, text, spans))
            else:
                shown[n] = self.snippet(*hits[n], size=size)
        windows = [_windows(text, spans, size, loose=True, keep=2) for _, text, spans in found]
        for (n, text, spans), passages in zip(found, windows, strict=True):
            shown[n] = _join(text, passages, spans)
        for n, snippet in enumerate(shown):
            if snippet is None:  # a phrase across a line break: the way before
                shown[n] = self.snippet(*hits[n], size=size)
        return shown  # type: ignore[return-value]

    def _unbroken_snippet(self, text: str, size: int) -> str | None:
        """The snippet of `text` made without `one_line_break` (which splits the article
        into lines, strips them and joins them again: after reading the article, the
        largest cost of a long one's snippet), when that is known to give the same; else
        None, and the caller makes it the way before.

        `one_line_break` strips each line and drops the blank ones: every offset inside a
        line is shifted by what was dropped before the line, and a passage stays inside
        its paragraph, the line without its ends' blank space (`_windows` with `loose`).
        Passages, cuts, ellipses and marks read only their paragraph and the blank
        character at each of its ends. What may differ is the matches: a phrase matched
        across a line break (then None: the way before joins the two lines), and a long
        text's chunks (`matches` with `enough`), which here are not those of the text made
        one line a break. They find the same when no phrase is looked for (a word holds no
        space), every chunk ends before a space (every stretch of half a chunk holds a
        space that `one_line_break` keeps) and fewer than `ENOUGH_MATCHES` are found in all
        (then every chunk is read, here and there). Passages shorter than
        `_LINE_SAFE_SIZE` are left to the way before: a cut at a word looks 40 characters
        on, which a passage that short may take past its paragraph."""
        if size < _LINE_SAFE_SIZE:
            return None
        long = len(text) > CHUNK_CHARS
        if long and (self.terms.phrases or not _kept_spaces(text, CHUNK_CHARS // 4)):
            return None
        # A long text is scanned a chunk at a time, and no further once ENOUGH_MATCHES are
        # found (a frequent word's): the way before then makes the snippet, of the text's
        # first lines when that is known to give the same (`_early_snippet`).
        if long:
            spans, read = self._chunked(text, ENOUGH_MATCHES)
        else:
            spans, read = self._matches_in(text), len(text)
        if not spans:
            return _opening(one_line_break(text), size)
        if long and len(spans) >= ENOUGH_MATCHES:
            return self._early_snippet(text, read, size)
        if self.terms.phrases:
            find = text.find
            for start, end in spans:
                if find("\n", start, end) != -1:
                    return None  # a phrase across a line break joins two lines
        return _join(text, _windows(text, spans, size, loose=True, keep=2), spans)

    def _early_snippet(self, text: str, read: int, size: int) -> str | None:
        """The way before's snippet of a long `text` whose first `read` characters hold
        ENOUGH_MATCHES matches: `highlight` of the text made one line a break, which
        reads it a chunk at a time and stops there too, made of its first lines only
        (`one_line_break` of what is left of a long article costs more than the rest of
        its snippet). The lines are those up to a line break a chunk past `read`: the text
        made one line a break starts with them, and when every chunk read there ends
        before them (its end, the space it is cut at, its matches are then the same) and
        they are more than a chunk, its matches, passages and cuts are those of the whole:
        they read no further than a passage's paragraph, but for a start moved on to a
        word (_WORD_REACH characters). Else None (the way before)."""
        stop = text.find("\n", read + CHUNK_CHARS)
        if stop == -1:
            return None
        part = one_line_break(text[:stop])
        if len(part) <= CHUNK_CHARS:
            return None
        spans, read = self._chunked(part, ENOUGH_MATCHES)
        if read >= len(part) or not spans or spans[-1][0] + _WORD_REACH >= len(part):
            return None  # a chunk ended with the lines, or a cut could look past them
        return _join(part, _windows(part, spans, size, keep=2), spans)


def _kept_spaces(text: str, step: int) -> bool:
    """Whether every `step` characters of `text` from its start (the last ones shorter
    than `step` apart) hold a space between two characters that are not blank, which
    `one_line_break` keeps: then every stretch of `2 * step - 1` characters holds one."""
    find = text.find
    last = len(text) - 1
    for at in range(0, len(text) - step + 1, step):
        space = find(" ", at, at + step)
        while space != -1 and (space == 0 or space == last or text[space - 1].isspace()
                               or text[space + 1].isspace()):
            space = find(" ", space + 1, at + step)
        if space == -1:
            return False
    return True


_FOLDED_LENGTH: dict[str, int] = {}  # characters folding to several: how many


def _moved_back(text: str, found: list[tuple[int, int]], moved: list[int]
                ) -> list[tuple[int, int]]:
    """The matches `found` in the folded text as offsets in `text`, given `moved`: the
    offsets in `text`, in order, of its characters that fold to several (none to nothing),
    up to the last match at least. A match starting or ending inside what one character
    folds to (the "1" of « ¼ », " 1/4") is no match: it is dropped. What
    `OffsetMap.original` and folding each match again give (a match folds to itself when
    its bounds are those of characters), in one walk through both lists."""
    lengths = _FOLDED_LENGTH
    widths = []  # (folded start, folded end, offset in text) of each moved character
    shift = 0
    for at in moved:
        char = text[at]
        size = lengths.get(char)
        if size is None:
            size = lengths[char] = len(fold(char))
        widths.append((at + shift, at + shift + size, at))
        shift += size - 1
    kept = []
    count = len(widths)
    j, shift = 0, 0  # the first character not wholly before the match, and the shift so far
    for start, end in found:
        while j < count and widths[j][1] <= start:
            shift += widths[j][1] - widths[j][0] - 1
            j += 1
        if j < count and widths[j][0] <= start:
            if widths[j][0] != start:
                continue
            original_start = widths[j][2]
        else:
            original_start = start - shift
        last, k, last_shift = end - 1, j, shift
        while k < count and widths[k][1] <= last:
            last_shift += widths[k][1] - widths[k][0] - 1
            k += 1
        if k < count and widths[k][0] <= last:
            if widths[k][1] != end:
                continue
            original_end = widths[k][2] + 1
        else:
            original_end = end - last_shift
        kept.append((original_start, original_end))
    return kept


@lru_cache(maxsize=256)
def highlighter(terms: Terms) -> Highlighter:
    """The Highlighter of `terms`, kept for the next calls with the same terms."""
    return Highlighter(terms)


def find_matches(text: str, terms: Terms, *, enough: int | None = None
                 ) -> list[tuple[int, int]]:
    """(start, end) in `text` of every matching word or phrase, in order, not overlapping.

    With `enough`, long texts are read a chunk at a time and reading stops once that many
    matches are found: a snippet needs the first good passages, not every match of a
    100,000-character article.
    """
    return highlighter(terms).matches(text, enough=enough)


def _render(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> str:
    """`text[start:end]` escaped, the spans inside it in <mark>."""
    out, pos = [], start
    # The spans inside: a run from the first starting at `start` or after (in order and
    # apart, none after one ending past `end` ends before it).
    i = bisect_left(spans, (start,)) if spans and spans[0][0] < start else 0
    count = len(spans)
    shown = text[start:end]
    if "&" not in shown and "<" not in shown and ">" not in shown:
        # nothing to escape (nearly always)
        while i < count:
            s, e = spans[i]
            if e > end:
                break
            out += (text[pos:s], "<mark>", text[s:e], "</mark>")
            pos = e
            i += 1
        out.append(text[pos:end])
        return "".join(out)
    while i < count:
        s, e = spans[i]
        if e > end:
            break
        out.append(escape(text[pos:s], quote=False))
        out.append("<mark>" + escape(text[s:e], quote=False) + "</mark>")
        pos = e
        i += 1
    out.append(escape(text[pos:end], quote=False))
    return "".join(out)


def escaped(text: str) -> str:
    """`escape(text, quote=False)` (a title shown without marks); a text without & < >
    (nearly every title) is itself, found with three `in` tests instead of three `replace`
    (0.1 against 0.4 µs)."""
    if "&" in text or "<" in text or ">" in text:
        return escape(text, quote=False)
    return text


def mark_all(text: str, terms: Terms) -> str:
    """All of `text` (a title), escaped, with every match marked."""
    return highlighter(terms).mark_all(text)


def _word_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """Move `start` forward and `end` backward to the nearest word boundaries."""
    if start > 0 and not text[start - 1].isspace():
        space = text.find(" ", start, start + _WORD_REACH)
        start = space + 1 if space != -1 else start
    if end < len(text) and not text[end].isspace():
        space = text.rfind(" ", max(start, end - _WORD_REACH), end)
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
        # The first sentence starting in the passage before its first match, else the last
        # one starting a little before it, else its paragraph's start if near, else the
        # first clause, else a word.
        low = start - _REACH if start - _REACH > top else top
        near = text[low:first]
        if "." not in near and "!" not in near and "?" not in near and "…" not in near:
            # No sentence mark from a little before the passage to its first match (three
            # cuts in four): no sentence starts or ends there, no pattern is tried.
            gap = before = None
        else:
            gap = _SENTENCE_GAP.search(text, start, first)
            before = None if gap is not None else _last_sentence_end(text, low, start)
        if gap is not None:
            start = gap.end()
        else:
            if before is not None:
                start = _SENTENCE_GAP.match(text, before, start).end()  # type: ignore[union-attr]
            elif start - top <= _REACH:
                start = top
            else:
                gap = _CLAUSE_MARK.search(text, start, first)  # ends where _CLAUSE_GAP's does
                start = gap.end() if gap is not None else _word_bounds(text, start, end)[0]
    if end < bottom:
        stop = _last_sentence_end(text, last, end + 1)
        if stop is not None:
            end = stop + 1
        else:
            clause = _last_clause(text, last, end + 1)
            end = clause if clause is not None else _word_bounds(text, start, end)[1]
    return start, end


def _last_sentence_end(text: str, pos: int, endpos: int) -> int | None:
    """Where the last match of `_SENTENCE_GAP.finditer(text, pos, endpos)` starts, or None.

    Its matches start at every mark (. ! ? …) where the pattern matches (the characters a
    match takes after its mark are no marks: no match hides another), so the marks are
    tried from the last one back, found with `str.rfind`, instead of the pattern read over
    the whole passage."""
    rfind, match = text.rfind, _SENTENCE_GAP.match
    passage = text[pos:endpos]
    if "!" not in passage and "?" not in passage and "…" not in passage:
        # periods alone (nearly always)
        at = rfind(".", pos, endpos)
        while at != -1 and match(text, at, endpos) is None:
            at = rfind(".", pos, at)
        return None if at == -1 else at
    at = endpos
    while True:
        at = max(rfind(".", pos, at), rfind("!", pos, at), rfind("?", pos, at),
                 rfind("…", pos, at))
        if at == -1 or match(text, at, endpos) is not None:
            return None if at == -1 else at


def _last_clause(text: str, pos: int, endpos: int) -> int | None:
    """Where the last match of `_CLAUSE_GAP.finditer(text, pos, endpos)` starts, or None.

    Found through `_CLAUSE_MARK` (`[,;:][ \t]+`), whose matches end where `_CLAUSE_GAP`'s
    do (its leading blanks are no punctuation, and the blanks after a mark are taken by
    it): a pattern opening with optional blanks is tried at every character, ten times
    slower. Its matches start at every mark followed by a blank, so the last one is the
    last such mark, found with `str.rfind`. The blanks before it are then walked back,
    down to the end of the match before it: that match, if the walk reaches it, is the
    mark just before the blanks."""
    if endpos - pos < 2:
        return None  # a mark and a blank do not fit (and a negative end is no offset)
    rfind = text.rfind
    at = endpos - 1  # a mark needs a blank after it, before endpos
    marks = text[pos:at]
    if ";" not in marks and ":" not in marks:  # commas alone: one search a comma
        at = rfind(",", pos, at)
        while at != -1 and text[at + 1] not in " \t":
            at = rfind(",", pos, at)
        if at == -1:
            return None
    else:
        while True:
            at = max(rfind(",", pos, at), rfind(";", pos, at), rfind(":", pos, at))
            if at == -1:
                return None
            if text[at + 1] in " \t":
                break
    start = at
    while start > pos and text[start - 1] in _CLAUSE_BLANKS:
        start -= 1
    if start < at and start > pos and text[start - 1] in ",;:" and text[start] in " \t":
        # The walk went back into the blanks of the match before (the mark at start - 1):
        # it stops where that match ends.
        floor = start
        while floor < at and text[floor] in " \t":
            floor += 1
        return floor
    return start


def _windows(text: str, spans: list[tuple[int, int]], size: int, *, loose: bool = False,
             keep: int = MAX_FRAGMENTS) -> list[tuple[int, int, tuple[int, int]]]:
    """The best non-overlapping passages: most distinct matched words, then earliest; each
    within one paragraph, so that a heading never runs into the next sentence. `loose`:
    `text` is not `one_line_break`'s (see `Highlighter._unbroken_snippet`): a paragraph is
    its line without the blank space at its ends, and no match holds a line break. Of the
    passages chosen (up to MAX_FRAGMENTS), the first `keep` in order."""
    before = size // 3
    length = len(text)
    if len(spans) == 1:  # one match (a rare word, most often): its passage, nothing to rank
        ((s, e),) = spans
        top = text.rfind("\n", 0, s) + 1
        bottom = _paragraph_end(text, s, e, length)
        if loose and (text[top].isspace() or text[bottom - 1].isspace()):
            top, bottom = _trimmed(text, top, bottom, s, e)
        start, end = _window(s, e, top, bottom, size, before)
        start, end = _cut(text, start, end, s, e, (top, bottom))
        return [(start, end, (top, bottom))][:keep]
    scored = []
    # Spans are in order and do not overlap: those inside a passage are a run of them.
    starts = [a for a, _ in spans]
    ends = [b for _, b in spans]
    matched: list[str] | None = None  # each span's word, once, when a passage holds two
    line_end = -1  # where the line of the span before ends (its paragraph, unless joined)
    top = line_bottom = 0
    count = len(spans)
    for i in range(count):
        s, e = spans[i]
        # The paragraph (text between line breaks) holding the match: the one before's
        # when the match starts before that line's end.
        if s >= line_end:
            top = text.rfind("\n", 0, s) + 1
            line_end = text.find("\n", s)
            if line_end == -1:
                line_end = length
            line_bottom = line_end
            if loose and (text[top].isspace() or text[line_end - 1].isspace()):
                top, line_bottom = _trimmed(text, top, line_end, s, e)
        bottom = line_bottom
        if e > bottom:  # a phrase matched across a line break joins the two lines
            bottom = text.find("\n", e - 1)
            if bottom == -1:
                bottom = length
        # The match's passage (`_window`, inlined: a call a match).
        start = s - before if s - before > top else top
        end = start + size if start + size < bottom else bottom
        if end < e:
            end = e  # the match whole, however long
        if end - size < start:
            start = end - size if end - size > top else top  # a paragraph ending soon
        if scored and start == scored[-1][1] and end == scored[-1][2] and \
                (top, bottom) == scored[-1][5]:
            # The passage of the match before (a short paragraph holding both): the same
            # matches inside, the same score.
            scored.append(scored[-1])
            continue
        # The passage holds its own match, and others only if it holds a neighbour.
        if (i and start <= starts[i - 1]) or (i + 1 < count and ends[i + 1] <= end):
            first, last = bisect_left(starts, start), bisect_right(ends, end)
            if matched is None:
                matched = [text[a:b].lower() for a, b in spans]
            scored.append((-len(set(matched[first:last])), start, end, starts[first],
                           ends[last - 1], (top, bottom)))
        else:
            scored.append((-1, start, end, s, e, (top, bottom)))
    scored.sort()
    chosen: list[tuple[int, int, tuple[int, int]]] = []
    cut_before: object = None  # the passage cut last, and its bounds once cut
    cut = (0, 0)
    # With one passage short of MAX_FRAGMENTS chosen and fewer kept, a passage whose cut
    # certainly starts after all of them (a cut starts at most _REACH before its window)
    # would be chosen last and left out: the choice ends there, that passage not cut.
    beyond = length
    for passage in scored:
        if passage is not cut_before and passage != cut_before:
            _, start, end, first, last, paragraph = passage
            if start - _REACH > beyond:
                break
            cut = _cut(text, start, end, first, last, paragraph)
            cut_before = passage
        start, end = cut
        paragraph = passage[5]
        for a, b, _ in chosen:
            if end > a and start < b:
                break  # overlaps a passage chosen before
        else:
            chosen.append((start, end, paragraph))
            if len(chosen) == MAX_FRAGMENTS:
                break
            if len(chosen) == MAX_FRAGMENTS - 1 and 0 < keep < MAX_FRAGMENTS:
                beyond = max(max(a, b) for a, b, _ in chosen)
    chosen.sort()
    return chosen[:keep]


def _trimmed(text: str, top: int, bottom: int, s: int, e: int) -> tuple[int, int]:
    """The line `text[top:bottom]` holding the match `s:e` without the blank space at its
    ends: the paragraph `one_line_break` makes of it."""
    while top < s and text[top].isspace():
        top += 1
    while bottom > e and text[bottom - 1].isspace():
        bottom -= 1
    return top, bottom


def _paragraph_end(text: str, s: int, e: int, length: int) -> int:
    """Where the paragraph holding the match `text[s:e]` ends (a line break or the end)."""
    bottom = text.find("\n", s)
    if bottom == -1:
        return length
    if e > bottom:  # a phrase matched across a line break joins the two lines
        bottom = text.find("\n", e - 1)
        if bottom == -1:
            return length
    return bottom


def _window(s: int, e: int, top: int, bottom: int, size: int, before: int
            ) -> tuple[int, int]:
    """The passage of about `size` characters around the match `s:e`, inside its paragraph
    `top:bottom`, before it is cut at sentences."""
    start = s - before if s - before > top else top
    end = start + size if start + size < bottom else bottom
    if end < e:
        end = e  # the match whole, however long
    if end - size < start:
        start = end - size if end - size > top else top  # a paragraph ending soon
    return start, end


def _join(text: str, passages: list[tuple[int, int, tuple[int, int]]],
          spans: list[tuple[int, int]]) -> str:
    """Passages joined by ` … `, their matches marked; the first opens with `…` if it
    starts mid-sentence, the last ends with `…` if it stops mid-sentence: never an ellipsis
    glued to a period."""
    (first, _, (top, _)), (_, last, (_, bottom)) = passages[0], passages[-1]
    if len(passages) == 1:
        out = _render(text, first, last, spans)
    elif len(passages) == 2:
        out = _render(text, first, passages[0][1], spans) + " … " + \
            _render(text, passages[1][0], last, spans)
    else:
        out = " … ".join([_render(text, start, end, spans) for start, end, _ in passages])
    if "\n" in out:
        out = out.replace("\n", " ")
    # The pattern of a sentence ending before the passage ends with blanks (at the end,
    # or before a line break there): a passage after another character opens mid-sentence.
    if first > top and (text[first - 1] not in " \t\n" or
                        not _SENTENCE_BEFORE.search(text, max(0, first - 4), first)):
        out = "…" + out
    # A passage ending on a sentence's mark ends the sentence; one ending on another
    # character than those that may follow the mark stops mid-sentence.
    if last < bottom:
        end = text[last - 1] if last else ""
        if end not in _SENTENCE_MARKS and (
                end not in _CLOSERS or text[max(0, last - 8):last].rstrip("»”) ")[-1:] not in (
                    ".", "!", "?", "…")):
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
    return highlighter(terms).highlight(text, size=size, fragments=fragments)


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
    return highlighter(terms).snippet(lead, body, size=size)
