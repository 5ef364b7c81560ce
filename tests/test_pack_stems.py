"""An article's stems packed for the index: the same text as the first way of packing them."""

from __future__ import annotations

from array import array
from collections import Counter
from itertools import islice

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from search.analysis import stem_all, words
from search.feedback import (
    FEEDBACK_STEMS,
    FEEDBACK_WORDS,
    article_stems,
    pack_numbered,
    pack_stems,
)
from search.schema import build_schema
from search.whoosh.batch_stems import counted_pairs, pack_numbered_batch
from search.whoosh.columns import STOPPED, TokenColumns


def _first_way(found: list[str]) -> tuple[str, tuple[int, dict[str, int]]]:
    """pack_stems and article_stems as first written (Counter.most_common, a dict of
    groups): ranking reads the packed text, which must not change."""
    counts = Counter(filter(None, stem_all(islice(found, FEEDBACK_WORDS))))
    length, kept = counts.total(), dict(counts.most_common(FEEDBACK_STEMS))
    groups: dict[int, list[str]] = {}
    for word, count in kept.items():
        groups.setdefault(count, []).append(word)
    packed = " ".join([str(length), *(f"{count}:{','.join(group)}"
                                      for count, group in groups.items())])
    return packed, (length, kept)


_WORDS = st.sampled_from(["siège", "sieges", "canon", "canons", "le", "de", "Paris", "mot1",
                          "mot2", "mot3", "guerre", "aujourd'hui", "x", "l", "1789"]
                         + [f"w{n}" for n in range(90)])


@settings(max_examples=300, deadline=None)
@given(st.lists(_WORDS, max_size=FEEDBACK_WORDS + 40))
def test_packed_stems_are_the_first_ways(found):
    packed, stems = _first_way(found)
    assert pack_stems(iter(found)) == packed
    assert article_stems(iter(found)) == stems
    assert list(article_stems(found)[1].items()) == list(stems[1].items())  # order too


@settings(max_examples=300, deadline=None)
@given(st.lists(_WORDS, max_size=FEEDBACK_WORDS + 40), st.lists(_WORDS, max_size=30))
def test_stems_packed_from_term_numbers_are_the_packed_stems(found, before):
    # The numbers a segment's `text` columns give the words (others pooled before them).
    columns = TokenColumns(*build_schema()["text"].pooled_analysis())
    columns.add(0, [(words(" ".join(before)), 1.0)])
    start = len(columns.tokens)
    columns.add(1, [(words(" ".join(found)), 1.0)])
    numbers = columns.tokens[start:start + FEEDBACK_WORDS]
    assert pack_numbered(numbers, columns.terms, columns.dropped()) == \
        pack_stems(iter(words(" ".join(found))))


def test_the_empty_term_is_dropped_like_a_stop_word():
    columns = TokenColumns(lambda w: {"le": None, "x": ""}.get(w, w), positional=False)
    columns.add(0, [(["a", "x", "le", "b", "a", "x"], 1.0)])
    assert sorted(columns.dropped()) == [STOPPED, columns.terms.index("")]
    assert pack_numbered(columns.tokens, columns.terms, columns.dropped()) == "3 2:a 1:b"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(_WORDS, max_size=FEEDBACK_WORDS + 40), max_size=8),
       st.lists(_WORDS, max_size=30))
def test_stems_packed_by_batches_are_packed_one_by_one(texts, before):
    # Documents pooled one after the other (words of others before them), packed at once.
    columns = TokenColumns(*build_schema()["text"].pooled_analysis())
    columns.add(0, [(words(" ".join(before)), 1.0)])
    spans = []
    for n, found in enumerate(texts, 1):
        start = len(columns.tokens)
        columns.add(n, [(words(" ".join(found)), 1.0)])
        spans.append((start, min(start + FEEDBACK_WORDS, len(columns.tokens))))
    one_by_one = [pack_numbered(columns.tokens[a:b], columns.terms, columns.dropped())
                  for a, b in spans]
    assert pack_numbered_batch(columns.tokens, spans, columns.terms, columns.dropped()) == \
        one_by_one


def test_a_batch_ranks_counts_then_first_seen_and_cuts():
    # 70 stems seen once after a stem seen twice and another three times: the first 64 kept.
    stem_of = [f"s{n}" for n in range(80)] + [""]
    tokens = [5, 3, 3, 5, 3, STOPPED, 80, *range(10, 80)]
    spans = [(0, len(tokens)), (2, 4), (4, 4)]
    packed = pack_numbered_batch(array("i", tokens), spans, stem_of, [STOPPED, 80])
    assert packed[0] == pack_numbered(tokens, stem_of, [STOPPED, 80])
    assert packed[0].startswith("75 3:s3 2:s5 1:s10,s11,")
    assert packed[0].endswith(",s71")  # 62 stems seen once, after the two above
    assert packed[1:] == ["2 1:s3,s5", "0"]


@pytest.mark.parametrize("width", [5, 70_000])
def test_pairs_counted_by_radix_are_numpys_unique(width):
    rng = np.random.default_rng(width)
    for size in (0, 1, 7, 3000):
        doc_of = rng.integers(0, 40, size).astype(np.int64)
        found = rng.integers(0, width, size).astype(np.int64)
        expected = np.unique(doc_of * width + found, return_index=True, return_counts=True)
        got = counted_pairs(doc_of, found, width, 40)
        for a, b in zip(got, expected, strict=True):
            assert a.tolist() == b.tolist()


def test_a_batch_whose_stems_hold_the_cut_is_packed_one_by_one():
    """Documents are joined at once and cut apart by a character no stem holds; a stem
    holding it (none of Furet's does) is packed one document at a time, the same text."""
    stem_of = ["a\x00b", "c", "d"]
    tokens = [0, 1, 1, 2, 0, 0]
    spans = [(0, 4), (4, 6), (1, 3)]
    packed = pack_numbered_batch(array("i", tokens), spans, stem_of, [STOPPED])
    assert packed == [pack_numbered(tokens[a:b], stem_of, [STOPPED]) for a, b in spans]
    assert packed[1] == "2 2:a\x00b"
