"""The search engine: what the web frontend, the JSON API and the command line all call.

- `search()` parses what the reader typed, ranks with BM25F (articles holding all the
  words first), counts facets over every match, highlights a page of hits, and proposes a
  correction for unknown words (searching it at once when nothing matched).
- `suggest()` completes what a reader is typing, `related()` finds similar articles,
  `get_article()` returns one article whole.

Results are cached per index generation (an LRU of normalised queries), so a repeated
query costs a dictionary lookup and a cron update invalidates the cache by itself.
Whoosh errors never leave this package: they become FuretError subclasses.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from html import escape
from typing import Any

import numpy as np
from whoosh import query as wq

from search.backend import Backend
from search.docsets import doc_set
from search.errors import ArticleNotFoundError, FuretError, IndexCorruptError, QueryError
from search.facets import FacetTable, count_facets, count_facets_array
from search.index import Index
from search.matching import (
    compile_excluded,
    compile_filters,
    compile_groups,
    highlight_terms,
)
from search.query import ParsedQuery, parse_query
from search.ranking import RECENCY_WINDOW, recency_factor
from search.results import Article, Hit, Results
from search.snippets import Terms, mark_all, snippet
from search.spelling import complete, correct
from search.storage import index_hint
from search.vector import Node, VectorSearcher

__all__ = ["SORTS", "MAX_PER_PAGE", "search", "suggest", "related", "get_article"]

SORTS = ("relevance", "newest", "oldest")
MAX_PER_PAGE = 100
MAX_PAGE = 1000
CACHE_SIZE = 1024


class _LRU(OrderedDict[Any, Any]):
    def get_fresh(self, key: Any) -> Any:
        value = self.get(key)
        if value is not None:
            self.move_to_end(key)
        return value

    def put(self, key: Any, value: Any) -> None:
        self[key] = value
        self.move_to_end(key)
        while len(self) > CACHE_SIZE:
            self.popitem(last=False)


def _cache(index: Index, name: str, factory: Any) -> Any:
    try:
        return index.cache[name]
    except KeyError:
        value = index.cache[name] = factory()
        return value


def _check_paging(page: Any, per_page: Any, sort: str) -> tuple[int, int]:
    if isinstance(page, bool) or not isinstance(page, int) or not 1 <= page <= MAX_PAGE:
        raise QueryError(f"page: expected a whole number from 1 to {MAX_PAGE}, got {page!r}",
                         field="page")
    if isinstance(per_page, bool) or not isinstance(per_page, int) \
            or not 1 <= per_page <= MAX_PER_PAGE:
        raise QueryError(
            f"per_page: expected a whole number from 1 to {MAX_PER_PAGE}, got {per_page!r}",
            field="per_page")
    if sort not in SORTS:
        raise QueryError(f"sort: expected one of {', '.join(SORTS)}, got {sort!r}", field="sort")
    return page, per_page


def _filters_key(filters: Mapping[str, Any] | None) -> tuple[Any, ...]:
    if not filters:
        return ()
    items = []
    for name, value in sorted(filters.items()):
        if isinstance(value, list | tuple | set | frozenset):
            value = tuple(sorted(map(str, value)))
        items.append((name, str(value) if value is not None else None))
    return tuple(items)


def search(
    index: Backend,
    query: str,
    *,
    page: int = 1,
    per_page: int = 10,
    sort: str = "relevance",
    filters: Mapping[str, Any] | None = None,
    recency_half_life: float = 0.0,
    recency_weight: float = 0.5,
    facets: bool = True,
    correct_spelling: bool = True,
    snippets: bool = True,
) -> Results:
    """One page of results for what a reader typed; see the module docstring.

    `index` may be any Backend: one that is not the Whoosh index answers itself.
    """
    if not isinstance(index, Index):
        return index.search(query, page=page, per_page=per_page, sort=sort, filters=filters,
                            recency_half_life=recency_half_life,
                            recency_weight=recency_weight, facets=facets,
                            correct_spelling=correct_spelling, snippets=snippets)
    started = time.perf_counter()
    request, key = prepare_request(query, page, per_page, sort, filters, recency_half_life,
                                   recency_weight, facets, correct_spelling, snippets)
    try:
        searcher = index.searcher()
        cache = _cache(index, "results", _LRU)
        cached = cache.get_fresh(key)
        if cached is None:
            cached = _search(index, searcher, request)
            cache.put(key, cached)
    except FuretError:
        raise
    except (OSError, EOFError, ValueError, KeyError, IndexError) as err:
        raise IndexCorruptError(f"{index.dir}: the index cannot be read ({err}); rebuild it "
                                f"with: {index_hint(index.dir)}") from err
    return replace(cached, took_ms=round((time.perf_counter() - started) * 1000, 2))


@dataclass(frozen=True)
class _Request:
    """One search, as asked."""

    parsed: ParsedQuery
    typed: bool  # the reader typed something (an empty query browses)
    page: int
    per_page: int
    sort: str
    filters: Mapping[str, Any] | None
    half_life: float
    recency_weight: float
    facets: bool
    correct: bool
    snippets: bool


def prepare_request(query: Any, page: Any, per_page: Any, sort: str,
                    filters: Mapping[str, Any] | None, recency_half_life: float,
                    recency_weight: float, facets: bool, correct_spelling: bool,
                    snippets: bool) -> tuple[_Request, tuple[Any, ...]]:
    """The checked, parsed search and its result-cache key (QueryError if it is bad);
    every backend starts a search with this."""
    if not isinstance(query, str):
        raise QueryError(f"q: expected text, got {type(query).__name__}", field="q")
    page, per_page = _check_paging(page, per_page, sort)
    parsed = parse_query(query)
    request = _Request(parsed, bool(query.strip()), page, per_page, sort, filters,
                       recency_half_life, recency_weight, facets, correct_spelling, snippets)
    key = (parsed.text(), request.typed, page, per_page, sort, _filters_key(filters),
           recency_half_life, recency_weight, facets, correct_spelling, snippets)
    return request, key


def _search(index: Index, searcher: Any, request: _Request) -> Results:
    parsed = request.parsed
    reader = searcher.reader()
    table = _cache(index, "facets", lambda: FacetTable.load(reader))
    required, soft = compile_groups(parsed, reader)
    filter_queries = compile_filters(request.filters, parsed)
    excluded = compile_excluded(parsed, reader)
    # Filters and exclusions become sets of documents, applied as the matches are collected.
    allowed = doc_set(searcher, wq.And(filter_queries), table) if filter_queries else None
    banned = doc_set(searcher, excluded, table) if excluded is not None else None

    positive = bool(required or soft)
    all_query = None
    if positive:
        any_query: wq.Query | None = (
            wq.And([*required, wq.Or(soft)]) if soft and required
            else wq.And(required) if not soft
            else soft[0] if len(soft) == 1 else wq.Or(soft))
        all_query = wq.And([*required, *soft]) if len(soft) > 1 else None
    elif parsed.groups or (request.typed and not parsed.excluded and not parsed.since
                           and not parsed.until):
        any_query = None  # only words that can match nothing, or junk such as "((("
    else:
        any_query = wq.Every()  # browsing: the filters alone

    months_of = _single_year(request.filters)
    hits: list[Hit] = []
    total, exact = 0, True
    facet_counts: dict[str, Any] = _empty_facets(months_of) if request.facets else {}
    offset = (request.page - 1) * request.per_page
    want = offset + request.per_page
    if any_query is not None:
        vector = _vector_searcher(index, searcher)
        if vector is not None:
            ranked, total, facet_counts = _vector_search(
                vector, table, any_query, all_query, allowed, banned, positive, want,
                months_of, index, searcher, request)
        else:
            ranked, total, exact, facet_counts = _whoosh_search(
                index, searcher, table, any_query, all_query, allowed, banned, positive, want,
                months_of, request)
        terms = highlight_terms(parsed) if request.snippets else None
        hits = [_hit(searcher, docnum, score, terms) for docnum, score in ranked[offset:want]]

    suggestion = None
    if request.correct and positive:
        suggestion = correct(searcher, parsed)
        if suggestion and total == 0:
            better = _search(index, searcher, replace(
                request, parsed=_with_words(parsed, suggestion), typed=True, correct=False))
            if better.total:
                return replace(better, query=parsed.text(), suggestion=suggestion,
                               corrected=True)
    return Results(
        query=parsed.text(),
        total=total,
        total_is_exact=exact,
        page=request.page,
        per_page=request.per_page,
        took_ms=0.0,
        hits=hits,
        facets=facet_counts,
        suggestion=suggestion,
    )


def _vector_searcher(index: Index, searcher: Any) -> VectorSearcher | None:
    """The generation's vectorised searcher, or None if a segment lacks flat postings."""
    def make() -> VectorSearcher | None:
        vector = VectorSearcher(searcher)
        return vector if vector.ok else None

    return _cache(index, "vector", make)


def _as_array(docs: set[int] | None) -> Any:
    return None if docs is None else np.fromiter(sorted(docs), dtype=np.int64, count=len(docs))


def _vector_search(vector: VectorSearcher, table: FacetTable, any_query: wq.Query,
                   all_query: wq.Query | None, allowed: set[int] | None,
                   banned: set[int] | None, positive: bool, want: int,
                   months_of: int | None, index: Index, searcher: Any, request: _Request
                   ) -> tuple[list[tuple[int, float]], int, dict[str, Any]]:
    """Ranked documents, exact total and facets, all from numpy arrays."""
    memo: dict[int, Node] = {}
    matched = vector.evaluate(any_query, memo)
    docs, scores = matched.docs, matched.scores
    keep = None
    if allowed is not None:
        keep = np.isin(docs, _as_array(allowed), assume_unique=True)
    if banned:
        out = ~np.isin(docs, _as_array(banned), assume_unique=True)
        keep = out if keep is None else keep & out
    if keep is not None:
        docs, scores = docs[keep], scores[keep]
    facets = (count_facets_array(table, docs, months_of=months_of) if request.facets
              else {})
    if request.sort != "relevance" or not positive:
        ranked = _by_date(index, table, set(docs.tolist()), want,
                          newest=request.sort != "oldest")
        return ranked, len(docs), facets
    depth = max(want, RECENCY_WINDOW) if request.half_life > 0 else want
    tiers = []
    if all_query is not None:
        first = np.isin(docs, vector.evaluate(all_query, memo).docs, assume_unique=True)
        tiers.append(VectorSearcher.top(docs[first], scores[first], depth))
        docs, scores = docs[~first], scores[~first]
        depth = max(depth - len(tiers[0]), 0)
    tiers.append(VectorSearcher.top(docs, scores, depth))
    if request.half_life > 0:
        tiers = [_by_recency(searcher, tier, request) for tier in tiers]
    ranked = [item for tier in tiers for item in tier]
    total = len(matched.docs) if keep is None else int(keep.sum())
    return ranked, total, facets


def _whoosh_search(index: Index, searcher: Any, table: FacetTable, any_query: wq.Query,
                   all_query: wq.Query | None, allowed: set[int] | None,
                   banned: set[int] | None, positive: bool, want: int,
                   months_of: int | None, request: _Request
                   ) -> tuple[list[tuple[int, float]], int, bool, dict[str, Any]]:
    """The same with Whoosh's matchers: for segments written without flat postings."""
    docs = None
    total, exact = 0, True
    facets: dict[str, Any] = {}
    if request.facets or not positive or request.sort != "relevance":
        docs = doc_set(searcher, any_query, table)
        if allowed is not None:
            docs &= allowed
        if banned:
            docs -= banned
        total = len(docs)
    if request.facets:
        facets = count_facets(table, docs, months_of=months_of)
    if docs is not None and (request.sort != "relevance" or not positive):
        ranked = _by_date(index, table, docs, want, newest=request.sort != "oldest")
    else:
        ranked, counted, counted_exactly = _by_relevance(
            searcher, any_query, all_query, want, allowed, banned, request)
        if docs is None:
            total, exact = counted, counted_exactly
    return ranked, total, exact, facets


def _single_year(filters: Mapping[str, Any] | None) -> int | None:
    year = (filters or {}).get("year")
    if isinstance(year, list | tuple):
        year = year[0] if len(year) == 1 else None
    try:
        return int(year) if year not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _empty_facets(months_of: int | None) -> dict[str, list[Any]]:
    facets: dict[str, list[Any]] = {"section": [], "author": [], "year": []}
    if months_of is not None:
        facets["month"] = []
    return facets


def _with_words(parsed: ParsedQuery, corrected: str) -> ParsedQuery:
    """`parsed` with its plain words replaced by the corrected ones."""
    words = parse_query(corrected).groups
    kept = tuple(g for g in parsed.groups
                 if not (len(g) == 1 and g[0].kind == "word" and not g[0].field))
    return replace(parsed, groups=kept + words)


def _date_order(index: Index, table: FacetTable) -> list[int]:
    """All documents, newest first, undated ones last: computed once per generation."""
    def order() -> list[int]:
        dated = [d for d, v in enumerate(table.dates) if v is not None]
        dated.sort(key=table.dates.__getitem__, reverse=True)
        return dated + sorted(table.undated)

    return _cache(index, "date_order", order)


def _by_date(index: Index, table: FacetTable, docs: set[int], want: int, *,
             newest: bool) -> list[tuple[int, float]]:
    """The first `want` of `docs` by date (undated last either way); no relevance score."""
    order = _date_order(index, table)
    if not newest:
        undated = len(table.undated)
        order = order[len(order) - undated - 1::-1] + order[len(order) - undated:] \
            if undated else order[::-1]
    ranked = []
    for doc in order:
        if doc in docs:
            ranked.append((doc, 0.0))
            if len(ranked) == want:
                break
    return ranked


def _top(results: Any) -> list[tuple[int, float]]:
    return [(docnum, score) for score, docnum in results.top_n]


def _by_relevance(searcher: Any, any_query: wq.Query, all_query: wq.Query | None, want: int,
                  allowed: set[int] | None, banned: set[int] | None, request: _Request
                  ) -> tuple[list[tuple[int, float]], int, bool]:
    """(best `want` documents, total, whether the total is exact).

    Articles with every word come first, then the others, each tier by score. Nothing is
    counted beyond what the page needs: when a tier fills the page, the total is Whoosh's
    estimate (total_is_exact False).
    """
    depth = max(want, RECENCY_WINDOW) if request.half_life > 0 else want
    tiers: list[list[tuple[int, float]]] = []
    seen: set[int] = set()
    estimate = None
    if all_query is not None:
        top = searcher.search(all_query, limit=depth, filter=allowed, mask=banned or None)
        tiers.append(_top(top))
        if top.scored_length() >= depth:
            estimate = top
        seen = {docnum for docnum, _ in tiers[0]}
    if estimate is None:
        mask = (banned | seen) if banned else seen
        rest = searcher.search(any_query, limit=max(depth - len(seen), 1), filter=allowed,
                               mask=mask or None)
        tiers.append(_top(rest))
        if rest.scored_length() >= depth - len(seen):
            estimate = rest
    if request.half_life > 0:
        tiers = [_by_recency(searcher, tier, request) for tier in tiers]
    ranked = [item for tier in tiers for item in tier]
    if estimate is None:
        return ranked, len(ranked), True
    guess = estimate.estimated_length()
    if allowed is not None:
        guess = min(guess, len(allowed))
    return ranked, max(guess, len(ranked)), False


def _by_recency(searcher: Any, tier: list[tuple[int, float]], request: _Request
                ) -> list[tuple[int, float]]:
    boosted = []
    for docnum, score in tier:
        published = searcher.stored_fields(docnum).get("published")
        when = datetime.fromisoformat(published) if published else None
        factor = recency_factor(when, half_life_days=request.half_life,
                                weight=request.recency_weight)
        boosted.append((docnum, score * factor))
    boosted.sort(key=lambda item: -item[1])
    return boosted


def _hit(searcher: Any, docnum: int, score: float, terms: Terms | None) -> Hit:
    """A hit; `terms` None means no highlighting (title escaped, no snippet)."""
    fields = searcher.stored_fields(docnum)
    title = fields.get("title", "")
    return Hit(
        id=fields["id"],
        url=fields.get("url"),
        title=title,
        title_html=mark_all(title, terms) if terms is not None else escape(title, quote=False),
        snippet_html=snippet(fields.get("lead", ""), fields.get("body", ""), terms)
        if terms is not None else "",
        published=fields.get("published"),
        section=fields.get("section"),
        authors=list(fields.get("authors", ())),
        score=round(float(score), 4),
    )


def suggest(index: Backend, prefix: str, *, limit: int = 10) -> list[str]:
    """Up to `limit` completions of what a reader is typing, in display form."""
    if not isinstance(index, Index):
        return index.suggest(prefix, limit=limit)
    if not isinstance(prefix, str) or len(prefix) > 200:
        return []
    key = (" ".join(prefix.lower().split()) + (" " if prefix.endswith(" ") else ""), limit)
    cache = _cache(index, "suggest", _LRU)
    found = cache.get_fresh(key)
    if found is None:
        found = complete(index.searcher(), prefix, limit=limit)
        cache.put(key, found)
    return list(found)


def _docnum(searcher: Any, article_id: str) -> int:
    docnum = searcher.document_number(id=article_id) if isinstance(article_id, str) else None
    if docnum is None:
        raise ArticleNotFoundError(f"no article with id {article_id!r}")
    return docnum


def get_article(index: Backend, article_id: str) -> Article:
    """The whole article with this id (ArticleNotFoundError if there is none)."""
    if not isinstance(index, Index):
        return index.get_article(article_id)
    searcher = index.searcher()
    fields = searcher.stored_fields(_docnum(searcher, article_id))
    return Article(
        id=fields["id"],
        url=fields.get("url"),
        title=fields.get("title", ""),
        lead=fields.get("lead", ""),
        body=fields.get("body", ""),
        published=fields.get("published"),
        modified=fields.get("modified"),
        section=fields.get("section"),
        authors=list(fields.get("authors", ())),
        tags=list(fields.get("tags", ())),
        lang=fields.get("lang"),
    )


def related(index: Backend, article_id: str, *, limit: int = 5) -> list[Hit]:
    """Up to `limit` articles most like this one (key terms of its title, lead and body)."""
    if not isinstance(index, Index):
        return index.related(article_id, limit=limit)
    searcher = index.searcher()
    docnum = _docnum(searcher, article_id)
    cache = _cache(index, "related", _LRU)
    found = cache.get_fresh((article_id, limit))
    if found is not None:
        return list(found)
    fields = searcher.stored_fields(docnum)
    text = " ".join((fields.get("title", ""),) * 2 + (fields.get("lead", ""),
                                                       fields.get("body", "")[:6000]))
    keys = searcher.key_terms_from_text("text", text, numterms=12)
    if not keys:
        return []
    q = wq.Or([wq.Term("text", term, boost=weight) for term, weight in keys])
    results = searcher.search(q, limit=limit, mask={docnum})
    found = [_hit(searcher, hit.docnum, hit.score, Terms()) for hit in results]
    cache.put((article_id, limit), found)
    return list(found)
