"""Furet's Whoosh codec: Whoosh's own (whoosh3), with positions kept once, in the flat postings.

The exact fields (`CompactPositions`) need word positions for phrases. Furet's searcher
reads them from the segment's flat postings (search/whoosh/postings.py); Whoosh's codec
would store them a second time in its posting blocks, pickled. `FuretCodec` writes those
blocks without values and, when Whoosh reads a posting's value (its own phrase queries,
merging segments on `update`), hands it the positions from the flat postings: plain
Whoosh still searches the index (the codec is saved with each segment, as Whoosh saves
its own), and the disk holds the positions once.

Segments written before this codec (W3Codec, positions in both files) are read as they
were; a merge rewrites them with this codec.

`SplitStoredCodec` (the codec of new segments) also stores each article's lead and body
apart from its other stored fields: a page of results without snippets reads titles,
addresses and dates without decompressing whole articles (`StoredFields`). Whoosh's own
`stored_fields` still returns every field. Segments of the two older codecs keep all their
stored fields in one value, and are read as before.

`CompactCodec` (the codec of new segments since) is SplitStoredCodec with both stored
columns compressed with a zlib dictionary shared by the segment's values
(`SharedDictColumn`, search/schema.py): each value is still compressed alone, so reading
one costs what it did, and the stored fields take about 40 % less. Segments of the older
codecs are read as before.

`ZstdCodec` (the codec of new segments since) is CompactCodec with both stored columns
compressed with zstd and a dictionary trained on the segment's first values
(`ZstdDictColumn`, search/schema.py): on legi-fr 17 to 20 % smaller again, a fifth of
the CPU to write and two fifths to read. CompactCodec's segments are read as before, and
rewritten with ZstdCodec when a merge takes them.

`HitHeadCodec` (the codec of new segments since) is ZstdCodec with the stored fields but
the lead and body split once more: those a result shows (`HIT_HEAD`: id, url, title,
published, section, authors) stay in the head column, the others (hash, path, source,
lang, tags, modified...) go to a third column (`MORE_COLUMN`, compressed the same way). A
page of results then decompresses and unpickles only what it shows (about 2 µs of the 6 a
hit's stored head cost); Whoosh's `stored_fields` still returns every field, and the
three columns together take about what the two did. ZstdCodec's segments are read as
before, and rewritten with HitHeadCodec when a merge takes them.

`PlainHeadCodec` (the codec of new segments since) is HitHeadCodec with the head column
neither compressed nor pickled: each head is a UTF-8 record, its sections and authors
numbered in a table of the segment's names (`HeadColumn`,
search/whoosh/private/heads.py), read with a slice, a `decode` and a `split` (a page's
heads in about half the CPU a decompression and an unpickling each took).
HitHeadCodec's segments are read as before, and rewritten with PlainHeadCodec when a
merge takes them.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from pickle import loads
from typing import Any

import numpy as np
from whoosh.codec.whoosh3 import (
    STORED_COLUMN,
    W3Codec,
    W3LeafMatcher,
    W3PerDocReader,
    W3PerDocWriter,
    W3TermsReader,
)
from whoosh.columns import PickleColumn
from whoosh.matching import ListMatcher, ReadTooFar
from whoosh.system import pack_uint

from search.schema import (
    CompactPositions,
    SharedDictColumn,
    SharedDictReader,
    ZstdDictColumn,
    ZstdDictReader,
)
from search.whoosh.postings import EXTENSION, SegmentPostings, segment_postings_in
from search.whoosh.postings import FIELDS as FLAT_FIELDS
from search.whoosh.private.heads import HeadColumn, HeadReader, HitFields, hit_fields
from search.whoosh.private.mapped import MappedFile

__all__ = ["HIT_HEAD", "MORE_COLUMN", "CompactCodec", "FuretCodec", "HitHeadCodec",
           "PlainHeadCodec", "SplitStoredCodec", "StoredFields", "ZstdCodec", "served_from_flat",
           "uses_flat_positions"]

# Blocks compressed at zlib level 1: as small within ~2 %, and compressing them took half
# the time of writing a segment's postings at Whoosh's level 3.
BLOCK_COMPRESSION = 1
STORED_TEXTS = frozenset(("lead", "body"))  # stored apart: read for snippets and articles only
TEXTS_COLUMN = "_stored_texts"
# HitHeadCodec's head: the stored fields a result shows (search/results.py `Hit`); the
# other stored fields but the texts are in MORE_COLUMN.
HIT_HEAD = frozenset(("id", "url", "title", "published", "section", "authors"))
MORE_COLUMN = "_stored_more"
# Stored fields of CompactCodec's segments: pickled, compressed with a shared dictionary.
SHARED_DICT_STORED = PickleColumn(SharedDictColumn())
# Stored fields of ZstdCodec's segments: pickled, compressed with zstd and a trained dictionary.
ZSTD_DICT_STORED = PickleColumn(ZstdDictColumn())
# The head column of PlainHeadCodec's segments: records and a table of names.
HEAD_STORED = HeadColumn()


def uses_flat_positions(codec: Any, field: Any) -> bool:
    """True when `codec` keeps `field`'s positions in the flat postings only."""
    return isinstance(codec, FuretCodec) and isinstance(field.format, CompactPositions)


class FuretCodec(W3Codec):
    """Whoosh's codec, reading the exact fields' positions from the flat postings."""

    def __init__(self, blocklimit: int = 128, compression: int = BLOCK_COMPRESSION,
                 inlinelimit: int = 1) -> None:
        super().__init__(blocklimit=blocklimit, compression=compression,
                         inlinelimit=inlinelimit)

    def terms_reader(self, storage: Any, segment: Any) -> W3TermsReader:
        tiname = segment.make_filename(self.TERMS_EXT)
        tilen = storage.file_length(tiname)
        tifile = storage.open_file(tiname)
        postfile = segment.open_file(storage, self.POSTS_EXT)
        return self._terms_reader_class()(self, tifile, tilen, postfile, storage, segment)

    def _terms_reader_class(self) -> type[W3TermsReader]:
        return _TermsReader


class _TermsReader(W3TermsReader):
    """Whoosh's terms reader; matchers of positional fields read the flat positions."""

    def __init__(self, codec: FuretCodec, dbfile: Any, length: int, postfile: Any,
                 storage: Any, segment: Any) -> None:
        super().__init__(codec, dbfile, length, postfile)
        self._storage, self._segment = storage, segment
        self._flat: SegmentPostings | None = None

    def flat(self) -> SegmentPostings:
        """The segment's flat postings (opened on first use)."""
        if self._flat is None:
            self._flat = segment_postings_in(self._storage, self._segment)
        return self._flat

    def matcher(self, fieldname: str, tbytes: bytes, format_: Any, scorer: Any = None) -> Any:
        if not isinstance(format_, CompactPositions):
            return super().matcher(fieldname, tbytes, format_, scorer=scorer)
        terminfo = self.term_info(fieldname, tbytes)
        offset, length = terminfo.extent()
        found = self.flat().positions(fieldname, tbytes.decode("utf-8"))
        if found is None:
            raise ValueError(f"{self._segment.make_filename(EXTENSION)}: no positions for "
                             f"{fieldname}:{tbytes!r}")
        return _FlatPositionsMatcher(self._postfile, offset, length, format_, found,
                                     term=(fieldname, tbytes), scorer=scorer)


class _FlatPositionsMatcher(W3LeafMatcher):
    """Whoosh's block matcher whose values (packed positions) come from the flat postings."""

    def __init__(self, postfile: Any, offset: int, length: int, format_: Any,
                 found: tuple[Any, Any, Any], **kwargs: Any) -> None:
        _, counts, positions = found
        self._counts, self._positions = counts, positions
        self._pstarts: list[int] | None = None
        self._base = 0  # postings in the blocks before this one
        super().__init__(postfile, offset, length, format_, **kwargs)

    def reset(self) -> None:
        self._base = 0
        super().reset()

    def _next_block(self) -> None:
        if not self._lastblock:
            self._base += self._blocklength
        super()._next_block()

    def value(self) -> bytes:
        if self._pstarts is None:
            self._pstarts = [0, *np.cumsum(self._counts, dtype=np.int64).tolist()]
        n = self._base + self._i
        start, end = self._pstarts[n], self._pstarts[n + 1]
        return self._positions[start:end].astype("<u4").tobytes()


class SplitStoredCodec(FuretCodec):
    """FuretCodec, with the lead and body of each article stored in a column of their own."""

    def per_document_writer(self, storage: Any, segment: Any) -> W3PerDocWriter:
        return _PerDocWriter(self, storage, segment)

    def per_document_reader(self, storage: Any, segment: Any) -> W3PerDocReader:
        return _PerDocReader(storage, segment)


class _PerDocWriter(W3PerDocWriter):
    """Whoosh's per-document writer, keeping the lead and body out of the stored fields."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._texts: dict[str, Any] = {}
        self._create_column(TEXTS_COLUMN, STORED_COLUMN)

    def start_doc(self, docnum: int) -> None:
        super().start_doc(docnum)
        self._texts = {}

    def add_field(self, fieldname: str, fieldobj: Any, value: Any, length: int) -> None:
        if value is not None and fieldname in STORED_TEXTS:
            self._texts[fieldname] = value
            value = None
        super().add_field(fieldname, fieldobj, value, length)

    def finish_doc(self) -> None:
        if self._texts:
            self.add_column_value(TEXTS_COLUMN, STORED_COLUMN, self._texts)
            self._texts = {}
        super().finish_doc()


class _PerDocReader(W3PerDocReader):
    """Whoosh's per-document reader: every stored field, or those without the texts."""

    def stored_fields(self, docnum: int) -> dict[str, Any]:
        fields = super().stored_fields(docnum)
        texts = self.texts(docnum)
        if texts:
            fields = {**fields, **texts}
        return fields

    def head(self, docnum: int) -> dict[str, Any]:
        """The stored fields but the lead and body."""
        return super().stored_fields(docnum)

    def texts(self, docnum: int) -> dict[str, Any]:
        """The lead and body (those the article has)."""
        reader = self._cached_reader(TEXTS_COLUMN, STORED_COLUMN)
        found = reader[docnum] if reader is not None else None
        return found or {}


class CompactCodec(SplitStoredCodec):
    """SplitStoredCodec, with the stored fields compressed with a shared dictionary, and the
    postings of the fields the flat postings hold read from them only."""

    def _terms_reader_class(self) -> type[W3TermsReader]:
        return _FlatTermsReader

    def per_document_writer(self, storage: Any, segment: Any) -> W3PerDocWriter:
        return _SharedDictPerDocWriter(self, storage, segment)

    def per_document_reader(self, storage: Any, segment: Any) -> W3PerDocReader:
        return _SharedDictPerDocReader(storage, segment)


def served_from_flat(codec: Any, fieldname: str) -> bool:
    """True when `codec` reads `fieldname`'s postings from the flat postings only (its
    Whoosh posting blocks are not written)."""
    return isinstance(codec, CompactCodec) and fieldname in FLAT_FIELDS


class _FlatTermsReader(_TermsReader):
    """Terms reader of CompactCodec: the flat fields' matchers read the flat postings."""

    def matcher(self, fieldname: str, tbytes: bytes, format_: Any, scorer: Any = None) -> Any:
        if fieldname not in FLAT_FIELDS:
            return super().matcher(fieldname, tbytes, format_, scorer=scorer)
        terminfo = self.term_info(fieldname, tbytes)
        found = self.flat().whole(fieldname, tbytes.decode("utf-8"))
        if found is None or (found[3] is None and found[2] is None):
            raise ValueError(f"{self._segment.make_filename(EXTENSION)}: no postings for "
                             f"{fieldname}:{tbytes!r}")
        docs, weights, counts, positions = found
        if positions is not None:
            ends = np.cumsum(counts, dtype=np.int64).tolist()
            packed = positions.astype("<u4").tobytes()
            values = _PackedValues(packed, ends)
        else:
            values = _FrequencyValues(counts.tolist())
        return _FlatMatcher(docs.tolist(), weights.tolist(), values, format_, scorer=scorer,
                            term=(fieldname, tbytes), terminfo=terminfo)


class _PackedValues:
    """Each posting's packed positions (uint32, little-endian), cut when asked for."""

    def __init__(self, packed: bytes, ends: list[int]) -> None:
        self._packed, self._ends = packed, ends

    def __getitem__(self, n: int) -> bytes:
        start = self._ends[n - 1] if n else 0
        return self._packed[start * 4:self._ends[n] * 4]

    def __len__(self) -> int:
        return len(self._ends)


class _FrequencyValues:
    """Each posting's frequency as Whoosh's Frequency format stores it."""

    def __init__(self, counts: list[int]) -> None:
        self._counts = counts

    def __getitem__(self, n: int) -> bytes:
        return pack_uint(self._counts[n])

    def __len__(self) -> int:
        return len(self._counts)


class _FlatMatcher(ListMatcher):
    """Whoosh's list matcher over one term's flat postings (values made when asked for)."""

    def __init__(self, ids: list[int], weights: list[float], values: Any, format_: Any,
                 scorer: Any = None, position: int = 0, term: Any = None,
                 terminfo: Any = None) -> None:
        super().__init__(ids, weights, values, format_, scorer=scorer, position=position,
                         term=term, terminfo=terminfo)

    def copy(self) -> _FlatMatcher:
        return _FlatMatcher(self._ids, self._weights, self._values, self._format,
                            scorer=self._scorer, position=self._i, term=self._term,
                            terminfo=self._terminfo)

    def skip_to(self, id: int) -> None:
        if not self.is_active():
            raise ReadTooFar
        self._i = bisect_left(self._ids, id, self._i)

    def block_max_id(self) -> int:
        return self._ids[-1]  # one block: the whole list, as for inlined postings

    def value(self) -> bytes:
        return self._values[self._i]  # type: ignore[no-any-return]

    def all_items(self) -> Any:
        values = self._values
        return ((docnum, values[n]) for n, docnum in enumerate(self._ids))


class ZstdCodec(CompactCodec):
    """CompactCodec, with the stored fields compressed with zstd and a trained dictionary."""

    def per_document_writer(self, storage: Any, segment: Any) -> W3PerDocWriter:
        return _ZstdDictPerDocWriter(self, storage, segment)

    def per_document_reader(self, storage: Any, segment: Any) -> W3PerDocReader:
        return _ZstdDictPerDocReader(storage, segment)


class _SharedDictPerDocWriter(_PerDocWriter):
    STORED = SHARED_DICT_STORED

    def _create_column(self, fieldname: str, column: Any) -> None:
        super()._create_column(fieldname, self.STORED if column is STORED_COLUMN else column)


class _SharedDictPerDocReader(_PerDocReader):
    STORED = SHARED_DICT_STORED

    def _cached_reader(self, fieldname: str, column: Any) -> Any:
        return super()._cached_reader(fieldname, self.STORED if column is STORED_COLUMN
                                      else column)


class _ZstdDictPerDocWriter(_SharedDictPerDocWriter):
    STORED = ZSTD_DICT_STORED


class _ZstdDictPerDocReader(_SharedDictPerDocReader):
    STORED = ZSTD_DICT_STORED


class HitHeadCodec(ZstdCodec):
    """ZstdCodec, with the stored fields a result does not show in a column of their own."""

    def per_document_writer(self, storage: Any, segment: Any) -> W3PerDocWriter:
        return _HitHeadPerDocWriter(self, storage, segment)

    def per_document_reader(self, storage: Any, segment: Any) -> W3PerDocReader:
        return _HitHeadPerDocReader(storage, segment)


class _HitHeadPerDocWriter(_ZstdDictPerDocWriter):
    """ZstdCodec's per-document writer, keeping the fields outside HIT_HEAD (and the texts)
    out of the head."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._more: dict[str, Any] = {}
        self._create_column(MORE_COLUMN, STORED_COLUMN)  # after the texts' column

    def start_doc(self, docnum: int) -> None:
        super().start_doc(docnum)
        self._more = {}

    def add_field(self, fieldname: str, fieldobj: Any, value: Any, length: int) -> None:
        if value is not None and fieldname not in HIT_HEAD and fieldname not in STORED_TEXTS:
            self._more[fieldname] = value
            value = None
        super().add_field(fieldname, fieldobj, value, length)

    def finish_doc(self) -> None:
        if self._more:
            self.add_column_value(MORE_COLUMN, STORED_COLUMN, self._more)
            self._more = {}
        super().finish_doc()


class _HitHeadPerDocReader(_ZstdDictPerDocReader):
    """ZstdCodec's per-document reader, joining the head and the other fields again."""

    def stored_fields(self, docnum: int) -> dict[str, Any]:
        fields = self.head(docnum)
        more = self.more(docnum)
        if more:
            fields = {**fields, **more}
        texts = self.texts(docnum)
        return {**fields, **texts} if texts else fields

    def head(self, docnum: int) -> dict[str, Any]:
        """The stored fields a result shows (HIT_HEAD)."""
        return super().head(docnum) or {}

    def more(self, docnum: int) -> dict[str, Any]:
        """The stored fields outside HIT_HEAD and the texts."""
        reader = self._cached_reader(MORE_COLUMN, STORED_COLUMN)
        found = reader[docnum] if reader is not None else None
        return found or {}


class PlainHeadCodec(HitHeadCodec):
    """HitHeadCodec, with the head stored as plain records and a table of names."""

    def per_document_writer(self, storage: Any, segment: Any) -> W3PerDocWriter:
        return _PlainHeadPerDocWriter(self, storage, segment)

    def per_document_reader(self, storage: Any, segment: Any) -> W3PerDocReader:
        return _PlainHeadPerDocReader(storage, segment)


class _PlainHeadPerDocWriter(_HitHeadPerDocWriter):
    """HitHeadCodec's per-document writer, its head column a HeadColumn."""

    def _create_column(self, fieldname: str, column: Any) -> None:
        if fieldname == "_stored" and column is STORED_COLUMN:
            column = HEAD_STORED
        super()._create_column(fieldname, column)


class _PlainHeadPerDocReader(_HitHeadPerDocReader):
    """HitHeadCodec's per-document reader, its head column a HeadColumn."""

    def _cached_reader(self, fieldname: str, column: Any) -> Any:
        if fieldname == "_stored" and column is STORED_COLUMN:
            column = HEAD_STORED
        return super()._cached_reader(fieldname, column)


class _MappedHeads:
    """The head column of a PlainHeadCodec segment, read straight from its mapped bytes:
    what its HeadReader gives (the head, None when empty) without the column's layers."""

    __slots__ = ("at", "base", "buf", "column", "decode", "lengths", "map", "offsets")

    def __init__(self, column: HeadReader) -> None:  # mapped
        self.column = column
        self.buf = column._dbfile.buffer()
        self.base = column._basepos
        self.offsets = column._offsets
        self.lengths = column._lengths
        self.decode = column.decode
        # `StoredFields._heads` slices the map itself (bytes: the column's records start at
        # `at` in it), `buf` held meanwhile (MappedFile.origin); else `buf`, from `base`
        origin = column._dbfile.origin()
        self.map, self.at = (self.buf, self.base) if origin is None else \
            (origin[0], origin[1] + self.base)

    def __getitem__(self, docnum: int) -> Any:
        length = self.lengths[docnum]
        if not length:
            return None
        start = self.base + self.offsets[docnum]
        return self.decode(self.buf[start:start + length])


class _MappedStored:
    """One stored column of a CompactCodec or ZstdCodec segment, read straight from its
    mapped bytes: what Whoosh's readers give (PickleColumn over SharedDictColumn or
    ZstdDictColumn over VarBytesColumn: the value unpickled, None when empty) without their
    layers of calls, which took 6 of the 10 µs a result's stored fields cost."""

    __slots__ = ("base", "buf", "column", "decompress", "lengths", "offsets")

    def __init__(self, column: Any) -> None:  # a SharedDictReader or ZstdDictReader, mapped
        self.column = column
        self.buf = column._dbfile.buffer()
        self.base = column._basepos
        self.offsets = column._offsets
        self.lengths = column._lengths
        self.decompress = column.decompress

    def __getitem__(self, docnum: int) -> Any:
        length = self.lengths[docnum]
        if not length:
            return None
        start = self.base + self.offsets[docnum]
        raw = self.decompress(self.buf[start:start + length])
        return loads(raw) if raw else None


def _mapped_stored(perdoc: Any, fieldname: str) -> _MappedStored | _MappedHeads | None:
    """`fieldname`'s stored column of a CompactCodec (or ZstdCodec) segment read from its
    map, or None (a segment of another codec, a file that is not mapped, no such column)."""
    if not isinstance(perdoc, _SharedDictPerDocReader):
        return None
    reader = perdoc._cached_reader(fieldname, STORED_COLUMN)
    if isinstance(reader, HeadReader):
        return _MappedHeads(reader) if isinstance(reader._dbfile, MappedFile) else None
    column = getattr(reader, "_child", None)
    if not isinstance(column, SharedDictReader | ZstdDictReader) or \
            not isinstance(column._dbfile, MappedFile):
        return None
    return _MappedStored(column)


# The (lead, body) of a document without either.
_NO_TEXTS = ("", "")
# A segment's stored columns read from its map: the head, the texts, the other fields.
_Columns = tuple[_MappedStored | _MappedHeads, _MappedStored | None, _MappedStored | None]


class StoredFields:
    """The stored fields of a reader's documents, read straight from its segments."""

    def __init__(self, reader: Any) -> None:
        leaves = reader.leaf_readers()
        self._offsets = [offset for _, offset in leaves]
        self._perdoc = [leaf._perdoc for leaf, _ in leaves]
        # Per segment, once used: (head column, texts column, column of the other fields)
        # read from the map, or None.
        self._mapped: list[_Columns | None | bool] = [False] * len(leaves)
        # Per segment, once a page has read it: how `_heads` reads a PlainHeadCodec
        # segment's heads (its map, where its column starts, its starts and lengths, the
        # decoder), for hits and for dicts; None for a segment of another kind.
        self._plain: tuple[list[Any], list[Any]] = ([False] * len(leaves),
                                                    [False] * len(leaves))

    def _locate(self, docnum: int) -> tuple[Any, int]:
        n = bisect_right(self._offsets, docnum) - 1
        return self._perdoc[n], docnum - self._offsets[n]

    def _columns(self, docnum: int) -> tuple[Any, int, Any]:
        """(segment's per-document reader, document number in it, its mapped columns or
        None)."""
        n = bisect_right(self._offsets, docnum) - 1
        mapped = self._mapped[n]
        if mapped is False:
            perdoc = self._perdoc[n]
            head = _mapped_stored(perdoc, "_stored")
            mapped = None if head is None else (
                head, _mapped_stored(perdoc, TEXTS_COLUMN),
                _mapped_stored(perdoc, MORE_COLUMN)
                if isinstance(perdoc, _HitHeadPerDocReader) else None)
            self._mapped[n] = mapped
        return self._perdoc[n], docnum - self._offsets[n], mapped

    def head(self, docnum: int) -> dict[str, Any]:
        """The stored fields a result shows (HIT_HEAD) and maybe others: the lead and body
        may be left out (segments since SplitStoredCodec leave them), and so may the fields
        outside HIT_HEAD (HitHeadCodec's segments leave them)."""
        perdoc, docnum, mapped = self._columns(docnum)
        if mapped:
            return mapped[0][docnum] or {}
        if isinstance(perdoc, _PerDocReader):
            return perdoc.head(docnum)
        return perdoc.stored_fields(docnum) or {}

    def heads(self, docnums: Iterable[int]) -> list[dict[str, Any]]:
        """`head` of each document (the same fields), in one loop (a page of results
        without snippets): each segment's mapped column (and this thread's decompressor of
        it) are looked up once, then a head is a slice of the map and its decoding (a
        PlainHeadCodec segment's record), or one decompression and one `loads`."""
        return self._heads(docnums, hits=False)  # type: ignore[return-value]

    def hit_heads(self, docnums: Iterable[int]) -> list[HitFields]:
        """`hit_fields(head(docnum))` of each document, as `heads` reads them: what a hit
        shows, without making the head's dict when a record holds it."""
        return self._heads(docnums, hits=True)  # type: ignore[return-value]

    def _heads(self, docnums: Iterable[int], hits: bool) -> list[Any]:
        offsets = self._offsets
        plain = self._plain[hits]
        others: dict[int, Any] | None = None  # this page's readers of other segments
        heads: list[Any] = []
        for docnum in docnums:
            n = bisect_right(offsets, docnum) - 1
            reader = plain[n]
            if reader is False:
                reader = plain[n] = self._plain_reader(docnum, n, hits)
            if reader is not None:  # a PlainHeadCodec segment: a record (or a pickle)
                buf, base, starts, lengths, decode = reader
                at = docnum - offsets[n]
                length = lengths[at]
                if length:
                    start = base + starts[at]
                    heads.append(decode(buf[start:start + length]))
                else:
                    heads.append(hit_fields({}) if hits else {})
                continue
            if others is None:
                others = {}
            heads.append(self._other_head(docnum, n, hits, others))
        return heads

    def _plain_reader(self, docnum: int, n: int, hits: bool) -> Any:
        """How `_heads` reads segment `n`'s heads when it is a PlainHeadCodec segment read
        from its map (what `_columns` found), else None."""
        self._columns(docnum)
        columns = self._mapped[n]
        head = columns[0] if columns else None  # type: ignore[index]
        if not isinstance(head, _MappedHeads):
            return None
        return (head.map, head.at, head.offsets, head.lengths,
                head.column.hit if hits else head.column.decode)

    def _other_head(self, docnum: int, n: int, hits: bool, readers: dict[int, Any]) -> Any:
        """`_heads`'s head of a document in a segment of another codec: read from the map
        with the calling thread's decompressor (looked up once a page: `readers`), or
        through the segment's reader when it is not mapped."""
        reader = readers.get(n, False)
        if reader is False:
            columns = self._mapped[n]
            head = columns[0] if columns else None  # type: ignore[index]
            reader = readers[n] = None if head is None else (
                head.buf, head.base, head.offsets, head.lengths, head.column.decompressing())
        if reader is None:  # a segment not read from a map
            return hit_fields(self.head(docnum)) if hits else self.head(docnum)
        buf, base, starts, lengths, decompress = reader
        at = docnum - self._offsets[n]
        length = lengths[at]
        if length:
            start = base + starts[at]
            raw = decompress(buf[start:start + length])
            fields = (loads(raw) if raw else None) or {}
        else:
            fields = {}
        return hit_fields(fields) if hits else fields

    def with_texts(self, docnum: int) -> dict[str, Any]:
        """`head` and the lead and body (what a result with a snippet shows): `whole`
        without HitHeadCodec's other fields, which it would read for nothing."""
        perdoc, docnum, mapped = self._columns(docnum)
        if mapped:
            fields = mapped[0][docnum] or {}
            texts = mapped[1][docnum] if mapped[1] is not None else None
            return {**fields, **texts} if texts else fields
        if isinstance(perdoc, _HitHeadPerDocReader):
            fields, texts = perdoc.head(docnum), perdoc.texts(docnum)
            return {**fields, **texts} if texts else fields
        return perdoc.stored_fields(docnum) or {}

    def hit_texts(self, docnums: Sequence[int]
                  ) -> tuple[list[HitFields], list[tuple[Any, Any]]]:
        """What a page of results with snippets reads: `hit_fields` of each document's
        head (`hit_heads`) and its (lead, body) ("" for one it lacks), as `with_texts`
        gives them, without making the merged dict. The texts are read in one loop: each
        segment's mapped texts column and this thread's decompressor of it looked up once
        a page, then a text is a slice of the map, a decompression and a `loads`: a legi-fr
        hit read in a search's page in 8.4 µs of CPU against 9.2 through `with_texts`, of
        which the decompression and the `loads` (its UTF-8 decoding) are most."""
        heads = self.hit_heads(docnums)
        offsets = self._offsets
        readers: dict[int, Any] = {}  # this page's readers of the segments' texts
        texts: list[tuple[Any, Any]] = []
        for docnum in docnums:
            n = bisect_right(offsets, docnum) - 1
            reader = readers.get(n, False)
            if reader is False:
                reader = readers[n] = self._texts_reader(docnum, n)
            if reader is None:  # a segment whose texts are not read from a map
                fields = self.with_texts(docnum)
                texts.append((fields.get("lead", ""), fields.get("body", "")))
                continue
            buf, base, starts, lengths, decompress = reader
            at = docnum - offsets[n]
            length = lengths[at]
            found = None
            if length:
                start = base + starts[at]
                raw = decompress(buf[start:start + length])
                if raw:
                    found = loads(raw)
            texts.append((found.get("lead", ""), found.get("body", "")) if found else _NO_TEXTS)
        return heads, texts

    def _texts_reader(self, docnum: int, n: int) -> Any:
        """How `hit_texts` reads segment `n`'s texts in the calling thread (its map, where
        its column starts, its starts and lengths, this thread's decompressor), or None: a
        segment not read from a map, or one without a texts column (its `with_texts`)."""
        self._columns(docnum)
        columns = self._mapped[n]
        column = columns[1] if columns else None  # type: ignore[index]
        if not isinstance(column, _MappedStored):
            return None
        return (column.buf, column.base, column.offsets, column.lengths,
                column.column.decompressing())

    def whole(self, docnum: int) -> dict[str, Any]:
        """Every stored field."""
        perdoc, docnum, mapped = self._columns(docnum)
        if mapped:
            head, texts_column, more_column = mapped
            fields = head[docnum] or {}
            more = more_column[docnum] if more_column is not None else None
            texts = texts_column[docnum] if texts_column is not None else None
            if more:
                fields = {**fields, **more}
            return {**fields, **texts} if texts else fields
        return perdoc.stored_fields(docnum) or {}
