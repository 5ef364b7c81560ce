"""Escaping: nothing a reader types or an article brings becomes markup, script or a link."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import quote, urlencode
from xml.etree import ElementTree as ET

import pytest
from bs4 import BeautifulSoup

from web import create_app
from web.feeds import safe_url

PAYLOADS = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>',
            "javascript:alert(1)", "'><svg onload=alert(1)>"]
HOSTILE_ARTICLES = [
    {"id": "h-script", "url": 'https://exemple.org/a?x="><script>alert(0)</script>',
     "title": "<script>alert('titre')</script> Haïfa \"><img src=x onerror=alert(1)>",
     "body": "Corps \"><img src=x onerror=alert(2)> <script>alert(3)</script> "
             "javascript:alert(4) à Haïfa.\n\nSuite <b>grasse</b>.",
     "published": "2024-01-07T10:15:00+01:00",
     "section": "<script>alert('rubrique')</script>",
     "authors": ["\"><img src=x onerror=alert(5)>"]},
    {"id": "h-html", "url": "https://exemple.org/sure", "title": "Haïfa, page HTML",
     "html": "<p>Texte sur Haïfa <script>alert(6)</script><img src=x onerror=alert(7)></p>"
             "<p><a href=\"javascript:alert(8)\">lien</a></p>",
     "published": "2024-01-08T10:00:00+01:00", "section": "javascript:alert(9)",
     "authors": ["Auteur <i>Hostile</i>"]},
    {"id": "\"><svg onload=alert(10)>", "title": "Identifiant hostile Haïfa",
     "body": "Haïfa encore.", "published": "2024-01-09", "section": "Monde",
     "authors": ["javascript:alert(11)"]},
]
ORIGINAL_LINKS = {"h-html": "https://exemple.org/sure"}  # the one safe article address
CHART_ELEMENTS = {"line", "g", "a", "title", "rect", "text"}


@pytest.fixture(scope="module")
def hostile_client(tmp_path_factory):
    from tests.indexing import build

    folder = tmp_path_factory.mktemp("hostile")
    (folder / "articles").mkdir()
    (folder / "articles" / "hostile.jsonl").write_text(
        "".join(json.dumps(a, ensure_ascii=False) + "\n" for a in HOSTILE_ARTICLES),
        encoding="utf-8")
    report = build(folder / "index", [folder / "articles"])
    assert report.rejected == 0, report.errors
    app = create_app({"TESTING": True, "INDEX_DIR": str(folder / "index"), "QUERY_LOG": "",
                      "RATELIMIT": ""})
    return app.test_client()


def assert_inert(html: str) -> BeautifulSoup:
    """No script but ours, no injected element or handler, no javascript: link."""
    page = BeautifulSoup(html, "html.parser")
    for script in page.find_all("script"):
        assert script.get("src", "").startswith("/static/") and not script.string, script
    assert not page.find_all(["img", "iframe", "object", "embed", "b", "i"])
    for svg in page.find_all("svg"):  # the timeline's chart only, made of our own shapes
        assert svg.find_parent("figure", class_="timeline") is not None, svg
        assert {e.name for e in svg.find_all(True)} <= CHART_ELEMENTS, svg
    for element in page.find_all(True):
        for name, value in element.attrs.items():
            assert not name.lower().startswith("on"), element
            if name in ("href", "src", "action", "formaction"):
                assert not str(value).strip().lower().startswith("javascript:"), element
    marks = re.findall(r"<(\w+)", str(page.find("main")))
    assert set(marks) <= {"main", "div", "section", "h1", "h2", "h3", "p", "a", "ol", "ul",
                          "li", "article", "time", "span", "mark", "nav", "aside", "em",
                          "code", "details", "summary", "strong", "figure", "figcaption",
                          "svg", *CHART_ELEMENTS}, marks
    return page


@pytest.mark.parametrize("payload", PAYLOADS)
def test_query_is_escaped(client, payload):
    for url in ("/recherche?" + urlencode({"q": payload}),
                "/recherche?" + urlencode({"q": "haifa", "rubrique": payload}),
                "/recherche?" + urlencode({"q": payload, "auteur": payload, "tri": "recents"})):
        response = client.get(url)
        assert response.status_code == 200
        page = assert_inert(response.get_data(as_text=True))
        assert payload in page.find("form", role="search").find("input")["value"] \
            or payload in page.get_text()


@pytest.mark.parametrize("payload", PAYLOADS)
def test_query_in_api_and_feed(client, payload):
    body = client.get("/api/v1/search?" + urlencode({"q": payload})).get_json()
    for hit in body["hits"]:
        assert "<script" not in hit["title_html"] + hit["snippet_html"]
    feed = client.get("/recherche.atom?" + urlencode({"q": payload}))
    assert feed.status_code == 200
    title = ET.fromstring(feed.data).find("{http://www.w3.org/2005/Atom}title").text
    assert payload in title  # as text: ElementTree parsed it back from escaped XML
    assert b"<script" not in feed.data and b"<img" not in feed.data


def test_bad_parameter_page_escapes_the_value(client):
    response = client.get("/recherche?" + urlencode({"q": "haifa", "annee": PAYLOADS[1]}))
    assert response.status_code == 400
    page = assert_inert(response.get_data(as_text=True))
    assert PAYLOADS[1] in page.find(attrs={"role": "alert"}).get_text()


def test_hostile_articles_in_results(hostile_client):
    response = hostile_client.get("/recherche?q=haifa")
    html = response.get_data(as_text=True)
    page = assert_inert(html)
    assert len(page.select("ol.hits > li")) == 3
    text = page.get_text(" ")
    assert "<script>alert('titre')</script>" in text  # shown, as text
    assert "<script>alert('rubrique')</script>" in text
    assert '"><img src=x onerror=alert(5)>' in text
    # Titles lead to Furet's own page, its id escaped; only the safe address is linked.
    links = [a["href"] for a in page.select("ol.hits h2 a")]
    assert "/article/h-script?q=haifa" in links
    assert "/article/%22%3E%3Csvg%20onload=alert(10)%3E?q=haifa" in links
    assert [a["href"] for a in page.select("ol.hits a.hit-source")] == [
        "https://exemple.org/sure"]
    for facet_link in page.select("aside a"):
        assert hostile_client.get(facet_link["href"]).status_code == 200


@pytest.mark.parametrize("article_id", [a["id"] for a in HOSTILE_ARTICLES])
def test_hostile_article_pages(hostile_client, article_id):
    response = hostile_client.get("/article/" + quote(article_id, safe=""))
    assert response.status_code == 200
    page = assert_inert(response.get_data(as_text=True))
    original = page.find("a", string=re.compile("site d’origine"))
    # Only the safe address is linked; the unsafe one and the missing one are not.
    assert (original["href"] if original else None) == ORIGINAL_LINKS.get(article_id)


def test_hostile_articles_in_api(hostile_client):
    body = hostile_client.get("/api/v1/search?q=haifa").get_json()
    assert len(body["hits"]) == 3
    for hit in body["hits"]:
        markup = hit["title_html"] + hit["snippet_html"]
        assert not re.search(r"<(?!/?mark>)", markup), markup  # only <mark> is markup
    titles = {hit["id"]: hit["title"] for hit in body["hits"]}
    assert titles["h-script"].startswith("<script>")  # plain text field, unchanged


def test_hostile_articles_in_feed(hostile_client):
    response = hostile_client.get("/recherche.atom?q=haifa")
    assert b"<script" not in response.data and b"<img" not in response.data
    atom = "{http://www.w3.org/2005/Atom}"
    feed = ET.fromstring(response.data)
    links = [e.find(atom + "link").get("href") for e in feed.findall(atom + "entry")]
    assert all(link.startswith(("http://localhost/article/", "https://exemple.org/sure"))
               for link in links), links
    for entry in feed.findall(atom + "entry"):
        summary = entry.find(atom + "summary").text  # HTML, once unescaped from XML
        assert not re.search(r"<(?!/?mark>)", summary), summary


@pytest.mark.parametrize("url, safe", [
    ("https://exemple.org/a", True),
    ("http://exemple.org/a?b=c&d=e#f", True),
    ("javascript:alert(1)", False),
    ("JavaScript:alert(1)", False),
    (" javascript:alert(1)", False),
    ("java\nscript:alert(1)", False),
    ("data:text/html,<script>", False),
    ("vbscript:msgbox", False),
    ("//exemple.org/a", False),
    ("https://", False),
    ('https://exemple.org/"><script>', False),
    ("", False),
    (None, False),
])
def test_safe_url(url, safe):
    assert safe_url(url) == (url if safe else None)


def test_templates_mark_safe_only_titles_and_snippets():
    """|safe appears only on title_html and snippet_html, which search escapes."""
    templates = Path(__file__).resolve().parent.parent / "web" / "templates"
    uses = []
    for template in templates.glob("*.html"):
        uses += re.findall(r"\{\{\s*([\w.]+)\s*\|\s*safe", template.read_text("utf-8"))
    assert uses and set(uses) <= {"hit.title_html", "hit.snippet_html"}, uses
