"""Writing a PostgreSQL index (the Writer contract), with the same guarantees as Whoosh's.

- A build loads every article into `furet.articles_next` in batches (COPY), indexes it,
  makes its vocabulary, then swaps the new tables in with one transaction: readers see
  the old index or the new one, never a half-built one. A build that fails leaves the live
  tables as they were.
- An update or a deletion writes everything in one transaction; the `files` table is the
  manifest of what each file held.
- One writer at a time: a session advisory lock (search/postgres/lock.py), on the
  connection every statement of the session uses.
"""

from __future__ import annotations

import os
from contextlib import ExitStack
from datetime import UTC, datetime
from typing import Any

from search.article import Article
from search.postgres import tables
from search.postgres.connection import check_url, database_errors
from search.postgres.lock import writer_connection
from search.postgres.postings import delete_postings, fill_postings
from search.postgres.rows import article_row
from search.writer import FileState, Ledger, Writer, translating

__all__ = ["BATCH", "PostgresWriter", "init"]

BATCH = 500  # articles a COPY sends at once
# PostgreSQL's errors, as FuretErrors that say what to do.
_translated = translating(lambda writer: database_errors(writer.url))


def init(database_url: str | None, *, wait: float = 0.0) -> list[int]:
    """Create or upgrade the Furet schema; return the migration versions applied now."""
    url = check_url(database_url)
    with database_errors(url), writer_connection(url, wait=wait) as conn:
        return tables.apply_migrations(conn, url)


class PostgresWriter(Writer):
    """A write session on a database: holds the advisory lock on its one connection."""

    def __init__(self, database_url: str | None, *, wait: float = 0.0) -> None:
        self.url = check_url(database_url)
        self._stack = ExitStack()
        self._tx: ExitStack | None = None  # the update's transaction
        self._new = False
        self._rows: list[tuple[Any, ...]] = []  # waiting to be written
        self._gone: list[str] = []  # waiting to be deleted
        self._written: set[str] = set()  # ids written by this update
        self._changed = False
        try:
            with database_errors(self.url):
                self.conn = self._stack.enter_context(writer_connection(self.url, wait=wait))
                tables.check_schema(self.conn, self.url)
        except BaseException:
            self._stack.close()
            raise

    @property
    def where(self) -> str:
        return tables.describe(self.url)

    # -- what is indexed

    @_translated
    def is_built(self) -> bool:
        return tables.is_built(self.conn)

    @_translated
    def known_files(self) -> dict[str, FileState]:
        return {os.fsdecode(bytes(path)): FileState(size, mtime, digest, rejected)
                for path, size, mtime, digest, rejected in self.conn.execute(
                    "SELECT path, size, mtime_ns, digest, rejected FROM furet.files")}

    @_translated
    def known_articles(self) -> dict[str, tuple[str, str]]:
        return {i: (os.fsdecode(bytes(path)) if path is not None else "", h)
                for i, path, h in self.conn.execute("SELECT id, path, hash FROM furet.articles")}

    @_translated
    def find(self, key: str) -> list[str]:
        return [i for (i,) in self.conn.execute("SELECT id FROM furet.articles WHERE id = %s",
                                                (key,))] or \
            [i for (i,) in self.conn.execute("SELECT id FROM furet.articles WHERE url = %s "
                                             "ORDER BY id", (key,))]

    # -- sessions

    @_translated
    def begin_build(self) -> None:
        tables.prepare_staging(self.conn)
        self._new = True

    @_translated
    def begin_update(self) -> None:
        if not tables.is_built(self.conn):
            raise tables.no_build_error(self.url)
        tables.abandon_staging(self.conn)  # what an interrupted build left
        self._tx = ExitStack()
        self._tx.enter_context(self.conn.transaction())
        self._new = False

    @_translated
    def put(self, article: Article, path: str) -> None:
        self._rows.append(article_row(article, path))
        if not self._new:
            self._written.add(article.id)
        if len(self._rows) >= BATCH:
            self._flush()

    @_translated
    def remove(self, article_id: str) -> None:
        self._gone.append(article_id)
        if len(self._gone) >= BATCH:
            self._flush()

    def _flush(self) -> None:
        if self._new:
            tables.copy_rows(self.conn, "articles_next", self._rows)
            self._rows = []
            return
        if not self._rows and not self._gone:
            return
        ids = [row[0] for row in self._rows]
        out = ids + self._gone
        tables.shift_vocabulary(self.conn, out, -1)  # what the old versions counted
        delete_postings(self.conn, out)
        self.conn.execute("DELETE FROM furet.articles WHERE id = ANY(%s::text[])", (out,))
        tables.copy_rows(self.conn, "articles", self._rows)
        tables.shift_vocabulary(self.conn, ids, +1)
        # Weighed against the build's average lengths (kept until the next build).
        fill_postings(self.conn, tables.meta(self.conn), ids=ids)  # and their terms
        self._rows, self._gone, self._changed = [], [], True

    @_translated
    def commit(self, ledger: Ledger) -> str:
        self._flush()
        if self._new:
            lengths = tables.fill_side_tables(self.conn, ledger.files)
            self._new = False
            generation = tables.swap_in(
                self.conn, datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ"), lengths)
            # The VACUUM before the swap can leave a quarter of the postings' pages not
            # all-visible (seen at 30,000 articles): ranking then reads those rows. A
            # second pass visits only those pages (0.1 s at 30,000 articles).
            self.conn.execute("VACUUM furet.postings")
            return generation
        assert self._tx is not None, "begin_update() first"
        moved = [(os.fsencode(path), article_id) for article_id, path, _ in ledger.articles
                 if article_id not in self._written]
        self.conn.cursor().executemany("UPDATE furet.articles SET path = %s WHERE id = %s",
                                       moved)
        tables.write_files(self.conn, ledger.files, ledger.forget_files)
        if self._changed:
            tables.forget_unused_words(self.conn)
            generation = tables.bump_generation(self.conn)
        else:
            generation = tables.meta(self.conn)["generation"]
        tx, self._tx = self._tx, None
        tx.close()  # COMMIT
        return generation

    @_translated
    def abort(self) -> None:
        self._rows, self._gone, self._written, self._changed = [], [], set(), False
        if self._tx is not None:
            tx, self._tx = self._tx, None
            tx.__exit__(RuntimeError, RuntimeError("aborted"), None)  # ROLLBACK
        if self._new:
            self._new = False
            if not self.conn.closed and not self.conn.broken:
                tables.abandon_staging(self.conn)

    @_translated
    def close(self) -> None:
        try:
            if self._tx is not None or self._new:
                self.abort()
        finally:
            self._stack.close()  # ending the session releases the lock
