"""A page's facets and timeline counted together (search/whoosh/facets.py `count_page`)
are the ones counted apart, and the ones counted by sorting each value (the earlier
`np.unique` counts, kept here as the reference)."""

from __future__ import annotations

import numpy as np
import pytest

from search.facets import month_values, timeline_values, year_values
from search.results import FacetValue
from search.whoosh import facets
from search.whoosh.facets import FacetTable, count_facets, count_page, count_timeline


def _unique_counts(values) -> dict[int, int]:
    found, counts = np.unique(values, return_counts=True)
    return dict(zip(found.tolist(), counts.tolist(), strict=True))


def _reference(table: FacetTable, docs, months_of: int | None
               ) -> tuple[dict[str, list[FacetValue]], list[FacetValue]]:
    """The facets and timeline as counted before: each value sorted with np.unique."""
    a = table.arrays()
    sections = a["section"][docs]
    years = a["year"][docs]
    in_docs = np.zeros(len(a["section"]), dtype=bool)
    in_docs[docs] = True
    found = {"section": facets._top_of(sections[sections >= 0], a["section_names"]),
             "author": facets._top_of(a["author_codes"][in_docs[a["author_docs"]]],
                                      a["author_names"]) if len(a["author_docs"]) else [],
             "year": year_values(_unique_counts(years[years > 0]))}
    if months_of is None:
        return found, timeline_values(_unique_counts(years[years > 0]))
    months = a["month"][docs][years == months_of]
    found["month"] = month_values(_unique_counts(months[months > 0]))
    by_month = _unique_counts(months[(months > months_of * 100)
                                     & (months <= months_of * 100 + 12)])
    return found, timeline_values({}, by_month, months_of=months_of)


def _table(size: int, *, seed: int, authors: bool = True, negative: bool = False
           ) -> FacetTable:
    rng = np.random.default_rng(seed)
    sections = [None if n % 11 == 0 else f"code {rng.integers(300):03d}"
                for n in range(size)]
    years = [0 if n % 13 == 0 else int(rng.integers(1990, 2025)) for n in range(size)]
    if negative:
        years[3] = -5  # a table made from values may hold one; never counted
    months = [y * 100 + int(rng.integers(1, 13)) if y > 0 else 0 for y in years]
    names = [tuple(f"auteur {a}" for a in rng.choice(40, size=n % 3, replace=False))
             if authors else () for n in range(size)]
    return FacetTable.from_values(sections, years, months, [None] * size, names)


def _docs_sets(size: int, seed: int) -> list:
    rng = np.random.default_rng(seed)
    sets = [np.arange(size), np.arange(0), np.array([0]), np.arange(0, size, 3),
            np.arange(0, size, 11)]  # the last: only documents without a section
    sets += [np.sort(rng.choice(size, k, replace=False)) for k in (1, 2, 5, 40, 900)]
    return sets


@pytest.mark.parametrize(("authors", "negative"), [(True, False), (False, False),
                                                    (True, True)])
def test_page_counts_are_the_sorted_counts(authors, negative):
    size = 4000
    table = _table(size, seed=7, authors=authors, negative=negative)
    years = table.arrays()["year"]
    busiest = int(np.bincount(years[years > 0]).argmax())
    for docs in _docs_sets(size, seed=8):
        for months_of in (None, busiest, 1989):
            expected = _reference(table, docs, months_of)
            assert count_page(table, docs, months_of=months_of) == expected
            assert count_facets(table, docs, months_of=months_of) == expected[0]
            assert count_timeline(table, docs, months_of=months_of) == expected[1]


def test_page_counts_many_or_few_documents_alike(monkeypatch):
    """The sections counted in one array as long as the names, or by distinct values, or
    through the (section, year) pairs."""
    size = 3000
    table = _table(size, seed=9)
    for docs in _docs_sets(size, seed=10):
        found = []
        for sparse in (0, 10**9):
            for pairs in (0, 10**9):  # never through the pairs, or always
                monkeypatch.setattr(facets, "SPARSE_SHARE", sparse)
                monkeypatch.setattr(facets, "PAIRS_SHARE", pairs)
                found.append(count_page(table, docs, months_of=2001))
        assert all(page == found[0] for page in found)


def test_year_counts_leave_out_the_documents_without_a_year():
    assert facets._year_counts(np.array([0, 2001, 2001, 0, 1999], dtype=np.int32)) == \
        {1999: 1, 2001: 2}
    assert facets._year_counts(np.array([-3, 2001, 0], dtype=np.int32)) == {2001: 1}
    assert facets._year_counts(np.zeros(0, dtype=np.int32)) == {}
    assert facets._year_counts(np.zeros(4, dtype=np.int32)) == {}


def test_section_year_pairs_count_as_the_columns(monkeypatch):
    """Counted through the numbered (section, year) pairs or from the two columns: the
    same facets and timeline, whatever the share of documents."""
    size = 3000
    table = _table(size, seed=11)
    pairs = table.section_years()
    assert pairs.codes.dtype == np.uint32 and len(pairs.codes) == size
    # each document's pair is its section + 1 and its year; pairs in order (year, then
    # section), each once; each year's pairs one run, starting at year_starts
    assert pairs.sections[pairs.codes].tolist() == (table.section + 1).tolist()
    assert pairs.years[pairs.codes].tolist() == table.year.tolist()
    assert sorted(set(zip(pairs.years.tolist(), pairs.sections.tolist(), strict=True))) == \
        list(zip(pairs.years.tolist(), pairs.sections.tolist(), strict=True))
    assert pairs.known_years == sorted(set(table.year.tolist()))
    assert pairs.years[pairs.year_starts].tolist() == pairs.known_years
    assert np.array_equal(pairs.year_starts, np.flatnonzero(np.diff(pairs.years, prepend=-1)))
    sets = _docs_sets(size, seed=12)
    monkeypatch.setattr(facets, "PAIRS_SHARE", 10**9)  # pairs for every set
    together = [count_page(table, docs, months_of=m) for docs in sets for m in (None, 2001)]
    monkeypatch.setattr(FacetTable, "section_years", lambda self: None)
    assert [count_page(table, docs, months_of=m) for docs in sets
            for m in (None, 2001)] == together


def test_pairs_that_cannot_be_counted_in_an_array_are_not_made():
    assert _table(50, seed=1, negative=True).section_years() is None
    # 400 sections x 400 years possible for 400 documents: more than 4 a document
    many = FacetTable.from_values([f"s{n:03d}" for n in range(400)],
                                  list(range(1600, 2000)), [0] * 400, [None] * 400,
                                  [()] * 400)
    assert many.section_years() is None
    assert count_page(many, np.arange(400))[0]["year"][0] == FacetValue("1999", 1)
    empty = FacetTable.from_values([], [], [], [], [])
    assert len(empty.section_years().codes) == 0
    assert count_page(empty, np.zeros(0, dtype=np.int64)) == \
        ({"section": [], "author": [], "year": []}, [])
    undated = FacetTable.from_values(["a", None, "b"], [0, 0, 0], [0] * 3, [None] * 3,
                                     [()] * 3)
    assert undated.section_years().years.tolist() == [0, 0, 0]
    assert count_page(undated, np.arange(3)) == \
        ({"section": [FacetValue("a", 1), FacetValue("b", 1)], "author": [], "year": []}, [])


def test_a_small_page_does_not_make_the_pairs():
    """A page of fewer documents than the section names over PAIRS_SHARE is counted from
    the columns without numbering the pairs (a new process's first, rare search)."""
    table = _table(3000, seed=13)
    names = len(table.section_names)
    count_page(table, np.arange(names // facets.PAIRS_SHARE - 1))
    assert "section_years" not in table._made
    count_page(table, np.arange(3000))
    assert table._made["section_years"] is not None
