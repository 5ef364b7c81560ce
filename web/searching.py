"""What the API, the pages and the feed share: the open index, and a search that is logged."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app

from search import Backend, Results, SearchRequest
from web.headers import etag_for, not_modified

__all__ = ["current_index", "revalidate", "run_search", "search_options"]


def current_index() -> Backend:
    """This process's open index (IndexNotFoundError while there is none: a 503)."""
    return current_app.extensions["furet.index"].get()


def revalidate(*key: Any) -> tuple[Backend, str, Response | None]:
    """This process's index, the ETag of what `key` shows in its current generation, and
    the 304 answer when the client already has that (else None)."""
    index = current_index()
    etag = etag_for(index.generation, *key)
    return index, etag, not_modified(etag)


def search_options() -> dict[str, Any]:
    """What the site's settings add to every SearchRequest."""
    return {"recency_half_life": current_app.config["RECENCY_HALF_LIFE"],
            "synonyms": current_app.extensions["furet.synonyms"].current()}


def run_search(index: Backend, req: SearchRequest, *, source: str) -> Results:
    """Search, then append the search to the query log (if there is one)."""
    results = index.search(req)
    querylog = current_app.extensions.get("furet.querylog")
    if querylog is not None:
        querylog.record(source=source, query=results.query,
                        filters={k: list(v) for k, v in req.filters.items()}, sort=req.sort,
                        page=req.page, hits=results.total, took_ms=results.took_ms,
                        corrected=results.corrected)
    return results
