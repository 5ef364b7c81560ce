"""Writing a Whoosh index folder: the only code that changes one (the Writer contract).

- A build writes a new build folder (`builds/<name>.tmp`), renames it when complete and
  switches the CURRENT symlink to it atomically (search/whoosh/builds.py: the build it
  replaces is kept a while for web workers still reading it).
- An update or a deletion commits a new Whoosh generation inside the live build, then the
  manifest (search/whoosh/manifest.py) that says which file each article came from.
- A session holds the write lock (search/whoosh/lock.py) and first removes what
  interrupted runs left. Any failure cancels the Whoosh writer: the last committed index
  stays searchable.
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from search.article import Article
from search.errors import ConfigurationError, FuretError, IndexCorruptError, IndexWriteError
from search.faults import checkpoint
from search.schema import SCHEMA_VERSION, build_schema
from search.whoosh.builds import clean_build, clean_index_dir, is_current, switch_to
from search.whoosh.documents import to_document
from search.whoosh.layout import (
    BUILDS,
    CURRENT,
    TMP_SUFFIX,
    DurableFileStorage,
    current_build,
    fsync_dir,
    index_hint,
    open_build,
)
from search.whoosh.lock import writer_lock
from search.whoosh.manifest import Manifest
from search.whoosh.private import (
    SegmentWriter,
    abandon_part,
    commit_segments,
    finish_part,
    open_part_writer,
)
from search.writer import FileState, Ledger, Part, PartMaker, Writer, translating

__all__ = ["BUILD_MEMORY_MB", "WhooshWriter", "build_memory_mb", "segment_words_limit",
           "write_errors"]

LIMIT_MB = 256  # memory of one segment writer before it spills postings to disk
# Memory a build may use, all its processes together (FURET_BUILD_MEMORY_MB): each process
# writes a segment whenever its pooled words reach its share. Writing one takes about six
# times what its words take, on top of a process's own ~150 MB. Every segment costs each
# query a little: 2048 keeps 90,000 articles in one segment per process, as before.
BUILD_MEMORY_MB = 2048
_PROCESS_MB = 150
_FLUSH_FACTOR = 6


def build_memory_mb() -> int:
    """FURET_BUILD_MEMORY_MB, else BUILD_MEMORY_MB (ConfigurationError if not a number)."""
    value = os.environ.get("FURET_BUILD_MEMORY_MB", "").strip()
    if not value:
        return BUILD_MEMORY_MB
    try:
        return max(1, int(value))
    except ValueError:
        raise ConfigurationError(
            f"FURET_BUILD_MEMORY_MB={value!r}: expected a number of megabytes, such as "
            f"{BUILD_MEMORY_MB}") from None


def segment_words_limit(processes: int) -> int:
    """Bytes of pooled words after which a build process writes its segment."""
    share = build_memory_mb() / max(1, processes) - _PROCESS_MB
    return int(max(share / _FLUSH_FACTOR, 1) * 2**20)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _disk_full(err: BaseException, folder: Path) -> bool:
    """True if `err`, or an error that led to it, is a full disk (SQLite only says "disk
    I/O error": then the free space of `folder` tells)."""
    seen: BaseException | None = err
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno == errno.ENOSPC:
            return True
        if isinstance(seen, sqlite3.Error) and ("full" in str(seen) or "I/O" in str(seen)):
            try:
                return shutil.disk_usage(folder).free < 1024 * 1024
            except OSError:
                return False
        seen = seen.__cause__ or seen.__context__
    return False


@contextmanager
def write_errors(folder: Path) -> Iterator[None]:
    """Turn the file system's and the manifest's errors into IndexWriteError."""
    unchanged = "the last committed index is unchanged"
    try:
        yield
    except FuretError:
        raise
    except (OSError, sqlite3.Error) as err:
        if _disk_full(err, folder):
            message = f"no space left on device; {unchanged}"
        elif isinstance(err, OSError):
            where = f" ({err.filename})" if err.filename else ""
            message = f"{err.strerror or err}{where}; {unchanged}"
        else:
            message = f"the manifest cannot be written ({err}); {unchanged}"
        raise IndexWriteError(message) from err


# The file system's and the manifest's errors, as IndexWriteError.
_translated = translating(lambda writer: write_errors(writer.dir))


class WhooshWriter(Writer):
    """A write session on an index folder."""

    def __init__(self, index_dir: Path, *, wait: float = 0.0, limitmb: int = LIMIT_MB) -> None:
        self.dir = index_dir
        self.limitmb = limitmb
        self._build: Path | None = None  # the folder being written
        self._ix: Any = None
        self._writer: SegmentWriter | None = None
        self._manifest: Manifest | None = None
        self._new = False  # a build (else an update of the live build)
        self._puts = 0
        self._words_limit = segment_words_limit(1)
        self._lock: Any = None
        with write_errors(index_dir):
            lock = writer_lock(index_dir, wait=wait)
            lock.__enter__()
            self._lock = lock
            try:
                clean_index_dir(index_dir)
            except BaseException:
                self.close()
                raise

    @property
    def where(self) -> str:
        return f"{self.dir}/"

    # -- what is indexed

    def is_built(self) -> bool:
        return (self.dir / CURRENT).is_symlink()

    def _manifest_or_fail(self) -> Manifest:
        assert self._manifest is not None, "begin_update() first"
        return self._manifest

    @_translated
    def known_files(self) -> dict[str, FileState]:
        return self._manifest_or_fail().files()

    @_translated
    def known_articles(self) -> dict[str, tuple[str, str]]:
        return self._manifest_or_fail().articles()

    @_translated
    def known_lines(self, path: str) -> dict[bytes, str] | None:
        return self._manifest_or_fail().lines_of(path)

    @_translated
    def find(self, key: str) -> list[str]:
        with self._ix.searcher() as searcher:
            return [f["id"] for f in searcher.documents(id=key)] or [
                f["id"] for f in searcher.documents(url=key)]

    # -- sessions

    @_translated
    def begin_build(self) -> None:
        name = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        builds = self.dir / BUILDS
        builds.mkdir(parents=True, exist_ok=True)
        self._build = builds / (name + TMP_SUFFIX)
        self._build.mkdir()
        self._new = True
        self._ix = DurableFileStorage(str(self._build)).create_index(build_schema())

    @_translated
    def begin_update(self) -> None:
        live = current_build(self.dir)
        self._build, self._new = live, False
        self._ix = open_build(live)
        clean_build(live, self._ix)
        self._manifest = Manifest(live)
        version = self._manifest.get("schema_version")
        if version is not None and version != str(SCHEMA_VERSION):
            raise IndexCorruptError(
                f"{live} was made by another version of Furet (schema {version}, this one "
                f"reads {SCHEMA_VERSION}); rebuild it with: {index_hint(self.dir)}")
        generation = self._ix.latest_generation()
        if self._manifest.generation != generation:
            self._manifest.reset(generation, _stored_articles(self._ix))

    def _segment_writer(self) -> SegmentWriter:
        if self._writer is None:
            self._writer = SegmentWriter(self._ix, limitmb=self.limitmb)
        return self._writer

    @_translated
    def put(self, article: Article, path: str) -> None:
        document = to_document(article, path)
        if "stems" not in self._ix.schema:  # an index built before feedback's column
            del document["stems"]
        if self._new:
            writer = self._segment_writer()
            writer.add_document(**document)
            if writer.columns_nbytes() > self._words_limit:
                self._writer = None
                writer.commit(merge=False)  # a segment of the build; the next one starts
        else:
            self._segment_writer().update_document(**document)
        self._puts += 1
        if self._puts == 1 or not self._new:
            checkpoint("adding")

    @_translated
    def remove(self, article_id: str) -> None:
        self._segment_writer().delete_by_term("id", article_id)

    def parallel(self, jobs: int = 2) -> PartMaker | None:
        if not self._new or self._build is None:
            return None
        return _Parts(str(self._build), self.limitmb, jobs)

    @_translated
    def adopt(self, parts: list[Any], drop: list[tuple[int, int]]) -> None:
        for part, docnum in drop:
            parts[part].delete_document(docnum)
        segments = [s for p in parts if p is not None for s in p.segments]
        if segments:
            commit_segments(self._ix, segments)

    @_translated
    def commit(self, ledger: Ledger) -> str:
        assert self._build is not None, "begin_build() or begin_update() first"
        if self._writer is not None:
            writer, self._writer = self._writer, None
            if self._new:
                writer.commit(merge=False)  # the build's segments stay as written
            else:
                writer.commit()
        if self._new:
            return self._commit_build(ledger)
        if ledger:
            self._manifest_or_fail().apply(
                generation=self._ix.latest_generation(), files=ledger.files,
                forget_files=ledger.forget_files, articles=ledger.articles,
                forget_articles=ledger.forget_articles, lines=ledger.lines,
                forget_lines_of=ledger.forget_lines_of,
                meta={"updated": _now()} if (ledger.articles or ledger.forget_articles)
                else None)
            checkpoint("manifest-written")
        return f"{self._build.name}.{self._ix.latest_generation()}"

    def _commit_build(self, ledger: Ledger) -> str:
        tmp = self._build
        assert tmp is not None
        with Manifest(tmp) as manifest:
            manifest.apply(generation=self._ix.latest_generation(), files=ledger.files,
                           articles=ledger.articles, lines=ledger.lines,
                           meta={"schema_version": str(SCHEMA_VERSION), "created": _now(),
                                 "updated": _now()})
        fsync_dir(tmp)
        checkpoint("manifest-written")
        final = tmp.with_name(tmp.name.removesuffix(TMP_SUFFIX))
        os.rename(tmp, final)
        fsync_dir(final.parent)
        self._build = final
        checkpoint("build-renamed")
        switch_to(self.dir, final)
        return f"{final.name}.{self._ix.latest_generation()}"

    @_translated
    def abort(self) -> None:
        try:
            if self._writer is not None:
                writer, self._writer = self._writer, None
                writer.cancel()  # may fail itself on a full disk: the files go all the same
        finally:
            if self._new and self._build is not None:
                build, self._build = self._build, None
                if not is_current(self.dir, build):  # never the build a commit made live
                    shutil.rmtree(build, ignore_errors=True)
            elif self._build is not None:
                clean_build(self._build, self._ix)  # the unfinished segment: space it needs

    @_translated
    def close(self) -> None:
        try:
            if self._writer is not None:
                self.abort()
            elif self._new and self._build is not None \
                    and self._build.name.endswith(TMP_SUFFIX):
                self.abort()  # a build that was never committed
        finally:
            if self._manifest is not None:
                self._manifest.close()
                self._manifest = None
            if self._lock is not None:
                lock, self._lock = self._lock, None
                lock.__exit__(None, None, None)


class _Segments:
    """The segments one worker wrote, in order: what the writer adopts (picklable)."""

    def __init__(self, segments: list[Any], sizes: list[int]) -> None:
        self.segments = segments
        self.sizes = sizes

    def delete_document(self, number: int) -> None:
        """Delete the `number`th article this worker added."""
        for segment, size in zip(self.segments, self.sizes, strict=True):
            if number < size:
                segment.delete_document(number)
                return
            number -= size
        raise IndexError(number)


class _Part(Part):
    def __init__(self, build: str, limitmb: int, processes: int) -> None:
        self.build = Path(build)
        self.limitmb = limitmb
        with write_errors(self.build):
            self.ix = open_build(self.build)
            self.writer = open_part_writer(self.ix, limitmb)
        self.words_limit = segment_words_limit(processes)
        self.count = 0
        self.in_segment = 0
        self.done: list[Any] = []
        self.sizes: list[int] = []

    def add(self, article: Article, path: str) -> int:
        with write_errors(self.build):
            self.writer.add_document(**to_document(article, path))
            self.in_segment += 1
            if self.writer.columns_nbytes() > self.words_limit:
                self._finish_segment()
                self.writer = open_part_writer(self.ix, self.limitmb)
        self.count += 1
        if self.count == 1:
            checkpoint("adding")
        return self.count - 1

    def _finish_segment(self) -> None:
        segment = finish_part(self.writer, empty=not self.in_segment)
        if segment is not None:
            self.done.append(segment)
            self.sizes.append(self.in_segment)
        self.in_segment = 0

    def finish(self) -> Any:
        with write_errors(self.build):
            self._finish_segment()
        return _Segments(self.done, self.sizes) if self.done else None

    def abandon(self) -> None:
        abandon_part(self.writer)


class _Parts(PartMaker):
    """Opens a segment of the build in a worker process."""

    def __init__(self, build: str, limitmb: int, processes: int) -> None:
        self.build = build
        self.limitmb = limitmb
        self.processes = processes

    def open(self) -> Part:
        return _Part(self.build, self.limitmb, self.processes)


def _stored_articles(ix: Any) -> list[tuple[str, str, str]]:
    with ix.searcher() as searcher:
        return [
            (fields["id"], fields.get("path", ""), fields.get("hash", ""))
            for fields in searcher.all_stored_fields()
        ]
