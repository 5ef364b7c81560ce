"""A frequent term scored through its table of scores by weight and length, and its
documents numbered part by part: each gives the bytes the posting-by-posting path gives,
in an index of many segments, with deleted documents or not."""

from __future__ import annotations

import numpy as np
import pytest

from search.ranking import DEFAULT_RANKING, Ranking
from search.whoosh import evaluate
from tests.conftest import SAMPLES
from tests.indexing import opened_in_small_segments

RANKINGS = [DEFAULT_RANKING, Ranking(k1=0.9, b=0.4)]


@pytest.fixture(scope="module")
def segmented(tmp_path_factory):
    """The samples in many small segments (a word's postings spread over them)."""
    with opened_in_small_segments(tmp_path_factory.mktemp("frequent"), [SAMPLES]) as found:
        yield found


@pytest.fixture(params=[False, True], ids=["all-live", "deleted"])
def evaluator(segmented, request):
    """The segmented index's evaluator, every third document deleted or not."""
    found = segmented.evaluator
    assert len(found.postings) > 5
    live = found.live.copy()
    if request.param:
        found.live[::3] = False
        found.deletions_changed()
    yield found
    found.live[:] = live
    found.deletions_changed()


def _spread_terms(evaluator, fieldname, least=3):
    """Terms of `fieldname` held by at least `least` segments."""
    listed = evaluator.directory.field(fieldname)
    return [t for t, a, b in zip(listed.terms, listed.begins[:-1], listed.begins[1:],
                                 strict=True) if b - a >= least]


@pytest.mark.parametrize("fieldname", ["text", "exact"])
def test_tabled_scores_are_the_posting_by_posting_scores(evaluator, monkeypatch, fieldname):
    """Every term scored through its table (TABLED_POSTINGS at 0) gives the documents and
    the scores' bytes of term()'s own arithmetic (TABLED_POSTINGS past any term), boosted
    or not, for two rankings."""
    texts = _spread_terms(evaluator, fieldname)[:60]
    assert len(texts) >= 20
    called = []
    real = evaluate.Evaluator._tabled

    def counted(self, *args):
        called.append(1)
        return real(self, *args)

    for ranking in RANKINGS:
        for boost in (1.0, 0.5, 0.75):
            for text in texts:
                evaluator.kept.clear()
                monkeypatch.setattr(evaluate, "TABLED_POSTINGS", 10**12)
                before = evaluator.term(fieldname, text, boost, ranking)
                evaluator.kept.clear()
                monkeypatch.setattr(evaluate, "TABLED_POSTINGS", 0)
                called.clear()
                monkeypatch.setattr(evaluate.Evaluator, "_tabled", counted)
                found = evaluator.term(fieldname, text, boost, ranking)
                monkeypatch.setattr(evaluate.Evaluator, "_tabled", real)
                assert called  # the table path answered
                assert found.docs.dtype == before.docs.dtype
                assert found.docs.tobytes() == before.docs.tobytes()
                assert found.scores.tobytes() == before.scores.tobytes()


def test_tabled_declines_what_it_cannot_look_up(evaluator, monkeypatch):
    """Lengths of more than 256 values (codes wider than a byte), or weights wider than
    bytes: the table is not used, and the term is scored from the slices already read as
    before."""
    monkeypatch.setattr(evaluate, "TABLED_POSTINGS", 0)
    text = _spread_terms(evaluator, "text")[0]
    norms = evaluator.norms("text", DEFAULT_RANKING)
    listed, n = evaluator._located("text", text)
    sliced = evaluator._sliced("text", listed, n, True)
    wide = norms.mapped(norms.table)
    wide.codes = norms.codes.astype(np.uint32)
    monkeypatch.setattr(evaluator, "norms", lambda fieldname, ranking: wide)
    assert evaluator._tabled("text", sliced, listed, n, DEFAULT_RANKING) is None
    monkeypatch.undo()
    assert evaluator._tabled("text", sliced, listed, n, DEFAULT_RANKING) is not None
    # weights wider than bytes in one segment (a weight past 255 there): declined, and the
    # term scored from the same slices as before
    segments, numbers, parts, found, scales = sliced
    widened = [(found[0][0], found[0][1].astype(np.uint32), found[0][2]), *found[1:]]
    assert evaluator._tabled("text", (segments, numbers, parts, widened, scales), listed, n,
                             DEFAULT_RANKING) is None
    monkeypatch.setattr(evaluate, "TABLED_POSTINGS", 0)
    monkeypatch.setattr(evaluate.Evaluator, "_tabled", lambda *args: None)
    evaluator.kept.clear()
    declined = evaluator.term("text", text, 1.0, DEFAULT_RANKING)
    monkeypatch.setattr(evaluate, "TABLED_POSTINGS", 10**12)
    evaluator.kept.clear()
    before = evaluator.term("text", text, 1.0, DEFAULT_RANKING)
    assert declined.docs.tobytes() == before.docs.tobytes()
    assert declined.scores.tobytes() == before.scores.tobytes()


@pytest.mark.parametrize("apart", [0, 10**12])
def test_numbered_part_by_part_is_the_concatenation(evaluator, monkeypatch, apart):
    """The documents of terms spread over many segments, numbered part by part into one
    array (NUMBERED_APART at 0) or concatenated and shifted (NUMBERED_APART past any
    term): the same int64 numbers, those of each segment's documents plus its offset."""
    monkeypatch.setattr(evaluate, "NUMBERED_APART", apart)
    for text in _spread_terms(evaluator, "text")[:40]:
        where = evaluator.directory.where("text", text)
        parts = [evaluator.postings[s].raw("text", n)[0] for s, n in where]
        segments = [s for s, _ in where]
        docs = evaluator._numbered(segments, parts)
        expected = np.concatenate([p.astype(np.int64) + evaluator.offsets[s]
                                   for s, p in zip(segments, parts, strict=True)])
        assert docs.dtype == np.int64
        assert docs.tobytes() == expected.tobytes()
