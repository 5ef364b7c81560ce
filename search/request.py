"""One search, as asked: checked once, whichever door it came through.

The site, the JSON API, `furet-search` and library callers all build a `SearchRequest`;
building it checks every value (QueryError naming the field at fault) and parses the query,
so a backend receives only requests it can run. Filters arrive as a mapping of names to a
value or a list of values (`section`, `author`, `tag`, `year`, `month`, `since`, `until`):
`filters` keeps them as given (each as a tuple), `parsed_filters` as a typed `Filters`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from types import MappingProxyType
from typing import Any

from search.errors import QueryError
from search.ordinals import expand as expand_ordinals
from search.query import ParsedQuery, parse_day, parse_query, plain_word_group
from search.ranking import DEFAULT_RANKING, Ranking
from search.schema import keyword
from search.synonyms import Synonyms

__all__ = ["FILTER_NAMES", "MAX_PAGE", "MAX_PER_PAGE", "SORTS", "Filters", "SearchRequest",
           "check_sort", "check_whole"]

SORTS = ("relevance", "newest", "oldest")
MAX_PER_PAGE = 100
MAX_PAGE = 1000
FILTER_NAMES = ("section", "author", "year", "month", "tag", "since", "until")


def _values(value: Any) -> list[Any]:
    if isinstance(value, str | int | date):
        return [value]
    if isinstance(value, Iterable):
        return list(value)
    return [value]


def _present(filters: Mapping[str, Any], name: str) -> list[Any]:
    if filters.get(name) is None:
        return []
    return [v for v in _values(filters[name]) if v not in (None, "")]


def _single(filters: Mapping[str, Any], name: str) -> Any:
    values = _present(filters, name)
    return values[0] if values else None


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


@dataclass(frozen=True)
class Filters:
    """What every result must be: exact facet values and a publication period.

    Sections are compared as given, authors and tags as index keywords (`keyword`; tags
    lowercased); `months` are yyyymm numbers; `until` is exclusive.
    """

    sections: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    years: tuple[int, ...] = ()
    months: tuple[int, ...] = ()
    since: date | None = None
    until: date | None = None

    @classmethod
    def parse(cls, filters: Mapping[str, Any] | None) -> Filters:
        """Check filters given as {name: value or values} (QueryError naming the bad one)."""
        if not filters:
            return _NO_FILTERS
        filters = dict(filters)
        unknown = set(filters) - set(FILTER_NAMES)
        if unknown:
            name = sorted(unknown)[0]
            raise QueryError(f"unknown filter {name!r}; filters are {', '.join(FILTER_NAMES)}",
                             field=name)
        return cls(
            sections=tuple(str(v) for v in _present(filters, "section")),
            authors=tuple(keyword(str(v)) for v in _present(filters, "author")),
            tags=tuple(keyword(str(v)).lower() for v in _present(filters, "tag")),
            years=tuple(_number("year", v) for v in _present(filters, "year")),
            months=tuple(_number("month", v) for v in _present(filters, "month")),
            since=_day(_single(filters, "since"), "since", end=False),
            until=_day(_single(filters, "until"), "until", end=True),
        )

    def __hash__(self) -> int:
        """The dataclass's hash (of the fields' values), worked out once: every search's
        cache key holds its filters (most often the one `Filters()` of no filter)."""
        found = self.__dict__.get("_hash")
        if found is None:
            found = self.__dict__["_hash"] = hash((
                self.sections, self.authors, self.tags, self.years, self.months, self.since,
                self.until))
        return found

    def __getstate__(self) -> dict[str, Any]:
        """The fields without the hash kept (a string's hash differs between processes)."""
        return {name: value for name, value in self.__dict__.items() if name != "_hash"}

    def __bool__(self) -> bool:
        if self is _NO_FILTERS:  # (most searches: asked by each of them)
            return False
        return any((self.sections, self.authors, self.tags, self.years, self.months,
                    self.since, self.until))

    @property
    def single_year(self) -> int | None:
        """The year when exactly one is asked for: facets then count its months too."""
        return self.years[0] if len(self.years) == 1 else None


_NO_FILTERS = Filters()


def check_whole(name: str, value: Any, high: int) -> int:
    """`value` if it is a whole number (an int) from 1 to `high`, else QueryError."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= high:
        raise QueryError(f"{name}: expected a whole number from 1 to {high}, got {value!r}",
                         field=name)
    return value


def check_sort(value: Any) -> str:
    """`value` if it names a sort order, else QueryError."""
    if value not in SORTS:
        raise QueryError(f"sort: expected one of {', '.join(SORTS)}, got {value!r}",
                         field="sort")
    return str(value)


_NO_MAPPING: Mapping[str, Any] = MappingProxyType({})  # `filters` not given
_set = object.__setattr__


@dataclass(frozen=True, init=False)
class SearchRequest:
    """A checked search (QueryError on construction if any value is wrong).

    `query` is what the reader typed; an empty query browses (the filters alone, newest
    first when not ranked). `recency_half_life` (days, 0: off) boosts recent articles by
    up to `recency_weight`. `ranking` holds the numbers relevance is computed with
    (search.ranking; the default suits every caller but relevance benchmarks).
    """

    query: str = ""
    page: int = 1
    per_page: int = 10
    sort: str = "relevance"
    filters: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    recency_half_life: float = 0.0
    recency_weight: float = 0.5
    facets: bool = True
    correct_spelling: bool = True
    snippets: bool = True
    ranking: Ranking = DEFAULT_RANKING
    # Synonym rules applied to the query (search/synonyms.py); None: none.
    synonyms: Synonyms | None = field(default=None, compare=False, repr=False)
    # Ids of articles the editors hid: the search leaves them out of everything it counts.
    hidden: frozenset[str] = field(default=frozenset(), repr=False)
    parsed: ParsedQuery = field(init=False, compare=False, repr=False)
    query_text: str = field(init=False, compare=False, repr=False)  # normalised, as typed
    parsed_filters: Filters = field(init=False, compare=False, repr=False)

    def __init__(self, query: str = "", page: int = 1, per_page: int = 10,
                 sort: str = "relevance",
                 filters: Mapping[str, Any] = _NO_MAPPING,
                 recency_half_life: float = 0.0, recency_weight: float = 0.5,
                 facets: bool = True, correct_spelling: bool = True, snippets: bool = True,
                 ranking: Ranking = DEFAULT_RANKING, synonyms: Synonyms | None = None,
                 hidden: frozenset[str] = frozenset()) -> None:
        """The dataclass's own `__init__` and checks, its fields written as the instance's
        dictionary at once (as `object.__setattr__` writes them one by one: the frozen
        `__init__` cost a quarter of a plain search's request; tests/test_request.py
        holds the two to the same signature and fields)."""
        if not isinstance(query, str):
            raise QueryError(f"q: expected text, got {type(query).__name__}", field="q")
        if type(page) is not int or not 1 <= page <= MAX_PAGE:  # (bool is not an int here)
            check_whole("page", page, MAX_PAGE)
        if type(per_page) is not int or not 1 <= per_page <= MAX_PER_PAGE:
            check_whole("per_page", per_page, MAX_PER_PAGE)
        if sort not in SORTS:
            check_sort(sort)
        if not isinstance(ranking, Ranking):
            raise QueryError(f"ranking: expected a search.ranking.Ranking, got "
                             f"{type(ranking).__name__}", field="ranking")
        if not isinstance(hidden, frozenset):
            hidden = frozenset(str(i) for i in hidden)
        if filters:
            parsed_filters = Filters.parse(filters)
            kept = {name: tuple(_present(filters, name)) for name in filters}
            filters = {name: v for name, v in kept.items() if v}
        else:  # (most searches)
            parsed_filters, filters = _NO_FILTERS, {}
        parsed = expand_ordinals(parse_query(query))
        _set(self, "__dict__", {
            "query": query, "page": page, "per_page": per_page, "sort": sort,
            "filters": filters, "recency_half_life": recency_half_life,
            "recency_weight": recency_weight, "facets": facets,
            "correct_spelling": correct_spelling, "snippets": snippets, "ranking": ranking,
            "synonyms": synonyms, "hidden": hidden, "parsed_filters": parsed_filters,
            "query_text": parsed.text(),
            "parsed": synonyms.expand(parsed) if synonyms else parsed})

    @property
    def typed(self) -> bool:
        """Whether the reader typed something (an empty query browses)."""
        return bool(self.query.strip())

    @property
    def period(self) -> tuple[date | None, date | None]:
        """(since, until exclusive): the filters' period narrowed by depuis:/avant:."""
        parsed, filters = self.parsed, self.parsed_filters
        since = max((d for d in (filters.since, parsed.since) if d), default=None)
        until = min((d for d in (filters.until, parsed.until) if d), default=None)
        return since, until

    def key(self) -> tuple[Any, ...]:
        """What makes two requests give the same results: a cache key."""
        return (self.parsed.text(), self.typed, self.page, self.per_page, self.sort,
                self.parsed_filters, self.recency_half_life, self.recency_weight, self.facets,
                self.correct_spelling, self.snippets, self.ranking,
                (self.parsed.groups, self.parsed.excluded) if self.synonyms else (),
                self.hidden)

    def with_words(self, corrected: str) -> SearchRequest:
        """This request with its plain words replaced by a correction (searched at once
        when nothing matched), and no further correction."""
        words = expand_ordinals(parse_query(corrected)).groups
        kept = tuple(g for g in self.parsed.groups if not plain_word_group(g))
        request = replace(self, query=corrected, correct_spelling=False)
        object.__setattr__(request, "parsed", replace(self.parsed, groups=kept + words))
        return request
