"""Related articles in PostgreSQL: the article's most telling stems, searched for.

An article's key terms are its stems weighted by how often it uses them (title words
count twice, as the Whoosh store reads the title twice) and by how rare they are
in the archive (`furet.stems`); the articles matching most of the twelve best, weighted
the same way, are its related articles, if they share one of the six best and rank at least
0.3 of the article's own rank against them, normalised by the log of the length and by
the length (a long report shares words with everything, not topics).
"""

from __future__ import annotations

from typing import Any

__all__ = ["KEY_TERMS", "related_rows"]

KEY_TERMS = 12
WEIGHTS = "{0.1, 0.333, 0.5, 1.0}"  # ts_rank's weights of D, C (body), B (lead), A (title)
SALIENT = 6  # a related article has one of the article's 6 best key terms
MIN_SHARE = 0.3  # and ranks at least this share of its own rank, with either length norm

_RELATED = """
WITH src AS (SELECT id, fts FROM furet.articles WHERE id = %(id)s),
n AS (SELECT greatest(coalesce((SELECT value::int FROM furet.meta
                                WHERE key = 'documents'), 1), 1) AS documents),
keys AS (
    SELECT t.lexeme, (cardinality(t.positions) + cardinality(array_positions(t.weights, 'A')))
               * ln(n.documents::float8 / s.ndoc) AS weight
    FROM src, n, unnest(src.fts) t, furet.stems s
    WHERE s.stem = t.lexeme AND s.ndoc >= 2 AND s.ndoc < n.documents AND length(t.lexeme) >= 3
      AND t.lexeme ~ '^[a-z0-9]+$'
    ORDER BY weight DESC, t.lexeme LIMIT %(keys)s),
q AS (SELECT to_tsquery('simple', string_agg(quote_literal(lexeme), ' | ')) AS query
      FROM keys),
salient AS (SELECT to_tsquery('simple', string_agg(quote_literal(lexeme), ' | ')) AS query
            FROM (SELECT lexeme FROM keys ORDER BY weight DESC, lexeme
                  LIMIT %(salient)s) best),
own AS (SELECT ts_rank(%(weights)s, src.fts, q.query, 1) AS rank1,
               ts_rank(%(weights)s, src.fts, q.query, 2) AS rank2 FROM src, q),
found AS (
    SELECT a.id, a.url, a.title, a.lead, left(a.body, 1000) AS body, a.published, a.section,
           a.authors, ts_rank(%(weights)s, a.fts, q.query) AS score,
           ts_rank(%(weights)s, a.fts, q.query, 1) AS rank1,
           ts_rank(%(weights)s, a.fts, q.query, 2) AS rank2
    FROM q, src, salient, furet.articles a
    WHERE q.query IS NOT NULL AND a.fts @@ q.query AND a.fts @@ salient.query
      AND a.id <> src.id)
SELECT f.id, f.url, f.title, f.lead, f.body, f.published, f.section, f.authors,
       10 * f.score AS score
FROM found f, own
WHERE f.rank1 >= %(share)s * own.rank1 AND f.rank2 >= %(share)s * own.rank2
ORDER BY score DESC, f.id
LIMIT %(limit)s
"""


def related_rows(conn: Any, article_id: str, limit: int) -> list[tuple[Any, ...]] | None:
    """Rows (id, url, title, lead, body start, published, section, authors, score) of the
    articles most like `article_id`, best first; None when there is no such article."""
    if conn.execute("SELECT 1 FROM furet.articles WHERE id = %s", (article_id,)).fetchone() \
            is None:
        return None
    return conn.execute(_RELATED, {"id": article_id, "keys": KEY_TERMS, "salient": SALIENT,
                                   "share": MIN_SHARE, "limit": limit, "weights": WEIGHTS}
                        ).fetchall()
