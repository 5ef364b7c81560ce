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

__all__ = ["FacetTable", "FacetTables"]


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


def _load(conn: Any, generation: str, old: FacetTable | None = None) -> FacetTable:
    """The table of `generation`: read whole, or only the articles added since `old` (a
    generation of the same build): an update gives the articles it writes new doc numbers,
    above every older one, and the doc numbers it removes are never matched again, so
    their rows can stay."""
    if old is None:
        rows = conn.execute("SELECT doc, section, year, author_keys FROM furet.articles"
                            ).fetchall()
        names: list[str] = []
        authors: list[str] = []
        size = 0
    else:
        size = len(old.section)
        rows = conn.execute("SELECT doc, section, year, author_keys FROM furet.articles "
                            "WHERE doc >= %s", (size,)).fetchall()
        names, authors = list(old.section_names), list(old.author_names)
    code = {name: n for n, name in enumerate(names)}
    for name in sorted({s for _, s, _, _ in rows if s} - set(code)):
        code[name] = len(names)
        names.append(name)
    author_code = {name: n for n, name in enumerate(authors)}
    for name in sorted({a for *_, keys in rows for a in keys} - set(author_code)):
        author_code[name] = len(authors)
        authors.append(name)
    grown = max((row[0] for row in rows), default=size - 1) + 1
    section = np.full(grown, -1, dtype=np.int64)
    year = np.zeros(grown, dtype=np.int64)
    if old is not None:
        section[:size], year[:size] = old.section, old.year
    pairs = []
    for doc, name, year_, keys in rows:
        if name:
            section[doc] = code[name]
        year[doc] = year_ or 0
        pairs.extend((doc, author_code[a]) for a in keys)
    author_docs = np.array([d for d, _ in pairs], dtype=np.int64)
    author_codes = np.array([a for _, a in pairs], dtype=np.int64)
    if old is not None:
        author_docs = np.concatenate((old.author_docs, author_docs))
        author_codes = np.concatenate((old.author_codes, author_codes))
    return FacetTable(generation, section, names, year, author_docs, author_codes, authors)


def _later_commit(old: str, new: str) -> bool:
    """Whether generation `new` is a later commit of `old`'s build (generations are
    `build.commits`: search/postgres/tables.py)."""
    build, _, commits = old.rpartition(".")
    build_new, _, commits_new = new.rpartition(".")
    return build == build_new and commits.isdigit() and commits_new.isdigit() \
        and int(commits_new) > int(commits)


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
                    later = table is not None and _later_commit(table.generation, generation)
                    table = _load(conn, generation, table if later else None)
                    if not getattr(conn, "stale", False):  # read in another generation
                        self._table = table
        return table

    def clear(self) -> None:
        self._table = None

