"""Editors' choices that every search obeys: synonyms, pinned and hidden articles.

- Pinned: for a query (matched after folding and analysis, as synonyms are), articles shown
  first on the first page of results sorted by relevance, labelled « Sélection de la
  rédaction », optionally until a date (included).
- Hidden: an article (a legal takedown, a « droit à l'oubli » request) stays in the archive
  and the index but is never shown: not in results, completions, related articles, feeds,
  the home page or the API search, and its page and `GET /api/v1/articles/<id>` answer 404.
  The search leaves them out itself (SearchRequest.hidden): totals, facets and the timeline
  never count them.

They live in the console's file (web/admindb.py), outside the index's builds, so `furet-index
build` and `update` keep them. Each worker keeps what it read, and reads it again when the
console's version changes (checked at most once a second).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from search.synonyms import Synonyms, entry_key
from web.admindb import AdminDB, now_iso
from web.synonymstore import load_rules

__all__ = ["Editorial", "EditorialCache", "hide", "list_hidden", "list_pins", "pin",
           "pin_key", "unhide", "unpin"]

log = logging.getLogger(__name__)
MAX_PINS = 10  # articles pinned for one query


def pin_key(query: str) -> str:
    """What a query is matched by: its stems, as the index analyses it."""
    return " ".join(entry_key(query))


@dataclass(frozen=True)
class Editorial:
    """What editors decided, as one worker last read it."""

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


def _load(admin: AdminDB, version: str) -> Editorial:
    rules = load_rules(admin)
    if not admin.exists():
        return Editorial(version)
    pins: dict[str, list[tuple[str, str | None]]] = {}
    with admin.connect() as db:
        for key, article_id, until in db.execute(
                "SELECT key, article_id, until FROM pins ORDER BY key, position"):
            pins.setdefault(key, []).append((article_id, until))
        hidden = frozenset(r[0] for r in db.execute("SELECT article_id FROM hidden"))
    return Editorial(version, Synonyms(rules) if rules else None, pins, hidden)


class EditorialCache:
    """This worker's copy of the editors' choices, read again when they change."""

    def __init__(self, admin: AdminDB) -> None:
        self.admin = admin
        self._lock = threading.Lock()
        self._current = Editorial(version="\0")

    def current(self) -> Editorial:
        version = self.admin.version()
        if version == self._current.version:
            return self._current
        with self._lock:
            if version != self._current.version:
                try:
                    self._current = _load(self.admin, version)
                except Exception as err:  # noqa: BLE001  (searches go on without them)
                    log.warning("the console's file %s cannot be read (%s); searching "
                                "without synonyms, pins or hidden articles", self.admin.path,
                                err)
                    self._current = Editorial(version)
        return self._current


def pin(admin: AdminDB, query: str, ids: list[str], *, until: str | None = None,
        user: str) -> None:
    """Pin `ids` (in this order) for `query`, replacing what was pinned for it."""
    key = pin_key(query)
    if not key:
        raise ValueError(f"{query!r}: nothing to match (stop words only, or no words)")
    if not 1 <= len(ids) <= MAX_PINS:
        raise ValueError(f"pin 1 to {MAX_PINS} articles for a query")
    if until is not None:
        until = date.fromisoformat(until).isoformat()
    with admin.connect() as db:
        before = [r[0] for r in db.execute("SELECT article_id FROM pins WHERE key = ? "
                                           "ORDER BY position", (key,))]
        db.execute("DELETE FROM pins WHERE key = ?", (key,))
        db.executemany("INSERT INTO pins VALUES (?, ?, ?, ?, ?)",
                       [(key, query, i, n, until) for n, i in enumerate(dict.fromkeys(ids))])
        admin.changed(db, user, "épinglage", query, before or None,
                      {"articles": ids, "until": until})


def unpin(admin: AdminDB, query: str, *, user: str) -> int:
    """Unpin everything pinned for `query`; how many articles were."""
    if not admin.exists():
        return 0
    with admin.connect() as db:
        gone = db.execute("DELETE FROM pins WHERE key = ?", (pin_key(query),)).rowcount
        if gone:
            admin.changed(db, user, "épinglage retiré", query)
    return gone


def list_pins(admin: AdminDB) -> list[dict[str, object]]:
    if not admin.exists():
        return []
    with admin.connect() as db:
        rows = db.execute("SELECT query, group_concat(article_id, char(10)) AS ids, "
                          "max(until) AS until FROM pins GROUP BY key ORDER BY query")
        return [{"query": r["query"], "ids": r["ids"].split("\n"), "until": r["until"]}
                for r in rows]


def hide(admin: AdminDB, ids: list[str], *, reason: str, user: str) -> None:
    with admin.connect() as db:
        for article_id in ids:
            db.execute("INSERT INTO hidden VALUES (?, ?, ?, ?) ON CONFLICT (article_id) DO "
                       "UPDATE SET reason = excluded.reason", (article_id, reason, now_iso(),
                                                               user))
            admin.changed(db, user, "article masqué", article_id, None, {"reason": reason})


def unhide(admin: AdminDB, ids: list[str], *, user: str) -> list[str]:
    """Show these articles again; those that were hidden."""
    if not admin.exists():
        return []
    shown = []
    with admin.connect() as db:
        for article_id in ids:
            if db.execute("DELETE FROM hidden WHERE article_id = ?", (article_id,)).rowcount:
                shown.append(article_id)
                admin.changed(db, user, "article rétabli", article_id)
    return shown


def list_hidden(admin: AdminDB) -> list[dict[str, str]]:
    if not admin.exists():
        return []
    with admin.connect() as db:
        return [dict(r) for r in db.execute("SELECT * FROM hidden ORDER BY at DESC")]
