"""The editors' store in a SQLite file next to the index (the Whoosh store's, FURET_ADMIN_DB).

It lives outside the index's builds, so a rebuild keeps it; the web workers and
`furet-admin` share it. Created on the first write.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from search.editorial.store import EditorialStore

__all__ = ["SQLiteEditorial"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY, password_hash TEXT NOT NULL, created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
    id_hash TEXT PRIMARY KEY, user TEXT NOT NULL, csrf TEXT NOT NULL, created REAL NOT NULL,
    seen REAL NOT NULL);
CREATE TABLE IF NOT EXISTS login_failures (kind TEXT NOT NULL, key TEXT NOT NULL,
    at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS login_failures_key ON login_failures (kind, key, at);
CREATE TABLE IF NOT EXISTS synonyms (line INTEGER PRIMARY KEY, rule TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY, at TEXT NOT NULL, user TEXT NOT NULL, action TEXT NOT NULL,
    target TEXT NOT NULL, before TEXT, after TEXT);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS pins (key TEXT NOT NULL, query TEXT NOT NULL,
    article_id TEXT NOT NULL, position INTEGER NOT NULL, until TEXT,
    PRIMARY KEY (key, article_id));
CREATE TABLE IF NOT EXISTS hidden (article_id TEXT PRIMARY KEY, reason TEXT NOT NULL,
    at TEXT NOT NULL, user TEXT NOT NULL);
"""


class SQLiteEditorial(EditorialStore):
    """The editors' SQLite file (created on first write)."""

    def __init__(self, path: str | Path) -> None:
        super().__init__()
        self.path = Path(path)
        self._ready = False

    def describe(self) -> str:
        return str(self.path)

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """A connection in one transaction (BEGIN IMMEDIATE: the write lock, taken before
        anything is read), committed on success."""
        with closing(sqlite3.connect(self.path, timeout=5, isolation_level=None)) as db:
            if not self._ready:
                db.execute("PRAGMA journal_mode=WAL")
                db.executescript(_SCHEMA)
                self._ready = True
            db.row_factory = sqlite3.Row
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def exists(self) -> bool:
        return self.path.exists()

    def read_version(self) -> str:
        if not self.exists():
            return ""
        with closing(sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=1)) as db:
            try:
                row = db.execute("SELECT value FROM meta WHERE name = 'version'").fetchone()
            except sqlite3.OperationalError:  # no table yet
                return ""
            return row[0] if row else ""
