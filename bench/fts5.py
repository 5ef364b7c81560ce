"""The reference engine: SQLite FTS5 from Python's standard library, on the same articles.

`unicode61 remove_diacritics 2` folds accents (not ligatures: œ stays œ) and there is no
French stemming, so FTS5 does less work than Furet; the benchmark table says so.
Queries are given as a prefix-free bag of words (`"w1" OR "w2"`, ranked by bm25, like
Furet's soft words) or as a phrase when quoted.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

from bench.corpus import text_of

_WORDS = re.compile(r"\w+")


def build(records: list[dict[str, Any]], path: Path) -> None:
    """Index `records` into a new FTS5 database at `path`."""
    path.unlink(missing_ok=True)
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("CREATE VIRTUAL TABLE articles USING fts5("
               "id UNINDEXED, title, body, tokenize='unicode61 remove_diacritics 2')")
    db.executemany("INSERT INTO articles VALUES (?, ?, ?)",
                   ((r["id"], r.get("title", ""), text_of(r)) for r in records))
    db.commit()
    db.execute("INSERT INTO articles(articles) VALUES ('optimize')")
    db.commit()
    db.close()


def match_expression(query: str) -> str | None:
    """A MATCH expression: a phrase when quoted, else any of the words (bm25 ranks)."""
    words = _WORDS.findall(query.lower())
    if not words:
        return None
    if query.strip().startswith('"'):
        return '"' + " ".join(words) + '"'
    return " OR ".join(f'"{w}"' for w in words)


# FTS5's best query for each pass (both give the ten rows bm25 ranks first, in its order),
# with the columns' weights in the table's order: the id 0 (it holds no words), the title 3,
# the body 1 (Furet weighs its title so too).
# - The top 10: the best ten rowids ordered by the expression bm25(...) in a subquery, then
#   their ids and titles (what a list of results shows) read for those ten rows only.
# - With snippets: ordered by FTS5's `rank` column set to bm25, FTS5 sorts the matches itself
#   and keeps the best ten, and `snippet()` is made for those only (the subquery's way made
#   the rarer set's snippets 1.6x slower at p50).
# Until 2 December 2026 this module ordered both by `bm25(articles, 3.0, 1.0)` in one query:
# that weighed the id 3 and the title 1 (the title was not weighted), the top 10 returned the
# ids alone, and SQLite made `snippet()` for every match before sorting them (a rarer search
# with snippets took twice its time).
BM25 = "bm25(articles, 0.0, 3.0, 1.0)"
TOP10 = (f"SELECT a.id, a.title FROM (SELECT rowid AS r, {BM25} AS s FROM articles "
         "WHERE articles MATCH ? ORDER BY s LIMIT 10) AS best "
         "JOIN articles AS a ON a.rowid = best.r ORDER BY best.s")
WITH_SNIPPETS = ("SELECT id, title, snippet(articles, 2, '<mark>', '</mark>', '…', 32) "
                 "FROM articles WHERE articles MATCH ? AND rank MATCH 'bm25(0.0, 3.0, 1.0)' "
                 "ORDER BY rank LIMIT 10")


class Searcher:
    """Top-10 queries on an FTS5 database, with or without snippets: each hit's id and
    title (what a list of results shows), and its body's snippet when asked."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path)

    def search(self, query: str, *, snippets: bool = False) -> list[Any]:
        expression = match_expression(query)
        if expression is None:
            return []
        try:
            return self.db.execute(WITH_SNIPPETS if snippets else TOP10,
                                   (expression,)).fetchall()
        except sqlite3.OperationalError:
            return []

    def forget(self) -> None:
        """Empty the connection's page cache (`PRAGMA shrink_memory`), as Furet's
        `clear_caches` empties the terms it keeps: the next searches read the database's
        pages again (from the system's file cache, as Furet reads its mapped files)."""
        self.db.execute("PRAGMA shrink_memory")

    def close(self) -> None:
        self.db.close()
