"""A term read and scored (`Evaluator._read`, `term`) gives, to the last bit, what each
segment's postings give by the definitions: its documents numbered as the index's, its
weights as float64 times the segment's scale, BM25 of each, over many segments, with and
without deleted documents."""

from __future__ import annotations

import random
from math import log

import numpy as np
import pytest

from search.ranking import DEFAULT_RANKING, Ranking
from tests.conftest import SAMPLES
from tests.indexing import build_in_small_segments, opened_generation


@pytest.fixture(scope="module")
def segmented(tmp_path_factory):
    index_dir = tmp_path_factory.mktemp("term-reads")
    build_in_small_segments(index_dir, [SAMPLES])
    with opened_generation(index_dir) as found:
        yield found


def _expected(evaluator, fieldname: str, word: str) -> tuple[np.ndarray, np.ndarray] | None:
    """(documents, weights) of `word` by its definition, segment by segment (deleted
    documents left out)."""
    docs, weights = [], []
    for segment, postings in enumerate(evaluator.postings):
        if not postings.has_field(fieldname):
            continue
        n = postings.number(fieldname, word)
        if n is None:
            continue
        stored, stored_weights, scale = postings.raw(fieldname, n)
        numbered = stored.astype(np.int64) + evaluator.offsets[segment]
        scaled = stored_weights.astype(np.float64) if scale is None else \
            np.multiply(stored_weights, scale, dtype=np.float64)
        live = evaluator.live[numbered]
        docs.append(numbered[live])
        weights.append(scaled[live])
    if not docs:
        return None
    return np.concatenate(docs), np.concatenate(weights)


@pytest.mark.parametrize("deleted", [False, True])
def test_terms_read_and_scored_are_their_definitions(segmented, deleted):
    evaluator = segmented.evaluator
    assert len(evaluator.postings) > 5
    if deleted:
        evaluator.live[::3] = False
        evaluator.deletions_changed()
    ranking = Ranking(k1=1.3, b=0.7)
    compared = 0
    try:
        for fieldname in ("exact", "text"):
            terms = evaluator.directory.field(fieldname).terms
            chosen = random.Random(len(fieldname)).sample(range(len(terms)), 150)
            for word in [terms[n] for n in chosen]:
                expected = _expected(evaluator, fieldname, word)
                for rank in (DEFAULT_RANKING, ranking):
                    evaluator.kept.clear()
                    read = evaluator._read(fieldname, word)
                    node = evaluator.term(fieldname, word, 1.0, rank)
                    np.testing.assert_array_equal(read[0], expected[0])
                    assert read[0].dtype == np.int64
                    assert read[1].tobytes() == expected[1].tobytes()
                    docs, weights = expected
                    idf = log(evaluator.size / (evaluator.doc_frequency(fieldname, word)
                                                + 1)) + 1
                    norm = rank.k1 * ((1 - rank.b) + rank.b * evaluator.lengths(fieldname)
                                      .table / evaluator.average_length(fieldname))
                    norm = norm[evaluator.lengths(fieldname).codes[docs]]
                    scores = idf * (weights * (rank.k1 + 1)) / (weights + norm)
                    np.testing.assert_array_equal(node.docs, docs)
                    assert node.scores.tobytes() == scores.tobytes()
                    compared += 1
    finally:
        evaluator.kept.clear()
        evaluator.live[:] = True
        evaluator.deletions_changed()
    assert compared >= 500
