"""ID and space-separated KEYWORD fields indexed without Whoosh's token pipeline: the same
postings as `field.index`."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh.fields import BOOLEAN, DATETIME, ID, KEYWORD, NUMERIC, TEXT

from search.schema import build_schema
from search.whoosh.private.writing import fast_index

_TEXT = st.text(alphabet=st.sampled_from(list("ab-é \t\r\n,\u00a0x1")), max_size=30)


def _postings(field, value):
    return list(field.index(value))


@settings(max_examples=300, deadline=None)
@given(_TEXT)
def test_id_fields_give_whooshs_postings(value):
    for field in (ID(stored=True, unique=True), ID(field_boost=2.5)):
        assert list(fast_index(field)(value)) == _postings(field, value)


@settings(max_examples=300, deadline=None)
@given(_TEXT)
def test_space_separated_keywords_give_whooshs_postings(value):
    for field in (KEYWORD(scorable=False), KEYWORD(field_boost=1.5)):
        assert list(fast_index(field)(value)) == _postings(field, value)


def test_repeated_keywords_count_and_weigh_as_in_whoosh():
    field = KEYWORD(field_boost=2.0)
    value = " ".join(["mot"] * 300 + ["autre", "mot"])
    assert list(fast_index(field)(value)) == _postings(field, value)


def test_values_that_are_no_text_go_through_whoosh():
    field = KEYWORD()
    assert list(fast_index(field)(["a", "b", "a"])) == _postings(field, ["a", "b", "a"])


def test_other_analyzers_and_formats_keep_whooshs_path():
    for field in (KEYWORD(lowercase=True), KEYWORD(commas=True), TEXT(), NUMERIC(int),
                  DATETIME(), BOOLEAN()):
        assert fast_index(field) is None


def test_furets_whole_value_fields_take_the_fast_path():
    schema = build_schema()
    for name in ("id", "url", "section", "lang", "compound"):
        assert fast_index(schema[name]) is not None
    for name in ("tag", "author", "text", "year", "month", "date"):
        assert fast_index(schema[name]) is None


@settings(max_examples=100, deadline=None)
@given(st.lists(_TEXT, min_size=1, max_size=20))
def test_an_id_fields_one_term_pooled_as_its_postings_are(values):
    from search.whoosh.private.writing import id_boost
    from search.whoosh.value_columns import ValueColumns

    for field in (ID(stored=True, unique=True), ID(field_boost=2.5)):
        boost = id_boost(field)
        assert boost == field.format.field_boost
        by_term, by_items = ValueColumns(), ValueColumns()
        for docnum, value in enumerate(values):
            assert by_term.add_term(docnum, value.encode("utf-8"), boost) == \
                by_items.add(docnum, fast_index(field)(value))
        one, other = by_term.grouped(), by_items.grouped()
        assert one.terms == other.terms and one.starts.tolist() == other.starts.tolist()
        for name in ("docs", "weights", "counts"):
            assert getattr(one, name).tolist() == getattr(other, name).tolist()
    for field in (KEYWORD(), TEXT(), NUMERIC(), DATETIME(), BOOLEAN(), ID(analyzer=None)):
        assert id_boost(field) is None or type(field) is ID
