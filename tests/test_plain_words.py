"""Queries of plain words skip the general parse and give what it gives."""

from __future__ import annotations

import random

import pytest

from search import query
from search.query import MAX_WORDS, parse_query

PLAIN = ["haïfa", "ville portuaire", "Gaza attaque nuit", "Œuvre cœur", "2024", "1er mai",
         "état unis", "ÉTATS UNIS", "Straße", "Ærø", "code civil article 17",
         " ".join(["mot"] * MAX_WORDS), '"ville portuaire"', '"haïfa"', '"gaza OR port"',
         '"a b c"', '"' + " ".join(["mot"] * MAX_WORDS) + '"']
OTHER = ["gaza OR cisjordanie", "gaza OU cisjordanie", "a ET b", "NOT gaz", "SAUF gaz",
         "-gaz", '"ville  portuaire"', '"ville portuaire', 'ville portuaire"', '""', '"',
         '"l\'attaque"', '-"prix du gaz"', '"a" "b"', "attaq*", "titre:haïfa",
         "depuis:2024 loi", "l'attaque",
         "états-unis", "ville  portuaire", " ville", "ville ", "", "a × b", "x²",
         " ".join(["mot"] * (MAX_WORDS + 1)), "gaza\tport", "½ tour", "a_b", "fin."]
ALPHABET = ["a", "é", "Œ", "ß", "1", " ", "  ", "OR", "ET", "NOT", "-", '"', '"', "*", ":", "'",
            "²", "×", "_", ".", "titre:", "\t", "ville", "ÿ", "Ø"]


def _same(text: str) -> None:
    fast = query._plain_words(text)
    general = query._parsed(text)
    if fast is not None:
        assert fast == general
        assert fast.ignored == general.ignored
        assert fast.text() == general.text()
        # made without the frozen __init__, its text known beforehand: the same objects
        assert type(fast) is type(general) and fast.__dict__ == general.__dict__
        fast_clauses = [c for group in fast.groups for c in group]
        general_clauses = [c for group in general.groups for c in group]
        assert [(type(c), c.__dict__) for c in fast_clauses] == \
            [(type(c), c.__dict__) for c in general_clauses]
        assert fast._made_text() == fast.text()  # the text given is the one it would make


@pytest.mark.parametrize("text", PLAIN)
def test_plain_words_take_the_fast_path_and_parse_as_before(text):
    assert query._plain_words(text) is not None
    _same(text)
    assert parse_query(text) == query._parsed(text)


@pytest.mark.parametrize("text", OTHER)
def test_anything_else_takes_the_general_parse(text):
    assert query._plain_words(text) is None
    assert parse_query(text) == query._parsed(text)


def test_generated_queries_parse_the_same_either_way():
    rng = random.Random(5)
    fast = 0
    for _ in range(3000):
        text = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 12)))
        _same(text)
        fast += query._plain_words(text) is not None
    assert fast > 100  # the generated set does exercise the fast path
