#!/usr/bin/env python3
"""Relevance of Furet's ranking on a retrieval set (corpus, queries, qrels).

Builds a temporary index of the corpus through Furet's own indexer, runs every query
through `search.search()`, writes the top 100 per query as a TREC run and scores it with
the project's scorer (MRR@10, R@10, R@100, nDCG@10...).

    python bench/relevance.py --corpus ../shared/corpora/piaf-dev/corpus.jsonl \\
        --queries ../shared/corpora/piaf-dev/queries.jsonl \\
        --qrels ../shared/corpora/piaf-dev/qrels.tsv --run piaf.trec

Corpus records need `id`, `title` and `text` (or `body`); queries `id` and `text`.

`--backend postgresql` measures the PostgreSQL backend instead: the corpus is indexed
into `--database-url` (its Furet index is replaced), or, without one, into a private
PostgreSQL cluster started for the run (bench/pgcluster.py) and removed after it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from indexer import planner  # noqa: E402
from search import Backend, search, store_for  # noqa: E402


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
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="furet-relevance-") as tmp, \
            indexed(args.corpus, args.backend, args.database_url, Path(tmp)) as index:
        with open(args.queries, encoding="utf-8") as f:
            queries = [json.loads(line) for line in f if line.strip()]
        latencies = []
        with open(args.run, "w", encoding="utf-8") as run:
            for q in queries:
                t0 = time.perf_counter()
                results = search(index, q["text"], per_page=args.depth, facets=False,
                                 correct_spelling=False)
                latencies.append((time.perf_counter() - t0) * 1000)
                for rank, hit in enumerate(results.hits, 1):
                    score = args.depth - rank + 1  # ranks across tiers, as trec_eval reads them
                    run.write(f"{q['id']} Q0 {hit.id} {rank} {score} furet\n")
    latencies.sort()
    print(f"{len(queries)} queries, median {latencies[len(latencies) // 2]:.1f} ms",
          file=sys.stderr)
    scorer = find_scorer(args.scorer)
    out = subprocess.run([sys.executable, str(scorer), args.run, "--qrels", args.qrels,
                          "--json"], capture_output=True, text=True, check=True)
    metrics = json.loads(out.stdout)
    for key, value in metrics.items():
        print(f"{key:10} {value}")
    if args.json:
        Path(args.json).write_text(json.dumps(metrics, indent=2) + "\n")


if __name__ == "__main__":
    main()
