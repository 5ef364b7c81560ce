"""Facets in SQL: the total, sections, authors, years (and months) of the matches `m`.

`facet_sql` gives the CTEs and the SELECT that count a CTE `m(section_key, author_keys,
year, month)` the caller defines; the rows are (facet, value, count), "total" first.
Only what is shown leaves the database (some archives have thousands of sections): the
FACET_LIMIT most frequent values and those tied with the last; sections are grouped by
their 64-bit key and named through the (section_key) index.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from search.facets import FACET_LIMIT, month_values, most_frequent, timeline_values, year_values
from search.postgres.compile import Params
from search.results import FacetValue

__all__ = ["facet_sql", "read_facets"]

_SECTIONS = " WHERE section_key <> hashtextextended('', 0)"  # no section: not a facet value
_AUTHORS = ", unnest(m.author_keys) k WHERE cardinality(m.author_keys) > 0"
_TOP = ("(SELECT {0}, count(*) AS n FROM m{1} GROUP BY {0}), "
        "{0}_top AS (SELECT * FROM {0}_counts WHERE n >= coalesce((SELECT n FROM "
        f"{{0}}_counts ORDER BY n DESC OFFSET {FACET_LIMIT - 1} LIMIT 1), 0))")


def facet_sql(p: Params, months_of: int | None) -> tuple[str, str]:
    """(CTEs, SELECT) counting the matches `m` into facet rows."""
    months = ""
    if months_of is not None:
        months = (f" UNION ALL (SELECT 'month', month::text, count(*) FROM m WHERE "
                  f"year = {p(months_of)} AND month IS NOT NULL GROUP BY month)")
    ctes = (f"section_key_counts AS {_TOP.format('section_key', _SECTIONS)}, "
            f"k_counts AS {_TOP.format('k', _AUTHORS)}")
    select = ("SELECT 'total', NULL::text, count(*) FROM m "
              "UNION ALL (SELECT 'section', s.section, t.n FROM section_key_top t, LATERAL "
              "(SELECT x.section FROM furet.articles x WHERE x.section_key = t.section_key "
              "LIMIT 1) s) "
              "UNION ALL (SELECT 'author', k, n FROM k_top) "
              "UNION ALL (SELECT 'year', year::text, count(*) FROM m WHERE year IS NOT NULL "
              f"GROUP BY year){months}")
    return ctes, select


def read_facets(rows: Iterable[tuple[str, Any, int]], months_of: int | None
                ) -> tuple[int, dict[str, list[FacetValue]], list[FacetValue]]:
    """The total, the facets and the timeline from facet rows."""
    counts: dict[str, dict[Any, int]] = {"section": {}, "author": {}, "year": {}, "month": {}}
    total = 0
    for name, value, count in rows:
        if name == "total":
            total = count
        elif name in ("year", "month"):
            counts[name][int(value)] = count
        else:
            counts[name][value] = count
    facets = {"section": most_frequent(counts["section"]),
              "author": most_frequent(counts["author"]),
              "year": year_values(counts["year"])}
    if months_of is not None:
        facets["month"] = month_values(counts["month"])
    return total, facets, timeline_values(counts["year"], counts["month"], months_of=months_of)
