"""Large document sets intersected and aligned through index-sized masks, documents matched
without scores, and searches answered by their tier alone: each gives what the exhaustive
path gives, bit for bit (documents, scores, order, totals, facets), ties at the cut and
deleted articles included."""

from __future__ import annotations

import itertools
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from whoosh import query as wq

from search import SearchRequest, open_index, search
from search.analysis import stem
from search.whoosh import evaluate, membership
from search.whoosh.backend import Generation
from tests.conftest import SAMPLES
from tests.indexing import build, opened_generation, opened_in_small_segments, update

WORDS = ["ville", "port", "ministre", "loi", "conseil", "nuit", "gaza", "no-such-word"]


def _queries():
    terms = [wq.Term("text", stem(w) or w) for w in WORDS]
    exact = [wq.Term("exact", w, boost=0.5) for w in WORDS]
    maybe = [wq.AndMaybe(t, e) for t, e in zip(terms, exact, strict=True)]
    yield wq.And(terms[:2])
    yield wq.And(maybe[:3])
    yield wq.And([maybe[0], maybe[0], maybe[0]])  # one word three times
    yield wq.Or(maybe[:4])
    yield wq.Or([maybe[1], terms[-1]])
    yield wq.AndMaybe(terms[2], wq.Or(exact[:4]))
    yield wq.And([wq.Phrase("exact", ["de", "la"]), terms[0]])
    yield wq.DisjunctionMax([terms[1], exact[1], terms[3]])
    yield wq.AndNot(wq.Or(terms[:3]), terms[3])
    yield wq.And([terms[0], terms[-1]])  # nothing in common


def _deleted(evaluator) -> None:
    """Every third document gone, as deletions leave them."""
    evaluator.live[::3] = False
    evaluator.deletions_changed()


@pytest.fixture
def generation(samples_index):
    with opened_generation(samples_index) as found:
        yield found


@pytest.mark.parametrize("deleted", [False, True])
@pytest.mark.parametrize("n", range(10))
def test_dense_sets_give_the_sorted_sets_results(generation, monkeypatch, n, deleted):
    q = list(_queries())[n]
    evaluator = generation.evaluator
    if deleted:
        _deleted(evaluator)
    for module in (evaluate, membership):
        monkeypatch.setattr(module, "DENSE_SHARE", 0)  # never through a mask
    monkeypatch.setattr(membership, "SMALL", 0)
    sorted_ = evaluator.evaluate(q)
    for module in (evaluate, membership):
        monkeypatch.setattr(module, "DENSE_SHARE", 10**12)  # always
    dense = evaluator.evaluate(q)
    assert len(dense.docs) > 0 or n == 9
    assert dense.docs.dtype == sorted_.docs.dtype
    np.testing.assert_array_equal(sorted_.docs, dense.docs)
    assert sorted_.scores.tobytes() == dense.scores.tobytes()
    if deleted:
        assert evaluator.live[dense.docs].all()


@pytest.mark.parametrize("deleted", [False, True])
@pytest.mark.parametrize("n", range(10))
def test_matching_is_the_evaluated_documents(generation, monkeypatch, n, deleted):
    q = list(_queries())[n]
    evaluator = generation.evaluator
    if deleted:
        _deleted(evaluator)
    whole = evaluator.evaluate(q).docs
    for share in (0, 10**12):  # unions sorted, then through a mask
        monkeypatch.setattr(evaluate, "SPARSE_SHARE", share)
        found = evaluator.matching(q)
        assert found.dtype == whole.dtype
        np.testing.assert_array_equal(found, whole)
    memo: dict = {}
    evaluator.evaluate(q.subqueries[0] if hasattr(q, "subqueries") else q, memo)
    np.testing.assert_array_equal(evaluator.matching(q, memo), whole)  # a memo's nodes


@pytest.mark.parametrize("seed", range(6))
def test_restrict_by_few_by_the_same_or_by_a_dense_array_is_the_same(seed):
    """Node.restrict's paths (the node's own array for the same documents, its few
    documents searched among many, a dense array, binary searches) give the same scores
    to the last bit: 0 where the node is absent, negative and zero scores kept."""
    rng = np.random.default_rng(seed)
    size = 20_000
    for _ in range(40):
        docs = np.unique(rng.integers(0, size, int(rng.integers(1, size))))
        own = np.unique(np.concatenate([
            rng.choice(docs, int(rng.integers(0, len(docs) + 1))),
            rng.integers(0, size, int(rng.integers(0, 50)))]))
        if rng.random() < 0.2:
            own = docs.copy()
        node = evaluate.Node(own, rng.normal(0, 2, len(own)) * (rng.random(len(own)) > 0.1))
        expected = np.zeros(len(docs))
        where = np.isin(docs, own)
        expected[where] = node.scores[np.isin(own, docs)]
        for few, dense in ((16, 64), (0, 0), (0, 10**12), (10**9, 64)):
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(evaluate, "FEW_SHARE", few)
                patch.setattr(evaluate, "DENSE_SHARE", dense)
                found = node.restrict(docs, size)
            assert found.tobytes() == expected.tobytes(), (few, dense)


@pytest.mark.parametrize("seed", range(4))
def test_an_optional_node_among_the_required_ones_is_found_without_restrict(seed,
                                                                           monkeypatch):
    """`with_optional` of an optional node whose documents are all among the required
    node's (a word's exact form among its stem's) finds them by binary search, without
    `restrict`, unless the two are large beside the index (then `restrict`'s array the
    size of the index aligns them); any other optional node goes through `restrict`; both
    give the
    definition (required + optional where it matches, + 0.0 elsewhere) to the last bit,
    -0.0, infinities and NaN among the scores, with and without a boost."""
    rng = np.random.default_rng(seed)
    size = 20_000
    evaluator = evaluate.Evaluator.__new__(evaluate.Evaluator)
    evaluator.size = size
    restricted = _recorded_restricts(monkeypatch)
    odd = np.array([0.0, -0.0, 1.5, np.inf, -np.inf, np.nan, -2.0])
    subsets = larges = 0
    for n in range(60):  # sets small and large beside the index in turn
        count = int(rng.integers(1, 150) if n % 2 else rng.integers(300, 3000))
        docs = np.unique(rng.integers(0, size - 100, count))
        own = np.sort(rng.choice(docs, int(rng.integers(0, len(docs) + 1)), replace=False))
        among = rng.random() < 0.7
        if not among:  # some documents of its own, beyond or between
            own = np.unique(np.concatenate([own, rng.integers(0, size, 5)]))
        required = evaluate.Node(docs, rng.choice(odd, len(docs)))
        optional = evaluate.Node(own, rng.choice(odd, len(own)))
        expected_in = np.zeros(len(docs))
        where = np.isin(docs, own)
        expected_in[where] = optional.scores[np.isin(own, docs)]
        for boost in (1.0, 0.5):
            restricted.clear()
            with np.errstate(invalid="ignore"):  # (inf + -inf)
                expected = (required.scores + expected_in) * boost if boost != 1.0 else \
                    required.scores + expected_in
                found = evaluator.with_optional(required, optional, boost)
            assert found.docs is docs
            assert found.scores.tobytes() == expected.tobytes()
            is_subset = 0 < len(own) < len(docs) and bool(np.isin(own, docs).all())
            large = (len(docs) + len(own)) * evaluate.DENSE_SHARE >= size
            assert (restricted == []) == (is_subset and not large)
            subsets += is_subset and not large
            larges += is_subset and large
    assert subsets > 20 and larges > 5


def test_mask_membership_is_isin():
    rng = np.random.default_rng(3)
    for size in (50, 1000, 5000):
        for _ in range(20):
            a = np.unique(rng.integers(0, size, rng.integers(0, size)))
            b = np.unique(rng.integers(0, size, rng.integers(0, size)))
            expected = np.isin(a, b)
            assert (membership.in_sorted(a, b, size) == expected).all()
            assert (evaluate._intersected(a, b, size) == np.intersect1d(a, b)).all()


# -- searches answered by their tier alone, against the whole evaluation

TIED = "Le port de la ville et le conseil du port"


def _article(n: int, body: str) -> dict:
    return {"id": f"t{n:03d}", "url": f"https://exemple.fr/{n}", "title": f"Article {n}",
            "body": body, "published": f"20{10 + n % 12:02d}-0{1 + n % 9}-1{n % 10}",
            "section": ["Politique", "Sport", "Culture"][n % 3]}


@pytest.fixture(scope="module")
def tied_index(tmp_path_factory) -> Path:
    """Thirty articles with the same text (their scores tie), others with one of the words,
    some replaced and removed by an update (deleted documents in the segments)."""
    folder = tmp_path_factory.mktemp("tied")
    records = [_article(n, TIED) for n in range(30)]
    records += [_article(n, "Le port est calme ce soir, la ville dort.") for n in range(30, 50)]
    records += [_article(n, "Le conseil municipal vote la loi.") for n in range(50, 60)]
    source = folder / "articles.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in records))
    index_dir = folder / "index"
    build(index_dir, [source, SAMPLES])
    kept = [r for r in records if int(r["id"][1:]) % 7]
    for r in kept[::5]:
        r["body"] += " Mis à jour."
    source.write_text("".join(json.dumps(r) + "\n" for r in kept))
    update(index_dir, [source, SAMPLES])
    return index_dir


OPTIONS = [{}, {"facets": False, "snippets": False}, {"page": 2}, {"per_page": 3},
           {"per_page": 5, "page": 3}, {"filters": {"section": "Sport"}},
           {"filters": {"year": 2015}}, {"sort": "newest"}, {"sort": "oldest", "page": 2},
           {"recency_half_life": 365}, {"hidden": frozenset({"t001", "t002", "t008"})}]
QUERIES = ["port ville", "port conseil", "conseil ville port", "port port", "port -calme",
           "ville conseil loi", "port", '"le port" ville', "port vote", "gaza ministre",
           "", "port*"]


@pytest.mark.parametrize("options", OPTIONS, ids=[str(n) for n in range(len(OPTIONS))])
def test_searches_answered_by_their_tier_equal_the_whole_evaluation(tied_index, monkeypatch,
                                                                    options):
    from search.whoosh import backend as whoosh_backend

    # the general path's shortcut (plain words take search/whoosh/plain.py's path, which
    # test_plain_searches_answer_as_the_general_path_over_deletions compares with this one)
    monkeypatch.setattr(whoosh_backend, "plain_query", lambda request: None)
    index = open_index(tied_index)
    try:
        with index.view() as generation:
            assert generation.searcher.reader().has_deletions()
        quick = Generation._unscored
        used = []

        def counted(self, *args):
            found = quick(self, *args)
            used.append(found is not None)
            return found

        monkeypatch.setattr(Generation, "_unscored", counted)
        fast = [search(index, q, **options) for q in QUERIES]
        index.clear_caches()
        monkeypatch.setattr(Generation, "_unscored", lambda self, *args: None)
        whole = [search(index, q, **options) for q in QUERIES]
    finally:
        index.close()
    assert any(used)  # the shortcut was taken
    for q, a, b in zip(QUERIES, fast, whole, strict=True):
        assert replace(a, took_ms=0) == replace(b, took_ms=0), q
        assert [h.score for h in a.hits] == [h.score for h in b.hits], q


@pytest.mark.parametrize("options", OPTIONS, ids=[str(n) for n in range(len(OPTIONS))])
def test_plain_searches_answer_as_the_general_path_over_deletions(tied_index, monkeypatch,
                                                                  options):
    """Tied scores, deleted documents: the plain path (search/whoosh/plain.py) gives the
    general path's answers, bit for bit."""
    from search.whoosh import backend as whoosh_backend
    from search.whoosh.plain import plain_query

    index = open_index(tied_index)
    try:
        fast = [search(index, q, **options) for q in QUERIES]
        index.clear_caches()
        monkeypatch.setattr(whoosh_backend, "plain_query", lambda request: None)
        whole = [search(index, q, **options) for q in QUERIES]
    finally:
        index.close()
    assert any(plain_query(SearchRequest(q, **options)) for q in QUERIES) or \
        set(options) & {"sort", "filters", "recency_half_life", "hidden"}
    for q, a, b in zip(QUERIES, fast, whole, strict=True):
        assert json.dumps(replace(a, took_ms=0).to_json(), sort_keys=True) == \
            json.dumps(replace(b, took_ms=0).to_json(), sort_keys=True), q


@pytest.mark.parametrize("plain", [True, False])
def test_a_tier_short_of_the_page_is_not_scored(tied_index, monkeypatch, plain):
    """Rare words together in fewer articles than a page: the tier's documents come first,
    ranked by the Or's scores; the And's own scores are never computed (by the plain path,
    search/whoosh/plain.py, and by the general one)."""
    from search.whoosh import backend as whoosh_backend
    from search.whoosh.evaluate import Evaluator

    if not plain:
        monkeypatch.setattr(whoosh_backend, "plain_query", lambda request: None)
    # (this index is small: its words' sets count as small beside it, as a rare pair's
    # beside an archive's, so that the plain path ranks each word's best)
    monkeypatch.setattr(evaluate, "DENSE_SHARE", 1)
    index = open_index(tied_index)
    calls = []

    def counting(name):
        original = getattr(Evaluator, name)

        def counted(self, children, boost=1.0, **given):
            calls.append(name)
            return original(self, children, boost, **given)

        return counted

    for name in ("all_of", "any_of"):
        monkeypatch.setattr(Evaluator, name, counting(name))
    try:
        # ten articles hold both words: fewer than the twenty of the page
        expected = search(index, "conseil vote", facets=False, per_page=20)
        index.clear_caches()
        calls.clear()
        found = search(index, "conseil vote", facets=False, per_page=20)
    finally:
        index.close()
    # the Or scored, the And not; the plain path without facets ranks each word's best
    # (best.best_of_two) and scores neither
    assert calls == ([] if plain else ["any_of"])
    assert replace(found, took_ms=0) == replace(expected, took_ms=0)
    assert found.hits[0].id.startswith("t05")  # the articles holding both words first


def test_ties_at_the_cut_are_broken_in_index_order(tied_index):
    index = open_index(tied_index)
    try:
        results = search(index, "port conseil", per_page=5, facets=False)
        scores = [h.score for h in results.hits]
        assert len(set(scores)) == 1 and results.total > 5  # tied at the cut
        ids = [h.id for h in results.hits]
        assert ids == sorted(ids)
    finally:
        index.close()


def _summed_before(evaluator, fieldname, weighted, ranking):
    """summed_terms as it was: deleted documents taken out of every posting first."""
    parts, factors, counts = [], [], []
    for text, boost in weighted:
        count = 0
        for segment, n in evaluator.directory.where(fieldname, text):
            docs, weights, scale = evaluator.postings[segment].raw(fieldname, n)
            if len(docs):
                parts.append((docs.astype(np.int64) + evaluator.offsets[segment],
                              evaluate._weights([(docs, weights, scale)])))
                count += len(docs)
        if count:
            factors.append(evaluator.idf(fieldname, text) * boost)
            counts.append(count)
    docs = np.concatenate([p[0] for p in parts])
    weights = np.concatenate([p[1] for p in parts])
    factor = np.repeat(factors, counts)
    keep = evaluator.live[docs]
    docs, weights, factor = docs[keep], weights[keep], factor[keep]
    norm = evaluator.norms(fieldname, ranking)[docs]
    k1 = ranking.k1
    scores = factor * (weights * (k1 + 1)) / (weights + norm)
    summed = np.bincount(docs, weights=scores, minlength=evaluator.size)
    held = None if min(factors) > 0 else np.bincount(docs, minlength=evaluator.size) > 0
    return summed, held


@pytest.mark.parametrize("deleted", [False, True])
@pytest.mark.parametrize("zero", [False, True])
def test_summed_terms_with_deleted_documents_equal_them_taken_out_first(generation, deleted,
                                                                       zero):
    from search.ranking import DEFAULT_RANKING

    evaluator = generation.evaluator
    if deleted:
        _deleted(evaluator)
    weighted = [(stem(w) or w, 0.3 + i / 7) for i, w in enumerate(WORDS)]
    if zero:
        weighted[1] = (weighted[1][0], 0.0)  # a word weighing nothing: `held` says who has it
    summed, held = evaluator.summed_terms("text", weighted, DEFAULT_RANKING)
    before, held_before = _summed_before(evaluator, "text", weighted, DEFAULT_RANKING)
    assert summed.tobytes() == before.tobytes()
    assert (held is None) == (held_before is None) == (not zero)
    if zero:
        assert (held == held_before).all()
    if deleted:
        assert not summed[~evaluator.live].any()
    found = evaluator.terms("text", weighted)
    assert evaluator.live[found.docs].all() and len(found.docs)


def test_sorted_unique_is_np_unique():
    rng = np.random.default_rng(5)
    for n in (0, 1, 2, 3, 50, 5000):
        for dtype in (np.int64, np.uint16, np.int32):
            values = rng.integers(0, max(n // 2, 1), n).astype(dtype)
            found = membership.sorted_unique(values)
            expected = np.unique(values)
            assert found.dtype == expected.dtype
            np.testing.assert_array_equal(found, expected)
            np.testing.assert_array_equal(membership.unique_sorted(np.sort(values)), expected)


@pytest.fixture(scope="module")
def segmented(tmp_path_factory):
    """The samples in many small segments (a word's positions spread over them)."""
    with opened_in_small_segments(tmp_path_factory.mktemp("segmented"), [SAMPLES]) as found:
        yield found


def test_phrases_over_many_segments_are_whooshs(segmented):
    evaluator = segmented.evaluator
    assert len(evaluator.postings) > 5
    searcher = segmented.searcher
    phrases = [["de", "la"], ["le", "port"], ["de", "la", "ville"], ["a", "ete"],
               ["la", "de"], ["selon", "le"], ["il", "y", "a"], ["ministre", "de"],
               ["ville", "portuaire"], ["de", "de"]]
    matched = 0
    for words in phrases:
        q = wq.Phrase("exact", words)
        found = evaluator.evaluate(q).docs.tolist()
        expected = sorted(searcher.docs_for_query(q))
        assert found == expected, words
        matched += bool(found)
    assert matched >= 6


@pytest.mark.parametrize("deleted", [False, True])
def test_a_phrase_words_positions_joined_or_by_segment_are_the_same(segmented, monkeypatch,
                                                                     deleted):
    """A word's positions looked up in its segments' slices joined (few postings),
    segment by segment (many) or in its slices joined and kept (search/whoosh/kept_terms.py)
    give the same keys, over many segments."""
    evaluator = segmented.evaluator
    if deleted:
        _deleted(evaluator)
    phrases = [["de", "la"], ["le", "port"], ["de", "la", "ville"], ["ministre", "de"],
               ["ville", "portuaire"], ["il", "y", "a"]]
    compared = 0
    try:
        for words in phrases:
            found = {w: evaluator._read("exact", w) for w in words}
            if any(f is None for f in found.values()):
                continue
            candidates = evaluate._common([evaluate.Node(f[0], f[1]) for f in found.values()])
            for word, (_, _, where, _) in found.items():
                keys = {}
                monkeypatch.setattr(evaluator.kept, "largest", 0)  # none kept
                for limit in (0, 10**9):
                    monkeypatch.setattr(evaluate, "SMALL_POSTINGS", limit)
                    keys[limit] = evaluator._position_keys("exact", word, candidates, where)
                monkeypatch.setattr(evaluator.kept, "largest", 10**9)  # every one kept
                keys["kept"] = evaluator._position_keys("exact", word, candidates, where)
                assert evaluator._kept_positions("exact", word, where) is not None
                assert keys[0].dtype == keys[10**9].dtype == keys["kept"].dtype == np.int64
                np.testing.assert_array_equal(keys[0], keys[10**9])
                np.testing.assert_array_equal(keys[0], keys["kept"])
                compared += len(keys[0]) > 0
    finally:
        if deleted:
            evaluator.live[:] = True
            evaluator.deletions_changed()
    assert compared >= 8


PHRASES_OVER_SEGMENTS = [["de", "la"], ["le", "port"], ["de", "la", "ville"],
                         ["ministre", "de"], ["ville", "portuaire"], ["il", "y", "a"],
                         ["la", "ville"], ["de", "de"], ["selon", "le"]]


@pytest.mark.parametrize("deleted", [False, True])
def test_a_phrase_of_every_key_matches_as_of_its_candidates_keys(segmented, monkeypatch,
                                                                 deleted):
    """A phrase's words of few positions give their every key (`_phrase_keys`, documents
    that are not candidates among them) and the phrase matches the same documents, with
    the same scores, as when each word gives its candidates' keys only; with deleted
    documents too, and over many segments; Whoosh's own phrase query agrees."""
    evaluator = segmented.evaluator
    if deleted:
        _deleted(evaluator)
    searcher = segmented.searcher
    every_key = 0
    try:
        for words in PHRASES_OVER_SEGMENTS:
            q = wq.Phrase("exact", words)
            found = {}
            for limit in (0, 10**9):  # never every key, then every word's every key
                monkeypatch.setattr(evaluate, "ALL_KEYS", limit)
                evaluator.kept.clear()
                found[limit] = evaluator.evaluate(q)
                if limit:
                    reads = {w: evaluator._read("exact", w) for w in words}
                    if all(reads.values()):
                        candidates = evaluate._common(
                            [evaluate.Node(f[0], f[1]) for f in reads.values()])
                        keys = evaluator._phrase_keys("exact", words[0], candidates,
                                                      reads[words[0]][2], reads[words[0]])
                        chosen = evaluator._position_keys("exact", words[0], candidates,
                                                          reads[words[0]][2])
                        every_key += len(keys) > len(chosen)
                        assert np.isin(chosen, keys).all()
                        assert (np.diff(keys) > 0).all()
            np.testing.assert_array_equal(found[0].docs, found[10**9].docs)
            assert found[0].scores.tobytes() == found[10**9].scores.tobytes()
            expected = sorted(d for d in searcher.docs_for_query(q) if evaluator.live[d])
            assert found[0].docs.tolist() == expected, words
    finally:
        evaluator.kept.clear()
        if deleted:
            evaluator.live[:] = True
            evaluator.deletions_changed()
    assert every_key >= 3  # keys of documents that are not candidates were given


@pytest.mark.parametrize("deleted", [False, True])
def test_a_words_kept_positions_from_its_read_are_the_same(segmented, deleted):
    """`_kept_positions` given the word's `_read()` (its documents not numbered again when
    none of its segments has deleted ones) keeps what it keeps without it."""
    evaluator = segmented.evaluator
    if deleted:
        _deleted(evaluator)
    compared = 0
    try:
        for word in ["de", "la", "port", "ville", "portuaire", "ministre", "selon"]:
            evaluator.kept.clear()
            read = evaluator._read("exact", word)
            if read is None:
                continue
            with_read = evaluator._kept_positions("exact", word, read[2], read)
            evaluator.kept.clear()
            alone = evaluator._kept_positions("exact", word, read[2])
            assert (with_read is None) == (alone is None)
            if alone is None:
                continue
            for a, b in zip(with_read, alone, strict=True):
                assert a.dtype == b.dtype == np.int64
                np.testing.assert_array_equal(a, b)
            compared += 1
    finally:
        evaluator.kept.clear()
        if deleted:
            evaluator.live[:] = True
            evaluator.deletions_changed()
    assert compared >= 4


@pytest.mark.parametrize("deleted", [False, True])
def test_a_terms_read_is_its_segments_slices_numbered(segmented, deleted):
    """`_read` in one pass gives what the directory's entry, `_raw`, `_numbered` and
    `_weights` give one after the other, over many segments."""
    evaluator = segmented.evaluator
    if deleted:
        _deleted(evaluator)
    try:
        for fieldname, word in [("text", stem("ville")), ("text", stem("port")),
                                ("exact", "de"), ("exact", "haifa"), ("title", "gaza"),
                                ("exact", "no-such-word")]:
            found = evaluator._read(fieldname, word)
            entry = evaluator.directory.entry(fieldname, word)
            if entry is None:
                assert found is None
                continue
            where, frequency = entry
            parts = evaluator._raw(fieldname, where, True)
            docs = evaluator._numbered([s for s, _ in where], [p[0] for p in parts])
            assert found[0].dtype == docs.dtype
            np.testing.assert_array_equal(found[0], docs)
            assert found[1].tobytes() == evaluate._weights(parts).tobytes()
            assert found[2] == where
            assert found[3] == evaluator.idf(fieldname, word)
    finally:
        if deleted:
            evaluator.live[:] = True
            evaluator.deletions_changed()


@pytest.mark.parametrize("seed", range(10))
def test_small_intersections_are_np_intersect1ds(seed):
    rng = np.random.default_rng(seed)
    for _ in range(50):
        a = np.unique(rng.integers(0, 5000, rng.integers(0, 1200))).astype(np.int64)
        b = np.unique(rng.integers(0, 5000, rng.integers(0, 300))).astype(np.int64)
        for x, y in ((a, b), (b, a)):
            found = evaluate._intersected(x, y, 10**7)
            expected = np.intersect1d(x, y, assume_unique=True)
            assert found.dtype == expected.dtype
            np.testing.assert_array_equal(found, expected)


def test_an_ands_documents_are_matched_once_a_search(generation, monkeypatch):
    """The tier's documents, asked for twice in a search, are intersected once."""
    evaluator = generation.evaluator
    q = list(_queries())[1]  # an And of three words
    calls = []
    common = evaluate._common
    monkeypatch.setattr(evaluate, "_common", lambda *a: calls.append(1) or common(*a))
    memo: dict = {}
    first = evaluator.matching(q, memo)
    again = evaluator.matching(q, memo)
    assert len(calls) == 1 and again is first
    np.testing.assert_array_equal(first, evaluator.evaluate(q).docs)


@pytest.mark.parametrize("deleted", [False, True])
def test_term_scores_are_bm25_as_written(generation, deleted):
    """term() computes in place what `idf * (w * (k1 + 1)) / (w + norm) * boost` gives."""
    from search.ranking import DEFAULT_RANKING, Ranking

    evaluator = generation.evaluator
    if deleted:
        _deleted(evaluator)
    for ranking in (DEFAULT_RANKING, Ranking(k1=0.9, b=0.4)):
        for fieldname in ("text", "exact", "title"):
            for word in WORDS + ["de", "la"]:
                text = stem(word) or word if fieldname == "text" else word
                for boost in (1.0, 0.5, 2.5):
                    found = evaluator.term(fieldname, text, boost, ranking)
                    before = evaluator._postings(fieldname, text)
                    if before is None:
                        assert not len(found.docs)
                        continue
                    docs, weights = before
                    norm = evaluator.norms(fieldname, ranking)[docs]
                    scores = evaluator.idf(fieldname, text) * (weights * (ranking.k1 + 1)) \
                        / (weights + norm) * boost
                    np.testing.assert_array_equal(found.docs, docs)
                    assert found.scores.tobytes() == scores.tobytes(), (fieldname, word)


def test_slices_read_at_once_are_raws(segmented):
    evaluator = segmented.evaluator
    for fieldname in ("text", "exact"):
        directory = evaluator.directory.field(fieldname)
        for term in directory.terms[::97] + ["de", "la", "port"]:
            where = evaluator.directory.where(fieldname, term)
            found = evaluator._raw(fieldname, where)
            assert len(found) == len(where)
            for (segment, n), (docs, weights, scale) in zip(where, found, strict=True):
                expected = evaluator.postings[segment].raw(fieldname, n)
                np.testing.assert_array_equal(docs, expected[0])
                np.testing.assert_array_equal(weights, expected[1])
                assert scale == expected[2]
    # a term whose weights are partly listed apart is read through raw()
    segment, n = evaluator.directory.where("exact", "port")[0]
    starts, docs, weights, _, scale = evaluator._flat["exact"][segment]
    evaluator._flat["exact"][segment] = (starts, docs, weights, frozenset({n}), scale)
    calls = []
    postings = evaluator.postings[segment]
    original = postings.raw

    def raw(fieldname, number):
        calls.append(number)
        return original(fieldname, number)

    postings.raw = raw
    try:
        evaluator._raw("exact", [(segment, n)])
    finally:
        del postings.raw
    assert calls == [n]


@pytest.mark.parametrize("which", ["samples", "segmented"])
def test_deleted_documents_are_left_out_of_terms_as_before(generation, segmented, which):
    """A term's documents and scores with deletions are those without, deleted ones taken
    out (they are filtered in the segments holding some, before scoring)."""
    evaluator = (generation if which == "samples" else segmented).evaluator
    saved = evaluator.live.copy()
    queries = list(_queries())
    try:
        whole = {w: evaluator.term("exact", w) for w in WORDS + ["de", "la"]}
        matched = [evaluator.matching(q) for q in queries]
        evaluator.live[1::4] = False
        evaluator.live[-1] = False
        evaluator.deletions_changed()
        assert 0 < len(evaluator._deleted_in) <= len(evaluator.postings)
        for word, node in whole.items():
            found = evaluator.term("exact", word)
            keep = evaluator.live[node.docs]
            np.testing.assert_array_equal(found.docs, node.docs[keep])
            assert found.scores.tobytes() == node.scores[keep].tobytes()
        for q, before in zip(queries, matched, strict=True):
            np.testing.assert_array_equal(evaluator.matching(q),
                                          evaluator.evaluate(q).docs)
            assert set(evaluator.matching(q).tolist()) <= set(before.tolist())
    finally:
        evaluator.live[:] = saved
        evaluator.deletions_changed()


@pytest.mark.parametrize("by_segment", [False, True])
@pytest.mark.parametrize("deleted", [False, True])
def test_summed_terms_over_many_segments_are_the_terms_summed_in_order(segmented, deleted,
                                                                       by_segment,
                                                                       monkeypatch):
    """summed_terms reads its slices segment by segment: the sums are still those of the
    terms added in their order, to the last bit, in an index of many segments (each word
    in several), with deleted documents or not, a word weighing nothing or not; also
    when each segment is scored and summed apart (many postings)."""
    from search.ranking import DEFAULT_RANKING, Ranking

    monkeypatch.setattr(evaluate, "SEGMENT_POSTINGS", 0 if by_segment else 10**12)
    evaluator = segmented.evaluator
    assert len(evaluator.postings) > 5
    live = evaluator.live.copy()
    if deleted:
        _deleted(evaluator)
    try:
        rng = np.random.default_rng(8)
        listed = evaluator.directory.field("text")
        spread = [t for t, a, b in zip(listed.terms, listed.begins[:-1], listed.begins[1:],
                                       strict=True) if b - a > 2]
        assert len(spread) > 30
        for ranking in (DEFAULT_RANKING, Ranking(k1=0.9, b=0.4)):
            for n in range(20):
                texts = rng.choice(spread, 20, replace=False).tolist()
                weighted = [(t, float(rng.random() * 3)) for t in texts]
                if n % 5 == 0:
                    weighted[3] = (weighted[3][0], 0.0)
                summed, held = evaluator.summed_terms("text", weighted, ranking)
                before, held_before = _summed_before(evaluator, "text", weighted, ranking)
                assert summed.tobytes() == before.tobytes()
                assert (held is None) == (held_before is None)
                if held is not None:
                    assert (held == held_before).all()
    finally:
        evaluator.live[:] = live
        evaluator.deletions_changed()


def test_summed_terms_looks_words_up_without_decoding_the_term_list(generation, monkeypatch):
    """Feedback's words are found through the directory's sampled lookup: a bisect of a
    mapped term list decodes a term each step (about 20 a word at a million articles)."""
    from search.ranking import DEFAULT_RANKING
    from search.whoosh.strings import MappedStrings, joined

    evaluator = generation.evaluator
    listed = evaluator.directory.field("text")
    # the terms as a generation's prepared file maps them
    monkeypatch.setattr(listed, "terms", MappedStrings(*joined(list(listed.terms))))
    weighted = [(w, 1.0) for w in (stem(w) or w for w in WORDS)]
    expected = evaluator.summed_terms("text", weighted, DEFAULT_RANKING)
    decoded = []
    real = MappedStrings.__getitem__
    monkeypatch.setattr(MappedStrings, "__getitem__",
                        lambda self, n: decoded.append(n) or real(self, n))
    found = evaluator.summed_terms("text", weighted, DEFAULT_RANKING)
    assert decoded == []
    assert found[0].tobytes() == expected[0].tobytes()


@pytest.mark.parametrize("deleted", [False, True])
def test_an_and_given_its_documents_is_the_and(segmented, monkeypatch, deleted):
    """`all_of(children, docs=common(children))` (the plain path's pair whose And fills
    the page: the tier already intersected) is `all_of(children)`, bit for bit, each
    child's scores found by binary search (every child holds every document: no
    `restrict`) unless the child and the documents are large beside the index (then
    `restrict`'s array the size of the index): `DENSE_SHARE` put high and low."""
    evaluator = segmented.evaluator
    if deleted:
        _deleted(evaluator)
    restricted = _recorded_restricts(monkeypatch)
    try:
        nodes = [evaluator.with_optional(evaluator.term("text", stem(w) or w),
                                         evaluator.term("exact", w, 0.5))
                 for w in ("ville", "port", "ministre", "conseil")]
        for children, share in itertools.product(
                (nodes[:2], nodes[1:3], nodes, [nodes[0], nodes[0]],
                 [nodes[0], evaluate.Node.empty()]), (1, 64, 10**9)):
            monkeypatch.setattr(evaluate, "DENSE_SHARE", share)
            restricted.clear()
            common = evaluator.common(children)
            given = evaluator.all_of(children, docs=common)
            large = [len(common) + len(c.docs) for c in children
                     if len(common) and len(c.docs) != len(common)
                     and evaluator.large(len(common) + len(c.docs))]
            assert restricted == [len(common)] * len(large)
            whole = evaluator.all_of(children)
            assert given.docs.tobytes() == whole.docs.tobytes()
            assert given.scores.tobytes() == whole.scores.tobytes()
    finally:
        if deleted:
            evaluator.live[:] = True
            evaluator.deletions_changed()


def test_a_term_in_every_segment_is_numbered_as_in_some(segmented):
    """`_numbered` of slices from every segment in order (no gather of the offsets) is each
    slice plus its segment's first document, as for slices of some segments."""
    evaluator = segmented.evaluator
    count = len(evaluator.offsets)
    assert count > 2
    rng = np.random.default_rng(5)
    parts = [np.sort(rng.choice(50, 7, replace=False)).astype(np.uint16) for _ in range(count)]
    expected = np.concatenate([p.astype(np.int64) + evaluator.offsets[s]
                               for s, p in enumerate(parts)])
    every = evaluator._numbered(list(range(count)), parts)
    assert every.dtype == np.int64
    np.testing.assert_array_equal(every, expected)
    some = [0, 2, count - 1]
    np.testing.assert_array_equal(
        evaluator._numbered(some, [parts[s] for s in some]),
        np.concatenate([parts[s].astype(np.int64) + evaluator.offsets[s] for s in some]))
    reordered = [1, 0, *range(2, count)]  # as many segments, not in order: gathered
    np.testing.assert_array_equal(
        evaluator._numbered(reordered, [parts[s] for s in reordered]),
        np.concatenate([parts[s].astype(np.int64) + evaluator.offsets[s]
                        for s in reordered]))


def _recorded_restricts(monkeypatch) -> list[int]:
    """The sizes `Node.restrict` is asked for from now on (the list grows as it is)."""
    restricted: list[int] = []
    original = evaluate.Node.restrict

    def restrict(node, docs, size=0):
        restricted.append(len(docs))
        return original(node, docs, size)

    monkeypatch.setattr(evaluate.Node, "restrict", restrict)
    return restricted
