"""Snippets' cheaper paths give what the code before them gave: the text folded and lowered
in one pass (`fold_lower_uneven`), a rare word's occurrences found one after the other even
when its exact form is looked for too, no regex compiled for a query of plain words, and
the deadline checked as a long text is scanned, not at every candidate."""

from __future__ import annotations

import random
import re

import pytest
import snippets_before as before
from hypothesis import example, given, settings
from hypothesis import strategies as st
from snippet_texts import queries_of, terms_of, texts_of

from search import snippets
from search.analysis import fold, fold_lower_uneven, fold_uneven
from search.deadline import within
from search.errors import SearchTimeoutError
from search.snippets import Highlighter, Terms, literal_starts

SETTINGS = settings(max_examples=400, deadline=None, derandomize=True, database=None)

# Upper and lower case, accented or not, characters folding to several (œ Œ æ Æ « » … — ―
# ° § €), apostrophes, spaces of every kind and blank space around line breaks.
PIECES = ["Haïfa", "HAÏFA", "l’Œuvre", "L'ŒUVRE", "œuvres", "Æther", "ÉTÉ", "été", "À",
          "Ça", "ÇA", "naïve", "NAÏVE", "«", "»", "« ", " »", "…", "—", "―", "°", "n°",
          "§", "€", "’", "'", " ", "\u00a0", "\u202f", "\t", "\n", "\n\n", " \n ",
          "\t\n\n \n", ".", ",", ";", ":", "Ý", "ÿ", "ß", "¼", "\U0001f600", "Ⅻ", "de",
          "la", "Article", "ARTICLE", "gaz", "GAZ", "0", "12"]
WORDS = ["haifa", "oeuvre", "aether", "ete", "a", "ca", "naive", "article", "gaz", "12",
         "de", "la", "oeuv*"]

TEXTS = texts_of(PIECES, 120)
QUERIES = queries_of(WORDS)


@SETTINGS
@given(text=TEXTS)
@example(text="« L’ŒUVRE » — ÉTÉ À HAÏFA… n° 3 § 4 Æ € ―")
@example(text="Ý ÿ ß ¼ Ⅻ \U0001f600 ÇA")
def test_folding_and_lowering_in_one_pass_is_fold_then_lower(text):
    folded, uneven = fold_lower_uneven(text)
    assert folded == fold(text).lower()
    assert uneven == fold_uneven(text)[1]


@SETTINGS
@given(text=TEXTS, query=QUERIES)
@example(text="« L’ŒUVRE » de l’œuvre —\n\n \tÉTÉ à Haïfa…\n ÇA", query="oeuvre ete haifa")
@example(text="n° 12 — « Œuvres » ; N°12 l’ŒUVRE\n \n", query='"l oeuvre" 12')
@example(text="ARTICLE 12 ― GAZ\u202f: gaz… Article", query="article gaz")
def test_titles_and_snippets_are_those_before(text, query):
    terms = terms_of(query)
    marks = Highlighter(terms)
    assert marks.matches(text) == before.find_matches(text, terms)
    assert marks.mark_all(text) == before.mark_all(text, terms)
    assert marks.snippet("", text) == before.snippet("", text, terms)


def test_one_literal_and_its_longer_forms_keep_the_leftmost_longest():
    """A rare word's stem and its exact form (one literal starting with the other): the
    next occurrence is searched for after the longest found at a place, which keeps the
    regex's starts, also where the literals overlap themselves."""
    rng = random.Random(7)
    for _ in range(4000):
        text = "".join(rng.choice("ab a") for _ in range(rng.randint(0, 40)))
        stem = "".join(rng.choice("ab") for _ in range(rng.randint(1, 3)))
        words = {stem} | {stem + "".join(rng.choices("ab", k=rng.randint(1, 3)))
                          for _ in range(rng.randint(0, 2))}
        literals = tuple(sorted(words, key=lambda w: (-len(w), w)))
        pattern = re.compile("|".join(map(re.escape, literals)))
        assert literal_starts(text, literals) == [m.start() for m in pattern.finditer(text)]


def test_a_query_of_plain_words_compiles_no_regex(monkeypatch):
    terms = terms_of("Haïfa anticonstitutionnellement")
    snippets._scanner.cache_clear()

    def no_regex(*args, **kwargs):
        raise AssertionError("a regex compiled for plain words")

    monkeypatch.setattr(re, "compile", no_regex)
    marks = Highlighter(terms)
    assert marks.matches("À HAÏFA, anticonstitutionnellement.") == [(2, 7), (9, 34)]
    assert marks.mark_all("Haïfa") == "<mark>Haïfa</mark>"


def test_a_query_with_a_word_of_other_characters_still_scans_with_a_regex():
    terms = Terms(exact=frozenset({"l'oeuvre"}))
    marks = Highlighter(terms)
    assert marks.matches("De l’œuvre, L'ŒUVRE.") == before.find_matches(
        "De l’œuvre, L'ŒUVRE.", terms)


def test_the_deadline_stops_a_long_scan():
    text = "gaz " * 20_000
    marks = Highlighter(terms_of("gaz"))
    with pytest.raises(SearchTimeoutError), within(1e-9):
        marks.matches(text)


def test_the_deadline_is_checked_as_the_scan_moves_on_not_at_every_candidate(monkeypatch):
    calls = []
    monkeypatch.setattr(snippets, "check", lambda: calls.append(1))
    text = "gaz " * 10_000  # 40,000 characters, 10,000 candidates
    marks = Highlighter(terms_of("gaz"))
    assert len(marks.matches(text)) == 10_000
    assert 1 <= len(calls) <= len(text) // snippets._CHECK_EVERY + 1


# Line breaks with blank space of every kind around them (what `one_line_break` drops),
# blank lines, and stretches without spaces: the snippet made on the article as stored.
BROKEN = texts_of(PIECES + ["\n", "\n\n", " \n", "\n ", "\t\n\u00a0", "\r\n", "\u2028",
                            "\x1c", "\n\n\n", "Haïfa.\n", "\n« Haïfa »", "abcdefghij",
                            ". Haïfa", "gaz, gaz; gaz: gaz"], 160)


@SETTINGS
@given(text=BROKEN, query=QUERIES, chunk=st.sampled_from([16, 40, 100, 16_000]),
       size=st.sampled_from([40, 99, 100, 200]), lead=st.sampled_from(["", "Haïfa \n",
                                                                        "Le gaz"]))
@example(text="Le gaz.\n\n \tLa ville de Haïfa,\u00a0\n port", query="haifa",
         chunk=16_000, size=200, lead="")
@example(text="« Œuvre » \n\n de l’œuvre", query='"oeuvre de"', chunk=16_000, size=200,
         lead="")
@example(text="gaz gaz gaz gaz gaz gaz gaz gaz gaz gaz gaz gaz gaz gaz", query="gaz",
         chunk=16, size=200, lead="")
@example(text="xxxxxxxxxxxxxxxxgaz est là, gaz", query="gaz", chunk=16, size=200, lead="")
@example(text="abcd efgh ijkl mnop qrst uvwxyza oeuvre de la ville", query='"oeuvre de"',
         chunk=40, size=200, lead="")
@example(text="gaz. " * 13 + "x " * 10 + "Haïfa gaz.", query="haifa gaz", chunk=40,
         size=200, lead="")
def test_snippets_made_on_the_text_as_stored_are_those_before(text, query, chunk, size,
                                                              lead):
    """Made without `one_line_break` when that gives the same (its paragraphs are the
    lines without blank space at their ends; long texts scanned whole), else as before:
    the same snippet, whatever the blank space, chunk size and passage size."""
    terms = terms_of(query)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(snippets, "CHUNK_CHARS", chunk)
        patch.setattr(before, "CHUNK_CHARS", chunk)
        assert Highlighter(terms).snippet(lead, text, size=size) == \
            before.snippet(lead, text, terms, size=size)


def test_a_hit_of_words_makes_its_snippet_without_one_line_break(monkeypatch):
    """The article as stored (blank lines, blank space at its lines' ends) is not split
    into lines and joined again: its snippet is made on it, and is the one before."""
    text = "Article 3\n\n  Le gaz de la ville. \n\nLa ville de Haïfa, port du Nord.\n"
    terms = terms_of("haifa")
    expected = before.snippet("", text, terms)
    assert expected == "La ville de <mark>Haïfa</mark>, port du Nord."

    def no_split(text: str) -> str:
        raise AssertionError("one_line_break called")

    monkeypatch.setattr(snippets, "one_line_break", no_split)
    assert Highlighter(terms).snippet("", text) == expected


@SETTINGS
@given(titles=st.lists(TEXTS, max_size=12), query=QUERIES)
@example(titles=["Code civil — Article 3", "Haïfa", "A & B <i>"], query="haifa")
@example(titles=["de la", "ville"], query='"la ville"')
@example(titles=["l’œuvre", "L'ŒUVRE"], query="l'oeuvre")
def test_a_page_of_titles_marked_together_is_each_title_marked(titles, query):
    terms = terms_of(query)
    assert Highlighter(terms).mark_titles(titles) == \
        [before.mark_all(title, terms) for title in titles]


def test_titles_where_no_word_is_are_escaped_without_a_scan_each(monkeypatch):
    """A page of titles without the rare word: one fold and scan of them all, then each
    title escaped, not scanned on its own."""
    marks = Highlighter(terms_of("haifa"))

    def no_scan(self: Highlighter, text: str) -> str:
        raise AssertionError("a title scanned on its own")

    monkeypatch.setattr(Highlighter, "mark_all", no_scan)
    assert marks.mark_titles(["Code civil — Article 3", "A & B"]) == \
        ["Code civil — Article 3", "A &amp; B"]


def test_a_long_text_of_a_frequent_word_is_not_scanned_whole(monkeypatch):
    """Made on the article as stored, a long text is still read a chunk at a time: once
    enough matches are found, the rest is not scanned (the snippet is then made the way
    before, which scans as far)."""
    text = "Le gaz de la ville. " * 20_000  # 400,000 characters, a match every 20
    terms = terms_of("gaz")
    expected = before.snippet("", text, terms)
    scanned = []
    scan = Highlighter._matches_in

    def counted(self: Highlighter, part: str) -> list[tuple[int, int]]:
        scanned.append(len(part))
        return scan(self, part)

    monkeypatch.setattr(Highlighter, "_matches_in", counted)
    assert Highlighter(terms).snippet("", text) == expected
    assert sum(scanned) <= 4 * snippets.CHUNK_CHARS
