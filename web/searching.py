"""What the API, the pages and the feed share: the open index, a search that is logged,
and the editors' choices every search obeys (search/editorial/): synonyms, pinned articles
first, hidden articles never."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app

from search import Backend, Results, SearchRequest
from search.editorial import Editorial, with_pins
from web.headers import etag_for, not_modified

__all__ = ["current_index", "editorial", "hidden", "revalidate", "run_search",
           "search_options"]


def current_index() -> Backend:
    """This process's open index (IndexNotFoundError while there is none: a 503)."""
    return current_app.extensions["furet.index"].get()


def editorial() -> Editorial:
    """The editors' choices, as this worker last read them."""
    return current_app.extensions["furet.editorial"].current()


def revalidate(*key: Any) -> tuple[Backend, str, Response | None]:
    """This process's index, the ETag of what `key` shows in its current generation (and
    the editors' current choices), and the 304 answer when the client already has that."""
    index = current_index()
    etag = etag_for(index.generation, editorial().version, *key)
    return index, etag, not_modified(etag)


def search_options() -> dict[str, Any]:
    """What the site's settings add to every SearchRequest."""
    choices = editorial()
    return {"recency_half_life": current_app.config["RECENCY_HALF_LIFE"],
            "synonyms": choices.synonyms, "hidden": choices.hidden}


def hidden() -> frozenset[str]:
    """The articles the editors hid (every Backend call leaves them out when given them)."""
    return editorial().hidden


def run_search(index: Backend, req: SearchRequest, *, source: str) -> Results:
    """Search (hidden articles are left out by the search itself, counts included), then
    append the search to the query log (if there is one); pinned articles come first on
    the first page sorted by relevance."""
    results = index.search(req)
    querylog = current_app.extensions.get("furet.querylog")
    if querylog is not None:
        querylog.record(source=source, query=results.query,
                        filters={k: list(v) for k, v in req.filters.items()}, sort=req.sort,
                        page=req.page, hits=results.total, took_ms=results.took_ms,
                        corrected=results.corrected)
    pinned = editorial().pinned(req.query) if source != "atom" else []
    return with_pins(index, req, results, pinned)
