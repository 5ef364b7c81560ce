"""Whoosh's segment writer, with field lengths read once per document instead of per posting.

When Whoosh flushes a segment it asks, for every posting, the length of the document's
field, reading it back from a column file through several layers of Python; on a news
archive that is a fifth of the build time. `SegmentWriter` here loads each length column
into a list once and answers from it. What it writes is byte-for-byte what Whoosh writes.
"""

from __future__ import annotations

from typing import Any

from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
from whoosh.util.numeric import byte_to_length
from whoosh.writing import SegmentWriter as WhooshSegmentWriter

from indexer.faults import checkpoint

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


class SegmentWriter(WhooshSegmentWriter):
    """A Whoosh SegmentWriter whose flush looks field lengths up in memory."""

    def _flush_segment(self) -> None:
        self.perdocwriter.close()
        reader = self.per_document_reader() if self.codec.length_stats else None
        postings = self.pool.iter_postings()
        self.fieldwriter.add_postings(self.schema, _Lengths(reader) if reader else None,
                                      postings)
        self.fieldwriter.close()
        if reader:
            reader.close()

    def _commit_toc(self, segments: Any) -> None:
        checkpoint("segment-written")
        super()._commit_toc(segments)
        checkpoint("toc-written")
