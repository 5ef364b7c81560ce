"""An Or (or the best of several queries) of few documents, combined by sorting them, gives
what arrays the size of the index give: the same documents and the same scores, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from whoosh import query as wq

from search.analysis import stem
from search.whoosh import evaluate
from tests.indexing import opened_generation

WORDS = ["ville", "port", "gaza", "attaque", "ministre", "loi", "conseil", "haifa", "nuit",
         "no-such-word"]


def _queries():
    terms = [wq.Term("text", stem(w) or w) for w in WORDS]
    exact = [wq.Term("exact", w, boost=1.5) for w in WORDS]
    yield wq.Or(terms)
    yield wq.Or([wq.AndMaybe(t, e) for t, e in zip(terms, exact, strict=True)], boost=0.7)
    yield wq.Or([terms[0], terms[0], exact[0]])  # a document in several children
    yield wq.Or([wq.Phrase("exact", ["ville", "portuaire"]), terms[1], terms[-1]])
    yield wq.DisjunctionMax([terms[1], wq.Term("text", "por", boost=0.25), exact[1]])
    yield wq.DisjunctionMax(terms[:5], boost=2.0)


@pytest.fixture(scope="module")
def generation(samples_index):
    with opened_generation(samples_index) as found:
        yield found


@pytest.mark.parametrize("n", range(6))
def test_sorted_union_gives_the_dense_arrays_results(generation, monkeypatch, n):
    q = list(_queries())[n]
    monkeypatch.setattr(evaluate, "SPARSE_SHARE", 0)  # always sorted
    sparse = generation.evaluator.evaluate(q)
    monkeypatch.setattr(evaluate, "SPARSE_SHARE", 10**12)  # always dense
    dense = generation.evaluator.evaluate(q)
    assert len(dense.docs) > 0
    assert dense.docs.dtype == sparse.docs.dtype
    np.testing.assert_array_equal(sparse.docs, dense.docs)
    assert sparse.scores.tobytes() == dense.scores.tobytes()


PHRASES = [["ville", "portuaire"], ["de", "la"], ["le", "ministre", "de"], ["a", "ete"],
           ["selon", "le"], ["le", "port"], ["de", "la", "de", "la"], ["haifa", "no-such-word"]]


@pytest.mark.parametrize("words", PHRASES)
def test_a_phrase_scored_where_it_matched_gives_its_words_whole_scores(generation, words):
    evaluator = generation.evaluator
    found = evaluator.evaluate(wq.Phrase("exact", words, boost=1.3))
    assert len(found.docs) or len(words) > 3 or "no-such-word" in words
    # As before: each word scored over all its documents, then kept where the phrase is.
    nodes = {w: evaluator.term("exact", w) for w in words}
    if any(not len(n.docs) for n in nodes.values()):
        assert not len(found.docs)
        return
    candidates = evaluate._common(list(nodes.values()))
    docs = evaluator._adjacent("exact", words, candidates)
    scores = sum(nodes[w].restrict(docs) for w in words) * 1.3
    np.testing.assert_array_equal(found.docs, docs)
    assert found.scores.tobytes() == scores.tobytes()


@pytest.mark.parametrize("seed", range(20))
def test_gathered_children_are_np_uniques_inverse(seed):
    rng = np.random.default_rng(seed)
    children = []
    for _ in range(int(rng.integers(1, 6))):
        docs = np.unique(rng.integers(0, 500, int(rng.integers(0, 60)))).astype(np.int64)
        children.append(evaluate.Node(docs, rng.random(len(docs))))
    docs, at, scores = evaluate._gathered(children)
    every = np.concatenate([c.docs for c in children])
    found, inverse = np.unique(every, return_inverse=True)
    assert docs.tolist() == found.tolist() and at.tolist() == inverse.reshape(-1).tolist()
    assert scores.tolist() == np.concatenate([c.scores for c in children]).tolist()
    summed = np.bincount(at, weights=scores, minlength=len(docs))
    assert summed.tolist() == np.bincount(inverse.reshape(-1), weights=scores,
                                          minlength=len(found)).tolist()


def _top_sorted(docs, scores, limit):
    """Evaluator.top by a plain sort of everything: best first, ties in index order."""
    if limit <= 0 or not len(docs):
        return []
    order = np.lexsort((docs, -scores))[:limit]
    return [(int(docs[i]), float(scores[i])) for i in order]


@pytest.mark.parametrize("seed", range(20))
def test_top_is_the_best_first_ties_in_index_order(seed):
    rng = np.random.default_rng(seed)
    docs = np.unique(rng.integers(0, 1000, int(rng.integers(0, 80)))).astype(np.int64)
    scores = rng.integers(0, 6, len(docs)) / 4  # many ties
    for limit in (0, 1, 3, 10, 100):
        found = evaluate.Evaluator.top(docs, scores, limit)
        assert found == _top_sorted(docs, scores, limit)
        assert all(type(d) is int and type(s) is float for d, s in found)
        assert [s for _, s in found] == sorted(scores.tolist(), reverse=True)[:limit]
        assert found == sorted(found, key=lambda item: (-item[1], item[0]))
