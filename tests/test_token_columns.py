"""Pooled words keep a part's weight and position per part; grouping spreads them per word."""

from __future__ import annotations

import random

import numpy as np

from search.schema import PART_GAP
from search.whoosh.columns import STOPPED, TokenColumns


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
