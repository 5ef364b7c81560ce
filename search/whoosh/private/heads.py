"""A result's stored head as plain UTF-8, its sections and authors numbered in a table of
the segment's names (`HeadColumn`, the head column of PlainHeadCodec's segments).

The head (HIT_HEAD: id, url, title, published, section, authors) of each article is one
UTF-8 record: a letter saying which of the six fields it has, then the six fields, each
after a NUL: the id, address, title and date as they are, the section as the number of
its name in the table, the authors as their names' numbers joined by commas (an absent
field is empty, and the letter says it is absent, so an empty value stays apart from no
value). Reading a head is a slice of the mapped column, one `decode`, one `split` and a
look-up of the section's name: no decompression, no unpickling, and about two cache
lines of the record touched.

The table holds each distinct section and author of the segment once, front-coded: the
names sorted, some are stored whole (a "base"), and each other one as the bytes it adds
after the part it shares with the base before it in that order (a new base starts when a
name would add more than NEW_BASE of itself, and 8 bytes). legi-fr's sections ("Livre
Ier : ... > Titre II : ... > Chapitre III : ...") share most of their length with their
neighbours: the 90,078 articles' 25 MB of sections take 4.7 MB of tables. Reading a name
is one step whatever its place: its base's first bytes and its own, two slices of the
map joined and decoded (no walk, nothing built up); a reader keeps the last NAMES_KEPT
names it read.

A head that does not fit the record (a value that is not a string, authors that are not a
list of strings, a NUL inside a value, a lone surrogate, another field) is stored as Whoosh's stored
fields are, pickled with protocol 2: its first byte (pickle's PROTO, 0x80) is never the
first byte of a record (an ASCII letter), nor of any UTF-8 text, and the reader tells them
apart by decoding the value (a pickle fails to).

Layout: Whoosh's VarBytesColumn of the records, then the table: its names' bytes (UTF-8,
whole or what they add to their base, in the order of their numbers), where each starts
and where the last ends (uint32), each one's base (uint32, itself when whole) and how many
of its base's bytes it starts with (uint32), then the number of names and their bytes'
length (uint32 each) and the layout's version (one byte), all little-endian. Written for
whoosh-reloaded WRITTEN_FOR (search/whoosh/private/__init__.py).
"""

from __future__ import annotations

import struct
import sys
from array import array
from collections.abc import Iterator, Sequence
from pickle import dumps, loads
from typing import Any

from whoosh.columns import ColumnReader, ColumnWriter, VarBytesColumn

from search.schema import BatchWriter

__all__ = ["FIELDS", "HeadColumn", "HeadReader", "HeadWriter", "HitFields",
           "Names", "encode_head", "hit_fields"]

FIELDS = ("id", "url", "title", "published", "section", "authors")  # a record's order
_ID, _URL, _TITLE, _PUBLISHED, _SECTION, _AUTHORS = (1 << n for n in range(6))
_PLAIN = frozenset(FIELDS[:4])  # stored as they are
_LETTER = 0x40  # a record's first character: chr(_LETTER + the bits of its fields)
_VERSION = 1
_TRAILER = struct.Struct("<IIB")  # names, bytes of the names, version
_BIG_ENDIAN = sys.byteorder == "big"
# Names a reader keeps read (per segment); past them it starts again (legi-fr's sections
# are about 300 characters: well under a megabyte).
NAMES_KEPT = 1024
# A name is stored whole (a new base) when it would add more than this share of its bytes
# (and 8) to the base before it (legi-fr's sections: 4.5 MB of table at 0.4, 6.0 at 0.2,
# 10.8 stored all whole).
NEW_BASE = 0.4

# Whether a record has an id, an address and a date, by its letter.
_SHOWN = {chr(_LETTER + bits): (bool(bits & _ID), bool(bits & _URL), bool(bits & _PUBLISHED))
          for bits in range(64)}
# The fields absent from a record, by its letter: deleted from the dict a record makes
# (it makes all six, in the order Whoosh's writer adds them: by name).
_ABSENT = {chr(_LETTER + bits): tuple(name for n, name in enumerate(FIELDS)
                                       if not bits & (1 << n))
           for bits in range(64)}


# What a hit shows of a head: (id, url, title, published, section, authors).
HitFields = tuple[str, "str | None", str, "str | None", "str | None", list[str]]


def hit_fields(fields: dict[str, Any]) -> HitFields:
    """What a hit shows of a head (search/whoosh/backend.py `_plain_hits`): its id (a
    KeyError without one), url, title ("" without one), date, section (None without
    them) and a list of its authors."""
    return (fields["id"], fields.get("url"), fields.get("title", ""), fields.get("published"),
            fields.get("section"), list(fields.get("authors", ())))


class Names:
    """A segment's table of names being written: each distinct name's number (in the order
    first seen) and its UTF-8 bytes."""

    def __init__(self) -> None:
        self.numbers: dict[str, int] = {}
        self.encoded: list[bytes] = []

    def number(self, name: str) -> int:
        """The number of `name` (UnicodeEncodeError for a name UTF-8 cannot hold, a lone
        surrogate: none given)."""
        found = self.numbers.get(name)
        if found is None:
            self.encoded.append(name.encode("utf-8"))
            found = self.numbers[name] = len(self.numbers)
        return found

    def to_bytes(self) -> bytes:
        """The table as the column stores it (the trailer with it)."""
        encoded = self.encoded
        count = len(encoded)
        bases = array("I", range(count))  # whole, unless given a base below
        cuts = array("I", bytes(4 * count))
        base, based = b"", -1
        for n in sorted(range(count), key=encoded.__getitem__):
            name = encoded[n]
            shared = _shared(name, base) if based >= 0 else 0
            if based < 0 or len(name) - shared > NEW_BASE * len(name) + 8:
                base, based = name, n
            else:
                bases[n], cuts[n] = based, shared
        stored = [name[cuts[n]:] for n, name in enumerate(encoded)]
        bounds = array("I", [0])
        for part in stored:
            bounds.append(bounds[-1] + len(part))
        size = bounds[-1]
        arrays = [bounds, bases, cuts]
        if _BIG_ENDIAN:
            for numbers in arrays:
                numbers.byteswap()
        return b"".join((*stored, *(numbers.tobytes() for numbers in arrays),
                         _TRAILER.pack(count, size, _VERSION)))


def _shared(name: bytes, base: bytes) -> int:
    """How many first bytes `name` shares with `base`, cut back to a character's start
    (found by halving: slices compared in C rather than a byte at a time)."""
    low, high = 0, min(len(name), len(base))
    while low < high:
        middle = (low + high + 1) // 2
        if name[:middle] == base[:middle]:
            low = middle
        else:
            high = middle - 1
    while low and low < len(name) and name[low] & 0xC0 == 0x80:
        low -= 1  # inside a character: from its first byte on, the name's own
    return low


def encode_head(fields: dict[str, Any], names: Names) -> bytes:
    """A head's record (its names numbered in `names`), or its pickle when it does not fit
    one."""
    if not fields.keys() <= _FIELDS_SET:
        return dumps(fields, 2)
    try:
        return _record(fields, names)
    except (_NoRecord, UnicodeEncodeError):  # (UnicodeEncodeError: a lone surrogate)
        return dumps(fields, 2)


class _NoRecord(Exception):
    """A head that no record holds."""


def _record(fields: dict[str, Any], names: Names) -> bytes:
    bits = 0
    values = ["", "", "", "", "", ""]
    for n, name in enumerate(FIELDS):
        if name not in fields:
            continue
        value = fields[name]
        bits |= 1 << n
        if name in _PLAIN:
            if type(value) is not str or "\0" in value:
                raise _NoRecord
            values[n] = value
        elif name == "section":
            if type(value) is not str:
                raise _NoRecord
            values[n] = str(names.number(value))
        else:  # authors
            if type(value) is not list or not all(type(a) is str for a in value):
                raise _NoRecord
            values[n] = ",".join([str(names.number(a)) for a in value])
    return "\0".join((chr(_LETTER + bits), *values)).encode("utf-8")


_FIELDS_SET = frozenset(FIELDS)


class HeadColumn(VarBytesColumn):
    """The heads of a segment's articles: each a dict of its HIT_HEAD fields (None when it
    has none), stored as records and a table of names (see the module's docstring)."""

    def writer(self, dbfile: Any) -> ColumnWriter:
        return HeadWriter(dbfile)

    def reader(self, dbfile: Any, basepos: int, length: int, doccount: int) -> ColumnReader:
        return HeadReader(dbfile, basepos, length, doccount)


class HeadWriter(BatchWriter):
    def __init__(self, dbfile: Any) -> None:
        super().__init__(dbfile)
        self.names = Names()

    def add(self, docnum: int, v: Any) -> None:
        super().add(docnum, encode_head(v, self.names) if v else b"")

    def add_many(self, docnums: Sequence[int], heads: Sequence[dict[str, Any]]) -> None:
        """`add` of each (docnum, head), in order."""
        names = self.names
        self.append_values(docnums,
                           [encode_head(head, names) if head else b"" for head in heads])

    def finish(self, doccount: int) -> None:
        super().finish(doccount)
        self._dbfile.write(self.names.to_bytes())


def _names_of(dbfile: Any, at: int, size: int) -> tuple[Any, int]:
    """(bytes, where the table's names start in them): the column file's map (Furet's
    storage), else the names read."""
    buffer = getattr(dbfile, "buffer", None)
    if buffer is not None:
        return buffer(), at
    return bytes(dbfile.get(at, size)), 0


class HeadReader(VarBytesColumn.Reader):
    """Reads HeadColumn's heads (safe to share between threads)."""

    def __init__(self, dbfile: Any, basepos: int, length: int, doccount: int) -> None:
        end = basepos + length - _TRAILER.size
        count, size, version = _TRAILER.unpack(bytes(dbfile.get(end, _TRAILER.size)))
        if version != _VERSION:
            raise ValueError(f"unknown version {version} of a head column")
        start = end - size - 4 * (3 * count + 1)
        arrays = bytes(dbfile.get(start + size, 4 * (3 * count + 1)))
        bounds, bases, cuts = array("I"), array("I"), array("I")
        bounds.frombytes(arrays[:4 * (count + 1)])
        bases.frombytes(arrays[4 * (count + 1):4 * (2 * count + 1)])
        cuts.frombytes(arrays[4 * (2 * count + 1):])
        if _BIG_ENDIAN:
            for numbers in (bounds, bases, cuts):
                numbers.byteswap()
        self._names_at, self._names_size = start, size
        self._bytes: tuple[Any, int] | None = None  # (bytes, where the names start in them)
        self._bounds, self._bases, self._cuts = bounds, bases, cuts
        # The names read, by number (as a record writes it), up to NAMES_KEPT.
        self.names: dict[str, str] = {}
        super().__init__(dbfile, basepos, start - basepos, doccount)

    def name(self, number: str) -> str:
        """The name numbered `number` (decimal, as a record writes it)."""
        names = self.names
        found = names.get(number)
        if found is None:
            if len(names) >= NAMES_KEPT:
                names.clear()
            found = names[number] = self.read(int(number))
        return found

    def read(self, n: int) -> str:
        """Name `n`: its base's first bytes and its own (or itself, whole)."""
        found = self._bytes
        if found is None:
            found = self._bytes = _names_of(self._dbfile, self._names_at, self._names_size)
        buf, at = found
        bounds = self._bounds
        own = buf[at + bounds[n]:at + bounds[n + 1]]
        base = self._bases[n]
        if base == n:
            return str(own, "utf-8")
        start = at + bounds[base]
        return b"".join((buf[start:start + self._cuts[n]], own)).decode("utf-8")

    def decode(self, raw: Any) -> dict[str, Any]:
        """The head a record (or a pickle) holds."""
        try:
            letter, id_, url, title, published, section, authors = \
                str(raw, "utf-8").split("\0")
        except UnicodeDecodeError:  # a pickle (its first byte never starts UTF-8)
            return loads(raw)  # type: ignore[no-any-return]
        if section:
            section = self.names.get(section) or self.name(section)
        fields = {"authors": list(map(self.name, authors.split(","))) if authors else [],
                  "id": id_, "published": published, "section": section,
                  "title": title, "url": url}
        for absent in _ABSENT[letter]:
            del fields[absent]
        return fields

    def hit(self, raw: Any) -> HitFields:
        """`hit_fields` of the head a record (or a pickle) holds, without its dict. A record
        is told from a pickle by decoding it: pickle's first byte (0x80) never starts UTF-8,
        and one step less a hit than reading the byte first."""
        try:
            letter, id_, url, title, published, section, authors = \
                str(raw, "utf-8").split("\0")
        except UnicodeDecodeError:
            return hit_fields(loads(raw))
        has_id, has_url, has_published = _SHOWN[letter]
        if not has_id:
            raise KeyError("id")  # as hit_fields of its dict
        return (id_, url if has_url else None, title, published if has_published else None,
                (self.names.get(section) or self.name(section)) if section else None,
                list(map(self.name, authors.split(","))) if authors else [])

    def __getitem__(self, docnum: int) -> Any:
        raw = super().__getitem__(docnum)
        return self.decode(raw) if raw else None

    def __iter__(self) -> Iterator[Any]:
        decode = self.decode
        for raw in super().__iter__():
            yield decode(raw) if raw else None

    def load(self) -> list[Any]:
        return list(self)
