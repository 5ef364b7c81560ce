#!/usr/bin/env python3
"""What question feedback costs: searches with and without it, side by side, on a built index.

    python bench/feedback.py --index INDEX --corpus ../shared/corpora/legi-fr/corpus.jsonl.gz \\
        --limit 20000 [--queries QUERIES.jsonl] [--set NAME:k=v,k=v ...]

The query sets are bench/run.py's, drawn from the first `--limit` records of `--corpus`
(the records the index was built from): its 300 generated queries (`--count`), the
legi-worded questions among them, and its 100 PIAF-shaped questions; or, with
`--queries`, the `text` of each line of a JSONL file (piaf-dev's queries). Each query is
searched with the default ranking, with `feedback_weight` 0, and with each `--set`
ranking (search/ranking.py's parameters), one after the other in an order that turns by
round, the result cache emptied before each, top 10 without snippets or facets. Prints,
per set, the medians over the rounds of p50, p95 and the mean, and their ratios to no
feedback; writes them to OUT/feedback-<time>.json. Other jobs on the machine move the
times: read the ratios.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.corpus import read_records  # noqa: E402
from bench.measure import percentile, shown_command, time_in_turn  # noqa: E402
from bench.queries import generate, generate_questions  # noqa: E402
from bench.timeline import dated  # noqa: E402
from search import open_index, search  # noqa: E402
from search.ranking import DEFAULT_RANKING, Ranking  # noqa: E402


def query_sets(args: argparse.Namespace) -> dict[str, list[str]]:
    if args.queries:
        with open(args.queries, encoding="utf-8") as f:
            return {"queries": [json.loads(line)["text"] for line in f if line.strip()]}
    records = [dated(record) for record in read_records(args.corpus, args.limit)]
    generated = generate(records, args.count)  # as bench/run.py draws them
    questions = generate_questions(records, max(args.count // 3, 30))
    return {"bench": [q["text"] for q in generated],
            "bench_questions": [q["text"] for q in generated if q["kind"] == "question"],
            "piaf_shaped": [q["text"] for q in questions]}


def rankings(sets: list[str]) -> dict[str, Ranking]:
    found = {"off": DEFAULT_RANKING.with_values({"feedback_weight": "0"}),
             "on": DEFAULT_RANKING}
    for item in sets:
        name, _, values = item.partition(":")
        found[name] = DEFAULT_RANKING.with_values(
            dict(pair.split("=", 1) for pair in values.split(",") if pair))
    return found


def measure(index: Any, texts: list[str], ranked: dict[str, Ranking], rounds: int
            ) -> dict[str, dict[str, float]]:
    """Medians over the rounds of each ranking's p50, p95 and mean (ms)."""
    runs = time_in_turn(texts, {name: _searching(index, ranking)
                                for name, ranking in ranked.items()},
                        rounds, index.clear_caches)
    return {name: {"p50_ms": statistics.median(percentile(v, 50) for v in times),
                   "p95_ms": statistics.median(percentile(v, 95) for v in times),
                   "mean_ms": statistics.median(statistics.mean(v) for v in times)}
            for name, times in runs.items()}


def _searching(index: Any, ranking: Ranking) -> Any:
    """A search of one text at top 10 with `ranking`, no snippets or facets."""
    return lambda text: search(index, text, snippets=False, facets=False, ranking=ranking)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", required=True, help="a built Whoosh index folder")
    ap.add_argument("--corpus", help="the JSONL records the index was built from")
    ap.add_argument("--limit", type=int, help="the first N records (as built)")
    ap.add_argument("--queries", help="a JSONL file of queries ({\"text\": ...}) instead")
    ap.add_argument("--count", type=int, default=300, help="queries generated (bench/run.py's "
                    "--queries)")
    ap.add_argument("--set", action="append", default=[], metavar="NAME:K=V,K=V",
                    help="another ranking to time (repeatable)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"))
    args = ap.parse_args()
    if not args.queries and not args.corpus:
        ap.error("give --corpus (bench/run.py's queries) or --queries")
    ranked = rankings(args.set)
    index = open_index(args.index)
    results: dict[str, Any] = {"command": shown_command(Path(sys.argv[0]).name, sys.argv[1:]),
                               "when": datetime.now(UTC).isoformat(timespec="seconds"),
                               "sets": {}}
    for name, texts in query_sets(args).items():
        found = measure(index, texts, ranked, args.rounds)
        results["sets"][name] = {"queries": len(texts), **found}
        off = found["off"]
        print(f"{name} ({len(texts)} queries)")
        for way, row in found.items():
            print(f"  {way:>8}: p50 {row['p50_ms']:6.2f}  p95 {row['p95_ms']:6.2f}  "
                  f"mean {row['mean_ms']:6.2f} ms   x {row['p50_ms'] / off['p50_ms']:.2f}"
                  f" / {row['p95_ms'] / off['p95_ms']:.2f} / {row['mean_ms'] / off['mean_ms']:.2f}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (out / f"feedback-{stamp}.json").write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
