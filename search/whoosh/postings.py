"""Postings as flat arrays beside Whoosh's own: what the vectorised scorer reads.

Whoosh stores postings in pickled, compressed blocks that it decodes one posting at a time
in Python. For the fields readers search, each segment also carries a copy of its postings
as plain arrays (one `.fpo` file, packed into the segment's compound file like Whoosh's
own files, so it is written, fsynced, merged and deleted with the segment):

    b"FURETPO4", header length (uint64), header (JSON), then per field:
    starts (uint64, terms + 1)   where each term's postings start
    docs   (uint16/32, postings) document numbers, increasing within a term
    weights(uint8/16 or float32) the weighted frequencies Whoosh stores
    and for fields with positions (the exact forms, for phrases):
    counts (uint8/16/32, postings)  positions in each posting
    pstarts(uint64, terms + 1)   where each term's positions start
    positions (uint16/32)        word positions, posting after posting
    or, for the other fields, when written (segments of CompactCodec, whose Whoosh postings
    are read from here):
    counts (uint8/16/32, postings)  the word's frequency in each posting (Whoosh's value)

Counts and positions take the narrowest unsigned type that holds the field's largest
(the header's `counts_type` and `positions_type`). Furet's weights are sums of 1, 1.5 and
3: twice a weight is a whole number, stored as uint8 or uint16 (`weights_type`, and
`weights_scale` 0.5) when it fits, else float32. Since the fourth version (b"FURETPO4"),
counts and weights are uint8 when at most 1 % of a field's are over 254: those are stored
as 255 and listed after the field's arrays (`counts_overflow`, `weights_overflow`: their
posting numbers, then their values, uint32; `..._overflow_count` of them). Document
numbers are uint16 when the field's largest fits (`docs_type`), and read back as uint32.
Files of the first version (b"FURETPO1") hold counts and positions as uint32, those of
the second (b"FURETPO2") weights as float32, those of the third no overflow lists; all
are read as such.

Reading is a memory map: a term's postings are slices, no copy, no Python loop. Every
segment Furet writes has this file: one without it (or with a damaged one) is a damaged
index, never searched another way.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["EXTENSION", "FIELDS", "FieldPostings", "SegmentPostings", "segment_postings",
           "segment_postings_in", "write_postings"]

EXTENSION = ".fpo"
FIELDS = ("text", "exact", "title", "title_exact", "author_terms", "section_terms")
_MAGIC = b"FURETPO4"
# counts and positions as uint32; float32 weights; no overflow lists
_OLD_MAGICS = (b"FURETPO1", b"FURETPO2", b"FURETPO3")
OVERFLOW_SHARE = 0.01  # at most this share of a field's counts or weights listed apart


def _narrowest(largest: int, floor: str = "B") -> str:
    """The narrowest array typecode (of B, H, I, at least `floor`) that holds `largest`."""
    for code, limit in (("B", 0xFF), ("H", 0xFFFF)):
        if code >= floor and largest <= limit:  # "B" < "H" < "I"
            return code
    return "I"


def _narrow_or_overflow(values: Any) -> tuple[str, bytes, bytes, int]:
    """(typecode, bytes, overflow list, its length) of unsigned numbers: uint8 when the
    values over 254 are few (stored as 255 and listed apart: their posting numbers then
    their values, uint32), else the narrowest type that holds them all."""
    code = _narrowest(int(values.max(initial=0)))
    if code != "B":
        big = np.flatnonzero(values >= 0xFF)
        if len(big) <= len(values) * OVERFLOW_SHARE:
            over = np.concatenate([big, values[big]]).astype("<u4").tobytes()
            return "B", _narrowed(np.minimum(values, 0xFF), "B"), over, len(big)
    return code, _narrowed(values, code), b"", 0


def _narrowed(data: Any, code: str) -> bytes:
    """Unsigned numbers `data` (an array or numpy array) as little-endian `code` bytes."""
    return np.asarray(data, dtype=np.uint32).astype("<" + {"B": "u1", "H": "u2",
                                                           "I": "u4"}[code]).tobytes()
_WIDTH = {"B": 1, "H": 2, "I": 4}


def _as_numbers(packed: Any) -> Any:
    """Packed little-endian uint32 positions (bytes-like or array) as numbers."""
    if isinstance(packed, np.ndarray):
        return packed.astype("<u4", copy=False)
    return np.frombuffer(memoryview(packed).cast("B"), dtype="<u4")


def _write_padded(out: Any, chunks: Iterable[bytes]) -> int:
    size = 0
    for chunk in chunks:
        out.write(chunk)
        size += len(chunk)
    padding = -size % 8  # keeps every array 8-byte aligned
    out.write(b"\0" * padding)
    return size + padding


@dataclass
class FieldPostings:
    """One field's postings, term after term, as arrays (what a segment writes)."""

    terms: list[bytes]  # in Whoosh's order (by their bytes), UTF-8
    starts: Any  # int64, terms + 1: where each term's postings start
    docs: Any  # uint32, increasing within a term
    weights: Any  # float32
    counts: Any | None  # uint32: positions of each posting, or its frequency; None: unknown
    positions: Any | None  # uint32 word positions, posting after posting (positional fields)
    values: list[Any] | None = None  # Whoosh's value of each posting, when not made from those

    @classmethod
    def of_terms(cls, terms: Sequence[tuple[Any, ...]]) -> FieldPostings:
        """From (term, docs, weights, packed positions or None, counts or None) per term."""
        sizes = [len(t[1]) for t in terms]
        starts = np.zeros(len(terms) + 1, dtype=np.int64)
        np.cumsum(sizes, out=starts[1:])

        def joined(i: int, dtype: Any) -> Any:
            return np.concatenate([np.asarray(t[i], dtype=dtype) for t in terms]) \
                if terms else np.zeros(0, dtype=dtype)

        positional = bool(terms) and terms[0][3] is not None
        return cls(terms=[t[0].encode("utf-8") if isinstance(t[0], str) else t[0]
                          for t in terms],
                   starts=starts, docs=joined(1, np.uint32), weights=joined(2, np.float32),
                   counts=joined(4, np.uint32) if terms and terms[0][4] is not None else None,
                   positions=np.concatenate([_as_numbers(t[3]) for t in terms])
                   if positional else None)


def _decoded(terms: list[bytes]) -> list[str]:
    """`[t.decode("utf-8") for t in terms]`: joined, decoded and split in C, unless a term
    holds the NUL byte that joins them (then one by one)."""
    found = b"\x00".join(terms).decode("utf-8").split("\x00") if terms else []
    if len(found) != len(terms):  # (a term holding b"\x00")
        return [t.decode("utf-8") for t in terms]
    return found


def write_postings(out: Any, fields: Iterable[tuple[str, FieldPostings | Sequence[Any]]]
                   ) -> None:
    """Write the postings file.

    `fields` yields (field, FieldPostings) with counts for the positional fields, or
    (field, [(term, docs, weights, positions, counts), ...]) with uint32 docs, float32
    weights, and for positional fields the term's packed positions (uint32) and the number
    of positions of each posting (else None and None).
    """
    fields = [(name, p if isinstance(p, FieldPostings) else FieldPostings.of_terms(p))
              for name, p in fields]
    header: dict[str, Any] = {"fields": {}}
    # each field's arrays as written: bytes, or made when written (documents and float
    # weights: not held for every field while the header is made)
    arrays: dict[str, list[Any]] = {}
    position = 0

    def size(count: int, width: int) -> int:
        return count * width + (-(count * width) % 8)

    for fieldname, field in fields:
        postings = len(field.docs)
        positional = field.positions is not None
        total = len(field.positions) if positional else 0
        info: dict[str, Any] = {"terms": _decoded(field.terms),
                                "count": postings,
                                "positions_total": total if positional else None}
        written: list[Any] = [lambda f=field: f.starts.astype("<u8").tobytes()]
        halves = field.weights.astype(np.float64) * 2
        over: list[tuple[str, bytes, int]] = []
        weights_bytes = None
        if len(halves) and np.array_equal(halves, np.rint(halves)) and halves.min() >= 0 \
                and halves.max() < 2**32:
            code, data, overflow, n = _narrow_or_overflow(halves.astype(np.uint32))
            if code in ("B", "H"):
                info["weights_type"], info["weights_scale"] = code, 0.5
                weights_bytes = data
                over.append(("weights_overflow", overflow, n))
        del halves
        weights_width = _WIDTH[info["weights_type"]] if weights_bytes is not None else 4
        # documents are in order within a term: the largest is some term's last
        largest_doc = int(field.docs.max(initial=0))
        if largest_doc <= 0xFFFF:
            info["docs_type"] = "H"
        written.append(lambda f=field, t="<u2" if "docs_type" in info else "<u4":
                       f.docs.astype(t).tobytes())
        written.append(weights_bytes if weights_bytes is not None else
                       lambda f=field: f.weights.astype("<f4").tobytes())
        layout = [("starts", len(field.terms) + 1, 8),
                  ("docs", postings, 2 if "docs_type" in info else 4),
                  ("weights", postings, weights_width)]
        if not positional and field.counts is not None:  # frequencies (Whoosh's values)
            info["counts_type"], data, overflow, n = _narrow_or_overflow(
                field.counts.astype(np.uint32, copy=False))
            written.append(data)
            over.append(("counts_overflow", overflow, n))
            layout.append(("counts", postings, _WIDTH[info["counts_type"]]))
        if positional:
            counts = field.counts.astype(np.uint32, copy=False)
            numbers = field.positions
            info["counts_type"], data, overflow, n = _narrow_or_overflow(counts)
            over.append(("counts_overflow", overflow, n))
            info["positions_type"] = _narrowest(int(numbers.max(initial=0)), "H")
            cumulated = np.zeros(postings + 1, dtype=np.uint64)
            np.cumsum(counts, out=cumulated[1:])
            written += [data, cumulated[field.starts].astype("<u8").tobytes(),
                        _narrowed(numbers, info["positions_type"])]
            layout += [("counts", postings, _WIDTH[info["counts_type"]]),
                       ("pstarts", len(field.terms) + 1, 8),
                       ("positions", total, _WIDTH[info["positions_type"]])]
        for name, overflow, n in over:
            if n:
                layout.append((name, 2 * n, 4))
                info[name + "_count"] = n
                written.append(overflow)
        for name, count, width in layout:
            info[name] = position
            position += size(count, width)
        header["fields"][fieldname] = info
        arrays[fieldname] = written
    head = json.dumps(header, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    head += b" " * (-len(head) % 8)
    out.write(_MAGIC + struct.pack("<Q", len(head)) + head)
    for fieldname, _ in fields:
        for data in arrays.pop(fieldname):
            _write_padded(out, [data() if callable(data) else data])


_DTYPE = {"B": "<u1", "H": "<u2", "I": "<u4"}
_TERMS = b'{"terms":['  # how each field's entry of the header starts (write_postings)
_AFTER_TERMS = b'],"count":'


def header_layout(raw: bytes) -> dict[str, Any]:
    """The header with each field's "terms" as their number, not their names: the names
    are most of it (hundreds of thousands of strings at a million articles), and opening a
    segment needs only the layout. Inside a JSON string a quote is escaped, so neither
    marker can occur in a term; a header of another shape is read whole."""
    parts, at = [], 0
    while True:
        start = raw.find(_TERMS, at)
        if start < 0:
            break
        end = raw.find(_AFTER_TERMS, start)
        if end < 0:
            return json.loads(raw)  # type: ignore[no-any-return]
        parts += [raw[at:start], b'{"terms":null,"count":']
        at = end + len(_AFTER_TERMS)
    header = json.loads(b"".join([*parts, raw[at:]]))
    for info in header["fields"].values():
        if info["terms"] is not None:
            return json.loads(raw)  # type: ignore[no-any-return]
        # starts: (terms + 1) uint64, right before the documents
        info["terms"] = (info["docs"] - info["starts"]) // 8 - 1
    return header  # type: ignore[no-any-return]


def _layout_holds(header: dict[str, Any], buffer: memoryview, base: int) -> bool:
    """Whether each field's term count, read from its layout, ends its term starts at its
    number of postings (else the header is read whole)."""
    for info in header["fields"].values():
        terms = info["terms"]
        if isinstance(terms, int):
            if terms < 0 or base + info["starts"] + 8 * (terms + 1) > len(buffer):
                return False
            (last,) = struct.unpack_from("<Q", buffer, base + info["starts"] + 8 * terms)
            if last != info["count"]:
                return False
    return True


def _wide(docs: Any) -> Any:
    """Document numbers as uint32, as callers expect them (a copy only if stored narrower)."""
    return docs if docs.dtype.itemsize == 4 else docs.astype(np.uint32)


class SegmentPostings:
    """The postings file of one segment, memory-mapped."""

    def __init__(self, buffer: memoryview) -> None:
        magic = bytes(buffer[:8])
        if magic != _MAGIC and magic not in _OLD_MAGICS:
            raise ValueError("not a Furet postings file")
        (length,) = struct.unpack("<Q", buffer[8:16])
        self._buffer = buffer
        raw = bytes(buffer[16:16 + length])
        header = header_layout(raw)
        base = 16 + length
        if not _layout_holds(header, buffer, base):
            header = json.loads(raw)
        # The terms' names are read when first asked for, and kept only until the index's
        # TermDirectory has read them (`release_names`): a dict per segment of every term
        # cost about 115 bytes a term, per segment (70 MB for 90,000 articles in 34
        # segments), and a generation whose directory is prepared never reads them.
        self._names: dict[str, list[str]] | None = None
        self._keep_names = True
        self._numbers: dict[str, dict[str, int]] = {}  # term -> number, made on demand
        self._fields: dict[str, tuple[Any, Any, Any]] = {}
        self._positions: dict[str, tuple[Any, Any, Any]] = {}
        self._scales: dict[str, Any] = {}  # fields whose weights are stored scaled
        self._frequencies: dict[str, Any] = {}  # other fields' counts, when written
        # (the terms holding some, posting numbers, values) of the counts or weights
        # stored as 255, by (field, "counts"/"weights")
        self._overflow: dict[tuple[str, str], tuple[frozenset[int], Any, Any]] = {}
        for fieldname, info in header["fields"].items():
            terms = info["terms"]  # their number (a list when read)
            if not isinstance(terms, int):
                terms = len(terms)
            count = info["count"]
            starts = np.frombuffer(buffer, dtype="<u8", count=terms + 1,
                                   offset=base + info["starts"])
            docs = np.frombuffer(buffer, dtype=_DTYPE[info.get("docs_type", "I")], count=count,
                                 offset=base + info["docs"])
            weights = np.frombuffer(buffer, dtype=_DTYPE.get(info.get("weights_type"), "<f4"),
                                    count=count, offset=base + info["weights"])
            self._fields[fieldname] = (starts, docs, weights)
            for kind in ("weights", "counts"):
                n = info.get(f"{kind}_overflow_count")
                if n:
                    listed = np.frombuffer(buffer, dtype="<u4", count=2 * n,
                                           offset=base + info[f"{kind}_overflow"])
                    numbers = listed[:n]
                    holding = np.searchsorted(starts, numbers, side="right") - 1
                    self._overflow[(fieldname, kind)] = (frozenset(holding.tolist()), numbers,
                                                         listed[n:])
            if "weights_scale" in info:
                self._scales[fieldname] = np.float32(info["weights_scale"])
            if info.get("positions_total") is None and "counts" in info:
                self._frequencies[fieldname] = np.frombuffer(
                    buffer, dtype=_DTYPE[info["counts_type"]], count=count,
                    offset=base + info["counts"])
            if info.get("positions_total") is not None:
                counts_type = _DTYPE[info.get("counts_type", "I")]
                positions_type = _DTYPE[info.get("positions_type", "I")]
                self._positions[fieldname] = (
                    np.frombuffer(buffer, dtype=counts_type, count=count,
                                  offset=base + info["counts"]),
                    np.frombuffer(buffer, dtype="<u8", count=terms + 1,
                                  offset=base + info["pstarts"]),
                    np.frombuffer(buffer, dtype=positions_type, count=info["positions_total"],
                                  offset=base + info["positions"]),
                )

    def _patched(self, fieldname: str, kind: str, values: Any, n: int, start: int,
                 end: int) -> Any:
        """values[start:end] of term `n`, with the values listed apart put back (a copy only
        for the few terms holding some)."""
        found = values[start:end]
        listed = self._overflow.get((fieldname, kind))
        if listed is None or n not in listed[0]:
            return found
        _, numbers, big = listed
        a, b = np.searchsorted(numbers, (start, end))
        found = found.astype(np.uint32)
        found[numbers[a:b] - start] = big[a:b]
        return found

    def has_field(self, fieldname: str) -> bool:
        return fieldname in self._fields

    def fieldnames(self) -> list[str]:
        return list(self._fields)

    def names(self, fieldname: str) -> list[str]:
        """The terms of a field, in term-number order (read from the header; kept for the
        other fields until released)."""
        names = self._names
        if names is None:
            (length,) = struct.unpack("<Q", self._buffer[8:16])
            header = json.loads(bytes(self._buffer[16:16 + length]))
            names = {name: info["terms"] for name, info in header["fields"].items()}
            if self._keep_names:
                self._names = names
        return names.get(fieldname, [])

    def release_names(self) -> None:
        """Forget the terms' names (what looks a term up by name reads them again)."""
        self._names = None
        self._keep_names = False

    def number(self, fieldname: str, term: str) -> int | None:
        """A term's number in this segment's field (None if absent)."""
        numbers = self._numbers.get(fieldname)
        if numbers is None:
            if fieldname not in self._fields:
                return None
            numbers = {name: n for n, name in enumerate(self.names(fieldname))}
            self._numbers[fieldname] = numbers
        return numbers.get(term)

    def sizes(self, fieldname: str) -> Any:
        """How many postings each term of the field has, in term-number order."""
        return np.diff(self._fields[fieldname][0]).astype(np.int64)

    def postings(self, fieldname: str, term: str) -> tuple[Any, Any] | None:
        """(docs, weights) of one term in this segment, or None if it has none."""
        n = self.number(fieldname, term)
        if n is None:
            return None
        docs, weights, scale = self.raw(fieldname, n)
        found = _wide(docs)
        if scale is None:
            return found, weights
        return found, np.multiply(weights, scale, dtype=np.float32)

    def flat(self, fieldname: str) -> tuple[Any, Any, Any, frozenset[int], Any]:
        """(term starts, docs, weights, the term numbers whose weights are partly listed
        apart, scale) of a field: what `raw` slices, for callers reading many terms."""
        starts, docs, weights = self._fields[fieldname]
        listed = self._overflow.get((fieldname, "weights"))
        return (starts, docs, weights, frozenset() if listed is None else listed[0],
                self._scales.get(fieldname))

    def raw(self, fieldname: str, n: int) -> tuple[Any, Any, Any]:
        """(docs, weights, scale) of term number `n` as stored: document numbers uint16 or
        uint32, weights to multiply by `scale` (None: they are float32 already; uint32 for
        a term holding weights listed apart, put back)."""
        starts, docs, weights = self._fields[fieldname]
        start, end = int(starts[n]), int(starts[n + 1])
        return (docs[start:end], self._patched(fieldname, "weights", weights, n, start, end),
                self._scales.get(fieldname))

    def has_positions(self, fieldname: str) -> bool:
        return fieldname in self._positions

    def positions(self, fieldname: str, term: str) -> tuple[Any, Any, Any] | None:
        """(docs, positions per posting, all the positions) of one term, or None (counts
        and positions may be narrower than uint32: callers widen them)."""
        if fieldname not in self._positions:
            return None
        n = self.number(fieldname, term)
        if n is None:
            return None
        docs, counts, positions = self.raw_positions(fieldname, n)
        return _wide(docs), counts, positions

    def flat_positions(self, fieldname: str) -> tuple[Any, Any, Any, frozenset[int]] | None:
        """(counts, where each term's positions start, the positions, the term numbers
        whose counts are partly listed apart) of a field with positions, else None: what
        `raw_positions` slices, for callers reading a term's positions with its postings."""
        found = self._positions.get(fieldname)
        if found is None:
            return None
        listed = self._overflow.get((fieldname, "counts"))
        return (*found, frozenset() if listed is None else listed[0])

    def raw_positions(self, fieldname: str, n: int) -> tuple[Any, Any, Any]:
        """(docs as stored, positions per posting, the positions) of term number `n`."""
        starts, docs, _ = self._fields[fieldname]
        counts, pstarts, positions = self._positions[fieldname]
        start, end = int(starts[n]), int(starts[n + 1])
        return (docs[start:end], self._patched(fieldname, "counts", counts, n, start, end),
                positions[int(pstarts[n]):int(pstarts[n + 1])])

    def whole(self, fieldname: str, term: str) -> tuple[Any, Any, Any, Any] | None:
        """(docs, weights, counts, positions or None) of one term, or None: docs and
        weights as `postings` gives them; counts are the positions of each posting, or the
        frequencies of a field without positions (None in files written before they were
        kept)."""
        found = self.postings(fieldname, term)
        if found is None:
            return None
        if fieldname in self._positions:
            _, counts, positions = self.positions(fieldname, term)  # type: ignore[misc]
            return found[0], found[1], counts, positions
        frequencies = self._frequencies.get(fieldname)
        if frequencies is None:
            return found[0], found[1], None, None
        starts = self._fields[fieldname][0]
        n = self.number(fieldname, term)
        assert n is not None
        counts = self._patched(fieldname, "counts", frequencies, n, int(starts[n]),
                               int(starts[n + 1]))
        return found[0], found[1], counts, None

    def terms(self, fieldname: str) -> Iterable[str]:
        return self.names(fieldname) if fieldname in self._fields else ()


def segment_postings(reader: Any) -> SegmentPostings:
    """The postings file of one segment reader; ValueError when it is missing or unreadable
    (every segment Furet writes has one)."""
    terms = getattr(reader, "_terms", None)
    if hasattr(terms, "flat"):  # Furet's codec has opened it already (search/whoosh/codec.py)
        return terms.flat()  # type: ignore[no-any-return]
    return segment_postings_in(reader.storage(), reader.segment())


def segment_postings_in(storage: Any, segment: Any) -> SegmentPostings:
    """The postings file of `segment` in `storage`; ValueError when missing or unreadable."""
    name = segment.make_filename(EXTENSION)
    if not storage.file_exists(name):
        raise ValueError(f"segment {segment.segment_id()} has no flat postings ({name}): it "
                         "was not written by Furet")
    try:
        handle = storage.open_file(name)
        # A memory-mapped file (search/whoosh/private/mapped.py) gives its bytes without a copy.
        buffer = handle.buffer() if hasattr(handle, "buffer") else handle.read()
        return SegmentPostings(memoryview(buffer))
    except (OSError, struct.error, json.JSONDecodeError, KeyError, TypeError) as err:
        raise ValueError(f"{name} cannot be read ({type(err).__name__}: {err})") from None
