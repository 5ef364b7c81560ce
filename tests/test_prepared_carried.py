"""An update's prepared tables carried over from the previous generation's file: the same
bytes as tables made from scratch, after updates that add, merge and delete; made from
scratch when the older file is missing, damaged, of the older layout or of no shared
segment."""

from __future__ import annotations

import json
import random
import struct
from pathlib import Path

import numpy as np
import pytest

from search import open_index
from search.request import SearchRequest
from search.whoosh import prepared as prepared_module
from search.whoosh import writer as whoosh_writer
from search.whoosh.layout import current_build, open_build
from search.whoosh.prepared import EXTENSION, write_prepared
from search.whoosh.strings import joined, split
from tests.indexing import build, opened_generation, update

WORDS = ("port ville mer bateau conseil municipal marché commerce école route pont gare "
         "hôpital théâtre musée budget élection maire région département fête récolte "
         "pêche vent tempête soleil pluie neige montagne rivière forêt usine emploi").split()
HYPHENATED = ("états-unis", "après-midi", "arc-en-ciel", "chef-lieu", "porte-parole",
              "sud-ouest", "nord-est", "grand-mère", "c'est-à-dire", "week-end")
SECTIONS = ("Économie", "Sports", "Culture", "Régions", "International", "Société")
AUTHORS = ("Nadia Haddad", "Louis Martin", "Claire Petit", "Hugo Bernard", "Inès Moreau")


def _article(rng: random.Random, key: str, version: int = 0) -> dict:
    words = rng.choices(WORDS, k=rng.randint(20, 60))
    words += rng.sample(HYPHENATED, rng.randint(0, 2))
    words.append(f"mot{rng.randint(0, 400)}")  # words few articles share
    rng.shuffle(words)
    article = {"id": key, "title": " ".join(rng.choices(WORDS, k=4)) + f" v{version}",
               "body": " ".join(words) + "."}
    if rng.random() < 0.8:
        article["section"] = rng.choice(SECTIONS) + ("" if rng.random() < 0.7 else
                                                     f" / {rng.randint(1, 30)}")
    if rng.random() < 0.6:
        article["authors"] = rng.sample(AUTHORS + (f"Auteur {key}",), rng.randint(1, 2))
    if rng.random() < 0.9:
        article["published"] = f"20{rng.randint(10, 24)}-{rng.randint(1, 12):02d}-" \
                               f"{rng.randint(1, 28):02d}T08:00:00+01:00"
    return article


def _write(folder: Path, name: str, articles: list[dict]) -> None:
    (folder / name).write_text("".join(json.dumps(a, ensure_ascii=False) + "\n"
                                       for a in articles), encoding="utf-8")


def _files(index_dir: Path) -> list[Path]:
    return sorted(current_build(index_dir).glob("*" + EXTENSION))


def _from_scratch(index_dir: Path, tmp: Path) -> bytes:
    """The bytes a from-scratch `write_prepared` gives for the live generation."""
    (path,) = _files(index_dir)
    carried = path.read_bytes()
    path.rename(tmp)
    try:
        ix = open_build(current_build(index_dir))
        try:
            written = write_prepared(ix)
        finally:
            ix.close()
        assert written == path
        return path.read_bytes()
    finally:
        path.write_bytes(carried)
        tmp.unlink(missing_ok=True)


@pytest.fixture
def calls(monkeypatch):
    """How many times the tables were made from scratch, and carried over."""
    counted = {"scratch": 0, "carried": 0}
    tables, carried = prepared_module._tables, prepared_module.carried_tables

    def count_tables(*args):
        counted["scratch"] += 1
        return tables(*args)

    def count_carried(*args):
        found = carried(*args)
        counted["carried"] += found is not None
        return found

    monkeypatch.setattr(prepared_module, "_tables", count_tables)
    monkeypatch.setattr(prepared_module, "carried_tables", count_carried)
    return counted


@pytest.fixture
def corpus(tmp_path, monkeypatch):
    """An index of 240 articles in many segments, every generation with its file, and
    its source folder."""
    monkeypatch.setenv("FURET_PREPARED_SEGMENTS", "0")
    monkeypatch.setattr(whoosh_writer, "segment_words_limit", lambda processes: 6000)
    rng = random.Random(7)
    src = tmp_path / "src"
    src.mkdir()
    for n in range(4):
        _write(src, f"f{n}.jsonl", [_article(rng, f"a{n}-{k}") for k in range(60)])
    index_dir = tmp_path / "index"
    build(index_dir, [src], jobs=1)
    return index_dir, src, rng


def _segments(index_dir: Path) -> dict[str, int]:
    ix = open_build(current_build(index_dir))
    try:
        return {s.segment_id(): s.doc_count_all() for s in ix._segments()}
    finally:
        ix.close()


def _check(index_dir: Path, tmp_path: Path) -> None:
    (path,) = _files(index_dir)
    assert path.read_bytes() == _from_scratch(index_dir, tmp_path / "moved")


def test_updates_that_add_change_merge_and_delete_carry_the_same_bytes(
        corpus, tmp_path, calls, monkeypatch):
    index_dir, src, rng = corpus
    first = _segments(index_dir)
    assert len(first) > 6
    # Segments of a quarter of the largest or more are kept whole, the others merged.
    monkeypatch.setattr(whoosh_writer, "SMALL_SEGMENT_DOCS", max(first.values()))
    steps = []
    # 1. new articles only (a new segment; small ones merged into it)
    _write(src, "new1.jsonl", [_article(rng, f"n1-{k}") for k in range(15)])
    steps.append("add")
    # 2. articles changed in two files (deletions in old segments, a new segment)
    # 3. a file removed (deletions only, or deletions and merges)
    # 4. more articles, changes and a removal at once, twice
    for step in range(5):
        if step == 0:
            pass
        elif step == 1:
            for n in (0, 2):
                lines = (src / f"f{n}.jsonl").read_text(encoding="utf-8").splitlines()
                articles = [json.loads(line) for line in lines]
                for k in range(0, len(articles), 7):
                    articles[k] = _article(rng, articles[k]["id"], version=step)
                _write(src, f"f{n}.jsonl", articles)
        elif step == 2:
            (src / "f1.jsonl").unlink()
        else:
            _write(src, f"new{step}.jsonl", [_article(rng, f"n{step}-{k}") for k in range(9)])
            lines = (src / "f3.jsonl").read_text(encoding="utf-8").splitlines()
            articles = [json.loads(line) for line in lines]
            _write(src, "f3.jsonl", articles[:-5] + [
                _article(rng, a["id"], version=step) for a in articles[-5:-2]])
        before = _segments(index_dir)
        update(index_dir, [src], prune=True)
        after = _segments(index_dir)
        kept = set(before.items()) & set(after.items())
        steps.append((len(before), len(after), len(kept)))
        assert kept, steps  # some segments carried
        _check(index_dir, tmp_path)
    # every update carried its tables over (the checks' own writes are from scratch)
    assert calls["carried"] == 5, (calls, steps)
    assert any(n_after < n_before + 1 for n_before, n_after, _ in steps[1:]), steps


def test_searches_answer_the_same_after_carried_updates(corpus, tmp_path):
    index_dir, src, rng = corpus
    _write(src, "new.jsonl", [_article(rng, f"n-{k}") for k in range(20)])
    update(index_dir, [src])
    index = open_index(index_dir)
    try:
        with index.view() as generation:
            assert generation.prepared is not None
        found = index.search(SearchRequest("port", facets=True)).to_json()
        assert found["total"] > 0 and found["facets"]
    finally:
        index.close()
    _check(index_dir, tmp_path)


def _damage(path: Path, how: str) -> None:
    data = bytearray(path.read_bytes())
    (length,) = struct.unpack("<Q", data[8:16])
    if how == "flip":  # one byte of the arrays
        data[16 + length + 100] ^= 0x40
    elif how == "cut":
        del data[-8:]
    elif how == "older layout":  # written before the checksum and memberships
        header = json.loads(data[16:16 + length])
        del header["crc32"]
        head = json.dumps(header, separators=(",", ":")).encode()
        head += b" " * (length - len(head))
        data[16:16 + length] = head
    elif how == "garbage":
        data[:8] = b"NOTAFILE"
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("how", ["missing", "flip", "cut", "older layout", "garbage",
                                 "other segments"])
def test_an_unusable_older_file_gives_tables_made_from_scratch(corpus, tmp_path, calls,
                                                                how):
    index_dir, src, rng = corpus
    (path,) = _files(index_dir)
    if how == "missing":
        path.unlink()
    elif how == "other segments":  # another index's file, of none of these segments
        other = tmp_path / "other"
        other_src = tmp_path / "other-src"
        other_src.mkdir()
        _write(other_src, "o.jsonl", [_article(rng, f"o-{k}") for k in range(30)])
        build(other, [other_src], jobs=1)
        (found,) = _files(other)
        path.write_bytes(found.read_bytes())
    else:
        _damage(path, how)
    _write(src, "new.jsonl", [_article(rng, f"n-{k}") for k in range(10)])
    calls.update(scratch=0, carried=0)
    update(index_dir, [src])
    assert calls == {"scratch": 1, "carried": 0}
    (written,) = _files(index_dir)
    assert written != path
    _check(index_dir, tmp_path)
    with opened_generation(index_dir) as generation:
        assert generation.prepared is not None


@pytest.mark.parametrize("strings", [[], [""], ["", ""], ["a", "é", "états-unis"],
                                     ["a\nb", "c"], ["\n"], ["x", "y\n"]])
def test_joined_strings_are_each_encoded_and_split_back(strings):
    blob, offsets = joined(strings)
    encoded = [s.encode("utf-8") + b"\n" for s in strings]
    assert blob.tobytes() == b"".join(encoded)
    assert offsets.dtype == np.int64
    assert offsets.tolist() == [sum(map(len, encoded[:n])) for n in range(len(strings) + 1)]
    assert split(blob, offsets) == strings


def test_a_file_two_generations_old_carries_both_new_segments(corpus, tmp_path, calls,
                                                               monkeypatch):
    index_dir, src, rng = corpus
    monkeypatch.setattr(whoosh_writer, "SMALL_SEGMENT_DOCS", 1)  # nothing merged
    (first,) = _files(index_dir)
    kept = tmp_path / "first"
    kept.write_bytes(first.read_bytes())
    for step in range(2):
        if step == 1:  # as if the last generation's file had not been written
            (last,) = _files(index_dir)
            last.unlink()
            first.write_bytes(kept.read_bytes())
        _write(src, f"new{step}.jsonl", [_article(rng, f"n{step}-{k}") for k in range(12)])
        lines = (src / "f2.jsonl").read_text(encoding="utf-8").splitlines()
        articles = [json.loads(line) for line in lines]
        _write(src, "f2.jsonl", articles[:-3] + [_article(rng, a["id"], version=step + 1)
                                                 for a in articles[-3:]])
        update(index_dir, [src])
    segments = _segments(index_dir)
    assert calls["carried"] == 2
    assert len(segments) == 2 + len(json.loads(_header(kept))["segments"])  # two new
    _check(index_dir, tmp_path)


def _header(path: Path) -> bytes:
    data = path.read_bytes()
    (length,) = struct.unpack("<Q", data[8:16])
    return data[16:16 + length]
