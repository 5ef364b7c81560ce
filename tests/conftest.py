"""Shared fixtures: paths to the bundled articles, a CLI runner, a built index."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.servers import free_port, read_log, serve_command, stop_group, wait_until_answering

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
SAMPLES = ROOT / "samples"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def articles(tmp_path: Path) -> Path:
    """A writable copy of tests/data/articles."""
    target = tmp_path / "articles"
    shutil.copytree(DATA / "articles", target)
    return target


@pytest.fixture(scope="session")
def samples_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of samples/, built once for the whole session (read-only for tests)."""
    from tests.indexing import build

    index_dir = tmp_path_factory.mktemp("samples-index")
    report = build(index_dir, [SAMPLES])
    assert report.rejected == 0, [str(e) for e in report.errors]
    return index_dir


@pytest.fixture
def app(samples_index: Path, tmp_path: Path):
    """The web app over the samples index: query log and console file in tmp_path, no rate
    limit."""
    from web import create_app

    return create_app({
        "TESTING": True,
        "INDEX_DIR": str(samples_index),
        "QUERY_LOG": str(tmp_path / "querylog.sqlite"),
        "ADMIN_DB": str(tmp_path / "admin.sqlite"),
        "RATELIMIT": "",
    })


@pytest.fixture
def client(app):
    """A Flask test client of `app`."""
    return app.test_client()


class Server:
    """A furet-serve process started by the `furet_server` fixture."""

    def __init__(self, process: subprocess.Popen[bytes], url: str, log: Path) -> None:
        self.process = process
        self.url = url
        self.log = log

    def stderr(self) -> str:
        return read_log(self.log)

    def stop(self, timeout: float = 15) -> int:
        """SIGTERM, then SIGKILL to the whole process group if it lingers; the exit code."""
        return stop_group(self.process, timeout)


@pytest.fixture
def furet_server(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Start the real `furet-serve` on a free port of 127.0.0.1; always stopped afterwards."""
    started: list[Server] = []

    def start(index_dir: Path, *, workers: int = 1, env: dict[str, str] | None = None,
              wait: float = 30) -> Server:
        port = free_port()
        environ = {k: v for k, v in os.environ.items() if not k.startswith("FURET_")}
        environ.update({"FURET_QUERY_LOG": str(tmp_path / "querylog.sqlite"),
                        "FURET_ADMIN_DB": str(tmp_path / "admin.sqlite"),
                        "PYTHONUNBUFFERED": "1", **(env or {})})
        log = tmp_path / f"serve-{port}.log"
        with log.open("wb") as stderr:
            process = subprocess.Popen(
                [*serve_command(), "--host", "127.0.0.1", "--port", str(port),
                 "--workers", str(workers), "--index-dir", str(index_dir)],
                cwd=ROOT, env=environ, stdout=subprocess.DEVNULL, stderr=stderr,
                start_new_session=True)
        server = Server(process, f"http://127.0.0.1:{port}", log)
        started.append(server)
        wait_until_answering(server.url + "/api/v1/health", process, server.stderr, wait)
        return server

    yield start
    for server in started:
        server.stop()


# ---------------------------------------------------------------- PostgreSQL backend

_DATABASES = itertools.count(1)


@pytest.fixture(scope="session")
def pg_cluster():
    """A private PostgreSQL cluster for the session (skipped where PostgreSQL is missing)."""
    from tests.stores import private_postgres

    with private_postgres() as cluster:
        yield cluster


@pytest.fixture(scope="session")
def pg_template(pg_cluster) -> str:
    """A database with the Furet schema (furet-index init), copied by `pg_url`."""
    from search import store_for

    store_for(backend="postgresql", database_url=pg_cluster.create_database("furet_template")
              ).init()
    return "furet_template"


@pytest.fixture
def pg_url(pg_cluster, pg_template) -> str:
    """The URL of a fresh database holding the Furet schema and no articles."""
    return pg_cluster.create_database(f"furet_test_{next(_DATABASES)}", template=pg_template)


@pytest.fixture(scope="session")
def pg_samples(pg_cluster, pg_template) -> str:
    """The URL of a database holding samples/, built once for the session (read-only)."""
    from tests.indexing import pg_build

    url = pg_cluster.create_database("furet_samples", template=pg_template)
    report = pg_build(url, [SAMPLES])
    assert report.rejected == 0, [str(e) for e in report.errors]
    return url


# ---------------------------------------------------------------- either backend


@pytest.fixture(scope="module", params=["whoosh", "postgresql"])
def samples_backend(request: pytest.FixtureRequest, samples_index: Path):
    """A reader of samples/: the Whoosh folder, then the same articles in PostgreSQL."""
    from search import open_backend, open_index

    if request.param == "postgresql":
        backend = open_backend(backend="postgresql",
                               database_url=request.getfixturevalue("pg_samples"))
    else:
        backend = open_index(samples_index)
    yield backend
    backend.close()


@pytest.fixture(params=["whoosh", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path):
    """A fresh empty index of each backend (tests/stores.py): a Whoosh folder, then a
    PostgreSQL database with the schema (skipped where PostgreSQL is missing)."""
    from tests.stores import PostgresStore, WhooshStore

    if request.param == "whoosh":
        return WhooshStore(tmp_path / "index")
    return PostgresStore(request.getfixturevalue("pg_url"))
