#!/usr/bin/env python3
"""Hostile queries: the shapes that once held a worker for seconds, each timed, then
generated queries up to the length limit, counting the searches that hit the deadline.

    python bench/hostile.py --corpus ../shared/corpora/legi-fr/corpus.jsonl.gz --limit 20000

The first --limit records are indexed with furet-index into --index-dir (kept and reused
when it already holds an index, else a temporary folder). Each named query (excluded and
positive phrases of stop words, field prefixes, nesting, floods of clauses) is searched
--repeat times in this process as the site searches (snippets, facets, corrections, no
cache) and its slowest time is reported; then --generated random query strings of up to
1,000 characters (words of the corpus, stop words, phrases, exclusions, fields, OR,
prefixes, brackets, stray quotes) are searched once each. Every search runs under the
library's deadline (--timeout seconds): the count of searches that hit it is the number to
watch, and should be 0. Prints a table and writes OUT/hostile-<time>.json.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.corpus import read_records, write_jsonl  # noqa: E402
from bench.measure import arguments, median, percentile, shown_command  # noqa: E402
from bench.queries import WORD  # noqa: E402
from search import SearchRequest, open_index  # noqa: E402
from search.analysis import STOP_WORDS  # noqa: E402
from search.deadline import DEFAULT_TIMEOUT  # noqa: E402
from search.errors import SearchTimeoutError  # noqa: E402
from search.query import MAX_QUERY_CHARS  # noqa: E402

STOPS = ("de", "la", "le", "les", "et", "des", "du", "un", "une", "a", "il", "y", "en")


def _fill(unit: str, chars: int = 985) -> str:
    """`unit` repeated (space-separated) up to `chars` characters."""
    words = []
    while len(" ".join([*words, unit])) <= chars:
        words.append(unit)
    return " ".join(words)


def _words(unit: str, count: int) -> str:
    return " ".join([unit] * count)


def named_queries() -> dict[str, str]:
    """The attacks as reported, and variants (other stop words, fields, nesting, floods)."""
    de_la_20, de_la_83, de_la_167 = (_words("de la", n // 2) for n in (20, 83, 167))
    return {
        "code -\"de la …\" (985 chars)": f'code -"{_fill("de la", 982)}"',
        "code -\"de de …\" (1000 chars)": f'code -"{_fill("de", 990)}"',
        "code -\"de la …\" 20 words": f'code -"{de_la_20}"',
        "code -\"de la …\" 83 words": f'code -"{de_la_83}"',
        "code -\"de la …\" 167 words": f'code -"{de_la_167}"',
        "\"de la …\" (positive)": f'"{_fill("de la", 990)}"',
        "\"les et des …\" (positive)": f'"{_fill("les et des", 990)}"',
        "il y a … (stop words only)": _fill("il y a", 1000),
        "code -\"et les …\"": f'code -"{_fill("et les", 985)}"',
        "titre:\"de la …\"": f'titre:"{_fill("de la", 980)}"',
        "code -titre:\"de la …\"": f'code -titre:"{_fill("de la", 975)}"',
        "auteur:\"de la …\"": f'auteur:"{_fill("de la", 980)}"',
        "(code OR loi) -\"de la …\"": f'(code OR loi) -"{_fill("de la", 970)}"',
        "many excluded phrases": " ".join(['code'] + ['-"de la de la de"'] * 50)[:1000],
        "many quoted stop words": _fill('"de"', 1000),
        "many words": _fill("article", 1000),
        "many OR": _fill("code OR", 1000),
        "many prefixes": _fill("co*", 1000),
        "many exclusions": "code " + _fill("-de", 990),
        "one long word": "a" * 1000,
        "unbalanced quotes": _fill('"de la', 1000),
    }


def generated_queries(records: list[dict[str, Any]], count: int, seed: int = 17) -> list[str]:
    """`count` random query strings of up to MAX_QUERY_CHARS characters."""
    rng = random.Random(seed)
    words = sorted({w.lower() for r in records[:2000] for w in WORD.findall(r.get("text", ""))})
    stops = sorted(STOP_WORDS)

    def word() -> str:
        return rng.choice(stops) if rng.random() < 0.4 else rng.choice(words)

    def phrase() -> str:
        return '"' + " ".join(word() for _ in range(rng.randint(2, 60))) + '"'

    makers = [
        word, word, phrase,
        lambda: "-" + (phrase() if rng.random() < 0.5 else word()),
        lambda: rng.choice(("titre:", "auteur:", "rubrique:", "title:")) + (
            phrase() if rng.random() < 0.5 else word()),
        lambda: "OR", lambda: "OU", lambda: "NOT",
        lambda: word()[:rng.randint(2, 5)] + "*",
        lambda: rng.choice("()[]\"'-:*"),
        lambda: "(" + " OR ".join(word() for _ in range(rng.randint(2, 6))) + ")",
        lambda: rng.choice(("depuis:2001", "avant:2020", "since:1999-12")),
    ]
    out = []
    for _ in range(count):
        limit = rng.choice((60, 200, 500, MAX_QUERY_CHARS))
        parts: list[str] = []
        while True:
            part = rng.choice(makers)()
            if len(" ".join([*parts, part])) > limit:
                break
            parts.append(part)
        out.append(" ".join(parts) or word())
    return out


def run(index: Any, query: str) -> tuple[float, int | None]:
    """Milliseconds one search took, and its total (None when it hit the deadline)."""
    index.clear_caches()
    started = time.perf_counter()
    try:
        total: int | None = index.search(SearchRequest(query)).total
    except SearchTimeoutError:
        total = None
    return (time.perf_counter() - started) * 1000, total


def _build(corpus: str, limit: int, index_dir: Path) -> None:
    if (index_dir / "CURRENT").exists():
        print(f"reusing the index in {index_dir}", file=sys.stderr)
        return
    with tempfile.TemporaryDirectory(prefix="furet-hostile-") as tmp:
        records = Path(tmp) / "corpus.jsonl"
        write_jsonl(read_records(corpus, limit), records)
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "indexer.cli", "build", str(records),
                               "--index-dir", str(index_dir), "--quiet"], cwd=ROOT)
        if done.returncode not in (0, 1):
            raise SystemExit("furet-index build failed")
        print(f"built {limit} articles in {time.perf_counter() - started:.0f} s",
              file=sys.stderr)


def measure(index_dir: Path, records: list[dict[str, Any]], *, repeat: int, generated: int,
            timeout: float) -> dict[str, Any]:
    """Per-query times of the named queries, and the generated queries' summary."""
    index = open_index(index_dir)
    index.search_timeout = timeout
    index.search("code")  # open the index, load facets and lengths
    named = {}
    for name, query in named_queries().items():
        runs = [run(index, query) for _ in range(repeat)]
        named[name] = {"query": query, "chars": len(query), "ms": max(ms for ms, _ in runs),
                       "total": runs[-1][1], "deadline_hits": sum(t is None for _, t in runs)}
        print(f"  {named[name]['ms']:9.1f} ms  {name}", file=sys.stderr)
    times, hits, slowest = [], 0, []
    for query in generated_queries(records, generated):
        ms, total = run(index, query)
        times.append(ms)
        hits += total is None
        slowest.append((ms, query))
    slowest.sort(reverse=True)
    index.close()
    return {"named": named, "generated": {
        "count": generated, "deadline_hits": hits, "p50_ms": median(times),
        "p95_ms": percentile(times, 95), "max_ms": max(times, default=0.0),
        "slowest": [{"ms": ms, "query": q} for ms, q in slowest[:5]]}}


def table(results: dict[str, Any]) -> str:
    lines = ["| query | chars | ms (slowest) | total | deadline hits |", "|---|---|---|---|---|"]
    for name, m in results["named"].items():
        total = "deadline" if m["total"] is None else m["total"]
        lines.append(f"| {name} | {m['chars']} | {m['ms']:.1f} | {total} | "
                     f"{m['deadline_hits']} |")
    g = results["generated"]
    lines.append(f"\n{g['count']} generated queries: p50 {g['p50_ms']:.1f} ms, p95 "
                 f"{g['p95_ms']:.1f} ms, max {g['max_ms']:.1f} ms; searches that hit the "
                 f"{results['timeout']:g} s deadline: {g['deadline_hits']}")
    return "\n".join(lines)


def main() -> None:
    ap = arguments(__doc__)
    for flag, kind, default, text in (
            ("--limit", int, 20000, "the first N records"),
            ("--index-dir", str, None, "where to build (or reuse) the index"),
            ("--repeat", int, 3, "runs of each named query"),
            ("--generated", int, 300, "generated queries"),
            ("--timeout", float, DEFAULT_TIMEOUT, "each search's deadline (s)"),
            ("--out", str, str(ROOT / "bench" / "results"), "folder of the JSON")):
        ap.add_argument(flag, type=kind, default=default, help=text)
    args = ap.parse_args()
    records = read_records(args.corpus, args.limit)
    with tempfile.TemporaryDirectory(prefix="furet-hostile-index-") as tmp:
        index_dir = Path(args.index_dir or tmp)
        _build(args.corpus, args.limit, index_dir)
        results = {"command": shown_command(Path(sys.argv[0]).name, sys.argv[1:]),
                   "when": datetime.now(UTC).isoformat(timespec="seconds"),
                   "documents": len(records), "timeout": args.timeout,
                   **measure(index_dir, records, repeat=args.repeat,
                             generated=args.generated, timeout=args.timeout)}
    print(table(results))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (out / f"hostile-{stamp}.json").write_text(
        json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(f"\nwrote {out / f'hostile-{stamp}.json'}", file=sys.stderr)


if __name__ == "__main__":
    main()
