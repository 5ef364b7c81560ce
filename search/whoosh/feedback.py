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

from typing import Any

import numpy as np

from search.feedback import expansion, text_stems, unpack_stems
from search.ranking import Ranking
from search.whoosh.evaluate import Evaluator

__all__ = ["expanded", "feedback_words"]


def _stems(evaluator: Evaluator, doc: int) -> tuple[int, dict[str, int]]:
    """An article's feedback stems: from the column, else from its stored text."""
    column = evaluator.column("stems")
    packed = column[doc] if column is not None else b""
    if packed:
        return unpack_stems(packed.decode("utf-8"))
    fields = evaluator.searcher.stored_fields(doc)
    return text_stems(fields.get("title", ""), fields.get("lead", ""), fields.get("body", ""))


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
    found = evaluator.summed_terms(
        "text", [(word, weight * scale) for word, weight in chosen], ranking)
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
