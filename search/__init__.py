"""Furet's search engine: the backend-neutral core, and one package per store.

Callers use these names and never import whoosh or psycopg, nor catch their errors:

- `store_for()`, `open_backend()`, `open_writer()`, `open_index()` open an index as the
  settings name it (search/stores.py);
- `SearchRequest` is one checked search; `Backend.search()` answers it with `Results`
  (`search()`, `suggest()`, `related()`, `get_article()` are the same as functions);
- the errors are `search.errors.FuretError` subclasses.

Packages: `search.whoosh` (an index folder, the default) and `search.postgres` (one
database several machines read); each reads and writes its own format.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from search.errors import (
    ArticleError,
    ArticleNotFoundError,
    ConfigurationError,
    FuretError,
    IndexCorruptError,
    IndexLockedError,
    IndexNotFoundError,
    QueryError,
    SearchTimeoutError,
)

if TYPE_CHECKING:
    from search.backend import Backend, get_article, related, search, suggest
    from search.request import Filters, SearchRequest
    from search.results import Article, FacetValue, Hit, Results
    from search.store import Store
    from search.stores import BACKENDS, open_backend, open_index, open_writer, store_for
    from search.writer import Writer

# The other public names, each imported from its module when first asked for (PEP 562):
# a build's processes never load the query code (parser, ranking, snippets) they do not
# use, and `from search import SearchRequest` works as before.
_LAZY = {
    "Backend": "search.backend",
    "get_article": "search.backend",
    "related": "search.backend",
    "search": "search.backend",
    "suggest": "search.backend",
    "Filters": "search.request",
    "SearchRequest": "search.request",
    "Article": "search.results",
    "FacetValue": "search.results",
    "Hit": "search.results",
    "Results": "search.results",
    "Store": "search.store",
    "BACKENDS": "search.stores",
    "open_backend": "search.stores",
    "open_index": "search.stores",
    "open_writer": "search.stores",
    "store_for": "search.stores",
    "Writer": "search.writer",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'search' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # asked once
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__version__ = "0.1.0"

__all__ = [
    "BACKENDS",
    "Article",
    "ArticleError",
    "ArticleNotFoundError",
    "Backend",
    "ConfigurationError",
    "FacetValue",
    "Filters",
    "FuretError",
    "Hit",
    "IndexCorruptError",
    "IndexLockedError",
    "IndexNotFoundError",
    "QueryError",
    "Results",
    "SearchRequest",
    "SearchTimeoutError",
    "Store",
    "Writer",
    "get_article",
    "open_backend",
    "open_index",
    "open_writer",
    "related",
    "search",
    "store_for",
    "suggest",
]
