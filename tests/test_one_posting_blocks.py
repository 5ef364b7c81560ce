"""A one-posting term's Whoosh block, put together from remembered pieces, is the bytes
`pickle.dumps` makes (search/whoosh/private/blocks.py `_OnePosting`)."""

from __future__ import annotations

import io

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from search.whoosh.postings import FieldPostings
from search.whoosh.private import blocks

# Document numbers of each size pickle gives its own opcode (1, 2, 4 bytes, then longer).
_DOCS = st.one_of(st.integers(0, 300), st.integers(250, 70_000),
                  st.integers(60_000, 2**31 + 10), st.integers(2**31 - 5, 2**32 - 1))
_WEIGHTS = st.sampled_from([1.0, 2.0, 0.5, 0.0, -0.0, 3.25, 1e9, -1.5])


def _postings(terms: list[list[tuple[int, float, int]]], values: bool) -> FieldPostings:
    """Postings of terms (each a list of (document, weight, count), documents rising)."""
    flat = [p for term in terms for p in term]
    starts = np.zeros(len(terms) + 1, dtype=np.int64)
    np.cumsum([len(t) for t in terms], out=starts[1:])
    return FieldPostings(
        terms=[b"t%d" % n for n in range(len(terms))], starts=starts,
        docs=np.array([d for d, _, _ in flat], dtype=np.uint32),
        weights=np.array([w for _, w, _ in flat], dtype=np.float32),
        counts=np.array([c for _, _, c in flat], dtype=np.uint32), positions=None,
        values=[(b"v%d" % c) * (c % 3) for _, _, c in flat] if values else None)


def _written(postings: FieldPostings, fixedsize: int | None, lengths, level: int,
             single: bool, monkeypatch) -> tuple[list[int], bytes]:
    monkeypatch.setattr(blocks, "SINGLE_POSTINGS", single)
    out = io.BytesIO()
    sizes = blocks._term_blocks(postings, 0, len(postings.terms), 4, level, fixedsize,
                                lengths, out)
    return sizes, out.getvalue()


@st.composite
def _terms(draw):
    terms = []
    for _ in range(draw(st.integers(1, 12))):
        docs = sorted(set(draw(st.lists(_DOCS, min_size=1, max_size=6))))
        terms.append([(d, draw(_WEIGHTS), draw(st.integers(1, 300))) for d in docs])
    return terms


@settings(max_examples=300, deadline=None)
@given(_terms(), st.sampled_from([0, 4, None, -1]), st.booleans(), st.sampled_from([0, 1]),
       st.booleans())
def test_one_posting_blocks_are_the_bytes_dumps_makes(terms, fixedsize, with_lengths, level,
                                                     values):
    import pytest

    monkeypatch = pytest.MonkeyPatch()
    try:
        postings = _postings(terms, values or fixedsize in (None, -1))
        top = int(postings.docs.max()) + 1
        lengths = np.arange(top, dtype=np.int64) % 7 * 40 if with_lengths and top < 100_000 \
            else None
        assert _written(postings, fixedsize, lengths, level, True, monkeypatch) == \
            _written(postings, fixedsize, lengths, level, False, monkeypatch)
    finally:
        monkeypatch.undo()


def test_one_posting_blocks_are_taken_and_remembered(monkeypatch):
    """Many one-posting terms (the id field's): the same bytes, pieces remembered."""
    terms = [[(n, 1.0, 1)] for n in range(0, 200_000, 7)]
    postings = _postings(terms, values=False)
    for fixedsize in (0, 4):
        assert _written(postings, fixedsize, None, 1, True, monkeypatch) == \
            _written(postings, fixedsize, None, 1, False, monkeypatch)
    one = blocks._OnePosting()
    first = one.block(5, None, None, 1.0, 0, 0, 1)
    assert first is not None and b"".join(first) == \
        blocks.WHOOSH3_HEADER_MAGIC + b"".join(first)[4:]
    assert one.block(5, None, b"x" * 200, 1.0, 0, 0, 1) is None  # its data compressed


def test_zeros_of_either_sign_are_pickled_apart():
    """0.0 and -0.0 are equal keys but pickled apart: neither takes the other's piece."""
    from pickle import dumps

    one = blocks._OnePosting()
    for zero in (0.0, -0.0, 0.0, -0.0):
        block = b"".join(one.block(7, zero, None, zero, 0, 0, 0))
        assert block.endswith(dumps(((7,), zero, None), 2))
        assert dumps((1, 7, zero, 0, 0, 0), 2) in block
