"""A shared build's per-article bookkeeping, kept on disk so that memory stays flat.

Each worker writes one row per article it added to a SQLite file of its own (`RowWriter`).
The parent merges the workers' files into a table whose primary key is the article id
(`KeptRows`): of the rows of one id, the first in source order is kept, the later ones are
duplicates. SQLite does the merging, the workers' files attached to the scratch database
(it took a call of Python a row, about 13 us: 4 s for 300,000 articles, longer than the
workers' last segment, while the parent alone waited for it). The ledger then reads the
kept articles and lines back from it (`Table`), or the manifest copies them from it
(`Table.attachable`), so no list of every article is ever held, in the workers or in the
parent. An update keeps the ids it has read the same way past a limit (`SpilledIds`).
"""

from __future__ import annotations

import contextlib
import heapq
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["KeptRows", "Row", "RowWriter", "SpilledIds", "SpilledRows", "Table", "read_rows"]

# (source number, record number, id, path, hash, location, number in the part, line digest)
Row = tuple[int, int, str, str, str, str, int, bytes | None]

BATCH = 10_000  # rows written at once: a few MB in memory, at most, per worker

# A worker's rows, in the order it read them. Paths are kept as the manifest keys them
# (os.fsencode: a path's undecodable bytes included).
_ROWS = """
CREATE TABLE rows (src INTEGER, ordinal INTEGER, id TEXT, path BLOB, hash TEXT,
                   location TEXT, number INTEGER, digest BLOB)
"""
_COLUMNS = "src, ordinal, id, path, hash, location, number, digest"


def _scratch_connection(path: str | os.PathLike[str]) -> sqlite3.Connection:
    """A connection to a scratch database: a crash throws it away with the build, so no
    journal and no fsync."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("PRAGMA synchronous=OFF")
    return db


class RowWriter:
    """Appends rows to a SQLite file of their own, a batch at a time."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.count = 0
        self._batch: list[Row] = []
        self._paths: dict[str, bytes] = {}  # a path's key, once per file
        self.db = _scratch_connection(path)
        self.db.execute(_ROWS)

    def add(self, row: Row) -> None:
        self._batch.append(row)
        self.count += 1
        if len(self._batch) >= BATCH:
            self._flush()

    def _key(self, path: str) -> bytes:
        key = self._paths.get(path)
        if key is None:
            key = self._paths[path] = os.fsencode(path)
        return key

    def _flush(self) -> None:
        if self._batch:
            key = self._key
            with self.db:
                self.db.execute("BEGIN")
                self.db.executemany("INSERT INTO rows VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                                    [(n, o, i, key(p), h, w, k, d)
                                     for n, o, i, p, h, w, k, d in self._batch])
            self._batch = []

    def close(self) -> None:
        self._flush()
        self.db.close()


def _row(values: tuple[Any, ...]) -> Row:
    n, ordinal, article_id, path, digest_hash, where, number, digest = values
    return (n, ordinal, article_id, os.fsdecode(path), digest_hash, where, number, digest)


def read_rows(path: str) -> Iterator[Row]:
    """The rows a RowWriter wrote, in order."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    try:
        rows = db.execute(f"SELECT {_COLUMNS} FROM rows ORDER BY rowid")  # noqa: S608
        while batch := rows.fetchmany(4096):
            yield from map(_row, batch)
    finally:
        db.close()


# The kept articles, in id order. Paths are keyed as the manifest keys them (bytes).
_KEPT = """
CREATE TABLE kept (id TEXT PRIMARY KEY, path BLOB, hash TEXT, src INTEGER, ordinal INTEGER,
                   location TEXT, digest BLOB) WITHOUT ROWID
"""


class Table:
    """Rows of a query on the scratch database: iterable any number of times, sized.

    `attachable`: (the database's file, the query, its table named `{schema}.kept`, its
    paths as the manifest keys them: bytes): a store that writes SQLite attaches the file
    and copies the rows with one statement, no call of Python a row. Iterated, the rows
    give their paths as text."""

    def __init__(self, db: sqlite3.Connection, file: str, query: str, count: int,
                 path_column: int) -> None:
        self.db, self.query, self.count = db, query, count
        self.path_column = path_column
        self.attachable = (file, query)

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        column = self.path_column
        for row in self.db.execute(self.query.format(schema="main")):
            yield (*row[:column], os.fsdecode(row[column]), *row[column + 1:])

    def __len__(self) -> int:
        return self.count


class KeptRows:
    """The articles a shared build keeps: the first of each id, in source order."""

    def __init__(self, folder: str) -> None:
        self.folder = Path(folder)
        self.path = str(self.folder / "kept.sqlite")
        self.db = _scratch_connection(self.path)
        self.db.execute(_KEPT)
        self.kept = 0
        self.lines = 0

    def merge(self, files: list[str]) -> list[tuple[int, Row, str]]:
        """Take in every worker's rows (RowWriter files, each in source order); return
        (worker, row, where the first was read) for each duplicate, in source order."""
        db = self.db
        for k, path in enumerate(files):
            db.execute(f"ATTACH DATABASE ? AS w{k}", (path,))
        try:
            every = " UNION ALL ".join(f"SELECT {k} AS worker, {_COLUMNS} FROM w{k}.rows"
                                       for k in range(len(files)))
            (total,) = db.execute(f"SELECT count(*) FROM ({every})").fetchone()  # noqa: S608
            # In id order, then source order: the first row of an id is inserted first and
            # kept, and the table's pages fill one after the other.
            with db:
                db.execute("BEGIN")
                db.execute("INSERT OR IGNORE INTO kept SELECT id, path, hash, src, ordinal, "
                           f"location, digest FROM ({every}) ORDER BY id, src, ordinal")  # noqa: S608
            self.kept = db.execute("SELECT count(*) FROM kept").fetchone()[0]
            self.lines = db.execute(
                "SELECT count(*) FROM kept WHERE digest IS NOT NULL").fetchone()[0]
            if self.kept == total:
                return []
            found = db.execute(
                f"SELECT r.worker, {', '.join('r.' + c for c in _COLUMNS.split(', '))}, "
                f"k.location FROM ({every}) AS r JOIN kept AS k ON k.id = r.id "  # noqa: S608
                "WHERE r.src != k.src OR r.ordinal != k.ordinal ORDER BY r.src, r.ordinal")
            return [(values[0], _row(values[1:9]), values[9]) for values in found]
        finally:
            for k in range(len(files)):
                db.execute(f"DETACH DATABASE w{k}")

    def articles(self) -> Table:
        """(id, path, hash) of every article kept."""
        # In the manifest's key order (the id; a WITHOUT ROWID table is read in it): its
        # pages fill one after the other.
        return Table(self.db, self.path, "SELECT id, path, hash FROM {schema}.kept",
                     self.kept, 1)

    def line_rows(self) -> Table:
        """(path, line digest, id) of the articles kept that were read from JSON Lines."""
        # (Paths are bytes here: they sort as the manifest's keys.)
        return Table(self.db, self.path, "SELECT path, digest, id FROM {schema}.kept WHERE "
                     "digest IS NOT NULL ORDER BY path, digest", self.lines, 0)

    def close(self) -> None:
        """Close and remove the scratch folder."""
        self.db.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def make_scratch(folder: str) -> str:
    """Make the scratch folder (empty) and return it."""
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    return folder


BLOOM_BITS = 1 << 24
_BLOOM_MASK = BLOOM_BITS - 1


class _Runs:
    """Sorted runs in a scratch SQLite database: each spill writes its rows, sorted on
    their first `key` columns, into a table of its own (appending in key order is quick;
    inserting into one growing table at random places, with a small page cache, took
    most of an update's time). Created on the first spill."""

    def __init__(self, folder: str, key: int) -> None:
        self.folder = folder
        self.key = key
        self.db: sqlite3.Connection | None = None
        self.path = ""
        self.tables: list[str] = []
        self.count = 0

    def write(self, rows: list[tuple[Any, ...]]) -> None:
        """One run: `rows` (encoded, sorted on the key; of equal keys the last kept)."""
        if self.db is None:
            self.db, self.path = _scratch_db(self.folder)
        table = f"run{len(self.tables)}"
        width = len(rows[0])
        columns = ", ".join(f"c{n}" for n in range(width))
        keys = ", ".join(f"c{n}" for n in range(self.key))
        with self.db:
            self.db.execute("BEGIN")
            self.db.execute(f"CREATE TABLE {table} ({columns}, PRIMARY KEY ({keys})) "
                            "WITHOUT ROWID")
            self.db.executemany(f"INSERT OR REPLACE INTO {table} VALUES "
                                f"({', '.join('?' * width)})", rows)
        self.tables.append(table)
        self.count += len(rows)

    def find(self, key: tuple[Any, ...]) -> tuple[Any, ...] | None:
        """The row with this key in the latest run holding it, or None."""
        assert self.db is not None
        where = " AND ".join(f"c{n} = ?" for n in range(self.key))
        for table in reversed(self.tables):
            row = self.db.execute(f"SELECT * FROM {table} WHERE {where}",  # noqa: S608
                                  key).fetchone()
            if row is not None:
                return tuple(row)
        return None

    def merged(self) -> Iterator[tuple[Any, ...]]:
        """Every run's rows in key order; of equal keys, the latest run's only."""
        assert self.db is not None
        streams = [_numbered_rows(self.db, table, n) for n, table in enumerate(self.tables)]
        last: tuple[Any, ...] | None = None
        for row, _ in heapq.merge(*streams, key=lambda item: (item[0][:self.key], item[1])):
            if last is not None and last[:self.key] != row[:self.key]:
                yield last
            last = row
        if last is not None:
            yield last

    def close(self) -> None:
        _drop_scratch(self.db, self.path, self.folder)
        self.db = None


def _numbered_rows(db: sqlite3.Connection, table: str, n: int
                   ) -> Iterator[tuple[tuple[Any, ...], int]]:
    rows = db.execute(f"SELECT * FROM {table}")  # noqa: S608 - a WITHOUT ROWID table: key order
    while batch := rows.fetchmany(4096):
        for row in batch:
            yield tuple(row), n


class SpilledIds:
    """{article id: where it was read} for an update: up to `limit` entries in memory,
    then sorted runs on disk in `folder` (ids are added once and never changed), so that
    a run over a million articles does not hold a million ids."""

    def __init__(self, folder: str, limit: int) -> None:
        self.limit = max(1, limit)
        self.memory: dict[str, str] = {}
        self.runs = _Runs(folder, 1)
        # A Bloom filter of the ids on disk (2 MB): most ids asked about were never read,
        # and it answers them without asking SQLite (1.4 % false positives at a million).
        self.bloom = bytearray(BLOOM_BITS // 8)

    def __contains__(self, key: object) -> bool:
        return key in self.memory or self._stored(key) is not None

    def __getitem__(self, key: str) -> str:
        value = self.memory.get(key)
        if value is None:
            value = self._stored(key)
            if value is None:
                raise KeyError(key)
        return value

    def get(self, key: str) -> str | None:
        value = self.memory.get(key)
        return value if value is not None else self._stored(key)

    def __setitem__(self, key: str, value: str) -> None:
        self.memory[key] = value
        if len(self.memory) >= self.limit:
            self._spill()

    def __len__(self) -> int:
        return len(self.memory) + self.runs.count

    def held(self) -> dict[str, str] | None:
        """Every entry, when none has gone to disk; else None."""
        return None if self.runs.tables else self.memory

    def _stored(self, key: object) -> str | None:
        if not self.runs.tables or not isinstance(key, str):
            return None
        h = hash(key)
        bloom = self.bloom
        one, two = h & _BLOOM_MASK, (h >> 32) & _BLOOM_MASK
        if not (bloom[one >> 3] >> (one & 7)) & 1 or not (bloom[two >> 3] >> (two & 7)) & 1:
            return None
        row = self.runs.find((_bytes(key),))
        return _text(row[1]) if row else None

    def _spill(self) -> None:
        if not self.memory:
            return
        bloom = self.bloom
        for key in self.memory:
            h = hash(key)
            one, two = h & _BLOOM_MASK, (h >> 32) & _BLOOM_MASK
            bloom[one >> 3] |= 1 << (one & 7)
            bloom[two >> 3] |= 1 << (two & 7)
        self.runs.write(sorted((_bytes(k), _bytes(v)) for k, v in self.memory.items()))
        self.memory.clear()

    def sorted_keys(self) -> Iterator[str]:
        """Every id, in order (code point order, as SQLite sorts text)."""
        if not self.runs.tables:
            yield from sorted(self.memory)
            return
        self._spill()
        for key, _ in self.runs.merged():
            yield _text(key)

    def close(self) -> None:
        self.runs.close()
        self.memory.clear()


class SpilledRows:
    """An update's ledger rows (a list's `append`, `len` and iteration): up to `limit` in
    memory, then sorted runs on disk keyed on the first `key` columns, so that re-reading
    a file of a million lines does not hold a million rows. Read back sorted by the key,
    the last row of a key kept (as the manifest's INSERT OR REPLACE would)."""

    def __init__(self, folder: str, limit: int, key: int) -> None:
        self.limit = max(1, limit)
        self.key = key
        self.rows: list[tuple[Any, ...]] = []
        self.runs = _Runs(folder, key)
        self.text: list[bool] = []  # which columns are str (stored as bytes: see _bytes)

    def append(self, row: tuple[Any, ...]) -> None:
        self.rows.append(row)
        if len(self.rows) >= self.limit:
            self._spill()

    def __len__(self) -> int:
        return len(self.rows) + self.runs.count

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        if not self.runs.tables:
            return iter(sorted(self.rows, key=lambda row: row[:self.key]))
        self._spill()
        return (tuple(_text(v) if text else v for v, text in zip(row, self.text, strict=True))
                for row in self.runs.merged())

    def _spill(self) -> None:
        if not self.rows:
            return
        if not self.text:
            self.text = [isinstance(v, str) for v in self.rows[0]]
        text = self.text
        self.runs.write(sorted(
            (tuple(_bytes(v) if t else v for v, t in zip(row, text, strict=True))
             for row in self.rows), key=lambda row: row[:self.key]))  # stable: last wins
        self.rows = []

    def close(self) -> None:
        self.runs.close()
        self.rows = []


def _bytes(text: str) -> bytes:
    """UTF-8, lone surrogates included (a path's undecodable bytes, an id's bad escape):
    SQLite would refuse them as text."""
    return text.encode("utf-8", "surrogatepass")


def _text(data: bytes) -> str:
    return data.decode("utf-8", "surrogatepass")


def _scratch_db(folder: str) -> tuple[sqlite3.Connection, str]:
    """A new scratch database in `folder`: no journal, no fsync, a small page cache."""
    os.makedirs(folder, exist_ok=True)
    handle, path = tempfile.mkstemp(dir=folder, suffix=".sqlite")
    os.close(handle)
    db = sqlite3.connect(path, isolation_level=None)
    with contextlib.suppress(OSError):  # where a file in use can be removed (POSIX),
        os.unlink(path)  # nothing is left after a crash; else _drop_scratch removes it
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("PRAGMA cache_size=-8192")
    return db, path


def _drop_scratch(db: sqlite3.Connection | None, path: str, folder: str) -> None:
    if db is None:
        return
    db.close()
    with contextlib.suppress(OSError):
        os.unlink(path)
    with contextlib.suppress(OSError):
        os.rmdir(folder)  # once empty: another scratch may still use it
