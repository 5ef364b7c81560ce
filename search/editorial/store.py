"""The editors' store: one place for their accounts, sessions, synonyms, pins, hidden
articles and audit log, whichever store the index is in.

    users(name, password_hash, created)
    sessions(id_hash, "user", csrf, created, seen)
    login_failures(kind, key, at)             throttling: per account and per address
    synonyms(line, rule)                      the rules, in the synonyms.txt format
    pins(key, query, article_id, position, until)   articles shown first for a query
    hidden(article_id, reason, at, "user")    articles never shown
    audit(id, at, "user", action, target, before, after)
    meta(name, value)                         `version`: bumped by every change

Callers write their statements once, in the SQL both stores accept (`?` placeholders,
`"user"` quoted, ON CONFLICT upserts); a store runs them on its own tables. Every
`connect()` is one transaction that takes the store's write lock first (SQLite's BEGIN
IMMEDIATE, a PostgreSQL advisory lock), so a check and the write it leads to never
interleave with another's. A worker notices a change by reading `version` at most once a
second (`version()`), never by restarting.
"""

from __future__ import annotations

import json
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any, Protocol

__all__ = ["Cursor", "EditorialConnection", "EditorialStore", "TABLES", "now_iso"]

TABLES = ("users", "sessions", "login_failures", "synonyms", "pins", "hidden", "audit", "meta")
VERSION_TTL = 1.0  # seconds a worker trusts the version it read


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Cursor(Protocol):
    """What a statement gives back: rows (by position or by column name) and a rowcount."""

    rowcount: int

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class EditorialConnection(Protocol):
    """One transaction on the editors' tables."""

    def execute(self, statement: str, params: Sequence[Any] = ()) -> Cursor: ...

    def executemany(self, statement: str, rows: Sequence[Sequence[Any]]) -> Cursor: ...


class EditorialStore(ABC):
    """Where the editors' data lives (a SQLite file, or the `furet` schema in PostgreSQL)."""

    def __init__(self) -> None:
        self._version: tuple[float, str] | None = None

    @abstractmethod
    def connect(self) -> AbstractContextManager[EditorialConnection]:
        """One transaction, holding the write lock, committed on success."""

    @abstractmethod
    def exists(self) -> bool:
        """Whether the tables are there (nothing was ever written otherwise)."""

    @abstractmethod
    def describe(self) -> str:
        """Where the data is, as messages name it."""

    @abstractmethod
    def read_version(self) -> str:
        """The stored version ("" when none), read now."""

    def has_users(self) -> bool:
        """Whether an editor's account exists: the console is off until one does."""
        if not self.exists():
            return False
        with self.connect() as db:
            return db.execute("SELECT 1 FROM users LIMIT 1").fetchone() is not None

    def changed(self, db: EditorialConnection, user: str, action: str, target: str,
                before: Any = None, after: Any = None) -> None:
        """Record a change in the audit log and bump the version workers watch."""
        db.execute('INSERT INTO audit (at, "user", action, target, before, after) '
                   "VALUES (?, ?, ?, ?, ?, ?)",
                   (now_iso(), user, action, target, _json(before), _json(after)))
        db.execute("INSERT INTO meta (name, value) VALUES ('version', ?) ON CONFLICT (name) "
                   "DO UPDATE SET value = excluded.value", (str(time.time_ns()),))
        self._version = None

    def version(self) -> str:
        """Changes whenever editors change something (read at most once a second)."""
        now = time.monotonic()
        if self._version is not None and now - self._version[0] < VERSION_TTL:
            return self._version[1]
        try:
            value = self.read_version()
        except Exception:  # noqa: BLE001  (unreadable for a moment: keep what was read)
            value = self._version[1] if self._version else ""
        self._version = (now, value)
        return value

    def forget_version(self) -> None:
        """Read the version again at the next call (after a change made elsewhere)."""
        self._version = None

    def audit(self, limit: int = 100) -> list[dict[str, Any]]:
        """The newest changes, newest first."""
        if not self.exists():
            return []
        with self.connect() as db:
            rows = db.execute("SELECT * FROM audit ORDER BY id DESC LIMIT ?", (limit,))
            return [dict(row) for row in rows]


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False)
