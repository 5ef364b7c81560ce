#!/usr/bin/env python3
"""Relevance of Furet's ranking on a retrieval set (corpus, queries, qrels).

Builds a temporary index of the corpus through Furet's own indexer, runs every query
through `search.search()`, writes the top 100 per query as a TREC run and scores it with
the project's scorer (MRR@10, R@10, R@100, nDCG@10...).

    python bench/relevance.py --corpus ../shared/corpora/piaf-dev/corpus.jsonl \\
        --queries ../shared/corpora/piaf-dev/queries.jsonl \\
        --qrels ../shared/corpora/piaf-dev/qrels.tsv --run piaf.trec

Corpus records need `id`, `title` and `text` (or `body`); queries `id` and `text`.

`--set NAME=VALUE` ranks with another value of a ranking parameter (search/ranking.py's
`Ranking`: k1, b...). `--grid NAME=V1,V2,...` runs every combination of the values given;
with `--folds K` the queries are split into K folds (bench/crossval.py) and each fold is
ranked with the combination that scores best (nDCG@10, or the metric `--tune-on` names)
on the other K - 1: the metrics printed, the run and `--per-query` are those held-out
results, not a fit. Without a grid, `--folds` shows how the score varies from fold to
fold. `--per-query FILE` writes one line per judged query (fold, rank of the first
relevant document, metrics, the query), so losses can be read and two runs compared line
by line.

`--backend postgresql` measures the PostgreSQL backend instead: the corpus is indexed
into `--database-url` (its Furet index is replaced), or, without one, into a private
PostgreSQL cluster started for the run (bench/pgcluster.py) and removed after it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.crossval import (  # noqa: E402
    METRICS,
    TUNED_ON,
    combinations,
    fold_of,
    held_out,
    per_query_scores,
)
from indexer import planner  # noqa: E402
from search import Backend, search, store_for  # noqa: E402
from search.ranking import DEFAULT_RANKING, Ranking  # noqa: E402


def find_scorer(explicit: str | None) -> Path:
    """The retrieval scorer: --scorer, else tools/eval_retrieval.py beside the corpora."""
    if explicit:
        return Path(explicit)
    for parent in (ROOT.parent / "shared" / "tools", ROOT / "tools"):
        candidate = parent / "eval_retrieval.py"
        if candidate.exists():
            return candidate
    sys.exit("cannot find eval_retrieval.py; pass --scorer PATH")


@contextmanager
def indexed(corpus: str, backend: str, database_url: str | None, tmp: Path
            ) -> Iterator[Backend]:
    """The corpus indexed by the chosen backend, opened for searching."""
    with ExitStack() as stack:
        started = time.perf_counter()
        if backend == "postgresql" and not database_url:
            from bench.pgcluster import private_cluster

            cluster = stack.enter_context(private_cluster())
            database_url = cluster.create_database("relevance")
        store = store_for(backend=backend, index_dir=tmp / "index", database_url=database_url)
        if backend == "postgresql":
            store.init()
        with store.open_writer() as writer:
            report = planner.build(writer, [corpus])
        print(f"{backend}: indexed {report.added} documents in "
              f"{time.perf_counter() - started:.1f} s ({report.rejected} rejected)",
              file=sys.stderr)
        index = store.open_backend()
        stack.callback(index.close)
        yield index


def _pairs(items: list[str], *, many: bool) -> dict[str, list[str]]:
    """NAME=VALUE (or NAME=V1,V2 when `many`) arguments as {name: [values]}."""
    out: dict[str, list[str]] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not value:
            sys.exit(f"expected NAME=VALUE, got {item!r}")
        out[name.strip()] = [v.strip() for v in value.split(",")] if many else [value.strip()]
    return out


def rank_all(index: Backend, queries: list[dict[str, str]], ranking: Ranking, depth: int
             ) -> tuple[dict[str, list[str]], list[float]]:
    """The ids found for each query, best first, and each search's time (ms)."""
    found, latencies = {}, []
    for q in queries:
        t0 = time.perf_counter()
        results = search(index, q["text"], per_page=depth, facets=False,
                         correct_spelling=False, snippets=False, ranking=ranking)
        latencies.append((time.perf_counter() - t0) * 1000)
        found[q["id"]] = [hit.id for hit in results.hits]
    return found, latencies


def write_run(path: Path, found: dict[str, list[str]], depth: int) -> None:
    with open(path, "w", encoding="utf-8") as run:
        for qid, ids in found.items():
            for rank, doc in enumerate(ids, 1):
                score = depth - rank + 1  # ranks across tiers, as trec_eval reads them
                run.write(f"{qid} Q0 {doc} {rank} {score} furet\n")


def _first_relevant(ids: list[str], relevant: set[str]) -> int:
    return next((rank for rank, doc in enumerate(ids, 1) if doc in relevant), 0)


def _read_qrels(path: str) -> dict[str, set[str]]:
    relevant: dict[str, set[str]] = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) in (3, 4) and int(parts[-1]) > 0:
                relevant.setdefault(parts[0], set()).add(parts[-2])
    return relevant


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--queries", required=True)
    ap.add_argument("--qrels", required=True)
    ap.add_argument("--run", required=True, help="TREC run file to write")
    ap.add_argument("--depth", type=int, default=100)
    ap.add_argument("--scorer", help="path to eval_retrieval.py")
    ap.add_argument("--json", help="also write the metrics to this JSON file")
    ap.add_argument("--backend", choices=("whoosh", "postgresql"), default="whoosh")
    ap.add_argument("--database-url", help="PostgreSQL database to index into (default: a "
                    "private cluster for the run)")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                    help="a ranking parameter's value (search/ranking.py)")
    ap.add_argument("--grid", action="append", default=[], metavar="NAME=V1,V2",
                    help="values of a ranking parameter to choose from (every combination)")
    ap.add_argument("--tune-on", choices=METRICS, default=TUNED_ON,
                    help=f"the metric a grid is tuned for (default {TUNED_ON})")
    ap.add_argument("--folds", type=int, default=0,
                    help="cross-validate over this many folds (at least 2)")
    ap.add_argument("--per-query", help="write each query's fold, rank and metrics here (TSV)")
    args = ap.parse_args()
    if args.folds == 1 or args.folds < 0:
        sys.exit("--folds: at least 2 (or 0: no cross-validation)")
    try:
        base = DEFAULT_RANKING.with_values(
            {k: v[0] for k, v in _pairs(args.set, many=False).items()})
        grid = combinations(_pairs(args.grid, many=True))
        rankings = [base.with_values(combo) for combo in grid]
    except ValueError as err:
        sys.exit(str(err))
    scorer = find_scorer(args.scorer)
    with open(args.queries, encoding="utf-8") as f:
        queries = [json.loads(line) for line in f if line.strip()]

    with tempfile.TemporaryDirectory(prefix="furet-relevance-") as tmp, \
            indexed(args.corpus, args.backend, args.database_url, Path(tmp)) as index:
        runs, scores = [], []
        for n, ranking in enumerate(rankings):
            found, latencies = rank_all(index, queries, ranking, args.depth)
            runs.append(found)
            if len(rankings) > 1:
                write_run(Path(tmp) / "grid.trec", found, args.depth)
                scores.append(per_query_scores(scorer, Path(tmp) / "grid.trec", args.qrels))
                print(f"{grid[n]}: " + ", ".join(
                    f"{m} {statistics.fmean(s[m] for s in scores[-1].values()):.4f}"
                    for m in dict.fromkeys((args.tune_on, "nDCG@10", "R@100"))) + " (fit)",
                    file=sys.stderr)
            else:
                print(f"{len(queries)} queries, median {statistics.median(latencies):.1f} ms",
                      file=sys.stderr)
    chosen = [0] * max(args.folds, 1)
    if len(rankings) > 1:
        if args.folds:
            chosen, _ = held_out(scores, args.folds, args.tune_on)
        else:
            means = [statistics.fmean(s[args.tune_on] for s in sc.values()) for sc in scores]
            chosen = [max(range(len(means)), key=lambda i: (means[i], -i))]
            print("no --folds: the best combination on every query (a fit, not held out)",
                  file=sys.stderr)
    folds = max(args.folds, 1)
    fold = {q["id"]: fold_of(q["id"], folds) for q in queries}
    final = {q["id"]: runs[chosen[fold[q["id"]]]][q["id"]] for q in queries}
    write_run(Path(args.run), final, args.depth)
    out = subprocess.run([sys.executable, str(scorer), args.run, "--qrels", args.qrels,
                          "--json"], capture_output=True, text=True, check=True)
    metrics = json.loads(out.stdout)
    for key, value in metrics.items():
        print(f"{key:10} {value}")
    per_query = per_query_scores(scorer, Path(args.run), args.qrels)
    report: dict[str, object] = dict(metrics)
    if args.folds:
        report["folds"] = _fold_lines(per_query, fold, chosen, grid)
    if args.per_query:
        relevant = _read_qrels(args.qrels)
        text = {q["id"]: q["text"] for q in queries}
        with open(args.per_query, "w", encoding="utf-8") as f:
            f.write("\t".join(("query", "fold", "first_relevant", *METRICS, "text")) + "\n")
            for qid in sorted(per_query):
                row = [qid, str(fold.get(qid, 0)),
                       str(_first_relevant(final.get(qid, []), relevant.get(qid, set()))),
                       *(f"{per_query[qid][m]:.4f}" for m in METRICS),
                       " ".join(text.get(qid, "").split())]
                f.write("\t".join(row) + "\n")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")


def _fold_lines(per_query: dict[str, dict[str, float]], fold: dict[str, int],
                chosen: list[int], grid: list[dict[str, str]]) -> list[dict[str, object]]:
    """Print and return, per fold, its queries' metrics and the parameters it was ranked
    with (chosen on the other folds when there is a grid)."""
    lines: list[dict[str, object]] = []
    for f, index in enumerate(chosen):
        members = [q for q in per_query if fold.get(q) == f]
        line: dict[str, object] = {
            "fold": f, "queries": len(members), "parameters": grid[index],
            **{m: round(statistics.fmean(per_query[q][m] for q in members), 4)
               for m in ("nDCG@10", "MRR@10", "R@100") if members}}
        print(f"fold {f}: {len(members)} queries, " + ", ".join(
            f"{m} {line[m]}" for m in ("nDCG@10", "MRR@10", "R@100") if m in line)
            + (f", with {grid[index]}" if grid[index] else ""))
        lines.append(line)
    return lines


if __name__ == "__main__":
    main()
