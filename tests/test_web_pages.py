"""The French pages through the Flask test client, read with BeautifulSoup."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, quote, urlsplit
from xml.etree import ElementTree as ET

import pytest
from bs4 import BeautifulSoup

from web import create_app
from web.french import format_date, format_month, format_number, plural
from web.headers import CSP

HAIFA_TXT = "txt/haifa-attaque-drones-port.txt"
PAGES = ["/", "/recherche?q=haifa", "/recherche?q=hiafa", "/recherche?q=xyzzy", "/aide",
         "/aide/api", "/recherche?q=etats-unis&annee=2024", "/article/" + HAIFA_TXT]
MAX_PAGE_BYTES = 60_000


def soup(response) -> BeautifulSoup:
    # No-break spaces (French typography: « haïfa », « ? ») read as spaces here.
    return BeautifulSoup(response.get_data(as_text=True).replace("&nbsp;", " ")
                         .replace("\u202f", " ").replace("&#8239;", " "), "html.parser")


def args(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def link(parent, text: str):
    """The first link under `parent` whose text contains `text`."""
    return parent.find(lambda tag: tag.name == "a" and text in tag.get_text())


# -- every page


@pytest.mark.parametrize("url", PAGES)
def test_page_basics(client, url):
    response = client.get(url)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = soup(response)
    assert page.html["lang"] == "fr"
    assert page.find("meta", attrs={"name": "viewport"})
    assert page.find("main", id="contenu")
    assert page.find("header") and page.find("footer")
    assert page.find("a", class_="skip")["href"] == "#contenu"
    assert len(page.find_all("h1")) == 1
    search = page.find("link", rel="search")
    assert search["type"] == "application/opensearchdescription+xml"
    assert search["href"] == "/opensearch.xml"
    # No inline script or style: everything comes from /static (CSP allows only 'self').
    for script in page.find_all("script"):
        assert script.get("src", "").startswith("/static/") and not script.string
    assert not page.find("style") and not page.find(attrs={"style": True})
    assert not page.find(attrs={re.compile("^on"): True})
    for tag, attr in (("link", "href"), ("script", "src"), ("img", "src")):
        for element in page.find_all(tag):
            assert element.get(attr, "/").startswith("/"), element  # no external asset
    # Every field has a label.
    for field in page.find_all("input", type=lambda t: t != "hidden"):
        assert page.find("label", attrs={"for": field["id"]}), field
    assert response.headers["Content-Security-Policy"] == CSP


@pytest.mark.parametrize("url", PAGES)
def test_page_weight(client, url):
    """HTML, stylesheet, script and icon together stay under 60 KB."""
    response = client.get(url)
    total = len(response.data)
    page = soup(response)
    assets = [e["href"] for e in page.find_all("link", rel=["stylesheet", "icon"])]
    assets += [e["src"] for e in page.find_all("script")]
    for asset in assets:
        with client.get(asset) as fetched:  # closes the static file
            assert fetched.status_code == 200, asset
            total += len(fetched.data)
    assert total < MAX_PAGE_BYTES, (url, total)


def test_security_headers(client):
    headers = client.get("/").headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert "script-src 'self'" in headers["Content-Security-Policy"]


def test_static_files_are_versioned(client):
    page = soup(client.get("/"))
    css = page.find("link", rel="stylesheet")["href"]
    assert re.fullmatch(r"/static/furet\.css\?v=[0-9a-f]{10}", css)
    with client.get(css) as response:
        assert "max-age=86400" in response.headers["Cache-Control"]
    with client.get("/favicon.ico") as response:
        assert response.mimetype in ("image/vnd.microsoft.icon", "image/x-icon")


# -- home and help


def test_home(client):
    page = soup(client.get("/"))
    form = page.find("form", role="search")
    assert form["action"] == "/recherche" and form["method"] == "get"
    field = form.find("input", attrs={"name": "q"})
    assert field.has_attr("autofocus") and field["placeholder"]
    assert form.find("label", attrs={"for": field["id"]}).get_text(strip=True)
    assert page.h1.get_text(strip=True) == "Furet"
    assert page.find("a", href="/aide")
    assert "articles" in page.find(class_="home-lead").get_text()


def test_site_name_setting(samples_index):
    client = create_app({"TESTING": True, "INDEX_DIR": str(samples_index), "QUERY_LOG": "",
                         "RATELIMIT": "", "SITE_NAME": "L’Archive"}).test_client()
    page = soup(client.get("/"))
    assert page.h1.get_text(strip=True) == "L’Archive"
    assert page.title.get_text().startswith("L’Archive")


def test_help(client):
    page = soup(client.get("/aide"))
    text = page.get_text(" ")
    for syntax in ('"ville portuaire"', "OR", "-gaza", "attaq*", "titre:", "auteur:",
                   "rubrique:", "depuis:", "avant:"):
        assert syntax in text, syntax
    examples = [a["href"] for a in page.select("main table a")]
    assert len(examples) >= 10
    for href in examples:  # every example is a working search
        assert client.get(href).status_code == 200, href


# -- results


def test_results(client):
    page = soup(client.get("/recherche?q=haifa"))
    assert page.h1.get_text(strip=True) == "Résultats pour « haifa »"
    assert page.find(class_="summary").get_text(" ", strip=True).startswith("2 résultats")
    hits = page.select("ol.hits > li.hit")
    assert len(hits) == 2
    titles = [hit.find("h2").get_text(strip=True) for hit in hits]
    assert any("Haïfa" in t for t in titles)
    assert "<mark>Haïfa</mark>" in str(page.find(class_="hit-snippet"))
    dates = [hit.find("time").get_text() for hit in hits]
    assert "7 janvier 2024" in dates and "12 janvier 2024" in dates
    by_date = {hit.find("time").get_text(): hit for hit in hits}
    html_hit = by_date["12 janvier 2024"]
    assert "Économie" in html_hit.find(class_="hit-meta").get_text()
    assert "Karim Benali" in html_hit.find(class_="hit-meta").get_text()
    # Titles lead to Furet's page of the article, keeping the search; the article's own
    # address is linked beside, named by its site.
    link = html_hit.find("h2").a["href"]
    assert link.startswith("/article/https://www.exemple-actu.fr/economie/2024/01/12/")
    assert args(link) == {"q": ["haifa"]}
    source = html_hit.find("a", class_="hit-source")
    assert source.get_text() == "exemple-actu.fr"
    assert source["href"].startswith("https://www.exemple-actu.fr/economie/2024/01/12/")
    # The text article has no address of its own: no source link.
    txt_hit = by_date["7 janvier 2024"]
    assert txt_hit.find("h2").a["href"] == "/article/" + HAIFA_TXT + "?q=haifa"
    assert txt_hit.find("a", class_="hit-source") is None
    assert client.get(txt_hit.find("h2").a["href"]).status_code == 200
    feed = page.find("link", rel="alternate", type="application/atom+xml")
    assert feed["href"] == "/recherche.atom?q=haifa"


def test_facets_add_and_remove_filters(client):
    page = soup(client.get("/recherche?q=haifa"))
    facets = page.find("aside", class_="facets")
    headings = [h.get_text(strip=True) for h in facets.find_all("h3")]
    assert headings == ["Rubrique", "Auteur", "Année"]
    section = link(facets, "Économie")
    assert section.find(class_="count").get_text() == "1"
    assert args(section["href"]) == {"q": ["haifa"], "rubrique": ["Économie"]}

    filtered = soup(client.get(section["href"]))
    assert filtered.find(class_="summary").get_text(" ", strip=True).startswith("1 résultat")
    chip = filtered.find(class_="chip")
    assert "Rubrique : Économie" in chip.get_text(" ", strip=True)
    remove = chip.find("a")
    assert remove["aria-label"] == "Retirer le filtre Rubrique : Économie"
    assert args(remove["href"]) == {"q": ["haifa"]}
    active = filtered.find("a", class_="facet-active")
    assert active["aria-current"] == "true" and args(active["href"]) == {"q": ["haifa"]}


def test_month_facet_after_year(client):
    page = soup(client.get("/recherche?q=haifa&annee=2024"))
    months = page.find("section", attrs={"aria-labelledby": "facette-month"})
    january = link(months, "janvier 2024")
    assert args(january["href"])["mois"] == ["2024-01"]
    # Removing the year removes its months too.
    removed = soup(client.get(january["href"])).find(
        "a", attrs={"aria-label": "Retirer le filtre Année : 2024"})
    assert args(removed["href"]) == {"q": ["haifa"]}


def test_sort_links(client):
    page = soup(client.get("/recherche?q=etats-unis"))
    sort = page.find("nav", class_="sort")
    links = {a.get_text(strip=True): a for a in sort.find_all("a")}
    assert list(links) == ["pertinence", "plus récents", "plus anciens"]
    assert links["pertinence"]["aria-current"] == "true"
    newest = soup(client.get(links["plus récents"]["href"]))
    assert args(links["plus récents"]["href"])["tri"] == ["recents"]
    dates = [t["datetime"][:10] for t in newest.select("ol.hits time")]
    assert dates == sorted(dates, reverse=True)
    # A new search from the results page keeps the order chosen.
    form = newest.find("form", role="search")
    assert form.find("input", attrs={"name": "tri"})["value"] == "recents"


def test_pagination(client):
    page = soup(client.get("/recherche?q=etats-unis"))
    nav = page.find("nav", class_="pagination")
    assert nav["aria-label"] == "Pages de résultats"
    current = nav.find("a", attrs={"aria-current": "page"})
    assert current.get_text(strip=True) == "1"
    following = nav.find("a", rel="next")
    assert args(following["href"])["page"] == ["2"]
    second = soup(client.get(following["href"]))
    assert second.find("ol", class_="hits")["start"] == "11"
    assert second.find("nav", class_="pagination").find("a", rel="prev")
    first_ids = {a["href"] for a in page.select("ol.hits h2 a")}
    second_ids = {a["href"] for a in second.select("ol.hits h2 a")}
    assert first_ids.isdisjoint(second_ids)


def test_page_past_the_end(client):
    page = soup(client.get("/recherche?q=haifa&page=5"))
    notice = page.find(class_="notice").get_text(" ", strip=True)
    assert "s’arrêtent à la page 1" in notice


def test_did_you_mean(client):
    page = soup(client.get("/recherche?q=hiafa"))
    box = page.find(class_="did-you-mean")
    text = box.get_text(" ", strip=True)
    assert "voici les résultats pour « haïfa »" in text
    assert "Vouliez-vous dire" not in text  # corrected already: no question about it
    link = box.find("a")
    assert args(link["href"]) == {"q": ["haïfa"]}
    assert len(page.select("ol.hits > li")) == 2
    # Words that found something, but look misspelt: the question, and the link.
    page = soup(client.get("/recherche?q=etat+unis"))
    text = page.find(class_="did-you-mean").get_text(" ", strip=True)
    assert text == "Vouliez-vous dire : états-unis ?"


def test_zero_results(client):
    response = client.get("/recherche?q=xyzzy")
    assert response.status_code == 200
    page = soup(response)
    box = page.find(class_="no-results")
    assert "Aucun article ne correspond" in box.get_text()
    assert box.find("a", href="/aide")
    assert box.find("a", href=re.compile("OU"))  # French, as the placeholder teaches
    assert not page.find("ol", class_="hits")


def test_browse_without_query(client):
    page = soup(client.get("/recherche"))
    assert page.h1.get_text(strip=True) == "Les derniers articles"
    assert len(page.select("ol.hits > li")) == 10
    # Without words there is nothing to rank by relevance: only the two orders of dates.
    sorts = {a.get_text(): a for a in page.select("nav.sort a")}
    assert list(sorts) == ["plus récents", "plus anciens"]
    assert sorts["plus récents"].get("aria-current") == "true"
    oldest = soup(client.get(sorts["plus anciens"]["href"]))
    assert oldest.h1.get_text(strip=True) == "Les plus anciens articles"
    assert oldest.select_one("nav.sort a[aria-current]").get_text() == "plus anciens"
    assert soup(client.get("/recherche?tri=récents")).h1.get_text(strip=True) == \
        "Les derniers articles"  # the accented spelling is understood too


@pytest.mark.parametrize("url, says", [
    ("/recherche?q=haifa&page=abc", "nombre entier de 1 à 1000"),
    ("/recherche?q=haifa&tri=meilleur", "« pertinence », « récents » ou « anciens »"),
    ("/recherche?q=haifa&annee=24", "quatre chiffres"),
    ("/recherche?q=haifa&mois=2024-13", "2024-01"),
    ("/recherche?q=depuis:2024-13", "depuis:2024-01-15"),
    ("/recherche?q=" + "x" * 1001, "trop longue"),
])
def test_bad_parameters_are_explained_in_french(client, url, says):
    response = client.get(url)
    assert response.status_code == 400
    page = soup(response)
    alert = page.find(attrs={"role": "alert"})
    assert says in alert.get_text(" ", strip=True)
    assert page.find("form", role="search")


def test_forms_may_send_empty_fields(client):
    response = client.get("/recherche?q=haifa&page=&tri=&rubrique=&annee=+")
    assert response.status_code == 200
    assert len(soup(response).select("ol.hits > li")) == 2


def test_article_page(client):
    page = soup(client.get("/article/" + HAIFA_TXT))
    assert "Haïfa" in page.h1.get_text()
    assert page.find("time").get_text() == "7 janvier 2024"
    assert len(page.select("article p")) > 3
    related = page.find("section", class_="related")
    assert related.find("a", href=re.compile("^/article/.*mediterranee-orientale"))
    assert client.get("/article/" + quote(HAIFA_TXT, safe="")).status_code == 200


# -- errors


@pytest.mark.parametrize("url, status, title", [
    ("/nulle-part", 404, "Page introuvable"),
    ("/article/inconnu", 404, "Article introuvable"),
    ("/recherche?q=" + "a" * 9000, 414, "Adresse trop longue"),
])
def test_error_pages_are_french(client, url, status, title):
    response = client.get(url)
    assert response.status_code == status
    assert response.mimetype == "text/html"
    page = soup(response)
    assert page.html["lang"] == "fr"
    assert page.h1.get_text(strip=True) == title
    assert "Traceback" not in page.get_text() and "Werkzeug" not in page.get_text()
    assert response.headers["Cache-Control"] == "no-store"


def test_method_not_allowed_page(client):
    response = client.post("/recherche")
    assert response.status_code == 405
    assert soup(response).h1.get_text(strip=True) == "Méthode non autorisée"


def test_unavailable_page(tmp_path):
    client = create_app({"TESTING": True, "INDEX_DIR": str(tmp_path / "index"),
                         "QUERY_LOG": "", "RATELIMIT": ""}).test_client()
    for url in ("/", "/recherche?q=haifa", "/recherche.atom?q=haifa"):
        response = client.get(url)
        assert response.status_code == 503, url
        page = soup(response)
        assert page.h1.get_text(strip=True) == "Recherche indisponible"
        # The log says what to run; readers are told where to look, not server paths.
        details = page.find("details").get_text()
        assert "journal du serveur" in details and str(tmp_path) not in response.text
    assert client.get("/aide").status_code == 200  # help needs no index


# -- feeds and OpenSearch


ATOM = "{http://www.w3.org/2005/Atom}"


def test_atom_feed(client):
    response = client.get("/recherche.atom?q=haifa")
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    feed = ET.fromstring(response.data)
    assert feed.tag == ATOM + "feed"
    assert "haifa" in feed.find(ATOM + "title").text
    self_link = feed.find(ATOM + "link[@rel='self']").get("href")
    assert self_link == "http://localhost/recherche.atom?q=haifa"
    entries = feed.findall(ATOM + "entry")
    assert len(entries) == 2
    published = [e.find(ATOM + "published").text for e in entries]
    assert published == sorted(published, reverse=True)  # newest first
    assert feed.find(ATOM + "updated").text == published[0]
    first = entries[0]
    assert first.find(ATOM + "id").text.startswith("http://localhost/article/")
    assert first.find(ATOM + "summary").get("type") == "html"
    assert "<mark>" in first.find(ATOM + "summary").text
    assert first.find(ATOM + "author/" + ATOM + "name").text == "Karim Benali"


def test_opensearch(samples_index):
    client = create_app({"TESTING": True, "INDEX_DIR": str(samples_index), "QUERY_LOG": "",
                         "RATELIMIT": "", "BASE_URL": "https://recherche.example.org"}
                        ).test_client()
    response = client.get("/opensearch.xml")
    assert response.mimetype == "application/opensearchdescription+xml"
    ns = "{http://a9.com/-/spec/opensearch/1.1/}"
    root = ET.fromstring(response.data)
    assert root.find(ns + "ShortName").text == "Furet"
    templates = {u.get("type"): u.get("template") for u in root.findall(ns + "Url")}
    base = "https://recherche.example.org"
    assert templates["text/html"] == base + "/recherche?q={searchTerms}"
    assert templates["application/x-suggestions+json"] == base + "/api/v1/suggest?q={searchTerms}"
    assert templates["application/atom+xml"] == base + "/recherche.atom?q={searchTerms}"


# -- French formatting


@pytest.mark.parametrize("value, expected", [
    ("2024-01-07T10:15:00+01:00", "7 janvier 2024"),
    ("2023-05-01T20:30:00+02:00", "1er mai 2023"),
    ("2024-08-04", "4 août 2024"),
    ("2023-12-31T23:30:00-05:00", "31 décembre 2023"),  # the date as published
    (None, ""),
    ("pas une date", ""),
])
def test_format_date(value, expected):
    assert format_date(value) == expected


def test_french_numbers():
    assert format_number(1234567) == "1\u202f234\u202f567"
    assert format_number(0.5, 1) == "0,5"
    assert plural(0, "résultat") == "0 résultat"
    assert plural(1, "résultat") == "1 résultat"
    assert plural(1234, "résultat") == "1\u202f234 résultats"
    assert format_month("2024-08") == "août 2024"
