#!/usr/bin/env python3
"""Search latency of this checkout against another commit's, on the same articles and queries.

    python bench/versions.py --corpus ../shared/corpora/legi-fr/corpus.jsonl.gz \\
        --limit 20000 --against 0b665a5 [--work FOLDER] [--rounds 5]

The other commit is extracted with `git archive`; each version builds its own index of the
first `--limit` records (index formats change between versions) in FOLDER (kept and reused
when given, so a second run times again without building). Each version then runs in a
process of its own, and every query is timed in each process in turn (which goes first
turns by query and round), timed inside the process: bench/run.py's 300 queries (its 240
first-seen ones) at top 10, with snippets, with snippets and facets; the questions among
them; and its 100 PIAF-shaped questions at top 10. This checkout is timed twice, with its
default ranking and with `feedback_weight` 0 (question feedback off), each in its own
process. Each pass starts with the result cache emptied, as bench/run.py's does. Prints,
per set, the medians over the rounds of p50 and p95 and the ratios to the other commit;
writes them to OUT/versions-<time>.json with the load average before and after.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.corpus import read_records, write_jsonl  # noqa: E402
from bench.measure import (  # noqa: E402
    ScriptProcess,
    arguments,
    percentile,
    run_measured,
    shown_command,
    write_results,
)
from bench.queries import generate, generate_questions  # noqa: E402
from bench.timeline import dated  # noqa: E402

# Runs inside each version's process (its own tree first on sys.path): one JSON command a
# line on stdin, one JSON answer a line on stdout. Only the API every version has.
WORKER = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
from search import open_index, search
index = open_index(sys.argv[2])
extra = {}
if sys.argv[3] != "{}":
    from search.ranking import DEFAULT_RANKING
    extra["ranking"] = DEFAULT_RANKING.with_values(json.loads(sys.argv[3]))
for line in sys.stdin:
    command = json.loads(line)
    if "clear" in command:
        index.clear_caches()
        answer = None
    else:
        started, cpu = time.perf_counter(), time.process_time()
        found = search(index, command["text"], **command["options"], **extra)
        answer = [(time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000,
                  found.total, [h.id for h in found.hits]]
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()
"""

PASSES = {"top10": {"snippets": False, "facets": False},
          "snippets": {"snippets": True, "facets": False},
          "snippets_facets": {"snippets": True, "facets": True}}


class Worker(ScriptProcess):
    """One version's searching process."""

    def __init__(self, tree: Path, index: Path, ranking: dict[str, str]) -> None:
        super().__init__(WORKER, tree, str(index), json.dumps(ranking))


def extract(commit: str, target: Path) -> str:
    """The commit's files in `target`; its full hash."""
    full = subprocess.run(["git", "rev-parse", commit], cwd=ROOT, check=True,
                          capture_output=True, text=True).stdout.strip()
    if not (target / "search").is_dir():
        target.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "archive", full], cwd=ROOT, check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return full


def build(tree: Path, corpus: Path, index: Path) -> float | None:
    """Build `index` with the code in `tree` (seconds), or None when it is already built."""
    if index.is_dir():
        return None
    run = run_measured([sys.executable, "-m", "indexer.cli", "build", str(corpus),
                        "--index-dir", str(index), "--quiet"], cwd=tree)
    if run.returncode not in (0, 1):
        raise SystemExit(f"the build with {tree} failed ({run.returncode})")
    return run.seconds


def time_sets(workers: dict[str, Worker], sets: dict[str, tuple[list[str], dict[str, bool]]],
              rounds: int) -> dict[str, dict[str, list[list[tuple[float, float]]]]]:
    """Per set, per version, the (wall, CPU) milliseconds of each query of each round;
    every query timed in each version in turn, the first version turning by query and
    round."""
    names = list(workers)
    for texts, options in sets.values():  # warm up: files, facet table, analyser memo
        for text in texts:
            for worker in workers.values():
                worker.ask({"text": text, "options": options})
    found: dict[str, dict[str, list[list[tuple[float, float]]]]] = {
        s: {n: [] for n in names} for s in sets}
    for n in range(rounds):
        for name, (texts, options) in sets.items():
            for worker in workers.values():
                worker.ask({"clear": True})
            times: dict[str, list[tuple[float, float]]] = {way: [] for way in names}
            for i, text in enumerate(texts):
                turn = (n + i) % len(names)
                for way in names[turn:] + names[:turn]:
                    wall, cpu, *_ = workers[way].ask({"text": text, "options": options})
                    times[way].append((wall, cpu))
            for way in names:
                found[name][way].append(times[way])
    return found


def summary(runs: dict[str, list[list[tuple[float, float]]]], base: str
            ) -> dict[str, dict[str, float]]:
    """Medians over the rounds of p50, p95 and mean, and of their ratios to `base`'s, for
    wall time (what a reader waits) and CPU time (`cpu_...`: what the machine's other jobs
    move least)."""
    out: dict[str, dict[str, float]] = {}
    for way, rounds in runs.items():
        row: dict[str, float] = {}
        for prefix, column in (("", 0), ("cpu_", 1)):
            mine = [[t[column] for t in r] for r in rounds]
            theirs = [[t[column] for t in r] for r in runs[base]]
            for p in (50, 95):
                row[f"{prefix}p{p}_ms"] = statistics.median(percentile(v, p) for v in mine)
                row[f"{prefix}p{p}_ratio"] = statistics.median(
                    percentile(v, p) / percentile(b, p) for v, b in zip(mine, theirs,
                                                                          strict=True))
            row[f"{prefix}mean_ms"] = statistics.median(statistics.mean(v) for v in mine)
        out[way] = row
    return out


def same_pages(workers: dict[str, Worker], texts: list[str], base: str) -> dict[str, int]:
    """How many of `texts` each version answers with `base`'s total and first ten ids."""
    answers = {name: [w.ask({"text": t, "options": PASSES["top10"]})[2:] for t in texts]
               for name, w in workers.items()}
    first = answers[base]
    return {name: sum(a == b for a, b in zip(found, first, strict=True))
            for name, found in answers.items()}


def main() -> None:
    ap = arguments(__doc__)
    ap.add_argument("--limit", type=int, required=True, help="the first N records")
    ap.add_argument("--against", required=True, help="the other commit (hash, tag, branch)")
    ap.add_argument("--also", action="append", default=[], metavar="COMMIT",
                    help="another commit to time on this checkout's index (one whose index "
                    "format is this checkout's), e.g. the main branch (repeatable)")
    ap.add_argument("--work", help="folder for the extracted commit and both indexes (kept "
                    "and reused; a temporary folder otherwise)")
    ap.add_argument("--queries", type=int, default=300, help="as bench/run.py's --queries")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"))
    args = ap.parse_args()
    temporary = None if args.work else tempfile.mkdtemp(prefix="furet-versions-")
    work = Path(args.work or temporary or ".").resolve()
    work.mkdir(parents=True, exist_ok=True)
    try:
        results = compare(args, work)
    finally:
        if temporary:
            shutil.rmtree(temporary, ignore_errors=True)
    write_results(args.out, "versions", results)


def compare(args: Any, work: Path) -> dict[str, Any]:
    records = [dated(record) for record in read_records(args.corpus, args.limit)]
    corpus = work / f"corpus-{args.limit}.jsonl"
    if not corpus.exists():
        write_jsonl(records, corpus)
    generated = [q for q in generate(records, args.queries) if not q.get("repeat")]
    questions = generate_questions(records, max(args.queries // 3, 30))
    texts = [q["text"] for q in generated]
    asked = [q["text"] for q in generated if q["kind"] == "question"]
    sets = {**{name: (texts, options) for name, options in PASSES.items()},
            "bench_questions": (asked, PASSES["top10"]),
            "piaf_shaped": ([q["text"] for q in questions], PASSES["top10"])}
    other = work / "against"
    commit = extract(args.against, other)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, check=True,
                          capture_output=True, text=True).stdout.strip()
    builds = {"against": build(other, corpus, work / f"index-against-{args.limit}"),
              "this": build(ROOT, corpus, work / f"index-this-{args.limit}")}
    also = {commit: extract(commit, work / f"also-{commit}") for commit in args.also}
    load_before = os.getloadavg()
    mine = work / f"index-this-{args.limit}"
    workers = {"against": Worker(other, work / f"index-against-{args.limit}", {}),
               **{commit: Worker(work / f"also-{commit}", mine, {}) for commit in also},
               "this": Worker(ROOT, mine, {}),
               "this_nofeedback": Worker(ROOT, mine, {"feedback_weight": "0"})}
    try:
        runs = time_sets(workers, sets, args.rounds)
        base = args.also[0] if args.also else "against"
        identical = same_pages(workers, texts + [q["text"] for q in questions], base)
    finally:
        for worker in workers.values():
            worker.close()
    results: dict[str, Any] = {
        "command": shown_command(Path(sys.argv[0]).name, sys.argv[1:]),
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "against": commit, "this": head, "also": also, "records": len(records),
        "rounds": args.rounds,
        "build_seconds": builds, "load_before": load_before, "load_after": os.getloadavg(),
        "same_first_page": {"as": base, "count": identical}, "sets": {}}
    for name, found in runs.items():
        row = summary(found, "against")
        results["sets"][name] = {"queries": len(sets[name][0]), **row}
        print(f"{name} ({len(sets[name][0])} queries)")
        for way, r in row.items():
            print(f"  {way:>16}: p50 {r['p50_ms']:6.2f}  p95 {r['p95_ms']:6.2f} ms   "
                  f"/ against: x {r['p50_ratio']:.2f} / {r['p95_ratio']:.2f}   CPU p50 "
                  f"{r['cpu_p50_ms']:6.2f}  p95 {r['cpu_p95_ms']:6.2f} ms   x "
                  f"{r['cpu_p50_ratio']:.2f} / {r['cpu_p95_ratio']:.2f}")
    print(f"load {load_before} -> {results['load_after']}; same total and first page as "
          f"{base}: {identical} of {len(texts) + len(questions)}")
    return results


if __name__ == "__main__":
    main()
