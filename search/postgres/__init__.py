"""Furet's PostgreSQL store: several web servers reading one shared, replicated database.

Parts: `schema` (tables, text search configurations, migrations), `connection` (URLs,
connecting, errors), `compile` (parsed queries as SQL), `spelling` (the vocabulary for
corrections and completions), `related`,
`backend` (searching), `rows` (an article as a row), `tables` (the writer's table work),
`lock` (one writer), `writer` (building and updating), `status` (what `furet-index status`
and `check` report).
"""

from __future__ import annotations

from typing import Any

from search.postgres.backend import PostgresBackend, open_postgres
from search.postgres.connection import describe
from search.postgres.schema import SCHEMA_VERSION
from search.postgres.status import check_database, database_status
from search.postgres.writer import PostgresWriter, init
from search.store import Store

__all__ = ["PostgresBackend", "PostgresStore", "PostgresWriter"]


class PostgresStore(Store):
    """A PostgreSQL database (FURET_DATABASE_URL)."""

    name = "postgresql"

    def __init__(self, database_url: str | None) -> None:
        self.url = database_url

    def describe(self) -> str:
        return describe(self.url or "")

    def open_backend(self) -> PostgresBackend:
        return open_postgres(self.url)

    def open_writer(self, *, wait: float = 0.0) -> PostgresWriter:
        return PostgresWriter(self.url, wait=wait)

    def init(self, *, wait: float = 0.0) -> tuple[int, list[int]]:
        return SCHEMA_VERSION, init(self.url, wait=wait)

    def status(self) -> dict[str, Any]:
        return database_status(self.url)

    def check(self) -> tuple[list[str], dict[str, Any]]:
        return check_database(self.url)
