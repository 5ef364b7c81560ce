"""Pooled words keep a part's weight and position per part; grouping spreads them per word."""

from __future__ import annotations

import random
from array import array

import numpy as np
import pytest

from search.schema import PART_GAP
from search.whoosh.columns import STOPPED, SharedWords, TokenColumns


def _documents(seed: int) -> list[list[tuple[list[str], float]]]:
    rng = random.Random(seed)
    return [[([f"w{rng.randint(0, 30)}" for _ in range(rng.randint(0, 9))],
              rng.choice([1.0, 1.5, 3.0])) for _ in range(rng.randint(0, 4))]
            for _ in range(300)]


def test_positions_and_weights_are_spread_from_the_parts():
    columns = TokenColumns(lambda w: None if w == "w0" else w, positional=True, boost=2.0)
    positions, weights, lengths = [], [], []
    for docnum, parts in enumerate(_documents(1)):
        start = 0
        for words, weight in parts:
            positions.extend(range(start, start + len(words)))
            weights.extend([weight] * len(words))
            start += len(words) + PART_GAP
        length = columns.add(docnum, parts)
        lengths.append(length)
        assert length == sum(w != "w0" for words, _ in parts for w in words)
    assert columns.nbytes() == 9 * len(columns.tokens) + 8 * len(columns.docs)
    part_lengths = np.frombuffer(columns.part_lengths, dtype=np.uint32).astype(np.int64)
    assert columns._positions(part_lengths).tolist() == positions
    table = np.array(columns.part_weights)
    spread = table[np.repeat(np.frombuffer(columns.parts, dtype=np.uint8), part_lengths)]
    assert spread.tolist() == weights
    grouped = columns.grouped()
    assert grouped is not None
    assert int(grouped.counts.sum()) == sum(lengths) == len(grouped.positions)
    assert abs(float(grouped.weights.sum()) - 2.0 * sum(
        w for (t, w) in zip(columns_terms(_documents(1)), weights, strict=True)
        if t != STOPPED)) < 1e-3


def columns_terms(documents: list[list[tuple[list[str], float]]]) -> list[int]:
    """Each word's term, STOPPED for the stop word of the test."""
    return [STOPPED if w == "w0" else 0 for parts in documents for words, _ in parts
            for w in words]


def _grouped_as_lists(columns: TokenColumns) -> tuple:
    grouped = columns.grouped()
    assert grouped is not None
    return (grouped.terms, grouped.starts.tolist(), grouped.docs.tolist(),
            grouped.weights.tolist(), grouped.counts.tolist(),
            None if grouped.positions is None else grouped.positions.tolist())


def test_text_values_remembered_give_the_same_postings_and_lengths(monkeypatch):
    # Values repeat (sections), some only once (titles); the memory is cleared on the way.
    monkeypatch.setattr("search.whoosh.columns.TEXTS_KEPT", 3)
    rng = random.Random(7)
    values = [" ".join(f"w{rng.randint(0, 12)}" for _ in range(rng.randint(0, 6)))
              for _ in range(8)]
    texts = [rng.choice(values) for _ in range(400)]

    def parts_of(text: str) -> list[tuple[list[str], float]]:
        return [(text.split(), 1.5)]

    def term(word: str) -> str | None:
        return None if word in ("w0", "w3") else word.upper()

    for positional in (True, False):
        plain = TokenColumns(term, positional=positional, boost=2.0)
        remembered = TokenColumns(term, positional=positional, boost=2.0)
        for docnum, text in enumerate(texts):
            assert remembered.add_text(docnum, text, parts_of) == \
                plain.add(docnum, parts_of(text))
        assert remembered.nbytes() == plain.nbytes()
        assert _grouped_as_lists(remembered) == _grouped_as_lists(plain)


_STOPS = {"w0", "w3", "W3"}


def _shared_and_plain(positional: bool, drops: bool) -> tuple[TokenColumns, TokenColumns]:
    def term(word: str) -> str | None:
        return None if drops and word in _STOPS else word.lower()

    return (TokenColumns(term, positional=positional, boost=2.0),
            TokenColumns(term, positional=positional, boost=2.0,
                         shared=SharedWords(_STOPS.__contains__), drops=drops))


def test_words_shared_between_fields_give_each_field_its_postings(monkeypatch):
    # Two fields pool the same word lists (one drops the stop words, one keeps them) and a
    # third pools other words and text values: each gives what it gives pooled alone.
    monkeypatch.setattr("search.whoosh.columns.TEXTS_KEPT", 3)
    rng = random.Random(11)
    documents = [[([rng.choice(["w0", "w1", "W1", "w2", "w3", "W3", "w4", f"w{n % 40}"])
                    for _ in range(rng.randint(0, 12))], rng.choice([1.0, 3.0]))
                  for _ in range(rng.randint(0, 3))] for n in range(300)]
    texts = [rng.choice(["w5 w3", "w0 w0", "w6 w7 W1", ""]) for _ in range(300)]
    shared = SharedWords(_STOPS.__contains__)
    fields = []
    for positional, drops in ((True, False), (False, True), (True, True)):
        plain, pooled = _shared_and_plain(positional, drops)
        pooled._shared = shared  # one table of words for the three
        fields.append((plain, pooled))
    for docnum, (parts, text) in enumerate(zip(documents, texts, strict=True)):
        for n, (plain, pooled) in enumerate(fields):
            if n < 2:
                assert pooled.add(docnum, parts) == plain.add(docnum, parts)
            else:
                assert pooled.add_text(docnum, text, lambda t: [(t.split(), 1.5)]) == \
                    plain.add(docnum, [(text.split(), 1.5)])
        if docnum % 50 == 7:  # the stems' reading of the words so far
            for plain, pooled in fields:
                assert [plain.terms[n] if n >= 0 else None
                        for n in plain.term_numbers(docnum, len(plain.tokens))] == \
                    [pooled.terms[n] if n >= 0 else None
                     for n in pooled.term_numbers(docnum, len(pooled.tokens))]
    for plain, pooled in fields:
        assert pooled.nbytes() == plain.nbytes()
        assert _grouped_as_lists(pooled) == _grouped_as_lists(plain)


def test_shared_words_count_their_stop_words_once_per_list():
    shared = SharedWords({"le", "la"}.__contains__)
    words = ["le", "chat", "la", "le", "souris", "chat"]
    numbers, stopped = shared.numbered(words)
    assert stopped == 3 and array("i", numbers).tolist() == [-1, 0, -2, -1, 1, 0]
    assert [shared.number(w) for w in ("le", "chat", "la", "souris")] == [-1, 0, -2, 1]
    assert shared.numbered(words)[0] is numbers  # the same list: not looked up again
    assert shared.numbered(list(words))[0] is not numbers
    assert shared.kept == ["chat", "souris"] and shared.stopped == ["le", "la"]


def test_a_field_of_shared_words_only_stop_words_gives_no_postings():
    plain, pooled = _shared_and_plain(positional=False, drops=True)
    assert pooled.add(0, [(["w0", "w3"], 1.0)]) == plain.add(0, [(["w0", "w3"], 1.0)]) == 0
    assert pooled.grouped() is None and plain.grouped() is None


def test_a_field_that_drops_other_words_than_the_shared_stop_words_is_refused():
    columns = TokenColumns(lambda w: None if w == "w1" else w, positional=False,
                           shared=SharedWords(_STOPS.__contains__), drops=True)
    columns.add(0, [(["w1", "w2"], 1.0)])
    with pytest.raises(ValueError, match="dropped by one field and not another"):
        columns.grouped()


def test_memory_is_counted_as_words_are_pooled_and_released():
    """`nbytes()` (asked after every document a build adds) is kept as words are pooled:
    what the columns' lengths say, and nothing once they are grouped."""
    for positional in (True, False):
        columns = TokenColumns(lambda w: w, positional=positional)
        for docnum, parts in enumerate(_documents(3)):
            columns.add(docnum, parts)
            assert columns.nbytes() == (9 if positional else 5) * len(columns.tokens) \
                + 8 * len(columns.docs)
        columns.add_text(len(columns.docs), "w1 w2", lambda text: [(text.split(), 1.0)])
        assert columns.nbytes() == (9 if positional else 5) * len(columns.tokens) \
            + 8 * len(columns.docs)
        columns.grouped()
        assert columns.nbytes() == 0
