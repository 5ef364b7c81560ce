"""Furet's segment writer: Whoosh's SegmentWriter with pooled words and flat postings.

`SegmentWriter` pools the words of Furet's text fields as columns
(search/whoosh/columns.py), hands Whoosh whole blocks of postings
(search/whoosh/private/blocks.py) with field lengths read in memory, adds the flat
postings file, writes with Furet's codec (search/whoosh/private/codec.py) and marks the
crash points of the commit; the parallel build writes segments in worker processes
(`open_part_writer`, `finish_part`, `commit_segments`). Written for whoosh-reloaded
WRITTEN_FOR (search/whoosh/private/__init__.py).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from whoosh.analysis import IDTokenizer, RegexTokenizer
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
from whoosh.columns import NumericColumn
from whoosh.fields import FieldType
from whoosh.formats import Existence, Frequency
from whoosh.system import pack_uint
from whoosh.util.numeric import byte_to_length
from whoosh.writing import SegmentWriter as WhooshSegmentWriter

from search.analysis import FrenchFilter
from search.faults import checkpoint
from search.feedback import FEEDBACK_WORDS
from search.schema import FREQ_BYTES, Parts, WeightedText
from search.whoosh.batch_stems import pack_numbered_batch
from search.whoosh.columns import SharedWords, TokenColumns
from search.whoosh.documents import PendingStems
from search.whoosh.numeric_columns import NumericColumns, numeric_columns
from search.whoosh.postings import EXTENSION as POSTINGS_EXTENSION
from search.whoosh.postings import FIELDS as POSTINGS_FIELDS
from search.whoosh.postings import write_postings
from search.whoosh.private.blocks import write_blocks
from search.whoosh.private.codec import PlainHeadCodec, SplitStoredCodec
from search.whoosh.private.perdoc import LATER, DocumentValues, Draining
from search.whoosh.segments import TermPool, positional_fields
from search.whoosh.value_columns import ValueColumns, value_columns

_INDEXED_KEPT = 10_000  # values of a field whose analysis a segment writer remembers
_NOT_SEEN: Any = object()  # (a set of field names not met yet: `SegmentWriter._orders`)

__all__ = ["SegmentWriter", "abandon_part", "commit_segments", "fast_index", "finish_part",
           "id_boost", "length_column", "open_part_writer"]


# ---------------------------------------------------------------- field lengths

_BYTE_TO_LENGTH = [byte_to_length(b) for b in range(256)]
_BYTE_TO_LENGTH_ARRAY = np.array(_BYTE_TO_LENGTH, dtype=np.int64)


def _length_columns(reader: Any, fieldnames: Any) -> dict[str, Any]:
    """Each field's document lengths (numpy, 0 where a document has none), read whole."""
    columns = {}
    doccount = reader.doc_count_all()
    for fieldname in fieldnames:
        column = reader._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN) \
            if hasattr(reader, "_cached_reader") else None
        if isinstance(column, NumericColumn.Reader) and column._fixedlen == 1:
            data = column._dbfile.get(column._basepos, min(column._count, doccount))
            found = np.zeros(doccount, dtype=np.uint8)
            found[:len(data)] = np.frombuffer(data, dtype=np.uint8)
            columns[fieldname] = _BYTE_TO_LENGTH_ARRAY[found]
        elif column is not None:
            values = length_column(reader, fieldname) or []
            columns[fieldname] = np.array([n or 0 for n in values], dtype=np.int64)
    return columns


def length_column(reader: Any, fieldname: str) -> list[int | None] | None:
    """Each document's length of `fieldname` (None where it has none) in one segment, from a
    SegmentReader or a per-document reader; None when the field has no lengths."""
    perdoc = getattr(reader, "_perdoc", reader)
    if not hasattr(perdoc, "_cached_reader"):
        return None
    column = perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
    if column is None:
        return None
    return [_BYTE_TO_LENGTH[b] if b else None for b in column]


# ---------------------------------------------------------------- whole-value fields

_SPACE_SEPARATED = RegexTokenizer(r"[^ \t\r\n]+").expression.pattern  # KEYWORD's default


def id_boost(field: Any) -> float | None:
    """The weight of an ID field's one posting (its value is its term, of frequency 1):
    its format's boost; None for any other field."""
    if type(field).index is FieldType.index and \
            type(getattr(field, "analyzer", None)) is IDTokenizer and \
            type(field.format) is Existence:
        return field.format.field_boost  # type: ignore[no-any-return]
    return None


def fast_index(field: Any) -> Any:
    """What `field.index(value)` gives for a text value, without Whoosh's token pipeline,
    for an ID field (the value is the term) and a space-separated KEYWORD field; None
    for any other field (a test checks both against Whoosh)."""
    if type(field).index is not FieldType.index:  # NUMERIC, DATETIME... make their terms
        return None
    analyzer, fmt = getattr(field, "analyzer", None), field.format
    boost = id_boost(field)
    if boost is not None:

        def whole(value: Any) -> Any:
            if not isinstance(value, str):
                return field.index(value)
            return ((value.encode("utf-8"), 1, boost, b""),)
        return whole
    if type(analyzer) is RegexTokenizer and not analyzer.gaps \
            and analyzer.expression.pattern == _SPACE_SEPARATED and type(fmt) is Frequency:
        boost, findall = fmt.field_boost, analyzer.expression.findall

        def spaced(value: Any) -> Any:
            if not isinstance(value, str):
                return field.index(value)
            counts: dict[str, int] = {}
            for word in findall(value):
                counts[word] = counts.get(word, 0) + 1
            # Whoosh sums a weight of 1.0 per occurrence: float(count), exactly.
            return [(word.encode("utf-8"), count, float(count) * boost,
                     FREQ_BYTES[count] if count < 256 else pack_uint(count))
                    for word, count in counts.items()]
        return spaced
    return None


def _feedback_terms(term: Any) -> bool:
    """True when `term` (a pooled field's analysis of a word) is the stem feedback keeps."""
    analysis = getattr(term, "__self__", None)
    return isinstance(analysis, FrenchFilter) and analysis == FrenchFilter(stem=True, stop=True)


def _french_of(term: Any) -> FrenchFilter | None:
    """The FrenchFilter whose `term` a pooled field's analysis is, else None."""
    analysis = getattr(term, "__self__", None)
    return analysis if type(analysis) is FrenchFilter and term == analysis.term else None


def _shared_words(terms: list[Any]) -> SharedWords | None:
    """One table of words for the pooled fields analysed by FrenchFilter (their stop
    words are the same: those its stopping filters drop), when there are several."""
    filters = [f for f in map(_french_of, terms) if f is not None]
    if len(filters) < 2:
        return None
    stopping = next((f for f in filters if f.stop), None)
    if stopping is None:
        return SharedWords(lambda word: False)
    term = stopping.term
    return SharedWords(lambda word: term(word) is None)


def _packed(fields: dict[str, Any]) -> dict[str, Any]:
    """`fields` with PendingStems packed (for Whoosh's own `add_document`)."""
    return {name: value.packed() if type(value) is PendingStems else value
            for name, value in fields.items()}


# ---------------------------------------------------------------- writing segments


class SegmentWriter(WhooshSegmentWriter):
    """Whoosh's SegmentWriter with a term-grouped pool, field lengths read in memory, the
    flat postings file, and the crash points of a commit (what it writes is what Whoosh
    writes: a test compares the files' contents)."""

    def __init__(self, ix: Any, **kwargs: Any) -> None:
        kwargs.setdefault("codec", PlainHeadCodec())
        super().__init__(ix, **kwargs)
        if self.compound and hasattr(self.storage, "assembled_later"):
            self.storage.assembled_later(self.newsegment)  # (its loose files: no fsync)
        self.pool.cleanup()
        self.pool = TermPool(positional_fields(self.schema))
        self.columns: dict[str, TokenColumns] = {}
        # Columns of the numeric and the whole-value fields, made by _plan.
        self.numeric: dict[str, NumericColumns] = {}
        self.whole: dict[str, ValueColumns] = {}
        self._indexed: dict[str, dict[Any, tuple[Any, ...]]] = {}
        self._names = frozenset(self.schema.names())
        self._orders: dict[tuple[str, ...], tuple[str, ...] | None] = {}  # `_order_of`
        self._plans: dict[str, tuple[Any, ...]] = {}
        self._fast: dict[str, Any] = {}  # field -> `fast_index(field)`
        # Per-document values written a batch at a time, with the codecs that store the
        # texts apart (Furet's); Whoosh's own calls reach its writer through `Draining`.
        self._values: DocumentValues | None = None
        if isinstance(self.codec, SplitStoredCodec):
            self._values = DocumentValues(self.perdocwriter)
            self.perdocwriter = Draining(self.perdocwriter, self._values)
        pooled_fields = {name: pooled for name, field in self.schema.items()
                         if (pooled := getattr(field, "pooled_analysis", lambda: None)())
                         is not None}
        shared = _shared_words([term for term, _, _ in pooled_fields.values()])
        for name, (term, positional, boost) in pooled_fields.items():
            french = _french_of(term)
            if shared is not None and french is not None:
                self.columns[name] = TokenColumns(term, positional, boost, shared=shared,
                                                  drops=french.stop)
            else:
                self.columns[name] = TokenColumns(term, positional, boost)
        # The pooled field whose terms are the stems feedback keeps (stemmed, stop words
        # dropped): `text` in Furet's schema.
        self._stems_from = next((columns for name, columns in self.columns.items()
                                 if name == "text" and _feedback_terms(columns.term)), None)
        # The words (start, end in the columns) of the stems not yet packed, a document's
        # each: packed a batch at a time when the batch's values are written.
        self._stem_spans: list[tuple[int, int]] = []
        # The words of the texts of the last Parts pooled (text -> `words(text)`): an
        # article's title is also the value of its `title` and `title_exact` fields.
        self._words_of: dict[str, list[str]] = {}
        self._last_parts: Any = None
        if self._values is not None:
            self._values.later = self._packed_stems

    def add_document(self, **fields: Any) -> None:
        """Whoosh's `add_document`, with the words of Furet's text fields pooled as
        columns (search/whoosh/columns.py) instead of a posting at a time."""
        values = self._values
        # The fields in Whoosh's order (sorted), worked out once per set of names in the
        # order given (an article's document gives the same names in the same order).
        names = tuple(fields)
        order = self._orders.get(names, _NOT_SEEN)
        if order is _NOT_SEEN:
            order = self._order_of(names)
        if values is None or order is None:
            # boosts and custom stored values (names starting with "_"), unknown fields
            return super().add_document(**_packed(fields))
        self._check_state()
        docnum, plans = self.docnum, self._plans
        add_post = self.pool.add
        stored: dict[str, Any] = {}
        texts: dict[str, Any] = {}
        more: dict[str, Any] = {}
        kept = (stored, texts, more)  # by `DocumentValues.split`: HEAD, TEXTS, MORE
        columns_of: list[tuple[str, str, Any, Any]] = []  # (field, column, Column, value)
        pending: tuple[int, PendingStems] | None = None  # (its place in columns_of, stems)
        text_parts, text_start = None, 0  # the stems' source: its value, its first word
        for fieldname in order:
            value = fields[fieldname]
            if value is None:
                continue
            plan = plans.get(fieldname) or self._plan(fieldname)
            (field, columns, indexed, scorable, keep, lenfield, column_type, parts_of,
             numeric, whole, boost) = plan
            if type(value) is PendingStems:
                if column_type and not indexed and keep is None:  # a column only: later
                    pending = (len(columns_of), value)
                    columns_of.append((fieldname, fieldname, column_type, None))
                    continue
                value = value.packed()
            length = 0
            if indexed:
                if columns is not None and type(value) is str:
                    length = columns.add_text(docnum, value, parts_of)
                elif columns is not None and (parts := field.parts_of(value)) is not None:
                    if type(value) is Parts and value is not self._last_parts:
                        self._last_parts = value
                        self._words_of = {text: found for (text, _), (found, _)
                                          in zip(value.items, parts, strict=True)}
                    if columns is self._stems_from:
                        text_parts, text_start = value, len(columns.tokens)
                    length = columns.add(docnum, parts)
                elif numeric is not None and \
                        (number := numeric.add(docnum, value)) is not None:
                    length = len(numeric.shifts)  # a posting a tier, each of frequency 1
                    if column_type:
                        columns_of.append((fieldname, fieldname, column_type,
                                           numeric.column_value(number)))
                        column_type = None  # its value written: not again below
                elif whole is not None:
                    length = whole.add_term(docnum, value.encode("utf-8"), boost) \
                        if boost is not None and type(value) is str \
                        else whole.add(docnum, self._index(fieldname, field, value))
                else:
                    for tbytes, freq, weight, vbytes in self._index(fieldname, field, value):
                        length += freq
                        add_post((fieldname, tbytes, docnum, weight, vbytes))
            if keep is not None:
                kept[keep][fieldname] = value
            if length and scorable:
                columns_of.append((fieldname, lenfield, LENGTHS_COLUMN, length))
            if column_type:
                columns_of.append((fieldname, fieldname, column_type,
                                   field.to_column_value(value)))
        if pending is not None:
            place, stems = pending
            fieldname, name, column_type, _ = columns_of[place]
            columns_of[place] = (fieldname, name, column_type,
                                 self._stems(stems, text_parts, text_start))
        values.add(stored, texts, columns_of, more)  # nothing of a document that failed
        self._added = True
        self.docnum += 1
        return None

    def _order_of(self, names: tuple[str, ...]) -> tuple[str, ...] | None:
        """The field names `names` sorted, or None when one is not a field of the schema."""
        order = tuple(sorted(names)) if set(names) <= self._names else None
        if len(self._orders) >= _INDEXED_KEPT:
            self._orders.clear()
        self._orders[names] = order
        return order

    def _stems(self, stems: PendingStems, parts: Any, start: int) -> Any:
        """The packed stems of the document whose `text` (`parts`) was just pooled from
        word `start` of its columns: when they are the stems feedback reads, LATER (counted
        from their term numbers with the batch's, `_packed_stems`; the same text as
        `pack_stems`, a test compares them), else packed now."""
        columns = self._stems_from
        if columns is None or parts is not stems.parts:
            return stems.packed()
        self._stem_spans.append((start, min(start + FEEDBACK_WORDS, len(columns.tokens))))
        return LATER

    def _packed_stems(self, count: int) -> list[bytes]:
        """The packed stems of the batch's documents (`count` of them, in order)."""
        spans, self._stem_spans = self._stem_spans, []
        columns = self._stems_from
        assert columns is not None and len(spans) == count, "stems lost their words"
        first = min(start for start, _ in spans)
        numbers = columns.term_numbers(first, max(end for _, end in spans))
        return [packed.encode() for packed in pack_numbered_batch(
            numbers, [(start - first, end - first) for start, end in spans], columns.terms,
            columns.dropped())]

    def _plan(self, fieldname: str) -> tuple[Any, ...]:
        """How a field's values are written: (field, its pooled columns or None, indexed,
        scorable, the stored column it goes to (`DocumentValues.split`) or None,
        its length column, its column type, the words of its text values, its numeric
        columns or None, its whole-value columns or None, the weight of its one posting
        when it is an ID field's, else None); worked out once per field."""
        assert self._values is not None
        field = self.schema[fieldname]
        if field.separate_spelling() or field.vector:
            raise NotImplementedError(f"{fieldname}: spelling or vector fields")
        keep = self._values.split(fieldname) if field.stored else None
        # WeightedText's words of a text value: those of the last Parts when it held it.
        parts_of = self._text_parts if getattr(type(field), "parts_of", None) \
            is WeightedText.parts_of else getattr(field, "parts_of", None)
        columns = self.columns.get(fieldname) if field.indexed else None
        numeric = numeric_columns(field) if field.indexed and columns is None else None
        if numeric is not None:
            self.numeric[fieldname] = numeric
        whole = value_columns(field) if field.indexed and columns is None \
            and numeric is None else None
        if whole is not None:
            self.whole[fieldname] = whole
        plan = (field, columns, bool(field.indexed), bool(field.scorable), keep,
                self._values.lenfield(fieldname), field.column_type, parts_of, numeric,
                whole, id_boost(field) if whole is not None else None)
        self._plans[fieldname] = plan
        if field.indexed:
            self._fast[fieldname] = fast_index(field)
        return plan

    def _text_parts(self, value: str) -> list[tuple[list[str], float]]:
        """`WeightedText.parts_of(value)` of a text value, its words taken from the last
        Parts pooled when it held the same text (`words` is a function of the text)."""
        found = self._words_of.get(value)
        if found is None:
            return WeightedText.parts_of(value)  # type: ignore[return-value]
        return [(found, 1.0)]

    def _index(self, fieldname: str, field: Any, value: Any) -> Any:
        """`field.index(value)`, remembered per field: sections, authors, languages, years
        and months repeat from article to article, and each ran Whoosh's analyzer."""
        fast = self._fast.get(fieldname)
        if fast is not None:
            return fast(value)
        if field.unique:
            return field.index(value)
        memo = self._indexed.setdefault(fieldname, {})
        try:
            return memo[value]
        except KeyError:
            pass
        except TypeError:  # a value that is no dictionary key
            return field.index(value)
        items = tuple(field.index(value))
        if len(memo) >= _INDEXED_KEPT:  # a field of values that seldom repeat
            memo.clear()
        memo[value] = items
        return items

    def columns_nbytes(self) -> int:
        """Memory held by the pooled words of this segment (vocabulary aside): what
        decides where a build cuts its segments. The numeric and whole-value fields'
        columns are left out (about 100 bytes an article, where the words take several
        kilobytes; Whoosh's per-posting pool they replace was not counted either), so
        segments end where they did."""
        return sum([columns.pooled_bytes for columns in self.columns.values()])

    def _flush_segment(self) -> None:
        if self._values is not None:
            self._values.write()  # the stems read the pooled words: before grouping them
        for fieldname, columns in self.columns.items():
            grouped = columns.grouped()
            if grouped is not None:
                self.pool.add_grouped(fieldname, grouped)
        for fieldname, pooled in sorted({**self.numeric, **self.whole}.items()):
            grouped = pooled.grouped()
            if grouped is not None:
                self.pool.add_grouped(fieldname, grouped)
        self.columns = {}
        self.perdocwriter.close()
        reader = self.per_document_reader() if self.codec.length_stats else None
        columns = _length_columns(reader, self.pool.fieldnames) if reader else None
        if reader:
            reader.close()
        write_blocks(self.fieldwriter, self.schema, self.pool, columns)
        self.fieldwriter.close()
        if self.docnum:
            out = self.newsegment.create_file(self.storage, POSTINGS_EXTENSION)
            write_postings(out, self.pool.by_field(POSTINGS_FIELDS))
            out.close()

    def _commit_toc(self, segments: Any) -> None:
        checkpoint("segment-written")
        super()._commit_toc(segments)
        checkpoint("toc-written")


def open_part_writer(ix: Any, limitmb: int) -> SegmentWriter:
    """A writer of one new segment of `ix`, in a worker process (the parent holds the
    index's lock and commits every worker's segment at once)."""
    return SegmentWriter(ix, _lk=False, limitmb=limitmb)


def finish_part(writer: SegmentWriter, empty: bool) -> Any:
    """The finished segment of a part writer (picklable), or None when it holds nothing."""
    if empty:
        writer._close_segment()
        return None
    return writer._finalize_segment()


def abandon_part(writer: SegmentWriter) -> None:
    """Stop a part writer after an error. Not `cancel()`: it would delete the temporary
    folder every worker shares (Whoosh names it after the index); the build is removed
    whole by its writer."""
    writer._close_segment()


def commit_segments(ix: Any, segments: list[Any]) -> None:
    """Write a table of contents holding `segments`: the new generation of `ix`."""
    writer = SegmentWriter(ix)
    writer._close_segment()
    writer._commit_toc(segments)
    writer._finish()
