"""From a parsed query to a store's own queries: the walk every store shares.

A store gives a `ClauseCompiler`, which turns one kind of clause into its own query type
(a Whoosh query object, a piece of SQL); `plan()` walks the parsed query with it once:

- each group of alternatives (`a OR b`) becomes one query; a group that is a single plain
  word is *soft* (articles holding every soft word rank first, the others still match),
  any other group (a phrase, a prefix, a field, alternatives) is *required*;
- a query of stop words only ("il y a") is the words as typed, side by side;
- exclusions (`-mot`, `-"une phrase"`) are compiled the same way.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Generic, TypeVar

from search.query import Clause, ParsedQuery, is_stop_word, plain_word_group

__all__ = ["KEYWORD_FIELDS", "ClauseCompiler", "Plan", "compile_clause", "plan"]

Q = TypeVar("Q")
KEYWORD_FIELDS = ("author", "section")  # matched on their words, never highlighted


class ClauseCompiler(ABC, Generic[Q]):
    """One store's queries for each kind of clause (None: the clause matches nothing)."""

    @abstractmethod
    def keyword(self, field: str, terms: list[str], *, prefix: bool) -> Q | None:
        """Words (or a prefix: the first term) of an author's name or a section's."""

    @abstractmethod
    def phrase(self, terms: list[str], text: str, *, title: bool) -> Q | None:
        """The exact forms side by side (`text`: the phrase as typed)."""

    @abstractmethod
    def prefix(self, term: str, *, title: bool) -> Q | None:
        """Words starting with `term`."""

    @abstractmethod
    def words(self, terms: list[str], *, title: bool) -> Q | None:
        """The words of one typed word (several for états-unis or l'attaque)."""

    @abstractmethod
    def as_typed(self, terms: list[str]) -> Q:
        """A query of stop words only: those words, in that order."""

    @abstractmethod
    def any_of(self, queries: list[Q]) -> Q:
        """Either of several queries (two or more)."""


def compile_clause(compiler: ClauseCompiler[Q], clause: Clause) -> Q | None:
    """The store's query for one clause, or None when nothing in it can match."""
    terms = clause.terms()
    if not terms:
        return None
    if clause.field in KEYWORD_FIELDS:
        return compiler.keyword(clause.field, terms, prefix=clause.kind == "prefix")
    title = clause.field == "title"
    if clause.kind == "phrase":
        return compiler.phrase(terms, clause.text, title=title)
    if clause.kind == "prefix":
        return compiler.prefix(terms[0], title=title)
    return compiler.words(terms, title=title)


def _any(compiler: ClauseCompiler[Q], queries: list[Q]) -> Q | None:
    if not queries:
        return None
    return queries[0] if len(queries) == 1 else compiler.any_of(queries)


@dataclass(frozen=True)
class Plan(Generic[Q]):
    """A search in a store's queries."""

    required: list[Q]  # every article must match each
    soft: list[Q]  # plain words: at least one (all of them: the first tier)
    excluded: Q | None  # articles matching this are left out
    nothing: bool  # only words that can match nothing (or junk such as "((("): no match

    @property
    def positive(self) -> bool:
        """Whether there is something to rank by (else the filters alone: browsing)."""
        return bool(self.required or self.soft)


def plan(compiler: ClauseCompiler[Q], parsed: ParsedQuery, *, typed: bool) -> Plan[Q]:
    """Walk `parsed` with the store's compiler (see the module docstring)."""
    required: list[Q] = []
    soft: list[Q] = []
    if parsed.groups and all(len(g) == 1 and is_stop_word(g[0]) for g in parsed.groups):
        required.append(compiler.as_typed([t for g in parsed.groups for t in g[0].terms()]))
    else:
        for group in parsed.groups:
            query = _any(compiler, [q for q in (compile_clause(compiler, c) for c in group)
                                    if q is not None])
            if query is None:
                continue
            if plain_word_group(group):  # synonyms added to a plain word keep it soft
                soft.append(query)
            else:
                required.append(query)
    excluded = _any(compiler, [q for q in (compile_clause(compiler, c) for c in parsed.excluded)
                               if q is not None])
    nothing = not (required or soft) and bool(
        parsed.groups or (typed and not parsed.excluded and not parsed.since
                          and not parsed.until))
    return Plan(required, soft, excluded, nothing)
