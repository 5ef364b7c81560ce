"""Rate limiting of the JSON API (Flask-Limiter), per client address and worker.

Two budgets: FURET_RATELIMIT for the API's searches, articles and documents, and
FURET_SUGGEST_RATELIMIT for suggestions, which readers send as they type (the site's own
search field would otherwise use up the budget of its searches). Health checks, pages,
static files and CORS preflights are never counted: a load balancer's checks must not be
refused. Counts live in each worker's memory, so with N workers a client may get up to N
times the limit: the aim is to stop runaway scripts, not to meter. The client address is
the connection's, or, from a trusted reverse proxy, the one it forwards (web/proxies.py).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, request
from flask_limiter import ApplicationLimit, Limiter
from flask_limiter.util import get_remote_address

__all__ = ["install_rate_limit", "SUGGEST_PATH", "UNCOUNTED_PATHS"]

SUGGEST_PATH = "/api/v1/suggest"
UNCOUNTED_PATHS = frozenset({"/api/v1/health"})


def _counted() -> bool:
    return request.path.startswith("/api/") and request.method != "OPTIONS" \
        and request.path not in UNCOUNTED_PATHS


def _not_api() -> bool:
    return not _counted() or request.path == SUGGEST_PATH


def _not_suggest() -> bool:
    return not _counted() or request.path != SUGGEST_PATH


def _budget(rate: str, scope: str, exempt: Callable[[], bool]) -> ApplicationLimit:
    return ApplicationLimit(rate, scope=scope, exempt_when=exempt)


def install_rate_limit(app: Flask) -> Limiter | None:
    """Limit /api/ to app.config["RATELIMIT"] and suggestions to SUGGEST_RATELIMIT ("" turns
    either off)."""
    budgets = []
    if app.config["RATELIMIT"]:
        budgets.append(_budget(app.config["RATELIMIT"], "api", _not_api))
    if app.config["SUGGEST_RATELIMIT"]:
        budgets.append(_budget(app.config["SUGGEST_RATELIMIT"], "suggest", _not_suggest))
    if not budgets:
        return None
    return Limiter(
        get_remote_address,
        app=app,
        application_limits=budgets,
        storage_uri="memory://",
        headers_enabled=True,
    )
