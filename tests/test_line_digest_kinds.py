"""The kind of a manifest's line digests: today's (XXH3) for a new manifest, BLAKE2b kept
for one written before, whose unchanged lines an update still finds without decoding
them (an upgrade reads nothing again)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from indexer import jsonfiles
from indexer.jsonfiles import blake2b_line_digest, line_digest
from search.known_lines import BLAKE2B_LINES, LINE_DIGEST
from search.whoosh.manifest import Manifest
from tests.indexing import build, opened_generation, update


def _line(n: int, tag: str = "") -> str:
    record = {"id": f"art-{n}", "title": f"Titre {n}", "text": f"Le texte {n} de la loi.{tag}"}
    return json.dumps(record, ensure_ascii=False) + "\n"


def _manifest(index: Path) -> sqlite3.Connection:
    (live,) = [b for b in (index / "builds").iterdir() if b.is_dir()]
    return sqlite3.connect(live / "manifest.sqlite")


def _lines(index: Path) -> set[tuple[bytes, str]]:
    with _manifest(index) as db:
        return set(db.execute("SELECT digest, id FROM lines"))


def _kind(index: Path) -> str | None:
    with _manifest(index) as db:
        row = db.execute("SELECT value FROM meta WHERE key = 'line_digest'").fetchone()
    return row[0] if row else None


def _stored(index: Path) -> list[tuple[str, str, str]]:
    with opened_generation(index) as found:
        return sorted((f["id"], f["hash"], f["title"]) for f in found.searcher.all_stored_fields())


def _expected(lines: list[str], digest) -> set[tuple[bytes, str]]:  # noqa: ANN001
    return {(digest(line.encode()), json.loads(line)["id"]) for line in lines}


def test_a_new_manifest_records_todays_digest(tmp_path):
    manifest = Manifest(tmp_path)
    assert manifest.get("line_digest") == LINE_DIGEST == manifest.line_digest_kind
    assert manifest.known_lines("a.jsonl", most=10).digest_kind == LINE_DIGEST
    assert manifest.own_lines("a.jsonl", fits=10).digest_kind == LINE_DIGEST
    assert manifest.own_lines("a.jsonl", fits=None).digest_kind == LINE_DIGEST
    manifest.close()


def test_a_manifest_of_blake2b_lines_keeps_them_until_it_is_reset(tmp_path):
    """Written before the key existed: lines, no `line_digest`. Opening it again writes
    nothing; every table it gives says BLAKE2b; a reset (every file read again) forgets
    the lines and takes today's digest."""
    manifest = Manifest(tmp_path)
    manifest.apply(generation=1, articles=[("a", "a.jsonl", "h")],
                   lines=[("a.jsonl", blake2b_line_digest(b"x\n"), "a")])
    manifest.db.execute("DELETE FROM meta WHERE key = 'line_digest'")  # as written before
    manifest.close()
    manifest = Manifest(tmp_path)
    assert manifest.get("line_digest") is None
    assert manifest.line_digest_kind == BLAKE2B_LINES
    assert manifest.known_lines("a.jsonl", most=10).digest_kind == BLAKE2B_LINES
    assert manifest.own_lines("a.jsonl", fits=10).digest_kind == BLAKE2B_LINES
    assert manifest.own_lines("a.jsonl", fits=0).digest_kind == BLAKE2B_LINES
    assert manifest.lines_of("a.jsonl").digest_kind == BLAKE2B_LINES
    manifest.reset(2, [("a", "a.jsonl", "h")])
    assert manifest.line_digest_kind == LINE_DIGEST
    manifest.close()


@pytest.mark.parametrize("table", [True, False])
def test_an_index_of_blake2b_lines_updates_without_decoding_them_again(
        tmp_path, monkeypatch, table):
    """An index built before (its lines hashed with BLAKE2b, no kind recorded): a 1 %
    update decodes the changed lines only, records the new lines with BLAKE2b too, and
    gives the stored articles of a new build of the same file. (`table` False: the known
    lines asked of the manifest, not in arrays.)"""
    from search.whoosh.writer import WhooshWriter

    folder = tmp_path / "src"
    folder.mkdir()
    path, old, new = folder / "a.jsonl", tmp_path / "old", tmp_path / "new"
    lines = [_line(n) for n in range(40)]
    path.write_text("".join(lines), encoding="utf-8")
    with monkeypatch.context() as patched:  # the previous version's build
        patched.setattr(jsonfiles, "line_digest", blake2b_line_digest)
        build(old, [path], jobs=1)
    with _manifest(old) as db:
        db.execute("DELETE FROM meta WHERE key = 'line_digest'")
    assert _lines(old) == _expected(lines, blake2b_line_digest)

    lines = [_line(n, " (v1)") if n % 10 == 3 else line for n, line in enumerate(lines)]
    lines.append(_line(40))
    del lines[7]
    path.write_text("".join(lines), encoding="utf-8")
    decoded: list[str] = []
    real = jsonfiles._safe_draft
    monkeypatch.setattr(jsonfiles, "_safe_draft",
                        lambda value, where: decoded.append(where) or real(value, where))
    if not table:
        monkeypatch.setattr(WhooshWriter, "known_line_table", lambda self, path: None)
    report = update(old, [path])
    assert len(decoded) == 5  # the 4 changed lines and the new one
    assert (report.added, report.updated, report.deleted, report.unchanged) == (1, 4, 1, 35)
    assert _lines(old) == _expected(lines, blake2b_line_digest)
    assert _kind(old) is None
    assert update(old, [path]).unchanged == 40  # (same file again: nothing to read)

    build(new, [path], jobs=1)
    assert _kind(new) == LINE_DIGEST
    assert _lines(new) == _expected(lines, line_digest)
    assert _stored(new) == _stored(old)


def test_a_new_file_of_an_index_of_blake2b_lines_is_recorded_with_blake2b(tmp_path,
                                                                          monkeypatch):
    """A file added to an index built before (BLAKE2b lines, no kind recorded): its lines
    are recorded with BLAKE2b too (the one kind the manifest holds), so that its next
    update finds them without decoding them."""
    folder = tmp_path / "src"
    folder.mkdir()
    first, second, index = folder / "a.jsonl", folder / "b.jsonl", tmp_path / "index"
    first.write_text("".join(_line(n) for n in range(5)), encoding="utf-8")
    with monkeypatch.context() as patched:  # the previous version's build
        patched.setattr(jsonfiles, "line_digest", blake2b_line_digest)
        build(index, [folder], jobs=1)
    with _manifest(index) as db:
        db.execute("DELETE FROM meta WHERE key = 'line_digest'")
    added = [_line(n) for n in range(5, 9)]
    second.write_text("".join(added), encoding="utf-8")
    assert update(index, [folder]).added == 4
    assert _kind(index) is None
    assert _expected(added, blake2b_line_digest) <= _lines(index)

    added[1] = _line(6, " (v1)")
    second.write_text("".join(added), encoding="utf-8")
    decoded: list[str] = []
    real = jsonfiles._safe_draft
    monkeypatch.setattr(jsonfiles, "_safe_draft",
                        lambda value, where: decoded.append(where) or real(value, where))
    report = update(index, [folder])
    assert (report.updated, report.unchanged, len(decoded)) == (1, 8, 1)
