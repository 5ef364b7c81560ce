"""The postings of fields whose terms are whole values (ID, KEYWORD), pooled as arrays.

An article's id, url, language, section, tags, authors and compounds are each a term or a
few; Whoosh's writer pooled each posting as a tuple under its term, and a term seen once
(an id, a url) cost a new posting list of its own. `ValueColumns` keeps each posting as a
term number, document, weight and frequency in four arrays (a term numbered the first
time it comes); when the segment is written, `grouped()` sorts them by term with numpy,
stably, so each term's documents stay in order. For these fields Whoosh's value of a
posting is nothing (Existence) or its frequency (Frequency): made from the frequencies.
What is written is what Whoosh's writer writes (tests compare both).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from typing import Any

import numpy as np
from whoosh.fields import FieldType
from whoosh.formats import Existence, Frequency

from search.whoosh.columns import Grouped, stable_order

__all__ = ["ValueColumns", "value_columns"]


def value_columns(field: Any) -> ValueColumns | None:
    """Columns for `field` when Whoosh indexes it through its format's `word_values` and
    its postings hold nothing but a frequency (Existence, Frequency); else None."""
    if type(field).index is not FieldType.index \
            or type(field.format) not in (Existence, Frequency):
        return None
    return ValueColumns()


class ValueColumns:
    """Every posting of one whole-value field in a segment, as arrays."""

    def __init__(self) -> None:
        self._clear()

    def _clear(self) -> None:
        self._numbers: dict[bytes, int] = {}
        self.terms: list[bytes] = []
        self.tokens = array("I")
        self.docs = array("I")
        self.weights = array("f")
        self.counts = array("I")

    def add(self, docnum: int, items: Iterable[tuple[bytes, int, float, Any]]) -> int:
        """Pool a document's postings (`field.index(value)`'s items); its length."""
        numbers, terms = self._numbers, self.terms
        tokens, docs, weights, counts = self.tokens, self.docs, self.weights, self.counts
        length = 0
        for tbytes, freq, weight, _ in items:
            number = numbers.get(tbytes)
            if number is None:
                number = numbers[tbytes] = len(terms)
                terms.append(tbytes)
            tokens.append(number)
            docs.append(docnum)
            weights.append(weight)
            counts.append(freq)
            length += freq
        return length


    def add_term(self, docnum: int, tbytes: bytes, weight: float) -> int:
        """`add(docnum, [(tbytes, 1, weight, ...)])`: a document's one term (an ID field's
        value), without the items; its length, 1."""
        number = self._numbers.get(tbytes)
        if number is None:
            number = self._numbers[tbytes] = len(self.terms)
            self.terms.append(tbytes)
        self.tokens.append(number)
        self.docs.append(docnum)
        self.weights.append(weight)
        self.counts.append(1)
        return 1

    def grouped(self) -> Grouped | None:
        """The postings grouped by term (None when there are none); the columns are
        emptied."""
        if not self.tokens:
            return None
        terms = self.terms
        order_of_terms = sorted(range(len(terms)), key=terms.__getitem__)
        rank = np.empty(len(terms), dtype=np.int64)
        rank[order_of_terms] = np.arange(len(terms))
        ranks = rank[np.frombuffer(self.tokens, dtype=np.uint32)]
        order = stable_order(ranks, len(terms))  # each term's documents stay in order
        docs = np.frombuffer(self.docs, dtype=np.uint32)[order]
        weights = np.frombuffer(self.weights, dtype=np.float32)[order]
        counts = np.frombuffer(self.counts, dtype=np.uint32)[order]
        starts = np.zeros(len(terms) + 1, dtype=np.int64)
        np.cumsum(np.bincount(ranks, minlength=len(terms)), out=starts[1:])
        grouped = Grouped(terms=[terms[n] for n in order_of_terms], starts=starts, docs=docs,
                          weights=weights, counts=counts, positions=None)
        self._clear()
        return grouped
