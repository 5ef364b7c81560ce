"""How results are ordered, whatever the store: the bonuses and the recency boost.

Each plain word matches its stem, and earns EXACT_BOOST more for its exact form (so `Gaza`
ranks Gaza above *gaz*); the parts of a hyphenated word (États-Unis) earn PHRASE_BONUS
when they are side by side. Field weights live in the index (search/schema.py) and BM25's
parameters in each store. The optional recency boost multiplies a score by
`1 + weight * 0.5 ** (age_days / half_life_days)`, so an article published today gains
`weight`, one published a half-life ago half of it; it reorders the RECENCY_WINDOW best
candidates.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

__all__ = ["EXACT_BOOST", "PHRASE_BONUS", "RECENCY_WINDOW", "recency_factor"]

EXACT_BOOST = 0.5  # weight of the exact-form bonus next to the stemmed match
PHRASE_BONUS = 0.5  # weight of the adjacency bonus for hyphenated words (États-Unis)
RECENCY_WINDOW = 200  # best-scored candidates reordered by the recency boost


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
