"""The benchmark runs end to end on a small corpus, so it never rots (numbers not checked);
its inputs are checked in a second."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from bench.corpus import scaled, write_jsonl
from bench.queries import generate
from indexer.sources import read_articles, walk_sources
from search import open_index, search

ROOT = Path(__file__).resolve().parent.parent
KINDS = {"frequent", "rare", "two_words", "three_words", "phrase", "unaccented", "capitals",
         "question"}


def sample_records() -> list[dict[str, str]]:
    """samples/ as benchmark records (id, title, text)."""
    articles = [a for s in walk_sources([ROOT / "samples"]) for a in read_articles(s)]
    return [{"id": a.id, "title": a.title, "text": a.body} for a in articles]


def test_benchmark_queries_are_reproducible_and_answered(samples_index):
    records = sample_records()
    queries = generate(records, 40)
    assert queries == generate(records, 40)  # the same for the same corpus
    assert {q["kind"] for q in queries} == KINDS
    assert sum(bool(q.get("repeat")) for q in queries) == 8  # a fifth repeat earlier ones
    index = open_index(samples_index)
    for query in queries:
        results = search(index, query["text"])
        # A phrase is two words of one sentence: short words between them there can make it
        # match nothing.
        assert results.total > 0 or query["kind"] == "phrase", query
    ids = [record["id"] for record in scaled(records, 3 * len(records))]
    assert len(set(ids)) == len(ids)  # each copy of the corpus has ids of its own


def test_timeline_measure_runs_on_the_samples(samples_index):
    from bench.timeline import dated, measure_timeline

    measures = measure_timeline(samples_index, generate(sample_records(), 20))
    for name in ("timeline_count", "timeline_months_count", "timeline_draw", "timeline"):
        assert measures[f"{name}_p50_ms"] > 0, name
    assert dated({"id": "a"}) == dated({"id": "a"}) and dated({"id": "a"})["published"]
    assert dated({"id": "a", "published": "2021-05-01"})["published"] == "2021-05-01"


def test_benchmark_queries_are_the_same_in_every_process():
    """Processes compared side by side (bench/scale.py) must draw one stream, whatever
    their hash seed."""
    code = ("import json, sys; sys.path.insert(0, '.'); from bench.queries import generate; "
            "from tests.test_bench_smoke import sample_records; "
            "print(json.dumps(generate(sample_records(), 40)))")
    streams = {subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, text=True,
                              capture_output=True, env={"PYTHONHASHSEED": seed}).stdout
               for seed in ("1", "2", "3")}
    assert len(streams) == 1


@pytest.mark.slow
def test_benchmark_smoke(tmp_path):
    records = sample_records()
    corpus = tmp_path / "corpus.jsonl"
    write_jsonl(scaled(records, 1000), corpus)
    out = tmp_path / "results"
    result = subprocess.run(  # no --sizes nor --limit: the whole corpus
        [sys.executable, str(ROOT / "bench" / "run.py"), "--corpus", str(corpus),
         "--runs", "1", "--queries", "40", "--workers", "1",
         "--serve-seconds", "2", "--out", str(out), "--work", str(tmp_path / "work")],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "work" / "index-0" / "CURRENT").exists()  # --work keeps the build
    assert "| build (s)" in result.stdout and "| + snippets p95 (ms)" in result.stdout
    data = json.loads((out / "latest.json").read_text())
    measures = data["sizes"]["1000"]
    for key in ("build_seconds", "build_seconds_fts5", "build_peak_rss_mb", "index_mb",
                "update_unchanged_seconds", "update_1pct_seconds", "top10_p50_ms",
                "snippets_p95_ms", "snippets_facets_p50_ms", "cached_p50_ms", "cold_p50_ms",
                "fts5_snippets_p50_ms", "timeline_count_p50_ms", "timeline_p50_ms"):
        assert measures[key] > 0, key
    assert measures["serve"]["1w_requests_per_second"] > 0
    assert measures["serve"]["1w_errors"] == 0, measures["serve"]["1w_error_kinds"]
    assert len(data["queries"]) == 40
    assert measures["searches_timed_out"] == []


def test_benchmark_build_only_measures_the_builds_and_keeps_latest(tmp_path):
    corpus = tmp_path / "corpus.jsonl"
    write_jsonl(scaled(sample_records(), 300), corpus)
    out = tmp_path / "results"
    out.mkdir()
    (out / "latest.json").write_text("{}")
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--corpus", str(corpus),
         "--runs", "1", "--queries", "20", "--scale", "400", "--only-scale", "--build-only",
         "--out", str(out)],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "| build (s)" in result.stdout and "snippets" not in result.stdout
    assert (out / "latest.json").read_text() == "{}"  # a whole run's numbers stay
    (written,) = out.glob("build-*.json")
    measures = json.loads(written.read_text())["sizes"]["400"]
    assert measures["build_seconds"] > 0 and measures["build_seconds_fts5"] > 0
    assert measures["index_mb"] > 0 and "top10_p50_ms" not in measures


def test_a_search_stopped_by_its_budget_is_recorded_not_fatal():
    from bench import run
    from search.errors import SearchTimeoutError

    def slow(text: str) -> None:
        if text == "lent":
            raise SearchTimeoutError("stopped")

    run.TIMED_OUT.clear()
    times = run._latencies(slow, [{"text": "vite"}, {"text": "lent"}])
    assert len(times) == 2 and run.TIMED_OUT == ["lent"]
    run.TIMED_OUT.clear()


def test_passes_are_timed_whole_in_turn_after_a_warm_up():
    from bench.measure import time_passes

    calls: list[str] = []

    def way(name: str):
        return lambda text: calls.append(f"{name}:{text}")

    runs = time_passes(["a", "b"], {"x": way("x"), "y": way("y")}, 3,
                       lambda: calls.append("reset"))
    warm_up, timed = calls[:4], calls[4:]
    assert warm_up == ["x:a", "x:b", "y:a", "y:b"]
    # A pass is one way's searches in a row after a reset; the first way rotates by round.
    assert timed == ["reset", "x:a", "x:b", "reset", "y:a", "y:b",
                     "reset", "y:a", "y:b", "reset", "x:a", "x:b",
                     "reset", "x:a", "x:b", "reset", "y:a", "y:b"]
    assert set(runs) == {"x", "y"}
    assert all(len(rounds) == 3 and all(len(r) == 2 and min(r) >= 0 for r in rounds)
               for rounds in runs.values())


def test_rare_set_is_timed_in_rounds_for_both_engines(samples_index):
    from bench.run import measure_rare

    asked: list[tuple[str, bool]] = []

    class Reference:  # FTS5's Searcher, as measure_rare calls it
        def search(self, text: str, snippets: bool = False) -> None:
            asked.append((text, snippets))

        def forget(self) -> None:
            asked.append(("forget", None))

    rare = [{"text": "tribunal"}, {"text": "cour"}]
    out = measure_rare(open_index(samples_index), Reference(), rare, rounds=2)
    assert out["rare_rounds"] == 2
    for name in ("rare_top10", "rare_snippets", "fts5_rare_top10", "fts5_rare_snippets"):
        for p in (50, 95, 99):
            assert out[f"{name}_p{p}_ms"] > 0, (name, p)
    # a warm-up pass and two rounds, with and without snippets; FTS5's cache emptied
    # before each of the eight passes timed
    searched = [a for a in asked if a[0] != "forget"]
    assert sorted(searched) == sorted([(q["text"], s) for q in rare for s in (False, True)] * 3)
    assert asked.count(("forget", None)) == 2 * 4


def test_feedback_bench_times_questions_with_and_without_feedback(samples_index, tmp_path):
    corpus = tmp_path / "corpus.jsonl"
    write_jsonl(sample_records(), corpus)
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "feedback.py"), "--index", str(samples_index),
         "--corpus", str(corpus), "--count", "16", "--rounds", "1", "--set", "two:feedback_words=2",
         "--out", str(tmp_path / "results")],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    [written] = (tmp_path / "results").glob("feedback-*.json")
    sets = json.loads(written.read_text())["sets"]
    assert set(sets) == {"bench", "bench_questions", "piaf_shaped"}
    for found in sets.values():
        assert set(found) == {"queries", "off", "on", "two"}
        assert found["on"]["p50_ms"] > 0


def test_manifest_benchmark_runs(tmp_path):
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "manifest.py"), "--lines", "2000",
                           "--forget", "20", "--rounds", "1", "--out", str(tmp_path)],
                          check=True, capture_output=True, text=True)
    assert "forgetting 20 of 2,000 articles" in done.stdout
    (result,) = tmp_path.glob("manifest-*.json")
    assert json.loads(result.read_text())["forget"] == 20


@pytest.mark.slow
def test_versions_bench_times_two_commits_side_by_side(tmp_path):
    if subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True).returncode:
        pytest.skip("not a git checkout: no commit to compare with")
    corpus = tmp_path / "corpus.jsonl"
    write_jsonl(sample_records(), corpus)
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "versions.py"), "--corpus", str(corpus),
         "--limit", "42", "--against", "HEAD", "--also", "HEAD", "--queries", "16",
         "--rounds", "1", "--work", str(tmp_path / "work"), "--out", str(tmp_path / "results")],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    [written] = (tmp_path / "results").glob("versions-*.json")
    data = json.loads(written.read_text())
    assert set(data["sets"]) == {"top10", "snippets", "snippets_facets", "bench_questions",
                                 "piaf_shaped"}
    for found in data["sets"].values():
        assert set(found) == {"queries", "against", "HEAD", "this", "this_nofeedback"}
        assert found["against"]["p50_ratio"] == 1 and found["this"]["cpu_p50_ms"] > 0
    same = data["same_first_page"]
    assert same["as"] == "HEAD" and same["count"]["against"] == same["count"]["HEAD"] > 0


@pytest.mark.slow
def test_rarer_bench_times_two_trees_and_fts5(samples_index, tmp_path):
    corpus = tmp_path / "corpus.jsonl"
    write_jsonl(sample_records(), corpus)
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "rarer.py"), "--corpus", str(corpus),
         "--index", str(samples_index), "--fts5", str(tmp_path / "fts5.db"),
         "--source", f"again={ROOT}", "--index-of", f"again={samples_index}", "--rounds", "1",
         "--warm", "--out", str(tmp_path / "results")],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    [written] = (tmp_path / "results").glob("rarer-*.json")
    data = json.loads(written.read_text())
    assert set(data["runs"]) == {"this", "again"} and set(data["queries"]) == {"rare", "main"}
    assert "--index-of again=INDEX" in data["command"] and " --warm" in data["command"]
    assert data["warm"] is True
    assert data["summary"]["this_rare_top10_p50_ms"] > 0
    assert any(key.startswith("fts5_") or "_fts5_" in key for key in data["summary"])


def test_rarer_bench_warm_asks_each_search_first_with_the_default_options():
    from bench.rarer import PASSES, search_commands

    sets = {"rare": ["a", "b c"]}
    for warm in (False, True):
        timed = [c for _, mode, c in search_commands(sets, warm) if mode in PASSES]
        assert len(timed) == 2 * len(PASSES)
        assert all(c["warm"] is warm for c in timed)
    assert not any("warm" in c for _, mode, c in search_commands(sets, True) if mode not in PASSES)


def test_stored_columns_bench_measures_both_columns_on_an_index(samples_index):
    from bench.stored_columns import COLUMNS, index_values, measure

    values = index_values(samples_index)
    assert all(len(values[name]) == len(values["head"]) > 0 for name in COLUMNS)
    index = open_index(samples_index)
    try:
        first = index.current().stored.whole(0)
    finally:
        index.close()
    head, texts, more = (pickle.loads(values[name][0]) for name in ("head", "texts", "more"))
    assert {**head, **more, **texts} == first
    assert "hash" in more and "hash" not in head and "body" in texts  # HitHeadCodec's
    summary = measure(values, rounds=1, reads=20)["summary"]
    for way in ("zlib", "zstd"):
        for name in COLUMNS:
            assert summary[f"{way}_{name}_bytes"] > 0 and summary[f"{way}_{name}_read_us"] > 0


@pytest.mark.slow
def test_same_results_bench_finds_a_tree_answers_as_itself(samples_index, tmp_path):
    corpus = tmp_path / "corpus.jsonl"
    write_jsonl(sample_records(), corpus)
    command = [sys.executable, str(ROOT / "bench" / "same_results.py"), "--corpus", str(corpus),
               "--index", str(samples_index), "--source", f"again={ROOT}",
               "--index-of", f"again={samples_index}", "--limit", "5"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]


@pytest.mark.slow
def test_interleaved_bench_times_two_trees_query_by_query(samples_index, tmp_path):
    corpus = tmp_path / "corpus.jsonl"
    write_jsonl(sample_records(), corpus)
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "interleaved.py"), "--corpus", str(corpus),
         "--index", str(samples_index), "--source", f"again={ROOT}", "--repeats", "1",
         "--queries", "20", "--out", str(tmp_path / "results")],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    [written] = (tmp_path / "results").glob("interleaved-*.json")
    data = json.loads(written.read_text())
    assert set(data["versions"]) == {"this", "again"} and data["queries"] > 0
    assert "--index DIR" in data["command"] and "again=DIR" in data["command"]
    for found in data["versions"].values():
        for mode in ("top10", "full"):
            assert 0 < found[f"{mode}_cpu_p50_ms"] <= found[f"{mode}_cpu_p95_ms"]
            assert found[f"{mode}_slowest"]


def test_recorded_commands_show_no_folder():
    from bench.measure import shown_command

    argv = ["--corpus", "../shared/corpora/legi-fr/corpus.jsonl.gz", "--index",
            "million=/srv/ix", "--source", "before=/home/me/old", "--out=/var/out",
            "--rounds", "3", "--work", "/srv/work", "--queries", "/home/me/q.jsonl",
            "--qrels=/home/me/qrels.tsv"]
    assert shown_command("segments.py", argv) == (
        "segments.py --corpus ../shared/corpora/legi-fr/corpus.jsonl.gz --index million=DIR "
        "--source before=DIR --out=DIR --rounds 3 --work DIR --queries PATH --qrels=PATH")


def test_build_cores_watches_a_build(tmp_path):
    """bench/build_cores.py: a build watched to its end (the samples are too small to be
    shared: no worker, the parent alone throughout)."""
    from bench.build_cores import watch

    run = watch(ROOT, str(ROOT / "samples"), 2, 0.02, keep=True, index=tmp_path / "index")
    assert run["wall_s"] > 0 and run["parent_cpu_s"] > 0
    assert run["workers_cpu_s"] == [] and run["tail_alone_s"] == 0.0
    assert run["samples"] and (tmp_path / "index" / "CURRENT").is_symlink()


def test_fts5_reference_ranks_like_bm25_with_the_title_weighted(tmp_path):
    """The reference's top 10, sorted by FTS5's `rank` (made for the kept rows only), is
    the order of `bm25(articles, 0.0, 3.0, 1.0)` over every match (the weights go by
    column, the id first): the title weighs three times the body. Each hit comes with
    its title, and its snippet when asked."""
    import sqlite3

    from bench import fts5

    filler = " ".join(f"mot{i}" for i in range(40))
    records = [{"id": "corps", "title": "Rapport annuel",
                "text": f"gazoduc gazoduc {filler}"},
               {"id": "titre", "title": "Gazoduc", "text": filler}]
    records += [{"id": f"autre{i}", "title": f"Article {i}",
                 "text": f"{filler} gazoduc" if i % 3 == 0 else f"{filler} pipeline {i}"}
                for i in range(30)]
    path = tmp_path / "fts5.db"
    fts5.build(records, path)
    db = sqlite3.connect(path)

    def ordered(weights: str, expression: str) -> list[str]:
        return [r[0] for r in db.execute(
            f"SELECT id FROM articles WHERE articles MATCH ? "
            f"ORDER BY bm25(articles, {weights}) LIMIT 10", (expression,))]

    ref = fts5.Searcher(path)
    hits = ref.search("gazoduc")
    assert [h[0] for h in hits] == ordered("0.0, 3.0, 1.0", '"gazoduc"')
    assert [h[0] for h in hits] != ordered("0.0, 1.0, 1.0", '"gazoduc"')  # the title's weight
    assert hits[0] == ("titre", "Gazoduc")
    assert [h[0] for h in ref.search("gazoduc pipeline")] == \
        ordered("0.0, 3.0, 1.0", '"gazoduc" OR "pipeline"')
    shown = ref.search("gazoduc", snippets=True)
    assert [h[:2] for h in shown] == hits
    assert "<mark>gazoduc</mark>" in dict((h[0], h[2]) for h in shown)["corps"]
    assert ref.search("   ") == [] and ref.search('"gazoduc') == ref.search('"gazoduc"')
    ref.close()
