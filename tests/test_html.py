"""HTML pages: metadata in priority order, encodings, boilerplate removal, hostile input."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer.html import extract_body, parse_page
from indexer.records import make_article
from search.errors import ArticleError
from tests.hangs import no_runaway

PAGES = Path(__file__).resolve().parent / "data" / "html"


def parse(name: str) -> dict:
    return parse_page((PAGES / name).read_bytes(), location=name)


def page(head: str, body: str, lang: str = "fr") -> str:
    return (f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">{head}</head>'
            f"<body>{body}</body></html>")


ARTICLE = (
    "<article><h1>Le pont suspendu rouvre aux piétons</h1>"
    "<p>Fermé depuis l’automne, le pont suspendu a rouvert ce matin aux piétons et aux "
    "cyclistes, après le remplacement de ses câbles porteurs par une entreprise lyonnaise.</p>"
    "<p>Les habitants de l’autre rive n’auront plus à faire un détour de six kilomètres pour "
    "rejoindre l’école ; la circulation des voitures restera interdite jusqu'à l’été.</p>"
    "</article>"
)


@pytest.mark.parametrize("name", sorted(p.name for p in PAGES.glob("*.html")))
def test_every_fixture_makes_a_valid_article(name: str) -> None:
    article = make_article(parse(name), location=name, default_id=name)
    assert article.title and article.body
    assert article.lang == "fr"


def test_json_ld_in_graph_gives_every_field() -> None:
    draft = parse("graph.html")
    assert draft["title"] == "Le marché couvert de Lunel rouvre ses portes"
    assert draft["lead"] == (
        "Après deux ans de travaux, la halle accueille de nouveau les maraîchers."
    )
    assert draft["published"] == "2024-03-02T07:30:00+01:00"
    assert draft["modified"] == "2024-03-02T11:05:00+01:00"
    assert draft["authors"] == ["Élodie Mercier", "Jean-Baptiste Roux"]
    assert draft["section"] == "Économie"
    assert draft["tags"] == ["marché", "Lunel", "commerce de proximité"]
    assert draft["url"] == "https://gazette.example.fr/economie/2024/03/marche-couvert-lunel"
    assert draft["lang"] == "fr"
    assert "chef-d’œuvre de l’ère industrielle" in draft["body"]


def test_json_ld_list_of_objects_and_single_author_string() -> None:
    ld = ('<script type="application/ld+json">[{"@type": "Organization", "name": "Le Phare"},'
          '{"@type": ["NewsArticle"], "headline": "Le pont rouvre", "author": "Anne Vidal",'
          '"keywords": ["travaux", "pont"], "articleSection": "Ville"}]</script>')
    draft = parse_page(page(ld, ARTICLE), location="liste.html")
    assert draft["title"] == "Le pont rouvre"
    assert draft["authors"] == ["Anne Vidal"]
    assert draft["tags"] == ["travaux", "pont"]
    assert draft["section"] == "Ville"


def test_opengraph_only_page() -> None:
    draft = parse("opengraph.html")
    assert draft["title"] == "Les cigognes sont de retour en Camargue"
    assert draft["lead"].startswith("Une cinquantaine de couples nichent déjà")
    assert draft["url"] == "https://nature.example.fr/2024/02/cigognes-camargue"
    assert draft["published"] == "2024-02-20T08:00:00+01:00"
    assert draft["modified"] == "2024-02-21T09:15:00+01:00"
    assert draft["authors"] == ["Lucie Fabre"]
    assert draft["section"] == "Environnement"
    assert draft["tags"] == ["oiseaux", "Camargue"]
    assert draft["lang"] == "fr"


def test_title_tag_loses_the_site_name_and_time_gives_the_date() -> None:
    draft = parse("title_h1.html")
    assert draft["title"] == "La fanfare de Sommières fête ses cent ans"
    assert draft["published"] == "2023-06-18T10:00:00+02:00"
    assert draft["lang"] == "fr"
    assert "Publié le" not in draft["body"]
    assert "clarinettiste depuis l'après-guerre" in draft["body"]


def test_site_name_suffix_is_stripped_only_when_it_is_the_site() -> None:
    head = ('<meta property="og:site_name" content="Le Phare"><title>Retraites : le vote '
            "reporté - Le Phare</title>")
    assert parse_page(page(head, ARTICLE), location="p")["title"] == "Retraites : le vote reporté"
    head = "<title>Retraites : le vote reporté - Assemblée</title>"
    body = ARTICLE.replace("<h1>Le pont suspendu rouvre aux piétons</h1>", "")
    assert parse_page(page(head, body), location="p")["title"] == (
        "Retraites : le vote reporté - Assemblée"
    )


def test_h1_only_page() -> None:
    draft = parse("h1_only.html")
    assert draft["title"] == "Une bibliothèque ouvre dans l’ancienne gare"
    assert "url" not in draft and "published" not in draft
    assert draft["body"].startswith("Les voyageurs ont laissé la place aux lecteurs")


def test_canonical_url_wins_and_a_relative_one_is_made_absolute() -> None:
    head = ('<link rel="canonical" href="/ville/pont-suspendu">'
            '<meta property="og:url" content="https://phare.example.fr/ville/pont?utm=x">')
    draft = parse_page(page(head, ARTICLE), location="p")
    assert draft["url"] == "https://phare.example.fr/ville/pont-suspendu"
    head = '<link rel="canonical" href="javascript:void(0)">'
    assert "url" not in parse_page(page(head, ARTICLE), location="p")


@pytest.mark.parametrize(
    ("name", "title", "text"),
    [
        ("cp1252.html", "L’œil du photographe", "« une vie passée à guetter la lumière »"),
        ("latin1.html", "Fermeture de la piscine à Beaucaire", "déclarée « prioritaire »"),
        ("utf8_bom.html", "Une nouvelle ligne de bus dessert l’hôpital", "s’en félicitent"),
    ],
)
def test_encodings(name: str, title: str, text: str) -> None:
    draft = parse(name)
    assert draft["title"] == title
    assert text in draft["body"]
    assert "\ufeff" not in draft["title"] + draft["body"]


def test_utf8_page_with_a_stale_latin1_declaration() -> None:
    data = page("", ARTICLE).replace('charset="utf-8"', 'charset="iso-8859-1"').encode()
    assert "l’autre rive" in parse_page(data, location="p")["body"]


def test_utf16_declaration_without_bom_is_read_as_utf8() -> None:
    data = page("", ARTICLE).replace('charset="utf-8"', 'charset="utf-16"').encode()
    assert "l’autre rive" in parse_page(data, location="p")["body"]


def test_boilerplate_is_removed() -> None:
    draft = parse("boilerplate.html")
    body = draft["body"]
    assert draft["title"] == "Les vendanges commencent plus tôt que prévu"
    for kept in ("Les premiers sécateurs ont claqué lundi à l’aube",
                 "Elle s'attend à un millésime concentré",
                 "une œuvre collective de trois semaines",
                 "plusieurs milliers de visiteurs"):
        assert kept in body
    for dropped in ("cookies", "Accueil", "Politique", "Partager", "lire aussi", "Lire aussi",
                    "nouvelle cuverie", "peinent à se loger", "commentaires", "Bravo",
                    "Vivement", "Mentions légales", "Plan du site"):
        assert dropped not in body
    assert "\n\n" in body and "\n\n\n" not in body


def test_lead_from_a_standfirst_element() -> None:
    body = ARTICLE.replace(
        "<p>Fermé", '<p class="article__chapo">Six mois de travaux ont été nécessaires pour '
        "remplacer les câbles du vieil ouvrage.</p><p>Fermé")
    draft = parse_page(page("<title>Pont</title>", body), location="p")
    assert draft["lead"] == ("Six mois de travaux ont été nécessaires pour remplacer les câbles "
                             "du vieil ouvrage.")


def test_malformed_json_ld_is_ignored() -> None:
    draft = parse("malformed_jsonld.html")
    assert draft["title"] == "Le vent emporte la toiture du gymnase"
    assert draft["lead"] == "Aucun blessé n’est à déplorer après la tempête de la nuit."
    assert draft["authors"] == ["Paul Granier"]
    assert draft["tags"] == ["tempête", "gymnase", "intempéries"]
    assert draft["published"] == "2024-01-12"


def test_unreadable_dates_fall_through_to_the_next_source() -> None:
    head = ('<meta property="article:published_time" content="hier soir">'
            '<meta name="date" content="2024-05-04">')
    assert parse_page(page(head, ARTICLE), location="p")["published"] == "2024-05-04"


def test_declared_languages_that_disagree_are_settled_by_the_text() -> None:
    head = '<meta property="og:locale" content="fr_FR">'
    assert parse_page(page(head, ARTICLE, lang="en"), location="p")["lang"] == "fr"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty file"),
        (b" \n\t\n", "empty file"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, "binary content"),
        ("Un texte brut, sans balise : l’été arrive.\nFin.".encode(), "not an HTML page"),
        (b'{"title": "Un titre", "body": "<p>texte</p>"}', "JSON, not an HTML page"),
    ],
)
def test_unreadable_input_raises_article_error(data: bytes, reason: str) -> None:
    with pytest.raises(ArticleError) as caught:
        parse_page(data, location="articles/page.html")
    assert caught.value.location == "articles/page.html"
    assert reason in caught.value.reason
    assert str(caught.value).startswith("articles/page.html: ")


def test_deeply_nested_page_is_rejected_quickly() -> None:
    depth = 100_000
    data = ("<html><head><title>Gouffre</title></head><body>" + "<div>" * depth
            + "<p>fond</p>" + "</div>" * depth + "</body></html>").encode()
    with no_runaway("a page nested 100,000 deep"), pytest.raises(ArticleError, match="nested"):
        parse_page(data, location="gouffre.html")
    assert extract_body(data.decode()) == ""


def test_unclosed_inline_tags_of_old_pages_are_still_read() -> None:
    text = "Le conseil municipal a voté le budget de l’année à l’unanimité, une première. "
    data = ("<html><head><title>Budget voté</title></head><body>" + "<font size=2>" * 400
            + f"<p>{text * 4}</p></body></html>").encode()
    assert "voté le budget" in parse_page(data, location="vieux.html")["body"]


def test_entities_and_doctypes_are_never_resolved() -> None:
    data = ('<?xml version="1.0"?><!DOCTYPE html [<!ENTITY x SYSTEM "file:///etc/hostname">]>'
            + page("<title>Entités</title>", ARTICLE.replace("Fermé", "&x; Fermé"))).encode()
    body = parse_page(data, location="p")["body"]
    assert "le pont suspendu a rouvert" in body


def test_text_input_is_not_decoded_again() -> None:
    text = page("", ARTICLE).replace('charset="utf-8"', 'charset="windows-1252"')
    assert "l’autre rive" in parse_page(text, location="p")["body"]


def test_extract_body_keeps_paragraphs_only() -> None:
    body = extract_body(page("<title>Le pont suspendu rouvre aux piétons</title>", ARTICLE))
    paragraphs = body.split("\n\n")
    assert len(paragraphs) == 2
    assert paragraphs[0].startswith("Fermé depuis l’automne")
    assert paragraphs[1].endswith("jusqu'à l’été.")
    assert extract_body("pas de HTML ici") == ""


def test_extract_body_reads_text_between_line_breaks() -> None:
    loose = ("<div class='texte'>Premier paragraphe posé directement dans le bloc, sans balise "
             "de paragraphe, comme le font encore de vieux gabarits.<br><br>Second paragraphe "
             "après deux sauts de ligne : l’extraction doit garder l’un et l’autre.</div>")
    body = extract_body(page("<title>Gabarit</title>", f"<article>{loose}</article>"))
    assert body.startswith("Premier paragraphe posé directement")
    assert "\n\nSecond paragraphe" in body
