"""Where each term of an index sits in its segments: one directory for all of them.

A search looked each of its terms up in every segment, in Python, and asked Whoosh for its
document frequency segment by segment: an index of 34 segments paid that 34 times per term
(a million articles came in 44). Per field, the directory holds each distinct term once,
numbered in sorted order, with the (segment, term number) pairs where it occurs and its
document frequency (deleted documents included, as Whoosh counts them) as numpy arrays:
a term costs one bisection of the sorted terms (no dict of them is kept), then only the
segments that hold it are read. The terms in sorted order also answer prefix expansions
without merging the segments' term lists.

Building it reads every term of every segment (seconds at a million articles): a
generation's directory is written once when the generation is committed
(search/whoosh/prepared.py) and read from there, memory-mapped, by every process that opens
it (`FieldDirectory.of_arrays`, the terms a MappedStrings).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from search.whoosh.postings import SegmentPostings
from search.whoosh.strings import MappedStrings, following, position

__all__ = ["FieldDirectory", "TermDirectory", "memberships"]


class FieldDirectory:
    """The terms of one field across the segments (see the module's docstring)."""

    __slots__ = ("begins", "frequencies", "numbers", "segments", "terms")

    def __init__(self, terms: Sequence[str], ids: Any, segments: Any, numbers: Any,
                 postings: Any) -> None:
        """`ids[k]` is the sorted number of the k-th (segment, term number) pair's term;
        `postings[k]`, how many documents it has there."""
        self.terms = terms  # sorted: a term's number is found by bisection, no dict kept
        order = np.argsort(ids, kind="stable")  # by term, then by segment
        self.segments = segments[order]
        self.numbers = numbers[order]
        self.begins = np.searchsorted(ids[order], np.arange(len(terms) + 1))
        self.frequencies = np.bincount(ids, weights=postings,
                                       minlength=len(terms)).astype(np.int64)

    @classmethod
    def of_arrays(cls, terms: Sequence[str], segments: Any, numbers: Any, begins: Any,
                  frequencies: Any) -> FieldDirectory:
        """A directory from the arrays an earlier one held (`arrays()`), e.g. mapped."""
        found = cls.__new__(cls)
        found.terms, found.segments, found.numbers = terms, segments, numbers
        found.begins, found.frequencies = begins, frequencies
        return found

    def arrays(self) -> dict[str, Any]:
        """What `of_arrays` takes (the terms as they are held)."""
        return {"terms": self.terms, "segments": self.segments, "numbers": self.numbers,
                "begins": self.begins, "frequencies": self.frequencies}

    def number(self, term: str) -> int | None:
        """`term`'s number in sorted order (None when no segment holds it)."""
        terms = self.terms
        if type(terms) is list:  # (an isinstance check of the ABC costs as much as this)
            n = bisect_left(terms, term)
            return n if n < len(terms) and terms[n] == term else None
        if isinstance(terms, MappedStrings):
            return terms.index_of(term)
        n = position(terms, term)
        return n if n < len(terms) and terms[n] == term else None

    def where(self, term: str) -> list[tuple[int, int]]:
        """(segment, term number) of each segment holding `term`, in segment order."""
        n = self.number(term)
        if n is None:
            return []
        start, end = int(self.begins[n]), int(self.begins[n + 1])
        return list(zip(self.segments[start:end].tolist(), self.numbers[start:end].tolist(),
                        strict=True))

    def frequency(self, term: str) -> int:
        """Documents holding `term`, deleted ones included (0 when none)."""
        n = self.number(term)
        return 0 if n is None else int(self.frequencies[n])

    def entry(self, term: str) -> tuple[list[tuple[int, int]], int] | None:
        """(`where(term)`, `frequency(term)`) from one lookup of the term (a search asks for
        both of each of its terms); None when no segment holds it."""
        n = self.number(term)
        if n is None:
            return None
        start, end = self.begins[n:n + 2].tolist()
        return (list(zip(self.segments[start:end].tolist(), self.numbers[start:end].tolist(),
                         strict=True)), int(self.frequencies[n]))

    def starting(self, prefix: str) -> Iterator[str]:
        """The terms starting with `prefix`, in sorted order."""
        for term in following(self.terms, position(self.terms, prefix)):
            if not term.startswith(prefix):
                return
            yield term


class _Builder:
    """One field's directory, fed a segment at a time (so that only one segment's term
    names are held at once: all of a million articles' 44 segments at once would be
    hundreds of MB, freed but kept by the allocator).

    Each segment's terms are kept as int32 numbers in order of first appearance (4 bytes
    a (segment, term) pair), and the pairs are put in term order by counting, into the
    final arrays: sorting them (`FieldDirectory(...)`, same arrays) held about 50 bytes a
    pair at once, and the pairs grow with the segments (10.5 million, 530 MB, for a
    million news-sized articles in 160 segments)."""

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}  # term -> number in order of first appearance
        self.ids: list[Any] = []  # per segment fed: its terms' numbers, in its order
        self.segments: list[int] = []
        self.postings = np.zeros(0, dtype=np.int64)  # by number: documents, all segments

    def add(self, segment: int, names: list[str], sizes: Any) -> None:
        seen = self.seen
        number = seen.setdefault  # a new term gets the next number (measured: 2-3x
        # faster than set differences and a map over the names)
        ids = np.array([number(t, len(seen)) for t in names], dtype=np.int32)
        if len(seen) > len(self.postings):
            grown = np.zeros(max(len(seen), 2 * len(self.postings)), dtype=np.int64)
            grown[:len(self.postings)] = self.postings
            self.postings = grown
        self.postings[ids] += sizes  # a segment holds each of its terms once
        self.ids.append(ids)
        self.segments.append(segment)

    def finish(self) -> FieldDirectory:
        terms = sorted(self.seen)
        count = len(terms)
        rank = np.empty(count, dtype=np.int64)  # number of appearance -> sorted number
        rank[np.fromiter(map(self.seen.__getitem__, terms), dtype=np.int64,
                         count=count)] = np.arange(count)
        self.seen = {}
        frequencies = np.zeros(count, dtype=np.int64)
        frequencies[rank] = self.postings[:count]
        held = np.zeros(count, dtype=np.int64)  # segments holding each term
        for ids in self.ids:
            held[rank[ids]] += 1
        begins = np.zeros(count + 1, dtype=np.int64)
        np.cumsum(held, out=begins[1:])
        segments = np.empty(int(begins[-1]), dtype=np.int32)
        numbers = np.empty(int(begins[-1]), dtype=np.int32)
        at = begins[:-1].copy()  # where each term's next pair goes
        for segment, ids in zip(self.segments, self.ids, strict=True):
            sorted_ids = rank[ids]
            places = at[sorted_ids]
            segments[places] = segment
            numbers[places] = np.arange(len(ids), dtype=np.int32)
            at[sorted_ids] += 1
        self.ids, self.segments = [], []
        return FieldDirectory.of_arrays(terms, segments, numbers, begins, frequencies)


class TermDirectory:
    """Every flat-postings field's FieldDirectory. Each segment's own term names are
    released once read (SegmentPostings reads them again if something looks a term up
    there by name)."""

    def __init__(self, postings: Iterable[SegmentPostings]) -> None:
        builders: dict[str, _Builder] = {}
        for segment, found in enumerate(postings):
            for fieldname in found.fieldnames():
                builders.setdefault(fieldname, _Builder()).add(
                    segment, found.names(fieldname), found.sizes(fieldname))
            found.release_names()
        self.fields = {name: builder.finish() for name, builder in builders.items()}

    @classmethod
    def of_fields(cls, fields: dict[str, FieldDirectory],
                  postings: Iterable[SegmentPostings]) -> TermDirectory:
        """A directory made before (a generation's prepared file); each segment's postings
        are opened as the built one opens them, and their term names released."""
        for found in postings:
            found.release_names()
        directory = cls.__new__(cls)
        directory.fields = fields
        return directory

    def field(self, fieldname: str) -> FieldDirectory | None:
        return self.fields.get(fieldname)

    def where(self, fieldname: str, term: str) -> list[tuple[int, int]]:
        found = self.fields.get(fieldname)
        return found.where(term) if found is not None else []

    def frequency(self, fieldname: str, term: str) -> int:
        found = self.fields.get(fieldname)
        return found.frequency(term) if found is not None else 0

    def entry(self, fieldname: str, term: str) -> tuple[list[tuple[int, int]], int] | None:
        """(where, frequency) of a term from one lookup (FieldDirectory.entry)."""
        found = self.fields.get(fieldname)
        return found.entry(term) if found is not None else None


def memberships(lists: Sequence[list[str]]) -> tuple[list[str], Any, Any]:
    """(the sorted union of `lists` — each segment's sorted names, in segment order —,
    the segments holding each name one after the other, where each name's start there)."""
    builder = _Builder()
    for segment, names in enumerate(lists):
        builder.add(segment, names, np.zeros(len(names), dtype=np.int64))
    found = builder.finish()
    return list(found.terms), found.segments, found.begins
