"""The index stays a real Whoosh index: plain Whoosh finds what Furet finds.

Furet searches with numpy over its flat postings (search/whoosh/evaluate.py); the same
segments hold Whoosh's own postings. Opened with `whoosh.index.open_dir` and searched with
Whoosh's own searcher, the queries Furet compiles match the same articles, and words score
the same with Whoosh's BM25F given Furet's parameters.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh import query as wq
from whoosh import scoring
from whoosh.index import open_dir

from search import SearchRequest, open_index, search
from search.ranking import DEFAULT_RANKING
from search.whoosh.compile import compile_query
from search.whoosh.facets import FacetTable, count_facets
from search.whoosh.layout import current_build
from tests.test_search import TABLE

WORDS = ["haïfa", "attaque", "états-unis", "gaza", "gaz", "prix", "ville", "portuaire",
         "de", "la", "les", "noël", "œuvre", "climat", "bakou", "élections", "paris",
         "l'attaque", "jean-luc", "zoë", "2024", "10", "000"]


@pytest.fixture(scope="module")
def furet(samples_index):
    index = open_index(samples_index)
    yield index
    index.close()


@pytest.fixture(scope="module")
def plain(samples_index):
    """Whoosh alone, on the live build's folder."""
    ix = open_dir(str(current_build(samples_index)))
    weighting = scoring.BM25F(B=DEFAULT_RANKING.b, K1=DEFAULT_RANKING.k1)
    with ix.searcher(weighting=weighting) as searcher:
        yield searcher


def whoosh_matches(plain, query: str) -> dict[str, float]:
    """{id: Whoosh's score} of what Whoosh finds for Furet's compiled query."""
    request = SearchRequest(query)
    compiled = compile_query(request.parsed, plain.reader(), typed=request.typed)
    if compiled.match is None:
        return {}
    q = compiled.match
    if compiled.excluded is not None:
        q = wq.AndNot(q, compiled.excluded)
    since, until = request.period
    if since or until:
        q = wq.And([q, wq.DateRange("date", since and _midnight(since),
                                    until and _midnight(until), endexcl=True)])
    return {hit["id"]: hit.score for hit in plain.search(q, limit=None)}


def _midnight(day):
    from datetime import datetime

    return datetime(day.year, day.month, day.day)


def furet_matches(furet, query: str) -> dict[str, float]:
    results = search(furet, query, per_page=100, correct_spelling=False, facets=False)
    assert results.total == len(results.hits)  # the samples fit on one page
    return {hit.id: hit.score for hit in results.hits}


@pytest.mark.parametrize("query", [q for q, _ in TABLE], ids=[q for q, _ in TABLE])
def test_plain_whoosh_finds_what_furet_finds(furet, plain, query):
    assert set(whoosh_matches(plain, query)) == set(furet_matches(furet, query))


@pytest.mark.parametrize("query", [
    "haïfa", "gaza", "prix du gaz", "états-unis", "titre:gaza", "auteur:moreau",
    "rubrique:culture", "gaza OR noël", "climat -bakou", "haïfa attaque", "attaq*",
])
def test_words_score_as_whoosh_scores_them(furet, plain, query):
    theirs, ours = whoosh_matches(plain, query), furet_matches(furet, query)
    assert set(theirs) == set(ours) and ours
    for article_id, score in ours.items():
        assert score == pytest.approx(theirs[article_id], rel=1e-3), article_id


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(WORDS), min_size=1, max_size=4), st.booleans())
def test_random_phrases_and_words_agree(furet, plain, words, quoted):
    query = " ".join(words)
    if quoted:
        query = f'"{query}"'
    assert set(whoosh_matches(plain, query)) == set(furet_matches(furet, query))


def _reference_facets(section: list, author: list, year: list, docs: list[int], limit: int
                      ) -> dict[str, list]:
    """Facet counts the slow, obvious way: the most frequent, ties by name."""
    sections = Counter(section[d] for d in docs if section[d])
    authors = Counter(a for d in docs for a in author[d])
    years = Counter(year[d] for d in docs if year[d])

    def top(counter):
        return [(str(v), c) for v, c in sorted(counter.items(),
                                               key=lambda kv: (-kv[1], str(kv[0])))][:limit]

    return {"section": top(sections), "author": top(authors),
            "year": [(str(y), c) for y, c in sorted(years.items(), reverse=True)][:limit]}


def test_numpy_facets_break_ties_by_name():
    """More values than FACET_LIMIT, many with the same count: the same top values."""
    from search.facets import FACET_LIMIT

    rng = np.random.default_rng(3)
    size = 3000
    sections = [f"rubrique {n % 97:02d}" if n % 5 else None for n in range(size)]
    authors = [tuple(f"auteur {a}" for a in rng.choice(60, size=n % 3, replace=False))
               for n in range(size)]
    years = [2000 + n % 7 for n in range(size)]
    table = FacetTable.from_values(sections, years, [y * 100 + 1 for y in years],
                                   [None] * size, authors)
    for picked in (np.arange(size), rng.choice(size, 700, replace=False), np.array([5, 6])):
        docs = np.sort(picked)
        found = count_facets(table, docs)
        expected = _reference_facets(sections, authors, years, docs.tolist(), FACET_LIMIT)
        for name in ("section", "author", "year"):
            assert [(f.value, f.count) for f in found[name]] == expected[name], name
        assert len(found["section"]) == min(FACET_LIMIT, len(expected["section"]))


def test_facet_table_holds_each_documents_stored_values(samples_index):
    """The table read from the index's columns and postings, as numpy arrays, says what
    each article's stored fields say."""
    from search import open_index

    reader = open_index(samples_index).current().searcher.reader()
    a = FacetTable.load(reader).arrays()
    authors: dict[int, set[str]] = {}
    for doc, code in zip(a["author_docs"].tolist(), a["author_codes"].tolist(), strict=True):
        authors.setdefault(doc, set()).add(a["author_names"][code])
    assert a["section_names"] == sorted(a["section_names"])  # ties go by name
    for doc in range(reader.doc_count_all()):
        stored = reader.stored_fields(doc)
        code = int(a["section"][doc])
        assert (a["section_names"][code] if code >= 0 else None) == (stored.get("section")
                                                                       or None)
        assert authors.get(doc, set()) == set(stored.get("authors") or ())
        published = stored.get("published")
        assert int(a["year"][doc]) == (int(published[:4]) if published else 0)
        assert (int(a["dates"][doc]) >= 0) == bool(published)
