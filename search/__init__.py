"""Furet's search engine: French analysis, the Whoosh schema, queries and results.

Callers use these names and never import whoosh or psycopg: `open_backend` (or
`open_index` for the Whoosh index), `search`, the result types and the errors of
`search.errors`.
"""

from search.backend import Backend, open_backend
from search.engine import search
from search.errors import (
    ArticleError,
    FuretError,
    IndexCorruptError,
    IndexLockedError,
    IndexNotFoundError,
    QueryError,
)
from search.index import Index, open_index
from search.results import FacetValue, Hit, Results

__version__ = "0.1.0"

__all__ = [
    "ArticleError",
    "Backend",
    "FacetValue",
    "FuretError",
    "Hit",
    "Index",
    "IndexCorruptError",
    "IndexLockedError",
    "IndexNotFoundError",
    "QueryError",
    "Results",
    "open_backend",
    "open_index",
    "search",
]
