"""The console's file: editors, their sessions, synonyms, and the audit log of every change.

    users(name, password_hash, created)
    sessions(id_hash, user, csrf, created, seen)
    login_failures(kind, key, at)             throttling: per account and per address
    synonyms(line, rule)                      the rules, in the synonyms.txt format
    pins(key, query, article_id, position, until)   articles shown first for a query
    hidden(article_id, reason, at, user)      articles never shown
    audit(id, at, user, action, target, before, after)
    meta(name, value)                         `version`: bumped by every change

It is a SQLite file next to the index (FURET_ADMIN_DB), outside the index's builds, so a
rebuild keeps it; the web workers and `furet-admin` share it. A worker notices a change by
reading `version` at most once a second (`AdminDB.version`), never by restarting.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = ["AdminDB", "now_iso"]

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
VERSION_TTL = 1.0  # seconds a worker trusts the version it read


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class AdminDB:
    """The console's SQLite file (created on first write)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._ready = False
        self._version: tuple[float, str] | None = None

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """A connection in one transaction, committed on success."""
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

    def has_users(self) -> bool:
        """Whether an editor's account exists: the console is off until one does."""
        if not self.exists():
            return False
        with self.connect() as db:
            return db.execute("SELECT 1 FROM users LIMIT 1").fetchone() is not None

    def changed(self, db: sqlite3.Connection, user: str, action: str, target: str,
                before: Any = None, after: Any = None) -> None:
        """Record a change in the audit log and bump the version workers watch."""
        db.execute("INSERT INTO audit (at, user, action, target, before, after) "
                   "VALUES (?, ?, ?, ?, ?, ?)",
                   (now_iso(), user, action, target, _json(before), _json(after)))
        db.execute("INSERT INTO meta VALUES ('version', ?) ON CONFLICT (name) DO UPDATE "
                   "SET value = excluded.value", (str(time.time_ns()),))
        self._version = None

    def version(self) -> str:
        """Changes whenever editors change something (read at most once a second)."""
        now = time.monotonic()
        if self._version is not None and now - self._version[0] < VERSION_TTL:
            return self._version[1]
        value = ""
        if self.exists():
            try:
                with closing(sqlite3.connect(f"file:{self.path}?mode=ro", uri=True,
                                             timeout=1)) as db:
                    row = db.execute("SELECT value FROM meta WHERE name = 'version'") \
                        .fetchone()
                    value = row[0] if row else ""
            except sqlite3.Error:
                value = self._version[1] if self._version else ""
        self._version = (now, value)
        return value

    def audit(self, limit: int = 100) -> list[dict[str, Any]]:
        """The newest changes, newest first."""
        if not self.exists():
            return []
        with self.connect() as db:
            rows = db.execute("SELECT * FROM audit ORDER BY id DESC LIMIT ?", (limit,))
            return [dict(row) for row in rows]


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False)
