"""A furet-serve worker's memory over its life, and the server's throughput, on one index.

    python bench/workers.py --corpus ../shared/corpora/legi-fr/corpus.jsonl.gz \\
        --index INDEX [--workers 2] [--seconds 60] [--requests 3000] [--first-rounds 3] \\
        [--source TREE] [--skip-serve]

First, in fresh processes (`--first-rounds` of them), the time a new worker waits: opening
the index, then its first search top 10, then its first with snippets and facets (wall and
CPU time of each, and the process's private memory after opening). `--source TREE` measures
the code of another checkout of Furet (e.g. the previous commit, exported), run in turn
with this one to compare them; `--skip-serve` stops there. Then a `--workers` furet-serve:
each worker's private memory (USS = Private_Clean + Private_Dirty of
/proc/PID/smaps_rollup, and its anonymous part, the heap) once it answers, after the first
search each, after `--seconds` of bench's closed-loop load (requests/s, p50 / p95) and after
`--requests` more. Results go to bench/results/workers-<time>.json.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent


def rollup(pid: int) -> dict[str, float]:
    """A process's private and anonymous memory in MB, from smaps_rollup (Linux)."""
    fields: dict[str, float] = {}
    with open(f"/proc/{pid}/smaps_rollup") as lines:
        for line in lines:
            parts = line.split()
            if len(parts) >= 2 and parts[1].isdigit():
                fields[parts[0].rstrip(":")] = int(parts[1]) / 1024
    return {"private_mb": fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0),
            "anonymous_mb": fields.get("Anonymous", 0), "rss_mb": fields.get("Rss", 0)}


def _workers(proc: subprocess.Popen[bytes]) -> list[dict[str, float]]:
    import psutil

    return [rollup(child.pid) for child in psutil.Process(proc.pid).children()]


def _first(source: Path, index: Path, texts: list[str]) -> dict[str, float]:
    """Run in a fresh process: open, first top 10, first full search (wall and CPU time),
    memory after each. The code is imported from `source`."""
    sys.path.insert(0, str(source))
    cpu = time.process_time
    started, used = time.perf_counter(), cpu()
    from search import open_index, search

    out: dict[str, float] = {"import_s": time.perf_counter() - started,
                             "import_cpu_s": cpu() - used}
    started, used = time.perf_counter(), cpu()
    opened = open_index(index)
    out["open_s"], out["open_cpu_s"] = time.perf_counter() - started, cpu() - used
    memory = rollup(os.getpid())
    out["open_private_mb"] = memory["anonymous_mb"]  # its heap (the name of earlier runs)
    out["open_uss_mb"] = memory["private_mb"]
    started, used = time.perf_counter(), cpu()
    search(opened, texts[0], snippets=False, facets=False)
    out["first_top10_s"], out["first_top10_cpu_s"] = time.perf_counter() - started, \
        cpu() - used
    started, used = time.perf_counter(), cpu()
    search(opened, texts[1], snippets=True, facets=True)
    out["first_full_s"], out["first_full_cpu_s"] = time.perf_counter() - started, cpu() - used
    memory = rollup(os.getpid())
    out["after_first_anonymous_mb"] = memory["anonymous_mb"]
    out["after_first_uss_mb"] = memory["private_mb"]
    return out


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from bench.corpus import read_records
    from bench.load import run_load, serve_queries, start_server, stop_server
    from bench.measure import arguments, median, shown_command, write_results

    ap = arguments(__doc__)
    ap.add_argument("--index", required=True)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--requests", type=int, default=3000)
    ap.add_argument("--first-rounds", type=int, default=3)
    ap.add_argument("--source", default=str(ROOT), help="the checkout of Furet to measure")
    ap.add_argument("--skip-serve", action="store_true")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"))
    args = ap.parse_args()
    index = Path(args.index)
    source = Path(args.source).resolve()
    texts = [q["text"] for q in serve_queries(read_records(args.corpus))]
    paths = [f"/api/v1/search?q={quote(t)}" for t in texts]
    # folders shown as DIR: the results hold no path of this machine
    results: dict[str, Any] = {"command": shown_command("workers.py", sys.argv[1:]),
                               "load_average": os.getloadavg()}
    firsts = []
    for n in range(args.first_rounds):
        done = subprocess.run([sys.executable, __file__, "--first", str(source), str(index),
                               json.dumps(texts[100 + 2 * n:102 + 2 * n])],
                              capture_output=True, text=True, check=True, cwd=ROOT)
        firsts.append(json.loads(done.stdout))
    if firsts:
        results["first"] = {key: median([f[key] for f in firsts]) for key in firsts[0]}
        results["first_runs"] = firsts
    if args.skip_serve:
        print(json.dumps(results, indent=1))
        write_results(args.out, "workers", results)
        return
    started = time.perf_counter()
    proc, port = start_server(index, args.workers, source=source)
    try:
        results["server_answers_s"] = time.perf_counter() - started
        results["workers_after_start"] = _workers(proc)
        first = asyncio.run(run_load([port], paths, count=2 * args.workers))
        results["first_requests_p50_ms"] = first["p50_ms"]
        results["workers_after_first"] = _workers(proc)
        load = asyncio.run(run_load([port], paths, seconds=args.seconds))
        results["load"] = load
        results["workers_after_load"] = _workers(proc)
        more = asyncio.run(run_load([port], paths[len(paths) // 2:], count=args.requests))
        results["more"] = more
        results["workers_after_more"] = _workers(proc)
    finally:
        stop_server(proc)
    results["load_average_after"] = os.getloadavg()
    print(json.dumps(results, indent=1))
    write_results(args.out, "workers", results)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--first":
        print(json.dumps(_first(Path(sys.argv[2]), Path(sys.argv[3]), json.loads(sys.argv[4]))))
    else:
        main()
