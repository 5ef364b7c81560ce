"""The postings of Whoosh's numeric fields (NUMERIC, DATETIME), pooled as arrays.

Whoosh indexes a number as one term per tier: its sortable form shifted right by 0, 8,
16... bits (`shift_step`), each term the shift's byte and the shifted number in big-endian
(`NUMERIC.index`). Furet's `date` (64 bits by 8), `year` and `month` (32 bits by 4) make 24
postings a dated article, and pooling them a posting at a time, each tier computed from
the value again, was about a quarter of a dated build's CPU. `NumericColumns` keeps each
document's sortable number once (remembered per value); when the segment is written,
`grouped()` makes every tier's terms and postings with numpy: for each shift, the distinct
shifted numbers are its terms (in Whoosh's order: the shift's byte first, then the number
in big-endian), and a stable sort keeps each term's documents in order. What is written is
what Whoosh's writer writes (tests compare both with `field.index` and Whoosh's writer).
"""

from __future__ import annotations

import struct
from array import array
from datetime import datetime
from typing import Any

import numpy as np
from whoosh.fields import DATETIME, NUMERIC
from whoosh.formats import Existence
from whoosh.util.numeric import from_sortable, to_sortable

from search.whoosh.columns import Grouped

__all__ = ["NumericColumns", "numeric_columns"]

VALUES_KEPT = 10_000  # values whose sortable number a field's columns remember
_TYPECODES = {8: "B", 16: "H", 32: "I", 64: "Q"}


def numeric_columns(field: Any) -> NumericColumns | None:
    """Columns for `field` when it is one of Whoosh's numeric fields whose terms are its
    tiers and whose postings hold nothing but the document (else None)."""
    kind = type(field)
    if not isinstance(field, NUMERIC) or kind.index is not NUMERIC.index \
            or kind.to_bytes not in (NUMERIC.to_bytes, DATETIME.to_bytes) \
            or kind.sortable_to_bytes is not NUMERIC.sortable_to_bytes \
            or kind.prepare_number is not NUMERIC.prepare_number \
            or (isinstance(field, DATETIME)
                and kind.prepare_datetime is not DATETIME.prepare_datetime) \
            or type(field.format) is not Existence or field.bits not in _TYPECODES:
        return None
    return NumericColumns(field)


class NumericColumns:
    """Every document's sortable number of one numeric field in a segment."""

    def __init__(self, field: Any) -> None:
        self.field = field
        self.shifts = list(range(0, field.bits, field.shift_step)) if field.shift_step \
            else [0]
        self._pack = struct.Struct(">" + _TYPECODES[field.bits]).pack
        self._datetime = isinstance(field, DATETIME)
        self.docs = array("I")
        self.numbers = array("Q")
        self._sortable: dict[Any, int] = {}

    def add(self, docnum: int, value: Any) -> int | None:
        """Pool the document's value; its sortable number, or None (nothing pooled) for a
        value these columns do not take (a list of numbers, bytes): Whoosh's own path
        indexes it. Numbers are remembered for ints, strings and naive datetimes, whose
        equal values (of one of these types) always have the same number."""
        kind = type(value)
        remembered = kind is int or kind is str or (kind is datetime and value.tzinfo is None)
        number = self._sortable.get(value) if remembered else None
        if number is None:
            number = self.sortable(value)
            if number is None:
                return None
            if remembered:
                if len(self._sortable) >= VALUES_KEPT:
                    self._sortable.clear()
                self._sortable[value] = number
        self.docs.append(docnum)
        self.numbers.append(number)
        return number

    def sortable(self, value: Any) -> int | None:
        """The number whose tiers are `value`'s terms (what `field.to_bytes` packs), or
        None for a value these columns do not take. Bad values raise what Whoosh raises."""
        field = self.field
        if value is None or isinstance(value, (bytes, list, tuple, array)):
            return None
        if self._datetime:
            value = field.prepare_datetime(value)
            if isinstance(value, bytes):
                return None
        number = field.prepare_number(value)
        return to_sortable(field.numtype, field.bits, field.signed, number)

    def column_value(self, number: int) -> int:
        """`field.to_column_value(value)` of the value whose sortable number this is: the
        number itself, or for a DATETIME the microseconds it counts."""
        if self._datetime:
            field = self.field
            return from_sortable(field.numtype, field.bits, field.signed, number)
        return number

    def terms(self, number: int) -> list[bytes]:
        """The terms of one sortable number, tier after tier (`field.index`'s)."""
        return [self._term(shift, number >> shift) for shift in self.shifts]

    def _term(self, shift: int, shifted: int) -> bytes:
        """Whoosh's term of a tier: the shift's byte, then the shifted number in big-endian."""
        return bytes((shift,)) + self._pack(shifted)

    def grouped(self) -> Grouped | None:
        """Every tier's postings (None when no document had a value); the columns are
        emptied."""
        if not self.docs:
            return None
        docs = np.frombuffer(self.docs, dtype=np.uint32).copy()
        numbers = np.frombuffer(self.numbers, dtype=np.uint64).copy()
        self.docs, self.numbers = array("I"), array("Q")
        self._sortable.clear()
        terms: list[bytes] = []
        sizes, ordered = [], []
        for shift in self.shifts:  # the shift's byte first: tiers in Whoosh's order
            keys = numbers >> np.uint64(shift)
            distinct, which = np.unique(keys, return_inverse=True)  # ascending numbers
            terms += [self._term(shift, key) for key in distinct.tolist()]
            sizes.append(np.bincount(which, minlength=len(distinct)))
            ordered.append(docs[np.argsort(which, kind="stable")])  # documents in order
        starts = np.zeros(len(terms) + 1, dtype=np.int64)
        np.cumsum(np.concatenate(sizes), out=starts[1:])
        postings = int(starts[-1])
        return Grouped(terms=terms, starts=starts, docs=np.concatenate(ordered),
                       weights=np.ones(postings, dtype=np.float32),
                       counts=np.ones(postings, dtype=np.uint32), positions=None)
