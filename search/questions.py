"""Queries typed as questions (« Quelle ville les Portugais conquièrent-ils ? »): what makes
a query one, and how much each of its plain words counts in ranking.

- Interrogative words (quel, quelle, comment, pourquoi, combien, quand…) are left out of
  ranking, in every query that has other words to rank by: the answer rarely holds them.
  Phrases keep them (`"comment faire"` is that phrase), and a query of interrogatives
  only is searched for them. (qui, que, où, est-ce que and the -t-il of inversions are stop
  words: analysis drops them already.)
- In a question, the word asked about (« quelle *ville* », « qui était le *maire* ») counts
  `answer_weight`: the answer names a city more often than it says « ville ».
- In a question, a capitalised word after the first is a name and counts `name_weight`.
- A question's words are the reader's, the answer's may be another form of them: a word
  also matches the index's stems that differ from its own by an ending (`is_variant`:
  *rapatriement* gives `rapatri`, *rapatriés* `rapatr`), which count `variant_weight`
  at most (stemmers are not consistent across a word's family).

A query is a question when it ends with « ? », holds an interrogative, starts with qui,
que, qu', où (or « à qui », « de quoi »…), or inverts a subject (« a-t-il », « sont-elles »).
Questions are ranked without the tier of articles holding every word (the answer rarely
holds them all), and with the stores' other question-only help (search/ranking.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from search.analysis import fold, stem
from search.query import Clause, ParsedQuery
from search.ranking import Ranking

__all__ = ["INTERROGATIVES", "VARIANT_ENDING", "VARIANT_LETTERS", "Shape", "is_question",
           "is_variant", "query_shape", "ranked_stems", "variant_prefix", "words_ask"]

# Interrogatives that analysis keeps (qui, que, où are stop words): left out of ranking.
INTERROGATIVES = frozenset({
    "quel", "quelle", "quels", "quelles", "lequel", "laquelle", "lesquels", "lesquelles",
    "quoi", "comment", "pourquoi", "combien", "quand",
})
# Interrogatives that open a question but are stop words (or "or": ou), and elided qu'.
_OPENERS = frozenset({"qui", "que", "ou", "qu"})
_SUBJECTS = frozenset({"il", "ils", "elle", "elles", "on"})  # a-t-il, sont-elles
# What may come before an opener: « à qui », « de quoi », « par qui », « pour quoi ».
_BEFORE_OPENER = frozenset({"a", "de", "d", "en", "dans", "par", "pour", "sur", "avec", "vers",
                            "chez", "sous", "contre", "selon", "entre", "depuis"})
_ASKING = INTERROGATIVES | {"qui", "que", "ou"}  # what the word asked about comes after
VARIANT_LETTERS = 4  # the shortest stem that has variants, and the shortest variant
VARIANT_ENDING = 2  # letters a variant's ending may add or lose


@dataclass(frozen=True)
class Shape:
    """How a query ranks: whether it is a question, and each group's weight (0: left out
    of ranking), aligned with the parsed query's groups."""

    question: bool
    weights: tuple[float, ...]


def _plain(group: tuple[Clause, ...]) -> Clause | None:
    """The group's clause when it is one plain word (no field, no phrase, no prefix)."""
    if len(group) == 1 and group[0].kind == "word" and not group[0].field:
        return group[0]
    return None


def is_question(text: str, plain: list[Clause | None], terms: list[list[str]]) -> bool:
    """Whether the query typed as `text` is a question; `plain` are its groups' plain
    words (None for a group of another kind), `terms` each plain word's (read once)."""
    if text.rstrip().endswith(("?", "？")):
        return True
    words = [(c, t) for c, t in zip(plain, terms, strict=True) if c is not None]
    for n, (clause, found) in enumerate(words):
        if not INTERROGATIVES.isdisjoint(found) or found == ["t"]:
            return True
        if len(found) > 1 and found[-1] in _SUBJECTS and found[0] not in _SUBJECTS:
            return True  # an inversion: a-t-il, sont-elles (not "elle-même")
        first = n == 0 or (n == 1 and words[0][1] and words[0][1][0] in _BEFORE_OPENER
                           and plain[0] is words[0][0])
        if first and found and (found[0] in _OPENERS or _opens_with_qu(clause.text)):
            return True
    return False


# `words_ask`'s sets: what makes any word a question, and the first word (interrogatives,
# the "t" of an inversion, openers)
_ASKS = INTERROGATIVES | {"t"}
_ASKS_FIRST = _ASKS | _OPENERS


def words_ask(text: str, words: list[tuple[str, str]]) -> bool:
    """`is_question(text, clauses, [[term] for each])` of plain words of one term each
    (`words`: each one's (text as typed, term)), in fewer steps: one set looked up a word
    (an inversion needs two terms in a word, and every word is one `is_question` looks
    at), an elided qu' only looked for in a word that may start with one."""
    if text.rstrip().endswith(("?", "？")):
        return True
    for n, (typed, term) in enumerate(words):
        if n == 0 or (n == 1 and words[0][1] in _BEFORE_OPENER):  # where an opener opens
            if term in _ASKS_FIRST or ((typed[0] in "qQ" or not typed[0].isascii())
                                       and _opens_with_qu(typed)):
                return True
        elif term in _ASKS:
            return True
    return False


def _opens_with_qu(text: str) -> bool:
    """Whether a word starts with an elided qu' (straight or curly apostrophe)."""
    if text.isascii():  # (most words: folding changes nothing, and no curly apostrophe)
        return text[:3].lower() == "qu'"
    if text[0].isascii() and text[0] not in "qQ":  # folding goes character by character:
        return False  # a word starting with another ASCII character folds to one too
    return fold(text).lower().replace("\u2019", "'").startswith("qu'")


def query_shape(parsed: ParsedQuery, ranking: Ranking, text: str = "") -> Shape:
    """The shape of `parsed` (typed as `text`), with weights from `ranking`."""
    plain = [_plain(g) for g in parsed.groups]
    every = [c.terms() if c is not None else [] for c in plain]
    question = is_question(text, plain, every)
    asking = [c is not None and all(t in INTERROGATIVES for t in found)
              for c, found in zip(plain, every, strict=True)]
    # Something else to rank by: a plain word analysis keeps, or any other clause.
    others = any(not a and (c is None or any(stem(t) for t in found))
                 for c, a, found in zip(plain, asking, every, strict=True))
    weights = []
    after_asking = False
    for n, clause in enumerate(plain):
        if clause is None:
            weights.append(1.0)
            after_asking = False
            continue
        terms = every[n]
        if asking[n] and others:
            weights.append(0.0)
            after_asking = True
            continue
        weight = 1.0
        content = any(stem(t) for t in terms)
        if question and content:
            if after_asking:
                weight *= ranking.answer_weight
            if n and clause.text[:1].isupper():
                weight *= ranking.name_weight
        weights.append(weight)
        if content:
            after_asking = False
        elif any(t in _ASKING for t in terms):
            after_asking = True
    return Shape(question, tuple(weights))


def ranked_stems(parsed: ParsedQuery, shape: Shape) -> list[str]:
    """The stems of the plain words that count in ranking (weight above 0), in order."""
    stems: list[str] = []
    for group, weight in zip(parsed.groups, shape.weights, strict=True):
        clause = _plain(group)
        if clause is not None and weight > 0:
            stems += [s for t in clause.terms() if (s := stem(t)) is not None and s not in stems]
    return stems


def variant_prefix(stem: str) -> str | None:
    """The prefix every variant of `stem` starts with (None: a stem too short, or not made
    of letters, has none)."""
    if len(stem) < VARIANT_LETTERS or not stem.isalpha():
        return None
    return stem[:max(VARIANT_LETTERS, len(stem) - VARIANT_ENDING)]


def is_variant(stem: str, other: str) -> bool:
    """Whether `other` is `stem` with up to VARIANT_ENDING letters added or taken off."""
    if other == stem or variant_prefix(stem) is None or not other.isalpha():
        return False
    if stem.startswith(other):
        return len(other) >= max(VARIANT_LETTERS, len(stem) - VARIANT_ENDING)
    return other.startswith(stem) and len(other) - len(stem) <= VARIANT_ENDING
