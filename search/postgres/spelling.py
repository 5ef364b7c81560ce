"""Did-you-mean and completions from `furet.vocabulary` (search/spelling.py's rules, in SQL).

The vocabulary holds every folded word of the articles (and every hyphenated word) with
its document frequency and its most frequent accented spelling, the *display form*:
`hiafa` → `haïfa`, `etat unis` → `états-unis`. Unknown words are replaced by the most
frequent known word one edit away (an index lookup of the candidates), else two edits
away among the words pg_trgm finds similar.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from search.analysis import STOP_WORDS, FrenchFilter
from search.query import Clause, ParsedQuery
from search.spelling import MAX_CORRECTABLE, MAX_WORDS, MIN_CORRECTABLE, _edits1

__all__ = ["complete", "correct", "display_form"]

_STEMMER = FrenchFilter(stem=True, stop=True)
_STOP_LIST = sorted(STOP_WORDS)
SIMILARITY = 0.25  # pg_trgm similarity below which words are not even compared
SIMILAR_ROWS = 300


def _like_prefix(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


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


def _best(conn: Any, candidates: set[str]) -> str | None:
    # A join, not `word = ANY(...)`: thousands of candidates would be compared row by row.
    row = conn.execute("SELECT v.word FROM unnest(%s::text[]) c(word) JOIN furet.vocabulary v "
                       "ON v.word = c.word ORDER BY v.ndoc DESC, v.word LIMIT 1",
                       (sorted(candidates),)).fetchone()
    return row[0] if row else None


def _within_two(conn: Any, trgm: str, word: str) -> str | None:
    conn.execute("SELECT set_config('pg_trgm.similarity_threshold', %s, true)",
                 (str(SIMILARITY),))
    rows = conn.execute(
        f"SELECT word, ndoc FROM furet.vocabulary WHERE word OPERATOR({trgm}.%%) %s "
        "AND strpos(word, '-') = 0 ORDER BY ndoc DESC, word LIMIT %s",
        (word, SIMILAR_ROWS)).fetchall()
    for found, _ in rows:  # most frequent first
        if abs(len(found) - len(word)) <= 2 and levenshtein(found, word) <= 2:
            return found
    return None


def _correct_word(conn: Any, trgm: str, word: str) -> str | None:
    if not MIN_CORRECTABLE <= len(word) <= MAX_CORRECTABLE or not word.isalnum():
        return None
    best = _best(conn, _edits1(word))
    if best is None and len(word) >= 5:
        best = _within_two(conn, trgm, word)
    return best


def _compound_for(conn: Any, first: str, second: str) -> str | None:
    """The hyphenated word the articles write for two typed words (etat unis → etats-unis)."""
    if conn.execute("SELECT 1 FROM furet.vocabulary WHERE word = %s",
                    (f"{first}-{second}",)).fetchone():
        return None
    stems = (_STEMMER.term(first), _STEMMER.term(second))
    if None in stems:
        return None
    rows = conn.execute(
        "SELECT word, ndoc FROM furet.vocabulary WHERE word LIKE %s AND strpos(word, '-') > 0 "
        "ORDER BY word LIMIT 500", (_like_prefix(stems[0] or ""),)).fetchall()
    best, best_df = None, 0
    for word, ndoc in rows:
        parts = word.split("-")
        if len(parts) == 2 and tuple(map(_STEMMER.term, parts)) == stems and ndoc > best_df:
            best, best_df = word, ndoc
    return best


def _written_as_typed(conn: Any, words: list[str]) -> bool:
    """Whether some article has these words side by side, as typed."""
    return conn.execute("SELECT 1 FROM furet.articles a WHERE a.exact @@ "
                        "phraseto_tsquery('furet.exact'::regconfig, %s) LIMIT 1",
                        (" ".join(words),)).fetchone() is not None


def correct(conn: Any, trgm: str, parsed: ParsedQuery, dfs: Mapping[str, int]) -> str | None:
    """A corrected query in display form, or None (search.spelling.correct's rules)."""
    if sum(len(group) for group in parsed.groups) > MAX_WORDS:
        return None
    words: list[str] = []
    changed = False
    for group in parsed.groups:
        for clause in group:
            if clause.kind != "word" or clause.field:
                continue
            for term in clause.terms():
                if _STEMMER.term(term) is None or dfs.get(term, 0) > 0:
                    words.append(term)
                    continue
                fixed = _correct_word(conn, trgm, term)
                words.append(fixed or term)
                changed = changed or fixed is not None
    if not changed and 2 <= len(words) <= 4:
        for i in range(len(words) - 1):
            found = _compound_for(conn, words[i], words[i + 1])
            if found and _written_as_typed(conn, words[i:i + 2]):
                continue  # "magistrats rapporteurs" is no mistake for "magistrat-rapporteur"
            if found:
                words[i], words[i + 1] = found.split("-")
                changed = True
    return display_form(conn, words) if changed else None


def display_form(conn: Any, words: list[str]) -> str:
    """`words` (folded) as the articles usually write them: "etats unis" → "états-unis"."""
    if not words:
        return ""
    wanted = words + (["-".join(words)] if len(words) > 1 else [])
    shown = dict(conn.execute("SELECT word, display FROM furet.vocabulary "
                              "WHERE word = ANY(%s::text[])", (wanted,)).fetchall())
    if len(words) > 1 and "-".join(words) in shown:
        return shown["-".join(words)]
    return " ".join(shown.get(w, w) for w in words)


def complete(conn: Any, text: str, *, limit: int = 10) -> list[str]:
    """Completions of what a reader is typing: frequent words, then matching titles."""
    terms = Clause("word", text).terms()
    if not terms or len(terms[-1]) < 2 or text.endswith(" "):
        return []
    head, last = terms[:-1], terms[-1]
    rows = conn.execute(
        "SELECT display FROM furet.vocabulary WHERE word LIKE %s AND strpos(word, '-') = 0 "
        "AND NOT (word = ANY(%s::text[])) ORDER BY ndoc DESC, word LIMIT %s",
        (_like_prefix(last), _STOP_LIST, limit)).fetchall()
    prefix = display_form(conn, head) + " " if head else ""
    out = [prefix + display for (display,) in rows]
    if len(out) < limit:
        query = " & ".join([*("'" + w.replace("'", "''") + "':A" for w in head),
                            "'" + last.replace("'", "''") + "':*A"])
        titles = conn.execute(
            "SELECT title FROM furet.articles a WHERE a.exact @@ "
            "to_tsquery('furet.exact'::regconfig, %s) "
            "ORDER BY a.published_at DESC NULLS LAST, a.id LIMIT %s", (query, limit)).fetchall()
        for (title,) in titles:
            if title and title not in out:
                out.append(title)
    return out[:limit]
