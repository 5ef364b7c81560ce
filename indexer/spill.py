"""A shared build's per-article bookkeeping, kept on disk so that memory stays flat.

Each worker writes one row per article it added to a file (`RowWriter`: pickled batches).
The parent merges the workers' files in source order into a SQLite table whose primary key
is the article id (`KeptRows`): the first of an id is kept, the later ones are duplicates.
The ledger then reads the kept articles and lines back from it (`Table`), so no list of
every article is ever held, in the workers or in the parent.
"""

from __future__ import annotations

import heapq
import itertools
import os
import pickle
import shutil
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

__all__ = ["KeptRows", "Row", "RowWriter", "Table", "read_rows"]

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


class Table:
    """Rows of a query on the scratch database: iterable any number of times, sized."""

    def __init__(self, db: sqlite3.Connection, query: str, count: int) -> None:
        self.db, self.query, self.count = db, query, count

    def __iter__(self) -> Iterator[Any]:
        return iter(self.db.execute(self.query))

    def __len__(self) -> int:
        return self.count


def _numbered(rows: Iterable[Row], k: int) -> Iterator[tuple[Row, int]]:
    for row in rows:
        yield row, k


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
        merged = heapq.merge(*[_numbered(rows, k) for k, rows in enumerate(streams)],
                             key=lambda item: (item[0][0], item[0][1]))
        self.db.execute("BEGIN")
        while batch := list(itertools.islice(merged, 2048)):
            yield from self._take(batch)
        self.db.execute("COMMIT")

    def _take(self, batch: list[tuple[Row, int]]) -> Iterator[tuple[int, Row, str]]:
        before = self.db.total_changes
        self.db.executemany(
            "INSERT OR IGNORE INTO kept VALUES (?, ?, ?, ?, ?, ?)",
            ((a, path, h, n, o, where) for (n, o, a, path, h, where, _, _), _ in batch))
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
        lines = [(path, digest, a) for (n, o, a, path, _, _, _, digest), _ in batch
                 if digest is not None and (n, o) not in duplicates]
        self.db.executemany("INSERT INTO lines VALUES (?, ?, ?)", lines)
        self.lines += len(lines)

    def articles(self) -> Table:
        """(id, path, hash) of every article kept."""
        # In the manifest's key order (the id; a WITHOUT ROWID table is read in it): its
        # pages fill one after the other.
        return Table(self.db, "SELECT id, path, hash FROM kept", self.kept)

    def line_rows(self) -> Table:
        """(path, line digest, id) of the articles kept that were read from JSON Lines."""
        return Table(self.db, "SELECT path, digest, id FROM lines ORDER BY path, digest",
                     self.lines)

    def close(self) -> None:
        """Close and remove the scratch folder."""
        self.db.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def make_scratch(folder: str) -> str:
    """Make the scratch folder (empty) and return it."""
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    return folder
