"""The index as the site sees it: opened lazily, once per process, after gunicorn forks.

A backend follows new generations by itself; what this module adds is starting without
one: while there is no index (or no reachable database) every request raises
IndexNotFoundError (a 503), and the first request after `furet-index build` opens it.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from search import Backend, open_backend
from search.deadline import DEFAULT_TIMEOUT

__all__ = ["IndexHolder", "index_health"]


class IndexHolder:
    """Opens the index (a folder, or a database) on first use, in the process that uses it."""

    def __init__(self, index_dir: str | os.PathLike[str], *, backend: str = "whoosh",
                 database_url: str = "", search_timeout: float = DEFAULT_TIMEOUT) -> None:
        self.dir = Path(index_dir)
        self.search_timeout = search_timeout
        self.backend = backend
        self.database_url = database_url
        self._lock = threading.Lock()
        self._index: Backend | None = None
        self._pid = 0

    def get(self) -> Backend:
        """The open index; raises IndexNotFoundError/IndexCorruptError while there is none."""
        index, pid = self._index, os.getpid()
        if index is not None and self._pid == pid:
            return index
        with self._lock:
            if self._index is None or self._pid != pid:
                # A searcher (or a connection) inherited through fork shares file offsets
                # (or a socket) with the parent: every process opens its own.
                index = open_backend(backend=self.backend, index_dir=self.dir,
                                     database_url=self.database_url)
                index.search_timeout = self.search_timeout
                self._index, self._pid = index, pid
            return self._index


def index_health(index: Backend) -> dict[str, Any]:
    """Documents, generation and last update of the live index, for /api/v1/health."""
    return {"status": "ok", **index.stats()}
