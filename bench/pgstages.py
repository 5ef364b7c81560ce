#!/usr/bin/env python3
"""Where a PostgreSQL search spends its time, in process, beside the Whoosh store's time.

    python bench/pgstages.py --corpus ../shared/corpora/legi-fr/corpus.jsonl.gz \
        --database-url postgresql://... --index-dir index/ [--queries 150]

Runs the benchmark's distinct queries (bench/load.py's stream, as bench/scale.py sends
them: facets and snippets on, result cache cleared before each) once on each store, after
one warm-up pass. For PostgreSQL, each statement's time is summed under the method of
search/postgres that sent it (state, facets, page, spelling...); "python" is what is left
of the search's wall time. Prints medians and p95 per stage and the whole, and writes
OUT/pgstages-<time>.json. Both indexes must hold the same articles (e.g. built by
bench/scale.py's commands from the same --limit).
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.corpus import read_records  # noqa: E402
from bench.load import serve_queries  # noqa: E402
from bench.measure import arguments  # noqa: E402


class _TimedConnection:
    """A connection whose statements' times are summed by the function that sent them."""

    def __init__(self, conn: Any, spent: dict[str, float]) -> None:
        self._conn = conn
        self._spent = spent

    def execute(self, *args: Any, **kwargs: Any) -> Any:
        caller = sys._getframe(1).f_code.co_name.lstrip("_")
        started = time.perf_counter()
        cursor = self._conn.execute(*args, **kwargs)
        self._spent[caller] += time.perf_counter() - started
        return cursor

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def profile(backend: Any, texts: list[str], *, postgres: bool) -> dict[str, Any]:
    """Per-query milliseconds: the whole search and, for PostgreSQL, each stage."""
    from search.request import SearchRequest

    stages: dict[str, list[float]] = defaultdict(list)
    spent: dict[str, float] = defaultdict(float)
    if postgres:
        from search.postgres.backend import PostgresView

        original = PostgresView.__init__

        def timed_init(self: Any, conn: Any, *args: Any) -> None:
            original(self, _TimedConnection(conn, spent), *args)

        PostgresView.__init__ = timed_init  # type: ignore[method-assign]
    try:
        for rounds in (0, 1):  # a warm-up pass, then the measured one
            for text in texts:
                backend.clear_caches()
                spent.clear()
                started = time.perf_counter()
                backend.search(SearchRequest(text))
                whole = time.perf_counter() - started
                if rounds:
                    stages["whole"].append(whole * 1000)
                    if postgres:
                        for name in ("read_state", "facets", "page", "limit_statements"):
                            stages[name].append(spent.get(name, 0.0) * 1000)
                        others = sum(v for k, v in spent.items()
                                     if k not in ("read_state", "facets", "page",
                                                  "limit_statements"))
                        stages["other_sql"].append(others * 1000)
                        stages["python"].append((whole - sum(spent.values())) * 1000)
    finally:
        if postgres:
            PostgresView.__init__ = original  # type: ignore[method-assign]
    return {name: {"p50_ms": round(statistics.median(v), 2),
                   "p95_ms": round(_percentile(v, 0.95), 2),
                   "mean_ms": round(statistics.fmean(v), 2)} for name, v in stages.items()}


def main() -> None:
    ap = arguments(__doc__)
    ap.add_argument("--limit", type=int, default=30000, help="first N records (0: all)")
    ap.add_argument("--database-url", required=True)
    ap.add_argument("--index-dir", required=True)
    ap.add_argument("--queries", type=int, default=150, help="distinct queries measured")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"))
    args = ap.parse_args()
    from search.postgres.backend import open_postgres
    from search.stores import open_index

    records = read_records(args.corpus, args.limit or None)
    texts = list(dict.fromkeys(q["text"] for q in serve_queries(records, 1000)))
    texts = texts[:args.queries]
    results: dict[str, Any] = {
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "when": datetime.now(UTC).isoformat(timespec="seconds"), "queries": len(texts)}
    whoosh = open_index(args.index_dir)
    results["whoosh"] = profile(whoosh, texts, postgres=False)
    whoosh.close()
    postgres = open_postgres(args.database_url)
    results["postgresql"] = profile(postgres, texts, postgres=True)
    postgres.close()
    for store in ("whoosh", "postgresql"):
        for stage, numbers in results[store].items():
            print(f"{store:10} {stage:17} p50 {numbers['p50_ms']:7.2f} ms  "
                  f"p95 {numbers['p95_ms']:7.2f} ms  mean {numbers['mean_ms']:7.2f} ms")
    ratio = results["postgresql"]["whole"]["mean_ms"] / results["whoosh"]["whole"]["mean_ms"]
    print(f"PostgreSQL / Whoosh, mean time per search: {ratio:.2f}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (out / f"pgstages-{stamp}.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out / f'pgstages-{stamp}.json'}", file=sys.stderr)


if __name__ == "__main__":
    main()
