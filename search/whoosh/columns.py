"""The words of the text fields pooled as columns of term numbers, grouped with numpy.

Pooling a posting at a time costs Python work per posting (a tuple, a dictionary lookup,
three appends): the largest part of a build. For the fields Furet analyses itself
(`WeightedText` with Furet's analyzers), `TokenColumns` keeps each word of an article as a
term number in one array, with its weight and position in two more; the analysis of a
word is a dictionary lookup (memoised per raw word, stemming included). The fields that
FrenchFilter analyses pool the same words (`text` and `exact` an article's title, lead
and body, `title` and `title_exact` its title): with `SharedWords` each list of words is
looked up once for all of them, and each field's columns hold the shared numbers, turned
into its term numbers with numpy when needed. When the segment is written, `grouped()`
sorts the columns by term with numpy (stably: documents and positions stay in order) and
sums them into postings, the arrays the segment writer (search/whoosh/private/writing.py)
hands to Whoosh and to the flat postings file.
"""

from __future__ import annotations

import struct
import sys
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from search.schema import PART_GAP

__all__ = ["Grouped", "SharedWords", "TokenColumns", "stable_order"]

STOPPED = -1  # the term number of a word the analyzer drops
TEXTS_KEPT = 10_000  # text values whose term numbers a field's columns remember
_RECENT_LISTS = 16  # word lists whose numbers SharedWords remembers
_SIGN_BYTE = 3 if sys.byteorder == "little" else 0  # an int32's byte holding its sign
_NEGATIVE = bytes(int(b >= 0x80) for b in range(256))  # sign byte -> 1 if negative
_UNKNOWN = -2  # a shared word a field has not analysed (term numbers are >= STOPPED)
_INT32 = struct.Struct("=i").pack  # a number as the bytes of an int32 in an array("i")


class _TermNumbers(dict[str, int]):
    """Raw word -> term number (STOPPED for a stop word), analysing each word once."""

    def __init__(self, term: Callable[[str], str | None]) -> None:
        super().__init__()
        self.term = term
        self.numbers: dict[str, int] = {}
        self.terms: list[str] = []

    def __missing__(self, word: str) -> int:
        text = self.term(word)
        if text is None:
            number = STOPPED
        else:
            number = self.numbers.get(text, -1)
            if number < 0:
                number = self.numbers[text] = len(self.terms)
                self.terms.append(text)
        self[word] = number
        return number


class SharedWords(dict[str, bytes]):
    """Raw word -> its number as an int32's bytes (native order), one table for every
    pooled field of a segment whose term is worked out from the word by Furet's
    FrenchFilter: stop words (`stops`) numbered -1, -2, ..., the other words 0, 1, ... in
    the order first seen.

    The `text` and `exact` fields pool the same words (and `title` and `title_exact` those
    of the title): `numbered` looks each word of a list up once for all of them, and each
    field's columns turn these numbers into its term numbers with numpy when grouped.
    The numbers are kept as bytes so that a list's are joined by `bytes.join` in C: an
    array made from a list of ints converts each item (about a third of the lookup).
    """

    def __init__(self, stops: Callable[[str], bool]) -> None:
        super().__init__()
        self.stops = stops
        self.kept: list[str] = []  # word of each number from 0
        self.stopped: list[str] = []  # word of each number from -1 down
        self._recent: dict[int, tuple[list[str], bytes, int]] = {}

    def __missing__(self, word: str) -> bytes:
        if self.stops(word):
            self.stopped.append(word)
            number = -len(self.stopped)
        else:
            self.kept.append(word)
            number = len(self.kept) - 1
        packed = self[word] = _INT32(number)
        return packed

    def number(self, word: str) -> int:
        """The number of `word` (numbered now if new)."""
        return int.from_bytes(self[word], sys.byteorder, signed=True)

    def numbered(self, words: list[str]) -> tuple[bytes, int]:
        """The numbers of `words` (int32s' bytes, native order) and how many are stop
        words; remembered for the last lists given (the same list object)."""
        found = self._recent.get(id(words))
        if found is not None and found[0] is words:
            return found[1], found[2]
        numbers = b"".join(map(self.__getitem__, words))
        # Stop words are the negative numbers: their sign byte counted, in C.
        stopped = numbers[_SIGN_BYTE::4].translate(_NEGATIVE).count(1)
        if len(self._recent) >= _RECENT_LISTS:
            self._recent.clear()
        self._recent[id(words)] = (words, numbers, stopped)
        return numbers, stopped


@dataclass
class Grouped:
    """One field's postings, term after term (terms in Whoosh's order: by their bytes)."""

    terms: list[bytes]
    starts: Any  # int64, terms + 1: where each term's postings start
    docs: Any  # uint32, per posting
    weights: Any  # float32, per posting
    counts: Any  # uint32, per posting: the term's occurrences (positions) in the document
    positions: Any | None  # uint32, posting after posting (positional fields), else None


def stable_order(ranks: Any, count: int) -> Any:
    """`np.argsort(ranks, kind="stable")` of ranks below `count`: as 16-bit numbers when they
    fit, which numpy sorts by radix (about 5 times faster than its stable sort of int32)."""
    if count <= 0x10000:
        return np.argsort(ranks.astype(np.uint16), kind="stable")
    return np.argsort(ranks, kind="stable")


class TokenColumns:
    """Every word of one field in a segment: term number, weight, position; documents."""

    def __init__(self, term: Callable[[str], str | None], positional: bool,
                 boost: float = 1.0, shared: SharedWords | None = None,
                 drops: bool = False) -> None:
        """`shared`: the words are pooled as their numbers in `shared` (their term numbers
        worked out when needed), `drops` saying whether `term` drops its stop words (it
        must give None for exactly those words, or for none of them: checked)."""
        self._numbers = _TermNumbers(term)
        self._lookup = self._numbers.__getitem__
        self._shared = shared
        self._drops = drops
        # Term number of each shared number (kept words, and stop words from -1 down),
        # _UNKNOWN until the field pools the word.
        self._kept_terms = np.zeros(0, dtype=np.int32)
        self._stopped_terms = np.zeros(0, dtype=np.int32)
        self.positional = positional
        self.boost = boost
        self.tokens = array("i")
        # Each part's word count and weight (its number in `part_weights`): weights and
        # positions of the words are spread from them when the columns are grouped.
        self.part_lengths = array("I")
        self.parts = array("B")
        self.part_weights: list[float] = []
        self._weight_numbers: dict[float, int] = {}
        self.docs = array("I")
        self.doc_parts = array("I")
        self.doc_tokens = array("I")
        self._texts: dict[str, tuple[list[tuple[bytes, int, int]], int]] = {}  # add_text's
        self._seen: set[str] = set()
        # `nbytes()`, kept as words are pooled (asked after every document a build adds).
        self._word_bytes = 4 + 1 + (4 if positional else 0)
        self.pooled_bytes = 0

    @property
    def term(self) -> Callable[[str], str | None]:
        """The analysis of a word: its term, None when dropped."""
        return self._numbers.term

    @property
    def terms(self) -> list[str]:
        """The terms by number."""
        return self._numbers.terms

    def dropped(self) -> list[int]:
        """The numbers that stand for no term: STOPPED, and the empty term's if any."""
        empty = self._numbers.numbers.get("")
        return [STOPPED] if empty is None else [STOPPED, empty]

    def add(self, docnum: int, parts: Sequence[tuple[list[str], float]]) -> int:
        """Pool the words of one document's parts; return its length (words kept)."""
        return self._pool(docnum, *self._numbered(parts))

    def add_text(self, docnum: int, value: str,
                 parts_of: Callable[[str], Sequence[tuple[list[str], float]]]) -> int:
        """`add(docnum, parts_of(value))` of a text value, its term numbers remembered:
        sections (and authors) repeat from article to article."""
        known = self._texts.get(value)
        if known is None:
            if value not in self._seen:  # remembered from its second time (titles seldom)
                if len(self._seen) >= TEXTS_KEPT:
                    self._seen.clear()
                self._seen.add(value)
                return self.add(docnum, parts_of(value))
            known = self._numbered(parts_of(value))
            if len(self._texts) >= TEXTS_KEPT:
                self._texts.clear()
            self._texts[value] = known
        return self._pool(docnum, *known)

    def _pool(self, docnum: int, numbered: list[tuple[bytes, int, int]], kept: int) -> int:
        """Pool one document's parts as `_numbered` gives them; return `kept`."""
        tokens, count = self.tokens, 0
        for numbers, length, number in numbered:
            tokens.frombytes(numbers)  # copied whole
            self.parts.append(number)
            self.part_lengths.append(length)
            count += length
        self.docs.append(docnum)
        self.doc_parts.append(len(numbered))
        self.doc_tokens.append(count)
        self.pooled_bytes += count * self._word_bytes + 8
        return kept

    def _numbered(self, parts: Sequence[tuple[list[str], float]]
                  ) -> tuple[list[tuple[bytes, int, int]], int]:
        """Each part's term numbers (int32s' bytes), word count and weight number, and the
        words kept."""
        numbered, kept = [], 0
        for words, weight in parts:
            if self._shared is not None:
                numbers, stops = self._shared.numbered(words)
                kept += len(words) - (stops if self._drops else 0)
            else:
                found = array("i", list(map(self._lookup, words)))
                kept += len(found) - found.count(STOPPED)
                numbers = found.tobytes()
            number = self._weight_numbers.get(weight)
            if number is None:
                number = self._weight_number(weight)
            numbered.append((numbers, len(words), number))
        return numbered, kept

    def _weight_number(self, weight: float) -> int:
        if len(self.part_weights) == 256:
            raise ValueError("more than 256 distinct part weights")
        self.part_weights.append(weight)
        number = self._weight_numbers[weight] = len(self.part_weights) - 1
        return number

    def _terms_of(self, pooled: Any) -> Any:
        """The term numbers (int32) of shared numbers, the words this field had not
        analysed yet analysed first (only those: the table holds every pooled field's)."""
        assert self._shared is not None
        shared = self._shared
        stopped, kept = len(shared.stopped), len(shared.kept)
        for name, size in (("_stopped_terms", stopped), ("_kept_terms", kept)):
            table = getattr(self, name)
            if len(table) < size:
                setattr(self, name, np.concatenate(
                    (table, np.full(size - len(table), _UNKNOWN, dtype=np.int32))))
        # Stop words first, from the last numbered (-stopped) to -1, then the others.
        table = np.concatenate((self._stopped_terms[::-1], self._kept_terms))
        # (int32: a place is below the table's length; half the memory int64 took)
        places = pooled + np.int32(stopped)
        found = table[places]
        unknown = found == _UNKNOWN
        if unknown.any():
            wanted = np.zeros(len(table), dtype=bool)
            wanted[places[unknown]] = True
            new = np.flatnonzero(wanted)
            # Analysed in one pass, stop words first (places below `stopped`), each
            # place's word fetched and analysed by `map` (no Python loop a word).
            cut = int(np.searchsorted(new, stopped))
            stop_at, kept_at = stopped - 1 - new[:cut], new[cut:] - stopped
            words = [*map(shared.stopped.__getitem__, stop_at.tolist()),
                     *map(shared.kept.__getitem__, kept_at.tolist())]
            numbers = np.array(list(map(self._lookup, words)), dtype=np.int32)
            expected = np.zeros(len(new), dtype=bool)
            expected[:cut] = self._drops
            wrong = np.flatnonzero((numbers == STOPPED) != expected)
            if len(wrong):
                raise ValueError(f"{words[int(wrong[0])]!r}: dropped by one field and not "
                                 "another")
            self._stopped_terms[stop_at] = numbers[:cut]
            self._kept_terms[kept_at] = numbers[cut:]
            table[new] = numbers
            found = table[places]
        return found

    def term_numbers(self, start: int, end: int) -> Any:
        """The term numbers (int32, STOPPED for a dropped word) of the words pooled from
        `start` to `end`."""
        pooled = np.frombuffer(self.tokens, dtype=np.int32)[start:end]
        if self._shared is None:
            return pooled.copy()
        return self._terms_of(pooled)

    def nbytes(self) -> int:
        """Memory held by the columns (the vocabulary aside): `pooled_bytes`."""
        # Counted as when each word also had its weight and position in arrays (what
        # grouping makes of them): segments end where they did, and so does memory.
        return self.pooled_bytes

    def _release(self) -> None:
        """Drop the pooled words (grouping has copied what it needs)."""
        for name in ("tokens", "part_lengths", "parts", "docs", "doc_parts", "doc_tokens"):
            setattr(self, name, array(getattr(self, name).typecode))
        self.pooled_bytes = 0

    def _positions(self, lengths: Any) -> Any:
        """Each word's position in its document (uint32): parts follow each other,
        PART_GAP apart, from 0 in each document."""
        steps = lengths + PART_GAP
        starts = np.cumsum(steps) - steps  # each part's start, counted from the first doc
        firsts = np.cumsum(np.frombuffer(self.doc_parts, dtype=np.uint32), dtype=np.int64)
        firsts -= np.frombuffer(self.doc_parts, dtype=np.uint32)
        has_parts = np.frombuffer(self.doc_parts, dtype=np.uint32) > 0
        doc_starts = np.repeat(starts[firsts[has_parts]],
                               np.frombuffer(self.doc_parts, dtype=np.uint32)[has_parts])
        word_starts = np.cumsum(lengths) - lengths  # each part's first word, in `tokens`
        # A word's position: its number in `tokens`, less its part's first word's, plus the
        # part's start in its document; added modulo 2**32 (the result fits), 4 bytes a word.
        positions = np.arange(int(lengths.sum()), dtype=np.uint32)
        positions += np.repeat(((starts - doc_starts - word_starts) % 2**32).astype(np.uint32),
                               lengths)
        return positions

    def grouped(self) -> Grouped | None:
        """The pooled words as postings (None when no word was kept); the columns are
        emptied."""
        # Copies: the columns are released before sorting (a buffer exported to numpy
        # could not be).
        tokens = self.term_numbers(0, len(self.tokens))
        kept = tokens != STOPPED
        if not kept.any():  # (shared words give terms to fields that pooled none of them)
            return None
        terms = [t.encode("utf-8") for t in self._numbers.terms]
        docs = np.repeat(np.frombuffer(self.docs, dtype=np.uint32),
                         np.frombuffer(self.doc_tokens, dtype=np.uint32))
        lengths = np.frombuffer(self.part_lengths, dtype=np.uint32).astype(np.int64)
        # part numbers, until summed
        weights = np.repeat(np.frombuffer(self.parts, dtype=np.uint8), lengths)
        positions = self._positions(lengths) if self.positional else None
        del lengths
        if not kept.all():
            tokens, docs, weights = tokens[kept], docs[kept], weights[kept]
            if positions is not None:
                positions = positions[kept]
        order_of_terms = sorted(range(len(terms)), key=terms.__getitem__)
        rank = np.empty(len(terms), dtype=np.int32)
        rank[order_of_terms] = np.arange(len(terms), dtype=np.int32)
        ranks = rank[tokens]
        del tokens, kept
        self._release()  # the columns' memory, before the sort's (what a segment peaks at)
        order = stable_order(ranks, len(terms))  # documents and positions stay in order
        # One array at a time, each replaced as soon as it is sorted.
        ranks = ranks[order]
        docs = docs[order]
        weights = weights[order]
        if positions is not None:
            positions = positions[order]
        del order
        new = np.ones(len(ranks), dtype=bool)
        new[1:] = (ranks[1:] != ranks[:-1]) | (docs[1:] != docs[:-1])
        first = np.flatnonzero(new)
        counts = np.diff(np.append(first, len(ranks))).astype(np.uint32)
        # Sums in float64, as the per-word path summed Python floats, then float32.
        table = np.array(self.part_weights or [1.0], dtype=np.float64)
        sums = np.add.reduceat(table[weights], first) * self.boost
        posting_ranks = ranks[first]
        term_new = np.ones(len(first), dtype=bool)
        term_new[1:] = posting_ranks[1:] != posting_ranks[:-1]
        starts = np.append(np.flatnonzero(term_new), len(first)).astype(np.int64)
        present = posting_ranks[term_new].tolist()  # every term, unless a document failed
        return Grouped(terms=[terms[order_of_terms[r]] for r in present], starts=starts,
                       docs=docs[first].astype(np.uint32), weights=sums.astype(np.float32),
                       counts=counts, positions=positions)
