"""Ordinals written several ways find each other (search/ordinals.py), on both stores."""

from __future__ import annotations

import pytest

from search import search
from search.analysis import analyze
from search.ordinals import expand, ordinal, spellings
from search.query import parse_query, plain_word_group

LINES = "ea-2025-grand-reportage-petites-lignes"  # « au XIXe siècle », « au XVIIIe siècle »
AEGYPTE = "https://www.exemple-actu.fr/culture/2023/04/05/tresors-d-aegypte-exposition-lyon-ateliers-thebes"
LEGISLATIVES = "ea-2022-legislatives-abstention"  # « sous la Ve République »


@pytest.mark.parametrize("word, number", [
    ("XIXe", 19), ("19e", 19), ("19ème", 19), ("XIXème", 19), ("19ieme", 19), ("xve", 15),
    ("VIe", 6), ("Ve", 5), ("iie", 2), ("XXXIXe", 39), ("1er", 1), ("1ère", 1), ("Ier", 1),
    ("15E", 15),
    ("vie", None), ("ive", None), ("XIX", None), ("XLe", None), ("Le", None), ("0e", None),
    ("1000e", None), ("2nd", None), ("siècle", None),
])
def test_ordinals_are_read_in_roman_and_arabic_figures(word, number):
    assert ordinal(word) == number


def test_each_spelling_has_its_own_stem():
    found = spellings(19)
    assert found == ["19e", "19eme", "XIXe", "XIXeme"]
    assert len({tuple(analyze(s)) for s in found}) == len(found)  # why all are needed
    assert spellings(40) == ["40e", "40eme"]  # past XXXIX: Arabic figures only


def test_an_ordinal_word_gains_its_other_spellings_unseen():
    parsed = expand(parse_query("XVe siècle -XIXe"))
    first = parsed.groups[0]
    assert [c.text for c in first] == ["XVe", "15e", "15eme", "XVeme"]
    assert plain_word_group(first)  # still a plain word for ranking
    assert [c.text for c in parsed.excluded] == ["XIXe", "19e", "19eme", "XIXeme"]
    assert all(c.negated for c in parsed.excluded)
    assert parsed.text() == "XVe siècle -XIXe"  # what the reader typed, as before


@pytest.mark.parametrize("text", ["1er janvier", "vie chère", "titre:XVe", '"XVe siècle"',
                                  "XV de France"])
def test_other_queries_are_left_alone(text):
    parsed = parse_query(text)
    assert expand(parsed) is parsed


@pytest.mark.parametrize("query, expected", [
    ("18e", [LINES]),  # the article writes « XVIIIe »
    ("XVIIIe", [LINES]),
    ("dix-huitième", []),  # words are not figures
    ("5ème", [LEGISLATIVES]),  # « Ve République »
    ("siècle -19e", []),  # both articles on a century write « XIXe »
])
def test_stores_find_the_other_spellings(samples_backend, query, expected):
    results = search(samples_backend, query, per_page=10)
    assert [h.id for h in results.hits] == expected
    assert results.query == query


def test_a_question_on_a_century_ranks_an_article_written_in_roman_figures(samples_backend):
    # without its other spellings, « 19ème » matched nothing and « passé » ranked alone
    first = search(samples_backend, "Que s'est-il passé au 19ème ?", per_page=3).hits[0].id
    assert first in (LINES, AEGYPTE)


@pytest.mark.parametrize("text", ["1er janvier", "vie chère", "titre:XVe", '"XVe siècle"',
                                  "XV de France", "XVe siècle -XIXe", "siècle -19e",
                                  "-XIXe", "-vie", "18e OR XIXe", "xve", "Ier", "40e rue",
                                  "haifa attaque", "titre:18e siècle", "-1er"])
def test_queries_without_an_ordinal_skip_the_clause_walk_with_the_same_answer(text):
    """`expand` leaves at once a query none of whose single-clause groups is an ordinal
    past the first, with nothing excluded: what its whole walk gives."""
    from dataclasses import replace

    from search import ordinals

    _alternatives = ordinals._alternatives
    parsed = parse_query(text)
    added = [tuple(_alternatives(g[0])) if len(g) == 1 else () for g in parsed.groups]
    extra = tuple(a for c in parsed.excluded
                  for a in _alternatives(replace(c, negated=False), negated=True))
    whole = parsed if not extra and not any(added) else replace(
        parsed, groups=tuple(g + more for g, more in zip(parsed.groups, added, strict=True)),
        excluded=parsed.excluded + extra)
    found = expand(parsed)
    assert found == whole and (found is parsed) == (whole is parsed)


def test_only_words_are_read_as_ordinals():
    """A phrase, a prefix or a query's other clauses are never ordinals: not read as one
    (each text read is remembered, and costs a fold and two patterns the first time)."""
    ordinal.cache_clear()
    for text in ('"livret jeune"', "attaq*", '"XVe siècle"', "gaza OR port"):
        parsed = parse_query(text)
        assert expand(parsed) is parsed
    assert ordinal.cache_info().currsize == 0  # (an OR's words gain no other spellings)
    parsed = parse_query("gaza port")
    assert expand(parsed) is parsed and ordinal.cache_info().currsize == 2
