"""Parsed queries as Whoosh query objects, which search/whoosh/evaluate.py evaluates.

Each plain word matches its stem in `text` and earns a bonus for its exact form in
`exact` (so `Gaza` ranks Gaza above *gaz*, which shares the stem). Phrases match exact
forms with positions, stop words included, so `"honneur et probité"` is that phrase and
not any text holding both words. Field clauses use the title, author and section fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from whoosh import query as wq

from search.analysis import stem
from search.query import Clause, ParsedQuery, is_stop_word
from search.ranking import EXACT_BOOST, PHRASE_BONUS

__all__ = ["Compiled", "compile_clause", "compile_excluded", "compile_groups", "compile_query"]

MAX_EXPANSIONS = 64  # terms a prefix* expands to (the most frequent ones)
MAX_SCANNED = 2000  # index terms looked at to choose them
_FIELD_TERMS = {None: ("text", "exact"), "title": ("title", "title_exact")}
_KEYWORD_FIELDS = {"author": "author_terms", "section": "section_terms"}


def _expand(reader: Any, fieldname: str, prefix: str) -> list[str]:
    """The most frequent terms of `fieldname` starting with `prefix`."""
    found = []
    for n, term in enumerate(reader.expand_prefix(fieldname, prefix)):
        if n >= MAX_SCANNED:
            break
        text = term.decode("utf-8") if isinstance(term, bytes) else term
        found.append((reader.doc_frequency(fieldname, text), text))
    found.sort(reverse=True)
    return [text for _, text in found[:MAX_EXPANSIONS]]


def _word(stemmed: str | None, exact: str, fields: tuple[str, str]) -> wq.Query | None:
    if stemmed is None:
        return None
    return wq.AndMaybe(wq.Term(fields[0], stemmed),
                       wq.Term(fields[1], exact, boost=EXACT_BOOST))


def compile_clause(clause: Clause, reader: Any) -> wq.Query | None:
    """The Whoosh query for one clause, or None when nothing in it can match anything."""
    terms = clause.terms()
    if not terms:
        return None
    if clause.field in _KEYWORD_FIELDS:
        fieldname = _KEYWORD_FIELDS[clause.field]
        if clause.kind == "prefix":
            expanded = _expand(reader, fieldname, terms[0])
            return wq.Or([wq.Term(fieldname, t) for t in expanded]) if expanded else wq.NullQuery
        return wq.Term(fieldname, terms[0]) if len(terms) == 1 else wq.Phrase(fieldname, terms)
    text_field, exact_field = _FIELD_TERMS[clause.field]
    if clause.kind == "phrase":
        return wq.Phrase(exact_field, terms)
    if clause.kind == "prefix":
        expanded = _expand(reader, exact_field, terms[0])
        return wq.Or([wq.Term(exact_field, t) for t in expanded]) if expanded else wq.NullQuery
    words = [q for q in (_word(stem(t), t, (text_field, exact_field)) for t in terms)
             if q is not None]
    if not words:
        return None
    if len(words) == 1:
        return words[0]
    # A hyphenated or elided word (États-Unis): all its parts, and a bonus when adjacent.
    return wq.AndMaybe(wq.And(words), wq.Phrase(exact_field, terms, boost=PHRASE_BONUS))


def compile_groups(parsed: ParsedQuery, reader: Any) -> tuple[list[wq.Query], list[wq.Query]]:
    """(required, soft) queries: phrases, fields and prefixes are required; words are soft."""
    required: list[wq.Query] = []
    soft: list[wq.Query] = []
    if parsed.groups and all(len(g) == 1 and is_stop_word(g[0]) for g in parsed.groups):
        # Only stop words ("il y a", "le la les"): the words as typed, in that order.
        terms = [t for g in parsed.groups for t in g[0].terms()]
        return [wq.Term("exact", terms[0]) if len(terms) == 1 else wq.Phrase("exact", terms)], []
    for group in parsed.groups:
        compiled = [q for q in (compile_clause(c, reader) for c in group) if q is not None]
        if not compiled:
            continue
        query = compiled[0] if len(compiled) == 1 else wq.Or(compiled)
        if len(group) == 1 and group[0].kind == "word" and not group[0].field:
            soft.append(query)
        else:
            required.append(query)
    return required, soft


def compile_excluded(parsed: ParsedQuery, reader: Any) -> wq.Query | None:
    """What the reader excluded (-word, -"phrase"), as one query to mask out."""
    queries = [q for q in (compile_clause(c, reader) for c in parsed.excluded) if q is not None]
    if not queries:
        return None
    return queries[0] if len(queries) == 1 else wq.Or(queries)


@dataclass(frozen=True)
class Compiled:
    """A search as Whoosh queries: `match` None when nothing can match."""

    match: wq.Query | None
    tier: wq.Query | None  # every plain word present: ranked first
    excluded: wq.Query | None
    positive: bool  # words, phrases or prefixes to rank by


def compile_query(parsed: ParsedQuery, reader: Any, *, typed: bool) -> Compiled:
    """The queries of one search: what matches, what comes first, what is excluded.

    A query with nothing to match but filters browses (every article); one whose words can
    match nothing (or only junk such as "(((") matches nothing.
    """
    required, soft = compile_groups(parsed, reader)
    excluded = compile_excluded(parsed, reader)
    positive = bool(required or soft)
    tier = None
    match: wq.Query | None
    if positive:
        if soft and required:
            match = wq.And([*required, wq.Or(soft)])
        elif not soft:
            match = wq.And(required)
        else:
            match = soft[0] if len(soft) == 1 else wq.Or(soft)
        tier = wq.And([*required, *soft]) if len(soft) > 1 else None
    elif parsed.groups or (typed and not parsed.excluded and not parsed.since
                           and not parsed.until):
        match = None
    else:
        match = wq.Every()
    return Compiled(match, tier, excluded, positive)
