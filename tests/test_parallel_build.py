"""Builds shared between processes give the same index as a build in one process."""

from __future__ import annotations

import json

import pytest

from indexer import parallel
from indexer.parallel import plan_shares
from indexer.sources import walk_sources
from search import open_index, search
from tests.conftest import SAMPLES
from tests.indexing import build
from tests.stores import WhooshStore


def state(index_dir) -> dict[str, str]:
    return WhooshStore(index_dir).state()


@pytest.mark.slow
def test_parallel_build_equals_sequential_build(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    build(one, [SAMPLES], jobs=1)
    report = build(two, [SAMPLES], jobs=2, parallel_above=0)
    assert report.added == 42 and report.rejected == 0
    assert state(two) == state(one)
    index = open_index(two)
    assert len(index.current().searcher.reader().leaf_readers()) == 2  # one segment per process
    assert [h.id for h in search(index, "haifa").hits] == \
        [h.id for h in search(open_index(one), "haifa").hits]


def test_shared_json_lines_keep_the_first_of_duplicate_ids(tmp_path, monkeypatch):
    monkeypatch.setattr(parallel, "SHARE_LINES_ABOVE", 0)  # the lines dealt to 3 processes
    src = tmp_path / "big.jsonl"
    lines = [{"id": f"d{n % 7}" if n % 10 == 3 else f"a{n}", "title": f"Article {n}",
              "body": f"Texte {n}."} for n in range(200)]
    src.write_text("\n".join(json.dumps(r) for r in lines) + "\n")
    errors = []
    report = build(tmp_path / "index", [src], jobs=3, parallel_above=0,
                   on_error=errors.append)
    expected = {}
    for n, record in enumerate(lines, 1):
        expected.setdefault(record["id"], n)
    assert set(state(tmp_path / "index")) == set(expected)
    # the first of each id is the one kept (a one-process build keeps the first)
    build(tmp_path / "one", [src], jobs=1)
    assert state(tmp_path / "index") == state(tmp_path / "one")
    assert report.added == len(expected)
    assert report.rejected == len(lines) - len(expected) == len(errors)
    # reported in file order, each naming where the kept one was read
    lines_of_errors = [int(str(e).split(":")[1]) for e in errors]
    assert lines_of_errors == sorted(lines_of_errors)
    first = errors[0]
    assert str(first).endswith(f"big.jsonl:74: duplicate id 'd3', already read from {src}:4; "
                               "skipped")
    assert "unchanged 0" in report.summary()
    # the manifest's rows too (the kept rows copied into it by SQLite, ahead of the commit)
    assert manifest_rows(tmp_path / "index") == manifest_rows(tmp_path / "one")


def manifest_rows(index_dir) -> dict[str, list]:
    """Every table of the live build's manifest, its times left out."""
    import os
    import sqlite3

    from search.whoosh.layout import CURRENT, MANIFEST

    db = sqlite3.connect(index_dir / os.readlink(index_dir / CURRENT) / MANIFEST)
    try:
        return {table: sorted(db.execute(f"SELECT * FROM {table}").fetchall())  # noqa: S608
                for table in ("files", "articles", "lines")} | {
            "meta": sorted(row for row in db.execute("SELECT * FROM meta")
                           if row[0] not in ("created", "updated"))}
    finally:
        db.close()


def test_a_shared_build_records_its_rows_while_the_workers_finish(tmp_path, monkeypatch):
    """The kept articles' rows go into the manifest as soon as they are merged, before the
    workers' parts are adopted; the commit writes only the files and the generation."""
    from search.whoosh import writer as whoosh_writer
    from search.whoosh.manifest import Manifest

    monkeypatch.setattr(parallel, "SHARE_LINES_ABOVE", 0)
    src = tmp_path / "big.jsonl"
    src.write_text("".join(json.dumps({"id": f"a{n}", "title": f"Article {n}",
                                       "body": f"Texte {n}."}) + "\n" for n in range(30)))
    events: list[str] = []
    real_add, real_apply = Manifest.add, Manifest.apply
    real_adopt = whoosh_writer.WhooshWriter.adopt

    def add(self, **rows):
        events.append(f"add {len(rows['articles'])} {len(rows['lines'])}")
        real_add(self, **rows)

    def apply(self, **changes):
        if changes.get("generation") is not None:
            events.append(f"apply {len(changes.get('articles', ()))} "
                          f"{len(changes.get('lines', ()))} {len(changes.get('files', ()))}")
        real_apply(self, **changes)

    def adopt(self, parts, drop):
        events.append("adopt")
        real_adopt(self, parts, drop)

    monkeypatch.setattr(Manifest, "add", add)
    monkeypatch.setattr(Manifest, "apply", apply)
    monkeypatch.setattr(whoosh_writer.WhooshWriter, "adopt", adopt)
    report = build(tmp_path / "index", [src], jobs=2, parallel_above=0)
    assert report.added == 30
    assert events == ["add 30 30", "adopt", "apply 0 0 1"]
    build(tmp_path / "one", [src], jobs=1)
    assert manifest_rows(tmp_path / "index") == manifest_rows(tmp_path / "one")


def test_plan_shares_balances_files_and_splits_big_json_lines(tmp_path):
    for n in range(6):
        (tmp_path / f"a{n}.json").write_text('{"title": "t", "body": "' + "x" * (n * 100) + '"}')
    sources = [s for s in walk_sources([tmp_path])]
    shares = plan_shares(sources, 2)
    assert sorted(item[1].path for share in shares for item in share.items) == \
        sorted(s.path for s in sources)
    assert abs(shares[0].size - shares[1].size) <= 600


def test_shared_build_progress_counts_every_record(tmp_path, monkeypatch):
    """Workers add to the shared count a few records at a time: every record still counts
    once, the last few included."""
    monkeypatch.setattr(parallel, "SHARE_LINES_ABOVE", 0)
    src = tmp_path / "big.jsonl"
    records = parallel.COUNT_EVERY * 3 + 5  # the last records below a full step
    lines = [json.dumps({"id": f"a{n}", "title": f"Article {n}", "body": f"Texte {n}."})
             for n in range(records - 1)] + ["not json"]
    src.write_text("\n".join(lines) + "\n")
    counted = []
    report = build(tmp_path / "index", [src], jobs=2, parallel_above=0,
                   progress=counted.append)
    assert report.added == records - 1 and report.rejected == 1
    assert sum(counted) == records


def test_a_worker_gives_its_rows_before_finishing_its_part(tmp_path):
    """The parent merges a worker's rows while the worker writes its last segment: the
    rows' file is complete when the worker says so, before the part is finished."""
    import multiprocessing

    from indexer.spill import read_rows

    src = tmp_path / "a.jsonl"
    src.write_text("\n".join(json.dumps({"id": f"a{n}", "title": f"T {n}", "body": "Texte."})
                             for n in range(5)) + "\n")
    events: list[str] = []
    rows_path = str(tmp_path / "rows.pickle")

    class Part:
        def add(self, article, path):
            events.append("add")
            return len(events) - 1

        def finish(self):
            events.append("finish")
            return "part"

        def abandon(self):
            events.append("abandon")

    class Maker:
        def open(self):
            return Part()

    def rows_written():
        events.append(f"rows {len(list(read_rows(rows_path)))}")

    share = parallel.Share(items=[(0, next(walk_sources([src])), None)])
    counter = multiprocessing.get_context("spawn").Value("q", 0)
    outcome = parallel._work(Maker(), share, counter, rows_path, rows_written)
    assert events == ["add"] * 5 + ["rows 5", "finish"]
    assert outcome.part == "part" and counter.value == 5


def test_workers_are_forked_only_from_a_process_running_no_other_thread():
    import threading

    assert threading.active_count() == 1  # pytest runs the tests in its main thread
    assert parallel.start_method() == "fork"
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert parallel.start_method() == "spawn"
    finally:
        stop.set()
        thread.join()


def test_the_progress_bar_starts_no_thread(monkeypatch):
    """tqdm's monitor thread would make a shared build spawn its workers."""
    import sys
    import threading

    from indexer import cli

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    with cli._progress_bar(False) as progress:
        assert progress is not None
        progress(1)
        assert threading.active_count() == 1


def _hold_until(ready, done) -> None:
    ready.set()
    done.wait(30)


def test_a_forked_worker_does_not_keep_the_write_lock(tmp_path):
    """A worker that outlives its parent must not keep the index locked."""
    import multiprocessing

    from search.whoosh.lock import writer_lock

    context = multiprocessing.get_context("fork")
    ready, done = context.Event(), context.Event()
    with writer_lock(tmp_path):
        child = context.Process(target=_hold_until, args=(ready, done))
        child.start()
        assert ready.wait(30)
    try:
        assert child.is_alive()
        with writer_lock(tmp_path):  # free again, though the child forked with it runs on
            pass
    finally:
        done.set()
        child.join()


class _SignalsPart:
    def add(self, article, path):
        return 0

    def finish(self):
        import signal

        return [signal.getsignal(n) for n in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)]

    def abandon(self):
        pass


class _SignalsMaker:
    def __init__(self, folder):
        self.folder = folder

    def open(self):
        return _SignalsPart()

    def scratch(self):
        return str(self.folder / "scratch")


def test_forked_workers_die_of_sigterm_and_sighup(tmp_path, monkeypatch):
    """furet-index turns SIGTERM and SIGHUP into an exception that unwinds its writer; a
    forked worker has the parent's handlers and must not: it dies of them, as a spawned
    worker does, and ignores Ctrl-C (the parent handles it)."""
    import signal

    monkeypatch.setattr(parallel, "SHARE_LINES_ABOVE", 0)  # the lines dealt to 2 workers
    src = tmp_path / "a.jsonl"
    src.write_text("\n".join(json.dumps({"id": f"a{n}", "title": f"T {n}", "body": "Texte."})
                             for n in range(20)) + "\n")

    def stop(number, frame):
        raise RuntimeError("stopped")

    before = {n: signal.signal(n, stop) for n in (signal.SIGTERM, signal.SIGHUP)}
    try:
        assert parallel.start_method() == "fork"
        kept, drop, parts = parallel.index_in_parallel(
            _SignalsMaker(tmp_path), list(walk_sources([src])), 2, reject=lambda e, p: None,
            progress=None)
        kept.close()
    finally:
        for number, handler in before.items():
            signal.signal(number, handler)
    assert parts == [[signal.SIG_DFL, signal.SIG_DFL, signal.SIG_IGN]] * 2
