"""Everything Furet does with Whoosh's private API, in one place, written for one version.

Whoosh keeps no promise about these names: they are checked against whoosh-reloaded
WRITTEN_FOR when the Whoosh store is opened (`check_version`), which is why setup.cfg pins
that exact version. Parts:

- Reading segment files through the memory map, without copies: `MappedFile` (a
  `BufferFile` whose stream never copies the mapped bytes, as Whoosh's BytesIO does) and
  `open_mapped`, which the store's storage uses to open files.
- Field lengths as stored, one column per field (`length_column`), for BM25.
- Writing segments: `SegmentWriter` hands Whoosh whole blocks of postings from Furet's
  term-grouped pool (search/whoosh/segments.py), reads field lengths from memory, adds the
  flat postings file, and marks the crash points of the commit; the parallel build writes
  segments in worker processes (`open_part_writer`, `finish_part`, `commit_segments`).
- `segments_of`: the segments of an index's table of contents.
"""

from __future__ import annotations

import mmap
import os
from typing import Any

import numpy as np
import whoosh
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
from whoosh.filedb.structfile import BufferFile, StructFile
from whoosh.util.numeric import byte_to_length
from whoosh.writing import SegmentWriter as WhooshSegmentWriter

from search.errors import ConfigurationError
from search.faults import checkpoint
from search.whoosh.blocks import write_blocks
from search.whoosh.codec import FuretCodec
from search.whoosh.columns import TokenColumns
from search.whoosh.postings import EXTENSION as POSTINGS_EXTENSION
from search.whoosh.postings import FIELDS as POSTINGS_FIELDS
from search.whoosh.postings import write_postings
from search.whoosh.segments import TermPool, positional_fields

__all__ = ["WRITTEN_FOR", "BufferStream", "MappedFile", "SegmentWriter", "check_version",
           "commit_segments", "finish_part", "length_column", "open_mapped",
           "open_part_writer", "segments_of"]

WRITTEN_FOR = "2.7.5"  # whoosh-reloaded


def check_version() -> None:
    """ConfigurationError unless the installed Whoosh is the one this module was written for."""
    found = whoosh.versionstring()
    if found != WRITTEN_FOR:
        raise ConfigurationError(
            f"whoosh-reloaded {found} is installed, and Furet's Whoosh store was written for "
            f"{WRITTEN_FOR} (it reads and writes Whoosh's segment files itself); install it "
            f"with: pip install 'whoosh-reloaded=={WRITTEN_FOR}'")


# ---------------------------------------------------------------- memory-mapped files


class BufferStream:
    """A read-only binary file over a buffer that never copies it whole (a BytesIO does)."""

    def __init__(self, buf: Any) -> None:
        self._buf = buf
        self._pos = 0

    def read(self, size: int | None = -1) -> bytes:
        start = self._pos
        end = len(self._buf) if size is None or size < 0 else min(start + size, len(self._buf))
        self._pos = max(start, end)
        return bytes(self._buf[start:end])

    def readline(self, size: int | None = -1) -> bytes:
        limit = len(self._buf) if size is None or size < 0 else min(self._pos + size,
                                                                    len(self._buf))
        start = end = self._pos
        while end < limit:
            chunk = bytes(self._buf[end:min(end + 4096, limit)])
            found = chunk.find(b"\n")
            if found >= 0:
                end += found + 1
                break
            end += len(chunk)
        self._pos = end
        return bytes(self._buf[start:end])

    def __iter__(self) -> Any:
        return iter(self.readline, b"")

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if whence == os.SEEK_SET and offset < 0:
            raise ValueError(f"negative seek value {offset}")
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._pos, os.SEEK_END: len(self._buf)}[whence]
        self._pos = max(0, base + offset)  # as BytesIO does
        return self._pos

    def tell(self) -> int:
        return self._pos

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def close(self) -> None:
        self._buf = b""


class MappedFile(BufferFile):
    """Whoosh's BufferFile over mapped bytes, without the copy: Whoosh wraps a buffer in a
    BytesIO, which copies it whole (the postings of a 90,000-article index: 160 MB per
    process, and 165 ms the first time a phrase reads positions). Readers use `get()` on
    the buffer; what reads the file as a stream reads a `BufferStream` over it; `subset()`
    (how a compound segment file hands out its parts) is a slice, not a copy."""

    def __init__(self, buf: Any, name: str | None = None, onclose: Any = None,
                 mapping: mmap.mmap | None = None) -> None:
        self._buf = buf
        self._name = name
        self.onclose = onclose
        self.is_real = False
        self.is_closed = False
        self._stream: Any = None
        self._mapping = mapping

    @property  # type: ignore[override]
    def file(self) -> Any:
        if self._stream is None:
            self._stream = BufferStream(self._buf)
        return self._stream

    @file.setter
    def file(self, value: Any) -> None:
        self._stream = value

    def buffer(self) -> Any:
        """The file's bytes, as mapped (no copy)."""
        return self._buf

    def shrunk(self) -> tuple[str, int, int] | None:
        """(name, bytes mapped, bytes the file has now) if the file got shorter since it was
        mapped: reading past its new end would kill the process with SIGBUS."""
        mapping = self._mapping
        if mapping is None or mapping.closed:
            return None
        size = mapping.size()
        return (str(self._name), len(mapping), size) if size < len(mapping) else None

    def subset(self, position: int, length: int, name: str | None = None) -> MappedFile:
        return MappedFile(self._buf[position:position + length], name=name or self._name)

    def close(self) -> None:
        super().close()
        if self._mapping is not None:
            try:
                self._mapping.close()
            except BufferError:  # parts still in use: the map goes when they do
                pass
            self._mapping = None


def open_mapped(path: str, name: str, **kwargs: Any) -> StructFile:
    """A file of a segment opened for reading through the memory map (an empty file, which
    cannot be mapped, as a plain file)."""
    handle = open(path, "rb")  # noqa: SIM115 - closed below, or by the StructFile
    try:
        if os.fstat(handle.fileno()).st_size == 0:
            return StructFile(handle, name=name, **kwargs)
        mapping = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    except BaseException:
        handle.close()
        raise
    handle.close()
    return MappedFile(memoryview(mapping), name=name, mapping=mapping, **kwargs)


# ---------------------------------------------------------------- field lengths

_BYTE_TO_LENGTH = [byte_to_length(b) for b in range(256)]


def _length_columns(reader: Any, fieldnames: Any) -> dict[str, Any]:
    """Each field's document lengths (numpy, 0 where a document has none)."""
    columns = {}
    for fieldname in fieldnames:
        column = length_column(reader, fieldname)
        if column is not None:
            columns[fieldname] = np.array([n or 0 for n in column], dtype=np.int64)
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
        kwargs.setdefault("codec", FuretCodec())
        super().__init__(ix, **kwargs)
        self.pool.cleanup()
        self.pool = TermPool(positional_fields(self.schema))
        self.columns: dict[str, TokenColumns] = {}
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
                        for tbytes, freq, weight, vbytes in field.index(value):
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


def segments_of(ix: Any) -> list[Any]:
    """The segments of the index's current table of contents."""
    return list(ix._segments())
