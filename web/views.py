"""The French pages: home, results, help, one article, the Atom feed and OpenSearch.

Everything shown comes from `search`; titles and snippets arrive as escaped HTML with
<mark> and are the only values rendered with |safe (see templates/results.html).
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    render_template,
    request,
    url_for,
)

from search import Results, SearchRequest
from search.query import MAX_QUERY_CHARS
from search.request import MAX_PAGE
from web.errors import WebError
from web.feeds import atom_feed, opensearch_description, safe_url
from web.french import FACET_NAMES, format_month
from web.headers import cacheable, etag_for, not_modified, public_base_url
from web.indexes import index_health
from web.links import Form, article_url, search_url
from web.openapi import ERROR_CODES
from web.params import page_search_request
from web.searching import hidden, revalidate, run_search, search_options
from web.timeline import results_timeline

__all__ = ["bp"]

bp = Blueprint("pages", __name__)

FEED_SIZE = 20
HOME_NEWEST = 6  # newest articles on the home page
HOME_SECTIONS = 12  # sections on the home page, most articles first


def _with_filter(req: SearchRequest, target: str, value: str, *, add: bool) -> str:
    filters = {k: list(v) for k, v in req.filters.items()}
    values = [v for v in filters.get(target, []) if v != value]
    if add:
        values.append(value)
    if target == "year" and not add:
        filters.pop("month", None)  # months belong to the year being removed
    if values:
        filters[target] = values
    else:
        filters.pop(target, None)
    return search_url(req, filters=filters, page=1)


def _facets(results: Results, req: SearchRequest) -> list[dict[str, Any]]:
    out = []
    for name in ("section", "author", "year", "month"):
        values = results.facets.get(name)
        if not values:
            continue
        active = set(req.filters.get(name, []))
        items = [{
            "value": fv.value,
            "label": format_month(fv.value) if name == "month" else fv.value,
            "count": fv.count,
            "active": fv.value in active,
            "url": _with_filter(req, name, fv.value, add=fv.value not in active),
        } for fv in values]
        out.append({"name": name, "title": FACET_NAMES[name], "items": items})
    return out


def _active_filters(req: SearchRequest) -> list[dict[str, str]]:
    return [{"title": FACET_NAMES[target],
             "label": format_month(value) if target == "month" else value,
             "url": _with_filter(req, target, value, add=False)}
            for target, values in req.filters.items() if target in FACET_NAMES
            for value in values]


def _pages(results: Results) -> list[int | None]:
    """Page numbers to link to, None for a gap: 1 … 4 5 6 … 12."""
    last = _last_page(results)
    shown = sorted({1, last, *range(results.page - 2, results.page + 3)} & set(
        range(1, last + 1)))
    out: list[int | None] = []
    for number in shown:
        if out and number - (out[-1] or 0) > 1:
            out.append(None)
        out.append(number)
    return out


def _last_page(results: Results) -> int:
    return max(1, min(MAX_PAGE, math.ceil(results.total / results.per_page)))


@bp.get("/")
def home() -> Response | str:
    """The search form, and what invites a search: the newest articles, the sections with
    their counts, the week's most searched queries (once the query log has some)."""
    querylog = current_app.extensions.get("furet.querylog")
    popular = querylog.popular() if querylog is not None else []
    index, etag, cached = revalidate("home", popular)
    if cached is not None:
        return cached
    latest = index.search(SearchRequest("", sort="newest", per_page=HOME_NEWEST,
                                        snippets=False, hidden=hidden()))
    html = render_template(
        "home.html", documents=index_health(index)["documents"],
        newest=[(hit, article_url(hit.id)) for hit in latest.hits],
        sections=[(fv, search_url(SearchRequest("", filters={"section": [fv.value]})))
                  for fv in latest.facets.get("section", [])[:HOME_SECTIONS]],
        popular=[(query, url_for("pages.results", q=query)) for query, _ in popular])
    return cacheable(Response(html, mimetype="text/html"), etag)


def _sorts(req: SearchRequest) -> list[tuple[str, str, bool]]:
    """(label, address, current) of each order; without words, relevance means nothing:
    the articles come newest first."""
    if req.query.strip():
        return [(label, search_url(req, sort=sort, page=1), sort == req.sort)
                for sort, label in (("relevance", "pertinence"), ("newest", "plus récents"),
                                    ("oldest", "plus anciens"))]
    return [("plus récents", search_url(req, sort="newest", page=1), req.sort != "oldest"),
            ("plus anciens", search_url(req, sort="oldest", page=1), req.sort == "oldest")]


@bp.get("/recherche")
def results() -> Response:
    """One page of results, with facets, sort, pagination and the did-you-mean link."""
    per_page = current_app.config["PER_PAGE"]
    try:
        req = page_search_request(request.args, per_page=per_page, **search_options())
    except WebError as err:
        q = request.args.get("q", "")[:MAX_QUERY_CHARS]
        html = render_template("results.html", req=Form(query=q),
                               error=err.french or err.message, results=None)
        return Response(html, status=400, mimetype="text/html",
                        headers={"Cache-Control": "no-store"})
    index, etag, cached = revalidate("results", req.key())
    if cached is not None:
        return cached
    found = run_search(index, req, source="html")
    html = render_template(
        "results.html", req=req, results=found, error=None,
        hits=[(hit, article_url(hit.id, req), safe_url(hit.url)) for hit in found.hits],
        facets=_facets(found, req), active=_active_filters(req),
        timeline=results_timeline(found, req),
        pages=_pages(found), last_page=_last_page(found),
        suggestion_url=search_url(req, query=found.suggestion, page=1) if found.suggestion
        else None,
        sorts=_sorts(req),
        feed_url=search_url(req, endpoint="pages.feed", page=1, sort="relevance"),
        page_url=lambda number: search_url(req, page=number),
    )
    return cacheable(Response(html, mimetype="text/html"), etag)


@bp.get("/recherche.atom")
def feed() -> Response:
    """The newest articles matching a search, as an Atom feed."""
    req = page_search_request(request.args, per_page=FEED_SIZE, **search_options())
    req = replace(req, sort="newest", page=1, per_page=FEED_SIZE)
    base = public_base_url()
    index, etag, cached = revalidate("feed", base, req.key())
    if cached is not None:
        return cached
    found = run_search(index, req, source="atom")
    site = current_app.config["SITE_NAME"]
    title = f"{site} — « {req.query} »" if req.query.strip() else f"{site} — derniers articles"
    body = atom_feed(
        found, title=title, site_name=site,
        feed_url=base + search_url(req, endpoint="pages.feed", sort="relevance"),
        html_url=base + search_url(req, sort="newest"),
        article_url=lambda hit: base + article_url(hit.id),
        updated=index_health(index)["last_update"],
    )
    return cacheable(Response(body, mimetype="application/atom+xml"), etag)


@bp.get("/aide")
def help_page() -> Response:
    """The query syntax, in French, with examples."""
    etag = etag_for("help")
    cached = not_modified(etag, max_age=3600)
    if cached is not None:
        return cached
    html = render_template("help.html", req=Form())
    return cacheable(Response(html, mimetype="text/html"), etag, max_age=3600)


@bp.get("/aide/api")
def api_page() -> Response:
    """The JSON API explained to people, in French (the OpenAPI document is for tools)."""
    etag = etag_for("api-page")
    cached = not_modified(etag, max_age=3600)
    if cached is not None:
        return cached
    html = render_template("api.html", req=Form(), error_codes=ERROR_CODES)
    return cacheable(Response(html, mimetype="text/html"), etag, max_age=3600)


@bp.get("/opensearch.xml")
def opensearch() -> Response:
    """The OpenSearch description, so browsers offer the site as a search engine."""
    base = public_base_url()
    etag = etag_for("opensearch", base)
    cached = not_modified(etag, max_age=86400)
    if cached is not None:
        return cached
    body = opensearch_description(site_name=current_app.config["SITE_NAME"], base_url=base)
    return cacheable(Response(body, mimetype="application/opensearchdescription+xml"), etag,
                     max_age=86400)


@bp.get("/favicon.ico")
def favicon() -> Response:
    """Browsers ask for /favicon.ico whatever the page says."""
    return current_app.send_static_file("favicon.ico")
