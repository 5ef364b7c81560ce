"""Which sorted document numbers are among others: np.isin, or a binary search when one side
is small (np.isin costs 20-40 µs whatever the sizes and goes over both arrays whole)."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["SMALL", "in_sorted"]

SMALL = 1000  # up to this many documents to test, a binary search is cheaper than np.isin


def in_sorted(docs: Any, among: Any) -> Any:
    """Boolean mask of `docs` in `among` (both sorted and unique), like np.isin."""
    if not len(docs) or not len(among):
        return np.zeros(len(docs), dtype=bool)
    if len(docs) <= SMALL and len(docs) <= len(among):
        at = np.searchsorted(among, docs)
        at[at == len(among)] = 0
        return among[at] == docs
    if len(among) * 16 < len(docs):  # few to find among many: look each one up
        at = np.searchsorted(docs, among)
        at = at[at < len(docs)]
        found = np.zeros(len(docs), dtype=bool)
        found[at[docs[at] == among[:len(at)]]] = True
        return found
    return np.isin(docs, among, assume_unique=True)
