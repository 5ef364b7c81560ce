"""The JSON API, version 1: search, suggest, articles, related articles, health, OpenAPI.

Answers are the `to_json()` of the search library's results, unchanged; errors are
`{"error": {"code", "message", "field"}}` (see web/errors.py). Every answer but health
carries an ETag from the index generation, so clients can revalidate for free.
"""

from __future__ import annotations

from dataclasses import asdict

from flask import Blueprint, Response, current_app, jsonify, request, url_for

from web.clicks import read_click
from web.errors import WebError
from web.headers import cacheable, etag_for, not_modified, public_base_url
from web.indexes import index_health
from web.links import article_url
from web.openapi import openapi_document
from web.params import api_search_request
from web.searching import (
    current_index,
    hidden,
    revalidate,
    run_search,
    search_options,
)

__all__ = ["bp"]

bp = Blueprint("api", __name__, url_prefix="/api/v1")

MAX_SUGGEST_CHARS = 200


def _json(body: object, etag: str) -> Response:
    return cacheable(jsonify(body), etag)


@bp.get("/search")
def search_endpoint() -> Response:
    """Search the articles."""
    req = api_search_request(request.args, per_page=current_app.config["PER_PAGE"],
                             **search_options())
    index, etag, cached = revalidate("search", req.key())
    if cached is not None:
        return cached
    return _json(run_search(index, req, source="api").to_json(), etag)


@bp.get("/suggest")
def suggest_endpoint() -> Response:
    """Completions of what a reader is typing, in the OpenSearch suggestions format:
    [text, completions, descriptions, addresses], then {"furet:kinds": ["word" or
    "article", …]} (as Chrome's suggest format adds its types): a word is searched for, an
    article's title opens the article."""
    q = request.args.get("q", "")
    if len(q) > MAX_SUGGEST_CHARS:
        raise WebError(400, "too_large", f"q: at most {MAX_SUGGEST_CHARS} characters for "
                       f"suggestions, got {len(q):,}", field="q")
    base = current_app.config["BASE_URL"] or request.host_url.rstrip("/")
    index, etag, cached = revalidate("suggest", base, q)
    if cached is not None:
        return cached
    found = index.completions(q, hidden=hidden()) if q.strip() else []
    addresses = [base + (article_url(c.article_id) if c.article_id is not None
                         else url_for("pages.results", q=c.text)) for c in found]
    response = _json([q, [c.text for c in found],
                      ["Article" if c.article_id is not None else "" for c in found],
                      addresses, {"furet:kinds": [c.kind for c in found]}], etag)
    response.mimetype = "application/x-suggestions+json"
    return response


@bp.get("/articles/<path:article_id>")
def article_endpoint(article_id: str) -> Response:
    """One whole article."""
    index, etag, cached = revalidate("article", article_id)
    if cached is not None and article_id not in hidden():
        return cached
    return _json(index.get_article(article_id, hidden=hidden()).to_json(), etag)


@bp.get("/articles/<path:article_id>/related")
def related_endpoint(article_id: str) -> Response:
    """Articles most like this one."""
    index, etag, cached = revalidate("related", article_id)
    if cached is not None and article_id not in hidden():
        return cached
    found = index.related(article_id, hidden=hidden())
    return _json({"id": article_id, "hits": [asdict(hit) for hit in found]}, etag)


@bp.post("/clicks")
def click_endpoint() -> Response:
    """A result a reader opened (sent by the results page with navigator.sendBeacon): the
    query, the article and its position are logged; nothing about the reader is."""
    click = read_click(request.get_data(cache=False, as_text=True))
    querylog = current_app.extensions.get("furet.querylog")
    if querylog is not None:
        querylog.record_click(**click)
    response = Response(status=204)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/health")
def health_endpoint() -> Response:
    """Whether the index can be searched, and what it holds (never cached)."""
    response = jsonify(index_health(current_index()))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/openapi.json")
def openapi_endpoint() -> Response:
    """The OpenAPI 3.1 description of this API."""
    base = public_base_url()
    etag = etag_for("openapi", base)
    return not_modified(etag) or _json(openapi_document(server=base + "/api/v1"), etag)
