"""A result's stored head as plain UTF-8, its sections and authors numbered in a table of
the segment's names (`HeadColumn`, the head column of PlainHeadCodec's segments).

The head (HIT_HEAD: id, url, title, published, section, authors) of each article is one
UTF-8 record: a letter saying which of the six fields it has, then the six fields, each
after a NUL: the id, address, title and date as they are, the section as the number of
its name in the table, the authors as their names' numbers joined by commas (an absent
field is empty, and the letter says it is absent, so an empty value stays apart from no
value). Reading a head is a slice of the mapped column, one `decode`, one `split` and a
look-up of the section's name: no decompression, no unpickling, and about two cache
lines of the column touched.

The table holds each distinct section and author of the segment once, as a tree: a name
holding " > " (legi-fr's "Livre Ier : ... > Titre II : ... > Chapitre III : ...") is the
node of its last part under the node of what comes before it, so the parts every
section of a book repeats are stored once (the 90,078 legi-fr articles: 25 MB of
sections, 1.9 MB of table). A name is built from its parts the first time a reader asks
for it, then remembered (up to NAMES_KEPT a segment), and so are the names above it
(a sibling section then costs its last part).

A head that does not fit the record (a value that is not a string, authors that are not a
list of strings, a NUL inside a value, another field) is stored as Whoosh's stored
fields are, pickled with protocol 2: its first byte (pickle's PROTO, 0x80) is never the
first byte of a record (an ASCII letter), and the reader tells them apart by it.

Layout: Whoosh's VarBytesColumn of the records, then the table: its names' last parts
(UTF-8, one after the other), where each starts in them and where the last ends (uint32,
in bytes), each one's parent (int32, -1 for none), then the number of names and
the parts' length in bytes (uint32 each) and the layout's version (one byte), all
little-endian. Written for whoosh-reloaded WRITTEN_FOR
(search/whoosh/private/__init__.py).
"""

from __future__ import annotations

import struct
import sys
from array import array
from collections.abc import Iterator, Sequence
from pickle import dumps, loads
from typing import Any

from whoosh.columns import ColumnReader, ColumnWriter, VarBytesColumn

__all__ = ["FIELDS", "NAME_PARTS", "HeadColumn", "HeadReader", "HeadWriter", "HitFields",
           "Names", "encode_head", "hit_fields"]

FIELDS = ("id", "url", "title", "published", "section", "authors")  # a record's order
NAME_PARTS = " > "  # where a name is cut into the table's nodes
_ID, _URL, _TITLE, _PUBLISHED, _SECTION, _AUTHORS = (1 << n for n in range(6))
_PLAIN = frozenset(FIELDS[:4])  # stored as they are
_LETTER = 0x40  # a record's first character: chr(_LETTER + the bits of its fields)
_PICKLED = 0x80  # the first byte of a head pickled instead (pickle's PROTO opcode)
_VERSION = 1
_TRAILER = struct.Struct("<IIB")  # names, bytes of their parts, version
_BIG_ENDIAN = sys.byteorder == "big"
# Names a reader keeps built (per segment); past them it starts again (legi-fr's sections
# are about 300 characters: the two kinds of names kept take under a megabyte).
NAMES_KEPT = 1024

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
    """A segment's table of names being written: each distinct name's number, its last
    part, where that part starts and ends (in bytes) and its parent's number."""

    def __init__(self) -> None:
        self.numbers: dict[str, int] = {}
        self.parts: list[bytes] = []
        self.bounds = array("I", [0])
        self.parents = array("i")

    def number(self, name: str) -> int:
        """The number of `name` (and of the names before its last " > ", added first)."""
        found = self.numbers.get(name)
        if found is not None:
            return found
        new: list[tuple[str, str]] = []  # (name, its last part), the longest first
        parent = -1
        while True:
            before, cut, last = name.rpartition(NAME_PARTS)
            new.append((name, last))
            if not cut:
                break
            known = self.numbers.get(before)
            if known is not None:
                parent = known
                break
            name = before
        numbers, parts, bounds, parents = self.numbers, self.parts, self.bounds, self.parents
        for name, last in reversed(new):
            encoded = last.encode("utf-8")
            parts.append(encoded)
            bounds.append(bounds[-1] + len(encoded))
            parents.append(parent)
            parent = numbers[name] = len(parents) - 1
        return parent

    def to_bytes(self) -> bytes:
        """The table as the column stores it (the trailer with it)."""
        text = b"".join(self.parts)
        bounds, parents = array("I", self.bounds), array("i", self.parents)
        if _BIG_ENDIAN:
            bounds.byteswap()
            parents.byteswap()
        return b"".join((text, bounds.tobytes(), parents.tobytes(),
                         _TRAILER.pack(len(parents), len(text), _VERSION)))


def encode_head(fields: dict[str, Any], names: Names) -> bytes:
    """A head's record (its names numbered in `names`), or its pickle when it does not fit
    one."""
    if not fields.keys() <= _FIELDS_SET:
        return dumps(fields, 2)
    bits = 0
    values = ["", "", "", "", "", ""]
    for n, name in enumerate(FIELDS):
        if name not in fields:
            continue
        value = fields[name]
        bits |= 1 << n
        if name in _PLAIN:
            if type(value) is not str or "\0" in value:
                return dumps(fields, 2)
            values[n] = value
        elif name == "section":
            if type(value) is not str:
                return dumps(fields, 2)
            values[n] = str(names.number(value))
        else:  # authors
            if type(value) is not list or not all(type(a) is str for a in value):
                return dumps(fields, 2)
            values[n] = ",".join([str(names.number(a)) for a in value])
    return "\0".join((chr(_LETTER + bits), *values)).encode("utf-8")


_FIELDS_SET = frozenset(FIELDS)


class HeadColumn(VarBytesColumn):
    """The heads of a segment's articles: each a dict of its HIT_HEAD fields (None when it
    has none), stored as records and a table of names (see the module's docstring)."""

    def __init__(self) -> None:
        super().__init__()

    def writer(self, dbfile: Any) -> ColumnWriter:
        return HeadWriter(dbfile)

    def reader(self, dbfile: Any, basepos: int, length: int, doccount: int) -> ColumnReader:
        return HeadReader(dbfile, basepos, length, doccount)


class HeadWriter(VarBytesColumn.Writer):
    def __init__(self, dbfile: Any) -> None:
        super().__init__(dbfile)
        self.names = Names()

    def add(self, docnum: int, v: Any) -> None:
        super().add(docnum, encode_head(v, self.names) if v else b"")

    def add_many(self, docnums: Sequence[int], heads: Sequence[dict[str, Any]]) -> None:
        """`add` of each (docnum, head), in order."""
        names = self.names
        records = [encode_head(head, names) if head else b"" for head in heads]
        lengths: list[int] = []
        offsets: list[int] = []
        base, count = self._offset_base, self._count
        for docnum, record in zip(docnums, records, strict=True):
            if docnum > count:  # documents without a value: length 0
                lengths.extend([0] * (docnum - count))
                offsets.extend([base] * (docnum - count))
            lengths.append(len(record))
            offsets.append(base)
            base += len(record)
            count = docnum + 1
        self._dbfile.write(b"".join(records))
        _extend(self._lengths, lengths)
        _extend(self._offsets, offsets)
        self._offset_base, self._count = base, count

    def finish(self, doccount: int) -> None:
        super().finish(doccount)
        self._dbfile.write(self.names.to_bytes())


def _parts_of(dbfile: Any, at: int, size: int) -> tuple[Any, int]:
    """(bytes, where the table's parts start in them): the column file's map (Furet's
    storage), else the parts read."""
    buffer = getattr(dbfile, "buffer", None)
    if buffer is not None:
        return buffer(), at
    return bytes(dbfile.get(at, size)), 0


def _extend(numbers: Any, values: list[int]) -> None:
    """GrowableArray.extend (whoosh.util.numlists) without a call a value while the
    values fit its array (a value past it: its own `extend`, which widens it)."""
    if not values:
        return
    try:
        more = array(numbers.array.typecode, values)
    except OverflowError:
        numbers.extend(values)
        return
    numbers.array.extend(more)


class HeadReader(VarBytesColumn.Reader):
    """Reads HeadColumn's heads (safe to share between threads)."""

    def __init__(self, dbfile: Any, basepos: int, length: int, doccount: int) -> None:
        end = basepos + length - _TRAILER.size
        count, size, version = _TRAILER.unpack(bytes(dbfile.get(end, _TRAILER.size)))
        if version != _VERSION:
            raise ValueError(f"unknown version {version} of a head column")
        start = end - size - 4 * (count + 1) - 4 * count
        bounds, parents = array("I"), array("i")
        bounds.frombytes(bytes(dbfile.get(start + size, 4 * (count + 1))))
        parents.frombytes(bytes(dbfile.get(start + size + 4 * (count + 1), 4 * count)))
        if _BIG_ENDIAN:
            bounds.byteswap()
            parents.byteswap()
        self._text_at, self._text_size = start, size
        self._parts: tuple[Any, int] | None = None  # (bytes, where the parts start in them)
        self._bounds, self._parents = bounds, parents
        # The names asked for, by number (as a record writes it), up to NAMES_KEPT; and the
        # names above them, by number, up to NAMES_KEPT (a section's siblings then cost
        # a part each).
        self.names: dict[str, str] = {}
        self._above: dict[int, str] = {}
        super().__init__(dbfile, basepos, start - basepos, doccount)

    def name(self, number: str) -> str:
        """The name numbered `number` (decimal, as a record writes it)."""
        names = self.names
        found = names.get(number)
        if found is None:
            if len(names) >= NAMES_KEPT:
                names.clear()
            found = names[number] = self.built(int(number))
        return found

    def built(self, n: int) -> str:
        """Name `n`: the name above it, its cut and its last part."""
        parts = self._parts
        if parts is None:
            parts = self._parts = _parts_of(self._dbfile, self._text_at, self._text_size)
        buf, at = parts
        bounds, parents, above = self._bounds, self._parents, self._above
        chain = []  # `n`, then the names above it not built yet
        parent = n
        while parent >= 0:
            found = above.get(parent) if parent != n else None
            if found is not None:
                break
            chain.append(parent)
            parent = parents[parent]
        else:
            found = None
        if len(above) + len(chain) > NAMES_KEPT:
            above.clear()
        for number in reversed(chain):
            part = str(buf[at + bounds[number]:at + bounds[number + 1]], "utf-8")
            found = part if found is None else found + NAME_PARTS + part
            if number != n:
                above[number] = found
        assert found is not None
        return found

    def decode(self, raw: Any) -> dict[str, Any]:
        """The head a record (or a pickle) holds."""
        if raw[0] == _PICKLED:
            return loads(raw)  # type: ignore[no-any-return]
        letter, id_, url, title, published, section, authors = \
            str(raw, "utf-8").split("\0")
        if section:
            section = self.names.get(section) or self.name(section)
        fields = {"authors": list(map(self.name, authors.split(","))) if authors else [],
                  "id": id_, "published": published, "section": section,
                  "title": title, "url": url}
        for absent in _ABSENT[letter]:
            del fields[absent]
        return fields

    def hit(self, raw: Any) -> HitFields:
        """`hit_fields` of the head a record (or a pickle) holds, without its dict."""
        if raw[0] == _PICKLED:
            return hit_fields(loads(raw))
        letter, id_, url, title, published, section, authors = \
            str(raw, "utf-8").split("\0")
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
