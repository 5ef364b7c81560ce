"""Furet on several machines, for real: a primary and streaming replicas (private clusters on
127.0.0.1, `pg_basebackup -R`), `furet-serve` reading from a replica, `furet-index` writing
to the primary. What docs/postgresql.md ("Running on several machines") says, each shown:

- an update on the primary is searchable through the replica, and ETags change with it;
- the writer pointed at a replica refuses before it starts (exit 2, a message, no traceback);
- a multi-host URL keeps reads going while one replica is stopped; with none left the
  health check answers 503, and 200 again by itself once a replica is back;
- readers on a replica are served while the primary restarts; the writer's run fails
  cleanly then, and the next run converges;
- a connection lost in the middle of a request is a 503 in the error shape, the pool heals,
  and the connections in pg_stat_activity stay bounded.

Waiting for a replica to replay is bounded generously (REPLAY_WAIT) and never measured.
"""

from __future__ import annotations

import itertools
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from indexer.cli import main
from tests.stores import PostgresStore, private_postgres

pytestmark = pytest.mark.slow

REPLAY_WAIT = 30  # seconds: a replica replays within a second or two; a busy machine is slower
_DATABASES = itertools.count(1)


@pytest.fixture(scope="module")
def primary():
    """A private primary cluster of this module's own (its tests stop and restart it)."""
    with private_postgres() as cluster:
        yield cluster


@pytest.fixture(scope="module")
def replicas(primary):
    """Two streaming replicas of `primary`."""
    from bench.pgcluster import streaming_replica

    with streaming_replica(primary) as first, streaming_replica(primary) as second:
        yield first, second


@pytest.fixture
def database(primary, replicas, runner, articles) -> str:
    """A fresh database on the primary, initialised and built from `articles`; its name."""
    name = f"furet_replicated_{next(_DATABASES)}"
    url = primary.create_database(name)
    assert runner.invoke(main, ["init", *_options(url)]).exit_code == 0
    result = runner.invoke(main, ["build", str(articles), *_options(url)])
    assert result.exit_code == 0, result.output
    for replica in replicas:
        wait_for_replay(primary, replica)
    return name


def _options(url: str) -> list[str]:
    return PostgresStore(url).options


def _env(url: str) -> dict[str, str]:
    return {"FURET_BACKEND": "postgresql", "FURET_DATABASE_URL": url}


def wait_for_replay(primary, replica) -> None:
    """Until `replica` has replayed everything `primary` wrote so far."""
    with psycopg.connect(primary.url(), autocommit=True) as conn:
        target = conn.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
    deadline = time.monotonic() + REPLAY_WAIT
    with psycopg.connect(replica.url(), autocommit=True) as conn:
        while not conn.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn",
                               (target,)).fetchone()[0]:
            assert time.monotonic() < deadline, f"the replica did not replay {target}"
            time.sleep(0.05)


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], Any]:
    """(status, headers, JSON body) of a GET, HTTP errors included."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), json.load(response)
    except urllib.error.HTTPError as err:
        body = err.read()
        return err.code, dict(err.headers), json.loads(body) if body else None


def eventually(check: Callable[[], Any], what: str) -> Any:
    """The first true value of `check()`, retried for up to REPLAY_WAIT seconds."""
    deadline = time.monotonic() + REPLAY_WAIT
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def add_article(articles: Path, article_id: str, word: str) -> None:
    (articles / f"{article_id}.json").write_text(json.dumps({
        "id": article_id, "url": f"https://journal.example/{article_id}",
        "title": f"Le {word} arrive au port", "body": f"Un article sur le {word}, enfin.",
        "published": "2024-03-01T08:00:00+01:00", "section": "Sciences"}), "utf-8")


def total(server, word: str) -> int | None:
    status, _, body = get(f"{server.url}/api/v1/search?q={word}")
    return body["total"] if status == 200 else None


@pytest.fixture
def restarts() -> Iterator[list[Any]]:
    """Clusters a test stops: started again at its end, whatever happens."""
    stopped: list[Any] = []
    yield stopped
    for cluster in stopped:
        if not cluster.running:
            cluster.start_server()


# ------------------------------------------------------------------------ tests


def test_an_update_on_the_primary_is_searchable_through_the_replica(
        primary, replicas, database, runner, articles, furet_server):
    server = furet_server(Path("unused"), env=_env(replicas[0].url(database)))
    status, headers, body = get(f"{server.url}/api/v1/search?q=haifa")
    assert status == 200 and body["total"] >= 1
    etag = headers["ETag"]
    assert total(server, "ornithorynque") == 0
    add_article(articles, "t-ornithorynque", "ornithorynque")
    result = runner.invoke(main, ["update", str(articles), *_options(primary.url(database))])
    assert result.exit_code == 0, result.output
    eventually(lambda: total(server, "ornithorynque") == 1,
               "the update never reached the replica's readers")
    status, headers, _ = get(f"{server.url}/api/v1/search?q=haifa", {"If-None-Match": etag})
    assert status == 200 and headers["ETag"] != etag  # a new generation: caches follow
    health = get(f"{server.url}/api/v1/health")[2]
    with psycopg.connect(primary.url(database)) as conn:
        generation = conn.execute("SELECT value FROM furet.meta WHERE key = 'generation'"
                                  ).fetchone()[0]
    assert health["generation"] == generation


@pytest.mark.parametrize("command", [["init"], ["build", "ARTICLES"], ["update", "ARTICLES"],
                                     ["delete", "t-haifa"]])
def test_the_writer_pointed_at_a_replica_refuses_before_it_starts(
        command, primary, replicas, database, runner, articles):
    args = [str(articles) if a == "ARTICLES" else a for a in command]
    result = runner.invoke(main, [*args, *_options(replicas[0].url(database))])
    assert result.exit_code == 2, result.output
    assert "is a read-only replica" in result.stderr
    assert "point FURET_DATABASE_URL at the primary" in result.stderr
    assert isinstance(result.exception, SystemExit)  # an exit, never a traceback
    with psycopg.connect(primary.url(database)) as conn:  # nothing started on the primary
        assert conn.execute("SELECT count(*) FROM furet.articles WHERE id = 't-haifa'"
                            ).fetchone()[0] == 1


def test_a_writer_given_several_hosts_finds_the_primary(primary, replicas, database, runner,
                                                         articles):
    hosts = ",".join(f"127.0.0.1:{c.port}" for c in (*replicas, primary))
    url = f"postgresql://furet@{hosts}/{database}?target_session_attrs=read-write"
    add_article(articles, "t-plusieurs", "tamanoir")
    result = runner.invoke(main, ["update", str(articles), *_options(url)])
    assert result.exit_code == 0, result.output
    with psycopg.connect(primary.url(database)) as conn:
        assert conn.execute("SELECT count(*) FROM furet.articles WHERE id = 't-plusieurs'"
                            ).fetchone()[0] == 1


def test_a_multi_host_url_keeps_reads_going_and_recovers_by_itself(
        replicas, database, furet_server, restarts):
    first, second = replicas
    hosts = ",".join(f"127.0.0.1:{c.port}" for c in replicas)
    url = f"postgresql://furet@{hosts}/{database}?target_session_attrs=any&connect_timeout=2"
    server = furet_server(Path("unused"), env=_env(url))
    assert total(server, "haifa")
    restarts.append(first)
    first.stop()
    for _ in range(5):  # every request, the first after the stop included, is answered
        assert total(server, "haifa"), server.stderr()
    assert get(f"{server.url}/api/v1/health")[0] == 200
    restarts.append(second)
    second.stop()
    status, _, body = get(f"{server.url}/api/v1/health")
    assert status == 503 and body["error"]["code"] == "index_unavailable"
    assert "database cannot be reached" in body["error"]["message"]
    status, _, body = get(f"{server.url}/api/v1/search?q=haifa")
    assert status == 503 and set(body["error"]) >= {"code", "message"}
    first.start_server()
    eventually(lambda: get(f"{server.url}/api/v1/health")[0] == 200,
               "the web server did not recover once a replica was back")
    assert total(server, "haifa")


def test_readers_on_a_replica_are_served_while_the_primary_restarts(
        primary, replicas, database, runner, articles, furet_server, restarts, monkeypatch):
    server = furet_server(Path("unused"), env=_env(replicas[0].url(database)))
    add_article(articles, "t-restart", "pangolin")
    restarts.append(primary)
    primary.stop()
    assert total(server, "haifa")  # the replica serves on, primary or not
    assert get(f"{server.url}/api/v1/health")[0] == 200
    result = runner.invoke(main, ["update", str(articles), *_options(primary.url(database))])
    assert result.exit_code == 1 and "cannot reach PostgreSQL" in result.stderr
    assert "Traceback" not in result.output
    primary.start_server()
    assert total(server, "haifa")

    # The primary stopping in the middle of a run: the run fails with the reason...
    from search.postgres import writer

    flush = writer.PostgresWriter._flush

    def stopping_flush(self: Any) -> None:
        primary.stop()
        flush(self)

    monkeypatch.setattr(writer.PostgresWriter, "_flush", stopping_flush)
    result = runner.invoke(main, ["update", str(articles), *_options(primary.url(database))])
    assert result.exit_code in (1, 75), result.output
    assert "PostgreSQL" in result.stderr and "Traceback" not in result.output
    assert total(server, "haifa")
    monkeypatch.undo()
    # ... and the next one converges.
    primary.start_server()
    result = runner.invoke(main, ["update", str(articles), *_options(primary.url(database))])
    assert result.exit_code == 0, result.output
    eventually(lambda: total(server, "pangolin") == 1, "the next run did not converge")


def test_a_connection_lost_mid_request_is_a_503_and_the_pool_heals(
        primary, replicas, database, tmp_path, monkeypatch):
    from search.postgres.backend import POOL_SIZE, PostgresView
    from web import create_app

    replica = replicas[0]
    app = create_app({"TESTING": True, "BACKEND": "postgresql", "RATELIMIT": "",
                      "DATABASE_URL": replica.url(database),
                      "QUERY_LOG": str(tmp_path / "querylog.sqlite")})
    client = app.test_client()
    assert client.get("/api/v1/search?q=haifa").status_code == 200
    search = PostgresView.search

    def lost(self: PostgresView, request: Any) -> Any:
        self.conn.execute("SELECT pg_terminate_backend(pg_backend_pid())")
        return search(self, request)

    monkeypatch.setattr(PostgresView, "search", lost)
    for query in ("port", "gaza", "attaque"):  # distinct: the result cache never answers
        response = client.get(f"/api/v1/search?q={query}")
        assert response.status_code == 503
        error = response.get_json()["error"]
        assert error["code"] == "index_unavailable"
        assert "database cannot be reached" in error["message"]
    monkeypatch.undo()
    for query in ("ville", "aide", "humanitaire"):
        assert client.get(f"/api/v1/search?q={query}").status_code == 200
    assert client.get("/api/v1/health").status_code == 200
    with psycopg.connect(replica.url(database)) as conn:
        furet = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND "
                             "application_name = 'furet'", (database,)).fetchone()[0]
    assert 1 <= furet <= POOL_SIZE


def test_the_editors_choices_reach_servers_reading_a_replica(
        primary, replicas, database, runner, furet_server, tmp_path):
    """A server reading a replica obeys what an editor does on the primary; the console's
    file kept from before is taken in by furet-admin on the primary (the replica's server,
    which cannot write, leaves it)."""
    from search.editorial import SQLiteEditorial
    from web.admin import main as admin
    from web.editorial import hide

    legacy = tmp_path / "console.sqlite"
    hide(SQLiteEditorial(legacy), ["t-gaza"], reason="avant", user="alice")
    server = furet_server(Path("unused"), env=_env(replicas[0].url(database))
                          | {"FURET_ADMIN_DB": str(legacy)})
    before = total(server, "haifa")
    assert before and get(f"{server.url}/api/v1/articles/t-gaza")[0] == 200
    result = runner.invoke(admin, ["hide", "t-haifa", *_options(primary.url(database))],
                           env={"FURET_ADMIN_DB": str(legacy)})
    assert result.exit_code == 0, result.output
    eventually(lambda: total(server, "haifa") == before - 1,
               "the replica's server never left the hidden article out")
    eventually(lambda: get(f"{server.url}/api/v1/articles/t-gaza")[0] == 404,
               "the console's file was not taken in")
    assert "Traceback" not in server.stderr()
