"""The index as the site sees it: opened lazily, once per process, after gunicorn forks.

An `Index` follows new generations by itself; what this module adds is starting without
one: while the folder holds no index every request raises IndexNotFoundError (a 503), and
the first request after `furet-index build` opens it.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from search import Index, open_index

__all__ = ["IndexHolder", "index_health"]


class IndexHolder:
    """Opens the index of one folder on first use, in the process that uses it."""

    def __init__(self, index_dir: str | os.PathLike[str]) -> None:
        self.dir = Path(index_dir)
        self._lock = threading.Lock()
        self._index: Index | None = None
        self._pid = 0

    def get(self) -> Index:
        """The open index; raises IndexNotFoundError/IndexCorruptError while there is none."""
        index, pid = self._index, os.getpid()
        if index is not None and self._pid == pid:
            return index
        with self._lock:
            if self._index is None or self._pid != pid:
                # A searcher inherited through fork shares file offsets with the parent:
                # every process opens its own.
                self._index, self._pid = open_index(self.dir), pid
            return self._index


def index_health(index: Index) -> dict[str, Any]:
    """Documents, generation and last update of the live index, for /api/v1/health."""
    return {"status": "ok", **index.stats()}
