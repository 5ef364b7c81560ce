"""What to write, whatever the store: the one planner of builds, updates and deletions.

It reads the sources (indexer/sources.py), decides what each file means for the index, and
drives a `Writer` (search/writer.py), which applies it:

- `build`: every good article of every file goes into a new index, switched in at once;
  large builds share the reading and writing between processes (indexer/parallel.py)
  when the store can.
- `update` (what cron runs), per file: unchanged size and time → skipped; same size and
  digest → skipped; else read again (a file of another size is hashed, for the manifest,
  on another thread while it is read): unchanged JSON Lines lines are not decoded; an id
  another file owns → rejected; same content hash → unchanged; else written; ids that
  left the file → deleted. With `prune`, the articles of files that are gone are deleted. The
  articles of a file that has become a symbolic link leading outside its folder
  (indexer/walking.py) are deleted: they must not stay published.
- `delete`: articles by id or URL.

A bad article is reported (`path: reason`) and skipped; the others are committed. A run
that fails leaves the last committed index as it was.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from indexer.sources import (
    BackgroundDigest,
    KnownRecord,
    KnownRows,
    SourceFile,
    display_path,
    file_digest,
    read_records_digested,
    walk_sources,
)
from indexer.spill import KeptRows, SpilledIds, SpilledRows
from indexer.walking import LinkOutsideError
from search.article import Article
from search.errors import ArticleError, FuretError, IndexWriteError
from search.known_lines import KnownLines
from search.writer import Ledger, Writer

__all__ = ["NothingToIndexError", "PARALLEL_ABOVE", "Report", "build", "delete", "update"]

# Builds reading more than this many bytes share the work between processes.
PARALLEL_ABOVE = 8 * 1024 * 1024

log = logging.getLogger("furet.indexer")  # furet-index --verbose shows its INFO lines

ErrorHandler = Callable[[ArticleError], None]
Progress = Callable[[int], None]
Sources = Sequence[str | os.PathLike[str]]


class NothingToIndexError(FuretError):
    """A build found no article: the live index is kept rather than replaced by nothing."""

    code = "no_articles"


@dataclass
class Report:
    """What one run did; `summary()` is the line cron mails."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    rejected: int = 0
    seconds: float = 0.0
    generation: str = ""
    errors: list[ArticleError] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"added {self.added}, updated {self.updated}, unchanged {self.unchanged}, "
            f"deleted {self.deleted}, rejected {self.rejected} in {self.seconds:.1f} s"
        )


class _Run:
    """State shared by build and update: the report, duplicate ids, error reporting."""

    def __init__(self, on_error: ErrorHandler | None, progress: Progress | None,
                 allow: Sources = ()) -> None:
        self.report = Report()
        self.started = time.monotonic()
        self.seen: dict[str, str] | SpilledIds = {}  # id -> where it was read in this run
        # An update does not put the ids of unchanged files in `seen`: it asks `owner`
        # (id -> (path, hash) or None) whether an id belongs to one of `skipped`.
        self.skipped: set[str] = set()
        self.owner: Callable[[str], tuple[str, str] | None] | None = None
        self.on_error = on_error
        self.progress = progress
        self.allow = allow  # folders symbolic links may lead to, besides the sources
        self.outside: set[str] = set()  # paths of links refused as leading elsewhere
        # The ids of the known lines read from a KnownLines are not put in `seen`: the
        # table marks the lines found, and says whether an id is one of theirs.
        self.tables: list[tuple[KnownLines, str]] = []  # (table, where its lines were read)

    def reject(self, error: ArticleError) -> None:
        self.report.rejected += 1
        self.report.errors.append(error)
        if self.on_error:
            self.on_error(error)

    def sources(self, sources: Sources) -> Iterator[SourceFile]:
        """The article files under `sources`, rejecting what cannot be read."""
        for item in walk_sources(sources, self.allow):
            if isinstance(item, LinkOutsideError):
                self.outside.add(item.path)
            if isinstance(item, ArticleError):
                self.reject(item)
            else:
                yield item

    def articles(self, source: SourceFile, known: Mapping[bytes, str] | KnownLines | None = None
                 ) -> Iterable[tuple[Article | KnownRecord | KnownRows, bytes | None]]:
        """The good articles of one file with their line digest (JSON Lines), rejecting the
        bad ones and ids already read. Lines in `known` come back as KnownRecord, or, when
        it is a KnownLines, as KnownRows (runs of lines none of whose ids was read before,
        without a digest)."""
        table = known if isinstance(known, KnownLines) else None
        taken = None
        if table is not None:
            taken = self._taken(table)
            self.tables.append((table, source.location))
        for _, item, digest in read_records_digested(source, known=known):
            if isinstance(item, KnownRows):
                assert table is not None
                yield from self._known_rows(item, table, taken, source.location)
                continue
            if self.progress:
                self.progress(1)
            if isinstance(item, ArticleError):
                self.reject(item)
            elif (first := self._first_read(item, table)) is not None:
                where = item.source if isinstance(item, Article) else source.location
                self.reject(ArticleError(
                    where, f"duplicate id {item.id!r}, already read from {first}; skipped"))
            else:
                if table is not None and isinstance(item, KnownRecord) and item.row >= 0:
                    table.found[item.row] = True
                else:
                    self.seen[item.id] = item.source if isinstance(item, Article) \
                        else source.location
                    if taken is not None and table is not None \
                            and (row := table.row_of(item.id)) >= 0:
                        taken[row] = True  # (one id: row_of, 4 us; rows_of's arrays 11)
                yield item, digest

    def _taken(self, table: KnownLines) -> np.ndarray | None:
        """Which rows of `table` hold an id this run has read already (in `seen`, or as a
        line found in another KnownLines): the rows whose lines are duplicates. None when
        `seen` is not all in memory, or larger than the table (then each line is asked)."""
        held = self.seen.held() if isinstance(self.seen, SpilledIds) else self.seen
        if held is None or len(held) > len(table):
            return None
        taken = np.zeros(len(table), dtype=bool)
        taken[table.rows_of(list(held))] = True
        for other, _ in self.tables:
            taken[table.rows_found_in(other)] = True
        return taken

    def _known_rows(self, item: KnownRows, table: KnownLines, taken: np.ndarray | None,
                    where: str) -> Iterator[tuple[KnownRows | KnownRecord, None]]:
        """A run of known lines at once when none is a duplicate (no id read before, no
        row twice), else line by line as any record."""
        rows = item.rows
        if self.progress:
            self.progress(len(rows))
        if taken is not None:
            picked = np.array(rows, dtype=np.int64)
            if not (table.found[picked].any() or taken[picked].any()) \
                    and len(set(rows)) == len(rows):  # (np.unique sorted: 2 % at a million)
                table.found[picked] = True
                yield item, None
                return
        for row in rows:
            record = KnownRecord(table.id_of(row), row)
            first = self._first_read(record, table)
            if first is not None:
                self.reject(ArticleError(where, f"duplicate id {record.id!r}, already read "
                                         f"from {first}; skipped"))
            else:
                table.found[row] = True
                yield record, None

    def _first_read(self, item: Article | KnownRecord, table: KnownLines | None = None
                    ) -> str | None:
        """Where this run read the item's id before (None: it did not); `table`: the
        KnownLines of the file being read, if any."""
        first = self.seen.get(item.id)
        if first is None and self.tables:
            for read, where in self.tables:
                if read is table and isinstance(item, KnownRecord) and item.row >= 0:
                    found = bool(read.found[item.row])  # (its ids are distinct)
                else:
                    found = read.found_id(item.id)
                if found:
                    return where
        if first is None and self.skipped and isinstance(item, Article) \
                and self.owner is not None:
            # (a known line's article is its own file's, a file being read: not skipped)
            owner = self.owner(item.id)
            if owner is not None and owner[0] in self.skipped:
                return "an unchanged file"
        return first

    def skip(self, path: str, count: int) -> None:
        """Count the `count` articles of an unchanged file, and keep their ids taken."""
        self.report.unchanged += count
        self.skipped.add(path)

    def done(self, generation: str) -> Report:
        self.report.seconds = time.monotonic() - self.started
        self.report.generation = generation
        return self.report


@contextmanager
def _session(writer: Writer) -> Iterator[None]:
    """Abort the writer's changes on any failure; reading errors become Furet errors."""
    try:
        yield
    except BaseException as err:
        writer.abort()
        if isinstance(err, OSError):
            where = f" ({err.filename})" if err.filename else ""
            raise IndexWriteError(f"{err.strerror or err}{where}; the last committed index "
                                  "is unchanged") from err
        raise


# ---------------------------------------------------------------------------- build


def build(writer: Writer, sources: Sources, *, on_error: ErrorHandler | None = None,
          progress: Progress | None = None, jobs: int | None = None,
          parallel_above: int = PARALLEL_ABOVE, allow: Sources = ()) -> Report:
    """Index every article of `sources` into a new index, then make it the live one.

    With more than `parallel_above` bytes to read, `jobs` processes share the work when
    the store allows it (default: FURET_JOBS, else the number of CPUs, at most 4).
    Symbolic links under a source folder may lead inside it, or inside a folder of `allow`.
    """
    from indexer.parallel import default_jobs

    return _build(writer, sources, _Run(on_error, progress, allow),
                  default_jobs() if jobs is None else jobs, parallel_above)


def _build(writer: Writer, sources: Sources, run: _Run, jobs: int,
           parallel_above: int = PARALLEL_ABOVE) -> Report:
    writer.begin_build()
    with _session(writer):
        found = list(run.sources(sources))
        ledger = Ledger()
        rejected: Counter[str] = Counter()
        parts = writer.parallel(jobs) if jobs > 1 else None
        if parts is not None and sum(s.size for s in found) > parallel_above:
            def reject(error: ArticleError, path: str) -> None:
                run.reject(error)
                rejected[path] += 1

            digests: dict[str, str] = {}

            def merged(kept: KeptRows) -> None:
                # While the workers write their last segments, what the commit would do
                # alone after them: the files' digests (every article has been read), the
                # rows of the kept articles recorded.
                digests.update((s.path, file_digest(s.path)) for s in found)
                ledger.articles, ledger.lines = kept.articles(), kept.line_rows()
                writer.record_ahead(ledger)

            from indexer.parallel import index_in_parallel  # (multiprocessing: builds only)

            kept, drop, made = index_in_parallel(parts, found, jobs, reject=reject,
                                                 progress=run.progress, merged=merged)
            with contextlib.closing(kept):  # the rows on disk, read by the commit
                writer.adopt(made, drop)
                run.report.added = len(ledger.articles)
                return _commit_build(writer, sources, found, run, ledger, rejected,
                                     digests)
        # The objects made so far (the modules' above all) left out of the collector's
        # passes while this process adds every article: the workers of a shared build are
        # forked so (indexer/parallel.py); its oldest generation's passes then visit the
        # build's own objects only.
        gc.freeze()
        try:
            _add_all(writer, found, run, ledger, rejected)
        finally:
            gc.unfreeze()
        return _commit_build(writer, sources, found, run, ledger, rejected)


def _add_all(writer: Writer, found: list[SourceFile], run: _Run, ledger: Ledger,
             rejected: Counter[str]) -> None:
    """Add every article of `found` in this process (a build that is not shared)."""
    for source in found:
        rejected_before = run.report.rejected
        for article, digest in run.articles(source):
            assert isinstance(article, Article)  # no known lines given: all decoded
            writer.put(article, source.path)
            ledger.articles.append((article.id, source.path, article.hash))
            if digest is not None:
                ledger.lines.append((source.path, digest, article.id))
            run.report.added += 1
            log.info("added %s (%s)", article.id, article.source)
        rejected[source.path] = run.report.rejected - rejected_before


def _commit_build(writer: Writer, sources: Sources, found: list[SourceFile], run: _Run,
                  ledger: Ledger, rejected: Counter[str],
                  digests: Mapping[str, str] | None = None) -> Report:
    if not ledger.articles:
        raise NothingToIndexError("no article found in " + ", ".join(map(display_path, sources))
                                  + "; the index was not changed")
    digests = digests or {}
    ledger.files = [(s.path, s.size, s.mtime_ns, digests.get(s.path) or file_digest(s.path),
                     rejected[s.path]) for s in found]
    return run.done(writer.commit(ledger))


# ---------------------------------------------------------------------------- update


def update(writer: Writer, sources: Sources, *, prune: bool = False,
           on_error: ErrorHandler | None = None, progress: Progress | None = None,
           allow: Sources = ()) -> Report:
    """Bring the live index in line with `sources`, reading only what changed (a first run
    builds the index; `allow` as for `build`)."""
    return _update(writer, sources, prune, _Run(on_error, progress, allow))


def _update(writer: Writer, sources: Sources, prune: bool, run: _Run) -> Report:
    if not writer.is_built():
        from indexer.parallel import default_jobs

        return _build(writer, sources, run, default_jobs())
    writer.begin_update()
    with _session(writer):
        scratch, limit = writer.scratch(), writer.ids_in_memory()
        run.seen = SpilledIds(scratch, limit)
        run.owner = writer.owner
        # The rows to commit, past `limit`, wait on disk too (a re-read file of a million
        # lines gives a million).
        articles, lines = SpilledRows(scratch, limit, 1), SpilledRows(scratch, limit, 2)
        try:
            ledger = _plan_update(writer, sources, prune, run, scratch,
                                  Ledger(articles=articles, lines=lines))  # type: ignore[arg-type]
            return run.done(writer.commit(ledger))
        finally:
            run.seen.close()
            articles.close()
            lines.close()


def _plan_update(writer: Writer, sources: Sources, prune: bool, run: _Run,
                 scratch: str, ledger: Ledger) -> Ledger:
    """Write what changed; return the bookkeeping to commit with it."""
    known_files = writer.known_files()
    counts = writer.article_counts()
    seen_paths: set[str] = set()
    tables: dict[str, list[KnownLines]] = {}  # the files read with a KnownLines
    report = run.report
    for source in run.sources(sources):
        seen_paths.add(source.path)
        state = known_files.get(source.path)
        if state and (state.size, state.mtime_ns) == (source.size, source.mtime_ns):
            run.skip(source.path, counts.get(source.path, 0))
            log.info("unchanged %s", source.location)
            continue
        hashing = BackgroundDigest(source.path)
        count = counts.get(source.path, 0)
        if state and state.size == source.size:  # a new time: maybe the same bytes
            # Its known lines are read from the store while it is hashed (both wait on
            # something else than this process's lock: the file, SQLite), and dropped when
            # its bytes are the same.
            table = _known_table(writer, source, count)
            digest, hashing = hashing.result(), None
            if state.digest == digest:
                ledger.files.append((source.path, source.size, source.mtime_ns, digest,
                                     state.rejected))
                run.skip(source.path, count)
                continue
        else:  # new, or of another size: changed; its digest, for the manifest only, is
            table = _NOT_READ  # made while its lines are read (and its known lines with them)
        rejected_before = report.rejected
        now_ids = SpilledIds(scratch, writer.ids_in_memory())
        try:
            table = _reread(writer, run, source, now_ids, ledger, count, table)
            if table is not None:  # its lines not found: the article ids it had, less now's
                tables.setdefault(source.path, []).append(table)
                gone = _missing(sorted(map(table.id_of, table.not_found())),
                                now_ids.sorted_keys())
            else:
                gone = _missing(writer.article_ids(source.path), now_ids.sorted_keys()) \
                    if counts.get(source.path) else ()
            for article_id in gone:
                writer.remove(article_id)
                ledger.forget_articles.append(article_id)
                log.info("deleted %s (no longer in %s)", article_id, source.location)
        finally:
            now_ids.close()
        if hashing is not None:
            digest = hashing.result()
        ledger.files.append((source.path, source.size, source.mtime_ns, digest,
                             report.rejected - rejected_before))
    known_paths = set(known_files) | set(counts)
    forget = {path: "leads outside its folder" for path in sorted(run.outside & known_paths)}
    if prune:
        forget.update((path, "is gone") for path in _vanished(sources, known_paths, seen_paths))
    for path, why in forget.items():
        ledger.forget_files.append(path)
        for article_id in writer.article_ids(path) if counts.get(path) else ():
            writer.remove(article_id)
            ledger.forget_articles.append(article_id)
            log.info("deleted %s (%s %s)", article_id, display_path(path), why)
    report.deleted = len(ledger.forget_articles)
    _forget_lines(tables, ledger)
    return ledger


def _forget_lines(tables: dict[str, list[KnownLines]], ledger: Ledger) -> None:
    """The lines of the files read with a KnownLines that no reading found again go; the
    others stay recorded (each reading of one file loaded the same lines), those of an
    article deleted by this run too (as if recorded again: the ledger's lines are
    written after the deleted articles' lines are forgotten)."""
    for path, read in tables.items():
        found = read[0].found.copy()
        for table in read[1:]:
            found |= table.found
        ledger.forget_lines.extend((path, read[0].digest_of(row))
                                   for row in np.flatnonzero(~found).tolist())
        ledger.forget_lines.extend((path, digest) for digest in read[0].foreign)
    if not tables or not ledger.forget_articles:
        return
    for article_id in dict.fromkeys(ledger.forget_articles):
        for path, read in tables.items():
            for table in read:
                row = table.row_of(article_id)
                if row >= 0 and table.found[row]:
                    ledger.lines.append((path, table.digest_of(row), article_id))


def _missing(before: Iterable[str], now: Iterator[str]) -> Iterator[str]:
    """The ids of `before` not in `now`, both sorted: one pass over each."""
    current = next(now, None)
    for article_id in before:
        while current is not None and current < article_id:
            current = next(now, None)
        if current != article_id:
            yield article_id


# (`_reread`'s `table` when the caller has not read it)
_NOT_READ: KnownLines | None = KnownLines(b"", [])


def _known_table(writer: Writer, source: SourceFile, count: int) -> KnownLines | None:
    """The known lines of a JSON Lines file as the writer gives them in a KnownLines, when
    it holds the ids of all `count` articles of the file; else None (a file of another kind,
    or some article of the file without its line: its lines are asked one by one)."""
    table = writer.known_line_table(source.path) if source.kind == "jsonl" else None
    return table if table is not None and len(table) == count else None


def _reread(writer: Writer, run: _Run, source: SourceFile, now_ids: SpilledIds,
            ledger: Ledger, count: int, table: KnownLines | None = _NOT_READ
            ) -> KnownLines | None:
    """Write the new and changed articles of one changed file; note in `now_ids` the ids
    it holds. For a JSON Lines file whose known lines the writer gives as a KnownLines
    (holding the ids of all `count` articles of the file: `_known_table`, read already
    unless `table` is _NOT_READ), return it: the lines found in it are marked there,
    neither recorded again nor noted."""
    report = run.report
    # Lines of a JSON Lines file that have not changed are not decoded again.
    if table is _NOT_READ:
        table = _known_table(writer, source, count)
    unchanged_lines: Mapping[bytes, str] | KnownLines | None = table
    if table is None:
        unchanged_lines = writer.unchanged_lines(source.path) if source.kind == "jsonl" \
            else None
        ledger.forget_lines_of.append(source.path)
    for article, line in run.articles(source, unchanged_lines):
        if isinstance(article, KnownRows):
            report.unchanged += len(article.rows)
            continue
        if isinstance(article, KnownRecord):
            if table is None:
                ledger.lines.append((source.path, line, article.id))  # type: ignore[arg-type]
                now_ids[article.id] = ""
            report.unchanged += 1
            continue
        if line is not None:
            ledger.lines.append((source.path, line, article.id))
        owner = writer.owner(article.id)
        if owner and owner[0] != source.path and os.path.exists(owner[0]):
            run.reject(ArticleError(article.source, f"duplicate id {article.id!r}, already "
                                    f"indexed from {display_path(owner[0])}; skipped"))
            continue
        now_ids[article.id] = ""
        if owner and owner[1] == article.hash:
            report.unchanged += 1
            if owner[0] != source.path:
                ledger.articles.append((article.id, source.path, article.hash))
            continue
        writer.put(article, source.path)
        ledger.articles.append((article.id, source.path, article.hash))
        if owner:
            report.updated += 1
            log.info("updated %s (%s)", article.id, article.source)
        else:
            report.added += 1
            log.info("added %s (%s)", article.id, article.source)
    return table


def _vanished(sources: Sources, known: set[str], seen: set[str]) -> list[str]:
    """Known files under `sources` that this run did not find."""
    roots = [os.path.abspath(os.fspath(s)) for s in sources]
    gone = []
    for path in sorted(known - seen):
        if any(path == root or path.startswith(root.rstrip(os.sep) + os.sep) for root in roots):
            if not os.path.exists(path):
                gone.append(path)
    return gone


# ---------------------------------------------------------------------------- delete


def delete(writer: Writer, keys: Sequence[str]) -> tuple[list[str], list[str]]:
    """Delete articles by id or URL; return (ids deleted, keys that matched nothing)."""
    writer.begin_update()
    with _session(writer):
        found: list[str] = []
        missing: list[str] = []
        for key in keys:
            ids = writer.find(key)
            if ids:
                found.extend(i for i in ids if i not in found)
            else:
                missing.append(key)
        for article_id in found:
            writer.remove(article_id)
        if found:
            writer.commit(Ledger(forget_articles=found))
        return found, missing
