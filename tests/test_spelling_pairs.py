"""Two typed words the articles write hyphenated: the rule of search/spelling.py, asked of a
vocabulary in the order that costs least (the hyphenated word as typed looked up only when
some hyphenated word fits)."""

from __future__ import annotations

from collections.abc import Iterable

from search.query import parse_query
from search.spelling import Vocabulary, correct


class Words(Vocabulary):
    """A vocabulary of a few words and hyphenated words, counting what it is asked."""

    def __init__(self, words: set[str], compounds: dict[str, int], typed: bool = False):
        self.words, self.hyphenated, self.typed = words, compounds, typed
        self.asked: list[str] = []

    def known(self, word: str) -> bool:
        return word in self.words

    def nearest(self, word: str) -> str | None:
        return None

    def has_compound(self, word: str) -> bool:
        self.asked.append(word)
        return word in self.hyphenated

    def compounds(self, prefix: str, limit: int) -> Iterable[str]:
        return [w for w in sorted(self.hyphenated) if w.startswith(prefix)][:limit]

    def compound_frequency(self, word: str) -> int:
        return self.hyphenated[word]

    def written_as_typed(self, words: list[str]) -> bool:
        return self.typed

    def display_form(self, words: list[str]) -> str:
        return " ".join(words)

    def frequent_words(self, prefix: str, limit: int) -> list[str]:
        return []

    def titles(self, head: list[str], last: str, limit: int) -> list[tuple[str, str]]:
        return []


def test_two_words_written_hyphenated_are_joined():
    words = Words({"etat", "unis"}, {"etats-unis": 40, "etat-major": 9})
    assert correct(words, parse_query("etat unis")) == "etats unis"
    assert words.asked == ["etat-unis"]


def test_words_already_written_hyphenated_as_typed_are_left():
    words = Words({"etats", "unis"}, {"etats-unis": 40})
    assert correct(words, parse_query("etats unis")) is None
    assert words.asked == ["etats-unis"]


def test_words_written_side_by_side_somewhere_are_left():
    words = Words({"etat", "unis"}, {"etats-unis": 40}, typed=True)
    assert correct(words, parse_query("etat unis")) is None


def test_without_a_hyphenated_word_that_fits_the_typed_one_is_not_looked_up():
    words = Words({"ville", "portuaire", "etats"}, {"etats-unis": 40})
    assert correct(words, parse_query("ville portuaire")) is None
    assert correct(words, parse_query("etats portuaire")) is None  # etats-unis: not these
    assert words.asked == []
