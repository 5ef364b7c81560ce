"""Where each term of an index sits in its segments: one directory for all of them.

A search looked each of its terms up in every segment, in Python, and asked Whoosh for its
document frequency segment by segment: an index of 34 segments paid that 34 times per term
(a million articles came in 44). Per field, the directory holds each distinct term once,
numbered in sorted order, with the (segment, term number) pairs where it occurs and its
document frequency (deleted documents included, as Whoosh counts them) as numpy arrays:
a term costs one dict lookup, then only the segments that hold it are read. The terms in
sorted order also answer prefix expansions without merging the segments' term lists.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator, Sequence
from itertools import chain
from typing import Any

import numpy as np

from search.whoosh.postings import SegmentPostings

__all__ = ["FieldDirectory", "TermDirectory"]


class FieldDirectory:
    """The terms of one field across the segments (see the module's docstring)."""

    __slots__ = ("begins", "frequencies", "ids", "numbers", "segments", "terms")

    def __init__(self, names: Sequence[list[str]], sizes: Sequence[Any]) -> None:
        # Sorting and numbering run in C (dict.fromkeys, sorted, map): no Python step per
        # term, which at 34 segments of 90,000 articles means millions of (segment, term).
        self.terms: list[str] = sorted(dict.fromkeys(chain.from_iterable(names)))
        self.ids: dict[str, int] = dict(zip(self.terms, range(len(self.terms)), strict=True))
        count = sum(len(n) for n in names)
        ids = np.fromiter(map(self.ids.__getitem__, chain.from_iterable(names)),
                          dtype=np.int64, count=count)
        segment = np.repeat(np.arange(len(names), dtype=np.int32),
                            [len(n) for n in names])
        number = np.concatenate([np.arange(len(n), dtype=np.int32) for n in names]) \
            if names else np.zeros(0, dtype=np.int32)
        order = np.argsort(ids, kind="stable")  # by term, then by segment
        self.segments = segment[order]
        self.numbers = number[order]
        self.begins = np.searchsorted(ids[order], np.arange(len(self.terms) + 1))
        postings = np.concatenate(list(sizes)) if sizes else np.zeros(0, dtype=np.int64)
        self.frequencies = np.bincount(ids, weights=postings,
                                       minlength=len(self.terms)).astype(np.int64)

    def where(self, term: str) -> list[tuple[int, int]]:
        """(segment, term number) of each segment holding `term`, in segment order."""
        n = self.ids.get(term)
        if n is None:
            return []
        start, end = int(self.begins[n]), int(self.begins[n + 1])
        return list(zip(self.segments[start:end].tolist(), self.numbers[start:end].tolist(),
                        strict=True))

    def frequency(self, term: str) -> int:
        """Documents holding `term`, deleted ones included (0 when none)."""
        n = self.ids.get(term)
        return 0 if n is None else int(self.frequencies[n])

    def starting(self, prefix: str) -> Iterator[str]:
        """The terms starting with `prefix`, in sorted order."""
        terms = self.terms
        for n in range(bisect_left(terms, prefix), len(terms)):
            if not terms[n].startswith(prefix):
                return
            yield terms[n]


class TermDirectory:
    """Every flat-postings field's FieldDirectory; the segments' own term names are then
    released (SegmentPostings reads them again if something looks a term up there)."""

    def __init__(self, postings: Sequence[SegmentPostings]) -> None:
        fields = dict.fromkeys(f for p in postings for f in p.fieldnames())
        self.fields: dict[str, FieldDirectory] = {}
        for fieldname in fields:
            held = [p for p in postings if p.has_field(fieldname)]
            index = {id(p): n for n, p in enumerate(postings)}
            directory = FieldDirectory([p.names(fieldname) for p in held],
                                       [p.sizes(fieldname) for p in held])
            # Segments numbered among those holding the field -> among all.
            directory.segments = np.array([index[id(p)] for p in held],
                                          dtype=np.int32)[directory.segments] \
                if held else directory.segments
            self.fields[fieldname] = directory
        for p in postings:
            p.release_names()

    def field(self, fieldname: str) -> FieldDirectory | None:
        return self.fields.get(fieldname)

    def where(self, fieldname: str, term: str) -> list[tuple[int, int]]:
        found = self.fields.get(fieldname)
        return found.where(term) if found is not None else []

    def frequency(self, fieldname: str, term: str) -> int:
        found = self.fields.get(fieldname)
        return found.frequency(term) if found is not None else 0
