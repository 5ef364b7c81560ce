"""New segments store each article's lead and body apart from its other stored fields: a page
of results without snippets does not read them, Whoosh still returns every field, and
indexes whose segments hold them together (older versions) are read as before."""

from __future__ import annotations

import shutil

from click.testing import CliRunner
from whoosh.index import open_dir

from indexer.cli import main
from search import get_article, open_index, search
from search.whoosh.layout import current_build, open_build
from search.whoosh.private import StoredFields
from search.whoosh.private.codec import HIT_HEAD
from tests.conftest import DATA

HAIFA_BODY = "Selon les autorités, l’attaque contre Haïfa n’a pas fait de victimes."


def _build(tmp_path, source):
    index_dir = tmp_path / "index"
    result = CliRunner().invoke(main, ["build", str(source), "--index-dir", str(index_dir)])
    assert result.exit_code == 0, result.output
    return index_dir


def test_lead_and_body_are_read_only_when_asked_for(tmp_path, articles):
    index_dir = _build(tmp_path, articles)
    with open_dir(str(current_build(index_dir))).searcher() as searcher:
        docnum = searcher.document_number(id="t-haifa")
        stored = StoredFields(searcher.reader())
        head, whole = stored.head(docnum), stored.whole(docnum)
        assert "body" not in head and "lead" not in head
        assert head["title"] == "Une attaque vise le port de Haïfa"
        assert whole["body"].startswith(HAIFA_BODY)
        assert whole["lead"] == "La ville portuaire de Haïfa a été visée dimanche."
        # Plain Whoosh sees every field, as it always did.
        assert searcher.stored_fields(docnum) == whole
    index = open_index(index_dir)
    hit = search(index, "haifa").hits[0]
    assert "<mark>Haïfa</mark>" in hit.snippet_html
    bare = search(index, "haifa", snippets=False).hits[0]
    assert (bare.id, bare.title, bare.url, bare.published, bare.section, bare.authors) == (
        hit.id, hit.title, hit.url, hit.published, hit.section, hit.authors)
    assert get_article(index, "t-haifa").body.startswith(HAIFA_BODY)


def test_old_segments_and_new_ones_are_read_together(tmp_path, articles):
    index_dir = tmp_path / "index"
    shutil.copytree(DATA / "index-v1", index_dir, symlinks=True)  # all fields in one value
    (articles / "new.json").write_text(
        '{"id": "n", "title": "Nouveau", "lead": "Un chapeau.", "body": "Texte neuf sur Haïfa."}')
    result = CliRunner().invoke(main, ["update", str(articles), "--index-dir", str(index_dir)])
    assert result.exit_code == 0, result.output
    index = open_index(index_dir)
    hits = {h.id: h for h in search(index, "haifa").hits}
    assert set(hits) == {"t-haifa", "n"}
    assert "<mark>Haïfa</mark>" in hits["n"].snippet_html
    assert "<mark>Haïfa</mark>" in hits["t-haifa"].snippet_html
    assert get_article(index, "n").lead == "Un chapeau."
    assert get_article(index, "t-haifa").body.startswith(HAIFA_BODY)


def test_stored_fields_read_from_the_map_are_whooshs(samples_index, tmp_path, articles):
    """StoredFields reads new segments' columns straight from their mapped bytes: the same
    values as Whoosh's column readers, for every document (and old segments as before)."""
    index_dir = tmp_path / "old"
    shutil.copytree(DATA / "index-v1", index_dir, symlinks=True)
    (articles / "new.json").write_text('{"id": "n", "title": "Nouveau", "body": "Texte neuf."}')
    result = CliRunner().invoke(main, ["update", str(articles), "--index-dir", str(index_dir)])
    assert result.exit_code == 0, result.output
    for folder, new in ((samples_index, True), (index_dir, False)):
        with open_build(current_build(folder)).searcher() as searcher:
            reader = searcher.reader()
            stored = StoredFields(reader)
            count = reader.doc_count_all()
            for docnum in range(count):
                whole = searcher.stored_fields(docnum)
                assert stored.whole(docnum) == whole
                head = stored.head(docnum)
                stripped = {k: v for k, v in whole.items() if k not in ("lead", "body")}
                shown = {k: v for k, v in whole.items() if k in HIT_HEAD}
                assert set(shown) >= {"id", "title"} and len(shown) < len(stripped)
                # a new segment's head is what a hit shows, an old segment's every field
                # (or every field but the texts)
                assert head == shown if new else head in (shown, stripped, whole)
            assert count > 3
            # every segment of a new index is read from the map; not an old one's
            assert all(stored._mapped) == new


def test_heads_of_a_page_are_head_of_each(samples_index, tmp_path, articles):
    """`heads` (a page read in one loop) gives `head` of each document, in the order asked,
    repeats too: in a new index (read from the map) and in one whose older segments are
    not (read as before), and in a new index of several segments."""
    index_dir = tmp_path / "old"
    shutil.copytree(DATA / "index-v1", index_dir, symlinks=True)
    (articles / "new.json").write_text('{"id": "n", "title": "Nouveau", "body": "Texte neuf."}')
    result = CliRunner().invoke(main, ["update", str(articles), "--index-dir", str(index_dir)])
    assert result.exit_code == 0, result.output
    several = tmp_path / "several"
    result = CliRunner().invoke(main, ["build", str(articles), "--index-dir", str(several),
                                       "--jobs", "2"])
    assert result.exit_code == 0, result.output
    for folder in (samples_index, index_dir, several):
        with open_build(current_build(folder)).searcher() as searcher:
            reader = searcher.reader()
            count = reader.doc_count_all()
            asked = [*range(count - 1, -1, -1), 0, count - 1, 0]
            expected = [StoredFields(reader).head(docnum) for docnum in asked]
            stored = StoredFields(reader)
            assert stored.heads(asked) == expected
            assert all(head["id"] for head in expected)
            assert stored.heads([]) == []
            assert stored.heads(asked[:1]) == expected[:1]
