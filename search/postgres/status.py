"""What a PostgreSQL index holds: the figures `furet-index status` prints and `check` verifies."""

from __future__ import annotations

from typing import Any

from search.postgres import tables
from search.postgres.connection import check_url, connect, database_errors, describe
from search.postgres.schema import SCHEMA_VERSION

__all__ = ["check_database", "database_status"]

_SIZE = ("SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint FROM pg_class c "
         "JOIN pg_namespace n ON n.oid = c.relnamespace "
         "WHERE n.nspname = 'furet' AND c.relkind = 'r'")


def database_status(database_url: str | None) -> dict[str, Any]:
    """Documents, generation, last update, size and schema of the index in the database."""
    url = check_url(database_url)
    with connect(url) as conn, database_errors(url):
        tables.check_schema(conn, url)
        if not tables.is_built(conn):
            raise tables.no_build_error(url)
        meta = tables.meta(conn)
        files, rejections = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE rejected > 0) FROM furet.files").fetchone()
        return {
            "database": describe(url),
            "build": meta.get("build"),
            "generation": meta.get("generation"),
            "documents": conn.execute("SELECT count(*) FROM furet.articles").fetchone()[0],
            "files": files,
            "files_with_rejections": rejections,
            "created": meta.get("created"),
            "last_update": meta.get("updated"),
            "size_bytes": conn.execute(_SIZE).fetchone()[0],
            "vocabulary": conn.execute("SELECT count(*) FROM furet.vocabulary").fetchone()[0],
            "schema_version": SCHEMA_VERSION,
        }


def check_database(database_url: str | None) -> tuple[list[str], dict[str, Any]]:
    """Verify the index in the database; return (problems, each with what to do; figures)."""
    url = check_url(database_url)
    where = describe(url)
    problems: list[str] = []
    with connect(url) as conn, database_errors(url):
        tables.check_schema(conn, url)
        if not tables.is_built(conn):
            return [str(tables.no_build_error(url))], {}
        meta = tables.meta(conn)
        documents = conn.execute("SELECT count(*) FROM furet.articles").fetchone()[0]
        figures = {"documents": documents, "generation": meta.get("generation")}
        if str(documents) != meta.get("documents"):
            problems.append(f"{where}: furet.meta counts {meta.get('documents')} articles, the "
                            f"table holds {documents}; rebuild with: furet-index build "
                            "--backend postgresql ARTICLES_FOLDER")
        unindexed = conn.execute("SELECT count(*) FROM furet.articles WHERE fts IS NULL "
                                 "OR exact IS NULL").fetchone()[0]
        if unindexed:
            problems.append(f"{where}: {unindexed} articles have no text search vector; "
                            "rebuild with: furet-index build --backend postgresql "
                            "ARTICLES_FOLDER")
        if documents and not conn.execute("SELECT count(*) FROM furet.vocabulary"
                                          ).fetchone()[0]:
            problems.append(f"{where}: the vocabulary is empty; rebuild with: furet-index "
                            "build --backend postgresql ARTICLES_FOLDER")
        staging = conn.execute("SELECT string_agg(relname, ', ' ORDER BY relname) FROM pg_class "
                               "c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE "
                               "n.nspname = 'furet' AND relname LIKE '%%\\_next' AND "
                               "relkind = 'r'").fetchone()[0]
        if staging:
            problems.append(f"{where}: unfinished build tables {staging} (a build was "
                            "interrupted); the next build or update removes them")
    return problems, figures
