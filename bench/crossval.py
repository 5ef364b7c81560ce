"""Cross-validation for bench/relevance.py: deterministic folds, per-query scores, choices.

A query's fold is a hash of its id (SHA-256 modulo the number of folds), so it does not
depend on the order of the queries file and is the same on every machine. When ranking
parameters are tuned, each fold's queries are ranked with the parameters that score best
on the other folds (`held_out`; best: the highest mean of the metric tuned on, nDCG@10
unless told otherwise): the mean over those queries estimates how the tuned ranking does
on queries it was not tuned on.
"""

from __future__ import annotations

import hashlib
import itertools
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = ["METRICS", "TUNED_ON", "combinations", "fold_of", "held_out", "per_query_scores"]

METRICS = ("MRR@10", "MRR@100", "R@10", "R@100", "MAP", "nDCG@10")
TUNED_ON = "nDCG@10"  # what the parameters are chosen for, unless told otherwise

Scores = dict[str, dict[str, float]]  # query id -> metric -> value


def fold_of(query_id: str, folds: int) -> int:
    """The fold (0 to folds - 1) a query belongs to."""
    digest = hashlib.sha256(query_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % folds


def combinations(grid: Mapping[str, Sequence[str]]) -> list[dict[str, str]]:
    """Every combination of the grid's values ([{}] for an empty grid), in a fixed order."""
    names = list(grid)
    return [dict(zip(names, values, strict=True))
            for values in itertools.product(*(grid[n] for n in names))]


def per_query_scores(scorer: Path, run: Path, qrels: str) -> Scores:
    """Each judged query's metrics, from the scorer's --per-query output."""
    out = subprocess.run([sys.executable, str(scorer), str(run), "--qrels", qrels,
                          "--per-query"], capture_output=True, text=True, check=True)
    scores: Scores = {}
    for line in out.stdout.splitlines():
        first, _, rest = line.partition(" ")
        pairs = [item.split("=", 1) for item in rest.split()]
        if pairs and all(len(p) == 2 and p[0] in METRICS for p in pairs):
            scores[first] = {name: float(value) for name, value in pairs}
    return scores


def _mean(scores: Scores, queries: Sequence[str], metric: str) -> float:
    return sum(scores[q][metric] for q in queries) / len(queries) if queries else 0.0


def held_out(scores: Sequence[Scores], folds: int, metric: str = TUNED_ON
             ) -> tuple[list[int], dict[str, int]]:
    """For each fold, the index of the combination whose mean `metric` over the other
    folds is best (the first one on ties); and each query's fold."""
    queries = sorted(scores[0])
    fold = {q: fold_of(q, folds) for q in queries}
    chosen = []
    for f in range(folds):
        train = [q for q in queries if fold[q] != f]
        means = [_mean(s, train, metric) for s in scores]
        chosen.append(max(range(len(scores)), key=lambda i: (means[i], -i)))
    return chosen, fold
