"""A searcher sees an update at its next query, even when it checks the build folder by its
time only (a folder unchanged for a while is not listed at every query)."""

from __future__ import annotations

import os
import shutil
import sys
import time

import pytest
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


def _stats(monkeypatch) -> list[int]:
    """Counts the checks made by a stat through CURRENT."""
    from search.whoosh.backend import WhooshBackend

    made: list[int] = []
    original = WhooshBackend._stale_by_stat

    def counted(self):
        made.append(1)
        return original(self)

    monkeypatch.setattr(WhooshBackend, "_stale_by_stat", counted)
    return made


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify: Linux")
@pytest.mark.parametrize("change", ["update", "build"])
def test_watched_folders_spare_the_stat_and_still_see_a_change(tmp_path, articles,
                                                                monkeypatch, change):
    """Once a stat has found the generation current with every folder on the way watched,
    a search makes no stat until the watch notes a change: an update (a new generation in
    the same folder) or a build (CURRENT swapped) is seen by the next search."""
    index_dir, runner = built(tmp_path, articles)
    stats = _stats(monkeypatch)
    index = open_index(index_dir)
    for _ in range(3):  # opened; a stat, then the folders watched; a stat: trusted
        assert search(index, "nouveau").total == 0
    stats.clear()
    for _ in range(3):
        assert search(index, "nouveau").total == 0
    assert stats == []  # the watch noted nothing: no stat
    (articles / "new.json").write_text('{"id": "n", "title": "Nouveau", "body": "Texte."}')
    old = current_build(index_dir)
    assert runner.invoke(main, [change, str(articles), "--index-dir", str(index_dir)]
                         ).exit_code == 0
    assert (current_build(index_dir) == old) == (change == "update")
    assert [h.id for h in search(index, "nouveau").hits] == ["n"]
    assert stats  # the change noted: checked by a stat
    index.close()


def test_without_a_watch_every_search_makes_a_stat(tmp_path, articles, monkeypatch):
    from search.whoosh.file_watch import FileWatch

    monkeypatch.setattr(FileWatch, "open", classmethod(lambda cls: None))
    index_dir, runner = built(tmp_path, articles)
    stats = _stats(monkeypatch)
    index = open_index(index_dir)
    for _ in range(4):
        assert search(index, "nouveau").total == 0
    assert len(stats) >= 3
    (articles / "new.json").write_text('{"id": "n", "title": "Nouveau", "body": "Texte."}')
    assert runner.invoke(main, ["update", str(articles), "--index-dir", str(index_dir)]
                         ).exit_code == 0
    assert [h.id for h in search(index, "nouveau").hits] == ["n"]
    index.close()


def test_a_path_through_a_link_is_not_watched(tmp_path, articles, monkeypatch):
    """A link on the way (other than CURRENT) could be changed in a folder off the path: the
    stat is made at every search."""
    index_dir, runner = built(tmp_path, articles)
    (tmp_path / "via").symlink_to(index_dir)
    stats = _stats(monkeypatch)
    index = open_index(tmp_path / "via")
    for _ in range(5):
        assert search(index, "nouveau").total == 0
    assert len(stats) >= 4
    (articles / "new.json").write_text('{"id": "n", "title": "Nouveau", "body": "Texte."}')
    assert runner.invoke(main, ["update", str(articles), "--index-dir", str(index_dir)]
                         ).exit_code == 0
    assert [h.id for h in search(index, "nouveau").hits] == ["n"]
    index.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify: Linux")
def test_current_swapped_by_hand_is_seen_by_the_next_search(tmp_path, articles,
                                                            monkeypatch):
    """CURRENT named to another build folder by a link renamed over it, nothing written in
    either build: the index folder's watch notes it."""
    index_dir, _ = built(tmp_path, articles)
    first = current_build(index_dir)
    copy = first.parent / "copy"
    shutil.copytree(first, copy)
    index = open_index(index_dir)
    for _ in range(3):
        assert search(index, "nouveau").total == 0
    stats = _stats(monkeypatch)
    assert search(index, "nouveau").total == 0 and stats == []  # trusted
    os.symlink(os.path.relpath(copy, index_dir), index_dir / "next")
    os.replace(index_dir / "next", index_dir / "CURRENT")
    assert search(index, "nouveau").total == 0
    assert stats and index.current().build == copy  # noted, checked, opened
    index.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify: Linux")
def test_a_folder_above_the_index_replaced_is_seen(tmp_path, articles, monkeypatch):
    """The index folder's path leading elsewhere (a folder above it renamed, another put
    in its place): its parent's watch notes it, as the stat through the path would."""
    site = tmp_path / "site"
    site.mkdir()
    index_dir, runner = built(site, articles)
    index = open_index(index_dir)
    for _ in range(3):
        assert search(index, "nouveau").total == 0
    stats = _stats(monkeypatch)
    (articles / "new.json").write_text('{"id": "n", "title": "Nouveau", "body": "Texte."}')
    other = tmp_path / "other"
    other.mkdir()
    assert runner.invoke(main, ["build", str(articles), "--index-dir",
                                str(other / "index")]).exit_code == 0
    assert search(index, "nouveau").total == 0  # (checked: tmp_path changed)
    assert search(index, "nouveau").total == 0
    stats.clear()
    assert search(index, "nouveau").total == 0 and stats == []  # trusted again
    os.rename(site, tmp_path / "old")
    os.rename(other, site)
    assert [h.id for h in search(index, "nouveau").hits] == ["n"]
    index.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify: Linux")
def test_a_stat_is_made_every_second_all_the_same(tmp_path, articles, monkeypatch):
    """A change no watch here notes (another machine's, on a network share) is seen within
    FULL_CHECK_SECONDS."""
    from search.whoosh import backend as whoosh_backend
    from search.whoosh.layout import FULL_CHECK_SECONDS

    index_dir, _ = built(tmp_path, articles)
    index = open_index(index_dir)
    for _ in range(3):
        assert search(index, "nouveau").total == 0
    stats = _stats(monkeypatch)
    assert search(index, "nouveau").total == 0 and stats == []
    now = time.monotonic()
    monkeypatch.setattr(whoosh_backend.time, "monotonic", lambda: now + FULL_CHECK_SECONDS)
    assert search(index, "nouveau").total == 0 and stats == [1]
    assert search(index, "nouveau").total == 0 and stats == [1]  # then trusted again
    index.close()
