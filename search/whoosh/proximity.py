"""Proximity for questions in a Whoosh index: the best candidates gain where the
question's words occur close together.

The answer to « Quel professeur de Lasègue joua un rôle déterminant ? » is the paragraph
where *professeur* and *Lasègue* stand side by side, not the one that names each once,
far apart. Over the exact forms' positions (the `exact` field), each pair of neighbouring
occurrences of two different words of the question, `d` positions apart (d at most
`proximity_window`), adds the smaller of their idfs divided by d; a document's sum x
earns `proximity_weight * x / (x + PROXIMITY_K)`. Only the PROXIMITY_DEPTH best
candidates are looked at: proximity reorders, it does not find.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from search.ranking import Ranking
from search.whoosh.evaluate import Evaluator

__all__ = ["PROXIMITY_DEPTH", "PROXIMITY_K", "proximity_bonus"]

PROXIMITY_DEPTH = 100  # best candidates given a bonus
PROXIMITY_K = 4.0  # the sum that earns half the weight (two rare words side by side)


def proximity_bonus(evaluator: Evaluator, docs: Any, scores: Any, words: list[str],
                    ranking: Ranking) -> Any:
    """The bonus of each of `docs` (aligned with it; 0 outside the best candidates)."""
    bonus = np.zeros(len(docs))
    words = list(dict.fromkeys(words))
    if ranking.proximity_weight <= 0 or len(words) < 2 or not len(docs):
        return bonus
    best = np.sort(np.array([d for d, _ in Evaluator.top(docs, scores, PROXIMITY_DEPTH)],
                            dtype=np.int64))
    keys, labels, idfs = [], [], []
    for label, word in enumerate(words):
        found = evaluator.positions("exact", word, best)
        idfs.append(evaluator.searcher.idf("exact", word))
        if len(found):
            keys.append(found)
            labels.append(np.full(len(found), label))
    if len(keys) < 2:
        return bonus
    key = np.concatenate(keys)
    label = np.concatenate(labels)
    order = np.argsort(key, kind="stable")
    key, label = key[order], label[order]
    doc, position = key >> 32, key & 0xFFFFFFFF
    distance = position[1:] - position[:-1]
    near = ((doc[1:] == doc[:-1]) & (label[1:] != label[:-1]) & (distance > 0)
            & (distance <= ranking.proximity_window))
    if not near.any():
        return bonus
    idf = np.array(idfs)
    pair = np.minimum(idf[label[1:][near]], idf[label[:-1][near]]) / distance[near]
    summed = np.bincount(np.searchsorted(best, doc[1:][near]), weights=pair,
                         minlength=len(best))
    gain = ranking.proximity_weight * summed / (summed + PROXIMITY_K)
    at = np.searchsorted(best, docs)
    at[at == len(best)] = 0
    hit = best[at] == docs
    bonus[hit] = gain[at[hit]]
    return bonus
