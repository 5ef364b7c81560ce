"""The postings side table: each article's BM25F weight for each of its terms, so ranking a
word is an index-only aggregate instead of reading every candidate's tsvector.

    postings(term, doc, weight)   PRIMARY KEY (term, doc) INCLUDE (weight)
    terms(term, ndoc)             how many articles hold each term: ranking's idf

The terms are the Whoosh store's, made by Furet's own analysis (search/analysis.py) of the
stored title, lead and body: a stem of the `text` field, or `=` and an exact form of the
`exact` field. So a word matches, and is weighed, as in a Whoosh index, whatever
PostgreSQL's own stemmer makes of it (its tsvectors still serve phrases, prefixes and
fields). `doc` is the article's integer `articles.doc`. The weight is BM25's saturated
term frequency, as the Whoosh store computes it (search/whoosh/evaluate.py): the frequency
counts title, lead and body occurrences TITLE_WEIGHT, LEAD_WEIGHT and BODY_WEIGHT times
(search/schema.py), the length is the number of words the field keeps (as Whoosh stores
it: one byte, search/whoosh/private/writing.py), against the build's average length
(kept in `furet.meta` as `avgdl_fts` and `avgdl_exact`; updates reuse it). A query
multiplies each weight by its term's idf at search time.
"""

from __future__ import annotations

import marshal
import tempfile
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

from psycopg import sql

from search.analysis import FrenchFilter, words
from search.schema import BODY_WEIGHT, LEAD_WEIGHT, TITLE_WEIGHT

__all__ = ["B", "EXACT", "K1", "analysed", "delete_postings", "fill_postings",
           "postings_ddl", "postings_key", "stored_length", "terms_ddl"]

K1 = 1.2  # BM25's parameters, as the Whoosh store's (search/whoosh/evaluate.py)
B = 0.5
EXACT = "="  # the prefix of exact forms' terms (a stem never starts with it)
SCHEMA = "furet"
BATCH = 500  # articles read at a time
_STEMS = FrenchFilter(stem=True, stop=True)  # the `text` field's terms
_EXACT = FrenchFilter(stem=False, stop=False)  # the `exact` field's
# The lengths one byte stands for in a Whoosh index (whoosh.util.numeric's table): a length
# is kept as the first of them at least as long, up to the last.
_LENGTHS = [int(round((1.033 ** n - 1) * 27)) for n in range(256)]

# One article's analysis: for each field ('' stems, EXACT exact forms) its terms' weighted
# frequencies and its length.
Analysed = tuple[dict[str, float], int, dict[str, float], int]


def postings_ddl(suffix: str = "") -> sql.Composed:
    return sql.SQL("CREATE TABLE {} (term text NOT NULL, doc integer NOT NULL, "
                   "weight real NOT NULL)").format(sql.Identifier(SCHEMA, "postings" + suffix))


def terms_ddl(suffix: str = "") -> sql.Composed:
    return sql.SQL("CREATE TABLE {} (term text, ndoc integer NOT NULL, CONSTRAINT {} "
                   "PRIMARY KEY (term))").format(sql.Identifier(SCHEMA, "terms" + suffix),
                                                 sql.Identifier(f"terms{suffix}_pkey"))


def postings_key(suffix: str = "") -> sql.Composed:
    """The primary key (added once the table is filled): what makes ranking index-only."""
    return sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} PRIMARY KEY (term, doc) INCLUDE (weight)"
                   ).format(sql.Identifier(SCHEMA, "postings" + suffix),
                            sql.Identifier(f"postings{suffix}_pkey"))


def analysed(title: str, lead: str, body: str) -> Analysed:
    """An article's terms and lengths, as the Whoosh store's `text` and `exact` fields
    index them (search/schema.py `WeightedText`)."""
    stems: dict[str, float] = {}
    exact: dict[str, float] = {}
    kept = every = 0
    stem, form = _STEMS.term, _EXACT.term
    for text, weight in ((title, TITLE_WEIGHT), (lead, LEAD_WEIGHT), (body, BODY_WEIGHT)):
        if not text:
            continue
        for word in words(text):
            s = stem(word)
            if s is not None:
                stems[s] = stems.get(s, 0.0) + weight
                kept += 1
            e = form(word)
            if e is not None:
                exact[e] = exact.get(e, 0.0) + weight
                every += 1
    return stems, kept, exact, every


def stored_length(n: int) -> int:
    """A field length as a Whoosh index keeps it (in one byte)."""
    return _LENGTHS[min(bisect_left(_LENGTHS, n), 255)]


def _length(n: int) -> float:
    """The length BM25 weighs an article's field with (1 where it has none, as Whoosh)."""
    return float(stored_length(n) or 1)


def _rows(doc: int, found: Analysed, avgdl: tuple[float, float]
          ) -> Iterator[tuple[str, int, float]]:
    """The postings rows of one article."""
    stems, kept, exact, every = found
    for prefix, terms, length, average in (("", stems, kept, avgdl[0]),
                                           (EXACT, exact, every, avgdl[1])):
        norm = K1 * ((1 - B) + B * _length(length) / (average or 1.0))
        for term, tf in terms.items():
            yield prefix + term, doc, tf * (K1 + 1) / (tf + norm)


def _terms(found: Analysed) -> Iterator[str]:
    yield from found[0]
    yield from (EXACT + e for e in found[2])


def _articles(conn: Any, table: str, ids: list[str] | None
              ) -> Iterator[tuple[int, Analysed]]:
    """(doc, analysis) of every article of `table` (or of articles `ids`)."""
    where = sql.SQL("WHERE id = ANY(%s::text[])" if ids is not None else "")
    query = sql.SQL("SELECT doc, title, lead, body FROM {} {}").format(
        sql.Identifier(SCHEMA, table), where)
    args = (ids,) if ids is not None else ()
    # A named (server-side) cursor: the articles are read a batch at a time.
    with conn.transaction(), conn.cursor(name="furet_postings") as cur:
        cur.itersize = BATCH
        for doc, title, lead, body in cur.execute(query, args):
            yield doc, analysed(title, lead or "", body or "")


def _copy(conn: Any, table: str, rows: Iterable[tuple[Any, ...]], columns: str) -> None:
    with conn.cursor().copy(sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(SCHEMA, table), sql.SQL(columns))) as copy:
        for row in rows:
            copy.write_row(row)


def _shift_terms(conn: Any, counts: Counter[str], sign: int) -> None:
    if counts:
        conn.execute(
            "INSERT INTO furet.terms AS t (term, ndoc) SELECT * FROM unnest(%s::text[], "
            "%s::int[]) ON CONFLICT (term) DO UPDATE SET ndoc = t.ndoc + EXCLUDED.ndoc",
            (list(counts), [sign * n for n in counts.values()]))


def fill_postings(conn: Any, lengths: dict[str, str] | None = None, suffix: str = "",
                  ids: list[str] | None = None) -> dict[str, str]:
    """Write the postings of every article of `articles<suffix>` and its `terms<suffix>`
    (empty tables), or add those of articles `ids` (weighed with `lengths`, the build's);
    return the meta values the weights were made with."""
    if ids is not None:
        assert lengths is not None
        avgdl = (float(lengths.get("avgdl_fts", 1)), float(lengths.get("avgdl_exact", 1)))
        found = list(_articles(conn, "articles" + suffix, ids))
        _copy(conn, "postings" + suffix,
              (row for doc, f in found for row in _rows(doc, f, avgdl)), "term, doc, weight")
        _shift_terms(conn, Counter(t for _, f in found for t in _terms(f)), +1)
        return lengths
    # Every article: the average lengths first, each analysis kept in a file meanwhile.
    counts: Counter[str] = Counter()
    total = [0, 0]
    n = 0
    with tempfile.TemporaryFile() as kept:
        for doc, f in _articles(conn, "articles" + suffix, None):
            marshal.dump((doc, f), kept)
            counts.update(_terms(f))
            total[0] += f[1]
            total[1] += f[3]
            n += 1
        avgdl = (total[0] / n if n else 1.0, total[1] / n if n else 1.0)
        kept.seek(0)

        def rows() -> Iterator[tuple[str, int, float]]:
            for _ in range(n):
                doc, f = marshal.load(kept)
                yield from _rows(doc, f, avgdl)

        _copy(conn, "postings" + suffix, rows(), "term, doc, weight")
    _copy(conn, "terms" + suffix, counts.items(), "term, ndoc")
    return {"avgdl_fts": str(avgdl[0] or 1.0), "avgdl_exact": str(avgdl[1] or 1.0)}


def delete_postings(conn: Any, ids: list[str]) -> None:
    """Remove the postings of articles `ids`, and count their terms out (read from their
    stored text before it is replaced)."""
    found = list(_articles(conn, "articles", ids))
    pairs = [(t, doc) for doc, f in found for t in _terms(f)]
    if pairs:
        terms, docs = zip(*pairs, strict=True)
        conn.execute("DELETE FROM furet.postings p USING unnest(%s::text[], %s::int[]) "
                     "d(term, doc) WHERE p.term = d.term AND p.doc = d.doc",
                     (list(terms), list(docs)))
    _shift_terms(conn, Counter(t for _, f in found for t in _terms(f)), -1)
