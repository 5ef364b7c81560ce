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


class Searcher:
    """Top-10 queries on an FTS5 database, with or without snippets."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path)

    def search(self, query: str, *, snippets: bool = False) -> list[Any]:
        expression = match_expression(query)
        if expression is None:
            return []
        if snippets:
            sql = ("SELECT id, title, snippet(articles, 2, '<mark>', '</mark>', '…', 32) "
                   "FROM articles WHERE articles MATCH ? ORDER BY bm25(articles, 3.0, 1.0) "
                   "LIMIT 10")
        else:
            sql = ("SELECT id FROM articles WHERE articles MATCH ? "
                   "ORDER BY bm25(articles, 3.0, 1.0) LIMIT 10")
        try:
            return self.db.execute(sql, (expression,)).fetchall()
        except sqlite3.OperationalError:
            return []

    def forget(self) -> None:
        """Empty the connection's page cache (`PRAGMA shrink_memory`), as Furet's
        `clear_caches` empties the terms it keeps: the next searches read the database's
        pages again (from the system's file cache, as Furet reads its mapped files)."""
        self.db.execute("PRAGMA shrink_memory")

    def close(self) -> None:
        self.db.close()
