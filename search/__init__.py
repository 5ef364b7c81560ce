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

from search.backend import Backend, get_article, related, search, suggest
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
from search.request import Filters, SearchRequest
from search.results import Article, FacetValue, Hit, Results
from search.store import Store
from search.stores import BACKENDS, open_backend, open_index, open_writer, store_for
from search.writer import Writer

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
