"""A build bounded in memory writes several segments, and finds what a one-segment build finds."""

from __future__ import annotations

import json

import pytest

from search import open_index, search
from search.errors import ConfigurationError
from search.whoosh import writer as whoosh_writer
from search.whoosh.parts import build_memory_mb, segment_words_limit
from tests.conftest import SAMPLES
from tests.indexing import build, update
from tests.stores import WhooshStore

QUERIES = ["haifa", "port", '"la ville"', "gaza cessez-le-feu", "titre:port"]


def _answers(index_dir) -> list[list[tuple[str, float]]]:
    index = open_index(index_dir)
    try:
        return [[(h.id, round(h.score, 4)) for h in search(index, q).hits] for q in QUERIES]
    finally:
        index.close()


def _segments(index_dir) -> int:
    index = open_index(index_dir)
    try:
        return len(index.current().searcher.reader().leaf_readers())
    finally:
        index.close()


def test_a_build_past_its_memory_writes_segments_that_answer_alike(tmp_path, monkeypatch):
    one, many = tmp_path / "one", tmp_path / "many"
    build(one, [SAMPLES], jobs=1)
    monkeypatch.setattr(whoosh_writer, "segment_words_limit", lambda processes: 4000)
    build(many, [SAMPLES], jobs=1)
    assert _segments(one) == 1 and _segments(many) > 3
    assert WhooshStore(many).state() == WhooshStore(one).state()
    assert _answers(many) == _answers(one)
    update(many, [SAMPLES])  # an update of a build of many segments
    assert WhooshStore(many).state() == WhooshStore(one).state()


@pytest.mark.slow
def test_shared_build_past_its_memory_keeps_every_article_once(tmp_path, monkeypatch):
    src = tmp_path / "big.jsonl"
    words = "ville port conseil municipal budget travaux quartier école".split()
    lines = [{"id": "d3" if n % 500 == 3 else f"a{n}", "title": f"Article {n}",
              "body": " ".join(words[(n * k) % len(words)] + str(k % 50) for k in range(150))}
             for n in range(2400)]
    src.write_text("\n".join(json.dumps(r) for r in lines) + "\n")
    monkeypatch.setenv("FURET_BUILD_MEMORY_MB", "1")  # workers write a segment per ~1 MB
    one, many = tmp_path / "one", tmp_path / "many"
    build(many, [src], jobs=2, parallel_above=0)
    monkeypatch.delenv("FURET_BUILD_MEMORY_MB")
    build(one, [src], jobs=1)
    assert _segments(many) > 2
    assert WhooshStore(many).state() == WhooshStore(one).state()
    index_one, index_many = open_index(one), open_index(many)
    try:
        for query in ("ville7", "port1 budget2", '"conseil3 municipal4"'):
            assert [h.id for h in search(index_many, query).hits] == \
                [h.id for h in search(index_one, query).hits]
    finally:
        index_one.close()
        index_many.close()


def test_build_memory_setting(monkeypatch):
    monkeypatch.setenv("FURET_BUILD_MEMORY_MB", "512")
    assert build_memory_mb() == 512
    assert segment_words_limit(1) > segment_words_limit(2) >= 2**20
    monkeypatch.setenv("FURET_BUILD_MEMORY_MB", "lots")
    with pytest.raises(ConfigurationError, match="FURET_BUILD_MEMORY_MB='lots'"):
        build_memory_mb()
