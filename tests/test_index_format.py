"""An index written by this version of Furet keeps opening in later versions.

tests/data/index-v1 was written by `furet-index build tests/data/articles` with schema
version 1. Whoosh pickles the schema, with Furet's analyzer and field classes, into the
index: if a class moved or was renamed, opening it would fail. Never regenerate this folder
to make the test pass; add a new one next to it when the schema version changes.
"""

from __future__ import annotations

import shutil

import pytest
from click.testing import CliRunner

from indexer.cli import main
from search import get_article, open_index, search
from tests.conftest import DATA


def test_an_index_written_by_schema_version_1_opens_and_searches(tmp_path):
    index_dir = tmp_path / "index"
    shutil.copytree(DATA / "index-v1", index_dir, symlinks=True)
    index = open_index(index_dir)
    results = search(index, "haifa")
    assert [h.id for h in results.hits] == ["t-haifa"]
    assert "<mark>Haïfa</mark>" in results.hits[0].snippet_html
    assert [h.id for h in search(index, '"bande de gaza"').hits] == ["t-gaza"]
    assert get_article(index, "t-oeuvre").title == "Le chef-d’œuvre retrouvé"
    assert index.stats()["documents"] == 4


def test_an_old_index_can_be_updated_and_checked(tmp_path):
    index_dir = tmp_path / "index"
    shutil.copytree(DATA / "index-v1", index_dir, symlinks=True)
    src = tmp_path / "src"
    shutil.copytree(DATA / "articles", src)
    (src / "new.json").write_text('{"id": "n", "title": "Nouveau", "body": "Texte neuf."}')
    runner = CliRunner()
    result = runner.invoke(main, ["update", str(src), "--index-dir", str(index_dir)])
    assert result.exit_code == 0, result.output
    # The manifest of the old build is read: the articles moved folder, none changed.
    assert result.stdout.startswith("added 1, updated 0, unchanged 4, deleted 0, rejected 0")
    assert runner.invoke(main, ["check", "--index-dir", str(index_dir)]).exit_code == 0


def test_a_segment_without_flat_postings_is_a_damaged_index(tmp_path):
    """Every segment Furet writes has flat postings; one written by plain Whoosh has none,
    and is refused with what to do, never searched another way."""
    from whoosh.index import open_dir

    from search import IndexCorruptError
    from search.whoosh.layout import current_build

    index_dir = tmp_path / "index"
    shutil.copytree(DATA / "index-v1", index_dir, symlinks=True)
    ix = open_dir(str(current_build(index_dir)))
    writer = ix.writer()
    writer.add_document(id="plain", title="Écrit par Whoosh seul")
    writer.commit(merge=False)
    with pytest.raises(IndexCorruptError, match=r"no flat postings .*furet-index build"):
        open_index(index_dir)
    result = CliRunner().invoke(main, ["check", "--index-dir", str(index_dir)])
    assert result.exit_code == 1 and "no flat postings" in result.stderr


def test_another_whoosh_version_is_refused_saying_which(tmp_path, monkeypatch):
    """Furet reads and writes Whoosh's files through its private API: only the version it
    was written for is used, and a command says so (exit 2: a setting to fix)."""
    import whoosh

    from search import ConfigurationError

    index_dir = tmp_path / "index"
    shutil.copytree(DATA / "index-v1", index_dir, symlinks=True)
    monkeypatch.setattr(whoosh, "versionstring", lambda: "2.8.0")
    with pytest.raises(ConfigurationError, match=r"whoosh-reloaded 2\.8\.0 is installed.*2\.7\.5"):
        open_index(index_dir)
    result = CliRunner().invoke(main, ["status", "--index-dir", str(index_dir)])
    assert result.exit_code == 2 and "whoosh-reloaded==2.7.5" in result.stderr
