"""An index written by this version of Furet keeps opening in later versions.

tests/data/index-v1 was written by `furet-index build tests/data/articles` with schema
version 1. Whoosh pickles the schema, with Furet's analyzer and field classes, into the
index: if a class moved or was renamed, opening it would fail. Never regenerate this folder
to make the test pass; add a new one next to it when the schema version changes.
"""

from __future__ import annotations

import shutil

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
