"""A searcher sees an update at its next query, even when it checks the build folder by its
time only (a folder unchanged for a while is not listed at every query)."""

from __future__ import annotations

import os
import time

from click.testing import CliRunner

from indexer.cli import main
from search import open_index, search
from search.whoosh.layout import current_build


def test_an_update_is_seen_after_quiet_queries(tmp_path, articles):
    index_dir = tmp_path / "index"
    runner = CliRunner()
    assert runner.invoke(main, ["build", str(articles), "--index-dir", str(index_dir)]
                         ).exit_code == 0
    build = current_build(index_dir)
    past = time.time() - 60
    os.utime(build, (past, past))  # a folder left alone for a minute
    index = open_index(index_dir)
    assert search(index, "nouveau").total == 0
    assert index._quiet_mtime == os.stat(build).st_mtime_ns  # now checked by its time only
    assert search(index, "nouveau").total == 0
    (articles / "new.json").write_text('{"id": "n", "title": "Nouveau", "body": "Texte."}')
    assert runner.invoke(main, ["update", str(articles), "--index-dir", str(index_dir)]
                         ).exit_code == 0
    assert current_build(index_dir) == build  # same folder, a new Whoosh generation
    assert [h.id for h in search(index, "nouveau").hits] == ["n"]
