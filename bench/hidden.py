#!/usr/bin/env python3
"""What hidden articles cost a search, on both stores: the same queries with none hidden
and with --hidden articles hidden, side by side in one run.

    python bench/hidden.py --corpus ../shared/corpora/legi-fr/corpus.jsonl.gz --limit 20000

The corpus (its first --limit records) is indexed into a Whoosh folder and into PostgreSQL
(a private cluster started for the run). Each query of the benchmark's set
(bench/queries.py) is searched with no article hidden, then with --hidden articles hidden
(drawn at random, with the first hit of every tenth query among them, so that some
searches do leave one out), the result cache emptied before each search; --rounds rounds.
Completions likewise: the first 3 to 5 letters of the queries' words, with and without
the hidden articles (an offered word that a hidden article holds is then checked to
match an article that is not hidden; the hidden articles' words are read once per index
generation and kept, as a web worker keeps them). Prints the medians and p95 in ms per
store and the ratio hidden / none, and writes them to OUT/hidden-<time>.json.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.corpus import read_records, write_jsonl  # noqa: E402
from bench.measure import arguments, median, percentile, shown_command, write_results  # noqa: E402
from bench.queries import generate  # noqa: E402


def _build(corpus: Path, backend: str, extra: list[str]) -> None:
    if backend == "postgresql":
        subprocess.run([sys.executable, "-m", "indexer.cli", "init", "--backend", backend,
                        *extra, "--quiet"], cwd=ROOT, check=True)
    done = subprocess.run([sys.executable, "-m", "indexer.cli", "build", str(corpus),
                           "--backend", backend, *extra, "--quiet"], cwd=ROOT)
    if done.returncode not in (0, 1):
        raise SystemExit(f"furet-index build --backend {backend} failed")


def _timed(index: Any, calls: list[Any], rounds: int) -> tuple[dict[str, list[float]],
                                                               dict[str, int]]:
    """Times (ms) of each call without and with the hidden articles, interleaved, caches
    emptied first; and the sums of what the calls counted."""
    times: dict[str, list[float]] = {"none": [], "hidden": []}
    totals = {"none": 0, "hidden": 0}
    for _ in range(rounds):
        for call in calls:
            for name in ("none", "hidden"):
                index.clear_caches()
                started = time.perf_counter()
                counted = call(name == "hidden")
                times[name].append((time.perf_counter() - started) * 1000)
                totals[name] += counted
    return times, totals


def measure(index: Any, queries: list[str], hidden: frozenset[str], rounds: int
            ) -> dict[str, Any]:
    """Per-search and per-completion times (ms) without and with the hidden articles."""
    from search import SearchRequest

    def search(text: str) -> Any:
        return lambda on: index.search(SearchRequest(text, hidden=hidden if on else
                                                     frozenset())).total

    def complete(prefix: str) -> Any:
        return lambda on: len(index.completions(prefix, hidden=hidden if on else
                                                frozenset()))

    out = _summary(*_timed(index, [search(q) for q in queries], rounds))
    words = [w for q in queries for w in q.split() if len(w) >= 5 and w.isalpha()]
    prefixes = list(dict.fromkeys(w[:3 + n % 3] for n, w in enumerate(words)))[:100]
    out["completions"] = _summary(*_timed(index, [complete(p) for p in prefixes], rounds))
    return out


def _summary(times: dict[str, list[float]], totals: dict[str, int]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, values in times.items():
        out[name] = {"p50_ms": round(median(values), 3),
                     "p95_ms": round(percentile(values, 95), 3)}
    out["ratio_p50"] = round(out["hidden"]["p50_ms"] / out["none"]["p50_ms"], 3)
    out["ratio_p95"] = round(out["hidden"]["p95_ms"] / out["none"]["p95_ms"], 3)
    out["left_out"] = totals["none"] - totals["hidden"]
    return out


def main() -> None:
    ap = arguments(__doc__)
    ap.add_argument("--limit", type=int, default=20000, help="first N records (0: all)")
    ap.add_argument("--hidden", type=int, default=100, help="articles hidden")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"))
    args = ap.parse_args()
    from bench.pgcluster import private_cluster
    from search import open_backend

    records = read_records(args.corpus, args.limit or None)
    queries = [q["text"] for q in generate(records, args.queries)]
    results: dict[str, Any] = {
        "command": shown_command(Path(sys.argv[0]).name, sys.argv[1:]),
        "when": datetime.now(UTC).isoformat(timespec="seconds"), "cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory(prefix="furet-hidden-") as tmp, ExitStack() as stack:
        work = Path(tmp)
        cluster = stack.enter_context(private_cluster(settings="-c shared_buffers=1GB"))
        url = cluster.create_database("hidden")
        corpus = work / "corpus.jsonl"
        results["documents"] = write_jsonl(records, corpus)
        stores = {"whoosh": ["--index-dir", str(work / "index")],
                  "postgresql": ["--database-url", url]}
        hidden: frozenset[str] | None = None
        for backend, extra in stores.items():
            print(f"== {backend}: building {results['documents']} documents", file=sys.stderr)
            _build(corpus, backend, extra)
            index = open_backend(backend=backend, index_dir=work / "index", database_url=url)
            try:
                if hidden is None:  # drawn once: the same articles on both stores
                    rng = random.Random(5)
                    firsts = [h.id for q in queries[::10] for h in index.search(q).hits[:1]]
                    every = [h.id for h in index.search("", per_page=100).hits]
                    ids = list(dict.fromkeys(firsts))[:args.hidden // 2]
                    ids += rng.sample(every, min(len(every), args.hidden - len(ids)))
                    hidden = frozenset(ids)
                    results["hidden"] = len(hidden)
                results[backend] = measure(index, queries, hidden, args.rounds)
            finally:
                index.close()
            r = results[backend]
            for name, m in (("searches", r), ("completions", r["completions"])):
                print(f"   {backend} {name}: p50 {m['none']['p50_ms']} → "
                      f"{m['hidden']['p50_ms']} ms (×{m['ratio_p50']}), p95 "
                      f"{m['none']['p95_ms']} → {m['hidden']['p95_ms']} ms "
                      f"(×{m['ratio_p95']}), {m['left_out']} left out", file=sys.stderr)
    write_results(args.out, "hidden", results)


if __name__ == "__main__":
    main()
