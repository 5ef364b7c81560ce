"""The words of a PostgreSQL index, for did-you-mean and completions (search/spelling.py).

`furet.vocabulary` holds every folded word of the articles (and every hyphenated word) with
its document frequency and its most frequent accented spelling, the *display form*:
`hiafa` → `haïfa`, `etat unis` → `états-unis`. An unknown word is replaced by the most
frequent known word one edit away (an index lookup of the candidates), else, here, two
edits away among the words pg_trgm finds similar.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from search.analysis import STOP_WORDS
from search.spelling import Vocabulary, best_correction, edits1, shared_prefix

__all__ = ["PostgresVocabulary", "levenshtein"]

_STOP_LIST = sorted(STOP_WORDS)
SIMILARITY = 0.25  # pg_trgm similarity below which words are not even compared
SIMILAR_ROWS = 300
MAX_PREFIXED = 500  # words starting like an unknown word looked at to correct it


def _like_prefix(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _tsquery_word(word: str, suffix: str) -> str:
    return "'" + word.replace("'", "''") + "'" + suffix


def levenshtein(a: str, b: str) -> int:
    """Edit distance (insertions, deletions, substitutions) of two short words."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


class PostgresVocabulary(Vocabulary):
    """The vocabulary table, through one connection; `dfs` are the document frequencies
    of the stems of the words being corrected (read with the search)."""

    def __init__(self, conn: Any, trgm: str, dfs: Mapping[str, int],
                 known: dict[Any, Any] | None = None) -> None:
        self.conn = conn
        self.trgm = trgm
        self.dfs = dfs
        self._compounds: dict[str, int] = {}
        # Answers already given in this generation (search/postgres/backend.py WordCache).
        self._known = known if known is not None else {}

    def known(self, word: str) -> bool:
        return self.dfs.get(word, 0) > 0

    def nearest(self, word: str) -> str | None:
        # A join, not `word = ANY(...)`: thousands of candidates would be compared row by row.
        rows = self.conn.execute(
            "(SELECT v.word, v.ndoc FROM unnest(%s::text[]) c(word) JOIN furet.vocabulary v "
            "ON v.word = c.word) UNION (SELECT word, ndoc FROM furet.vocabulary "
            "WHERE word LIKE %s AND length(word) BETWEEN %s AND %s "
            "AND strpos(word, '-') = 0 LIMIT %s)",
            (sorted(edits1(word)), _like_prefix(shared_prefix(word)), len(word) - 1,
             len(word) + 2, MAX_PREFIXED)).fetchall()
        found = best_correction(word, dict(rows))
        if found is not None:
            return found
        return self._within_two(word) if len(word) >= 5 else None

    def _within_two(self, word: str) -> str | None:
        self.conn.execute("SELECT set_config('pg_trgm.similarity_threshold', %s, true)",
                          (str(SIMILARITY),))
        rows = self.conn.execute(
            f"SELECT word, ndoc FROM furet.vocabulary WHERE word OPERATOR({self.trgm}.%%) %s "
            "AND strpos(word, '-') = 0 ORDER BY ndoc DESC, word LIMIT %s",
            (word, SIMILAR_ROWS)).fetchall()
        for found, _ in rows:  # most frequent first
            if abs(len(found) - len(word)) <= 2 and levenshtein(found, word) <= 2:
                return found
        return None

    def has_compound(self, word: str) -> bool:
        key = ("has_compound", word)
        if key not in self._known:
            self._known[key] = self.conn.execute(
                "SELECT 1 FROM furet.vocabulary WHERE word = %s", (word,)).fetchone() is not None
        return self._known[key]

    def compounds(self, prefix: str, limit: int) -> Iterator[str]:
        key = ("compounds", prefix, limit)
        if key not in self._known:
            self._known[key] = self.conn.execute(
                "SELECT word, ndoc FROM furet.vocabulary WHERE word LIKE %s "
                "AND strpos(word, '-') > 0 ORDER BY word LIMIT %s",
                (_like_prefix(prefix), limit)).fetchall()
        rows = self._known[key]
        self._compounds.update(rows)
        for word, _ in rows:
            yield word

    def compound_frequency(self, word: str) -> int:
        return self._compounds.get(word, 0)

    def written_as_typed(self, words: list[str]) -> bool:
        return self.conn.execute("SELECT 1 FROM furet.articles a WHERE a.exact @@ "
                                 "phraseto_tsquery('furet.exact'::regconfig, %s) LIMIT 1",
                                 (" ".join(words),)).fetchone() is not None

    def display_form(self, words: list[str]) -> str:
        if not words:
            return ""
        wanted = words + (["-".join(words)] if len(words) > 1 else [])
        shown = dict(self.conn.execute("SELECT word, display FROM furet.vocabulary "
                                       "WHERE word = ANY(%s::text[])", (wanted,)).fetchall())
        if len(words) > 1 and "-".join(words) in shown:
            return shown["-".join(words)]
        return " ".join(shown.get(w, w) for w in words)

    def frequent_words(self, prefix: str, limit: int) -> list[str]:
        rows = self.conn.execute(
            "SELECT display FROM furet.vocabulary WHERE word LIKE %s AND strpos(word, '-') = 0 "
            "AND NOT (word = ANY(%s::text[])) ORDER BY ndoc DESC, word LIMIT %s",
            (_like_prefix(prefix), _STOP_LIST, limit)).fetchall()
        return [display for (display,) in rows]

    def titles(self, head: list[str], last: str, limit: int) -> list[tuple[str, str]]:
        query = " & ".join([*(_tsquery_word(w, ":A") for w in head), _tsquery_word(last, ":*A")])
        rows = self.conn.execute(
            "SELECT id, title FROM furet.articles a WHERE a.exact @@ "
            "to_tsquery('furet.exact'::regconfig, %s) "
            "ORDER BY a.published_at DESC NULLS LAST, a.id LIMIT %s", (query, limit)).fetchall()
        return [(id_, title) for id_, title in rows]
