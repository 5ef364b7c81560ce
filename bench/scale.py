#!/usr/bin/env python3
"""Scaling out: 1, 2 and 4 furet-serve processes on one PostgreSQL, against the same on Whoosh.

    python bench/scale.py --corpus ../shared/corpora/legi-fr/corpus.jsonl.gz --limit 20000

The corpus (its first --limit records) is indexed twice, into a Whoosh folder and into
PostgreSQL (--database-url, else a private cluster started for the run). Then N
furet-serve processes (one sync worker each, as N web servers would run) serve each
backend in turn, and a client on 127.0.0.1 keeps CONCURRENCY requests in flight over the
benchmark's queries (bench/queries.py), spread over the N ports as a load balancer
would, for --seconds. Prints requests per second and p50/p95 latency per backend and N,
and writes them to OUT/scale-<time>.json.

With --replica, the private cluster gets a streaming replica (pg_basebackup -R) before the
build, and a last round runs the N furet-serve processes on the replica while
`furet-index update` rewrites --replica-changes articles on the primary: requests per
second, p95 and errors (0 expected), the update's seconds and exit code, and whether the
replica's readers saw the new generation.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.corpus import read_records, write_jsonl  # noqa: E402
from bench.load import (  # noqa: E402
    CONCURRENCY,
    SERVE_QUERIES,
    run_load,
    serve_queries,
    start_server,
    stop_server,
)
from bench.measure import arguments, shown_command, write_results  # noqa: E402


def _build(corpus: Path, index_dir: Path, database_url: str) -> dict[str, float]:
    """Index the corpus into both backends with furet-index; seconds each took."""
    seconds = {}
    for backend, extra in (("whoosh", ["--index-dir", str(index_dir)]),
                           ("postgresql", ["--database-url", database_url])):
        started = time.perf_counter()
        if backend == "postgresql":
            subprocess.run([sys.executable, "-m", "indexer.cli", "init", "--backend",
                            backend, *extra, "--quiet"], cwd=ROOT, check=True)
        done = subprocess.run([sys.executable, "-m", "indexer.cli", "build", str(corpus),
                               "--backend", backend, *extra, "--quiet"], cwd=ROOT)
        if done.returncode not in (0, 1):
            raise SystemExit(f"furet-index build --backend {backend} failed")
        seconds[backend] = time.perf_counter() - started
        print(f"   {backend}: built in {seconds[backend]:.1f} s", file=sys.stderr)
    return seconds


@contextmanager
def _serving(index_dir: Path, n: int, paths: list[str],
             log: Path | None = None) -> Iterator[list[int]]:
    """N furet-serve processes (one worker each), each having opened its index; their
    ports. Stopped at the end."""
    servers: list[tuple[subprocess.Popen[bytes], int]] = []
    try:
        for _ in range(n):
            servers.append(start_server(index_dir, 1, log=log))
        ports = [port for _, port in servers]
        asyncio.run(run_load(ports, paths, count=20 * n))  # every process opens its index
        yield ports
    finally:
        for proc, _ in servers:
            stop_server(proc)


def measure(index_dir: Path, database_url: str, queries: list[dict[str, str]],
            processes: list[int], seconds: float, rounds: int = 1,
            log: Path | None = None) -> dict[str, Any]:
    """Throughput and latency for each backend and number of furet-serve processes: the
    two backends one after the other for each number (both see about the same load from
    other jobs), `rounds` times; with several rounds, the medians (each round's numbers
    kept under "rounds")."""
    paths = [f"/api/v1/search?q={quote(q['text'])}" for q in queries]
    runs: dict[str, list[dict[str, Any]]] = {}
    for round_ in range(rounds):
        for n in processes:
            for backend in ("whoosh", "postgresql"):
                os.environ.update({"FURET_BACKEND": backend,
                                   "FURET_DATABASE_URL": database_url})
                with _serving(index_dir, n, paths, log) as ports:
                    result = asyncio.run(run_load(ports, paths, seconds=seconds))
                runs.setdefault(f"{backend}_{n}", []).append(result)
                print(f"   round {round_ + 1}, {backend}, {n} process(es): "
                      f"{result['requests_per_second']:.1f} req/s, "
                      f"p95 {result['p95_ms']:.1f} ms, {result['errors']} errors",
                      file=sys.stderr)
    if rounds == 1:
        return {key: found[0] for key, found in runs.items()}
    out: dict[str, Any] = {"rounds": runs}
    for key, found in runs.items():
        out[key] = {name: statistics.median(r[name] for r in found)
                    for name in ("requests_per_second", "p50_ms", "p95_ms")}
        out[key]["errors"] = sum(r["errors"] for r in found)
    for n in processes:  # each round's ratios, PostgreSQL to Whoosh
        pairs = zip(runs[f"whoosh_{n}"], runs[f"postgresql_{n}"], strict=True)
        out[f"postgresql_{n}"]["ratios"] = [
            {"requests_per_second": round(p["requests_per_second"]
                                          / w["requests_per_second"], 3),
             "p95": round(p["p95_ms"] / w["p95_ms"], 3)} for w, p in pairs]
    return out


def _changed(records: list[dict[str, Any]], count: int) -> list[dict[str, Any]]:
    """The records with the first `count` of them edited (a word added to the title)."""
    return [{**r, "title": f"{r.get('title', '')} (modifié)"} if n < count else r
            for n, r in enumerate(records)]


def _generation(port: int) -> str | None:
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=10) as r:
        return json.load(r).get("generation")


def _note_end(process: subprocess.Popen[bytes], finished: list[float]) -> None:
    """Wait for `process`; note when it ended."""
    process.wait()
    finished.append(time.perf_counter())


def measure_replica(index_dir: Path, primary_url: str, replica_url: str, corpus: Path,
                    records: list[dict[str, Any]], changes: int,
                    queries: list[dict[str, str]], processes: list[int],
                    seconds: float, log: Path | None = None) -> dict[str, Any]:
    """N furet-serve on the replica while an update runs on the primary, for each N."""
    paths = [f"/api/v1/search?q={quote(q['text'])}" for q in queries]
    os.environ.update({"FURET_BACKEND": "postgresql", "FURET_DATABASE_URL": replica_url})
    out: dict[str, Any] = {}
    for round_, n in enumerate(processes):
        # Each round changes the titles it did not change last time: there is always work.
        write_jsonl(_changed(records, changes) if round_ % 2 == 0 else records, corpus)
        with _serving(index_dir, n, paths, log) as ports:
            before = _generation(ports[0])
            started = time.perf_counter()
            update = subprocess.Popen(
                [sys.executable, "-m", "indexer.cli", "update", str(corpus),
                 "--backend", "postgresql", "--database-url", primary_url, "--quiet"],
                cwd=ROOT, env={**os.environ, "FURET_DATABASE_URL": primary_url})
            finished: list[float] = []
            waiter = threading.Thread(target=_note_end, args=(update, finished))
            waiter.start()
            result = asyncio.run(run_load(ports, paths, seconds=seconds,
                                          busy=lambda u=update: u.poll() is None))
            waiter.join()
            code = update.returncode
            result["update_seconds"] = round(finished[0] - started, 1)
            result["update_exit_code"] = code
            deadline = time.monotonic() + 60
            while _generation(ports[0]) == before and time.monotonic() < deadline:
                time.sleep(0.2)
            result["replica_followed"] = _generation(ports[0]) != before
        out[f"replica_{n}"] = result
        print(f"   replica, {n} process(es), update on the primary: "
              f"{result['requests_per_second']:.1f} req/s, p95 {result['p95_ms']:.1f} ms, "
              f"{result['errors']} errors; update exit {code} in "
              f"{result['update_seconds']} s, replica followed: {result['replica_followed']}",
              file=sys.stderr)
    return out


def table(results: dict[str, Any], processes: list[int]) -> str:
    lines = ["| furet-serve processes | Whoosh req/s | Whoosh p95 (ms) | PostgreSQL req/s "
             "| PostgreSQL p95 (ms) | req/s ratio | p95 ratio |",
             "|---:|---:|---:|---:|---:|---:|---:|"]
    for n in processes:
        w, p = results[f"whoosh_{n}"], results[f"postgresql_{n}"]
        lines.append(f"| {n} | {w['requests_per_second']:.1f} | {w['p95_ms']:.0f} | "
                     f"{p['requests_per_second']:.1f} | {p['p95_ms']:.0f} | "
                     f"{p['requests_per_second'] / w['requests_per_second']:.2f} | "
                     f"{p['p95_ms'] / w['p95_ms']:.2f} |")
    if any(f"replica_{n}" in results for n in processes):
        lines += ["", "| processes on the replica, update on the primary | req/s | p95 (ms) "
                  "| errors | update (s) |", "|---:|---:|---:|---:|---:|"]
        for n in processes:
            r = results[f"replica_{n}"]
            lines.append(f"| {n} | {r['requests_per_second']:.1f} | {r['p95_ms']:.0f} | "
                         f"{r['errors']} | {r['update_seconds']} |")
    return "\n".join(lines)


def main() -> None:
    ap = arguments(__doc__)
    ap.add_argument("--limit", type=int, default=20000, help="first N records (0: all)")
    ap.add_argument("--processes", default="1,2,4")
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--rounds", type=int, default=1, help="measure each pair this many "
                    "times (the table shows medians)")
    ap.add_argument("--queries", type=int, default=SERVE_QUERIES,
                    help="length of the query stream (long enough not to come round again)")
    ap.add_argument("--database-url", help="PostgreSQL database to use (its Furet index is "
                    "replaced; default: a private cluster for the run)")
    ap.add_argument("--replica", action="store_true", help="also serve from a streaming "
                    "replica while an update runs on the primary (private cluster only)")
    ap.add_argument("--replica-changes", type=int, default=1000,
                    help="articles the update rewrites in the replica rounds")
    ap.add_argument("--built", metavar="INDEX_DIR", help="with --database-url: measure the "
                    "Whoosh index in INDEX_DIR and the database as they are (both built from "
                    "the same records) instead of building them")
    ap.add_argument("--server-log", metavar="FILE", help="append the furet-serve processes' "
                    "output to FILE (a server error's traceback), instead of discarding it")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"))
    args = ap.parse_args()
    log = Path(args.server_log) if args.server_log else None
    if args.replica and args.database_url:
        ap.error("--replica starts its own primary and replica: leave out --database-url")
    if args.built and not args.database_url:
        ap.error("--built needs --database-url (the database built with it)")
    processes = [int(n) for n in args.processes.split(",") if n]

    records = read_records(args.corpus, args.limit or None)
    with tempfile.TemporaryDirectory(prefix="furet-scale-") as tmp, ExitStack() as stack:
        work = Path(tmp)
        database_url = args.database_url
        replica_url = ""
        if not database_url:
            from bench.pgcluster import private_cluster, streaming_replica

            # As a database server for a site would be set up: the index in shared memory.
            cluster = stack.enter_context(private_cluster(settings="-c shared_buffers=1GB"))
            database_url = cluster.create_database("scale")
            if args.replica:
                replica = stack.enter_context(streaming_replica(cluster))
                replica_url = replica.url("scale")
        corpus = work / "corpus.jsonl"
        count = write_jsonl(records, corpus)
        print(f"== {count} documents", file=sys.stderr)
        results: dict[str, Any] = {
            "command": shown_command(Path(sys.argv[0]).name, sys.argv[1:]),
            "when": datetime.now(UTC).isoformat(timespec="seconds"),
            "documents": count, "cpus": os.cpu_count(), "concurrency": CONCURRENCY,
        }
        index_dir = Path(args.built) if args.built else work / "index"
        if not args.built:
            results["build_seconds"] = _build(corpus, index_dir, database_url)
        queries = serve_queries(records, args.queries)
        results.update(measure(index_dir, database_url, queries, processes, args.seconds,
                               args.rounds, log))
        if replica_url:
            results.update(measure_replica(work / "index", database_url, replica_url, corpus,
                                           records, args.replica_changes, queries, processes,
                                           args.seconds, log))
    print(table(results, processes))
    write_results(args.out, "scale", results)


if __name__ == "__main__":
    main()
