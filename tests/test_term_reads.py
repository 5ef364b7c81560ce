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
from search.whoosh import evaluate
from tests.conftest import SAMPLES
from tests.indexing import opened_in_small_segments


@pytest.fixture(scope="module")
def segmented(tmp_path_factory):
    with opened_in_small_segments(tmp_path_factory.mktemp("term-reads"), [SAMPLES]) as found:
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


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "uint32", "int32", "int64", "uint64"])
def test_integer_arrays_are_viewed_as_their_python_ints(dtype):
    """`_viewed` (a term's starts and the directory's arrays read item by item) gives
    each item and each slice's `tolist` as the array does."""
    values = np.random.default_rng(3).integers(0, np.iinfo(dtype).max, 500, dtype=dtype)
    viewed = evaluate._viewed(values)
    assert isinstance(viewed, memoryview)
    assert [viewed[i] for i in range(len(values))] == values.tolist()
    assert viewed[17:230].tolist() == values[17:230].tolist()
    # anything else is the array itself: floats, a strided view, another byte order
    others = [values.astype(np.float64), values[::2]]
    if values.dtype.itemsize > 1:
        others.append(values.astype(values.dtype.newbyteorder()))
    for other in others:
        assert evaluate._viewed(other) is other


def test_segments_of_different_scales_read_each_its_own(segmented, monkeypatch):
    """Segments written with different scales of their weights (or none: float32 weights,
    as an older version wrote them): a term's weights are each segment's as float64 times
    that segment's scale, in `_read` and in `term`'s scores, to the last bit."""
    evaluator = segmented.evaluator
    flats = evaluator._flats("text")
    scales = [None, np.float32(0.125), np.float32(0.5), np.float32(3.0)]
    patched = [None if flat is None else (*flat[:4], scales[i % len(scales)])
               for i, flat in enumerate(flats)]
    monkeypatch.setitem(evaluator._flat, "text", patched)
    monkeypatch.delitem(evaluator._term_views, "text", raising=False)
    compared = mixed = 0
    terms = evaluator.directory.field("text").terms
    try:
        for word in [terms[n] for n in random.Random(5).sample(range(len(terms)), 200)]:
            evaluator.kept.clear()
            read = evaluator._read("text", word)
            parts = []
            for segment, n in read[2]:
                weights = evaluator.postings[segment].raw("text", n)[1].astype(np.float64)
                scale = patched[segment][4]
                parts.append(weights if scale is None else weights * float(scale))
            assert read[1].tobytes() == np.concatenate(parts).tobytes()
            node = evaluator.term("text", word)
            evaluator.kept.clear()
            weights = read[1]
            norm = evaluator.norms("text", DEFAULT_RANKING)[read[0]]
            k1 = DEFAULT_RANKING.k1
            assert node.scores.tobytes() == \
                (read[3] * (weights * (k1 + 1)) / (weights + norm)).tobytes()
            compared += 1
            mixed += len({patched[s][4] for s, _ in read[2]}) > 1
    finally:
        evaluator.kept.clear()
    assert compared == 200 and mixed >= 20


def test_a_fields_scales_are_known_before_its_views(segmented, monkeypatch):
    """`_scales_of` asked before any term of the field was read (another thread may be
    making the views) makes them, and gives each segment's scale."""
    evaluator = segmented.evaluator
    monkeypatch.delitem(evaluator._term_views, "exact", raising=False)
    monkeypatch.delitem(evaluator._field_scales, "exact", raising=False)
    segments = list(range(len(evaluator.postings)))
    expected = {None if flat[4] is None else float(flat[4])
                for flat in evaluator._flats("exact") if flat is not None}
    assert evaluator._scales_of("exact", segments) == expected
    assert evaluator._field_scales["exact"] == expected


def _general_read(evaluator, fieldname, word):
    """`_read` through `_sliced` (every case's way), not kept."""
    listed = evaluator.directory.field(fieldname)
    n = listed.number(word)
    return evaluator._read(fieldname, word, live=False, located=(listed, n),
                           sliced=evaluator._sliced(fieldname, listed, n, False))


@pytest.mark.parametrize("apart", [False, True])
def test_a_plain_read_is_the_general_one(segmented, monkeypatch, apart):
    """A live term's read in one loop (`_read_plainly`: no deleted documents, no weights
    listed apart, one scale) gives the general read's arrays, where list and idf, kept as
    `_read` keeps them, its documents numbered as one array or part by part (`apart`:
    `NUMBERED_APART` lowered); `_read` of a term not kept takes it."""
    evaluator = segmented.evaluator
    if apart:
        monkeypatch.setattr(evaluate, "NUMBERED_APART", 2)
    calls = []
    original = evaluator._read_plainly

    def plainly(*args):
        calls.append(args[1])
        return original(*args)

    monkeypatch.setattr(evaluator, "_read_plainly", plainly)
    compared = several = 0
    try:
        for fieldname in ("exact", "text"):
            listed = evaluator.directory.field(fieldname)
            terms = listed.terms
            for word in [terms[n] for n in
                         random.Random(len(fieldname)).sample(range(len(terms)), 200)]:
                evaluator.kept.clear()
                calls.clear()
                read = evaluator._read(fieldname, word)
                assert calls == [word]
                assert evaluator.kept.get((fieldname, word)) is read
                assert not read[0].flags.writeable and not read[1].flags.writeable
                expected = _general_read(evaluator, fieldname, word)
                assert read[0].dtype == np.int64 and read[1].dtype == np.float64
                assert read[0].tobytes() == expected[0].tobytes()
                assert read[1].tobytes() == expected[1].tobytes()
                assert read[2:] == expected[2:]
                compared += 1
                several += len(read[2]) > 1
    finally:
        evaluator.kept.clear()
    assert compared == 400 and several >= 40


def test_a_read_not_plain_takes_the_general_way(segmented, monkeypatch):
    """`_read_plainly` gives way (None) for a term in a segment holding deleted
    documents, one of a segment listing the term's weights apart, and one whose segments'
    scales differ; `_read` then reads it through `_sliced`, to the same arrays as the
    definitions (test above)."""
    evaluator = segmented.evaluator
    listed = evaluator.directory.field("text")
    word = max(listed.terms[:2000], key=lambda t: len(listed.where(t)))
    n = listed.number(word)
    where = listed.where(word)
    assert len(where) > 2
    segment, number = where[1]
    assert evaluator._read_plainly("text", word, listed, n) is not None
    evaluator.kept.clear()
    try:
        # a deleted document in one of its segments
        evaluator.live[evaluator.offsets[segment]] = False
        evaluator.deletions_changed()
        assert evaluator._read_plainly("text", word, listed, n) is None
        evaluator.live[:] = True
        evaluator.deletions_changed()
        # its weights listed apart in one segment
        views = evaluator._term_slicing("text")
        view = views[segment]
        patched = list(views)
        patched[segment] = (*view[:3], frozenset({number}), *view[4:])
        monkeypatch.setitem(evaluator._term_views, "text", patched)
        assert evaluator._read_plainly("text", word, listed, n) is None
        # another scale in one segment
        patched[segment] = (*view[:4], 0.25 if view[4] != 0.25 else 0.125, *view[5:])
        assert evaluator._read_plainly("text", word, listed, n) is None
        patched[segment] = view
        assert evaluator._read_plainly("text", word, listed, n) is not None
    finally:
        evaluator.kept.clear()
        evaluator.live[:] = True
        evaluator.deletions_changed()


def test_a_read_from_segments_of_different_types(segmented, monkeypatch):
    """Segments storing a field's documents in different types (one as uint32: the
    field's types None, `_term_slicing`) have its terms read by `_read`'s general way
    (`_read_plainly` gives way), to the same arrays as the definitions; segments of one
    type by `_read_plainly`, joining their slices as bytes, to the same arrays too."""
    evaluator = segmented.evaluator
    listed = evaluator.directory.field("text")
    words = [listed.terms[n] for n in random.Random(12).sample(range(len(listed.terms)), 100)]
    try:
        for widened in (False, True):
            if widened:
                flats = list(evaluator._flats("text"))
                flats[2] = (flats[2][0], flats[2][1].astype(np.uint32), *flats[2][2:])
                monkeypatch.setitem(evaluator._flat, "text", flats)
                monkeypatch.delitem(evaluator._term_views, "text", raising=False)
            evaluator._term_slicing("text")
            assert (evaluator._field_types["text"] is None) == widened
            for word in words:
                evaluator.kept.clear()
                plainly = evaluator._read_plainly("text", word, listed, listed.number(word))
                assert (plainly is None) == widened
                evaluator.kept.clear()
                read = evaluator._read("text", word)
                docs, weights = _expected(evaluator, "text", word)
                assert read[0].dtype == np.int64 and read[1].dtype == np.float64
                np.testing.assert_array_equal(read[0], docs)
                assert read[1].tobytes() == weights.tobytes()
    finally:
        evaluator.kept.clear()


@pytest.mark.parametrize("deleted", [False, True])
def test_a_term_read_fresh_is_the_read_and_its_scores(segmented, deleted):
    """`term()` of a term not kept reads it itself (`_read_plainly`, else `_sliced` and
    `_read`'s general way: deleted documents) and scores it without looking for kept
    scores: the documents and scores of the term read first by `_read`, then scored,
    bit for bit, for boosts of 1 and not; the read and its scores are kept as
    `_read` and a scored term keep them."""
    evaluator = segmented.evaluator
    for fieldname in ("exact", "text"):  # the views of the index's own arrays
        evaluator._term_views.pop(fieldname, None)
    if deleted:
        evaluator.live[::4] = False
        evaluator.deletions_changed()
    ranking = Ranking(k1=1.1, b=0.6)
    compared = 0
    try:
        for fieldname in ("exact", "text"):
            terms = evaluator.directory.field(fieldname).terms
            for word in [terms[n] for n in
                         random.Random(3 + len(fieldname)).sample(range(len(terms)), 150)]:
                for rank in (DEFAULT_RANKING, ranking):
                    for boost in (1.0, 2.5):
                        evaluator.kept.clear()
                        evaluator._read(fieldname, word)
                        expected = evaluator.term(fieldname, word, boost, rank)
                        evaluator.kept.clear()
                        node = evaluator.term(fieldname, word, boost, rank)
                        assert node.docs.tobytes() == expected.docs.tobytes()
                        assert node.scores.tobytes() == expected.scores.tobytes()
                        read = evaluator.kept.get((fieldname, word))
                        if len(node.docs) <= evaluator.kept.largest:
                            assert read is not None and read[0] is node.docs
                            assert evaluator.kept.get(
                                ("scores", fieldname, word, rank.k1, rank.b)) is not None
                        again = evaluator.term(fieldname, word, boost, rank)
                        assert again.scores.tobytes() == node.scores.tobytes()
                        compared += 1
        # both fields' terms read plainly (one type of each array in every segment)
        assert None not in {evaluator._field_types[f] for f in ("exact", "text")}
    finally:
        evaluator.kept.clear()
        evaluator.live[:] = True
        evaluator.deletions_changed()
    assert compared == 1200


def test_a_term_read_fresh_goes_to_its_plain_read(segmented, monkeypatch):
    """`term()` of a term not kept reads it by `_read_plainly` without going through
    `_read` (whose kept look-up it made already), and looks up no kept scores for it;
    a term `_read_plainly` gives way on (a deleted document in its segments) goes to
    `_read` with its `_sliced` already made, and `_read_plainly` is tried once."""
    evaluator = segmented.evaluator
    evaluator._term_views.pop("text", None)
    listed = evaluator.directory.field("text")
    word = max(listed.terms[:2000], key=lambda t: len(listed.where(t)))
    assert listed.frequency(word) < evaluate.TABLED_POSTINGS
    reads, plain, looked = [], [], []
    read, plainly, get = evaluator._read, evaluator._read_plainly, evaluator.kept.get
    monkeypatch.setattr(evaluator, "_read", lambda *a, **k: reads.append(k) or read(*a, **k))
    monkeypatch.setattr(evaluator, "_read_plainly",
                        lambda *a: plain.append(a[1]) or plainly(*a))
    monkeypatch.setattr(evaluator.kept, "get", lambda key: looked.append(key) or get(key))
    try:
        evaluator.kept.clear()
        node = evaluator.term("text", word)
        assert len(node.docs) and reads == [] and plain == [word]
        assert looked == [("text", word)]
        evaluator.live[evaluator.offsets[listed.where(word)[1][0]]] = False
        evaluator.deletions_changed()
        plain.clear()
        evaluator.term("text", word)
        assert plain == [word] and len(reads) == 1 and reads[0]["sliced"] is not None
    finally:
        evaluator.kept.clear()
        evaluator.live[:] = True
        evaluator.deletions_changed()
