"""The newsroom console's costs: synonyms at query time, and reports over a large query log.

    .venv/bin/python -m bench.console [--rows 1000000] [--out bench/results/]

1. Synonyms: the same searches on the samples index with and without 10,000 synonym
   rules (a third of the queries' words have rules, some of several words), the result
   cache emptied before each search; medians per query, side by side in one run, and the
   cost of parsing and expanding alone.
2. Reports: a query log of `--rows` searches over 90 days (words drawn from a Zipf-like
   law, one search in ten a query seen once, one in ten failed, a click for one in three)
   is summed once (the first report), then each period's report and the console's page
   (its HTML, proposals included) are timed: medians of 5.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _ms(fn: Any) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def _words() -> list[str]:
    from search.analysis import fold, stem

    text = " ".join(p.read_text("utf-8") for p in sorted((ROOT / "samples" / "txt").glob("*")))
    by_stem: dict[str, str] = {}  # one word per stem: a rule's entries stay apart
    for word in sorted({w.lower() for w in re.findall(r"[^\W\d_]{5,}", text)}):
        key = stem(fold(word))
        if key is not None:
            by_stem.setdefault(key, word)
    return sorted(by_stem.values())


def measure_synonyms(index_dir: Path, rounds: int = 3) -> dict[str, float]:
    """Medians (ms) of searches with and without 10,000 rules, and of expansion alone."""
    from search import SearchRequest, open_index
    from search.synonyms import Synonyms, parse_rules

    rng = random.Random(11)
    words = _words()
    queries = [" ".join(rng.sample(words, rng.choice((1, 1, 2, 3)))) for _ in range(200)]
    lines = [f"{w}, {w}x{n}" for n, w in enumerate(rng.sample(words, len(words) // 3))]
    lines += [f"{a} {b} => {c}" for a, b, c in (rng.sample(words, 3) for _ in range(500))]
    lines += [f"zz{n}a, zz{n}b" for n in range(10_000 - len(lines))]
    synonyms = Synonyms(parse_rules("\n".join(lines)))
    index = open_index(index_dir)
    plain, expanded, parse_only, expand_only = [], [], [], []
    for _ in range(rounds):
        for query in queries:
            index.clear_caches()
            plain.append(_ms(lambda q=query: index.search(SearchRequest(q))))
            index.clear_caches()
            expanded.append(_ms(lambda q=query: index.search(
                SearchRequest(q, synonyms=synonyms))))
            parse_only.append(_ms(lambda q=query: SearchRequest(q)))
            expand_only.append(_ms(lambda q=query: SearchRequest(q, synonyms=synonyms)))
    index.close()
    p50 = statistics.median
    return {"rules": len(lines), "queries": len(queries), "rounds": rounds,
            "search_p50_ms": round(p50(plain), 3),
            "search_with_synonyms_p50_ms": round(p50(expanded), 3),
            "ratio": round(p50(expanded) / p50(plain), 3),
            "parse_p50_ms": round(p50(parse_only), 4),
            "parse_and_expand_p50_ms": round(p50(expand_only), 4),
            "expansion_p50_ms": round(p50(expand_only) - p50(parse_only), 4)}


def write_log(path: Path, rows: int, now: datetime) -> None:
    """A query log of `rows` searches over 90 days, and clicks for a third of them."""
    from web.querylog import QueryLog

    QueryLog(path).record(source="html", query="", filters={}, sort="relevance", page=1,
                          hits=0, took_ms=0, corrected=False)
    rng = random.Random(5)
    words = _words()
    batch: list[tuple[Any, ...]] = []
    with sqlite3.connect(path) as db:
        for n in range(rows):
            at = (now - timedelta(seconds=rng.random() * 90 * 86400)).isoformat(
                timespec="milliseconds")
            rank = min(int(rng.paretovariate(0.8)), len(words)) - 1
            query = words[rank] if rng.random() < 0.9 else f"requete-unique-{n}"
            hits = 0 if rng.random() < 0.1 else rng.randint(1, 300)
            batch.append((at, "html" if rng.random() < 0.8 else "api", query,
                          1 if rng.random() < 0.9 else 2, hits, rng.random() * 40,
                          int(rng.random() < 0.05)))
            if len(batch) == 50_000 or n == rows - 1:
                batch.sort()
                db.executemany("INSERT INTO searches (at, source, query, filters, sort, "
                               "page, hits, took_ms, corrected) VALUES (?, ?, ?, '{}', "
                               "'relevance', ?, ?, ?, ?)", batch)
                db.executemany("INSERT INTO clicks (at, query, article_id, position) "
                               "VALUES (?, ?, 'a', ?)",
                               [(r[0], r[2], rng.randint(1, 10)) for r in batch[::3]])
                batch = []


def measure_reports(index_dir: Path, rows: int, folder: Path) -> dict[str, Any]:
    """The first roll-up, then each period's report and console page: medians of 5."""
    from web import create_app
    from web.accounts import add_user
    from web.analytics import read_report

    log = folder / "querylog.sqlite"
    now = datetime.now(UTC)
    write_log(log, rows, now)
    out: dict[str, Any] = {"rows": rows, "first_report_ms": round(_ms(
        lambda: read_report(log, 90)), 1)}
    for days in (7, 30, 90):
        out[f"report_{days}_ms"] = round(statistics.median(
            _ms(lambda d=days: read_report(log, d)) for _ in range(5)), 1)
    app = create_app({"INDEX_DIR": str(index_dir), "QUERY_LOG": str(log), "RATELIMIT": "",
                      "ADMIN_DB": str(folder / "admin.sqlite")})
    add_user(app.extensions["furet.admin"], "bench", "motdepasse-long")
    client = app.test_client()
    html = client.get("/admin/connexion").text
    token = re.search(r'name="jeton" value="([^"]+)"', html)[1]
    client.post("/admin/connexion", data={"jeton": token, "nom": "bench",
                                          "mot_de_passe": "motdepasse-long"})
    for days in (7, 30, 90):
        assert client.get(f"/admin?jours={days}").status_code == 200
        out[f"page_{days}_ms"] = round(statistics.median(
            _ms(lambda d=days: client.get(f"/admin?jours={d}")) for _ in range(5)), 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()
    from tests.indexing import build

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        build(folder / "index", [ROOT / "samples"])
        result = {"synonyms": measure_synonyms(folder / "index"),
                  "reports": measure_reports(folder / "index", args.rows, folder)}
    print(json.dumps(result, indent=2))
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (args.out / f"console-{stamp}.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
