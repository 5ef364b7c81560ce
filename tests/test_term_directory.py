"""The term directory (one for every segment) finds what Whoosh finds segment by segment."""

from __future__ import annotations

import numpy as np
import pytest

from search import open_index
from search.ranking import DEFAULT_RANKING
from search.request import SearchRequest
from search.whoosh import spelling
from search.whoosh import writer as whoosh_writer
from search.whoosh.directory import FieldDirectory, TermDirectory
from search.whoosh.postings import FIELDS
from search.whoosh.private import length_column
from search.whoosh.private.lengths import length_array
from search.whoosh.private.lexicon import field_terms
from tests.conftest import SAMPLES
from tests.indexing import build, opened_generation


@pytest.fixture(scope="module")
def generation(tmp_path_factory):
    index_dir = tmp_path_factory.mktemp("many")
    with pytest.MonkeyPatch.context() as patch:  # a segment every few articles
        patch.setattr(whoosh_writer, "segment_words_limit", lambda processes: 4000)
        build(index_dir, [SAMPLES], jobs=1)
    with opened_generation(index_dir) as found:
        assert len(found.evaluator.postings) > 3
        yield found


def _text(term):
    return term.decode("utf-8") if isinstance(term, bytes) else term


def test_every_term_has_whooshs_frequency_idf_and_postings(generation):
    reader, evaluator = generation.searcher.reader(), generation.evaluator
    checked = 0
    for n, (fieldname, term) in enumerate(reader.all_terms()):
        if fieldname not in FIELDS or n % 11:  # one term in 11: Whoosh reads them slowly
            continue
        text = _text(term)
        assert evaluator.doc_frequency(fieldname, text) == reader.doc_frequency(fieldname, term)
        assert evaluator.idf(fieldname, text) == generation.searcher.idf(fieldname, text)
        docs, _ = evaluator._postings(fieldname, text)
        assert docs.tolist() == list(reader.postings(fieldname, term).all_ids())
        checked += 1
    assert checked > 200
    assert evaluator.directory.where("text", "no-such-term") == []
    assert evaluator.doc_frequency("text", "no-such-term") == 0


def test_one_lookup_gives_a_terms_segments_frequency_and_idf(generation):
    reader, evaluator = generation.searcher.reader(), generation.evaluator
    directory = evaluator.directory
    checked = 0
    for n, (fieldname, term) in enumerate(reader.all_terms()):
        if fieldname not in FIELDS or n % 7:
            continue
        text = _text(term)
        where, frequency = directory.entry(fieldname, text)
        assert where == directory.where(fieldname, text)
        assert frequency == directory.frequency(fieldname, text)
        docs, weights, segments, idf = evaluator._read(fieldname, text)
        assert segments == where and idf == evaluator.idf(fieldname, text)
        same = evaluator._postings(fieldname, text)
        assert docs.tolist() == same[0].tolist() and weights.tolist() == same[1].tolist()
        checked += 1
    assert checked > 300
    assert directory.entry("text", "no-such-term") is None
    assert directory.entry("no-such-field", "ville") is None
    assert evaluator._read("text", "no-such-term") is None


def test_a_terms_node_is_bm25_of_its_postings_and_idf(generation):
    """`term()` (its postings and idf from one lookup of the term) scores each document as
    BM25 of its postings, bit for bit."""
    evaluator = generation.evaluator
    listed = evaluator.directory.field("text")
    for text in listed.terms[::13]:
        node = evaluator.term("text", text, 0.7)
        docs, weights = evaluator._postings("text", text)
        norm = evaluator.norms("text", DEFAULT_RANKING)[docs]
        k1 = DEFAULT_RANKING.k1
        expected = weights * (k1 + 1) * evaluator.idf("text", text) / (weights + norm) * 0.7
        assert node.docs.tolist() == docs.tolist()
        assert node.scores.tobytes() == expected.tobytes()


@pytest.mark.parametrize("prefix", ["", "a", "por", "ville", "zz", "é"])
def test_prefixes_expand_as_whoosh_expands_them(generation, prefix):
    reader, directory = generation.searcher.reader(), generation.evaluator.directory
    for fieldname in ("exact", "title_exact", "section_terms"):
        expected = [_text(t) for t in reader.expand_prefix(fieldname, prefix)]
        assert list(directory.field(fieldname).starting(prefix)) == expected


def test_hyphenated_words_are_those_of_every_segment(generation):
    reader, vocabulary = generation.searcher.reader(), generation.vocabulary()
    words = [_text(t) for t in reader.lexicon("compound")]
    assert words and list(vocabulary._compounds) == words
    assert all(vocabulary.has_compound(w) for w in words)
    assert not vocabulary.has_compound("no-such-word")
    first = words[0].split("-")[0]
    assert list(vocabulary.compounds(first, 3)) == \
        [_text(t) for t in reader.expand_prefix("compound", first)][:3]


@pytest.mark.parametrize("fieldname", ["compound", "exact", "title_exact", "id", "section",
                                       "tag", "no_such_field"])
def test_a_fields_terms_are_read_from_the_term_file_as_whoosh_lists_them(generation, fieldname):
    for leaf, _ in generation.searcher.reader().leaf_readers():
        expected = [_text(t) for t in leaf.lexicon(fieldname)] \
            if fieldname in leaf.schema else []
        assert field_terms(leaf, fieldname) == expected


@pytest.mark.parametrize("fieldname", ["text", "exact", "title", "title_exact", "no_such_field"])
def test_field_lengths_are_read_as_whoosh_reads_them(generation, fieldname):
    for leaf, _ in generation.searcher.reader().leaf_readers():
        values = length_column(leaf, fieldname)
        expected = [1] * leaf.doc_count_all() if values is None else [v or 1 for v in values]
        assert length_array(leaf, fieldname).tolist() == expected


def test_hyphenated_words_are_read_at_open_not_by_the_first_pair_of_words(tmp_path,
                                                                           monkeypatch):
    build(tmp_path, [SAMPLES], jobs=1)
    index = open_index(tmp_path)
    try:
        with index.view() as opened:
            words = list(opened.vocabulary()._compounds)
        assert words
        monkeypatch.setattr(spelling, "field_terms", _unexpected)
        index.search(SearchRequest("etats unis", snippets=False, facets=False))
        index.search(SearchRequest("ville portuaire", snippets=False, facets=False))
    finally:
        index.close()


def _unexpected(*args):
    raise AssertionError("the hyphenated words were read again by a search")


def test_a_segment_still_finds_a_term_by_name_once_the_directory_has_its_names(generation):
    evaluator = generation.evaluator
    segment, n = evaluator.directory.where("exact", "port")[0]
    postings = evaluator.postings[segment]
    docs, weights = postings.postings("exact", "port")  # Whoosh's own matchers ask by name
    raw_docs, raw_weights, scale = postings.raw("exact", n)
    assert docs.tolist() == raw_docs.tolist()
    assert np.array_equal(weights, raw_weights * (scale if scale is not None else 1))
    assert postings.positions("exact", "port")[0].tolist() == raw_docs.tolist()


@pytest.mark.parametrize("deleted", [False, True])
def test_first_docs_are_the_first_of_term_docs(tmp_path_factory, deleted):
    index_dir = tmp_path_factory.mktemp("first")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(whoosh_writer, "segment_words_limit", lambda processes: 4000)
        build(index_dir, [SAMPLES], jobs=1)
    index = open_index(index_dir)
    try:
        with index.view() as found:
            evaluator = found.evaluator
            if deleted:  # every third document gone, as deletions leave them
                evaluator.live[::3] = False
                evaluator.deletions_changed()
            reader = found.searcher.reader()
            words = sorted({_text(t) for f, t in reader.all_terms() if f == "exact"})
            frequent = sorted(words, key=lambda w: -evaluator.doc_frequency("exact", w))
            for word in frequent[:30] + words[::37] + ["no-such-term"]:
                every = evaluator.term_docs("exact", [word])
                for count in (1, 3, 10, 100):
                    assert evaluator.first_docs("exact", word, count).tolist() == \
                        every[:count].tolist(), (word, count)
    finally:
        index.close()


class _Fed:
    """One segment's term names and postings counts, as SegmentPostings gives them."""

    def __init__(self, names, sizes) -> None:
        self._names, self._sizes = names, sizes

    def fieldnames(self):
        return ["text"]

    def names(self, fieldname):
        return self._names

    def sizes(self, fieldname):
        return self._sizes

    def release_names(self) -> None:
        pass


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_directory_put_in_order_by_counting_is_the_one_sorted_in_memory(seed):
    """The directory puts each (segment, term) pair in place by counting: its arrays are
    those of FieldDirectory's sort of every pair at once, dtypes included."""
    rng = np.random.default_rng(seed)
    vocabulary = [f"t{n:05d}{'é' * (n % 3)}" for n in rng.permutation(3000)]
    fed, ids, segments, numbers, postings = [], [], [], [], []
    seen: dict[str, int] = {}
    for segment in range(12):
        size = 0 if segment == 5 else int(rng.integers(1, 900))  # one segment without terms
        names = sorted(rng.choice(vocabulary, size=size, replace=False).tolist())
        sizes = rng.integers(1, 50, size=size).astype(np.int64)
        fed.append(_Fed(names, sizes))
        ids.extend(seen.setdefault(t, len(seen)) for t in names)
        segments.extend([segment] * size)
        numbers.extend(range(size))
        postings.extend(sizes.tolist())
    terms = sorted(seen)
    rank = {seen[t]: n for n, t in enumerate(terms)}
    expected = FieldDirectory(terms, np.array([rank[i] for i in ids], dtype=np.int64),
                              np.array(segments, dtype=np.int32),
                              np.array(numbers, dtype=np.int32), np.array(postings))
    found = TermDirectory(iter(fed)).field("text")
    assert found is not None and found.terms == expected.terms
    for name in ("segments", "numbers", "begins", "frequencies"):
        ours, theirs = getattr(found, name), getattr(expected, name)
        assert ours.dtype == theirs.dtype and np.array_equal(ours, theirs), name
