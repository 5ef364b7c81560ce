"""A generation's prepared tables: written with it, the same as those built in memory, and
never needed (an index without them, or with a stale or damaged file, opens as before)."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import zlib
from bisect import bisect_left
from pathlib import Path

import numpy as np
import pytest
from whoosh import index as whoosh_index

from search import open_index
from search.errors import ConfigurationError
from search.request import SearchRequest
from search.whoosh import prepared as prepared_module
from search.whoosh import writer as whoosh_writer
from search.whoosh.facets import FacetTable
from search.whoosh.layout import DurableFileStorage, current_build, open_build
from search.whoosh.prepared import EXTENSION, prepared_name
from search.whoosh.private import MappedFile, open_mapped
from search.whoosh.strings import SAMPLE, MappedStrings, joined
from tests.conftest import SAMPLES
from tests.indexing import build, update

ROOT = Path(__file__).resolve().parent.parent

QUERIES = ["port", "ville portuaire", "etats unis", "consti*", "\"conseil municipal\"",
           "pourquoi le port a-t-il fermé ?", "section:Économie", "porte", "vilel",
           "titre:port", "2019", "marché -port"]


def _many_segments(index_dir: Path) -> None:
    with pytest.MonkeyPatch.context() as patch:  # a segment every few articles
        patch.setattr(whoosh_writer, "segment_words_limit", lambda processes: 4000)
        patch.setenv("FURET_PREPARED_SEGMENTS", "0")
        build(index_dir, [SAMPLES], jobs=1)


@pytest.fixture(autouse=True)
def every_generation_prepared(monkeypatch):
    """The samples make small generations: here every one gets its file (the threshold's
    own tests set it again)."""
    monkeypatch.setenv("FURET_PREPARED_SEGMENTS", "0")


def _files(index_dir: Path) -> list[Path]:
    return sorted(current_build(index_dir).glob("*" + EXTENSION))


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory):
    found = tmp_path_factory.mktemp("prepared")
    _many_segments(found)
    return found


def _answers(index_dir: Path) -> list[dict]:
    index = open_index(index_dir)
    try:
        out = []
        for text in QUERIES:
            for options in ({"snippets": False, "facets": False},
                            {"snippets": True, "facets": True}):
                found = index.search(SearchRequest(text, **options)).to_json()
                found.pop("took_ms", None)
                out.append(found)
                index.clear_caches()
        return out
    finally:
        index.close()


def _open_both(index_dir: Path, monkeypatch):
    """(a generation with its prepared tables, one with the tables built in memory)."""
    with_file = open_index(index_dir)
    monkeypatch.setattr("search.whoosh.backend.read_prepared", lambda *args: None)
    without = open_index(index_dir)
    monkeypatch.undo()
    return with_file, without


def test_a_build_writes_the_tables_of_its_generation(index_dir):
    files = _files(index_dir)
    index = open_index(index_dir)
    try:
        with index.view() as generation:
            assert [f.name for f in files] == \
                [prepared_name("MAIN", generation.whoosh_generation)]
            assert generation.prepared is not None
            assert len(generation.evaluator.postings) > 3
    finally:
        index.close()


def test_the_prepared_tables_are_those_built_in_memory(index_dir, monkeypatch):
    with_file, without = _open_both(index_dir, monkeypatch)
    try:
        with with_file.view() as mapped, without.view() as built:
            assert mapped.prepared is not None and built.prepared is None
            a, b = mapped.evaluator.directory.fields, built.evaluator.directory.fields
            assert sorted(a) == sorted(b)
            for fieldname in a:
                assert isinstance(a[fieldname].terms, MappedStrings)
                assert list(a[fieldname].terms) == list(b[fieldname].terms)
                for name in ("segments", "numbers", "begins", "frequencies"):
                    ours, theirs = getattr(a[fieldname], name), getattr(b[fieldname], name)
                    assert ours.dtype == theirs.dtype and np.array_equal(ours, theirs)
                for term in list(b[fieldname].terms)[::7] + ["", "zzzz", "no-such-term"]:
                    assert a[fieldname].where(term) == b[fieldname].where(term)
                    assert a[fieldname].frequency(term) == b[fieldname].frequency(term)
            for prefix in ("", "a", "por", "é", "zz"):
                assert list(a["exact"].starting(prefix)) == list(b["exact"].starting(prefix))
            fa, fb = mapped.facets, built.facets
            for name in ("section", "year", "month", "dates", "author_docs", "author_codes"):
                ours, theirs = getattr(fa, name), getattr(fb, name)
                assert ours.dtype == theirs.dtype and np.array_equal(ours, theirs), name
            assert list(fa.section_names) == list(fb.section_names)
            assert list(fa.author_names) == list(fb.author_names)
            assert list(mapped.vocabulary()._compounds) == \
                list(built.vocabulary()._compounds)
    finally:
        with_file.close()
        without.close()


def test_the_facet_names_are_stored_compressed(index_dir):
    (path,) = _files(index_dir)
    data = path.read_bytes()
    (length,) = np.frombuffer(data[8:16], dtype="<u8")
    header = json.loads(data[16:16 + int(length)])
    assert set(header["compressed"]) == {"facet:section_names", "facet:author_names"}
    index = open_index(index_dir)
    try:
        with index.view() as generation:
            names = list(generation.prepared.facets.section_names)
        assert names and names == sorted(names)
    finally:
        index.close()
    raw = joined(names)[0].tobytes()
    assert header["compressed"]["facet:section_names"] == len(raw)
    assert header["arrays"]["facet:section_names"][2] == len(zlib.compress(raw, 6))


def test_searches_answer_the_same_with_and_without_the_file(index_dir, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(index_dir, copy, symlinks=True)
    for found in _files(copy):
        found.unlink()  # an index written before the file existed
    with_file, without = _answers(index_dir), _answers(copy)
    assert with_file == without
    assert sum(len(a["hits"]) for a in with_file) > 50


def test_an_update_writes_the_new_generations_file_and_removes_the_old(tmp_path):
    _many_segments(tmp_path)
    first = _files(tmp_path)
    more = tmp_path / "more"
    more.mkdir()
    (more / "a.jsonl").write_text(json.dumps({"id": "new-1", "title": "Un port nouveau",
                                              "body": "Le port de commerce ouvre."}) + "\n")
    update(tmp_path, [SAMPLES, more])
    files = _files(tmp_path)
    assert len(files) == 1 and files != first
    index = open_index(tmp_path)
    try:
        with index.view() as generation:
            assert generation.prepared is not None
            assert files[0].name == prepared_name("MAIN", generation.whoosh_generation)
        assert index.search(SearchRequest("nouveau", snippets=False)).total >= 1
    finally:
        index.close()


def test_an_index_without_the_file_gets_it_at_its_next_update(tmp_path):
    _many_segments(tmp_path)
    for found in _files(tmp_path):
        found.unlink()
    index = open_index(tmp_path)
    try:
        with index.view() as generation:
            assert generation.prepared is None  # built in memory, as before
        assert index.search(SearchRequest("port")).total > 0
    finally:
        index.close()
    update(tmp_path, [SAMPLES])  # nothing changed: the same generation
    assert len(_files(tmp_path)) == 1


def test_a_file_of_other_segments_or_damaged_is_not_used(tmp_path):
    _many_segments(tmp_path)
    (path,) = _files(tmp_path)
    index = open_index(tmp_path)
    expected = index.search(SearchRequest("port")).total
    index.close()
    data = path.read_bytes()
    (length,) = np.frombuffer(data[8:16], dtype="<u8")
    header = json.loads(data[16:16 + int(length)])
    header["segments"][0][1] += 1  # another segment of the same name
    head = json.dumps(header, ensure_ascii=False, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)
    names = header["arrays"]["facet:section_names"]  # stored compressed
    at = 16 + int(length) + names[0]
    garbled = data[:at] + bytes(b ^ 0xFF for b in data[at:at + names[2]]) \
        + data[at + names[2]:]
    variants = [data[:-8],  # cut short
                b"NOTAFILE" + data[8:],
                data[:8] + len(head).to_bytes(8, "little") + head + data[16 + int(length):],
                garbled]
    for variant in variants:
        path.write_bytes(variant)
        index = open_index(tmp_path)
        try:
            with index.view() as generation:
                assert generation.prepared is None
            assert index.search(SearchRequest("port")).total == expected
        finally:
            index.close()


def test_a_writer_killed_while_writing_the_file_leaves_an_index_that_opens(tmp_path):
    _many_segments(tmp_path)
    src = tmp_path / "src"
    shutil.copytree(SAMPLES, src)
    (src / "new.jsonl").write_text(json.dumps({"id": "k-1", "title": "Port franc",
                                               "body": "Un article de plus."}) + "\n")
    env = {**os.environ, "FURET_CRASH_AT": "prepared-writing"}
    done = subprocess.run([sys.executable, "-m", "indexer.cli", "update", str(src),
                           "--index-dir", str(tmp_path)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == -signal.SIGKILL, done.stderr
    build_dir = current_build(tmp_path)
    assert list(build_dir.glob("*" + EXTENSION + ".tmp"))  # the half-written file
    index = open_index(tmp_path)
    try:
        with index.view() as generation:  # the update committed; its tables are built
            assert generation.prepared is None
        assert index.search(SearchRequest("franc", snippets=False)).total >= 1
    finally:
        index.close()
    update(tmp_path, [src])  # the next run clears the half-written file and writes it
    assert not list(build_dir.glob("*.tmp"))
    assert len(_files(tmp_path)) == 1
    index = open_index(tmp_path)
    try:
        with index.view() as generation:
            assert generation.prepared is not None
    finally:
        index.close()


def test_a_build_killed_while_writing_the_file_keeps_the_previous_index(tmp_path):
    _many_segments(tmp_path)
    before = current_build(tmp_path)
    env = {**os.environ, "FURET_CRASH_AT": "prepared-writing"}
    done = subprocess.run([sys.executable, "-m", "indexer.cli", "build", str(SAMPLES),
                           "--index-dir", str(tmp_path)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert current_build(tmp_path) == before
    index = open_index(tmp_path)
    try:
        assert index.search(SearchRequest("port")).total > 0
    finally:
        index.close()


def _segment_count(index_dir: Path) -> int:
    index = open_index(index_dir)
    try:
        with index.view() as generation:
            return len(generation.evaluator.postings)
    finally:
        index.close()


def test_a_generation_under_the_threshold_gets_no_file_and_loses_the_older_ones(
        tmp_path, monkeypatch):
    _many_segments(tmp_path)
    segments = _segment_count(tmp_path)
    assert segments > 3 and len(_files(tmp_path)) == 1
    src = tmp_path / "src"
    shutil.copytree(SAMPLES, src)
    (src / "new.jsonl").write_text(json.dumps({"id": "k-2", "title": "Port franc",
                                               "body": "Encore un article."}) + "\n")
    monkeypatch.setenv("FURET_PREPARED_SEGMENTS", str(segments + 10))
    update(tmp_path, [src])
    assert _segment_count(tmp_path) < segments + 10
    assert _files(tmp_path) == []  # none for the new generation, the old one's removed
    index = open_index(tmp_path)
    try:
        with index.view() as generation:
            assert generation.prepared is None
        assert index.search(SearchRequest("franc", snippets=False)).total >= 1
    finally:
        index.close()


@pytest.mark.parametrize("more", [0, 1])
def test_the_file_is_written_from_the_number_of_segments_set(tmp_path, monkeypatch, more):
    _many_segments(tmp_path)
    segments = _segment_count(tmp_path)
    for old in _files(tmp_path):
        old.unlink()
    monkeypatch.setenv("FURET_PREPARED_SEGMENTS", str(segments + more))
    ix = whoosh_index.open_dir(str(current_build(tmp_path)), indexname="MAIN")
    try:  # the live generation, as a writer leaves it
        written = prepared_module.write_prepared(ix)
    finally:
        ix.close()
    assert (written is None) == (more == 1)
    assert len(_files(tmp_path)) == (0 if more else 1)


def test_a_bad_segment_count_is_refused_before_anything_is_written(tmp_path, monkeypatch):
    _many_segments(tmp_path)
    before = sorted(p.name for p in current_build(tmp_path).iterdir())
    monkeypatch.setenv("FURET_PREPARED_SEGMENTS", "many")
    with pytest.raises(ConfigurationError, match="FURET_PREPARED_SEGMENTS='many'"):
        update(tmp_path, [SAMPLES])
    assert sorted(p.name for p in current_build(tmp_path).iterdir()) == before


def test_no_space_for_the_file_leaves_the_index_as_it_was(tmp_path, monkeypatch):
    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(prepared_module, "_write", full)
    _many_segments(tmp_path)
    assert _files(tmp_path) == []
    assert not list(current_build(tmp_path).glob("*.tmp"))
    index = open_index(tmp_path)
    try:
        assert index.search(SearchRequest("port")).total > 0
    finally:
        index.close()


def _words(rng: random.Random, count: int) -> list[str]:
    letters = "abcdeéèz-'œ\u4e2d\n"  # a newline too: those strings are cut one by one
    return sorted({"".join(rng.choice(letters) for _ in range(rng.randint(0, 7)))
                   for _ in range(count)})


@pytest.mark.parametrize("count", [0, 1, SAMPLE - 1, SAMPLE, SAMPLE + 1, 500])
def test_mapped_strings_bisect_as_a_sorted_list(count):
    rng = random.Random(count)
    words = _words(rng, count)
    strings = MappedStrings(*joined(words))
    assert len(strings) == len(words) and list(strings) == words
    assert strings[:] == words and strings[2:9:3] == words[2:9:3]
    assert strings[3:300] == words[3:300] and list(strings.following(5)) == words[5:]
    if words:
        assert strings[-1] == words[-1]
    with pytest.raises(IndexError):
        strings[len(words)]
    for probe in words + _words(rng, 200) + ["", "\U0010ffff", "zzzzzzzzz"]:
        assert strings.position(probe) == bisect_left(words, probe), probe
        assert (probe in strings) == (probe in words)
        assert strings.index_of(probe) == (words.index(probe) if probe in words else None)


def test_segments_open_without_reading_their_terms_names(index_dir):
    from search.whoosh.postings import SegmentPostings

    index = open_index(index_dir)
    try:
        with index.view() as generation:
            for postings in generation.evaluator.postings:
                buffer = postings._buffer
                (length,) = np.frombuffer(bytes(buffer[8:16]), dtype="<u8")
                header = json.loads(bytes(buffer[16:16 + int(length)]))
                fresh = SegmentPostings(buffer)
                assert fresh._names is None  # nothing read yet
                for fieldname, info in header["fields"].items():
                    assert fresh.names(fieldname) == info["terms"]
                    assert len(fresh.sizes(fieldname)) == len(info["terms"])
                    for n in range(0, len(info["terms"]), 97):
                        ours, theirs = fresh.raw(fieldname, n), postings.raw(fieldname, n)
                        assert ours[0].tolist() == theirs[0].tolist()
                        assert ours[1].tolist() == theirs[1].tolist()
    finally:
        index.close()


@pytest.mark.parametrize("terms", [["a", "b"], ['a],"count":9', '{"terms":[', "]"], [],
                                   ["é\n\"x\\"]])
def test_a_header_is_readheader_layout_whatever_the_terms(terms):
    from search.whoosh.postings import header_layout

    header = {"fields": {name: {"terms": terms, "count": 5, "positions_total": None,
                                "starts": 64 * k, "docs": 64 * k + 8 * (len(terms) + 1)}
                         for k, name in enumerate(["text", "exact"])}}
    raw = json.dumps(header, ensure_ascii=False, separators=(",", ":")).encode()
    found = header_layout(raw)
    for fieldname, info in found["fields"].items():
        assert info["terms"] == len(terms)
        assert {k: v for k, v in info.items() if k != "terms"} == \
            {k: v for k, v in header["fields"][fieldname].items() if k != "terms"}
    other = json.dumps({"fields": {"text": {"count": 5, "terms": terms, "starts": 0,
                                            "docs": 8}}}).encode()
    assert header_layout(other)["fields"]["text"]["terms"] == terms  # read whole


def test_a_small_index_gets_no_file_by_default(tmp_path, monkeypatch):
    monkeypatch.delenv("FURET_PREPARED_SEGMENTS")
    build(tmp_path, [SAMPLES], jobs=1)
    assert _segment_count(tmp_path) < prepared_module.PREPARED_SEGMENTS
    assert _files(tmp_path) == []
    assert _answers(tmp_path)[0]["total"] > 0


def test_each_segments_pages_are_released_once_it_is_read(index_dir, tmp_path, monkeypatch):
    """The tables are read one segment at a time, and each segment's mapped pages released
    before the next is read: a process reading every segment's terms, columns and
    hyphenated words (160 segments at a million news-sized articles) held all their pages
    at once (830 MB)."""
    copy = tmp_path / "copy"
    shutil.copytree(index_dir, copy, symlinks=True)
    for found in _files(copy):
        found.unlink()
    events: list[tuple[str, str]] = []
    real_release = DurableFileStorage.release_pages
    real_postings = prepared_module.segment_postings

    def release(storage, segment):
        events.append(("released", segment.segment_id()))
        real_release(storage, segment)

    def postings(leaf):
        events.append(("read", leaf.segment().segment_id()))
        return real_postings(leaf)

    monkeypatch.setattr(DurableFileStorage, "release_pages", release)
    monkeypatch.setattr(prepared_module, "segment_postings", postings)
    ix = open_build(current_build(copy))
    assert prepared_module.write_prepared(ix) is not None
    with ix.searcher() as searcher:
        ids = [leaf.segment().segment_id() for leaf, _ in searcher.reader().leaf_readers()]
    assert len(ids) > 3
    read = [("read", i) for i in ids]
    released = [("released", i) for i in ids]
    # the term directory's pass, one segment after the other...
    assert events[:2 * len(ids)] == [e for pair in zip(read, released, strict=True)
                                     for e in pair]
    # ...then the facets' and the hyphenated words'
    assert events[2 * len(ids):] == released + released


def test_released_pages_leave_the_process_and_read_again(tmp_path):
    smaps = Path("/proc/self/smaps")
    if not smaps.exists():
        pytest.skip("no /proc/self/smaps on this system")
    path = tmp_path / "file.seg"
    data = np.random.default_rng(0).integers(0, 256, size=4 << 20, dtype=np.uint8)
    path.write_bytes(data.tobytes())
    mapped = open_mapped(str(path), path.name)
    try:
        assert isinstance(mapped, MappedFile)
        view = np.frombuffer(mapped.buffer(), dtype=np.uint8)
        address = view.__array_interface__["data"][0]
        assert int(view.sum()) == int(data.sum())  # every page read
        assert _resident_kb(smaps, address) >= 4 << 10
        mapped.release_pages()
        assert _resident_kb(smaps, address) == 0
        assert np.array_equal(view, data)  # read again from the file
        del view
    finally:
        mapped.close()


def _resident_kb(smaps: Path, address: int) -> int:
    inside = False
    for line in smaps.read_text().splitlines():
        head = line.split()[0]
        if "-" in head and not head.endswith(":"):
            start, end = (int(x, 16) for x in head.split("-"))
            inside = start <= address < end
        elif inside and head == "Rss:":
            return int(line.split()[1])
    raise AssertionError("mapping not found")


def test_the_facet_table_read_segment_by_segment_is_the_whole_readers(index_dir):
    """FacetTable.load reads each segment once, all columns and authors together: the
    authors' names and documents are those of Whoosh's lexicon and postings over every
    segment at once."""
    index = open_index(index_dir)
    try:
        with index.view() as generation:
            reader = generation.searcher.reader()
            assert not reader.is_atomic()
            table = FacetTable.load(reader)
            names, docs, codes = [], [], []
            for term in reader.lexicon("author"):
                names.append(term.decode("utf-8"))
                found = list(reader.postings("author", term).all_ids())
                docs += found
                codes += [len(names) - 1] * len(found)
    finally:
        index.close()
    assert len(set(docs)) > 3 and len(names) > 3
    assert list(table.author_names) == names
    assert table.author_docs.tolist() == docs and table.author_codes.tolist() == codes
    assert table.author_docs.dtype == table.author_codes.dtype == np.int64
