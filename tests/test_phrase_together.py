"""A phrase's words never read, read together in one set of arrays
(`Evaluator._read_together`): the same documents and scores to the last bit as the words
read one by one and as Whoosh's own phrase query, the same terms kept, over many segments,
with deleted documents in some; and the cases it leaves to the words read one by one."""

from __future__ import annotations

import random

import numpy as np
import pytest
from whoosh import query as wq

from search.whoosh import evaluate
from tests.conftest import SAMPLES
from tests.indexing import (
    evaluator_afresh,
    exact_forms_by_position,
    opened_in_small_segments,
    random_phrases,
)


@pytest.fixture(scope="module")
def segmented(tmp_path_factory):
    """The samples in many small segments (a word's postings and positions spread over
    them)."""
    with opened_in_small_segments(tmp_path_factory.mktemp("phrase-together"), [SAMPLES]) as found:
        yield found


@pytest.fixture(scope="module")
def texts(segmented):
    """Each document's exact forms by position, from Whoosh's own postings."""
    return exact_forms_by_position(segmented)


@pytest.fixture
def evaluator(segmented):
    with evaluator_afresh(segmented) as found:
        yield found


def _some_deleted(evaluator) -> None:
    """Every third document of every fifth segment gone: words of the others are read
    together, words in those one by one."""
    for segment, (start, end) in enumerate(zip(evaluator.offsets,
                                               [*evaluator.offsets[1:], evaluator.size],
                                               strict=True)):
        if segment % 5 == 1:
            evaluator.live[start:end:3] = False
    evaluator.deletions_changed()


def _phrases(texts: dict[int, dict[int, str]], count: int, seed: int) -> list[list[str]]:
    """Two-, three- and four-word phrases taken at random positions of the documents (each
    matching somewhere), as many random pairs, and phrases repeating a word."""
    rng = random.Random(seed)
    found, vocabulary = random_phrases(texts, count, rng, (2, 2, 2, 3, 4))
    found += [[w, w] for w in rng.sample(vocabulary, 10)]
    # two distinct words in three (a pair that matches, its first word again after it)
    pairs = [p for p in found[:count] if len(p) == 2 and p[0] != p[1]]
    found += [[a, b, a] for a, b in pairs[:20]] + [[a, b, b] for a, b in pairs[20:30]]
    return found


@pytest.mark.parametrize("largest", [None, 8])
@pytest.mark.parametrize("deleted", [False, True])
def test_words_read_together_match_as_read_one_by_one_and_as_whoosh(
        segmented, evaluator, texts, monkeypatch, deleted, largest):
    """Phrases at random positions, random pairs and repeated words: read together (a
    pair of distinct words matched by `_pair_matched`, any other phrase by `_matched`),
    the same documents (int64) and scores to the last bit as read one by one
    (TOGETHER_POSTINGS 0), and the documents Whoosh's phrase query matches. With at most
    8 postings kept, phrases of words kept and not kept are read together too."""
    if largest is not None:
        monkeypatch.setattr(evaluator.kept, "largest", largest)
    if deleted:
        _some_deleted(evaluator)
    together = evaluator._read_together
    pair = evaluator._pair_matched
    seen = {"together": 0, "pair": 0, "apart": 0, "matched": 0}
    counting = [True]

    def read_together(fieldname, words):
        found = together(fieldname, words)
        if counting[0]:
            seen["together" if found is not None else "apart"] += 1
        return found

    def pair_matched(keys, split):
        seen["pair"] += counting[0]
        return pair(keys, split)

    monkeypatch.setattr(evaluator, "_read_together", read_together)
    monkeypatch.setattr(evaluator, "_pair_matched", pair_matched)
    for words in _phrases(texts, 150, 2027):
        evaluator.kept.clear()
        found = evaluator.phrase("exact", words, boost=1.5)
        counting[0] = False
        with monkeypatch.context() as patch:
            patch.setattr(evaluate, "TOGETHER_POSTINGS", 0)
            evaluator.kept.clear()
            expected = evaluator.phrase("exact", words, boost=1.5)
        counting[0] = True
        assert found.docs.dtype == expected.docs.dtype == np.int64
        np.testing.assert_array_equal(found.docs, expected.docs)
        assert found.scores.tobytes() == expected.scores.tobytes(), words
        whoosh = sorted(d for d in segmented.searcher.docs_for_query(wq.Phrase("exact", words))
                        if evaluator.live[d])
        assert found.docs.tolist() == whoosh, words
        seen["matched"] += bool(len(found.docs))
    assert seen["matched"] >= (60 if deleted else 140)
    assert seen["together"] >= (30 if deleted else 250)
    assert seen["pair"] >= (20 if deleted else 150)
    assert seen["together"] - seen["pair"] >= (5 if deleted else 40)  # `_matched`
    assert not deleted or seen["apart"] >= 100


def _vocabulary(evaluator, count: int, seed: int) -> list[str]:
    """`count` words of the exact forms, of every frequency (random, seeded)."""
    terms = evaluator.directory.field("exact").terms
    chosen = random.Random(seed).sample(range(len(terms)), count)
    return [terms[n] for n in chosen]


def _listed_apart(evaluator, monkeypatch) -> None:
    """Every term's counts marked as listed apart (taken from `raw_positions`), their
    counts in the flat arrays zeroed (a read taking them there differs)."""
    every = frozenset(range(10**6))
    flats = [(np.zeros_like(found[0]), *found[1:3], every) if found is not None else None
             for found in evaluator._positional("exact")]
    monkeypatch.setitem(evaluator._flat_positions, "exact", flats)
    monkeypatch.delitem(evaluator._term_views, "exact", raising=False)


@pytest.mark.parametrize("listed_apart", [False, True])
@pytest.mark.parametrize("largest", [None, 16])
def test_words_read_together_are_kept_as_read_one_by_one(evaluator, monkeypatch,
                                                          listed_apart, largest):
    """Each word read together of at most `kept.largest` postings has its read and its
    joined positions kept as `_read_with_positions` keeps them (int64 documents, counts,
    ends and positions, weights to the last bit, where, idf, all read-only); a word of
    more is not kept, and the others' kept arrays then hold none of its memory."""
    if listed_apart:
        _listed_apart(evaluator, monkeypatch)
    if largest is not None:
        monkeypatch.setattr(evaluator.kept, "largest", largest)
    words = _vocabulary(evaluator, 240, 8)
    compared = apart = 0
    for first, second, third in zip(words[::3], words[1::3], words[2::3], strict=True):
        distinct = [*dict.fromkeys([first, second, third, "de"])]
        evaluator.kept.clear()
        found = evaluator._read_together("exact", distinct)
        assert found
        reads, keys, bounds = found
        assert list(reads) == distinct and len(bounds) == len(distinct)
        assert bounds[-1] == len(keys)
        kept = {w: (evaluator.kept.get(("exact", w)),
                    evaluator.kept.get(("positions", "exact", w))) for w in distinct}
        large = [w for w in distinct if len(reads[w][0]) > evaluator.kept.largest]
        for word in distinct:
            evaluator.kept.clear()
            read = evaluator._read_with_positions("exact", word)
            positions = evaluator._kept_positions("exact", word, read[2], read)
            together = reads[word]
            np.testing.assert_array_equal(together[0], read[0])
            weights = together[1]
            if weights.dtype != np.float64:  # a word not kept beside one kept: as stored
                assert word in large
                (scale,) = evaluator._field_scales["exact"]
                weights = weights.astype(np.float64) * (1.0 if scale is None else scale)
            assert weights.tobytes() == read[1].tobytes()
            assert together[2:] == read[2:]
            if word in large:
                assert kept[word] == (None, None)
                continue
            kept_read, kept_positions = kept[word]
            assert kept_read[0].dtype == np.int64 and kept_read[1].dtype == np.float64
            np.testing.assert_array_equal(kept_read[0], read[0])
            assert kept_read[1].tobytes() == read[1].tobytes()
            assert kept_read[2:] == read[2:]
            for a, b in zip(kept_positions, positions, strict=True):
                assert a.dtype == b.dtype == np.int64
                np.testing.assert_array_equal(a, b)
            # (the large word's arrays are slices of the arrays all the words share)
            shared = [reads[w][i].base for w in large for i in (0, 1)]
            for array in (*kept_read[:2], *kept_positions):
                assert not array.flags.writeable
                assert not any(np.shares_memory(array, base) for base in shared)
            compared += 1
        apart += bool(large)
    assert compared >= 150
    assert largest is None or apart >= 30


def test_words_read_together_give_their_sorted_keys(evaluator):
    """Each word's part of the keys is its every (document << 32) + position key, as
    `_phrase_keys` gives them without candidates, once sorted."""
    words = _vocabulary(evaluator, 200, 11)
    for first, second in zip(words[::2], words[1::2], strict=True):
        distinct = [*dict.fromkeys([first, second])]
        evaluator.kept.clear()
        reads, keys, bounds = evaluator._read_together("exact", distinct)
        start = 0
        for word, end in zip(distinct, bounds, strict=True):
            joined = evaluator.kept.get(("positions", "exact", word))
            expected = np.sort(joined[0].repeat(joined[1]) * (1 << 32) + joined[3])
            np.testing.assert_array_equal(np.sort(keys[start:end], kind="stable"),
                                          expected)
            start = end


def test_words_not_read_together(evaluator, monkeypatch):
    """A word in no segment: () (the phrase matches nothing); a word read before, a word
    over TOGETHER_POSTINGS, a segment holding deleted documents, segments whose weights
    have different scales: None, the words read one by one."""
    assert evaluator._read_together("exact", ["ville", "no-such-word"]) == ()
    assert not len(evaluator.phrase("exact", ["ville", "no-such-word"]).docs)
    evaluator.kept.clear()
    evaluator.term("exact", "port")
    assert evaluator._read_together("exact", ["ville", "port"]) is None
    evaluator.kept.clear()
    frequency = evaluator.directory.frequency("exact", "ville")
    monkeypatch.setattr(evaluate, "TOGETHER_POSTINGS", frequency - 1)
    assert evaluator._read_together("exact", ["port", "ville"]) is None
    monkeypatch.setattr(evaluate, "TOGETHER_POSTINGS", frequency)
    assert evaluator._read_together("exact", ["port", "ville"])
    evaluator.kept.clear()
    segment = evaluator.directory.where("exact", "ville")[0][0]
    evaluator.live[evaluator.offsets[segment]] = False
    evaluator.deletions_changed()
    assert evaluator._read_together("exact", ["port", "ville"]) is None
    evaluator.live[:] = True
    evaluator.deletions_changed()
    monkeypatch.setitem(evaluator._field_scales, "exact", {None, 0.5})
    assert evaluator._read_together("exact", ["port", "ville"]) is None


def _widened(evaluator, monkeypatch, segment: int) -> None:
    """One segment's documents and positions of the exact forms stored as uint32 (the
    same values), as a segment of more than 65,536 documents or a longer article stores
    them: the field's segments then differ in type."""
    flat = evaluator._flats("exact")[segment]
    held = evaluator._positional("exact")[segment]
    flats = list(evaluator._flats("exact"))
    flats[segment] = (flat[0], flat[1].astype(np.uint32), *flat[2:])
    positional = list(evaluator._positional("exact"))
    positional[segment] = (held[0], held[1], held[2].astype(np.uint32), held[3])
    monkeypatch.setitem(evaluator._flat, "exact", flats)
    monkeypatch.setitem(evaluator._flat_positions, "exact", positional)
    monkeypatch.delitem(evaluator._term_views, "exact", raising=False)
    # (restored after the test with the types the field's slicing finds: the tests after
    # it read the segments as they are stored)
    monkeypatch.delitem(evaluator._field_types, "exact", raising=False)


@pytest.mark.parametrize("widened", [False, True])
def test_words_read_together_whatever_their_segments_types(evaluator, texts, monkeypatch,
                                                            widened):
    """Segments storing the exact forms in one set of types have a word's slices joined
    as bytes (`_term_slicing`'s memoryviews, the positions widened only in the keys and
    for the words kept); segments of different types (one wider: the field's types
    None) have them concatenated. Either way, the same documents and scores to the last
    bit as the words read one by one, and each word kept with int64 documents, counts,
    ends and positions."""
    if widened:
        _widened(evaluator, monkeypatch, 1)
    evaluator._term_slicing("exact")
    types = evaluator._field_types["exact"]
    assert (types is None) == widened
    if not widened:
        assert types[0] == np.uint16 and types[3] == np.uint16  # (the samples' sizes)
    compared = 0
    for words in _phrases(texts, 60, 2031):
        evaluator.kept.clear()
        found = evaluator.phrase("exact", words)
        kept = [evaluator.kept.get(("positions", "exact", w)) for w in dict.fromkeys(words)]
        with monkeypatch.context() as patch:
            patch.setattr(evaluate, "TOGETHER_POSTINGS", 0)
            evaluator.kept.clear()
            expected = evaluator.phrase("exact", words)
        np.testing.assert_array_equal(found.docs, expected.docs)
        assert found.scores.tobytes() == expected.scores.tobytes(), words
        for joined in kept:
            if joined is not None:
                assert all(a.dtype == np.int64 and not a.flags.writeable for a in joined)
                compared += 1
    assert compared >= 100
