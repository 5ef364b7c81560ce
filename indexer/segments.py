"""Whoosh's segment writer, made cheaper where a news archive makes it slow.

- Postings: Whoosh pools every posting as a tuple and sorts them all (spilling sorted runs
  to disk past `limitmb`). `TermPool` files each posting under its term as it comes, in
  compact arrays; flushing sorts only the terms. Postings of a term arrive in document
  order, so nothing else needs sorting.
- Field lengths: for every posting, Whoosh reads the document's field length back from a
  column file through several layers of Python; `_Lengths` loads each column once.
- Flat postings: the segment also gets a copy of the searched fields' postings as arrays
  (search/postings.py), which the vectorised scorer reads.

What is written is what Whoosh writes (a test compares the files' contents).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Sequence
from typing import Any

from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3FieldWriter, _lenfield
from whoosh.util.numeric import byte_to_length
from whoosh.writing import SegmentWriter as WhooshSegmentWriter

from indexer.faults import checkpoint
from search.postings import EXTENSION as POSTINGS_EXTENSION
from search.postings import FIELDS as POSTINGS_FIELDS
from search.postings import write_postings
from search.schema import CompactPositions

__all__ = ["SegmentWriter"]

_BYTE_TO_LENGTH = [byte_to_length(b) for b in range(256)]


class _Lengths:
    """`doc_field_length` over a per-document reader, from columns loaded into memory."""

    def __init__(self, reader: Any) -> None:
        self._reader = reader
        self._columns: dict[str, list[int | None] | None] = {}

    def _load(self, fieldname: str) -> list[int | None] | None:
        column = self._reader._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
        if column is None:
            return None
        return [_BYTE_TO_LENGTH[b] if b else None for b in column]

    def doc_field_length(self, docnum: int, fieldname: str, default: int = 0) -> int | None:
        try:
            column = self._columns[fieldname]
        except KeyError:
            column = self._columns[fieldname] = self._load(fieldname)
        if column is None:
            return default
        return column[docnum]


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

    def _sorted(self) -> Iterator[tuple[tuple[str, bytes], _Postings]]:
        for key in sorted(self._terms):
            entry = self._terms[key]
            if key in self._unsorted:
                entry.sort()
                self._unsorted.discard(key)
            yield key, entry

    def iter_postings(self) -> Iterator[tuple[str, bytes, int, float, Any]]:
        for (fieldname, tbytes), entry in self._sorted():
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
        for (fieldname, tbytes), entry in self._sorted():
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


def _write_blocks(fieldwriter: Any, schema: Any, pool: TermPool, lengths: _Lengths | None
                  ) -> None:
    """What Whoosh's `add_postings` writes, a block of postings at a time.

    Whoosh's posting writer takes one posting per call and checks each one; here each block
    (128 postings) is handed over as slices of the pool's arrays, with its statistics, and
    written by Whoosh's own `_write_block`.
    """
    field = None
    for (fieldname, tbytes), entry in pool._sorted():
        if fieldname != field:
            if field is not None:
                fieldwriter.finish_field()
            fieldwriter.start_field(fieldname, schema[fieldname])
            field = fieldname
        fieldwriter.start_term(tbytes)
        postwriter = fieldwriter._postwriter
        limit = postwriter._blocklimit
        docs, weights = entry.docs, entry.weights
        if entry.values is not None:
            values = entry.values
        else:
            positions, starts = entry.positions, _starts(entry.counts)
            starts.append(len(positions))
            values = [positions[starts[i]:starts[i + 1]].tobytes() for i in range(len(docs))]
        length_of = (lambda d, f=fieldname: lengths.doc_field_length(d, f)) if lengths \
            else (lambda d: 0)
        for start in range(0, len(docs), limit):
            end = min(start + limit, len(docs))
            postwriter._ids = docs[start:end]
            postwriter._weights = weights[start:end]
            postwriter._values = [v for v in values[start:end] if v]
            postwriter._maxweight = max(max(postwriter._weights), 0)
            found = [n for n in map(length_of, postwriter._ids) if n]
            postwriter._minlength = min(found) if found else None
            postwriter._maxlength = max(found) if found else 0
            if end < len(docs):
                postwriter._write_block()  # the last block is written by finish_term
        fieldwriter.finish_term()
    if field is not None:
        fieldwriter.finish_field()


class SegmentWriter(WhooshSegmentWriter):
    """A Whoosh SegmentWriter with a term-grouped pool and field lengths read in memory."""

    def __init__(self, ix: Any, **kwargs: Any) -> None:
        super().__init__(ix, **kwargs)
        self.pool.cleanup()
        self.pool = TermPool([name for name, field in self.schema.items()
                              if isinstance(field.format, CompactPositions)])

    def _flush_segment(self) -> None:
        self.perdocwriter.close()
        reader = self.per_document_reader() if self.codec.length_stats else None
        lengths = _Lengths(reader) if reader else None
        if isinstance(self.fieldwriter, W3FieldWriter):
            _write_blocks(self.fieldwriter, self.schema, self.pool, lengths)
        else:
            self.fieldwriter.add_postings(self.schema, lengths, self.pool.iter_postings())
        self.fieldwriter.close()
        if reader:
            reader.close()
        if self.docnum:
            out = self.newsegment.create_file(self.storage, POSTINGS_EXTENSION)
            write_postings(out, self.pool.by_field(POSTINGS_FIELDS))
            out.close()

    def _commit_toc(self, segments: Any) -> None:
        checkpoint("segment-written")
        super()._commit_toc(segments)
        checkpoint("toc-written")
