"""Membership of sorted document numbers, by binary search for few and np.isin for many."""

from __future__ import annotations

import numpy as np

from search.whoosh.backend import SMALL_MATCHES, _within


def test_within_agrees_with_isin_whatever_the_sizes():
    rng = np.random.default_rng(3)
    for size in (0, 1, 7, SMALL_MATCHES, SMALL_MATCHES + 1, 5000):
        docs = np.unique(rng.integers(0, 20000, size)).astype(np.int64)
        for among in (docs[::3], np.zeros(0, dtype=np.int64), np.array([19999, 20001]),
                      np.unique(rng.integers(0, 20000, 300))):
            assert (_within(docs, among) == np.isin(docs, among)).all()
