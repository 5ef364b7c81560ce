"""How results are ordered: BM25F weights, and an optional boost for recent articles.

Field weights live in the index (see search/schema.py: title, lead and body are weighted
parts of one field); here are BM25's free parameters, tuned on the piaf-dev set with
bench/relevance.py, and the recency boost: a score is multiplied by
`1 + weight * 0.5 ** (age_days / half_life_days)`, so an article published today gains
`weight`, one published a half-life ago half of it.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

from whoosh import scoring

__all__ = ["RECENCY_WINDOW", "recency_factor", "weighting"]

K1 = 1.2
B = 0.5  # piaf-dev: 0.5 beat 0.75 and 0.9 at every K1 and field weight tried
RECENCY_WINDOW = 200  # best-scored candidates reordered by the recency boost


def weighting() -> scoring.WeightingModel:
    """The scoring model every searcher uses."""
    return scoring.BM25F(B=B, K1=K1)


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
