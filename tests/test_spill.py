"""A shared build's bookkeeping on disk: rows merged in source order, first id kept."""

from __future__ import annotations

import json
import os

from hypothesis import given, settings
from hypothesis import strategies as st

from indexer import spill
from indexer.spill import KeptRows, RowWriter, make_scratch, read_rows
from search.whoosh.manifest import Manifest
from tests.indexing import build


def _row(n: int, ordinal: int, article_id: str, number: int, line: bytes | None = None):
    return (n, ordinal, article_id, f"/src/{n}.jsonl", f"h{ordinal}", f"{n}.jsonl:{ordinal}",
            number, line)


def _file(folder, name, rows):
    writer = RowWriter(str(folder / name))
    for row in rows:
        writer.add(row)
    writer.close()
    return str(folder / name)


def _stream(folder, name, rows):
    return read_rows(_file(folder, name, rows))


def test_rows_come_back_in_order_across_batches(tmp_path, monkeypatch):
    monkeypatch.setattr(spill, "BATCH", 3)
    rows = [_row(0, k, f"a{k}", k) for k in range(10)]
    assert list(_stream(tmp_path, "rows", rows)) == rows


def test_the_first_of_an_id_in_source_order_is_kept(tmp_path):
    folder = make_scratch(str(tmp_path / "scratch"))
    # worker 0 reads odd lines, worker 1 even ones; "d" is on lines 2, 3 and 6
    zero = [_row(0, 1, "a", 0, b"l1"), _row(0, 3, "d", 1, b"l3"), _row(0, 5, "b", 2, b"l5")]
    one = [_row(0, 2, "d", 0, b"l2"), _row(0, 4, "c", 1, b"l4"), _row(0, 6, "d", 2, b"l6")]
    kept = KeptRows(folder)
    try:
        duplicates = kept.merge([_file(tmp_path, "0", zero), _file(tmp_path, "1", one)])
        assert [(k, row[1], first) for k, row, first in duplicates] == \
            [(0, 3, "0.jsonl:2"), (1, 6, "0.jsonl:2")]
        assert sorted(kept.articles()) == [("a", "/src/0.jsonl", "h1"),
                                           ("b", "/src/0.jsonl", "h5"),
                                           ("c", "/src/0.jsonl", "h4"),
                                           ("d", "/src/0.jsonl", "h2")]
        assert len(kept.articles()) == 4
        assert sorted(line for _, line, _ in kept.line_rows()) == [b"l1", b"l2", b"l4", b"l5"]
        assert len(kept.line_rows()) == 4
    finally:
        kept.close()
    assert not (tmp_path / "scratch").exists()


def test_a_shared_build_leaves_no_scratch_behind(tmp_path):
    src = tmp_path / "big.jsonl"
    src.write_text("".join(json.dumps({"id": f"a{n}", "title": f"Article {n}",
                                       "body": f"Texte {n}."}) + "\n" for n in range(50)))
    index_dir = tmp_path / "index"
    (index_dir / "builds" / "20000101T000000000000Z.rows.tmp").mkdir(parents=True)
    report = build(index_dir, [src], jobs=2, parallel_above=0)
    assert report.added == 50
    assert [p.name for p in (index_dir / "builds").iterdir() if "rows" in p.name] == []


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), st.sampled_from("abcdefgh"), st.integers(0, 2),
                          st.booleans()), max_size=40))
def test_merged_workers_keep_the_first_of_each_id_in_source_order(tmp_path_factory, records):
    # Records (source, id, worker, has a line) in source order, shared among three workers.
    tmp_path = tmp_path_factory.mktemp("rows")
    rows = [(n, ordinal, article_id, f"/src/{n}.jsonl", f"h{ordinal}", f"{n}:{ordinal}",
             ordinal, f"l{ordinal}".encode() if line else None)
            for ordinal, (n, article_id, _, line) in enumerate(records)]
    rows.sort(key=lambda row: (row[0], row[1]))
    workers = {id(row): records[row[1]][2] for row in rows}
    shares = [[row for row in rows if workers[id(row)] == k] for k in range(3)]
    first: dict[str, tuple] = {}
    expected = []
    for row in rows:
        if row[2] in first:
            expected.append((workers[id(row)], row, first[row[2]][5]))
        else:
            first[row[2]] = row
    kept = KeptRows(make_scratch(str(tmp_path / "scratch")))
    try:
        found = kept.merge([_file(tmp_path, str(k), share) for k, share in enumerate(shares)])
        assert found == expected
        assert sorted(kept.articles()) == sorted((r[2], r[3], r[4]) for r in first.values())
        assert sorted(kept.line_rows()) == sorted((r[3], r[7], r[2]) for r in first.values()
                                                  if r[7] is not None)
    finally:
        kept.close()


def test_kept_rows_copied_by_sqlite_fill_the_manifest_as_python_keys_them(tmp_path):
    # Paths with accents, spaces, a non-BMP character and an undecodable byte: the copied
    # rows' paths are os.fsencode's, and the lines come in the same order.
    paths = ["/src/é t.jsonl", "/src/a.jsonl", "/src/z😀.jsonl", "/src/É.jsonl",
             os.fsdecode(b"/src/\xff.jsonl")]
    rows = [(n, 1, f"id{n}", path, f"h{n}", f"{n}.jsonl:1", 0, f"l{n}".encode())
            for n, path in enumerate(paths)]
    kept = KeptRows(make_scratch(str(tmp_path / "scratch")))
    try:
        assert kept.merge([_file(tmp_path, "0", rows)]) == []
        assert kept.articles().attachable is not None
        assert sorted(p for _, p, _ in kept.articles()) == sorted(paths)
        assert sorted(p for p, _, _ in kept.line_rows()) == sorted(paths)
        tables = []
        for name, articles, lines in (("copied", kept.articles(), kept.line_rows()),
                                      ("lists", list(kept.articles()),
                                       list(kept.line_rows()))):
            (tmp_path / name).mkdir()
            with Manifest(tmp_path / name) as manifest:
                manifest.apply(generation=1, articles=articles, lines=lines)
                tables.append([manifest.db.execute(f"SELECT * FROM {t}").fetchall()
                               for t in ("articles", "lines")])
                assert manifest.articles() == {f"id{n}": (p, f"h{n}")
                                               for n, p in enumerate(paths)}
        assert tables[0] == tables[1]
    finally:
        kept.close()
