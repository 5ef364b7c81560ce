"""Whoosh's posting blocks and term statistics, written a field at a time from arrays.

Whoosh's posting writer (`W3PostingsWriter`, whoosh-reloaded WRITTEN_FOR in
search/whoosh/private/__init__.py) takes one posting per call, and per block of 128 computes in
Python the delta-coded ids, the weights, the smallest and largest field lengths and the
largest weight, then pickles and compresses the block. Here those statistics are computed
for a whole field with numpy (`reduceat` over the blocks); what stays per block is the
pickling of Whoosh's tuples. Blocks whose pickle is small are stored uncompressed (their
header says so, and Whoosh's reader only decompresses the ones that say they are
compressed): compressing a block of a few postings saved nothing and cost most of the time.
A test compares what Whoosh reads back with what Whoosh's own writer writes.
"""

from __future__ import annotations

import zlib
from pickle import dumps
from typing import Any

import numpy as np
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3TermInfo
from whoosh.system import pack_int, pack_ushort
from whoosh.util.numeric import length_to_byte

from search.whoosh.private.codec import served_from_flat, uses_flat_positions
from search.whoosh.segments import TermPool

__all__ = ["write_blocks"]

COMPRESS_ABOVE = 96  # bytes of pickled block data below which a block is stored as is
BATCH_POSTINGS = 32768  # postings made into Python lists at a time


def _concatenated(parts: list[Any], dtype: Any) -> Any:
    if not parts:
        return np.zeros(0, dtype=dtype)
    return np.concatenate([np.asarray(p, dtype=dtype) for p in parts])


class _Field:
    """One field's postings, term after term, as arrays (what the pool holds, joined)."""

    def __init__(self, entries: list[tuple[bytes, Any]], with_values: bool) -> None:
        self.terms = [t for t, _ in entries]
        sizes = [len(e.docs) for _, e in entries]
        self.starts = np.zeros(len(entries) + 1, dtype=np.int64)
        np.cumsum(sizes, out=self.starts[1:])
        self.docs = _concatenated([e.docs for _, e in entries], np.int64)
        self.weights = _concatenated([e.weights for _, e in entries], np.float32)
        self.values: list[Any] | None = None
        if with_values:
            self.values = [v for _, e in entries for v in e.value_bytes()]


def _blocks(starts: Any, limit: int) -> tuple[Any, Any, Any]:
    """(first posting, end, term number) of every block: each term cut every `limit`."""
    sizes = np.diff(starts)
    nblocks = -(-sizes // limit)
    term_of = np.repeat(np.arange(len(sizes)), nblocks)
    first_block = np.zeros(len(sizes) + 1, dtype=np.int64)
    np.cumsum(nblocks, out=first_block[1:])
    within = np.arange(int(first_block[-1])) - first_block[term_of]
    begin = starts[term_of] + within * limit
    end = np.minimum(begin + limit, starts[term_of + 1])
    return begin, end, term_of


def _field_blocks(field: _Field, limit: int, level: int, fixedsize: int | None,
                  lengths: Any | None, fieldid: int, postfile: Any, tindex: Any,
                  write: bool = True) -> None:
    """Write one field's posting blocks and add its terms to the term index (only the
    terms, with their statistics, when not `write`: the codec reads the flat postings)."""
    if not field.terms:
        return
    begin, end, term_of = _blocks(field.starts, limit)
    docs, weights = field.docs, field.weights
    # Block statistics, as Whoosh's writer computes them from each block's postings.
    maxweights = np.maximum(np.maximum.reduceat(weights, begin), 0).astype(np.float64)
    minweights = np.minimum.reduceat(weights, begin)
    allsame = np.maximum.reduceat(weights, begin) == minweights
    if lengths is not None:
        found = lengths[docs]
        maxlengths = np.maximum.reduceat(found, begin)
        big = np.where(found > 0, found, np.iinfo(np.int64).max)
        minlengths = np.minimum.reduceat(big, begin)
        has_min = minlengths != np.iinfo(np.int64).max
    else:
        maxlengths = np.zeros(len(begin), dtype=np.int64)
        minlengths = maxlengths
        has_min = np.zeros(len(begin), dtype=bool)
    sums = np.add.reduceat(weights.astype(np.float64), field.starts[:-1]) \
        if len(docs) else np.zeros(0)
    deltas = docs.copy()
    deltas[1:] -= docs[:-1]
    deltas[begin] = docs[begin]
    # Python values, a whole field at once (per block they are slices).
    deltas_l, weights_l, docs_l = deltas.tolist(), weights.tolist(), docs.tolist()
    begin_l, end_l, term_l = begin.tolist(), end.tolist(), term_of.tolist()
    maxw_l, minw_l, same_l = maxweights.tolist(), minweights.tolist(), allsame.tolist()
    maxlen_l, minlen_l, hasmin_l = maxlengths.tolist(), minlengths.tolist(), has_min.tolist()
    to_byte = _LengthBytes()
    values = field.values
    prefix = pack_ushort(fieldid)
    offset = postfile.tell()
    n_blocks = len(begin_l)
    b = 0
    for t, tbytes in enumerate(field.terms):
        chunks = [WHOOSH3_HEADER_MAGIC]
        size = len(WHOOSH3_HEADER_MAGIC)
        terminfo = W3TermInfo()
        minlength: int | None = None
        maxlength = 0
        maxweight = 0.0
        first = b
        while b < n_blocks and term_l[b] == t and not write:
            b += 1
            if hasmin_l[b - 1]:
                blockmin = minlen_l[b - 1]
                minlength = blockmin if minlength is None else min(minlength, blockmin)
            maxlength = max(maxlength, maxlen_l[b - 1])
            maxweight = max(maxweight, maxw_l[b - 1])
        while b < n_blocks and term_l[b] == t:
            a, z = begin_l[b], end_l[b]
            if same_l[b]:
                mini: Any = None if minw_l[b] == 1.0 else minw_l[b]
            else:
                mini = tuple(weights_l[a:z])
            if fixedsize == 0:
                minivalues: Any = None
            elif fixedsize is None or fixedsize < 0:
                minivalues = tuple(v for v in values[a:z] if v)  # type: ignore[index]
            else:
                minivalues = b"".join(v for v in values[a:z] if v)  # type: ignore[index]
            data = dumps((tuple(deltas_l[a:z]), mini, minivalues), 2)
            blevel = level if level and len(data) > COMPRESS_ABOVE else 0
            if blevel:
                data = zlib.compress(data, blevel)
            blockmin = minlen_l[b] if hasmin_l[b] else None
            info = dumps((z - a, docs_l[z - 1], maxw_l[b], blevel, to_byte(blockmin),
                          to_byte(maxlen_l[b])), 2)
            length = len(info) + len(data)
            b += 1
            last = b == n_blocks or term_l[b] != t
            chunks += [pack_int(-length if last else length), info, data]
            size += 4 + length
            if blockmin is not None:
                minlength = blockmin if minlength is None else min(minlength, blockmin)
            maxlength = max(maxlength, maxlen_l[b - 1])
            maxweight = max(maxweight, maxw_l[b - 1])
        if write:
            postfile.write(b"".join(chunks))
        else:
            size = 0
        a0, z0 = begin_l[first], end_l[b - 1]
        terminfo._weight = sums[t]
        terminfo._df = z0 - a0
        terminfo._minlength = minlength
        terminfo._maxlength = maxlength
        terminfo._maxweight = maxweight
        terminfo._minid = docs_l[a0]
        terminfo._maxid = docs_l[z0 - 1]
        terminfo.set_extent(offset, size)
        offset += size
        tindex.add(prefix + tbytes, terminfo.to_bytes())


class _LengthBytes(dict[Any, int]):
    """Whoosh's `length_to_byte`, remembered."""

    def __call__(self, length: int | None) -> int:
        try:
            return self[length]
        except KeyError:
            value = self[length] = length_to_byte(length)
            return value


def _batches(entries: list[tuple[bytes, Any]]) -> Any:
    """Consecutive terms holding about BATCH_POSTINGS postings together (at least one)."""
    batch: list[tuple[bytes, Any]] = []
    size = 0
    for item in entries:
        batch.append(item)
        size += len(item[1].docs)
        if size >= BATCH_POSTINGS:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def write_blocks(fieldwriter: Any, schema: Any, pool: TermPool,
                 length_columns: dict[str, Any] | None) -> None:
    """What Whoosh's `add_postings` writes, a field at a time (see the module docstring).

    `length_columns` maps a field to its documents' lengths (numpy, 0 for none); a field
    missing from it (or all of them, when it is None) has no lengths.
    """
    postfile = fieldwriter._postfile
    tindex = fieldwriter._tindex
    by_field: dict[str, list[tuple[bytes, Any]]] = {}
    for fieldname, tbytes, entry in pool.sorted_terms():
        by_field.setdefault(fieldname, []).append((tbytes, entry))
    for fieldname, entries in by_field.items():
        field = schema[fieldname]
        fieldwriter.start_field(fieldname, field)
        postwriter = fieldwriter._codec.postings_writer(postfile)
        assert postwriter._inlinelimit <= 1  # no posting list is inlined
        # No values where the codec reads positions from the flat postings.
        flat = uses_flat_positions(fieldwriter._codec, field)
        served = served_from_flat(fieldwriter._codec, fieldname)  # no blocks at all
        fixedsize = 0 if flat or served else field.format.fixed_value_size()
        lengths = length_columns.get(fieldname) if length_columns else None
        for batch in _batches(entries):  # bounded memory: Python lists of a batch only
            _field_blocks(_Field(batch, with_values=fixedsize != 0), postwriter._blocklimit,
                          postwriter._compression or 0, fixedsize, lengths,
                          fieldwriter._fieldid, postfile, tindex, write=not served)
        del entries
        fieldwriter.finish_field()
