"""The site's addresses: a search as the /recherche URL that repeats it, an article's page
(keeping the search that led to it), and the empty search form of pages without one."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from flask import url_for

from search import SearchRequest
from web.params import FRENCH_FILTERS, FRENCH_SORTS

__all__ = ["Form", "article_url", "search_pairs", "search_url"]

_PARAM_OF = {target: name for name, target in FRENCH_FILTERS.items()}  # section -> rubrique
_TRI_OF = {sort: tri for tri, sort in FRENCH_SORTS.items()}  # newest -> recents


@dataclass(frozen=True)
class Form:
    """What the search form shows on a page without a search (or one that was refused)."""

    query: str = ""
    sort: str = "relevance"


def search_pairs(req: SearchRequest) -> list[tuple[str, str]]:
    """The page's parameters repeating `req`: q, rubrique…, tri, page (defaults left out)."""
    pairs: list[tuple[str, str]] = [("q", req.query)] if req.query else []
    for target, values in req.filters.items():
        pairs += [(_PARAM_OF[target], v) for v in values if target in _PARAM_OF]
    if req.sort != "relevance":
        pairs.append(("tri", _TRI_OF[req.sort]))
    if req.page > 1:
        pairs.append(("page", str(req.page)))
    return pairs


def search_url(req: SearchRequest, *, endpoint: str = "pages.results", **changes: Any) -> str:
    """The address of `req` with `changes` (query, page, sort, filters) applied."""
    pairs = search_pairs(replace(req, **changes))
    url = url_for(endpoint)
    return f"{url}?{urlencode(pairs)}" if pairs else url


def article_url(article_id: str, req: SearchRequest | None = None) -> str:
    """The site's own page for an article; with `req`, the search it was found by, so the
    page can mark its words and lead back to the same results."""
    url = url_for("articles.article", article_id=article_id)
    pairs = search_pairs(req) if req is not None else []
    return f"{url}?{urlencode(pairs)}" if pairs else url
