"""Furet's segment writer: Whoosh's SegmentWriter with pooled words and flat postings.

`SegmentWriter` pools the words of Furet's text fields as columns
(search/whoosh/columns.py), hands Whoosh whole blocks of postings
(search/whoosh/private/blocks.py) with field lengths read in memory, adds the flat
postings file, writes with Furet's codec (search/whoosh/private/codec.py) and marks the
crash points of the commit; the parallel build writes segments in worker processes
(`open_part_writer`, `finish_part`, `commit_segments`). Written for whoosh-reloaded
WRITTEN_FOR (search/whoosh/private/__init__.py).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
from whoosh.columns import NumericColumn
from whoosh.util.numeric import byte_to_length
from whoosh.writing import SegmentWriter as WhooshSegmentWriter

from search.faults import checkpoint
from search.whoosh.columns import TokenColumns
from search.whoosh.postings import EXTENSION as POSTINGS_EXTENSION
from search.whoosh.postings import FIELDS as POSTINGS_FIELDS
from search.whoosh.postings import write_postings
from search.whoosh.private.blocks import write_blocks
from search.whoosh.private.codec import CompactCodec
from search.whoosh.segments import TermPool, positional_fields

_INDEXED_KEPT = 10_000  # values of a field whose analysis a segment writer remembers

__all__ = ["SegmentWriter", "abandon_part", "commit_segments", "finish_part",
           "length_column", "open_part_writer"]


# ---------------------------------------------------------------- field lengths

_BYTE_TO_LENGTH = [byte_to_length(b) for b in range(256)]
_BYTE_TO_LENGTH_ARRAY = np.array(_BYTE_TO_LENGTH, dtype=np.int64)


def _length_columns(reader: Any, fieldnames: Any) -> dict[str, Any]:
    """Each field's document lengths (numpy, 0 where a document has none), read whole."""
    columns = {}
    doccount = reader.doc_count_all()
    for fieldname in fieldnames:
        column = reader._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN) \
            if hasattr(reader, "_cached_reader") else None
        if isinstance(column, NumericColumn.Reader) and column._fixedlen == 1:
            data = column._dbfile.get(column._basepos, min(column._count, doccount))
            found = np.zeros(doccount, dtype=np.uint8)
            found[:len(data)] = np.frombuffer(data, dtype=np.uint8)
            columns[fieldname] = _BYTE_TO_LENGTH_ARRAY[found]
        elif column is not None:
            values = length_column(reader, fieldname) or []
            columns[fieldname] = np.array([n or 0 for n in values], dtype=np.int64)
    return columns


def length_column(reader: Any, fieldname: str) -> list[int | None] | None:
    """Each document's length of `fieldname` (None where it has none) in one segment, from a
    SegmentReader or a per-document reader; None when the field has no lengths."""
    perdoc = getattr(reader, "_perdoc", reader)
    if not hasattr(perdoc, "_cached_reader"):
        return None
    column = perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
    if column is None:
        return None
    return [_BYTE_TO_LENGTH[b] if b else None for b in column]


# ---------------------------------------------------------------- writing segments


class SegmentWriter(WhooshSegmentWriter):
    """Whoosh's SegmentWriter with a term-grouped pool, field lengths read in memory, the
    flat postings file, and the crash points of a commit (what it writes is what Whoosh
    writes: a test compares the files' contents)."""

    def __init__(self, ix: Any, **kwargs: Any) -> None:
        kwargs.setdefault("codec", CompactCodec())
        super().__init__(ix, **kwargs)
        self.pool.cleanup()
        self.pool = TermPool(positional_fields(self.schema))
        self.columns: dict[str, TokenColumns] = {}
        self._indexed: dict[str, dict[Any, tuple[Any, ...]]] = {}
        for name, field in self.schema.items():
            pooled = getattr(field, "pooled_analysis", lambda: None)()
            if pooled is not None:
                term, positional, boost = pooled
                self.columns[name] = TokenColumns(term, positional, boost)

    def add_document(self, **fields: Any) -> None:
        """Whoosh's `add_document`, with the words of Furet's text fields pooled as
        columns (search/whoosh/columns.py) instead of a posting at a time."""
        if any(name.startswith("_") for name in fields):  # boosts and custom stored values
            return super().add_document(**fields)
        self._check_state()
        perdocwriter, schema, docnum = self.perdocwriter, self.schema, self.docnum
        add_post = self.pool.add
        fieldnames = sorted(fields)
        self._check_fields(schema, fieldnames)
        perdocwriter.start_doc(docnum)
        try:
            for fieldname in fieldnames:
                value = fields[fieldname]
                if value is None:
                    continue
                field = schema[fieldname]
                length = 0
                if field.indexed:
                    columns = self.columns.get(fieldname)
                    parts = field.parts_of(value) if columns is not None else None
                    if parts is not None:
                        length = columns.add(docnum, parts)  # type: ignore[union-attr]
                    else:
                        for tbytes, freq, weight, vbytes in self._index(fieldname, field,
                                                                        value):
                            length += freq
                            add_post((fieldname, tbytes, docnum, weight, vbytes))
                    if not field.scorable:
                        length = 0
                if field.separate_spelling() or field.vector:
                    raise NotImplementedError(f"{fieldname}: spelling or vector fields")
                perdocwriter.add_field(fieldname, field, value if field.stored else None,
                                       length)
                if field.column_type:
                    perdocwriter.add_column_value(fieldname, field.column_type,
                                                  field.to_column_value(value))
        except BaseException:
            perdocwriter.cancel_doc()
            raise
        perdocwriter.finish_doc()
        self._added = True
        self.docnum += 1
        return None

    def _index(self, fieldname: str, field: Any, value: Any) -> Any:
        """`field.index(value)`, remembered per field: sections, authors, languages, years
        and months repeat from article to article, and each ran Whoosh's analyzer."""
        if field.unique:
            return field.index(value)
        memo = self._indexed.setdefault(fieldname, {})
        try:
            return memo[value]
        except KeyError:
            pass
        except TypeError:  # a value that is no dictionary key
            return field.index(value)
        items = tuple(field.index(value))
        if len(memo) >= _INDEXED_KEPT:  # a field of values that seldom repeat
            memo.clear()
        memo[value] = items
        return items

    def columns_nbytes(self) -> int:
        """Memory held by the pooled columns of this segment (vocabulary aside)."""
        return sum(columns.nbytes() for columns in self.columns.values())

    def _flush_segment(self) -> None:
        for fieldname, columns in self.columns.items():
            grouped = columns.grouped()
            if grouped is not None:
                self.pool.add_grouped(fieldname, grouped)
        self.columns = {}
        self.perdocwriter.close()
        reader = self.per_document_reader() if self.codec.length_stats else None
        columns = _length_columns(reader, self.pool.fieldnames) if reader else None
        if reader:
            reader.close()
        write_blocks(self.fieldwriter, self.schema, self.pool, columns)
        self.fieldwriter.close()
        if self.docnum:
            out = self.newsegment.create_file(self.storage, POSTINGS_EXTENSION)
            write_postings(out, self.pool.by_field(POSTINGS_FIELDS))
            out.close()

    def _commit_toc(self, segments: Any) -> None:
        checkpoint("segment-written")
        super()._commit_toc(segments)
        checkpoint("toc-written")


def open_part_writer(ix: Any, limitmb: int) -> SegmentWriter:
    """A writer of one new segment of `ix`, in a worker process (the parent holds the
    index's lock and commits every worker's segment at once)."""
    return SegmentWriter(ix, _lk=False, limitmb=limitmb)


def finish_part(writer: SegmentWriter, empty: bool) -> Any:
    """The finished segment of a part writer (picklable), or None when it holds nothing."""
    if empty:
        writer._close_segment()
        return None
    return writer._finalize_segment()


def abandon_part(writer: SegmentWriter) -> None:
    """Stop a part writer after an error. Not `cancel()`: it would delete the temporary
    folder every worker shares (Whoosh names it after the index); the build is removed
    whole by its writer."""
    writer._close_segment()


def commit_segments(ix: Any, segments: list[Any]) -> None:
    """Write a table of contents holding `segments`: the new generation of `ix`."""
    writer = SegmentWriter(ix)
    writer._close_segment()
    writer._commit_toc(segments)
    writer._finish()
