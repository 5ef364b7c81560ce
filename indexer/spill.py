"""A shared build's per-article bookkeeping, kept on disk so that memory stays flat.

Each worker writes one row per article it added to a file (`RowWriter`: pickled batches).
The parent merges the workers' files in source order into a SQLite table whose primary key
is the article id (`KeptRows`): the first of an id is kept, the later ones are duplicates.
The ledger then reads the kept articles and lines back from it (`Table`), so no list of
every article is ever held, in the workers or in the parent. An update keeps the ids it has
read the same way past a limit (`SpilledIds`).
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import operator
import os
import pickle
import shutil
import sqlite3
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

__all__ = ["KeptRows", "Row", "RowWriter", "SpilledIds", "SpilledRows", "Table", "read_rows"]

# (source number, record number, id, path, hash, location, number in the part, line digest)
Row = tuple[int, int, str, str, str, str, int, bytes | None]

BATCH = 10_000  # rows pickled at once: a few MB in memory, at most, per worker


class RowWriter:
    """Appends rows to a file, a batch at a time."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.count = 0
        self._batch: list[Row] = []
        self._file = open(path, "wb")  # noqa: SIM115 - closed by close()

    def add(self, row: Row) -> None:
        self._batch.append(row)
        self.count += 1
        if len(self._batch) >= BATCH:
            self._flush()

    def _flush(self) -> None:
        if self._batch:
            pickle.dump(self._batch, self._file, protocol=pickle.HIGHEST_PROTOCOL)
            self._batch = []

    def close(self) -> None:
        self._flush()
        self._file.close()


def read_rows(path: str) -> Iterator[Row]:
    """The rows a RowWriter wrote, in order."""
    with open(path, "rb") as f:
        while True:
            try:
                batch = pickle.load(f)
            except EOFError:
                return
            yield from batch


_SCHEMA = """
CREATE TABLE kept (id TEXT PRIMARY KEY, path TEXT, hash TEXT, src INTEGER, ordinal INTEGER,
                   location TEXT) WITHOUT ROWID;
CREATE TABLE lines (path TEXT, digest BLOB, id TEXT);
"""


# Paths as the manifest keys them (os.fsencode) are their UTF-8 bytes, which SQLite's CAST
# gives, when the file system's encoding is UTF-8 (paths with undecodable bytes, escaped as
# surrogates, never reach the scratch database: SQLite refuses them).
_UTF8_PATHS = sys.getfilesystemencoding() == "utf-8"


class Table:
    """Rows of a query on the scratch database: iterable any number of times, sized.

    `keyed()`, when given a second query: the same rows with their path as the manifest
    keys it (bytes), made by SQLite rather than a call of Python a row."""

    def __init__(self, db: sqlite3.Connection, query: str, count: int,
                 keyed_query: str | None = None) -> None:
        self.db, self.query, self.count = db, query, count
        self.keyed = (lambda: iter(db.execute(keyed_query))) \
            if keyed_query is not None and _UTF8_PATHS else None

    def __iter__(self) -> Iterator[Any]:
        return iter(self.db.execute(self.query))

    def __len__(self) -> int:
        return self.count


_ROW = operator.itemgetter(0)  # of a (row, worker) pair
_KEPT = operator.itemgetter(2, 3, 4, 0, 1, 5)  # id, path, hash, source, record, location
_LINE = operator.itemgetter(3, 7, 2)  # path, line digest, id


class KeptRows:
    """The articles a shared build keeps: the first of each id, in source order."""

    def __init__(self, folder: str) -> None:
        self.folder = Path(folder)
        self.db = sqlite3.connect(self.folder / "kept.sqlite", isolation_level=None)
        # Scratch: a crash throws it away with the build, so no journal and no fsync.
        self.db.execute("PRAGMA journal_mode=OFF")
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.executescript(_SCHEMA)
        self.kept = 0
        self.lines = 0

    def resolve(self, streams: list[Iterable[Row]]
                ) -> Iterator[tuple[int, Row, str]]:
        """Take in every worker's rows (each in source order); yield (worker, row, where
        the first was read) for each duplicate, in source order."""
        # (row, worker) pairs, merged on the rows themselves: no two rows share their first
        # two values (source, record), so tuples compare as the key would, without a call
        # of Python a row.
        merged = heapq.merge(*[zip(rows, itertools.repeat(k)) for k, rows in enumerate(streams)])
        self.db.execute("BEGIN")
        while batch := list(itertools.islice(merged, 2048)):
            yield from self._take(batch)
        self.db.execute("COMMIT")

    def _take(self, batch: list[tuple[Row, int]]) -> Iterator[tuple[int, Row, str]]:
        before = self.db.total_changes
        rows = list(map(_ROW, batch))
        self.db.executemany("INSERT OR IGNORE INTO kept VALUES (?, ?, ?, ?, ?, ?)",
                            map(_KEPT, rows))
        added = self.db.total_changes - before
        duplicates = set()
        if added < len(batch):  # some ids were read before: find which rows lost
            for row, k in batch:
                n, ordinal, article_id = row[:3]
                first = self.db.execute("SELECT src, ordinal, location FROM kept WHERE id = ?",
                                        (article_id,)).fetchone()
                if (first[0], first[1]) != (n, ordinal):
                    duplicates.add((n, ordinal))
                    yield k, row, first[2]
        self.kept += added
        if duplicates:
            rows = [row for row in rows if (row[0], row[1]) not in duplicates]
        lines = [line for line in map(_LINE, rows) if line[1] is not None]
        self.db.executemany("INSERT INTO lines VALUES (?, ?, ?)", lines)
        self.lines += len(lines)

    def articles(self) -> Table:
        """(id, path, hash) of every article kept."""
        # In the manifest's key order (the id; a WITHOUT ROWID table is read in it): its
        # pages fill one after the other.
        return Table(self.db, "SELECT id, path, hash FROM kept", self.kept,
                     "SELECT id, CAST(path AS BLOB), hash FROM kept")

    def line_rows(self) -> Table:
        """(path, line digest, id) of the articles kept that were read from JSON Lines."""
        # (A path's text and its UTF-8 bytes sort alike: SQLite compares both bytewise.)
        return Table(self.db, "SELECT path, digest, id FROM lines ORDER BY path, digest",
                     self.lines, "SELECT CAST(path AS BLOB), digest, id FROM lines"
                     " ORDER BY path, digest")

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
