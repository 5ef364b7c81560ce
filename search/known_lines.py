"""The lines of a JSON Lines file an update need not decode again, held in arrays.

An update asks, for each line of a changed file, whether its digest is one the store
recorded for an article still read from that file. A million such lines held as a dict
took about 160 MB (so a large file was looked up line by line in the store instead, two
SQLite look-ups a line); `KnownLines` holds the (digest, id) pairs in numpy arrays sorted
by digest (16 bytes a line, the ids' UTF-8 bytes and their ends: about 60 MB for a million
news articles), answers a batch of digests with one `searchsorted`, and marks the lines
the update found again. The lines not found (changed or removed) are then all the store
has to forget, and the ids of the lines found need not be listed one by one: they were
read where they were before.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import islice

import numpy as np

__all__ = ["BLAKE2B_LINES", "DIGEST_BYTES", "LINE_DIGEST", "KnownDigests", "KnownLines"]

DIGEST_BYTES = 16  # indexer/jsonfiles.py line_digest
# Which digest of a line a store recorded: XXH3's 128 bits since 2 December 2026 (about
# 0.4 us a line of 1.4 KB against 3.3 for BLAKE2b), BLAKE2b's 16 bytes before. A store
# keeps the kind it began with: the lines recorded before are still found again.
LINE_DIGEST = "xxh3-128"
BLAKE2B_LINES = "blake2b-128"


class KnownDigests(dict[bytes, str]):
    """{line digest: id}, with the kind of digest the store recorded them with."""

    digest_kind = LINE_DIGEST


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def _prefixes(digests: bytes) -> np.ndarray:
    """The first 8 bytes of each digest (joined) as an unsigned number, big-endian: in the
    digests' byte order."""
    return np.frombuffer(digests, dtype=">u8")[::DIGEST_BYTES // 8].astype(np.uint64)


# Digests stepped through in a bucket of their first bits before a binary search takes over
# (`KnownLines._by_prefix`): digests of chance lines are spread about one a bucket, but lines
# written to share their digests' first bits would make every look-up walk one bucket.
CROWDED_BUCKET = 32


class KnownLines:
    """(line digest, article id) pairs of one file, found again or not by an update."""

    digest_kind = LINE_DIGEST  # the kind of digest (a store sets it on the tables it gives)

    def __init__(self, digests: bytes, ids: list[bytes], foreign: Sequence[bytes] = (),
                 id_order: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        """`digests`: the pairs' digests joined, in increasing byte order, each
        DIGEST_BYTES long; `ids`: their ids' UTF-8 bytes, in the same order, all distinct;
        `foreign`: the digests of the file's other recorded lines (their article is read
        from elsewhere now, or gone): never known, always forgotten; `id_order`: the ids'
        hashes sorted (`hash` of their bytes, int64) and the row of each, when the caller
        has them (`Manifest.known_lines` sorted them already)."""
        self.digests = np.frombuffer(digests, dtype=f"S{DIGEST_BYTES}")
        self._raw = digests
        # Each digest's first 8 bytes as a number, in the same order: numpy searches
        # numbers many times faster than 16-byte strings (a million lines' digests looked
        # up took about 8 % of an update). Only while no two digests share them.
        self._prefixes: np.ndarray | None = _prefixes(digests)
        if len(self._prefixes) > 1 and bool(np.any(self._prefixes[1:] == self._prefixes[:-1])):
            self._prefixes = None
        self._starts: np.ndarray | None = None  # (`_by_prefix`'s buckets, made when asked)
        self._shift = 64
        self._ids = b"".join(ids)
        self._ends = np.cumsum(np.fromiter(map(len, ids), dtype=np.int64, count=len(ids)))
        self._end_at = memoryview(self._ends).cast("B").cast("q")
        # Ids found by the hash of their UTF-8 bytes (Python's, this process's): sorted
        # hashes and their rows.
        if id_order is None:
            hashes = np.fromiter(map(hash, ids), dtype=np.int64, count=len(ids))
            order = np.argsort(hashes, kind="stable")
            id_order = (hashes[order], order)
        self._hashes, self._order = id_order
        self.found = np.zeros(len(ids), dtype=bool)
        self.foreign = list(foreign)

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[bytes, str | bytes, int]]) -> KnownLines | None:
        """From (digest, id or its UTF-8 bytes, whether its article is still read from the
        file) rows in digest order; None when they do not fit the arrays (a digest of
        another length, rows out of order, an id twice): the caller then asks line by
        line."""
        each = iter(rows)
        return cls.from_batches(iter(lambda: list(islice(each, 4096)), []))

    @classmethod
    def from_batches(cls, batches: Iterable[Sequence[tuple[bytes, str | bytes, int]]]
                     ) -> KnownLines | None:
        """`from_rows`, the rows given a batch at a time (each batch's columns checked at
        once: a row at a time took about 1 us a line)."""
        digests: list[bytes] = []
        ids: list[bytes | str] = []
        foreign: list[bytes] = []
        for batch in batches:
            if not batch:
                continue
            found, names, owns = zip(*batch, strict=True)
            if not all(owns):
                foreign.extend(d for d, _, own in batch if not own)
                kept = [(d, i) for d, i, own in batch if own]
                found, names = zip(*kept, strict=True) if kept else ((), ())
            if {*map(type, found)} - {bytes} or {*map(len, found)} - {DIGEST_BYTES}:
                return None
            digests.extend(found)
            ids.extend(names)
        kinds = {*map(type, ids)}
        if kinds - {bytes, str}:
            return None
        utf8 = ids if str not in kinds else [
            _utf8(i) if isinstance(i, str) else i for i in ids]
        table = cls(b"".join(digests), utf8, foreign)  # type: ignore[arg-type]
        return table if table.in_order() else None

    def in_order(self) -> bool:
        """Digests in increasing order (none twice), and no two ids of one hash."""
        digests, hashes = self.digests, self._hashes
        return len(digests) < 2 or (bool(np.all(digests[1:] > digests[:-1]))
                                    and not bool(np.any(hashes[1:] == hashes[:-1])))

    def __len__(self) -> int:
        return len(self._ends)

    def find(self, digests: Sequence[bytes | None]) -> list[int]:
        """The row of each digest (-1: not known), in one search for the whole batch."""
        count = len(self.digests)
        if not count or not digests:
            return [-1] * len(digests)
        if None in digests or {*map(len, digests)} != {DIGEST_BYTES}:  # type: ignore[arg-type]
            picked = [n for n, digest in enumerate(digests)
                      if digest is not None and len(digest) == DIGEST_BYTES]
            rows = [-1] * len(digests)
            for n, row in zip(picked, self.find([digests[n] for n in picked]), strict=True):
                rows[n] = row
            return rows
        joined = b"".join(digests)  # type: ignore[arg-type]
        asked = np.frombuffer(joined, dtype=self.digests.dtype)
        if self._prefixes is not None:  # the one digest of that prefix, if any
            where = self._by_prefix(_prefixes(joined))
        else:
            where = np.searchsorted(self.digests, asked)
        where = np.minimum(where, count - 1)
        return np.where(self.digests[where] == asked, where, -1).tolist()

    def _by_prefix(self, asked: np.ndarray) -> np.ndarray:
        """Where each asked prefix is among the digests' (unique) prefixes, or a row of
        another prefix: found in a bucket of their first bits (about one digest each)
        instead of by a binary search (20 steps through 8 MB for a million lines, each a
        miss of the processor's cache: a million look-ups took about 1.5 s)."""
        prefixes = self._prefixes
        assert prefixes is not None
        if self._starts is None:
            self._shift = 64 - max(1, (len(prefixes) - 1).bit_length())
            counts = np.bincount((prefixes >> np.uint64(self._shift)).astype(np.int64),
                                 minlength=1 << (64 - self._shift))
            self._starts = np.zeros(len(counts) + 1, dtype=np.int32
                                    if len(prefixes) < 2**31 else np.int64)  # (4 MB a million)
            np.cumsum(counts, out=self._starts[1:])
            del counts
        bucket = (asked >> np.uint64(self._shift)).astype(np.int64)
        first, ends = self._starts[bucket], self._starts[bucket + 1]
        where = np.minimum(first, len(prefixes) - 1)
        # The asked prefixes not first in their bucket, looked for further in it.
        left = np.flatnonzero((prefixes[where] != asked) & (ends - first > 1))
        step = 1
        while len(left):
            if step > CROWDED_BUCKET:  # (lines made to share their first bits, never by
                # chance: a bucket holds a few digests at most) the rest by a binary search
                where[left] = np.searchsorted(prefixes, asked[left])
                break
            at = first[left] + step
            inside = at < ends[left]
            left, at = left[inside], at[inside]
            hit = prefixes[at] == asked[left]
            where[left[hit]] = at[hit]
            left = left[~hit]
            step += 1
        return where

    def id_of(self, row: int) -> str:
        ends = self._end_at  # (a memoryview gives ints faster than the array)
        return self._ids[ends[row - 1] if row else 0:ends[row]].decode("utf-8", "surrogatepass")

    def digest_of(self, row: int) -> bytes:
        return self._raw[row * DIGEST_BYTES:(row + 1) * DIGEST_BYTES]

    def row_of(self, article_id: str) -> int:
        """The row holding this id, or -1."""
        key = hash(_utf8(article_id))
        at = int(np.searchsorted(self._hashes, key))
        if at < len(self._hashes) and int(self._hashes[at]) == key:
            row = int(self._order[at])
            if self.id_of(row) == article_id:
                return row
        return -1

    def rows_of(self, ids: Sequence[str]) -> np.ndarray:
        """The rows holding any of `ids` (ids not held are left out), in one search."""
        if not ids or not len(self._hashes):
            return np.zeros(0, dtype=np.int64)
        hashes = np.fromiter((hash(_utf8(i)) for i in ids), dtype=np.int64, count=len(ids))
        at, hit = self._positions(hashes)
        rows = self._order[at[hit]]
        return np.array([row for row, asked in zip(rows.tolist(), np.flatnonzero(hit).tolist(),
                                                   strict=True)
                         if self.id_of(row) == ids[asked]], dtype=np.int64)

    def rows_found_in(self, other: KnownLines) -> np.ndarray:
        """The rows whose id is the id of a line `other` found again (one search)."""
        found = np.flatnonzero(other.found)
        if not len(found) or not len(self._hashes):
            return np.zeros(0, dtype=np.int64)
        at, hit = self._positions(other.id_hashes()[found])
        rows = self._order[at[hit]]
        return np.array([row for row, theirs in zip(rows.tolist(), found[hit].tolist(),
                                                    strict=True)
                         if self.id_of(row) == other.id_of(theirs)], dtype=np.int64)

    def id_hashes(self) -> np.ndarray:
        """The hash of each row's id (as `row_of` finds them), by row."""
        by_row = np.empty_like(self._hashes)
        by_row[self._order] = self._hashes
        return by_row

    def _positions(self, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Where each hash is in the sorted hashes (clipped), and whether it is there."""
        at = np.minimum(np.searchsorted(self._hashes, hashes), len(self._hashes) - 1)
        return at, self._hashes[at] == hashes

    def found_id(self, article_id: str) -> bool:
        """Whether this id is the id of a line found again."""
        row = self.row_of(article_id)
        return row >= 0 and bool(self.found[row])

    def not_found(self) -> list[int]:
        """The rows whose line was not found again, in digest order."""
        return np.flatnonzero(~self.found).tolist()
