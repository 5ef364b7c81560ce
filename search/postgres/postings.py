"""The postings side table: each article's BM25F weight for each of its terms, so ranking a
word is an index-only aggregate instead of reading every candidate's tsvector.

    postings(term, doc, weight)   PRIMARY KEY (term, doc) INCLUDE (weight)

A term is a stem of `articles.fts`, or `=` and an exact form of `articles.exact`. `doc` is
the article's integer `articles.doc`. The weight is BM25's saturated term frequency, as the
Whoosh store computes it (search/whoosh/evaluate.py): the frequency counts title, lead and
body occurrences TITLE_WEIGHT, LEAD_WEIGHT and BODY_WEIGHT times (search/schema.py), and the
length is the weighted length of the article's field, against the average length of the
build (kept in `furet.meta` as `avgdl_fts` and `avgdl_exact`; updates reuse it). A query
multiplies each weight by its term's idf at search time.
"""

from __future__ import annotations

from typing import Any

from psycopg import sql

from search.schema import BODY_WEIGHT, LEAD_WEIGHT, TITLE_WEIGHT

__all__ = ["B", "EXACT", "K1", "average_lengths", "delete_postings", "fill_postings",
           "postings_ddl", "postings_key"]

K1 = 1.2  # BM25's parameters, as the Whoosh store's (search/whoosh/evaluate.py)
B = 0.5
EXACT = "="  # the prefix of exact forms' terms (a stem never starts with it)
SCHEMA = "furet"

# Weighted frequency of one lexeme of a tsvector (A title, B lead, C body).
_TF = (f"(SELECT sum(CASE w WHEN 'A' THEN {TITLE_WEIGHT} WHEN 'B' THEN {LEAD_WEIGHT} "
       f"ELSE {BODY_WEIGHT} END) FROM unnest(u.weights) w)")
_LENGTH = "(SELECT coalesce(sum({tf}), 0) FROM unnest({column}) u)"


def postings_ddl(suffix: str = "") -> sql.Composed:
    return sql.SQL("CREATE TABLE {} (term text NOT NULL, doc integer NOT NULL, "
                   "weight real NOT NULL)").format(sql.Identifier(SCHEMA, "postings" + suffix))


def postings_key(suffix: str = "") -> sql.Composed:
    """The primary key (added once the table is filled): what makes ranking index-only."""
    return sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} PRIMARY KEY (term, doc) INCLUDE (weight)"
                   ).format(sql.Identifier(SCHEMA, "postings" + suffix),
                            sql.Identifier(f"postings{suffix}_pkey"))


def average_lengths(conn: Any, suffix: str = "") -> dict[str, str]:
    """The meta values of the average weighted lengths of the articles' two fields."""
    row = conn.execute(sql.SQL("SELECT avg({}), avg({}) FROM {} a").format(
        sql.SQL(_LENGTH.format(tf=_TF, column="a.fts")),
        sql.SQL(_LENGTH.format(tf=_TF, column="a.exact")),
        sql.Identifier(SCHEMA, "articles" + suffix))).fetchone()
    return {"avgdl_fts": str(float(row[0] or 1.0) or 1.0),
            "avgdl_exact": str(float(row[1] or 1.0) or 1.0)}


_FILL = """
INSERT INTO {postings} (term, doc, weight)
SELECT f.prefix || z.lexeme, a.doc,
       (z.tf * {k1plus} / (z.tf + {k1} * ({keep} + {b} * z.dl / f.avgdl)))::real
FROM {articles} a,
     LATERAL (VALUES ('', a.fts, %(avgdl_fts)s::float8),
                     ('{exact}', a.exact, %(avgdl_exact)s::float8)) f(prefix, v, avgdl),
     LATERAL (SELECT y.lexeme, y.tf, sum(y.tf) OVER () AS dl
              FROM (SELECT u.lexeme, {tf} AS tf FROM unnest(f.v) u) y) z
WHERE {where}
"""


def fill_postings(conn: Any, lengths: dict[str, str], suffix: str = "",
                  ids: list[str] | None = None) -> None:
    """Write the postings of every article of `articles<suffix>` (or of articles `ids`)."""
    statement = _FILL.format(
        postings=sql.Identifier(SCHEMA, "postings" + suffix).as_string(conn),
        articles=sql.Identifier(SCHEMA, "articles" + suffix).as_string(conn),
        k1plus=K1 + 1, k1=K1, keep=1 - B, b=B, tf=_TF, exact=EXACT,
        where="a.id = ANY(%(ids)s::text[])" if ids is not None else "true")
    conn.execute(statement, {"ids": ids, "avgdl_fts": float(lengths.get("avgdl_fts", 1)),
                             "avgdl_exact": float(lengths.get("avgdl_exact", 1))})


def delete_postings(conn: Any, ids: list[str]) -> None:
    """Remove the postings of articles `ids` (read from their tsvectors: the key's order)."""
    conn.execute(
        "DELETE FROM furet.postings p USING (SELECT a.doc, x.term FROM furet.articles a, "
        f"LATERAL (SELECT lexeme AS term FROM unnest(a.fts) UNION ALL SELECT '{EXACT}' "
        "|| lexeme FROM unnest(a.exact)) x WHERE a.id = ANY(%s::text[])) d "
        "WHERE p.term = d.term AND p.doc = d.doc", (ids,))
