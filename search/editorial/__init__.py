"""The editors' choices (synonyms, pinned and hidden articles) and where they live.

Parts: `store` (the EditorialStore contract, and the statements both stores run),
`sqlite` (a SQLite file next to a Whoosh index, FURET_ADMIN_DB), `choices` (what every
search obeys, as one process last read it), `pins` (pinned articles put first). The
PostgreSQL store keeps them in the `furet` schema (search/postgres/editorial.py), so every
web server of a site shares them.
"""

from __future__ import annotations

import os

from search.editorial.choices import Editorial, EditorialCache, load_rules, pin_key
from search.editorial.pins import with_pins
from search.editorial.sqlite import SQLiteEditorial
from search.editorial.store import EditorialStore, now_iso
from search.errors import ConfigurationError

__all__ = ["Editorial", "EditorialCache", "EditorialStore", "SQLiteEditorial", "load_rules",
           "now_iso", "open_editorial", "pin_key", "with_pins"]


def open_editorial(*, backend: str = "whoosh", path: str | os.PathLike[str] | None,
                   database_url: str | None = None) -> EditorialStore:
    """The editors' store of a site: the SQLite file at `path` with the Whoosh store; the
    `furet` schema with PostgreSQL (which copies in, once, what `path` held before; None:
    nothing to copy)."""
    if backend == "whoosh":
        if path is None:
            raise ConfigurationError("the Whoosh store keeps the editors' choices in a file: "
                                     "name it", setting="FURET_ADMIN_DB")
        return SQLiteEditorial(path)
    if backend == "postgresql":
        from search.postgres.editorial import PostgresEditorial

        return PostgresEditorial(database_url, legacy=path)
    raise ConfigurationError(f"unknown backend {backend!r}", setting="FURET_BACKEND")
