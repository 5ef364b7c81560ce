"""The watch of the mapped segment files (search/whoosh/file_watch.py) and the shrink check
that reads every size only when it noted something (DurableFileStorage.check_mapped)."""

from __future__ import annotations

import os
import sys

import pytest

from search.errors import IndexCorruptError
from search.whoosh import file_watch, layout
from search.whoosh.file_watch import FileWatch
from search.whoosh.layout import DurableFileStorage
from search.whoosh.private import MappedFile

linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify: Linux")


def _files(tmp_path, *names: str) -> DurableFileStorage:
    for name in names:
        (tmp_path / name).write_bytes(b"x" * 100)
    return DurableFileStorage(str(tmp_path))


@pytest.fixture
def sizes_read(monkeypatch):
    """How many times a mapped file's size was read."""
    read = []
    original = MappedFile.shrunk

    def counted(self):
        read.append(self.name)
        return original(self)

    monkeypatch.setattr(MappedFile, "shrunk", counted)
    return read


@linux
def test_a_watch_tells_a_write_once(tmp_path):
    (tmp_path / "a.seg").write_bytes(b"x" * 100)
    watch = FileWatch.open()
    assert watch is not None and watch.add(str(tmp_path / "a.seg"))
    assert not watch.written()
    with open(tmp_path / "a.seg", "r+b") as f:
        f.truncate(10)
    assert watch.written()
    assert not watch.written()  # the news was read
    assert not watch.add(str(tmp_path / "missing.seg"))
    watch.close()
    assert watch.closed and watch.written()  # closed: always "maybe written"


@linux
def test_the_sizes_are_read_only_after_news(tmp_path, sizes_read):
    storage = _files(tmp_path, "a.seg", "b.seg")
    first, second = storage.open_file("a.seg"), storage.open_file("b.seg")
    storage.check_mapped()  # the first check reads them all (and starts watching)
    assert sorted(sizes_read) == ["a.seg", "b.seg"]
    sizes_read.clear()
    for _ in range(3):
        storage.check_mapped()
    assert sizes_read == []  # nothing written: one read of the watch each
    with open(tmp_path / "b.seg", "r+b") as f:
        f.truncate(50)
    with pytest.raises(IndexCorruptError, match="shrank from 100 to 50"):
        storage.check_mapped()
    with pytest.raises(IndexCorruptError, match="shrank from 100 to 50"):
        storage.check_mapped()  # the news was read, the failed check is made again
    second.close()
    storage.check_mapped()  # a closed map is no longer read
    sizes_read.clear()
    storage.check_mapped()
    assert sizes_read == []
    (tmp_path / "c.seg").write_bytes(b"z" * 10)
    third = storage.open_file("c.seg")
    storage.check_mapped()  # a file mapped since: every size read, the new one watched
    assert {"a.seg", "c.seg"} <= set(sizes_read)
    sizes_read.clear()
    with open(tmp_path / "c.seg", "r+b") as f:
        f.truncate(5)
    with pytest.raises(IndexCorruptError, match="shrank from 10 to 5"):
        storage.check_mapped()
    first.close()
    third.close()
    storage.stop_watching()


@linux
def test_the_sizes_are_read_every_second_all_the_same(tmp_path, sizes_read, monkeypatch):
    storage = _files(tmp_path, "a.seg")
    mapped = storage.open_file("a.seg")
    storage.check_mapped()
    sizes_read.clear()
    storage.check_mapped()
    assert sizes_read == []
    now = layout.time.monotonic()
    monkeypatch.setattr(layout.time, "monotonic", lambda: now + layout.FULL_CHECK_SECONDS)
    storage.check_mapped()
    assert sizes_read == ["a.seg"]
    mapped.close()
    storage.stop_watching()


@pytest.mark.parametrize("refused", ["instance", "watch"])
def test_without_a_watch_every_check_reads_every_size(tmp_path, sizes_read, monkeypatch,
                                                        refused):
    if refused == "instance":
        monkeypatch.setattr(FileWatch, "open", classmethod(lambda cls: None))
    else:
        monkeypatch.setattr(FileWatch, "add", lambda self, path: False)
    storage = _files(tmp_path, "a.seg")
    mapped = storage.open_file("a.seg")
    for _ in range(3):
        storage.check_mapped()
    assert sizes_read == ["a.seg"] * 3
    with open(tmp_path / "a.seg", "r+b") as f:
        f.truncate(50)
    with pytest.raises(IndexCorruptError, match="shrank from 100 to 50"):
        storage.check_mapped()
    mapped.close()


@linux
@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork")
def test_a_forked_child_watches_for_itself(tmp_path):
    storage = _files(tmp_path, "a.seg")
    mapped = storage.open_file("a.seg")
    storage.check_mapped()  # the parent watches
    pid = os.fork()
    if pid == 0:  # the child: the parent's watch closed, its own opened at its check
        code = 1
        try:
            storage.check_mapped()
            with open(tmp_path / "a.seg", "r+b") as f:
                f.truncate(50)
            try:
                storage.check_mapped()
            except IndexCorruptError:
                code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    with pytest.raises(IndexCorruptError, match="shrank from 100 to 50"):
        storage.check_mapped()  # the parent's own watch noted it too
    mapped.close()
    storage.stop_watching()


@linux
def test_a_closed_generation_stops_watching(tmp_path, monkeypatch):
    from search.whoosh import backend as whoosh_backend
    from tests.conftest import SAMPLES
    from tests.indexing import build

    closed = []
    monkeypatch.setattr(FileWatch, "close",
                        lambda self, original=FileWatch.close: (closed.append(self),
                                                                original(self))[1])
    build(tmp_path / "index", [SAMPLES])
    backend = whoosh_backend.WhooshBackend(tmp_path / "index")
    assert backend.search("attaque", facets=False).total >= 0
    watch = backend.current().storage._watch
    assert watch is not None and not watch.closed
    backend.close()
    assert watch in closed and watch.closed
    assert watch not in set(file_watch._OPEN)
