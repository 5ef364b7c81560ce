"""Feedback for questions in a Whoosh index (search/feedback.py): the stems of the best
articles, as the index keeps them (the `stems` column), as a query over the stemmed
`text` field. An index built before that column existed has its articles' stored text
analysed again instead: slower, the same words (a rebuild makes it fast).

The expansion's words are scored into one array the size of the index (their BM25F sums,
as `Evaluator.terms` scores them), and merged with the question's matches there: one
pass picks every document either finds, with no sorted list of the expansion's own
matches made first.
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from search.feedback import expansion, text_stems, unpack_stems
from search.ranking import Ranking
from search.whoosh.evaluate import Evaluator

__all__ = ["expanded", "feedback_words", "summed"]

# Each generation's BM25 length norms of a field for one k1 and b (an array the size of the
# index), so that scoring feedback's words gathers one number per posting instead of four.
_NORMS: weakref.WeakKeyDictionary[Evaluator, dict[tuple[str, float, float], Any]] = \
    weakref.WeakKeyDictionary()


def _stems(evaluator: Evaluator, doc: int) -> tuple[int, dict[str, int]]:
    """An article's feedback stems: from the column, else from its stored text."""
    column = evaluator.column("stems")
    packed = column[doc] if column is not None else b""
    if packed:
        return unpack_stems(packed.decode("utf-8"))
    fields = evaluator.searcher.stored_fields(doc)
    return text_stems(fields.get("title", ""), fields.get("lead", ""), fields.get("body", ""))


def _norms(evaluator: Evaluator, fieldname: str, ranking: Ranking) -> Any:
    """k1 * ((1 - b) + b * length / average length) of every document."""
    found = _NORMS.setdefault(evaluator, {})
    key = (fieldname, ranking.k1, ranking.b)
    if key not in found:
        k1, b = ranking.k1, ranking.b
        avgfl = evaluator.searcher.avg_field_length(fieldname) or 1.0
        found[key] = k1 * ((1 - b) + b * evaluator.lengths(fieldname) / avgfl)
    return found[key]


def summed(evaluator: Evaluator, fieldname: str, weighted: list[tuple[str, float]],
           ranking: Ranking) -> tuple[Any, Any] | None:
    """The terms' scores summed per document, as `Evaluator.terms` computes them, in an
    array the size of the index, and which documents hold any of them (None: every
    document with a score above 0); None when no document holds any."""
    words = [text for text, _ in weighted]
    docs_parts, freq_parts, offsets, counts = [], [], [], []
    for (_, offset), postings in zip(evaluator.leaves, evaluator.postings, strict=True):
        found, weights, sizes = postings.gather(fieldname, words)  # one call a segment
        if len(found):
            docs_parts.append(found)
            freq_parts.append(weights)
            offsets.append(offset)
            counts.append(sizes)
    if not docs_parts:
        return None
    held_by = [any(sizes[n] for sizes in counts) for n in range(len(words))]
    factors = [evaluator.searcher.idf(fieldname, text) * boost if held else 0.0
               for (text, boost), held in zip(weighted, held_by, strict=True)]
    # Each segment's postings term after term: a document (in one segment) has its words
    # summed in the order of `weighted`, as Evaluator.terms sums them.
    docs = np.concatenate(docs_parts, dtype=np.int64, casting="safe")
    if any(offsets):
        docs += np.repeat(np.array(offsets, dtype=np.int64), [len(p) for p in docs_parts])
    weights = np.concatenate(freq_parts, dtype=np.float64, casting="safe")
    factor = np.concatenate([np.repeat(factors, sizes) for sizes in counts])
    factors = [f for f, held in zip(factors, held_by, strict=True) if held]
    if not evaluator.all_live:
        keep = evaluator.live[docs]
        docs, weights, factor = docs[keep], weights[keep], factor[keep]
    k1 = ranking.k1
    scores = factor * (weights * (k1 + 1)) / (weights + _norms(evaluator, fieldname,
                                                                ranking)[docs])
    dense = np.bincount(docs, weights=scores, minlength=evaluator.size)
    held = None if min(factors) > 0 else np.bincount(docs, minlength=evaluator.size) > 0
    return dense, held


def feedback_words(evaluator: Evaluator, docs: Any, scores: Any, *, stems: list[str],
                   ranking: Ranking) -> list[tuple[str, float]]:
    """The expansion (search/feedback.py) of the best of the question's matches."""
    best = []
    for doc, score in Evaluator.top(docs, scores, ranking.feedback_docs):
        length, counts = _stems(evaluator, doc)
        best.append((score, counts, length))
    return expansion(best, terms=ranking.feedback_terms, exclude=stems,
                     doc_frequency=lambda word: evaluator.doc_frequency("text", word),
                     documents=evaluator.size, share=ranking.feedback_share)


def expanded(evaluator: Evaluator, docs: Any, scores: Any, *, stems: list[str],
             ranking: Ranking, allowed: Any, banned: Any) -> tuple[Any, Any, Any] | None:
    """The question's matches (`docs`, `scores`) and the articles the expansion of its
    best ones finds (search/feedback.py), the filters `allowed` (a mask or None) and
    `banned` (sorted documents or None) applied to those: their documents, the question's
    scores (0 for the added ones) and the scores with feedback's (already weighed by
    feedback_weight for each of the question's `stems`); None when feedback finds
    nothing."""
    chosen = feedback_words(evaluator, docs, scores, stems=stems, ranking=ranking)
    if not chosen:
        return None
    scale = ranking.feedback_weight * max(len(stems), 1)
    found = summed(evaluator, "text", [(word, weight * scale) for word, weight in chosen],
                   ranking)
    if found is None:
        return None
    more, held = found
    seen = more > 0 if held is None else held
    if allowed is not None:
        seen &= allowed
    if banned is not None and len(banned):
        seen[banned] = False
    seen[docs] = True
    every = np.flatnonzero(seen)
    own = np.zeros(evaluator.size)
    own[docs] = scores
    own = own[every]
    # The question's matches passed the filters already: every document kept may add.
    return every, own, own + more[every]
