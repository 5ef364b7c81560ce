"""Furet's Whoosh store: an index folder on this machine, read and written here.

Parts: `layout` (the folder: builds, CURRENT, the durable storage), `private` (everything
that touches Whoosh's private API, for one Whoosh version), `postings` (the flat postings
file of each segment), `segments` (postings pooled while a segment is written), `compile`
(parsed queries as Whoosh query objects), `evaluate` (those queries evaluated with numpy),
`facets` (facet values and filters), `spelling` (the vocabulary for corrections),
`backend` (searching), `documents` (an article as a Whoosh document), `writer` (building
and updating), `builds` (build folders switched in, retired, removed), `manifest` (which
file each article came from), `lock` (one writer), `status` (what `furet-index status` and
`check` report).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from search.store import Store
from search.whoosh.backend import WhooshBackend
from search.whoosh.private import check_version
from search.whoosh.status import check_index, index_status
from search.whoosh.writer import WhooshWriter

__all__ = ["WhooshBackend", "WhooshStore", "WhooshWriter"]


class WhooshStore(Store):
    """An index folder (FURET_INDEX_DIR)."""

    name = "whoosh"

    def __init__(self, index_dir: str | os.PathLike[str], *, refresh_interval: float = 0.0
                 ) -> None:
        check_version()
        self.dir = Path(index_dir)
        self.refresh_interval = refresh_interval

    def describe(self) -> str:
        return f"{self.dir}/"

    def open_backend(self) -> WhooshBackend:
        backend = WhooshBackend(self.dir, refresh_interval=self.refresh_interval)
        backend.current()  # IndexNotFoundError now, with the command that builds one
        return backend

    def open_writer(self, *, wait: float = 0.0) -> WhooshWriter:
        return WhooshWriter(self.dir, wait=wait)

    def status(self) -> dict[str, Any]:
        return index_status(self.dir)

    def check(self) -> tuple[list[str], dict[str, Any]]:
        return check_index(self.dir)
