"""The one error handler: JSON under /api/, a French page elsewhere, tracebacks to the log only.

Every failure becomes a `Problem` (status, code, English message for tools, French text for
readers, the parameter at fault) and is rendered from it, as Datasette's
`handle_exception` does; nothing else in `web/` builds an error response.
"""

from __future__ import annotations

import dataclasses
from http import HTTPStatus
from typing import Any

from flask import Flask, Response, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from search.errors import (
    ArticleNotFoundError,
    ConfigurationError,
    FuretError,
    IndexCorruptError,
    IndexNotFoundError,
    IndexUnreachableError,
    QueryError,
    SearchTimeoutError,
)

__all__ = ["WebError", "Problem", "handle_exception", "raw_error", "wants_json"]


class WebError(Exception):
    """A request Furet refuses, with what to tell a tool (English) and a reader (French)."""

    def __init__(self, status: int, code: str, message: str, *, field: str | None = None,
                 french: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.french = french


@dataclasses.dataclass
class Problem:
    """What went wrong, ready to be rendered as JSON or as a French page."""

    status: int
    code: str
    message: str
    title: str  # French heading of the page
    french: str  # French explanation for a reader
    field: str | None = None
    headers: dict[str, str] = dataclasses.field(default_factory=dict)


# status -> (code, French heading, French explanation)
_HTTP = {
    400: ("invalid_parameter", "Requête incorrecte",
          "L’adresse demandée contient un paramètre incorrect."),
    404: ("not_found", "Page introuvable",
          "Cette page n’existe pas ou plus. Vérifiez l’adresse, ou lancez une recherche."),
    405: ("method_not_allowed", "Méthode non autorisée",
          "Cette adresse ne s’utilise qu’en lecture (GET)."),
    408: ("request_timeout", "Requête trop lente",
          "La requête n’est pas arrivée à temps. Réessayez."),
    413: ("too_large", "Requête trop volumineuse",
          "La requête envoyée dépasse la taille acceptée."),
    414: ("uri_too_long", "Adresse trop longue",
          "L’adresse demandée est trop longue ; raccourcissez la recherche."),
    429: ("rate_limited", "Trop de requêtes",
          "Vous avez envoyé beaucoup de requêtes en peu de temps ; réessayez dans un moment."),
    431: ("too_large", "En-têtes trop volumineux",
          "Les en-têtes de la requête dépassent la taille acceptée."),
    500: ("internal_error", "Erreur interne",
          "Une erreur inattendue s’est produite ; elle a été consignée. Réessayez plus tard."),
    503: ("index_unavailable", "Recherche indisponible",
          "La recherche est momentanément indisponible."),
    504: ("search_timeout", "Recherche trop longue",
          "Cette recherche a demandé trop de temps et a été interrompue. Essayez avec moins "
          "de mots ou des expressions entre guillemets plus courtes."),
}

UNAVAILABLE_FRENCH = ("L’index des articles n’est pas encore construit ou ne peut pas être lu. "
                      "La recherche reviendra d’elle-même dès qu’il sera prêt.")

# What an unavailable index is, for readers and API clients: never the error's own text,
# which names server paths, database hosts and exceptions (the log gets that).
_UNAVAILABLE = {
    IndexUnreachableError: "the index's database cannot be reached",
    IndexNotFoundError: "no index has been built yet",
    IndexCorruptError: "the index cannot be read",
    ConfigurationError: "the server's index settings are wrong",
}


def _unavailable_message(error: FuretError) -> str:
    kind = next((text for cls, text in _UNAVAILABLE.items() if isinstance(error, cls)),
                "the index cannot be used")
    return f"the search is unavailable: {kind}; try again later (the server log says why)"


def wants_json() -> bool:
    """True for API requests, which get JSON errors."""
    return request.path.startswith("/api/")


def describe(error: BaseException) -> Problem:
    """The Problem an exception stands for (any exception: unknown ones are 500s)."""
    if isinstance(error, WebError):
        code, title, french = _HTTP.get(error.status, _HTTP[400])
        return Problem(error.status, error.code, error.message, title,
                       error.french or french, error.field)
    if isinstance(error, IndexNotFoundError | IndexCorruptError | ConfigurationError):
        code, title, _ = _HTTP[503]
        return Problem(503, code, _unavailable_message(error), title, UNAVAILABLE_FRENCH,
                       headers={"Retry-After": "60"})
    if isinstance(error, SearchTimeoutError):
        code, title, french = _HTTP[504]
        return Problem(504, code, str(error), title, french,
                       "q" if "q" in request.args else None)
    if isinstance(error, ArticleNotFoundError):
        code, title, _ = _HTTP[404]
        return Problem(404, code, str(error), "Article introuvable",
                       "Aucun article ne porte cet identifiant dans l’index.")
    if isinstance(error, QueryError):
        code, title, french = _HTTP[400]
        return Problem(400, "invalid_query", str(error), title,
                       "La recherche n’a pas pu être comprise.", error.field or "q")
    if isinstance(error, FuretError):
        code, title, french = _HTTP[500]
        return Problem(500, "internal_error", "the search failed; see the server log", title,
                       french)
    if isinstance(error, HTTPException) and error.code:
        return _http_problem(error)
    code, title, french = _HTTP[500]
    return Problem(500, code, "unexpected error; it has been logged", title, french)


def _http_problem(error: HTTPException) -> Problem:
    status = int(error.code or 500)
    default = ("http_error", error.name, error.name)
    code, title, french = _HTTP.get(status, default)
    headers: dict[str, str] = {}
    if status == 404:
        message = f"nothing at {request.path}"
        if wants_json():
            message += "; the endpoints are listed in /api/v1/openapi.json"
    elif status == 405:
        allowed = sorted(getattr(error, "valid_methods", None) or ["GET", "HEAD", "OPTIONS"])
        headers["Allow"] = ", ".join(allowed)
        message = f"method {request.method} is not allowed on {request.path}; " \
                  f"use {' or '.join(m for m in allowed if m != 'OPTIONS')}"
    elif status == 429:
        message = f"too many requests: the limit is {error.description}; try again later"
        retry = getattr(error, "retry_after", None)
        if retry:
            headers["Retry-After"] = str(retry)
    elif status == 413:
        limit = current_app.config.get("MAX_CONTENT_LENGTH")
        message = f"the request body is larger than {limit:,} bytes" if limit \
            else "the request is too large"
    else:
        message = (error.description or error.name).strip()
    return Problem(status, code, message, title, french, headers=headers)


def handle_exception(error: Exception) -> Response | Any:
    """Render any exception raised while handling a request."""
    problem = describe(error)
    if problem.code == "index_unavailable":
        current_app.logger.warning("index unavailable: %s", error)
    elif problem.code == "search_timeout":
        current_app.logger.warning("%s %s stopped: %s", request.method, request.full_path,
                                   error)
    elif problem.status >= 500 and not isinstance(error, WebError):
        current_app.logger.error("%s %s failed", request.method, request.full_path,
                                 exc_info=error)
    if wants_json():
        body = {"error": {"code": problem.code, "message": problem.message,
                          "field": problem.field}}
        response = jsonify(body)
    else:
        try:
            html = render_template("error.html", problem=problem)
        except Exception:  # a broken template must not hide the original error
            current_app.logger.exception("cannot render the error page")
            html = f"<!doctype html><html lang=fr><title>{problem.status}</title>" \
                   f"<h1>Erreur {problem.status}</h1></html>"
        response = Response(html, mimetype="text/html")
    response.status_code = problem.status
    response.headers.update(problem.headers)
    response.headers["Cache-Control"] = "no-store"
    return response


def raw_error(app: Flask, status: int, code: str, message: str, *, api: bool) -> bytes:
    """A whole HTTP/1.1 error answer (then the connection closes), rendered by the one
    handler with the site's headers: for what furet-serve refuses before the app runs."""
    with app.test_request_context("/api/" if api else "/"):
        response = app.process_response(handle_exception(WebError(status, code, message)))
        body = response.get_data()
    lines = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}"]
    lines += [f"{name}: {value}" for name, value in response.headers.items()
              if name.lower() not in ("content-length", "connection")]
    lines += [f"Content-Length: {len(body)}", "Connection: close"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace") + body
