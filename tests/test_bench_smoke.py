"""The benchmark runs end to end on a small corpus, so it never rots (numbers not checked)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.corpus import scaled, write_jsonl
from indexer.sources import read_articles, walk_sources

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_benchmark_smoke(tmp_path):
    articles = [a for s in walk_sources([ROOT / "samples"]) for a in read_articles(s)]
    records = [{"id": a.id, "title": a.title, "text": a.body} for a in articles]
    corpus = tmp_path / "corpus.jsonl"
    write_jsonl(scaled(records, 1000), corpus)
    out = tmp_path / "results"
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--corpus", str(corpus),
         "--limit", "1000", "--runs", "1", "--queries", "40", "--workers", "1",
         "--serve-seconds", "2", "--out", str(out)],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "| build (s)" in result.stdout and "| + snippets p95 (ms)" in result.stdout
    data = json.loads((out / "latest.json").read_text())
    measures = data["sizes"]["1000"]
    for key in ("build_seconds", "build_seconds_fts5", "build_peak_rss_mb", "index_mb",
                "update_unchanged_seconds", "update_1pct_seconds", "top10_p50_ms",
                "snippets_p95_ms", "snippets_facets_p50_ms", "cached_p50_ms", "cold_p50_ms",
                "fts5_snippets_p50_ms"):
        assert measures[key] > 0, key
    assert measures["serve"]["1w_requests_per_second"] > 0
    assert measures["serve"]["1w_errors"] == 0
    assert len(data["queries"]) == 40
