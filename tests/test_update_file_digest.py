"""An update hashes a changed file once: a file of another size (or a new one) has changed
whatever its digest, which is made on another thread while its lines are read; a file of
the same size with a new time is hashed on that thread while its known lines are read from
the store, and skipped when its bytes are the same."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from pathlib import Path

import pytest

from indexer import sources
from search.errors import IndexWriteError
from tests.indexing import build, update


def _lines(tag: str = "") -> str:
    return "".join(json.dumps({"id": f"a{n}", "title": f"Titre {n}",
                               "text": f"Texte {n}{tag if n == 3 else ''}"}) + "\n"
                   for n in range(8))


def _recorded(index: Path, path: Path) -> str:
    (build_dir,) = [b for b in (index / "builds").iterdir() if (b / "LIVE").exists()]
    db = sqlite3.connect(build_dir / "manifest.sqlite")
    try:
        (digest,) = db.execute("SELECT digest FROM files WHERE path = ?",
                               (str(path).encode(),)).fetchone()
    finally:
        db.close()
    return digest


def _hashing_threads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    where: list[str] = []
    digest = sources.file_digest

    def noted(path: str) -> str:
        where.append(threading.current_thread().name)
        return digest(path)

    monkeypatch.setattr(sources, "file_digest", noted)
    monkeypatch.setattr("indexer.planner.file_digest", noted)
    return where


def test_a_file_of_another_size_is_hashed_once_while_it_is_read(tmp_path, monkeypatch):
    path, index = tmp_path / "a.jsonl", tmp_path / "index"
    path.write_text(_lines())
    build(index, [path], jobs=1)
    where = _hashing_threads(monkeypatch)
    path.write_text(_lines(" (mise à jour)"))
    report = update(index, [path])
    assert (report.updated, report.unchanged) == (1, 7)
    assert where == ["furet-file-digest"]
    assert _recorded(index, path) == hashlib.sha256(path.read_bytes()).hexdigest()[:32]
    new = tmp_path / "b.jsonl"  # a new file: hashed the same way
    new.write_text(_lines().replace('"a', '"b'))
    where.clear()
    assert update(index, [path, new]).added == 8
    assert where == ["furet-file-digest"]
    assert _recorded(index, new) == hashlib.sha256(new.read_bytes()).hexdigest()[:32]


def test_a_file_of_the_same_size_is_hashed_while_its_known_lines_are_read(tmp_path,
                                                                          monkeypatch):
    """A file of the same size with a new time is hashed on the digest's thread while its
    known lines are read from the store (on this one), before any of its lines is read;
    skipped when its bytes are the same."""
    from search.whoosh.writer import WhooshWriter

    path, index = tmp_path / "a.jsonl", tmp_path / "index"
    path.write_text(_lines())
    build(index, [path], jobs=1)
    where = _hashing_threads(monkeypatch)
    asked: list[str] = []
    known = WhooshWriter.known_line_table

    def noted(self, source: str) -> object:
        asked.append(threading.current_thread().name)
        return known(self, source)

    monkeypatch.setattr(WhooshWriter, "known_line_table", noted)
    path.write_text(_lines())  # the same bytes, a new time
    assert update(index, [path]).unchanged == 8
    assert asked == [threading.main_thread().name]  # read meanwhile, then dropped
    path.write_text(_lines().replace("Texte 3", "Texte 9"))  # the same size, changed
    report = update(index, [path])
    assert (report.updated, report.unchanged) == (1, 7)
    assert where == ["furet-file-digest"] * 2
    assert asked == [threading.main_thread().name] * 2  # once a run: not again to read
    assert _recorded(index, path) == hashlib.sha256(path.read_bytes()).hexdigest()[:32]


def test_a_digest_that_fails_fails_the_update(tmp_path, monkeypatch):
    path, index = tmp_path / "a.jsonl", tmp_path / "index"
    path.write_text(_lines())
    build(index, [path], jobs=1)

    def failing(path: str) -> str:
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr(sources, "file_digest", failing)
    path.write_text(_lines(" (mise à jour)"))
    with pytest.raises(IndexWriteError, match="Permission denied"):
        update(index, [path])
    monkeypatch.undo()
    report = update(index, [path])  # the failed run committed nothing
    assert (report.updated, report.unchanged) == (1, 7)
