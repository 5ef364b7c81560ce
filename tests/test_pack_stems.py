"""An article's stems packed for the index: the same text as the first way of packing them."""

from __future__ import annotations

from collections import Counter
from itertools import islice

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
