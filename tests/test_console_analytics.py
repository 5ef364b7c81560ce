"""What readers searched: the click log, the report over the query log, furet-admin report."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from web.admin import main as admin
from web.analytics import read_report
from web.querylog import QueryLog

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def _log(path: Path, rows: list[tuple]) -> None:
    """Searches (days ago, query, hits[, source, page, took_ms, corrected])."""
    QueryLog(path).record(source="html", query="", filters={}, sort="relevance", page=1,
                          hits=0, took_ms=0, corrected=False)  # creates the tables
    with sqlite3.connect(path) as db:
        for row in rows:
            defaults = ("html", 1, 5.0, 0)[len(row) - 3:]
            days, query, hits, source, page, took, corrected = (*row, *defaults)
            at = (NOW - timedelta(days=days)).isoformat(timespec="milliseconds")
            db.execute("INSERT INTO searches (at, source, query, filters, sort, page, hits, "
                       "took_ms, corrected) VALUES (?, ?, ?, '{}', 'relevance', ?, ?, ?, ?)",
                       (at, source, query, page, hits, took, corrected))


def _click(path: Path, days: float, query: str, position: int) -> None:
    at = (NOW - timedelta(days=days)).isoformat(timespec="milliseconds")
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO clicks (at, query, article_id, position) VALUES (?, ?, 'a', ?)",
                   (at, query, position))


def test_report_counts_first_pages_of_typed_queries(tmp_path):
    path = tmp_path / "q.sqlite"
    _log(path, [(0, "gaza", 3), (1, "Gaza", 4), (2, "gaza", 2, "api"), (1, "gaza", 3, "html", 2),
                (1, "gaza", 3, "atom"), (1, "", 10), (3, "daesh", 0), (3, "daesh", 0),
                (10, "daesh", 0), (20, "haifa", 1), (1, "lent", 1, "html", 1, 900.0, 1)])
    found = read_report(path, 7, now=NOW)
    assert found.searches == 6  # not page 2, not Atom, not browsing, not older than 7 days
    assert found.zero_results == 2
    assert found.corrected_share == round(1 / 6, 4)
    data = found.to_json()
    assert data["top_queries"][0] == {"query": "Gaza", "count": 3, "hits": 4, "clicks": 0,
                                      "click_rate": 0.0, "mean_position": None}
    zero = data["zero_result_queries"]
    assert [(z["query"], z["count"], z["previous_count"], z["trend"]) for z in zero] == [
        ("daesh", 2, 1, "up")]
    assert zero[0]["last_seen"].startswith((NOW - timedelta(days=3)).date().isoformat())
    assert data["slowest_queries"][0]["query"] == "lent"
    assert data["slowest_queries"][0]["max_ms"] == 900.0
    assert [d["day"] for d in data["per_day"]] == [
        (NOW - timedelta(days=n)).date().isoformat() for n in range(6, -1, -1)]
    assert sum(d["searches"] for d in data["per_day"]) == 6
    assert read_report(path, 30, now=NOW).searches == 8


def test_clicks_give_rates_and_positions(tmp_path):
    path = tmp_path / "q.sqlite"
    _log(path, [(0, "gaza", 3), (0, "gaza", 3), (0, "gaza", 3), (0, "gaza", 3),
                (0, "rafah", 2), (0, "rafah", 2)])
    _click(path, 0, "gaza", 1)
    _click(path, 0, "gaza", 3)
    data = read_report(path, 7, now=NOW).to_json()
    gaza = next(q for q in data["top_queries"] if q["query"] == "gaza")
    assert (gaza["clicks"], gaza["click_rate"], gaza["mean_position"]) == (2, 0.5, 2.0)
    assert data["no_click_queries"] == [{"query": "rafah", "count": 2, "hits": 2}]
    assert data["clicks"] == 2 and data["click_rate"] == round(2 / 6, 3)


def test_report_is_summed_once_and_then_grows(tmp_path):
    """The daily sums follow the log: rows logged after a report are added to the next."""
    path = tmp_path / "q.sqlite"
    _log(path, [(0, "gaza", 3)])
    assert read_report(path, 7, now=NOW).searches == 1
    _log(path, [(0, "gaza", 3), (0, "rafah", 0)])
    assert read_report(path, 7, now=NOW).searches == 3
    assert read_report(path, 7, now=NOW).searches == 3  # never counted twice


def test_no_log_is_an_empty_report(tmp_path):
    found = read_report(tmp_path / "none.sqlite", 30, now=NOW)
    assert found.searches == 0 and len(found.per_day) == 30
    assert found.to_json()["top_queries"] == []


def test_click_endpoint_logs_no_reader(app, client):
    client.get("/recherche?q=haifa")
    response = client.post("/api/v1/clicks", data=json.dumps(
        {"q": "haifa", "id": "2024-01-08-haifa", "position": 1}),
        content_type="text/plain;charset=UTF-8", environ_base={"REMOTE_ADDR": "203.0.113.7"},
        headers={"Cookie": "reader=someone", "User-Agent": "Agent/7.7"})
    assert response.status_code == 204
    assert "Set-Cookie" not in response.headers
    path = Path(app.extensions["furet.querylog"].path)
    with sqlite3.connect(path) as db:
        columns = [row[1] for row in db.execute("PRAGMA table_info(clicks)")]
        rows = db.execute("SELECT query, article_id, position FROM clicks").fetchall()
    assert columns == ["id", "at", "query", "article_id", "position"]
    assert rows == [("haifa", "2024-01-08-haifa", 1)]
    raw = path.read_bytes() + b"".join(p.read_bytes() for p in path.parent.glob("q*-wal"))
    assert b"203.0.113.7" not in raw and b"someone" not in raw and b"Agent/7.7" not in raw


@pytest.mark.parametrize("body", [
    "", "not json", "[]", '{"q": "x", "id": "a"}', '{"q": "x", "id": "", "position": 1}',
    '{"q": 3, "id": "a", "position": 1}', '{"q": "x", "id": "a", "position": 0}',
    '{"q": "x", "id": "a", "position": true}', '{"q": "x", "id": "a", "position": "1"}',
    '{"q": "x", "id": "a\\u0000b", "position": 1}', '{"q": "depuis:hier", "id": "a", '
    '"position": 1}', json.dumps({"q": "x" * 2000, "id": "a", "position": 1}),
])
def test_click_endpoint_refuses_bad_bodies(client, body):
    response = client.post("/api/v1/clicks", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_parameter"


def test_click_endpoint_takes_only_post(client):
    assert client.get("/api/v1/clicks").status_code == 405


def test_results_page_marks_positions_for_the_click_script(client):
    soup = BeautifulSoup(client.get("/recherche?q=gaza&page=1").text, "html.parser")
    hits = soup.select_one("ol.hits")
    assert hits["data-query"] == "gaza" and hits["data-clicks"] == "/api/v1/clicks"
    links = soup.select("ol.hits a[data-position]")
    assert [a["data-position"] for a in links] == [str(n) for n in range(1, len(links) + 1)]
    assert all(a["data-id"] for a in links)
    assert any("clicks.js" in s.get("src", "") for s in soup.find_all("script"))


def test_the_click_script_is_progressive(client):
    response = client.get("/static/clicks.js")
    script = response.text
    response.close()
    assert "navigator.sendBeacon" in script and "preventDefault" not in script


def test_report_command(runner, tmp_path):
    path = tmp_path / "q.sqlite"
    today = datetime.now(UTC)
    global NOW
    saved, NOW = NOW, today
    try:
        _log(path, [(0, "gaza", 3), (0, "gaza", 3), (0, "daesh", 0), (0, "<b>x</b>\x1b[31m", 0)])
    finally:
        NOW = saved
    env = {"FURET_QUERY_LOG": str(path)}
    result = runner.invoke(admin, ["report", "--days", "7", "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert "no proposed fixes" in result.stderr  # no index in the current folder
    data = json.loads(result.stdout)
    assert data["top_queries"][0] == {"query": "gaza", "count": 2, "hits": 3, "clicks": 0,
                                      "click_rate": 0.0, "mean_position": None}
    assert {z["query"] for z in data["zero_result_queries"]} == {"daesh", "<b>x</b>\x1b[31m"}
    assert all({"query", "count", "last_seen", "trend"} <= set(z)
               for z in data["zero_result_queries"])
    text = runner.invoke(admin, ["report"], env=env)
    assert text.exit_code == 0
    assert "Recherches sans résultat" in text.output and "daesh" in text.output
    assert "\x1b" not in text.stdout


def test_report_command_usage_errors(runner, tmp_path):
    assert runner.invoke(admin, ["report", "--days", "0"]).exit_code == 2
    result = runner.invoke(admin, ["report"], env={"FURET_QUERY_LOG": ""})
    assert result.exit_code == 2 and "query log is off" in result.output


def test_past_days_are_summed_once_a_day(tmp_path):
    """The period's past days are kept between reports; today's searches are added each
    time, a late row for a past day makes them again, and so does the next day."""
    path = tmp_path / "q.sqlite"
    _log(path, [(1, "gaza", 3), (2, "rafah", 0)])
    assert read_report(path, 7, now=NOW).searches == 2
    _log(path, [(0, "gaza", 3), (0, "nouveau", 0)])
    found = read_report(path, 7, now=NOW).to_json()
    assert found["searches"] == 4
    assert found["top_queries"][0]["query"] == "gaza" and found["top_queries"][0]["count"] == 2
    assert {z["query"] for z in found["zero_result_queries"]} == {"rafah", "nouveau"}
    _log(path, [(3, "tardif", 0)])  # logged late for a past day
    assert read_report(path, 7, now=NOW).searches == 5
    assert read_report(path, 7, now=NOW + timedelta(days=1)).searches == 5
    assert read_report(path, 7, now=NOW + timedelta(days=5)).searches == 3  # days 2, 3 gone
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM period_state").fetchone()[0] == 1
