"""One interface, two stores: what the web frontend, the API and the CLIs search through.

- `Backend` is the contract: search, suggest, related, get_article, stats, generation,
  close. Results come back as `search.results` types and failures as `search.errors`
  types, whatever the store.
- The Whoosh backend is `search.index.Index` (an index folder on this machine, the
  default); the PostgreSQL backend is `search.postgres.PostgresBackend` (one database that
  several machines read).
- `open_backend(backend=..., index_dir=..., database_url=...)` opens the one a setting
  names (FURET_BACKEND, FURET_INDEX_DIR, FURET_DATABASE_URL).
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any

from search.errors import IndexNotFoundError
from search.results import Article, Hit, Results

__all__ = ["BACKENDS", "Backend", "open_backend"]

BACKENDS = ("whoosh", "postgresql")


class Backend(ABC):
    """A searchable store of articles."""

    @property
    @abstractmethod
    def generation(self) -> str:
        """Identifies what is searched: changes whenever the articles do."""

    @abstractmethod
    def search(
        self,
        query: str,
        *,
        page: int = 1,
        per_page: int = 10,
        sort: str = "relevance",
        filters: Mapping[str, Any] | None = None,
        recency_half_life: float = 0.0,
        recency_weight: float = 0.5,
        facets: bool = True,
        correct_spelling: bool = True,
        snippets: bool = True,
    ) -> Results:
        """One page of results for what a reader typed (see search.engine.search)."""

    @abstractmethod
    def suggest(self, prefix: str, *, limit: int = 10) -> list[str]:
        """Up to `limit` completions of what a reader is typing, in display form."""

    @abstractmethod
    def related(self, article_id: str, *, limit: int = 5) -> list[Hit]:
        """Up to `limit` articles most like this one (ArticleNotFoundError if unknown)."""

    @abstractmethod
    def get_article(self, article_id: str) -> Article:
        """The whole article with this id (ArticleNotFoundError if there is none)."""

    @abstractmethod
    def stats(self) -> dict[str, Any]:
        """{"documents", "generation", "last_update"} of what is searched."""

    @abstractmethod
    def close(self) -> None:
        """Free files, connections and caches."""


def open_backend(
    *,
    backend: str = "whoosh",
    index_dir: str | os.PathLike[str] = "index",
    database_url: str | None = None,
) -> Backend:
    """Open the backend a setting names; raises IndexNotFoundError saying what to do."""
    if backend == "whoosh":
        from search.index import open_index

        return open_index(index_dir)
    if backend == "postgresql":
        from search.postgres import open_postgres

        return open_postgres(database_url or "")
    raise IndexNotFoundError(
        f"unknown backend {backend!r}; FURET_BACKEND (or --backend) is one of "
        + ", ".join(BACKENDS))
