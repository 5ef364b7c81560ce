"""The PostgreSQL schema of a Furet index, and the versioned migrations that make it.

Everything lives in the `furet` schema:

    schema_migrations(version, name, applied_at)   what `furet-index init` has applied
    meta(key, value)                  build, commits, documents, created, updated
    articles(...)                     one row per article: stored fields, the manifest's
                                      (path, hash), and generated tsvectors with GIN indexes
    files(path, size, mtime_ns, digest, rejected)   the manifest's files, for `update`
    vocabulary(word, display, ndoc)   folded words (and hyphenated words) with their usual
                                      accented spelling: did-you-mean, completions (pg_trgm)
    stems(stem, ndoc)                 document frequency of each of PostgreSQL's stems:
                                      related articles
    postings(term, doc, weight)       each article's BM25F weight of each of its stems and
                                      exact forms, as Furet's analysis makes them (the
                                      Whoosh store's terms; search/postgres/postings.py):
                                      ranking
    terms(term, ndoc)                 the postings' terms' document frequencies: idf
    editor_*                          the newsroom console's settings, never swapped by a
                                      build (search/postgres/editorial.py)

Text search configurations, as close to search/analysis.py as PostgreSQL allows:
`furet.french` drops French stop words (accented or not), folds accents (unaccent), then
stems (Snowball french); `furet.exact` folds and lowercases only (exact forms, phrases).
Hyphenated words are indexed as their parts, like the Whoosh analyzer does.

`build` writes `<table>_next` tables and swaps them in with `swap_statements`, in one
transaction. A new migration is appended to MIGRATIONS; `articles_ddl` always describes
the latest table, so builds write what the latest migration made.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from psycopg import sql

from search.postgres.editorial import editorial_tables
from search.postgres.postings import fill_postings, postings_ddl, postings_key, terms_ddl

__all__ = [
    "ARTICLE_COLUMNS",
    "MIGRATIONS",
    "SCHEMA",
    "SCHEMA_VERSION",
    "articles_ddl",
    "articles_indexes",
    "drop_staging",
    "extension_schema",
    "side_tables_ddl",
    "swap_statements",
]

SCHEMA = "furet"
# Bodies longer than this are indexed up to here: a tsvector holds at most 1 MB.
INDEXED_BODY_CHARS = 300_000
SWAPPED = ("articles", "files", "vocabulary", "stems", "postings", "terms")

# What the (doc) index covers: ranked postings joined to their articles, filtered and
# counted into facets, without reading the articles' rows.
DOC_COLUMNS = ("id", "section_key", "author_keys", "year", "month")
# Facets count sections by this 64-bit hash (narrower than the text, and faster to group);
# the most frequent are named through the (section_key) index.
SECTION_KEY = "hashtextextended(coalesce(section, ''), 0)"

# Columns the writer fills; the tsvectors are generated from them.
ARTICLE_COLUMNS = (
    "id", "url", "title", "lead", "body", "published", "published_at", "year", "month",
    "modified", "section", "authors", "author_keys", "author_text", "tags", "tag_keys",
    "lang", "source", "path", "hash",
)


def _weighted(config: str) -> str:
    return (f"setweight(to_tsvector('{config}', title), 'A') || "
            f"setweight(to_tsvector('{config}', lead), 'B') || "
            f"setweight(to_tsvector('{config}', left(body, {INDEXED_BODY_CHARS})), 'C')")


def articles_ddl(table: str) -> sql.Composed:
    """CREATE TABLE for the articles table named `table` (no indexes: added after loading)."""
    return sql.SQL("""
CREATE TABLE {table} (
    id text NOT NULL,
    url text,
    title text NOT NULL,
    lead text NOT NULL DEFAULT '',
    body text NOT NULL,
    published text,
    published_at timestamptz,
    year integer,
    month integer,
    modified text,
    section text,
    authors text[] NOT NULL DEFAULT '{{}}',
    author_keys text[] NOT NULL DEFAULT '{{}}',
    author_text text NOT NULL DEFAULT '',
    tags text[] NOT NULL DEFAULT '{{}}',
    tag_keys text[] NOT NULL DEFAULT '{{}}',
    lang text,
    source text,
    path bytea,
    hash text,
    doc integer GENERATED ALWAYS AS IDENTITY,
    section_key bigint GENERATED ALWAYS AS ({section_key}) STORED,
    fts tsvector GENERATED ALWAYS AS ({fts}) STORED,
    exact tsvector GENERATED ALWAYS AS ({exact}) STORED,
    author_words tsvector GENERATED ALWAYS AS
        (to_tsvector('furet.exact', author_text)) STORED,
    section_words tsvector GENERATED ALWAYS AS
        (to_tsvector('furet.exact', coalesce(section, ''))) STORED
)""").format(table=sql.Identifier(SCHEMA, table), section_key=sql.SQL(SECTION_KEY),
             fts=sql.SQL(_weighted("furet.french")),
             exact=sql.SQL(_weighted("furet.exact")))


def articles_indexes(table: str) -> list[sql.Composed]:
    """The primary key and indexes of an articles table, named after it."""
    t = sql.Identifier(SCHEMA, table)

    def name(suffix: str) -> sql.Identifier:
        return sql.Identifier(f"{table}_{suffix}")

    return [
        sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} PRIMARY KEY (id)").format(t, name("pkey")),
        *(sql.SQL("CREATE INDEX {} ON {} USING gin ({})").format(name(c), t, sql.Identifier(c))
          for c in ("fts", "exact", "author_words", "section_words")),
        sql.SQL("CREATE UNIQUE INDEX {} ON {} (doc) INCLUDE ({})").format(
            name("doc"), t, sql.SQL(", ").join(map(sql.Identifier, DOC_COLUMNS))),
        sql.SQL("CREATE INDEX {} ON {} (section_key) INCLUDE (section)").format(
            name("section_key"), t),
        sql.SQL("CREATE INDEX {} ON {} (url)").format(name("url"), t),
        sql.SQL("CREATE INDEX {} ON {} (published_at)").format(name("published_at"), t),
        sql.SQL("CREATE INDEX {} ON {} (path)").format(name("path"), t),
    ]


_INDEX_SUFFIXES = {
    "articles": ("pkey", "fts", "exact", "author_words", "section_words", "doc",
                 "section_key", "url", "published_at", "path"),
    "files": ("pkey",),
    "vocabulary": ("pkey", "prefix", "trgm"),
    "stems": ("pkey",),
    "postings": ("pkey",),
    "terms": ("pkey",),
}


def side_tables_ddl(trgm_schema: str, suffix: str = "") -> list[sql.Composed]:
    """files, vocabulary and stems tables (with `suffix`, e.g. "_next"), with their indexes;
    `trgm_schema` is where the pg_trgm extension lives (see `extension_schema`)."""
    def t(name: str) -> sql.Identifier:
        return sql.Identifier(SCHEMA, name + suffix)

    def n(name: str, index: str) -> sql.Identifier:
        return sql.Identifier(f"{name}{suffix}_{index}")

    return [
        sql.SQL("CREATE TABLE {} (path bytea, size bigint NOT NULL, mtime_ns bigint NOT NULL, "
                "digest text NOT NULL, rejected integer NOT NULL DEFAULT 0, "
                "CONSTRAINT {} PRIMARY KEY (path))").format(t("files"), n("files", "pkey")),
        sql.SQL("CREATE TABLE {} (word text, display text NOT NULL, ndoc integer NOT NULL, "
                "CONSTRAINT {} PRIMARY KEY (word))").format(t("vocabulary"),
                                                              n("vocabulary", "pkey")),
        sql.SQL("CREATE INDEX {} ON {} (word text_pattern_ops)").format(
            n("vocabulary", "prefix"), t("vocabulary")),
        sql.SQL("CREATE INDEX {} ON {} USING gin (word {}.gin_trgm_ops)").format(
            n("vocabulary", "trgm"), t("vocabulary"), sql.Identifier(trgm_schema)),
        sql.SQL("CREATE TABLE {} (stem text, ndoc integer NOT NULL, CONSTRAINT {} "
                "PRIMARY KEY (stem))").format(t("stems"), n("stems", "pkey")),
        postings_ddl(suffix),
        terms_ddl(suffix),
    ]


def swap_statements(suffix: str = "_next") -> list[sql.Composed]:
    """Replace the live tables by the `<table>_next` ones (run in one transaction)."""
    out = []
    for table in SWAPPED:
        out.append(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(SCHEMA, table)))
        out.append(sql.SQL("ALTER TABLE {} RENAME TO {}").format(
            sql.Identifier(SCHEMA, table + suffix), sql.Identifier(table)))
        for index in _INDEX_SUFFIXES[table]:
            out.append(sql.SQL("ALTER INDEX {} RENAME TO {}").format(
                sql.Identifier(SCHEMA, f"{table}{suffix}_{index}"),
                sql.Identifier(f"{table}_{index}")))
    return out


def drop_staging(suffix: str = "_next") -> list[sql.Composed]:
    """Remove what an interrupted build left."""
    return [sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(SCHEMA, t + suffix))
            for t in SWAPPED]


# ------------------------------------------------------------------------ migrations

_TEXT_SEARCH = """
CREATE TEXT SEARCH DICTIONARY furet.french_stop
    (TEMPLATE = pg_catalog.simple, STOPWORDS = french, ACCEPT = false);
CREATE TEXT SEARCH DICTIONARY furet.french_stem
    (TEMPLATE = pg_catalog.snowball, LANGUAGE = french, STOPWORDS = french);
CREATE TEXT SEARCH CONFIGURATION furet.french (COPY = pg_catalog.french);
ALTER TEXT SEARCH CONFIGURATION furet.french
    ALTER MAPPING FOR asciiword, word, numword, hword_part, hword_asciipart, hword_numpart
    WITH furet.french_stop, furet_unaccent.unaccent, furet.french_stem;
ALTER TEXT SEARCH CONFIGURATION furet.french DROP MAPPING FOR hword, asciihword, numhword;
CREATE TEXT SEARCH CONFIGURATION furet.exact (COPY = pg_catalog.simple);
ALTER TEXT SEARCH CONFIGURATION furet.exact
    ALTER MAPPING FOR asciiword, word, numword, hword_part, hword_asciipart, hword_numpart
    WITH furet_unaccent.unaccent, pg_catalog.simple;
ALTER TEXT SEARCH CONFIGURATION furet.exact DROP MAPPING FOR hword, asciihword, numhword;
CREATE FUNCTION furet.fold(text) RETURNS text LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT furet_unaccent.unaccent('furet_unaccent.unaccent'::regdictionary, lower($1)) $$;
CREATE TABLE furet.meta (key text PRIMARY KEY, value text);
"""


def extension_schema(cur: Any, name: str) -> str:
    """The schema an extension was created in."""
    row = cur.execute("SELECT n.nspname FROM pg_extension e JOIN pg_namespace n "
                      "ON n.oid = e.extnamespace WHERE e.extname = %s", (name,)).fetchone()
    return row[0] if row else "public"


def _version_1(cur: Any) -> None:
    """The schema, the text search configurations and empty tables."""
    for extension in ("unaccent", "pg_trgm"):
        cur.execute(sql.SQL("CREATE EXTENSION IF NOT EXISTS {}").format(
            sql.Identifier(extension)))
    # The extensions may live in any schema: furet_unaccent and furet_trgm stand for them
    # in the statements below (resolved here, once, never from the search path).
    unaccent = sql.Identifier(extension_schema(cur, "unaccent")).as_string(cur)
    cur.execute(_TEXT_SEARCH.replace("furet_unaccent.", unaccent + "."))
    cur.execute(articles_ddl("articles"))
    for statement in articles_indexes("articles"):
        cur.execute(statement)
    for statement in side_tables_ddl(extension_schema(cur, "pg_trgm")):
        cur.execute(statement)


def _version_2(cur: Any) -> None:
    """Postings with BM25F weights (search/postgres/postings.py), on an integer doc number.

    A new database got the latest tables from version 1: only the key is missing."""
    if cur.execute("SELECT to_regclass('furet.postings') IS NOT NULL").fetchone()[0]:
        cur.execute(postings_key())
        return
    cur.execute("ALTER TABLE furet.articles ADD COLUMN IF NOT EXISTS doc integer "
                "GENERATED ALWAYS AS IDENTITY, ADD COLUMN IF NOT EXISTS section_key bigint "
                f"GENERATED ALWAYS AS ({SECTION_KEY}) STORED")
    for statement in articles_indexes("articles")[5:7]:  # (doc) and (section_key)
        cur.execute(statement)
    cur.execute(postings_ddl())
    cur.execute(postings_key())  # filled by version 4


def _version_4(cur: Any) -> None:
    """Postings and their terms' document frequencies from Furet's own analysis (the
    Whoosh store's terms: search/postgres/postings.py), instead of PostgreSQL's stems.

    A new database got the terms table from version 1: nothing to do."""
    if cur.execute("SELECT to_regclass('furet.terms') IS NOT NULL").fetchone()[0]:
        return
    cur.execute(terms_ddl())
    if cur.execute("SELECT 1 FROM furet.meta WHERE key = 'generation'").fetchone():
        cur.execute("TRUNCATE furet.postings")
        cur.execute("ALTER TABLE furet.postings DROP CONSTRAINT postings_pkey")
        lengths = fill_postings(cur.connection)
        cur.execute(postings_key())
        cur.executemany("INSERT INTO furet.meta (key, value) VALUES (%s, %s) ON CONFLICT "
                        "(key) DO UPDATE SET value = EXCLUDED.value", list(lengths.items()))


MIGRATIONS: list[tuple[int, str, Callable[[Any], None]]] = [
    (1, "schema, French text search, articles, files, vocabulary", _version_1),
    (2, "postings with BM25F weights", _version_2),
    (3, "the editors' tables (search/postgres/editorial.py)", editorial_tables),
    (4, "postings and terms from Furet's own analysis", _version_4),
]
SCHEMA_VERSION = MIGRATIONS[-1][0]
