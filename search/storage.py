"""The on-disk layout of a Furet index directory, and Whoosh storage that survives power cuts.

    index/                      the index directory (FURET_INDEX_DIR)
      CURRENT -> builds/<name>  symlink to the live build, replaced atomically by a build
      builds/<name>/            a Whoosh index, its manifest.sqlite and vocabulary
      builds/<name>.tmp/        a build in progress (removed if the build fails)
      write.lock                held by the one process that writes

`furet-index build` writes a new build beside the live one and swaps the CURRENT symlink;
`furet-index update` commits new Whoosh generations inside the live build. A reader opens
what CURRENT points at and reopens when the symlink or the Whoosh generation changes.

Whoosh never fsyncs; `DurableFileStorage` fsyncs every file it writes before closing it,
and the directory after each rename, so a commit reported done survives a power cut.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from whoosh.filedb import compound
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import BufferFile, StructFile
from whoosh.index import EmptyIndexError, FileIndex

from search.errors import IndexCorruptError, IndexNotFoundError

CURRENT = "CURRENT"
BUILDS = "builds"
LOCK = "write.lock"
MANIFEST = "manifest.sqlite"
TMP_SUFFIX = ".tmp"


class _BufferStream:
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


class _MappedFile(BufferFile):
    """Whoosh's BufferFile without the copy: Whoosh wraps each file of a memory-mapped
    segment in a BytesIO, which copies it whole (the postings of a 90,000-article index:
    160 MB per process, and 165 ms the first time a phrase reads positions through it).
    Readers use `get()` on the mapped buffer, and what reads the file as a stream reads a
    `_BufferStream` over that buffer."""

    def __init__(self, buf: Any, name: str | None = None, onclose: Any = None) -> None:
        self._buf = buf
        self._name = name
        self.onclose = onclose
        self.is_real = False
        self.is_closed = False
        self._stream: Any = None

    @property  # type: ignore[override]
    def file(self) -> Any:
        if self._stream is None:
            self._stream = _BufferStream(self._buf)
        return self._stream

    @file.setter
    def file(self, value: Any) -> None:
        self._stream = value


compound.BufferFile = _MappedFile  # what CompoundStorage.open_file makes (see above)


def fsync_dir(path: str | os.PathLike[str]) -> None:
    """Make a directory's entries (created, renamed, removed files) durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_on_close(structfile: StructFile) -> None:
    structfile.file.flush()
    os.fsync(structfile.file.fileno())


class DurableFileStorage(FileStorage):
    """A Whoosh FileStorage that fsyncs files when closed and the folder after renames."""

    def create_file(self, name: str, excl: bool = False, mode: str = "wb", **kwargs: Any) -> Any:
        onclose = kwargs.pop("onclose", None)

        def close(structfile: StructFile) -> None:
            if onclose is not None:
                onclose(structfile)
            _fsync_on_close(structfile)

        return super().create_file(name, excl=excl, mode=mode, onclose=close, **kwargs)

    def rename_file(self, oldname: str, newname: str, safe: bool = False) -> None:
        super().rename_file(oldname, newname, safe=safe)
        fsync_dir(self.folder)


def index_hint(index_dir: Path) -> str:
    """The command that builds an index in `index_dir`, for error messages."""
    flag = "" if str(index_dir) in ("index", "./index") else f" --index-dir {index_dir}"
    return f"furet-index build{flag} ARTICLES_FOLDER"


def current_build(index_dir: str | os.PathLike[str]) -> Path:
    """Return the live build's folder, or raise IndexNotFoundError saying how to make one."""
    index_dir = Path(index_dir)
    link = index_dir / CURRENT
    try:
        target = os.readlink(link)
    except FileNotFoundError:
        raise IndexNotFoundError(
            f"{index_dir}/ holds no index yet; build one with: {index_hint(index_dir)}"
        ) from None
    except OSError as err:
        raise IndexNotFoundError(f"{link}: cannot read the index ({err.strerror})") from None
    build = index_dir / target
    if not build.is_dir():
        raise IndexCorruptError(
            f"{link} points at {target}, which is missing; rebuild with: {index_hint(index_dir)}"
        )
    return build


def damaged(build: Path, err: BaseException) -> IndexCorruptError:
    """The error for a build Whoosh cannot read, with what to do about it."""
    index_dir = build.parent.parent
    return IndexCorruptError(
        f"{build}: the index cannot be read ({type(err).__name__}: {err}); rebuild it "
        f"with: {index_hint(index_dir)}"
    )


def open_build(build: Path) -> FileIndex:
    """Open the Whoosh index of one build folder (IndexCorruptError if it is damaged)."""
    try:
        return FileIndex(DurableFileStorage(str(build)))
    except EmptyIndexError:
        raise IndexCorruptError(
            f"{build}: no Whoosh index in this build; rebuild it with: "
            f"{index_hint(build.parent.parent)}") from None
    except Exception as err:  # noqa: BLE001 - a damaged index fails in many ways
        raise damaged(build, err) from None
