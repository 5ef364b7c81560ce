"""An update reading a changed JSON Lines file's known lines from arrays (KnownLines) does
what it did asking for them line by line: same report, same errors, same index, same
manifest rows."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from search.whoosh.writer import WhooshWriter
from tests.indexing import build, opened_generation, update


def _line(n: int, tag: str = "", article_id: str | None = None) -> str:
    record = {"id": article_id or f"art-{n}", "title": f"Titre {n}",
              "text": f"Le texte numéro {n} parle de la loi {n % 7}.{tag}"}
    return json.dumps(record, ensure_ascii=False) + "\n"


def _write(path: Path, lines: list[str]) -> None:
    path.write_text("".join(lines), encoding="utf-8")


def _rounds(folder: Path) -> list[tuple[list[Path], dict[str, Any], list[str] | None]]:
    """(sources, options, the first file's lines) of each update; None: left as it is."""
    main, other = folder / "main.jsonl", folder / "other.jsonl"
    base = [_line(n) for n in range(60)] + [_line(60, article_id="é-ünïcode")]
    one = [_line(n, " (v1)") if n % 10 == 0 else line for n, line in enumerate(base)]
    one[5:5] = ['{"title": "cassé", "text": \n', "\n  \n", '{"title": "Sans id", "text": "x"}\n']
    two = [line for n, line in enumerate(one) if n % 9 != 4]
    two.insert(3, two[20])  # the same line twice
    two.insert(1, _line(30, " (copie)"))  # an id again, another text, before its line
    three = [*two, "pas du JSON\n", _line(61)]
    _write(other, [_line(7, " (ailleurs)"), _line(62), base[60]])
    return [([main], {}, one), ([main], {}, two), ([main, other], {}, three),
            ([main, folder], {}, [*three[:-1], _line(63)]),  # read twice: the second
            # reading's articles are duplicates, and its file's others deleted
            ([main], {"prune": True}, base), ([folder], {"prune": True}, None)]


def _run(folder: Path, index: Path) -> list[Any]:
    folder.mkdir()
    _write(folder / "main.jsonl", [_line(n) for n in range(61)])
    build(index, [folder / "main.jsonl"], jobs=1)
    seen = []
    for sources, options, lines in _rounds(folder):
        if lines is not None:
            _write(folder / "main.jsonl", lines)
        report = update(index, sources, **options)
        errors = sorted(str(e).replace(str(folder), "F") for e in report.errors)
        with opened_generation(index) as found:
            stored = sorted((f["id"], f["hash"], f["title"])
                            for f in found.searcher.all_stored_fields())
        builds = sorted((index / "builds").iterdir())
        db = sqlite3.connect(builds[-1] / "manifest.sqlite")
        prefix = str(folder).encode()
        tables = {table: sorted(tuple(v.replace(prefix, b"F") if isinstance(v, bytes) else v
                                      for v in row)
                                for row in db.execute(f"SELECT * FROM {table}"))  # noqa: S608
                  for table in ("articles", "lines")}
        db.close()
        seen.append((report.summary().rsplit(" in ", 1)[0], errors, stored, tables))
    return seen


@pytest.mark.parametrize("batch", [1024, 7])
def test_known_lines_in_arrays_update_as_line_by_line(tmp_path, monkeypatch, batch):
    """(Runs of known lines are given at once, within a batch of lines: `batch` 7 cuts
    them short.)"""
    from indexer import jsonfiles

    monkeypatch.setattr(jsonfiles, "BATCH_LINES", batch)
    arrays = _run(tmp_path / "a", tmp_path / "ia")
    monkeypatch.setattr(WhooshWriter, "known_line_table", lambda self, path: None)
    one_by_one = _run(tmp_path / "b", tmp_path / "ib")
    assert [s[0] for s in arrays] == [s[0] for s in one_by_one]
    for got, expected in zip(arrays, one_by_one, strict=True):
        assert got == expected
    # The rounds did what they are for: rejected lines, deletions, duplicates.
    summaries = " / ".join(s[0] for s in arrays)
    assert "deleted 0" in summaries and "rejected 0" in summaries
    assert any("duplicate id" in e for s in arrays for e in s[1])
    assert any(":6: invalid JSON" in e for s in arrays for e in s[1])


@pytest.mark.parametrize("batch", [1, 2, 1024])
def test_batches_of_lines_give_what_one_at_a_time_gave(tmp_path, monkeypatch, batch):
    """Errors keep their line numbers and come in the lines' order whatever the batch."""
    from indexer import jsonfiles
    from indexer.sources import read_records
    from indexer.walking import walk_sources

    monkeypatch.setattr(jsonfiles, "BATCH_LINES", batch)
    path = tmp_path / "f.jsonl"
    _write(path, [_line(1), "{oops\n", "\n\n", _line(2), '"a string"\n', _line(3)])
    (source,) = walk_sources([path])
    got = [(n, str(item) if not hasattr(item, "id") else item.id)
           for n, item in read_records(source)]
    assert got == [(1, "art-1"), (2, f"{path}:2: invalid JSON: Expecting property name "
                                   "enclosed in double quotes (column 2)"),
                   (5, "art-2"), (6, f"{path}:6: expected a JSON object, got str"),
                   (7, "art-3")]


@settings(max_examples=200, deadline=None)
@example(b"texte\n", b"\n")  # (a line ending in LF alone is hashed without the loop)
@example(b"texte\r", b"\n")
@example(b"", b"\n")
@given(st.binary(max_size=40), st.sampled_from([b"", b"\n", b"\r\n", b"\r", b"\n\r\n", b"\r\r"]))
def test_a_line_digest_is_what_the_manifest_recorded(body, ending):
    """A line's digest is the line without its trailing CR and LF hashed: XXH3's 128 bits
    (today's manifests), or BLAKE2b of 16 bytes exactly as recorded before (hashed in
    place, for the manifests that hold those)."""
    import hashlib

    import xxhash

    from indexer.jsonfiles import blake2b_line_digest, digest_of_kind, line_digest
    from search.known_lines import BLAKE2B_LINES, LINE_DIGEST

    raw = body + ending
    assert line_digest(raw) == xxhash.xxh3_128_digest(raw.rstrip(b"\r\n"))
    assert blake2b_line_digest(raw) == hashlib.blake2b(raw.rstrip(b"\r\n"),
                                                       digest_size=16).digest()
    assert digest_of_kind(LINE_DIGEST) is line_digest
    assert digest_of_kind(BLAKE2B_LINES) is blake2b_line_digest
    from indexer import jsonfiles  # a batch's digests: the same, line by line
    batch = [(1, raw), (2, None), (3, body), (4, raw)]
    for hasher in (line_digest, blake2b_line_digest):
        assert jsonfiles._digests(batch, hasher) == [hasher(raw), None, hasher(body),
                                                     hasher(raw)]


def test_known_lines_come_in_runs(tmp_path, monkeypatch):
    """The known lines that follow one another in a batch come as one draft of their rows,
    numbered as the last of them; any other line ends a run."""
    from indexer import jsonfiles
    from indexer.jsonfiles import line_digest, parse_json_lines, read_lines
    from search.known_lines import KnownLines

    monkeypatch.setattr(jsonfiles, "BATCH_LINES", 4)
    lines = [_line(n) for n in range(10)]
    known = {0, 1, 2, 4, 5, 6, 7, 8, 9}
    table = KnownLines.from_rows(sorted((line_digest(lines[n].encode()), f"art-{n}", 1)
                                        for n in known))
    assert table is not None
    path = tmp_path / "f.jsonl"
    _write(path, [*lines[:3], "\n", *lines[3:]])  # a blank line: not a record, no end
    with open(path, "rb") as stream:
        drafts = list(parse_json_lines(read_lines(stream), location="f", known=table))
    got = [(d["_ordinal"], [table.id_of(r) for r in d["_known_rows"]]) if "_known_rows" in d
           else (d["_ordinal"], d["id"]) for d in drafts]
    assert got == [(3, ["art-0", "art-1", "art-2"]), (5, "art-3"),
                   (9, ["art-4", "art-5", "art-6", "art-7"]),  # a batch of 4 lines ends
                   (11, ["art-8", "art-9"])]


def _duplicates_run(folder: Path, index: Path) -> tuple[str, list[str]]:
    folder.mkdir()
    main, first = folder / "main.jsonl", folder / "first.jsonl"
    lines = [_line(n) for n in range(20)]
    _write(main, lines)
    build(index, [main], jobs=1)
    _write(first, [_line(5, " (ailleurs)"), _line(7, " (ailleurs)")])  # read first
    changed = [_line(n, " (v1)") if n == 5 else line for n, line in enumerate(lines)]
    changed[4:4] = [lines[4]]  # a known line twice in a row: one run holds its row twice
    # Runs: lines 1-6 (art-4 twice), then lines 8-21 (art-7, read from first.jsonl).
    _write(main, changed)
    report = update(index, [first, main])
    return (report.summary().rsplit(" in ", 1)[0],
            sorted(str(e).replace(str(folder), "F") for e in report.errors))


def test_a_run_of_known_lines_with_a_duplicate_is_read_line_by_line(tmp_path, monkeypatch):
    """A run of known lines holding an id read before it (from another file) or one line
    twice is read a line at a time: the same report and errors as without the arrays."""
    arrays = _duplicates_run(tmp_path / "a", tmp_path / "ia")
    monkeypatch.setattr(WhooshWriter, "known_line_table", lambda self, path: None)
    assert _duplicates_run(tmp_path / "b", tmp_path / "ib") == arrays
    assert [e for e in arrays[1] if e.startswith("F/main.jsonl: ")] == [
        "F/main.jsonl: duplicate id 'art-4', already read from F/main.jsonl; skipped",
        "F/main.jsonl: duplicate id 'art-7', already read from F/first.jsonl:2; skipped"]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(["known", "new", "blank", "bad", "long"]), max_size=25),
       st.integers(1, 6))
def test_runs_found_with_numpy_are_the_runs_a_line_at_a_time(kinds, batch):
    """The known lines' runs, found at once in a batch, and the drafts between them are
    what the loop a line at a time gives (the loop a shard of one takes)."""
    import io

    from indexer import jsonfiles
    from indexer.jsonfiles import line_digest, parse_json_lines, read_lines
    from search.known_lines import KnownLines

    texts = []
    for n, kind in enumerate(kinds):
        texts.append({"known": _line(n), "new": _line(n, " (v2)"), "blank": " \n",
                      "bad": "pas du JSON\n", "long": _line(n, "x" * 40)}[kind])
    known = {n for n, kind in enumerate(kinds) if kind in ("known", "long")}
    table = KnownLines.from_rows(sorted((line_digest(texts[n].encode()), f"art-{n}", 1)
                                        for n in known))
    assert table is not None
    data = "".join(texts).encode()

    def drafts(shard: tuple[int, int] | None) -> list[Any]:
        saved = jsonfiles.BATCH_LINES, jsonfiles.MAX_LINE_BYTES
        jsonfiles.BATCH_LINES, jsonfiles.MAX_LINE_BYTES = batch, 100
        try:
            return [str(d) if not isinstance(d, dict) else
                    {k: list(v) if k == "_known_rows" else v for k, v in d.items()}
                    for d in parse_json_lines(read_lines(io.BytesIO(data)), location="f",
                                              known=table, shard=shard)]
        finally:
            jsonfiles.BATCH_LINES, jsonfiles.MAX_LINE_BYTES = saved

    given_drafts = drafts(None)
    assert given_drafts == drafts((0, 1))
    assert any("no record" in str(d) or "empty file" in str(d) for d in given_drafts) \
        == (not data.strip())
