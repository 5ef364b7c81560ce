"""Synonyms: the synonyms.txt format, its refusals, and the same expansion on both stores."""

from __future__ import annotations

import pytest

from search import SearchRequest
from search.query import parse_query
from search.synonyms import (
    MAX_RULES,
    SynonymError,
    Synonyms,
    format_rules,
    parse_rules,
)

SITE = "https://www.exemple-actu.fr/"
HAIFA_TXT = "txt/haifa-attaque-drones-port.txt"
HAIFA_ECO = SITE + "economie/2024/01/12/mediterranee-orientale-assureurs-maritimes-primes-haifa"

RULES = """# groups and one-way rules
Daech, État islamique, EI, ISIS
PM => Premier ministre
zzport, Haïfa
zzville => ville portuaire
"""


def _synonyms(text: str = RULES) -> Synonyms:
    return Synonyms(parse_rules(text))


def _expanded(query: str, text: str = RULES) -> list[list[str]]:
    return [[c.display() for c in g] for g in _synonyms(text).expand(parse_query(query)).groups]


def test_solr_format_round_trips():
    rules = parse_rules(RULES)
    assert [r.text() for r in rules] == ["Daech, État islamique, EI, ISIS",
                                         "PM => Premier ministre", "zzport, Haïfa",
                                         "zzville => ville portuaire"]
    assert parse_rules(format_rules(rules)) == [
        type(r)(r.left, r.right, n) for n, r in enumerate(rules, 1)]


@pytest.mark.parametrize("query, expanded", [
    ("daech", [["daech", '"État islamique"', "EI", "ISIS"]]),
    ("DAËCH", [["DAËCH", '"État islamique"', "EI", "ISIS"]]),
    # entries are folded and analysed: typed words side by side match a longer entry
    ("etat islamique", [['"etat islamique"', "Daech", "EI", "ISIS"]]),
    ('"état islamique" syrie', [['"état islamique"', "Daech", "EI", "ISIS"], ["syrie"]]),
    ("PM", [["PM", '"Premier ministre"']]),
    ("premier ministre", [["premier"], ["ministre"]]),  # one-way: not back
    ("titre:isis", [["titre:isis", "titre:Daech", 'titre:"État islamique"', "titre:EI"]]),
    ("auteur:isis", [["auteur:isis"]]),  # names are names
    ("isi*", [["isi*"]]),
    ("-isis gaza", [["gaza"]]),
])
def test_expansion(query, expanded):
    assert _expanded(query) == expanded


def test_expansion_keeps_the_query_as_typed():
    parsed = _synonyms().expand(parse_query("etat islamique"))
    assert parsed.synonyms == ("Daech", "EI", "ISIS")
    assert SearchRequest("daech", synonyms=_synonyms()).query_text == "daech"


@pytest.mark.parametrize("text, line, message", [
    ("alpha, beta\n\ngamma, , delta", 3, "an empty entry"),
    ("alpha, beta\nle, la", 2, "only stop words"),
    ("alpha, beta\ngamma => ", 2, "both sides"),
    ("gaza", 1, "alone"),
    ("alpha, beta\nbeta, gamma", 2, "already in the group of line 1"),
    ("alpha => beta\nbeta => gamma\ngamma => alpha", 1,
     "a loop: alpha => beta => gamma => alpha"),
    ("alpha => beta => gamma", 1, "more than one =>"),
    ("alpha, " + "x" * 1000, 1, "1,000 characters"),
    ("alpha, " + " ".join(["mot"] * 20), 1, "more than 8 words"),
    (", ".join(f"mot{n}" for n in range(10_000)), 1, "10,000 entries in one rule"),
])
def test_bad_rules_are_refused_with_their_line(text, line, message):
    with pytest.raises(SynonymError) as caught:
        parse_rules(text)
    assert any(n == line and message in m for n, m in caught.value.problems), \
        caught.value.problems


def test_every_bad_line_is_named():
    with pytest.raises(SynonymError) as caught:
        parse_rules("alpha, , beta\nok, fine\nle, la\ngamma =>")
    assert sorted({n for n, _ in caught.value.problems}) == [1, 3, 4]
    assert str(caught.value).startswith("line 1: ")


def test_duplicates_in_a_line_are_kept_once():
    assert parse_rules("Daech, daech, DAECH, EI")[0].left == ("Daech", "EI")


def test_ten_thousand_rules_work_and_too_many_are_refused():
    text = "".join(f"mot{n}a, mot{n}b\n" for n in range(10_000))
    synonyms = _synonyms(text)
    assert synonyms.alternatives("mot9999a") == ["mot9999b"]
    with pytest.raises(SynonymError, match="at most"):
        parse_rules("".join(f"m{n}a, m{n}b\n" for n in range(MAX_RULES + 1)))


def test_a_huge_group_adds_a_bounded_number_of_alternatives():
    synonyms = _synonyms(", ".join(f"mot{n}" for n in range(100)))
    parsed = synonyms.expand(parse_query("mot1 mot2 mot3"))
    assert len(parsed.synonyms) <= 40


@pytest.fixture
def index(samples_backend):
    """The samples on each store."""
    return samples_backend


def test_synonyms_find_what_their_entries_find(index):
    assert index.search("zzport", correct_spelling=False).total == 0
    found = index.search(SearchRequest("zzport", synonyms=_synonyms(), correct_spelling=False))
    assert {h.id for h in found.hits} >= {HAIFA_TXT, HAIFA_ECO}
    assert found.query == "zzport" and found.synonyms == ["Haïfa"]
    assert any("<mark>Haïfa</mark>" in h.title_html + h.snippet_html for h in found.hits)
    assert not found.corrected


def test_a_longer_entry_is_searched_as_a_phrase(index):
    found = index.search(SearchRequest("zzville", synonyms=_synonyms()))
    plain = index.search('"ville portuaire"')
    assert found.total == plain.total > 0
    assert {h.id for h in found.hits} == {h.id for h in plain.hits}
    assert found.synonyms == ["ville portuaire"]


def test_a_plain_word_with_synonyms_stays_soft(index):
    """'zzport drones': the word gains alternatives but an article with either word is
    still found, as without synonyms."""
    without = index.search("haifa gaza")
    found = index.search(SearchRequest("zzport gaza", synonyms=_synonyms()))
    assert {h.id for h in found.hits} == {h.id for h in without.hits}


def test_results_without_synonyms_are_unchanged(index):
    plain = index.search("haifa")
    found = index.search(SearchRequest("haifa", synonyms=_synonyms("x1, x2")))
    assert [h.id for h in found.hits] == [h.id for h in plain.hits]
    assert found.synonyms == []


def test_an_exclusion_leaves_out_its_synonyms_too():
    parsed = _synonyms().expand(parse_query("attaque -ISIS -PM -zzville"))
    assert [c.display() for c in parsed.excluded] == [
        "-ISIS", "-PM", "-zzville", '-Daech', '-"État islamique"', "-EI",
        '-"Premier ministre"', '-"ville portuaire"']
    assert parsed.text() == "attaque -ISIS -PM -zzville"  # as typed
    assert parsed.synonyms == ()  # nothing added to the results: no notice


def test_excluding_a_word_excludes_its_group_on_both_stores(index):
    """`-zzport` leaves out what « Haïfa » finds, as `-haifa` does."""
    every = index.search("port")
    without = index.search("port -haifa")
    found = index.search(SearchRequest("port -zzport", synonyms=_synonyms()))
    assert without.total < every.total
    assert {h.id for h in found.hits} == {h.id for h in without.hits}
    assert found.total == without.total and found.synonyms == []
    assert index.search(SearchRequest("port -zzport")).total == every.total
    phrase = index.search(SearchRequest("port -zzville", synonyms=_synonyms()))
    assert phrase.total == index.search('port -"ville portuaire"').total < every.total
