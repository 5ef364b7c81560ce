"""RSS and Atom feeds, and the HTML fragments inside them."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer.feeds import parse_feed
from indexer.fragments import fragment_text
from indexer.records import make_article
from search.errors import ArticleError
from tests.hangs import no_runaway

DATA = Path(__file__).parent / "data" / "feeds"


def read(name: str, data: bytes | None = None) -> list[dict | ArticleError]:
    if data is None:
        data = (DATA / name).read_bytes()
    return list(parse_feed(data, location=name))


def rejected(name: str, data: bytes | None = None) -> str:
    if data is None:
        data = (DATA / name).read_bytes()
    with pytest.raises(ArticleError) as caught:
        parse_feed(data, location=name)  # the whole file is checked before any item
    assert caught.value.location == name
    return caught.value.reason


# HTML fragments


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>Un</p><p>Deux</p>", "Un\n\nDeux"),
        ("Un<br>Deux<br/>Trois", "Un\n\nDeux\n\nTrois"),
        ("<div>Un <b>gras</b>, <i>italique</i></div>", "Un gras, italique"),
        ("<ul><li>a</li><li>b</li></ul><h2>Titre</h2>", "a\n\nb\n\nTitre"),
        ("<blockquote>« Cité »</blockquote>suite", "« Cité »\n\nsuite"),
        ("<table><tr><td>c1</td><td>c2</td></tr><tr><td>c3</td></tr></table>", "c1 c2\n\nc3"),
        ("<figure><img src=x><figcaption>Légende</figcaption></figure>", "Légende"),
        (
            "<p>L&#8217;&eacute;t&eacute;&nbsp;: &laquo;&#160;chaud&#xA0;&raquo; &amp; sec</p>",
            "L’été : « chaud » & sec",
        ),
        ("<p>a\n   b\t\tc</p>", "a b c"),
        ("<pre>ligne 1\nligne 2</pre>", "ligne 1\n\nligne 2"),
        ("Texte brut\n\nsur deux paragraphes", "Texte brut\n\nsur deux paragraphes"),
        ("https://exemple.fr/article", "https://exemple.fr/article"),
        ("index.html", "index.html"),
        ("", ""),
    ],
)
def test_fragment_text(html: str, text: str) -> None:
    assert fragment_text(html) == text


def test_fragment_drops_code_forms_and_media() -> None:
    html = (
        "<p>Avant</p><script>var a = '<p>non</p>';</script><style>p{color:red}</style>"
        "<iframe src=x>cadre</iframe><noscript>activez JS</noscript>"
        "<form><label>Courriel</label><input><button>S’abonner</button></form>"
        "<!-- commentaire --><p>Après</p>"
    )
    assert fragment_text(html) == "Avant\n\nAprès"


def test_fragment_of_broken_html() -> None:
    html = "<p>Un <b>gras jamais fermé<p>Deux</i></div> <td>trois</p><<>> &bogus; fin"
    text = fragment_text(html)
    assert text.startswith("Un gras jamais fermé\n\nDeux")
    assert "trois" in text and text.endswith("&bogus; fin")


@pytest.mark.parametrize("tag", ["div", "b", "blockquote"])
def test_fragment_nested_very_deeply(tag: str) -> None:
    html = f"<{tag}>" * 20_000 + "au fond" + f"</{tag}>" * 20_000
    with no_runaway("a fragment nested 20,000 deep"):
        assert fragment_text(html) == "au fond"


# RSS 2.0


def test_rss_items() -> None:
    first, second, error, fourth = read("presse-locale.rss")
    assert first == {
        "_location": "presse-locale.rss:10",
        "id": "courrier-vercors-4512",
        "url": "https://courrier-vercors.example/2024/01/fromagerie-villard",
        "title": "La fromagerie de Villard rouvre après l’incendie",
        "lead": "Trois mois après le sinistre, les affineurs ont repris le travail.",
        "body": (
            "Les caves de la fromagerie de Villard ont rouvert lundi, trois mois après "
            "l’incendie qui avait détruit la salle d’affinage.\n\n"
            "« On n’y croyait plus », confie la gérante, qui a réembauché les douze salariés.\n\n"
            "Reprise de la collecte de lait\n\nNouvelle salle d’affinage"
        ),
        "published": "Sun, 07 Jan 2024 10:15:00 +0100",
        "authors": ["Élise Marchand", "Paul Girardin"],
        "section": "Économie",
        "tags": ["Économie", "Agriculture"],
        "lang": "fr-FR",
    }
    assert second["authors"] == ["Jeanne Roux"]  # from "email (Name)"
    assert second["body"] == (
        "Les chasse-neige ont dégagé la route du col pendant la nuit.\n\n"
        "La circulation reste difficile au-dessus de 1 200 mètres."
    )
    assert "lead" not in second
    assert isinstance(error, ArticleError)
    assert str(error) == "presse-locale.rss:34: item has no <title>; skipped"
    # A bare "&" and an HTML entity are repaired; a relative link is made absolute.
    assert fourth["title"] == "Marché de Noël : un bilan en hausse & des exposants ravis"
    assert "AT&T" in fourth["body"] and "exposants de plus" in fourth["body"]
    assert fourth["url"] == "https://courrier-vercors.example/2024/01/marche-noel"


def test_rss_drafts_make_articles() -> None:
    for draft in read("presse-locale.rss"):
        if isinstance(draft, dict):
            location = draft.pop("_location")
            article = make_article(draft, location=location, default_id="x")
            assert article.lang == "fr"
    first = read("presse-locale.rss")[0]
    first.pop("_location")
    article = make_article(first, location="f", default_id="x")
    assert article.published.isoformat() == "2024-01-07T10:15:00+01:00"


def test_rss_1_rdf() -> None:
    (item,) = read("depeches.rdf")
    assert item["title"] == "Grève à la SNCF : trafic perturbé mardi"
    assert item["id"] == item["url"] == "https://depeches.example/2024/greve-sncf"
    assert item["published"] == "2024-01-09T06:00:00+01:00"
    assert item["authors"] == ["Louise Fabre", "Karim Haddad"]
    assert (item["section"], item["lang"]) == ("Transports", "fr")


def test_latin1_declared_feed_read_as_cp1252() -> None:
    (item,) = read("ancien-site.rss")
    assert item["title"] == "Café : l’été de la crème"
    assert item["body"] == "Le € remplace le franc – c’est l’œuvre du temps."


@pytest.mark.parametrize(
    "encode",
    [
        pytest.param(lambda text: b"\xef\xbb\xbf" + text.encode("utf-8"), id="utf-8-bom"),
        pytest.param(lambda text: text.encode("utf-16"), id="utf-16-bom"),
    ],
)
def test_feed_with_bom(encode) -> None:
    text = (DATA / "presse-locale.rss").read_text(encoding="utf-8")
    items = read("bom.rss", encode(text))
    assert [item["title"] for item in items if isinstance(item, dict)][:2] == [
        "La fromagerie de Villard rouvre après l’incendie",
        "Déneigement : les routes du col sont rouvertes",
    ]


# Atom


def test_atom_html_content_and_summary() -> None:
    first = read("blog-montagne.atom")[0]
    assert first["_location"] == "blog-montagne.atom:8"
    assert first["title"] == "L’été des glaciers en recul"  # type="html"
    assert first["id"] == "tag:carnets-montagne.example,2024:glaciers"
    assert first["url"] == "https://carnets-montagne.example/glaciers"
    assert first["lead"] == "Les mesures de l’automne confirment une fonte record."
    assert first["body"] == (
        "Les glaciologues ont relevé une perte d’épaisseur de trois mètres.\n\n"
        "Le glacier d’Argentière recule de quarante mètres par an."
    )
    assert first["published"] == "2024-01-07T09:00:00+01:00"
    assert first["modified"] == "2024-01-08T18:30:00+01:00"
    assert first["authors"] == ["Camille Berthier", "Noé Lambert"]
    assert (first["section"], first["tags"]) == ("climat", ["climat", "glaciers"])
    assert first["lang"] == "fr"


def test_atom_xhtml_content() -> None:
    second = read("blog-montagne.atom")[1]
    assert second["body"] == (
        "Le sentier des crêtes se parcourt en raquettes en quatre heures.\n\n"
        "Prévoyez des bâtons et un thermos de thé."
    )
    # rel="edit" is not the article; the alternate link is resolved against xml:base.
    assert second["url"] == "https://carnets-montagne.example/sorties/raquettes"
    assert second["authors"] == ["La rédaction"]  # the feed's author
    assert second["lang"] == "fr-CH"
    assert "published" not in second


def test_atom_entry_without_text_is_reported() -> None:
    error = read("blog-montagne.atom")[2]
    assert isinstance(error, ArticleError)
    assert error.location == "blog-montagne.atom:34"
    assert "no text" in error.reason


def test_atom_text_types() -> None:
    feed = """<feed xmlns="http://www.w3.org/2005/Atom" xmlns:h="http://www.w3.org/1999/xhtml">
      <entry>
        <title type="xhtml"><h:div>Un <h:em>titre</h:em></h:div></title>
        <content type="text">a &lt; b

nouveau paragraphe</content>
      </entry>
      <entry>
        <title>Deux</title>
        <content type="xhtml"><h:div><h:p>Préfixé</h:p><h:p>aussi</h:p></h:div></content>
      </entry>
    </feed>"""
    first, second = read("types.atom", feed.encode())
    assert first["title"] == "Un titre"
    assert first["body"] == "a < b\n\nnouveau paragraphe"
    assert second["body"] == "Préfixé\n\naussi"


# Hostile and broken feeds


def test_billion_laughs_is_refused_quickly() -> None:
    with no_runaway("a billion laughs"):
        reason = rejected("entites-en-cascade.rss")
    assert "entity" in reason


def test_external_entity_is_not_read() -> None:
    with no_runaway("an external entity"):
        (item,) = read("entite-externe.rss")
    assert item["title"] == "Le contenu du fichier :"
    assert item["body"] == "Avant après fin."
    assert "root:" not in repr(item)


def test_not_a_feed() -> None:
    assert rejected("plan-du-site.xml") == "not an RSS or Atom feed (the root element is <urlset>)"
    assert "Atom namespace" in rejected("sans-espace.atom", b"<feed><entry/></feed>")


def test_malformed_xml_gives_the_line() -> None:
    reason = rejected("mal-forme.rss")
    assert reason.startswith("not well-formed XML, line 8:")
    assert "mismatch" in reason


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty file"),
        (b"\n  \n", "empty file"),
        (b"Ceci n'est pas du XML.\n", "not well-formed XML, line 1"),
        (b"<rss><channel><item><title>coupe", "not well-formed XML, line 1"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, "binary content"),
    ],
)
def test_rejected_files(data: bytes, reason: str) -> None:
    assert reason in rejected("bad.xml", data)


def test_empty_feed_has_no_items() -> None:
    assert (
        read("vide.rss", b"<rss version='2.0'><channel><title>Vide</title></channel></rss>") == []
    )


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"<rss>" + b"<a>" * 300 + b"</a>" * 300 + b"</rss>", "nested too deeply"),
        (b"<rss><channel><title>" + b"x" * 11_000_000 + b"</title></channel></rss>", "too large"),
    ],
)
def test_parser_limits(data: bytes, reason: str) -> None:
    with no_runaway("a feed past the parser's limits"):
        assert reason in rejected("limite.rss", data)
