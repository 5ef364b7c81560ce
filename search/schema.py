"""The Whoosh schema of a Furet index, and the weighted text field it is built on.

Ranking is BM25F: the title, the lead and the body of an article are indexed into one
`text` field (stemmed) and one `exact` field (folded, unstemmed, with positions for
phrases), each token weighted by the part it comes from. Summing weighted frequencies
before BM25's saturation is what BM25F does, and a query walks one posting list per term
and field instead of three.

Whoosh pickles this schema into every index: `WeightedText` and `Parts` keep their names
and module. Changing fields means a new SCHEMA_VERSION and a rebuild.
"""

from __future__ import annotations

import re
import struct
import sys
import threading
import zlib
from array import array
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import zstandard
from whoosh.analysis import Analyzer, Token
from whoosh.columns import (
    ColumnReader,
    ColumnWriter,
    RefBytesColumn,
    VarBytesColumn,
)
from whoosh.fields import COLUMN, DATETIME, ID, KEYWORD, NUMERIC, STORED, TEXT, Schema
from whoosh.formats import Positions
from whoosh.system import pack_uint

from search.analysis import (
    FoldingTokenizer,
    FrenchFilter,
    exact_analyzer,
    fold,
    french_analyzer,
    words,
)

SCHEMA_VERSION = 1

# Weight of each part of an article in the `text` and `exact` fields (BM25F field weights).
TITLE_WEIGHT = 3.0
LEAD_WEIGHT = 1.5
BODY_WEIGHT = 1.0
# Positions left empty between parts, so a phrase never spans the title and the lead.
PART_GAP = 100


class Parts:
    """Text in weighted parts, the value of a `WeightedText` field: ((text, weight), ...)."""

    __slots__ = ("items", "_words")

    def __init__(self, items: Sequence[tuple[str, float]]) -> None:
        self.items = tuple((text, float(weight)) for text, weight in items if text)
        self._words: list[tuple[list[str], float]] | None = None

    def words(self) -> list[tuple[list[str], float]]:
        """(words, weight) of each part; computed once for all the fields that index it."""
        if self._words is None:
            self._words = [(words(text), weight) for text, weight in self.items]
        return self._words

    def __getstate__(self) -> tuple[tuple[str, float], ...]:
        return self.items

    def __setstate__(self, state: tuple[tuple[str, float], ...]) -> None:
        self.items = state
        self._words = None

    def __repr__(self) -> str:
        return f"Parts({self.items!r})"


class _PartsAnalyzer:
    """Runs an analyzer over each part of a `Parts`, weighting and spacing its tokens."""

    def __init__(self, analyzer: Analyzer) -> None:
        self.analyzer = analyzer

    def __call__(self, value: Parts, **kwargs: Any) -> Iterator[Token]:
        start_pos = 0
        for text, weight in value.items:
            last = start_pos - 1
            for token in self.analyzer(text, start_pos=start_pos, **kwargs):
                token.boost = weight
                last = token.pos if kwargs.get("positions") else last
                yield token
            start_pos = last + 1 + PART_GAP


# A posting's frequency as Whoosh stores it, for the counts under 256: shared, not one bytes
# object a posting (the writers below and in search/whoosh use it).
FREQ_BYTES = [pack_uint(n) for n in range(256)]


def _french_filter(analyzer: Any) -> FrenchFilter | None:
    """The FrenchFilter of a `FoldingTokenizer | FrenchFilter` analyzer, else None."""
    items = getattr(analyzer, "items", ())
    if len(items) == 2 and isinstance(items[0], FoldingTokenizer) \
            and isinstance(items[1], FrenchFilter):
        return items[1]
    return None


class CompactPositions(Positions):
    """Positions as an array of 32-bit integers: Whoosh's pickled deltas cost more to make.

    Used by the `exact` fields, which index every word with its position for phrases.
    """

    def encode(self, poslist: Sequence[int]) -> bytes:
        data = array("I", poslist)
        if _SWAP:
            data.byteswap()
        return data.tobytes()

    def decode_positions(self, valuestring: bytes) -> list[int]:
        data = array("I")
        data.frombytes(valuestring)
        if _SWAP:
            data.byteswap()
        return data.tolist()

    def decode_frequency(self, valuestring: bytes) -> int:
        return len(valuestring) // 4

    def decode_weight(self, valuestring: bytes) -> float:
        return self.decode_frequency(valuestring) * self.field_boost


_SWAP = sys.byteorder != "little"  # index files are little-endian everywhere


class WeightedText(TEXT):
    """A TEXT field whose value may be `Parts`: each token weighs what its part weighs.

    With Furet's analyzers, indexing takes a fast path that yields exactly what Whoosh's
    token pipeline would (a test checks it) without making a Token per word: it is where
    most of the indexing time went.
    """

    def index(self, value: Any, **kwargs: Any) -> Any:
        parts = self.parts_of(value)
        french = _french_filter(self.analyzer)
        if parts is not None and french is not None and not kwargs:
            return self._fast_index(parts, french)
        return self._token_index(value, **kwargs)

    def pooled_analysis(self) -> tuple[Any, bool, float] | None:
        """(word -> term or None, positional, field boost) when this field's words can be
        pooled as columns (search/whoosh/columns.py): Furet's analyzer, and positional
        fields keep every word. None: the field is indexed Whoosh's way."""
        french = _french_filter(self.analyzer)
        positional = self.format.supports("positions")
        if french is None or (positional and french.stop):
            return None
        return french.term, positional, self.format.field_boost

    @staticmethod
    def parts_of(value: Any) -> list[tuple[list[str], float]] | None:
        """(words, weight) of each part of a value, or None for a value of another type."""
        return value.words() if isinstance(value, Parts) else \
            [(words(value), 1.0)] if isinstance(value, str) else None

    def _token_index(self, value: Any, **kwargs: Any) -> Any:
        """Whoosh's way: the analyzer's token stream through the field's format."""
        if not isinstance(value, Parts):
            return super().index(value, **kwargs)
        analyzer = _PartsAnalyzer(self.analyzer)
        items = self.format.word_values(value, analyzer, mode="index", **kwargs)
        return ((text.encode("utf-8"), freq, weight, vbytes)
                for text, freq, weight, vbytes in items)

    def _fast_index(self, parts: Sequence[tuple[list[str], float]], french: FrenchFilter
                    ) -> list[tuple[bytes, int, float, bytes]]:
        term = french.term
        boost = self.format.field_boost
        weights: dict[str, float] = {}
        if not self.format.supports("positions"):
            freqs: dict[str, int] = {}
            for part, weight in parts:
                for word in part:
                    t = term(word)
                    if t is not None:
                        freqs[t] = freqs.get(t, 0) + 1
                        weights[t] = weights.get(t, 0.0) + weight
            return [(t.encode("utf-8"), f, weights[t] * boost,
                     FREQ_BYTES[f] if f < 256 else pack_uint(f)) for t, f in freqs.items()]
        positions: dict[str, list[int]] = {}
        start = 0
        for part, weight in parts:
            last = start - 1
            for pos, word in enumerate(part, start):
                t = term(word)
                if t is not None:
                    if t in positions:
                        positions[t].append(pos)
                    else:
                        positions[t] = [pos]
                    weights[t] = weights.get(t, 0.0) + weight
                    last = pos
            start = last + 1 + PART_GAP
        encode = self.format.encode
        return [(t.encode("utf-8"), len(p), weights[t] * boost, encode(p))
                for t, p in positions.items()]

    def spellable_words(self, value: Any) -> Any:
        if isinstance(value, Parts):
            value = " ".join(text for text, _ in value.items)
        return super().spellable_words(value)


class ValuesColumn(RefBytesColumn):
    """Whoosh's RefBytesColumn (each distinct value once, a number per document), keeping
    every value: Whoosh's own writer turns values past 65,535 distinct ones in a segment
    into the default, here the numbers widen to 32 bits. Read by Whoosh's own reader."""

    def writer(self, dbfile: Any) -> ColumnWriter:
        return _ValuesWriter(dbfile, self._default)


class _ValuesWriter(ColumnWriter):
    def __init__(self, dbfile: Any, default: bytes) -> None:
        self._dbfile = dbfile
        self._refs = array("I")
        self._uniques = {default: 0}

    def add(self, docnum: int, value: bytes) -> None:
        self.fill(docnum)
        ref = self._uniques.setdefault(value, len(self._uniques))
        self._refs.append(ref)

    def fill(self, docnum: int) -> None:
        if docnum > len(self._refs):
            self._refs.extend(bytes(docnum - len(self._refs)))

    def finish(self, doccount: int) -> None:
        self.fill(doccount)
        count = len(self._uniques)
        typecode = "B" if count <= 256 else "H" if count <= 65536 else "I"
        dbfile = self._dbfile
        dbfile.write_array(array(typecode, self._refs))  # big-endian, as Whoosh reads it
        dbfile.write_varint(count)
        for value in self._uniques:  # in order of their numbers (dicts keep it)
            dbfile.write_varint(len(value))
            dbfile.write(value)
        dbfile.write_byte(ord(typecode))


class SharedDictColumn(VarBytesColumn):
    """Byte strings compressed one by one with a dictionary shared by the segment's values.

    Whoosh's CompressedBytesColumn compresses each value alone: a short article or a few
    stored fields gain little, every value repeating the same field names, addresses and
    legal phrases. Here the first values of a segment (up to SAMPLE_VALUES) are sampled
    into a zlib dictionary of up to DICT_BYTES, stored at the end of the column, and every
    value is compressed with it (about 40 % smaller on legi-fr's stored fields; reading a
    value costs the same). Layout: Whoosh's VarBytesColumn of the compressed values (raw
    deflate streams; zlib's own when the segment's first values were all empty), then the
    dictionary, then its length (uint32, little-endian).
    """

    SAMPLE_VALUES = 1024  # values of a segment sampled into its dictionary
    DICT_BYTES = 16384
    LEVEL = 6

    def writer(self, dbfile: Any) -> ColumnWriter:
        return _SharedDictWriter(dbfile)

    def reader(self, dbfile: Any, basepos: int, length: int, doccount: int) -> ColumnReader:
        return SharedDictReader(dbfile, basepos, length, doccount)


# Raw deflate streams: zlib's header and checksum cost 6 bytes a value, and checking the
# dictionary's checksum took as long as inflating a stored article.
RAW_DEFLATE = -15


def _sampled_dictionary(values: Sequence[bytes], size: int) -> bytes:
    """Whole values taken evenly from `values`, about `size` bytes of them."""
    total = sum(len(v) for v in values)
    if not total:
        return b""
    wanted = -(-size * len(values) // total)  # values of average length filling `size`
    return b"".join(values[::max(1, len(values) // wanted)])[-size:]


class _SharedDictWriter(VarBytesColumn.Writer):
    def __init__(self, dbfile: Any) -> None:
        super().__init__(dbfile)
        self._pending: list[tuple[int, bytes]] | None = []  # values before the dictionary
        self._zdict = b""
        self._compressor: Any = None

    def add(self, docnum: int, v: bytes) -> None:
        if self._pending is None:
            super().add(docnum, self._compress(v))
            return
        self._pending.append((docnum, v))
        if len(self._pending) >= SharedDictColumn.SAMPLE_VALUES:
            self._start()

    def _start(self) -> None:
        pending, self._pending = self._pending or [], None
        self._zdict = _sampled_dictionary([v for _, v in pending], SharedDictColumn.DICT_BYTES)
        if self._zdict:
            self._compressor = zlib.compressobj(SharedDictColumn.LEVEL, zlib.DEFLATED,
                                                RAW_DEFLATE, 8, zlib.Z_DEFAULT_STRATEGY,
                                                self._zdict)
        for docnum, v in pending:
            super().add(docnum, self._compress(v))

    def _compress(self, v: bytes) -> bytes:
        if not v:
            return v
        if self._compressor is None:
            return zlib.compress(v, SharedDictColumn.LEVEL)
        c = self._compressor.copy()  # cheaper than setting the dictionary again
        return c.compress(v) + c.flush()

    def finish(self, doccount: int) -> None:
        if self._pending is not None:
            self._start()
        super().finish(doccount)
        self._dbfile.write(self._zdict)
        self._dbfile.write(struct.pack("<I", len(self._zdict)))


class SharedDictReader(VarBytesColumn.Reader):
    def __init__(self, dbfile: Any, basepos: int, length: int, doccount: int) -> None:
        (size,) = struct.unpack("<I", dbfile.get(basepos + length - 4, 4))
        self._zdict = bytes(dbfile.get(basepos + length - 4 - size, size))
        super().__init__(dbfile, basepos, length - 4 - size, doccount)

    def decompress(self, v: bytes) -> bytes:
        """A value as it was added, from its compressed bytes."""
        if not v:
            return b""
        if not self._zdict:
            return zlib.decompress(v)
        return zlib.decompressobj(RAW_DEFLATE, self._zdict).decompress(v)

    def decompressing(self) -> Callable[[bytes], bytes]:
        """What decompresses a value that is not empty (`decompress`)."""
        return self.decompress

    def __getitem__(self, docnum: int) -> bytes:
        return self.decompress(super().__getitem__(docnum))

    def __iter__(self) -> Iterator[bytes]:
        for v in super().__iter__():
            yield self.decompress(v)

    def load(self) -> list[bytes]:
        return list(self)


class ZstdDictColumn(VarBytesColumn):
    """Byte strings compressed one by one with zstd and a dictionary trained per segment.

    SharedDictColumn's successor for new segments (its segments are still read). A
    segment's first values (up to SAMPLE_VALUES of them or SAMPLE_BYTES, whichever comes
    first) are held until a zstd dictionary is trained on TRAIN_VALUES of them taken
    evenly; the dictionary (up to DICT_BYTES, and a sixteenth of the bytes trained on) is
    stored at the end of the column, and every value is compressed alone with it. When
    the values are too few or too uniform to train on, the sampled values themselves are
    the dictionary; when they are fewer still, or every one is empty, there is none.

    Layout: Whoosh's VarBytesColumn of the compressed values (zstd frames without their
    magic number, checksum or dictionary id; an empty value stays empty), then the
    dictionary, then its length (uint32, little-endian) and its kind (one byte: 0 none,
    1 raw content, 2 trained).
    """

    SAMPLE_VALUES = 16384  # a segment's first values, seen before its dictionary is made
    SAMPLE_BYTES = 8 << 20  # (or fewer, when they hold this many bytes)
    TRAIN_VALUES = 4096  # of which this many, taken evenly, train it
    DICT_BYTES = 65536
    SAMPLE_PER_DICT_BYTE = 16  # at most a sixteenth of the bytes trained on
    MIN_DICT_BYTES = 256  # a smaller dictionary is none
    LEVEL = 3
    # Training's parameters (fastCover's segment and d-mer sizes), fixed: letting zstd
    # search for them took five times as long for the same sizes.
    TRAIN_K = 537
    TRAIN_D = 8
    # Its table of d-mer frequencies, 2^18 entries instead of zstd's 2^20: a third less
    # CPU to train (the 90,078 legi-fr articles' four segments: 0.52 against 0.74 s), the
    # columns as small (46.52 MB against 46.55).
    TRAIN_F = 18

    def writer(self, dbfile: Any) -> ColumnWriter:
        return _ZstdDictWriter(dbfile)

    def reader(self, dbfile: Any, basepos: int, length: int, doccount: int) -> ColumnReader:
        return ZstdDictReader(dbfile, basepos, length, doccount)


NO_DICT, RAW_CONTENT_DICT, TRAINED_DICT = 0, 1, 2
_DICT_TYPES = {RAW_CONTENT_DICT: zstandard.DICT_TYPE_RAWCONTENT,
               TRAINED_DICT: zstandard.DICT_TYPE_FULLDICT}
_ZSTD_FORMAT = zstandard.FORMAT_ZSTD1_MAGICLESS
_TRAILER = struct.Struct("<IB")  # the dictionary's length and kind


def zstd_dictionary(values: Sequence[bytes]) -> tuple[int, bytes]:
    """(kind, bytes) of the dictionary ZstdDictColumn makes from a segment's first
    non-empty `values`."""
    column = ZstdDictColumn
    samples = values[::max(1, len(values) // column.TRAIN_VALUES)]
    size = min(column.DICT_BYTES, sum(map(len, samples)) // column.SAMPLE_PER_DICT_BYTE)
    if size < column.MIN_DICT_BYTES:
        return NO_DICT, b""
    try:
        trained = zstandard.train_dictionary(size, list(samples), k=column.TRAIN_K,
                                             d=column.TRAIN_D, f=column.TRAIN_F,
                                             level=column.LEVEL)
    except zstandard.ZstdError:  # too little (or too uniform) data to train on
        return RAW_CONTENT_DICT, _sampled_dictionary(samples, size)
    return TRAINED_DICT, trained.as_bytes()


def _zstd_dict(kind: int, data: bytes) -> zstandard.ZstdCompressionDict | None:
    if kind == NO_DICT:
        return None
    return zstandard.ZstdCompressionDict(data, dict_type=_DICT_TYPES[kind])


def zstd_compressor(kind: int, data: bytes) -> zstandard.ZstdCompressor:
    """The compressor of ZstdDictColumn's values with this dictionary."""
    params = zstandard.ZstdCompressionParameters.from_level(
        ZstdDictColumn.LEVEL, format=_ZSTD_FORMAT, write_content_size=True,
        write_checksum=False, write_dict_id=False)
    zdict = _zstd_dict(kind, data)
    if zdict is None:
        return zstandard.ZstdCompressor(compression_params=params)
    zdict.precompute_compress(compression_params=params)
    return zstandard.ZstdCompressor(dict_data=zdict, compression_params=params)


class BatchWriter(VarBytesColumn.Writer):
    """VarBytesColumn's writer, with `add` of many values in one call."""

    def append_values(self, docnums: Sequence[int], values: Sequence[Any]) -> None:
        """`add` of each (docnum, value), docnums rising: the same bytes and arrays,
        without its calls a value (to fill, to write, to append twice)."""
        lengths: list[int] = []
        offsets: list[int] = []
        base, count = self._offset_base, self._count
        for docnum, value in zip(docnums, values, strict=True):
            if docnum > count:  # documents without a value: length 0
                lengths.extend([0] * (docnum - count))
                offsets.extend([base] * (docnum - count))
            size = len(value)
            lengths.append(size)
            offsets.append(base)
            base += size
            count = docnum + 1
        self._dbfile.write(b"".join(values))
        _extend(self._lengths, lengths)
        _extend(self._offsets, offsets)
        self._offset_base, self._count = base, count


class _ZstdDictWriter(BatchWriter):
    def __init__(self, dbfile: Any) -> None:
        super().__init__(dbfile)
        self._pending: list[tuple[int, bytes]] | None = []  # values before the dictionary
        self._pending_bytes = 0
        self._kind, self._zdict = NO_DICT, b""
        self._compressor: Any = None
        self._compress: Any = None

    def add(self, docnum: int, v: bytes) -> None:
        if self._pending is None:
            super().add(docnum, self._compress(v) if v else v)
            return
        self._pending.append((docnum, v))
        self._pending_bytes += len(v)
        if len(self._pending) >= ZstdDictColumn.SAMPLE_VALUES or \
                self._pending_bytes >= ZstdDictColumn.SAMPLE_BYTES:
            self._start()

    def add_many(self, docnums: Sequence[int], values: Sequence[bytes]) -> None:
        """`add` of each (docnum, value), in order: what it writes, a batch at a time."""
        n = self._hold(docnums, values) if self._pending is not None else 0
        if n < len(values):
            self.append_values(docnums[n:], self._frames(values[n:]))

    def _frames(self, values: Sequence[bytes]) -> Sequence[Any]:
        """The compressed values (an empty one stays empty): zstd's frames, bytes or
        bytes-like, each the bytes `compress` gives. Compressed in one call where the
        wheel can (`multi_compress_to_buffer`, about 15 % less CPU than a call a value)."""
        kept = [v for v in values if v]
        try:
            found: Sequence[Any] = self._compressor.multi_compress_to_buffer(
                kept, threads=0) if kept else []  # (0: in this thread, none started)
        except (AttributeError, NotImplementedError):  # a backend without it
            compress = self._compress
            return [compress(v) if v else v for v in values]
        if len(kept) == len(values):
            return found
        each = iter(found)
        return [next(each) if v else v for v in values]

    def _hold(self, docnums: Sequence[int], values: Sequence[bytes]) -> int:
        """`add` of the first values until the dictionary is made (then compressed
        with the values held before): how many were taken."""
        pending = self._pending
        assert pending is not None
        held = self._pending_bytes
        most_values, most_bytes = ZstdDictColumn.SAMPLE_VALUES, ZstdDictColumn.SAMPLE_BYTES
        for n, (docnum, v) in enumerate(zip(docnums, values, strict=True)):
            pending.append((docnum, v))
            held += len(v)
            if len(pending) >= most_values or held >= most_bytes:
                self._pending_bytes = held
                self._start()
                return n + 1
        self._pending_bytes = held
        return len(values)

    def _start(self) -> None:
        pending, self._pending = self._pending or [], None
        self._kind, self._zdict = zstd_dictionary([v for _, v in pending if v])
        self._compressor = zstd_compressor(self._kind, self._zdict)
        self._compress = self._compressor.compress
        self.append_values([docnum for docnum, _ in pending], self._frames([v for _, v in pending]))

    def finish(self, doccount: int) -> None:
        if self._pending is not None:
            self._start()
        super().finish(doccount)
        self._dbfile.write(self._zdict)
        self._dbfile.write(_TRAILER.pack(len(self._zdict), self._kind))


def _extend(numbers: Any, values: list[int]) -> None:
    """GrowableArray.extend (whoosh.util.numlists) without a call a value while the
    values fit its array (a value past it: its own `extend`, which widens the array)."""
    if not values:
        return
    try:
        more = array(numbers.array.typecode, values)
    except OverflowError:  # wider than the array: its own `extend`, which widens it
        numbers.extend(values)
        return
    numbers.array.extend(more)


class ZstdDictReader(VarBytesColumn.Reader):
    """Reads ZstdDictColumn's values; safe to share between threads (each thread reads
    with a decompressor of its own, made on its first value)."""

    def __init__(self, dbfile: Any, basepos: int, length: int, doccount: int) -> None:
        end = basepos + length - _TRAILER.size
        size, kind = _TRAILER.unpack(bytes(dbfile.get(end, _TRAILER.size)))
        if kind not in (NO_DICT, *_DICT_TYPES):
            raise ValueError(f"unknown kind of dictionary {kind} in a zstd column")
        self._zdict = _zstd_dict(kind, bytes(dbfile.get(end - size, size)))
        self._local = threading.local()
        super().__init__(dbfile, basepos, length - _TRAILER.size - size, doccount)

    def _decompressor(self) -> zstandard.ZstdDecompressor:
        made = self._local.decompressor = zstandard.ZstdDecompressor(
            dict_data=self._zdict, format=_ZSTD_FORMAT)
        return made

    def decompress(self, v: bytes) -> bytes:
        """A value as it was added, from its compressed bytes."""
        if not v:
            return b""
        try:
            decompressor = self._local.decompressor
        except AttributeError:
            decompressor = self._decompressor()
        return decompressor.decompress(v)  # type: ignore[no-any-return]

    def decompressing(self) -> Callable[[bytes], bytes]:
        """What decompresses a value that is not empty, in the calling thread: its
        decompressor's own method (`decompress` without the test of an empty value and the
        look-up of the thread's decompressor, once for many values)."""
        try:
            decompressor = self._local.decompressor
        except AttributeError:
            decompressor = self._decompressor()
        return decompressor.decompress  # type: ignore[no-any-return]

    def __getitem__(self, docnum: int) -> bytes:
        return self.decompress(super().__getitem__(docnum))

    def __iter__(self) -> Iterator[bytes]:
        for v in super().__iter__():
            yield self.decompress(v)

    def load(self) -> list[bytes]:
        return list(self)


def _positional(field: WeightedText) -> WeightedText:
    field.format = CompactPositions(field_boost=field.format.field_boost)
    return field


def build_schema() -> Schema:
    """Return a new schema for a Furet index."""
    french, exact = french_analyzer(), exact_analyzer()
    return Schema(
        id=ID(stored=True, unique=True),
        url=ID(stored=True),
        # Searchable text: title, lead and body as weighted parts (see module docstring).
        text=WeightedText(analyzer=french, phrase=False),
        exact=_positional(WeightedText(analyzer=exact, phrase=True)),
        # Fields a reader can name: titre:, auteur:, rubrique:.
        title=WeightedText(analyzer=french, phrase=False, stored=True),
        title_exact=_positional(WeightedText(analyzer=exact, phrase=True)),
        author_terms=_positional(WeightedText(analyzer=exact, phrase=True)),
        section_terms=_positional(WeightedText(analyzer=exact, phrase=True)),
        # Exact values for filters and facets.
        section=ID(stored=True, sortable=ValuesColumn()),
        author=KEYWORD(commas=True, scorable=False),
        tag=KEYWORD(commas=True, lowercase=True, scorable=False),
        # Hyphenated words as written (folded): "etats-unis", for did-you-mean.
        compound=KEYWORD(scorable=False),
        date=DATETIME(sortable=True),
        year=NUMERIC(int, bits=32, sortable=True),
        month=NUMERIC(int, bits=32, sortable=True),
        lang=ID(stored=True),
        # Shown, never searched.
        lead=STORED,
        body=STORED,
        published=STORED,
        modified=STORED,
        authors=STORED,
        tags=STORED,
        source=STORED,
        path=STORED,
        hash=STORED,
        # The stems feedback reads for a question (search/feedback.py `pack_stems`), as a
        # column: read without unpacking the stored text. Indexes built without it
        # analyse the stored text again.
        stems=COLUMN(ZstdDictColumn()),
    )


# Starting only at the start of a word: the same matches, without retrying inside each word;
# the word taken whole (possessive: a shorter start is never followed by a hyphen).
_COMPOUND = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9]++(?:-[A-Za-z0-9]+)+")


# Every byte but letters, digits and "-" made a space: the pieces holding a hyphen are the
# only places a hyphenated word can be (the pattern then reads them, not the whole text).
_HYPHENATED = bytes(c if chr(c).isascii() and (chr(c).isalnum() or chr(c) == "-") else 32
                    for c in range(256))


def compounds(*texts: str) -> str:
    """The hyphenated words of `texts`, folded and lowercased, space-separated."""
    folded = [f for f in map(fold, texts) if "-" in f]  # (characters folding to "-" too)
    found = {m.lower() for text in folded for m in _COMPOUND.findall(_hyphenated(text))}
    return " ".join(sorted(found))


def _hyphenated(folded: str) -> str:
    """The pieces of `folded` (between what is no letter, digit or "-") holding a hyphen,
    space-separated: the pattern finds the same words in them as in the whole text."""
    if not folded.isascii():
        return folded
    spaced = folded.encode("ascii").translate(_HYPHENATED).decode("ascii")
    # A hyphen at a time, not a piece at a time: the piece around each hyphen, then the
    # next hyphen after it (most words hold none).
    pieces = []
    hyphen = spaced.find("-")
    while hyphen >= 0:
        end = spaced.find(" ", hyphen)
        if end < 0:
            end = len(spaced)
        pieces.append(spaced[spaced.rfind(" ", 0, hyphen) + 1:end])
        hyphen = spaced.find("-", end)
    return " ".join(pieces)


def keyword(value: str) -> str:
    """An author, section or tag as a KEYWORD term: commas would split it, so they go."""
    return " ".join(value.replace(",", " ").split())
