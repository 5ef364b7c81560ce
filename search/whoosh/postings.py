"""Postings as flat arrays beside Whoosh's own: what the vectorised scorer reads.

Whoosh stores postings in pickled, compressed blocks that it decodes one posting at a time
in Python. For the fields readers search, each segment also carries a copy of its postings
as plain arrays (one `.fpo` file, packed into the segment's compound file like Whoosh's
own files, so it is written, fsynced, merged and deleted with the segment):

    b"FURETPO1", header length (uint64), header (JSON), then per field:
    starts (uint64, terms + 1)   where each term's postings start
    docs   (uint32, postings)    document numbers, increasing within a term
    weights(float32, postings)   the weighted frequencies Whoosh stores
    and for fields with positions (the exact forms, for phrases):
    counts (uint32, postings)    positions in each posting
    pstarts(uint64, terms + 1)   where each term's positions start
    positions (uint32)           word positions, posting after posting

Reading is a memory map: a term's postings are slices, no copy, no Python loop. Every
segment Furet writes has this file: one without it (or with a damaged one) is a damaged
index, never searched another way.
"""

from __future__ import annotations

import json
import struct
import sys
from array import array
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

__all__ = ["EXTENSION", "FIELDS", "SegmentPostings", "segment_postings", "write_postings"]

EXTENSION = ".fpo"
FIELDS = ("text", "exact", "title", "title_exact", "author_terms", "section_terms")
_MAGIC = b"FURETPO1"
_LITTLE = sys.byteorder == "little"


def _little(data: array[Any]) -> bytes:
    if _LITTLE:
        return data.tobytes()
    copy = array(data.typecode, data)
    copy.byteswap()
    return copy.tobytes()


def _write_padded(out: Any, chunks: Iterable[bytes]) -> int:
    size = 0
    for chunk in chunks:
        out.write(chunk)
        size += len(chunk)
    padding = -size % 8  # keeps every array 8-byte aligned
    out.write(b"\0" * padding)
    return size + padding


def write_postings(out: Any, fields: Iterable[tuple[str, Sequence[tuple[Any, ...]]]]
                   ) -> None:
    """Write the postings file, streaming: nothing is copied whole in memory.

    `fields` yields (field, [(term, docs, weights, positions, counts), ...]) with uint32
    docs, float32 weights, and for positional fields the term's packed positions (uint32)
    and the number of positions of each posting (else None and None).
    """
    fields = list(fields)
    header: dict[str, Any] = {"fields": {}}
    position = 0

    def size(count: int, width: int) -> int:
        return count * width + (-(count * width) % 8)

    for fieldname, terms in fields:
        postings = sum(len(t[1]) for t in terms)
        positional = terms[0][3] is not None
        total = sum(len(t[3]) for t in terms) if positional else 0
        info: dict[str, Any] = {"terms": [t[0] for t in terms], "count": postings,
                                "positions_total": total if positional else None}
        layout = [("starts", len(terms) + 1, 8), ("docs", postings, 4),
                  ("weights", postings, 4)]
        if positional:
            layout += [("counts", postings, 4), ("pstarts", len(terms) + 1, 8),
                       ("positions", total, 4)]
        for name, count, width in layout:
            info[name] = position
            position += size(count, width)
        header["fields"][fieldname] = info
    head = json.dumps(header, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    head += b" " * (-len(head) % 8)
    out.write(_MAGIC + struct.pack("<Q", len(head)) + head)
    for _, terms in fields:
        starts, pstarts = array("Q", [0]), array("Q", [0])
        for t in terms:
            starts.append(starts[-1] + len(t[1]))
            if t[3] is not None:
                pstarts.append(pstarts[-1] + len(t[3]))
        _write_padded(out, [_little(starts)])
        _write_padded(out, (_little(t[1]) for t in terms))
        _write_padded(out, (_little(t[2]) for t in terms))
        if terms[0][3] is not None:
            _write_padded(out, (_little(t[4]) for t in terms))
            _write_padded(out, [_little(pstarts)])
            _write_padded(out, (t[3].tobytes() for t in terms))  # packed little-endian


class SegmentPostings:
    """The postings file of one segment, memory-mapped."""

    def __init__(self, buffer: memoryview) -> None:
        if bytes(buffer[:8]) != _MAGIC:
            raise ValueError("not a Furet postings file")
        (length,) = struct.unpack("<Q", buffer[8:16])
        header = json.loads(bytes(buffer[16:16 + length]))
        base = 16 + length
        self._fields: dict[str, tuple[dict[str, int], Any, Any, Any]] = {}
        self._positions: dict[str, tuple[Any, Any, Any]] = {}
        for fieldname, info in header["fields"].items():
            terms = {term: n for n, term in enumerate(info["terms"])}
            count = info["count"]
            starts = np.frombuffer(buffer, dtype="<u8", count=len(terms) + 1,
                                   offset=base + info["starts"])
            docs = np.frombuffer(buffer, dtype="<u4", count=count, offset=base + info["docs"])
            weights = np.frombuffer(buffer, dtype="<f4", count=count,
                                    offset=base + info["weights"])
            self._fields[fieldname] = (terms, starts, docs, weights)
            if info.get("positions_total") is not None:
                self._positions[fieldname] = (
                    np.frombuffer(buffer, dtype="<u4", count=count, offset=base + info["counts"]),
                    np.frombuffer(buffer, dtype="<u8", count=len(terms) + 1,
                                  offset=base + info["pstarts"]),
                    np.frombuffer(buffer, dtype="<u4", count=info["positions_total"],
                                  offset=base + info["positions"]),
                )

    def has_field(self, fieldname: str) -> bool:
        return fieldname in self._fields

    def postings(self, fieldname: str, term: str) -> tuple[Any, Any] | None:
        """(docs, weights) of one term in this segment, or None if it has none."""
        entry = self._fields.get(fieldname)
        if entry is None:
            return None
        terms, starts, docs, weights = entry
        n = terms.get(term)
        if n is None:
            return None
        start, end = int(starts[n]), int(starts[n + 1])
        return docs[start:end], weights[start:end]

    def has_positions(self, fieldname: str) -> bool:
        return fieldname in self._positions

    def positions(self, fieldname: str, term: str) -> tuple[Any, Any, Any] | None:
        """(docs, positions per posting, all the positions) of one term, or None."""
        entry = self._fields.get(fieldname)
        packed = self._positions.get(fieldname)
        if entry is None or packed is None:
            return None
        terms, starts, docs, _ = entry
        n = terms.get(term)
        if n is None:
            return None
        counts, pstarts, positions = packed
        start, end = int(starts[n]), int(starts[n + 1])
        return (docs[start:end], counts[start:end],
                positions[int(pstarts[n]):int(pstarts[n + 1])])

    def terms(self, fieldname: str) -> Iterable[str]:
        entry = self._fields.get(fieldname)
        return entry[0].keys() if entry else ()


def segment_postings(reader: Any) -> SegmentPostings:
    """The postings file of one segment reader; ValueError when it is missing or unreadable
    (every segment Furet writes has one)."""
    segment = reader.segment()
    name = segment.make_filename(EXTENSION)
    storage = reader.storage()
    if not storage.file_exists(name):
        raise ValueError(f"segment {segment.segment_id()} has no flat postings ({name}): it "
                         "was not written by Furet")
    try:
        handle = storage.open_file(name)
        # A memory-mapped file (search/whoosh/private.py) gives its bytes without a copy.
        buffer = handle.buffer() if hasattr(handle, "buffer") else handle.read()
        return SegmentPostings(memoryview(buffer))
    except (OSError, struct.error, json.JSONDecodeError, KeyError, TypeError) as err:
        raise ValueError(f"{name} cannot be read ({type(err).__name__}: {err})") from None
