"""Plain searches ranked without compiling: a few plain words, or one quoted phrase.

Most searches are a word or two, or a phrase, with no operator, field, filter or other
sort. For them the general path (search/whoosh/compile.py's Whoosh query objects, then
`Evaluator.evaluate`'s walk over the tree, then `Generation._rank`) does the same few
steps every time: this module does those steps directly, with the evaluator's own term,
phrase and combining methods, so that the answers are those of the general path bit for
bit (tests/test_plain_path.py compares them).

`plain_query()` says whether a request is plain; anything else (a question, a stop word,
an elided or hyphenated word, a prefix, a field, an exclusion, a filter, a date, another
sort, recency, synonyms, hidden articles) takes the general path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from search.analysis import stem
from search.deadline import check
from search.questions import words_ask
from search.request import SearchRequest
from search.whoosh.best import best_in_tiers, best_of_sorted, best_of_two
from search.whoosh.evaluate import Evaluator
from search.whoosh.facets import count_page
from search.whoosh.membership import in_sorted

__all__ = ["PlainQuery", "plain_query", "rank_plain"]

# Plain words at most: beyond, the general path (whose cost the words' reading dwarfs).
MAX_PLAIN_WORDS = 4
# A pair's page of at most this many results is ranked from each word's best
# (`best_of_two`, merged in Python), more through the Or of the two.
PAIR_WANTED = 200


@dataclass(frozen=True)
class PlainQuery:
    """What a plain search matches: its words' (stem, exact form), in the order typed, or
    the words of one phrase (exact forms, stop words included)."""

    words: tuple[tuple[str, str], ...] = ()
    phrase: tuple[str, ...] = ()


def plain_query(request: SearchRequest) -> PlainQuery | None:
    """The request's plain query, or None when it takes the general path."""
    parsed = request.parsed
    groups = parsed.groups
    if (request.sort != "relevance" or request.recency_half_life > 0 or request.hidden
            or request.synonyms is not None or parsed.excluded
            or parsed.since is not None or parsed.until is not None
            or not 0 < len(groups) <= MAX_PLAIN_WORDS
            or request.parsed_filters):
        return None
    for group in groups:
        if len(group) != 1:
            return None
    first = groups[0][0]
    if len(groups) == 1 and first.kind == "phrase":
        if first.field or first.negated or first.synonym:
            return None
        terms = first.terms()
        if len(terms) < 2 or request.query.rstrip().endswith(("?", "？")):
            return None
        return _plain(phrase=tuple(terms))
    words = []
    asked = []  # each word's (text as typed, term), for `words_ask`
    for (clause,) in groups:
        # a plain word of one term that is not a stop word (whose stem is None)
        if clause.kind != "word" or clause.field or clause.negated or clause.synonym:
            return None
        terms = clause.terms()
        if len(terms) != 1:
            return None
        exact = terms[0]
        stemmed = stem(exact)
        if stemmed is None:
            return None
        words.append((stemmed, exact))
        asked.append((clause.text, exact))
    # A question ranks its words otherwise (weights, variants, no tier, feedback). Of words
    # such as these (one term each, none a stop word), `query_shape` weighs 0 only the
    # interrogatives, which make a question, and others only in a question: not being one
    # (`is_question`, as `words_ask` tells it of such words) is all to check.
    if words_ask(request.query, asked):
        return None
    return _plain(words=tuple(words))


_new = object.__new__
_set = object.__setattr__


def _plain(words: tuple[tuple[str, str], ...] = (), phrase: tuple[str, ...] = ()
           ) -> PlainQuery:
    """`PlainQuery(words, phrase)` without the frozen dataclass's `__init__`, which sets each
    field through `object.__setattr__` (0.8 against 0.3 µs): its `__dict__` set at once."""
    found = _new(PlainQuery)
    _set(found, "__dict__", {"words": words, "phrase": phrase})
    return found


def rank_plain(generation: Any, request: SearchRequest, plain: PlainQuery, want: int
               ) -> tuple[list[tuple[int, float]], int, dict[str, Any], list[Any]]:
    """`Generation._rank` of a plain query: the first `want` (doc, score), the total, the
    facets and the timeline."""
    evaluator: Evaluator = generation.evaluator
    ranking = request.ranking
    months_of = request.parsed_filters.single_year
    if plain.phrase:
        check()
        found = evaluator.phrase("exact", list(plain.phrase), ranking)
        # the general path's And of one phrase: the same documents, 0 + its scores
        return _ranked(generation, request, found.docs, found.scores, want, months_of)
    nodes = []
    for stemmed, exact in plain.words:
        check()
        required = evaluator.term("text", stemmed, 1.0, ranking)
        if len(required.docs):
            required = evaluator.with_optional(
                required, evaluator.term("exact", exact, ranking.exact_boost, ranking))
        nodes.append(required)
    if len(nodes) == 1:
        return _ranked(generation, request, nodes[0].docs, nodes[0].scores, want, months_of)
    # Articles holding every word rank first (`Generation._rank`'s tier, `_unscored`'s
    # shortcut when they fill the page)
    size = evaluator.size
    tier = evaluator.common(nodes)
    if (len(nodes) == 2 and not request.facets and want <= PAIR_WANTED
            and not evaluator.large(len(nodes[0].docs) + len(nodes[1].docs))):
        # no facets: the Or's documents are not listed, only counted (inclusion-exclusion);
        # two words large beside the index keep the Or (its arrays the size of the index
        # cost less there than sorting their postings)
        first, second = nodes
        total = len(first.docs) + len(second.docs) - len(tier)
        if len(tier) >= want:
            both = evaluator.all_of(nodes, docs=tier)
            return Evaluator.top(both.docs, both.scores, want), total, {}, []
        return best_of_two((first.docs, first.scores), (second.docs, second.scores), tier,
                           want), total, {}, []
    if len(tier) >= want:
        first = evaluator.all_of(nodes, docs=tier)
        ranked = Evaluator.top(first.docs, first.scores, want)
        docs = evaluator.union([node.docs for node in nodes])
        facets, timeline = _facets(generation, request, docs, months_of)
        return ranked, len(docs), facets, timeline
    matched = evaluator.any_of(nodes)
    docs, scores = matched.docs, matched.scores
    facets, timeline = _facets(generation, request, docs, months_of)
    # the tier's documents ranked first, then the others
    ranked = best_in_tiers(docs, scores, in_sorted(docs, tier, size), want)
    return ranked, len(docs), facets, timeline


def _ranked(generation: Any, request: SearchRequest, docs: Any, scores: Any, want: int,
            months_of: int | None
            ) -> tuple[list[tuple[int, float]], int, dict[str, Any], list[Any]]:
    facets, timeline = _facets(generation, request, docs, months_of)
    # a node's documents: in ascending order
    return best_of_sorted(docs, scores, want), len(docs), facets, timeline


def _facets(generation: Any, request: SearchRequest, docs: Any, months_of: int | None
            ) -> tuple[dict[str, Any], list[Any]]:
    if not request.facets:
        return {}, []
    return count_page(generation.facets, docs, months_of=months_of)
