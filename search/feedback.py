"""Feedback for questions: the words the best answers share find the answers that hold
none of the question's words.

A question is written in the reader's words; the paragraph that answers it may share
none of them (« Combien de temps a duré la guerre ? » against a paragraph on the siege,
its dates and its generals). The articles a question ranks first usually speak of the
same thing: the words they share, weighed like a relevance model (RM3: each article's
share of the best scores times each word's share of the article), become a second,
lighter query. It reorders the results after the first `feedback_after` (2) and adds the
articles it finds, so the first results are the question's own ranking and the rest finds
more of what the question is about. Stores call `expansion()` with the words of their
best articles; the numbers are the search's `Ranking` (feedback_docs, feedback_terms,
feedback_share, feedback_after, feedback_weight: 0 turns it off).

An article's words for feedback are the first FEEDBACK_WORDS words of its title, lead and
body, stemmed: the FEEDBACK_STEMS most frequent stems and how many words they were taken
from (`article_stems`). A store may keep them with the article when it indexes it
(`pack_stems`, `unpack_stems`), so that a question reads a few short lists instead of
analysing five articles again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from itertools import chain, groupby, islice
from operator import itemgetter
from typing import Any

from search.analysis import stem_all, words

__all__ = ["FEEDBACK_STEMS", "FEEDBACK_WORDS", "article_stems", "expansion",
           "grouped_expansion", "pack_numbered", "pack_stems", "text_stems", "unpack_grouped",
           "unpack_stems"]

FEEDBACK_WORDS = 350  # an article's first words (title, lead, body) read for its stems
FEEDBACK_STEMS = 64  # an article's stems kept for feedback (the most frequent)


def article_stems(found: Iterable[str]) -> tuple[int, dict[str, int]]:
    """How many of an article's first FEEDBACK_WORDS words (`found`: its title's, lead's
    and body's, as analysis finds them) have a stem, and the FEEDBACK_STEMS most frequent
    stems with their counts (ties: the first seen first)."""
    length, ranked = _ranked_stems(found)
    return length, dict(ranked)


def _ranked_stems(found: Iterable[str]) -> tuple[int, list[tuple[str, int]]]:
    """`article_stems` as (length, [(stem, count)] most frequent first)."""
    counts = Counter(filter(None, stem_all(islice(found, FEEDBACK_WORDS))))
    # Counter.most_common(n) is this sort, cut (ties keep the order first seen).
    ranked = sorted(counts.items(), key=itemgetter(1), reverse=True)
    del ranked[FEEDBACK_STEMS:]
    return counts.total(), ranked


def text_stems(title: str, lead: str, body: str) -> tuple[int, dict[str, int]]:
    """`article_stems` of an article's text."""
    return article_stems(chain(words(title), words(lead), words(body)))


def pack_stems(found: Iterable[str]) -> str:
    """`article_stems` as one short text, the stems grouped by count:
    "length count:stem,stem count:stem ..." (the most frequent first)."""
    length, ranked = _ranked_stems(found)
    # Most frequent first: the stems of a count follow each other.
    return " ".join([str(length), *(f"{count}:{','.join(map(_STEM, group))}"
                                    for count, group in groupby(ranked, key=_COUNT))])


_STEM, _COUNT = itemgetter(0), itemgetter(1)


def pack_numbered(found: Iterable[int], stem_of: Sequence[str], dropped: Iterable[int]) -> str:
    """`pack_stems` of words given as the numbers of their stems (`stem_of[number]`), the
    numbers in `dropped` standing for words without one (stop words): what the index's
    pooled words already hold, counted without looking each word up again."""
    counts = Counter(islice(found, FEEDBACK_WORDS))
    for number in dropped:
        counts.pop(number, None)
    # Counted in the order first seen, like the stems; the same stable sort follows.
    ranked = sorted(counts.items(), key=_COUNT, reverse=True)
    del ranked[FEEDBACK_STEMS:]
    stems = zip(map(stem_of.__getitem__, map(_STEM, ranked)), map(_COUNT, ranked),
                strict=True)
    return " ".join([str(sum(counts.values())), *(f"{count}:{','.join(map(_STEM, group))}"
                                                 for count, group in groupby(stems, key=_COUNT))])


def unpack_stems(packed: str) -> tuple[int, dict[str, int]]:
    """What `pack_stems` packed (a damaged value reads as no words)."""
    length, *groups = packed.split()
    counts: dict[str, int] = {}
    try:
        for group in groups:
            count, _, found = group.partition(":")
            counts.update(dict.fromkeys(found.split(","), int(count)))
        return int(length), counts
    except ValueError:
        return 0, {}


def unpack_grouped(packed: str) -> tuple[int, list[tuple[int, list[str]]]]:
    """What `unpack_stems` reads, as the packed text groups it: (length, [(count, stems)])
    with each stem once, for `grouped_expansion` (no dictionary made per article: about
    2.5x faster). A damaged value reads as (0, [])."""
    length, *groups = packed.split()
    found = []
    try:
        for group in groups:
            count, _, stems = group.partition(":")
            found.append((int(count), stems.split(",")))
        counted = int(length)
    except ValueError:
        return 0, []
    # The stems packed (a comma between two of a group) against the distinct ones: a stem
    # packed twice (never written so) counts as unpack_stems reads it.
    if packed.count(",") + len(found) != len(set().union(*map(_STEMS, found))):
        counted, counts = unpack_stems(packed)
        return counted, [(count, [stem]) for stem, count in counts.items()]
    return counted, found


_STEMS = itemgetter(1)


def _scored(best: Iterable[tuple[float, Any, int]]) -> tuple[list[tuple[float, Any, int]], float]:
    """The articles with a score, words and a length, and the sum of their scores."""
    kept = [item for item in best if item[0] > 0 and item[1] and item[2] > 0]
    return kept, sum(score for score, _, _ in kept)


def expansion(best: Iterable[tuple[float, Mapping[str, int], int]], *, terms: int,
              exclude: Iterable[str], doc_frequency: Callable[[str], int], documents: int,
              share: float = 0.1, common: Container[str] | None = None
              ) -> list[tuple[str, float]]:
    """Up to `terms` words (stems) and their weights (summing to 1) from the best
    articles, given as (score, word counts, words in all): words of the question
    (`exclude`) and words found in more than `share` of the `documents` are left out
    (`common`: those words, when the store knows them; doc_frequency is then not asked)."""
    best, total = _scored(best)
    if not best or terms <= 0:
        return []
    weights: dict[str, float] = {}
    held = weights.get
    for score, counts, length in best:
        part = score / total / length
        for word, count in counts.items():
            weights[word] = held(word, 0.0) + part * count
    return _chosen(weights, terms=terms, exclude=exclude, doc_frequency=doc_frequency,
                   documents=documents, share=share, common=common)


def grouped_expansion(best: Iterable[tuple[float, Sequence[tuple[int, Sequence[str]]], int]],
                      *, terms: int, exclude: Iterable[str],
                      doc_frequency: Callable[[str], int], documents: int,
                      share: float = 0.1, common: Container[str] | None = None
                      ) -> list[tuple[str, float]]:
    """`expansion` of articles whose word counts are given as `unpack_grouped` gives them:
    [(count, words)], each word once in an article. The same words and weights to the
    last bit (each word's weight is added up in the same order, from the same products),
    with one product per group instead of one per word."""
    best, total = _scored(best)
    if not best or terms <= 0:
        return []
    weights: dict[str, float] = {}
    held = weights.get
    for n, (score, groups, length) in enumerate(best):
        part = score / total / length
        for count, stems in groups:
            added = part * count
            if n == 0 and added > 0:  # the first article's words are new: 0.0 + added
                weights.update(dict.fromkeys(stems, added))
                continue
            for word in stems:
                weights[word] = held(word, 0.0) + added
    return _chosen(weights, terms=terms, exclude=exclude, doc_frequency=doc_frequency,
                   documents=documents, share=share, common=common)


def _chosen(weights: dict[str, float], *, terms: int, exclude: Iterable[str],
            doc_frequency: Callable[[str], int], documents: int, share: float,
            common: Container[str] | None) -> list[tuple[str, float]]:
    """The heaviest `terms` of `weights` that are neither excluded nor too common, their
    weights summing to 1."""
    skip = set(exclude)
    limit = share * documents
    too_common = common.__contains__ if common is not None \
        else (lambda word: doc_frequency(word) > limit)
    chosen: list[tuple[str, float]] = []
    # Heaviest first, ties by word: a stable sort by weight of the words in order (twice in
    # C, where one sort by a (-weight, word) key made a tuple per word).
    for word in sorted(sorted(weights), key=weights.__getitem__, reverse=True):
        if word in skip or too_common(word):
            continue
        chosen.append((word, weights[word]))
        if len(chosen) == terms:
            break
    mass = sum(weight for _, weight in chosen)
    return [(word, weight / mass) for word, weight in chosen] if mass else []
