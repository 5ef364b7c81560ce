"""`search()`: a reader's query in, one page of highlighted results out."""

from __future__ import annotations

import time

from whoosh import query as wq

from search.analysis import FoldingTokenizer, FrenchFilter
from search.errors import QueryError
from search.index import Index
from search.results import Hit, Results
from search.snippets import highlight, mark_all

__all__ = ["search", "MAX_QUERY_CHARS"]

MAX_QUERY_CHARS = 1000
_TOKENIZER = FoldingTokenizer()
_STEM = FrenchFilter(stem=True, stop=True)


def _terms(text: str) -> list[tuple[str, str]]:
    """(stem, exact form) of each meaningful word of `text`."""
    out = []
    for token in _TOKENIZER(text):
        stem = _STEM.term(token.text)
        if stem is not None:
            out.append((stem, token.text.lower()))
    return out


def search(index: Index, query: str, *, page: int = 1, per_page: int = 10) -> Results:
    """One page of results for `query`, best first."""
    started = time.perf_counter()
    if len(query) > MAX_QUERY_CHARS:
        raise QueryError(f"query too long ({len(query)} characters, at most {MAX_QUERY_CHARS})")
    terms = _terms(query)
    searcher = index.searcher()
    if not terms:
        return Results(query=query.strip(), total=0, total_is_exact=True, page=page,
                       per_page=per_page, took_ms=(time.perf_counter() - started) * 1000)
    words = [wq.Or([wq.Term("text", stem), wq.Term("exact", exact, boost=0.5)])
             for stem, exact in terms]
    q = wq.Or([wq.And(words, boost=2.0), *words]) if len(words) > 1 else words[0]
    results = searcher.search_page(q, page, pagelen=per_page)
    stems = {s for s, _ in terms}
    exact = {e for _, e in terms}
    hits = [
        Hit(
            id=fields["id"],
            url=fields.get("url"),
            title=fields["title"],
            title_html=mark_all(fields["title"], stems, exact),
            snippet_html=highlight(fields.get("body", ""), stems, exact),
            published=fields.get("published"),
            section=fields.get("section"),
            authors=list(fields.get("authors", [])),
            score=round(hit.score, 4),
        )
        for hit in results
        for fields in [hit.fields()]
    ]
    return Results(
        query=" ".join(query.split()),
        total=results.total,
        total_is_exact=True,
        page=page,
        per_page=per_page,
        took_ms=round((time.perf_counter() - started) * 1000, 2),
        hits=hits,
    )
