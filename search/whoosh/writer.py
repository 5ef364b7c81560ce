"""Writing a Whoosh index folder: the only code that changes one (the Writer contract).

- A build writes a new build folder (`builds/<name>.tmp`), renames it when complete and
  switches the CURRENT symlink to it atomically (search/whoosh/builds.py: the build it
  replaces is kept a while for web workers still reading it).
- An update or a deletion commits a new Whoosh generation inside the live build, then the
  manifest (search/whoosh/manifest.py) that says which file each article came from.
- After each commit, the tables every reader would build at open (term directory, facet
  table, hyphenated words) are written once beside the generation
  (search/whoosh/prepared.py); a failure there leaves an index that opens without them.
- A session holds the write lock (search/whoosh/lock.py) and first removes what
  interrupted runs left. Any failure cancels the Whoosh writer: the last committed index
  stays searchable.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from whoosh.reading import TermNotFound
from whoosh.writing import MERGE_SMALL

from search.article import Article
from search.errors import IndexCorruptError
from search.faults import checkpoint
from search.known_lines import KnownLines
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
from search.whoosh.parts import LIMIT_MB, Parts, build_memory_mb, segment_words_limit
from search.whoosh.prepared import prepared_segments, write_prepared
from search.whoosh.private import SegmentWriter, commit_segments, leaves_of
from search.whoosh.writing_errors import WriteErrors
from search.writer import FileState, Ledger, PartMaker, Writer, translating

__all__ = ["WhooshWriter"]

# An update merges only segments smaller than this, and than a quarter of the largest:
# Whoosh's MERGE_SMALL, given a build's thirty or more segments, merges the larger half of
# them posting by posting in Python (hours at a million articles, for an update that
# changed nothing). Indexes with fewer articles than this merge as Whoosh does.
SMALL_SEGMENT_DOCS = 20_000
# Article ids an update holds in memory per MB of FURET_BUILD_MEMORY_MB (850: 425,000 ids,
# about 80 MB for each of its two sets); past that they go to a scratch table on disk.
# (An update of 1 % of 300,000 articles in one file peaks at 361 to 365 MB either way; its
# ids spilled, it took 16.1 s instead of 9.6.)
IDS_PER_MB = 500
# A changed JSON Lines file's known lines an update holds in arrays, for each id it would
# hold in memory (search/known_lines.py: about 60 bytes a line against about 190 for an
# id); a larger file's lines are looked up one at a time.
LINES_PER_ID = 8
# An update releases the mapped pages its id look-ups read in the committed segments every
# this many articles: 10,000 look-ups spread over a million news-sized articles' 160
# segments mapped about 500 MB of their pages, held until the commit.
RELEASE_EVERY = 1000


def merge_small_segments(writer: Any, segments: list[Any]) -> list[Any]:
    """Whoosh's MERGE_SMALL over the small segments (an update's); a build's stay as they
    are, in their order."""
    counts = [s.doc_count_all() for s in segments]
    if sum(counts) < SMALL_SEGMENT_DOCS:
        return MERGE_SMALL(writer, segments)
    limit = min(SMALL_SEGMENT_DOCS, max(counts) // 4)
    kept = {id(s) for s in MERGE_SMALL(writer, [s for s, n in zip(segments, counts,
                                                                  strict=True) if n < limit])}
    return [s for s, n in zip(segments, counts, strict=True) if n >= limit or id(s) in kept]

def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# The file system's and the manifest's errors, as IndexWriteError.
_translated = translating(lambda writer: WriteErrors(writer.dir))


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
        self._recorded: tuple[object, object] | None = None  # rows record_ahead() wrote
        self._puts = 0
        self._found_in = -1  # the segment that held the last updated article (update)
        # A reader of the committed segments, for the session's look-ups of updated
        # articles' ids (their deletions are the segment writer's: seen at once). Not the
        # segment writer's searcher: that loaded Whoosh's query modules (about 10 ms).
        self._committed: Any = None
        self._words_limit = segment_words_limit(1)
        prepared_segments()  # FURET_PREPARED_SEGMENTS checked before anything is written
        self._lock: Any = None
        with WriteErrors(index_dir):
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
    def article_counts(self) -> dict[str, int]:
        return self._manifest_or_fail().counts()

    @_translated
    def owner(self, article_id: str) -> tuple[str, str] | None:
        return self._manifest_or_fail().owner(article_id)

    def article_ids(self, path: str) -> Iterable[str]:
        return self._manifest_or_fail().ids_of(path)

    def unchanged_lines(self, path: str) -> Mapping[bytes, str] | None:
        return self._manifest_or_fail().own_lines(path, fits=self.ids_in_memory())

    @_translated
    def known_line_table(self, path: str) -> KnownLines | None:
        return self._manifest_or_fail().known_lines(path, self.ids_in_memory() * LINES_PER_ID,
                                                    held=self.ids_in_memory())

    def scratch(self) -> str:
        # In the live build, named so that clean_build removes it after a crash.
        assert self._build is not None, "begin_update() first"
        return str(self._build / ("update" + TMP_SUFFIX))

    def ids_in_memory(self) -> int:
        return build_memory_mb() * IDS_PER_MB

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
        document = to_document(article, path, pooled=True)  # stems packed by the writer
        writer = self._segment_writer()  # its schema, not the index's: read from disk each time
        if "stems" not in writer.schema:  # an index built before feedback's column
            del document["stems"]
        if self._new:
            writer.add_document(**document)
            if writer.columns_nbytes() > self._words_limit:
                self._writer = None
                writer.commit(merge=False)  # a segment of the build; the next one starts
        else:
            if self._committed is None:
                self._committed = writer.reader()
            self._found_in = _delete_committed(writer, self._committed, document["id"],
                                               self._found_in)
            writer.add_document(**document)
            if (self._puts + 1) % RELEASE_EVERY == 0:
                _release_committed(self._committed, self._ix.storage)
        self._puts += 1
        if self._puts == 1 or not self._new:
            checkpoint("adding")

    @_translated
    def remove(self, article_id: str) -> None:
        self._segment_writer().delete_by_term("id", article_id)

    def parallel(self, jobs: int = 2) -> PartMaker | None:
        if not self._new or self._build is None:
            return None
        return Parts(str(self._build), self.limitmb, jobs)

    @_translated
    def adopt(self, parts: list[Any], drop: list[tuple[int, int]]) -> None:
        for part, docnum in drop:
            parts[part].delete_document(docnum)
        segments = [s for p in parts if p is not None for s in p.segments]
        if segments:
            commit_segments(self._ix, segments)

    @_translated
    def record_ahead(self, ledger: Ledger) -> None:
        if not self._new or self._build is None:
            return
        # Into the build's manifest now (the build is not live until committed): the
        # commit then writes the files and the generation only. A shared build calls this
        # while its workers write their last segments: these rows were the most of what
        # the parent did alone after them.
        with Manifest(self._build) as manifest:
            manifest.add(articles=ledger.articles, lines=ledger.lines)
        self._recorded = (ledger.articles, ledger.lines)

    @_translated
    def commit(self, ledger: Ledger) -> str:
        assert self._build is not None, "begin_build() or begin_update() first"
        self._close_committed()
        if self._writer is not None:
            writer, self._writer = self._writer, None
            if self._new:
                writer.commit(merge=False)  # the build's segments stay as written
            else:
                writer.commit(mergetype=merge_small_segments)
        if self._new:
            return self._commit_build(ledger)
        if ledger:
            self._manifest_or_fail().apply(
                generation=self._ix.latest_generation(), files=ledger.files,
                forget_files=ledger.forget_files, articles=ledger.articles,
                forget_articles=ledger.forget_articles, lines=ledger.lines,
                forget_lines_of=ledger.forget_lines_of, forget_lines=ledger.forget_lines,
                meta={"updated": _now()} if (ledger.articles or ledger.forget_articles)
                else None)
            checkpoint("manifest-written")
        write_prepared(self._ix)  # what readers build at open, once (also for an older index)
        return f"{self._build.name}.{self._ix.latest_generation()}"

    def _commit_build(self, ledger: Ledger) -> str:
        tmp = self._build
        assert tmp is not None
        write_prepared(self._ix)  # what readers would build at open, once
        recorded = self._recorded or (None, None)
        with Manifest(tmp) as manifest:
            manifest.apply(generation=self._ix.latest_generation(), files=ledger.files,
                           articles=() if ledger.articles is recorded[0] else ledger.articles,
                           lines=() if ledger.lines is recorded[1] else ledger.lines,
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

    def _close_committed(self) -> None:
        if self._committed is not None:
            reader, self._committed = self._committed, None
            reader.close()

    @_translated
    def abort(self) -> None:
        try:
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
        finally:
            self._close_committed()

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


def _delete_committed(writer: SegmentWriter, reader: Any, article_id: str,
                      hint: int = -1) -> int:
    """Delete the committed article with this id (its live document: an article has one),
    asking each segment's term table whether it holds the id before reading its postings
    (Whoosh's update_document read postings from every segment in turn: 90 s of a 1 %
    update at a million articles in 37 segments, profiled). The number of the segment
    that held it (-1: none), to pass as the next call's `hint`.

    The segment that held the previous article is asked first (a file's changed articles
    were mostly built into the same segments, in order), then the others newest first (an
    article updated before lives in a segment an update wrote; the older ones still hold
    its deleted copies). Asking every segment in order cost a second 1 % update at a
    million news-sized articles in 160 segments 162 term tables an article (1.62 million
    look-ups, about a quarter of its time profiled). `reader`: one of the writer's
    committed segments (`writer.reader()`), kept for the session."""
    leaves = leaves_of(reader)
    order = list(range(len(leaves) - 1, -1, -1))
    if 0 <= hint < len(leaves):
        order.remove(hint)
        order.insert(0, hint)
    for n in order:
        leaf, offset = leaves[n]
        docnum = _live_document(leaf, article_id)
        if docnum is not None:
            writer.delete_document(offset + docnum)
            return n
    return -1


def _live_document(leaf: Any, article_id: str) -> int | None:
    """The number in one segment of the live document holding this id, None when none.

    The id's term statistics are read once: when one document holds it (an article's id
    is its own), its number is the term's first document (`min_id`), and its postings
    need not be read (`first_id` asked for the term a second time and made a matcher over
    the segment's deleted documents: about 80 us an id, most of deleting the committed
    copies of an update's articles). Several documents: their postings, as before."""
    try:
        info = leaf.term_info("id", article_id)
    except TermNotFound:
        return None
    first = info.min_id() if info.doc_frequency() == 1 else None
    if first is not None:
        return None if leaf.is_deleted(first) else first
    try:
        return int(leaf.first_id("id", article_id))
    except TermNotFound:  # every document holding it there is deleted
        return None


def _release_committed(reader: Any, storage: Any) -> None:
    """Unmap the pages `reader` read so far in the committed segments' files (they stay in
    the page cache, and are mapped again when read)."""
    if not hasattr(storage, "release_pages"):
        return
    for leaf, _ in leaves_of(reader):
        storage.release_pages(leaf.segment())


def _stored_articles(ix: Any) -> Iterator[tuple[str, str, str]]:
    """(id, path, hash) of every article in the index, one at a time (not a list: a
    million of them)."""
    with ix.searcher() as searcher:
        for fields in searcher.all_stored_fields():
            yield fields["id"], fields.get("path", ""), fields.get("hash", "")
