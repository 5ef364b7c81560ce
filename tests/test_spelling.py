"""Corrections prefer a word that shares the stem or the prefix of what was typed, then the
most frequent: `ferry` becomes `ferries`, not the more frequent `berry` (both stores)."""

from __future__ import annotations

import json

import pytest

from search import open_backend
from search.spelling import best_correction
from tests.indexing import build, pg_build


@pytest.mark.parametrize(("word", "known", "chosen"), [
    ("ferry", {"berry": 9, "ferries": 2}, "ferries"),  # shares the stem ferr
    ("ferry", {"berry": 9, "ferrand": 2}, "ferrand"),  # shares the prefix ferr
    ("ferry", {"berry": 9, "ferrand": 5, "ferries": 2}, "ferries"),  # the stem first
    ("hiafa", {"haifa": 3, "biafa": 7}, "biafa"),  # nothing shared: the most frequent
    ("climet", {"climat": 4, "clament": 4}, "clament"),  # ties: alphabetical
    ("ferry", {"ferry": 3}, None),  # never the word itself
    ("ferry", {}, None),
])
def test_best_correction(word, known, chosen):
    assert best_correction(word, known) == chosen


@pytest.fixture(params=["whoosh", "postgresql"])
def ferries(request, tmp_path):
    """An archive where `berry` is frequent and `ferries` rarer."""
    folder = tmp_path / "articles"
    folder.mkdir()
    records = [{"id": f"b{n}", "title": f"Le Berry, épisode {n}", "body": "Le berry agricole."}
               for n in range(6)]
    records += [{"id": f"f{n}", "title": "Traversée", "body": "Les ferries de la Manche."}
                for n in range(2)]
    (folder / "a.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), "utf-8")
    if request.param == "whoosh":
        build(tmp_path / "index", [folder])
        backend = open_backend(index_dir=tmp_path / "index")
    else:
        url = request.getfixturevalue("pg_url")
        pg_build(url, [folder])
        backend = open_backend(backend="postgresql", database_url=url)
    yield backend
    backend.close()


def test_ferry_is_corrected_to_ferries(ferries):
    results = ferries.search("ferry")
    assert results.suggestion == "ferries" and results.corrected
    assert results.total == 2
