"""Helping the reader: did-you-mean corrections and completions, for every backend.

The rules are written once here; a backend gives a `Vocabulary`, its view of the words
the articles hold (folded, unstemmed) and of how the articles write them (the *display
form*: `hiafa` → `haïfa`, `etat unis` → `états-unis`).

- An unknown word (its stem is in no article) is replaced by a known word one edit away, or
  starting as it does: first the words that share its stem or its prefix (`ferry` →
  `ferries`, not `berry`), then the most frequent (a backend may look further).
- When every word is known, two words the articles write as one hyphenated word are
  joined (`etat unis` → `états-unis`), unless some article writes them as typed
  (`magistrats rapporteurs` is no mistake for `magistrat-rapporteur`).
- Completions are the most frequent words starting with what is typed, then titles of
  articles (which a reader may open rather than search for).

The loops here and in each Vocabulary check the search's deadline (search/deadline.py).
"""

from __future__ import annotations

import string
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass

from search.analysis import stem
from search.deadline import check
from search.query import Clause, ParsedQuery

__all__ = ["MAX_CORRECTABLE", "MAX_WORDS", "MIN_CORRECTABLE", "Completion", "Vocabulary",
           "best_correction", "complete", "completions", "correct", "edits1", "near_in_length",
           "shared_prefix"]

MIN_CORRECTABLE = 3  # shorter words are left as typed
MAX_CORRECTABLE = 30  # longer "words" are no typos: not worth 50 ms per extra letter
MAX_WORDS = 8  # a longer query is not checked word by word
MAX_COMPOUNDS = 500  # hyphenated words looked at for one pair of typed words
_LETTERS = string.ascii_lowercase + string.digits


def edits1(word: str) -> set[str]:
    """Every string one edit away from `word` (Norvig): delete, transpose, replace, insert."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = [a + b[1:] for a, b in splits if b]
    transposes = [a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1]
    replaces = [a + c + b[1:] for a, b in splits if b for c in _LETTERS]
    inserts = [a + c + b for a, b in splits for c in _LETTERS]
    return set(deletes + transposes + replaces + inserts)


def shared_prefix(word: str) -> str:
    """The start a correction may share with a typed word: all of it but its last letter."""
    return word[:-1]


def near_in_length(word: str, candidate: str) -> bool:
    """Whether a word starting like `word` is near enough in length to correct it."""
    return len(word) - 1 <= len(candidate) <= len(word) + 2


def _kinship(word: str, candidate: str) -> int:
    """0 when `candidate`'s stem starts `word` (ferries: ferr, for ferry), 1 when it starts
    as `word` does, 2 otherwise."""
    root = stem(candidate)
    if root and len(root) >= MIN_CORRECTABLE and word.startswith(root):
        return 0
    return 1 if candidate.startswith(shared_prefix(word)) else 2


def best_correction(word: str, frequencies: dict[str, int]) -> str | None:
    """The correction of `word` among known words (`frequencies`: how many articles hold
    each): one sharing its stem, else its prefix, if any; then the most frequent, ties in
    alphabetical order."""
    found = [(candidate, df) for candidate, df in frequencies.items()
             if df > 0 and candidate != word]
    if not found:
        return None
    return min(found, key=lambda item: (_kinship(word, item[0]), -item[1], item[0]))[0]


class Vocabulary(ABC):
    """What a backend knows of the articles' words, for corrections and completions."""

    @abstractmethod
    def known(self, word: str) -> bool:
        """Whether some article holds a word with the stem of `word` (folded, not a stop
        word)."""

    @abstractmethod
    def nearest(self, word: str) -> str | None:
        """The correction of `word` among the words one edit away or starting as it does
        (`best_correction` chooses)."""

    @abstractmethod
    def has_compound(self, word: str) -> bool:
        """Whether some article writes the hyphenated `word` (folded: "etats-unis")."""

    @abstractmethod
    def compounds(self, prefix: str, limit: int) -> Iterable[str]:
        """The first `limit` hyphenated words starting with `prefix`, in word order."""

    @abstractmethod
    def compound_frequency(self, word: str) -> int:
        """How many articles write the hyphenated `word`."""

    @abstractmethod
    def written_as_typed(self, words: list[str]) -> bool:
        """Whether some article has `words` side by side."""

    @abstractmethod
    def display_form(self, words: list[str]) -> str:
        """`words` (folded) as the articles write them, lowercased."""

    @abstractmethod
    def frequent_words(self, prefix: str, limit: int) -> list[str]:
        """Up to `limit` words starting with `prefix` (no stop word, no hyphenated word),
        most frequent first, in display form."""

    @abstractmethod
    def titles(self, head: list[str], last: str, limit: int) -> list[tuple[str, str]]:
        """Up to `limit` articles whose title holds the words `head` and a word starting with
        `last`: (id, title) pairs."""


def _correct_word(vocabulary: Vocabulary, word: str) -> str | None:
    if not MIN_CORRECTABLE <= len(word) <= MAX_CORRECTABLE or not word.isalnum():
        return None
    return vocabulary.nearest(word)


def _compound_for(vocabulary: Vocabulary, first: str, second: str) -> str | None:
    """The hyphenated word the articles write for two typed words (etat unis → etats-unis):
    the most frequent whose parts have the stems of both; None when the words are already
    written that way, or nothing fits."""
    stems = (stem(first), stem(second))
    if stems[0] is None or stems[1] is None:
        return None
    best, best_df = None, 0
    for word in vocabulary.compounds(stems[0], MAX_COMPOUNDS):
        check()
        parts = word.split("-")
        if len(parts) == 2 and (stem(parts[0]), stem(parts[1])) == stems:
            df = vocabulary.compound_frequency(word)
            if df > best_df:
                best, best_df = word, df
    # (asked last: a pair rarely has a candidate, and without one the answer is None)
    if best is not None and vocabulary.has_compound(f"{first}-{second}"):
        return None
    return best


def _fix_pairs(vocabulary: Vocabulary, words: list[str]) -> bool:
    """Join pairs of words the articles write as one hyphenated word; True if any."""
    changed = False
    for i in range(len(words) - 1):
        found = _compound_for(vocabulary, words[i], words[i + 1])
        if found and vocabulary.written_as_typed(words[i:i + 2]):
            continue
        if found:
            words[i], words[i + 1] = found.split("-")
            changed = True
    return changed


def correct(vocabulary: Vocabulary, parsed: ParsedQuery) -> str | None:
    """A corrected query, in display form, or None when the query looks right."""
    if sum(map(len, parsed.groups)) > MAX_WORDS:
        return None
    words: list[str] = []
    changed = False
    for group in parsed.groups:
        for clause in group:
            if clause.kind != "word" or clause.field or clause.synonym:
                continue
            for term in clause.terms():
                check()
                if stem(term) is None or vocabulary.known(term):
                    words.append(term)
                    continue
                fixed = _correct_word(vocabulary, term)
                words.append(fixed or term)
                changed = changed or fixed is not None
    if not changed and 2 <= len(words) <= 4:
        changed = _fix_pairs(vocabulary, words)
    return vocabulary.display_form(words) if changed else None


@dataclass(frozen=True)
class Completion:
    """One completion: words to search for, or the title of an article to open."""

    text: str
    article_id: str | None = None  # the article whose title this is

    @property
    def kind(self) -> str:
        """"article" for a title, "word" for words to search for."""
        return "word" if self.article_id is None else "article"


def completions(vocabulary: Vocabulary, text: str, *, limit: int = 10) -> list[Completion]:
    """Completions of what a reader is typing: frequent words, then matching titles."""
    if not isinstance(text, str) or len(text) > 200:
        return []
    terms = Clause("word", text).terms()
    if not terms or len(terms[-1]) < 2 or text.endswith(" "):
        return []
    head, last = terms[:-1], terms[-1]
    prefix = vocabulary.display_form(head) + " " if head else ""
    out = [Completion(prefix + word) for word in vocabulary.frequent_words(last, limit)]
    if len(out) < limit:
        shown = {c.text for c in out}
        for article_id, title in vocabulary.titles(head, last, limit):
            if title and title not in shown:
                out.append(Completion(title, article_id))
                shown.add(title)
    return out[:limit]


def complete(vocabulary: Vocabulary, text: str, *, limit: int = 10) -> list[str]:
    """The texts of `completions`: what a search box offers."""
    return [c.text for c in completions(vocabulary, text, limit=limit)]
