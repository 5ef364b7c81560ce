"""search/whoosh/best.py: the best `limit` (doc, score), best first, exact ties in document
order at the cut as everywhere else, the same as a plain sort of every score."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from search.whoosh import best
from search.whoosh.best import best_first
from search.whoosh.evaluate import Evaluator


def _sorted(docs, scores, limit):
    """The reference: every (doc, score) sorted by score descending, then doc."""
    if limit <= 0:
        return []
    order = np.lexsort((docs, -scores))[:limit]
    return [(int(docs[i]), float(scores[i])) for i in order]


def _check(docs, scores, limit):
    found = best_first(docs, scores, limit)
    assert found == _sorted(docs, scores, limit), (len(docs), limit)
    assert all(type(d) is int and type(s) is float for d, s in found)
    # the pairs decide, not where they sit: the same answer from a shuffled copy
    shuffled = np.random.default_rng(len(docs) + limit).permutation(len(docs))
    assert best_first(docs[shuffled], scores[shuffled], limit) == found
    return found


def test_ties_at_the_cut_are_taken_in_document_order():
    docs = np.array([40, 3, 17, 8, 25, 11], dtype=np.int64)
    scores = np.array([2.0, 1.0, 2.0, 1.0, 1.0, 3.0])
    assert _check(docs, scores, 3) == [(11, 3.0), (17, 2.0), (40, 2.0)]
    assert _check(docs, scores, 4) == [(11, 3.0), (17, 2.0), (40, 2.0), (3, 1.0)]
    assert _check(docs, scores, 5) == [(11, 3.0), (17, 2.0), (40, 2.0), (3, 1.0), (8, 1.0)]


def test_all_equal_scores_give_the_first_documents():
    docs = np.arange(10_000, 0, -1, dtype=np.int64) * 3  # descending: order matters not
    scores = np.full(len(docs), 1.25)
    assert _check(docs, scores, 10) == [(3 * n, 1.25) for n in range(1, 11)]
    assert _check(docs, np.zeros(len(docs)), 1) == [(3, 0.0)]


@pytest.mark.parametrize("limit", [1, 5, 6, 7, 100])
def test_a_limit_at_or_past_the_length_sorts_them_all(limit):
    docs = np.array([5, 1, 9, 3, 7, 2], dtype=np.int64)
    scores = np.array([0.5, 0.5, -1.0, 2.0, 0.0, -0.0])
    found = _check(docs, scores, limit)
    assert found[:3] == [(3, 2.0), (1, 0.5), (5, 0.5)][:limit]
    assert len(found) == min(limit, 6)


def test_nothing_asked_or_nothing_found():
    empty = np.zeros(0, dtype=np.int64)
    assert best_first(empty, np.zeros(0), 10) == []
    assert best_first(np.arange(3, dtype=np.int64), np.ones(3), 0) == []
    assert best_first(np.arange(3, dtype=np.int64), np.ones(3), -1) == []


def test_negative_zero_and_infinite_scores():
    rng = np.random.default_rng(4)
    docs = np.sort(rng.choice(50_000, 20_000, replace=False)).astype(np.int64)
    scores = rng.choice([-3.0, -0.0, 0.0, -np.inf, np.inf, 0.25], len(docs))
    for limit in (1, 10, 1_000, 19_999, 20_000):
        _check(docs, scores, limit)


def test_nan_scores_rank_last_as_in_a_sort():
    rng = np.random.default_rng(5)
    for share in (0.0, 0.001, 0.5, 0.999, 1.0):
        docs = np.arange(30_000, dtype=np.int64)
        scores = rng.integers(0, 5, len(docs)).astype(float)
        scores[rng.random(len(docs)) < share] = np.nan
        for limit in (1, 10, 200):
            found = best_first(docs, scores, limit)
            expected = _sorted(docs, scores, limit)
            assert [d for d, _ in found] == [d for d, _ in expected]
            assert np.array_equal([s for _, s in found], [s for _, s in expected],
                                  equal_nan=True)


def test_many_ties_at_the_cut_of_a_large_set_use_the_sample():
    """Eleven copies of each score (as at a million articles made of eleven copies of one
    corpus): the sample's threshold keeps a few thousand of 600,000, and the answer is
    the plain sort's."""
    rng = np.random.default_rng(6)
    base = rng.gamma(2.0, 3.0, 55_000)
    scores = np.tile(base, 11)
    docs = np.arange(len(scores), dtype=np.int64) * 2
    held = best._candidates(scores, 10)
    assert held is not None and 10 <= len(held) < len(scores) // 50
    for limit in (1, 2, 10, 20, 50):
        found = _check(docs, scores, limit)
        assert len({s for _, s in found}) <= (limit + 10) // 11 + 1  # copies together


def test_the_sample_keeps_every_candidate_or_gives_way():
    """Whatever the sample's threshold keeps holds the best `limit`; None when it would
    keep too many (most scores equal) or is not worth a sample."""
    rng = np.random.default_rng(7)
    scores = rng.random(100_000)
    for limit in (1, 10, 300):
        held = best._candidates(scores, limit)
        assert held is not None and len(held) >= limit
        assert set(np.argsort(-scores)[:limit].tolist()) <= set(held.tolist())
    assert best._candidates(np.ones(100_000), 10) is None  # everything ties
    assert best._candidates(scores[:1000], 10) is None  # too few for a sample


def test_evaluator_top_is_best_first():
    docs = np.arange(0, 3000, 3, dtype=np.int64)
    scores = (docs % 7).astype(float)
    assert Evaluator.top(docs, scores, 12) == best_first(docs, scores, 12) \
        == _sorted(docs, scores, 12)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 6000), st.integers(0, 120),
       st.sampled_from(["few", "many", "ints", "signed", "one"]),
       st.booleans())
def test_best_first_is_a_plain_sort_of_random_scores_with_ties(seed, size, limit, kind,
                                                                 ordered):
    rng = np.random.default_rng(seed)
    docs = rng.choice(max(size * 3, 1), size, replace=False).astype(np.int64)
    if ordered:
        docs.sort()
    scores = {
        "few": lambda: rng.choice([0.5, 1.0, 1.5], size),
        "many": lambda: rng.random(size),
        "ints": lambda: rng.integers(0, 60, size).astype(float),
        "signed": lambda: rng.integers(-5, 5, size) / 2,
        "one": lambda: np.full(size, 2.0),
    }[kind]()
    _check(docs, scores, limit)


def test_a_longer_cut_begins_with_the_shorter_one():
    """Page 2 (the best 20) begins with page 1 (the best 10), ties across the end of page
    1 included: no document shown twice or skipped."""
    rng = np.random.default_rng(9)
    for _ in range(50):
        size = int(rng.integers(1, 40_000))
        docs = np.sort(rng.choice(size * 2, size, replace=False)).astype(np.int64)
        scores = rng.integers(0, 4, size) / 2
        for short in (1, 10, 20):
            assert best_first(docs, scores, 2 * short)[:short] == \
                best_first(docs, scores, short)


def test_a_few_hundred_scores_are_sorted_whole(monkeypatch):
    """Up to PLAIN_SORTED scores (a rare word's matches) are sorted, not partitioned: the
    partition's dozen numpy calls cost more there. The same answer."""
    rng = np.random.default_rng(10)
    docs = np.sort(rng.choice(90_000, best.PLAIN_SORTED, replace=False)).astype(np.int64)
    scores = rng.integers(0, 9, len(docs)) / 4
    expected = _sorted(docs, scores, 10)

    def refused(*args):
        raise AssertionError("partitioned")

    monkeypatch.setattr(best, "_cut", refused)
    monkeypatch.setattr(best, "_candidates", refused)
    assert best_first(docs, scores, 10) == expected
    assert best_first(docs[:20], scores[:20], 10) == _sorted(docs[:20], scores[:20], 10)


def test_the_cut_takes_ties_in_document_order():
    """`_cut` alone (a set too small to reach it through best_first)."""
    docs = np.array([40, 3, 17, 8, 25, 11], dtype=np.int64)
    scores = np.array([2.0, 1.0, 2.0, 1.0, 1.0, 3.0])
    for limit, expected in ((3, {11, 17, 40}), (4, {11, 17, 40, 3}), (5, {11, 17, 40, 3, 8})):
        chosen = best._cut(docs, scores, limit)
        assert set(docs[chosen].tolist()) == expected


def _in_tiers(docs, scores, first, limit):
    """The reference: `best_first` of the first tier, then of the rest, `limit` in all."""
    ranked = best_first(docs[first], scores[first], limit)
    return ranked + best_first(docs[~first], scores[~first], max(limit - len(ranked), 0))


@pytest.mark.parametrize("size", [0, 1, 5, 30, 511, 512, 513, 1500])
@pytest.mark.parametrize("limit", [0, 1, 10, 20])
def test_best_in_tiers_is_each_tiers_best_in_turn(size, limit):
    rng = np.random.default_rng(size * 31 + limit)
    docs = np.sort(rng.choice(10 * size + 1, size, replace=False)).astype(np.int64)
    scores = np.round(rng.random(size) * 4, 1)  # many ties
    if size > 3:
        scores[::7] = np.nan
        scores[1] = -0.0
        scores[2] = 0.0
    for share in (0.0, 0.02, 0.3, 1.0):
        first = rng.random(size) < share
        found = best.best_in_tiers(docs, scores, first, limit)
        # (NaN is no NaN's equal: compared as written)
        assert repr(found) == repr(_in_tiers(docs, scores, first, limit)), (size, limit,
                                                                             share)
        assert all(type(d) is int and type(s) is float for d, s in found)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.booleans()), max_size=40),
       st.integers(0, 12))
def test_best_in_tiers_of_few_ties_is_each_tiers_best(items, limit):
    docs = np.arange(len(items), dtype=np.int64) * 3
    scores = np.array([float(s) for s, _ in items])
    first = np.array([f for _, f in items], dtype=bool)
    assert best.best_in_tiers(docs, scores, first, limit) == \
        _in_tiers(docs, scores, first, limit)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 60_000), st.integers(0, 120),
       st.sampled_from(["few", "many", "ints", "signed", "sparse", "odd"]))
def test_best_of_array_is_best_first_of_the_positions(seed, size, limit, kind):
    """best_of_array(scores, limit) is best_first(np.arange(len(scores)), scores, limit):
    the positions are the documents (mostly zeros as in an array the size of the index,
    ties, -0.0, infinities and NaN among them)."""
    rng = np.random.default_rng(seed)
    scores = {
        "few": lambda: rng.choice([0.5, 1.0, 1.5], size),
        "many": lambda: rng.random(size),
        "ints": lambda: rng.integers(0, 60, size).astype(float),
        "signed": lambda: rng.integers(-5, 5, size) / 2,
        "sparse": lambda: np.where(rng.random(size) < 0.3, rng.gamma(2.0, 1.0, size), 0.0),
        "odd": lambda: rng.choice([0.0, -0.0, 1.0, np.inf, -np.inf, np.nan], size),
    }[kind]()
    found = best.best_of_array(scores, limit)
    expected = best_first(np.arange(size, dtype=np.int64), scores, limit)
    assert [d for d, _ in found] == [d for d, _ in expected]
    assert np.array_equal([s for _, s in found], [s for _, s in expected], equal_nan=True)
    assert all(type(d) is int and type(s) is float for d, s in found)


def test_best_of_array_samples_a_large_array():
    """A large array is ranked from its sample's candidates (no array of its positions
    made), and gives the sort's answer."""
    rng = np.random.default_rng(8)
    scores = np.where(rng.random(1_000_000) < 0.5, rng.gamma(2.0, 3.0, 1_000_000), 0.0)
    assert best._candidates(scores, 10) is not None
    for limit in (1, 8, 10, 100):
        assert best.best_of_array(scores, limit) == _sorted(
            np.arange(len(scores), dtype=np.int64), scores, limit)


def _or_in_tiers(first, second, limit):
    """The reference for `best_of_two`: the Or of the two sets summed by `np.bincount`
    (as `Evaluator.any_of` sums it), its documents in both ranked first (`best_in_tiers`),
    and the common documents as `np.intersect1d` finds them."""
    docs = np.concatenate([first[0], second[0]])
    order = np.argsort(docs, kind="stable")
    union, at = np.unique(docs[order], return_inverse=True)
    summed = np.bincount(at, weights=np.concatenate([first[1], second[1]])[order],
                         minlength=len(union))
    common = np.intersect1d(first[0], second[0], assume_unique=True)
    return best.best_in_tiers(union, summed, np.isin(union, common), limit), common


@settings(max_examples=400, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 700), st.integers(0, 700),
       st.integers(0, 40), st.sampled_from(["many", "ties", "odd"]))
def test_best_of_two_is_the_ors_tiers(seed, size_a, size_b, limit, kind):
    """Two scored sets' `best_of_two` is `best_in_tiers` of their Or (the sums of the
    documents in both, to the last bit, first): random sets overlapping a little or much,
    with tied scores, -0.0, infinities and NaN, on both sides of `PLAIN_SORTED`."""
    rng = np.random.default_rng(seed)
    span = rng.integers(1, 3000)
    sets = []
    for size in (size_a, size_b):
        docs = np.sort(rng.choice(max(span, size), size, replace=False)).astype(np.int64)
        scores = {
            "many": lambda size=size: rng.random(size) * 5,
            "ties": lambda size=size: rng.integers(0, 4, size) / 2,
            "odd": lambda size=size: rng.choice([0.0, -0.0, 1.5, np.inf, -np.inf, np.nan,
                                                 2.25], size),
        }[kind]()
        sets.append((docs, scores))
    expected, common = _or_in_tiers(sets[0], sets[1], limit)
    if len(common) >= max(limit, 1):  # (the caller ranks a tier filling the page alone)
        common = common[:max(limit - 1, 0)]
        if not limit:
            return
        keep = ~np.isin(sets[1][0], np.intersect1d(sets[0][0], sets[1][0])[len(common):])
        sets[1] = (sets[1][0][keep], sets[1][1][keep])
        expected, common = _or_in_tiers(sets[0], sets[1], limit)
    found = best.best_of_two(sets[0], sets[1], common, limit)
    assert [d for d, _ in found] == [d for d, _ in expected]
    assert np.array_equal(np.array([s for _, s in found]).view(np.int64),
                          np.array([s for _, s in expected]).view(np.int64))  # bits
    assert all(type(d) is int and type(s) is float for d, s in found)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 700), st.integers(-1, 40),
       st.sampled_from(["few", "many", "signed", "zeros", "nan"]))
def test_best_of_sorted_is_best_first_of_a_node(seed, size, limit, kind):
    """A node's documents (ascending): Python's sort of a few (FEW_SORTED), one stable sort
    of the scores up to PLAIN_SORTED, best_first beyond; the same pairs, ties by document,
    NaN last, -0.0 and 0.0 tied."""
    rng = np.random.default_rng(seed)
    docs = np.sort(rng.choice(max(size * 3, 1), size, replace=False)).astype(np.int64)
    scores = {
        "few": lambda: rng.choice([0.5, 1.0, 1.5], size),
        "many": lambda: rng.random(size),
        "signed": lambda: rng.integers(-5, 5, size) / 2,
        "zeros": lambda: rng.choice([0.0, -0.0, 1.0], size),
        "nan": lambda: np.where(rng.random(size) < 0.2, np.nan, rng.integers(0, 3, size)),
    }[kind]()
    found = best.best_of_sorted(docs, scores, limit)
    assert repr(found) == repr(best_first(docs, scores, limit))  # (NaN == NaN: by repr)
    assert all(type(d) is int and type(s) is float for d, s in found)


@pytest.mark.parametrize("size", [3, best.FEW_SORTED, best.FEW_SORTED + 1, 200,
                                  best.PLAIN_SORTED + 1])
def test_best_of_sorted_takes_each_way_by_size(size, monkeypatch):
    """Few scores sorted in Python, a few hundred by one numpy sort, more by best_first."""
    rng = np.random.default_rng(size)
    docs = np.sort(rng.choice(90_000, size, replace=False)).astype(np.int64)
    scores = rng.integers(0, 3, size) / 2
    expected = best_first(docs, scores, 10)
    ways = []
    monkeypatch.setattr(best, "best_first", lambda *a: ways.append("best_first") or [])
    sort_key = best._sort_key
    monkeypatch.setattr(best, "_sort_key", lambda item: ways.append("python") or
                        sort_key(item))
    found = best.best_of_sorted(docs, scores, 10)
    if size <= best.FEW_SORTED:
        assert set(ways) == {"python"} and found == expected
    elif size <= best.PLAIN_SORTED:  # the array's own stable sort
        assert ways == [] and found == expected
    else:
        assert ways == ["best_first"]


def test_best_calls_the_arrays_methods_not_numpy_s_functions(monkeypatch):
    """The ranking's sorts, partitions and listings call the arrays' own methods, which
    numpy's functions of the same name (Python code) call after a dispatch: the same
    pages, none of those functions called."""
    expected = {}
    rng = np.random.default_rng(5)
    cases = []
    for size in (100, 600, 3000, 200_000):
        docs = np.sort(rng.choice(1_000_000, size, replace=False)).astype(np.int64)
        for scores in (rng.random(size), rng.integers(0, 4, size) / 2.0):
            cases.append((docs, scores))
    for n, (docs, scores) in enumerate(cases):
        expected[n] = (best_first(docs, scores, 10), best.best_of_sorted(docs, scores, 10),
                       best.best_of_array(scores, 10))
    for name in ("argsort", "partition", "argpartition", "flatnonzero"):
        monkeypatch.setattr(best.np, name, lambda *a, _name=name, **k: pytest.fail(_name))
    for n, (docs, scores) in enumerate(cases):
        assert (best_first(docs, scores, 10), best.best_of_sorted(docs, scores, 10),
                best.best_of_array(scores, 10)) == expected[n]
