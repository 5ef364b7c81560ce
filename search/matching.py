"""Parsed queries and filters as Whoosh queries.

Each plain word matches its stem in `text` and earns a bonus for its exact form in
`exact` (so `Gaza` ranks Gaza above *gaz*, which shares the stem). Phrases match exact
forms with positions, stop words included, so `"honneur et probité"` is that phrase and
not any text holding both words. Field clauses use the title, author and section fields.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from whoosh import query as wq

from search.analysis import FrenchFilter
from search.errors import QueryError
from search.query import Clause, ParsedQuery, as_datetime, is_stop_word, parse_day
from search.schema import keyword
from search.snippets import Terms

__all__ = [
    "EXACT_BOOST",
    "FILTER_NAMES",
    "compile_clause",
    "compile_excluded",
    "compile_filters",
    "compile_groups",
    "highlight_terms",
]

EXACT_BOOST = 0.5  # weight of the exact-form bonus next to the stemmed match
PHRASE_BONUS = 0.5  # weight of the adjacency bonus for hyphenated words (États-Unis)
MAX_EXPANSIONS = 64  # terms a prefix* expands to (the most frequent ones)
MAX_SCANNED = 2000  # index terms looked at to choose them
FILTER_NAMES = ("section", "author", "year", "month", "tag", "since", "until")

_STEMMER = FrenchFilter(stem=True, stop=True)
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


def _word(stem: str | None, exact: str, fields: tuple[str, str]) -> wq.Query | None:
    if stem is None:
        return None
    return wq.AndMaybe(wq.Term(fields[0], stem), wq.Term(fields[1], exact, boost=EXACT_BOOST))


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
    words = [q for q in (_word(_STEMMER.term(t), t, (text_field, exact_field)) for t in terms)
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


def _values(value: Any) -> list[Any]:
    if isinstance(value, str | int | date):
        return [value]
    if isinstance(value, Iterable):
        return list(value)
    return [value]


def compile_filters(filters: Mapping[str, Any] | None, parsed: ParsedQuery) -> list[wq.Query]:
    """Filters (exact facet values, date bounds) as queries every result must match."""
    out: list[wq.Query] = []
    filters = dict(filters or {})
    unknown = set(filters) - set(FILTER_NAMES)
    if unknown:
        name = sorted(unknown)[0]
        raise QueryError(f"unknown filter {name!r}; filters are {', '.join(FILTER_NAMES)}",
                         field=name)
    for name, fieldname in (("section", "section"), ("author", "author"), ("tag", "tag")):
        values = [v for v in _values(filters.get(name)) if v not in (None, "")]
        if values:
            terms = [wq.Term(fieldname, keyword(str(v)) if name != "section" else str(v))
                     for v in values]
            out.append(terms[0] if len(terms) == 1 else wq.Or(terms))
    for name in ("year", "month"):
        values = [v for v in _values(filters.get(name)) if v not in (None, "")]
        if values:
            numbers = [_number(name, v) for v in values]
            terms = [wq.NumericRange(name, n, n) for n in numbers]
            out.append(terms[0] if len(terms) == 1 else wq.Or(terms))
    since = _day(filters.get("since"), "since", end=False)
    until = _day(filters.get("until"), "until", end=True)
    since = max(d for d in (since, parsed.since) if d) if (since or parsed.since) else None
    until = min(d for d in (until, parsed.until) if d) if (until or parsed.until) else None
    if since or until:
        out.append(wq.DateRange("date", as_datetime(since) if since else None,
                                as_datetime(until) if until else None, endexcl=True))
    return out


def _number(name: str, value: Any) -> int:
    try:
        number = int(str(value).replace("-", "")) if name == "month" else int(value)
    except (TypeError, ValueError):
        raise QueryError(f"{name}: expected a number, got {value!r}", field=name) from None
    low, high = (1000, 9999) if name == "year" else (100001, 999912)
    if not low <= number <= high:
        raise QueryError(f"{name}: {value!r} is out of range", field=name)
    return number


def _day(value: Any, name: str, *, end: bool) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    return parse_day(str(value), name=name, end=end)


def highlight_terms(parsed: ParsedQuery) -> Terms:
    """What snippets mark: the positive words, prefixes and phrases outside author/section."""
    stems: set[str] = set()
    exact: set[str] = set()
    prefixes: list[str] = []
    phrases: list[tuple[str, ...]] = []
    for group in parsed.groups:
        for clause in group:
            if clause.field in _KEYWORD_FIELDS:
                continue
            terms = clause.terms()
            if clause.kind == "phrase":
                phrases.append(tuple(terms))
            elif clause.kind == "prefix":
                prefixes.extend(terms[:1])
            elif is_stop_word(clause):
                continue
            else:
                exact.update(terms)
                stems.update(s for s in map(_STEMMER.term, terms) if s)
    if not (stems or exact or prefixes or phrases):
        # A query of stop words only is searched as a phrase; mark it as one.
        words = tuple(t for g in parsed.groups for c in g for t in c.terms())
        if words:
            phrases.append(words)
    return Terms(frozenset(stems), frozenset(exact), tuple(prefixes), tuple(phrases))
