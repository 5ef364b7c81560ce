"""The best `limit` of scored documents, best first, exact ties in document order.

`best_first(docs, scores, limit)` is `np.lexsort((docs, -scores))[:limit]` read as
(doc, score) pairs, without sorting or partitioning every score: the `limit`-th best of a
strided sample of the scores is a threshold that at least `limit` of them reach (the
sampled scores are among them), so one compare keeps every candidate; among those, the
`limit`-th best score `kth` is found by a partition of the candidates' scores alone, the
ones strictly above it are all taken and the ones equal to it taken in document order.
Which tied document makes the cut no longer depends on numpy's partition (whose choice
among equal values follows its SIMD path, so differs between processors): a page is the
same on every machine.

NaN scores rank last, as in `np.lexsort` (every comparison with NaN is false: a sample
or a cut at NaN keeps too few, and the plain sort of the candidates answers instead).

The arrays' own methods are called (`a.argsort()`, `a.partition()` of a copy,
`mask.nonzero()[0]`) rather than numpy's functions of the same name (`np.argsort`,
`np.partition`, `np.flatnonzero`), which are Python code calling them after a dispatch:
the same operations, without a few µs of interpreter work a search meets cold.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["FEW_SORTED", "PLAIN_SORTED", "SAMPLED", "best_first", "best_in_tiers",
           "best_of_array", "best_of_sorted", "best_of_two"]

SAMPLED = 128  # scores sampled per result wanted, to set the candidates' threshold
# At most this many scores are sorted whole (`np.lexsort`, the definition): a partition and
# its cut cost a dozen numpy calls, more than sorting a rare word's few hundred matches
# (best of 1,000 runs: 12-14 against 4-10 us for 11 to 400 scores; even at 600).
PLAIN_SORTED = 512
# At most this many scores of documents in ascending order are sorted in Python
# (`best_of_sorted`): a sort of a few tuples runs the interpreter's code, which every search
# keeps warm, where numpy's sort is code a search meets once (cold after other work: 17
# against 37 us for 5 scores, 31 against 42 for 20; level at about 30).
FEW_SORTED = 16


def best_first(docs: Any, scores: Any, limit: int) -> list[tuple[int, float]]:
    """The `limit` best (doc, score) of `docs` (int64) and `scores` (float64, the same
    length), best first, equal scores by ascending document number."""
    if limit <= 0 or not len(docs):
        return []
    large = len(docs) > max(limit, PLAIN_SORTED)
    if large:
        held = _candidates(scores, limit)
        if held is not None:
            docs, scores = docs[held], scores[held]
    return _sorted_best(docs, scores, limit, large)


def best_of_sorted(docs: Any, scores: Any, limit: int) -> list[tuple[int, float]]:
    """`best_first` of documents in ascending order (a node's: sorted, unique). Their order
    is the ties' order, so one stable sort of the scores (descending) is `np.lexsort((docs,
    -scores))`, a sort of one key where lexsort sorts two (cold after other work, as a
    search's sort is: 47 against 64 us for 100 scores); a few are sorted in Python
    (FEW_SORTED). More than PLAIN_SORTED: `best_first`."""
    size = len(docs)
    if limit <= 0 or not size:
        return []
    if size > PLAIN_SORTED:
        return best_first(docs, scores, limit)
    if size <= FEW_SORTED:
        return sorted(zip(docs.tolist(), scores.tolist(), strict=True), key=_sort_key)[:limit]
    order = (-scores).argsort(kind="stable")  # NaN last, as lexsort puts it
    if size > limit:
        order = order[:limit]
    return list(zip(docs[order].tolist(), scores[order].tolist(), strict=True))


def best_of_array(scores: Any, limit: int) -> list[tuple[int, float]]:
    """`best_first(np.arange(len(scores)), scores, limit)`: the documents are the positions
    of `scores` (an array the size of the index), and no array of them is made unless
    the sample spares nothing (the candidates' positions are their documents)."""
    if limit <= 0 or not len(scores):
        return []
    docs = None
    if len(scores) > max(limit, PLAIN_SORTED):
        held = _candidates(scores, limit)
        if held is not None:
            docs, scores = held, scores[held]
    if docs is None:
        docs = np.arange(len(scores), dtype=np.int64)
    return _sorted_best(docs, scores, limit, True)


def _sorted_best(docs: Any, scores: Any, limit: int, cut: bool) -> list[tuple[int, float]]:
    """The `limit` best of (docs, scores) by one sort (score down, then document), after
    `_cut` has dropped what cannot be among them when `cut` and there are more."""
    if cut and len(docs) > limit:
        chosen = _cut(docs, scores, limit)
        if chosen is not None:
            docs, scores = docs[chosen], scores[chosen]
    order = np.lexsort((docs, -scores))
    if len(order) > limit:
        order = order[:limit]
    return list(zip(docs[order].tolist(), scores[order].tolist(), strict=True))


def best_in_tiers(docs: Any, scores: Any, first: Any, limit: int
                  ) -> list[tuple[int, float]]:
    """`best_first` of the documents where the mask `first` is True, then of the others,
    `limit` in all: a few hundred sorted at once, the tier as the first key (one sort and
    two gathers, where two `best_first` took four gathers and two sorts)."""
    if limit <= 0 or not len(docs):
        return []
    if len(docs) > PLAIN_SORTED:
        ranked = best_first(docs[first], scores[first], limit)
        rest = ~first
        return ranked + best_first(docs[rest], scores[rest], limit - len(ranked))
    order = np.lexsort((docs, -scores, ~first))
    if len(order) > limit:
        order = order[:limit]
    return list(zip(docs[order].tolist(), scores[order].tolist(), strict=True))


def best_of_two(first: tuple[Any, Any], second: tuple[Any, Any], common: Any, limit: int
                ) -> list[tuple[int, float]]:
    """`best_in_tiers` of the Or of two scored sets, each (sorted unique docs, scores),
    whose documents in both are `common` (sorted; a few), without the Or:
    the common documents first, scored as `np.bincount` sums them ((0.0 + a) + b), then
    the others, each with its one set's score (0.0 + s), best first. Each set's `limit`
    best holds its best outside `common` (at most `len(common)` of them are in it), so
    the two sets' best (`best_first`), merged, are the rest: two sorts of each set's
    few hundred scores, where the Or took a dozen numpy calls to merge the sets, a mask
    of the tier and a sort of three keys."""
    if limit <= 0:
        return []
    shared = common.tolist()
    ranked: list[tuple[int, float]] = []
    if shared:
        sums = [(0.0 + a) + b for a, b in zip(
            first[1][first[0].searchsorted(common)].tolist(),
            second[1][second[0].searchsorted(common)].tolist(), strict=True)]
        ranked = sorted(zip(shared, sums, strict=True), key=_sort_key)[:limit]
    rest = limit - len(ranked)
    if rest <= 0:
        return ranked
    # the two sets' postings in one sort: a common document is there twice, so the
    # `rest` best of the others are among the first `rest` + twice the common ones
    held = set(shared)
    found = best_first(np.concatenate((first[0], second[0])),
                       np.concatenate((first[1], second[1])), rest + 2 * len(shared))
    others = [(doc, 0.0 + score) for doc, score in found if doc not in held]
    return ranked + others[:rest]


def _sort_key(item: tuple[int, float]) -> tuple[bool, float, int]:
    """(doc, score) in `np.lexsort((docs, -scores))`'s order: score down, NaN last (as
    numpy sorts it), then document."""
    doc, score = item
    if score != score:  # NaN
        return True, 0.0, doc
    return False, -score, doc


def _candidates(scores: Any, limit: int) -> Any:
    """The sorted positions of the scores reaching a strided sample's `limit`-th best (a
    superset of the best `limit`), or None when a sample would spare little: too few
    scores per result wanted, most of them kept (many equal to the threshold), or too few
    kept (NaN in the sample)."""
    step = len(scores) // (limit * SAMPLED)
    if step < 2:
        return None
    sample = scores[::step]
    cut = len(sample) - limit
    sample = sample.copy()  # (np.partition's copy)
    sample.partition(cut)
    held = (scores >= sample[cut]).nonzero()[0]
    if len(held) < limit or len(held) > len(scores) // 2:
        return None
    return held


def _cut(docs: Any, scores: Any, limit: int) -> Any:
    """The positions of the best `limit` by (score descending, doc ascending), unordered;
    None when a NaN is in the way (the caller's plain sort then answers)."""
    at = len(scores) - limit
    parted = scores.copy()  # (np.partition's copy)
    parted.partition(at)
    kth = parted[at]  # the limit-th best, unless NaN (sorted last here)
    better = (scores > kth).nonzero()[0]
    need = limit - len(better)  # at least 1: fewer than `limit` are above the limit-th
    tied = (scores == kth).nonzero()[0]
    if len(tied) < need:  # kth NaN, or pushed up by NaNs
        return None
    if len(tied) > need:  # the first `need` in document order
        tied = tied[docs[tied].argpartition(need - 1)[:need]]
    return np.concatenate((better, tied))
