"""A SearchRequest is made by its own `__init__` (its fields written at once, not through
the frozen dataclass's one by one): the same signature, fields, checks and messages."""

from __future__ import annotations

import inspect
from dataclasses import MISSING, fields, replace

import pytest

from search.errors import QueryError
from search.query import parse_query
from search.ranking import DEFAULT_RANKING, Ranking
from search.request import Filters, SearchRequest
from search.synonyms import Synonyms, parse_rules


def test_the_signature_is_the_dataclass_fields():
    init = [f for f in fields(SearchRequest) if f.init]
    parameters = list(inspect.signature(SearchRequest).parameters.values())
    assert [p.name for p in parameters] == [f.name for f in init]
    for parameter, spec in zip(parameters, init, strict=True):
        default = spec.default_factory() if spec.default is MISSING else spec.default
        assert parameter.default == default, spec.name
    assert all(p.kind is p.POSITIONAL_OR_KEYWORD for p in parameters)


def test_every_field_is_set_in_the_dataclass_order():
    request = SearchRequest("haifa")
    assert list(request.__dict__) == [f.name for f in fields(SearchRequest) if f.init] + [
        "parsed_filters", "query_text", "parsed"]
    assert request.__dict__ == {
        "query": "haifa", "page": 1, "per_page": 10, "sort": "relevance", "filters": {},
        "recency_half_life": 0.0, "recency_weight": 0.5, "facets": True,
        "correct_spelling": True, "snippets": True, "ranking": DEFAULT_RANKING,
        "synonyms": None, "hidden": frozenset(), "parsed_filters": Filters(),
        "query_text": "haifa", "parsed": parse_query("haifa")}
    assert type(request.filters) is dict and request.filters is not SearchRequest().filters


def test_values_are_checked_and_kept_as_before():
    request = SearchRequest("Gaza 19e siècle", page=2, per_page=20, sort="newest",
                            filters={"section": ["Monde", ""], "year": [2024, None], "tag": "X",
                                     "author": None},
                            recency_half_life=3.0, hidden=["b", "a"])
    assert request.filters == {"section": ("Monde",), "year": (2024,), "tag": ("X",)}
    assert request.parsed_filters == Filters(sections=("Monde",), tags=("x",), years=(2024,))
    assert request.hidden == frozenset({"a", "b"}) and type(request.hidden) is frozenset
    assert request.query_text == "Gaza 19e siècle"
    assert [len(g) for g in request.parsed.groups] == [1, 4, 1]  # the ordinal's spellings
    assert SearchRequest("x", filters=None).filters == {}
    with pytest.raises(AttributeError):
        request.page = 3  # still frozen
    again = replace(request, page=3)
    assert again.page == 3 and again.filters == request.filters and again == replace(again)
    assert again.parsed == request.parsed and again.parsed_filters == request.parsed_filters


def test_synonyms_expand_the_parsed_query_and_keep_the_text_as_typed():
    synonyms = Synonyms(parse_rules("ue, union européenne"))
    request = SearchRequest("ue", synonyms=synonyms)
    assert request.query_text == "ue" and request.synonyms is synonyms
    assert request.parsed.synonyms and len(request.parsed.groups[0]) > 1


@pytest.mark.parametrize(("options", "field", "message"), [
    ({"query": 3}, "q", "q: expected text, got int"),
    ({"query": None}, "q", "q: expected text, got NoneType"),
    ({"page": 0}, "page", "page: expected a whole number from 1 to 1000, got 0"),
    ({"page": True}, "page", "page: expected a whole number from 1 to 1000, got True"),
    ({"page": 1.0}, "page", "page: expected a whole number from 1 to 1000, got 1.0"),
    ({"page": 1001}, "page", "page: expected a whole number from 1 to 1000, got 1001"),
    ({"per_page": 101}, "per_page", "per_page: expected a whole number from 1 to 100, got 101"),
    ({"per_page": "10"}, "per_page",
     "per_page: expected a whole number from 1 to 100, got '10'"),
    ({"sort": "best"}, "sort", "sort: expected one of relevance, newest, oldest, got 'best'"),
    ({"sort": ["newest"]}, "sort",
     "sort: expected one of relevance, newest, oldest, got ['newest']"),
    ({"sort": None}, "sort", "sort: expected one of relevance, newest, oldest, got None"),
    ({"ranking": {}}, "ranking", "ranking: expected a search.ranking.Ranking, got dict"),
    ({"filters": {"color": "red"}}, "color",
     "unknown filter 'color'; filters are section, author, year, month, tag, since, until"),
    ({"filters": {"zz": 1, "aa": 2}}, "aa",
     "unknown filter 'aa'; filters are section, author, year, month, tag, since, until"),
    ({"filters": {"year": "abc"}}, "year", "year: expected a number, got 'abc'"),
    ({"filters": {"year": 99}}, "year", "year: 99 is out of range"),
    ({"filters": {"since": "hier"}}, "since",
     "since: expected a date like 2024-01-15, 2024-01 or 2024, got 'hier'"),
    ({"query": "a" * 1001}, "q", "the query has 1,001 characters; the limit is 1,000"),
    ({"query": "x depuis:hier"}, "depuis",
     "depuis: expected a date like 2024-01-15, 2024-01 or 2024, got 'hier'"),
    # the first value at fault is named, in the order of the fields
    ({"page": 0, "sort": "best", "query": "a" * 1001}, "page",
     "page: expected a whole number from 1 to 1000, got 0"),
    ({"sort": "best", "ranking": 1, "filters": {"x": 1}}, "sort",
     "sort: expected one of relevance, newest, oldest, got 'best'"),
    ({"ranking": 1, "filters": {"x": 1}}, "ranking",
     "ranking: expected a search.ranking.Ranking, got int"),
])
def test_bad_values_raise_the_same_errors(options, field, message):
    with pytest.raises(QueryError) as err:
        SearchRequest(**options)
    assert str(err.value) == message and err.value.field == field


def test_a_ranking_of_another_value_is_kept():
    ranking = Ranking(k1=1.5)
    assert SearchRequest("x", ranking=ranking).ranking is ranking


def test_a_ranking_hashes_as_the_dataclass_would_once_worked_out():
    from dataclasses import astuple

    for ranking in (DEFAULT_RANKING, Ranking(k1=1.5), Ranking(feedback_after=3)):
        assert hash(ranking) == hash(astuple(ranking)) == hash(ranking)
        assert "_hash" in ranking.__dict__  # kept: a cache key hashes it at every search
        assert replace(ranking) == ranking and hash(replace(ranking)) == hash(ranking)
    assert Ranking() == DEFAULT_RANKING and hash(Ranking()) == hash(DEFAULT_RANKING)
    assert Ranking(k1=1.5) != DEFAULT_RANKING
    assert {SearchRequest("x").key(): 1}[SearchRequest("x", ranking=Ranking()).key()] == 1


def test_filters_hash_as_the_dataclass_would_once_worked_out():
    from dataclasses import astuple
    from datetime import date

    for filters in (Filters(), Filters.parse({}), Filters(sections=("Monde",), years=(2024,)),
                    Filters(since=date(2024, 1, 1))):
        assert hash(filters) == hash(astuple(filters)) == hash(filters)
        assert "_hash" in filters.__dict__
        assert hash(replace(filters)) == hash(filters) and replace(filters) == filters
    assert Filters.parse({"year": 2024}) == Filters(years=(2024,))
    assert len({Filters(), Filters.parse({}), Filters(tags=("x",))}) == 2


def test_a_kept_hash_is_not_pickled():
    """A string's hash differs between processes: a pickled Filters or Ranking leaves its
    kept hash behind, and the copy hashes (and compares) as the original."""
    import pickle

    filters = Filters.parse({"section": ["Monde"], "since": ["2024-01-01"]})
    ranking = Ranking(k1=1.4)
    for value in (filters, ranking):
        hash(value)
        assert "_hash" in value.__dict__
        copy = pickle.loads(pickle.dumps(value))
        assert "_hash" not in copy.__dict__
        assert copy == value and hash(copy) == hash(value)
