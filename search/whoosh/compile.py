"""Parsed queries as Whoosh query objects, which search/whoosh/evaluate.py evaluates.

Each plain word matches its stem in `text` and earns a bonus for its exact form in
`exact` (so `Gaza` ranks Gaza above *gaz*, which shares the stem); in a question it also
matches the stems that are variants of its own (search/questions.py), scored as the best
of them. Phrases match exact
forms with positions, stop words included, so `"honneur et probité"` is that phrase and
not any text holding both words. Field clauses use the title, author and section fields.
The walk over the query is search/compiling.py's.
"""

from __future__ import annotations

import sys
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from whoosh import query as wq

from search.analysis import stem
from search.compiling import ClauseCompiler, plan
from search.deadline import check
from search.query import ParsedQuery
from search.questions import VARIANT_ENDING, is_variant, query_shape, ranked_stems, variant_prefix
from search.ranking import DEFAULT_RANKING, Ranking
from search.whoosh.directory import FieldDirectory, TermDirectory
from search.whoosh.strings import position

__all__ = ["Compiled", "WhooshClauses", "compile_query"]

MAX_EXPANSIONS = 64  # terms a prefix* expands to (the most frequent ones)
MAX_SCANNED = 2000  # index terms looked at to choose them
_TEXT = {False: ("text", "exact"), True: ("title", "title_exact")}  # by "in the title"
_KEYWORD_FIELDS = {"author": "author_terms", "section": "section_terms"}


def _end(terms: Sequence[str], prefix: str, start: int, end: int) -> int:
    """Where the sorted `terms[start:end]` starting with `prefix` end."""
    head = prefix.rstrip(chr(sys.maxunicode))
    if not head:  # every text is below a run of the largest character, whatever follows
        return end
    return bisect_left(terms, head[:-1] + chr(ord(head[-1]) + 1), start, end)


class WhooshClauses(ClauseCompiler[wq.Query]):
    """Clauses as Whoosh queries over one index's reader (prefixes are expanded there)."""

    def __init__(self, reader: Any, ranking: Ranking = DEFAULT_RANKING, *,
                 question: bool = False, directory: TermDirectory | None = None) -> None:
        self.reader = reader
        self.directory = directory  # the index's terms in one place, when given
        self.ranking = ranking
        self.variants = question and ranking.variant_weight > 0
        self._expanded: dict[tuple[str, str], wq.Query] = {}

    def _listed(self, fieldname: str) -> FieldDirectory | None:
        return self.directory.field(fieldname) if self.directory is not None else None

    def _starting(self, fieldname: str, prefix: str) -> list[str]:
        """Terms of `fieldname` starting with `prefix` (the first MAX_SCANNED)."""
        listed = self._listed(fieldname)
        if listed is not None:  # a slice of the sorted terms: no walk in Python
            terms = listed.terms
            start = position(terms, prefix)
            return terms[start:_end(terms, prefix, start, min(start + MAX_SCANNED,
                                                              len(terms)))]
        found = []
        for n, term in enumerate(self.reader.expand_prefix(fieldname, prefix)):
            if n >= MAX_SCANNED:
                break
            if n % 64 == 0:
                check()
            found.append(term.decode("utf-8") if isinstance(term, bytes) else term)
        return found

    def _variants(self, fieldname: str, stemmed: str, prefix: str) -> list[str]:
        """The variants of `stemmed` (`is_variant`) among the first MAX_SCANNED terms of
        `fieldname` starting with `prefix`, in sorted order."""
        listed = self._listed(fieldname)
        if listed is None:
            return [t for t in self._starting(fieldname, prefix) if is_variant(stemmed, t)]
        # A variant is the stem cut short (at least `prefix`) or the stem and an ending:
        # a few bisections of the sorted terms, not a walk over all of `prefix`'s.
        terms = listed.terms
        start = position(terms, prefix)
        end = min(start + MAX_SCANNED, len(terms))
        found = []
        for size in range(len(prefix), len(stemmed)):
            n = bisect_left(terms, stemmed[:size], start, end)
            if n < end and terms[n] == stemmed[:size]:
                found.append(terms[n])
        longest = len(stemmed) + VARIANT_ENDING
        first = bisect_left(terms, stemmed, start, end)
        found += [t for t in terms[first:_end(terms, stemmed, first, end)]
                  if len(t) <= longest and t != stemmed and t.isalpha()]
        return found

    def _expand(self, fieldname: str, prefix: str) -> wq.Query:
        """The most frequent terms of `fieldname` starting with `prefix` (once per prefix)."""
        if (fieldname, prefix) in self._expanded:
            return self._expanded[fieldname, prefix]
        listed = self._listed(fieldname)
        frequency = listed.frequency if listed is not None else \
            (lambda text: self.reader.doc_frequency(fieldname, text))
        found = [(frequency(text), text) for text in self._starting(fieldname, prefix)]
        found.sort(reverse=True)
        terms = [wq.Term(fieldname, text) for _, text in found[:MAX_EXPANSIONS]]
        query = wq.Or(terms) if terms else wq.NullQuery
        self._expanded[fieldname, prefix] = query
        return query

    def keyword(self, field: str, terms: list[str], *, prefix: bool) -> wq.Query:
        fieldname = _KEYWORD_FIELDS[field]
        if prefix:
            return self._expand(fieldname, terms[0])
        return wq.Term(fieldname, terms[0]) if len(terms) == 1 else wq.Phrase(fieldname, terms)

    def phrase(self, terms: list[str], text: str, *, title: bool) -> wq.Query:
        return wq.Phrase(_TEXT[title][1], terms)

    def prefix(self, term: str, *, title: bool) -> wq.Query:
        return self._expand(_TEXT[title][1], term)

    def words(self, terms: list[str], *, title: bool, weight: float = 1.0
              ) -> wq.Query | None:
        text_field, exact_field = _TEXT[title]
        words = [wq.AndMaybe(self._stem(text_field, stemmed),
                             wq.Term(exact_field, t, boost=self.ranking.exact_boost))
                 for t in terms if (stemmed := stem(t)) is not None]
        if not words:
            return None
        if len(words) == 1:
            found = words[0]
        else:
            # A hyphenated or elided word (États-Unis): all its parts, a bonus when adjacent.
            found = wq.AndMaybe(wq.And(words), wq.Phrase(exact_field, terms,
                                                         boost=self.ranking.phrase_bonus))
        found.boost = weight
        return found

    def _stem(self, fieldname: str, stemmed: str) -> wq.Query:
        """A stem; in a question, the best of it and its variants (worth less)."""
        prefix = variant_prefix(stemmed) if self.variants else None
        if prefix is None:
            return wq.Term(fieldname, stemmed)
        others = [wq.Term(fieldname, text, boost=self.ranking.variant_weight)
                  for text in self._variants(fieldname, stemmed, prefix)]
        if not others:
            return wq.Term(fieldname, stemmed)
        return wq.DisjunctionMax([wq.Term(fieldname, stemmed), *others])

    def as_typed(self, terms: list[str]) -> wq.Query:
        return wq.Term("exact", terms[0]) if len(terms) == 1 else wq.Phrase("exact", terms)

    def any_of(self, queries: list[wq.Query]) -> wq.Query:
        return wq.Or(queries)


@dataclass(frozen=True)
class Compiled:
    """A search as Whoosh queries: `match` None when nothing can match."""

    match: wq.Query | None
    tier: wq.Query | None  # every plain word present: ranked first
    excluded: wq.Query | None
    positive: bool  # words, phrases or prefixes to rank by
    question: bool = False  # a question (search/questions.py): feedback may add articles
    stems: tuple[str, ...] = ()  # the stems of the plain words that rank


def compile_query(parsed: ParsedQuery, reader: Any, *, typed: bool,
                  ranking: Ranking = DEFAULT_RANKING, text: str = "",
                  directory: TermDirectory | None = None) -> Compiled:
    """The queries of one search (typed as `text`): what matches, what comes first, what
    is excluded. Prefixes are expanded with `directory` when given (one lookup for every
    segment), else with the reader.

    A query with nothing to match but filters browses (every article).
    """
    shape = query_shape(parsed, ranking, text)
    found = plan(WhooshClauses(reader, ranking, question=shape.question, directory=directory),
                 parsed,
                 typed=typed, shape=shape)
    required, soft = found.required, found.soft
    match: wq.Query | None
    if found.nothing:
        match = None
    elif not found.positive:
        match = wq.Every()
    elif soft and required:
        match = wq.And([*required, wq.Or(soft)])
    elif not soft:
        match = wq.And(required)
    else:
        match = soft[0] if len(soft) == 1 else wq.Or(soft)
    tier = wq.And([*required, *soft]) if len(soft) > 1 and not found.question else None
    return Compiled(match, tier, found.excluded, found.positive, found.question,
                    tuple(ranked_stems(parsed, shape)))
