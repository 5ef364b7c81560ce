"""Whoosh's segment writer, made cheaper where a news archive makes it slow.

- Postings: Whoosh pools every posting as a tuple and sorts them all (spilling sorted runs
  to disk past `limitmb`). `TermPool` files each posting under its term as it comes, in
  compact arrays; flushing sorts only the terms. Postings of a term arrive in document
  order, so nothing else needs sorting.
- Field lengths: for every posting, Whoosh reads the document's field length back from a
  column file through several layers of Python; `_Lengths` loads each column once.

What is written is what Whoosh writes (a test compares the files' contents).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
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


class TermPool:
    """Postings grouped by (field, term) in arrays; iterated in Whoosh's sorted order."""

    def __init__(self) -> None:
        self._terms: dict[tuple[str, bytes], tuple[array[int], array[float], list[Any]]] = {}
        self._unsorted: set[tuple[str, bytes]] = set()
        self.fieldnames: set[str] = set()

    def add(self, item: tuple[str, bytes, int, float, Any]) -> None:
        fieldname, tbytes, docnum, weight, vbytes = item
        key = (fieldname, tbytes)
        entry = self._terms.get(key)
        if entry is None:
            entry = self._terms[key] = (array("I"), array("d"), [])
            self.fieldnames.add(fieldname)
        elif docnum < entry[0][-1]:
            self._unsorted.add(key)
        entry[0].append(docnum)
        entry[1].append(weight)
        entry[2].append(vbytes)

    def iter_postings(self) -> Iterator[tuple[str, bytes, int, float, Any]]:
        for key in sorted(self._terms):
            docs, weights, values = self._terms[key]
            order: Any = range(len(docs))
            if key in self._unsorted:
                order = sorted(order, key=docs.__getitem__)
            fieldname, tbytes = key
            for i in order:
                yield fieldname, tbytes, docs[i], weights[i], values[i]

    def cleanup(self) -> None:
        self._terms.clear()
        self._unsorted.clear()


class SegmentWriter(WhooshSegmentWriter):
    """A Whoosh SegmentWriter with a term-grouped pool and field lengths read in memory."""

    def __init__(self, ix: Any, **kwargs: Any) -> None:
        super().__init__(ix, **kwargs)
        self.pool.cleanup()
        self.pool = TermPool()

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
