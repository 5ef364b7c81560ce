"""Feedback's packed stems of a batch of documents at once, counted with numpy.

`pack_numbered` (search/feedback.py) packs one document's stems from the term numbers its
pooled `text` words already hold: a Counter, a sort and a few joins an article, about a
tenth of a build. `pack_numbered_batch` gives the same text for many documents whose
numbers lie in one array (the `text` columns of a segment): the counting, the ranking
(most frequent first, ties in the order first seen) and the cut to FEEDBACK_STEMS are
done for the whole batch by numpy; Python only joins the pieces, once per document.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from search.feedback import FEEDBACK_STEMS
from search.whoosh.membership import sorted_unique

__all__ = ["counted_pairs", "pack_numbered_batch"]


def counted_pairs(doc_of: Any, found: Any, width: int, docs: int) -> tuple[Any, Any, Any]:
    """`np.unique(doc_of * width + found, return_index=True, return_counts=True)`: each
    (document, stem) pair once in order, its first word and its count. When documents and
    stems fit in 16 bits, sorted by two stable 16-bit sorts (stems, then documents), which
    numpy does by radix, about 3 times faster than the stable sort of int64 np.unique
    makes for the first indexes."""
    if width > 0x10000 or docs > 0x10000:
        return np.unique(doc_of * width + found, return_index=True, return_counts=True)
    order = np.argsort(found.astype(np.uint16), kind="stable")
    order = order[np.argsort(doc_of[order].astype(np.uint16), kind="stable")]
    keys = (doc_of * width + found)[order]  # ascending, each pair's words in their order
    new = np.ones(len(keys), dtype=bool)
    new[1:] = keys[1:] != keys[:-1]
    starts = np.flatnonzero(new)
    return keys[starts], order[starts], np.diff(np.append(starts, len(keys)))


def pack_numbered_batch(tokens: Any, spans: Sequence[tuple[int, int]], stem_of: Sequence[str],
                        dropped: Iterable[int]) -> list[str]:
    """`pack_numbered(tokens[start:end], stem_of, dropped)` of each (start, end) of
    `spans` (each at most FEEDBACK_WORDS long: the caller cuts them), in order."""
    if not spans:
        return []
    numbers = np.frombuffer(tokens, dtype=np.int32) if not isinstance(tokens, np.ndarray) \
        else tokens
    bounds = np.array(spans, dtype=np.int64).reshape(-1, 2)
    lengths = bounds[:, 1] - bounds[:, 0]
    docs = len(bounds)
    # Each word's document and its place in `numbers`.
    doc_of = np.repeat(np.arange(docs, dtype=np.int64), lengths)
    firsts = np.cumsum(lengths) - lengths
    places = np.arange(int(lengths.sum()), dtype=np.int64) \
        + np.repeat(bounds[:, 0] - firsts, lengths)
    found = numbers[places].astype(np.int64)
    # (numpy's `isin` of a few numbers built a table over their range: 2.5 ms a batch)
    kept = np.ones(len(found), dtype=bool)
    for number in dropped:
        kept &= found != number
    found, doc_of = found[kept], doc_of[kept]
    totals = np.bincount(doc_of, minlength=docs).tolist()  # words with a stem, a document
    # Each (document, stem) once, with its count and its first word (np.unique sorts
    # stably when asked for first indexes).
    width = max(len(stem_of), int(found.max(initial=0)) + 1)
    pairs, first, counts = counted_pairs(doc_of, found, width, docs)
    pair_docs, pair_stems = pairs // width, pairs % width
    # Most frequent first in each document, ties in the order first seen.
    order = np.lexsort((first, -counts, pair_docs))
    pair_docs, pair_stems, counts = pair_docs[order], pair_stems[order], counts[order]
    doc_starts = np.searchsorted(pair_docs, np.arange(docs))
    rank = np.arange(len(pair_docs)) - doc_starts[pair_docs]
    cut = rank < FEEDBACK_STEMS
    pair_docs, pair_stems, counts = pair_docs[cut], pair_stems[cut], counts[cut]
    # Pieces: " count:" before the first stem of each count, "," before the others.
    new_group = np.ones(len(counts), dtype=bool)
    new_group[1:] = (counts[1:] != counts[:-1]) | (pair_docs[1:] != pair_docs[:-1])
    # Each pair's separator, looked up by `map` in C: "," (0) or its count's label.
    # (not np.unique: its check for a masked array imports numpy.ma, 6 to 14 ms a run)
    grouped = sorted_unique(counts[new_group])
    table = [",", *(f" {c}:" for c in grouped.tolist())]
    separators = list(map(table.__getitem__, np.where(
        new_group, np.searchsorted(grouped, counts) + 1, 0).tolist()))
    stems = list(map(stem_of.__getitem__, pair_stems.tolist()))
    pieces: list[str] = [""] * (2 * len(stems))
    pieces[0::2] = separators
    pieces[1::2] = stems
    return _joined(pieces, totals,
                   (2 * np.searchsorted(pair_docs, np.arange(docs), side="right")).tolist())


_CUT = "\x00"  # between documents in `_joined`'s one string (no stem holds it: checked)


def _joined(pieces: list[str], totals: list[int], ends: list[int]) -> list[str]:
    """Each document's packed stems: its total, then its pieces (up to its end in
    `pieces`). Joined at once, documents cut by _CUT, then split (one join and one split
    in C instead of a join a document); one by one when a piece held _CUT or a document has
    no stem."""
    starts = [0, *ends[:-1]]
    if all(end > start for start, end in zip(starts, ends, strict=True)):
        heads = [pieces[start] for start in starts]
        for start, total in zip(starts, totals, strict=True):
            pieces[start] = f"{_CUT}{total}{pieces[start]}"
        packed = "".join(pieces).split(_CUT)
        if len(packed) == len(totals) + 1:
            del packed[0]
            return packed
        for start, head in zip(starts, heads, strict=True):
            pieces[start] = head
    join = "".join
    return [str(total) + join(pieces[start:end])
            for start, end, total in zip(starts, ends, totals, strict=True)]
