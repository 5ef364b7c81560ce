"""Building with several processes: each reads a share of the articles and writes a part.

Each worker reads its share of the sources itself (whole files, dealt out by size; a large
JSON Lines file is shared line by line), writes a part of the build through the store's
`PartMaker` (for Whoosh: a complete segment), and returns what it made; the ids it indexed
go to a file in the maker's scratch folder (indexer/spill.py), so memory does not grow with
the corpus. The parent merges those files in source order, keeps the first article of any
id seen twice and tells the writer to drop the others when it adopts the parts.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import shutil
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from indexer.collector import fewer_collections
from indexer.sources import SourceFile, read_records_digested
from indexer.spill import KeptRows, RowWriter, make_scratch, read_rows
from search.errors import ArticleError, FuretError
from search.writer import PartMaker

__all__ = ["Share", "default_jobs", "index_in_parallel", "plan_shares", "SHARE_LINES_ABOVE"]

SHARE_LINES_ABOVE = 4 * 1024 * 1024  # JSON Lines files larger than this are shared by line
# A worker adds to the shared count of records read every this many records (the lock and
# the shared value a record cost about 0.7 % of a worker's time); the parent looks at it
# five times a second.
COUNT_EVERY = 64


@dataclass
class Share:
    """What one worker indexes: (source number, file, shard or None) triples."""

    items: list[tuple[int, SourceFile, tuple[int, int] | None]] = field(default_factory=list)
    size: int = 0


@dataclass
class Outcome:
    """What a worker did: its part, the file of the articles it added, the errors it met."""

    part: Any
    rows: str  # a RowWriter's file (indexer/spill.py): one Row per article added
    errors: list[tuple[int, int, str, ArticleError]]  # (source n, record n, path, error)


def plan_shares(sources: Sequence[SourceFile], jobs: int) -> list[Share]:
    """Deal the files out by size; large JSON Lines files go to every worker, by line."""
    shares = [Share() for _ in range(jobs)]
    for n, source in sorted(enumerate(sources), key=lambda item: -item[1].size):
        if source.kind == "jsonl" and source.size > SHARE_LINES_ABOVE:
            for k, share in enumerate(shares):
                share.items.append((n, source, (k, jobs)))
                share.size += source.size // jobs
        else:
            share = min(shares, key=lambda s: s.size)
            share.items.append((n, source, None))
            share.size += source.size
    for share in shares:
        share.items.sort(key=lambda item: item[0])
    return [s for s in shares if s.items]


def _work(maker: PartMaker, share: Share, counter: Any, rows_path: str) -> Outcome:
    """In a worker process: index one share into a new part of the build.

    Duplicate ids are left to the parent, which sees every worker's rows in source order."""
    part = maker.open()
    rows = RowWriter(rows_path)
    errors: list[tuple[int, int, str, ArticleError]] = []
    unreported = 0  # records read since the counter was last told
    try:
        for n, source, shard in share.items:
            for ordinal, item, digest in read_records_digested(source, shard):
                unreported += 1
                if unreported == COUNT_EVERY:
                    _count(counter, unreported)
                    unreported = 0
                if isinstance(item, ArticleError):
                    errors.append((n, ordinal, source.path, item))
                    continue
                number = part.add(item, source.path)
                rows.add((n, ordinal, item.id, source.path, item.hash, item.source, number,
                          digest))
        _count(counter, unreported)
        rows.close()
        return Outcome(part.finish(), rows_path, errors)
    except BaseException:
        with contextlib.suppress(Exception):  # a full disk fails this too; the error to
            part.abandon()  # report is the first one, and the parent removes the build
        raise


def _count(counter: Any, records: int) -> None:
    """Add `records` to the shared count the parent shows progress from."""
    with counter.get_lock():
        counter.value += records


def _duplicate(article_id: str, where: str, first: str) -> ArticleError:
    return ArticleError(where, f"duplicate id {article_id!r}, already read from {first}; "
                        "skipped")


def _portable(err: BaseException) -> BaseException:
    """`err` if it survives pickling (Furet's errors, OSError), else a RuntimeError saying it."""
    try:
        copy = pickle.loads(pickle.dumps(err))
    except Exception:  # noqa: BLE001 - any exception that cannot cross a pipe
        copy = None
    if isinstance(copy, FuretError | OSError):
        return err
    return RuntimeError(f"an indexing process failed: {type(err).__name__}: {err}")


def _run_worker(maker: PartMaker, share: Share, counter: Any, rows_path: str, conn: Any
                ) -> None:
    # Ctrl-C reaches every process of the terminal: the parent reports it and cleans up.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with fewer_collections():
            result: tuple[str, Any] = ("ok", _work(maker, share, counter, rows_path))
    except BaseException as err:  # noqa: BLE001 - reported to the parent, which re-raises
        result = ("error", _portable(err))
    try:
        conn.send(result)
    except OSError:
        pass  # the parent stopped waiting (it failed, or was stopped): nothing to tell
    finally:
        conn.close()


def index_in_parallel(
    maker: PartMaker,
    sources: Sequence[SourceFile],
    jobs: int,
    *,
    reject: Callable[[ArticleError, str], None],
    progress: Callable[[int], None] | None,
) -> tuple[KeptRows, list[tuple[int, int]], list[Any]]:
    """Index `sources` with `jobs` processes, each writing a part through `maker`.

    Returns the articles kept (`KeptRows`, on disk in the maker's scratch folder: the
    caller closes it, which removes the folder), the (part, number) of the duplicates to
    drop, and the parts, for the writer to adopt.
    """
    shares = plan_shares(sources, jobs)
    scratch = make_scratch(maker.scratch())
    context = multiprocessing.get_context("spawn")
    counter = context.Value("q", 0)
    workers = []
    for k, share in enumerate(shares):
        parent, child = context.Pipe(duplex=False)
        rows_path = os.path.join(scratch, f"rows-{k}.pickle")
        proc = context.Process(target=_run_worker,
                               args=(maker, share, counter, rows_path, child), daemon=True)
        proc.start()
        child.close()
        workers.append((proc, parent))
    outcomes: list[Outcome] = []
    try:
        reported = 0
        for proc, conn in workers:
            while not conn.poll(0.2):
                if progress and counter.value > reported:
                    progress(counter.value - reported)
                    reported = counter.value
                if not proc.is_alive() and not conn.poll(0):
                    raise RuntimeError(f"an indexing process died (exit code {proc.exitcode})")
            status, value = conn.recv()
            if status != "ok":
                raise value
            outcomes.append(value)
        if progress and counter.value > reported:
            progress(counter.value - reported)
    except BaseException:
        for proc, _ in workers:
            proc.kill()  # their parts are thrown away with the build: no need to wait
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    finally:
        for proc, conn in workers:
            conn.close()
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
                proc.join()
    kept = KeptRows(scratch)
    try:
        drop = _resolve(kept, outcomes, reject)
    except BaseException:
        kept.close()
        raise
    return kept, drop, [o.part for o in outcomes]


def _resolve(kept: KeptRows, outcomes: list[Outcome],
             reject: Callable[[ArticleError, str], None]) -> list[tuple[int, int]]:
    """Keep the first of duplicate ids, report errors in source order; return the
    (part, number) of the duplicates."""
    errors = [(e[0], e[1], e[2], e[3]) for o in outcomes for e in o.errors]
    drop: list[tuple[int, int]] = []
    for k, row, first in kept.resolve([read_rows(o.rows) for o in outcomes]):
        n, ordinal, article_id, path, _, where, number, _ = row
        drop.append((k, number))
        errors.append((n, ordinal, path, _duplicate(article_id, where, first)))
    for outcome in outcomes:
        os.unlink(outcome.rows)
    for _, _, path, error in sorted(errors, key=lambda e: (e[0], e[1])):
        reject(error, path)
    return drop


def default_jobs() -> int:
    """Worker processes for a large build: FURET_JOBS, else the CPUs (at most 4)."""
    try:
        return max(1, int(os.environ.get("FURET_JOBS", "")))
    except ValueError:
        return max(1, min(os.cpu_count() or 1, 4))
