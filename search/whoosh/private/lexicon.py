"""A field's terms in one segment, read from Whoosh's term file in one pass (private API).

Whoosh's `lexicon()` reads a term with two small reads and a decode each, in Python: every
hyphenated word of a 90,000-article index (the did-you-mean's joins) took 0.3 to 0.9 s, paid
by the first query of two to four words in a process. The term file (`.trm`, an
OrderedHashReader) keeps an array of every key's position in key order, and a key is the
field's number (2 bytes) then the term: the field's keys are a run of that array, found by
bisection, and their bytes are cut out of the records with numpy in a few milliseconds.
Written for whoosh-reloaded WRITTEN_FOR (search/whoosh/private/__init__.py); a terms reader
of another shape is read with Whoosh's `lexicon()`.
"""

from __future__ import annotations

import struct
from typing import Any

import numpy as np

__all__ = ["field_terms"]

_LENGTHS = 8  # each record starts with its key's and its value's lengths ("!ii")
_INDEX_TYPES = {"B": ">u1", "H": ">u2", "i": ">i4", "I": ">u4", "q": ">i8"}


def field_terms(leaf: Any, fieldname: str) -> list[str]:
    """The terms of `fieldname` in one segment's reader, in sorted order."""
    terms = getattr(leaf, "_terms", None)
    table = getattr(terms, "_tindex", None)
    fields = getattr(terms, "_fieldmap", None)
    dtype = _INDEX_TYPES.get(getattr(table, "extras", {}).get("indextype"))
    if table is None or fields is None or dtype is None or not hasattr(table, "indexbase"):
        return [_text(t) for t in leaf.lexicon(fieldname)]
    number = fields.get(fieldname)
    if number is None:
        return []
    first = _first_at_least(table, struct.pack(">H", number))
    end = _first_at_least(table, struct.pack(">H", number + 1)) if number < 65535 \
        else table.indexlen
    if end <= first:
        return []
    size = table.indexsize
    dbfile = table.dbfile
    starts = np.frombuffer(dbfile.get(table.indexbase + first * size, (end - first) * size),
                           dtype=dtype).astype(np.int64)
    base = int(starts[0])
    (last_key,) = struct.unpack(">i", dbfile.get(int(starts[-1]), 4))
    blob = np.frombuffer(dbfile.get(base, int(starts[-1]) - base + _LENGTHS + last_key),
                         dtype=np.uint8)
    at = starts - base
    lengths = (blob[at[:, None] + np.arange(4)].astype(np.int64)
               * np.array([1 << 24, 1 << 16, 1 << 8, 1])).sum(axis=1) - 2
    # Each term's bytes, after a newline put in place of the field number's second byte: one
    # decode, and temporaries the size of the bytes read (a few MB), not eight times it.
    begins = at + _LENGTHS + 2
    marks = np.zeros(len(blob) + 1, dtype=np.int8)
    marks[begins - 1] = 1
    marks[begins + lengths] = -1
    data = blob.copy()
    data[begins - 1] = ord("\n")
    out = data[np.cumsum(marks[:-1], dtype=np.int8).view(bool)]
    found = out.tobytes().decode("utf-8").split("\n")[1:]
    if len(found) != len(lengths):  # a term holding a newline: cut one by one
        raw = blob.tobytes()
        found = [raw[b:b + n].decode("utf-8") for b, n in zip(begins.tolist(),
                                                              lengths.tolist(), strict=True)]
    return found


def _first_at_least(table: Any, key: bytes) -> int:
    """The number of the first key >= `key` in the table's ordered index."""
    lo, hi = 0, table.indexlen
    while lo < hi:
        mid = (lo + hi) // 2
        if table.key_at(table._get_pos(table.indexbase + mid * table.indexsize)) < key:
            lo = mid + 1
        else:
            hi = mid
    return lo


def _text(term: Any) -> str:
    return term.decode("utf-8") if isinstance(term, bytes) else term
