"""Sorted strings held as one UTF-8 blob and its offsets: read in place from a memory map.

A generation's sorted terms, hyphenated words and facet names are lists of hundreds of
thousands of strings; decoding them all when a process opens the index cost seconds at a
million articles, and each process held its own copy. `MappedStrings` reads them where
they lie (numpy arrays over a mapped file, shared by every process): a string is decoded
when asked for, and a lookup bisects a sparse sample held in memory (every SAMPLE-th
string), then the bytes of one stretch of SAMPLE strings. UTF-8 orders as code points
do, so the bytes' order is the strings' order. Each string is followed by a newline in
the blob, so that a run of them is decoded at once and split (strings holding a newline
are cut one by one).
"""

from __future__ import annotations

import sys
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, overload

import numpy as np

__all__ = ["SAMPLE", "MappedStrings", "following", "joined", "position", "split"]

SAMPLE = 16  # one string in SAMPLE is held decoded, to bisect
_RUN = 256  # strings decoded at once when iterating


def joined(strings: Iterable[str]) -> tuple[Any, Any]:
    """(UTF-8 bytes as uint8, each string followed by a newline; int64 offsets of each
    string's start, and the end) of `strings`: what MappedStrings reads."""
    if not isinstance(strings, list):
        strings = list(strings)
    # One encode of them all, the offsets read from the newlines: when a string holds a
    # newline, they are encoded one by one (3x faster for a prepared file's 200,000)
    blob = np.frombuffer(("\n".join(strings) + "\n" if strings else "").encode("utf-8"),
                         dtype=np.uint8)
    ends = np.flatnonzero(blob == ord("\n"))
    if len(ends) != len(strings):
        encoded = [s.encode("utf-8") + b"\n" for s in strings]
        offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum(np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded)),
                  out=offsets[1:])
        return np.frombuffer(b"".join(encoded), dtype=np.uint8), offsets
    offsets = np.zeros(len(strings) + 1, dtype=np.int64)
    offsets[1:] = ends + 1
    return blob, offsets


def split(blob: Any, offsets: Any) -> list[str]:
    """The strings `joined` gave (blob, offsets) for, decoded at once."""
    count = len(offsets) - 1
    if count <= 0:
        return []
    start, end = int(offsets[0]), int(offsets[-1])
    found = bytes(blob[start:end - 1]).decode("utf-8").split("\n")
    if len(found) != count:  # a string holding a newline
        data = bytes(blob)
        found = [data[a:b - 1].decode("utf-8") for a, b in zip(offsets[:-1].tolist(),
                                                               offsets[1:].tolist(),
                                                               strict=True)]
    return found


class MappedStrings(Sequence[str]):
    """A read-only sequence of strings sorted by code point, over (blob, offsets) arrays."""

    def __init__(self, blob: Any, offsets: Any) -> None:
        self._blob = memoryview(np.ascontiguousarray(blob)).cast("B")
        if sys.byteorder == "little" and offsets.dtype == np.dtype("<i8"):
            self._offsets: Any = memoryview(np.ascontiguousarray(offsets)).cast("B").cast("q")
        else:  # a big-endian machine reads them converted, once
            self._offsets = offsets.astype(np.int64).tolist()
        self._size = len(offsets) - 1
        self._sample = [self[n] for n in range(0, self._size, SAMPLE)]

    def __len__(self) -> int:
        return self._size

    def _bytes(self, n: int) -> bytes:
        offsets = self._offsets
        return bytes(self._blob[offsets[n]:offsets[n + 1] - 1])

    def _run(self, start: int, end: int) -> list[str]:
        """Strings start to end (0 <= start <= end <= len), decoded at once."""
        if start >= end:
            return []
        offsets = self._offsets
        found = bytes(self._blob[offsets[start]:offsets[end] - 1]).decode("utf-8").split("\n")
        if len(found) != end - start:  # a string holding a newline
            found = [self._bytes(n).decode("utf-8") for n in range(start, end)]
        return found

    @overload
    def __getitem__(self, n: int) -> str: ...

    @overload
    def __getitem__(self, n: slice) -> list[str]: ...

    def __getitem__(self, n: int | slice) -> str | list[str]:
        if isinstance(n, slice):
            start, stop, step = n.indices(self._size)
            if step == 1:
                return self._run(start, max(start, stop))
            return [self[i] for i in range(start, stop, step)]
        if n < 0:
            n += self._size
        if not 0 <= n < self._size:
            raise IndexError("string index out of range")
        return self._bytes(n).decode("utf-8")

    def __iter__(self) -> Iterator[str]:
        return self.following(0)

    def following(self, start: int) -> Iterator[str]:
        """The strings from number `start` on, decoded a run at a time."""
        size = self._size
        for at in range(max(start, 0), size, _RUN):
            yield from self._run(at, min(at + _RUN, size))

    def position(self, text: str) -> int:
        """bisect_left: where `text` is, or would be inserted."""
        at = bisect_left(self._sample, text)
        if at < len(self._sample) and self._sample[at] == text:
            return at * SAMPLE
        # the first string >= text lies after sample at - 1 and at most at sample at
        lo = (at - 1) * SAMPLE + 1 if at else 0
        hi = min(at * SAMPLE, self._size)
        key = text.encode("utf-8")
        blob, offsets = self._blob, self._offsets
        while lo < hi:
            mid = (lo + hi) // 2
            if bytes(blob[offsets[mid]:offsets[mid + 1] - 1]) < key:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def index_of(self, text: str) -> int | None:
        """The number of `text`, or None when absent."""
        n = self.position(text)
        return n if n < self._size and self._bytes(n) == text.encode("utf-8") else None

    def __contains__(self, text: object) -> bool:
        return isinstance(text, str) and self.index_of(text) is not None


def position(strings: Sequence[str], text: str) -> int:
    """bisect_left over sorted `strings`, a list or MappedStrings."""
    # `type() is list` first: an isinstance check against MappedStrings (an ABC, being a
    # Sequence) costs as much as the bisection itself (0.8 us), at every term looked up
    if type(strings) is list or not isinstance(strings, MappedStrings):
        return bisect_left(strings, text)
    return strings.position(text)


def following(strings: Sequence[str], start: int) -> Iterator[str]:
    """The strings from number `start` on, of a list or MappedStrings."""
    if isinstance(strings, MappedStrings):
        return strings.following(start)
    return (strings[n] for n in range(start, len(strings)))
