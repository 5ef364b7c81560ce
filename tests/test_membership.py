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


def test_phrase_candidates_are_found_among_a_words_documents():
    from search.whoosh.evaluate import _among

    rng = np.random.default_rng(4)
    for size, wanted in ((5000, 3), (5000, 200), (40, 39), (100, 0), (0, 5)):
        docs = np.unique(rng.integers(0, 20000, size)).astype(np.int64)
        picked = rng.choice(docs, min(wanted, len(docs)), replace=False) if len(docs) else []
        candidates = np.unique(np.concatenate([picked, rng.integers(0, 20001, wanted)])
                               ).astype(np.int64)
        assert (_among(docs, candidates) == np.isin(docs, candidates)).all()
