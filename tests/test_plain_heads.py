"""PlainHeadCodec: a result's head stored as a UTF-8 record, its sections and authors
numbered in a table of the segment's names (search/whoosh/private/heads.py). Every kind of
head comes back as it went in (those that fit no record pickled); HitHeadCodec's segments
are still read, alone and beside new ones, and merged into the new format."""

from __future__ import annotations

import io
import pickle

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh.filedb.compound import BufferFile
from whoosh.filedb.structfile import StructFile
from whoosh.index import open_dir

from indexer.cli import main
from search import get_article, open_index, search
from search.whoosh.layout import current_build
from search.whoosh.private import heads as heads_module
from search.whoosh.private.codec import (
    HIT_HEAD,
    HitHeadCodec,
    PlainHeadCodec,
    StoredFields,
)
from search.whoosh.private.heads import (
    HeadColumn,
    HeadReader,
    Names,
    encode_head,
    hit_fields,
)
from search.whoosh.private.mapped import MappedFile

HEADS = [
    {"authors": [], "id": "legi-1", "published": "2022-05-11",
     "section": "Livre Ier : Des personnes > Titre Ier bis : De la nationalité française",
     "title": "Code civil — Article 17-1"},
    {"authors": [], "id": "legi-2", "published": "2022-05-11",
     "section": "Livre Ier : Des personnes > Titre II : Des actes", "title": "Article 34"},
    {"authors": ["Jean-Luc Moreau", "Zoé d’Aubigné, envoyée spéciale"], "id": "t-haifa",
     "published": "2024-01-07T10:15:00+01:00", "section": "International",
     "title": "Une attaque vise le port de Haïfa",
     "url": "https://journal.example/monde/haifa?a=1&b=2"},
    {"id": "no-url-no-date", "title": "Sans adresse", "authors": []},  # no url, no date
    {"id": "only-id"},
    {"title": ""},  # no id
    {"id": "", "url": "", "title": "", "published": "", "section": "", "authors": [""]},
    {"id": "sep", "title": "a\x1fb,c > d", "section": "a > b > ", "authors": ["x > y", ","]},
    {"id": "sep2", "section": " > ", "authors": [" > a", "a >  > b"]},
    {"id": "deep", "section": " > ".join(f"niveau {n}" for n in range(2000))},
    {"id": "emoji 🐟", "title": "𝔉𝔲𝔯𝔢𝔱 \u2028 ligne\nnouvelle\r", "section": "Économie"},
    # Heads no record holds: pickled, and read back as they were.
    {"id": "nul\x00inside", "title": "t"},
    {"id": "nul-title", "title": "a\x00b"},
    {"id": "none-date", "published": None},
    {"id": "tuple-authors", "authors": ("a", "b")},
    {"id": "int-author", "authors": ["a", 3]},
    {"id": "section-number", "section": 12},
    {"id": "more", "hash": "abc"},  # a field outside the head
    {"id": "bytes", "title": b"t"},
    {"id": "surrogate", "title": "a\ud800b"},  # UTF-8 holds no lone surrogate
    {"id": "surrogate-section", "section": "x\udcff", "title": "t"},
    {"id": "surrogate-author", "authors": ["ok", "\ud83d"]},
]


def _written(heads: list[dict], *, many: bool) -> bytes:
    buffer = io.BytesIO()
    writer = HeadColumn().writer(StructFile(buffer))
    docnums = list(range(0, 2 * len(heads), 2))  # every other document without a head
    if many:
        writer.add_many(docnums, heads)
    else:
        for docnum, head in zip(docnums, heads, strict=True):
            writer.add(docnum, head)
    writer.finish(2 * len(heads) + 3)
    return buffer.getvalue()


def _reader(data: bytes, count: int, *, mapped: bool) -> HeadReader:
    dbfile = MappedFile(memoryview(data)) if mapped else BufferFile(data)
    reader = HeadColumn().reader(dbfile, 0, len(data), count)
    assert isinstance(reader, HeadReader)
    return reader


def _raw(reader: HeadReader, docnum: int) -> bytes:
    start, length = reader._offsets[docnum], reader._lengths[docnum]
    return bytes(reader._dbfile.get(reader._basepos + start, length))


@pytest.mark.parametrize("mapped", [True, False])
def test_every_kind_of_head_comes_back_as_it_went_in(mapped):
    data = _written(HEADS, many=False)
    assert data == _written(HEADS, many=True)  # `add_many` writes what `add` does
    count = 2 * len(HEADS) + 3
    reader = _reader(data, count, mapped=mapped)
    read = [reader[docnum] for docnum in range(count)]
    assert read[::2][:len(HEADS)] == HEADS
    assert [type(h.get("authors")) for h in read[::2][:len(HEADS)]] == \
        [type(h.get("authors")) for h in HEADS]
    assert read[1::2] == [None] * (len(HEADS) + 1)  # none: None, as Whoosh's columns give
    assert list(reader) == read
    # What a hit shows of each, read without the dict: as `hit_fields` of the dict.
    for head, docnum in zip(HEADS, range(0, 2 * len(HEADS), 2), strict=True):
        raw = _raw(reader, docnum)
        if "id" in head:
            assert reader.hit(raw) == hit_fields(head)
        else:
            with pytest.raises(KeyError):
                reader.hit(raw)
    for head, docnum in zip(HEADS, range(0, 2 * len(HEADS), 2), strict=True):
        if encode_head(head, Names())[0] != 0x80:  # a record: its fields in Whoosh's order
            assert list(reader[docnum]) == sorted(head)


def test_records_are_plain_and_the_rest_pickled():
    names = Names()
    record = encode_head(HEADS[0], names)
    assert record[0] != 0x80 and record.decode("utf-8").count("\0") == 6
    assert "Livre Ier" not in record.decode("utf-8")  # the section is a number
    for head in HEADS[-11:]:
        assert pickle.loads(encode_head(head, names)) == head
    # A name's bytes shared with its base are stored once: a chapter of the first
    # section's title starts with all of it.
    encode_head({"id": "x", "section": HEADS[0]["section"] + " > Chapitre Ier : Généralités"},
                names)
    table = names.to_bytes()
    assert table.count(b"Titre Ier bis") == 1 and b" > Chapitre Ier : G" in table


@pytest.mark.parametrize("mapped", [True, False])
def test_names_sharing_bytes_with_their_base_read_back(mapped):
    """Names sorted next to each other share their first bytes with a base (cut back to a
    character's start: "é" and "è" share a first byte), others are whole."""
    sections = ["Économie", "Économie > Entreprises", "Économie > Entreprises > PME",
                "Écologie", "Èbre", "É", "", "Z" * 300, "Y" * 200 + "é", "Y" * 200 + "è",
                "Monde > Europe", "Monde > Europe > France", "Monde > Asie", "a", "b"]
    heads = [{"id": str(n), "section": section, "authors": sections[-n - 1:]}
             for n, section in enumerate(sections)]
    count = 2 * len(heads) + 3
    reader = _reader(_written(heads, many=True), count, mapped=mapped)
    assert [reader[d] for d in range(0, 2 * len(heads), 2)] == heads
    assert any(reader._bases[n] != n for n in range(len(reader._bases)))
    assert [reader.read(n) for n in range(len(reader._bases))] == list(dict.fromkeys(
        name for head in heads for name in (head["section"], *head["authors"])))


def test_names_read_back_when_more_are_asked_than_kept(monkeypatch):
    monkeypatch.setattr(heads_module, "NAMES_KEPT", 3)
    heads = [{"id": str(n), "section": f"livre > titre {n % 7}", "authors": [f"a{n % 5}"]}
             for n in range(40)]
    reader = _reader(_written(heads, many=True), 83, mapped=True)
    assert [reader[d] for d in range(0, 80, 2)] == heads
    assert len(reader.names) <= 3


@settings(max_examples=150, deadline=None)
@given(st.lists(st.fixed_dictionaries({}, optional={
    "id": st.text(), "url": st.text(), "title": st.text(),
    "published": st.one_of(st.none(), st.text()),
    "section": st.one_of(st.text(), st.sampled_from(["a > b", "a > b > c", " > ", "a > "])),
    "authors": st.lists(st.text(max_size=8), max_size=3)}), max_size=12))
def test_any_head_round_trips(heads):
    count = 2 * len(heads) + 3
    for mapped in (True, False):
        reader = _reader(_written(heads, many=True), count, mapped=mapped)
        assert [reader[d] for d in range(0, 2 * len(heads), 2)] == \
            [head or None for head in heads]
        assert [reader.hit(_raw(reader, 2 * n)) for n, head in enumerate(heads)
                if "id" in head] == [hit_fields(head) for head in heads if "id" in head]


def test_an_unknown_version_is_refused():
    data = bytearray(_written(HEADS[:2], many=True))
    data[-1] = 99
    with pytest.raises(ValueError, match="version 99"):
        _reader(bytes(data), 7, mapped=True)


def _build(folder, articles, *, codec=None, monkeypatch=None):
    if codec is not None:
        monkeypatch.setattr("search.whoosh.private.writing.PlainHeadCodec", codec)
    result = CliRunner().invoke(main, ["build", str(articles), "--index-dir", str(folder),
                                       "--jobs", "1"])
    assert result.exit_code == 0, result.output
    if codec is not None:
        monkeypatch.undo()
    return folder


def _stored(folder) -> dict[str, dict]:
    with open_dir(str(current_build(folder))).searcher() as searcher:
        return {fields["id"]: fields for fields in searcher.all_stored_fields()}


def _check_heads(folder) -> set[type]:
    """Each document's heads as Furet reads them (from the map and not) against Whoosh's
    every field; the segments' codecs."""
    index = open_index(folder)
    try:
        with index.view() as generation:
            searcher = generation.searcher
            reader = searcher.reader()
            count = reader.doc_count_all()
            live = [d for d in range(count) if not reader.is_deleted(d)]
            whole = {d: searcher.stored_fields(d) for d in live}
            shown = {d: {k: v for k, v in fields.items() if k in HIT_HEAD}
                     for d, fields in whole.items()}
            for stored in (generation.stored, StoredFields(reader)):
                assert stored.heads(live) == [shown[d] for d in live]
                assert stored.hit_heads(live) == [hit_fields(shown[d]) for d in live]
                for d in live:
                    assert stored.head(d) == shown[d]
                    assert stored.whole(d) == whole[d]
                    assert stored.with_texts(d) == {
                        k: v for k, v in whole[d].items() if k in HIT_HEAD or k in
                        ("lead", "body")}
            assert all(generation.stored._columns(d)[2] for d in live)  # read from the map
            return {type(leaf.codec()) for leaf, _ in reader.leaf_readers()}
    finally:
        index.close()


def test_new_segments_answer_as_hit_head_codecs_did(tmp_path, articles, monkeypatch):
    new = _build(tmp_path / "new", articles)
    before = _build(tmp_path / "before", articles, codec=HitHeadCodec,
                    monkeypatch=monkeypatch)
    assert _check_heads(new) == {PlainHeadCodec}
    assert _check_heads(before) == {HitHeadCodec}
    ours, theirs = _stored(new), _stored(before)
    assert ours.keys() == theirs.keys()
    for article_id, fields in ours.items():
        assert {**fields, "path": ""} == {**theirs[article_id], "path": ""}
    for folder in (new, before):
        index = open_index(folder)
        try:
            answers = [search(index, q, snippets=s).to_json() | {"took_ms": 0}
                       for q in ("haifa", "port", "œuvre", "\"port de\"") for s in (False, True)]
        finally:
            index.close()
        if folder == new:
            expected = answers
    assert answers == expected


def test_an_index_of_both_formats_reads_and_merges(tmp_path, articles, monkeypatch):
    index_dir = _build(tmp_path / "index", articles, codec=HitHeadCodec,
                       monkeypatch=monkeypatch)
    first = _stored(index_dir)
    _add_unmerged(index_dir, articles, monkeypatch,
                  '{"id": "n-neuf", "title": "Nouveau port", "lead": "Un chapeau.", '
                  '"body": "Texte neuf sur le port de Haïfa.", '
                  '"section": "Monde > Proche-Orient", "authors": ["Anne Dupré"], '
                  '"url": "https://journal.example/n"}')
    assert _check_heads(index_dir) == {HitHeadCodec, PlainHeadCodec}
    after = _stored(index_dir)
    assert after.keys() == first.keys() | {"n-neuf"}
    assert all(after[article_id] == fields for article_id, fields in first.items())
    index = open_index(index_dir)
    try:
        hits = {h.id: h for h in search(index, "haifa", snippets=False).hits}
        assert {"t-haifa", "n-neuf"} <= set(hits)
        assert (hits["n-neuf"].section, hits["n-neuf"].authors, hits["n-neuf"].url) == \
            ("Monde > Proche-Orient", ["Anne Dupré"], "https://journal.example/n")
        assert hits["t-haifa"].authors == ["Jean-Luc Moreau"]
        assert get_article(index, "n-neuf").lead == "Un chapeau."
    finally:
        index.close()
    # Merged: every segment rewritten in the new format, every field kept.
    from search.whoosh.private import SegmentWriter

    ix = open_dir(str(current_build(index_dir)))
    SegmentWriter(ix).commit(optimize=True)
    assert _check_heads(index_dir) == {PlainHeadCodec}
    assert _stored(index_dir) == after


def test_a_page_reads_each_plain_segment_as_the_pages_before_did(tmp_path, articles,
                                                                  monkeypatch):
    """`hit_heads` and `heads` of pages in any order, over segments of both formats, give
    each document's head; how a PlainHeadCodec segment's heads are read is found once per
    segment (and kind of page), not once a page."""
    import random

    index_dir = _build(tmp_path / "index", articles, codec=HitHeadCodec,
                       monkeypatch=monkeypatch)
    _add_unmerged(index_dir, articles, monkeypatch,
                  '{"id": "n-neuf", "title": "Nouveau port", "body": "Texte neuf.", '
                  '"section": "Monde", "authors": ["Anne Dupré"]}')
    found = []
    original = StoredFields._plain_reader

    def counted(self, docnum, n, hits):
        found.append((n, hits))
        return original(self, docnum, n, hits)

    monkeypatch.setattr(StoredFields, "_plain_reader", counted)
    index = open_index(index_dir)
    try:
        with index.view() as generation:
            reader = generation.searcher.reader()
            codecs = [type(leaf.codec()) for leaf, _ in reader.leaf_readers()]
            assert set(codecs) == {HitHeadCodec, PlainHeadCodec}
            live = [d for d in range(reader.doc_count_all()) if not reader.is_deleted(d)]
            stored = StoredFields(reader)
            expected = {d: stored.head(d) for d in live}
            rng = random.Random(3)
            for _ in range(20):
                page = rng.sample(live, min(len(live), 7))
                assert stored.hit_heads(page) == [hit_fields(expected[d]) for d in page]
                assert stored.heads(page) == [expected[d] for d in page]
            assert sorted(found) == sorted({(n, hits) for n, hits in found})  # once each
            assert {n for n, _ in found} == set(range(len(codecs)))
    finally:
        index.close()


def _add_unmerged(index_dir, articles, monkeypatch, record: str) -> None:
    """`record` (JSON) added by `furet-index update` in a segment of its own (in the
    current format), the older segments kept as they are."""
    (articles / "neuf.json").write_text(record, "utf-8")
    from whoosh.writing import NO_MERGE

    monkeypatch.setattr("search.whoosh.writer.MERGE_SMALL", NO_MERGE)  # the old one kept
    result = CliRunner().invoke(main, ["update", str(articles), "--index-dir", str(index_dir)])
    monkeypatch.undo()
    assert result.exit_code == 0, result.output


def test_a_mapped_file_and_its_parts_say_where_their_bytes_are_in_the_map(tmp_path):
    """`MappedFile.origin()`: the map and where the file's bytes start in it, for a file
    mapped whole and for parts of parts of it (a compound segment's files): the map's
    slices there are the file's bytes; a file given its bytes has none."""
    from search.whoosh.private.mapped import open_mapped

    path = tmp_path / "segment.bin"
    data = bytes(range(256)) * 40
    path.write_bytes(data)
    whole = open_mapped(str(path), "segment.bin")
    try:
        part = whole.subset(1000, 5000)
        inner = part.subset(300, 200)
        for mapped, start, length in ((whole, 0, len(data)), (part, 1000, 5000),
                                      (inner, 1300, 200)):
            origin = mapped.origin()
            assert origin is not None and origin[1] == start
            assert bytes(mapped.buffer()) == data[start:start + length]
            assert origin[0][origin[1]:origin[1] + length] == data[start:start + length]
        assert MappedFile(memoryview(data)).origin() is None
    finally:
        part = inner = None
        whole.close()


def test_a_page_of_a_mapped_segment_decodes_bytes_sliced_from_the_map(tmp_path, articles,
                                                                     monkeypatch):
    """`hit_heads` and `heads` of a PlainHeadCodec segment read from its map decode each
    record from the map's own slice (bytes, not a view of the map), with the same heads
    as each document's `head`."""
    index_dir = _build(tmp_path / "index", articles, codec=PlainHeadCodec,
                       monkeypatch=monkeypatch)
    given = []
    hit, decode = HeadReader.hit, HeadReader.decode
    monkeypatch.setattr(HeadReader, "hit",
                        lambda self, raw: given.append(type(raw)) or hit(self, raw))
    monkeypatch.setattr(HeadReader, "decode",
                        lambda self, raw: given.append(type(raw)) or decode(self, raw))
    index = open_index(index_dir)
    try:
        with index.view() as generation:
            reader = generation.searcher.reader()
            live = [d for d in range(reader.doc_count_all()) if not reader.is_deleted(d)]
            stored = StoredFields(reader)
            expected = {d: stored.head(d) for d in live}
            given.clear()
            assert stored.hit_heads(live) == [hit_fields(expected[d]) for d in live]
            assert stored.heads(live) == [expected[d] for d in live]
            assert given and set(given) == {bytes}
    finally:
        index.close()
