"""The article page: one whole article. Reached from the results, it keeps the search that
led there: the query in the search box, its words marked in the title and the text, a way
back to the same page of results, and related articles that keep it too."""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from flask import Blueprint, Response, current_app, render_template, request
from markupsafe import Markup

from search import SearchRequest
from search.snippets import Terms, highlight_terms, mark_all
from web.errors import WebError
from web.feeds import safe_url
from web.headers import cacheable
from web.links import Form, article_url, search_pairs, search_url
from web.params import page_search_request
from web.searching import hidden, revalidate, search_options

__all__ = ["bp"]

bp = Blueprint("articles", __name__)


def _search_context() -> SearchRequest | None:
    """The search the reader came from (its parameters follow the article's address)."""
    if not request.args:
        return None
    try:
        req = page_search_request(request.args, per_page=current_app.config["PER_PAGE"],
                                  **search_options())
    except WebError:
        return None  # a damaged address still shows the article, without the search
    return req if search_pairs(req) else None


def _marker(terms: Terms | None) -> Callable[[str], Markup]:
    """Text as escaped HTML, with the search's words in <mark>."""

    def marked(text: str) -> Markup:
        return Markup(mark_all(text, terms) if terms else escape(text, quote=False))

    return marked


@bp.get("/article/<path:article_id>")
def article(article_id: str) -> Response:
    """One article, whole, with the search it was found by and similar articles."""
    req = _search_context()
    index, etag, cached = revalidate("article", article_id, req.key() if req else None)
    if cached is not None:
        return cached
    found = index.get_article(article_id, hidden=hidden())
    terms = highlight_terms(req.parsed) if req is not None and req.query.strip() else None
    marked = _marker(terms)
    html = render_template(
        "article.html", article=found, title_html=marked(found.title),
        lead_html=marked(found.lead) if found.lead else None,
        paragraphs=[marked(p) for p in found.body.split("\n\n") if p.strip()],
        link=safe_url(found.url), req=req or Form(),
        back_url=search_url(req) if req is not None else None,
        similar=[(hit, article_url(hit.id, req))
                 for hit in index.related(article_id, hidden=hidden())])
    return cacheable(Response(html, mimetype="text/html"), etag)
