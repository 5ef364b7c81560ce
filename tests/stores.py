"""An index of each backend as the tests see it: the `furet-index` options that name it, a
reader that searches it, and the few hooks a test needs (hold its write lock, break the
writing of articles).

`tests/conftest.py` gives a fresh empty one as the `store` fixture (`whoosh`, then
`postgresql`, skipped where PostgreSQL is missing). The writers' locks and article writing
are imported once each, in the method that needs them: if they move, only this file changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from search import Backend, open_backend

# What a command prints when there is no index yet: how to build one.
WHOOSH_NO_INDEX = "holds no index yet; build one with: furet-index build --index-dir"
POSTGRES_NO_INDEX = ("holds no articles yet; build the index with: furet-index build "
                     "--backend postgresql")


@contextmanager
def private_postgres() -> Iterator[Any]:
    """A private PostgreSQL cluster (bench/pgcluster.py); the test is skipped where
    PostgreSQL's binaries are missing."""
    import pytest

    from bench.pgcluster import find_bin_dir, private_cluster

    bin_dir = find_bin_dir()
    if bin_dir is None:
        pytest.skip("PostgreSQL's initdb and pg_ctl were not found: install Debian's "
                    "postgresql package (scripts/test does, as root)")
    with private_cluster(bin_dir) as cluster:
        yield cluster


class Store:
    """One index, named the way `furet-index` and `search.open_backend` name it."""

    name = ""
    no_index_yet = ""  # what `status` says while nothing was built

    def __init__(self, options: list[str], backend_args: dict[str, Any]) -> None:
        self.options = options
        self.backend_args = backend_args

    def __repr__(self) -> str:
        return f"<{self.name} store {' '.join(self.options)}>"

    def run(self, runner: CliRunner, *args: str) -> Result:
        """`furet-index ARGS...` on this index."""
        from indexer.cli import main

        return runner.invoke(main, [*args, *self.options])

    @contextmanager
    def opened(self) -> Iterator[Backend]:
        """A reader of the index, as the site and furet-search open it."""
        backend = open_backend(**self.backend_args)
        try:
            yield backend
        finally:
            backend.close()

    def ids(self) -> set[str]:
        """The ids of every article a reader finds (an empty query lists them all)."""
        with self.opened() as backend:
            results = backend.search("", per_page=100)
        assert results.total == len(results.hits), "more articles than one page shows"
        return {hit.id for hit in results.hits}

    def generation(self) -> str:
        with self.opened() as backend:
            return backend.generation

    def writer_busy(self) -> AbstractContextManager[None]:
        """Hold the index's write lock, as another furet-index writing it would."""
        raise NotImplementedError

    def break_article_writing(self, monkeypatch: Any, error: Callable[..., Any]) -> None:
        """Make the writing of each article call `error(article, path)` (which raises)."""
        raise NotImplementedError


class WhooshStore(Store):
    """An index folder (the default backend)."""

    name = "whoosh"
    no_index_yet = WHOOSH_NO_INDEX

    def __init__(self, index_dir: Path) -> None:
        super().__init__(["--index-dir", str(index_dir)], {"index_dir": index_dir})
        self.index_dir = index_dir

    @contextmanager
    def writer_busy(self) -> Iterator[None]:
        from search.whoosh.lock import writer_lock

        with writer_lock(self.index_dir):
            yield

    def break_article_writing(self, monkeypatch: Any, error: Callable[..., Any]) -> None:
        import search.whoosh.writer

        monkeypatch.setattr(search.whoosh.writer, "to_document",
                            lambda article, path, **_: error(article, path))

    def state(self) -> dict[str, str]:
        """id -> content hash of every article stored in the live build."""
        from search import open_index

        index = open_index(self.index_dir)
        try:
            return {f["id"]: f["hash"] for f in index.current().searcher.all_stored_fields()}
        finally:
            index.close()


class PostgresStore(Store):
    """A PostgreSQL database holding the Furet schema."""

    name = "postgresql"
    no_index_yet = POSTGRES_NO_INDEX

    def __init__(self, url: str) -> None:
        super().__init__(["--backend", "postgresql", "--database-url", url],
                         {"backend": "postgresql", "database_url": url})
        self.url = url

    @contextmanager
    def writer_busy(self) -> Iterator[None]:
        import psycopg

        from search.postgres.lock import LOCK_KEY

        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
            yield  # closing the session frees the lock

    def break_article_writing(self, monkeypatch: Any, error: Callable[..., Any]) -> None:
        import search.postgres.writer

        monkeypatch.setattr(search.postgres.writer, "article_row", error)


def clear_editorial(url: str) -> None:
    """Empty the editors' tables of a shared test database (pins, hidden articles...)."""
    import psycopg

    with psycopg.connect(url) as conn:
        conn.execute("TRUNCATE furet.editor_users, furet.editor_sessions, "
                     "furet.editor_login_failures, furet.editor_synonyms, furet.editor_pins, "
                     "furet.editor_hidden, furet.editor_audit, furet.editor_meta")
