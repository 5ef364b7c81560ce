"""Facets as every backend returns them: the most frequent values, years newest first.

A backend counts, over every article a query matches, its sections, authors, years and
(when one year is chosen) months; these functions turn the counts into the `facets` of
`Results`, so the shape and the order of ties are the same whatever the store.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from search.results import FacetValue

__all__ = ["FACET_LIMIT", "empty_facets", "month_values", "most_frequent", "year_values"]

FACET_LIMIT = 20  # values shown per facet


def empty_facets(months_of: int | None) -> dict[str, list[FacetValue]]:
    """The facets of no match (with `month` when one year is chosen)."""
    facets: dict[str, list[FacetValue]] = {"section": [], "author": [], "year": []}
    if months_of is not None:
        facets["month"] = []
    return facets


def most_frequent(counts: Mapping[Any, int]) -> list[FacetValue]:
    """The FACET_LIMIT most frequent values; ties in the order of their text."""
    items = sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))
    return [FacetValue(str(value), count) for value, count in items[:FACET_LIMIT] if count]


def year_values(counts: Mapping[int, int]) -> list[FacetValue]:
    """Years, newest first (at most FACET_LIMIT)."""
    items = sorted(((int(y), c) for y, c in counts.items() if c), reverse=True)
    return [FacetValue(str(year), count) for year, count in items[:FACET_LIMIT]]


def month_values(counts: Mapping[int, int]) -> list[FacetValue]:
    """Months (yyyymm numbers) as "yyyy-mm": the most frequent, then in calendar order."""
    named = {f"{m // 100:04d}-{m % 100:02d}": c for m, c in counts.items() if c}
    return sorted(most_frequent(named), key=lambda f: f.value)
