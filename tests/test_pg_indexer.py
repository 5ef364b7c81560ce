"""`furet-index --backend postgresql`: init, build, update, prune, delete; locks and errors."""

from __future__ import annotations

import json
import threading
import time

import psycopg
import pytest

from indexer.cli import main
from search import open_backend, search
from search.postgres.lock import LOCK_KEY


def run(runner, *args: str, url: str):
    return runner.invoke(main, [*args, "--backend", "postgresql", "--database-url", url])


def ids(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        return {i for (i,) in conn.execute("SELECT id FROM furet.articles")}


def generation(url: str) -> str:
    backend = open_backend(backend="postgresql", database_url=url)
    try:
        return backend.generation
    finally:
        backend.close()


def tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        return {name for (name,) in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'furet'")}


def test_init_creates_the_schema_and_is_idempotent(runner, pg_cluster):
    url = pg_cluster.create_database("furet_init")
    result = runner.invoke(main, ["init", "--backend", "postgresql", "--database-url", url])
    assert result.exit_code == 0, result.output
    assert "Furet schema version 1 (applied 1)" in result.stdout
    again = runner.invoke(main, ["init", "--backend", "postgresql", "--database-url", url])
    assert "already up to date" in again.stdout
    assert tables(url) >= {"schema_migrations", "meta", "articles", "files", "vocabulary",
                           "stems"}
    with psycopg.connect(url) as conn:
        conn.execute("INSERT INTO furet.schema_migrations (version, name) VALUES (99, 'x')")
    newer = runner.invoke(main, ["init", "--backend", "postgresql", "--database-url", url])
    assert newer.exit_code == 1 and "newer than this Furet" in newer.stderr
    assert runner.invoke(main, ["init"]).exit_code == 2  # the Whoosh index needs no init


def test_build_indexes_every_article_and_prints_one_summary(runner, articles, pg_url):
    result = run(runner, "build", str(articles), url=pg_url)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("added 4, updated 0, unchanged 0, deleted 0, rejected 0 in ")
    assert ids(pg_url) == {"t-haifa", "t-gaza", "t-gaz", "t-oeuvre"}
    assert not {t for t in tables(pg_url) if t.endswith("_next")}
    info = json.loads(run(runner, "status", "--json", url=pg_url).stdout)
    assert info["documents"] == 4 and info["files"] == 2 and info["schema_version"] == 1
    assert info["generation"] == info["build"] + ".0" and info["size_bytes"] > 0
    check = run(runner, "check", url=pg_url)
    assert check.exit_code == 0 and "index OK: 4 documents" in check.stdout


def test_update_reads_nothing_when_nothing_changed(runner, articles, pg_url, monkeypatch):
    run(runner, "build", str(articles), url=pg_url)
    before = generation(pg_url)
    import indexer.planner

    def no_parsing(source, *args, **kwargs):
        raise AssertionError(f"{source.path} was parsed again")

    monkeypatch.setattr(indexer.planner, "read_records_digested", no_parsing)
    result = run(runner, "update", str(articles), url=pg_url)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("added 0, updated 0, unchanged 4, deleted 0, rejected 0")
    assert generation(pg_url) == before  # no empty commit


def test_update_adds_changes_deletes_and_prunes(runner, articles, pg_url):
    run(runner, "build", str(articles), url=pg_url)
    lines = (articles / "depeches.jsonl").read_text().splitlines()
    changed = json.loads(lines[0])
    changed["title"] = "Nouvelle attaque contre Haïfa"
    new = {"id": "t-new", "title": "Un nouvel article", "body": "Texte du nouvel article."}
    (articles / "depeches.jsonl").write_text(
        "\n".join([json.dumps(changed), lines[2], json.dumps(new)]) + "\n")
    before = generation(pg_url)
    result = run(runner, "update", str(articles), url=pg_url)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("added 1, updated 1, unchanged 2, deleted 1, rejected 0")
    assert ids(pg_url) == {"t-haifa", "t-gaz", "t-oeuvre", "t-new"}
    assert generation(pg_url) != before
    backend = open_backend(backend="postgresql", database_url=pg_url)
    try:
        assert search(backend, "nouvelle attaque").hits[0].title == \
            "Nouvelle attaque contre Haïfa"
        assert "nouvel" in backend.suggest("nouv")  # the vocabulary followed
        assert search(backend, "gaza").total == 1  # the deleted one is gone
    finally:
        backend.close()
    (articles / "oeuvre.json").unlink()
    assert "deleted 0" in run(runner, "update", str(articles), url=pg_url).stdout
    pruned = run(runner, "update", "--prune", "--verbose", str(articles), url=pg_url)
    assert pruned.exit_code == 0 and "deleted 1" in pruned.stdout
    assert "deleted t-oeuvre (" in pruned.stderr
    assert ids(pg_url) == {"t-haifa", "t-gaz", "t-new"}
    with psycopg.connect(pg_url) as conn:  # the manifest forgot the file
        paths = {bytes(p).decode() for (p,) in conn.execute("SELECT path FROM furet.files")}
    assert not any(p.endswith("oeuvre.json") for p in paths)


def test_delete_by_id_and_url(runner, articles, pg_url):
    run(runner, "build", str(articles), url=pg_url)
    result = run(runner, "delete", "t-gaz", "https://journal.example/monde/gaza", url=pg_url)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "deleted 2"
    assert ids(pg_url) == {"t-haifa", "t-oeuvre"}
    missing = run(runner, "delete", "nope", url=pg_url)
    assert missing.exit_code == 1 and "nope: no article with this id or URL" in missing.stderr


def test_update_on_an_empty_database_builds(runner, articles, pg_url):
    result = run(runner, "update", str(articles), url=pg_url)
    assert result.exit_code == 0, result.output
    assert "added 4" in result.stdout and len(ids(pg_url)) == 4


def test_readers_never_see_a_half_built_index(runner, articles, pg_url, tmp_path,
                                              monkeypatch):
    run(runner, "build", str(articles), url=pg_url)
    other = tmp_path / "other"
    other.mkdir()
    (other / "x.json").write_text('{"id": "t-other", "title": "Autre", "body": "Ailleurs."}')
    from search.postgres import tables

    real = tables.fill_side_tables
    seen = []

    def check_then_fill(conn, files):
        seen.append(ids(pg_url))  # the new rows are loaded, not yet swapped in
        real(conn, files)

    monkeypatch.setattr(tables, "fill_side_tables", check_then_fill)
    reader = open_backend(backend="postgresql", database_url=pg_url)
    try:
        for n in range(1, 8):  # uncached searches: psycopg prepares them on the server
            assert reader.search("gaza", per_page=n).total == 2
        result = run(runner, "build", str(other), url=pg_url)
        assert result.exit_code == 0, result.output
        assert seen == [{"t-haifa", "t-gaza", "t-gaz", "t-oeuvre"}]
        assert ids(pg_url) == {"t-other"}
        # The same process follows the swap: new tables, new generation, no error.
        assert reader.search("gaza").total == 0
        assert [h.id for h in reader.search("ailleurs").hits] == ["t-other"]
    finally:
        reader.close()


def test_a_failed_or_empty_build_keeps_the_index(runner, articles, pg_url, tmp_path,
                                                 monkeypatch):
    run(runner, "build", str(articles), url=pg_url)
    before = generation(pg_url)
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run(runner, "build", str(empty), url=pg_url)
    assert result.exit_code == 1 and "the index was not changed" in result.stderr
    import search.postgres.writer

    def broken(article, path):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(search.postgres.writer, "article_row", broken)
    for command in ("build", "update"):
        (articles / f"{command}.json").write_text('{"title": "Neuf", "body": "Neuf."}')
        result = run(runner, command, str(articles), url=pg_url)
        assert result.exit_code == 1 and "Input/output error" in result.stderr
    assert generation(pg_url) == before
    assert len(ids(pg_url)) == 4
    assert not {t for t in tables(pg_url) if t.endswith("_next")}


def test_busy_index_exits_75_and_wait_waits(runner, articles, pg_url):
    run(runner, "build", str(articles), url=pg_url)
    with psycopg.connect(pg_url, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
        result = run(runner, "update", str(articles), url=pg_url)
    assert result.exit_code == 75
    assert "is being written by another furet-index" in result.stderr
    assert "--wait" in result.stderr

    locked = threading.Event()

    def hold() -> None:
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
            locked.set()
            time.sleep(0.6)

    thread = threading.Thread(target=hold)
    thread.start()
    locked.wait(10)
    started = time.monotonic()
    result = run(runner, "update", "--wait", "10", str(articles), url=pg_url)
    thread.join()
    assert result.exit_code == 0, result.output
    assert time.monotonic() - started >= 0.3


def test_bad_input_is_reported_and_good_articles_are_indexed(runner, tmp_path, pg_url):
    src = tmp_path / "src"
    src.mkdir()
    (src / "good.json").write_text('{"id": "ok", "title": "Bon", "body": "Un bon article."}')
    (src / "empty.html").write_bytes(b"")
    (src / "lines.jsonl").write_text(
        '{"id": "l1", "title": "Ligne un", "body": "Texte un."}\n'
        "{not json}\n"
        '{"id": "l1", "title": "Doublon", "body": "Même id."}\n'
        '{"id": "l4", "title": "Nul\\u0000", "body": "Caractères de contrôle\\u0007."}\n')
    result = run(runner, "build", str(src), url=pg_url)
    assert result.exit_code == 1
    assert sorted(result.stderr.splitlines()) == [
        f"{src}/empty.html: empty file",
        f"{src}/lines.jsonl:2: invalid JSON: Expecting property name enclosed in double "
        "quotes (column 2)",
        f"{src}/lines.jsonl:3: duplicate id 'l1', already read from {src}/lines.jsonl:1; "
        "skipped",
    ]
    assert ids(pg_url) == {"ok", "l1", "l4"}


@pytest.mark.parametrize("url, says, code", [
    ("", "no database given for the postgresql backend; set FURET_DATABASE_URL", 2),
    ("postgresql://furet@127.0.0.1:1/nothing",
     "cannot reach PostgreSQL at postgresql://127.0.0.1:1/nothing", 1),
    ("not a url", "is not a PostgreSQL address", 2),
])
def test_bad_or_unreachable_database_says_what_to_do(runner, articles, url, says, code,
                                                     monkeypatch):
    """A wrong setting exits 2 (a usage error), a server that does not answer 1."""
    monkeypatch.delenv("FURET_DATABASE_URL", raising=False)
    for args in (["build", str(articles)], ["status"], ["init"]):
        result = run(runner, *args, url=url)
        assert result.exit_code == code, (args, result.output)
        assert says in result.stderr


def test_a_database_without_schema_says_to_run_init(runner, articles, pg_cluster):
    url = pg_cluster.create_database("furet_no_schema")
    result = run(runner, "build", str(articles), url=url)
    assert result.exit_code == 1
    assert "has no Furet schema yet; create it with: furet-index init --backend postgresql" \
        in result.stderr
