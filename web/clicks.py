"""A click on a result, as the results page's script sends it: checked before it is logged.

The body is JSON, `{"q": "the query", "id": "article id", "position": 3}` (position from 1
across pages), sent as text/plain or application/json by `navigator.sendBeacon`. Nothing
else is read: no cookie, no address, no identifier of the reader.
"""

from __future__ import annotations

import json
from typing import Any

from search.errors import QueryError
from search.query import MAX_QUERY_CHARS, parse_query
from search.request import MAX_PAGE, MAX_PER_PAGE
from web.errors import WebError

__all__ = ["MAX_ID_CHARS", "read_click"]

MAX_ID_CHARS = 2000  # article ids may be URLs
MAX_POSITION = MAX_PAGE * MAX_PER_PAGE


def _refuse(message: str, field: str | None = None) -> WebError:
    return WebError(400, "invalid_parameter", message, field=field)


def read_click(body: str) -> dict[str, Any]:
    """{"query", "article_id", "position"} from a click's JSON body (WebError if wrong)."""
    try:
        data = json.loads(body)
    except ValueError:
        raise _refuse('expected a JSON object {"q": …, "id": …, "position": …}') from None
    if not isinstance(data, dict):
        raise _refuse('expected a JSON object {"q": …, "id": …, "position": …}')
    query, article_id, position = data.get("q"), data.get("id"), data.get("position")
    if not isinstance(query, str) or len(query) > MAX_QUERY_CHARS:
        raise _refuse(f"q: expected the query, at most {MAX_QUERY_CHARS} characters", "q")
    if not isinstance(article_id, str) or not article_id.strip() \
            or len(article_id) > MAX_ID_CHARS or "\x00" in article_id:
        raise _refuse(f"id: expected an article id of 1 to {MAX_ID_CHARS} characters", "id")
    if isinstance(position, bool) or not isinstance(position, int) \
            or not 1 <= position <= MAX_POSITION:
        raise _refuse(f"position: expected a whole number from 1 to {MAX_POSITION}",
                      "position")
    try:  # the page sends the normalised query; normalising it again keeps it as searched
        query = parse_query(query).text()
    except QueryError:
        raise _refuse("q: expected the query as the results page shows it", "q") from None
    return {"query": query, "article_id": article_id, "position": position}
