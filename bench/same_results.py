#!/usr/bin/env python3
"""Whether two versions of the code answer the same, byte for byte: every answer (titles,
snippets, scores, totals, facets, timeline, suggestions) of bench/run.py's query sets under
several option sets, from each version in a process of its own, compared as JSON.

    python bench/same_results.py --corpus ../shared/corpora/legi-fr/corpus.jsonl.gz \\
        --index INDEX --source before=OTHER_TREE [--limit 0]

Sets: the main set's first-seen queries, the rarer-words set, the PIAF-shaped questions,
and a few queries with operators; options: the defaults, top 10 without facets nor
snippets, snippets without facets, page 2, newest first, a year filter with 20 per page.
Recency is left out (its scores follow the clock). Prints how many answers differ (and the
first few); exit code 1 if any does. `--index-of NAME=INDEX`: the other version reads an
index of its own (the same articles written in the format it writes), else INDEX too.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.measure import arguments  # noqa: E402

OPTIONS: dict[str, dict[str, Any]] = {
    "default": {},
    "top10": {"snippets": False, "facets": False},
    "snippets": {"facets": False},
    "page2": {"page": 2},
    "newest": {"sort": "newest"},
    "year": {"filters": {"year": 2010}, "per_page": 20},
}
OPERATORS = ["code -civil", '"code civil" OR commerce', "titre:travail", "contrat*",
             "tribunal -\"tribunal de commerce\"", "impôt OU taxe depuis:2000",
             "le la les", "etat unis", "responsabilte civile", "zzzqqq"]


def _child(source: Path, index_dir: Path, queries_file: Path) -> list[str]:
    """Every answer as JSON text, in order (run in a process importing `source`)."""
    sys.path.insert(0, str(source))
    from search import open_index, search

    index = open_index(index_dir)
    out = []
    for text in json.loads(queries_file.read_text()):
        for options in OPTIONS.values():
            index.clear_caches()
            found = search(index, text, **options).to_json()
            found.pop("took_ms")
            out.append(json.dumps(found, sort_keys=True, ensure_ascii=False))
    return out


def main() -> None:
    ap = arguments(__doc__)
    ap.add_argument("--index", required=True)
    ap.add_argument("--source", required=True, metavar="NAME=TREE")
    ap.add_argument("--index-of", metavar="NAME=INDEX",
                    help="the index the --source version reads (default: --index)")
    ap.add_argument("--limit", type=int, default=0, help="queries per set (0: all)")
    args = ap.parse_args()
    name = args.source.split("=", 1)[0]
    other_index = args.index
    if args.index_of:
        of, _, other_index = args.index_of.partition("=")
        if of != name:
            raise SystemExit(f"--index-of {of}: the --source is {name}")

    from bench.corpus import read_records
    from bench.queries import generate, generate_questions, generate_rare
    from bench.timeline import dated

    records = [dated(record) for record in read_records(args.corpus, None)]
    sets = [[q["text"] for q in generate(records, 300) if not q.get("repeat")],
            [q["text"] for q in generate_rare(records, 150)],
            [q["text"] for q in generate_questions(records, 100)], OPERATORS]
    texts = [t for s in sets for t in (s[:args.limit] if args.limit else s)]
    other = Path(args.source.split("=", 1)[1]).resolve()
    answers = []
    with tempfile.TemporaryDirectory() as tmp:
        queries_file = Path(tmp) / "queries.json"
        queries_file.write_text(json.dumps(texts))
        for source, index in ((ROOT, args.index), (other, other_index)):
            found = subprocess.run([sys.executable, __file__, "--child", str(source),
                                    index, str(queries_file)],
                                   check=True, capture_output=True, text=True, cwd=ROOT)
            answers.append(json.loads(found.stdout))
    names = [(t, o) for t in texts for o in OPTIONS]
    differ = [name for name, a, b in zip(names, *answers, strict=True) if a != b]
    print(f"{len(names)} answers ({len(texts)} queries x {len(OPTIONS)} option sets), "
          f"{len(differ)} differ")
    for text, option in differ[:10]:
        print(f"  {option}: {text!r}")
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        print(json.dumps(_child(*(Path(a) for a in sys.argv[2:]))))
    else:
        main()
