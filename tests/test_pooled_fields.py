"""Numeric and whole-value fields pooled as arrays write what Whoosh's own writer writes."""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta, timezone

import pytest
from whoosh.fields import DATETIME, ID, KEYWORD, NUMERIC, STORED, Schema
from whoosh.filedb.filestore import RamStorage
from whoosh.formats import Frequency
from whoosh.writing import SegmentWriter as WhooshSegmentWriter

from search.whoosh.numeric_columns import NumericColumns, numeric_columns
from search.whoosh.private import SegmentWriter
from search.whoosh.value_columns import ValueColumns, value_columns


@pytest.fixture(autouse=True)
def _own_temp_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))


FIELDS = {
    "date": DATETIME(sortable=True),
    "year": NUMERIC(int, bits=32, sortable=True),
    "small": NUMERIC(int, bits=8, signed=False, shift_step=4),
    "short": NUMERIC(int, bits=16, shift_step=0),
    "price": NUMERIC(float, shift_step=16),
    "big": NUMERIC(int, bits=64, signed=True, shift_step=8, stored=True),
}
FIRST = datetime(1999, 12, 31, 23, 59, 58, 123456)


def _values(n: int) -> dict:
    return {"date": FIRST + timedelta(days=n * 37 % 400, seconds=n * 7919),
            "year": 1990 + n % 40 - (3000 if n % 11 == 0 else 0),
            "small": n % 256, "short": (n * 613) % 60000 - 30000,
            "price": (n % 90) * 0.25 - 7.5, "big": (n - 150) * 10**15 + n}


@pytest.mark.parametrize("name", sorted(FIELDS))
def test_terms_of_a_value_are_those_whoosh_indexes(name):
    field = FIELDS[name]
    columns = numeric_columns(field)
    assert columns is not None
    for n in range(300):
        value = _values(n)[name]
        expected = [term for term, freq, weight, value_bytes in field.index(value)]
        assert columns.terms(columns.sortable(value)) == expected
    if name == "date":  # strings, as Whoosh's DATETIME parses them
        value = "2021-06-15"
        assert columns.terms(columns.sortable(value)) == [t for t, *_ in field.index(value)]


def test_fields_whose_postings_are_not_the_tiers_alone_are_left_to_whoosh():
    class Halved(NUMERIC):
        def index(self, num, **kwargs):
            return super().index(num // 2, **kwargs)

    odd = NUMERIC(int)
    odd.format = Frequency()
    for field in (Halved(int), odd, ID(), KEYWORD()):
        assert numeric_columns(field) is None
    assert isinstance(numeric_columns(NUMERIC(int)), NumericColumns)


def test_equal_values_of_other_types_are_not_taken_for_one_another():
    from decimal import Decimal

    field = NUMERIC(int, decimal_places=2)
    columns = numeric_columns(field)
    for value in (5, Decimal(5), "5", True, 5.0, 1):
        number = columns.add(0, value)
        assert columns.terms(number) == [term for term, *_ in field.index(value)], value
    dates = numeric_columns(DATETIME())
    naive = datetime(2024, 3, 1, 12)
    # The same instant as `naive` read as UTC, but Whoosh drops the zone: another number.
    aware = datetime(2024, 3, 1, 13, tzinfo=timezone(timedelta(hours=1)))
    for value in (naive, aware):
        assert dates.terms(dates.add(0, value)) == [t for t, *_ in DATETIME().index(value)]


def test_values_it_does_not_take_are_refused_and_bad_ones_raise_as_whoosh():
    columns = numeric_columns(NUMERIC(int, bits=8, signed=False))
    assert not columns.add(0, [1, 2]) and not columns.add(0, b"\x00") and not columns.docs
    with pytest.raises(ValueError):
        columns.add(0, 300)
    with pytest.raises(ValueError):
        list(NUMERIC(int, bits=8, signed=False).index(300))
    assert not columns.docs


def _contents(ix) -> tuple:
    with ix.reader() as reader:
        items = {}
        for fieldname, term in reader.all_terms():
            m = reader.postings(fieldname, term)
            rows = []
            while m.is_active():
                rows.append((m.id(), m.weight(), m.value(), m.block_max_weight(),
                             m.block_max_id()))
                m.next()
            info = reader.term_info(fieldname, term)
            items[(fieldname, term)] = (rows, info.weight(), info.doc_frequency(),
                                        info.min_id(), info.max_id())
        stored = list(reader.all_stored_fields())
        sortable = {name: list(reader.column_reader(name, translate=False))
                    for name in ("date", "year") if reader.has_column(name)}
    return items, stored, sortable


def _build(writer_class, documents) -> tuple:
    ix = RamStorage().create_index(Schema(
        id=ID(stored=True, unique=True), note=STORED, lang=ID(field_boost=2.0),
        tags=KEYWORD(scorable=True, stored=True), words=KEYWORD(commas=True, lowercase=True),
        **FIELDS))
    writer = writer_class(ix)
    for fields in documents:
        writer.add_document(**fields)
    writer.commit()
    return _contents(ix)


def test_same_postings_and_columns_as_whoosh_many_documents_repeated_values():
    # Enough documents for terms of several blocks (128 postings), values repeating and
    # some documents without a field.
    documents = []
    for n in range(700):
        fields = {"id": f"d{n}", "note": n, "lang": "fr" if n % 3 else "en",
                  "tags": " ".join(f"t{(n * k) % 17}" for k in range(n % 6)),
                  "words": f"Port,ville,{'PORT,' * (n % 4)}q{n % 5}", **_values(n % 260)}
        if n % 9 == 0:
            del fields["date"]
        if n % 13 == 0:
            del fields["price"], fields["lang"]
        documents.append(fields)
    assert _build(SegmentWriter, documents) == _build(WhooshSegmentWriter, documents)


def test_same_postings_when_some_documents_give_lists_whoosh_indexes_itself():
    documents = [{"id": f"d{n}", **_values(n)} for n in range(200)]
    documents[5]["year"] = [1990, 2001, 1990]  # several numbers: Whoosh's own path
    documents[150]["small"] = [3, 250]
    assert _build(SegmentWriter, documents) == _build(WhooshSegmentWriter, documents)


def test_whole_value_fields_pooled_are_those_whoosh_indexes_through_their_format():
    assert isinstance(value_columns(ID()), ValueColumns)
    assert isinstance(value_columns(KEYWORD(scorable=True)), ValueColumns)
    odd = KEYWORD()
    odd.format = Frequency()
    assert isinstance(value_columns(odd), ValueColumns)
    for field in (NUMERIC(int), DATETIME()):
        assert value_columns(field) is None
    from whoosh.formats import Positions
    positions = KEYWORD()
    positions.format = Positions()
    assert value_columns(positions) is None


def test_value_columns_group_terms_in_byte_order_documents_in_order():
    columns = ValueColumns()
    columns.add(0, [(b"port", 2, 2.0, b""), (b"\xc3\xa9t\xc3\xa9", 1, 1.0, b"")])
    columns.add(1, [(b"ville", 1, 1.5, b"")])
    columns.add(4, [(b"port", 1, 1.0, b"")])
    grouped = columns.grouped()
    assert grouped.terms == [b"port", b"ville", b"\xc3\xa9t\xc3\xa9"]
    assert grouped.starts.tolist() == [0, 2, 3, 4]
    assert grouped.docs.tolist() == [0, 4, 1, 0]
    assert grouped.weights.tolist() == [2.0, 1.0, 1.5, 1.0]
    assert grouped.counts.tolist() == [2, 1, 1, 1]
    assert columns.grouped() is None  # emptied
