"""The numpy evaluator agrees with Whoosh on what matches, and on scores for words."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from search import engine, open_index

WORDS = ["haïfa", "attaque", "états-unis", "gaza", "gaz", "prix", "ville", "portuaire",
         "de", "la", "les", "noël", "œuvre", "climat", "bakou", "élections", "paris",
         "l'attaque", "jean-luc", "zoë", "2024", "10", "000"]


@pytest.fixture(scope="module")
def indexes(samples_index):
    return open_index(samples_index), open_index(samples_index)


def both(indexes, query, **kwargs):
    vector_index, whoosh_index = indexes
    vector = engine.search(vector_index, query, per_page=100, correct_spelling=False, **kwargs)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(engine, "_vector_searcher", lambda index, searcher: None)
        whoosh = engine.search(whoosh_index, query, per_page=100, correct_spelling=False, **kwargs)
    return vector, whoosh


@pytest.mark.parametrize("query", [
    "haïfa", "gaza", "prix du gaz", "états-unis", "\"ville portuaire de haïfa\"",
    "\"de la\"", "attaq*", "titre:gaza", "auteur:moreau", "rubrique:culture", "gaza OR noël",
    "climat -bakou", "haïfa attaque", "le la les", "\"l'attaque contre haïfa\"",
])
def test_same_matches_and_order(indexes, query):
    vector, whoosh = both(indexes, query)
    assert {h.id for h in vector.hits} == {h.id for h in whoosh.hits}
    assert vector.total == whoosh.total
    assert vector.facets == whoosh.facets
    if '"' not in query:  # phrases are scored differently (sum of words vs phrase BM25)
        assert [h.id for h in vector.hits] == [h.id for h in whoosh.hits]
        for a, b in zip(vector.hits, whoosh.hits, strict=True):
            assert a.score == pytest.approx(b.score, rel=1e-4)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(WORDS), min_size=1, max_size=4), st.booleans())
def test_random_phrases_and_words_agree(indexes, words, quoted):
    query = " ".join(words)
    if quoted:
        query = f'"{query}"'
    vector, whoosh = both(indexes, query)
    assert {h.id for h in vector.hits} == {h.id for h in whoosh.hits}
    assert vector.total == whoosh.total


def test_numpy_facets_break_ties_like_python_facets():
    """More values than FACET_LIMIT, many with the same count: the same top values."""
    import numpy as np

    from search.facets import FACET_LIMIT, FacetTable, count_facets, count_facets_array

    rng = np.random.default_rng(3)
    size = 3000
    sections = [f"rubrique {n % 97:02d}" if n % 5 else None for n in range(size)]
    authors = [tuple(f"auteur {a}" for a in rng.choice(60, size=n % 3, replace=False))
               for n in range(size)]
    years = [2000 + n % 7 for n in range(size)]
    table = FacetTable(sections, years, [y * 100 + 1 for y in years], [None] * size, authors)
    for picked in (np.arange(size), rng.choice(size, 700, replace=False), np.array([5, 6])):
        python = count_facets(table, picked.tolist())
        assert count_facets_array(table, np.sort(picked)) == python
        assert len(python["section"]) == min(FACET_LIMIT, len(python["section"]))
