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
import gc
import multiprocessing
import os
import pickle
import shutil
import signal
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from indexer.sources import SourceFile, read_records_digested
from indexer.spill import KeptRows, RowWriter, make_scratch
from search.errors import ArticleError, FuretError
from search.writer import PartMaker

__all__ = ["Share", "default_jobs", "index_in_parallel", "plan_shares", "start_method",
           "SHARE_LINES_ABOVE"]

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
    """What a worker did: its part and the errors it met (the articles it added are in
    its rows' file, indexer/spill.py: one Row per article)."""

    part: Any
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


def _work(maker: PartMaker, share: Share, counter: Any, rows_path: str,
          rows_written: Callable[[], None] = lambda: None) -> Outcome:
    """In a worker process: index one share into a new part of the build.

    Duplicate ids are left to the parent, which sees every worker's rows in source order:
    `rows_written` is called once they are all in their file, before the part is finished
    (the parent merges them while the workers write their last segment)."""
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
        rows_written()
        return Outcome(part.finish(), errors)
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
    # A forked worker has the parent's handlers (furet-index turns SIGTERM and SIGHUP into
    # an exception that unwinds its writer): a worker dies of them, as a spawned one does.
    for number in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, signal.SIG_DFL)
    try:
        result: tuple[str, Any] = ("ok", _work(maker, share, counter, rows_path,
                                               lambda: conn.send(("rows", None))))
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
    merged: Callable[[KeptRows], None] = lambda kept: None,
) -> tuple[KeptRows, list[tuple[int, int]], list[Any]]:
    """Index `sources` with `jobs` processes, each writing a part through `maker`.

    Returns the articles kept (`KeptRows`, on disk in the maker's scratch folder: the
    caller closes it, which removes the folder), the (part, number) of the duplicates to
    drop, and the parts, for the writer to adopt. `merged` is called with the articles
    kept as soon as they are all known, while the workers finish their parts.
    """
    shares = plan_shares(sources, jobs)
    scratch = make_scratch(maker.scratch())
    context = multiprocessing.get_context(start_method())
    counter = context.Value("q", 0)
    workers = []
    rows = [os.path.join(scratch, f"rows-{k}.sqlite") for k in range(len(shares))]
    # Forked workers share the parent's pages until they write them: objects the parent
    # made are left out of the collector's passes (a pass writes to every object it visits).
    gc.freeze()
    try:
        for share, rows_path in zip(shares, rows, strict=True):
            parent, child = context.Pipe(duplex=False)
            proc = context.Process(target=_run_worker,
                                   args=(maker, share, counter, rows_path, child), daemon=True)
            proc.start()
            child.close()
            workers.append((proc, parent))
    finally:
        gc.unfreeze()
    outcomes: list[Outcome] = []
    kept: KeptRows | None = None
    try:
        reported = 0
        # Each worker's rows are complete before its part: they are merged (the parent's
        # longest step) while the workers write their last segment.
        for proc, conn in workers:
            _, reported = _receive(proc, conn, "rows", counter, reported, progress)
        kept = KeptRows(scratch)
        drop, duplicates = _merge(kept, rows)
        merged(kept)
        for proc, conn in workers:
            outcome, reported = _receive(proc, conn, "ok", counter, reported, progress)
            outcomes.append(outcome)
        if progress and counter.value > reported:
            progress(counter.value - reported)
    except BaseException:
        for proc, _ in workers:
            proc.kill()  # their parts are thrown away with the build: no need to wait
        if kept is not None:
            kept.close()
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    finally:
        for proc, conn in workers:
            conn.close()
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
                proc.join()
    assert kept is not None
    try:
        _report(outcomes, duplicates, reject)
    except BaseException:
        kept.close()
        raise
    return kept, drop, [o.part for o in outcomes]


def _receive(proc: Any, conn: Any, expected: str, counter: Any, reported: int,
             progress: Callable[[int], None] | None) -> tuple[Any, int]:
    """The next message of one worker (its status `expected`; a worker's error is raised),
    showing progress while waiting; and the count of records shown."""
    while not conn.poll(0.2):
        if progress and counter.value > reported:
            progress(counter.value - reported)
            reported = counter.value
        if not proc.is_alive() and not conn.poll(0):
            raise RuntimeError(f"an indexing process died (exit code {proc.exitcode})")
    status, value = conn.recv()
    if status != expected:
        raise value if isinstance(value, BaseException) \
            else RuntimeError(f"an indexing process said {status!r}, not {expected!r}")
    return value, reported


Duplicate = tuple[int, int, str, ArticleError]  # (source n, record n, path, error)


def _merge(kept: KeptRows, rows: list[str]) -> tuple[list[tuple[int, int]], list[Duplicate]]:
    """Keep the first of duplicate ids; the (part, number) of the others, and their errors.
    The rows' files are removed."""
    drop: list[tuple[int, int]] = []
    duplicates: list[Duplicate] = []
    for k, row, first in kept.merge(rows):
        n, ordinal, article_id, path, _, where, number, _ = row
        drop.append((k, number))
        duplicates.append((n, ordinal, path, _duplicate(article_id, where, first)))
    for path in rows:
        os.unlink(path)
    return drop, duplicates


def _report(outcomes: list[Outcome], duplicates: list[Duplicate],
            reject: Callable[[ArticleError, str], None]) -> None:
    """Report the workers' errors and the duplicates, in source order."""
    errors = [(e[0], e[1], e[2], e[3]) for o in outcomes for e in o.errors] + duplicates
    for _, _, path, error in sorted(errors, key=lambda e: (e[0], e[1])):
        reject(error, path)


def start_method() -> str:
    """How workers start: "fork" where the system has it and the parent runs no other
    thread, else "spawn".

    A forked worker starts working at once, with the modules the parent imported; a
    spawned one starts a new interpreter and imports them again (about 0.65 s a worker,
    both cores busy, before any article is read). Forking is safe here because nothing
    the parent holds is used by a worker: the parent of a build has opened no SQLite
    connection yet (the rows of kept articles are opened after the workers start, the
    manifest at the commit), runs no other thread (a thread holding a lock at the fork
    would leave it held in the child: with one, the workers are spawned), and its write
    lock's descriptor is closed in the child (search/whoosh/lock.py), so that a worker
    outliving a killed parent does not hold the index's lock."""
    if "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1:
        return "fork"
    return "spawn"


def default_jobs() -> int:
    """Worker processes for a large build: FURET_JOBS, else the CPUs (at most 4)."""
    try:
        return max(1, int(os.environ.get("FURET_JOBS", "")))
    except ValueError:
        return max(1, min(os.cpu_count() or 1, 4))
