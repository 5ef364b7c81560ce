"""A searcher sees an update at its next query, even when it checks the build folder by its
time only (a folder unchanged for a while is not listed at every query)."""

from __future__ import annotations

import os
import time

from click.testing import CliRunner

from indexer.cli import main
from search import open_index, search
from search.whoosh.layout import current_build


def built(tmp_path, articles) -> tuple:
    """An index of `articles` built by `furet-index build`, and the runner that built it."""
    index_dir = tmp_path / "index"
    runner = CliRunner()
    assert runner.invoke(main, ["build", str(articles), "--index-dir", str(index_dir)]
                         ).exit_code == 0
    return index_dir, runner


def test_an_update_is_seen_after_quiet_queries(tmp_path, articles):
    index_dir, runner = built(tmp_path, articles)
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


def test_a_new_build_is_seen_even_with_the_old_folders_time(tmp_path, articles):
    """Another build named by CURRENT is told by its folder (device and inode), not by its
    time: with the new folder given the very time the old one was last seen with, the next
    query still opens it."""
    index_dir, runner = built(tmp_path, articles)
    old = current_build(index_dir)
    past = time.time_ns() - 60 * 10**9
    os.utime(old, ns=(past, past))
    index = open_index(index_dir)
    assert search(index, "nouveau").total == 0
    assert index._quiet_mtime == past  # checked by its time only
    (articles / "new.json").write_text('{"id": "n", "title": "Nouveau", "body": "Texte."}')
    assert runner.invoke(main, ["build", str(articles), "--index-dir", str(index_dir)]
                         ).exit_code == 0
    new = current_build(index_dir)
    assert new != old
    os.utime(new, ns=(past, past))  # the time the old folder was seen with
    os.utime(old, ns=(past, past))
    assert [h.id for h in search(index, "nouveau").hits] == ["n"]
    assert index.current().build == new


def test_a_generation_holds_its_build_folder_until_closed(tmp_path, articles):
    index_dir, _ = built(tmp_path, articles)
    index = open_index(index_dir)
    generation = index.current()
    found = os.stat(current_build(index_dir))
    assert generation.folder_id == (found.st_dev, found.st_ino)
    held = generation._folder_fd
    assert os.path.samestat(os.fstat(held), found)
    index.close()
    assert generation._folder_fd is None
    try:
        os.fstat(held)
    except OSError:
        pass
    else:  # the number may have been given to another file since, never to this folder
        assert not os.path.samestat(os.fstat(held), found)


def test_a_generation_that_fails_to_open_closes_its_folder(tmp_path, articles, monkeypatch):
    """A damaged generation is an IndexCorruptError whether it fails before the build folder
    is held open (its searcher) or after (its tables), and leaves no descriptor open."""
    import pytest

    from search.errors import IndexCorruptError
    from search.whoosh import backend as whoosh_backend
    from search.whoosh.layout import open_build

    index_dir, _ = built(tmp_path, articles)
    build = current_build(index_dir)

    def failing(*args, **kwargs):
        raise EOFError("Ran out of input")

    opened = len(os.listdir("/proc/self/fd"))
    for where in ("read_prepared", "StoredFields"):
        with monkeypatch.context() as patch:
            patch.setattr(whoosh_backend, where, failing)
            ix = open_build(build)
            with pytest.raises(IndexCorruptError):
                whoosh_backend.Generation(build, ix)
            ix.close()
    ix = open_build(build)
    with monkeypatch.context() as patch:
        patch.setattr(ix, "searcher", failing)  # before the folder is held open
        with pytest.raises(IndexCorruptError):
            whoosh_backend.Generation(build, ix)
    ix.close()
    assert len(os.listdir("/proc/self/fd")) == opened
