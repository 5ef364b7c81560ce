#!/usr/bin/env python3
"""The fixed cost of a query: bench/run.py's rarer-words set (and its main set) timed in
process, CPU per search, with SQLite FTS5 in the same processes, on two versions of the
code side by side.

    python bench/rarer.py --corpus ../shared/corpora/legi-fr/corpus.jsonl.gz \\
        --index INDEX --fts5 FTS5_DB [--source before=OTHER_TREE] [--rounds 3]

INDEX is a Furet index of the whole corpus (`furet-index build`), FTS5_DB the database
bench/fts5.py builds of the same records (made there when missing). Each round starts a
fresh process per version of the code; each warms up on every search, then every search is
timed in each process in turn (which goes first turns by search and by round), so that the
machine's load weighs on the versions alike: CPU time (`time.process_time`) of each search,
the result cache emptied before it, top 10, top 10 with snippets, with snippets and facets,
then FTS5's top 10 and snippets in the same processes. Prints the medians over the rounds of
each pass's p50 and p95 (and mean), and the ratios of this tree's to the others' and to
FTS5's; writes bench/results/rarer-<time>.json. `--source NAME=TREE` adds another checkout
of Furet (e.g. `git archive main` extracted); `--index-of NAME=INDEX` gives it an index of
its own (the same corpus written in another format), else it reads INDEX too. Without
`--warm` every search meets its words for the first time (`clear_caches` also empties the
terms a generation keeps), as in bench/run.py's rare pass, whose cold_cache() comes after
its warm-up: that is the figure to compare with FTS5. `--warm` times a search whose words
were just searched: each is asked first, untimed, with the default options (snippets and
facets), so what a generation keeps (compiled queries, the terms read) is warm and the
answer is not (another options' answer): page 2, another sort, a word searched again.
"""

from __future__ import annotations

import os
import statistics
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.measure import ScriptProcess, arguments, percentile, write_results  # noqa: E402

PASSES = {"top10": {"snippets": False, "facets": False},
          "snippets": {"snippets": True, "facets": False},
          "facets": {"snippets": True, "facets": True}}
FTS5_PASSES = {"fts5_top10": False, "fts5_snippets": True}

# Runs inside each version's process (its own tree first on sys.path): one JSON command a
# line on stdin, the CPU milliseconds of that one search on stdout (the result cache emptied
# before it). Only the API every version has.
WORKER = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
from bench import fts5
from pathlib import Path
from search import open_index, search
index = open_index(sys.argv[2])
ref = fts5.Searcher(Path(sys.argv[3]))
for line in sys.stdin:
    command = json.loads(line)
    if "fts5" in command:
        started = time.process_time()
        ref.search(command["text"], snippets=command["fts5"])
    else:
        index.clear_caches()
        if command.get("warm"):  # the same words asked first with the default options
            search(index, command["text"])
        started = time.process_time()
        search(index, command["text"], **command["options"])
    sys.stdout.write(json.dumps((time.process_time() - started) * 1000) + "\n")
    sys.stdout.flush()
"""


class Worker(ScriptProcess):
    """One version's searching process."""

    def __init__(self, tree: Path, index: str, database: Path) -> None:
        super().__init__(WORKER, tree, index, str(database))

    def ask(self, command: dict[str, Any]) -> float:
        return float(super().ask(command))


def search_commands(sets: dict[str, list[str]], warm: bool = False
              ) -> list[tuple[str, str, dict[str, Any]]]:
    """(set, pass, command) of every search to time, pass after pass (`warm`: each asked
    first, untimed, with the default options)."""
    found = []
    for name, texts in sets.items():
        for mode, options in PASSES.items():
            found += [(name, mode, {"text": t, "options": options, "warm": warm})
                      for t in texts]
        for mode, snippets in FTS5_PASSES.items():
            found += [(name, mode, {"text": t, "fts5": snippets}) for t in texts]
    return found


def time_round(sources: dict[str, Path], index: str | dict[str, str], database: Path,
               sets: dict[str, list[str]], turn: int, warm: bool = False
               ) -> dict[str, dict[str, list[float]]]:
    """One round: a fresh process per version (reading `index`, or its own index when
    `index` maps versions to indexes), warmed up on every search, then each search timed in
    each process in turn (which goes first turns by search and round). CPU ms by version,
    then by "set_pass"."""
    indexes = index if isinstance(index, dict) else dict.fromkeys(sources, index)
    workers = {name: Worker(tree, indexes[name], database) for name, tree in sources.items()}
    names = list(workers)
    commands = search_commands(sets, warm)
    try:
        for _, _, command in commands:  # warm up: files paged in, facet table, memos
            for worker in workers.values():
                worker.ask(command)
        found: dict[str, dict[str, list[float]]] = {n: {} for n in names}
        for i, (name, mode, command) in enumerate(commands):
            first = (turn + i) % len(names)
            for way in names[first:] + names[:first]:
                found[way].setdefault(f"{name}_{mode}", []).append(workers[way].ask(command))
    finally:
        for worker in workers.values():
            worker.close()
    return found


def main() -> None:
    ap = arguments(__doc__)
    ap.add_argument("--index", required=True, help="a Furet index of the corpus")
    ap.add_argument("--fts5", required=True, help="bench/fts5.py's database (built if missing)")
    ap.add_argument("--source", action="append", default=[], metavar="NAME=TREE")
    ap.add_argument("--index-of", action="append", default=[], metavar="NAME=INDEX",
                    help="the index a --source reads (default: --index)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--sets", default="rare,main", help="rare, main (comma-separated)")
    ap.add_argument("--warm", action="store_true",
                    help="ask each search first (untimed) with the default options: what "
                         "a generation keeps (compiled queries, terms read) is then warm, the "
                         "answer not (bench/run.py's rare pass is the run without --warm)")
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
    indexes = {name: args.index for name in sources}
    for given in args.index_of:
        name, _, folder = given.partition("=")
        if name not in sources:
            raise SystemExit(f"--index-of {name}: no --source {name}")
        indexes[name] = folder
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in sources}
    loads = [os.getloadavg()[0]]
    for n in range(args.rounds):
        for name, found in time_round(sources, indexes, database, sets, n,
                                      args.warm).items():
            runs[name].append(found)
        loads.append(os.getloadavg()[0])
        print(f"round {n + 1} done (load {loads[-1]:.1f})", file=sys.stderr)
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
        for mode in [*PASSES, *FTS5_PASSES]:
            cells = []
            for name in sources:
                key = f"{name}_{set_name}_{mode}"
                cells.append(f"{name} {summary[key + '_p50_ms']:.3f} / "
                             f"{summary[key + '_p95_ms']:.3f} ({summary[key + '_mean_ms']:.3f})")
            print(f"  {mode:14} " + "   ".join(cells))
        for mode in PASSES:
            for other in [*list(sources)[1:], "fts5"]:
                theirs = f"this_{set_name}_fts5_{'snippets' if mode != 'top10' else 'top10'}" \
                    if other == "fts5" else f"{other}_{set_name}_{mode}"
                ours = f"this_{set_name}_{mode}"
                print(f"  {mode} this / {other}: " + " / ".join(
                    f"{summary[f'{ours}_p{p}_ms'] / summary[f'{theirs}_p{p}_ms']:.2f}"
                    for p in (50, 95)))
    # The folders as names, not this machine's paths.
    command = (f"rarer.py --corpus {args.corpus} --index INDEX --fts5 FTS5_DB --rounds "
               f"{args.rounds} --sets {args.sets}" + (" --warm" if args.warm else "")
               + "".join(
                   f" --source {name}=TREE" for name in list(sources)[1:])
               + "".join(f" --index-of {given.partition('=')[0]}=INDEX"
                         for given in args.index_of))
    write_results(args.out, "rarer", {
        "command": command,
        "rounds": args.rounds, "warm": args.warm, "load_average": loads, "summary": summary,
        "queries": sets, "runs": runs})


if __name__ == "__main__":
    main()
