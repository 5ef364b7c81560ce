"""Feedback for questions in a Whoosh index (search/feedback.py): the stems of the best
articles, as the index keeps them (the `stems` column), as a query over the stemmed
`text` field. An index built before that column existed has its articles' stored text
analysed again instead: slower, the same words (a rebuild makes it fast)."""

from __future__ import annotations

from typing import Any

from search.feedback import expansion, text_stems, unpack_stems
from search.ranking import Ranking
from search.whoosh.evaluate import Evaluator, Node

__all__ = ["feedback"]


def _stems(evaluator: Evaluator, doc: int) -> tuple[int, dict[str, int]]:
    """An article's feedback stems: from the column, else from its stored text."""
    column = evaluator.column("stems")
    packed = column[doc] if column is not None else b""
    if packed:
        return unpack_stems(packed.decode("utf-8"))
    fields = evaluator.searcher.stored_fields(doc)
    return text_stems(fields.get("title", ""), fields.get("lead", ""), fields.get("body", ""))


def feedback(evaluator: Evaluator, docs: Any, scores: Any, *, stems: list[str],
             ranking: Ranking) -> Node:
    """The articles the expansion of a question finds, and their scores (already weighed
    by feedback_weight for each of the question's `stems`); empty when nothing is added."""
    best = []
    for doc, score in Evaluator.top(docs, scores, ranking.feedback_docs):
        length, counts = _stems(evaluator, doc)
        best.append((score, counts, length))
    chosen = expansion(best, terms=ranking.feedback_terms, exclude=stems,
                       doc_frequency=lambda word: evaluator.doc_frequency("text", word),
                       documents=evaluator.size, share=ranking.feedback_share)
    if not chosen:
        return Node.empty()
    scale = ranking.feedback_weight * max(len(stems), 1)
    return evaluator.terms("text", [(word, weight * scale) for word, weight in chosen],
                           ranking)
