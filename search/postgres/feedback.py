"""Feedback for questions in PostgreSQL (search/feedback.py), as the Whoosh store does it:
the words of the question's best articles, read from their stored text, become more
posting lists in the question's aggregate, weighed `feedback_weight`; they rank the
results after the first `feedback_after` (which the question alone ranks) and add the
articles they find. Only for questions ranked from the postings alone (plain words).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from search.feedback import expansion, text_stems
from search.postgres.compile import Compiled, Posting, idf
from search.ranking import Ranking

__all__ = ["FEEDBACK", "with_feedback"]

FEEDBACK = -2  # the word number of the expansion's postings
BODY_CHARS = 4000  # enough of a body for search/feedback.py's first FEEDBACK_WORDS words


# The question's `count` best articles without feedback, ranked elsewhere (in the web
# process: search/postgres/scoring.py): (score, title, lead, start of body) of each.
BestRows = Callable[[Compiled, int], list[tuple[float, str, str, str]]]


def _best(conn: Any, compiled: Compiled, count: int, rows_of: BestRows | None = None
          ) -> list[tuple[float, dict[str, int], int]]:
    """The question's `count` best articles without feedback: (score, stem counts, words
    with a stem)."""
    p = compiled.params
    rows = rows_of(compiled, count) if rows_of is not None else conn.execute(
        f"WITH {compiled.lists()}, "
        f"agg AS (SELECT r.doc, sum(r.s) AS score FROM {compiled.rows()} GROUP BY r.doc "
        "HAVING count(*) FILTER (WHERE r.word >= 0) > 0), "
        # Only the best (ties at the last included) are joined to their text.
        "top AS (SELECT score FROM agg ORDER BY score DESC LIMIT %(feedback_docs)s) "
        "SELECT agg.score, a.title, a.lead, left(a.body, %(body_chars)s) FROM agg "
        "JOIN furet.articles a ON a.doc = agg.doc WHERE agg.score >= (SELECT min(score) "
        "FROM top) ORDER BY agg.score DESC, a.id LIMIT %(feedback_docs)s",
        {**p.values, "body_chars": BODY_CHARS, "feedback_docs": count}).fetchall()
    best = []
    for score, title, lead, body in rows:
        length, counts = text_stems(title, lead, body)
        best.append((float(score), counts, length))
    return best


def with_feedback(conn: Any, compiled: Compiled, ranking: Ranking, documents: int,
                  best: BestRows | None = None) -> Compiled:
    """`compiled` with the expansion of its question's best articles (unchanged when it is
    no question ranked from the postings alone, or nothing is added)."""
    if not (compiled.question and compiled.postings is not None
            and ranking.feedback_weight > 0 and not compiled.feedback):
        return compiled
    stems = list(compiled.stems)
    if len(stems) < ranking.feedback_words:
        return compiled
    found = _best(conn, compiled, ranking.feedback_docs, best)
    candidates = sorted({w for _, counts, _ in found for w in counts})
    if not candidates:
        return compiled
    known = dict(conn.execute("SELECT term, ndoc FROM furet.terms WHERE term = ANY(%s)",
                              (candidates,)).fetchall())
    chosen = expansion(found, terms=ranking.feedback_terms, exclude=stems,
                       doc_frequency=lambda w: known.get(w, documents + 1),
                       documents=documents, share=ranking.feedback_share)
    if not chosen:
        return compiled
    scale = ranking.feedback_weight * max(len(stems), 1)
    added: list[Posting] = [(w, weight * scale * idf(known[w], documents), FEEDBACK)
                            for w, weight in chosen]
    return replace(compiled, postings=[*compiled.postings, *added], feedback=True,
                   feedback_after=ranking.feedback_after)
