"""The reader's pages: the article page keeping the search that led to it, meta lines
without stray separators, and French spacing around « » and before ; : ! ?."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from bs4 import BeautifulSoup

from tests.test_web_pages import args
from web import create_app
from web.french import NNBSP, french_spaces, host_name

HAIFA_TXT = "txt/haifa-attaque-drones-port.txt"


def page(client, url: str) -> BeautifulSoup:
    response = client.get(url)
    assert response.status_code == 200, url
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def test_the_article_page_keeps_the_search(client):
    results = page(client, "/recherche?q=haifa&annee=2024&tri=recents")
    title = results.select("ol.hits h2 a")[-1]
    assert args(title["href"]) == {"q": ["haifa"], "annee": ["2024"], "tri": ["recents"]}
    article = page(client, title["href"])
    assert article.find("input", attrs={"name": "q"})["value"] == "haifa"  # in the box
    assert article.find("input", attrs={"name": "tri"})["value"] == "recents"
    marks = article.find("article").find_all("mark")
    assert marks and {m.get_text().lower() for m in marks} == {"haïfa"}
    back = article.find("p", class_="back").a
    assert args(back["href"]) == args(title["href"]) and back["href"].startswith("/recherche?")
    assert "Retour aux résultats pour" in back.get_text()
    related = article.find("section", class_="related").find_all("a")
    assert related and all(args(a["href"]) == args(title["href"]) for a in related)


def test_the_page_of_results_is_kept_and_bad_context_ignored(client):
    kept = page(client, f"/article/{HAIFA_TXT}?q=haifa&page=2")
    assert args(kept.find("p", class_="back").a["href"]) == {"q": ["haifa"], "page": ["2"]}
    plain = page(client, f"/article/{HAIFA_TXT}")
    assert plain.find("p", class_="back") is None and not plain.find("mark")
    damaged = page(client, f"/article/{HAIFA_TXT}?q=haifa&annee=deux-mille")
    assert damaged.find("p", class_="back") is None and not damaged.find("mark")


def test_the_article_etag_depends_on_the_search(client):
    plain = client.get(f"/article/{HAIFA_TXT}").headers["ETag"]
    searched = client.get(f"/article/{HAIFA_TXT}?q=haifa").headers["ETag"]
    assert plain != searched
    again = client.get(f"/article/{HAIFA_TXT}?q=haifa", headers={"If-None-Match": searched})
    assert again.status_code == 304


@pytest.fixture
def sparse_client(tmp_path):
    """Articles that lack a date, an author, or everything but a title."""
    from tests.indexing import build

    records = [
        {"id": "rien", "title": "Un article sans date ni auteur", "body": "Texte du lapin."},
        {"id": "rubrique", "title": "Un article sans date", "section": "Culture",
         "body": "Texte du lapin."},
        {"id": "auteur", "title": "Un article signé", "authors": ["Zoë Martin"],
         "body": "Texte du lapin."},
    ]
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "sparse.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records),
                                         encoding="utf-8")
    build(tmp_path / "index", [folder])
    return create_app({"TESTING": True, "INDEX_DIR": str(tmp_path / "index"),
                       "QUERY_LOG": "", "RATELIMIT": ""}).test_client()


def _meta(soup: BeautifulSoup) -> str | None:
    meta = soup.find("p", class_="hit-meta")
    return None if meta is None else meta.get_text()


@pytest.mark.parametrize(("article_id", "meta"), [
    ("rien", None), ("rubrique", "Culture"), ("auteur", "Zoë Martin")])
def test_meta_lines_have_separators_only_between_what_is_there(sparse_client, article_id,
                                                               meta):
    assert _meta(page(sparse_client, "/article/" + article_id).find("article")) == meta
    hits = page(sparse_client, "/recherche?q=lapin").select("ol.hits li.hit")
    by_id = {hit.h2.a["href"].split("?")[0].rsplit("/", 1)[1]: hit for hit in hits}
    assert _meta(by_id[article_id]) == meta


def test_french_spaces():
    assert french_spaces("« Haïfa » : oui ; non ! vrai ?") == \
        f"«{NNBSP}Haïfa{NNBSP}»{NNBSP}: oui{NNBSP}; non{NNBSP}! vrai{NNBSP}?"
    assert french_spaces("<b>« x »</b>") == f"&lt;b&gt;«{NNBSP}x{NNBSP}»&lt;/b&gt;"  # text
    assert french_spaces("«\u00a0<mark>gaz</mark>\u00a0»") == \
        french_spaces("« <mark>gaz</mark> »")  # both escaped alike
    assert host_name("https://www.exemple-actu.fr/a") == "exemple-actu.fr"
    assert host_name(None) == ""


def test_guillemets_never_end_a_line_in_pages(client):
    for url in ("/recherche?q=haifa", f"/article/{HAIFA_TXT}?q=haifa",
                "/article/" + quote(HAIFA_TXT, safe="")):
        html = client.get(url).get_data(as_text=True)
        main = html[html.index("<main"):]
        assert "« " not in main and " »" not in main, url
