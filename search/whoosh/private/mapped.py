"""Segment files read through the memory map, without copies (Whoosh's private API).

`MappedFile` is a `BufferFile` whose stream never copies the mapped bytes (Whoosh's own
wraps them in a BytesIO, which does); `open_mapped` is how the store's storage opens the
segment files. Written for whoosh-reloaded WRITTEN_FOR (search/whoosh/private/__init__.py).
"""

from __future__ import annotations

import mmap
import os
from typing import Any

from whoosh.filedb.structfile import BufferFile, StructFile

__all__ = ["BufferStream", "MappedFile", "open_mapped"]


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
                 mapping: mmap.mmap | None = None,
                 origin: tuple[mmap.mmap, int] | None = None) -> None:
        self._buf = buf
        self._name = name
        self.onclose = onclose
        self.is_real = False
        self.is_closed = False
        self._stream: Any = None
        self._mapping = mapping
        # (the map, where `buf` starts in it): the map's own slices are bytes
        self._origin = origin if origin is not None else \
            (mapping, 0) if mapping is not None else None

    @property  # type: ignore[override]
    def file(self) -> Any:
        if self._stream is None:
            self._stream = BufferStream(self._buf)
        return self._stream

    @file.setter
    def file(self, value: Any) -> None:
        self._stream = value

    @property
    def name(self) -> str | None:
        """The file's name in its storage."""
        return self._name

    def buffer(self) -> Any:
        """The file's bytes, as mapped (no copy)."""
        return self._buf

    def origin(self) -> tuple[mmap.mmap, int] | None:
        """(the map the file's bytes are in, where they start in it), or None: a slice of
        the map itself is the bytes (0.1 µs for a hundred), where a slice of `buffer()` is
        a view (0.2 µs) that `str()` and `loads()` then read through the buffer protocol.
        Whoever slices the map holds `buffer()` too: the view keeps the map open (a closed
        file's map goes when the last view does) for as long as it is read."""
        return self._origin

    def shrunk(self) -> tuple[str, int, int] | None:
        """(name, bytes mapped, bytes the file has now) if the file got shorter since it was
        mapped: reading past its new end would kill the process with SIGBUS."""
        mapping = self._mapping
        if mapping is None or mapping.closed:
            return None
        size = mapping.size()
        return (str(self._name), len(mapping), size) if size < len(mapping) else None

    def release_pages(self) -> None:
        """Unmap the pages read so far from this process (MADV_DONTNEED): they stay in the
        page cache, and are mapped again when read. A process that reads a part of every
        segment once (the prepared tables of 160 segments: 830 MB of their pages) would
        otherwise count them all in its memory until the files are closed."""
        mapping = self._mapping
        advice = getattr(mmap, "MADV_DONTNEED", None)
        if mapping is not None and not mapping.closed and advice is not None:
            mapping.madvise(advice)

    def subset(self, position: int, length: int, name: str | None = None) -> MappedFile:
        origin = self._origin
        return MappedFile(self._buf[position:position + length], name=name or self._name,
                          origin=None if origin is None else (origin[0], origin[1] + position))

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
