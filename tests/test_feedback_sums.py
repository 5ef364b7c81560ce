"""Feedback's answer left in its array of sums (search/whoosh/feedback.py `Summed`, the
Whoosh store's `_rank_sums`): the same documents, total, facets, timeline and ranked
scores, to the last bit, as the documents and scores copied out of it (`Expanded`), in an
index of many segments, with deleted documents or not, the expansion summed in one set of
arrays or segment by segment."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import numpy as np
import pytest

from search import search
from search.ranking import DEFAULT_RANKING, Ranking, recency_factor
from search.request import SearchRequest
from search.whoosh import backend as whoosh_backend
from search.whoosh import evaluate, feedback
from search.whoosh.feedback import Expanded, Summed, best_of_sums, expanded, top
from tests.conftest import SAMPLES
from tests.indexing import build_in_small_segments

QUESTIONS = [f"{shape} {word} ?" for word in
             ("etats", "unis", "plusieurs", "deux", "pres", "depuis", "gaza", "rafah",
              "convoi", "president")
             for shape in ("qu'est-ce que", "comment fonctionne", "qui peut demander")]
OPTIONS = [{}, {"facets": False, "snippets": False}, {"page": 2, "per_page": 3},
           {"page": 5}, {"per_page": 50}, {"sort": "newest"}, {"sort": "oldest", "page": 2},
           {"ranking": Ranking(k1=0.9, b=0.4)}, {"ranking": Ranking(feedback_after=0)},
           {"ranking": Ranking(k1=0.0)}, {"recency_half_life": 30.0},
           {"filters": {"year": (2023,)}}]


@pytest.fixture(scope="module")
def segmented(tmp_path_factory):
    """The samples in many small segments, opened."""
    from search import open_index

    index_dir = tmp_path_factory.mktemp("sums")
    build_in_small_segments(index_dir, [SAMPLES])
    index = open_index(index_dir)
    yield index
    index.close()


@pytest.fixture(params=[False, True], ids=["all-live", "deleted"])
def index(segmented, request):
    """The segmented index, every third document deleted or not."""
    evaluator = segmented.current().evaluator
    assert len(evaluator.postings) > 5
    live = evaluator.live.copy()
    if request.param:
        evaluator.live[::3] = False
        evaluator.deletions_changed()
    segmented.clear_caches()
    yield segmented
    evaluator.live[:] = live
    evaluator.deletions_changed()
    segmented.clear_caches()


def _ranked(index, text, options):
    """The Whoosh store's (ranked (doc, score) with every bit, total, facets, timeline)
    and the whole page (its time left out) of one search."""
    index.clear_caches()
    generation = index.current()
    request = SearchRequest(text, **options)
    compiled = generation.compiled(request)
    want = request.page * request.per_page
    ranked = generation._rank(request, compiled, want, request.parsed_filters.single_year)
    index.clear_caches()
    return ranked, replace(search(index, text, **options), took_ms=0.0)


@pytest.mark.parametrize("by_segment", [False, True], ids=["one-set", "by-segment"])
def test_a_page_from_the_sums_is_the_page_from_the_documents(index, monkeypatch, by_segment):
    """Every question and option set: the page ranked from feedback's sums (`_rank_sums`)
    is the page ranked from the documents and scores copied out of them (the sums' path
    declined), bit for bit; the sums answered most of them, and the documents took over
    where fewer than a page scored above 0 after the first ones."""
    if by_segment:
        monkeypatch.setattr(evaluate, "SEGMENT_POSTINGS", 0)
    taken, settled = [], []
    real_rank, real_best = whoosh_backend.Generation._rank_sums, whoosh_backend.best_of_sums

    def ranked_sums(self, *args):
        taken.append(1)
        return real_rank(self, *args)

    def best(found, limit):
        answer = real_best(found, limit)
        settled.append(answer is not None)
        return answer

    monkeypatch.setattr(whoosh_backend.Generation, "_rank_sums", ranked_sums)
    unlisted, real_summed = [], whoosh_backend.summed_feedback

    def summed(evaluator, question, **options):
        answer = real_summed(evaluator, question, **options)
        if answer is not None:  # the question's documents never listed
            with pytest.raises(AttributeError):
                evaluate.Node.docs.__get__(question)
            unlisted.append(1)
        return answer

    monkeypatch.setattr(whoosh_backend, "summed_feedback", summed)
    # the recency boost follows the clock: one instant for both
    now = datetime(2026, 12, 2, tzinfo=UTC)
    monkeypatch.setattr(whoosh_backend, "recency_factor",
                        lambda when, **options: recency_factor(when, now=now, **options))
    monkeypatch.setattr(whoosh_backend, "best_of_sums", best)
    for text in QUESTIONS:
        for options in OPTIONS:
            found = _ranked(index, text, options)
            with monkeypatch.context() as declined:
                declined.setattr(evaluate.Evaluator, "sums_not_negative",
                                 lambda self, fieldname, ranking=DEFAULT_RANKING: False)
                expected = _ranked(index, text, options)
            assert found[0][0] == expected[0][0], (text, options)
            assert [s.hex() for _, s in found[0][0]] == [s.hex() for _, s in expected[0][0]]
            assert found[0][1:] == expected[0][1:], (text, options)
            assert found[1] == expected[1], (text, options)
    assert len(taken) > len(QUESTIONS) * 5 and unlisted
    assert True in settled and False in settled


def test_the_sums_are_the_documents_and_scores_copied_out(index):
    """`expanded(..., summed=True)` gives a `Summed` whose sums are `Expanded.later` at
    `Expanded.docs` and +0.0 elsewhere (its mask those documents), and `best_of_sums`
    ranks them as `top` does the documents without the first ones, or declines."""
    evaluator = index.current().evaluator
    stems = ["etat", "uni"]
    from whoosh import query as wq

    for ranking in (DEFAULT_RANKING, Ranking(k1=0.9, b=0.4)):
        question = evaluator.evaluate(wq.Or([wq.Term("text", s) for s in stems]), {},
                                      ranking)
        assert len(question.docs) > 2
        for dense in (None, question.dense):
            plain = expanded(evaluator, question.docs, question.scores, stems=stems,
                             ranking=ranking, allowed=None, banned=None, dense=dense)
            summed = expanded(evaluator, question.docs, question.scores, stems=stems,
                              ranking=ranking, allowed=None, banned=None, dense=dense,
                              summed=True)
            assert isinstance(plain, Expanded) and isinstance(summed, Summed)
            every = np.flatnonzero(summed.kept)
            assert every.tolist() == plain.docs.tolist() and summed.total == len(every)
            assert summed.sums[every].tobytes() == plain.later.tobytes()
            rest = np.ones(evaluator.size, dtype=bool)
            rest[every] = False
            assert summed.sums[rest].tobytes() == np.zeros(int(rest.sum())).tobytes()
            assert summed.first == plain.first
            first = [doc for doc, _ in sorted(summed.first)]
            at = np.searchsorted(plain.docs, first).tolist()
            for limit in range(len(every) + 2):
                found = best_of_sums(summed, limit)
                expected = top(plain.docs, plain.later.copy(), limit, apart=at)
                if found is None:
                    assert limit > len(every) - len(first)
                else:
                    assert found == expected
            assert summed.sums[every].tobytes() == plain.later.tobytes()  # put back


def test_the_sums_decline_what_they_cannot_tell_apart(index):
    """No `Summed` when a question's score is not above 0, with a filter, without the
    first ones known, or when the expansion's sums could be below 0 (weights stored as
    floats, or norms of 0)."""
    evaluator = index.current().evaluator
    question = evaluator.term("text", "etat", 1.0, DEFAULT_RANKING)
    docs, scores = question.docs, question.scores
    assert len(docs) > 2

    def summed(scores=scores, ranking=DEFAULT_RANKING, **options):
        found = expanded(evaluator, docs, scores, stems=["etat"], ranking=ranking,
                         **{"allowed": None, "banned": None, **options}, summed=True)
        assert found is not None
        return isinstance(found, Summed)

    assert summed()
    zero = scores.copy()
    zero[len(zero) // 2] = 0.0
    assert not summed(zero)
    assert not summed(ranking=Ranking(feedback_after=0))
    assert not summed(allowed=np.ones(evaluator.size, dtype=bool))
    assert not summed(banned=np.array([evaluator.size - 1]))
    assert summed(banned=np.zeros(0, dtype=np.int64))
    assert not evaluator.sums_not_negative("text", Ranking(k1=0.0))
    assert not summed(ranking=Ranking(k1=0.0))
    flats = evaluator._flats("text")  # one segment's weights as if stored as floats
    at = next(n for n, f in enumerate(flats) if f is not None)
    stored, known = flats[at], dict(evaluator._signs)
    flats[at] = (*stored[:4], None)
    evaluator._signs.clear()
    try:
        assert not evaluator.sums_not_negative("text", DEFAULT_RANKING)
        assert not summed()
    finally:
        flats[at] = stored
        evaluator._signs.clear()
        evaluator._signs.update(known)
    assert evaluator.sums_not_negative("text", DEFAULT_RANKING)


def test_feedback_module_names_what_the_store_uses():
    assert {"Summed", "best_of_sums"} <= set(feedback.__all__)


@pytest.mark.parametrize("seed", range(6))
def test_an_or_above_zero_lists_its_documents_when_read(index, seed):
    """An Or whose children all score above 0 keeps its summing array and lists its
    documents only when read (`Node.above`): the same documents, scores and array, to the
    last bit, as the Or listed as it sums (`_spread`); a child scoring 0 somewhere, or a
    boost, lists them at once."""
    evaluator = index.current().evaluator
    size = evaluator.size
    rng = np.random.default_rng(seed)
    children = []
    for _ in range(int(rng.integers(2, 5))):
        docs = np.sort(rng.choice(size, int(rng.integers(size // 2, size)), replace=False))
        children.append(evaluate.Node(docs.astype(np.int64),
                                      rng.gamma(2.0, 1.0, len(docs)) + 1e-9))
    docs, dense = evaluator._spread(children, np.add)
    found = evaluator.any_of(children)
    assert found.above and type(found) is not evaluate.Node
    with pytest.raises(AttributeError):
        evaluate.Node.docs.__get__(found)  # not listed yet
    assert found.dense.tobytes() == dense.tobytes()
    assert found.scores.tobytes() == dense[docs].tobytes()  # either read first
    assert found.docs.tobytes() == docs.tobytes()
    assert found.docs.dtype == np.int64
    zero = [evaluate.Node(c.docs, c.scores.copy()) for c in children]
    zero[-1].scores[0] = 0.0
    plain = evaluator.any_of(zero)
    assert not plain.above and type(plain) is evaluate.Node
    assert not evaluator.any_of(children, boost=2.0).above
    with pytest.raises(AttributeError):
        _ = found.absent


def test_feedback_from_the_array_alone_is_expanded_summed(index):
    """`summed_feedback` of a question whose Or lists its documents only when read gives
    `expanded(..., summed=True)`'s `Summed`, bit for bit, without listing them; None
    where it cannot tell (too few documents above 0 for feedback's best)."""
    from whoosh import query as wq

    from search.whoosh.feedback import summed_feedback

    evaluator = index.current().evaluator
    stems = ["etat", "uni"]

    def asked(ranking, boost=1.0):
        return evaluator.evaluate(wq.Or([wq.Term("text", s) for s in stems], boost=boost),
                                  {}, ranking)

    for ranking in (DEFAULT_RANKING, Ranking(k1=0.9, b=0.4)):
        question = asked(ranking)
        assert question.above
        dense = question.dense
        found = summed_feedback(evaluator, question, stems=stems, ranking=ranking)
        assert isinstance(found, Summed)
        with pytest.raises(AttributeError):
            evaluate.Node.docs.__get__(question)
        # its array taken for the sums: the question is not read again
        assert found.sums is dense and question.dense is None
        with pytest.raises(AttributeError):
            _ = question.docs
        question = asked(ranking)
        expected = expanded(evaluator, question.docs, question.scores, stems=stems,
                            ranking=ranking, allowed=None, banned=None,
                            dense=question.dense, summed=True)
        assert isinstance(expected, Summed)
        assert found.sums.tobytes() == expected.sums.tobytes()
        assert found.kept.tobytes() == expected.kept.tobytes()
        assert (found.total, found.first) == (expected.total, expected.first)
        many = Ranking(feedback_docs=len(question.docs) + 1)
        question = asked(ranking)
        dense = question.dense.copy()
        assert summed_feedback(evaluator, question, stems=stems, ranking=many) is None
        assert question.dense.tobytes() == dense.tobytes()  # left as it was
        assert summed_feedback(evaluator, asked(ranking, 2.0), stems=stems,
                               ranking=ranking) is None
        # a word weighing 0 (feedback_weight 0 is never asked): the array left as it was
        heavy = evaluate.Evaluator.summed_terms
        assert heavy(evaluator, "text", [("etat", 1.0), ("uni", 0.0)], ranking,
                     plus=question.dense) is None
        assert question.dense.tobytes() == dense.tobytes()


@pytest.mark.parametrize("by_segment", [False, True], ids=["one-set", "by-segment"])
def test_the_expansions_slices_read_through_views_are_the_arrays(index, monkeypatch,
                                                                  by_segment):
    """`summed_terms` reads each slice's bounds from views of the segments' term starts
    (`Evaluator._slicing`): the same ints as the arrays, and the same sums, bit for bit,
    as reading the arrays themselves (many segments, deleted documents or not); starts
    that are not native integers are read from the array."""
    if by_segment:
        monkeypatch.setattr(evaluate, "SEGMENT_POSTINGS", 0)
    evaluator = index.current().evaluator
    flats, views = evaluator._flats("text"), evaluator._slicing("text")
    assert len(views) == len(flats) and any(f is not None for f in flats)
    for flat, view in zip(flats, views, strict=True):
        if flat is None:
            assert view is None
            continue
        assert isinstance(view[0], memoryview) and view[1:] == flat[1:]
        assert view[0].tolist() == flat[0].tolist()
    listed = evaluator.directory.field("text")
    words = [listed.terms[n] for n in range(0, len(listed.terms), 7)][:200]
    rng = np.random.default_rng(9)
    weighted = [(word, float(w)) for word, w in zip(words, rng.random(len(words)) + 0.1,
                                                   strict=True)]
    for ranking in (DEFAULT_RANKING, Ranking(k1=0.9, b=0.4)):
        through_views = evaluator.summed_terms("text", weighted, ranking)
        with monkeypatch.context() as arrays:
            arrays.setattr(evaluate.Evaluator, "_slicing", evaluate.Evaluator._flats)
            expected = evaluator.summed_terms("text", weighted, ranking)
        assert through_views[0].tobytes() == expected[0].tobytes()
        assert through_views[1] is None and expected[1] is None
        assert expected[0].tobytes() == _summed_word_by_word(evaluator, weighted,
                                                             ranking).tobytes()
    swapped = [None if f is None else (f[0].astype(f[0].dtype.newbyteorder()), *f[1:])
               for f in flats]
    monkeypatch.setattr(evaluator, "_flats", lambda fieldname: swapped)
    monkeypatch.setattr(evaluator, "_views", {})
    kept = evaluator._slicing("text")
    assert all(v is None or isinstance(v[0], np.ndarray) for v in kept)
    assert evaluator.summed_terms("text", weighted, ranking)[0].tobytes() == \
        expected[0].tobytes()


def _summed_word_by_word(evaluator, weighted, ranking):
    """`summed_terms`' sums made word by word: each word's postings (deleted documents
    left out) scored with its operations in its order, added in the words' order."""
    norms = evaluator.norms("text", ranking)
    sums = np.zeros(evaluator.size)
    for word, boost in weighted:
        found = evaluator._postings("text", word)
        if found is None:
            continue
        docs, weights = found
        scores = np.multiply(weights, ranking.k1 + 1)
        scores *= evaluator.idf("text", word) * boost
        norm = norms[docs]
        norm += weights
        scores /= norm
        np.add.at(sums, docs, scores)
    return sums


@pytest.mark.parametrize("by_segment", [False, True], ids=["one-set", "by-segment"])
def test_sums_added_into_an_array_are_the_sums_plus_it(index, monkeypatch, by_segment):
    """`summed_terms(..., plus=array)` adds the sums into the array and gives it: the sums
    plus it, bit for bit (zeros, -0.0 and values at deleted documents included)."""
    if by_segment:
        monkeypatch.setattr(evaluate, "SEGMENT_POSTINGS", 0)
    evaluator = index.current().evaluator
    listed = evaluator.directory.field("text")
    words = [listed.terms[n] for n in range(3, len(listed.terms), 11)][:150]
    rng = np.random.default_rng(10)
    weighted = [(word, float(w)) for word, w in zip(words, rng.random(len(words)) + 0.1,
                                                   strict=True)]
    for ranking in (DEFAULT_RANKING, Ranking(k1=0.9, b=0.4)):
        plus = rng.choice([0.0, -0.0, 0.5, 1e-300, 3.25], evaluator.size) * \
            rng.random(evaluator.size)
        summed, held = evaluator.summed_terms("text", weighted, ranking)
        given = plus.copy()
        found = evaluator.summed_terms("text", weighted, ranking, plus=given)
        assert found[0] is given and found[1] is None and held is None
        assert given.tobytes() == np.add(summed, plus).tobytes()
