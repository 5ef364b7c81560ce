"""Where an index lives: the `Store` contract every store package fulfils.

A store opens its index for reading (a `Backend`), for writing (a `Writer`), and for
inspection (`status`, `check`); search/stores.py makes one from the settings.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

from search.errors import ConfigurationError

if TYPE_CHECKING:  # (a writer's process never loads the query code)
    from search.backend import Backend
    from search.writer import Writer

__all__ = ["Store"]


class Store(ABC):
    """One index's location, and what opens it for reading, writing or inspection."""

    name: str  # one of BACKENDS

    @abstractmethod
    def describe(self) -> str:
        """The index as messages name it: `index/`, `postgresql://db:5432/furet`."""

    @abstractmethod
    def open_backend(self) -> Backend:
        """The index opened for searching (IndexNotFoundError saying how to build one)."""

    @abstractmethod
    def open_writer(self, *, wait: float = 0.0) -> Writer:
        """A write session: waits up to `wait` seconds for the lock, else
        IndexLockedError."""

    def init(self, *, wait: float = 0.0) -> tuple[int, list[int]]:
        """Create or upgrade what the store needs before a build: (the schema version it
        is at now, the versions applied by this call)."""
        raise ConfigurationError(
            f"init prepares a PostgreSQL database: pass --backend postgresql (a {self.name} "
            "index needs none: build makes it)", setting="FURET_BACKEND")

    @abstractmethod
    def status(self) -> dict[str, Any]:
        """Documents, generation, last update, size and schema of the index."""

    @abstractmethod
    def check(self) -> tuple[list[str], dict[str, Any]]:
        """(problems, each saying what to do; figures) of a verification of the index."""
