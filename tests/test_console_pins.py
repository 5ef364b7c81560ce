"""Pinned and hidden articles on both stores: every surface obeys, within a worker's next
look at the console's file, and furet-admin pin/unpin/hide/unhide."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from bs4 import BeautifulSoup

from tests.stores import clear_editorial
from web import create_app
from web.admin import main as admin
from web.editorial import hide, pin, unhide

SITE = "https://www.exemple-actu.fr/"
HAIFA_TXT = "txt/haifa-attaque-drones-port.txt"
COP29_RSS = "exemple-actu:58213"  # an id that is not the article's address
COP29_RSS_URL = SITE + "environnement/2024/11/24/cop29-bakou-accord-finance-climat"
HAIFA_ECO = SITE + "economie/2024/01/12/mediterranee-orientale-assureurs-maritimes-primes-haifa"
GAZA = SITE + "international/2023/11/20/bande-de-gaza-convois-humanitaires-rafah"


@pytest.fixture(params=["whoosh", "postgresql"])
def site(request, samples_index, tmp_path):
    config = {"TESTING": True, "RATELIMIT": "", "QUERY_LOG": str(tmp_path / "q.sqlite"),
              "ADMIN_DB": str(tmp_path / "admin.sqlite"), "INDEX_DIR": str(samples_index)}
    if request.param == "postgresql":
        config |= {"BACKEND": "postgresql",
                   "DATABASE_URL": request.getfixturevalue("pg_samples")}
    app = create_app(config)
    yield app, app.test_client(), app.extensions["furet.admin"]
    if request.param == "postgresql":
        clear_editorial(config["DATABASE_URL"])


def _fresh(db) -> None:
    db._version = None  # what the second a worker trusts its copy would do


def _ids(client, path: str) -> list[str]:
    return [h["id"] for h in client.get(path).get_json()["hits"]]


def test_pinned_articles_come_first_with_their_label(site):
    app, client, db = site
    assert GAZA not in _ids(client, "/api/v1/search?q=haifa")
    pin(db, "Haïfa", [GAZA], user="alice")
    _fresh(db)
    body = client.get("/api/v1/search?q=HAIFA").get_json()  # matched after folding
    assert body["hits"][0]["id"] == GAZA and body["pinned"] == [GAZA]
    assert {HAIFA_TXT, HAIFA_ECO} <= {h["id"] for h in body["hits"]}
    soup = BeautifulSoup(client.get("/recherche?q=haifa").text, "html.parser")
    first = soup.select_one("ol.hits li")
    assert "hit-pinned" in first["class"]
    assert first.select_one(".pinned-label").get_text() == "Sélection de la rédaction"
    assert client.get("/api/v1/search?q=haifa&sort=newest").get_json()["pinned"] == []
    assert client.get("/api/v1/search?q=haifa&page=2").get_json()["pinned"] == []


def test_pins_end_after_their_date(site):
    app, client, db = site
    pin(db, "haifa", [GAZA], until="2020-01-01", user="alice")
    _fresh(db)
    assert client.get("/api/v1/search?q=haifa").get_json()["pinned"] == []


def _years(body) -> dict[str, int]:
    return {v["value"]: v["count"] for v in body["facets"]["year"]}


def test_hidden_articles_are_never_shown(site):
    app, client, db = site
    before = client.get("/api/v1/search?q=haifa").get_json()
    year = client.get(f"/api/v1/articles/{HAIFA_TXT}").get_json()["published"][:4]
    hide(db, [HAIFA_TXT], reason="droit à l’oubli", user="alice")
    _fresh(db)
    after = client.get("/api/v1/search?q=haifa").get_json()
    assert after["total"] == before["total"] - 1  # counted by the search, not after it
    assert _years(after).get(year, 0) == _years(before)[year] - 1
    assert sum(v["count"] for v in after["timeline"]) == \
        sum(v["count"] for v in before["timeline"]) - 1
    page = BeautifulSoup(client.get("/recherche?q=haifa").text, "html.parser")
    assert str(after["total"]) in page.select_one("h2, .count, main").get_text()
    assert HAIFA_TXT not in _ids(client, "/api/v1/search?q=haifa")
    assert HAIFA_TXT not in client.get("/recherche?q=haifa").text
    assert HAIFA_TXT not in client.get("/recherche.atom?q=haifa").text
    assert HAIFA_TXT not in client.get("/").text
    suggest = client.get("/api/v1/suggest?q=attaque de dr").get_json()
    assert not any("Haïfa" in text for text in suggest[1])
    assert HAIFA_TXT not in _ids(client, f"/api/v1/articles/{quote(HAIFA_ECO, safe='')}"
                                 "/related")
    assert client.get(f"/api/v1/articles/{HAIFA_TXT}").status_code == 404
    assert client.get(f"/api/v1/articles/{HAIFA_TXT}/related").status_code == 404
    assert client.get(f"/article/{HAIFA_TXT}").status_code == 404
    pin(db, "haifa", [HAIFA_TXT], user="alice")  # a hidden article is never pinned either
    _fresh(db)
    assert HAIFA_TXT not in _ids(client, "/api/v1/search?q=haifa")
    unhide(db, [HAIFA_TXT], user="alice")
    _fresh(db)
    assert client.get(f"/api/v1/articles/{HAIFA_TXT}").status_code == 200
    assert _ids(client, "/api/v1/search?q=haifa")[0] == HAIFA_TXT


def test_pin_and_hide_commands(runner, samples_index, tmp_path):
    env = {"FURET_INDEX_DIR": str(samples_index),
           "FURET_ADMIN_DB": str(tmp_path / "admin.sqlite")}
    result = runner.invoke(admin, ["pin", "haifa", GAZA, "--until", "2099-12-31"], env=env)
    assert result.exit_code == 0 and f"pinned for « haifa »: {GAZA}" in result.output
    assert runner.invoke(admin, ["pins"], env=env).output == f"haifa (until 2099-12-31): {GAZA}\n"
    result = runner.invoke(admin, ["pin", "haifa", "no-such-article"], env=env)
    assert result.exit_code == 2 and "no-such-article: no article" in result.output
    result = runner.invoke(admin, ["pin", "haifa", GAZA, "--until", "demain"], env=env)
    assert result.exit_code == 2
    assert runner.invoke(admin, ["unpin", "HAÏFA"], env=env).exit_code == 0
    assert runner.invoke(admin, ["unpin", "haifa"], env=env).exit_code == 2
    result = runner.invoke(admin, ["hide", HAIFA_TXT, "--reason", "décision de justice"],
                           env=env)
    assert result.exit_code == 0 and f"hidden: {HAIFA_TXT}" in result.output
    assert "décision de justice" in runner.invoke(admin, ["hidden"], env=env).output
    assert runner.invoke(admin, ["hide", "nope"], env=env).exit_code == 2
    result = runner.invoke(admin, ["unhide", HAIFA_TXT, "nope"], env=env)
    assert result.exit_code == 1 and "nope: was not hidden" in result.output


def test_hide_and_unhide_take_an_address_too(runner, samples_index, tmp_path):
    env = {"FURET_INDEX_DIR": str(samples_index),
           "FURET_ADMIN_DB": str(tmp_path / "admin.sqlite")}
    result = runner.invoke(admin, ["hide", COP29_RSS_URL], env=env)
    assert result.exit_code == 0 and result.output == f"hidden: {COP29_RSS}\n"
    result = runner.invoke(admin, ["pin", "climat", COP29_RSS_URL], env=env)
    assert result.exit_code == 0 and f"pinned for « climat »: {COP29_RSS}" in result.output
    result = runner.invoke(admin, ["unhide", COP29_RSS_URL], env=env)
    assert result.exit_code == 0 and result.output == f"shown again: {COP29_RSS}\n"
    result = runner.invoke(admin, ["hide", SITE + "no/such/page"], env=env)
    assert result.exit_code == 2 and "no article has this id or address" in result.output


def test_pins_and_hidden_articles_in_the_console(site):
    import re

    from web.accounts import add_user

    app, client, db = site
    add_user(db, "alice", "motdepasse-long")
    token = re.search(r'name="jeton" value="([^"]+)"', client.get("/admin/connexion").text)[1]
    client.post("/admin/connexion", data={"jeton": token, "nom": "alice",
                                          "mot_de_passe": "motdepasse-long"})
    page = client.get("/admin/articles").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)[1]
    assert client.post("/admin/articles/epingles", data={
        "requete": "haifa", "articles": GAZA}).status_code == 403  # no CSRF token
    response = client.post("/admin/articles/epingles", data={
        "csrf": csrf, "requete": "haifa", "articles": GAZA, "jusqu_au": "2099-01-01"})
    assert response.status_code == 303
    assert client.post("/admin/articles/epingles", data={
        "csrf": csrf, "requete": "haifa", "articles": "nope"}).status_code == 404
    response = client.post("/admin/articles/masques", data={
        "csrf": csrf, "articles": HAIFA_TXT, "raison": "<b>justice</b>"})
    assert response.status_code == 303
    _fresh(db)
    assert _ids(client, "/api/v1/search?q=haifa")[0] == GAZA
    assert HAIFA_TXT not in _ids(client, "/api/v1/search?q=haifa")
    page = client.get("/admin/articles").text
    assert "&lt;b&gt;justice&lt;/b&gt;" in page and GAZA in page
    client.post("/admin/articles/retablis", data={"csrf": csrf, "articles": HAIFA_TXT})
    client.post("/admin/articles/desepingles", data={"csrf": csrf, "requete": "Haïfa"})
    _fresh(db)
    assert client.get("/api/v1/search?q=haifa").get_json()["pinned"] == []
    assert HAIFA_TXT in _ids(client, "/api/v1/search?q=haifa")
    journal = client.get("/admin/journal").text
    assert "épinglage" in journal and "article masqué" in journal
