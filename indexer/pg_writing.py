"""Building, updating and deleting in PostgreSQL: indexer/writing.py's commands for the
postgresql backend, with the same reports, messages and exit codes.

- `init` creates or upgrades the schema (versioned migrations).
- `build` loads every article into `furet.articles_next` in batches (COPY), indexes it,
  makes its vocabulary, then swaps the new tables in with one transaction: readers see
  the old index or the new one, never a half-built one. A build that fails or finds
  nothing leaves the live tables as they were.
- `update` rereads only files whose size, time or digest changed (the `files` table is
  the manifest) and writes everything in one transaction; `prune` deletes the articles
  of files that are gone.
- `delete` removes articles by id or URL.

One writer at a time: a PostgreSQL advisory lock (indexer/pg_lock.py); exit 75 when
another writer holds it, or wait with --wait.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from indexer import pg_tables as tables
from indexer.article import Article
from indexer.manifest import FileState
from indexer.pg_lock import writer_connection
from indexer.pg_rows import article_row
from indexer.sources import SourceFile, display_path, file_digest
from indexer.writing import (
    ErrorHandler,
    NothingToIndexError,
    Progress,
    Report,
    _Run,
    _skip,
    _sources,
    _vanished,
)
from search.errors import ArticleError
from search.postgres.connection import check_url, database_errors

__all__ = ["BATCH", "build", "delete", "init", "update"]

BATCH = 500  # articles a COPY sends at once
log = logging.getLogger("furet.indexer")


def init(database_url: str | None, *, wait: float = 0.0) -> list[int]:
    """Create or upgrade the Furet schema; return the migration versions applied now."""
    url = check_url(database_url)
    with database_errors(url), writer_connection(url, wait=wait) as conn:
        return tables.apply_migrations(conn, url)


def build(database_url: str | None, sources: Sequence[str | os.PathLike[str]], *,
          wait: float = 0.0, on_error: ErrorHandler | None = None,
          progress: Progress | None = None) -> Report:
    """Index every article of `sources` into new tables, then swap them in atomically."""
    url = check_url(database_url)
    with database_errors(url), writer_connection(url, wait=wait) as conn:
        tables.check_schema(conn, url)
        return _build(conn, sources, _Run(on_error, progress))


def _build(conn: Any, sources: Sequence[str | os.PathLike[str]], run: _Run) -> Report:
    name = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    tables.prepare_staging(conn)
    try:
        found = list(_sources(run, sources))
        rejected: Counter[str] = Counter()
        batch: list[tuple[Any, ...]] = []
        for source in found:
            rejected_before = run.report.rejected
            for article, _ in run.articles(source):
                assert isinstance(article, Article)  # no known lines given: all decoded
                batch.append(article_row(article, source.path))
                run.report.added += 1
                log.info("added %s (%s)", article.id, article.source)
                if len(batch) >= BATCH:
                    tables.copy_rows(conn, "articles_next", batch)
                    batch = []
            rejected[source.path] = run.report.rejected - rejected_before
        if not run.report.added:
            raise NothingToIndexError("no article found in " + ", ".join(map(str, sources))
                                      + "; the index was not changed")
        tables.copy_rows(conn, "articles_next", batch)
        tables.fill_side_tables(conn, [(s.path, s.size, s.mtime_ns, file_digest(s.path),
                                        rejected[s.path]) for s in found])
        return run.done(tables.swap_in(conn, name))
    except BaseException:
        if not conn.closed and not conn.broken:
            tables.abandon_staging(conn)
        raise


def update(database_url: str | None, sources: Sequence[str | os.PathLike[str]], *,
           prune: bool = False, wait: float = 0.0, on_error: ErrorHandler | None = None,
           progress: Progress | None = None) -> Report:
    """Bring the index in line with `sources`, reading only what changed (one transaction)."""
    url = check_url(database_url)
    with database_errors(url), writer_connection(url, wait=wait) as conn:
        tables.check_schema(conn, url)
        run = _Run(on_error, progress)
        if not tables.is_built(conn):
            return _build(conn, sources, run)  # a first cron run
        tables.abandon_staging(conn)  # what an interrupted build left
        with conn.transaction():
            generation = _update(conn, sources, prune, run)
        return run.done(generation)


class _Changes:
    """Articles to write and to delete, flushed in batches inside the update's transaction."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.rows: list[tuple[Any, ...]] = []
        self.gone: list[str] = []
        self.written = False

    def put(self, row: tuple[Any, ...]) -> None:
        self.rows.append(row)
        if len(self.rows) >= BATCH:
            self.flush()

    def delete(self, article_id: str) -> None:
        self.gone.append(article_id)
        if len(self.gone) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.rows and not self.gone:
            return
        ids = [row[0] for row in self.rows]
        out = ids + self.gone
        tables.shift_vocabulary(self.conn, out, -1)  # what the old versions counted
        self.conn.execute("DELETE FROM furet.articles WHERE id = ANY(%s::text[])", (out,))
        tables.copy_rows(self.conn, "articles", self.rows)
        tables.shift_vocabulary(self.conn, ids, +1)
        self.rows, self.gone, self.written = [], [], True


def _known(conn: Any) -> tuple[dict[str, FileState], dict[str, tuple[str, str]]]:
    files = {os.fsdecode(bytes(path)): FileState(size, mtime, digest, rejected)
             for path, size, mtime, digest, rejected in conn.execute(
                 "SELECT path, size, mtime_ns, digest, rejected FROM furet.files")}
    articles = {i: (os.fsdecode(bytes(path)) if path is not None else "", h)
                for i, path, h in conn.execute("SELECT id, path, hash FROM furet.articles")}
    return files, articles


def _update(conn: Any, sources: Sequence[str | os.PathLike[str]], prune: bool,
            run: _Run) -> str:
    known_files, known = _known(conn)
    by_path: dict[str, dict[str, str]] = {}
    for article_id, (path, digest) in known.items():
        by_path.setdefault(path, {})[article_id] = digest
    changes = _Changes(conn)
    file_rows: list[tuple[str, int, int, str, int]] = []
    moved: list[tuple[bytes, str]] = []
    seen_paths: set[str] = set()
    report = run.report
    for source in _sources(run, sources):
        seen_paths.add(source.path)
        before = by_path.get(source.path, {})
        state = known_files.get(source.path)
        if state and (state.size, state.mtime_ns) == (source.size, source.mtime_ns):
            _skip(run, before)
            log.info("unchanged %s", source.location)
            continue
        digest = file_digest(source.path)
        if state and state.digest == digest:
            file_rows.append((source.path, source.size, source.mtime_ns, digest, state.rejected))
            _skip(run, before)
            continue
        rejected_before = report.rejected
        now_ids = _read_changed(run, source, known, changes, moved)
        for article_id in sorted(set(before) - now_ids):
            changes.delete(article_id)
            report.deleted += 1
            log.info("deleted %s (no longer in %s)", article_id, source.location)
        file_rows.append((source.path, source.size, source.mtime_ns, digest,
                          report.rejected - rejected_before))
    gone_files: list[str] = []
    if prune:
        gone_files = _vanished(sources, set(known_files) | set(by_path), seen_paths)
        for path in gone_files:
            for article_id in by_path.get(path, {}):
                changes.delete(article_id)
                report.deleted += 1
                log.info("deleted %s (%s is gone)", article_id, display_path(path))
    changes.flush()
    conn.cursor().executemany("UPDATE furet.articles SET path = %s WHERE id = %s", moved)
    tables.write_files(conn, file_rows, gone_files)
    if not changes.written:
        return tables.meta(conn)["generation"]
    tables.forget_unused_words(conn)
    return tables.bump_generation(conn)


def _read_changed(run: _Run, source: SourceFile, known: dict[str, tuple[str, str]],
                  changes: _Changes, moved: list[tuple[bytes, str]]) -> set[str]:
    """Queue the new and changed articles of one changed file; return the ids it holds."""
    report = run.report
    now_ids = set()
    for article, _ in run.articles(source):
        assert isinstance(article, Article)  # no known lines given: all decoded
        owner = known.get(article.id)
        if owner and owner[0] != source.path and os.path.exists(owner[0]):
            run.reject(ArticleError(article.source, f"duplicate id {article.id!r}, already "
                                    f"indexed from {owner[0]}; skipped"))
            continue
        now_ids.add(article.id)
        if owner and owner[1] == article.hash:
            report.unchanged += 1
            if owner[0] != source.path:
                moved.append((os.fsencode(source.path), article.id))
            continue
        changes.put(article_row(article, source.path))
        if owner:
            report.updated += 1
            log.info("updated %s (%s)", article.id, article.source)
        else:
            report.added += 1
            log.info("added %s (%s)", article.id, article.source)
    return now_ids


def delete(database_url: str | None, keys: Sequence[str], *,
           wait: float = 0.0) -> tuple[list[str], list[str]]:
    """Delete articles by id or URL; return (ids deleted, keys that matched nothing)."""
    url = check_url(database_url)
    with database_errors(url), writer_connection(url, wait=wait) as conn:
        tables.check_schema(conn, url)
        if not tables.is_built(conn):
            raise tables.no_build_error(url)
        found: list[str] = []
        missing: list[str] = []
        for key in keys:
            ids = [i for (i,) in conn.execute("SELECT id FROM furet.articles WHERE id = %s",
                                              (key,))] or \
                [i for (i,) in conn.execute("SELECT id FROM furet.articles WHERE url = %s "
                                            "ORDER BY id", (key,))]
            (found.extend(i for i in ids if i not in found) if ids else missing.append(key))
        if found:
            with conn.transaction():
                changes = _Changes(conn)
                for article_id in found:
                    changes.delete(article_id)
                changes.flush()
                tables.forget_unused_words(conn)
                tables.bump_generation(conn)
        return found, missing
