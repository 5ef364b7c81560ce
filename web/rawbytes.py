"""A WSGI middleware that makes odd bytes in the request line harmless.

A request line may carry raw bytes that are not UTF-8 (no browser sends them, a fuzzer
does). Gunicorn refuses them itself; under other servers they would reach Flask and fail
to decode deep inside a view or the error handler. Here the query string's raw bytes are
percent-encoded (Werkzeug then decodes them with replacement characters, like any invalid
%XX), and an undecodable path is replaced by its decodable reading.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote

__all__ = ["RawBytesMiddleware"]

_SAFE = "!$&'()*+,/:;=?@-._~%[]"  # what may stay as it is in a query string


class RawBytesMiddleware:
    """Wraps a WSGI application; see the module docstring."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        query = environ.get("QUERY_STRING", "")
        if not query.isascii():
            raw = query.encode("latin-1", "replace")  # WSGI strings carry bytes as latin-1
            environ["QUERY_STRING"] = quote(raw, safe=_SAFE)
        path = environ.get("PATH_INFO", "")
        if not path.isascii():
            raw = path.encode("latin-1", "replace")
            environ["PATH_INFO"] = raw.decode("utf-8", "replace").encode("utf-8") \
                .decode("latin-1")
        return self.app(environ, start_response)
