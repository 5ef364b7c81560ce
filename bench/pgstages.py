#!/usr/bin/env python3
"""Where a PostgreSQL search spends its time, in process, beside the Whoosh store's time.

    python bench/pgstages.py --corpus ../shared/corpora/legi-fr/corpus.jsonl.gz \
        --database-url postgresql://... --index-dir index/ [--queries 150]

Runs the benchmark's distinct queries (bench/load.py's stream, as bench/scale.py sends
them: facets and snippets on, result cache cleared before each) once on each store, after
one warm-up pass, each query on one store then the other (both see the same load). For
PostgreSQL, each statement's time is summed under the method of search/postgres that sent
it (read_state, ranked, facets, page, spelling's...; share_of_queries: how many queries
sent one); "python" is what is left of the search's wall time. Each request also reads the
store's generation first, as the API does for its ETag; "round_trips" counts the
statements PostgreSQL got for the request (pool checks, BEGIN and COMMIT included). Prints
medians and p95 per stage and the whole, and writes OUT/pgstages-<time>.json. Both indexes
must hold the same articles (e.g. built from the same --limit of the corpus).
"""

from __future__ import annotations

import json
import os
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
from bench.measure import arguments, shown_command  # noqa: E402


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

    def last(self, *args: Any, **kwargs: Any) -> Any:
        caller = sys._getframe(1).f_code.co_name.lstrip("_")
        started = time.perf_counter()
        rows = self._conn.last(*args, **kwargs)
        self._spent[caller] += time.perf_counter() - started
        return rows

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


def _server_cpu(backend: Any) -> float:
    """CPU seconds used so far by the PostgreSQL server processes serving `backend`'s pool
    (read from /proc: the cluster runs on this machine)."""
    with backend.view() as view:
        pids = [pid for (pid,) in view.conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = 'furet'")]
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def profile(whoosh: Any, postgres: Any, texts: list[str]) -> dict[str, Any]:
    """Per-query milliseconds on each store (one after the other for each query, so both
    see the same load) and, for PostgreSQL, each stage."""
    from search.postgres.backend import PostgresView
    from search.request import SearchRequest

    stages: dict[str, dict[str, list[float]]] = {"whoosh": defaultdict(list),
                                                 "postgresql": defaultdict(list)}
    spent: dict[str, float] = defaultdict(float)
    original = PostgresView.__init__

    def timed_init(self: Any, conn: Any, *args: Any, **kwargs: Any) -> None:
        original(self, _TimedConnection(conn, spent), *args, **kwargs)

    PostgresView.__init__ = timed_init  # type: ignore[method-assign]
    import psycopg

    # Every statement goes through a cursor's execute, or (BEGIN, COMMIT, ROLLBACK that
    # psycopg sends itself) the connection's _exec_command: one round trip each.
    sent = [0]
    execute, command = psycopg.Cursor.execute, psycopg.Connection._exec_command
    pipeline = psycopg.Connection.pipeline

    def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        sent[0] += self._conn._pipeline is None  # a pipeline's statements: one round trip
        return execute(self, *args, **kwargs)

    def counted_pipeline(self: Any, *args: Any, **kwargs: Any) -> Any:
        sent[0] += 1
        return pipeline(self, *args, **kwargs)

    def counted_command(self: Any, *args: Any, **kwargs: Any) -> Any:
        sent[0] += 1
        return command(self, *args, **kwargs)

    psycopg.Cursor.execute = counted  # type: ignore[method-assign]
    psycopg.Connection._exec_command = counted_command  # type: ignore[method-assign]
    psycopg.Connection.pipeline = counted_pipeline  # type: ignore[method-assign]
    cpu = {"whoosh": 0.0, "postgresql": 0.0}
    try:
        for rounds in (0, 1):  # a warm-up pass, then the measured one
            server = _server_cpu(postgres)
            for text in texts:
                for name, backend in (("whoosh", whoosh), ("postgresql", postgres)):
                    backend.clear_caches()
                    spent.clear()
                    started, started_cpu = time.perf_counter(), time.process_time()
                    sent[0] = 0
                    assert backend.generation  # the API's ETag
                    backend.search(SearchRequest(text))
                    whole = time.perf_counter() - started
                    if not rounds:
                        continue
                    cpu[name] += time.process_time() - started_cpu
                    stages[name]["whole"].append(whole * 1000)
                    if name == "postgresql":
                        for stage, seconds in spent.items():
                            stages[name][stage].append(seconds * 1000)
                        stages[name]["python"].append((whole - sum(spent.values())) * 1000)
                        stages[name]["round_trips"].append(float(sent[0]))
            server = _server_cpu(postgres) - server
    finally:
        PostgresView.__init__ = original  # type: ignore[method-assign]
        psycopg.Cursor.execute = execute  # type: ignore[method-assign]
        psycopg.Connection._exec_command = command  # type: ignore[method-assign]
        psycopg.Connection.pipeline = pipeline  # type: ignore[method-assign]
    # What bounds requests per second on a machine serving both: CPU per search.
    cpu_ms = {"whoosh": {"python": cpu["whoosh"]}, "postgresql": {
        "python": cpu["postgresql"], "server": server, "both": cpu["postgresql"] + server}}
    return {store: {**{f"cpu_{part}": {"mean_ms": round(seconds * 1000 / len(texts), 2)}
                       for part, seconds in cpu_ms[store].items()},
                    **{stage: {"p50_ms": round(statistics.median(v), 2),
                            "p95_ms": round(_percentile(v, 0.95), 2),
                            "mean_ms": round(statistics.fmean(v), 2),
                            "share_of_queries": round(len(v) / len(texts), 2)}
                       for stage, v in found.items()}} for store, found in stages.items()}


def main() -> None:
    ap = arguments(__doc__)
    ap.add_argument("--limit", type=int, default=30000, help="first N records (0: all)")
    ap.add_argument("--database-url", required=True)
    ap.add_argument("--index-dir", required=True)
    ap.add_argument("--queries", type=int, default=150, help="distinct queries measured")
    ap.add_argument("--posting-cache-mb", type=float, help="the PostgreSQL store's cache of "
                    "decoded posting lists per process (default: the store's; 0: none, each "
                    "search reads its lists)")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"))
    args = ap.parse_args()
    from search.postgres.backend import open_postgres
    from search.stores import open_index

    records = read_records(args.corpus, args.limit or None)
    texts = list(dict.fromkeys(q["text"] for q in serve_queries(records, 1000)))
    texts = texts[:args.queries]
    results: dict[str, Any] = {
        "command": shown_command(Path(sys.argv[0]).name, sys.argv[1:]),
        "when": datetime.now(UTC).isoformat(timespec="seconds"), "queries": len(texts)}
    whoosh, postgres = open_index(args.index_dir), open_postgres(args.database_url)
    if args.posting_cache_mb is not None:
        postgres._postings.limit = int(args.posting_cache_mb * 2**20)
        results["posting_cache_mb"] = args.posting_cache_mb
    results.update(profile(whoosh, postgres, texts))
    whoosh.close()
    postgres.close()
    for store in ("whoosh", "postgresql"):
        for stage, numbers in results[store].items():
            if stage.startswith("cpu_"):
                print(f"{store:10} {stage:17} CPU per search, mean {numbers['mean_ms']:7.2f} ms")
                continue
            unit = "" if stage == "round_trips" else " ms"
            print(f"{store:10} {stage:17} ({numbers['share_of_queries']:4.2f}) "
                  f"p50 {numbers['p50_ms']:7.2f}{unit}  p95 {numbers['p95_ms']:7.2f}{unit}  "
                  f"mean {numbers['mean_ms']:7.2f}{unit}")
    ratio = results["postgresql"]["whole"]["mean_ms"] / results["whoosh"]["whole"]["mean_ms"]
    cpu = results["postgresql"]["cpu_both"]["mean_ms"] / results["whoosh"]["cpu_python"]["mean_ms"]
    print(f"PostgreSQL / Whoosh, mean time per search: {ratio:.2f}; CPU per search "
          f"(PostgreSQL: Python and server): {cpu:.2f}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (out / f"pgstages-{stamp}.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out / f'pgstages-{stamp}.json'}", file=sys.stderr)


if __name__ == "__main__":
    main()
