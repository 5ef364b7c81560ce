"""Plain-text articles as scraped: headline, lead, body, metadata lines and debris."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from indexer.records import make_article
from indexer.text import parse_text
from search.errors import ArticleError

DATA = Path(__file__).parent / "data" / "text"
HEADLINE = "Érosion côtière : la dune du Pilat recule de quatre mètres en un hiver"


def parse(name: str) -> dict:
    return parse_text((DATA / name).read_bytes(), location=name)


def parse_str(text: str) -> dict:
    return parse_text(text.encode("utf-8"), location="article.txt")


def paragraphs(draft: dict) -> list[str]:
    return draft["body"].split("\n\n")


# The shape of a scraped page: hashtags, logo, headline, lead, headline again, body, "more".


@pytest.mark.parametrize(
    "variant",
    [
        pytest.param(lambda data: data, id="as-saved"),
        pytest.param(lambda data: data.rstrip(b"\n"), id="no-final-newline"),
        pytest.param(lambda data: data.replace(b"\n", b"\r\n"), id="crlf"),
    ],
)
def test_scraped_page_shape(variant) -> None:
    draft = parse_text(variant((DATA / "gazette-littoral.txt").read_bytes()), location="g.txt")
    body = paragraphs(draft)
    assert draft["title"] == HEADLINE
    assert draft["lead"].startswith("Les tempêtes de janvier ont arraché")
    assert draft["lead"].endswith("un recul inédit du cordon sableux côté océan.")
    assert body[0].startswith("Dans un relevé publié dimanche 7 janvier")
    assert HEADLINE not in draft["body"]
    assert "Recommandé pour vous" not in draft["body"]
    assert "Littoral_Atlantique" not in draft["body"] + draft["lead"]
    assert "Logo" not in draft["body"] + draft["lead"]
    assert body[-1] == (
        "Le conseil départemental doit présenter au printemps un plan d’adaptation "
        "pour l’ensemble du bassin d’Arcachon."
    )


def test_lines_separated_by_one_newline_stay_paragraphs() -> None:
    body = paragraphs(parse("gazette-littoral.txt"))
    assert "Des campings menacés" in body  # an intertitle is a paragraph of its own
    campings = body.index("Des campings menacés")
    assert body[campings + 1].startswith("Plusieurs campings")
    assert body[campings + 2].startswith("« On déplace les emplacements")
    assert body[-2].startswith("Les scientifiques rappellent")
    assert len(body) == 7


def test_scraped_page_makes_an_article() -> None:
    article = make_article(parse("gazette-littoral.txt"), location="g.txt", default_id="g")
    assert article.title == HEADLINE
    assert article.lead and article.body


def test_cp1252_dates_byline_and_list_of_headlines() -> None:
    draft = parse("marche-noel-cp1252.txt")
    assert draft["title"] == "Le marché de Noël de Colmar bat son record de fréquentation"
    assert draft["lead"].startswith("Plus d’un million et demi de visiteurs")
    assert draft["authors"] == ["Hélène Dufresne", "Marc Olivier"]
    assert paragraphs(draft)[-1].startswith("L’œuvre des bénévoles")
    assert "Lire aussi" not in draft["body"]
    assert "Strasbourg" not in draft["body"]
    article = make_article(draft, location="m.txt", default_id="m")
    assert article.published.isoformat() == "2024-01-07T10:15:00+01:00"
    assert article.modified.isoformat() == "2024-01-08T09:00:00+01:00"


def test_bom_iso_date_and_share_line() -> None:
    draft = parse("vendanges-bom.txt")
    assert draft["title"] == "Vendanges tardives : les vignerons d’Alsace soulagés"
    assert draft["published"] == "2023-10-02"
    assert "2023-10-02" not in draft["body"]
    assert paragraphs(draft)[-1].startswith("Les rendements restent")
    assert "Partager" not in draft["body"]


# Metadata and debris lines


@pytest.mark.parametrize(
    ("line", "key", "value"),
    [
        ("Publié le 7 janvier 2024 à 10h15", "published", "7 janvier 2024 à 10h15"),
        ("Mis à jour le 08/01/2024 à 09:30", "modified", "08/01/2024 à 09:30"),
        ("2024-01-07T10:15:00+01:00", "published", "2024-01-07T10:15:00+01:00"),
        ("Lundi 8 janvier 2024", "published", "Lundi 8 janvier 2024"),
        ("Par Jean Dupont", "authors", ["Jean Dupont"]),
        ("Par Jean Dupont, envoyé spécial à Gaza", "authors", ["Jean Dupont"]),
        ("Par la rédaction", "authors", ["La rédaction"]),
        ("Par Léa Roy | Publié le 7 janvier 2024", "authors", ["Léa Roy"]),
    ],
)
def test_metadata_lines_near_the_top(line: str, key: str, value: object) -> None:
    draft = parse_str(f"Le titre\n\n{line}\n\nLe chapeau.\n\nLe corps.")
    assert draft[key] == value
    assert (draft["lead"], draft["body"]) == ("Le chapeau.", "Le corps.")


def test_sentences_that_start_like_metadata_are_kept() -> None:
    text = "Le titre\n\nPar ailleurs, le maire a parlé.\n\nPublié en 1998, ce livre a compté."
    draft = parse_str(text)
    assert draft["lead"] == "Par ailleurs, le maire a parlé."
    assert draft["body"] == "Publié en 1998, ce livre a compté."
    assert "authors" not in draft and "published" not in draft


def test_read_more_in_the_middle_of_the_body() -> None:
    text = (
        "Le titre\nLe chapeau.\nLe début du corps.\n"
        "Lire aussi\nUn autre article sans rapport\n"
        "Lire aussi : Encore un autre article\n"
        "La suite du corps.\nLa fin du corps."
    )
    draft = parse_str(text)
    assert paragraphs(draft) == ["Le début du corps.", "La suite du corps.", "La fin du corps."]


def test_debris_lines_dropped() -> None:
    text = (
        "#Gaza #Cisjordanie\nPublicité\nLogo Le Journal\n"
        "Le titre\n\nLe chapeau.\n\nPartager\nFacebook Twitter LinkedIn\nLe corps.\n"
        "https://exemple.fr/article\n© Le Journal 2024"
    )
    draft = parse_str(text)
    assert (draft["title"], draft["lead"], draft["body"]) == (
        "Le titre",
        "Le chapeau.",
        "Le corps.",
    )


def test_kicker_above_a_repeated_headline_is_the_section() -> None:
    draft = parse_str("Menu\nÉconomie\nLe titre\nLe chapeau.\nLe titre\nLe corps.")
    assert (draft["section"], draft["title"], draft["body"]) == (
        "Économie",
        "Le titre",
        "Le corps.",
    )


def test_markdown_headings_and_tags() -> None:
    draft = parse_str(
        "# Le titre\n\nLe chapeau.\n\n## Intertitre\n\nTexte.\n\nMots-clés : dune, océan"
    )
    assert draft["title"] == "Le titre"
    assert paragraphs(draft) == ["Intertitre", "Texte."]
    assert draft["tags"] == ["dune", "océan"]


def test_hard_wrapped_text_is_joined() -> None:
    text = (
        "Le conseil municipal vote le budget\n\n"
        "Le conseil municipal de Briançon a adopté mardi soir un budget en\n"
        "hausse de 4 %, porté par les recettes de la taxe de séjour et par une\n"
        "subvention de la région.\n\n"
        "L'opposition a voté contre, dénonçant une hausse des frais de\n"
        "fonctionnement qu'elle juge excessive dans le contexte actuel, et a\n"
        "demandé un audit des comptes.\n"
    )
    draft = parse_str(text)
    assert draft["lead"].endswith("par une subvention de la région.")
    assert draft["body"].startswith(
        "L'opposition a voté contre, dénonçant une hausse des frais de fon"
    )


def test_headline_and_one_paragraph() -> None:
    draft = parse_str("Le titre\n\nUn seul paragraphe.")
    assert draft == {"title": "Le titre", "body": "Un seul paragraphe."}


# Hostile and broken input


def test_nul_bytes_are_stripped() -> None:
    data = b"Le ti\x00tre\n\nLe chapeau\x00 du texte.\n\nLe corps\x00\x00 du texte."
    draft = parse_text(data, location="nul.txt")
    assert draft["title"] == "Le titre"
    assert draft["lead"] == "Le chapeau du texte."
    assert draft["body"] == "Le corps du texte."


def test_single_10_mb_line_is_handled_quickly() -> None:
    data = ("mot " * 2_500_000).encode()
    start = time.perf_counter()
    with pytest.raises(ArticleError) as caught:
        parse_text(data, location="long.txt")
    assert time.perf_counter() - start < 2
    assert "10,000,000 characters" in caught.value.reason


def test_huge_paragraph_under_the_limit_is_kept() -> None:
    data = ("Le titre\n\n" + "é" * 1_500_000).encode()
    start = time.perf_counter()
    draft = parse_text(data, location="long.txt")
    assert time.perf_counter() - start < 3
    assert len(draft["body"]) == 1_500_000


def test_first_line_too_long_for_a_headline() -> None:
    with pytest.raises(ArticleError, match="no headline"):
        parse_str("Un paragraphe " * 100 + "\n\nUn autre.")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty file"),
        (b"  \n\t\r\n  ", "empty file"),
        ("\u00a0\n\u2003\n".encode(), "empty file"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, "binary content"),
        (b"\x00" * 100, "binary content"),
        (b"Le titre tout seul\n", "no text after the headline"),
        ("Le titre\n\nRecommandé pour vous\nUn autre titre".encode(), "no text after the headline"),
        (b"#Hashtag\n\nLogo du site\n", "page debris"),
    ],
)
def test_rejected_with_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(ArticleError) as caught:
        parse_text(data, location="bad.txt")
    assert reason in caught.value.reason
    assert str(caught.value).startswith("bad.txt: ")
