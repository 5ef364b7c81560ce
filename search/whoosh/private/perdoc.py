"""A segment's per-document values (stored fields, field lengths, columns) written a batch
of documents at a time.

Whoosh's per-document writer takes them a call per field and per value, each going
through its column lookup (about 30 calls an article). `DocumentValues` keeps a batch of
documents' values in lists and arrays and hands them to the codec's per-document writer
in bulk: the field lengths as one array per field (Whoosh's length bytes worked out with
numpy), the stored fields and column values column after column. The files are the ones
the per-call path writes, byte for byte (a test compares them): the columns are created
in the order the per-call path creates them, documents in order within each column.
Anything else that uses the per-document writer (merging segments, a document Whoosh
indexes itself, closing the segment) first gets the batch written (`Draining`).
Written for whoosh-reloaded WRITTEN_FOR (search/whoosh/private/__init__.py).
"""

from __future__ import annotations

from array import array
from collections.abc import Callable
from pickle import dumps
from typing import Any

import numpy as np
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
from whoosh.columns import PickleColumn
from whoosh.util.numeric import _length_byte_cache

from search.whoosh.private.codec import (
    HIT_HEAD,
    MORE_COLUMN,
    STORED_TEXTS,
    TEXTS_COLUMN,
    HitHeadCodec,
)
from search.whoosh.private.heads import HeadWriter

__all__ = ["BATCH_DOCUMENTS", "HEAD", "LATER", "MORE", "TEXTS", "DocumentValues", "Draining",
           "length_bytes"]

BATCH_DOCUMENTS = 1024  # documents whose values are kept before they are written
_LENGTHS = np.array(_length_byte_cache, dtype=np.int64)
_LONGEST = int(_LENGTHS[-1])  # this length and longer: byte 255
LATER = object()  # a column value given when the batch is written (`DocumentValues.later`)
# Which of a document's stored columns a stored field goes to (`DocumentValues.split`).
HEAD, TEXTS, MORE = 0, 1, 2


def length_bytes(lengths: Any) -> Any:
    """Whoosh's `length_to_byte` of each length (uint8)."""
    lengths = np.asarray(lengths, dtype=np.int64)
    found = np.searchsorted(_LENGTHS, lengths, side="left")
    found[lengths >= _LONGEST] = 255
    return found.astype(np.uint8)


class DocumentValues:
    """The per-document values of the documents added since the last batch was written."""

    def __init__(self, perdoc: Any) -> None:
        self.perdoc = perdoc  # the codec's per-document writer (search/whoosh/private/codec.py)
        # The stored fields but the texts split in two (HitHeadCodec's segments)?
        self._more = isinstance(perdoc._codec, HitHeadCodec)
        self._lenfields: dict[str, str] = {}
        # Gives the values added as LATER, in the order added, when the batch is written.
        self.later: Callable[[int], list[Any]] | None = None
        self._reset()

    def _reset(self) -> None:
        self.base = self.perdoc._doccount  # the batch's first document
        self.count = 0
        self.stored: list[dict[str, Any]] = []
        self.texts: list[dict[str, Any]] = []
        self.more: list[dict[str, Any]] = []
        self.lengths: dict[str, array[int]] = {}  # field -> each document's length (0: none)
        self.values: dict[str, tuple[list[int], list[Any]]] = {}  # column -> docs, values
        self.created: dict[str, Any] = {}  # column -> Column, in the order first seen
        self.deferred: list[tuple[list[Any], int]] = []  # where LATER values are

    def lenfield(self, fieldname: str) -> str:
        """The name of a field's length column."""
        try:
            return self._lenfields[fieldname]
        except KeyError:
            name = self._lenfields[fieldname] = _lenfield(fieldname)
            return name

    def split(self, fieldname: str) -> int:
        """Which stored column a stored field goes to: TEXTS (the lead and body), MORE (a
        field outside HIT_HEAD, with HitHeadCodec) or HEAD, as the codec's per-document
        writer splits them."""
        if fieldname in STORED_TEXTS:
            return TEXTS
        return MORE if self._more and fieldname not in HIT_HEAD else HEAD

    def add(self, stored: dict[str, Any], texts: dict[str, Any],
            columns: list[tuple[str, str, Any, Any]], more: dict[str, Any] | None = None
            ) -> None:
        """One document's values: its stored fields (the head's), its texts, and (field,
        column name, column, value) in the order the per-call path adds them, then its
        other stored fields (MORE: those outside the head; a length's column is
        Whoosh's LENGTHS_COLUMN and its value the length; a value given as LATER is asked of
        `later` when the batch is written)."""
        n = self.count
        created = self.created
        for fieldname, name, column, value in columns:
            if name not in created:
                created[name] = column
            if column is LENGTHS_COLUMN:
                lengths = self.lengths.get(fieldname)
                if lengths is None:
                    lengths = self.lengths[fieldname] = array("I")
                if len(lengths) < n:
                    lengths.frombytes(bytes(4 * (n - len(lengths))))
                lengths.append(value)
            else:
                found = self.values.get(name)
                if found is None:
                    found = self.values[name] = ([], [])
                found[0].append(self.base + n)
                if value is LATER:
                    self.deferred.append((found[1], len(found[1])))
                found[1].append(value)
        self.stored.append(stored)
        self.texts.append(texts)
        self.more.append(more or {})
        self.count = n + 1
        if self.count >= BATCH_DOCUMENTS:
            self.write()

    def write(self) -> None:
        """Hand the batch to the per-document writer."""
        if not self.count:
            return
        if self.deferred:
            assert self.later is not None, "LATER values without `later`"
            for (values, place), value in zip(self.deferred, self.later(len(self.deferred)),
                                              strict=True):
                values[place] = value
        perdoc, base = self.perdoc, self.base
        for name, column in self.created.items():  # the per-call path's order of files
            if not perdoc._has_column(name):
                perdoc._create_column(name, column)
        stored = [("_stored", self.stored), (TEXTS_COLUMN, self.texts)]
        if self._more:
            stored.append((MORE_COLUMN, self.more))
        for name, documents in stored:
            writer = perdoc._get_column(name)
            child = getattr(writer, "_child", None)
            if isinstance(writer, PickleColumn.Writer) and hasattr(child, "add_many"):
                # PickleColumn's `add` of each, the pickles handed over in one call
                kept = [(docnum, value) for docnum, value in enumerate(documents, base)
                        if value]
                child.add_many([docnum for docnum, _ in kept],
                               [dumps(value, 2) for _, value in kept])
                continue
            if isinstance(writer, HeadWriter):
                # a HeadColumn's `add` of each, in one call (PlainHeadCodec's heads)
                kept = [(docnum, value) for docnum, value in enumerate(documents, base)
                        if value]
                writer.add_many([docnum for docnum, _ in kept], [value for _, value in kept])
                continue
            add = writer.add
            for docnum, value in enumerate(documents, base):
                if value:
                    add(docnum, value)
        totals = perdoc._fieldlengths
        for fieldname, lengths in self.lengths.items():
            column = np.frombuffer(lengths, dtype=np.uint32)
            self._write_lengths(perdoc._get_column(self.lenfield(fieldname)), column)
            totals[fieldname] += int(column.sum(dtype=np.int64))
        for name, (docnums, values) in self.values.items():
            writer = perdoc._get_column(name)
            if hasattr(writer, "add_many"):
                writer.add_many(docnums, values)
                continue
            add = writer.add
            for docnum, value in zip(docnums, values, strict=True):
                add(docnum, value)
        perdoc._doccount = base + self.count
        self._reset()

    def _write_lengths(self, writer: Any, lengths: Any) -> None:
        """What Whoosh's numeric column writer writes for these lengths: a byte per
        document up to the last one with a length, 0 for those without."""
        found = length_bytes(lengths)
        kept = np.flatnonzero(found)
        if not len(kept):
            return
        end = self.base + int(kept[-1]) + 1
        if writer._count < self.base:
            writer._dbfile.write(bytes(self.base - writer._count))  # the default, 0
        writer._dbfile.write(found[:end - self.base].tobytes())
        writer._count = end


class Draining:
    """The codec's per-document writer, reached only after the batch is written: what
    Whoosh's own code calls on it (merging, closing) sees every document before."""

    def __init__(self, perdoc: Any, values: DocumentValues) -> None:
        self.__dict__["_perdoc"] = perdoc
        self.__dict__["_values"] = values

    def __getattr__(self, name: str) -> Any:
        self._values.write()
        return getattr(self._perdoc, name)

    def __setattr__(self, name: str, value: Any) -> None:
        self._values.write()
        setattr(self._perdoc, name, value)
