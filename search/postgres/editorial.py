"""The editors' choices inside a PostgreSQL search: hidden articles are never matched."""

from __future__ import annotations

from dataclasses import replace

from search.postgres.compile import Compiled

__all__ = ["without_hidden"]


def without_hidden(compiled: Compiled, hidden: frozenset[str]) -> Compiled:
    """`compiled` matching none of the `hidden` articles (ids), so that the total, the
    facets, the timeline and every page leave them out alike."""
    if not hidden or compiled.match is None:
        return compiled
    condition = f"NOT (a.id = ANY({compiled.params(sorted(hidden))}::text[]))"
    return replace(compiled, match=f"({compiled.match}) AND {condition}",
                   filters=f"({compiled.filters}) AND {condition}")
