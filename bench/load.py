"""furet-serve under load: requests per second and latency at 1, 2 and 4 workers.

A small asyncio client on 127.0.0.1 keeps a fixed number of requests in flight (bounded
concurrency: a closed loop, not an open flood) over the benchmark's queries, through the
JSON API, for a fixed time. The API's rate limit and the query log are turned off for the
run (they would measure the limiter and the disk). After the timed runs, the 2-worker
server answers 10,000 more requests and each worker's RSS is compared with its RSS
before them.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psutil

from bench.measure import percentile

CONCURRENCY = 8
SERVE_QUERIES = 30_000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(index_dir: Path, workers: int, source: Path | None = None
                 ) -> tuple[subprocess.Popen[bytes], int]:
    """furet-serve on a free port, once it answers (the code of the tree `source`, by
    default this one: another tree is how a benchmark compares two versions)."""
    port = _free_port()
    env = {**os.environ, "FURET_RATELIMIT": "", "FURET_QUERY_LOG": ""}
    proc = subprocess.Popen(
        [sys.executable, "-m", "web.serve", "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(workers), "--index-dir", str(index_dir)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        cwd=source or Path(__file__).resolve().parent.parent, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=2):
                return proc, port
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError("furet-serve exited") from None
            time.sleep(0.2)
    stop_server(proc)
    raise RuntimeError("furet-serve did not answer within 60 s")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        proc.wait()


async def _request(port: int, path: str) -> tuple[int, float]:
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                 .encode("ascii"))
    await writer.drain()
    data = await reader.read()
    writer.close()
    status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else 0
    return status, (time.perf_counter() - started) * 1000


async def run_load(ports: list[int], paths: list[str], *, seconds: float | None = None,
                   count: int | None = None,
                   busy: Callable[[], bool] | None = None) -> dict[str, Any]:
    """A closed loop of CONCURRENCY clients for `seconds` (and as long as `busy()` says)
    or `count` requests; request n asks for paths[n % len(paths)] from
    ports[n % len(ports)], as a load balancer would."""
    latencies: list[float] = []
    errors = 0
    kinds: Counter[str] = Counter()  # what the errors were: a status, or a socket error
    sent = 0
    stop = time.perf_counter() + seconds if seconds else None

    def going() -> bool:
        return stop is None or time.perf_counter() < stop or (busy is not None and busy())

    async def client() -> None:
        nonlocal sent, errors
        while going() and (count is None or sent < count):
            n = sent
            sent += 1
            try:
                status, ms = await _request(ports[n % len(ports)], paths[n % len(paths)])
            except OSError as err:
                errors += 1
                kinds[type(err).__name__] += 1
                continue
            if status != 200:
                errors += 1
                kinds[str(status)] += 1
            latencies.append(ms)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(CONCURRENCY)))
    elapsed = time.perf_counter() - started
    return {"requests": len(latencies), "errors": errors, "error_kinds": dict(kinds),
            "requests_per_second": len(latencies) / elapsed,
            "p50_ms": percentile(latencies, 50), "p95_ms": percentile(latencies, 95),
            "distinct_share": distinct_share(paths, sent)}


def distinct_share(paths: list[str], sent: int) -> float:
    """Share of the first `sent` requests (paths taken in turn) that were not repeats."""
    seen = {paths[n % len(paths)] for n in range(sent)}
    return len(seen) / sent if sent else 0.0


def serve_queries(records: list[dict[str, Any]], count: int = SERVE_QUERIES
                  ) -> list[dict[str, str]]:
    """The stream of queries a load sends: long enough not to come round again in a run
    (a process caches its results), 20 % repeats as in the latency measures."""
    from bench.queries import generate

    return generate(records, count, seed=11)


def worker_memory(proc: subprocess.Popen[bytes]) -> tuple[list[int], list[int]]:
    """RSS of each worker, and its private part (USS: RSS less the pages it shares, such
    as the memory-mapped index files that every worker reads)."""
    children = psutil.Process(proc.pid).children()
    return ([child.memory_info().rss for child in children],
            [child.memory_full_info().uss for child in children])


def serve_benchmark(index_dir: Path, queries: list[dict[str, str]], *, workers: list[int],
                    seconds: float) -> dict[str, Any]:
    """Throughput and latency per worker count, and worker memory over 10,000 requests."""
    paths = [f"/api/v1/search?q={quote(q['text'])}" for q in queries]
    out: dict[str, Any] = {}
    for count in workers:
        proc, port = start_server(index_dir, count)
        try:
            asyncio.run(run_load([port], paths, count=40))  # warm-up: every worker opens the index
            result = asyncio.run(run_load([port], paths, seconds=seconds))
            out[f"{count}w_requests_per_second"] = result["requests_per_second"]
            out[f"{count}w_p50_ms"] = result["p50_ms"]
            out[f"{count}w_p95_ms"] = result["p95_ms"]
            out[f"{count}w_errors"] = float(result["errors"])
            out[f"{count}w_error_kinds"] = result["error_kinds"]
            out[f"{count}w_distinct_share"] = result["distinct_share"]
            if count == 2:
                rss_before, private_before = worker_memory(proc)
                asyncio.run(run_load([port], paths, count=10_000))
                rss_after, private_after = worker_memory(proc)
                out["2w_worker_rss_mb_before"] = max(rss_before) / 2**20
                out["2w_worker_rss_mb_after_10k"] = max(rss_after) / 2**20
                out["2w_worker_private_mb_before"] = max(private_before) / 2**20
                out["2w_worker_private_mb_after_10k"] = max(private_after) / 2**20
        finally:
            stop_server(proc)
    return out
