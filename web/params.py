"""Request parameters checked and turned into the arguments of `search.search`.

The API speaks English (`section`, `from`, `sort=newest`), the pages French (`rubrique`,
`tri=recents`); both end up as one `SearchRequest`. The API is strict (an empty or padded
value is an error, as its OpenAPI document says); the pages forgive what forms send (empty
fields, spaces). A bad value is a WebError naming the
parameter, the value and what is accepted, in English for tools and French for readers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from werkzeug.datastructures import MultiDict

from search.engine import MAX_PAGE, MAX_PER_PAGE, SORTS
from search.query import MAX_QUERY_CHARS
from web.errors import WebError

__all__ = ["SearchRequest", "api_search_request", "page_search_request", "FRENCH_SORTS",
           "FRENCH_FILTERS", "MAX_VALUE_CHARS", "MAX_VALUES"]

MAX_VALUE_CHARS = 200  # a section or author name
MAX_VALUES = 20  # values of one filter

FRENCH_SORTS = {"pertinence": "relevance", "recents": "newest", "anciens": "oldest"}
FRENCH_FILTERS = {"rubrique": "section", "auteur": "author", "annee": "year", "mois": "month"}
API_FILTERS = ("section", "author", "year", "month")

_MONTH = re.compile(r"(\d{4})-(\d{2})", re.ASCII)
_DAY = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?", re.ASCII)


@dataclass(frozen=True)
class SearchRequest:
    """A checked search: what to pass to `search.search`."""

    q: str = ""
    page: int = 1
    per_page: int = 10
    sort: str = "relevance"
    filters: dict[str, list[str]] = field(default_factory=dict)  # section, author, year, …

    def search_filters(self) -> dict[str, Any]:
        """Filters as `search.search` takes them (since/until as strings)."""
        out: dict[str, Any] = {}
        for name, values in self.filters.items():
            out[name] = values[0] if name in ("since", "until") else list(values)
        return out

    def key(self) -> tuple[Any, ...]:
        """A normalised form, for ETags."""
        return (self.q, self.page, self.per_page, self.sort,
                tuple(sorted((k, tuple(sorted(v))) for k, v in self.filters.items())))


def _refuse(name: str, value: str, accepted: str, french: str, *, code: str =
            "invalid_parameter") -> WebError:
    shown = value if len(value) <= 60 else value[:57] + "…"
    return WebError(400, code, f"{name}: expected {accepted}, got {shown!r}", field=name,
                    french=french)


def _query(args: MultiDict[str, str]) -> str:
    q = args.get("q", "")
    if len(q) > MAX_QUERY_CHARS:
        raise WebError(400, "too_large",
                       f"q: the query has {len(q):,} characters; the limit is "
                       f"{MAX_QUERY_CHARS:,}", field="q",
                       french=f"La recherche est trop longue : {len(q)} caractères, pour "
                              f"{MAX_QUERY_CHARS} au plus.")
    return q


def _raw(args: MultiDict[str, str], name: str, strict: bool) -> str | None:
    """A single-valued parameter; None when absent (or, for pages, empty)."""
    raw = args.get(name)
    if raw is None or strict:
        return raw
    return raw.strip() or None  # forms send empty fields


def _whole(args: MultiDict[str, str], name: str, default: int, high: int, french: str,
           strict: bool) -> int:
    raw = _raw(args, name, strict)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= high:
        raise _refuse(name, raw, f"a whole number from 1 to {high}",
                      f"{french} doit être un nombre entier de 1 à {high}.")
    return int(raw)


def _values(args: MultiDict[str, str], name: str, strict: bool) -> list[str]:
    values = args.getlist(name)
    if not strict:
        values = [v.strip() for v in values if v.strip()]
    if len(values) > MAX_VALUES:
        raise WebError(400, "invalid_parameter",
                       f"{name}: at most {MAX_VALUES} values, got {len(values)}", field=name,
                       french=f"Trop de filtres « {name} » : {MAX_VALUES} au plus.")
    for value in values:
        if not value:
            raise _refuse(name, value, "a value (leave the parameter out for none)",
                          f"Filtre « {name} » vide.")
        if len(value) > MAX_VALUE_CHARS:
            raise WebError(400, "too_large",
                           f"{name}: values are at most {MAX_VALUE_CHARS} characters, got "
                           f"{len(value):,}", field=name,
                           french=f"Filtre « {name} » trop long.")
    return values


def _check_filter(kind: str, name: str, value: str) -> str:
    """Check a year or month value; `name` is the parameter as the client wrote it."""
    if kind == "year":
        if not (value.isascii() and value.isdigit() and len(value) == 4 and int(value) >= 1000):
            raise _refuse(name, value, "a year such as 2024",
                          f"L’année doit s’écrire avec quatre chiffres (par exemple 2024), "
                          f"et non « {value} ».")
    elif kind == "month":
        match = _MONTH.fullmatch(value)
        if not match or not 1 <= int(match[2]) <= 12 or int(match[1]) < 1000:
            raise _refuse(name, value, "a month such as 2024-01",
                          f"Le mois doit s’écrire comme 2024-01, et non « {value} ».")
    return value


def _day(args: MultiDict[str, str], name: str) -> str | None:
    raw = args.get(name)
    if raw is None:
        return None
    match = _DAY.fullmatch(raw)
    try:
        if not match:
            raise ValueError
        date(int(match[1]), int(match[2] or 1), int(match[3] or 1))
        if int(match[1]) < 1000:
            raise ValueError
    except ValueError:
        raise _refuse(name, raw, "a date such as 2024-01-15, 2024-01 or 2024",
                      f"La date doit s’écrire comme 2024-01-15, 2024-01 ou 2024, et non "
                      f"« {raw} ».") from None
    return raw


def api_search_request(args: MultiDict[str, str], *, per_page: int) -> SearchRequest:
    """Check the parameters of GET /api/v1/search."""
    q = _query(args)
    page = _whole(args, "page", 1, MAX_PAGE, "page", True)
    per_page = _whole(args, "per_page", per_page, MAX_PER_PAGE, "per_page", True)
    sort = args.get("sort", "relevance")
    if sort not in SORTS:
        raise _refuse("sort", sort, "one of " + ", ".join(SORTS), "Tri inconnu.")
    filters: dict[str, list[str]] = {}
    for name in API_FILTERS:
        values = [_check_filter(name, name, v) for v in _values(args, name, True)]
        if values:
            filters[name] = values
    for name, target in (("from", "since"), ("to", "until")):
        day = _day(args, name)
        if day:
            filters[target] = [day]
    return SearchRequest(q, page, per_page, sort, filters)


def page_search_request(args: MultiDict[str, str], *, per_page: int) -> SearchRequest:
    """Check the parameters of the /recherche page (French names)."""
    q = _query(args)
    page = _whole(args, "page", 1, MAX_PAGE, "Le numéro de page", False)
    tri = _raw(args, "tri", False) or "pertinence"
    if tri not in FRENCH_SORTS:
        raise _refuse("tri", tri, "one of " + ", ".join(FRENCH_SORTS),
                      "Le tri doit être « pertinence », « recents » ou « anciens ».")
    filters: dict[str, list[str]] = {}
    for name, target in FRENCH_FILTERS.items():
        values = [_check_filter(target, name, v) for v in _values(args, name, False)]
        if values:
            filters[target] = values
    return SearchRequest(q, page, per_page, FRENCH_SORTS[tri], filters)
