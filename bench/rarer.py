#!/usr/bin/env python3
"""The fixed cost of a query: bench/run.py's rarer-words set (and its main set) timed in
process, CPU per search, with SQLite FTS5 in the same processes, on two versions of the
code side by side.

    python bench/rarer.py --corpus ../shared/corpora/legi-fr/corpus.jsonl.gz \\
        --index INDEX --fts5 FTS5_DB [--source before=OTHER_TREE] [--rounds 3]

INDEX is a Furet index of the whole corpus (`furet-index build`), FTS5_DB the database
bench/fts5.py builds of the same records (made there when missing). Each round starts one
fresh process per version of the code, in turn (which goes first alternates by round): it
warms up on every query, then times each query of each set (`time.process_time`, the result
cache emptied before each search): top 10, top 10 with snippets, with snippets and facets,
then FTS5's top 10 and snippets. Prints the medians over the rounds of each pass's p50 and
p95 and the ratios to FTS5 and to the other versions; writes bench/results/rarer-<time>.json.
`--source NAME=TREE` adds another checkout of Furet (e.g. `git archive main` extracted).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.measure import arguments, percentile, write_results  # noqa: E402

PASSES = {"top10": {"snippets": False, "facets": False},
          "snippets": {"snippets": True, "facets": False},
          "facets": {"snippets": True, "facets": True}}


def _child(source: Path, index_dir: Path, database: Path, queries_file: Path
           ) -> dict[str, Any]:
    """One fresh process's CPU milliseconds per search, by set and pass (run in it: imports
    the code of `source`)."""
    sys.path.insert(0, str(source))
    from bench import fts5
    from search import open_index, search

    sets = json.loads(queries_file.read_text())
    index = open_index(index_dir)
    ref = fts5.Searcher(database)
    out: dict[str, Any] = {}
    for name, texts in sets.items():
        for mode, options in PASSES.items():
            for text in texts:  # warm: files paged in, analyzer memo
                search(index, text, **options)
            cpu = []
            for text in texts:
                index.clear_caches()
                started = time.process_time()
                search(index, text, **options)
                cpu.append((time.process_time() - started) * 1000)
            out[f"{name}_{mode}"] = cpu
        for mode, snippets in (("top10", False), ("snippets", True)):
            for text in texts:
                ref.search(text, snippets=snippets)
            cpu = []
            for text in texts:
                started = time.process_time()
                ref.search(text, snippets=snippets)
                cpu.append((time.process_time() - started) * 1000)
            out[f"{name}_fts5_{mode}"] = cpu
    ref.close()
    index.close()
    return out


def main() -> None:
    ap = arguments(__doc__)
    ap.add_argument("--index", required=True, help="a Furet index of the corpus")
    ap.add_argument("--fts5", required=True, help="bench/fts5.py's database (built if missing)")
    ap.add_argument("--source", action="append", default=[], metavar="NAME=TREE")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--sets", default="rare,main", help="rare, main (comma-separated)")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"))
    args = ap.parse_args()

    from bench.corpus import read_records
    from bench.queries import generate, generate_rare
    from bench.timeline import dated

    records = [dated(record) for record in read_records(args.corpus, None)]
    database = Path(args.fts5)
    if not database.exists():
        from bench import fts5

        fts5.build(records, database)
    makers = {"rare": lambda: [q["text"] for q in generate_rare(records, 150)],
              "main": lambda: [q["text"] for q in generate(records, 300)
                               if not q.get("repeat")]}
    sets = {name: makers[name]() for name in args.sets.split(",")}
    sources = {"this": ROOT, **{s.split("=", 1)[0]: Path(s.split("=", 1)[1]).resolve()
                                for s in args.source}}
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in sources}
    loads = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory() as tmp:
        queries_file = Path(tmp) / "queries.json"
        queries_file.write_text(json.dumps(sets))
        names = list(sources)
        for n in range(args.rounds):
            for name in names[n % len(names):] + names[:n % len(names)]:
                found = subprocess.run(
                    [sys.executable, __file__, "--child", str(sources[name]), args.index,
                     str(database), str(queries_file)],
                    check=True, capture_output=True, text=True, cwd=ROOT)
                runs[name].append(json.loads(found.stdout))
                loads.append(os.getloadavg()[0])
                print(f"round {n + 1}: {name} done (load {loads[-1]:.1f})", file=sys.stderr)
    summary: dict[str, Any] = {}
    for name, rounds in runs.items():
        for key in rounds[0]:
            for p in (50, 95):
                summary[f"{name}_{key}_p{p}_ms"] = statistics.median(
                    percentile(r[key], p) for r in rounds)
            summary[f"{name}_{key}_mean_ms"] = statistics.median(
                statistics.fmean(r[key]) for r in rounds)
    for set_name in sets:
        print(f"\n{set_name} ({len(sets[set_name])} queries), CPU ms, median of "
              f"{args.rounds} rounds: p50 / p95 (mean)")
        for mode in [*PASSES, "fts5_top10", "fts5_snippets"]:
            cells = []
            for name in sources:
                key = f"{name}_{set_name}_{mode}"
                cells.append(f"{name} {summary[key + '_p50_ms']:.3f} / "
                             f"{summary[key + '_p95_ms']:.3f} ({summary[key + '_mean_ms']:.3f})")
            print(f"  {mode:14} " + "   ".join(cells))
    write_results(args.out, "rarer", {
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "rounds": args.rounds, "load_average": loads, "summary": summary,
        "queries": sets, "runs": runs})


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--child":
        print(json.dumps(_child(*(Path(a) for a in sys.argv[2:]))))
    else:
        main()
