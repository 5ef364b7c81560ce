"""Daily sums of the query log, kept beside it so that reports never read every search.

    query_days(day, key, query, n, zero, last_seen, last_zero, corrected, max_ms,
               total_ms, html, hits)
    click_days(day, key, n, positions)

`key` is the query with case left aside (Python's casefold, accents kept), so that
« État » and « état » are counted as one query. The sums are stored in key order, so that a
report sums each query's days as it reads them, without sorting.
    rollup_state(name, last_id)

Each report first adds the searches and clicks logged since the last one (one short write
transaction, so two workers never count a row twice), then reads the sums of its days: a
log of a million searches is summed once, and a 90-day report reads one row per query and
day. Only what analytics counts is summed (first pages of typed queries from the pages and
the API); days older than KEEP_DAYS are dropped, as the log drops its oldest rows.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

__all__ = ["KEEP_DAYS", "query_key", "roll_up"]

KEEP_DAYS = 200  # the longest period (90 days) and the one before it, with a margin

_SCHEMA = """
CREATE TABLE IF NOT EXISTS query_days (
    day TEXT NOT NULL, key TEXT NOT NULL, query TEXT NOT NULL, n INTEGER NOT NULL,
    zero INTEGER NOT NULL,
    last_seen TEXT NOT NULL, last_zero TEXT, corrected INTEGER NOT NULL,
    max_ms REAL NOT NULL, total_ms REAL NOT NULL, html INTEGER NOT NULL,
    hits INTEGER NOT NULL, PRIMARY KEY (key, day)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS click_days (
    day TEXT NOT NULL, key TEXT NOT NULL, n INTEGER NOT NULL, positions INTEGER NOT NULL,
    PRIMARY KEY (key, day)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rollup_state (name TEXT PRIMARY KEY, last_id INTEGER NOT NULL);
"""

_SEARCHES = """
INSERT INTO query_days
SELECT substr(at, 1, 10), furet_key(query), min(query), count(*), sum(hits = 0), max(at),
       max(CASE WHEN hits = 0 THEN at END), sum(corrected), max(took_ms), sum(took_ms),
       sum(source = 'html' AND hits > 0), max(hits)
FROM searches
WHERE id > :last AND id <= :upto AND page = 1 AND query <> '' AND source IN ('html', 'api')
GROUP BY 1, 2
ON CONFLICT (day, key) DO UPDATE SET
    n = n + excluded.n, zero = zero + excluded.zero,
    last_seen = max(last_seen, excluded.last_seen),
    last_zero = coalesce(max(last_zero, excluded.last_zero), last_zero, excluded.last_zero),
    corrected = corrected + excluded.corrected, max_ms = max(max_ms, excluded.max_ms),
    total_ms = total_ms + excluded.total_ms, html = html + excluded.html,
    hits = max(hits, excluded.hits)
"""

_CLICKS = """
INSERT INTO click_days
SELECT substr(at, 1, 10), furet_key(query), count(*), sum(position) FROM clicks
WHERE id > :last AND id <= :upto GROUP BY 1, 2
ON CONFLICT (day, key) DO UPDATE SET
    n = n + excluded.n, positions = positions + excluded.positions
"""


def query_key(query: str) -> str:
    """What queries are grouped by: the query with case left aside."""
    return query.casefold()


def _has(db: sqlite3.Connection, table: str) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                      (table,)).fetchone() is not None


def roll_up(db: sqlite3.Connection, *, now: datetime | None = None) -> None:
    """Add what was logged since the last roll-up to the daily sums (`db` opened with
    isolation_level=None, writable)."""
    db.executescript(_SCHEMA)
    db.create_function("furet_key", 1, query_key, deterministic=True)
    moment = now or datetime.now(UTC)
    oldest = (moment - timedelta(days=KEEP_DAYS)).date().isoformat()
    today = moment.date().isoformat()
    db.execute("BEGIN IMMEDIATE")
    try:
        for table, statement in (("searches", _SEARCHES), ("clicks", _CLICKS)):
            if not _has(db, table):
                continue
            row = db.execute("SELECT last_id FROM rollup_state WHERE name = ?",
                             (table,)).fetchone()
            last = row[0] if row else 0
            upto = db.execute(f"SELECT coalesce(max(id), 0) FROM {table}").fetchone()[0]
            if upto < last:  # the log was emptied or replaced: sum it again
                last = 0
                db.execute(f"DELETE FROM {'query_days' if table == 'searches' else 'click_days'}")
                if _has(db, "period_state"):
                    db.execute("DELETE FROM period_state")
            if upto > last:
                first = db.execute(f"SELECT min(at) FROM {table} WHERE id > ? AND id <= ?",
                                   (last, upto)).fetchone()[0] or ""
                if first[:10] < today and _has(db, "period_state"):
                    db.execute("DELETE FROM period_state")  # past days' sums change
                db.execute(statement, {"last": last, "upto": upto})
            db.execute("INSERT OR REPLACE INTO rollup_state VALUES (?, ?)", (table, upto))
        db.execute("DELETE FROM query_days WHERE day < ?", (oldest,))
        db.execute("DELETE FROM click_days WHERE day < ?", (oldest,))
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
