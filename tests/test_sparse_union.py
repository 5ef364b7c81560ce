"""An Or (or the best of several queries) of few documents, combined by sorting them, gives
what arrays the size of the index give: the same documents and the same scores, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from whoosh import query as wq

from search.analysis import stem
from search.whoosh import evaluate, membership
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


@pytest.mark.parametrize("way", ["sorted", "inserted"])
@pytest.mark.parametrize("n", range(6))
def test_sorted_union_gives_the_dense_arrays_results(generation, monkeypatch, n, way):
    """Children merged (`_gathered`) or inserted among the largest's (`_inserted`, here
    whenever it holds at least half) give what arrays the size of the index give."""
    q = list(_queries())[n]
    if way == "sorted":
        monkeypatch.setattr(evaluate, "SPARSE_SHARE", 0)  # always sorted
    else:
        monkeypatch.setattr(evaluate, "SPARSE_SHARE", 10**12)  # never sorted
        monkeypatch.setattr(evaluate, "LOPSIDED_SHARE", 1)
    sparse = generation.evaluator.evaluate(q)
    monkeypatch.setattr(evaluate, "SPARSE_SHARE", 10**12)  # never sorted
    monkeypatch.setattr(evaluate, "LOPSIDED_SHARE", 10**12)  # nor inserted: always dense
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


@pytest.mark.parametrize("seed", range(40))
def test_gathered_children_sum_and_max_as_np_uniques_inverse(seed):
    """`_gathered`'s entries, in document order and each document's in the children's
    order, sum (bincount) and take the best (maximum.at) to the bytes of np.unique's
    inverse over the children as they come; a merged run, not a sort of the whole."""
    rng = np.random.default_rng(seed)
    children = []
    for _ in range(int(rng.integers(1, 6))):
        docs = np.unique(rng.integers(0, 500, int(rng.integers(0, 60)))).astype(np.int64)
        # scores of every sign and size, so that a sum's order shows in its last bits
        children.append(evaluate.Node(docs, rng.normal(0, 10.0 ** rng.integers(-3, 4),
                                                       len(docs))))
    docs, at, scores = evaluate._gathered(children)
    every = np.concatenate([c.docs for c in children])
    found, inverse = np.unique(every, return_inverse=True)
    inverse = inverse.reshape(-1)
    assert docs.dtype == np.int64 and docs.tolist() == found.tolist()
    assert at.tolist() == sorted(at.tolist()) and docs[at].tolist() == sorted(every.tolist())
    before = np.concatenate([c.scores for c in children])
    summed = np.bincount(at, weights=scores, minlength=len(docs))
    assert summed.tobytes() == np.bincount(inverse, weights=before,
                                           minlength=len(found)).tobytes()
    best, expected = np.zeros(len(docs)), np.zeros(len(found))
    np.maximum.at(best, at, scores)
    np.maximum.at(expected, inverse, before)
    assert best.tobytes() == expected.tobytes()


def test_merged_unique_is_sorted_unique():
    rng = np.random.default_rng(3)
    for _ in range(30):
        parts = [np.unique(rng.integers(0, 2000, int(rng.integers(0, 400)))).astype(np.int64)
                 for _ in range(int(rng.integers(1, 5)))]
        found = membership.merged_unique(parts)
        assert found.dtype == np.int64
        np.testing.assert_array_equal(found, np.unique(np.concatenate(parts)))


@pytest.mark.parametrize("seed", range(40))
def test_inserted_children_sum_and_max_as_np_uniques_inverse(seed):
    """`_inserted` (the others' documents inserted among the largest child's, wherever it
    comes) gives each child's entries where np.unique's inverse puts them, in turn: the
    same sums and bests to the bytes; the others' documents in it or not, or empty."""
    rng = np.random.default_rng(seed)
    big = np.unique(rng.integers(0, 5000, 800)).astype(np.int64)
    children = []
    for _ in range(int(rng.integers(1, 5))):
        own = rng.integers(0, 5000, int(rng.integers(0, 12)))
        if rng.random() < 0.5:  # some of the largest's documents too
            own = np.concatenate((own, rng.choice(big, 5)))
        docs = np.unique(own).astype(np.int64)
        children.append(evaluate.Node(docs, rng.normal(0, 10.0 ** rng.integers(-3, 4),
                                                       len(docs))))
    children.insert(int(rng.integers(0, len(children) + 1)),
                    evaluate.Node(big, rng.normal(0, 100, len(big))))
    docs, at, scores = evaluate._inserted(children)
    every = np.concatenate([c.docs for c in children])
    found, inverse = np.unique(every, return_inverse=True)
    inverse = inverse.reshape(-1)
    assert docs.dtype == np.int64 and docs.tolist() == found.tolist()
    assert at.tolist() == inverse.tolist()
    before = np.concatenate([c.scores for c in children])
    assert scores.tobytes() == before.tobytes()
    summed = np.bincount(at, weights=scores, minlength=len(docs))
    assert summed.tobytes() == np.bincount(inverse, weights=before,
                                           minlength=len(found)).tobytes()
