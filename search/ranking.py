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
from typing import Any

from whoosh import scoring
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield
from whoosh.util.numeric import byte_to_length

__all__ = ["RECENCY_WINDOW", "recency_factor", "weighting"]

K1 = 1.2
B = 0.5  # piaf-dev: 0.5 beat 0.75 and 0.9 at every K1 and field weight tried
RECENCY_WINDOW = 200  # best-scored candidates reordered by the recency boost


class BM25F(scoring.BM25F):
    """Whoosh's BM25F, reading document lengths from a list instead of a column file.

    Whoosh's scorer asks the segment for each scored document's field length through
    several layers of Python; each segment reader here keeps its length columns decoded
    in memory (a few bytes per document and field), for as long as the reader lives.
    """

    def scorer(self, searcher: Any, fieldname: str, text: Any, qf: int = 1) -> Any:
        scorer = super().scorer(searcher, fieldname, text, qf=qf)
        if isinstance(scorer, scoring.BM25FScorer):
            lengths = _lengths(searcher.reader(), fieldname)
            if lengths is not None:
                scorer.dfl = lengths.__getitem__
        return scorer


_BYTE_TO_LENGTH = [byte_to_length(b) or 1 for b in range(256)]


def _lengths(reader: Any, fieldname: str) -> list[int] | None:
    """Field length of every document of one segment (1 where there is none)."""
    cache = reader.__dict__.setdefault("_furet_lengths", {})
    if fieldname not in cache:
        perdoc = getattr(reader, "_perdoc", None)
        column = None
        if perdoc is not None and hasattr(perdoc, "_cached_reader"):
            column = perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
        cache[fieldname] = None if column is None else [_BYTE_TO_LENGTH[b] for b in column]
    return cache[fieldname]


def weighting() -> scoring.WeightingModel:
    """The scoring model every searcher uses."""
    return BM25F(B=B, K1=K1)


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
