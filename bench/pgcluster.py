"""A private PostgreSQL cluster for the tests and the benchmarks: `initdb` into a temporary
folder, a free port on 127.0.0.1, a socket folder of its own, `pg_ctl start`, and always
`pg_ctl stop` and removal at the end. `streaming_replica(primary)` adds a hot standby of
it the same way (`pg_basebackup -R`: it follows the primary's WAL stream).

PostgreSQL refuses to run as root: as root, the cluster belongs to the `postgres` user
(made by Debian's package), else `nobody`, and its commands run through `runuser`.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from glob import glob
from pathlib import Path
from typing import Any

__all__ = ["Cluster", "ClusterError", "find_bin_dir", "private_cluster", "streaming_replica"]

USER = "furet"  # the cluster's superuser (trust authentication, 127.0.0.1 only)


class ClusterError(RuntimeError):
    """The private cluster could not be started."""


def find_bin_dir() -> Path | None:
    """Where initdb and pg_ctl are: on PATH, else Debian's newest /usr/lib/postgresql/N/bin."""
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).resolve().parent
    found = sorted(glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: [int(n) for n in re.findall(r"\d+", p)])
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run_as() -> str | None:
    """The user to run PostgreSQL as (None: this one)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise ClusterError("running as root and no postgres or nobody user to run PostgreSQL as")


class Cluster:
    """A running private cluster."""

    def __init__(self, bin_dir: Path, root: Path, port: int, user: str | None,
                 settings: str = "") -> None:
        self.bin_dir = bin_dir
        self.settings = settings
        self.root = root
        self.data = root / "data"
        self.port = port
        self.user = user

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def _command(self, name: str, *args: str) -> list[str]:
        command = [str(self.bin_dir / name), *args]
        return ["runuser", "-u", self.user, "--", *command] if self.user else command

    def run(self, name: str, *args: str) -> None:
        done = subprocess.run(self._command(name, *args), capture_output=True, text=True,
                              cwd=self.root, timeout=120)
        if done.returncode:
            raise ClusterError(f"{name} failed ({done.returncode}): "
                               f"{(done.stderr or done.stdout).strip()[-2000:]}")

    def start(self) -> None:
        """initdb, then start the server."""
        self.run("initdb", "-D", str(self.data), "-U", USER, "--auth=trust",
                 "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync")
        self.start_server()

    def start_server(self) -> None:
        """Start the server on its data folder (again, after `stop`)."""
        options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                   f"{self.settings}").strip()
        self.run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-w",
                 "-t", "60", "-o", options, "start")

    @property
    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (`mode`: smart, fast or immediate, as pg_ctl says)."""
        if self.running:
            self.run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def create_database(self, name: str, *, template: str | None = None) -> str:
        """A new database (a copy of `template`, else with the extensions); its URL."""
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.url(), autocommit=True) as conn:
            statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
            if template:
                statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
            conn.execute(statement)
        if not template:
            with psycopg.connect(self.url(name), autocommit=True) as conn:
                conn.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
                conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        return self.url(name)

    def log(self) -> str:
        try:
            return (self.root / "server.log").read_text("utf-8", errors="replace")
        except OSError:
            return ""


@contextmanager
def _cluster_root(user: str | None) -> Iterator[Path]:
    """A temporary folder the cluster's user owns; removed at the end."""
    root = Path(tempfile.mkdtemp(prefix="furet-pg-"))
    try:
        if user:
            entry: Any = pwd.getpwnam(user)
            os.chown(root, entry.pw_uid, entry.pw_gid)
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def private_cluster(bin_dir: Path | None = None, *, settings: str = "") -> Iterator[Cluster]:
    """Start a private cluster; stop it and remove its files however the block ends.

    `settings` are more server options, e.g. "-c shared_buffers=1GB" for a benchmark."""
    bin_dir = bin_dir or find_bin_dir()
    if bin_dir is None:
        raise ClusterError("PostgreSQL's initdb and pg_ctl were not found (install Debian's "
                           "postgresql package)")
    user = _run_as()
    with _cluster_root(user) as root:
        cluster = Cluster(bin_dir, root, _free_port(), user, settings)
        try:
            cluster.start()
            yield cluster
        finally:
            cluster.stop()


@contextmanager
def streaming_replica(primary: Cluster) -> Iterator[Cluster]:
    """A hot standby of `primary` (pg_basebackup -R, streaming replication over
    127.0.0.1, trusted as initdb's pg_hba.conf allows); stopped and removed at the end."""
    with _cluster_root(primary.user) as root:
        replica = Cluster(primary.bin_dir, root, _free_port(), primary.user, primary.settings)
        try:
            replica.run("pg_basebackup", "-D", str(replica.data), "-R", "-X", "stream",
                        "-h", "127.0.0.1", "-p", str(primary.port), "-U", USER, "--no-sync",
                        "-c", "fast")
            replica.start_server()
            yield replica
        finally:
            replica.stop()
