"""search/whoosh/kept_terms.py: the terms a generation has read, kept as one list each,
give the same answers as reading them again, and stay within their bounds."""

from __future__ import annotations

import numpy as np
import pytest
from whoosh import query as wq

from search import open_index, search
from search.analysis import stem
from search.ranking import DEFAULT_RANKING
from search.whoosh.kept_terms import ENTRY_BYTES, KeptTerms
from tests.conftest import SAMPLES
from tests.indexing import build, opened_generation


def test_the_table_keeps_within_its_bytes_oldest_out_first():
    kept = KeptTerms(budget=3000, largest=10)
    for n in range(5):
        kept.put(n, f"v{n}", postings=5, nbytes=1000)
    assert len(kept) == 3 and kept.nbytes == 3000
    assert kept.get(0) is None and kept.get(1) is None and kept.get(4) == "v4"
    kept.put(9, "big", postings=11, nbytes=10)  # more postings than `largest`
    kept.put(8, "huge", postings=1, nbytes=3001)  # more bytes than the whole budget
    assert kept.get(9) is None and kept.get(8) is None and len(kept) == 3
    kept.put(4, "other", postings=5, nbytes=1000)  # kept once: the first value stays
    assert kept.get(4) == "v4" and kept.nbytes == 3000
    kept.clear()
    assert len(kept) == 0 and kept.nbytes == 0 and kept.get(4) is None


@pytest.fixture(scope="module")
def segmented(tmp_path_factory):
    """The samples in many small segments (each term in several)."""
    from search.whoosh import writer as whoosh_writer

    index_dir = tmp_path_factory.mktemp("kept")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(whoosh_writer, "segment_words_limit", lambda processes: 3000)
        build(index_dir, [SAMPLES], jobs=1)
    return index_dir


WORDS = ["ville", "port", "ministre", "gaza", "conseil", "loi"]


def test_a_term_read_again_is_the_list_kept(segmented):
    with opened_generation(segmented) as generation:
        evaluator = generation.evaluator
        assert len(evaluator.postings) > 3
        for word in WORDS:
            first = evaluator._read("exact", word)
            assert first is not None
            again = evaluator._read("exact", word)
            assert again is first  # kept: no second read
            assert not first[0].flags.writeable and not first[1].flags.writeable
            fresh = evaluator._read("exact", word, live=False)  # not kept: read each time
            assert fresh is not first
            np.testing.assert_array_equal(fresh[0], first[0])
            assert fresh[1].tobytes() == first[1].tobytes()
            assert fresh[2] == first[2] and fresh[3] == first[3]
        assert len(evaluator.kept) == len(WORDS)
        assert evaluator.kept.nbytes == sum(
            evaluator._read("exact", w)[0].nbytes * 2 + ENTRY_BYTES for w in WORDS)


def test_kept_terms_score_as_terms_read_again(segmented):
    with opened_generation(segmented) as generation:
        evaluator = generation.evaluator
        queries = [wq.AndMaybe(wq.Term("text", stem("ville")),
                               wq.Term("exact", "ville", boost=0.5)),
                   wq.Or([wq.Term("exact", w) for w in WORDS]),
                   wq.Phrase("exact", ["de", "la"]), wq.Phrase("exact", ["le", "port"]),
                   wq.And([wq.Term("exact", "le"), wq.Term("exact", "port", boost=2.0)])]
        for q in queries:
            first = evaluator.evaluate(q)
            kept = evaluator.evaluate(q)  # every term taken from the table
            evaluator.kept.clear()
            read = evaluator.evaluate(q)
            largest = evaluator.kept.largest
            evaluator.kept.clear()
            evaluator.kept.largest = 0  # nothing kept: every term read and scored
            unkept = evaluator.evaluate(q)
            evaluator.kept.largest = largest
            assert len(first.docs)
            for found in (kept, read, unkept):
                np.testing.assert_array_equal(found.docs, first.docs)
                assert found.scores.tobytes() == first.scores.tobytes()
        evaluator.evaluate(queries[3])  # "le port": kept again
        evaluator.term("exact", "port")
        assert evaluator.kept.get(("positions", "exact", "port")) is not None
        ranking = DEFAULT_RANKING
        scores = evaluator.kept.get(("scores", "exact", "port", ranking.k1, ranking.b))
        assert scores is not None and not scores.flags.writeable
        boosted = evaluator.term("exact", "port", boost=2.0)  # the kept scores, boosted
        assert boosted.scores.flags.writeable and boosted.scores is not scores
        assert boosted.scores.tobytes() == (scores * 2.0).tobytes()


def test_deletions_and_clear_caches_drop_the_kept_terms(segmented):
    index = open_index(segmented)
    try:
        before = search(index, "ville port", snippets=False).to_json()
        with index.view() as generation:
            evaluator = generation.evaluator
            assert len(evaluator.kept) > 0
            held = evaluator._read("exact", "ville")
            evaluator.live[held[0][::2]] = False
            evaluator.deletions_changed()
            assert len(evaluator.kept) == 0
            assert evaluator.live[evaluator._read("exact", "ville")[0]].all()
            evaluator.live[:] = True
            evaluator.deletions_changed()
        index.clear_caches()
        again = search(index, "ville port", snippets=False).to_json()
        again["took_ms"] = before["took_ms"]
        assert again == before
        with index.view() as generation:
            assert len(generation.evaluator.kept) > 0
        index.clear_caches()
        with index.view() as generation:
            assert len(generation.evaluator.kept) == 0
    finally:
        index.close()


def test_searches_with_terms_kept_answer_as_without(segmented):
    """The same answers whether each search reads its terms or finds them kept (the
    result cache emptied between, so that each is searched)."""
    index = open_index(segmented)
    try:
        queries = ["ville", "port ministre", '"de la ville"', "conseil loi gaza",
                   "ville -port", "ministre", "port"]
        fresh = []
        for q in queries:
            index.clear_caches()  # the terms kept too
            fresh.append(search(index, q, snippets=False).to_json())
        for q, expected in zip(queries, fresh, strict=True):
            index._searches.clear()  # the answers only: the terms stay kept
            found = search(index, q, snippets=False).to_json()
            found["took_ms"] = expected["took_ms"]
            assert found == expected, q
        with index.view() as generation:
            assert len(generation.evaluator.kept) > 0
    finally:
        index.close()


def test_a_new_generation_has_its_own_terms_and_the_retired_one_drops_its(tmp_path, articles):
    from click.testing import CliRunner

    from indexer.cli import main

    index_dir = tmp_path / "index"
    runner = CliRunner()
    assert runner.invoke(main, ["build", str(articles), "--index-dir", str(index_dir)]
                         ).exit_code == 0
    index = open_index(index_dir)
    try:
        assert search(index, "nouveau texte").total == 0
        assert search(index, "port attaque").total > 0
        old = index._current
        assert len(old.evaluator.kept) > 0
        (articles / "new.json").write_text('{"id": "n", "title": "Nouveau", "body": "Texte."}')
        assert runner.invoke(main, ["update", str(articles), "--index-dir", str(index_dir)]
                             ).exit_code == 0
        assert [h.id for h in search(index, "nouveau texte").hits][0] == "n"
        assert index._current is not old and len(old.evaluator.kept) == 0
        assert len(index._current.evaluator.kept) > 0
    finally:
        index.close()
