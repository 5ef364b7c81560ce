"""Facet values of every article by doc number, read once per index generation.

A plain-word search without filters counts its facets in the process, over the doc numbers
of its matches (which the ranking aggregate has already found), as the Whoosh store does
over its document numbers: a few numpy operations, where the SQL facets join every match
to its article's row and group them (the costliest part of a frequent word's search).
The values and their order are those of search/postgres/facets.py: sections by name (none
or empty is no value), authors by key, years; the most frequent, ties by their text.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from search.facets import FACET_LIMIT, most_frequent, timeline_values, year_values
from search.results import FacetValue

__all__ = ["FacetTable", "FacetTables", "docs_of"]


@dataclass(frozen=True)
class FacetTable:
    """One generation's facet values, indexed by doc number."""

    generation: str
    section: Any  # section code per doc, -1: none
    section_names: list[str]
    year: Any  # 0: none
    author_docs: Any  # (doc, author code) pairs
    author_codes: Any
    author_names: list[str]

    def count(self, docs: Any) -> tuple[int, dict[str, list[FacetValue]], list[FacetValue]]:
        """The total, the facets and the timeline of the articles `docs`."""
        sections = self.section[docs]
        section_counts = np.bincount(sections[sections >= 0],
                                     minlength=len(self.section_names))
        marked = np.zeros(len(self.section), dtype=bool)
        marked[docs] = True
        author_counts = np.bincount(self.author_codes[marked[self.author_docs]],
                                    minlength=len(self.author_names))
        years = self.year[docs]
        found, counts = np.unique(years[years > 0], return_counts=True)
        by_year = dict(zip(found.tolist(), counts.tolist(), strict=True))
        facets = {"section": _top(section_counts, self.section_names),
                  "author": _top(author_counts, self.author_names),
                  "year": year_values(by_year)}
        return len(docs), facets, timeline_values(by_year)


def _top(counts: Any, names: list[str]) -> list[FacetValue]:
    """The FACET_LIMIT most frequent names (ties by text, as most_frequent orders them)."""
    codes = np.flatnonzero(counts)
    if len(codes) > FACET_LIMIT:  # only those at least as frequent as the FACET_LIMIT-th
        kth = len(codes) - FACET_LIMIT
        codes = codes[counts[codes] >= np.partition(counts[codes], kth)[kth]]
    return most_frequent({names[c]: int(counts[c]) for c in codes.tolist()})


def _load(conn: Any, generation: str) -> FacetTable:
    rows = conn.execute("SELECT doc, section, year, author_keys FROM furet.articles").fetchall()
    size = max((row[0] for row in rows), default=0) + 1
    names = sorted({s for _, s, _, _ in rows if s})
    code = {name: n for n, name in enumerate(names)}
    authors = sorted({a for *_, keys in rows for a in keys})
    author_code = {name: n for n, name in enumerate(authors)}
    section = np.full(size, -1, dtype=np.int64)
    year = np.zeros(size, dtype=np.int64)
    pairs = []
    for doc, name, year_, keys in rows:
        if name:
            section[doc] = code[name]
        year[doc] = year_ or 0
        pairs.extend((doc, author_code[a]) for a in keys)
    return FacetTable(generation, section, names, year,
                      np.array([d for d, _ in pairs], dtype=np.int64),
                      np.array([a for _, a in pairs], dtype=np.int64), authors)


class FacetTables:
    """The facet table of the generation being searched, shared by a process's views."""

    def __init__(self) -> None:
        self._table: FacetTable | None = None
        self._lock = threading.Lock()

    def get(self, conn: Any, generation: str) -> FacetTable:
        """The table of `generation`, read through `conn` (whose snapshot shows it)."""
        table = self._table
        if table is None or table.generation != generation:
            with self._lock:
                table = self._table
                if table is None or table.generation != generation:
                    table = self._table = _load(conn, generation)
        return table

    def clear(self) -> None:
        self._table = None


def docs_of(packed: bytes | None) -> Any:
    """Doc numbers sent as `string_agg(int4send(doc), '')` (4 bytes each, big-endian)."""
    return np.frombuffer(packed or b"", dtype=">i4").astype(np.int64)
