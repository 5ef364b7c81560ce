"""Snippets keep the article's shape: a passage stays inside its paragraph (a subheading never
runs into the next sentence), cuts fall at sentence or clause boundaries, no ellipsis is
glued to a period and no word is left alone before a cut."""

from __future__ import annotations

import re

import pytest

from search import get_article, open_index, search
from search.query import parse_query
from search.snippets import highlight_terms, snippet

MARK = re.compile(r"</?mark>")
LEAD = "Les pays riches s’engagent à mobiliser 300 milliards de dollars par an."
BODY = (
    "Les négociations ont duré deux nuits de plus que prévu, dans une atmosphère tendue, "
    "et les délégations ont fini par s’entendre à l’aube sur un montant jugé insuffisant "
    "par beaucoup d’observateurs à la même échéance.\n\n"
    "Colère des pays vulnérables\n\n"
    "Pour les petits États insulaires et les pays les moins avancés, le compte n’y est pas. "
    "Leurs délégués avaient quitté la salle samedi, avant d’y revenir sous la pression des "
    "autres pays du Sud.\n\n"
    "Le gouvernement engage la procédure de réquisition de salariés pour débloquer les "
    "dépôts. Les files d’attente s’allongent devant les pompes, parfois sur plusieurs "
    "centaines de mètres, et la colère monte chez les automobilistes comme chez les "
    "artisans qui dépendent de leur véhicule pour travailler chaque jour."
)
QUERIES = ["haifa", "l'attaque", "climat", "pays vulnérables", "cinq", "dépôts", "grève",
           "drones", "gaz", "besancon", "élection", "agriculteurs", "inflation", "musée"]


def _snippet(query: str) -> str:
    return snippet(LEAD, BODY, highlight_terms(parse_query(query)))


def _plain(html: str) -> str:
    return MARK.sub("", html)


def test_a_subheading_never_runs_into_the_next_sentence():
    shown = _plain(_snippet("petits États vulnérables"))
    assert "vulnérables Pour" not in shown
    assert "Colère des pays vulnérables … Pour les petits États" in shown


def test_a_passage_ending_a_sentence_has_no_ellipsis_glued_to_it():
    shown = _plain(_snippet("dépôts"))
    assert "dépôts." in shown and "dépôts.…" not in shown
    assert not re.search(r"[.!?]…", shown)


def test_cuts_fall_at_sentence_or_clause_boundaries():
    shown = _plain(_snippet("automobilistes"))
    # The passage starts where its sentence does and ends with it, or at a comma.
    assert shown.startswith("Les files d’attente") or shown.startswith("…")
    assert shown.endswith("chaque jour.")


def _passages(html: str) -> list[str]:
    return [part.strip("… ") for part in _plain(html).split(" … ")]


@pytest.fixture(scope="module")
def sample_snippets(samples_index) -> list[tuple[str, str]]:
    backend = open_index(samples_index)
    return [(query, hit.snippet_html) for query in QUERIES
            for hit in search(backend, query).hits]


def test_sample_snippets_keep_the_article_shape(sample_snippets):
    assert len(sample_snippets) >= 40
    for query, html in sample_snippets:
        shown = _plain(html)
        assert not re.search(r"[.!?]…|… …|……", shown), (query, shown)
        assert "\n" not in shown, (query, shown)
        for passage in _passages(html):
            # No word left alone before a cut (« Cinq … l’attaque »).
            assert len(passage.split()) >= 3, (query, passage, shown)


def test_sample_snippets_never_run_a_heading_into_a_sentence(samples_index, sample_snippets):
    backend = open_index(samples_index)
    headings = set()
    for hit in search(backend, "pays vulnérables climat").hits:
        body = get_article(backend, hit.id).body
        headings |= {p for p in body.split("\n") if p and p[-1] not in ".!?…»:"
                     and len(p.split()) <= 8}
    assert headings  # the samples have subheadings
    for _query, html in sample_snippets:
        shown = _plain(html)
        for heading in headings:
            at = shown.find(heading)
            if at != -1:
                rest = shown[at + len(heading):]
                assert rest == "" or rest.startswith(" … "), (heading, shown)


def test_a_phrase_across_a_line_break_or_longer_than_a_passage_is_shown_whole():
    terms = highlight_terms(parse_query('"port de haifa"'))
    assert snippet("", "Le port de\nHaïfa est fermé. Autre texte.", terms) == \
        "Le <mark>port de Haïfa</mark> est fermé. Autre texte."
    terms = highlight_terms(parse_query('"' + "haifa " * 30 + '"'))
    shown = snippet("", "Au port. " + "Haïfa " * 100, terms, size=60)
    assert shown.count("<mark>") >= 1 and "<mark>" + " ".join(["Haïfa"] * 30) + "</mark>" in shown


def test_blank_space_around_line_breaks_becomes_one_line_break():
    from random import Random

    from search.snippets import one_line_break
    rng = Random(5)
    alphabet = ["a", "é", " ", "\n", "\t", "\r", "\u00a0", "\u2028", "\x85", "\x1c", "\f"]
    for _ in range(5000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 10)))
        assert one_line_break(text) == re.sub(r"\s*\n\s*", "\n", text.strip()), repr(text)


def test_a_word_is_marked_at_word_starts_only_whatever_its_case():
    terms = highlight_terms(parse_query("ration"))
    html = snippet("", "La préparation de la RATION, puis une ration « Ration » (ration).", terms)
    assert html.count("<mark>") == 4
    assert "pré<mark>" not in html and "<mark>RATION</mark>" in html
    # A word holding an apostrophe is searched with the word-start check of the regex.
    terms = highlight_terms(parse_query('"aujourd\'hui matin"'))
    assert "<mark>aujourd’hui matin</mark>" in snippet("", "Il part aujourd’hui matin.", terms)
