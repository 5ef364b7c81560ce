"""A period's per-query sums, fast: the past days summed once a day, today added each time.

A report needs, per query, its sums over the period's days (web/rollups.py keeps them per
query and day). Summing 90 days of a busy log takes about a second; so the sums of the
period's past days (all but today, which no search changes any more) are kept in
`period_cache` and made again only when the day changes, and each report adds today's.

Each table of a report wants its first rows in one order (most searched, most failed…).
Those of the whole period are among the first rows of the past days' sums in that order
(the queries not searched today) and the queries searched or clicked today; so the
temporary table `period` gathers only those, and totals are summed apart.
"""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta

__all__ = ["ORDERS", "build_period", "period_totals"]

# Each table: which queries, in which order (over `period` and over `period_cache`).
ORDERS = {
    "top_queries": ("1", "n DESC, query"),
    "zero_result_queries": ("zero > 0", "zero DESC, query"),
    "no_click_queries": ("html > 0 AND clicks = 0", "html DESC, query"),
    "slowest_queries": ("1", "max_ms DESC, query"),
    "clicked_queries": ("clicks > 0", "clicks DESC, query"),
}
_FIGURES = ("query, n, zero, last_seen, last_zero, corrected, max_ms, total_ms, html, hits, "
            "clicks, positions")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS period_cache (
    days INTEGER NOT NULL, key TEXT NOT NULL, query TEXT NOT NULL, n INTEGER NOT NULL,
    zero INTEGER NOT NULL, last_seen TEXT NOT NULL, last_zero TEXT NOT NULL,
    corrected INTEGER NOT NULL, max_ms REAL NOT NULL, total_ms REAL NOT NULL,
    html INTEGER NOT NULL, hits INTEGER NOT NULL, clicks INTEGER NOT NULL,
    positions INTEGER NOT NULL, PRIMARY KEY (days, key)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS period_cache_n ON period_cache (days, n);
CREATE INDEX IF NOT EXISTS period_cache_zero ON period_cache (days, zero);
CREATE INDEX IF NOT EXISTS period_cache_html ON period_cache (days, clicks, html);
CREATE INDEX IF NOT EXISTS period_cache_ms ON period_cache (days, max_ms);
CREATE INDEX IF NOT EXISTS period_cache_clicks ON period_cache (days, clicks);
CREATE TABLE IF NOT EXISTS period_state (days INTEGER PRIMARY KEY, through TEXT NOT NULL);
"""
_SUMS = """
SELECT q.key AS key, min(q.query) AS query, sum(q.n) AS n, sum(q.zero) AS zero,
       max(q.last_seen) AS last_seen, coalesce(max(q.last_zero), '') AS last_zero,
       sum(q.corrected) AS corrected, max(q.max_ms) AS max_ms, sum(q.total_ms) AS total_ms,
       sum(q.html) AS html, max(q.hits) AS hits, 0 AS clicks, 0 AS positions
FROM query_days q WHERE q.day >= :since AND q.day <= :until GROUP BY q.key
"""
_CLICKS = """
UPDATE {table} SET clicks = c.n, positions = c.positions
FROM (SELECT key, sum(n) AS n, sum(positions) AS positions FROM click_days
      WHERE day >= :since AND day <= :until GROUP BY key) AS c
WHERE {table}.key = c.key {also}
"""
_MERGED = """
CREATE TEMP TABLE period AS
SELECT t.key AS key, coalesce(p.query, t.query) AS query,
       coalesce(p.n, 0) + t.n AS n, coalesce(p.zero, 0) + t.zero AS zero,
       coalesce(max(p.last_seen, t.last_seen), t.last_seen) AS last_seen,
       coalesce(max(p.last_zero, t.last_zero), t.last_zero) AS last_zero,
       coalesce(p.corrected, 0) + t.corrected AS corrected,
       coalesce(max(p.max_ms, t.max_ms), t.max_ms) AS max_ms,
       coalesce(p.total_ms, 0) + t.total_ms AS total_ms, coalesce(p.html, 0) + t.html AS html,
       coalesce(max(p.hits, t.hits), t.hits) AS hits,
       coalesce(p.clicks, 0) + t.clicks AS clicks,
       coalesce(p.positions, 0) + t.positions AS positions
FROM today t LEFT JOIN period_cache p ON p.days = :days AND p.key = t.key
"""


def _past(db: sqlite3.Connection, days: int, first: date, yesterday: date) -> None:
    """Sum the period's past days into period_cache, unless done already today."""
    row = db.execute("SELECT through FROM period_state WHERE days = ?", (days,)).fetchone()
    if row is not None and row[0] == yesterday.isoformat():
        return
    window = {"since": first.isoformat(), "until": yesterday.isoformat(), "days": days}
    db.execute("BEGIN IMMEDIATE")
    try:
        db.execute("DELETE FROM period_cache WHERE days = ?", (days,))
        db.execute(f"INSERT INTO period_cache SELECT :days, * FROM ({_SUMS})", window)
        db.execute(_CLICKS.format(table="period_cache", also="AND period_cache.days = :days"),
                   window)
        db.execute("INSERT OR REPLACE INTO period_state VALUES (?, ?)",
                   (days, yesterday.isoformat()))
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def build_period(db: sqlite3.Connection, days: int, first: date, today: date,
                 limit: int) -> None:
    """Leave in the temporary table `period` every query a table of the report may show,
    with its sums over the period (`db` writable, isolation_level=None)."""
    db.executescript(_SCHEMA)
    yesterday = today - timedelta(days=1)
    _past(db, days, first, yesterday)
    window = {"since": today.isoformat(), "until": today.isoformat(), "days": days}
    db.execute("PRAGMA temp_store = MEMORY")
    db.execute(f"CREATE TEMP TABLE today AS {_SUMS}", window)
    db.execute("INSERT INTO today SELECT DISTINCT key, key, 0, 0, '', '', 0, 0, 0, 0, 0, 0, "
               "0 FROM click_days WHERE day = :since AND key NOT IN (SELECT key FROM today)",
               window)
    db.execute("CREATE UNIQUE INDEX temp.today_key ON today (key)")
    db.execute(_CLICKS.format(table="today", also=""), window)
    db.execute(_MERGED, window)
    db.execute("CREATE UNIQUE INDEX temp.period_key ON period (key)")
    for where, order in ORDERS.values():
        db.execute(f"INSERT OR IGNORE INTO period SELECT key, {_FIGURES} FROM period_cache "
                   f"WHERE days = :days AND {where} AND key NOT IN (SELECT key FROM today) "
                   f"ORDER BY {order} LIMIT :limit", window | {"limit": limit})


def period_totals(db: sqlite3.Connection, days: int) -> tuple[int, ...]:
    """(searches, failed, corrected, clicks, clickable) over the period `build_period` made."""
    sums = "coalesce(sum(n), 0), coalesce(sum(zero), 0), coalesce(sum(corrected), 0), " \
           "coalesce(sum(clicks), 0), coalesce(sum(html), 0)"
    past = db.execute(f"SELECT {sums} FROM period_cache WHERE days = ?", (days,)).fetchone()
    now = db.execute(f"SELECT {sums} FROM today").fetchone()
    return tuple(a + b for a, b in zip(past, now, strict=True))
