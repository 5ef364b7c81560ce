"""Snippets' faster paths give what the code before them gave, answer for answer: the
Highlighter made once a page, folding that says which characters move offsets
(`fold_uneven`, `uneven_offsets`), literals tried where a shorter one is found, clause cuts
found through the mark alone, passages escaped only when they hold & < >. The reference
is tests/snippets_before.py (the code before these changes)."""

from __future__ import annotations

import random
import re

import pytest
import snippets_before as before
from hypothesis import example, given, settings
from hypothesis import strategies as st
from snippet_texts import queries_of, terms_of, texts_of

from search import snippets
from search.analysis import OffsetMap, fold, fold_uneven, uneven_offsets
from search.snippets import (
    CHUNK_CHARS,
    Highlighter,
    highlight,
    literal_starts,
    mark_all,
    snippet,
)

SETTINGS = settings(max_examples=400, deadline=None, derandomize=True, database=None)

# French text's pieces: accents, ligatures, apostrophes, quotes, dashes, spaces of every
# kind, line breaks, punctuation that cuts passages, and what HTML escapes.
PIECES = ["Haïfa", "haifa", "l’attaque", "L'ATTAQUE", "attaques", "œuvre", "Œuvres", "cœur",
          "ﬁn", "straße", "aujourd’hui", "États-Unis", "naïve", "fusionnées", "1er", "2024",
          "§", "°", "€", "—", "–", "-", "…", "«", "»", "“", "”", "(", ")", ",", ";", ":", ".",
          "!", "?", " ", " ", "\u00a0", "\u202f", "\t", "\n", "\n\n", " \n ", "&", "<", ">",
          "a<b", "&amp;", "¼", "Ⅻ", "\U0001f600", "e\u0301", "de", "la", "le", "Article",
          "ville", "portuaire", "gaz", "Gaza", "ss", "0"]
WORDS = ["haifa", "attaque", "attaq*", "oeuvre", "coeur", "fin", "strasse", "etats-unis",
         "naive", "fusionnees", "ville", "gaz", "2024", "de", "la", "article", "a", "b"]

TEXTS = texts_of(PIECES, 150)
QUERIES = queries_of(WORDS, st.text(max_size=6))


@SETTINGS
@given(text=TEXTS, query=QUERIES)
@example(text="Haïfa, l’attaque de Haïfa", query="haifa attaque")
@example(text="a<b & x>y « Haïfa » — l’œuvre", query='"a b" haifa oeuvre')
@example(text="« œuvre » de l’œuvre ; cœur : fin…", query="oeuvre coeur fin")
@example(text="¼ et ½ de 1", query="1")
@example(text="fin — Haïfa", query="haifa")
def test_titles_and_snippets_are_those_before(text, query):
    terms = terms_of(query)
    marks = Highlighter(terms)
    assert marks.mark_all(text) == mark_all(text, terms) == before.mark_all(text, terms)
    lead = text[:len(text) // 3]
    assert marks.snippet(lead, text) == snippet(lead, text, terms) == \
        before.snippet(lead, text, terms)
    assert marks.snippet("", text) == before.snippet("", text, terms)
    for size, fragments in ((60, 1), (200, 2), (300, 3)):
        assert highlight(text, terms, size=size, fragments=fragments) == \
            before.highlight(text, terms, size=size, fragments=fragments)


@SETTINGS
@given(text=TEXTS, query=QUERIES)
def test_matches_are_those_before(text, query):
    terms = terms_of(query)
    assert Highlighter(terms).matches(text) == before.find_matches(text, terms)


def _long_text(rng: random.Random, size: int) -> str:
    sentence = ["L’œuvre de la ville portuaire", "Haïfa", "à l’attaque", "du gaz",
                "— art. L. 123-4 —", "« fin »", "cœur", "a<b & c", "; ", ", ", ": ", ". ",
                "… ", "\n", "\n\n", "États-Unis", "1er", "2024", "§ 3", "°", "¼"]
    out, total = [], 0
    while total < size:
        piece = rng.choice(sentence)
        out.append(piece)
        total += len(piece) + 1
    return " ".join(out)


@pytest.mark.parametrize("seed", range(6))
def test_long_texts_read_a_chunk_at_a_time_as_before(seed):
    """Texts longer than a chunk: the matches (and the snippet) of the chunks read until
    enough are found."""
    rng = random.Random(seed)
    text = _long_text(rng, CHUNK_CHARS * 3 + rng.randint(0, 5000))
    for query in ("haifa", "gaz attaque", '"ville portuaire"', "oeuvre coeur", "fin",
                  "zzz rare", "etats-unis", "a"):
        terms = terms_of(query)
        marks = Highlighter(terms)
        assert marks.matches(text, enough=12) == before.find_matches(text, terms, enough=12)
        assert marks.snippet("", text) == before.snippet("", text, terms)


@SETTINGS
@given(text=TEXTS)
@example(text="l’œuvre « à » — é…")
@example(text="Ⅻ ﬁn \U0001f600 e\u0301 ¼")
def test_fold_uneven_is_fold_and_names_what_moves_offsets(text):
    folded, uneven = fold_uneven(text)
    assert folded == fold(text)
    if uneven is None:
        return
    # Known: every character outside ASCII is one of the usual ones, and `uneven` holds
    # those of them that do not fold to exactly one character, each once.
    assert len(set(uneven)) == len(uneven)
    assert set(uneven) == {c for c in text if len(fold(c)) != 1}


@SETTINGS
@given(text=TEXTS, cut=st.floats(min_value=0, max_value=1))
def test_offsets_found_with_find_map_as_the_pattern_finds_them(text, cut):
    folded, uneven = fold_uneven(text)
    if uneven is None or not folded:
        return
    until = int(cut * (len(folded) - 1))
    found = OffsetMap(text, until=until, uneven=uneven_offsets(text, uneven, until))
    reference = OffsetMap(text, until=until)
    assert [found.original(i) for i in range(until + 1)] == \
        [reference.original(i) for i in range(until + 1)]


_BLANKS_AND_MARKS = st.text(alphabet=" \t\u00a0\u202f,;:.ab\n", max_size=60)


@SETTINGS
@given(text=_BLANKS_AND_MARKS, pos=st.integers(0, 60), length=st.integers(0, 60))
@example(text=", \u00a0; x", pos=0, length=10)
@example(text="a  , b", pos=2, length=6)
def test_clause_cuts_are_the_clause_pattern_s(text, pos, length):
    pos = min(pos, len(text))
    endpos = min(len(text), pos + length)
    gaps = list(before._CLAUSE_GAP.finditer(text, pos, endpos))
    assert snippets._last_clause(text, pos, endpos) == (gaps[-1].start() if gaps else None)
    first = snippets._CLAUSE_MARK.search(text, pos, endpos)
    assert (first.end() if first else None) == (gaps[0].end() if gaps else None)


def test_a_literal_found_through_a_shorter_one_keeps_the_longest():
    """A word's exact form is tried where its stem is found: the regex's starts still."""
    rng = random.Random(3)
    for _ in range(3000):
        text = "".join(rng.choice("ab c") for _ in range(rng.randint(0, 50)))
        stem = "".join(rng.choice("abc") for _ in range(rng.randint(1, 3)))
        words = {stem, stem + rng.choice("abc"), stem + "".join(rng.choices("abc", k=2)),
                 "".join(rng.choice("abc") for _ in range(rng.randint(1, 4)))}
        literals = tuple(sorted(words, key=lambda w: (-len(w), w)))
        pattern = re.compile("|".join(map(re.escape, literals)))
        assert literal_starts(text, literals) == [m.start() for m in pattern.finditer(text)]


def test_a_passage_with_nothing_to_escape_is_the_escaped_one():
    terms = terms_of("haifa")
    for text in ("Haïfa est loin", "a < b à Haïfa", "Haïfa & co", "x > y, Haïfa", "Haïfa"):
        assert mark_all(text, terms) == before.mark_all(text, terms)
        assert snippet("", text, terms) == before.snippet("", text, terms)


def test_a_highlighter_forgets_what_it_checked_past_its_limit(monkeypatch):
    monkeypatch.setattr(snippets, "WORDS_KEPT", 2)
    marks = Highlighter(terms_of("gaz attaque"))
    text = "gaz gazes gazier gazette attaque attaques"
    assert marks.matches(text) == before.find_matches(text, marks.terms)
    assert len(marks._checked) <= 2
    assert marks.matches(text) == before.find_matches(text, marks.terms)


_MARKS_AND_QUOTES = st.text(alphabet=" \t.!?…»”)«“(a1é\n", max_size=60)


@SETTINGS
@given(text=_MARKS_AND_QUOTES, pos=st.integers(0, 60), length=st.integers(0, 60))
@example(text=". . x", pos=0, length=5)
@example(text="a! b. c… d", pos=0, length=10)
def test_sentence_ends_are_the_sentence_pattern_s(text, pos, length):
    pos = min(pos, len(text))
    endpos = min(len(text), pos + length)
    gaps = list(before._SENTENCE_GAP.finditer(text, pos, endpos))
    assert snippets._last_sentence_end(text, pos, endpos) == \
        (gaps[-1].start() if gaps else None)


def test_fold_uneven_knows_the_horizontal_bar_of_legal_text():
    # « ― » (U+2015) opens list items in many articles: it is one of the usual characters
    # (folded and named as moving offsets), not an unknown one sending the text to OffsetMap.
    assert fold_uneven("Article 1 ― é à ï") == ("Article 1 -- e a i", ["\u2015"])
    folded, uneven = fold_uneven("l’œuvre ― « é »")
    assert (folded, sorted(uneven)) == ("l'oeuvre -- << e >>", sorted("œ―«»"))
