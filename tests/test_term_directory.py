"""The term directory (one for every segment) finds what Whoosh finds segment by segment."""

from __future__ import annotations

import numpy as np
import pytest

from search import open_index
from search.whoosh import writer as whoosh_writer
from search.whoosh.postings import FIELDS
from tests.conftest import SAMPLES
from tests.indexing import build


@pytest.fixture(scope="module")
def generation(tmp_path_factory):
    index_dir = tmp_path_factory.mktemp("many")
    with pytest.MonkeyPatch.context() as patch:  # a segment every few articles
        patch.setattr(whoosh_writer, "segment_words_limit", lambda processes: 4000)
        build(index_dir, [SAMPLES], jobs=1)
    index = open_index(index_dir)
    try:
        with index.view() as found:
            assert len(found.evaluator.postings) > 3
            yield found
    finally:
        index.close()


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


@pytest.mark.parametrize("prefix", ["", "a", "por", "ville", "zz", "é"])
def test_prefixes_expand_as_whoosh_expands_them(generation, prefix):
    reader, directory = generation.searcher.reader(), generation.evaluator.directory
    for fieldname in ("exact", "title_exact", "section_terms"):
        expected = [_text(t) for t in reader.expand_prefix(fieldname, prefix)]
        assert list(directory.field(fieldname).starting(prefix)) == expected


def test_hyphenated_words_are_those_of_every_segment(generation):
    reader, vocabulary = generation.searcher.reader(), generation.vocabulary()
    words = [_text(t) for t in reader.lexicon("compound")]
    assert words and vocabulary._compounds == words
    assert all(vocabulary.has_compound(w) for w in words)
    assert not vocabulary.has_compound("no-such-word")
    first = words[0].split("-")[0]
    assert list(vocabulary.compounds(first, 3)) == \
        [_text(t) for t in reader.expand_prefix("compound", first)][:3]


def test_a_segment_still_finds_a_term_by_name_once_the_directory_has_its_names(generation):
    evaluator = generation.evaluator
    segment, n = evaluator.directory.where("exact", "port")[0]
    postings = evaluator.postings[segment]
    docs, weights = postings.postings("exact", "port")  # Whoosh's own matchers ask by name
    raw_docs, raw_weights, scale = postings.raw("exact", n)
    assert docs.tolist() == raw_docs.tolist()
    assert np.array_equal(weights, raw_weights * (scale if scale is not None else 1))
    assert postings.positions("exact", "port")[0].tolist() == raw_docs.tolist()
