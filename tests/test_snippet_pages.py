"""A page's titles and snippets, made the way results pages make them (one Highlighter a
query), are those of the code before the snippet passes (tests/snippets_before.py), byte
for byte: every article of the samples against the queries bench/run.py would ask of them
(its rarer-words set: rare words, pairs of an article's rare words, two-word phrases; and
its main set), and the article read as it is stored (title, lead, body)."""

from __future__ import annotations

import snippets_before as before

from bench.queries import generate, generate_rare
from search import open_index
from search.query import parse_query
from search.snippets import Highlighter, highlight, highlight_terms


def _articles(samples_index) -> list[dict[str, str]]:
    index = open_index(samples_index)
    with index.view() as generation:
        return [generation.stored.whole(docnum) for docnum in range(generation.evaluator.size)]


def _queries(articles: list[dict[str, str]]) -> list[str]:
    records = [{"title": a.get("title", ""),
                "text": f"{a.get('lead', '')}\n{a.get('body', '')}"} for a in articles]
    rare = [q["text"] for q in generate_rare(records, count=90)]
    main = [q["text"] for q in generate(records, count=60)]
    return list(dict.fromkeys(rare + main))


def test_every_sample_s_title_and_snippet_is_the_one_before(samples_index):
    articles = _articles(samples_index)
    queries = _queries(articles)
    assert len(articles) > 30 and len(queries) > 100
    compared = marked = 0
    for query in queries:
        terms = highlight_terms(parse_query(query))
        marks = Highlighter(terms)  # one a page, as the stores make it
        for article in articles:
            title = article.get("title", "")
            lead, body = article.get("lead", ""), article.get("body", "")
            shown = marks.mark_all(title), marks.snippet(lead, body)
            assert shown == (before.mark_all(title, terms),
                             before.snippet(lead, body, terms)), (query, article.get("id"))
            compared += 1
            marked += "<mark>" in shown[1]
    assert marked > 200  # the queries' words are the articles' own: many snippets mark them
    assert compared == len(queries) * len(articles)


def test_the_matches_of_rare_words_in_whole_articles_are_the_ones_before(samples_index):
    """Every passage size and count, on texts of each length (long ones read a chunk at a
    time), for the rarer-words set."""
    articles = _articles(samples_index)
    records = [{"title": a.get("title", ""), "text": a.get("body", "")} for a in articles]
    for query in (q["text"] for q in generate_rare(records, count=45, seed=5)):
        terms = highlight_terms(parse_query(query))
        for article in articles:
            text = article.get("body", "")
            for size, fragments in ((60, 1), (200, 2), (300, 3)):
                assert highlight(text, terms, size=size, fragments=fragments) == \
                    before.highlight(text, terms, size=size, fragments=fragments), query
