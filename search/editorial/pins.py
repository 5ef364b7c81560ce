"""Pinned articles put first on a page of results (the site, the API and furet-search)."""

from __future__ import annotations

from dataclasses import replace
from html import escape

from search.backend import Backend
from search.errors import ArticleNotFoundError
from search.request import SearchRequest
from search.results import Hit, Results

__all__ = ["PINNED_SNIPPET_CHARS", "with_pins"]

PINNED_SNIPPET_CHARS = 240


def _pinned_hit(index: Backend, article_id: str) -> Hit | None:
    try:
        article = index.get_article(article_id)
    except ArticleNotFoundError:
        return None  # deleted since it was pinned
    lead = article.lead or article.body
    if len(lead) > PINNED_SNIPPET_CHARS:
        lead = lead[:PINNED_SNIPPET_CHARS].rsplit(" ", 1)[0] + " …"
    return Hit(id=article.id, url=article.url, title=article.title,
               title_html=escape(article.title, quote=False),
               snippet_html=escape(lead, quote=False), published=article.published,
               section=article.section, authors=list(article.authors), score=0.0)


def with_pins(index: Backend, req: SearchRequest, results: Results,
              pinned_ids: list[str]) -> Results:
    """`results` with the pinned articles first (on the first page sorted by relevance),
    each once, and `pinned` naming them."""
    if req.page != 1 or req.sort != "relevance" or not pinned_ids:
        return results
    pinned = [h for h in (_pinned_hit(index, i) for i in pinned_ids if i not in req.hidden)
              if h is not None]
    if not pinned:
        return results
    ids = {h.id for h in pinned}
    hits = (pinned + [h for h in results.hits if h.id not in ids])[:max(req.per_page,
                                                                         len(pinned))]
    total = results.total + len([h for h in pinned
                                 if h.id not in {x.id for x in results.hits}])
    return replace(results, hits=hits, total=max(total, len(hits)),
                   pinned=[h.id for h in pinned])
