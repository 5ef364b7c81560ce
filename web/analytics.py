"""What readers searched, read from the query log and its clicks: the console's tables.

A search counts once: first pages only (turning pages is not searching again), typed
queries only (browsing without words is not a search), from the site's pages and the API
(Atom feeds are polled by feed readers, not typed). Queries are grouped as the log holds
them (the normalised query) and then regardless of case. Days are UTC days.

A log of a million rows is never read whole: reports read its daily sums (web/rollups.py),
one row per query and day; the sums of a period's past days are kept from one report to the
next of the same day, and each report adds today's (web/periods.py).
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from web.periods import ORDERS, build_period, period_totals
from web.rollups import query_key, roll_up

__all__ = ["COLUMNS", "PERIODS", "QueryFigures", "Report", "read_report", "table_row"]

PERIODS = (7, 30, 90)  # the console's choices; the command takes any number of days
TABLE_ROWS = 20
_WINDOW = "day >= :since AND day <= :until"


@dataclass
class QueryFigures:
    """Everything known about one query over the period."""

    query: str
    count: int = 0
    zero: int = 0  # searches that found nothing
    last_seen: str = ""
    last_zero: str = ""
    corrected: int = 0
    max_ms: float = 0.0
    total_ms: float = 0.0
    html: int = 0  # searches on the site's pages that found something (clicks are possible)
    hits: int = 0  # the most results it had
    clicks: int = 0
    position_total: int = 0
    previous_zero: int = 0  # searches that found nothing in the period before

    @property
    def trend(self) -> str:
        """new, up, down or same: failed searches against the period before."""
        if not self.previous_zero:
            return "new"
        if self.zero == self.previous_zero:
            return "same"
        return "up" if self.zero > self.previous_zero else "down"

    @property
    def click_rate(self) -> float | None:
        """Clicks per search that could be clicked (None when there was none)."""
        return round(self.clicks / self.html, 3) if self.html else None

    @property
    def mean_position(self) -> float | None:
        return round(self.position_total / self.clicks, 2) if self.clicks else None

    @property
    def mean_ms(self) -> float:
        return round(self.total_ms / self.count, 2) if self.count else 0.0

    def value(self, name: str) -> Any:
        """A figure by name, "count" of a zero-result query being its failed searches."""
        return getattr(self, name)


@dataclass
class Report:
    """The period's figures and tables (see `to_json` for the shape)."""

    days: int
    since: str
    until: str
    searches: int = 0
    zero_results: int = 0
    corrected: int = 0
    clicks: int = 0
    clickable: int = 0
    per_day: list[dict[str, Any]] = field(default_factory=list)
    tables: dict[str, list[QueryFigures]] = field(default_factory=dict)

    @property
    def corrected_share(self) -> float:
        return round(self.corrected / self.searches, 4) if self.searches else 0.0

    @property
    def zero_share(self) -> float:
        return round(self.zero_results / self.searches, 4) if self.searches else 0.0

    @property
    def click_rate(self) -> float | None:
        return round(self.clicks / self.clickable, 3) if self.clickable else None

    def to_json(self) -> dict[str, Any]:
        """The report as JSON-ready data (the shape `furet-admin report --json` prints)."""
        return {
            "days": self.days, "since": self.since, "until": self.until,
            "searches": self.searches, "zero_results": self.zero_results,
            "zero_share": self.zero_share, "corrected_share": self.corrected_share,
            "clicks": self.clicks, "click_rate": self.click_rate,
            "per_day": self.per_day,
        } | {name: [table_row(name, q) for q in rows] for name, rows in self.tables.items()}


# Each table: its columns in the JSON and the CSV, after "query".
COLUMNS = {
    "top_queries": ("count", "hits", "clicks", "click_rate", "mean_position"),
    "zero_result_queries": ("count", "last_seen", "previous_count", "trend"),
    "no_click_queries": ("count", "hits"),
    "slowest_queries": ("count", "max_ms", "mean_ms"),
    "clicked_queries": ("count", "clicks", "click_rate", "mean_position"),
}
def table_row(table: str, q: QueryFigures) -> dict[str, Any]:
    """One row of a table as JSON: the query, then the table's columns."""
    values: dict[str, Any] = {"query": q.query}
    for name in COLUMNS[table]:
        if name == "count":
            values[name] = {"zero_result_queries": q.zero, "no_click_queries": q.html
                            }.get(table, q.count)
        elif name == "last_seen":
            values[name] = q.last_zero or q.last_seen
        elif name == "previous_count":
            values[name] = q.previous_zero
        else:
            values[name] = q.value(name)
    return values


def read_report(path: str | Path | None, days: int, *, now: datetime | None = None,
                limit: int = TABLE_ROWS) -> Report:
    """The report of the last `days` UTC days (today included) from the query log at `path`,
    each table cut at `limit` rows (an empty report when there is no log yet)."""
    today = (now or datetime.now(UTC)).date()
    first = today - timedelta(days=days - 1)
    before = {"since": (first - timedelta(days=days)).isoformat(),
              "until": (first - timedelta(days=1)).isoformat()}
    report = Report(days, first.isoformat(), today.isoformat())
    report.tables = {name: [] for name in COLUMNS}
    if path is None or not Path(path).is_file():
        report.per_day = _days(first, today, {})
        return report
    window = {"since": report.since, "until": report.until}
    with closing(sqlite3.connect(path, timeout=5, isolation_level=None)) as db:
        db.row_factory = sqlite3.Row
        roll_up(db, now=now)
        build_period(db, days, first, today, limit)
        (report.searches, report.zero_results, report.corrected, report.clicks,
         report.clickable) = period_totals(db, days)
        for name, (where, order) in ORDERS.items():
            rows = db.execute(f"SELECT * FROM period WHERE {where} ORDER BY {order} LIMIT ?",
                              (limit,))
            report.tables[name] = [_figures(row) for row in rows]
        zero = report.tables["zero_result_queries"]
        if zero:
            keys = [query_key(q.query) for q in zero]
            previous = dict(db.execute(
                f"SELECT key, sum(zero) FROM query_days WHERE day >= ? AND day <= ? AND key "
                f"IN ({', '.join('?' * len(keys))}) GROUP BY key",
                (before["since"], before["until"], *keys)).fetchall())
            for q in zero:
                q.previous_zero = previous.get(query_key(q.query), 0)
        per_day = {row[0]: {"searches": row[1], "zero_results": row[2]} for row in db.execute(
            "SELECT day, sum(n), sum(zero) FROM query_days WHERE day >= :since AND "
            "day <= :until GROUP BY day", window)}
    report.per_day = _days(first, today, per_day)
    return report


def _figures(row: sqlite3.Row) -> QueryFigures:
    return QueryFigures(
        query=row["query"], count=row["n"], zero=row["zero"], last_seen=row["last_seen"],
        last_zero=row["last_zero"], corrected=row["corrected"], max_ms=row["max_ms"],
        total_ms=row["total_ms"], html=row["html"], hits=row["hits"], clicks=row["clicks"],
        position_total=row["positions"])


def _days(first: date, last: date, counts: dict[str, dict[str, int]]
          ) -> list[dict[str, Any]]:
    """One row per day from `first` to `last`, the empty days included."""
    out = []
    for n in range((last - first).days + 1):
        day = (first + timedelta(days=n)).isoformat()
        out.append({"day": day} | counts.get(day, {"searches": 0, "zero_results": 0}))
    return out

