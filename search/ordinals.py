"""Ordinals written several ways find each other: « XIXe », « 19e », « XIXème », « 19ème ».

French writes a century, an arrondissement or a republic in Roman or Arabic figures, with
« e », « ème » or « ième » (« er », « re », « ère » for the first), and the stemmer gives
each spelling its own stem (« XVe » is `xve`, « XIXe » `xix`, « 15e » `15e`, « 15ème »
`15em`): « 15e siècle » never met « XVe siècle ». A query's plain word that is an ordinal
gains the other spellings of the same number as alternatives when it is parsed, like a
synonym (search/synonyms.py) that is not shown: no reindexing, the same on every store,
and an index built before this finds them too.

Roman figures are read up to XXXIX (I, V and X: centuries, arrondissements, republics),
upper case (« VIe ») or lower case (« xve »), except the lower-case words French has
(« vie », « ive »); Arabic ones up to 999. The first (« 1er », « Ier ») gains nothing: it
is mostly a date (« 1er janvier »), and its other spellings only brought noise (on the
development questions, « D'où vient le 1er pasteur ? » lost its answer from 2nd to 6th).
"""

from __future__ import annotations

import re
from dataclasses import replace
from functools import lru_cache

from search.analysis import fold
from search.query import Clause, ParsedQuery, is_plain_word

__all__ = ["MAX_ROMAN", "expand", "ordinal", "roman", "spellings"]

MAX_ROMAN = 39  # the largest Roman ordinal read (XXXIX)
_SUFFIX = r"(?:e|eme|ieme|er|ere|re)"
_ARABIC = re.compile(rf"([1-9][0-9]{{0,2}}){_SUFFIX}", re.IGNORECASE)
_ROMAN_WORD = re.compile(rf"([IVX]+){_SUFFIX}|([ivx]+){_SUFFIX}")
_WORDS = frozenset({"vie", "ive"})  # French words that read as Roman ordinals
_FIGURES = (("X", 10), ("IX", 9), ("V", 5), ("IV", 4), ("I", 1))


def roman(number: int) -> str:
    """`number` (1 to MAX_ROMAN) in Roman figures."""
    out = []
    for figure, value in _FIGURES:
        while number >= value:
            out.append(figure)
            number -= value
    return "".join(out)


_ROMAN = {roman(n): n for n in range(1, MAX_ROMAN + 1)}  # the figures as written


@lru_cache(maxsize=4096)
def ordinal(word: str) -> int | None:
    """The number an ordinal word is (« XIXe », « 19ème », « 1er », « xve »), else None
    (remembered per word, as a query's words are tokenized: search/query.py)."""
    folded = fold(word)
    arabic = _ARABIC.fullmatch(folded)
    if arabic:
        return int(arabic[1])
    found = _ROMAN_WORD.fullmatch(folded)
    if not found or folded in _WORDS:
        return None
    return _ROMAN.get((found[1] or found[2]).upper())


def spellings(number: int) -> list[str]:
    """The spellings of ordinal `number` (2 or more: the first is written « 1er ») whose
    stems differ: Arabic and (up to MAX_ROMAN) Roman figures, with « e » and « ème »."""
    figures = [str(number)] + ([roman(number)] if number <= MAX_ROMAN else [])
    return [figure + ending for figure in figures for ending in ("e", "eme")]


def _alternatives(clause: Clause, negated: bool = False) -> list[Clause]:
    """The other spellings of a plain word that is an ordinal, as hidden alternatives."""
    if not is_plain_word(clause):
        return []
    number = ordinal(clause.text)
    if number is None or number == 1:  # « 1er » is mostly a date: « 1er janvier »
        return []
    own = fold(clause.text).lower()
    return [Clause("word", spelling, negated=negated, synonym=True)
            for spelling in spellings(number) if spelling.lower() != own]


def expand(parsed: ParsedQuery) -> ParsedQuery:
    """`parsed` with each ordinal word's other spellings added to its group (and to the
    exclusions, for an excluded one); unchanged when it has none."""
    for group in parsed.groups:  # (most queries: no word is an ordinal, nothing excluded)
        if len(group) == 1 and group[0].kind == "word" \
                and ordinal(group[0].text) not in (None, 1):
            break
    else:
        if not parsed.excluded:
            return parsed
    added = [tuple(_alternatives(group[0])) if len(group) == 1 else () for group in
             parsed.groups]
    extra = tuple(alternative for clause in parsed.excluded
                  for alternative in _alternatives(replace(clause, negated=False), negated=True))
    if not extra and not any(added):  # (most queries: no group compared clause by clause)
        return parsed
    return replace(parsed, groups=tuple(group + more for group, more in
                                        zip(parsed.groups, added, strict=True)),
                   excluded=parsed.excluded + extra)
