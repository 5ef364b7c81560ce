"""One `furet-index update` of an index: wall time, CPU time and peak memory of its process
tree, with this tree's code or another checkout's.

    python bench/updates.py --corpus ARTICLES.jsonl --index INDEX [--source TREE] \\
        [--label NAME] [--change N]

With `--change N`, ARTICLES.jsonl is first rewritten with the text of every 100th article
changed (" (mise à jour N)" added, as bench/run.py's 1 % update does; the other lines are
copied byte for byte), so that N = 0, 1, 2... give successive 1 % updates of one index.
The update then reads ARTICLES.jsonl: the index must have been built from that path.
Results go to bench/results/updates-<time>.json (no paths inside).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def change_every_hundredth(path: Path, n: int) -> int:
    """Rewrite `path` with every 100th article's text changed; return how many."""
    changed = 0
    tmp = path.with_name(path.name + ".new")
    with open(path, "rb") as old, open(tmp, "wb") as new:
        for i, line in enumerate(old):
            if i % 100 == 0 and line.strip():
                record = json.loads(line)
                text = record.get("text", "")
                record["text"] = text.rsplit(" (mise à jour ", 1)[0] + f" (mise à jour {n})"
                line = (json.dumps(record, ensure_ascii=False) + "\n").encode()
                changed += 1
            new.write(line)
    os.replace(tmp, path)
    return changed


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from bench.measure import arguments, run_measured, write_results

    ap = arguments(__doc__)
    ap.add_argument("--index", required=True)
    ap.add_argument("--source", default=str(ROOT), help="the checkout of Furet to run")
    ap.add_argument("--label", default="this")
    ap.add_argument("--change", type=int, default=None)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"))
    args = ap.parse_args()
    corpus = Path(args.corpus).resolve()
    out: dict[str, Any] = {"label": args.label, "load_average": os.getloadavg()}
    if args.change is not None:
        out["changed_articles"] = change_every_hundredth(corpus, args.change)
    run = run_measured([sys.executable, "-m", "indexer.cli", "update", str(corpus),
                        "--index-dir", str(Path(args.index).resolve())],
                       cwd=args.source, env={**os.environ, "PYTHONPATH": args.source})
    out.update({"seconds": run.seconds, "cpu_seconds": run.cpu_seconds,
                "peak_rss_mb": run.peak_rss / 2**20, "returncode": run.returncode,
                "load_average_after": os.getloadavg()})
    print(json.dumps(out, indent=1))
    write_results(args.out, "updates", out)


if __name__ == "__main__":
    main()
