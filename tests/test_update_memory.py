"""An update holds a bounded number of article ids: past the limit they go to a scratch
table on disk, and the update does the same as with every id in memory."""

from __future__ import annotations

import json
import os
import sqlite3

import pytest

from indexer.spill import SpilledIds, SpilledRows
from search import open_index, search
from search.whoosh import writer as whoosh_writer
from search.whoosh.layout import current_build
from tests.indexing import build, update


def _write(path, records):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))


def _article(n: int, text: str = "") -> dict[str, str]:
    return {"id": f"a{n:03d}", "title": f"Article {n}", "body": f"Texte numéro {n}. {text}"}


def _sources(tmp_path):
    """Two JSON Lines files and one HTML page, built, then changed in every way an update
    sees: articles edited, added, removed, moved between files, duplicated, one file gone."""
    one, two, three = tmp_path / "one.jsonl", tmp_path / "two.jsonl", tmp_path / "three.jsonl"
    _write(one, [_article(n) for n in range(0, 40)])
    _write(two, [_article(n) for n in range(40, 70)])
    _write(three, [_article(n) for n in range(70, 75)])
    return one, two, three


def _change(one, two, three):
    # one: 3 edited, 5 removed, 4 added, a099 duplicated inside the file
    _write(one, [_article(n, "modifié" if n % 13 == 0 else "") for n in range(5, 40)]
           + [_article(n) for n in range(100, 104)] + [_article(99), _article(99, "bis")])
    # two: a041 moved to the end, a042 edited; a010 (one's) claimed again: a duplicate
    _write(two, [_article(n) for n in range(43, 70)] + [_article(41), _article(42, "neuf"),
                                                         _article(10, "copie")])
    os.utime(two, ns=(1, 1))
    three.unlink()


def _state(index_dir):
    build_dir = current_build(index_dir)
    db = sqlite3.connect(build_dir / "manifest.sqlite")
    try:
        tables = {t: sorted(db.execute(f"SELECT * FROM {t}"))  # noqa: S608 - fixed names
                  for t in ("articles", "lines")}
    finally:
        db.close()
    index = open_index(index_dir)
    found = search(index, "texte", per_page=100, snippets=False, facets=False)
    return tables, sorted(h.id for h in found.hits), found.total


def _run(tmp_path, name, monkeypatch, per_mb):
    folder = tmp_path / name
    folder.mkdir()
    one, two, three = _sources(folder)
    index_dir = tmp_path / f"{name}-index"
    build(index_dir, [folder], jobs=1)
    _change(one, two, three)
    monkeypatch.setattr(whoosh_writer, "IDS_PER_MB", per_mb)
    errors = []
    report = update(index_dir, [folder], prune=True, on_error=errors.append)
    tables, ids, total = _state(index_dir)
    # paths differ between the two folders: compare them by file name
    tables = {t: [tuple(os.path.basename(os.fsdecode(v)) if isinstance(v, bytes)
                        and v.startswith(os.fsencode(str(folder))) else v for v in row)
                  for row in rows] for t, rows in tables.items()}
    messages = sorted(str(e).replace(str(folder), "") for e in errors)
    leftovers = list(current_build(index_dir).glob("*.tmp"))
    return report.summary().rsplit(" in ", 1)[0], messages, tables, ids, total, leftovers


def test_an_update_with_one_id_in_memory_does_what_one_with_all_does(tmp_path, monkeypatch):
    everything = _run(tmp_path, "memory", monkeypatch, 10**6)
    spilled = _run(tmp_path, "spilled", monkeypatch, 0)  # one id in memory, the rest on disk
    assert spilled == everything
    summary, messages, _, ids, _, leftovers = spilled
    assert summary == "added 5, updated 4, unchanged 60, deleted 11, rejected 2"
    assert any("duplicate id 'a099'" in m for m in messages)
    assert any("duplicate id 'a010'" in m for m in messages)
    assert "a000" not in ids and "a070" not in ids and "a103" in ids
    assert leftovers == []


def test_an_unchanged_file_keeps_its_ids_taken(tmp_path, monkeypatch):
    """An id of an unchanged file read again in a changed one is a duplicate, whichever
    way the ids are kept."""
    monkeypatch.setattr(whoosh_writer, "IDS_PER_MB", 0)
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    _write(a, [_article(n) for n in range(3)])
    _write(b, [_article(n) for n in range(3, 6)])
    build(tmp_path / "index", [a, b], jobs=1)
    _write(b, [_article(n) for n in range(3, 6)] + [_article(1, "encore")])
    errors = []
    report = update(tmp_path / "index", [a, b], on_error=errors.append)
    assert (report.added, report.rejected, report.unchanged) == (0, 1, 6)
    assert "duplicate id 'a001'" in str(errors[0])


def test_spilled_ids_answer_like_a_dict(tmp_path):
    ids = SpilledIds(str(tmp_path / "scratch"), 3)
    try:
        for n in range(10):
            ids[f"id{n}"] = f"where {n}"
        assert len(ids) == 10 and len(ids.runs.tables) == 3  # 9 on disk, 1 in memory
        assert all(f"id{n}" in ids and ids[f"id{n}"] == f"where {n}" for n in range(10))
        assert "id10" not in ids and ids.get("id10") is None and 3 not in ids
        with pytest.raises(KeyError):
            ids["id10"]
        ids["\udce9t\u00e9"] = "caf\udce9"  # lone surrogates: SQLite refuses them as text
        ids["zz"] = "last"
        assert ids["\udce9t\u00e9"] == "caf\udce9"
        assert list(ids.sorted_keys()) == sorted([f"id{n}" for n in range(10)]
                                                 + ["zz", "\udce9t\u00e9"])
    finally:
        ids.close()
    assert not (tmp_path / "scratch").exists()


def test_spilled_rows_come_back_sorted_with_the_last_of_a_key(tmp_path):
    odd = "/src/caf\udce9.jsonl"  # a path whose bytes are not UTF-8
    rows = [("/src/b.jsonl", b"2", "x"), (odd, b"1", "y"), ("/src/b.jsonl", b"1", "z"),
            ("/src/b.jsonl", b"2", "w")]
    for limit in (1, 2, 100):
        spilled = SpilledRows(str(tmp_path / "scratch"), limit, 2)
        try:
            for row in rows:
                spilled.append(row)
            kept = list(spilled)
            if limit == 100:  # all in memory: every row, sorted (the manifest keeps the last)
                assert kept == sorted(rows, key=lambda row: row[:2])
            else:
                assert kept == [("/src/b.jsonl", b"1", "z"), ("/src/b.jsonl", b"2", "w"),
                                (odd, b"1", "y")]
        finally:
            spilled.close()
        assert not (tmp_path / "scratch").exists()


def test_an_article_updated_twice_is_indexed_once(tmp_path):
    """The second update replaces the copy the first one wrote (in the newest segment),
    and only that one."""
    src = tmp_path / "a.jsonl"
    _write(src, [_article(n) for n in range(30)])
    index_dir = tmp_path / "index"
    build(index_dir, [src], jobs=1)
    for round_ in ("premier", "second"):
        _write(src, [_article(n, round_ if n in (3, 17) else "") for n in range(30)])
        assert update(index_dir, [src]).updated == 2
    index = open_index(index_dir)
    found = search(index, "texte", per_page=100, snippets=False, facets=False)
    assert found.total == 30 and sorted(h.id for h in found.hits) == \
        [f"a{n:03d}" for n in range(30)]
    assert search(index, "second", snippets=False, facets=False).total == 2
    assert search(index, "premier", snippets=False, facets=False).total == 0
