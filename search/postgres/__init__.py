"""Furet's PostgreSQL backend: several web servers reading one shared, replicated store.

Parts: `schema` (tables, text search configurations, migrations), `connection` (URLs,
connecting, errors), `compile` (parsed queries as SQL), `highlight` (ts_headline as
snippets), `spelling` (did-you-mean, completions), `related`, and `backend`
(`PostgresBackend`, the Backend interface). The writer is indexer/pg_writing.py.
"""

from search.postgres.backend import PostgresBackend, open_postgres

__all__ = ["PostgresBackend", "open_postgres"]
