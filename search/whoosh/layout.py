"""The on-disk layout of a Furet index directory, and Whoosh storage that survives power cuts.

    index/                      the index directory (FURET_INDEX_DIR)
      CURRENT -> builds/<name>  symlink to the live build, replaced atomically by a build
      builds/<name>/            a Whoosh index, its manifest.sqlite and vocabulary, and
                                _MAIN_<gen>.prepared: what readers map at open
      builds/<name>.tmp/        a build in progress (removed if the build fails)
      write.lock                held by the one process that writes

`furet-index build` writes a new build beside the live one and swaps the CURRENT symlink;
`furet-index update` commits new Whoosh generations inside the live build. A reader opens
what CURRENT points at and reopens when the symlink or the Whoosh generation changes.

Whoosh never fsyncs; `DurableFileStorage` fsyncs every file it writes before closing it,
and the directory after each rename, so a commit reported done survives a power cut. It
reads files through the memory map without copying them (search/whoosh/private/mapped.py), and
`check_mapped()` tells when a mapped file has shrunk, before a read past its end would kill
the process (SIGBUS).
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from pathlib import Path
from typing import Any

from whoosh.codec.base import Segment
from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import StructFile
from whoosh.index import EmptyIndexError, FileIndex

from search.errors import IndexCorruptError, IndexNotFoundError
from search.whoosh.file_watch import FileWatch
from search.whoosh.private import MappedFile, open_mapped

CURRENT = "CURRENT"
BUILDS = "builds"
LOCK = "write.lock"
MANIFEST = "manifest.sqlite"
TMP_SUFFIX = ".tmp"
# Even when their watch noted nothing, the mapped files' sizes are read at least this often
# (and a reader's stat through CURRENT made: search/whoosh/backend.py): a file or folder on
# a network share can be changed by another machine, which no watch here notes.
FULL_CHECK_SECONDS = 1.0


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
    """A Whoosh FileStorage that fsyncs files when closed and the folder after renames, and
    reads files through the memory map."""

    def __init__(self, path: str) -> None:
        # Whoosh's own mapping copies every file it hands out; open_file maps them instead.
        super().__init__(path, supports_mmap=False)
        # The mapped files still open, by weak reference: a plain list, walked when they
        # are checked (a WeakSet's iterator cost more than the checks, 8 -> 3 µs for 4 files).
        self._mapped: list[weakref.ref[MappedFile]] = []
        # `check_mapped`'s state: the watch of the mapped files (opened by the first check:
        # a writer, which never checks, opens none), the paths mapped since it was opened
        # and not yet watched, whether every size is to be read (True until a check of them
        # all passes), whether a watch may be had, when every size was last read, and the
        # lock of them all.
        self._watch: FileWatch | None = None
        self._unwatched: list[str] = []
        self._suspect = True
        self._watching = True
        self._checked_at = 0.0  # (time.monotonic)
        self._checking = threading.Lock()
        # The names (before their first dot) of the segments being written whose files are
        # copied into their compound file, then deleted: `assembled_later`.
        self._assembled: set[str] = set()

    def open_file(self, name: str, **kwargs: Any) -> StructFile:
        # Segments are read from their compound file: mapped. The loose files a writer reads
        # back before assembling one are read as files (mapped, each page read would count
        # in the writer's memory).
        if name.endswith(Segment.COMPOUND_EXT):
            opened = open_mapped(os.path.join(self.folder, name), name, **kwargs)
            if isinstance(opened, MappedFile):
                with self._checking:
                    self._mapped = [r for r in self._mapped if r() is not None]
                    self._mapped.append(weakref.ref(opened))
                    if self._watch is not None:
                        self._unwatched.append(os.path.join(self.folder, name))
            return opened
        return super().open_file(name, **kwargs)

    def release_pages(self, segment: Segment) -> None:
        """Unmap the pages of `segment`'s compound file read so far, in every map of it
        open (MappedFile.release_pages)."""
        name = segment.make_filename(Segment.COMPOUND_EXT)
        for ref in self._mapped:
            mapped = ref()
            if mapped is not None and mapped.name == name:
                mapped.release_pages()

    def check_mapped(self) -> None:
        """IndexCorruptError if a mapped segment file got shorter since it was opened (a
        truncated file read through its map kills the process with SIGBUS). Every file's
        size is read (a system call each) only when one may have changed since the last
        check found them whole: the watch noted a write, a file was mapped since, or
        there is no watch (search/whoosh/file_watch.py); else the check is the watch's one
        call (and every size is read at least every FULL_CHECK_SECONDS all the same). What
        the watch noted is read first, so a truncation after it is noted for the next
        check; a check that fails leaves every size to be read again."""
        with self._checking:
            watch, now = self._watch, time.monotonic()
            if watch is not None and not watch.written() and not self._suspect \
                    and not self._unwatched and now - self._checked_at < FULL_CHECK_SECONDS:
                return  # nothing noted since every size was read
            if watch is None or watch.closed:  # none yet, or its parent's after a fork
                self._open_watch()
            self._suspect = True
            self._watch_new()
            self._check_sizes()
            self._suspect = False
            self._checked_at = now

    def _open_watch(self) -> None:
        """A new watch, to be told of every file mapped (none when none can be had)."""
        self._watch = None
        if self._watching:
            self._watch = FileWatch.open()
            self._watching = self._watch is not None
        self._unwatched = [] if self._watch is None else [
            os.path.join(self.folder, str(mapped.name))
            for ref in self._mapped if (mapped := ref()) is not None]

    def _watch_new(self) -> None:
        """Watch the files mapped since the watch was last told of them (none is watched
        any more when one cannot be: every check then reads every size)."""
        watch = self._watch
        if watch is None:
            return
        for path in self._unwatched:
            if not watch.add(path):
                self.stop_watching()
                self._watching = False
                break
        self._unwatched = []

    def stop_watching(self) -> None:
        """Close the watch of the mapped files (a generation closed); a later check opens
        another."""
        if self._watch is not None:
            self._watch.close()
            self._watch = None
        self._unwatched = []

    def _check_sizes(self) -> None:
        """IndexCorruptError if a mapped file still open got shorter than its map."""
        for ref in self._mapped:
            mapped = ref()
            shrunk = None if mapped is None else mapped.shrunk()
            if shrunk is not None:
                build = Path(self.folder)
                name, mapped_size, size = shrunk
                raise IndexCorruptError(
                    f"{build / name}: the file shrank from {mapped_size:,} to {size:,} bytes "
                    f"while it was being read; rebuild the index with: "
                    f"{index_hint(build.parent.parent)}")

    def assembled_later(self, segment: Segment) -> None:
        """The files of `segment` (being written) other than its compound file are copied
        into that file, which is fsynced, and deleted before any table of contents names
        the segment: they are not fsynced themselves (14 of the 16 fsyncs of an update's
        commit, each a wait for the disk)."""
        compound = segment.make_filename(Segment.COMPOUND_EXT)
        self._assembled.add(compound.partition(".")[0])

    def create_file(self, name: str, excl: bool = False, mode: str = "wb", **kwargs: Any) -> Any:
        onclose = kwargs.pop("onclose", None)

        def close(structfile: StructFile) -> None:
            if onclose is not None:
                onclose(structfile)
            # (asked when closed: a segment writer opens its term files before it says)
            if name.partition(".")[0] not in self._assembled \
                    or name.endswith(Segment.COMPOUND_EXT):
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
