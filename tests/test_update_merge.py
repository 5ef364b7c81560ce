"""An update merges the small segments it leaves, never a build's large ones."""

from __future__ import annotations

import json

from whoosh.index import open_dir
from whoosh.reading import SegmentReader

from search import open_index, search
from search.whoosh import writer as whoosh_writer
from search.whoosh.layout import DurableFileStorage
from tests.conftest import SAMPLES
from tests.indexing import build, update


def _segments(index_dir) -> dict[str, int]:
    ix = open_dir(str(index_dir / "CURRENT"))
    try:
        return {s.segment_id(): s.doc_count_all() for s in ix._segments()}
    finally:
        ix.close()


def test_an_update_leaves_large_segments_as_they_are(tmp_path, monkeypatch):
    index_dir = tmp_path / "index"
    monkeypatch.setattr(whoosh_writer, "segment_words_limit", lambda processes: 4000)
    build(index_dir, [SAMPLES], jobs=1)
    before = _segments(index_dir)
    assert len(before) > 3
    largest = max(before.values())
    large = {name for name, count in before.items() if count == largest}
    assert len(large) < len(before)
    # As if the samples were a large index: segments of a quarter of `largest` documents
    # or more count as a build's, kept whole.
    monkeypatch.setattr(whoosh_writer, "SMALL_SEGMENT_DOCS", largest)
    large = {name for name, count in before.items() if count >= largest // 4}
    extra = tmp_path / "extra" / "depeche.jsonl"
    extra.parent.mkdir()
    extra.write_text(json.dumps({"id": "depeche-1", "title": "Ornithorynque au port",
                                 "text": "Un ornithorynque est arrivé au port ce matin."}) + "\n")
    update(index_dir, [SAMPLES, extra.parent])
    after = _segments(index_dir)
    assert large <= set(after)  # untouched: the same segments, by name
    assert len(after) <= len(before) + 1
    assert sum(after.values()) == sum(before.values()) + 1
    index = open_index(index_dir)
    try:
        assert [h.id for h in search(index, "ornithorynque").hits] == ["depeche-1"]
        assert search(index, "port").total > 1
    finally:
        index.close()


class _Segment:
    def __init__(self, n: int) -> None:
        self.n = n

    def doc_count_all(self) -> int:
        return self.n


class _Writer:
    storage = schema = None

    def __init__(self) -> None:
        self.merged: list[int] = []

    def add_reader(self, reader) -> None:
        self.merged.append(reader.n)


def test_a_million_articles_segments_are_not_merged_by_an_update(monkeypatch):
    import whoosh.reading
    import whoosh.writing

    class Reader:
        def __init__(self, storage, schema, segment) -> None:
            self.n = segment.n

        def close(self) -> None:
            pass

    monkeypatch.setattr(whoosh.reading, "SegmentReader", Reader)
    segments = [_Segment(23_000) for _ in range(44)] + [_Segment(120), _Segment(3)]
    whooshs = _Writer()
    whoosh.writing.MERGE_SMALL(whooshs, segments)
    assert len(whooshs.merged) > 20  # what Whoosh's policy alone would rewrite
    ours = _Writer()
    kept = whoosh_writer.merge_small_segments(ours, segments)
    assert all(n < whoosh_writer.SMALL_SEGMENT_DOCS for n in ours.merged)
    assert [s.n for s in kept][:44] == [23_000] * 44


def test_an_article_updated_again_is_found_in_the_newest_segment_first(tmp_path, monkeypatch):
    """The segments are asked newest first whether they hold an updated article's id: one
    updated before is found in the segment its update wrote, without asking every older
    segment (which still holds its deleted copies) first."""
    index_dir = tmp_path / "index"
    monkeypatch.setattr(whoosh_writer, "segment_words_limit", lambda processes: 4000)
    build(index_dir, [SAMPLES], jobs=1)
    assert len(_segments(index_dir)) > 3
    extra = tmp_path / "extra" / "depeche.jsonl"
    extra.parent.mkdir()

    def write(text: str) -> None:
        extra.write_text(json.dumps({"id": "depeche-1", "title": "Ornithorynque",
                                     "text": text}) + "\n")

    write("Un ornithorynque est arrivé au port ce matin.")
    update(index_dir, [SAMPLES, extra.parent])
    write("Un ornithorynque est reparti du port ce soir.")
    asked: list[int] = []
    real = SegmentReader.term_info

    def term_info(leaf, fieldname, text):
        if fieldname == "id":
            asked.append(1)
        return real(leaf, fieldname, text)

    monkeypatch.setattr(SegmentReader, "term_info", term_info)
    update(index_dir, [SAMPLES, extra.parent])
    monkeypatch.undo()
    assert len(asked) == 1  # the newest segment holds it
    index = open_index(index_dir)
    try:
        assert [h.id for h in search(index, "ornithorynque").hits] == ["depeche-1"]
        assert search(index, "\"ornithorynque est reparti\"").total == 1
        assert search(index, "\"ornithorynque est arrivé\"").total == 0
    finally:
        index.close()


def test_an_update_releases_the_pages_its_look_ups_read(tmp_path, monkeypatch):
    """Every RELEASE_EVERY updated articles, the pages the id look-ups mapped in every
    committed segment are released (a 1 % update at a million news-sized articles held
    about 500 MB of them until its commit)."""
    index_dir = tmp_path / "index"
    monkeypatch.setattr(whoosh_writer, "segment_words_limit", lambda processes: 4000)
    build(index_dir, [SAMPLES], jobs=1)
    segments = set(_segments(index_dir))
    assert len(segments) > 3
    extra = tmp_path / "extra" / "depeches.jsonl"
    extra.parent.mkdir()

    def write(word: str) -> None:
        extra.write_text("".join(json.dumps({"id": f"depeche-{n}", "title": "Dépêche",
                                             "text": f"Dépêche {n}, {word}."}) + "\n"
                                 for n in range(6)))

    write("matin")
    update(index_dir, [SAMPLES, extra.parent])
    before = set(_segments(index_dir))
    released: list[str] = []
    monkeypatch.setattr(DurableFileStorage, "release_pages",
                        lambda storage, segment: released.append(segment.segment_id()))
    monkeypatch.setattr(whoosh_writer, "RELEASE_EVERY", 2)
    monkeypatch.setenv("FURET_PREPARED_SEGMENTS", "1000")  # no prepared tables written
    write("soir")
    update(index_dir, [SAMPLES, extra.parent])
    assert released and set(released) == before  # every committed segment, 3 times
    assert len(released) == 3 * len(before)


def test_the_live_document_of_an_id_is_the_one_its_postings_give(tmp_path):
    """`_live_document` reads an id held by one document from its term statistics, and
    reads the postings when several documents hold it: the first live one, as
    `first_id` over the live documents gives, None when none is live or none holds it."""
    from whoosh.fields import ID, Schema
    from whoosh.index import create_in

    ix = create_in(str(tmp_path), Schema(id=ID(stored=True, unique=True)))
    with ix.writer() as w:
        for name in ("a", "b", "c", "b", "d", "d"):
            w.add_document(id=name)
    with ix.writer() as w:
        w.delete_document(2)  # c: its one document
        w.delete_document(1)  # b: its first of two
        w.delete_document(4)  # d: both of its two
        w.delete_document(5)
    with ix.reader() as reader:
        live = {name: whoosh_writer._live_document(reader, name)
                for name in ("a", "b", "c", "d", "e")}
        assert reader.term_info("id", "a").doc_frequency() == 1
        assert reader.term_info("id", "b").doc_frequency() == 2
    assert live == {"a": 0, "b": 3, "c": None, "d": None, "e": None}
