"""Which article addresses the index keeps: the one rule, checked once, at indexing.

An address is kept if it is an absolute http or https URL with a host, of at most
MAX_URL_CHARS characters, holding no character a link would have to escape: no space or
control or invisible formatting character, none of < > " ' ` \\. The site links such an
address as it is, and the API returns it as it is: nothing unsafe reaches either.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

__all__ = ["MAX_URL_CHARS", "url_problem"]

MAX_URL_CHARS = 2_000
_UNSAFE = re.compile(r"[<>\"'`\\]")
_INVISIBLE = frozenset(("Cc", "Cf", "Zs", "Zl", "Zp"))  # controls, formatting, spaces


def url_problem(url: str) -> str | None:
    """Why the index may not keep `url` (see the module docstring), or None if it may."""
    if len(url) > MAX_URL_CHARS:
        return f"longer than {MAX_URL_CHARS:,} characters"
    try:
        parts = urlsplit(url)
        host, _ = parts.hostname, parts.port  # a bad port or IPv6 address raises here
    except ValueError as err:
        return f"not a valid address ({err})"
    if parts.scheme.lower() not in ("http", "https"):
        return "not an http(s) address"
    if not host:
        return "no host (expected http://host/...)"
    unsafe = _UNSAFE.search(url)
    char = unsafe.group() if unsafe else next(
        (c for c in url if unicodedata.category(c) in _INVISIBLE), None)
    if char is not None:
        return f"it holds {char!r}, which a link must percent-encode"
    return None
