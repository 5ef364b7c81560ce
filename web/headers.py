"""HTTP around every response: security headers, CORS on /api/, size limits, ETags and 304s.

ETags come from the index generation, the app's own fingerprint (version, settings) and
the normalised request, so a cron update or a new release changes them, and a browser
or proxy asking again with If-None-Match gets a bodiless 304.
"""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Flask, Response, current_app, g, request

from web.errors import WebError

__all__ = ["ADMIN_BODY_BYTES", "CSP", "MAX_URL_BYTES", "install_headers", "etag_for",
           "not_modified", "cacheable", "host_allowed", "public_base_url"]

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
MAX_URL_BYTES = 8000  # path and query string; gunicorn refuses request lines over 8190
MAX_BODY_BYTES = 16 * 1024  # the clicks endpoint's bodies are small; this bounds them
ADMIN_BODY_BYTES = 2 * 1024 * 1024  # the console's forms: a synonyms file sent whole
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def install_headers(app: Flask) -> None:
    """Register the request checks and response headers on `app`."""
    app.config.setdefault("MAX_CONTENT_LENGTH", MAX_BODY_BYTES)
    app.before_request(_check_request)
    app.after_request(_add_headers)


def _name_and_port(host: str) -> tuple[str, str]:
    host = host.strip().lower()
    if host.startswith("["):  # [::1]:8000
        name, _, rest = host.partition("]")
        return name + "]", rest.removeprefix(":")
    name, _, port = host.partition(":")
    return name.rstrip("."), port


def host_allowed(host: str, allowed: tuple[str, ...]) -> bool:
    """Whether `host` (a Host header, maybe with a port) is one of `allowed` (empty: any);
    `.example.org` allows the domain and its subdomains, an entry without a port any port."""
    if not allowed:
        return True
    name, port = _name_and_port(host)
    for entry in allowed:
        entry_name, entry_port = _name_and_port(entry)
        if entry_port and entry_port != port:
            continue
        if name == entry_name.lstrip(".") or (entry_name.startswith(".")
                                               and name.endswith(entry_name)):
            return True
    return False


def public_base_url() -> str:
    """The site's address for absolute links: FURET_BASE_URL, else this request's host
    (then the answer depends on Host, and says so with Vary: Host)."""
    if current_app.config["BASE_URL"]:
        return str(current_app.config["BASE_URL"])
    g.furet_vary_host = True
    return request.host_url.rstrip("/")


def _check_request() -> None:
    allowed = current_app.config["ALLOWED_HOSTS"]
    if allowed and request.path != "/api/v1/health" and not host_allowed(request.host,
                                                                          allowed):
        raise WebError(400, "invalid_host", f"this site does not answer to the host "
                       f"{request.host[:100]!r}; use {allowed[0].lstrip('.')}",
                       french="Ce site ne répond pas à l’adresse demandée.")
    size = len(request.environ.get("PATH_INFO", "").encode("utf-8", "surrogateescape")) \
        + len(request.environ.get("QUERY_STRING", ""))
    if size > MAX_URL_BYTES:
        raise WebError(414, "uri_too_long",
                       f"the address is {size:,} bytes long; the limit is {MAX_URL_BYTES:,}")
    limit = ADMIN_BODY_BYTES if request.path.startswith("/admin/") else MAX_BODY_BYTES
    if request.content_length and request.content_length > limit:
        raise WebError(413, "too_large",
                       f"the request body is {request.content_length:,} bytes; the limit is "
                       f"{limit:,}")


def _add_headers(response: Response) -> Response:
    headers = response.headers
    if g.get("furet_vary_host"):
        response.vary.add("Host")
    if response.status_code < 400:
        headers.pop("Retry-After", None)  # Flask-Limiter adds it to every answer
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.path.startswith("/api/"):
        headers["Access-Control-Allow-Origin"] = "*"
        headers["Access-Control-Expose-Headers"] = (
            "ETag, Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset")
        if request.method == "OPTIONS":
            headers["Access-Control-Allow-Methods"] = ", ".join(SAFE_METHODS)
            headers["Access-Control-Allow-Headers"] = "If-None-Match"
            headers["Access-Control-Max-Age"] = "86400"
    return response


def etag_for(*parts: Any) -> str:
    """An ETag value for the index generation, the app fingerprint and `parts`."""
    digest = hashlib.sha256()
    for part in (current_app.config["FINGERPRINT"], *parts):
        digest.update(repr(part).encode("utf-8", "surrogateescape"))
        digest.update(b"\x1f")
    return digest.hexdigest()[:32]


def _cache_headers(response: Response, etag: str, max_age: int | None) -> Response:
    response.set_etag(etag)
    age = current_app.config["CACHE_MAX_AGE"] if max_age is None else max_age
    response.headers["Cache-Control"] = f"public, max-age={age}" if age else "no-cache"
    return response


def not_modified(etag: str, *, max_age: int | None = None) -> Response | None:
    """A 304 response if the client already holds `etag`, else None.

    If-None-Match is compared weakly, as RFC 9110 (13.1.2) requires: a proxy that compresses
    an answer (nginx's gzip) turns its ETag into W/"…", and that weak tag must still match.
    """
    if request.if_none_match and request.if_none_match.contains_weak(etag):
        return _cache_headers(Response(status=304), etag, max_age)
    return None


def cacheable(response: Response, etag: str, *, max_age: int | None = None) -> Response:
    """Mark a successful response as cacheable under `etag`."""
    return _cache_headers(response, etag, max_age)
