"""What a search returns: typed, and the same shape as the JSON API (`to_json`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from html import escape
from typing import Any


@dataclass(frozen=True)
class Hit:
    """One matching article, with its title and snippet highlighted (escaped HTML + <mark>)."""

    id: str
    url: str | None
    title: str
    title_html: str
    snippet_html: str
    published: str | None  # ISO 8601 with offset
    section: str | None
    authors: list[str]
    score: float

    @classmethod
    def made(cls, **fields: Any) -> Hit:
        """`Hit(**fields)` (every field given), without the frozen dataclass's `__init__`,
        which sets each field through `object.__setattr__` (3 µs a hit, against 0.6)."""
        if fields.keys() != _HIT_FIELDS:
            raise TypeError(f"a Hit has the fields {sorted(_HIT_FIELDS)}")
        return cls.of(**fields)

    @classmethod
    def of(cls, id: str, url: str | None, title: str, title_html: str,  # noqa: A002
           snippet_html: str, published: str | None, section: str | None,
           authors: list[str], score: float) -> Hit:
        """`Hit(...)` from its fields in order, without the frozen dataclass's `__init__`
        nor `made`'s keyword arguments and check of their names (a page makes ten: about
        1 against 3 µs each). The instance's `__dict__` is the one made here, set as
        `object.__setattr__` sets it (not a second dict filled from it: 0.7 µs less)."""
        hit = _new(cls)
        _set(hit, "__dict__", {"id": id, "url": url, "title": title, "title_html": title_html,
                               "snippet_html": snippet_html, "published": published,
                               "section": section, "authors": authors, "score": score})
        return hit


_HIT_FIELDS = frozenset(Hit.__dataclass_fields__)
_new = object.__new__
_set = object.__setattr__


# `rounded`'s quick path: a value scaled to below 2**30 is off the exact product by less
# than 2**-23 (half an ulp), so that a scaled value this far from a half-way point rounds
# to the integer the exact product rounds to.
_SCALES = (1.0, 10.0, 100.0, 1000.0, 10000.0)
_SCALED_LIMIT = float(2 ** 30)
_HALF = 0.5 - 2.0 ** -20


def rounded(value: float, digits: int) -> float:
    """`round(float(value), digits)` (`digits` 0 to 4): a hit's score, a search's time.
    Python's `round` with digits writes the value's decimal digits and reads them back
    (about 0.35 µs); here the scaled value's nearest integer over the scale is the same
    float (both are the float nearest the same decimal: a division rounds correctly), taken
    unless the scaled value is within 2**-20 of a half-way point, rounds to zero (whose
    sign `round` keeps), or is too large, infinite or NaN: those go to `round` itself."""
    value = float(value)  # (a numpy float32 would be scaled in its own precision)
    scale = _SCALES[digits]
    scaled = value * scale
    if -_SCALED_LIMIT < scaled < _SCALED_LIMIT:
        near = round(scaled)
        if near and -_HALF < scaled - near < _HALF:
            return near / scale
    return round(value, digits)


def plain_hits(heads: list[tuple[Any, ...]], scores: list[float]) -> list[Hit]:
    """The hits of a page without snippets: `Hit.of(id, url, title, escaped title, "",
    published, section, authors, rounded(score, 4))` of each head (the (id, url, title,
    published, section, authors) of `hit_fields`) and its score, made in one loop, the
    title's escaping (`search.snippets.escaped`) inline: a page's twenty calls less."""
    hits = []
    append = hits.append
    for (id_, url, title, published, section, authors), score in zip(heads, scores,
                                                                     strict=True):
        hit = _new(Hit)
        _set(hit, "__dict__", {
            "id": id_, "url": url, "title": title,
            "title_html": escape(title, quote=False)
            if "&" in title or "<" in title or ">" in title else title,
            "snippet_html": "", "published": published, "section": section,
            "authors": authors, "score": rounded(score, 4)})
        append(hit)
    return hits


@dataclass(frozen=True)
class FacetValue:
    """One value of a facet and how many matching articles have it."""

    value: str
    count: int

    @classmethod
    def made(cls, value: str, count: int) -> FacetValue:
        """`FacetValue(value, count)` without the frozen dataclass's `__init__` (a page's
        facets and timeline make up to a hundred and more: 2.3 -> 0.5 µs each)."""
        found = object.__new__(cls)
        found.__dict__.update(value=value, count=count)
        return found


@dataclass(frozen=True)
class Results:
    """One page of results for a query."""

    query: str  # the query as understood (normalised)
    total: int
    total_is_exact: bool
    page: int
    per_page: int
    took_ms: float
    hits: list[Hit] = field(default_factory=list)
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)
    suggestion: str | None = None
    corrected: bool = False  # True when `hits` are those of `suggestion` (nothing matched)
    # Matches per year in time order, or per month of the one year filtered (with facets).
    timeline: list[FacetValue] = field(default_factory=list)
    # Entries synonyms added to the query (« Résultats incluant aussi : … »).
    synonyms: list[str] = field(default_factory=list)
    # Ids of the articles the site's editors put first (« Sélection de la rédaction »).
    pinned: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict: the stable shape documented in docs/searching.md."""
        return asdict(self)

    @classmethod
    def page_of(cls, query: str, total: int, page: int, per_page: int, hits: list[Hit],
                facets: dict[str, list[FacetValue]], timeline: list[FacetValue]) -> Results:
        """`Results(query=..., total=..., total_is_exact=True, page=..., per_page=...,
        took_ms=0.0, hits=..., facets=..., timeline=...)`, the other fields their defaults
        (each list a new one), without the frozen dataclass's `__init__`, which sets each
        of its thirteen fields through `object.__setattr__` (every search makes one: about
        4 against 1 µs)."""
        found = _new(cls)
        _set(found, "__dict__", {
            "query": query, "total": total, "total_is_exact": True, "page": page,
            "per_page": per_page, "took_ms": 0.0, "hits": hits, "facets": facets,
            "suggestion": None, "corrected": False, "timeline": timeline, "synonyms": [],
            "pinned": []})
        return found

    def timed(self, took_ms: float) -> Results:
        """`dataclasses.replace(self, took_ms=took_ms)`: a copy of the same fields (which
        `replace` makes through `__init__` and its checks: 9 µs a search, 4 times this)."""
        copied = _new(type(self))
        fields = self.__dict__.copy()  # (one copy, where `__dict__.update` filled another)
        fields["took_ms"] = took_ms
        _set(copied, "__dict__", fields)
        return copied


@dataclass(frozen=True)
class Article:
    """A whole indexed article, as `get_article` returns it."""

    id: str
    url: str | None
    title: str
    lead: str
    body: str
    published: str | None
    modified: str | None
    section: str | None
    authors: list[str]
    tags: list[str]
    lang: str | None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)
