"""The manifest: which file each indexed article came from, so `update` reads only what changed.

A SQLite database in each build folder, written by the one process holding the write lock:

    files(path, size, mtime_ns, digest, rejected)   one row per article file read
    articles(id, path, hash)                        one row per indexed article
    lines(path, digest, id)                         the line of each JSON Lines article, so
                                                    unchanged lines of a changed file are
                                                    not decoded again
    meta(key, value)                                generation (the Whoosh generation it
                                                    describes), schema_version, timestamps,
                                                    line_digest (the kind of the lines'
                                                    digests; absent: BLAKE2b, as before
                                                    2 December 2026)

The manifest is committed right after the Whoosh commit. If a crash comes between the two,
its generation is behind the index's: it is then rebuilt from the index's stored fields
and every file is read again once, so the index converges to the sources.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from itertools import compress
from operator import itemgetter
from pathlib import Path
from typing import Any

import numpy as np

from search.known_lines import (
    BLAKE2B_LINES,
    DIGEST_BYTES,
    LINE_DIGEST,
    KnownDigests,
    KnownLines,
)
from search.whoosh.layout import MANIFEST
from search.writer import FileState

__all__ = ["Manifest"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS files (
    path BLOB PRIMARY KEY, size INTEGER, mtime_ns INTEGER, digest TEXT, rejected INTEGER
);
CREATE TABLE IF NOT EXISTS articles (id TEXT PRIMARY KEY, path BLOB, hash TEXT) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS lines (path BLOB, digest BLOB, id TEXT, PRIMARY KEY (path, digest))
    WITHOUT ROWID;
"""
# Tables WITHOUT ROWID are stored once, in their key's order (a rowid table kept its key a
# second time, in an index): 21.3 → about 12 MB for 90,000 articles. Manifests made
# before keep their tables (and an unused index on articles.path); the queries are the same.


def _read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection; on a full disk, where SQLite cannot even create its shared
    memory file, one that reads the file as it is (immutable)."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    try:
        db.execute("SELECT count(*) FROM meta").fetchone()
        return db
    except sqlite3.OperationalError:
        db.close()
        return sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True,
                               isolation_level=None)


def _in_order(rows: Iterator[tuple[Any, ...]], unsorted: bool, key: int
              ) -> Iterable[tuple[Any, ...]]:
    """`rows` sorted on their first `key` values if `unsorted` (a list), else as they come."""
    # (itemgetter in C, not a Python call a row; one value orders as its 1-tuple does)
    return sorted(rows, key=itemgetter(*range(key))) if unsorted else rows


class _Keys(dict[str, bytes]):
    """`_key` of each path, worked out once (a build's rows share a few paths)."""

    def __missing__(self, path: str) -> bytes:
        found = self[path] = _key(path)
        return found


def _key(path: str) -> bytes:
    return os.fsencode(path)


def _attachable(rows: Iterable[tuple[Any, ...]]) -> tuple[str, str] | None:
    """(SQLite file, query) giving the same rows with their paths keyed (bytes), in key
    order, when they can (the rows a shared build keeps on disk: `attachable`), else None.
    The query names its table `{schema}.<table>`."""
    return getattr(rows, "attachable", None)


def _batched(rows: sqlite3.Cursor) -> Iterator[Any]:
    while batch := rows.fetchmany(4096):
        yield from batch


# A file's lines (and its articles' ids) are read as one value a column, joined by SQLite
# (`group_concat`), when it has at most this many: 90,078 lines' digests and ids came in
# about 20 ms instead of 40 a row at a time, with none of the Python work on each row's
# tuple; past it, a row at a time, in batches (the values would be hundreds of MB).
CONCATENATED_LINES = 1_000_000
_ID_BYTES = "CAST(id AS BLOB)"
# (a text joined from blobs holds their bytes: read back as a blob, they come unchanged)
_JOINED = "CAST(group_concat({}, '') AS BLOB)"


def _split(joined: bytes | None, lengths: str | None, count: int) -> list[bytes] | None:
    """`joined` cut into `count` pieces of the comma-separated `lengths`; None when they
    do not add up to it."""
    if not count:
        return []
    if joined is None or lengths is None:
        return None
    # (in C: a Python int a length took 9 ms for 90,078)
    sizes = np.fromstring(lengths, dtype=np.int64, sep=",")
    if len(sizes) != count or int(sizes.sum()) != len(joined):
        return None
    ends = np.cumsum(sizes).tolist()
    return [joined[start:end] for start, end in zip([0, *ends[:-1]], ends, strict=True)]


def _concatenated_lines(db: sqlite3.Connection, key: bytes, count: int | None = None
                        ) -> tuple[bytes, list[bytes]] | None:
    """The digests (joined) and the ids' UTF-8 bytes of the lines of `key`, in digest
    order (one query: each row goes to every column in turn), each column joined by
    SQLite; None past CONCATENATED_LINES lines, or when a row is not a 16-byte digest and
    an id (read a row at a time then). `count`: the number of lines, when known."""
    if count is None:
        (count,) = db.execute("SELECT count(*) FROM lines WHERE path = ?", (key,)).fetchone()
    if count > CONCATENATED_LINES:
        return None
    if not count:
        return b"", []
    blobs, shortest, longest, named, digests, ids, lengths = db.execute(
        "SELECT sum(typeof(digest) = 'blob'), min(length(digest)), max(length(digest)), "
        f"count(id), {_JOINED.format('digest')}, {_JOINED.format(_ID_BYTES)}, "
        f"group_concat(length({_ID_BYTES})) FROM lines WHERE path = ?", (key,)).fetchone()
    if (blobs, named, shortest, longest) != (count, count, DIGEST_BYTES, DIGEST_BYTES) \
            or len(digests) != count * DIGEST_BYTES:
        return None
    found = _split(ids, lengths, count)
    return None if found is None else (digests, found)


def _fetched_lines(db: sqlite3.Connection, key: bytes) -> tuple[bytes, list[bytes]] | None:
    """`_concatenated_lines` a batch of rows at a time (any number of lines)."""
    lines = db.execute(f"SELECT digest, {_ID_BYTES} FROM lines WHERE path = ?", (key,))
    blocks: list[bytes] = []  # the digests joined a batch at a time (16 MB a million)
    ids: list[bytes] = []
    while batch := lines.fetchmany(4096):
        found, names = zip(*batch, strict=True)
        if {*map(type, found)} - {bytes} or {*map(len, found)} - {DIGEST_BYTES}:
            return None
        blocks.append(b"".join(found))
        ids.extend(names)
    if {*map(type, ids)} - {bytes}:
        return None
    return b"".join(blocks), ids


def _concatenated_ids(db: sqlite3.Connection, key: bytes) -> list[bytes] | None:
    """The UTF-8 bytes of the ids of the articles read from `key`, joined by SQLite; None
    past CONCATENATED_LINES of them (or when they do not add up)."""
    count, ids, lengths = db.execute(
        f"SELECT count(*), {_JOINED.format(_ID_BYTES)}, group_concat(length({_ID_BYTES})) "
        "FROM articles WHERE path = ?", (key,)).fetchone()
    return None if count > CONCATENATED_LINES else _split(ids, lengths, count)


def _article_ids(db: sqlite3.Connection, key: bytes, read: list[bytes] | None
                 ) -> Iterator[list[bytes]]:
    """The UTF-8 bytes of the ids of the articles read from `key`, 4,096 at a time: those
    `read` already (`_concatenated_ids`), else a batch of rows at a time."""
    if read is not None:
        for start in range(0, len(read), 4096):
            yield read[start:start + 4096]
        return
    rows = db.execute(f"SELECT {_ID_BYTES} FROM articles WHERE path = ?", (key,))
    while batch := rows.fetchmany(4096):
        yield [name for (name,) in batch]


def _all_own(ids: list[bytes], hashes: np.ndarray, order: np.ndarray,
             names: list[bytes]) -> bool:
    """Whether the articles' ids `names` are the lines' `ids` (whose hashes, all distinct,
    are `hashes` sorted, `order` their rows), checked at once: the same sorted hashes, and
    the ids of each hash equal (the usual case, a file whose every line is its article's)."""
    if len(names) != len(ids) or len(ids) < 2:
        return False
    asked = np.fromiter(map(hash, names), dtype=np.int64, count=len(names))
    by_hash = np.argsort(asked)
    if not np.array_equal(asked[by_hash], hashes):
        return False
    # (itemgetter picks them in C: a tuple each)
    return bool(itemgetter(*order.tolist())(ids) == itemgetter(*by_hash.tolist())(names))


class Manifest:
    """The manifest of one build folder."""

    def __init__(self, build: Path, *, readonly: bool = False) -> None:
        self.path = build / MANIFEST
        if readonly:  # status and check: read without writing anything (a full disk, say)
            self.db = _read_only(self.path)
            return
        self.db = sqlite3.connect(self.path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(_SCHEMA)
        if self.get("line_digest") is None and self.db.execute(
                "SELECT 1 FROM lines LIMIT 1").fetchone() is None:
            # No line recorded yet (a new build's manifest): its lines get today's digest.
            # A manifest holding lines without this key keeps BLAKE2b (`line_digest_kind`).
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('line_digest', ?)",
                            (LINE_DIGEST,))

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Manifest:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # meta

    def get(self, key: str, default: str | None = None) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    @property
    def generation(self) -> int:
        return int(self.get("generation", "-1") or -1)

    @property
    def line_digest_kind(self) -> str:
        """The kind of digest of the recorded lines (search/known_lines.py): a manifest
        begun before 2 December 2026 holds BLAKE2b's, and its lines keep being hashed so
        (its unchanged lines are found again; nothing is read again for an upgrade)."""
        return self.get("line_digest") or BLAKE2B_LINES

    def _with_kind(self, known: Any) -> Any:
        if known is not None:
            known.digest_kind = self.line_digest_kind
        return known

    # reads: the whole manifest fits in memory (90,000 articles are a few MB)

    def files(self) -> dict[str, FileState]:
        """{path: state} of every file read."""
        rows = self.db.execute("SELECT path, size, mtime_ns, digest, rejected FROM files")
        return {os.fsdecode(path): FileState(*rest) for path, *rest in rows}

    def articles(self) -> dict[str, tuple[str, str]]:
        """{id: (path, hash)} of every indexed article."""
        rows = self.db.execute("SELECT id, path, hash FROM articles")
        return {i: (os.fsdecode(path), h) for i, path, h in rows}

    def lines_of(self, path: str) -> dict[bytes, str]:
        """{line digest: id} of the JSON Lines articles read from `path`."""
        rows = self.db.execute("SELECT digest, id FROM lines WHERE path = ?", (_key(path),))
        return self._with_kind(KnownDigests(rows.fetchall()))

    # reads for an update, one question at a time: a million articles' rows held at once
    # took more than a GB

    def counts(self) -> dict[str, int]:
        """{path: number of articles read from it}."""
        rows = self.db.execute("SELECT path, count(*) FROM articles GROUP BY path")
        return {os.fsdecode(path): n for path, n in rows}

    def owner(self, article_id: str) -> tuple[str, str] | None:
        """(path, hash) of an article, or None."""
        row = self.db.execute("SELECT path, hash FROM articles WHERE id = ?",
                              (article_id,)).fetchone()
        return (os.fsdecode(row[0]), row[1]) if row else None

    def ids_of(self, path: str) -> Iterator[str]:
        """Ids of the articles read from `path`, in id order, a batch at a time."""
        rows = self.db.execute("SELECT id FROM articles WHERE path = ? ORDER BY id",
                               (_key(path),))
        while batch := rows.fetchmany(4096):
            for (article_id,) in batch:
                yield article_id

    def own_lines(self, path: str, fits: int | None = None) -> Mapping[bytes, str]:
        """{line digest: id} of the lines of `path` whose article is still read from it:
        read at once into a dict when the file has at most `fits` lines, else looked up
        one at a time (two look-ups a line cost about 9 us, a third of an update of 1 %
        of 90,000 articles)."""
        key = _key(path)
        if fits is not None:
            (count,) = self.db.execute("SELECT count(*) FROM lines WHERE path = ?",
                                       (key,)).fetchone()
            if count <= fits:
                return self._with_kind(KnownDigests(_OwnLines.rows(self.db, key)))
        return self._with_kind(_OwnLines(self.db, key))

    def known_lines(self, path: str, most: int, held: int = 0) -> KnownLines | None:
        """The lines of `path` (digest, id) whose article is still read from it, in arrays
        (search/known_lines.py), with the digests of its other lines; None past `most`
        lines or when they do not fit the arrays.

        Whether a line's article is still read from `path` is asked of `articles` line by
        line (a join); when the file holds at least a quarter of the articles, its lines
        and the ids of its articles are read with one scan each instead and matched by
        hash in numpy (`_own_lines_by_scan`: a million lines 4.0 against about 1.5 s).
        `held` is no longer needed (that scan once kept the ids in a set of at most
        `held`); it is accepted as before."""
        key = _key(path)
        (count,) = self.db.execute("SELECT count(*) FROM lines WHERE path = ?",
                                   (key,)).fetchone()
        if count > most:
            return None
        if count * 4 >= self.count() and \
                (table := self._own_lines_by_scan(key, count)) is not None:
            return self._with_kind(table)
        return self._with_kind(self._own_lines_by_join(key))

    def _own_lines_by_join(self, key: bytes) -> KnownLines | None:
        rows = self.db.execute(
            "SELECT l.digest, CAST(l.id AS BLOB), coalesce(a.path = l.path, 0) FROM lines "
            "AS l LEFT JOIN articles AS a ON a.id = l.id WHERE l.path = ?", (key,))
        return KnownLines.from_batches(iter(lambda: rows.fetchmany(4096), []))

    def _own_lines_by_scan(self, key: bytes, count: int | None = None) -> KnownLines | None:
        """`known_lines` without the join: the file's lines read at once, the ids of its
        articles then a batch at a time, each found among the lines' ids by its hash (8
        bytes a line, no set of a million ids) and compared with it; None when this does
        not apply (two of the lines' ids of one hash, a row not of the expected types):
        the join decides then. `count`: the file's lines, when known."""
        read = _concatenated_lines(self.db, key, count)
        if read is None:
            read = _fetched_lines(self.db, key)
        if read is None:
            return None
        digests, ids = read
        count = len(ids)
        hashes = np.fromiter(map(hash, ids), dtype=np.int64, count=count)
        order = np.argsort(hashes, kind="stable")
        hashes = hashes[order]
        if count > 1 and bool(np.any(hashes[1:] == hashes[:-1])):
            return None
        own = np.zeros(count, dtype=bool)
        articles = _concatenated_ids(self.db, key) if count else []
        if articles is not None and _all_own(ids, hashes, order, articles):
            own[:] = True
        for names in _article_ids(self.db, key, articles) if count and not own.all() else ():
            asked = np.fromiter(map(hash, names), dtype=np.int64, count=len(names))
            # (searched in increasing order: each search starts where the last ended, and
            # the hashes it reads are in the processor's cache; 0.58 -> 0.24 s a million)
            by_hash = np.argsort(asked)
            at = np.empty(len(names), dtype=np.int64)
            at[by_hash] = np.searchsorted(hashes, asked[by_hash])
            at = np.minimum(at, count - 1)
            hit = hashes[at] == asked
            rows = order[at[hit]].tolist()
            theirs = list(compress(names, hit.tolist()))
            mine = [ids[row] for row in rows]
            if mine != theirs:  # a hash shared by two ids: only the equal ones are own
                rows = [row for row, a, b in zip(rows, mine, theirs, strict=True) if a == b]
            own[rows] = True
        if bool(own.all()):  # (the usual case: the arrays as they are, ids sorted already)
            table = KnownLines(digests, ids, id_order=(hashes, order))
        else:
            as_array = np.frombuffer(digests, dtype=f"S{DIGEST_BYTES}")
            table = KnownLines(as_array[own].tobytes(),
                               [ids[row] for row in np.flatnonzero(own).tolist()],
                               [digests[row * DIGEST_BYTES:(row + 1) * DIGEST_BYTES]
                                for row in np.flatnonzero(~own).tolist()])
        return table if table.in_order() else None

    def count(self) -> int:
        return self.db.execute("SELECT count(*) FROM articles").fetchone()[0]

    def rejected_files(self) -> int:
        return self.db.execute("SELECT count(*) FROM files WHERE rejected > 0").fetchone()[0]

    # writes: all in one transaction, committed after the Whoosh commit

    def apply(
        self,
        *,
        generation: int | None,
        files: Iterable[tuple[str, int, int, str, int]] = (),
        forget_files: Iterable[str] = (),
        articles: Iterable[tuple[str, str, str]] = (),
        forget_articles: Iterable[str] = (),
        lines: Iterable[tuple[str, bytes, str]] = (),
        forget_lines_of: Iterable[str] = (),
        forget_lines: Iterable[tuple[str, bytes]] = (),
        meta: dict[str, str] | None = None,
    ) -> None:
        """Record one committed generation's changes atomically (`generation` None: the
        rows only, the generation recorded stays as it was)."""
        forget_files = list(forget_files)
        forget_articles = list(forget_articles)
        copied = {name: found for name, rows in (("articles", articles), ("lines", lines))
                  if (found := _attachable(rows)) is not None}
        schemas: dict[str, str] = {}  # file -> the name it is attached as
        try:
            for file, _ in copied.values():  # (ATTACH cannot be run in a transaction)
                if file not in schemas:
                    schemas[file] = f"copied{len(schemas)}"
                    self.db.execute("ATTACH DATABASE ? AS " + schemas[file], (file,))
            with self.db:
                self.db.execute("BEGIN IMMEDIATE")
                self._apply(files, forget_files, articles, forget_articles, lines,
                            forget_lines_of, forget_lines, meta, generation,
                            {name: query.format(schema=schemas[file])
                             for name, (file, query) in copied.items()})
        finally:
            for schema in schemas.values():
                self.db.execute("DETACH DATABASE " + schema)

    def _apply(self, files: Iterable[tuple[str, int, int, str, int]], forget_files: list[str],
               articles: Iterable[tuple[str, str, str]], forget_articles: list[str],
               lines: Iterable[tuple[str, bytes, str]], forget_lines_of: Iterable[str],
               forget_lines: Iterable[tuple[str, bytes]], meta: dict[str, str] | None,
               generation: int | None, copied: dict[str, str]) -> None:
        self.db.executemany(
            "DELETE FROM lines WHERE path = ?",
            ((_key(p),) for p in [*forget_files, *forget_lines_of]))
        self.db.executemany("DELETE FROM lines WHERE path = ? AND digest = ?",
                            ((_key(p), d) for p, d in forget_lines))
        self._forget_lines_of_articles(forget_articles)
        # In key order (a stable sort: of two rows with one key the last still wins): the
        # tables are stored in key order, and inserting in it took 30 % less time. Rows
        # kept on disk come in that order already, copied by SQLite (a shared build's:
        # copied one by one through Python, 300,000 articles' rows took 4.6 s of CPU).
        if "lines" in copied:
            self.db.execute("INSERT OR REPLACE INTO lines " + copied["lines"])
        else:
            keys = _Keys()
            self.db.executemany("INSERT OR REPLACE INTO lines VALUES (?, ?, ?)",
                                _in_order(((keys[p], d, i) for p, d, i in lines),
                                          isinstance(lines, list), 2))
        self.db.executemany(
            "DELETE FROM files WHERE path = ?", ((_key(p),) for p in forget_files)
        )
        self.db.executemany(
            "INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?)",
            ((_key(p), size, mtime, digest, rej) for p, size, mtime, digest, rej in files),
        )
        self.db.executemany(
            "DELETE FROM articles WHERE id = ?", ((i,) for i in forget_articles)
        )
        if "articles" in copied:
            self.db.execute("INSERT OR REPLACE INTO articles " + copied["articles"])
        else:
            keys = _Keys()
            self.db.executemany(
                "INSERT OR REPLACE INTO articles VALUES (?, ?, ?)",
                _in_order(((i, keys[p], h) for i, p, h in articles),
                          isinstance(articles, list), 1),
            )
        if generation is not None:
            meta = {**(meta or {}), "generation": str(generation)}
        for key, value in (meta or {}).items():
            self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def add(self, *, articles: Iterable[tuple[str, str, str]] = (),
            lines: Iterable[tuple[str, bytes, str]] = ()) -> None:
        """Record articles and lines ahead of the generation they belong to (a new build's:
        its folder is not live until the build is committed), in one transaction."""
        self.apply(generation=None, articles=articles, lines=lines)

    def _forget_lines_of_articles(self, ids: list[str]) -> None:
        """Drop the lines of these articles in one pass over `lines`: it has no index on
        `id`, and a DELETE per article read the whole table each time (a million lines)."""
        if not ids:
            return
        self.db.execute("CREATE TEMP TABLE IF NOT EXISTS forgotten (id TEXT PRIMARY KEY)"
                        " WITHOUT ROWID")
        self.db.execute("DELETE FROM temp.forgotten")
        self.db.executemany("INSERT OR IGNORE INTO temp.forgotten VALUES (?)",
                            ((i,) for i in ids))
        self.db.execute("DELETE FROM lines WHERE id IN (SELECT id FROM temp.forgotten)")
        self.db.execute("DELETE FROM temp.forgotten")

    def reset(self, generation: int, articles: Iterable[tuple[str, str, str]]) -> None:
        """Forget every file and rebuild the article table (after a crash left it behind)."""
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute("DELETE FROM files")
            self.db.execute("DELETE FROM articles")
            self.db.execute("DELETE FROM lines")  # every file is read again: today's digest
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('line_digest', ?)",
                            (LINE_DIGEST,))
            self.db.executemany(
                "INSERT OR REPLACE INTO articles VALUES (?, ?, ?)",
                ((i, _key(p), h) for i, p, h in articles),
            )
            self.db.execute(
                "INSERT OR REPLACE INTO meta VALUES ('generation', ?)", (str(generation),)
            )


class _OwnLines(Mapping[bytes, str]):
    """Manifest.own_lines: a mapping that asks SQLite for each digest (the last answer is
    kept: a reader asks `in`, then for the value).

    The lines whose article is now read from another file (or is not indexed) are few:
    they are listed once, up to FOREIGN_LIMIT, and each digest is then one look-up in
    `lines` alone; past the limit each look-up checks the article's file too."""

    _ONE = "SELECT id FROM lines WHERE path = ? AND digest = ?"
    _CHECKED = ("SELECT l.id FROM lines AS l JOIN articles AS a ON a.id = l.id "
                "WHERE l.path = ? AND l.digest = ? AND a.path = ?")
    FOREIGN_LIMIT = 100_000
    digest_kind = LINE_DIGEST

    def __init__(self, db: sqlite3.Connection, path: bytes) -> None:
        self.db, self.path = db, path
        self._last: tuple[object, str | None] = (None, None)
        self._cursor = db.cursor()
        rows = db.execute("SELECT l.digest FROM lines AS l LEFT JOIN articles AS a "
                          "ON a.id = l.id WHERE l.path = ? AND (a.path IS NULL OR "
                          "a.path != ?) LIMIT ?", (path, path, self.FOREIGN_LIMIT + 1))
        foreign = {digest for (digest,) in rows}
        self._foreign = foreign if len(foreign) <= self.FOREIGN_LIMIT else None

    def __getitem__(self, digest: bytes) -> str:
        if self._last[0] != digest or digest is None:
            if self._foreign is None:
                row = self._cursor.execute(self._CHECKED,
                                           (self.path, digest, self.path)).fetchone()
            elif digest in self._foreign:
                row = None
            else:
                row = self._cursor.execute(self._ONE, (self.path, digest)).fetchone()
            self._last = (digest, row[0] if row else None)
        if self._last[1] is None:
            raise KeyError(digest)
        return self._last[1]

    @staticmethod
    def rows(db: sqlite3.Connection, path: bytes) -> Iterator[tuple[bytes, str]]:
        """(digest, id) of every line of `path` whose article is read from it."""
        return iter(db.execute(
            "SELECT l.digest, l.id FROM lines AS l JOIN articles AS a ON a.id = l.id "
            "WHERE l.path = ? AND a.path = ?", (path, path)).fetchall())

    def _rows(self) -> Iterator[tuple[bytes, str]]:
        return self.rows(self.db, self.path)

    def __iter__(self) -> Iterator[bytes]:
        return (digest for digest, _ in self._rows())

    def __len__(self) -> int:
        return sum(1 for _ in self._rows())
