"""Request parameters read into a `search.SearchRequest`, with errors in the client's terms.

The API speaks English (`section`, `from`, `sort=newest`), the pages French (`rubrique`,
`tri=recents`); both end up as one `SearchRequest`, which checks what every search must be
(pages and sizes in range, a known sort, real dates). Here is only what belongs to HTTP:
the parameters' names, their textual form (a year is four digits, a month `2024-01`), the
API's strictness (an empty or padded value is an error, as its OpenAPI document says)
against the pages' forgiveness (forms send empty fields), and the messages: a bad value is
a WebError naming the parameter, the value and what is accepted, in English for tools and
French for readers.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from werkzeug.datastructures import MultiDict

from search.errors import QueryError
from search.query import MAX_QUERY_CHARS
from search.request import MAX_PAGE, MAX_PER_PAGE, SORTS, SearchRequest, check_sort, check_whole
from web.errors import WebError

__all__ = ["API_FILTERS", "FRENCH_FILTERS", "FRENCH_SORTS", "MAX_VALUE_CHARS", "MAX_VALUES",
           "api_search_request", "page_search_request", "query_problem"]

MAX_VALUE_CHARS = 200  # a section or author name
MAX_VALUES = 20  # values of one filter

FRENCH_SORTS = {"pertinence": "relevance", "recents": "newest", "anciens": "oldest"}
_SORT_SPELLINGS = {"récents": "recents"}  # as a reader writes it; the pages' links use ASCII
FRENCH_FILTERS = {"rubrique": "section", "auteur": "author", "annee": "year", "mois": "month"}
API_FILTERS = ("section", "author", "year", "month")

_MONTH = re.compile(r"(\d{4})-(\d{2})", re.ASCII)
_DAY = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?", re.ASCII)


def _refuse(name: str, value: str, accepted: str, french: str, *, code: str =
            "invalid_parameter") -> WebError:
    shown = value if len(value) <= 60 else value[:57] + "…"
    return WebError(400, code, f"{name}: expected {accepted}, got {shown!r}", field=name,
                    french=french)


def query_problem(err: QueryError) -> str:
    """A French sentence for a query the engine refused."""
    if err.field in ("depuis", "avant"):
        return (f"La date après « {err.field}: » n’est pas comprise : écrivez par exemple "
                f"{err.field}:2024-01-15, {err.field}:2024-01 ou {err.field}:2024.")
    if err.field == "q":
        return f"La recherche est trop longue : {MAX_QUERY_CHARS} caractères au plus."
    return "La recherche n’a pas pu être comprise ; consultez l’aide pour la syntaxe."


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
    try:
        return check_whole(name, int(raw) if raw.isascii() and raw.isdigit() else raw, high)
    except QueryError:
        raise _refuse(name, raw, f"a whole number from 1 to {high}",
                      f"{french} doit être un nombre entier de 1 à {high}.") from None


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
    """Check the form of a year or month value; `name` is the parameter as written."""
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


def _request(q: str, page: int, per_page: int, sort: str, filters: dict[str, list[str]],
             options: dict[str, Any], names: dict[str, str]) -> SearchRequest:
    """The SearchRequest; a value it refuses is a WebError naming the parameter as sent."""
    try:
        return SearchRequest(q, page=page, per_page=per_page, sort=sort, filters=filters,
                             **options)
    except QueryError as err:
        name = names.get(err.field or "", "q")
        if name == "q":
            raise WebError(400, "invalid_query", str(err), field="q",
                           french=query_problem(err)) from None
        message = str(err).split(":", 1)[-1].strip()
        raise WebError(400, "invalid_parameter", f"{name}: {message}", field=name,
                       french="La requête contient un paramètre incorrect.") from None


def api_search_request(args: MultiDict[str, str], *, per_page: int,
                       **options: Any) -> SearchRequest:
    """Check the parameters of GET /api/v1/search (`options`: more SearchRequest fields)."""
    q = _query(args)
    page = _whole(args, "page", 1, MAX_PAGE, "page", True)
    per_page = _whole(args, "per_page", per_page, MAX_PER_PAGE, "per_page", True)
    sort = args.get("sort", "relevance")
    try:
        check_sort(sort)
    except QueryError:
        raise _refuse("sort", sort, "one of " + ", ".join(SORTS), "Tri inconnu.") from None
    filters: dict[str, list[str]] = {}
    for name in API_FILTERS:
        values = [_check_filter(name, name, v) for v in _values(args, name, True)]
        if values:
            filters[name] = values
    for name, target in (("from", "since"), ("to", "until")):
        day = _day(args, name)
        if day:
            filters[target] = [day]
    names = {n: n for n in (*API_FILTERS, "page", "per_page", "sort")} | {
        "since": "from", "until": "to"}
    return _request(q, page, per_page, sort, filters, options, names)


def page_search_request(args: MultiDict[str, str], *, per_page: int,
                        **options: Any) -> SearchRequest:
    """Check the parameters of the /recherche page (French names)."""
    q = _query(args)
    page = _whole(args, "page", 1, MAX_PAGE, "Le numéro de page", False)
    tri = _raw(args, "tri", False) or "pertinence"
    tri = _SORT_SPELLINGS.get(tri, tri)
    if tri not in FRENCH_SORTS:
        raise _refuse("tri", tri, "one of " + ", ".join(FRENCH_SORTS),
                      "Le tri doit être « pertinence », « récents » ou « anciens ».")
    filters: dict[str, list[str]] = {}
    for name, target in FRENCH_FILTERS.items():
        values = [_check_filter(target, name, v) for v in _values(args, name, False)]
        if values:
            filters[target] = values
    names = {target: name for name, target in FRENCH_FILTERS.items()} | {"page": "page"}
    return _request(q, page, per_page, FRENCH_SORTS[tri], filters, options, names)
