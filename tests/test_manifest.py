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


def test_own_lines_leave_out_lines_of_articles_read_elsewhere(tmp_path, monkeypatch):
    """Whether the lines read elsewhere are listed at once or checked one by one."""
    from search.whoosh import manifest as module

    manifest = Manifest(tmp_path)
    manifest.apply(generation=1, articles=[("a", "one.jsonl", "h"), ("b", "two.jsonl", "h"),
                                           ("c", "one.jsonl", "h")],
                   lines=[("one.jsonl", b"d1", "a"), ("one.jsonl", b"d2", "b"),
                          ("one.jsonl", b"d3", "gone"), ("one.jsonl", b"d4", "c"),
                          ("two.jsonl", b"d5", "b")])
    for limit in (100, 1, 0):  # 2 foreign lines: listed, then too many to list
        monkeypatch.setattr(module._OwnLines, "FOREIGN_LIMIT", limit)
        own = manifest.own_lines("one.jsonl")
        assert (b"d1" in own, b"d2" in own, b"d3" in own, b"d4" in own, b"d5" in own) == \
            (True, False, False, True, False)
        assert own[b"d1"] == "a" and own[b"d4"] == "c" and own.get(b"d2") is None
        assert dict(own) == {b"d1": "a", b"d4": "c"}
    for fits in (4, 3, None):  # read at once when the file's 4 lines fit, else looked up
        own = manifest.own_lines("one.jsonl", fits=fits)
        assert isinstance(own, dict) == (fits == 4)
        assert dict(own) == {b"d1": "a", b"d4": "c"} and b"d2" not in own
