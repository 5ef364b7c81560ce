"""`furet-index --backend postgresql`: what only this backend has (init and the schema
version, the staging tables a build swaps in, the files table, database errors).

Build, update, prune, delete, status, locks and bad input run on both backends in
tests/test_indexer_cli.py.
"""

from __future__ import annotations

import json

import psycopg
import pytest

from indexer.cli import main
from search import open_backend
from search.editorial import EditorialCache, open_editorial
from search.errors import IndexNotFoundError
from tests.stores import PostgresStore
from web.editorial import hide


def run(runner, *args: str, url: str):
    return PostgresStore(url).run(runner, *args)


def ids(url: str) -> set[str]:
    """Every article row (read with SQL: also while a build is under way)."""
    with psycopg.connect(url) as conn:
        return {i for (i,) in conn.execute("SELECT id FROM furet.articles")}


def tables(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        return {name for (name,) in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'furet'")}


def staging(url: str) -> set[str]:
    """The tables a build fills before swapping them in (none once it is over)."""
    return {t for t in tables(url) if t.endswith("_next")}


def test_init_creates_the_schema_and_is_idempotent(runner, pg_cluster):
    url = pg_cluster.create_database("furet_init")
    result = runner.invoke(main, ["init", "--backend", "postgresql", "--database-url", url])
    assert result.exit_code == 0, result.output
    assert "Furet schema version 4 (applied 1, 2, 3, 4)" in result.stdout
    again = runner.invoke(main, ["init", "--backend", "postgresql", "--database-url", url])
    assert "already up to date" in again.stdout
    assert tables(url) >= {"schema_migrations", "meta", "articles", "files", "vocabulary",
                           "stems", "postings", "terms", "editor_users", "editor_hidden",
                           "editor_pins", "editor_synonyms", "editor_audit", "editor_meta"}
    with psycopg.connect(url) as conn:
        conn.execute("INSERT INTO furet.schema_migrations (version, name) VALUES (99, 'x')")
    newer = runner.invoke(main, ["init", "--backend", "postgresql", "--database-url", url])
    assert newer.exit_code == 1 and "newer than this Furet" in newer.stderr
    assert runner.invoke(main, ["init"]).exit_code == 2  # the Whoosh index needs no init


def _ranked(url: str, query: str) -> list[tuple[str, float]]:
    backend = open_backend(backend="postgresql", database_url=url)
    try:
        return [(h.id, h.score) for h in backend.search(query, per_page=20).hits]
    finally:
        backend.close()


def test_init_upgrades_a_version_1_index_with_its_postings(runner, articles, pg_url):
    assert run(runner, "build", str(articles), url=pg_url).exit_code == 0
    before = _ranked(pg_url, "attaque port")
    with psycopg.connect(pg_url) as conn:  # what version 1 had
        conn.execute("DROP TABLE furet.postings, furet.terms")
        conn.execute("ALTER TABLE furet.articles DROP COLUMN doc, DROP COLUMN section_key")
        conn.execute("DELETE FROM furet.meta WHERE key LIKE 'avgdl%'")
        conn.execute("DELETE FROM furet.schema_migrations WHERE version IN (2, 4)")
    result = run(runner, "init", url=pg_url)
    assert result.exit_code == 0 and "(applied 2, 4)" in result.stdout, result.output
    after = _ranked(pg_url, "attaque port")
    assert after == before and before


def test_init_adds_the_editors_tables_and_builds_keep_them(runner, articles, pg_url,
                                                          tmp_path):
    assert run(runner, "build", str(articles), url=pg_url).exit_code == 0
    with psycopg.connect(pg_url) as conn:  # what version 2 had
        for table in ("users", "sessions", "login_failures", "synonyms", "audit", "meta",
                      "pins", "hidden"):
            conn.execute(f"DROP TABLE furet.editor_{table}")
        conn.execute("DELETE FROM furet.schema_migrations WHERE version = 3")
    editors = open_editorial(backend="postgresql", path=tmp_path / "none.sqlite",
                             database_url=pg_url)
    assert not editors.exists() and editors.read_version() == ""
    with pytest.raises(IndexNotFoundError, match="furet-index init"):
        hide(editors, ["t-haifa"], reason="justice", user="alice")
    result = run(runner, "init", url=pg_url)
    assert result.exit_code == 0 and "(applied 3)" in result.stdout, result.output
    hide(editors, ["t-haifa"], reason="justice", user="alice")
    for command in ("build", "update"):
        assert run(runner, command, str(articles), url=pg_url).exit_code == 0
        assert EditorialCache(editors).current().hidden == {"t-haifa"}, command


def test_builds_swap_in_their_tables_whole_or_not_at_all(runner, articles, pg_url, tmp_path,
                                                        monkeypatch):
    result = run(runner, "build", str(articles), url=pg_url)
    assert result.exit_code == 0, result.output
    assert not staging(pg_url)
    info = json.loads(run(runner, "status", "--json", url=pg_url).stdout)
    assert info["generation"] == info["build"] + ".0"  # a build starts at generation 0

    empty = tmp_path / "empty"
    empty.mkdir()
    assert run(runner, "build", str(empty), url=pg_url).exit_code == 1
    assert not staging(pg_url)

    def broken(article, path):
        raise OSError(5, "Input/output error")

    PostgresStore(pg_url).break_article_writing(monkeypatch, broken)
    for command in ("build", "update"):
        (articles / f"{command}.json").write_text('{"title": "Neuf", "body": "Neuf."}')
        assert run(runner, command, str(articles), url=pg_url).exit_code == 1, command
        assert not staging(pg_url), command
    assert ids(pg_url) == {"t-haifa", "t-gaza", "t-gaz", "t-oeuvre"}


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
        return real(conn, files)

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


def test_prune_forgets_the_vanished_file(runner, articles, pg_url):
    run(runner, "build", str(articles), url=pg_url)
    (articles / "oeuvre.json").unlink()
    assert run(runner, "update", "--prune", str(articles), url=pg_url).exit_code == 0
    with psycopg.connect(pg_url) as conn:  # the manifest forgot the file
        paths = {bytes(p).decode() for (p,) in conn.execute("SELECT path FROM furet.files")}
    assert paths and not any(p.endswith("oeuvre.json") for p in paths)


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



def test_a_writer_finds_the_lock_free_as_soon_as_the_last_one_returned(pg_cluster, monkeypatch):
    # The server ends a closed session a moment after the client has left; sessions that
    # linger past their close (kept open here) must not hold the lock for the next cron run.
    from search.postgres import lock

    lingering = []

    def connect(url: str, **_):
        conn = psycopg.connect(url, autocommit=True)
        lingering.append(conn)
        return _Lingering(conn)

    url = pg_cluster.create_database("furet_lock")
    monkeypatch.setattr(lock, "connect", connect)
    try:
        with lock.writer_connection(url):
            pass
        with lock.writer_connection(url):  # IndexLockedError if the first still held it
            pass
    finally:
        for conn in lingering:
            conn.close()


class _Lingering:
    """A connection whose close() leaves the server session open."""

    def __init__(self, conn) -> None:
        self._conn = conn

    def close(self) -> None:
        pass

    def __getattr__(self, name: str):
        return getattr(self._conn, name)
