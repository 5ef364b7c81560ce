"""Reading an index, whatever the store: the `Backend` contract and what every store shares.

- A store gives a `View`: one consistent state of its index (a Whoosh searcher, a
  PostgreSQL snapshot) for the length of one call, with its errors already turned into
  FuretErrors.
- `Backend` does the rest once for every store: results cached per index generation (an
  LRU emptied when the generation changes), the did-you-mean correction (searched at once
  when nothing matched), the time taken, and the deadline of every call
  (`search_timeout` seconds, search/deadline.py: SearchTimeoutError past it).
- `search()`, `suggest()`, `related()` and `get_article()` are the same calls as functions,
  taking the query as text (library callers, tests).
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Hashable
from contextlib import AbstractContextManager
from dataclasses import replace
from typing import Any

from search.deadline import DEFAULT_TIMEOUT, within
from search.errors import ArticleNotFoundError, QueryError
from search.faults import stall
from search.query import Clause
from search.request import SearchRequest
from search.results import Article, Hit, Results, rounded
from search.spelling import Completion, Vocabulary, completions, correct

__all__ = ["Backend", "ResultCache", "View", "get_article", "related", "search", "suggest"]

CACHE_SIZE = 1024  # answers kept per kind (searches, completions, related articles)
# Completions and related articles are asked for this many more when articles are hidden,
# then the hidden ones are left out (a search leaves them out itself: its counts must agree).
MAX_HIDDEN_EXTRA = 20


class ResultCache:
    """An LRU of answers about one generation of an index: emptied when it changes."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._generation: str | None = None
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, generation: str, key: Hashable) -> Any:
        """The answer kept for `key`, or None."""
        with self._lock:
            if generation != self._generation:
                return None
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, generation: str, key: Hashable, value: Any) -> None:
        with self._lock:
            if generation != self._generation:
                self._items.clear()
                self._generation = generation
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._generation = None

    def __len__(self) -> int:
        return len(self._items)


class View(ABC):
    """One consistent state of a store's index, for the length of one call."""

    @property
    @abstractmethod
    def generation(self) -> str:
        """Identifies what this view sees: changes whenever the articles do."""

    @abstractmethod
    def search(self, request: SearchRequest) -> tuple[Results, bool]:
        """One page of results, without correction; and whether a correction is to be
        looked for: False when the query holds no words to rank, and may be when its words
        are known to be right (a store's plain word that matched)."""

    @abstractmethod
    def vocabulary(self, request: SearchRequest | None = None) -> Vocabulary:
        """The words of the index, for correcting `request` or completing a prefix."""

    @abstractmethod
    def related(self, article_id: str, limit: int) -> list[Hit]:
        """Up to `limit` articles most like this one (ArticleNotFoundError if unknown)."""

    @abstractmethod
    def article(self, article_id: str) -> Article:
        """The whole article (ArticleNotFoundError if there is none)."""

    @abstractmethod
    def find(self, key: str) -> list[str]:
        """Ids of the articles whose id, else whose address, is `key` (none: [])."""


class Backend(ABC):
    """A searchable store of articles: the site, the API and the CLIs read through this."""

    def __init__(self) -> None:
        # Seconds a call may take before SearchTimeoutError (0: no limit).
        self.search_timeout: float = DEFAULT_TIMEOUT
        self._searches = ResultCache()
        self._completions = ResultCache()
        self._related = ResultCache()
        self._hidden_terms: tuple[str, frozenset[str], frozenset[str]] | None = None

    @abstractmethod
    def view(self) -> AbstractContextManager[View]:
        """The current state of the index (IndexNotFoundError, IndexCorruptError...)."""

    @abstractmethod
    def stats(self) -> dict[str, Any]:
        """{"documents", "generation", "last_update"} of what is searched."""

    @abstractmethod
    def close(self) -> None:
        """Free files, connections and caches."""

    @property
    def generation(self) -> str:
        """Identifies what is searched: changes whenever the articles do."""
        with self.view() as view:
            return view.generation

    def search(self, request: SearchRequest | str = "", **options: Any) -> Results:
        """One page of results for a request (see search.request.SearchRequest); given the
        query as text, `options` are the other fields of the request."""
        if not isinstance(request, SearchRequest):
            request = SearchRequest(request, **options)
        elif options:
            raise TypeError("options go into the SearchRequest, not beside it")
        started = time.perf_counter()
        key = request.key()
        with within(self.search_timeout), self.view() as view:
            generation = view.generation
            found = self._searches.get(generation, key)
            if found is None:
                stall("search")
                found = _corrected(view, request)
                self._searches.put(generation, key, found)
        took_ms = rounded((time.perf_counter() - started) * 1000, 2)
        if request.parsed.synonyms:  # say what was added; show the query as typed
            return replace(found, took_ms=took_ms, query=request.query_text,
                           synonyms=list(request.parsed.synonyms))
        return found.timed(took_ms)

    def suggest(self, prefix: str, *, limit: int = 10) -> list[str]:
        """Up to `limit` completions of what a reader is typing, in display form."""
        return [c.text for c in self.completions(prefix, limit=limit)]

    def completions(self, prefix: str, *, limit: int = 10,
                    hidden: frozenset[str] = frozenset()) -> list[Completion]:
        """The same completions, each saying whether it is words or an article's title;
        the titles of `hidden` articles are left out."""
        if not isinstance(prefix, str) or len(prefix) > 200:
            return []
        more = min(len(hidden), MAX_HIDDEN_EXTRA)  # titles that may be left out
        key = (" ".join(prefix.lower().split()) + (" " if prefix.endswith(" ") else ""),
               limit + more)
        with within(self.search_timeout), self.view() as view:
            generation = view.generation
            found = self._completions.get(generation, key)
            if found is None:
                found = completions(view.vocabulary(), prefix, limit=limit + more)
                self._completions.put(generation, key, found)
        if not hidden:
            return list(found)[:limit]
        shown = self._completions.get(generation, (key, hidden))
        if shown is None:
            shown = []
            for completion in found:
                if len(shown) == limit:
                    break
                # A word only hidden articles hold is not offered (a name in a takedown);
                # only words the hidden articles hold at all are searched for.
                if completion.article_id in hidden or (
                        completion.article_id is None
                        and _last_term(completion.text) in self._hidden_words(generation,
                                                                               hidden)
                        and not self._found_elsewhere(completion.text, hidden)):
                    continue
                shown.append(completion)
            self._completions.put(generation, (key, hidden), shown)
        return list(shown)

    def _hidden_words(self, generation: str, hidden: frozenset[str]) -> frozenset[str]:
        """The folded words of the hidden articles (read once per generation and set)."""
        kept = self._hidden_terms
        if kept is not None and kept[0] == generation and kept[1] == hidden:
            return kept[2]
        words: set[str] = set()
        for article_id in hidden:
            try:
                article = self.get_article(article_id)
            except ArticleNotFoundError:
                continue
            words.update(Clause("word", " ".join((article.title, article.lead, article.body))
                                ).terms())
        self._hidden_terms = (generation, hidden, frozenset(words))
        return self._hidden_terms[2]

    def _found_elsewhere(self, text: str, hidden: frozenset[str]) -> bool:
        """Whether the last word of a completion matches an article that is not hidden."""
        words = text.split()
        try:
            request = SearchRequest(words[-1] if words else "", per_page=1, facets=False,
                                    snippets=False, correct_spelling=False, hidden=hidden)
        except QueryError:
            return True
        return self.search(request).total > 0

    def related(self, article_id: str, *, limit: int = 5,
                hidden: frozenset[str] = frozenset()) -> list[Hit]:
        """Up to `limit` articles most like this one, none of them `hidden`
        (ArticleNotFoundError if it is unknown or hidden itself)."""
        _check_id(article_id, hidden)
        want = limit + min(len(hidden), MAX_HIDDEN_EXTRA)
        with within(self.search_timeout), self.view() as view:
            found = self._related.get(view.generation, (article_id, want))
            if found is None:
                found = view.related(article_id, want)
                self._related.put(view.generation, (article_id, want), found)
        return [h for h in found if h.id not in hidden][:limit]

    def get_article(self, article_id: str, *, hidden: frozenset[str] = frozenset()
                    ) -> Article:
        """The whole article with this id (ArticleNotFoundError if there is none, or if it
        is one of the `hidden`)."""
        _check_id(article_id, hidden)
        with self.view() as view:
            return view.article(article_id)

    def find(self, key: str) -> list[str]:
        """Ids of the articles whose id, else whose address (URL), is `key`."""
        if not _valid_id(key):
            return []
        with self.view() as view:
            return view.find(key)

    def clear_caches(self) -> None:
        for cache in (self._searches, self._completions, self._related):
            cache.clear()


def _last_term(text: str) -> str:
    terms = Clause("word", text).terms()
    return terms[-1] if terms else ""


def _valid_id(article_id: Any) -> bool:
    return isinstance(article_id, str) and bool(article_id) and "\x00" not in article_id


def _check_id(article_id: Any, hidden: frozenset[str] = frozenset()) -> None:
    if not _valid_id(article_id) or article_id in hidden:
        raise ArticleNotFoundError(f"no article with id {article_id!r}")


def _corrected(view: View, request: SearchRequest) -> Results:
    """The results, with a correction for unknown words (searched when nothing matched)."""
    results, positive = view.search(request)
    if not (request.correct_spelling and positive):
        return results
    suggestion = correct(view.vocabulary(request), request.parsed)
    if suggestion and results.total == 0:
        better, _ = view.search(request.with_words(suggestion))
        if better.total:
            return replace(better, query=results.query, suggestion=suggestion, corrected=True)
    return replace(results, suggestion=suggestion) if suggestion else results


def search(backend: Backend, query: str = "", **options: Any) -> Results:
    """`backend.search(SearchRequest(query, **options))`: page, per_page, sort, filters,
    recency_half_life, recency_weight, facets, correct_spelling, snippets."""
    return backend.search(SearchRequest(query, **options))


def suggest(backend: Backend, prefix: str, *, limit: int = 10) -> list[str]:
    """Completions of what a reader is typing (see Backend.suggest)."""
    return backend.suggest(prefix, limit=limit)


def related(backend: Backend, article_id: str, *, limit: int = 5) -> list[Hit]:
    """Articles most like this one (see Backend.related)."""
    return backend.related(article_id, limit=limit)


def get_article(backend: Backend, article_id: str) -> Article:
    """One whole article (see Backend.get_article)."""
    return backend.get_article(article_id)

