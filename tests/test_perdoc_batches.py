"""Per-document values written a batch at a time are the files the per-call path writes."""

from __future__ import annotations

import hashlib

import pytest
from whoosh.filedb.filestore import FileStorage

from indexer.sources import read_articles, walk_sources
from search.article import Article
from search.schema import Parts, build_schema
from search.whoosh.documents import PendingStems, to_document
from search.whoosh.private import SegmentWriter, perdoc, writing
from search.whoosh.private.perdoc import length_bytes
from tests.conftest import SAMPLES


def _documents() -> list[dict]:
    found = [to_document(article, source.path) for source in walk_sources([SAMPLES])
             for article in read_articles(source)]
    for n in range(60):
        parts = Parts([(f"Dépêche {n % 7}", 3.0), ("La ville et le port " * (n % 5), 1.0)])
        doc = dict(id=f"d{n}", title=f"Dépêche {n % 7}", text=parts, exact=parts)
        if n % 3:  # documents without a section, a lead or a length: gaps in the columns
            doc.update(section=f"Rubrique {n % 4}", lead=f"Chapeau {n}", year=2000 + n % 9)
        found.append(doc)
    return found


def _files(ix) -> dict:
    """Every file of every segment (their bytes' digests), the segments' field lengths."""
    found = {}
    for n, segment in enumerate(ix._segments()):
        storage = segment.open_compound_file(ix.storage) if segment.is_compound() \
            else ix.storage
        for name in storage.list():
            if name.startswith(segment.indexname + "_" + segment.segid):
                data = storage.open_file(name).read()
                key = name.replace(segment.segid, "SEG")
                found[n, key] = hashlib.sha1(data).hexdigest()
        found[n, "lengths"] = list(segment._fieldlengths.items())
        found[n, "count"] = segment.doc_count_all()
    return found


def _build(folder, documents: list[dict], *, update: list[dict] = ()) -> dict:
    folder.mkdir()
    ix = FileStorage(str(folder)).create_index(build_schema())
    writer = SegmentWriter(ix)
    for doc in documents:
        writer.add_document(**doc)
    writer.commit()
    if update:  # a second segment merged with the first: Whoosh copies its values itself
        writer = SegmentWriter(ix)
        for doc in update:
            writer.update_document(**doc)
        writer.commit(optimize=True)
    with ix.searcher() as searcher:
        stored = list(searcher.all_stored_fields())
    return {"files": _files(ix), "stored": stored}


def _per_call(monkeypatch) -> None:
    """The segment writer without batches: Whoosh's per-document writer a value at a time."""
    monkeypatch.setattr(writing, "SplitStoredCodec", type("Nothing", (), {}))


@pytest.mark.parametrize("batch", [1024, 7])
def test_batched_values_are_the_per_call_files(tmp_path, monkeypatch, batch):
    documents = _documents()
    monkeypatch.setattr(perdoc, "BATCH_DOCUMENTS", batch)
    batched = _build(tmp_path / "batched", documents)
    _per_call(monkeypatch)
    assert batched == _build(tmp_path / "per-call", documents)
    assert any("_text_len" in key for _, key in batched["files"])
    assert any("section.col" in key for _, key in batched["files"])
    assert any("_stored_more" in key for _, key in batched["files"])  # HitHeadCodec's


def test_merges_see_every_batched_value(tmp_path, monkeypatch):
    documents = _documents()
    update = [{**documents[1], "lead": "Autre chapeau"}, documents[-1]]
    monkeypatch.setattr(perdoc, "BATCH_DOCUMENTS", 4)
    batched = _build(tmp_path / "batched", documents, update=update)
    _per_call(monkeypatch)
    assert batched == _build(tmp_path / "per-call", documents, update=update)
    assert len(batched["stored"]) == len(documents)


def test_length_bytes_are_whooshs():
    from whoosh.util.numeric import length_to_byte

    lengths = [*range(0, 3000), 99_684, 106_373, 106_374, 200_000, 2**31]
    assert length_bytes(lengths).tolist() == [length_to_byte(n) for n in lengths]


def _articles() -> list[tuple[Article, str]]:
    found = [(article, source.path) for source in walk_sources([SAMPLES])
             for article in read_articles(source)]
    vocabulary = [f"mot{n}" for n in range(90)] + ["le", "la", "de", "et", "siège", "sièges"]
    for n in range(12):  # long ones: only their first FEEDBACK_WORDS words count
        body = " ".join(vocabulary[(n * k * 7) % len(vocabulary)] for k in range(60 * n + 5))
        found.append((Article(id=f"long{n}", title=f"Le siège {n}", body=body), "x.txt"))
    return found


@pytest.mark.parametrize("batch", [1024, 5])
def test_stems_packed_from_pooled_words_are_the_packed_stems(tmp_path, monkeypatch, batch):
    monkeypatch.setattr(perdoc, "BATCH_DOCUMENTS", batch)  # stems packed a batch at a time
    articles = _articles()
    pooled = [to_document(article, path, pooled=True) for article, path in articles]
    assert all(isinstance(doc["stems"], PendingStems) for doc in pooled)
    plain = [to_document(article, path) for article, path in articles]
    half = len(articles) // 2
    assert _build(tmp_path / "pooled", pooled[:half], update=pooled[half:]) == \
        _build(tmp_path / "plain", plain[:half], update=plain[half:])


def test_pending_stems_reach_whooshs_own_path_packed(tmp_path, monkeypatch):
    articles = _articles()[:20]
    plain = _build(tmp_path / "plain", [to_document(a, p) for a, p in articles])
    _per_call(monkeypatch)
    assert _build(tmp_path / "per-call",
                  [to_document(a, p, pooled=True) for a, p in articles]) == plain


def test_title_words_taken_from_the_parts_only_for_the_same_text(tmp_path, monkeypatch):
    # The title fields read the words the article's Parts found for the same text; a title
    # the Parts do not hold (or that follows a Parts of another article) has its own words.
    documents = []
    for n in range(30):
        title = f"L'État et la ville n°{n % 4}"
        parts = Parts([(title if n % 3 else f"Autre titre {n}", 3.0),
                       (f"Le port d'attache {n}", 1.5), (title * (n % 2), 1.0)])
        documents.append(dict(id=f"t{n}", title=title, title_exact=title, text=parts,
                              exact=parts))
        if n % 5 == 0:
            documents.append(dict(id=f"u{n}", title=f"Le port d'attache {n}"))
    pooled = _build(tmp_path / "pooled", documents)
    _per_call(monkeypatch)
    assert pooled == _build(tmp_path / "per-call", documents)
