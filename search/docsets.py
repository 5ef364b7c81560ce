"""The set of documents a query matches, computed a posting block at a time.

Whoosh finds matching documents one posting at a time, through several Python calls per
posting: counting the 40,000 matches of a common word takes a tenth of a second. Facets
and totals need every match but no score, so here term postings are read whole blocks at
a time and combined with Python's set operations, which run in C. Date and number ranges
are checked against the per-document values of the facet table. Queries of other kinds
(phrases) fall back to Whoosh.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from whoosh import query as wq
from whoosh.matching.wrappers import FilterMatcher
from whoosh.util.times import datetime_to_long

from search.facets import FacetTable

__all__ = ["doc_set"]


def _leaves(reader: Any) -> list[tuple[Any, int]]:
    return list(reader.leaf_readers()) if not reader.is_atomic() else [(reader, 0)]


def _term_ids(leaf: Any, fieldname: str, text: Any) -> Iterable[int]:
    """Every document number (in this leaf) of one term's postings, deletions included."""
    try:
        if (fieldname, text) not in leaf:
            return ()
        matcher = leaf.postings(fieldname, text)
    except Exception:  # noqa: BLE001 - an unknown field or term matches nothing
        return ()
    if isinstance(matcher, FilterMatcher):
        matcher = matcher.child
    if not hasattr(matcher, "_read_ids"):
        return list(matcher.all_ids())
    ids: list[int] = []
    while matcher.is_active():
        if matcher._ids is None:
            matcher._read_ids()
        ids.extend(matcher._ids[matcher._i:])
        if matcher._lastblock:
            break
        matcher._next_block()
    return ids


class _Evaluator:
    def __init__(self, searcher: Any, table: FacetTable) -> None:
        self.searcher = searcher
        self.reader = searcher.reader()
        self.leaves = _leaves(self.reader)
        self.table = table
        self._deleted: set[int] | None = None

    def deleted(self) -> set[int]:
        if self._deleted is None:
            self._deleted = set()
            for leaf, offset in self.leaves:
                if leaf.has_deletions():
                    self._deleted.update(offset + d for d in leaf.deleted_docs_set)
        return self._deleted

    def all_docs(self) -> set[int]:
        return set(range(self.reader.doc_count_all())) - self.deleted()

    def term(self, fieldname: str, text: Any) -> set[int]:
        found: set[int] = set()
        for leaf, offset in self.leaves:
            ids = _term_ids(leaf, fieldname, text)
            found.update(ids if offset == 0 else (offset + i for i in ids))
        return found - self.deleted() if self.deleted() else found

    def range(self, q: Any, within: set[int] | None) -> set[int]:
        """Documents whose value for a date or number field is in the range of `q`."""
        table = self.table
        if q.fieldname == "date":
            values = table.dates
            start = datetime_to_long(q.startdate) if q.startdate else None
            end = datetime_to_long(q.enddate) if q.enddate else None
        elif q.fieldname in ("year", "month"):
            values = table.year if q.fieldname == "year" else table.month
            start, end = q.start, q.end
        else:
            return set(q.docs(self.searcher)) & within if within is not None \
                else set(q.docs(self.searcher))
        candidates = within if within is not None else range(len(values))
        return {
            doc for doc in candidates
            if (v := values[doc]) is not None
            and (start is None or v > start or (v == start and not q.startexcl))
            and (end is None or v < end or (v == end and not q.endexcl))
        }

    def evaluate(self, q: Any, within: set[int] | None = None) -> set[int]:
        if isinstance(q, wq.Term):
            found = self.term(q.fieldname, q.text)
        elif isinstance(q, wq.And):
            found = self.intersection(q.subqueries, within)
        elif isinstance(q, wq.Or):
            found = set().union(*(self.evaluate(sub, within) for sub in q.subqueries))
        elif isinstance(q, wq.AndMaybe):
            found = self.evaluate(q.a, within)
        elif isinstance(q, wq.AndNot):
            found = self.evaluate(q.a, within)
            if found:
                found -= self.evaluate(q.b, found)
        elif isinstance(q, wq.Every):
            found = within if within is not None else self.all_docs()
        elif isinstance(q, wq.NumericRange | wq.DateRange):
            return self.range(q, within)
        elif q is wq.NullQuery or isinstance(q, type(wq.NullQuery)):
            return set()
        else:
            found = set(q.docs(self.searcher))
        return found & within if within is not None else found

    def intersection(self, subqueries: list[Any], within: set[int] | None) -> set[int]:
        # Sets first (smallest first), ranges last, checked against what is left.
        ranges = [s for s in subqueries if isinstance(s, wq.NumericRange | wq.DateRange)]
        others = [s for s in subqueries if s not in ranges]
        found = within
        for sub in sorted(others, key=lambda s: s.estimate_size(self.reader)):
            found = self.evaluate(sub, found)
            if not found:
                return set()
        for sub in ranges:
            found = self.range(sub, found)
        return found if found is not None else self.all_docs()


def doc_set(searcher: Any, query: Any, table: FacetTable) -> set[int]:
    """Document numbers matching `query` (deleted documents excluded)."""
    return _Evaluator(searcher, table).evaluate(query)
