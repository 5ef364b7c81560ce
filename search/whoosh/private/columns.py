"""Whoosh's numeric and reference columns read as arrays (Whoosh's private layout).

Whoosh reads a column value by value; the facet table (search/whoosh/facets.py) wants
every document's value at once. Written for whoosh-reloaded WRITTEN_FOR
(search/whoosh/private/__init__.py).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from whoosh.columns import NumericColumn

__all__ = ["REFERENCES", "numeric_codes"]

_NUMPY_CODES = {"b": "i1", "B": "u1", "h": "i2", "H": "u2", "i": "i4", "I": "u4", "l": "i4",
                "L": "u4", "q": "i8", "Q": "u8"}


def numeric_codes(column: Any, count: int) -> tuple[Any, list[Any]] | None:
    """(a code per document, the raw value of each code) of a Whoosh numeric column, read
    as one array (big-endian numbers from its start); None for other columns."""
    if not isinstance(column, NumericColumn.Reader) or column._typecode not in _NUMPY_CODES:
        return None
    stored = min(column._count, count)
    numbers = np.frombuffer(column._dbfile.get(column._basepos, stored * column._fixedlen),
                            dtype=">" + _NUMPY_CODES[column._typecode], count=stored)
    if stored < count:  # documents past the last value written have the default
        numbers = np.concatenate((numbers, np.full(count - stored, column._default,
                                                   dtype=numbers.dtype)))
    raw, codes = np.unique(numbers, return_inverse=True)
    return codes.reshape(-1), raw.tolist()


class _References:
    """Reads a reference column (search/schema.py ValuesColumn: a number per document, then
    each distinct value) as (codes, values) in one read: Whoosh's reader reads the values
    byte by byte, 1.5 s for the 22,000 sections of 90,000 legi-fr articles in 34 segments.
    Passed to a reader's `column_reader` as the column."""

    def reader(self, dbfile: Any, basepos: int, length: int, doccount: int
               ) -> tuple[Any, list[bytes]]:
        data = dbfile.get(basepos, length)
        typecode = chr(data[-1])
        refs = np.frombuffer(data, dtype=">" + _NUMPY_CODES[typecode], count=doccount)
        pos = doccount * refs.itemsize
        count, pos = _varint(data, pos)
        values = []
        for _ in range(count):
            size, pos = _varint(data, pos)
            values.append(data[pos:pos + size])
            pos += size
        return refs.astype(np.int64), values


REFERENCES = _References()


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    """A number as Whoosh writes it (7 bits a byte, low first), and where the next starts."""
    value, shift = 0, 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7
