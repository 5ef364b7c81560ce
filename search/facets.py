"""Facets as every backend returns them: the most frequent values, years newest first.

A backend counts, over every article a query matches, its sections, authors, years and
(when one year is chosen) months; these functions turn the counts into the `facets` of
`Results`, so the shape and the order of ties are the same whatever the store. The same
year and month counts, in time order with the empty periods, are the `timeline`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from search.results import FacetValue

__all__ = ["FACET_LIMIT", "MAX_TIMELINE_YEARS", "empty_facets", "month_values",
           "most_frequent", "timeline_values", "year_values"]

FACET_LIMIT = 20  # values shown per facet
MAX_TIMELINE_YEARS = 100  # a longer span shows only the years that have articles


def empty_facets(months_of: int | None) -> dict[str, list[FacetValue]]:
    """The facets of no match (with `month` when one year is chosen)."""
    facets: dict[str, list[FacetValue]] = {"section": [], "author": [], "year": []}
    if months_of is not None:
        facets["month"] = []
    return facets


def most_frequent(counts: Mapping[Any, int]) -> list[FacetValue]:
    """The FACET_LIMIT most frequent values; ties in the order of their text."""
    items = sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))
    return [FacetValue.made(str(value), count) for value, count in items[:FACET_LIMIT] if count]


def year_values(counts: Mapping[int, int]) -> list[FacetValue]:
    """Years, newest first (at most FACET_LIMIT)."""
    items = sorted(((int(y), c) for y, c in counts.items() if c), reverse=True)
    return [FacetValue.made(str(year), count) for year, count in items[:FACET_LIMIT]]


def month_values(counts: Mapping[int, int]) -> list[FacetValue]:
    """Months (yyyymm numbers) as "yyyy-mm": the most frequent, then in calendar order."""
    named = {f"{m // 100:04d}-{m % 100:02d}": c for m, c in counts.items() if c}
    return sorted(most_frequent(named), key=lambda f: f.value)


def timeline_values(years: Mapping[int, int], months: Mapping[int, int] | None = None, *,
                    months_of: int | None = None) -> list[FacetValue]:
    """Matching articles per period, in time order, empty periods included: each year from
    the first to the last that has one; or, when one year is chosen (`months_of`), its
    twelve months (`months` counts yyyymm numbers)."""
    if months_of is not None:
        by_month = months or {}
        return [FacetValue.made(f"{months_of:04d}-{m:02d}",
                                int(by_month.get(months_of * 100 + m, 0)))
                for m in range(1, 13)]
    found = sorted(int(y) for y, c in years.items() if c)
    if not found:
        return []
    span = range(found[0], found[-1] + 1) if found[-1] - found[0] < MAX_TIMELINE_YEARS \
        else found
    return [FacetValue.made(str(year), int(years.get(year, 0))) for year in span]
