"""Whoosh's posting blocks and term statistics, written a field at a time from arrays.

Whoosh's posting writer (`W3PostingsWriter`, whoosh-reloaded WRITTEN_FOR in
search/whoosh/private/__init__.py) takes one posting per call, and per block of 128 computes in
Python the delta-coded ids, the weights, the smallest and largest field lengths and the
largest weight, then pickles and compresses the block; its field writer then adds each
term's statistics to the term index, one call per term. Here a field's term statistics are
computed with numpy (`reduceat` over the terms) and added to the term index in one call
(search/whoosh/private/termindex.py); the fields whose postings the codec reads from the flat
postings (search/whoosh/private/codec.py `served_from_flat`) have no blocks at all. For the
others, block statistics are computed with numpy too and what stays per block is the
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
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC
from whoosh.system import pack_int, pack_uint, pack_ushort
from whoosh.util.numeric import length_to_byte

from search.whoosh.postings import FieldPostings
from search.whoosh.private.codec import served_from_flat, uses_flat_positions
from search.whoosh.private.termindex import TERMINFO_SIZE, TermIndexWriter, term_infos
from search.whoosh.segments import TermPool

__all__ = ["write_blocks"]

COMPRESS_ABOVE = 96  # bytes of pickled block data below which a block is stored as is
BATCH_POSTINGS = 32768  # postings made into Python lists at a time
STATISTICS_POSTINGS = 1 << 20  # postings whose term statistics are computed at a time
_NONE = np.iinfo(np.int64).max  # no length (a document without the field)


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


def _lengths_of(docs: Any, lengths: Any | None) -> tuple[Any, Any]:
    """Each posting's field length, as a largest (0 for none) and a smallest (_NONE)."""
    if lengths is None:
        zeros = np.zeros(len(docs), dtype=np.int64)
        return zeros, np.full(len(docs), _NONE, dtype=np.int64)
    found = lengths[docs]
    return found, np.where(found > 0, found, _NONE)


def _term_infos(postings: FieldPostings, lengths: Any | None, offsets: Any,
                sizes: Any) -> bytes:
    """Every term's W3TermInfo bytes, as Whoosh's writer makes them from its blocks (terms
    of about STATISTICS_POSTINGS postings at a time: bounded temporary arrays)."""
    offsets = np.broadcast_to(offsets, len(postings.terms))
    sizes = np.broadcast_to(sizes, len(postings.terms))
    return b"".join(_some_term_infos(postings, t0, t1, lengths, offsets[t0:t1], sizes[t0:t1])
                    for t0, t1 in _batches(postings.starts, STATISTICS_POSTINGS))


def _some_term_infos(postings: FieldPostings, t0: int, t1: int, lengths: Any | None,
                     offsets: Any, sizes: Any) -> bytes:
    """The W3TermInfo bytes of terms t0..t1."""
    starts = postings.starts[t0:t1 + 1]
    a0, z0 = int(starts[0]), int(starts[-1])
    starts = starts - a0
    docs, weights = postings.docs[a0:z0], postings.weights[a0:z0]
    first = starts[:-1]
    largest, smallest = _lengths_of(docs, lengths)
    minlength = np.minimum.reduceat(smallest, first)
    minlength[minlength == _NONE] = 0  # Whoosh's None: stored as 0
    return term_infos(
        df=np.diff(starts), weight=np.add.reduceat(weights.astype(np.float64), first),
        minlength=minlength, maxlength=np.maximum.reduceat(largest, first),
        maxweight=np.maximum(np.maximum.reduceat(weights, first), 0), minid=docs[first],
        maxid=docs[starts[1:] - 1], offset=offsets, length=sizes)


def _value_bytes(postings: FieldPostings, a: int, z: int) -> list[Any]:
    """Whoosh's value of postings a..z: given, packed positions, or the frequency."""
    if postings.values is not None:
        return postings.values[a:z]
    counts = postings.counts[a:z].tolist()
    if postings.positions is None:
        return [pack_uint(c) for c in counts]
    start = int(postings.counts[:a].sum())
    data = postings.positions[start:start + sum(counts)].astype("<u4").tobytes()
    cut, values = 0, []
    for c in counts:
        values.append(data[cut:cut + 4 * c])
        cut += 4 * c
    return values


def _term_blocks(postings: FieldPostings, t0: int, t1: int, limit: int, level: int,
                 fixedsize: int | None, lengths: Any | None, postfile: Any) -> list[int]:
    """Write the posting blocks of terms t0..t1; their sizes in bytes."""
    starts = postings.starts[t0:t1 + 1]
    a0, z0 = int(starts[0]), int(starts[-1])
    docs, weights = postings.docs[a0:z0].astype(np.int64), postings.weights[a0:z0]
    begin, end, term_of = _blocks(starts - a0, limit)
    # Block statistics, as Whoosh's writer computes them from each block's postings.
    largest, smallest = _lengths_of(docs, lengths)
    maxlengths = np.maximum.reduceat(largest, begin)
    minlengths = np.minimum.reduceat(smallest, begin)
    maxweights = np.maximum(np.maximum.reduceat(weights, begin), 0).astype(np.float64)
    minweights = np.minimum.reduceat(weights, begin)
    allsame = np.maximum.reduceat(weights, begin) == minweights
    deltas = docs.copy()
    deltas[1:] -= docs[:-1]
    deltas[begin] = docs[begin]
    # Python values, a batch at once (per block they are slices).
    deltas_l, weights_l, docs_l = deltas.tolist(), weights.tolist(), docs.tolist()
    begin_l, end_l, term_l = begin.tolist(), end.tolist(), term_of.tolist()
    maxw_l, minw_l, same_l = maxweights.tolist(), minweights.tolist(), allsame.tolist()
    maxlen_l, minlen_l = maxlengths.tolist(), minlengths.tolist()
    values = _value_bytes(postings, a0, z0) if fixedsize != 0 else None
    to_byte = _LengthBytes()
    # A term of one posting (an id, a url, most hyphenated words): its block's two pickles
    # put together from remembered pieces (`_OnePosting`), the same bytes as `dumps`.
    one = _OnePosting() if SINGLE_POSTINGS else None
    # Most of them at once, with numpy, when their values allow (`_at_once`).
    done = _at_once(postings, a0, starts - a0, begin, minweights, maxweights, fixedsize,
                    lengths, level, one) if one is not None else None
    sizes = []
    pieces: list[bytes] = []  # the batch's blocks, written at once
    n_blocks = len(begin_l)
    b = 0
    for t in range(t1 - t0):
        if done is not None and done.sizes[t]:
            sizes.append(done.sizes[t])  # (its bytes placed by `done`)
            b += 1
            continue
        a, z = begin_l[b], end_l[b]
        if one is not None and z - a == 1 and (b + 1 == n_blocks or term_l[b + 1] != t):
            if fixedsize == 0:
                minivalues: Any = None
            elif fixedsize is None or fixedsize < 0:
                minivalues = (values[a],) if values[a] else ()  # type: ignore[index]
            else:
                minivalues = values[a] or b""  # type: ignore[index]
            blockmin = minlen_l[b] if minlen_l[b] != _NONE else None
            found = one.block(docs_l[a], None if minw_l[b] == 1.0 else minw_l[b],
                              minivalues, maxw_l[b], to_byte(blockmin), to_byte(maxlen_l[b]),
                              level)
            if found is not None:
                if done is None:
                    pieces += found
                else:
                    pieces.append(b"".join(found))
                    done.apart.append(t)
                sizes.append(one.size)
                b += 1
                continue
        chunks = [WHOOSH3_HEADER_MAGIC]
        while b < n_blocks and term_l[b] == t:
            a, z = begin_l[b], end_l[b]
            if same_l[b]:
                mini: Any = None if minw_l[b] == 1.0 else minw_l[b]
            else:
                mini = tuple(weights_l[a:z])
            if fixedsize == 0:
                minivalues = None
            elif fixedsize is None or fixedsize < 0:
                minivalues = tuple(v for v in values[a:z] if v)  # type: ignore[index]
            else:
                minivalues = b"".join(v for v in values[a:z] if v)  # type: ignore[index]
            data = dumps((tuple(deltas_l[a:z]), mini, minivalues), 2)
            blevel = level if level and len(data) > COMPRESS_ABOVE else 0
            if blevel:
                data = zlib.compress(data, blevel)
            blockmin = minlen_l[b] if minlen_l[b] != _NONE else None
            info = dumps((z - a, docs_l[z - 1], maxw_l[b], blevel, to_byte(blockmin),
                          to_byte(maxlen_l[b])), 2)
            length = len(info) + len(data)
            b += 1
            last = b == n_blocks or term_l[b] != t
            chunks += [pack_int(-length if last else length), info, data]
        block = b"".join(chunks)
        pieces.append(block)
        sizes.append(len(block))
        if done is not None:
            done.apart.append(t)
    postfile.write(b"".join(pieces) if done is None else done.placed(pieces, sizes))
    return sizes


SINGLE_POSTINGS = True  # terms of one posting through `_OnePosting` (tests turn it off)
_PROTO = b"\x80\x02"  # a pickle's head (protocol 2); a block's data pickle starts so
_INFO_HEAD = _PROTO + b"(K\x01"  # its info's pickle: a tuple's mark and its count, 1


class _OnePosting:
    """The bytes of a one-posting term's block (magic, length, info, data) as pieces: the
    pickles of Whoosh's two tuples differ from term to term by the document number alone
    (pickled with the opcode its size takes), so each is a head, the number's pickle and
    the pickle's tail for the block's other values, remembered."""

    def __init__(self) -> None:
        self._numbers: dict[int, bytes] = {}
        self._data_tails: dict[Any, bytes] = {}
        self._info_tails: dict[Any, bytes] = {}
        self._heads: dict[int, bytes] = {}
        self.size = 0  # the last block's, in bytes

    def block(self, doc: int, mini: Any, minivalues: Any, maxweight: float, minbyte: int,
              maxbyte: int, level: int) -> list[bytes] | None:
        """The pieces of the block of a term whose one posting is `doc`, its block's values
        as `_term_blocks` makes them; None when its data would be compressed."""
        number = self._numbers.get(doc)
        if number is None:
            number = dumps(doc, 2)[2:-1]  # the opcode and its bytes (ints are not memoised)
            _remember(self._numbers, doc, number)
        # Floats equal but pickled apart (0.0 and -0.0) are not remembered.
        key = (mini, minivalues)
        data_tail = self._data_tails.get(key)
        if data_tail is None:
            # `dumps(((doc,), mini, minivalues), 2)` but its head and the number "K\x00"
            data_tail = dumps(((0,), mini, minivalues), 2)[len(_PROTO) + 2:]
            if mini != 0.0:
                _remember(self._data_tails, key, data_tail)
        data_size = len(_PROTO) + len(number) + len(data_tail)
        if level and data_size > COMPRESS_ABOVE:
            return None
        key = (maxweight, minbyte, maxbyte)
        info_tail = self._info_tails.get(key)
        if info_tail is None:
            # `dumps((1, doc, maxweight, 0, minbyte, maxbyte), 2)` but its head and "K\x00"
            info_tail = dumps((1, 0, maxweight, 0, minbyte, maxbyte), 2)[len(_INFO_HEAD) + 2:]
            if maxweight != 0.0:
                _remember(self._info_tails, key, info_tail)
        length = len(_INFO_HEAD) + len(number) + len(info_tail) + data_size
        head = self._heads.get(length)
        if head is None:
            head = WHOOSH3_HEADER_MAGIC + pack_int(-length) + _INFO_HEAD
            _remember(self._heads, length, head)
        self.size = len(head) - len(_INFO_HEAD) + length
        return [head, number, info_tail, _PROTO, number, data_tail]


class _Placed:
    """One-posting terms' blocks made at once: each term's size (0 for the others) and the
    groups of blocks alike but for their document number, as rows of bytes."""

    def __init__(self, count: int) -> None:
        self.sizes = [0] * count
        self.groups: list[tuple[Any, Any]] = []  # (terms, rows: uint8, a block a row)
        self.apart: list[int] = []  # the terms whose blocks were made one by one

    def placed(self, pieces: list[bytes], sizes: list[int]) -> Any:
        """The batch's bytes: the blocks of the terms `apart` (`pieces`, in order) and
        those of the groups, each in its place (each term's size in `sizes`)."""
        ends = np.cumsum(np.array(sizes, dtype=np.int64))
        out = np.empty(int(ends[-1]) if len(ends) else 0, dtype=np.uint8)
        starts = (ends - np.array(sizes, dtype=np.int64)).tolist()
        for t, piece in zip(self.apart, pieces, strict=True):
            out[starts[t]:starts[t] + len(piece)] = np.frombuffer(piece, dtype=np.uint8)
        starts = np.array(starts, dtype=np.int64)
        for terms, rows in self.groups:
            out[starts[terms][:, None] + np.arange(rows.shape[1])] = rows
        return memoryview(out)


# Opcode and little-endian width of an int's pickle, by the sizes numpy tells apart
# (a larger number, or a negative one, is left to `_OnePosting`).
_INT_OPCODES = ((1 << 8, b"K", "<u1"), (1 << 16, b"M", "<u2"), (1 << 31, b"J", "<i4"))


def _at_once(postings: FieldPostings, a0: int, starts: Any, begin: Any, minweights: Any,
             maxweights: Any, fixedsize: int | None, lengths: Any | None, level: int,
             one: _OnePosting) -> _Placed | None:
    """The blocks of the batch's one-posting terms (`starts` from 0 at posting `a0`;
    `begin`, `minweights`, `maxweights` of each block), made as rows of bytes by numpy:
    those whose other values are alike (weight, frequency, the size of the document
    number's pickle) share a row made by `_OnePosting`, the number written in each. None
    when the field's values or lengths are not of the kinds this knows (Existence's
    nothing, or a frequency, and no lengths)."""
    if lengths is not None or not (fixedsize == 0 or (
            fixedsize is not None and fixedsize > 0 and postings.values is None
            and postings.positions is None and postings.counts is not None)):
        return None
    sizes = np.diff(starts)
    single = np.flatnonzero(sizes == 1)
    found = _Placed(len(sizes))
    if not len(single):
        return found
    # A one-posting term has one block, the one beginning at its posting.
    blocks = np.searchsorted(begin, starts[single])
    at = begin[blocks]
    docs = postings.docs[a0 + at].astype(np.int64)
    counts = postings.counts[a0 + at].astype(np.uint64) if fixedsize else \
        np.zeros(len(single), dtype=np.uint64)
    kind = np.full(len(single), len(_INT_OPCODES), dtype=np.uint64)
    for k, (below, _, _) in reversed(list(enumerate(_INT_OPCODES))):
        kind[(docs >= 0) & (docs < below)] = k
    # The values that make blocks alike, each numbered (floats by their bits: 0.0 and
    # -0.0 are pickled apart), then the blocks grouped by the four numbers.
    group_of, bound = np.zeros(len(single), dtype=np.int64), 1
    for column in (minweights[blocks].astype(np.float64).view(np.uint64),
                   maxweights[blocks].astype(np.float64).view(np.uint64), counts, kind):
        distinct, numbers = np.unique(column, return_inverse=True)
        if bound * len(distinct) >= 1 << 62:  # (numbered again: below the count of terms)
            group_of, bound = np.unique(group_of, return_inverse=True)[1].reshape(-1), \
                len(single)
        group_of = group_of * len(distinct) + numbers.reshape(-1)
        bound *= len(distinct)
    firsts, group_of = np.unique(group_of, return_index=True, return_inverse=True)[1:]
    group_of = group_of.reshape(-1)
    for g, first in enumerate(firsts.tolist()):
        if int(kind[first]) == len(_INT_OPCODES):
            continue  # left to `_OnePosting`, a term at a time
        members = np.flatnonzero(group_of == g)
        minweight = float(minweights[blocks[first]])
        minivalues = pack_uint(int(counts[first])) if fixedsize else None
        pieces = one.block(int(docs[first]), None if minweight == 1.0 else minweight,
                           minivalues, float(maxweights[blocks[first]]), 0, 0, level)
        if pieces is None:
            continue  # its data compressed: a term at a time
        _, opcode, width = _INT_OPCODES[int(kind[first])]
        number = pieces[1]
        assert number[:1] == opcode and len(number) == 1 + np.dtype(width).itemsize
        row = np.frombuffer(b"".join(pieces), dtype=np.uint8)
        rows = np.repeat(row[None, :], len(members), axis=0)
        values = docs[members].astype(width).view(np.uint8).reshape(len(members), -1)
        first_number = len(pieces[0]) + 1
        second_number = first_number + len(number) + len(pieces[2]) + len(pieces[3])
        rows[:, first_number:first_number + len(number) - 1] = values
        rows[:, second_number:second_number + len(number) - 1] = values
        terms = single[members]
        found.groups.append((terms, rows))
        for t in terms.tolist():
            found.sizes[t] = len(row)
    return found


def _remember(table: dict[Any, bytes], key: Any, value: bytes) -> None:
    if len(table) >= _REMEMBERED:
        table.clear()
    table[key] = value


_REMEMBERED = 10_000  # values each of _OnePosting's tables holds at most


class _LengthBytes(dict[Any, int]):
    """Whoosh's `length_to_byte`, remembered."""

    def __call__(self, length: int | None) -> int:
        try:
            return self[length]
        except KeyError:
            value = self[length] = length_to_byte(length)
            return value


def _batches(starts: Any, size: int | None = None) -> list[tuple[int, int]]:
    """Consecutive terms holding about `size` (BATCH_POSTINGS) postings together (at least
    one term each)."""
    size = size or BATCH_POSTINGS
    cuts = np.searchsorted(starts, np.arange(0, int(starts[-1]), size), side="right") - 1
    bounds = sorted({*cuts.tolist(), len(starts) - 1})
    bounds[0] = 0
    return list(zip(bounds, bounds[1:], strict=False))


def write_blocks(fieldwriter: Any, schema: Any, pool: TermPool,
                 length_columns: dict[str, Any] | None) -> None:
    """What Whoosh's `add_postings` writes, a field at a time (see the module docstring).

    `length_columns` maps a field to its documents' lengths (numpy, 0 for none); a field
    missing from it (or all of them, when it is None) has no lengths.
    """
    postfile = fieldwriter._postfile
    tindex = fieldwriter._tindex
    if not isinstance(tindex, TermIndexWriter):  # a field writer of Whoosh's own
        tindex = fieldwriter._tindex = TermIndexWriter.replacing(tindex)
    for fieldname, postings in pool.fields():
        if not postings.terms:
            continue
        field = schema[fieldname]
        fieldwriter.start_field(fieldname, field)
        postwriter = fieldwriter._codec.postings_writer(postfile)
        assert postwriter._inlinelimit <= 1  # no posting list is inlined
        # No values where the codec reads positions from the flat postings.
        flat = uses_flat_positions(fieldwriter._codec, field)
        served = served_from_flat(fieldwriter._codec, fieldname)  # no blocks at all
        fixedsize = 0 if flat or served else field.format.fixed_value_size()
        lengths = length_columns.get(fieldname) if length_columns else None
        if served:
            offsets: Any = postfile.tell()
            sizes: Any = 0
        else:
            sizes = []
            for t0, t1 in _batches(postings.starts):  # bounded memory: lists of a batch
                sizes += _term_blocks(postings, t0, t1, postwriter._blocklimit,
                                      postwriter._compression or 0, fixedsize, lengths,
                                      postfile)
            sizes = np.array(sizes, dtype=np.int64)
            offsets = np.zeros(len(sizes), dtype=np.int64)
            np.cumsum(sizes[:-1], out=offsets[1:])
            offsets += postfile.tell() - int(sizes.sum())
        prefix = pack_ushort(fieldwriter._fieldid)
        tindex.add_fixed([prefix + t for t in postings.terms],
                         _term_infos(postings, lengths, offsets, sizes), TERMINFO_SIZE)
        del postings
        fieldwriter.finish_field()
