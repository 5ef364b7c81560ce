"""bench/relevance.py: deterministic folds, parameters chosen on the other folds, per-query
lines; and the ranking parameters a request carries."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.crossval import combinations, fold_of, held_out, per_query_scores
from search import QueryError, SearchRequest, open_index, search
from search.ranking import DEFAULT_RANKING, Ranking

ROOT = Path(__file__).resolve().parent.parent

# A stand-in for the retrieval scorer (same command line, same output): every metric is the
# reciprocal rank of the first relevant document.
STUB_SCORER = '''
import json, sys
run, qrels = sys.argv[1], sys.argv[sys.argv.index("--qrels") + 1]
relevant = {}
for line in open(qrels):
    q, d, r = line.split()
    relevant.setdefault(q, set()).add(d)
ranked = {}
for line in open(run):
    q, _, d, rank = line.split()[:4]
    ranked.setdefault(q, []).append((int(rank), d))
names = ["MRR@10", "MRR@100", "R@10", "R@100", "MAP", "nDCG@10"]
total = 0.0
for q in sorted(relevant):
    docs = [d for _, d in sorted(ranked.get(q, []))]
    rr = next((1 / n for n, d in enumerate(docs, 1) if d in relevant[q]), 0.0)
    total += rr
    if "--per-query" in sys.argv:
        print(q, " ".join(f"{k}={rr:.4f}" for k in names))
mean = round(total / len(relevant), 4)
print(json.dumps(dict.fromkeys(names, mean)) if "--json" in sys.argv else mean)
'''


def test_folds_are_fixed_by_the_query_id():
    ids = [f"q{n}" for n in range(500)]
    folds = [fold_of(q, 5) for q in ids]
    assert folds == [fold_of(q, 5) for q in reversed(ids)][::-1]  # order does not matter
    assert set(folds) == set(range(5))
    assert min(folds.count(f) for f in range(5)) > 70  # roughly even


def test_each_fold_is_ranked_with_what_scores_best_on_the_others():
    queries = [f"q{n}" for n in range(40)]
    target = fold_of("q0", 2)
    # Combination 1 is better on the fold of q0 only, combination 0 everywhere else.
    scores = [{q: {"nDCG@10": 0.5} for q in queries},
              {q: {"nDCG@10": 0.9 if fold_of(q, 2) == target else 0.1} for q in queries}]
    chosen, fold = held_out(scores, 2)
    assert chosen[target] == 0  # chosen on the other fold, where 0 wins
    assert chosen[1 - target] == 1
    assert fold == {q: fold_of(q, 2) for q in queries}


def test_grid_combinations():
    assert combinations({}) == [{}]
    assert combinations({"k1": ["1", "2"], "b": ["0.5"]}) == [
        {"k1": "1", "b": "0.5"}, {"k1": "2", "b": "0.5"}]


def test_per_query_scores_read_the_scorers_lines(tmp_path):
    scorer = tmp_path / "scorer.py"
    scorer.write_text(STUB_SCORER)
    (tmp_path / "run.trec").write_text("a Q0 d2 1 2 x\na Q0 d1 2 1 x\nb Q0 d3 1 2 x\n")
    (tmp_path / "qrels.tsv").write_text("a\td1\t1\nb\td9\t1\n")
    scores = per_query_scores(scorer, tmp_path / "run.trec", str(tmp_path / "qrels.tsv"))
    assert scores["a"]["nDCG@10"] == 0.5 and scores["b"]["R@100"] == 0.0


def test_ranking_values_given_as_text():
    assert DEFAULT_RANKING.with_values({"k1": "2"}).k1 == 2.0
    assert DEFAULT_RANKING.with_values({}) == DEFAULT_RANKING
    with pytest.raises(ValueError, match="unknown ranking parameter 'k3'"):
        DEFAULT_RANKING.with_values({"k3": "1"})
    with pytest.raises(ValueError):
        DEFAULT_RANKING.with_values({"b": "much"})


def test_a_request_carries_its_ranking(samples_index):
    other = Ranking(k1=3.0)
    assert SearchRequest("haïfa").key() != SearchRequest("haïfa", ranking=other).key()
    with pytest.raises(QueryError) as err:
        SearchRequest("haïfa", ranking={"k1": 3})
    assert err.value.field == "ranking"
    index = open_index(samples_index)
    try:
        plain = search(index, "haïfa attaque", correct_spelling=False)
        saturated = search(index, "haïfa attaque", correct_spelling=False, ranking=other)
    finally:
        index.close()
    assert [h.id for h in plain.hits]
    assert [h.score for h in plain.hits] != [h.score for h in saturated.hits]


@pytest.mark.slow
def test_relevance_cross_validates_a_grid(tmp_path):
    """The command end to end on the samples: three questions, two folds, a grid of two."""
    from tests.test_bench_smoke import sample_records

    records = sample_records()
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    wanted = {"haifa": "Haïfa port attaque", "gaza": "convois humanitaires Rafah",
              "noel": "marchés de Noël solidaires"}
    queries = tmp_path / "queries.jsonl"
    queries.write_text("".join(json.dumps({"id": k, "text": v}) + "\n"
                               for k, v in wanted.items()))
    top = {k: search_first(records, v) for k, v in wanted.items()}
    qrels = tmp_path / "qrels.tsv"
    qrels.write_text("".join(f"{k}\t{doc}\t1\n" for k, doc in top.items()))
    scorer = tmp_path / "scorer.py"
    scorer.write_text(STUB_SCORER)
    per_query = tmp_path / "per-query.tsv"
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "relevance.py"), "--corpus", str(corpus),
         "--queries", str(queries), "--qrels", str(qrels), "--run", str(tmp_path / "run"),
         "--scorer", str(scorer), "--folds", "2", "--grid", "k1=1.2,2", "--per-query",
         str(per_query), "--json", str(tmp_path / "metrics.json")],
        capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "fold 0:" in result.stdout and "fold 1:" in result.stdout
    lines = per_query.read_text().splitlines()
    assert lines[0].split("\t")[:3] == ["query", "fold", "first_relevant"]
    assert {line.split("\t")[0] for line in lines[1:]} == set(wanted)
    report = json.loads((tmp_path / "metrics.json").read_text())
    assert [f["fold"] for f in report["folds"]] == [0, 1]
    assert all(f["parameters"]["k1"] in ("1.2", "2") for f in report["folds"])


def search_first(records: list[dict[str, str]], text: str) -> str:
    """The record whose text holds the most of the query's words (the expected answer)."""
    words = text.lower().split()
    return max(records, key=lambda r: sum(w in r["text"].lower() for w in words))["id"]
