"""The home page invites a search: the newest articles, the sections with their counts,
and the week's most searched queries once the query log has some."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

from bs4 import BeautifulSoup

from search import open_backend
from web import create_app


def _home(client) -> BeautifulSoup:
    return BeautifulSoup(client.get("/").get_data(as_text=True), "html.parser")


def test_newest_articles_and_sections(client, samples_index):
    page = _home(client)
    backend = open_backend(index_dir=samples_index)
    newest = backend.search("", sort="newest", per_page=6)
    block = page.find("section", class_="home-newest")
    titles = [a.get_text().replace("\u202f", " ") for a in block.select("li.hit > a")]
    assert titles == [hit.title for hit in newest.hits]
    assert all(a["href"].startswith("/article/") for a in block.select("li.hit > a"))
    assert block.find("a", string="Tous les derniers articles")["href"] == "/recherche?tri=recents"
    sections = page.find("section", class_="home-sections").find_all("a")
    expected = newest.facets["section"][:len(sections)]
    assert [(a.contents[0], int(a.find(class_="count").get_text())) for a in sections] == \
        [(fv.value, fv.count) for fv in expected]
    first = client.get(sections[0]["href"]).get_data(as_text=True)
    assert f"{expected[0].count} résultat" in first.replace("\u202f", " ")
    backend.close()


def test_the_weeks_most_searched_queries(app, client):
    assert _home(client).find("section", class_="home-popular") is None  # nothing yet
    for query, times in (("haïfa", 4), ("gaza", 3), ("rafah", 2)):
        for _ in range(times):
            client.get(f"/recherche?q={query}")
    client.get("/recherche?q=haïfa&page=2")  # a page turned is not another search
    for _ in range(5):
        client.get("/api/v1/search?q=climat")  # tools are not readers
        client.get("/recherche?q=zzzqqq")  # nothing found: not shown
    # Another process of the site (the list is reused for a minute in each process):
    other = create_app({"TESTING": True, "INDEX_DIR": app.config["INDEX_DIR"], "RATELIMIT": "",
                        "QUERY_LOG": app.config["QUERY_LOG"]}).test_client()
    popular = _home(other).find("section", class_="home-popular")
    assert [a.get_text() for a in popular.find_all("a")] == ["haïfa", "gaza"]
    assert popular.find("a")["href"] == "/recherche?q=ha%C3%AFfa"


def test_only_this_weeks_searches_count(tmp_path, samples_index):
    from web.querylog import QueryLog

    log = QueryLog(tmp_path / "q.sqlite")
    for _ in range(3):
        log.record(source="html", query="ancien", filters={}, sort="relevance", page=1,
                   hits=1, took_ms=1.0, corrected=False)
    with sqlite3.connect(log.path) as db:
        old = (datetime.now(UTC) - timedelta(days=8)).isoformat(timespec="milliseconds")
        db.execute("UPDATE searches SET at = ?", (old,))
    assert log.popular() == []
    client = create_app({"TESTING": True, "INDEX_DIR": str(samples_index), "RATELIMIT": "",
                         "QUERY_LOG": str(tmp_path / "q.sqlite")}).test_client()
    assert _home(client).find("section", class_="home-popular") is None


def test_the_placeholder_teaches_french_and_fits(client):
    for url in ("/", "/recherche?q=haifa"):
        placeholder = _home(client).find("input", attrs={"name": "q"})["placeholder"] \
            if url == "/" else BeautifulSoup(client.get(url).get_data(as_text=True),
                                             "html.parser").find("input")["placeholder"]
        assert " OU " in placeholder and " OR " not in placeholder
        assert len(placeholder) <= 18  # the home field shows about 18 characters at 360 px
