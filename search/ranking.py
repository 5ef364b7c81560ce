"""How results are ordered, whatever the store: the ranking parameters and the recency boost.

Each plain word matches its stem, and earns `exact_boost` more for its exact form (so
`Gaza` ranks Gaza above *gaz*); the parts of a hyphenated word (États-Unis) earn
`phrase_bonus` when they are side by side. Field weights live in the index
(search/schema.py); `k1` and `b` are BM25's, used by the stores whose model has them (the
Whoosh one). A `Ranking` holds these numbers; `DEFAULT_RANKING` is what every search uses
unless its request names another (bench/relevance.py tunes them that way).

The optional recency boost multiplies a score by
`1 + weight * 0.5 ** (age_days / half_life_days)`, so an article published today gains
`weight`, one published a half-life ago half of it; it reorders the RECENCY_WINDOW best
candidates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from typing import Any

__all__ = ["DEFAULT_RANKING", "RECENCY_WINDOW", "Ranking", "recency_factor"]

RECENCY_WINDOW = 200  # best-scored candidates reordered by the recency boost


@dataclass(frozen=True)
class Ranking:
    """The numbers a ranking is made of (see the module docstring)."""

    k1: float = 1.2  # BM25 term-frequency saturation (the Whoosh store)
    b: float = 0.5  # BM25 length normalisation (the Whoosh store)
    # PostgreSQL: a word's rank r (weighted occurrences) counts r / (r + pg_k), the body
    # weighs pg_body next to the title's 1 (the Whoosh store has its weights in the index).
    pg_k: float = 0.3
    pg_body: float = 1 / 3
    exact_boost: float = 0.5  # weight of the exact-form bonus next to the stemmed match
    phrase_bonus: float = 0.5  # weight of the adjacency bonus for hyphenated words
    # Questions (search/questions.py): the word asked about, capitalised names, and the
    # stems that differ from a word's by an ending (0: not matched).
    answer_weight: float = 0.75
    name_weight: float = 1.25
    variant_weight: float = 0.6
    # Feedback for questions (search/feedback.py): for questions with at least this many
    # words to rank by, from how many of the best articles, how many words (none found
    # in more than feedback_share of the articles: 0.05 reads half the postings 0.1 did,
    # with piaf-dev's nDCG@10 and R@100 held; docs/performance.md), and their weight next
    # to the question's (0: no feedback).
    feedback_words: int = 1
    feedback_docs: int = 5
    feedback_terms: int = 20
    feedback_share: float = 0.05
    feedback_weight: float = 2.0
    feedback_after: int = 2  # results ranked by the question alone, whatever the page size

    def __hash__(self) -> int:
        """The dataclass's hash (of the fields' values), worked out once: every search's
        cache key holds its ranking, hashed when the answer is looked up and kept."""
        found = self.__dict__.get("_hash")
        if found is None:
            found = self.__dict__["_hash"] = hash(tuple(
                getattr(self, f.name) for f in fields(self)))
        return found

    def __getstate__(self) -> dict[str, Any]:
        """The fields without the hash kept (a string's hash differs between processes)."""
        return {name: value for name, value in self.__dict__.items() if name != "_hash"}

    def with_values(self, values: dict[str, str]) -> Ranking:
        """This ranking with some numbers given as text ({"k1": "1.4"}); ValueError naming
        an unknown parameter or a value that is not a number."""
        known = {f.name: type(getattr(self, f.name)) for f in fields(self)}
        changed: dict[str, Any] = {}
        for name, value in values.items():
            if name not in known:
                raise ValueError(f"unknown ranking parameter {name!r}; the parameters are "
                                 f"{', '.join(known)}")
            changed[name] = known[name](value)
        return replace(self, **changed)


DEFAULT_RANKING = Ranking()


def recency_factor(published: datetime | None, *, half_life_days: float, weight: float,
                   now: datetime | None = None) -> float:
    """Score multiplier for an article published at `published` (1.0 when undated)."""
    if published is None or half_life_days <= 0 or weight <= 0:
        return 1.0
    now = now or datetime.now(UTC)
    if published.tzinfo is None:
        published = published.replace(tzinfo=UTC)
    age_days = max((now - published).total_seconds() / 86400, 0.0)
    return 1.0 + weight * math.pow(0.5, age_days / half_life_days)
