"""Facet values of every article of a Whoosh index: counting facets and applying filters.

Per index generation, each document's section, year, month, publication instant and
authors are read once from the index's columns and postings into numpy arrays; counting a
query's facets, or keeping the documents a filter allows, is then a few array operations
over its matching document numbers, however many there are.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
from whoosh.util.times import datetime_to_long

from search.facets import FACET_LIMIT, month_values, timeline_values, year_values
from search.request import Filters
from search.results import FacetValue
from search.schema import ValuesColumn
from search.whoosh.private import leaves_of
from search.whoosh.private.columns import REFERENCES, numeric_codes

__all__ = ["FacetTable", "SectionYears", "count_facets", "count_page", "count_timeline"]

# Documents fewer than the values' names over this are counted by their distinct values
# (sorted) rather than in an array as long as the names.
SPARSE_SHARE = 16
# Documents at least the (section, year) pairs over this are counted through the pairs
# (FacetTable.section_years): below, counting the pairs' array costs more than the columns.
PAIRS_SHARE = 2


@dataclass(frozen=True)
class SectionYears:
    """Each document's (section, year) pair as a number (`codes`, uint32) among the pairs
    that occur, and each pair's section code + 1 (0 for none) and year (0 for none).

    A page's facets then gather one number per matching document and count the pairs (tens
    of thousands) with one bincount; the sections' and years' counts are sums over the
    pairs. At a million articles (78,743 pairs, 3.8 MB of codes, made in 26 ms): 3.2 ->
    2.5 ms for the 575,000 documents a question matches, against a gather and a count of
    each column (and 10.3 ms for the facets and timeline counted apart before). The pairs
    are numbered year by year, so that a year's are one run (`year_starts`): the years'
    counts are the runs' sums, not a weighted bincount into every year up to the last.
    """

    codes: Any
    sections: Any  # of each pair: its section code + 1
    years: Any  # of each pair: its year
    year_starts: Any  # where each year's run of pairs begins (the years in order)
    known_years: list[int]  # those years (0 among them for none)

    @classmethod
    def of(cls, section: Any, year: Any) -> SectionYears | None:
        """The pairs of these columns (section codes, -1 for none; years, 0 for none),
        numbered in order of year then section; None when a year is below 0 or when the
        pairs possible (sections x distinct years) are more than 4 per document."""
        if not len(year):
            return cls(np.zeros(0, dtype=np.uint32), np.zeros(0, dtype=np.intp),
                       np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp), [])
        if int(year.min()) < 0:
            return None
        present = np.flatnonzero(np.bincount(year))  # the years that occur, in order
        shifted = section.astype(np.intp)
        shifted += 1
        width = int(shifted.max()) + 1
        if width * len(present) > 4 * len(year) + 65_536:
            return None
        year_code = np.zeros(int(present[-1]) + 1, dtype=np.intp)
        year_code[present] = np.arange(len(present))
        key = year_code[year]
        key *= width
        key += shifted
        used = np.bincount(key) > 0
        number = np.cumsum(used, dtype=np.int64) - 1
        pairs = np.flatnonzero(used)
        of_year = pairs // width  # non-decreasing: each year's pairs one run
        starts = np.flatnonzero(np.diff(of_year, prepend=-1))
        return cls(number[key].astype(np.uint32), pairs % width, present[of_year], starts,
                   present[of_year[starts]].tolist())

    def counts(self, docs: Any, sections: int) -> tuple[Any, dict[int, int]]:
        """How many of `docs` have each section code + 1 (an array of `sections` + 1, whole
        numbers as floats), and each year after 0."""
        pairs = np.bincount(self.codes.take(docs), minlength=len(self.sections))
        # sums of whole counts: exact as floats (below 2**53)
        by_section = np.bincount(self.sections, weights=pairs, minlength=sections + 1)
        if not len(pairs):
            return by_section, {}
        by_year = np.add.reduceat(pairs, self.year_starts).tolist()
        return by_section, {year: count for year, count in
                            zip(self.known_years, by_year, strict=True) if count and year}


@dataclass(frozen=True)
class FacetTable:
    """Facet values of every document, by document number, as numpy arrays: a section
    code (-1 for none), year and month (0 for none), publication instant (-1 for none),
    and (document, author code) pairs. Names are numbered in sorted order, so that ties
    between equal counts go by name. No Python object per document: a million documents
    take about 40 MB, read in one pass per column."""

    section: Any
    section_names: Sequence[str]
    year: Any
    month: Any
    dates: Any  # publication instants as Whoosh stores them (datetime_to_long)
    author_docs: Any
    author_codes: Any
    author_names: Sequence[str]
    _codes: dict[str, dict[str, int]] = field(default_factory=dict, compare=False, repr=False)
    _made: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def arrays(self) -> dict[str, Any]:
        """The arrays by name, with each name list's code table (made once)."""
        if not self._codes:
            self._codes.update(
                section={name: n for n, name in enumerate(self.section_names)},
                author={name: n for n, name in enumerate(self.author_names)})
        return {"section": self.section, "section_names": self.section_names,
                "section_code": self._codes["section"], "year": self.year,
                "month": self.month, "dates": self.dates, "author_docs": self.author_docs,
                "author_codes": self.author_codes, "author_names": self.author_names,
                "author_code": self._codes["author"]}

    def section_years(self) -> SectionYears | None:
        """The (section, year) pairs the documents have, numbered, made once
        (`SectionYears`); None when there are too many to count in an array (years
        below 0, or more pairs than documents could make)."""
        if "section_years" not in self._made:
            self._made["section_years"] = SectionYears.of(self.section, self.year)
        return self._made["section_years"]

    @classmethod
    def from_values(cls, section: Sequence[str | None], year: Sequence[int | None],
                    month: Sequence[int | None], dates: Sequence[int | None],
                    authors: Sequence[Sequence[str]]) -> FacetTable:
        """A table from one value (or None) per document."""
        names = sorted({s for s in section if s})
        code = {name: n for n, name in enumerate(names)}
        pairs = [(doc, a) for doc, names_ in enumerate(authors) for a in names_]
        author_names = sorted({a for _, a in pairs})
        author_code = {name: n for n, name in enumerate(author_names)}
        return cls(np.array([code[s] if s else -1 for s in section], dtype=np.int32),
                   names,
                   np.array([y or 0 for y in year], dtype=np.int32),
                   np.array([m or 0 for m in month], dtype=np.int32),
                   np.array([d if d is not None else -1 for d in dates], dtype=np.int64),
                   np.array([d for d, _ in pairs], dtype=np.int64),
                   np.array([author_code[a] for _, a in pairs], dtype=np.int64),
                   author_names)

    @classmethod
    def load(cls, reader: Any, leaves: Iterable[tuple[Any, int]] | None = None) -> FacetTable:
        """The table of a reader's documents, read in one pass over its segments: `leaves`
        (its (segment reader, first document) pairs, in order) when given, e.g. releasing
        each segment's pages once read, else the reader's own."""
        if leaves is None:
            leaves = leaves_of(reader)
        size = reader.doc_count_all()
        seen: dict[str, int] = {}  # section name -> code in order of appearance
        # Numeric columns hold a large sentinel for documents without a date.
        columns = {
            "section": (np.full(size, -1, dtype=np.int64),
                        lambda v: seen.setdefault(v, len(seen)) if v else -1, True),
            "year": (np.zeros(size, dtype=np.int64), lambda v: v if 0 < v <= 9999 else 0,
                     True),
            "month": (np.zeros(size, dtype=np.int64), lambda v: v if 0 < v <= 999912 else 0,
                      True),
            "date": (np.full(size, -1, dtype=np.int64),
                     lambda v: v if 0 <= v < 1 << 62 else -1, False),
        }
        authors: dict[str, list[Any]] = {}  # name -> its documents, segment by segment
        for leaf, offset in leaves:
            count = leaf.doc_count_all()
            for fieldname, (values, convert, translate) in columns.items():
                found = _column(leaf, fieldname, count, convert, translate)
                if found is not None:
                    values[offset:offset + count] = found
            for term in leaf.lexicon("author"):
                docs = np.fromiter(leaf.postings("author", term).all_ids(), dtype=np.int64)
                authors.setdefault(_name(term), []).append(docs + offset)
        section, year, month, dates = (columns[name][0] for name in
                                       ("section", "year", "month", "date"))
        dates[year == 0] = -1
        names = sorted(seen)
        if seen:  # codes in order of appearance -> codes in order of the name
            order = np.empty(len(seen), dtype=np.int32)
            order[[seen[name] for name in names]] = np.arange(len(names), dtype=np.int32)
            section = np.where(section >= 0, order[np.maximum(section, 0)], -1)
        author_names = sorted(authors)  # UTF-8 bytes sort as their code points: the
        # names in the order of the index's lexicon, codes follow them
        docs = [d for name in author_names for d in authors[name]]
        codes = [np.full(len(d), code, dtype=np.int64)
                 for code, name in enumerate(author_names) for d in authors[name]]
        author_docs = np.concatenate(docs) if docs else np.zeros(0, dtype=np.int64)
        author_codes = np.concatenate(codes) if codes else np.zeros(0, dtype=np.int64)
        return cls(section.astype(np.int32), names, year.astype(np.int32),
                   month.astype(np.int32), dates, author_docs, author_codes, author_names)

    def allowed(self, filters: Filters, period: tuple[date | None, date | None],
                tagged: Any) -> Any:
        """Which documents the filters allow (a boolean array), or None when they allow all.

        `tagged` gives the documents holding any of `filters.tags` (tags are not facets).
        """
        since, until = period
        if not filters and since is None and until is None:
            return None
        a = self.arrays()
        mask = np.ones(len(a["section"]), dtype=bool)
        if filters.sections:
            codes = [a["section_code"][s] for s in filters.sections if s in a["section_code"]]
            mask &= np.isin(a["section"], codes)
        if filters.authors:
            codes = [a["author_code"][n] for n in filters.authors if n in a["author_code"]]
            mask &= _marked(len(mask), a["author_docs"][np.isin(a["author_codes"], codes)])
        if filters.tags:
            mask &= _marked(len(mask), tagged(list(filters.tags)))
        if filters.years:
            mask &= np.isin(a["year"], filters.years)
        if filters.months:
            mask &= np.isin(a["month"], filters.months)
        if since is not None or until is not None:
            dates = a["dates"]
            mask &= dates >= (_instant(since) if since is not None else 0)
            if until is not None:
                mask &= dates < _instant(until)
        return mask


def _instant(day: date) -> int:
    """Midnight UTC of `day` as the `date` field stores instants."""
    return datetime_to_long(datetime(day.year, day.month, day.day))


def _marked(size: int, docs: Any) -> Any:
    mask = np.zeros(size, dtype=bool)
    mask[docs] = True
    return mask


def _name(term: Any) -> str:
    return term.decode("utf-8") if isinstance(term, bytes) else term


def _column(leaf: Any, fieldname: str, count: int, convert: Any, translate: bool) -> Any:
    """One column's values for each document of one segment as an int64 array, or None
    when the segment has no such column (an update adding articles without a section:
    its documents keep the missing value).

    Whoosh's numeric and reference columns are read as arrays, and `convert` (after the
    field's own translation when `translate`) runs once per distinct value, not once per
    document.
    """
    if not leaf.has_column(fieldname):
        return None
    kind = leaf.schema[fieldname].column_type
    coded = leaf.column_reader(fieldname, column=REFERENCES, translate=False) \
        if isinstance(kind, ValuesColumn) else \
        numeric_codes(leaf.column_reader(fieldname, translate=False), count)
    if coded is None:  # another kind of column (an old index's): value by value
        column = leaf.column_reader(fieldname, translate=translate)
        return np.fromiter((convert(column[n]) for n in range(count)), dtype=np.int64,
                           count=count)
    codes, raw = coded
    change = leaf.schema[fieldname].from_column_value if translate else None
    table = np.fromiter((convert(change(v) if change else v) for v in raw),
                        dtype=np.int64, count=len(raw))
    return table[codes]


def _top_codes(counts: Any, names: Sequence[str]) -> list[FacetValue]:
    """The most frequent values by code, in numpy: codes number the names in sorted order,
    so ties go by name. (A Python pass over every name cost 5–10 ms with 40,000 sections.)"""
    codes = np.flatnonzero(counts)
    if len(codes) > FACET_LIMIT:
        kth = len(codes) - FACET_LIMIT
        codes = codes[counts[codes] >= np.partition(counts[codes], kth)[kth]]
    order = np.lexsort((codes, -counts[codes]))[:FACET_LIMIT]
    return [FacetValue.made(names[n], int(counts[n])) for n in codes[order].tolist()]


def _top_of(codes: Any, names: Sequence[str]) -> list[FacetValue]:
    """`_top_codes` of the counts of `codes` (values' codes, one per document): for few
    documents, from their distinct codes, without counts as long as the names (a rare
    word's twenty sections are not looked for among 22,000)."""
    if len(codes) * SPARSE_SHARE > len(names):
        return _top_codes(np.bincount(codes, minlength=len(names)), names)
    found, counts = np.unique(codes, return_counts=True)
    order = np.lexsort((found, -counts))[:FACET_LIMIT]  # _top_codes' order, the same cut
    return [FacetValue.made(names[n], c) for n, c in zip(found[order].tolist(),
                                                         counts[order].tolist(), strict=True)]


def _counts(values: Any) -> dict[int, int]:
    found, counts = np.unique(values, return_counts=True)
    return dict(zip(found.tolist(), counts.tolist(), strict=True))


def _section_top(sections: Any, names: Sequence[str]) -> list[FacetValue]:
    """`_top_of` the sections (codes, -1 for none, one per document) that are not -1:
    many documents counted by one bincount of the codes shifted by one (the none first,
    left out), without first copying those that have a section."""
    if len(sections) * SPARSE_SHARE > len(names):
        shifted = sections.astype(np.intp)  # the type bincount counts (no copy of its own)
        shifted += 1
        return _top_codes(np.bincount(shifted, minlength=len(names) + 1)[1:], names)
    return _top_of(sections[sections >= 0], names)


def _year_counts(years: Any) -> dict[int, int]:
    """How many of `years` (one per document, 0 for none) fall in each year after 0: one
    bincount from the first year, not a sort."""
    if not len(years):
        return {}
    first = int(years.min())
    counts = np.bincount(years - first if first else years)
    found = np.flatnonzero(counts)
    return {year: count for year, count in zip((found + first).tolist(),
                                               counts[found].tolist(), strict=True)
            if year > 0}


def _authors(a: dict[str, Any], docs: Any) -> list[FacetValue]:
    if not len(a["author_docs"]):  # no article has an author: no mask the size of the index
        return []
    in_docs = _marked(len(a["section"]), docs)[a["author_docs"]]
    return _top_of(a["author_codes"][in_docs], a["author_names"])


def _month_timeline(months: Any, months_of: int) -> list[FacetValue]:
    """The timeline of the year `months_of` from the yyyymm months of its documents."""
    months = months - months_of * 100
    counts = np.bincount(months[(months > 0) & (months <= 12)], minlength=13)
    return timeline_values({}, {months_of * 100 + m: int(c) for m, c in
                                enumerate(counts.tolist()) if c}, months_of=months_of)


def _sections_and_years(table: FacetTable, docs: Any
                        ) -> tuple[list[FacetValue], dict[int, int]]:
    """The section facet of `docs`, and how many of them fall in each year after 0."""
    a = table.arrays()
    names = a["section_names"]
    # there are at least as many pairs as names: a small page does not make them
    pairs = None if len(docs) * PAIRS_SHARE < len(names) else table.section_years()
    if pairs is None or len(docs) * PAIRS_SHARE < len(pairs.sections):
        return _section_top(a["section"].take(docs), names), \
            _year_counts(a["year"].take(docs))
    by_section, by_year = pairs.counts(docs, len(names))
    return _top_codes(by_section[1:], names), by_year


def count_page(table: FacetTable, docs: Any, *, months_of: int | None = None
               ) -> tuple[dict[str, list[FacetValue]], list[FacetValue]]:
    """`count_facets` and `count_timeline` of the same `docs`, as a results page shows
    both: many documents' sections and years counted through their pairs
    (`FacetTable.section_years`), and the years counted once for the year facet and the
    timeline."""
    a = table.arrays()
    sections, by_year = _sections_and_years(table, docs)
    facets = {"section": sections, "author": _authors(a, docs), "year": year_values(by_year)}
    if months_of is None:
        return facets, timeline_values(by_year)
    months = a["month"].take(docs)[a["year"].take(docs) == months_of]
    facets["month"] = month_values(_counts(months[months > 0]))
    return facets, _month_timeline(months, months_of)


def count_facets(table: FacetTable, docs: Any, *, months_of: int | None = None
                 ) -> dict[str, list[FacetValue]]:
    """Counts of each facet value over `docs` (a sorted array of document numbers); months
    only within the year `months_of`."""
    return count_page(table, docs, months_of=months_of)[0]


def count_timeline(table: FacetTable, docs: Any, *, months_of: int | None = None
                   ) -> list[FacetValue]:
    """Matches per year (per month of the year `months_of`) over `docs`: one bincount."""
    a = table.arrays()
    years = a["year"].take(docs)
    if months_of is not None:
        return _month_timeline(a["month"].take(docs)[years == months_of], months_of)
    return timeline_values(_year_counts(years))
