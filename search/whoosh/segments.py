"""Postings pooled by term while a segment is written: what Whoosh's writer makes slow.

Whoosh pools every posting as a tuple and sorts them all (spilling sorted runs to disk past
`limitmb`). `TermPool` files each posting under its term as it comes, in compact arrays;
flushing sorts only the terms. Postings of a term arrive in document order, so nothing else
needs sorting. The segment writer (search/whoosh/private.py) hands these arrays to Whoosh a
block at a time, and writes the flat postings (search/whoosh/postings.py) from them too.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Sequence
from typing import Any

from search.schema import CompactPositions

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

    def value_bytes(self) -> list[Any]:
        """Each posting's value as Whoosh stores it (packed positions for positional
        fields)."""
        if self.values is not None:
            return self.values
        assert self.positions is not None and self.counts is not None
        starts = _starts(self.counts)
        starts.append(len(self.positions))
        return [self.positions[starts[i]:starts[i + 1]].tobytes() for i in range(len(self.docs))]


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
        self.fieldnames: set[str] = set()

    def add(self, item: tuple[str, bytes, int, float, Any]) -> None:
        fieldname, tbytes, docnum, weight, vbytes = item
        key = (fieldname, tbytes)
        entry = self._terms.get(key)
        if entry is None:
            entry = self._terms[key] = _Postings(fieldname in self._positional)
            self.fieldnames.add(fieldname)
        elif docnum < entry.docs[-1]:
            self._unsorted.add(key)
        entry.docs.append(docnum)
        entry.weights.append(weight)
        if entry.values is not None:
            entry.values.append(vbytes)
        else:
            entry.positions.frombytes(vbytes)  # type: ignore[union-attr]
            entry.counts.append(len(vbytes) // 4)  # type: ignore[union-attr]

    def sorted_terms(self) -> Iterator[tuple[str, bytes, _Postings]]:
        """(field, term, postings) in Whoosh's order: by field, then term."""
        for key in sorted(self._terms):
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

    def by_field(self, fieldnames: Sequence[str]) -> Iterator[tuple[str, list[Any]]]:
        """(field, [(term, docs, weights, positions or None, counts or None), ...])."""
        wanted = set(fieldnames)
        fields: dict[str, list[Any]] = {}
        for fieldname, tbytes, entry in self.sorted_terms():
            if fieldname in wanted:
                fields.setdefault(fieldname, []).append(
                    (tbytes.decode("utf-8"), entry.docs, entry.weights, entry.positions,
                     entry.counts))
        for fieldname in fieldnames:
            if fieldname in fields:
                yield fieldname, fields[fieldname]

    def cleanup(self) -> None:
        self._terms.clear()
        self._unsorted.clear()
