#!/usr/bin/env python3
"""Furet's benchmark: Furet and SQLite FTS5 on the same articles and queries, in one run.

    python bench/run.py --corpus ../shared/corpora/legi-fr/corpus.jsonl.gz \\
        --sizes 10000,30000,90000 --out bench/results/

For each corpus size: build time, documents/s, peak RSS of the whole process tree, index
size, and search latency (p50/p95/p99, warm, in one process) for top-10, top-10 with
snippets, top-10 with snippets and facets, repeated queries (cache), questions shaped like
PIAF's with and without feedback (each timed both ways in turn), rarer words, word pairs
and two-word phrases with and without snippets (Furet's and FTS5's passes in turn, five
rounds: `measure_rare`), and the timeline of
the results page (counting per year and per month, drawing: bench/timeline.py). At the largest
size also: `update` with nothing changed and with 1 % of the articles changed, cold
queries (a new process each), and `furet-serve` throughput at 1, 2 and 4 workers.
Builds and updates are medians of --runs runs. Prints one table (Furet, FTS5, ratio) and
writes everything, queries included, to OUT/bench-<time>.json and OUT/latest.json.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import fts5, tantivy_ref  # noqa: E402
from bench.corpus import joined, read_records, scaled, write_jsonl  # noqa: E402
from bench.measure import (  # noqa: E402
    arguments,
    median,
    percentile,
    run_measured,
    shown_command,
    time_in_turn,
    time_passes,
)
from bench.queries import generate, generate_questions, generate_rare  # noqa: E402
from bench.timeline import dated, measure_timeline  # noqa: E402

PY = sys.executable


def _dir_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def _furet_index(*args: str) -> list[str]:
    return [PY, "-m", "indexer.cli", *args, "--quiet"]


def _reference_build(module: str, corpus: Path, target: Path) -> Any:
    """Build a reference engine's index (bench/<module>.py) in its own measured process."""
    return run_measured([PY, "-c", (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        f"from bench import {module} as engine; from bench.corpus import read_records;"
        "from pathlib import Path;"
        "engine.build(read_records(sys.argv[2]), Path(sys.argv[3]))"),
        str(ROOT), str(corpus), str(target)])


def measure_build(corpus: Path, work: Path, runs: int, n_docs: int) -> dict[str, Any]:
    """Furet build and FTS5 build of the same JSONL, each in its own process."""
    furet, ref, fast = [], [], []
    for n in range(runs):
        index_dir = work / f"index-{n}"
        shutil.rmtree(index_dir, ignore_errors=True)
        run = run_measured(_furet_index("build", str(corpus), "--index-dir", str(index_dir)),
                           cwd=ROOT)
        if run.returncode not in (0, 1):
            raise SystemExit(f"furet-index build failed ({run.returncode})")
        furet.append(run)
        ref.append(_reference_build("fts5", corpus, work / f"fts5-{n}.db"))
        if tantivy_ref.available():
            folder = work / f"tantivy-{n}"
            shutil.rmtree(folder, ignore_errors=True)
            fast.append(_reference_build("tantivy_ref", corpus, folder))
    # Keep the first index and database for the next measures.
    for n in range(1, runs):
        shutil.rmtree(work / f"index-{n}", ignore_errors=True)
        shutil.rmtree(work / f"tantivy-{n}", ignore_errors=True)
        (work / f"fts5-{n}.db").unlink(missing_ok=True)
    seconds = median([r.seconds for r in furet])
    ref_seconds = median([r.seconds for r in ref])
    return {
        "build_seconds": seconds,
        "build_seconds_fts5": ref_seconds,
        "docs_per_second": n_docs / seconds,
        "docs_per_second_fts5": n_docs / ref_seconds,
        "build_peak_rss_mb": median([r.peak_rss for r in furet]) / 2**20,
        "build_peak_rss_mb_fts5": median([r.peak_rss for r in ref]) / 2**20,
        "index_mb": _dir_size(work / "index-0") / 2**20,
        "index_mb_fts5": (work / "fts5-0.db").stat().st_size / 2**20,
        "build_cpu_seconds": median([r.cpu_seconds for r in furet]),
        "build_cpu_seconds_fts5": median([r.cpu_seconds for r in ref]),
        "build_runs": [r.seconds for r in furet],
        "build_runs_fts5": [r.seconds for r in ref],
        **({
            "build_seconds_tantivy": median([r.seconds for r in fast]),
            "docs_per_second_tantivy": n_docs / median([r.seconds for r in fast]),
            "build_peak_rss_mb_tantivy": median([r.peak_rss for r in fast]) / 2**20,
            "index_mb_tantivy": _dir_size(work / "tantivy-0") / 2**20,
        } if fast else {}),
    }


def measure_updates(records: list[dict[str, Any]], corpus: Path, work: Path, runs: int,
                    build_seconds: float) -> dict[str, Any]:
    """`update` with nothing changed, then with 1 % of the articles changed."""
    index_dir = work / "index-0"
    unchanged = []
    for _ in range(runs):
        unchanged.append(run_measured(_furet_index(
            "update", str(corpus), "--index-dir", str(index_dir)), cwd=ROOT).seconds)
    changed = []
    step = max(len(records) // max(len(records) // 100, 1), 1)
    for n in range(runs):
        edited = [
            {**r, "text": r.get("text", "") + f" (mise à jour {n})"} if i % step == 0 else r
            for i, r in enumerate(records)
        ]
        write_jsonl(edited, corpus)
        changed.append(run_measured(_furet_index(
            "update", str(corpus), "--index-dir", str(index_dir)), cwd=ROOT).seconds)
    write_jsonl(records, corpus)
    run_measured(_furet_index("update", str(corpus), "--index-dir", str(index_dir)), cwd=ROOT)
    return {
        "update_unchanged_seconds": median(unchanged),
        "update_1pct_seconds": median(changed),
        "update_1pct_of_build": median(changed) / build_seconds,
    }


TIMED_OUT: list[str] = []  # queries stopped by the search's time budget, in this run


def _guarded(fn: Any) -> Any:
    """`fn`, but a search stopped by its time budget is recorded instead of ending the run
    (its time, budget included, still counts in the percentiles)."""
    from search.errors import SearchTimeoutError

    def run(text: str) -> object:
        try:
            return fn(text)
        except SearchTimeoutError:
            TIMED_OUT.append(text)
            return None
    return run


def _latencies(fn: Any, queries: list[dict[str, str]]) -> list[float]:
    out = []
    fn = _guarded(fn)
    for q in queries:
        t0 = time.perf_counter()
        fn(q["text"])
        out.append((time.perf_counter() - t0) * 1000)
    return out


def _summary(name: str, values: list[float]) -> dict[str, float]:
    return {f"{name}_p50_ms": percentile(values, 50), f"{name}_p95_ms": percentile(values, 95),
            f"{name}_p99_ms": percentile(values, 99)}


def measure_questions(index: Any, questions: list[dict[str, str]], rounds: int = 3
                      ) -> dict[str, Any]:
    """Questions at top 10, with the default ranking and without feedback
    (feedback_weight 0), each question timed both ways in turn (which goes first
    alternates by round), the result cache emptied before each; the medians of the
    rounds' percentiles, and their ratios."""
    from search import search
    from search.ranking import DEFAULT_RANKING

    rankings = {"questions": DEFAULT_RANKING,
                "questions_nofeedback": replace(DEFAULT_RANKING, feedback_weight=0.0)}
    texts = [q["text"] for q in questions]
    runs = time_in_turn(texts, {
        name: _guarded(lambda text, ranking=ranking: search(
            index, text, snippets=False, facets=False, ranking=ranking))
        for name, ranking in rankings.items()}, rounds, index.clear_caches)
    out: dict[str, Any] = {}
    for name, values in runs.items():
        for p in (50, 95):
            out[f"{name}_p{p}_ms"] = median([percentile(v, p) for v in values])
    for p in (50, 95):
        out[f"questions_feedback_ratio_p{p}"] = (out[f"questions_p{p}_ms"]
                                                 / out[f"questions_nofeedback_p{p}_ms"])
    return out


RARE_ROUNDS = 5  # passes over the rarer set, each engine's in turn


def measure_rare(index: Any, ref: Any, rare: list[dict[str, str]],
                 rounds: int = RARE_ROUNDS) -> dict[str, Any]:
    """The rarer set's top 10 and top 10 with snippets, Furet's and FTS5's: each a pass
    over the set's searches one after the other (as a server answers them), Furet's
    caches and FTS5's page cache emptied before every pass, the passes taken in turn
    (which goes first rotates by round), `rounds` times after one warm-up pass of each.
    Each percentile is the median of the rounds' (a set of 150 searches timed once moved
    its p50 by 20 % from a run to the next)."""
    from search import search

    texts = [q["text"] for q in rare]
    ways = {
        "rare_top10": lambda text: search(index, text, snippets=False, facets=False),
        "fts5_rare_top10": lambda text: ref.search(text),
        "rare_snippets": lambda text: search(index, text, snippets=True, facets=False),
        "fts5_rare_snippets": lambda text: ref.search(text, snippets=True),
    }
    def forget() -> None:  # each engine's caches emptied before every pass, alike
        index.clear_caches()
        ref.forget()

    runs = time_passes(texts, {name: _guarded(way) for name, way in ways.items()}, rounds,
                       forget)
    out: dict[str, Any] = {"rare_rounds": rounds}
    for name, values in runs.items():
        for p in (50, 95, 99):
            out[f"{name}_p{p}_ms"] = median([percentile(v, p) for v in values])
    return out


def measure_search(work: Path, queries: list[dict[str, str]],
                   rare: list[dict[str, str]] | None = None,
                   questions: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """Warm latencies in this process; the result cache is emptied before each pass."""
    from search import open_index, search

    index = open_index(work / "index-0")
    ref = fts5.Searcher(work / "fts5-0.db")
    fresh = [q for q in queries if not q.get("repeat")]
    out: dict[str, Any] = {}

    def cold_cache() -> None:
        index.clear_caches()

    warm = _guarded(lambda text: search(index, text))
    for q in fresh:  # warm up: open files, facet table, analyzer memo
        warm(q["text"])
    cold_cache()
    passes = {
        "top10": dict(snippets=False, facets=False),
        "snippets": dict(snippets=True, facets=False),
        "snippets_facets": dict(snippets=True, facets=True),
    }
    for name, options in passes.items():
        cold_cache()
        values = _latencies(lambda text, o=options: search(index, text, **o), fresh)
        out.update(_summary(name, values))
    cold_cache()
    mixed = _latencies(lambda text: search(index, text), queries)
    repeated = [v for v, q in zip(mixed, queries, strict=True) if q.get("repeat")]
    first_seen: set[str] = set()
    cached = []
    for value, q in zip(mixed, queries, strict=True):
        if q["text"] in first_seen:
            cached.append(value)
        first_seen.add(q["text"])
    out.update(_summary("mixed", mixed))
    out["cached_p50_ms"] = percentile(cached or repeated, 50)
    if rare:  # rarer words, pairs and phrases: where FTS5 is at its best
        out.update(measure_rare(index, ref, rare))
    if questions:  # shaped like PIAF's: where feedback (search/feedback.py) costs
        out.update(measure_questions(index, questions))
    out.update(_summary("fts5_top10", _latencies(lambda t: ref.search(t), fresh)))
    out.update(_summary("fts5_snippets", _latencies(lambda t: ref.search(t, snippets=True),
                                                     fresh)))
    ref.close()
    if tantivy_ref.available() and (work / "tantivy-0").exists():
        fast = tantivy_ref.Searcher(work / "tantivy-0")
        out.update(_summary("tantivy_top10", _latencies(lambda t: fast.search(t), fresh)))
        out.update(_summary("tantivy_snippets", _latencies(
            lambda t: fast.search(t, snippets=True), fresh)))
    index.close()
    return out


def measure_cold(work: Path, queries: list[dict[str, str]], count: int = 10) -> dict[str, Any]:
    """A new process per query: import, open the index, answer one query."""
    furet, ref = [], []
    for q in [q for q in queries if not q.get("repeat")][:count]:
        furet.append(run_measured([PY, "-c", (
            "import sys; sys.path.insert(0, sys.argv[1]);"
            "from search import open_index, search;"
            "search(open_index(sys.argv[2]), sys.argv[3])"),
            str(ROOT), str(work / "index-0"), q["text"]]).seconds * 1000)
        ref.append(run_measured([PY, "-c", (
            "import sys; sys.path.insert(0, sys.argv[1]);"
            "from bench import fts5; from pathlib import Path;"
            "fts5.Searcher(Path(sys.argv[2])).search(sys.argv[3], snippets=True)"),
            str(ROOT), str(work / "fts5-0.db"), q["text"]]).seconds * 1000)
    return {"cold_p50_ms": median(furet), "cold_p50_ms_fts5": median(ref)}


def measure_serve(work: Path, records: list[dict[str, Any]], workers: list[int],
                  seconds: float) -> dict[str, Any]:
    """furet-serve throughput and latency under a bounded load (bench/load.py)."""
    from bench.load import serve_benchmark, serve_queries

    return serve_benchmark(work / "index-0", serve_queries(records), workers=workers,
                           seconds=seconds)


def _latency_rows(label: str, key: str, reference: str | None, percentiles: str
                  ) -> list[tuple[str, str, str | None]]:
    """One row per percentile: (label, Furet's key, FTS5's key or None)."""
    return [(f"{label} p{p} (ms)", f"{key}_p{p}_ms", reference and f"{reference}_p{p}_ms")
            for p in percentiles.split()]


# (label, Furet's key, FTS5's key): the table's rows, in order
ROWS = [
    ("build (s)", "build_seconds", "build_seconds_fts5"),
    ("build CPU, all processes (s)", "build_cpu_seconds", "build_cpu_seconds_fts5"),
    ("documents/s", "docs_per_second", "docs_per_second_fts5"),
    ("build peak RSS (MB)", "build_peak_rss_mb", "build_peak_rss_mb_fts5"),
    ("index size (MB)", "index_mb", "index_mb_fts5"),
    ("update, nothing changed (s)", "update_unchanged_seconds", None),
    ("update, 1 % changed (s)", "update_1pct_seconds", None),
    ("update 1 % / build", "update_1pct_of_build", None),
    *_latency_rows("top-10", "top10", "fts5_top10", "50 95 99"),
    *_latency_rows("+ snippets", "snippets", "fts5_snippets", "50 95 99"),
    *_latency_rows("+ snippets + facets", "snippets_facets", None, "50 95"),
    *_latency_rows("rare words, pairs, phrases", "rare_top10", "fts5_rare_top10", "50 95"),
    *_latency_rows("rare + snippets", "rare_snippets", "fts5_rare_snippets", "50 95"),
    *_latency_rows("questions (PIAF-like)", "questions", None, "50 95"),
    *_latency_rows("questions, no feedback", "questions_nofeedback", None, "50 95"),
    ("questions: feedback / none p50", "questions_feedback_ratio_p50", None),
    ("questions: feedback / none p95", "questions_feedback_ratio_p95", None),
    *_latency_rows("timeline: count by year", "timeline_count", None, "50 95"),
    *_latency_rows("timeline: count by month", "timeline_months_count", None, "50 95"),
    *_latency_rows("timeline: draw", "timeline_draw", None, "50 95"),
    *_latency_rows("timeline: count and draw", "timeline", None, "50 95"),
    ("mixed with 20 % repeats p50 (ms)", "mixed_p50_ms", None),
    ("repeated query, cached p50 (ms)", "cached_p50_ms", None),
    ("cold query, new process p50 (ms)", "cold_p50_ms", "cold_p50_ms_fts5"),
]


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.3f}" if value < 1 else f"{value:,.1f}" if value < 1000 else \
            f"{value:,.0f}"
    return str(value)


def table(results: dict[str, Any]) -> str:
    """The side-by-side table, one block per corpus size."""
    lines = []
    for size, m in results["sizes"].items():
        lines.append(f"\n{size} documents")
        lines.append(f"| {'measure':34} | {'Furet':>10} | {'FTS5':>10} | {'ratio':>7} | "
                     f"{'tantivy':>10} |")
        lines.append(f"|{'-' * 36}|{'-' * 12}:|{'-' * 12}:|{'-' * 9}:|{'-' * 12}:|")
        for label, mine, theirs in ROWS:
            if mine not in m:
                continue
            a, b = m.get(mine), m.get(theirs) if theirs else None
            c = m.get(theirs.replace("fts5", "tantivy")) if theirs else None
            ratio = ""
            if isinstance(a, float) and isinstance(b, float) and b:
                ratio = f"{a / b:,.2f}×" if a / b < 1 else f"{a / b:,.1f}×"
            lines.append(f"| {label:34} | {_fmt(a):>10} | {_fmt(b):>10} | {ratio:>7} | "
                         f"{_fmt(c):>10} |")
        for key, value in m.get("serve", {}).items():
            lines.append(f"| serve {key:28} | {_fmt(value):>10} | {'':>10} | {'':>7} | "
                         f"{'':>10} |")
    lines.append("\nFTS5: unicode61 remove_diacritics 2, no French stemming, no ligature folding."
                 " tantivy (optional): ASCII folding, French stop words and stemming."
                 " Furet also indexes exact forms, leads, facets and flat postings.")
    return "\n".join(lines)


def main() -> None:
    ap = arguments(__doc__)
    ap.add_argument("--sizes", default="", help="comma-separated corpus sizes (e.g. 10000,30000)")
    ap.add_argument("--limit", type=int, help="one size: the first N records (default, and 0: "
                    "the whole corpus)")
    ap.add_argument("--scale", default="", help="larger sizes built by repeating the corpus")
    ap.add_argument("--only-scale", action="store_true",
                    help="build only the --scale sizes (from the whole corpus, or --sizes')")
    ap.add_argument("--news-words", type=int, default=0,
                    help="make news-sized articles first: consecutive articles joined until "
                    "each has about this many words (e.g. 600)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--workers", default="1,2,4", help="furet-serve worker counts")
    ap.add_argument("--serve-seconds", type=float, default=20.0)
    ap.add_argument("--skip-serve", action="store_true")
    ap.add_argument("--build-only", action="store_true",
                    help="measure the builds alone (Furet, FTS5, tantivy when installed); "
                    "written to build-STAMP.json, latest.json left as it is")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"))
    ap.add_argument("--work", help="build in this folder and keep it (one size only; the "
                    "default is a temporary folder removed at the end)")
    args = ap.parse_args()

    sizes = [int(s) for s in args.sizes.split(",") if s] or [args.limit or 0]
    scale = [int(s) for s in args.scale.split(",") if s]
    top = max(sizes + scale) or None
    base = [dated(record) for record in read_records(args.corpus, max(sizes) or None)]
    if args.news_words:
        base = joined(base, args.news_words)
    if args.only_scale and scale:
        sizes = []
    results: dict[str, Any] = {
        "command": shown_command(Path(sys.argv[0]).name, sys.argv[1:]),
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "system": platform.platform(), "processor": platform.processor()},
        "sizes": {},
    }
    queries = generate(base, args.queries)
    rare = generate_rare(base, args.queries // 2)
    questions = generate_questions(base, max(args.queries // 3, 30))
    results["queries"] = queries
    results["rare_queries"] = rare
    results["question_queries"] = questions
    if args.work and len(set(sizes + scale)) > 1:
        ap.error("--work keeps one build: give one size")
    for size in sorted(set(sizes + scale)):
        # Size 0 (no --sizes nor --limit): the whole corpus.
        records = base if not size else base[:size] if size <= len(base) else \
            list(scaled(base, size))
        with _work_folder(args.work) as tmp:
            work = Path(tmp)
            corpus = work / "corpus.jsonl"
            count = write_jsonl(records, corpus)
            print(f"== {count} documents", file=sys.stderr)
            m = measure_build(corpus, work, args.runs, count)
            print(f"   build {m['build_seconds']:.1f} s (FTS5 {m['build_seconds_fts5']:.1f} s)",
                  file=sys.stderr)
            if args.build_only:
                results["sizes"][str(count)] = m
                continue
            TIMED_OUT.clear()
            m.update(measure_search(work, queries, rare, questions))
            m["searches_timed_out"] = list(TIMED_OUT)
            if TIMED_OUT:
                print(f"   {len(TIMED_OUT)} searches stopped by their time budget",
                      file=sys.stderr)
            m.update(measure_timeline(work / "index-0", queries))
            if size == top or top is None:
                m.update(measure_updates(records, corpus, work, args.runs, m["build_seconds"]))
                m.update(measure_cold(work, queries))
                if not args.skip_serve:
                    workers = [int(w) for w in args.workers.split(",") if w]
                    m["serve"] = measure_serve(work, records, workers, args.serve_seconds)
            results["sizes"][str(count)] = m
    print(table(results))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    names = [f"build-{stamp}.json"] if args.build_only else [f"bench-{stamp}.json",
                                                              "latest.json"]
    for name in names:
        (out / name).write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(f"\nwrote {out / names[0]}", file=sys.stderr)


def _work_folder(path: str | None) -> Any:
    """A temporary folder, or `path` kept after the run (made if missing)."""
    if path is None:
        return tempfile.TemporaryDirectory(prefix="furet-bench-")
    Path(path).mkdir(parents=True, exist_ok=True)
    return contextlib.nullcontext(path)


def _stop_on_term(signum: int, frame: Any) -> None:
    raise SystemExit(f"stopped by signal {signum}")  # so servers started are stopped too


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _stop_on_term)
    try:
        main()
    except subprocess.CalledProcessError as err:
        raise SystemExit(f"benchmark step failed: {err}") from None
