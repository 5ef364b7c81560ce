"""Postings pooled by term while a segment is written: what Whoosh's writer makes slow.

Whoosh pools every posting as a tuple and sorts them all (spilling sorted runs to disk past
`limitmb`). `TermPool` files each posting under its term as it comes, in compact arrays;
flushing sorts only the terms. Postings of a term arrive in document order, so nothing else
needs sorting. The segment writer (search/whoosh/private/writing.py) hands these arrays to Whoosh a
block at a time, and writes the flat postings (search/whoosh/postings.py) from them too.
"""

from __future__ import annotations

import sys
from array import array
from collections.abc import Collection, Iterator, Sequence
from itertools import accumulate
from typing import Any

import numpy as np
from whoosh.system import pack_uint

from search.schema import FREQ_BYTES, CompactPositions
from search.whoosh.columns import Grouped
from search.whoosh.postings import FieldPostings

_BIG_ENDIAN = sys.byteorder == "big"

__all__ = ["TermPool", "positional_fields"]


def positional_fields(schema: Any) -> list[str]:
    """The fields whose postings carry packed positions (CompactPositions)."""
    return [name for name, field in schema.items() if isinstance(field.format, CompactPositions)]


class _Postings:
    """One term's postings: documents, weights, and values (or packed positions)."""

    __slots__ = ("docs", "weights", "values", "positions", "counts")

    def __init__(self, positional: bool) -> None:
        self.docs = array("I")
        self.weights = array("f")  # Furet's weights are sums of 1, 1.5 and 3: exact in float32
        self.values: list[Any] | None = None if positional else []
        self.positions = array("I") if positional else None
        self.counts = array("I") if positional else None

    def sort(self) -> None:
        """Put postings in document order (merged segments can add them out of order)."""
        order = sorted(range(len(self.docs)), key=self.docs.__getitem__)
        self.docs = array("I", (self.docs[i] for i in order))
        self.weights = array("f", (self.weights[i] for i in order))
        if self.values is not None:
            self.values = [self.values[i] for i in order]
        else:
            assert self.positions is not None and self.counts is not None
            starts = _starts(self.counts)
            positions = array("I")
            for i in order:
                positions.extend(self.positions[starts[i]:starts[i] + self.counts[i]])
            self.positions = positions
            self.counts = array("I", (self.counts[i] for i in order))

    @classmethod
    def of_arrays(cls, docs: array[int], weights: array[float], values: list[Any] | None,
                  positions: array[int] | None, counts: array[int] | None) -> _Postings:
        """Postings already grouped (search/whoosh/columns.py)."""
        entry = cls.__new__(cls)
        entry.docs, entry.weights, entry.values = docs, weights, values
        entry.positions, entry.counts = positions, counts
        return entry

    def extend(self, other: _Postings) -> None:
        """Append another entry's postings (put in order by `sort()`)."""
        self.docs.extend(other.docs)
        self.weights.extend(other.weights)
        if self.values is not None:
            assert other.values is not None
            self.values.extend(other.values)
        else:
            assert self.positions is not None and other.positions is not None
            assert self.counts is not None and other.counts is not None
            self.positions.extend(other.positions)
            self.counts.extend(other.counts)

    def value_bytes(self) -> list[Any]:
        """Each posting's value as Whoosh stores it (packed positions for positional
        fields)."""
        if self.values is not None:
            return self.values
        assert self.positions is not None and self.counts is not None
        data = self.positions.tobytes()
        ends = list(accumulate(count * 4 for count in self.counts.tolist()))
        return [data[a:b] for a, b in zip([0, *ends], ends, strict=False)]


def _grouped_terms(fieldname: str, grouped: Grouped
                   ) -> Iterator[tuple[str, bytes, _Postings]]:
    """The terms of grouped postings, each a view of the field's arrays (no copy)."""
    starts = grouped.starts.tolist()
    docs, weights, counts = grouped.docs, grouped.weights, grouped.counts
    if grouped.positions is None:
        frequencies = [FREQ_BYTES[c] if c < 256 else pack_uint(c) for c in counts.tolist()]
        for n, tbytes in enumerate(grouped.terms):
            a, b = starts[n], starts[n + 1]
            yield fieldname, tbytes, _Postings.of_arrays(docs[a:b], weights[a:b],
                                                         frequencies[a:b], None, None)
        return
    positions = grouped.positions.astype("<u4", copy=False)  # packed little-endian
    pstarts = [0, *accumulate(counts.tolist())]
    for n, tbytes in enumerate(grouped.terms):
        a, b = starts[n], starts[n + 1]
        yield fieldname, tbytes, _Postings.of_arrays(
            docs[a:b], weights[a:b], None, positions[pstarts[a]:pstarts[b]], counts[a:b])


def _joined(terms: list[bytes], entries: list[_Postings], positional: bool
            ) -> FieldPostings:
    """One field's postings pooled term by term, as arrays."""
    starts = np.zeros(len(entries) + 1, dtype=np.int64)
    np.cumsum([len(e.docs) for e in entries], out=starts[1:])

    def joined(arrays: list[Any], dtype: str) -> Any:
        return np.frombuffer(b"".join(arrays), dtype=dtype)

    return FieldPostings(
        terms=terms, starts=starts, docs=joined([e.docs for e in entries], "=u4"),
        weights=joined([e.weights for e in entries], "=f4"),
        counts=joined([e.counts for e in entries], "=u4") if positional else None,
        positions=joined([e.positions for e in entries], "<u4").astype(np.uint32)
        if positional else None,
        values=None if positional else [v for e in entries for v in e.values])


def _frequencies(values: list[Any]) -> Any:
    """Whoosh's frequency values (packed big-endian uint32, one a posting) as numbers."""
    return np.frombuffer(b"".join(values), dtype=">u4").astype(np.uint32)


def _starts(counts: array[int]) -> list[int]:
    starts, total = [], 0
    for count in counts:
        starts.append(total)
        total += count
    return starts


class TermPool:
    """Postings grouped by (field, term) in compact arrays; iterated in Whoosh's order.

    Positions of positional fields (CompactPositions: packed uint32) are appended to one
    array per term instead of being kept as one bytes object per posting.
    """

    def __init__(self, positional: Sequence[str] = ()) -> None:
        self._terms: dict[tuple[str, bytes], _Postings] = {}
        self._unsorted: set[tuple[str, bytes]] = set()
        self._positional = frozenset(positional)
        self._grouped: dict[str, Grouped] = {}
        self._added_fields: set[str] = set()  # fields with postings from add()
        self.fieldnames: set[str] = set()

    def add(self, item: tuple[str, bytes, int, float, Any]) -> None:
        fieldname, tbytes, docnum, weight, vbytes = item
        key = (fieldname, tbytes)
        entry = self._terms.get(key)
        if entry is None:
            entry = self._terms[key] = _Postings(fieldname in self._positional)
            self.fieldnames.add(fieldname)
            self._added_fields.add(fieldname)
        elif docnum < entry.docs[-1]:
            self._unsorted.add(key)
        entry.docs.append(docnum)
        entry.weights.append(weight)
        if entry.values is not None:
            entry.values.append(vbytes)
        else:
            entry.positions.frombytes(vbytes)  # type: ignore[union-attr]
            entry.counts.append(len(vbytes) // 4)  # type: ignore[union-attr]

    def add_grouped(self, fieldname: str, grouped: Grouped) -> None:
        """Pool one field's grouped postings (search/whoosh/columns.py): kept as they are,
        unless postings of merged segments came first for this field (then term by term)."""
        self.fieldnames.add(fieldname)
        if fieldname not in self._added_fields and fieldname not in self._grouped:
            self._grouped[fieldname] = grouped
            return
        starts = grouped.starts.tolist()
        docs = array("I", grouped.docs.astype("<u4").tobytes())
        weights = array("f", grouped.weights.astype("<f4").tobytes())
        counts = array("I", grouped.counts.astype("<u4").tobytes())
        positional = fieldname in self._positional
        if positional:
            assert grouped.positions is not None
            positions = array("I", grouped.positions.astype("<u4").tobytes())
            pends = list(accumulate(counts))
            pstarts = [0, *pends]
        else:
            frequencies = [FREQ_BYTES[c] if c < 256 else pack_uint(c) for c in counts]
        if _BIG_ENDIAN:  # arrays hold native numbers; positions stay packed little-endian
            docs.byteswap()
            weights.byteswap()
            counts.byteswap()
        for n, tbytes in enumerate(grouped.terms):
            a, b = starts[n], starts[n + 1]
            if positional:
                entry = _Postings.of_arrays(docs[a:b], weights[a:b], None,
                                            positions[pstarts[a]:pstarts[b]], counts[a:b])
            else:
                entry = _Postings.of_arrays(docs[a:b], weights[a:b], frequencies[a:b], None,
                                            None)
            key = (fieldname, tbytes)
            found = self._terms.get(key)
            if found is None:
                self._terms[key] = entry
            else:  # postings of merged segments came first
                found.extend(entry)
                self._unsorted.add(key)

    def sorted_terms(self) -> Iterator[tuple[str, bytes, _Postings]]:
        """(field, term, postings) in Whoosh's order: by field, then term."""
        keys = sorted(self._terms)
        by_field: dict[str, list[tuple[str, bytes]]] = {}
        for key in keys:
            by_field.setdefault(key[0], []).append(key)
        for fieldname in sorted({*by_field, *self._grouped}):
            grouped = self._grouped.get(fieldname)
            if grouped is not None:
                yield from _grouped_terms(fieldname, grouped)
                continue
            for key in by_field[fieldname]:
                entry = self._terms[key]
                if key in self._unsorted:
                    entry.sort()
                    self._unsorted.discard(key)
                yield key[0], key[1], entry

    def iter_postings(self) -> Iterator[tuple[str, bytes, int, float, Any]]:
        for fieldname, tbytes, entry in self.sorted_terms():
            docs, weights = entry.docs, entry.weights
            if entry.values is not None:
                values = entry.values
                for i in range(len(docs)):
                    yield fieldname, tbytes, docs[i], weights[i], values[i]
                continue
            positions, counts = entry.positions, entry.counts
            assert positions is not None and counts is not None
            start = 0
            for i in range(len(docs)):
                end = start + counts[i]
                yield fieldname, tbytes, docs[i], weights[i], positions[start:end].tobytes()
                start = end

    def fields(self, wanted: Collection[str] | None = None
               ) -> Iterator[tuple[str, FieldPostings]]:
        """(field, its postings as arrays) in Whoosh's order, of the `wanted` fields (all
        by default); grouped fields as they are."""
        by_field: dict[str, list[bytes]] = {}
        for fieldname, tbytes in sorted(self._terms):
            if wanted is None or fieldname in wanted:
                by_field.setdefault(fieldname, []).append(tbytes)
        for fieldname in sorted({*by_field, *self._grouped}):
            if wanted is not None and fieldname not in wanted:
                continue
            grouped = self._grouped.get(fieldname)
            if grouped is not None:
                yield fieldname, FieldPostings(
                    terms=grouped.terms, starts=grouped.starts, docs=grouped.docs,
                    weights=grouped.weights, counts=grouped.counts,
                    positions=grouped.positions)
                continue
            entries = []
            for tbytes in by_field[fieldname]:
                key = (fieldname, tbytes)
                entry = self._terms[key]
                if key in self._unsorted:
                    entry.sort()
                    self._unsorted.discard(key)
                entries.append(entry)
            yield fieldname, _joined(by_field[fieldname], entries,
                                     fieldname in self._positional)

    def by_field(self, fieldnames: Sequence[str]) -> Iterator[tuple[str, FieldPostings]]:
        """(field, postings) of `fieldnames` that have some, with counts: the positions
        of each posting, or for other fields its frequency (Whoosh's value)."""
        wanted = set(fieldnames)
        fields = {}
        for fieldname, postings in self.fields(wanted):
            if postings.counts is None:
                postings.counts = _frequencies(postings.values or [])
            fields[fieldname] = postings
        for fieldname in fieldnames:
            if fieldname in fields:
                yield fieldname, fields[fieldname]

    def cleanup(self) -> None:
        self._terms.clear()
        self._unsorted.clear()
        self._grouped.clear()
        self._added_fields.clear()
