"""Feedback for questions in a Whoosh index (search/feedback.py): the words of the best
articles, read again from their stored text, as a query over the stemmed `text` field."""

from __future__ import annotations

from collections import Counter
from typing import Any

from search.analysis import stem, words
from search.feedback import FEEDBACK_TEXT, expansion
from search.ranking import Ranking
from search.whoosh.evaluate import Evaluator, Node

__all__ = ["feedback"]


def feedback(evaluator: Evaluator, docs: Any, scores: Any, *, stems: list[str],
             ranking: Ranking) -> Node:
    """The articles the expansion of a question finds, and their scores (already weighed
    by feedback_weight for each of the question's `stems`); empty when nothing is added."""
    searcher = evaluator.searcher
    best: list[tuple[float, Counter[str]]] = []
    for doc, score in Evaluator.top(docs, scores, ranking.feedback_docs):
        fields = searcher.stored_fields(doc)
        text = " ".join((fields.get("title", ""), fields.get("lead", ""),
                         fields.get("body", "")[:FEEDBACK_TEXT]))
        counts: Counter[str] = Counter()
        for word, count in Counter(words(text)).items():  # each distinct word stemmed once
            if (stemmed := stem(word)) is not None:
                counts[stemmed] += count
        best.append((score, counts))
    chosen = expansion(best, terms=ranking.feedback_terms, exclude=stems,
                      doc_frequency=lambda word: evaluator.doc_frequency("text", word),
                      documents=evaluator.size)
    if not chosen:
        return Node.empty()
    scale = ranking.feedback_weight * max(len(stems), 1)
    return evaluator.terms("text", [(word, weight * scale) for word, weight in chosen],
                           ranking)
