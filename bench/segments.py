"""What an index's segments cost each search: the same queries on indexes of the same
articles in many or few segments, and on two versions of the code, side by side.

    python bench/segments.py --corpus ../shared/corpora/legi-fr/corpus.jsonl.gz \\
        --index many=INDEX_A --index few=INDEX_B [--source before=OTHER_TREE] \\
        [--rounds 3] [--serve-requests 2000]

Each round starts one fresh process per (code, index) pair, in turn: it opens the index and
times its first search (a new worker's wait: files, facet table), then every query of bench's
main set (frequent and rare words, phrases, questions; repeats left out) and of its rarer-
words set (rare words, pairs, two-word phrases), top 10 alone and with snippets and facets,
the result cache emptied before each search. Reported: the medians over the rounds of each
pass's p50 and p95 (each run also lists its queries at and above the p95, by CPU time),
the process's private memory after them (USS, and its anonymous part:
USS also counts the pages of the mapped index files no other process has read), and with
--serve-requests, a 2-worker furet-serve's worker memory after that many requests.
`--source NAME=TREE` adds another checkout of Furet (e.g. the previous commit, exported) to
compare with this one. Results go to bench/results/segments-<time>.json.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent

PASSES = {"top10": {"snippets": False, "facets": False},
          "full": {"snippets": True, "facets": True}}


def _child(source: Path, index: Path, queries_file: Path) -> dict[str, Any]:
    """One fresh process's measures (run in it: imports the code of `source`)."""
    sys.path.insert(0, str(source))
    import psutil

    from search import open_index, search

    sets = json.loads(queries_file.read_text())
    out: dict[str, Any] = {}
    slowest: dict[str, list[list[Any]]] = {}
    started = time.perf_counter()
    index = open_index(index)
    search(index, sets["rare"][0], snippets=False, facets=False)
    out["first_top10_s"] = time.perf_counter() - started
    started = time.perf_counter()
    search(index, sets["rare"][1], snippets=True, facets=True)
    out["first_full_s"] = time.perf_counter() - started  # the facet table is read here
    for name, texts in sets.items():
        for mode, options in PASSES.items():
            for text in texts:  # warm: files paged in, analyzer memo
                search(index, text, **options)
            times, cpu = [], []
            for text in texts:
                index.clear_caches()
                t0, c0 = time.perf_counter(), time.process_time()
                search(index, text, **options)
                cpu.append((time.process_time() - c0) * 1000)
                times.append((time.perf_counter() - t0) * 1000)
            # CPU time as well: on a shared machine, wall time mostly measures the others.
            for kind, values in (("", sorted(times)), ("_cpu", sorted(cpu))):
                for p in (50, 95):
                    out[f"{name}_{mode}{kind}_p{p}_ms"] = values[min(len(values) - 1,
                                                                     int(len(values) * p / 100))]
            # the queries at and above the p95 (by CPU): which make the tail
            tail = len(texts) - min(len(texts) - 1, int(len(texts) * 95 / 100))
            slowest[f"{name}_{mode}"] = sorted(
                ([round(c, 2), text] for c, text in zip(cpu, texts, strict=True)),
                reverse=True)[:tail]
    info = psutil.Process().memory_full_info()
    out["private_mb"] = info.uss / 2**20
    out["rss_mb"] = info.rss / 2**20
    out["anonymous_mb"] = _anonymous_mb(os.getpid())
    out["slowest_cpu_ms"] = slowest
    return out


def _anonymous_mb(pid: int) -> float:
    """A process's anonymous memory (its heap: what it allocated, not the pages of the index
    files it maps, which USS also counts when no other process has them), on Linux; NaN
    elsewhere."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            for line in rollup:
                if line.startswith("Anonymous:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def _serve_memory(source: Path, index: Path, texts: list[str], requests: int
                  ) -> dict[str, float]:
    """Worker private memory (USS) and RSS of a 2-worker furet-serve after `requests`."""
    import psutil

    from bench.load import run_load, start_server, stop_server, worker_memory

    paths = [f"/api/v1/search?q={quote(t)}" for t in texts]
    proc, port = start_server(index, 2, source)
    try:
        asyncio.run(run_load([port], paths, count=40))
        _, private_before = worker_memory(proc)
        result = asyncio.run(run_load([port], paths, count=requests))
        rss, private = worker_memory(proc)
        anonymous = [_anonymous_mb(child.pid) for child in psutil.Process(proc.pid).children()]
    finally:
        stop_server(proc)
    return {"serve_private_mb_after_40": max(private_before) / 2**20,
            f"serve_private_mb_after_{requests}": max(private) / 2**20,
            f"serve_rss_mb_after_{requests}": max(rss) / 2**20,
            f"serve_anonymous_mb_after_{requests}": max(anonymous),
            "serve_requests_per_second": result["requests_per_second"]}


def _segments(index: Path) -> int:
    """How many segments the index's current build has."""
    sys.path.insert(0, str(ROOT))
    from whoosh import index as whoosh_index

    from search.whoosh.layout import current_build

    ix = whoosh_index.open_dir(str(current_build(index)))
    try:
        return len(ix._segments())  # noqa: SLF001 - a count, for the report only
    finally:
        ix.close()


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from bench.corpus import read_records
    from bench.load import serve_queries
    from bench.measure import arguments, median, shown_command, write_results
    from bench.queries import generate, generate_rare

    ap = arguments(__doc__)
    ap.add_argument("--index", action="append", required=True, metavar="NAME=FOLDER")
    ap.add_argument("--source", action="append", default=[], metavar="NAME=TREE",
                    help="another checkout of Furet to measure too (this one is 'this')")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--serve-requests", type=int, default=0)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"))
    args = ap.parse_args()
    indexes = dict(item.split("=", 1) for item in args.index)
    sources = {"this": str(ROOT), **dict(item.split("=", 1) for item in args.source)}
    base = read_records(args.corpus)
    sets = {"main": [q["text"] for q in generate(base, args.queries) if not q.get("repeat")],
            "rare": [q["text"] for q in generate_rare(base, args.queries // 2)]}
    served = [q["text"] for q in serve_queries(base)] if args.serve_requests else []
    del base
    runs: dict[str, list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory(prefix="furet-segments-") as tmp:
        queries_file = Path(tmp) / "queries.json"
        queries_file.write_text(json.dumps(sets))
        for n in range(args.rounds):
            pairs = [(s, i) for s in sources for i in indexes]
            for code, name in pairs[n % len(pairs):] + pairs[:n % len(pairs)]:
                done = subprocess.run(
                    [sys.executable, __file__, "--child", sources[code], indexes[name],
                     str(queries_file)], capture_output=True, text=True, check=False,
                    cwd=sources[code], env={**os.environ, "PYTHONPATH": sources[code]})
                if done.returncode:
                    raise SystemExit(f"{code} on {name} failed:\n{done.stderr}")
                runs.setdefault(f"{code}/{name}", []).append(json.loads(done.stdout))
                print(f"round {n + 1}: {code}/{name} done", file=sys.stderr)
    results: dict[str, Any] = {
        "command": shown_command("segments.py", sys.argv[1:]),
        "load_average": os.getloadavg(),
        "segments": {name: _segments(Path(folder)) for name, folder in indexes.items()},
        "queries": {name: len(texts) for name, texts in sets.items()},
        "medians": {key: {m: median([r[m] for r in rounds]) for m in rounds[0]
                          if m != "slowest_cpu_ms"}
                    for key, rounds in runs.items()},
        "runs": runs,
    }
    if args.serve_requests:
        for code in sources:
            for name, folder in indexes.items():
                results["medians"][f"{code}/{name}"].update(_serve_memory(
                    Path(sources[code]), Path(folder), served,
                    args.serve_requests))
    results["load_average_after"] = os.getloadavg()
    for key, values in results["medians"].items():
        print(key, " ".join(f"{m}={v:.3g}" for m, v in values.items()))
    write_results(args.out, "segments", results)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        print(json.dumps(_child(Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4]))))
    else:
        main()
