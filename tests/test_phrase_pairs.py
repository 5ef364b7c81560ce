"""A phrase's words read together and matched (`Evaluator._pair_matched`: two distinct words
merged, or the word of far fewer keys looked up in the other's by a binary search), and
scored (`_phrase_scores`: a word not kept gives its weights as stored, a few matched
documents are scored in Python floats): the documents a naive walk over each document's
words finds, and the sum of the words' `term()` scores to the last bit, whichever way.

The phrases are taken at random positions of the samples held in many small segments (a
word's postings spread over them, absent from some), with random pairs (most matching
nowhere), repeated words ("vous vous") and three-word phrases, with and without deleted
documents and with few postings kept (a pair of a word kept and one not)."""

from __future__ import annotations

import random

import numpy as np
import pytest

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
    with opened_in_small_segments(tmp_path_factory.mktemp("phrase-pairs"), [SAMPLES]) as found:
        yield found


@pytest.fixture(scope="module")
def texts(segmented):
    """Each document's exact forms by position, from Whoosh's own postings."""
    return exact_forms_by_position(segmented)


@pytest.fixture
def evaluator(segmented):
    with evaluator_afresh(segmented) as found:
        yield found


def _phrases(texts: dict[int, dict[int, str]], count: int, seed: int) -> list[list[str]]:
    """Pairs taken at random positions (each matching somewhere), as many random pairs, a
    frequent word beside rare ones both ways, repeated words and three-word phrases."""
    rng = random.Random(seed)
    found, vocabulary = random_phrases(texts, count, rng, (2, 2, 2, 2, 3))
    frequent = [p for p in found[:count] if "de" in p or "la" in p]
    found += [[w, "de"] for w in rng.sample(vocabulary, 20)]
    found += [["la", w] for w in rng.sample(vocabulary, 20)]
    found += [[w, w] for w in rng.sample(vocabulary, 10)] + [["vous", "vous"]]
    return found + frequent


def _naive(texts: dict[int, dict[int, str]], words: list[str], live: np.ndarray) -> list[int]:
    """The live documents where `words` follow each other, by a walk over their words."""
    found = []
    for doc, by_position in texts.items():
        if not live[doc]:
            continue
        for start, word in by_position.items():
            if word == words[0] and all(by_position.get(start + i) == w
                                        for i, w in enumerate(words)):
                found.append(doc)
                break
    return sorted(found)


@pytest.mark.parametrize("few", [0, evaluate.FEW_SCORED, 10**9])
@pytest.mark.parametrize("lopsided", [1, evaluate.LOPSIDED_KEYS, 10**9])
@pytest.mark.parametrize(("deleted", "largest"), [(False, None), (False, 8), (True, None)])
def test_pairs_match_and_score_as_a_naive_walk_and_their_terms(
        evaluator, texts, monkeypatch, lopsided, few, deleted, largest):
    """Every phrase: the documents of the naive walk, and scores the sum of its words'
    `term()` scores in the words' order (boosted), bit for bit. LOPSIDED_KEYS 1 has a pair
    of unequal words looked up both ways (the first in the second's keys, the second in
    the first's), 10**9 merges every pair; FEW_SCORED 0 scores every phrase with numpy,
    10**9 every one in Python floats. Each way is taken several times."""
    monkeypatch.setattr(evaluate, "LOPSIDED_KEYS", lopsided)
    monkeypatch.setattr(evaluate, "FEW_SCORED", few)
    if largest is not None:
        monkeypatch.setattr(evaluator.kept, "largest", largest)
    if deleted:  # every third document of every fifth segment
        for segment, start in enumerate(evaluator.offsets):
            end = [*evaluator.offsets[1:], evaluator.size][segment]
            if segment % 5 == 1:
                evaluator.live[start:end:3] = False
        evaluator.deletions_changed()
    together = evaluator._read_together
    ways = {"first": 0, "second": 0, "merged": 0, "stored": 0, "matched": 0}

    def read_together(fieldname, words):
        found = together(fieldname, words)
        if found and len(words) == 2:
            first, second = found[2][0], found[2][1] - found[2][0]
            ways["first" if second > lopsided * first else
                 "second" if first > lopsided * second else "merged"] += 1
            ways["stored"] += any(r[1].dtype != np.float64 for r in found[0].values())
        return found

    monkeypatch.setattr(evaluator, "_read_together", read_together)
    for words in _phrases(texts, 120, 2029):
        evaluator.kept.clear()
        found = evaluator.phrase("exact", words, boost=1.5)
        assert found.docs.dtype == np.int64
        assert found.docs.tolist() == _naive(texts, words, evaluator.live), words
        terms = {w: evaluator.term("exact", w) for w in words}
        expected = sum(terms[w].restrict(found.docs) for w in words) * 1.5
        assert found.scores.tobytes() == np.asarray(expected, dtype=np.float64).tobytes()
        ways["matched"] += bool(len(found.docs))
    assert ways["matched"] >= (90 if deleted else 120)
    if deleted:
        return
    if lopsided == 1:
        assert ways["first"] >= 20 and ways["second"] >= 20
    if lopsided == 10**9:
        assert ways["merged"] >= 150 and not ways["first"] and not ways["second"]
    assert ways["stored"] >= (20 if largest else 0)


def test_each_words_keys_come_in_order(evaluator, texts):
    """Each word's part of `_read_together`'s keys is strictly increasing as read (what
    a binary search in them relies on), for words spread over many segments."""
    vocabulary = sorted({w for words in texts.values() for w in words.values()})
    words = random.Random(5).sample(vocabulary, 300) + ["de", "la", "vous"]
    checked = 0
    for first, second in zip(words[::2], words[1::2], strict=False):
        evaluator.kept.clear()
        found = evaluator._read_together("exact", [first, second])
        assert found
        _, keys, bounds = found
        for part in (keys[:bounds[0]], keys[bounds[0]:bounds[1]]):
            assert bool(np.all(part[1:] > part[:-1]))
            checked += len(part) > 1
    assert checked >= 100
