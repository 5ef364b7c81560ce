"""Editors' changes to pinned and hidden articles (what searches obey: search/editorial/).

- Pinned: for a query (matched after folding and analysis, as synonyms are), articles shown
  first on the first page of results sorted by relevance, labelled « Sélection de la
  rédaction », optionally until a date (included).
- Hidden: an article (a legal takedown, a « droit à l'oubli » request) stays in the archive
  and the index but is never shown: not in results, completions, related articles, feeds,
  the home page or the API search, and its page and `GET /api/v1/articles/<id>` answer 404.
  The search leaves them out itself (SearchRequest.hidden): totals, facets and the timeline
  never count them.

They live in the editors' store (search/editorial/: a SQLite file beside a Whoosh index,
the `furet` schema in PostgreSQL), outside the index's builds, so `furet-index build` and
`update` keep them. Each worker keeps what it read, and reads it again when the store's
version changes (checked at most once a second).
"""

from __future__ import annotations

from datetime import date

from search.editorial import EditorialStore, now_iso, pin_key

__all__ = ["hide", "list_hidden", "list_pins", "pin", "unhide", "unpin"]

MAX_PINS = 10  # articles pinned for one query


def pin(admin: EditorialStore, query: str, ids: list[str], *, until: str | None = None,
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
        db.executemany("INSERT INTO pins (key, query, article_id, position, until) "
                       "VALUES (?, ?, ?, ?, ?)",
                       [(key, query, i, n, until) for n, i in enumerate(dict.fromkeys(ids))])
        admin.changed(db, user, "épinglage", query, before or None,
                      {"articles": ids, "until": until})


def unpin(admin: EditorialStore, query: str, *, user: str) -> int:
    """Unpin everything pinned for `query`; how many articles were."""
    if not admin.exists():
        return 0
    with admin.connect() as db:
        gone = db.execute("DELETE FROM pins WHERE key = ?", (pin_key(query),)).rowcount
        if gone:
            admin.changed(db, user, "épinglage retiré", query)
    return gone


def list_pins(admin: EditorialStore) -> list[dict[str, object]]:
    if not admin.exists():
        return []
    found: dict[str, dict[str, object]] = {}
    with admin.connect() as db:
        for key, query, article_id, until in db.execute(
                "SELECT key, query, article_id, until FROM pins ORDER BY key, position"):
            pinned = found.setdefault(key, {"query": query, "ids": [], "until": until})
            pinned["ids"].append(article_id)  # type: ignore[attr-defined]
    return sorted(found.values(), key=lambda p: str(p["query"]))


def hide(admin: EditorialStore, ids: list[str], *, reason: str, user: str) -> None:
    with admin.connect() as db:
        for article_id in ids:
            db.execute('INSERT INTO hidden (article_id, reason, at, "user") '
                       "VALUES (?, ?, ?, ?) ON CONFLICT (article_id) DO UPDATE SET "
                       "reason = excluded.reason", (article_id, reason, now_iso(), user))
            admin.changed(db, user, "article masqué", article_id, None, {"reason": reason})


def unhide(admin: EditorialStore, ids: list[str], *, user: str) -> list[str]:
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


def list_hidden(admin: EditorialStore) -> list[dict[str, str]]:
    if not admin.exists():
        return []
    with admin.connect() as db:
        return [dict(r) for r in db.execute("SELECT * FROM hidden ORDER BY at DESC")]
