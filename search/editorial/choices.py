"""What every search obeys: the editors' synonyms, pinned and hidden articles, as one
process last read them.

- Pinned: for a query (matched after folding and analysis, as synonyms are), articles shown
  first on the first page of results sorted by relevance, optionally until a date.
- Hidden: articles never shown; the search leaves them out itself (SearchRequest.hidden),
  so totals, facets and the timeline never count them.

Each process keeps what it read, and reads it again when the store's version changes
(checked at most once a second): a change reaches every worker without a restart.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime

from search.editorial.store import EditorialStore
from search.synonyms import Rule, Synonyms, entry_key, parse_rules

__all__ = ["Editorial", "EditorialCache", "load_rules", "pin_key"]

log = logging.getLogger(__name__)


def pin_key(query: str) -> str:
    """What a query is matched by: its stems, as the index analyses it."""
    return " ".join(entry_key(query))


def load_rules(store: EditorialStore) -> list[Rule]:
    """The synonym rules as stored (checked when they were written)."""
    if not store.exists():
        return []
    with store.connect() as db:
        text = "".join(row[0] + "\n" for row in
                       db.execute("SELECT rule FROM synonyms ORDER BY line"))
    return parse_rules(text)


@dataclass(frozen=True)
class Editorial:
    """What editors decided, as one process last read it."""

    version: str = ""
    synonyms: Synonyms | None = None
    pins: dict[str, list[tuple[str, str | None]]] = field(default_factory=dict)
    hidden: frozenset[str] = frozenset()

    def pinned(self, query: str, today: date | None = None) -> list[str]:
        """Ids pinned for this query today, in their order."""
        if not self.pins or not query.strip():
            return []
        day = (today or datetime.now(UTC).date()).isoformat()
        return [i for i, until in self.pins.get(pin_key(query), [])
                if (until is None or until >= day) and i not in self.hidden]


def _load(store: EditorialStore, version: str) -> Editorial:
    if not store.exists():
        return Editorial(version)
    rules = load_rules(store)
    pins: dict[str, list[tuple[str, str | None]]] = {}
    with store.connect() as db:
        for key, article_id, until in db.execute(
                "SELECT key, article_id, until FROM pins ORDER BY key, position"):
            pins.setdefault(key, []).append((article_id, until))
        hidden = frozenset(r[0] for r in db.execute("SELECT article_id FROM hidden"))
    return Editorial(version, Synonyms(rules) if rules else None, pins, hidden)


class EditorialCache:
    """This process's copy of the editors' choices, read again when they change."""

    def __init__(self, store: EditorialStore) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._current = Editorial(version="\0")

    def current(self) -> Editorial:
        version = self.store.version()
        if version == self._current.version:
            return self._current
        with self._lock:
            if version != self._current.version:
                try:
                    self._current = _load(self.store, version)
                except Exception as err:  # noqa: BLE001  (searches go on)
                    # What was read before stays (hidden articles stay hidden) until the
                    # next change.
                    log.warning("the editors' choices in %s cannot be read (%s); searching "
                                "with those read before", self.store.describe(), err)
                    self._current = replace(self._current, version=version)
        return self._current
