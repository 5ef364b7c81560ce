"""Feedback for questions in a Whoosh index (search/feedback.py): the stems of the best
articles, as the index keeps them (the `stems` column), as a query over the stemmed
`text` field. An index built before that column existed has its articles' stored text
analysed again instead: slower, the same words (a rebuild makes it fast).

The expansion's words are scored into one array the size of the index (their BM25F sums,
as `Evaluator.summed_terms` scores them), and
merged with the question's matches there: one pass picks every document either finds,
with no sorted list of the expansion's own matches made first.
"""

from __future__ import annotations

from typing import Any, NamedTuple
from weakref import WeakKeyDictionary

import numpy as np

from search.feedback import grouped_expansion, text_stems, unpack_grouped
from search.ranking import Ranking
from search.whoosh.best import best_of_array
from search.whoosh.evaluate import Evaluator, Node

__all__ = ["Expanded", "Summed", "best_of_sums", "common_words", "expanded",
           "feedback_words", "leading", "summed_feedback", "top", "without"]


class Expanded(NamedTuple):
    """What feedback makes of a question's matches (see `expanded`)."""

    docs: Any  # the question's matches and the articles the expansion adds, sorted
    own: Any  # their question's scores (0 for the added ones); None when `first` is known
    later: Any  # their scores with feedback's
    first: list[tuple[int, float]] | None  # the first feedback_after by `own`, when known


class Summed(NamedTuple):
    """What feedback makes of a question's matches, left in an array the size of the
    index (see `expanded`): `Expanded.later` at `Expanded.docs`, 0 elsewhere, when every
    one of those scores above 0."""

    sums: Any  # each document's score with feedback's: above 0 exactly at the documents
    kept: Any  # a mask of those documents (sums > 0): Expanded.docs is its flatnonzero
    total: int  # how many (Expanded.docs' length)
    first: list[tuple[int, float]]  # the first feedback_after by the question's scores


def _stems(evaluator: Evaluator, doc: int) -> tuple[int, list[tuple[int, list[str]]]]:
    """An article's feedback stems as `unpack_grouped` gives them: from the column, else
    from its stored text."""
    column = evaluator.column("stems")
    packed = column[doc] if column is not None else b""
    if packed:
        return unpack_grouped(packed.decode("utf-8"))
    fields = evaluator.searcher.stored_fields(doc)
    length, counts = text_stems(fields.get("title", ""), fields.get("lead", ""),
                                fields.get("body", ""))
    return length, [(count, [stem]) for stem, count in counts.items()]


# Per generation's evaluator, per (field, share): its words found in more than that share
# of the documents (a few hundred), so that choosing feedback's words asks no frequencies
_COMMON: WeakKeyDictionary[Evaluator, dict[tuple[str, float], frozenset[str]]] = \
    WeakKeyDictionary()


def common_words(evaluator: Evaluator, fieldname: str, share: float) -> frozenset[str]:
    """The words of `fieldname` whose `doc_frequency` is above `share` of the index's
    documents (made once per generation and share)."""
    known = _COMMON.setdefault(evaluator, {})
    found = known.get((fieldname, share))
    if found is None:
        listed = evaluator.directory.field(fieldname)
        found = frozenset() if listed is None else frozenset(
            listed.terms[n] for n in
            np.flatnonzero(listed.frequencies > share * evaluator.size).tolist())
        known[(fieldname, share)] = found
    return found


def feedback_words(evaluator: Evaluator, docs: Any, scores: Any, *, stems: list[str],
                   ranking: Ranking, best: list[tuple[int, float]] | None = None
                   ) -> list[tuple[str, float]]:
    """The expansion (search/feedback.py) of the best of the question's matches (`best`:
    `Evaluator.top` of them, when the caller has it)."""
    if best is None:
        best = top(docs, scores, ranking.feedback_docs)
    found = []
    for doc, score in best:
        length, groups = _stems(evaluator, doc)
        found.append((score, groups, length))
    return grouped_expansion(found, terms=ranking.feedback_terms, exclude=stems,
                             doc_frequency=lambda word: evaluator.doc_frequency("text", word),
                             documents=evaluator.size, share=ranking.feedback_share,
                             common=common_words(evaluator, "text", ranking.feedback_share))


def top(docs: Any, scores: Any, limit: int, apart: list[int] | None = None
        ) -> list[tuple[int, float]]:
    """`Evaluator.top(docs, scores, limit)`, of `without(docs, apart)` and
    `without(scores, apart)` when `apart` lists positions to leave out: those are set
    aside in place (to -inf, then put back) rather than copied out, unless the answer
    could reach them (a limit past what is left, or -inf among the best)."""
    if not apart:
        return Evaluator.top(docs, scores, limit)
    found = None
    if limit <= len(docs) - len(apart):
        kept = scores[apart]
        scores[apart] = -np.inf
        try:
            found = Evaluator.top(docs, scores, limit)
        finally:
            scores[apart] = kept
        if found and found[-1][1] == -np.inf:
            found = None
    if found is None:
        found = Evaluator.top(without(docs, apart), without(scores, apart), limit)
    return found


def leading(best: list[tuple[int, float]], after: int) -> list[tuple[int, float]] | None:
    """What `Evaluator.top(every, own, after)` gives, read from `best` (the top of the
    question's matches, ties in document order): its first `after` when the last of them
    is above 0, the added articles' own score (one of those could come first at 0, by its
    document number). None then, or when `best` is too short."""
    if after <= 0 or len(best) < after or not best[after - 1][1] > 0.0:
        return None
    return best[:after]


def without(values: Any, at: list[int]) -> Any:
    """`values` without the items at the sorted positions `at`, as np.delete gives them
    (joined slices: np.delete masks the whole array, 3x slower for two of 45,000)."""
    runs, start = [], 0
    for n in at:
        runs.append(values[start:n])
        start = n + 1
    runs.append(values[start:])
    return np.concatenate(runs)


def expanded(evaluator: Evaluator, docs: Any, scores: Any, *, stems: list[str],
             ranking: Ranking, allowed: Any, banned: Any, dense: Any = None,
             summed: bool = False) -> Expanded | Summed | None:
    """The question's matches (`docs`, `scores`) and the articles the expansion of its
    best ones finds (search/feedback.py), the filters `allowed` (a mask or None) and
    `banned` (sorted documents or None) applied to those: their documents, their scores
    with feedback's (already weighed by feedback_weight for each of the question's
    `stems`), and the first `feedback_after` by the question's scores when its best
    articles settle them, else the question's scores of every document (0 for the added
    ones); None when feedback finds nothing. `dense`, when given, is `scores` as an array
    the size of the index (0 where `docs` are not): merged from it without scattering
    them again (Node.dense of the question's Or, unfiltered).

    `summed` (no filter) asks for the answer as `Summed` when it can be read
    from the sums alone: the first `feedback_after` known, the question's scores all above
    0 and the expansion's sums at least 0 (`Evaluator.sums_not_negative`). Then a document
    is kept exactly where its sum is above 0, so counting and ranking them need neither
    the mask of the question's matches nor the documents and scores copied out of the
    array (at a million articles, four passes over it and two gathers of half a million
    values: about 2.5 ms a question); an `Expanded` otherwise."""
    best = top(docs, scores, ranking.feedback_docs)
    chosen = feedback_words(evaluator, docs, scores, stems=stems, ranking=ranking, best=best)
    if not chosen:
        return None
    scale = ranking.feedback_weight * max(len(stems), 1)
    found = evaluator.summed_terms(
        "text", [(word, weight * scale) for word, weight in chosen], ranking)
    if found is None:
        return None
    more, held = found
    first = leading(best, ranking.feedback_after)
    if (summed and held is None and first is not None and allowed is None
            and (banned is None or not len(banned)) and len(scores)
            and evaluator.sums_not_negative("text", ranking) and scores.min() > 0):
        # more >= 0 everywhere, the question's scores > 0 at `docs`: their sums are
        # above 0 exactly at `docs` and where more is, the documents kept below (and the
        # same sums as below: dense is 0.0 elsewhere)
        if dense is None:
            np.add.at(more, docs, scores)
        else:
            more += dense
        kept = np.greater(more, 0.0)
        return Summed(more, kept, int(np.count_nonzero(kept)), first)
    seen = more > 0 if held is None else held
    if allowed is not None:
        seen &= allowed
    if banned is not None and len(banned):
        seen[banned] = False
    seen[docs] = True
    every = np.flatnonzero(seen)
    own = None
    if first is None:  # the search finds the first ones itself, by every own score
        if dense is None:
            own = np.zeros(evaluator.size)
            own[docs] = scores
        else:
            own = dense
        own = own[every]
    # The question's matches passed the filters already: every document kept may add.
    # (Its scores added to the expansion's where they are: own + more, bit for bit; from
    # `dense`, the other documents add 0.0, which leaves their sums as they are.)
    if dense is None:
        np.add.at(more, docs, scores)  # more[docs] += scores, without a gather and scatter
    else:
        more += dense
    return Expanded(every, own, more[every], first)


def summed_feedback(evaluator: Evaluator, question: Node, *, stems: list[str],
                    ranking: Ranking) -> Summed | None:
    """`expanded(evaluator, question.docs, question.scores, stems=stems, ranking=ranking,
    allowed=None, banned=None, dense=question.dense, summed=True)` when it is a `Summed`,
    from the question's array alone (`Node.above`: above 0 exactly at its documents),
    without listing its documents: its best `feedback_docs` are the best of the array
    when the last of them is above 0 (`best_of_sums`' reasoning), and every other step
    reads the array. None when that cannot tell (fewer best above 0, the first ones not
    settled, sums that could be below 0, or no expansion): `expanded` then answers.
    A `Summed` takes the question's array for its sums (`Node.dense` is None after)."""
    dense = question.dense
    if not question.above or dense is None:
        return None
    best = best_of_array(dense, ranking.feedback_docs)
    if len(best) < ranking.feedback_docs or not best or not best[-1][1] > 0.0:
        return None
    first = leading(best, ranking.feedback_after)
    if first is None or not evaluator.sums_not_negative("text", ranking):
        return None
    chosen = feedback_words(evaluator, None, None, stems=stems, ranking=ranking, best=best)
    if not chosen:
        return None
    scale = ranking.feedback_weight * max(len(stems), 1)
    # the expansion's sums added into the question's array, segment by segment (as
    # `expanded` adds them: sums + dense; dense is 0.0 where the question does not match)
    found = evaluator.summed_terms(
        "text", [(word, weight * scale) for word, weight in chosen], ranking, plus=dense)
    if found is None:  # no word found, or one weighing 0 or less: the array as it was
        return None
    question.dense = None  # its array is feedback's sums now: the question is not read again
    more = found[0]
    kept = np.greater(more, 0.0)
    return Summed(more, kept, int(np.count_nonzero(kept)), first)


def best_of_sums(found: Summed, limit: int) -> list[tuple[int, float]] | None:
    """`top(docs, later, limit, apart)` of the documents and scores `found` stands for
    (`Expanded.docs` and `.later`), `apart` the places of `found.first`'s documents: the
    best of the whole array, those documents set to -inf meanwhile (then put back), when
    its `limit`-th best is above 0 (every one of them then a document kept, and every
    document kept but left out ranks below it: the same answer); None otherwise."""
    if limit <= 0:
        return []
    sums = found.sums
    apart = [doc for doc, _ in found.first]
    held = sums[apart]
    sums[apart] = -np.inf
    try:
        best = best_of_array(sums, limit)
    finally:
        sums[apart] = held
    return best if len(best) == limit and best[-1][1] > 0.0 else None
