"""The editors' choices in PostgreSQL: their tables in the `furet` schema, shared by every
web server of a site, and hidden articles left out of a search.

The editors' tables (search/editorial/store.py lists them) are `furet.editor_<name>`, made
by migration 3 (`furet-index init`); a build swaps only the index's tables, so it keeps
them. The statements callers write once for both stores are run here with their tables
named in the schema and `?` turned into psycopg's `%s`. Each transaction first takes an
advisory lock, as SQLite's BEGIN IMMEDIATE takes the file's: a check and the write it leads
to (a login's throttle) never interleave with another's. Settings kept in a console SQLite
file before (FURET_ADMIN_DB) are copied in once, on first use, when the tables are empty.
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import psycopg

from search.editorial.store import TABLES, EditorialStore
from search.errors import IndexNotFoundError
from search.postgres.compile import Compiled
from search.postgres.connection import INIT_HINT, connect, database_errors, describe

__all__ = ["PostgresEditorial", "editorial_tables", "without_hidden"]

log = logging.getLogger(__name__)

LOCK_KEY = 0x6675726574 + 1  # the editors' lock: not the index writer's (LOCK_KEY in lock.py)
_TABLE = re.compile(r"\b(FROM|INTO|UPDATE|JOIN)\s+(" + "|".join(TABLES) + r")\b")
# What the legacy SQLite file holds that is worth keeping (sessions and failures are not).
_COPIED = {"users": "name, password_hash, created", "synonyms": "line, rule",
           "pins": "key, query, article_id, position, until",
           "hidden": 'article_id, reason, at, "user"',
           "audit": 'at, "user", action, target, before, after'}

_DDL = """
CREATE TABLE furet.editor_users (name text PRIMARY KEY, password_hash text NOT NULL,
    created text NOT NULL);
CREATE TABLE furet.editor_sessions (id_hash text PRIMARY KEY, "user" text NOT NULL,
    csrf text NOT NULL, created float8 NOT NULL, seen float8 NOT NULL);
CREATE TABLE furet.editor_login_failures (kind text NOT NULL, key text NOT NULL,
    at float8 NOT NULL);
CREATE INDEX editor_login_failures_key ON furet.editor_login_failures (kind, key, at);
CREATE TABLE furet.editor_synonyms (line integer PRIMARY KEY, rule text NOT NULL);
CREATE TABLE furet.editor_audit (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at text NOT NULL, "user" text NOT NULL, action text NOT NULL, target text NOT NULL,
    before text, after text);
CREATE TABLE furet.editor_meta (name text PRIMARY KEY, value text NOT NULL);
CREATE TABLE furet.editor_pins (key text NOT NULL, query text NOT NULL,
    article_id text NOT NULL, position integer NOT NULL, until text,
    PRIMARY KEY (key, article_id));
CREATE TABLE furet.editor_hidden (article_id text PRIMARY KEY, reason text NOT NULL,
    at text NOT NULL, "user" text NOT NULL);
"""


def editorial_tables(cur: Any) -> None:
    """Migration 3: the editors' tables."""
    cur.execute(_DDL)


def statement(text: str) -> str:
    """A statement written for both stores, as PostgreSQL runs it here."""
    return _TABLE.sub(r"\1 furet.editor_\2", text.replace("%", "%%").replace("?", "%s"))


class _Row(tuple):  # noqa: SLOT001
    """A row read by position or by column name, like sqlite3.Row."""

    names: tuple[str, ...]

    def __new__(cls, names: tuple[str, ...], values: Sequence[Any]) -> _Row:
        row = super().__new__(cls, values)
        row.names = names
        return row

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return tuple.__getitem__(self, self.names.index(key))
        return tuple.__getitem__(self, key)

    def keys(self) -> tuple[str, ...]:
        return self.names


def _rows(cursor: Any) -> Any:
    names = tuple(c.name for c in cursor.description or ())
    return lambda values: _Row(names, values)


class _Connection:
    """One transaction on the editors' tables, taking the statements both stores run."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    def execute(self, text: str, params: Sequence[Any] = ()) -> Any:
        cur = self.conn.cursor(row_factory=_rows)
        cur.execute(statement(text), tuple(params))
        return cur

    def executemany(self, text: str, rows: Sequence[Sequence[Any]]) -> Any:
        cur = self.conn.cursor(row_factory=_rows)
        cur.executemany(statement(text), [tuple(r) for r in rows])
        return cur


class PostgresEditorial(EditorialStore):
    """The editors' tables in the index's database: every web server sees the same."""

    def __init__(self, url: str | None, legacy: str | os.PathLike[str] | None = None) -> None:
        super().__init__()
        self.url = url or ""  # checked when connecting: a site starts, and answers 503
        self.legacy = Path(legacy) if legacy else None
        self._imported = False
        self._exists = False

    def describe(self) -> str:
        return f"{describe(self.url)} (furet.editor_* tables)"

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        """A connection for one transaction: editors' changes are rare, and a worker reads
        the version once a second at most, so none is kept open (nor shared by a fork)."""
        with database_errors(self.url), connect(self.url, application="furet-editorial"
                                                ) as conn:
            yield conn

    def exists(self) -> bool:
        if not self._exists:  # once made (furet-index init), the tables stay
            with self._connection() as conn, conn.transaction():
                self._exists = conn.execute("SELECT to_regclass('furet.editor_meta') "
                                            "IS NOT NULL").fetchone()[0]
        return self._exists

    @contextmanager
    def connect(self) -> Iterator[_Connection]:
        """One transaction holding the editors' lock, committed on success."""
        with self._connection() as conn, conn.transaction():
            if not conn.execute("SELECT to_regclass('furet.editor_meta') IS NOT NULL"
                                ).fetchone()[0]:
                raise IndexNotFoundError(f"{describe(self.url)} has no tables for the "
                                         f"editors yet; create them with: {INIT_HINT}")
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
            db = _Connection(conn)
            if not self._imported:
                self._imported = True
                if self.legacy is not None and self.legacy.exists():
                    try:
                        with conn.transaction():  # a savepoint: a replica refuses writes
                            self._import_legacy(db)
                    except psycopg.errors.ReadOnlySqlTransaction:
                        log.warning("%s is read-only (a replica): the console's file %s is "
                                    "taken in by a server or furet-admin using the primary",
                                    describe(self.url), self.legacy)
            yield db

    def read_version(self) -> str:
        with self._connection() as conn, conn.transaction():
            if not conn.execute("SELECT to_regclass('furet.editor_meta') IS NOT NULL"
                                ).fetchone()[0]:
                return ""
            row = conn.execute("SELECT value FROM furet.editor_meta WHERE name = 'version'"
                               ).fetchone()
            version = row[0] if row else ""
        if not self._imported and self.legacy is not None and self.legacy.exists():
            with self.connect():  # copies the legacy file's settings in, once
                pass
            return self.read_version()
        return version

    def _import_legacy(self, db: _Connection) -> None:
        """Copy the console's SQLite file in, once, if these tables never held anything."""
        assert self.legacy is not None
        if db.execute("SELECT 1 FROM meta WHERE name = 'imported'").fetchone() is not None:
            return
        copied: dict[str, int] = {}
        if not any(
                db.execute(f"SELECT 1 FROM {t} LIMIT 1").fetchone() for t in _COPIED):
            with closing(sqlite3.connect(f"file:{self.legacy}?mode=ro", uri=True,
                                         timeout=5)) as old:
                for table, columns in _COPIED.items():
                    try:
                        rows = old.execute(f"SELECT {columns} FROM {table} ORDER BY rowid"
                                           ).fetchall()
                    except sqlite3.OperationalError:  # an older file without this table
                        continue
                    marks = ", ".join("?" * len(columns.split(",")))
                    db.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)
                    copied[table] = len(rows)
        db.execute("INSERT INTO meta (name, value) VALUES ('imported', ?)",
                   (str(self.legacy) if copied else "",))
        if any(copied.values()):
            self.changed(db, "furet", "import du fichier de la console", str(self.legacy),
                         None, copied)


def without_hidden(compiled: Compiled, hidden: frozenset[str]) -> Compiled:
    """`compiled` matching none of the `hidden` articles (ids), so that the total, the
    facets, the timeline and every page leave them out alike."""
    if not hidden or compiled.match is None:
        return compiled
    ids = f"{compiled.params(sorted(hidden))}::text[]"
    condition = f"NOT (a.id = ANY({ids}))"
    match = f"({compiled.match}) AND {condition}"
    if compiled.postings is not None:  # the posting lists' sums leave them out
        return replace(compiled, match=match, hidden=ids)
    return replace(compiled, match=match, filters=f"({compiled.filters}) AND {condition}")
