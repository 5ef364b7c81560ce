"""KnownLines: a changed JSON Lines file's known lines in arrays, as the dict they replace."""

from __future__ import annotations

import hashlib

from hypothesis import example, given, settings
from hypothesis import strategies as st

from search.known_lines import KnownLines
from search.whoosh.manifest import Manifest


def _digest(n: int) -> bytes:
    return hashlib.blake2b(str(n).encode(), digest_size=16).digest()


def _rows(pairs: dict[bytes, str]) -> list[tuple[bytes, str, int]]:
    return [(d, i, 1) for d, i in sorted(pairs.items())]


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.integers(0, 400), st.text(min_size=1, max_size=12), max_size=60),
       st.lists(st.integers(0, 500), max_size=80))
def test_a_table_answers_as_the_dict(known, asked):
    ids = {}
    for n, article_id in known.items():  # distinct ids, as a file's recorded lines have
        ids.setdefault(article_id, n)
    pairs = {_digest(n): i for i, n in ids.items()}
    table = KnownLines.from_rows(_rows(pairs))
    assert table is not None and len(table) == len(pairs)
    digests = [_digest(n) for n in asked] + [None, b"short"]
    rows = table.find(digests)
    assert rows[-2:] == [-1, -1]
    for digest, row in zip(digests, rows, strict=False):
        if digest in pairs:
            assert table.id_of(row) == pairs[digest] and table.digest_of(row) == digest
        else:
            assert row == -1
    for row in {r for r in rows if r >= 0}:
        table.found[row] = True
    found = {pairs[d] for d in digests if d in pairs}
    assert {i for i in pairs.values() if table.found_id(i)} == found
    assert sorted(table.id_of(r) for r in table.not_found()) == sorted(set(pairs.values()) - found)
    for article_id in pairs.values():
        assert table.id_of(table.row_of(article_id)) == article_id
    assert table.row_of("not an id of the file") == -1


def test_rows_that_do_not_fit_give_no_table():
    one, two = sorted([_digest(1), _digest(2)])
    assert KnownLines.from_rows([(one, "a", 1), (two, "b", 1)]) is not None
    assert KnownLines.from_rows([(two, "a", 1), (one, "b", 1)]) is None  # out of order
    assert KnownLines.from_rows([(one, "a", 1), (two, "a", 1)]) is None  # an id twice
    assert KnownLines.from_rows([(one, "a", 1), (one, "b", 1)]) is None  # a digest twice
    assert KnownLines.from_rows([(b"d1", "a", 1)]) is None  # not a line digest
    table = KnownLines.from_rows([(b"d1", "a", 0), (one, "b", 1), (b"x", "c", 0)])
    assert table is not None and len(table) == 1 and table.foreign == [b"d1", b"x"]
    table = KnownLines.from_rows([(b"d1", "a", 0), (b"d2", "b", 0)])  # none own (a batch)
    assert table is not None and len(table) == 0 and table.foreign == [b"d1", b"d2"]
    empty = KnownLines.from_rows([])
    assert empty is not None and empty.find([one]) == [-1] and empty.row_of("a") == -1


def test_the_manifest_gives_the_own_lines_and_the_others(tmp_path):
    manifest = Manifest(tmp_path)
    d = [_digest(n) for n in range(5)]
    manifest.apply(generation=1, articles=[("a", "one.jsonl", "h"), ("b", "two.jsonl", "h"),
                                           ("c", "one.jsonl", "h")],
                   lines=[("one.jsonl", d[0], "a"), ("one.jsonl", d[1], "b"),
                          ("one.jsonl", d[2], "gone"), ("one.jsonl", d[3], "c"),
                          ("two.jsonl", d[4], "b")])
    table = manifest.known_lines("one.jsonl", most=10)
    assert table is not None
    assert {table.id_of(r) for r in range(len(table))} == {"a", "c"}
    assert sorted(table.foreign) == sorted([d[1], d[2]])
    assert manifest.known_lines("one.jsonl", most=3) is None  # 4 lines: too many
    manifest.apply(generation=2, forget_lines=[("one.jsonl", d[1]), ("one.jsonl", d[2])])
    assert sorted(manifest.db.execute("SELECT digest FROM lines WHERE path = ?",
                                      (b"one.jsonl",)).fetchall()) == sorted([(d[0],), (d[3],)])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=8), unique=True, max_size=40),
       st.lists(st.text(min_size=1, max_size=8), max_size=40),
       st.lists(st.text(min_size=1, max_size=8), unique=True, max_size=40),
       st.lists(st.integers(0, 39), max_size=40))
def test_rows_of_ids_and_of_ids_found_elsewhere(ids, asked, others, found):
    """A batch of ids (some asked twice), and the ids another table found, give the rows
    holding them, as row_of and found_id answer one at a time."""
    table = KnownLines.from_rows(sorted((_digest(n), i, 1) for n, i in enumerate(ids)))
    other = KnownLines.from_rows(sorted((_digest(1000 + n), i, 1)
                                        for n, i in enumerate(others)))
    assert table is not None and other is not None
    # (an id asked twice may give its row twice: callers mark the rows, not count them)
    assert set(table.rows_of(asked).tolist()) == {table.row_of(i) for i in asked} - {-1}
    assert len(table.rows_of(asked)) <= len(asked)
    for row in found:
        if row < len(other):
            other.found[row] = True
    assert sorted(table.rows_found_in(other).tolist()) == sorted(
        r for r in range(len(table)) if other.found_id(table.id_of(r)))
    assert table.rows_of([]).tolist() == [] and table.rows_found_in(table).tolist() == []


def _shown(table: KnownLines | None) -> tuple[object, ...]:
    assert table is not None
    # (each id found again at its row: the scan hands its sorted hashes over)
    assert [table.row_of(table.id_of(r)) for r in range(len(table))] == list(range(len(table)))
    return (table.digests.tolist(), [table.id_of(r) for r in range(len(table))],
            sorted(table.foreign))


def test_the_manifest_reads_the_own_lines_at_once_or_line_by_line_alike(tmp_path):
    """A file holding a quarter of the articles or more has its lines and its articles'
    ids read with one scan each, however many lines it has (no `held` bound any more):
    the same table as the join a line at a time. A smaller file is joined."""
    manifest = Manifest(tmp_path)
    d = [_digest(n) for n in range(8)]
    manifest.apply(generation=1, articles=[("a", "one.jsonl", "h"), ("b", "two.jsonl", "h"),
                                           ("c", "one.jsonl", "h"), ("é", "one.jsonl", "h")],
                   lines=[("one.jsonl", d[0], "a"), ("one.jsonl", d[1], "b"),
                          ("one.jsonl", d[2], "gone"), ("one.jsonl", d[3], "c"),
                          ("one.jsonl", d[5], "é"), ("two.jsonl", d[4], "b")])
    joined = _shown(manifest._own_lines_by_join(b"one.jsonl"))
    scanned = _shown(manifest._own_lines_by_scan(b"one.jsonl"))
    assert scanned == joined
    assert joined[1] == sorted(["a", "c", "é"], key=lambda i: [
        dg for dg, x in [(d[0], "a"), (d[3], "c"), (d[5], "é")] if x == i][0])
    assert joined[2] == sorted([d[1], d[2]])
    queries: list[str] = []
    manifest.db.set_trace_callback(queries.append)
    for held in (0, 4, 10):  # 5 lines: more than 4
        assert _shown(manifest.known_lines("one.jsonl", most=10, held=held)) == joined
        assert not any("JOIN" in q for q in queries)
    manifest.apply(generation=2, articles=[(f"x{n}", "three.jsonl", "h") for n in range(20)])
    assert _shown(manifest.known_lines("one.jsonl", most=10, held=10)) == joined
    assert any("JOIN" in q for q in queries)  # 5 lines of 24 articles: joined


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["one", "two", "three"]), st.integers(0, 30)),
                max_size=40),
       st.lists(st.tuples(st.integers(0, 30), st.sampled_from(["one", "two", "gone"])),
                max_size=40))
@example([("one", 1), ("one", 2), ("one", 3)], [(1, "one"), (2, "one"), (3, "one")])
def test_the_scan_and_the_join_give_one_table(tmp_path_factory, lines, articles):
    """Lines of several files whose ids are articles of that file, of another, of none,
    or twice in one file: the scan gives the join's table, or defers to it (None)."""
    manifest = Manifest(tmp_path_factory.mktemp("m"))
    manifest.apply(generation=1,
                   articles=[(f"é{n}", f"{path}.jsonl", "h") for n, path in articles],
                   lines=[(f"{path}.jsonl", _digest(k)[:-1] + b"\0" if k % 3 else _digest(k),
                           f"é{n}") for k, (path, n) in enumerate(lines)])  # (NUL: numpy
    # drops a trailing NUL byte from a bytes array's items)
    for path in (b"one.jsonl", b"two.jsonl", b"three.jsonl"):
        joined = manifest._own_lines_by_join(path)
        scanned = manifest._own_lines_by_scan(path)
        if scanned is None:  # an id on two lines of the file: the join decides
            ids = [i for (i,) in manifest.db.execute(
                "SELECT id FROM lines WHERE path = ?", (path,))]
            assert len(set(ids)) < len(ids)
            continue
        assert _shown(scanned) == _shown(joined)
    manifest.close()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 300), unique=True, max_size=60),
       st.lists(st.integers(0, 400), max_size=60), st.sampled_from(["apart", "shared",
                                                                   "crowded"]))
@example(list(range(40)), list(range(50)), "crowded")
@example(list(range(100)), list(range(120)), "crowded")  # (past CROWDED_BUCKET: searched)
@example(list(range(300)), list(range(400)), "apart")  # (buckets of one, two, three)
def test_digests_are_found_by_their_first_bytes_or_whole(known, asked, how):
    """A digest is looked up by its first 8 bytes as a number while no two known digests
    share them, else as 16 bytes: the same rows either way ("shared": digests sharing
    their first bytes, and asked ones that share them without being known; "crowded":
    first bytes apart, but their first bits the same, so that they share a bucket, past
    CROWDED_BUCKET in one of them)."""
    shared = how == "shared"

    def digest(n: int) -> bytes:
        if how == "crowded":
            return bytes(2 + n % 2) + _digest(n)[:14 - n % 2]
        return bytes([n % 3]) * 8 + _digest(n)[:8] if shared else _digest(n)

    pairs = {digest(n): f"id{n}" for n in known}
    table = KnownLines.from_rows(_rows(pairs))
    assert table is not None
    assert (table._prefixes is None) == (shared and len({n % 3 for n in known}) < len(known))
    rows = table.find([digest(n) for n in asked])
    assert [table.id_of(r) if r >= 0 else None for r in rows] == [
        pairs.get(digest(n)) for n in asked]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.binary(min_size=16, max_size=16), st.text(max_size=10),
                          st.booleans()), max_size=30),
       st.sampled_from([1_000_000, 3, 0]))
@example([(bytes(16), "", True), (b"\xff\xfe\x80\x00" * 4, "\x00é", True),
          (b"\xc3" * 16, "\ud7ff\U0001f600", False)], 1_000_000)
def test_columns_joined_by_sqlite_give_the_rows_bytes(tmp_path_factory, lines, limit):
    """The lines' digests and ids, and the articles' ids, read as one value a column
    (`group_concat`) are the bytes read a row at a time, whatever bytes the digests hold
    (NUL, bytes that are no UTF-8) and whatever the ids (empty, NUL, any letter); past
    CONCATENATED_LINES they are read a row at a time: the same table."""
    from search.whoosh import manifest as manifest_module

    manifest = Manifest(tmp_path_factory.mktemp("m"))
    unique = {digest: (i, own) for digest, i, own in lines}
    ids = {}
    for digest, (i, own) in unique.items():
        ids.setdefault(i, (digest, own))
    manifest.apply(generation=1,
                   articles=[(i, "one.jsonl" if own else "two.jsonl", "h")
                             for i, (_, own) in ids.items()],
                   lines=[("one.jsonl", digest, i) for i, (digest, _) in ids.items()])
    rows = sorted((digest, i.encode("utf-8")) for i, (digest, _) in ids.items())
    joined = manifest_module._concatenated_lines(manifest.db, b"one.jsonl")
    assert joined == (b"".join(d for d, _ in rows), [i for _, i in rows])
    assert manifest_module._concatenated_ids(manifest.db, b"one.jsonl") == sorted(
        i.encode("utf-8") for i, (_, own) in ids.items() if own)
    old_limit = manifest_module.CONCATENATED_LINES
    try:
        manifest_module.CONCATENATED_LINES = limit
        scanned = manifest._own_lines_by_scan(b"one.jsonl")
    finally:
        manifest_module.CONCATENATED_LINES = old_limit
    by_join = manifest._own_lines_by_join(b"one.jsonl")
    assert scanned is not None and by_join is not None
    assert _shown(scanned) == _shown(by_join)
    manifest.close()


def test_lines_that_do_not_fit_the_joined_columns_are_read_a_row_at_a_time(tmp_path):
    """A digest of another length, or not a blob, and the columns joined by SQLite are not
    used: the lines are read a row at a time, and give no table (the join decides)."""
    from search.whoosh import manifest as manifest_module

    for digest in (b"short", "sixteen letters!"):
        folder = tmp_path / f"m{len(digest)}{type(digest).__name__}"
        folder.mkdir()
        manifest = Manifest(folder)
        manifest.apply(generation=1, articles=[("a", "one.jsonl", "h"), ("b", "one.jsonl", "h")],
                       lines=[("one.jsonl", _digest(1), "a")])
        manifest.db.execute("INSERT INTO lines VALUES (?, ?, ?)", (b"one.jsonl", digest, "b"))
        assert manifest_module._concatenated_lines(manifest.db, b"one.jsonl") is None
        assert manifest._own_lines_by_scan(b"one.jsonl") is None
        manifest.close()
