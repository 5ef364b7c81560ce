"""A phrase's words read with their positions in one pass (`Evaluator._read_with_positions`)
and phrases matched without candidates when every word gives every key: the same reads,
the same kept positions, the same documents and scores to the last bit as the two-pass
reads and the candidates' keys, over many segments, with and without deleted documents."""

from __future__ import annotations

import random

import numpy as np
import pytest
from whoosh import query as wq

from search.whoosh import evaluate
from tests.conftest import SAMPLES
from tests.indexing import exact_forms_by_position, opened_in_small_segments, random_phrases


@pytest.fixture(scope="module")
def segmented(tmp_path_factory):
    """The samples in many small segments (a word's postings and positions spread over
    them)."""
    with opened_in_small_segments(tmp_path_factory.mktemp("phrase-reads"), [SAMPLES]) as found:
        yield found


@pytest.fixture(scope="module")
def texts(segmented):
    """Each document's exact forms by position, from Whoosh's own postings."""
    return exact_forms_by_position(segmented)


def _deleted(evaluator) -> None:
    """Every third document gone, as deletions leave them."""
    evaluator.live[::3] = False
    evaluator.deletions_changed()


def _restored(evaluator) -> None:
    evaluator.kept.clear()
    evaluator.live[:] = True
    evaluator.deletions_changed()


def _vocabulary(evaluator, count: int, seed: int) -> list[str]:
    """`count` words of the exact forms, of every frequency (random, seeded)."""
    terms = evaluator.directory.field("exact").terms
    chosen = random.Random(seed).sample(range(len(terms)), count)
    return [terms[n] for n in chosen]


@pytest.mark.parametrize("deleted", [False, True])
def test_a_word_read_with_its_positions_is_its_read_and_its_positions(segmented, deleted):
    """The read is `_read()`'s (documents, weights to the last bit, where, idf) and the
    positions kept are `_kept_positions()`'s read on their own; a word with deleted
    documents in its segments is read as before, its positions not kept on the way."""
    evaluator = segmented.evaluator
    assert len(evaluator.postings) > 5
    if deleted:
        _deleted(evaluator)
    compared = joined = 0
    try:
        words = [*_vocabulary(evaluator, 300, 14), "de", "la", "le", "ville", "port",
                 "no-such-word"]
        for word in words:
            evaluator.kept.clear()
            read = evaluator._read_with_positions("exact", word)
            kept = evaluator.kept.get(("positions", "exact", word))
            evaluator.kept.clear()
            expected = evaluator._read("exact", word)
            assert (read is None) == (expected is None)
            if read is None:
                continue
            np.testing.assert_array_equal(read[0], expected[0])
            assert read[0].dtype == expected[0].dtype == np.int64
            assert read[1].dtype == expected[1].dtype
            assert read[1].tobytes() == expected[1].tobytes()
            assert read[2] == expected[2] and read[3] == expected[3]
            compared += 1
            if deleted and any(s in evaluator._deleted_in for s, _ in read[2]):
                assert kept is None
                continue
            evaluator.kept.clear()
            alone = evaluator._kept_positions("exact", word, read[2])
            assert (kept is None) == (alone is None)
            if alone is None:
                continue
            for a, b in zip(kept, alone, strict=True):
                assert a.dtype == b.dtype == np.int64
                np.testing.assert_array_equal(a, b)
                assert not a.flags.writeable
            joined += len(read[2]) > 1
    finally:
        _restored(evaluator)
    assert compared >= 250 and joined >= 30


def test_a_word_whose_counts_are_listed_apart_is_read_the_same(segmented, monkeypatch):
    """A term whose counts a segment lists apart (over 254) takes them from
    `raw_positions`: every term of every segment marked so reads the same."""
    evaluator = segmented.evaluator
    words = ["de", "la", "le", "ville", "port", *_vocabulary(evaluator, 40, 3)]
    evaluator.kept.clear()
    expected = {w: evaluator._read_with_positions("exact", w) for w in words}
    kept = {w: evaluator.kept.get(("positions", "exact", w)) for w in words}
    every = frozenset(range(10**6))
    # (their counts in the flat arrays zeroed: a read taking them there, not from
    # `raw_positions`, differs)
    flats = [(np.zeros_like(found[0]), *found[1:3], every) if found is not None else None
             for found in evaluator._positional("exact")]
    monkeypatch.setitem(evaluator._flat_positions, "exact", flats)
    # the views a term's read takes of them, made again from these
    monkeypatch.delitem(evaluator._term_views, "exact", raising=False)
    try:
        evaluator.kept.clear()
        for word in words:
            read = evaluator._read_with_positions("exact", word)
            assert read[1].tobytes() == expected[word][1].tobytes()
            again = evaluator.kept.get(("positions", "exact", word))
            assert (again is None) == (kept[word] is None)
            for a, b in zip(again or (), kept[word] or (), strict=True):
                np.testing.assert_array_equal(a, b)
    finally:
        evaluator.kept.clear()


def _phrases(texts: dict[int, dict[int, str]], count: int, seed: int) -> list[list[str]]:
    """Two- and three-word phrases taken at random positions of the documents (each
    matching somewhere), and as many of words side by side nowhere, perhaps."""
    rng = random.Random(seed)
    found, vocabulary = random_phrases(texts, count, rng, (2, 2, 3))
    return found


@pytest.mark.parametrize(("all_keys", "largest"),
                         [(evaluate.ALL_KEYS, None), (64, None), (evaluate.ALL_KEYS, 8)])
@pytest.mark.parametrize("deleted", [False, True])
def test_random_phrases_match_as_with_candidates_and_as_whoosh(segmented, texts, monkeypatch,
                                                               deleted, all_keys, largest):
    """Phrases at random positions (and random pairs) over many segments: without
    candidates (every word's every key, its positions read with it), with the candidates'
    keys only, segment by segment (ALL_KEYS 0, nothing kept, SMALL_POSTINGS 0), the same
    documents and scores to the last bit; the documents Whoosh's own phrase query
    matches. With ALL_KEYS 64, the words of more positions give their candidates' keys
    beside others' every key; with at most 8 postings kept, the others' candidates are
    looked up in their reads (`_chosen_keys`)."""
    evaluator = segmented.evaluator
    searcher = segmented.searcher
    # the words read one by one (`_read_together` reads words never read all at once:
    # tests/test_phrase_together.py)
    monkeypatch.setattr(evaluate, "TOGETHER_POSTINGS", 0)
    monkeypatch.setattr(evaluate, "ALL_KEYS", all_keys)
    if largest is not None:
        monkeypatch.setattr(evaluator.kept, "largest", largest)
    if deleted:
        _deleted(evaluator)
    without = matched = mixed = 0
    every_key = evaluator._every_key
    skipped: list[bool] = []

    def noted(fieldname, word, read):
        found = every_key(fieldname, word, read)
        skipped.append(found)
        return found

    try:
        for words in _phrases(texts, 150, 2026):
            evaluator.kept.clear()
            with monkeypatch.context() as patch:
                patch.setattr(evaluator, "_every_key", noted)
                skipped.clear()
                found = evaluator.phrase("exact", words)
            without += all(skipped) and len(skipped) == len(set(words))
            mixed += any(skipped) and not all(skipped)
            with monkeypatch.context() as patch:
                patch.setattr(evaluate, "ALL_KEYS", 0)
                patch.setattr(evaluate, "SMALL_POSTINGS", 0)
                patch.setattr(evaluator.kept, "largest", 0)
                evaluator.kept.clear()
                expected = evaluator.phrase("exact", words)
            np.testing.assert_array_equal(found.docs, expected.docs)
            assert found.docs.dtype == expected.docs.dtype == np.int64
            assert found.scores.tobytes() == expected.scores.tobytes()
            q = wq.Phrase("exact", words)
            whoosh = sorted(d for d in searcher.docs_for_query(q) if evaluator.live[d])
            assert found.docs.tolist() == whoosh, words
            matched += bool(len(found.docs))
    finally:
        _restored(evaluator)
    assert without >= (20 if all_keys == 64 else 5 if largest else 100) and matched >= 100
    assert (all_keys > 64 and largest is None) or mixed >= 20


def test_a_phrase_scores_as_its_words_terms(segmented, texts):
    """A phrase's score is the sum of its words' `term()` scores, in the words' order,
    bit for bit."""
    evaluator = segmented.evaluator
    evaluator.kept.clear()
    for words in _phrases(texts, 60, 7)[:60]:
        found = evaluator.phrase("exact", words, boost=1.5)
        terms = {w: evaluator.term("exact", w) for w in words}
        expected = sum(terms[w].restrict(found.docs) for w in words) * 1.5
        assert found.scores.tobytes() == np.asarray(expected, dtype=np.float64).tobytes()
        assert len(found.docs)


@pytest.mark.parametrize("listed_apart", [False, True])
@pytest.mark.parametrize("deleted", [False, True])
def test_candidates_looked_up_in_a_words_read_give_its_keys(segmented, monkeypatch, deleted,
                                                            listed_apart):
    """`_chosen_keys` of random subsets of a word's documents (the candidates: the first
    posting, the last, one, all) are the keys read segment by segment; None when a
    segment holding the word has deleted documents. With every term's counts marked as
    listed apart, they are taken from `raw_positions`, the same."""
    evaluator = segmented.evaluator
    if deleted:
        _deleted(evaluator)
    if listed_apart:
        every = frozenset(range(10**6))
        flats = [(np.zeros_like(found[0]), *found[1:3], every) if found is not None
                 else None for found in evaluator._positional("exact")]
        monkeypatch.setitem(evaluator._flat_positions, "exact", flats)
        # the views a term's read takes of them, made again from these
        monkeypatch.delitem(evaluator._term_views, "exact", raising=False)
    monkeypatch.setattr(evaluator.kept, "largest", 0)
    rng = np.random.default_rng(14)
    compared = 0
    try:
        for word in ["de", "la", "le", "ville", "port", *_vocabulary(evaluator, 200, 5)]:
            read = evaluator._read("exact", word)
            if read is None or not len(read[0]):
                continue
            docs = read[0]
            subsets = [docs, docs[:1], docs[-1:], docs[rng.random(len(docs)) < 0.3],
                       docs[rng.random(len(docs)) < 0.05]]
            for candidates in subsets:
                if not len(candidates):
                    continue
                keys = evaluator._chosen_keys("exact", candidates, read)
                if deleted and any(s in evaluator._deleted_in for s, _ in read[2]):
                    assert keys is None
                    continue
                with monkeypatch.context() as patch:
                    patch.setattr(evaluate, "SMALL_POSTINGS", 0)
                    expected = evaluator._position_keys("exact", word, candidates, read[2])
                assert keys.dtype == expected.dtype == np.int64
                np.testing.assert_array_equal(keys, expected)
                compared += 1
    finally:
        _restored(evaluator)
    assert compared >= 300
