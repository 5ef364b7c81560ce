"""`StoredFields.hit_texts`: what a page of results with snippets reads (what each hit shows
of its head, and its lead and body) in one call, the same as `with_texts` of each document
read one at a time, in every kind of index: new segments read from their map (one or
several), a segment of an older codec beside a new one, segments of the codecs before the
texts were stored apart (not read from a map), and Whoosh's own storage; articles without
a lead, without a body, without either."""

from __future__ import annotations

import random
import shutil
import threading

from click.testing import CliRunner
from whoosh.index import open_dir
from whoosh.writing import NO_MERGE

from indexer.cli import main
from search import open_index
from search.whoosh.layout import current_build
from search.whoosh.private import StoredFields, hit_fields
from search.whoosh.private.codec import PlainHeadCodec, ZstdCodec
from search.whoosh.private.writing import SegmentWriter
from tests.conftest import DATA

# Articles without a lead, without a body (the indexer refuses one without either).
SPARSE = (
    '{"id": "s-corps", "title": "Sans chapeau", "body": "Un corps sans chapeau."}\n'
    '{"id": "s-chapeau", "title": "Sans corps", "lead": "Un chapeau sans corps."}\n')


def _run(*args: str) -> None:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output


def _expected(stored: StoredFields, docnum: int) -> tuple:
    fields = stored.with_texts(docnum)
    return hit_fields(fields), (fields.get("lead", ""), fields.get("body", ""))


def _check_pages(stored: StoredFields, live: list[int]) -> None:
    """Pages in any order, repeats too, against `with_texts` of each document."""
    expected = {d: _expected(stored, d) for d in live}
    pages = [live, live[::-1], [live[0], live[-1], live[0]], live[:1], []]
    rng = random.Random(7)
    pages += [rng.choices(live, k=min(10, len(live))) for _ in range(20)]
    for page in pages:
        heads, texts = stored.hit_texts(page)
        assert list(zip(heads, texts, strict=True)) == [expected[d] for d in page]


def _live(reader) -> list[int]:
    return [d for d in range(reader.doc_count_all()) if not reader.is_deleted(d)]


def _check_index(folder) -> list[type]:
    """Every page of `folder`'s index read by `hit_texts` as `with_texts` reads it, through
    Furet's storage (mapped) and through Whoosh's; the segments' codecs."""
    index = open_index(folder)
    try:
        with index.view() as generation:
            reader = generation.searcher.reader()
            _check_pages(generation.stored, _live(reader))
            codecs = [type(leaf.codec()) for leaf, _ in reader.leaf_readers()]
    finally:
        index.close()
    with open_dir(str(current_build(folder))).searcher() as searcher:  # not mapped
        stored = StoredFields(searcher.reader())
        _check_pages(stored, _live(searcher.reader()))
        assert not any(stored._mapped)
    return codecs


def test_a_page_s_texts_are_those_of_each_hit(samples_index):
    assert _check_index(samples_index) == [PlainHeadCodec]


def _add_unmerged(folder, articles, monkeypatch) -> None:
    """SPARSE added by `furet-index update` in a segment of its own."""
    (articles / "sparse.jsonl").write_text(SPARSE, "utf-8")
    monkeypatch.setattr("search.whoosh.writer.MERGE_SMALL", NO_MERGE)  # the old one kept
    _run("update", str(articles), "--index-dir", str(folder))
    monkeypatch.undo()


def test_texts_missing_and_several_segments(tmp_path, articles, monkeypatch):
    folder = tmp_path / "several"
    _run("build", str(articles), "--index-dir", str(folder))
    _add_unmerged(folder, articles, monkeypatch)
    codecs = _check_index(folder)
    assert len(codecs) > 1 and set(codecs) == {PlainHeadCodec}
    index = open_index(folder)
    try:
        with index.view() as generation:
            searcher = generation.searcher
            ids = ("s-corps", "s-chapeau")
            docnums = [searcher.document_number(id=i) for i in ids]
            heads, texts = generation.stored.hit_texts(docnums)
            assert [head[0] for head in heads] == list(ids)
            assert texts[0] == ("", "Un corps sans chapeau.")
            assert "" in texts[1] and "Un chapeau sans corps." in texts[1]  # (as indexed)
    finally:
        index.close()


def test_documents_without_texts(tmp_path, articles):
    """Documents written without a lead and body (through the segment writer: the indexer
    refuses them): an empty value of their segment's texts column, in a segment holding
    texts of others and in one holding none."""
    folder = tmp_path / "index"
    _run("build", str(articles), "--index-dir", str(folder))
    ix = open_dir(str(current_build(folder)))
    writer = SegmentWriter(ix)
    writer.add_document(id="nu", title="Un titre seul")
    writer.add_document(id="vide", title="Des textes vides", lead="", body="")
    writer.commit(merge=False)
    writer = SegmentWriter(ix)
    writer.add_document(id="seul", title="Seul dans son segment")
    writer.commit(merge=False)
    assert _check_index(folder) == [PlainHeadCodec] * 3
    index = open_index(folder)
    try:
        with index.view() as generation:
            searcher = generation.searcher
            docnums = [searcher.document_number(id=i) for i in ("nu", "vide", "seul")]
            heads, texts = generation.stored.hit_texts(docnums)
            assert [head[:3] for head in heads] == [
                ("nu", None, "Un titre seul"), ("vide", None, "Des textes vides"),
                ("seul", None, "Seul dans son segment")]
            assert texts == [("", "")] * 3
            assert all(generation.stored._columns(d)[2][1] for d in docnums)  # (mapped)
    finally:
        index.close()


def test_a_segment_of_an_older_codec_beside_a_new_one(tmp_path, articles, monkeypatch):
    """ZstdCodec's segment (its head pickled with every field but the texts) read beside
    a PlainHeadCodec one."""
    folder = tmp_path / "index"
    monkeypatch.setattr("search.whoosh.private.writing.PlainHeadCodec", ZstdCodec)
    _run("build", str(articles), "--index-dir", str(folder))
    monkeypatch.undo()
    _add_unmerged(folder, articles, monkeypatch)
    assert set(_check_index(folder)) == {ZstdCodec, PlainHeadCodec}


def test_segments_holding_every_field_in_one_value(tmp_path, articles):
    """An index of the first format (all stored fields in one value, not read from a map)
    updated with a new segment."""
    folder = tmp_path / "old"
    shutil.copytree(DATA / "index-v1", folder, symlinks=True)
    (articles / "sparse.jsonl").write_text(SPARSE, "utf-8")
    _run("update", str(articles), "--index-dir", str(folder))
    assert PlainHeadCodec in _check_index(folder)


def test_each_segment_s_texts_reader_is_found_once_a_page(samples_index, monkeypatch):
    """The texts column and the calling thread's decompressor of a segment are looked up
    once a page, whatever its hits; a page read in another thread reads with that
    thread's decompressor, and reads the same."""
    found = []
    original = StoredFields._texts_reader

    def counted(self, docnum, n):
        found.append(n)
        return original(self, docnum, n)

    monkeypatch.setattr(StoredFields, "_texts_reader", counted)
    index = open_index(samples_index)
    try:
        with index.view() as generation:
            stored = generation.stored
            count = generation.evaluator.size
            page = [*range(count), *range(count)]
            here = stored.hit_texts(page)
            assert found == [0]
            there = []
            thread = threading.Thread(target=lambda: there.append(stored.hit_texts(page)))
            thread.start()
            thread.join()
            assert there == [here] and found == [0, 0]
    finally:
        index.close()
