"""What the API, the pages and the feed share: the open index, and a search that is logged."""

from __future__ import annotations

from flask import current_app

from search import Backend, Results
from search.engine import search
from web.params import SearchRequest

__all__ = ["current_index", "run_search"]

def current_index() -> Backend:
    """This process's open index (IndexNotFoundError while there is none: a 503)."""
    return current_app.extensions["furet.index"].get()


def run_search(index: Backend, req: SearchRequest, *, source: str) -> Results:
    """Search, then append the search to the query log (if there is one)."""
    results = search(index, req.q, page=req.page, per_page=req.per_page, sort=req.sort,
                     filters=req.search_filters(),
                     recency_half_life=current_app.config["RECENCY_HALF_LIFE"])
    querylog = current_app.extensions.get("furet.querylog")
    if querylog is not None:
        querylog.record(source=source, query=results.query, filters=req.filters, sort=req.sort,
                        page=req.page, hits=results.total, took_ms=results.took_ms,
                        corrected=results.corrected)
    return results
