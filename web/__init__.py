"""Furet's web site and JSON API: a Flask application built by `create_app`.

Parts: `settings` (the settings table), `views` (French pages, Atom, OpenSearch),
`articles` (the article page), `links` (the pages' addresses), `timeline` (its chart), `api`
(JSON API v1), `openapi` (its description), `params` (request checking), `errors` (the one
error handler), `headers` (security, CORS, ETags), `ratelimit`, `querylog`, `indexes`
(the index, opened after fork), `proxies` (the client address behind a reverse proxy),
`feeds` (XML), `french` (formatting), `serve` and `startup` (furet-serve).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from flask import Flask, url_for

from search import __version__
from search.editorial import EditorialCache
from web.errors import handle_exception
from web.french import (
    format_date,
    format_month,
    format_number,
    french_spaces,
    host_name,
    plural,
)
from web.headers import install_headers
from web.indexes import IndexHolder
from web.proxies import ClientAddressMiddleware
from web.querylog import QueryLog
from web.ratelimit import install_rate_limit
from web.rawbytes import RawBytesMiddleware
from web.settings import SETTINGS, editorial_store, load_settings, query_log_path

__all__ = ["create_app"]

STATIC = Path(__file__).resolve().parent / "static"
STATIC_MAX_AGE = 86400  # static URLs carry a digest of the file (?v=), so this is safe


@cache
def _static_digest(filename: str) -> str:
    try:
        return hashlib.sha256((STATIC / filename).read_bytes()).hexdigest()[:10]
    except OSError:
        return __version__


def static_url(filename: str) -> str:
    """The URL of a static file, changing whenever the file does."""
    return url_for("static", filename=filename, v=_static_digest(filename))


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """The Flask application; `config` overrides settings (INDEX_DIR, …) and Flask config."""
    app = Flask(__name__)
    settings = load_settings(config)
    app.config.update(settings)
    known = {s.key for s in SETTINGS} | {s.name for s in SETTINGS}
    app.config.update({k: v for k, v in (config or {}).items() if k not in known})
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = STATIC_MAX_AGE
    app.config["FINGERPRINT"] = hashlib.sha256(repr(
        (__version__, sorted(settings.items(), key=str),
         [_static_digest(p.name) for p in sorted(STATIC.iterdir())])).encode()).hexdigest()
    app.json.sort_keys = False  # type: ignore[attr-defined]  # keep the documented order
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    # Article ids may be URLs: /api/v1/articles/https://… must keep its double slash.
    app.url_map.merge_slashes = False

    app.extensions["furet.index"] = IndexHolder(settings["INDEX_DIR"],
                                                backend=settings["BACKEND"],
                                                database_url=settings["DATABASE_URL"],
                                                search_timeout=settings["SEARCH_TIMEOUT"])
    log_path = query_log_path(settings)
    if log_path:
        app.extensions["furet.querylog"] = QueryLog(log_path,
                                                    max_rows=settings["QUERY_LOG_ROWS"])

    admin = editorial_store(settings)
    app.extensions["furet.admin"] = admin
    app.extensions["furet.editorial"] = EditorialCache(admin)

    install_headers(app)
    app.register_error_handler(Exception, handle_exception)
    install_rate_limit(app)

    from web.api import bp as api
    from web.articles import bp as articles
    from web.console import bp as console
    from web.views import bp as pages

    app.register_blueprint(pages)
    app.register_blueprint(articles)
    app.register_blueprint(api)
    app.register_blueprint(console)
    app.jinja_env.globals.update(static_url=static_url, site_name=settings["SITE_NAME"])
    app.jinja_env.filters.update(french_date=format_date, french_month=format_month,
                                 french_number=format_number, plural=plural,
                                 french_spaces=french_spaces, host_name=host_name)
    app.wsgi_app = ClientAddressMiddleware(  # type: ignore[method-assign]
        RawBytesMiddleware(app.wsgi_app), settings["TRUSTED_PROXIES"])
    return app
