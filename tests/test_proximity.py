"""search/whoosh/proximity.py: a question's words close together rank an article higher."""

from __future__ import annotations

import json

from search import open_index, search
from search.ranking import Ranking
from tests.indexing import build

FILLER = " ".join(f"mot{n}" for n in range(40))


def test_question_words_side_by_side_rank_first(tmp_path):
    # The same words, as often, in articles of the same length: only their distance differs.
    records = [
        {"id": "far", "title": "Carrière", "body": f"Le professeur enseigna. {FILLER} Lasègue."},
        {"id": "near", "title": "Carrière", "body": f"Le professeur Lasègue enseigna. {FILLER}."},
    ]
    source = tmp_path / "articles.jsonl"
    source.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records))
    build(tmp_path / "index", [source])
    index = open_index(tmp_path / "index")
    try:
        question = "Quel fut le professeur de Lasègue ?"

        def scores(ranking: Ranking) -> dict[str, float]:
            return {h.id: h.score for h in search(index, question, ranking=ranking).hits}

        off = scores(Ranking(proximity_weight=0, feedback_weight=0))
        assert off["near"] == off["far"]
        on = scores(Ranking(proximity_weight=2, feedback_weight=0))
        assert on["near"] > on["far"] == off["far"]
        assert on["near"] - off["near"] < 2  # at most the weight
        # Not a question: no proximity bonus, whatever the weight.
        plain = {h.id: h.score for h in search(index, "professeur Lasègue",
                                               ranking=Ranking(proximity_weight=2)).hits}
        assert plain["near"] == plain["far"]
    finally:
        index.close()
