"""The query log: one SQLite row per search, about the newest `max_rows` kept, no address.

    searches(id, at, source, query, filters, sort, page, hits, took_ms, corrected)
    clicks(id, at, query, article_id, position)

`clicks` are the results readers opened (sent by the results page's script), with the
query that listed them and their position; no address, cookie or reader identifier.

`at` is UTC ISO 8601, `query` the normalised query (`Results.query`), `filters` a JSON
object, `source` "api", "html" or "atom". Several gunicorn workers write to the same file
(WAL mode, short busy timeout); a search never fails because its log line could not be
written: the problem is logged once and the search goes on.

`popular()` gives the home page the week's most searched queries: searches made on the
site's pages (first pages only: turning pages is not searching again) that found
something, each searched at least `min_count` times, so that what one reader typed once
is never shown to others.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Mapping
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

__all__ = ["QueryLog"]

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS searches (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    source TEXT NOT NULL,
    query TEXT NOT NULL,
    filters TEXT NOT NULL,
    sort TEXT NOT NULL,
    page INTEGER NOT NULL,
    hits INTEGER NOT NULL,
    took_ms REAL NOT NULL,
    corrected INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS searches_at ON searches (at);
CREATE TABLE IF NOT EXISTS clicks (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    query TEXT NOT NULL,
    article_id TEXT NOT NULL,
    position INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS clicks_at ON clicks (at);
"""
PRUNE_EVERY = 500  # rows between two trims of the oldest rows
POPULAR_TTL = 60.0  # seconds the week's most searched queries are reused
POPULAR_MAX_CHARS = 80  # longer queries are not shown on the home page


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class QueryLog:
    """Appends searches to a SQLite file, keeping the newest `max_rows`."""

    def __init__(self, path: str | Path, *, max_rows: int = 100_000) -> None:
        self.path = Path(path)
        self.max_rows = max_rows
        self._ready = False
        self._failed = False
        self._popular: tuple[float, tuple[Any, ...], list[tuple[str, int]]] | None = None

    def _connect(self) -> sqlite3.Connection:
        # One short-lived connection per search: safe across forks and threads, and cheap
        # next to a search.
        db = sqlite3.connect(self.path, timeout=0.5, isolation_level=None)
        if not self._ready:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)
            self._ready = True
        return db

    def record(self, *, source: str, query: str, filters: Mapping[str, Any], sort: str,
               page: int, hits: int, took_ms: float, corrected: bool) -> None:
        """Append one search (errors are logged, never raised)."""
        row = (_now(), source, query, json.dumps(filters, ensure_ascii=False, sort_keys=True),
               sort, page, hits, took_ms, int(corrected))
        self._append("searches", "at, source, query, filters, sort, page, hits, took_ms, "
                     "corrected", row)

    def record_click(self, *, query: str, article_id: str, position: int) -> None:
        """Append one opened result (errors are logged, never raised)."""
        self._append("clicks", "at, query, article_id, position",
                     (_now(), query, article_id, position))

    def _append(self, table: str, columns: str, row: tuple[Any, ...]) -> None:
        marks = ", ".join("?" * len(row))
        try:
            with closing(self._connect()) as db:
                cursor = db.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", row)
                rowid = cursor.lastrowid or 0
                every = max(1, min(PRUNE_EVERY, self.max_rows // 10))
                if rowid % every == 0:
                    db.execute(f"DELETE FROM {table} WHERE id <= ?", (rowid - self.max_rows,))
            self._failed = False
        except (sqlite3.Error, OSError) as err:
            if not self._failed:
                log.warning("query log %s: cannot write (%s); searches go on unlogged",
                            self.path, err)
            self._failed = True

    def recent(self, limit: int = 100) -> list[dict[str, Any]]:
        """The newest searches, newest first (for tools and tests)."""
        with closing(sqlite3.connect(self.path)) as db:
            db.row_factory = sqlite3.Row
            rows = db.execute("SELECT * FROM searches ORDER BY id DESC LIMIT ?", (limit,))
            return [dict(row) | {"filters": json.loads(row["filters"])} for row in rows]

    def popular(self, *, days: int = 7, limit: int = 8, min_count: int = 3
                ) -> list[tuple[str, int]]:
        """The most searched queries of the last `days`, with how often: [] when there is no
        log yet or it cannot be read. Reused for POPULAR_TTL seconds."""
        key = (days, limit, min_count)
        now = time.monotonic()
        if self._popular and self._popular[1] == key and now - self._popular[0] < POPULAR_TTL:
            return self._popular[2]
        since = (datetime.now(UTC) - timedelta(days=days)).isoformat(timespec="milliseconds")
        try:
            with closing(sqlite3.connect(f"file:{self.path}?mode=ro", uri=True,
                                         timeout=0.5)) as db:
                rows = db.execute(
                    "SELECT min(query), count(*) AS n FROM searches WHERE at >= ? "
                    "AND source = 'html' AND page = 1 AND hits > 0 AND query <> '' "
                    "AND length(query) <= ? GROUP BY lower(query) HAVING n >= ? "
                    "ORDER BY n DESC, min(query) LIMIT ?",
                    (since, POPULAR_MAX_CHARS, min_count, limit)).fetchall()
        except (sqlite3.Error, OSError):
            rows = []
        found = [(query, int(count)) for query, count in rows]
        self._popular = (now, key, found)
        return found
