"""Hidden articles are left out by the search itself, on both stores: the total, the facets,
the timeline, every page, completions, related articles and the article itself agree."""

from __future__ import annotations

import pytest

from search import SearchRequest
from search.errors import ArticleNotFoundError

HAIFA_TXT = "txt/haifa-attaque-drones-port.txt"
HAIFA_ECO = ("https://www.exemple-actu.fr/economie/2024/01/12/"
             "mediterranee-orientale-assureurs-maritimes-primes-haifa")
HIDDEN = frozenset({HAIFA_TXT, "no/such/article"})  # an unknown id changes nothing


def _counts(values) -> dict[str, int]:
    return {v.value: v.count for v in values}


@pytest.mark.parametrize("query", ["haifa", "", "haifa -assureurs", "drones OR port",
                                   "haifa depuis:2020"])
def test_hidden_articles_are_not_counted(samples_backend, query):
    every = samples_backend.search(SearchRequest(query, per_page=100))
    shown = samples_backend.search(SearchRequest(query, per_page=100, hidden=HIDDEN))
    if query:
        _same_without_facets(samples_backend, query, shown)
    article = samples_backend.get_article(HAIFA_TXT)
    was_there = HAIFA_TXT in {h.id for h in every.hits}
    assert shown.total == every.total - was_there
    assert HAIFA_TXT not in {h.id for h in shown.hits}
    assert [h.id for h in shown.hits] == [h.id for h in every.hits if h.id != HAIFA_TXT]
    year = article.published[:4]
    assert _counts(shown.facets["year"]).get(year, 0) == \
        _counts(every.facets["year"]).get(year, 0) - was_there
    sections = _counts(every.facets["section"])
    if article.section in sections:
        assert _counts(shown.facets["section"]).get(article.section, 0) == \
            sections[article.section] - was_there
    assert sum(v.count for v in shown.timeline) == \
        sum(v.count for v in every.timeline) - was_there


def _same_without_facets(backend, query: str, shown) -> None:
    unfaceted = backend.search(SearchRequest(query, per_page=100, facets=False, hidden=HIDDEN))
    assert [h.id for h in unfaceted.hits] == [h.id for h in shown.hits]
    assert unfaceted.total == shown.total


def test_a_question_leaves_hidden_articles_out_of_its_feedback_too(samples_backend):
    # The best articles' words extend a question: a hidden article's words do not, so the
    # matches may change by more than the hidden article itself.
    question = "Pourquoi des drones ont-ils attaqué le port de Haïfa ?"
    every = samples_backend.search(SearchRequest(question, per_page=100))
    shown = samples_backend.search(SearchRequest(question, per_page=100, hidden=HIDDEN))
    assert HAIFA_TXT in {h.id for h in every.hits}
    assert HAIFA_TXT not in {h.id for h in shown.hits} and shown.total < every.total
    _same_without_facets(samples_backend, question, shown)


def test_plain_words_keep_their_fast_path_with_hidden_articles(samples_backend, monkeypatch):
    # PostgreSQL counts a plain-words search's facets in the process (FacetTable): hidden
    # articles are left out of the posting lists' sums, not by a filter that would end it.
    from search.postgres.backend import PostgresBackend, PostgresView

    if not isinstance(samples_backend, PostgresBackend):
        pytest.skip("the PostgreSQL store's fast path")

    counted = []
    original = PostgresView._counted
    monkeypatch.setattr(PostgresView, "_counted",
                        lambda self, *a: counted.append(1) or original(self, *a))
    # A query no other test asks: the backend's cache would answer it without searching.
    shown = samples_backend.search(SearchRequest("attaque drones", per_page=100,
                                                 hidden=HIDDEN))
    assert counted and shown.total and HAIFA_TXT not in {h.id for h in shown.hits}


def test_every_page_leaves_hidden_articles_out(samples_backend):
    every = samples_backend.search(SearchRequest("", per_page=100, sort="newest")).hits
    pages = [samples_backend.search(SearchRequest("", page=n, per_page=5, sort="newest",
                                                  hidden=HIDDEN)).hits for n in range(1, 11)]
    assert [h.id for page in pages for h in page] == \
        [h.id for h in every if h.id != HAIFA_TXT]


def test_a_hidden_article_is_never_the_answer(samples_backend):
    assert any(c.article_id == HAIFA_TXT for c in samples_backend.completions("attaque de dr"))
    assert all(c.article_id != HAIFA_TXT
               for c in samples_backend.completions("attaque de dr", hidden=HIDDEN))
    assert HAIFA_TXT in {h.id for h in samples_backend.related(HAIFA_ECO)}
    related = samples_backend.related(HAIFA_ECO, hidden=HIDDEN)
    assert HAIFA_TXT not in {h.id for h in related}
    with pytest.raises(ArticleNotFoundError):
        samples_backend.get_article(HAIFA_TXT, hidden=HIDDEN)
    with pytest.raises(ArticleNotFoundError):
        samples_backend.related(HAIFA_TXT, hidden=HIDDEN)
    assert samples_backend.get_article(HAIFA_TXT).id == HAIFA_TXT  # still in the index


def test_a_word_only_hidden_articles_hold_is_not_completed(samples_backend):
    """« dockers » is in the hidden article alone: typing « dock » offers nothing."""
    assert [c.text for c in samples_backend.completions("dock")] == ["dockers"]
    assert samples_backend.completions("dock", hidden=HIDDEN) == []
    assert [c.text for c in samples_backend.completions("céréal", hidden=HIDDEN)] == \
        [c.text for c in samples_backend.completions("céréal")]  # found elsewhere too


def test_a_correction_leaves_hidden_articles_out_too(samples_backend):
    every = samples_backend.search("haifq")
    shown = samples_backend.search(SearchRequest("haifq", hidden=HIDDEN))
    if every.corrected:
        assert HAIFA_TXT not in {h.id for h in shown.hits}
        assert shown.total == every.total - (HAIFA_TXT in {h.id for h in every.hits})
