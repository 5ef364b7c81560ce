#!/usr/bin/env python3
"""What an `update` that deletes articles costs the Whoosh store's manifest: a manifest of
--lines JSON Lines articles (one file, as a site exporting one feed has), then --forget of
them forgotten in one generation; --rounds rounds, median printed and written to
OUT/manifest-<time>.json.

    python bench/manifest.py --lines 1000000 --forget 10000
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.measure import median, write_results  # noqa: E402
from search.whoosh.manifest import Manifest  # noqa: E402


def forget_once(lines: int, forget: int) -> float:
    """Seconds to forget `forget` articles, evenly spread, from a manifest of `lines`."""
    with tempfile.TemporaryDirectory() as folder:
        manifest = Manifest(Path(folder))
        ids = [f"article-{n}" for n in range(lines)]
        manifest.apply(generation=1, articles=((i, "feed.jsonl", "h") for i in ids),
                       lines=(("feed.jsonl", n.to_bytes(8, "big"), i) for n, i in
                              enumerate(ids)))
        step = max(1, lines // max(1, forget))
        start = time.perf_counter()
        manifest.apply(generation=2, forget_articles=ids[::step][:forget])
        seconds = time.perf_counter() - start
        manifest.db.close()
        return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--forget", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()
    times = [forget_once(args.lines, args.forget) for _ in range(args.rounds)]
    result = {"lines": args.lines, "forget": args.forget, "seconds": times,
              "median_s": median(times)}
    print(f"forgetting {args.forget:,} of {args.lines:,} articles: "
          f"{result['median_s']:.2f} s (median of {args.rounds})")
    write_results(args.out, "manifest", result)


if __name__ == "__main__":
    main()
