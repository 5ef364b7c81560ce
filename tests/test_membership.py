"""Membership of sorted document numbers: binary search when one side is small, else np.isin."""

from __future__ import annotations

import numpy as np

from search.whoosh.membership import SMALL, in_sorted


def test_in_sorted_agrees_with_isin_whatever_the_sizes():
    rng = np.random.default_rng(3)
    for size in (0, 1, 7, SMALL, SMALL + 1, 5000, 40000):
        docs = np.unique(rng.integers(0, 50000, size)).astype(np.int64)
        picked = docs[::997]
        for among in (docs[::3], picked, np.zeros(0, dtype=np.int64), np.array([49999, 50001]),
                      np.unique(np.concatenate([picked, rng.integers(0, 50001, 40)])),
                      np.unique(rng.integers(0, 50000, 300))):
            assert (in_sorted(docs, among) == np.isin(docs, among)).all()
