"""The OpenAPI 3.1 document of the JSON API, served at /api/v1/openapi.json.

Written by hand next to the code it describes; the tests validate it and check the API's
real answers against it, so the two cannot drift apart.
"""

from __future__ import annotations

from typing import Any

from search import __version__
from search.query import MAX_QUERY_CHARS
from search.request import MAX_PAGE, MAX_PER_PAGE, SORTS

__all__ = ["openapi_document", "ERROR_CODES"]

ERROR_CODES = ("invalid_parameter", "invalid_query", "invalid_host", "invalid_request",
               "not_found", "method_not_allowed", "request_timeout", "too_large",
               "uri_too_long", "rate_limited", "index_unavailable", "search_timeout",
               "server_timeout", "internal_error")

_REF = "#/components/schemas/"
_MONTH = "^[1-9][0-9]{3}-(0[1-9]|1[0-2])$"
_DAY = "^[1-9][0-9]{3}(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?)?$"
_NULLABLE_TEXT = {"type": ["string", "null"]}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": _REF + name}


def _obj(properties: dict[str, Any], description: str = "") -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "required": list(properties),
                              "properties": properties}
    if description:
        schema["description"] = description
    return schema


def _schemas() -> dict[str, Any]:
    text_list = {"type": "array", "items": {"type": "string"}}
    facet_list = {"type": "array", "items": _ref("FacetValue")}
    return {
        "Hit": _obj({
            "id": {"type": "string", "description": "Stable id of the article."},
            "url": {**_NULLABLE_TEXT, "description": "Address of the article, if known."},
            "title": {"type": "string", "description": "Title, plain text."},
            "title_html": {"type": "string", "description":
                           "Title as escaped HTML, matches wrapped in <mark>."},
            "snippet_html": {"type": "string", "description":
                             "Passage around the matches: escaped HTML with <mark> only."},
            "published": {**_NULLABLE_TEXT, "description":
                          "Publication time, ISO 8601 with offset."},
            "section": _NULLABLE_TEXT,
            "authors": text_list,
            "score": {"type": "number", "description":
                      "Relevance score (0 when sorted by date)."},
        }, "One matching article."),
        "FacetValue": _obj({"value": {"type": "string"}, "count": {"type": "integer",
                                                                    "minimum": 0}}),
        "Results": _obj({
            "query": {"type": "string", "description": "The query as understood (normalised)."},
            "total": {"type": "integer", "minimum": 0},
            "total_is_exact": {"type": "boolean"},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1},
            "took_ms": {"type": "number", "minimum": 0},
            "hits": {"type": "array", "items": _ref("Hit")},
            "facets": {
                "type": "object",
                "description": "Counts over every match, most frequent first (years newest "
                               "first); `month` only when one year is filtered.",
                "required": ["section", "author", "year"],
                "properties": {name: facet_list for name in ("section", "author", "year",
                                                              "month")},
                "additionalProperties": facet_list,
            },
            "suggestion": {**_NULLABLE_TEXT, "description":
                           "A corrected query when words look misspelt."},
            "corrected": {"type": "boolean", "description":
                          "True when nothing matched the query and `hits` are those of "
                          "`suggestion`."},
            "timeline": {**facet_list, "description":
                         "Matches per year, oldest first, years without any included; per "
                         "month (`2024-01`…`2024-12`) when one year is filtered."},
            "synonyms": {**text_list, "description":
                         "What the site's synonyms added to the query (also searched), "
                         "as the editors wrote it; empty when none applied."},
            "pinned": {**text_list, "description":
                       "Ids of the hits the site's editors put first for this query."},
        }, "One page of results."),
        "Article": _obj({
            "id": {"type": "string"},
            "url": _NULLABLE_TEXT,
            "title": {"type": "string"},
            "lead": {"type": "string"},
            "body": {"type": "string", "description":
                     "Plain text; paragraphs separated by a blank line."},
            "published": _NULLABLE_TEXT,
            "modified": _NULLABLE_TEXT,
            "section": _NULLABLE_TEXT,
            "authors": text_list,
            "tags": text_list,
            "lang": _NULLABLE_TEXT,
        }, "A whole article."),
        "Related": _obj({"id": {"type": "string"},
                         "hits": {"type": "array", "items": _ref("Hit")}}),
        "Click": _obj({
            "q": {"type": "string", "maxLength": 1000, "description": "The query."},
            "id": {"type": "string", "minLength": 1, "maxLength": 2000},
            "position": {"type": "integer", "minimum": 1, "maximum": 100000},
        }, "A result opened from a page of results."),
        "Health": _obj({
            "status": {"type": "string", "enum": ["ok"]},
            "documents": {"type": "integer", "minimum": 0},
            "generation": {"type": "string", "description":
                           "Changes whenever the index changes."},
            "last_update": {"type": ["string", "null"], "description": "ISO 8601, UTC."},
        }),
        "Suggestions": {
            "type": "array",
            "description": (
                "OpenSearch suggestions: the text typed, the completions, their descriptions "
                "(\"Article\" for an article's title, else empty) and addresses (an "
                "article's page, or the search for the words); then an object whose "
                "`furet:kinds` says of each completion whether it is a `word` to search for "
                "or an `article` to open, as Chrome's suggest format adds its types."),
            # Not prefixItems: some OpenAPI tools still read `items` the draft-4 way.
            "items": {"anyOf": [{"type": "string"}, text_list, {
                "type": "object", "required": ["furet:kinds"], "properties": {
                    "furet:kinds": {"type": "array", "items": {
                        "type": "string", "enum": ["word", "article"]}}}}]},
            "minItems": 2,
            "maxItems": 5,
        },
        "Error": _obj({"error": _obj({
            "code": {"type": "string", "enum": list(ERROR_CODES)},
            "message": {"type": "string", "description":
                        "What went wrong and what to do, in English."},
            "field": {**_NULLABLE_TEXT, "description": "The parameter at fault, if any."},
        })}),
    }


def _error(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {"description": description,
                                "content": {"application/json": {"schema": _ref("Error")}}}
    if headers:
        response["headers"] = headers
    return response


def _responses() -> dict[str, Any]:
    retry = {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "string"}}}
    return {
        "NotModified": {"description": "The client's copy (If-None-Match) is current."},
        "BadRequest": _error("A parameter is invalid or too long (`field` names it)."),
        "NotFound": _error("No such article or endpoint."),
        "UriTooLong": _error("The address is longer than 8000 bytes."),
        "RateLimited": _error("Too many requests from this address.", retry),
        "Unavailable": _error("No index has been built yet, or it cannot be read.", retry),
        "Timeout": _error("The search took longer than the server's FURET_SEARCH_TIMEOUT "
                          "and was stopped (`search_timeout`): fewer words or shorter "
                          "phrases will do."),
    }


def _param(name: str, schema: dict[str, Any], description: str, *,
           where: str = "query", required: bool = False) -> dict[str, Any]:
    param: dict[str, Any] = {"name": name, "in": where, "required": required,
                             "description": description, "schema": schema}
    if schema.get("type") == "array":
        param.update(style="form", explode=True)
    return param


def _parameters() -> dict[str, Any]:
    many = {"type": "array", "maxItems": 20,
            "items": {"type": "string", "minLength": 1, "maxLength": 200}}
    return {
        "q": _param("q", {"type": "string", "maxLength": MAX_QUERY_CHARS},
                    "The query, in the syntax of the site's help page (/aide): words, "
                    "\"phrases\", -exclusions, OR, prefix*, titre:, auteur:, rubrique:, "
                    "depuis:, avant:. Empty: every article, newest first."),
        "suggestQ": _param("q", {"type": "string", "maxLength": 200},
                           "What is being typed (empty: no completions)."),
        "page": _param("page", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE,
                                "default": 1}, "Page of results."),
        "per_page": _param("per_page", {"type": "integer", "minimum": 1,
                                        "maximum": MAX_PER_PAGE},
                           "Results per page (default: the site's FURET_PER_PAGE, 10)."),
        "sort": _param("sort", {"type": "string", "enum": list(SORTS),
                                "default": "relevance"}, "Order of the results."),
        "section": _param("section", many, "Only these sections (exact facet values; "
                          "several: any of them)."),
        "author": _param("author", many, "Only these authors (exact facet values)."),
        "year": _param("year", {"type": "array", "maxItems": 20,
                                "items": {"type": "integer", "minimum": 1000,
                                          "maximum": 9999}},
                       "Only articles published these years."),
        "month": _param("month", {"type": "array", "maxItems": 20,
                                  "items": {"type": "string", "pattern": _MONTH}},
                        "Only these months (YYYY-MM, as in the `month` facet)."),
        "from": _param("from", {"type": "string", "pattern": _DAY},
                       "Published on or after this day (YYYY, YYYY-MM or YYYY-MM-DD)."),
        "to": _param("to", {"type": "string", "pattern": _DAY},
                     "Published on or before this day (YYYY, YYYY-MM or YYYY-MM-DD; a year "
                     "or month includes all of it)."),
        "id": _param("id", {"type": "string", "minLength": 1},
                     "Article id, percent-encoded (ids may contain / and :).",
                     where="path", required=True),
    }


def _ok(schema: str, description: str, media: str = "application/json") -> dict[str, Any]:
    return {"description": description,
            "headers": {"ETag": {"schema": {"type": "string"}},
                        "Cache-Control": {"schema": {"type": "string"}}},
            "content": {media: {"schema": _ref(schema)}}}


def _get(summary: str, operation_id: str, ok: dict[str, Any], params: list[str],
         errors: list[str], description: str = "") -> dict[str, Any]:
    responses: dict[str, Any] = {"200": ok}
    if "304" in errors:
        responses["304"] = {"$ref": "#/components/responses/NotModified"}
    names = {"400": "BadRequest", "404": "NotFound", "414": "UriTooLong",
             "429": "RateLimited", "503": "Unavailable", "504": "Timeout"}
    for status in ("400", "404", "414", "429", "503", "504"):
        if status in errors:
            responses[status] = {"$ref": f"#/components/responses/{names[status]}"}
    operation: dict[str, Any] = {
        "summary": summary, "operationId": operation_id,
        "parameters": [{"$ref": f"#/components/parameters/{p}"} for p in params],
        "responses": responses,
    }
    if description:
        operation["description"] = description
    return {"get": operation}


def openapi_document(*, server: str) -> dict[str, Any]:
    """The OpenAPI 3.1 description of the API served at `server`."""
    common = ["304", "400", "414", "429", "503"]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Furet API",
            "version": f"1 ({__version__})",
            "description": (
                "Full-text search over a French news archive. Read-only (but for counting "
                "the results readers open), JSON, CORS-enabled. "
                "Every answer but /health carries an ETag (send it back in If-None-Match to "
                "get a 304). Errors are `{\"error\": {\"code\", \"message\", \"field\"}}` "
                "with a matching HTTP status; 503 `index_unavailable` means no index has "
                "been built yet (or it cannot be read), 504 `search_timeout` that the "
                "search took too long and was stopped."),
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "servers": [{"url": server}],
        "paths": {
            "/search": _get("Search the articles", "search",
                            _ok("Results", "One page of results."),
                            ["q", "page", "per_page", "sort", "section", "author", "year",
                             "month", "from", "to"], [*common, "504"]),
            "/suggest": _get("Complete what is being typed", "suggest",
                             _ok("Suggestions", "The text and its completions (words or "
                                 "titles).", "application/x-suggestions+json"),
                             ["suggestQ"], [*common, "504"]),
            "/articles/{id}": _get("One whole article", "getArticle",
                                   _ok("Article", "The article."), ["id"],
                                   [*common, "404"]),
            "/articles/{id}/related": _get("Articles like this one", "relatedArticles",
                                           _ok("Related", "Up to 5 similar articles."),
                                           ["id"], [*common, "404", "504"]),
            "/health": _get("Is the index searchable?", "health",
                            {"description": "The index is searchable.",
                             "content": {"application/json": {"schema": _ref("Health")}}},
                            [], ["503"]),
            "/clicks": {"post": {
                "summary": "A result a reader opened", "operationId": "click",
                "description": ("Sent by the results page (navigator.sendBeacon): the query "
                                "as the results show it, the article's id and its position "
                                "(from 1, across pages). Nothing about the reader is read "
                                "or kept."),
                "requestBody": {"required": True, "content": {
                    media: {"schema": _ref("Click")}
                    for media in ("application/json", "text/plain")}},
                "responses": {"204": {"description": "Counted."},
                              "400": {"$ref": "#/components/responses/BadRequest"},
                              "413": {"$ref": "#/components/responses/BadRequest"},
                              "429": {"$ref": "#/components/responses/RateLimited"}}}},
            "/openapi.json": _get("This document", "openapi",
                                  {"description": "The OpenAPI document.",
                                   "content": {"application/json": {
                                       "schema": {"type": "object"}}}},
                                  [], ["304", "429"]),
        },
        "components": {
            "schemas": _schemas(),
            "responses": _responses(),
            "parameters": _parameters(),
        },
    }
