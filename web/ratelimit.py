"""Rate limiting of the JSON API (Flask-Limiter): FURET_RATELIMIT per client address.

One shared budget for every /api/ endpoint; pages, static files and CORS preflights are not
counted. Counts live in each worker's memory, so with N workers a client may get up to N
times the limit: the aim is to stop runaway scripts, not to meter. The client address is
the connection's; behind a reverse proxy, configure it to pass the real address (gunicorn's
--forwarded-allow-ips) or every client shares the proxy's budget.
"""

from __future__ import annotations

from flask import Flask, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

__all__ = ["install_rate_limit"]


def _exempt() -> bool:
    return not request.path.startswith("/api/") or request.method == "OPTIONS"


def install_rate_limit(app: Flask) -> Limiter | None:
    """Limit /api/ to app.config["RATELIMIT"] ("" turns it off)."""
    rate = app.config["RATELIMIT"]
    if not rate:
        return None
    return Limiter(
        get_remote_address,
        app=app,
        application_limits=[rate],
        application_limits_exempt_when=_exempt,
        storage_uri="memory://",
        headers_enabled=True,
    )
