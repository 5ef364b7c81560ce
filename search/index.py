"""An open index: one Whoosh searcher per process, reopened cheaply when the index changes.

`open_index(path)` is what every caller starts with. `Index.searcher()` checks, at most
once per `refresh_interval` seconds, whether the CURRENT build or its Whoosh generation
changed (a cron `update` or a `build`), and if so opens a new searcher: the next query
sees the new articles, without a restart. The replaced searcher is closed one swap later
(not reused, as Whoosh's `refresh()` would), so a query still running on it in another
thread is never cut off, and file handles do not leak.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from search.backend import Backend
from search.ranking import weighting
from search.results import Article, Hit, Results
from search.storage import CURRENT, MANIFEST, current_build, damaged, open_build

__all__ = ["Index", "open_index"]


class Index(Backend):
    """A Furet index directory, opened for searching: the Whoosh backend."""

    def __init__(self, index_dir: str | os.PathLike[str], *, refresh_interval: float = 0.0):
        self.dir = Path(index_dir)
        self.refresh_interval = refresh_interval
        self._lock = threading.Lock()
        self._build: Path | None = None
        self._ix: Any = None
        self._searcher: Any = None
        self._retired: list[Any] = []
        self._whoosh_generation = -1
        self._checked = 0.0
        self._target: str | None = None
        self.cache: dict[Any, Any] = {}  # per-generation caches (see search.engine)

    # -- state

    @property
    def generation(self) -> str:
        """Identifies what the searcher sees: build name and Whoosh generation."""
        self.searcher()
        assert self._build is not None
        return f"{self._build.name}.{self._whoosh_generation}"

    def stats(self) -> dict[str, Any]:
        """Documents, generation and last update (UTC, ISO 8601) of what is searched."""
        searcher = self.searcher()
        assert self._build is not None
        return {
            "documents": searcher.doc_count(),
            "generation": self.generation,
            "last_update": _manifest_value(self._build / MANIFEST, "updated"),
        }

    # -- the Backend interface: search.engine does the work

    def search(self, query: str, *, page: int = 1, per_page: int = 10,
               sort: str = "relevance", filters: Mapping[str, Any] | None = None,
               recency_half_life: float = 0.0, recency_weight: float = 0.5,
               facets: bool = True, correct_spelling: bool = True,
               snippets: bool = True) -> Results:
        from search import engine

        return engine.search(self, query, page=page, per_page=per_page, sort=sort,
                             filters=filters, recency_half_life=recency_half_life,
                             recency_weight=recency_weight, facets=facets,
                             correct_spelling=correct_spelling, snippets=snippets)

    def suggest(self, prefix: str, *, limit: int = 10) -> list[str]:
        from search import engine

        return engine.suggest(self, prefix, limit=limit)

    def related(self, article_id: str, *, limit: int = 5) -> list[Hit]:
        from search import engine

        return engine.related(self, article_id, limit=limit)

    def get_article(self, article_id: str) -> Article:
        from search import engine

        return engine.get_article(self, article_id)

    def schema(self) -> Any:
        self.searcher()
        return self._ix.schema

    # -- opening and refreshing

    def _open(self) -> None:
        build = current_build(self.dir)
        ix = open_build(build)
        try:
            searcher = ix.searcher(weighting=weighting())
        except Exception as err:  # noqa: BLE001 - a damaged segment fails in many ways
            raise damaged(build, err) from None
        self._retire()
        self._build, self._ix, self._searcher = build, ix, searcher
        self._whoosh_generation = searcher.reader().generation()
        self._target = os.readlink(self.dir / CURRENT)
        self.cache = {}

    def _retire(self) -> None:
        for old in self._retired:
            old.close()
        self._retired = [self._searcher] if self._searcher is not None else []

    def _stale(self) -> bool:
        try:
            target = os.readlink(self.dir / CURRENT)
        except OSError:
            return True
        if target != self._target:
            return True
        return self._ix.latest_generation() != self._whoosh_generation

    def searcher(self) -> Any:
        """The current Whoosh searcher (internal to search/: callers use search.search)."""
        now = time.monotonic()
        if self._searcher is not None and now - self._checked < self.refresh_interval:
            return self._searcher
        with self._lock:
            if self._searcher is None:
                self._open()
            elif self._stale():
                self._open()
            self._checked = now
            return self._searcher

    def close(self) -> None:
        with self._lock:
            self._retire()
            self._retire()
            self._searcher = None
            self._ix = None


def _manifest_value(path: Path, key: str) -> str | None:
    """One value of a build's manifest, read without writing anything."""
    for mode in ("ro", "ro&immutable=1"):  # immutable: on a full disk, no shared memory file
        try:
            db = sqlite3.connect(f"file:{path}?mode={mode}", uri=True)
        except sqlite3.Error:
            continue
        try:
            row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
            return row[0] if row else None
        except sqlite3.Error:
            continue
        finally:
            db.close()
    return None


def open_index(path: str | os.PathLike[str], *, refresh_interval: float = 0.0) -> Index:
    """Open the index in `path` (raises IndexNotFoundError with the command to build one)."""
    index = Index(path, refresh_interval=refresh_interval)
    index.searcher()
    return index
