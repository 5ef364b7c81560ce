"""The one place that knows the stores: a setting (FURET_BACKEND...) made a `Store`.

A store (search/store.py) is a Whoosh index folder on this machine (the default) or a
PostgreSQL database that several machines read. Everything else in Furet reaches a store
through this module:

    store = store_for(backend="whoosh", index_dir="index")      # or "postgresql", URL
    backend = store.open_backend()         # reading: search, suggest, related, articles
    with store.open_writer(wait=0) as w:   # writing: one process at a time
        ...

`open_backend()` and `open_writer()` are the same in one call. A wrong setting (an unknown
backend, a bad database URL) is a ConfigurationError naming it.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from search.errors import ConfigurationError

if TYPE_CHECKING:  # (a writer's process never loads the query code)
    from search.backend import Backend
    from search.store import Store
    from search.writer import Writer

__all__ = ["BACKENDS", "open_backend", "open_index", "open_writer", "store_for"]

BACKENDS = ("whoosh", "postgresql")


def store_for(*, backend: str = "whoosh", index_dir: str | os.PathLike[str] = "index",
              database_url: str | None = None) -> Store:
    """The store a setting names (ConfigurationError when it names none)."""
    if backend == "whoosh":
        from search.whoosh import WhooshStore

        return WhooshStore(index_dir)
    if backend == "postgresql":
        from search.postgres import PostgresStore

        return PostgresStore(database_url)
    raise ConfigurationError(
        f"unknown backend {backend!r}; FURET_BACKEND (or --backend) is one of "
        + ", ".join(BACKENDS), setting="FURET_BACKEND")


def open_backend(*, backend: str = "whoosh", index_dir: str | os.PathLike[str] = "index",
                 database_url: str | None = None) -> Backend:
    """The index a setting names, opened for searching."""
    return store_for(backend=backend, index_dir=index_dir,
                     database_url=database_url).open_backend()


def open_writer(*, backend: str = "whoosh", index_dir: str | os.PathLike[str] = "index",
                database_url: str | None = None, wait: float = 0.0) -> Writer:
    """A write session on the index a setting names."""
    return store_for(backend=backend, index_dir=index_dir,
                     database_url=database_url).open_writer(wait=wait)


def open_index(path: str | os.PathLike[str] = "index") -> Backend:
    """The Whoosh index in `path`, opened for searching."""
    return store_for(index_dir=path).open_backend()
