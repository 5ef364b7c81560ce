"""The PostgreSQL writer's table work: migrations, loading rows, vocabulary, meta, the swap.

Used by search/postgres/writer.py, always on the connection that holds the write lock.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from psycopg import sql

from search.errors import IndexCorruptError, IndexNotFoundError
from search.postgres.connection import BUILD_HINT, INIT_HINT, describe
from search.postgres.postings import fill_postings, postings_key
from search.postgres.schema import (
    ARTICLE_COLUMNS,
    INDEXED_BODY_CHARS,
    MIGRATIONS,
    SCHEMA,
    SCHEMA_VERSION,
    articles_ddl,
    articles_indexes,
    drop_staging,
    extension_schema,
    side_tables_ddl,
    swap_statements,
)

__all__ = [
    "abandon_staging",
    "apply_migrations",
    "bump_generation",
    "check_schema",
    "copy_rows",
    "fill_side_tables",
    "forget_unused_words",
    "is_built",
    "meta",
    "no_build_error",
    "prepare_staging",
    "shift_vocabulary",
    "swap_in",
    "write_files",
    "write_meta",
]

_WORD = "'^[a-z0-9]+(-[a-z0-9]+)*$'"  # folded words and hyphenated words: the vocabulary
_TEXT = f"a.title || ' ' || a.lead || ' ' || left(a.body, {INDEXED_BODY_CHARS})"


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# ------------------------------------------------------------------------ schema


def _check_encoding(conn: Any, url: str) -> None:
    encoding, ctype = conn.execute(
        "SELECT pg_encoding_to_char(encoding), datctype FROM pg_database "
        "WHERE datname = current_database()").fetchone()
    if encoding != "UTF8" or ctype.upper() in ("C", "POSIX"):
        raise IndexCorruptError(
            f"{describe(url)} uses encoding {encoding} and LC_CTYPE {ctype}: PostgreSQL's "
            "text parser needs UTF-8 and a UTF-8 locale to tell letters from punctuation; "
            "create the database with: createdb --encoding UTF8 --locale C.UTF-8 "
            "--template template0 NAME")


def apply_migrations(conn: Any, url: str) -> list[int]:
    """Create or upgrade the schema; return the versions applied now."""
    _check_encoding(conn, url)
    conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(SCHEMA)))
    conn.execute("CREATE TABLE IF NOT EXISTS furet.schema_migrations (version integer "
                 "PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL "
                 "DEFAULT now())")
    applied = {v for (v,) in conn.execute("SELECT version FROM furet.schema_migrations")}
    if applied and max(applied) > SCHEMA_VERSION:
        raise IndexCorruptError(
            f"{describe(url)} has Furet schema version {max(applied)}, newer than this Furet "
            f"({SCHEMA_VERSION}); upgrade Furet")
    done = []
    for version, name, migrate in MIGRATIONS:
        if version in applied:
            continue
        with conn.transaction(), conn.cursor() as cur:
            migrate(cur)
            cur.execute("INSERT INTO furet.schema_migrations (version, name) VALUES (%s, %s)",
                        (version, name))
        done.append(version)
    return done


def check_schema(conn: Any, url: str) -> None:
    """IndexNotFoundError / IndexCorruptError unless the schema is the one this Furet writes."""
    if not conn.execute("SELECT to_regclass('furet.schema_migrations') IS NOT NULL"
                        ).fetchone()[0]:
        raise IndexNotFoundError(f"{describe(url)} has no Furet schema yet; create it with: "
                                 f"{INIT_HINT}")
    version = conn.execute("SELECT max(version) FROM furet.schema_migrations").fetchone()[0]
    if version != SCHEMA_VERSION:
        raise IndexCorruptError(f"{describe(url)} has Furet schema version {version}, this "
                                f"Furet writes {SCHEMA_VERSION}; upgrade it with: {INIT_HINT}")


def is_built(conn: Any) -> bool:
    """True once a build has been swapped in."""
    return conn.execute("SELECT 1 FROM furet.meta WHERE key = 'generation'").fetchone() \
        is not None


def meta(conn: Any) -> dict[str, str]:
    return dict(conn.execute("SELECT key, value FROM furet.meta").fetchall())


def write_meta(conn: Any, values: dict[str, str]) -> None:
    conn.cursor().executemany(
        "INSERT INTO furet.meta (key, value) VALUES (%s, %s) "
        "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value", list(values.items()))


def bump_generation(conn: Any) -> str:
    """Count one more commit of the live build; return the new generation."""
    values = meta(conn)
    commits = int(values.get("commits", "0")) + 1
    generation = f"{values.get('build', 'build')}.{commits}"
    documents = conn.execute("SELECT count(*) FROM furet.articles").fetchone()[0]
    write_meta(conn, {"commits": str(commits), "generation": generation,
                      "documents": str(documents), "updated": now()})
    return generation


# ------------------------------------------------------------------------ rows


def copy_rows(conn: Any, table: str, rows: Sequence[tuple[Any, ...]],
              columns: Sequence[str] = ARTICLE_COLUMNS) -> None:
    """COPY rows into furet.<table> (one statement: one transaction in autocommit)."""
    if not rows:
        return
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(SCHEMA, table), sql.SQL(", ").join(map(sql.Identifier, columns)))
    with conn.cursor() as cur, cur.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def write_files(conn: Any, rows: Iterable[tuple[str, int, int, str, int]],
                gone: Iterable[str] = ()) -> None:
    """Upsert the manifest's file rows, forget `gone` paths."""
    cur = conn.cursor()
    cur.executemany("DELETE FROM furet.files WHERE path = %s", [(os.fsencode(p),) for p in gone])
    cur.executemany(
        "INSERT INTO furet.files (path, size, mtime_ns, digest, rejected) "
        "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (path) DO UPDATE SET size = EXCLUDED.size, "
        "mtime_ns = EXCLUDED.mtime_ns, digest = EXCLUDED.digest, rejected = EXCLUDED.rejected",
        [(os.fsencode(p), size, mtime, digest, rej) for p, size, mtime, digest, rej in rows])


def shift_vocabulary(conn: Any, ids: Sequence[str], sign: int) -> None:
    """Count the words and stems of articles `ids` in (+1) or out (-1) of the vocabulary."""
    if not ids:
        return
    params = {"ids": list(ids), "sign": sign}
    conn.execute(
        "INSERT INTO furet.vocabulary AS v (word, display, ndoc) "
        "SELECT furet.fold(w), min(w), %(sign)s * count(*) FROM furet.articles a, "
        f"unnest(tsvector_to_array(to_tsvector('simple', {_TEXT}))) w "
        f"WHERE a.id = ANY(%(ids)s::text[]) AND furet.fold(w) ~ {_WORD} GROUP BY 1 "
        "ON CONFLICT (word) DO UPDATE SET ndoc = v.ndoc + EXCLUDED.ndoc", params)
    conn.execute(
        "INSERT INTO furet.stems AS s (stem, ndoc) SELECT l, %(sign)s * count(*) "
        "FROM furet.articles a, unnest(tsvector_to_array(a.fts)) l "
        "WHERE a.id = ANY(%(ids)s::text[]) GROUP BY l "
        "ON CONFLICT (stem) DO UPDATE SET ndoc = s.ndoc + EXCLUDED.ndoc", params)


def forget_unused_words(conn: Any) -> None:
    conn.execute("DELETE FROM furet.vocabulary WHERE ndoc <= 0")
    conn.execute("DELETE FROM furet.stems WHERE ndoc <= 0")
    conn.execute("DELETE FROM furet.terms WHERE ndoc <= 0")


# ------------------------------------------------------------------------ build


def prepare_staging(conn: Any) -> None:
    """Remove what an interrupted build left; create an empty furet.articles_next."""
    for statement in drop_staging():
        conn.execute(statement)
    conn.execute(articles_ddl("articles_next"))


def fill_side_tables(conn: Any, files: Sequence[tuple[str, int, int, str, int]]
                     ) -> dict[str, str]:
    """Index articles_next, then make files_next, vocabulary_next, stems_next,
    postings_next and terms_next from it; return the meta values the postings' weights
    were made with."""
    for statement in articles_indexes("articles_next"):
        conn.execute(statement)
    for statement in side_tables_ddl(extension_schema(conn, "pg_trgm"), "_next"):
        conn.execute(statement)
    copy_rows(conn, "files_next", [(os.fsencode(p), size, mtime, digest, rej)
                                   for p, size, mtime, digest, rej in files],
              ("path", "size", "mtime_ns", "digest", "rejected"))
    # ts_stat counts (document, spelling) pairs; shift_vocabulary counts the same way.
    text = f"to_tsvector('simple', {_TEXT})".replace("'", "''")
    conn.execute(
        "INSERT INTO furet.vocabulary_next (word, display, ndoc) "
        "SELECT furet.fold(word), (array_agg(word ORDER BY ndoc DESC, word))[1], sum(ndoc) "
        f"FROM ts_stat('SELECT {text} FROM furet.articles_next a') "
        f"WHERE furet.fold(word) ~ {_WORD} GROUP BY 1")
    conn.execute("INSERT INTO furet.stems_next (stem, ndoc) SELECT word, ndoc "
                 "FROM ts_stat('SELECT fts FROM furet.articles_next')")
    lengths = fill_postings(conn, suffix="_next")  # and terms_next
    conn.execute(postings_key("_next"))
    # VACUUM sets the visibility map: ranking and facets are index-only scans on a new build.
    conn.execute("VACUUM ANALYZE furet.articles_next")
    conn.execute("VACUUM ANALYZE furet.postings_next")
    return lengths


def swap_in(conn: Any, build: str, values: dict[str, str]) -> str:
    """Make the _next tables live and record the new build (and `values`), in one
    transaction."""
    generation = f"{build}.0"
    with conn.transaction():
        for statement in swap_statements():
            conn.execute(statement)
        documents = conn.execute("SELECT count(*) FROM furet.articles").fetchone()[0]
        write_meta(conn, {"build": build, "commits": "0", "generation": generation,
                          "documents": str(documents), "created": now(), "updated": now(),
                          "schema_version": str(SCHEMA_VERSION), **values})
    return generation


def abandon_staging(conn: Any) -> None:
    """Drop the _next tables after a failed build (the live ones are untouched)."""
    for statement in drop_staging():
        conn.execute(statement)


def no_build_error(url: str) -> IndexNotFoundError:
    return IndexNotFoundError(f"{describe(url)} holds no articles yet; build the index "
                              f"with: {BUILD_HINT}")
