"""The Whoosh store's manifest: what `update` reads to know which files and lines changed."""

from __future__ import annotations

from search.whoosh.manifest import Manifest


def _lines(manifest: Manifest) -> dict[str, bytes]:
    return {i: d for d, i in manifest.db.execute("SELECT digest, id FROM lines")}


def test_forgetting_articles_drops_their_lines_and_only_theirs(tmp_path):
    manifest = Manifest(tmp_path)
    ids = [f"a{n}" for n in range(50)]
    manifest.apply(generation=1, articles=((i, "feed.jsonl", "h") for i in ids),
                   lines=(("feed.jsonl", i.encode(), i) for i in ids))
    # Twice in one connection (the scratch table is reused), an id given twice, one unknown.
    manifest.apply(generation=2, forget_articles=["a1", "a2", "a2", "missing"])
    manifest.apply(generation=3, forget_articles=(i for i in ids[10:20]))
    gone = {"a1", "a2", *ids[10:20]}
    assert set(_lines(manifest)) == set(ids) - gone
    assert {i for (i,) in manifest.db.execute("SELECT id FROM articles")} == set(ids) - gone
    manifest.apply(generation=4, lines=[("feed.jsonl", b"a1", "a1")])  # it comes back
    assert _lines(manifest)["a1"] == b"a1"
