"""Related articles in PostgreSQL: the article's most telling stems, searched for.

An article's key terms are its stems weighted by how often it uses them (title words
count twice, as the Whoosh store reads the title twice) and by how rare they are
in the archive (`furet.stems`); the articles matching most of the twelve best, weighted
the same way, are its related articles.
"""

from __future__ import annotations

from typing import Any

__all__ = ["KEY_TERMS", "related_rows"]

KEY_TERMS = 12

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
      FROM keys)
SELECT a.id, a.url, a.title, a.lead, left(a.body, 1000), a.published, a.section, a.authors,
       10 * ts_rank('{0.1, 0.333, 0.5, 1.0}', a.fts, q.query) AS score
FROM q, src, furet.articles a
WHERE q.query IS NOT NULL AND a.fts @@ q.query AND a.id <> src.id
ORDER BY score DESC, a.id
LIMIT %(limit)s
"""


def related_rows(conn: Any, article_id: str, limit: int) -> list[tuple[Any, ...]] | None:
    """Rows (id, url, title, lead, body start, published, section, authors, score) of the
    articles most like `article_id`, best first; None when there is no such article."""
    if conn.execute("SELECT 1 FROM furet.articles WHERE id = %s", (article_id,)).fetchone() \
            is None:
        return None
    return conn.execute(_RELATED, {"id": article_id, "keys": KEY_TERMS, "limit": limit}
                        ).fetchall()
