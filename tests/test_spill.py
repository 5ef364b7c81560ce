"""A shared build's bookkeeping on disk: rows merged in source order, first id kept."""

from __future__ import annotations

import json

from indexer import spill
from indexer.spill import KeptRows, RowWriter, make_scratch, read_rows
from tests.indexing import build


def _row(n: int, ordinal: int, article_id: str, number: int, line: bytes | None = None):
    return (n, ordinal, article_id, f"/src/{n}.jsonl", f"h{ordinal}", f"{n}.jsonl:{ordinal}",
            number, line)


def _stream(folder, name, rows):
    writer = RowWriter(str(folder / name))
    for row in rows:
        writer.add(row)
    writer.close()
    return read_rows(str(folder / name))


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
        duplicates = list(kept.resolve([_stream(tmp_path, "0", zero),
                                        _stream(tmp_path, "1", one)]))
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
