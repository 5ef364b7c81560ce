"""Feedback for questions: the words the best answers share find the answers that hold
none of the question's words.

A question is written in the reader's words; the paragraph that answers it may share
none of them (« Combien de temps a duré la guerre ? » against a paragraph on the siege,
its dates and its generals). The articles a question ranks first usually speak of the
same thing: the words they share, weighed like a relevance model (RM3: each article's
share of the best scores times each word's share of the article), become a second,
lighter query. It reorders the results after the first FEEDBACK_AFTER and adds the
articles it finds, so the first page is the question's own ranking and the rest finds
more of what the question is about. Stores call `expansion()` with the words of their
best articles; the numbers are the search's `Ranking` (feedback_docs, feedback_terms,
feedback_weight: 0 turns it off).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable

__all__ = ["FEEDBACK_AFTER", "FEEDBACK_SHARE", "FEEDBACK_TEXT", "expansion"]

FEEDBACK_AFTER = 10  # results ranked by the question alone, whatever the page size
FEEDBACK_SHARE = 0.1  # words in more than this share of the articles are not added
FEEDBACK_TEXT = 2000  # characters of an article read for its words


def expansion(best: Iterable[tuple[float, Counter[str]]], *, terms: int,
              exclude: Iterable[str], doc_frequency: Callable[[str], int], documents: int
              ) -> list[tuple[str, float]]:
    """Up to `terms` words (stems) and their weights (summing to 1) from the best
    articles, given as (score, word counts): words of the question (`exclude`) and words
    found in more than FEEDBACK_SHARE of the `documents` are left out."""
    best = [(score, counts) for score, counts in best if score > 0 and counts]
    total = sum(score for score, _ in best)
    if not best or terms <= 0:
        return []
    weights: Counter[str] = Counter()
    for score, counts in best:
        length = sum(counts.values())
        for word, count in counts.items():
            weights[word] += score / total * count / length
    skip = set(exclude)
    limit = FEEDBACK_SHARE * documents
    chosen: list[tuple[str, float]] = []
    for word, weight in sorted(weights.items(), key=lambda item: (-item[1], item[0])):
        if word in skip or doc_frequency(word) > limit:
            continue
        chosen.append((word, weight))
        if len(chosen) == terms:
            break
    mass = sum(weight for _, weight in chosen)
    return [(word, weight / mass) for word, weight in chosen] if mass else []
