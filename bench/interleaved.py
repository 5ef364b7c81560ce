"""Two versions of the code answering the same searches in turn, query by query: paired
CPU times that a loaded machine affects alike.

    python bench/interleaved.py --corpus ../shared/corpora/legi-fr/corpus.jsonl.gz \\
        --index INDEX --source before=OTHER_TREE [--repeats 3] [--queries 300]

One process per version opens INDEX and waits for queries on its standard input; each
query of bench's main set (repeats left out) is sent to one then the other (the first in
turn), top 10 alone and with snippets and facets (a results page), `--repeats` times, the
result cache emptied before each search. Per query and version the lowest CPU time of the
repeats is kept; reported: p50 and p95 of those, the sum, and the queries at and above the
p95. bench/segments.py runs each version in a process of its own, one after the other, so
a change in the machine's load between them moves its numbers; here both see the same.
Results go to bench/results/interleaved-<time>.json.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

PASSES = {"top10": {"snippets": False, "facets": False},
          "full": {"snippets": True, "facets": True}}


def _serve(source: Path, index_dir: Path) -> None:
    """A version's process: a JSON [query, pass] a line in, its CPU milliseconds out."""
    sys.path.insert(0, str(source))
    from search import open_index, search

    index = open_index(index_dir)
    print("ready", flush=True)
    for line in sys.stdin:
        text, mode = json.loads(line)
        index.clear_caches()
        started = time.process_time()
        search(index, text, **PASSES[mode])
        print((time.process_time() - started) * 1000, flush=True)


def _percentile(values: list[float], p: int) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from bench.corpus import read_records
    from bench.measure import arguments, shown_command, write_results
    from bench.queries import generate

    ap = arguments(__doc__)
    ap.add_argument("--index", required=True)
    ap.add_argument("--source", required=True, metavar="NAME=TREE")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"))
    args = ap.parse_args()
    name, _, tree = args.source.partition("=")
    texts = [q["text"] for q in generate(read_records(args.corpus), args.queries)
             if not q.get("repeat")]
    sources = {"this": ROOT, name: Path(tree).resolve()}
    procs = {code: subprocess.Popen(
        [sys.executable, __file__, "--serve", str(source), args.index],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=source,
        env={**os.environ, "PYTHONPATH": str(source)}) for code, source in sources.items()}
    try:
        for proc in procs.values():
            if proc.stdout.readline().strip() != "ready":  # type: ignore[union-attr]
                raise SystemExit("a version failed to open the index")

        def ask(code: str, text: str, mode: str) -> float:
            proc = procs[code]
            proc.stdin.write(json.dumps([text, mode]) + "\n")  # type: ignore[union-attr]
            proc.stdin.flush()  # type: ignore[union-attr]
            return float(proc.stdout.readline())  # type: ignore[union-attr]

        best: dict[str, dict[str, list[float]]] = {
            code: {mode: [float("inf")] * len(texts) for mode in PASSES} for code in procs}
        codes = list(procs)
        for mode in PASSES:
            for text in texts:  # warm: files paged in, memos
                for code in codes:
                    ask(code, text, mode)
            for repeat in range(args.repeats):
                for n, text in enumerate(texts):
                    order = codes if (n + repeat) % 2 == 0 else codes[::-1]
                    for code in order:
                        found = ask(code, text, mode)
                        best[code][mode][n] = min(best[code][mode][n], found)
    finally:
        for proc in procs.values():
            proc.stdin.close()  # type: ignore[union-attr]
            proc.wait()
    results: dict[str, Any] = {"command": shown_command("interleaved.py", sys.argv[1:]),
                               "load_average": os.getloadavg(), "queries": len(texts),
                               "versions": {}}
    for code in procs:
        found = {}
        for mode, values in best[code].items():
            p95 = _percentile(values, 95)
            found[f"{mode}_cpu_p50_ms"] = _percentile(values, 50)
            found[f"{mode}_cpu_p95_ms"] = p95
            found[f"{mode}_cpu_sum_ms"] = sum(values)
            found[f"{mode}_slowest"] = sorted(
                ([round(v, 2), t] for v, t in zip(values, texts, strict=True)
                 if v >= p95), reverse=True)
        results["versions"][code] = found
        print(code, " ".join(f"{k}={v:.3g}" for k, v in found.items()
                             if not k.endswith("slowest")))
    write_results(args.out, "interleaved", results)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--serve":
        _serve(Path(sys.argv[2]), Path(sys.argv[3]))
    else:
        main()
