"""Feedback for questions in a Whoosh index (search/feedback.py): the stems of the best
articles, as the index keeps them (the stored `stems` field), as a query over the stemmed
`text` field. An index built before that field existed has its articles' text analysed
again instead: slower, the same words (a rebuild makes it fast)."""

from __future__ import annotations

from typing import Any

from search.feedback import article_stems, expansion, unpack_stems
from search.ranking import Ranking
from search.whoosh.evaluate import Evaluator, Node

__all__ = ["feedback"]


def _stems(fields: dict[str, Any]) -> tuple[int, dict[str, int]]:
    """An article's feedback stems from its stored fields."""
    packed = fields.get("stems")
    if isinstance(packed, str) and packed:
        return unpack_stems(packed)
    return article_stems(fields.get("title", ""), fields.get("lead", ""),
                         fields.get("body", ""))


def feedback(evaluator: Evaluator, docs: Any, scores: Any, *, stems: list[str],
             ranking: Ranking) -> Node:
    """The articles the expansion of a question finds, and their scores (already weighed
    by feedback_weight for each of the question's `stems`); empty when nothing is added."""
    searcher = evaluator.searcher
    best = []
    for doc, score in Evaluator.top(docs, scores, ranking.feedback_docs):
        length, counts = _stems(searcher.stored_fields(doc))
        best.append((score, counts, length))
    chosen = expansion(best, terms=ranking.feedback_terms, exclude=stems,
                       doc_frequency=lambda word: evaluator.doc_frequency("text", word),
                       documents=evaluator.size, share=ranking.feedback_share)
    if not chosen:
        return Node.empty()
    scale = ranking.feedback_weight * max(len(stems), 1)
    return evaluator.terms("text", [(word, weight * scale) for word, weight in chosen],
                           ranking)
