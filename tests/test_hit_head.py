"""HitHeadCodec (and PlainHeadCodec since, its head stored plain): a segment's stored
fields but the texts split in two columns, those a result shows (the head, HIT_HEAD) and
the others (MORE_COLUMN). Whoosh still reads every field, a page reads the head alone,
and segments of the codec before (ZstdCodec, one head of every field but the texts) are
read and merged as before."""

from __future__ import annotations

from click.testing import CliRunner
from whoosh.index import open_dir

from indexer.cli import main
from search import get_article, open_index, search
from search.whoosh.layout import current_build
from search.whoosh.private.codec import (
    HIT_HEAD,
    MORE_COLUMN,
    PlainHeadCodec,
    StoredFields,
    ZstdCodec,
)

QUERIES = ("haifa", "port", "œuvre", "attaque port", "\"port de\"")


def _build(folder, articles, *, codec=None, monkeypatch=None, jobs="1"):
    if codec is not None:
        monkeypatch.setattr("search.whoosh.private.writing.PlainHeadCodec", codec)
    result = CliRunner().invoke(main, ["build", str(articles), "--index-dir", str(folder),
                                       "--jobs", jobs])
    assert result.exit_code == 0, result.output
    if codec is not None:
        monkeypatch.undo()
    return folder


def _stored(folder) -> dict[str, dict]:
    """Every article's stored fields as Whoosh's own searcher reads them, by id."""
    with open_dir(str(current_build(folder))).searcher() as searcher:
        return {fields["id"]: fields for fields in searcher.all_stored_fields()}


def _answers(folder) -> list:
    index = open_index(folder)
    try:
        return [search(index, query, snippets=snippets).to_json() | {"took_ms": 0}
                for query in QUERIES for snippets in (False, True)]
    finally:
        index.close()


def test_the_head_holds_what_a_hit_shows_and_whoosh_every_field(tmp_path, articles,
                                                                monkeypatch):
    new = _build(tmp_path / "new", articles)
    before = _build(tmp_path / "before", articles, codec=ZstdCodec, monkeypatch=monkeypatch)
    with open_dir(str(current_build(new))).searcher() as searcher:
        reader = searcher.reader()
        assert all(type(leaf.codec()) is PlainHeadCodec for leaf, _ in reader.leaf_readers())
        assert all(leaf._perdoc.has_column(MORE_COLUMN) for leaf, _ in reader.leaf_readers())
        stored = StoredFields(reader)
        count = reader.doc_count_all()
        for docnum in range(count):
            whole = searcher.stored_fields(docnum)
            head = stored.head(docnum)
            assert head == {k: v for k, v in whole.items() if k in HIT_HEAD}
            assert stored.whole(docnum) == whole
            assert {"hash", "path"} <= whole.keys()  # from the other column
            assert not {"hash", "path", "lead", "body"} & head.keys()
        assert stored.heads(range(count)) == [stored.head(d) for d in range(count)]
    with open_dir(str(current_build(before))).searcher() as searcher:
        assert all(type(leaf.codec()) is ZstdCodec
                   for leaf, _ in searcher.reader().leaf_readers())
    # the same stored fields (but `path`, the source file's place) and the same answers
    ours, theirs = _stored(new), _stored(before)
    assert ours.keys() == theirs.keys()
    for article_id, fields in ours.items():
        assert {**fields, "path": ""} == {**theirs[article_id], "path": ""}
    assert _answers(new) == _answers(before)
    index = open_index(new)
    assert get_article(index, "t-oeuvre").lead.startswith("Une œuvre majeure réapparaît")
    index.close()


def test_two_processes_write_what_one_does(tmp_path, articles):
    one = _stored(_build(tmp_path / "one", articles))
    two = _stored(_build(tmp_path / "two", articles, jobs="2"))
    assert one == two


def test_zstd_codec_segments_are_read_updated_and_merged(tmp_path, articles, monkeypatch):
    index_dir = _build(tmp_path / "index", articles, codec=ZstdCodec,
                       monkeypatch=monkeypatch)
    first = _stored(index_dir)
    (articles / "neuf.json").write_text(
        '{"id": "n-neuf", "title": "Nouveau port", "lead": "Un chapeau.", '
        '"body": "Texte neuf sur le port de Haïfa.", "section": "Monde"}')
    result = CliRunner().invoke(main, ["update", str(articles), "--index-dir", str(index_dir)])
    assert result.exit_code == 0, result.output
    with open_dir(str(current_build(index_dir))).searcher() as searcher:
        reader = searcher.reader()
        codecs = {type(leaf.codec()) for leaf, _ in reader.leaf_readers()}
        assert PlainHeadCodec in codecs  # the update's segment (old ones merged into it)
        stored = StoredFields(reader)
        for docnum in range(reader.doc_count_all()):
            if reader.is_deleted(docnum):
                continue
            whole = searcher.stored_fields(docnum)
            assert stored.whole(docnum) == whole
            assert stored.head(docnum).items() >= \
                {k: v for k, v in whole.items() if k in HIT_HEAD}.items()
    after = _stored(index_dir)
    assert after.keys() == first.keys() | {"n-neuf"}
    for article_id, fields in first.items():
        assert after[article_id] == fields
    assert after["n-neuf"]["section"] == "Monde" and "hash" in after["n-neuf"]
    index = open_index(index_dir)
    hits = {h.id: h for h in search(index, "haifa", snippets=False).hits}
    assert {"t-haifa", "n-neuf"} <= set(hits)
    assert hits["n-neuf"].title == "Nouveau port" and hits["n-neuf"].section == "Monde"
    assert get_article(index, "n-neuf").lead == "Un chapeau."
    index.close()


def test_a_segment_of_both_codecs_merged_keeps_every_field(tmp_path, articles, monkeypatch):
    """Whoosh merging segments of either codec into a new one (its own per-document copy
    of each stored field, `add_field` a field at a time) splits them as a build does."""
    index_dir = _build(tmp_path / "index", articles, codec=ZstdCodec,
                       monkeypatch=monkeypatch)
    first = _stored(index_dir)
    ix = open_dir(str(current_build(index_dir)))
    from search.whoosh.private import SegmentWriter

    writer = SegmentWriter(ix)
    writer.commit(optimize=True)  # every segment rewritten into one
    with ix.searcher() as searcher:
        reader = searcher.reader()
        assert [type(leaf.codec()) for leaf, _ in reader.leaf_readers()] == [PlainHeadCodec]
        assert {fields["id"]: fields for fields in searcher.all_stored_fields()} == first
        stored = StoredFields(reader)
        for docnum in range(reader.doc_count_all()):
            assert set(stored.head(docnum)) <= HIT_HEAD


def test_a_hit_with_a_snippet_reads_the_head_and_the_texts(tmp_path, articles, monkeypatch):
    """`with_texts`: the head and the lead and body (not the other fields), from the map
    (Furet's storage) and without it (Whoosh's own), new segments and ZstdCodec's."""
    new = _build(tmp_path / "new", articles)
    before = _build(tmp_path / "before", articles, codec=ZstdCodec, monkeypatch=monkeypatch)
    for folder, split in ((new, True), (before, False)):
        index = open_index(folder)
        with index.view() as generation:
            reader = generation.searcher.reader()
            stored = generation.stored
            assert all(stored._columns(d)[2] for d in range(reader.doc_count_all()))
            for docnum in range(reader.doc_count_all()):
                whole = generation.searcher.stored_fields(docnum)
                shown = {k: v for k, v in whole.items()
                         if k in HIT_HEAD or k in ("lead", "body") or not split}
                assert stored.with_texts(docnum) == shown
                assert "body" in shown or "lead" in shown
        index.close()
        with open_dir(str(current_build(folder))).searcher() as searcher:  # not mapped
            stored = StoredFields(searcher.reader())
            for docnum in range(searcher.doc_count_all()):
                whole = searcher.stored_fields(docnum)
                assert stored.with_texts(docnum) == {
                    k: v for k, v in whole.items()
                    if k in HIT_HEAD or k in ("lead", "body") or not split}
            assert not any(stored._mapped)


def test_completions_read_titles_and_texts_as_a_page_does(tmp_path, articles):
    """Completing a title reads the heads (`StoredFields.heads`) and a word read back from
    a text reads head and texts (`with_texts`): what Whoosh's every field gave."""
    from search.snippets import Terms, find_matches

    index = open_index(_build(tmp_path / "index", articles))
    with index.view() as generation:
        vocabulary = generation.vocabulary()
        searcher = generation.searcher
        docs = vocabulary.evaluator.term_docs(
            "title_exact", list(vocabulary._starting("title_exact", "port")))
        expected = [(fields["id"], fields.get("title") or "")
                    for fields in map(searcher.stored_fields, docs[:5].tolist())]
        assert expected and vocabulary.titles([], "port", 5) == expected
        terms = Terms(exact=frozenset(["port"]))
        first = searcher.stored_fields(int(docs[0]))
        texts = (first.get("title", ""), first.get("lead", ""), first.get("body", ""))
        start, end = next(spans[0] for spans in (find_matches(t, terms) for t in texts)
                          if spans)
        shown = next(t for t in texts if find_matches(t, terms))
        assert vocabulary._read_back(docs, terms) == shown[start:end].lower()
    index.close()


def test_pages_read_in_threads_at_once_are_each_threads_own(tmp_path, articles):
    """`heads` binds the calling thread's decompressor: pages read by several threads at
    once (a threaded server) get the heads one thread alone gets."""
    import threading

    index = open_index(_build(tmp_path / "index", articles, jobs="2"))
    with index.view() as generation:
        stored = generation.stored
        count = generation.searcher.doc_count_all()
        pages = [[(n * 7 + k) % count for k in range(10)] for n in range(40)]
        expected = [[stored.head(d) for d in page] for page in pages]
        wrong = []

        def read(offset: int) -> None:
            for _ in range(20):
                for n in range(offset, len(pages), 3):
                    if stored.heads(pages[n]) != expected[n]:
                        wrong.append(n)

        threads = [threading.Thread(target=read, args=(k,)) for k in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert wrong == []
    index.close()
