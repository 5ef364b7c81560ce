"""Whoosh's term index (.trm), written a field at a time from arrays.

Whoosh's `OrderedHashWriter` (whoosh/filedb/filetables.py, whoosh-reloaded WRITTEN_FOR in
search/whoosh/private/__init__.py) takes one term per call: it writes the record (lengths,
key, value), hashes the key and files it in one of 256 buckets; closing places each key in
its bucket's hash table and writes the tables, a Python call per slot. `TermIndexWriter`
takes a field's terms at once: records are laid out with numpy, what stays per term is the
key's MD5 and one step of placing it in its table. `term_infos` packs Whoosh's
`W3TermInfo` of many terms at once. The file is byte for byte what Whoosh writes (a test
compares them), so Whoosh's `OrderedHashReader` reads it.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from hashlib import md5
from typing import Any

import numpy as np
from whoosh.filedb.filetables import OrderedHashWriter
from whoosh.util.numeric import _length_byte_cache
from whoosh.util.numlists import GrowableArray

__all__ = ["TERMINFO_SIZE", "TermIndexWriter", "length_bytes", "term_infos"]

# W3TermInfo.to_bytes of a term whose postings are in the posting file: "!BfIBBfII"
# (flags, weight, doc frequency, min and max length as bytes, max weight, first and last
# document), then the extent: offset ("!q") and length ("!i").
_TERMINFO = np.dtype([("flags", "u1"), ("weight", ">f4"), ("df", ">u4"), ("minlength", "u1"),
                      ("maxlength", "u1"), ("maxweight", ">f4"), ("minid", ">u4"),
                      ("maxid", ">u4"), ("offset", ">i8"), ("length", ">i4")])
TERMINFO_SIZE = _TERMINFO.itemsize
_SLOT = np.dtype([("hash", ">u4"), ("position", ">i8")])  # filetables' _pointer, "!Iq"
_LENGTHS = np.dtype([("key", ">i4"), ("value", ">i4")])  # filetables' _lengths, "!ii"
_LENGTH_BYTES = np.frombuffer(_length_byte_cache, dtype=np.int32)
_LONGEST = 106374  # length_to_byte gives 255 from here on


def length_bytes(lengths: Any) -> Any:
    """Whoosh's `length_to_byte` of many lengths (numpy; 0 stays 0)."""
    found = np.searchsorted(_LENGTH_BYTES, lengths, side="left")
    return np.where(lengths >= _LONGEST, 255, found).astype(np.uint8)


def term_infos(df: Any, weight: Any, minlength: Any, maxlength: Any, maxweight: Any,
               minid: Any, maxid: Any, offset: Any, length: Any) -> bytes:
    """`W3TermInfo.to_bytes()` of many terms, joined (TERMINFO_SIZE bytes each); lengths
    are numbers (minlength 0 where a term has none), the rest numpy arrays or scalars."""
    infos = np.zeros(len(df), dtype=_TERMINFO)
    infos["weight"], infos["df"] = weight, df
    infos["minlength"], infos["maxlength"] = length_bytes(minlength), length_bytes(maxlength)
    infos["maxweight"], infos["minid"], infos["maxid"] = maxweight, minid, maxid
    infos["offset"], infos["length"] = offset, length
    return infos.tobytes()


def _place(out: Any, starts: Any, blob: bytes, sizes: Any) -> None:
    """Copy the pieces of `blob` (consecutive, of `sizes`) to `out` at `starts`."""
    total = int(sizes.sum())
    if not total:
        return
    source_starts = np.zeros(len(sizes), dtype=np.int64)
    np.cumsum(sizes[:-1], out=source_starts[1:])
    shift = np.repeat(starts - source_starts, sizes)
    out[np.arange(total, dtype=np.int64) + shift] = np.frombuffer(blob, dtype=np.uint8)


def _index_array(positions: Any) -> GrowableArray:
    """The positions as Whoosh's GrowableArray holds them after appending them one by one
    (its type widened to fit the largest)."""
    index = GrowableArray("H")
    largest = int(positions.max(initial=0))
    code = "H" if largest < 2**16 else "i" if largest < 2**31 else "I" if largest < 2**32 \
        else "q"
    index.array = array(code, positions.astype(np.dtype(code)).tobytes())
    return index


class TermIndexWriter(OrderedHashWriter):
    """Whoosh's OrderedHashWriter, taking many keys at a time (the same file)."""

    @classmethod
    def replacing(cls, writer: OrderedHashWriter) -> TermIndexWriter:
        """This writer in place of Whoosh's `writer`, to which nothing was added yet (its
        header is written; its extras, which hold the field map, are kept)."""
        if len(writer.index) or writer.hashtype != 0:
            raise ValueError("a term index writer with keys, or not hashed with MD5")
        new = cls.__new__(cls)
        new.__dict__.update(writer.__dict__)
        new._hashes, new._positions = [], []
        return new

    def add(self, key: bytes, value: bytes) -> None:
        self.add_fixed([key], value, len(value))

    def add_fixed(self, keys: Sequence[bytes], values: bytes, width: int) -> None:
        """Add `keys` (increasing, after those added before) with values of `width` bytes
        each, joined in `values`."""
        n = len(keys)
        if not n:
            return
        if len(values) != n * width:
            raise ValueError(f"{len(values)} bytes of values for {n} keys of {width}")
        if keys[0] <= self.lastkey or any(map(bytes.__ge__, keys, keys[1:])):
            raise ValueError(f"keys must increase: {self.lastkey!r}, {keys[0]!r}...")
        key_sizes = np.fromiter(map(len, keys), dtype=np.int64, count=n)
        sizes = 8 + key_sizes + width
        starts = np.zeros(n, dtype=np.int64)
        np.cumsum(sizes[:-1], out=starts[1:])
        out = np.empty(int(sizes.sum()), dtype=np.uint8)
        lengths = np.empty(n, dtype=_LENGTHS)
        lengths["key"], lengths["value"] = key_sizes, width
        _place(out, starts, lengths.tobytes(), np.full(n, 8, dtype=np.int64))
        _place(out, starts + 8, b"".join(keys), key_sizes)
        _place(out, starts + 8 + key_sizes, values, np.full(n, width, dtype=np.int64))
        position = self.dbfile.tell()
        self.dbfile.write(out.tobytes())
        # filetables.md5_hash: the digest's last four bytes, big-endian
        digests = b"".join([md5(key, usedforsecurity=False).digest()[12:] for key in keys])
        self._hashes.append(np.frombuffer(digests, dtype=">u4").astype(np.int64))
        self._positions.append(starts + position)
        self.lastkey = keys[-1]

    def _write_hashes(self) -> None:
        hashes = np.concatenate(self._hashes) if self._hashes else np.zeros(0, np.int64)
        positions = np.concatenate(self._positions) if self._positions \
            else np.zeros(0, np.int64)
        self.index = _index_array(positions)
        buckets = hashes & 255
        slots = 2 * np.bincount(buckets, minlength=256).astype(np.int64)
        bases = np.zeros(256, dtype=np.int64)
        np.cumsum(slots[:-1], out=bases[1:])
        order = np.argsort(buckets, kind="stable")  # each bucket's keys in the order added
        hashes, positions, buckets = hashes[order], positions[order], buckets[order]
        homes = ((hashes >> 8) % np.maximum(slots[buckets], 1)).tolist()
        # Whoosh's linear probing, in the same order: the same slots.
        taken = bytearray(int(slots.sum()))
        placed = []
        for home, base, size in zip(homes, bases[buckets].tolist(), slots[buckets].tolist(),
                                    strict=True):
            slot = home
            while taken[base + slot]:
                slot = slot + 1 if slot + 1 < size else 0
            taken[base + slot] = 1
            placed.append(base + slot)
        table = np.zeros(len(taken), dtype=_SLOT)
        table["hash"][placed] = hashes
        table["position"][placed] = positions
        start = self.dbfile.tell()
        self.directory = list(zip((start + bases * _SLOT.itemsize).tolist(), slots.tolist(),
                                  strict=True))
        self.dbfile.write(table.tobytes())
