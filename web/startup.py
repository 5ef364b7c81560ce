"""What `furet-serve` checks and says around gunicorn's start: the port, the query log, the
address it serves, and fresh Furet code in every new worker.

- The port is tried before gunicorn binds it, so a busy port is one clear message (and
  exit 1) instead of gunicorn's five "Connection in use" errors over five seconds. A master
  re-executed by USR2, or started by systemd with its socket, inherits a bound socket and
  skips the check.
- The query log is opened for writing once, in the master: when it cannot be written, one
  warning says what to do and the workers do not try again on every search.
- Each new worker imports Furet's own packages from disk (the master's copies are dropped),
  so the workers a reload (HUP) starts run the code installed since.
"""

from __future__ import annotations

import errno
import os
import socket
import sys
from typing import Any

import click

__all__ = ["check_port", "inherits_socket", "ready_message", "fresh_furet_modules",
           "query_log_problem", "FURET_PACKAGES"]

FURET_PACKAGES = ("search", "indexer", "web")


def inherits_socket(environ: dict[str, str] | None = None) -> bool:
    """Whether gunicorn will be handed a bound socket (USR2 re-exec, systemd activation)."""
    environ = os.environ if environ is None else environ  # type: ignore[assignment]
    return "GUNICORN_FD" in environ or "LISTEN_FDS" in environ


def check_port(host: str, port: int) -> None:
    """Raise a ClickException (exit 1) saying what to do when host:port cannot be listened
    on; a UsageError (exit 2) when the host is not an address of this machine."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                   flags=socket.AI_PASSIVE)
    except socket.gaierror as err:
        raise click.UsageError(f"--host / FURET_HOST: cannot listen on {host!r} "
                               f"({err.strerror})") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn binds
        try:
            probe.bind(address)
        except OSError as err:
            raise _bind_error(host, port, err) from None


def _bind_error(host: str, port: int, err: OSError) -> click.ClickException:
    where = f"{host}:{port}"
    other = 8001 if port != 8001 else 8002
    if err.errno == errno.EADDRINUSE:
        return click.ClickException(
            f"{where} is already in use (another furet-serve, or another program); stop "
            f"it, or serve on another port: --port {other} (or FURET_PORT={other})")
    if err.errno == errno.EACCES:
        return click.ClickException(
            f"{where}: permission denied (ports below 1024 need root); use a port from "
            f"1024, e.g. --port 8000, behind a reverse proxy (docs/deploying.md)")
    if err.errno == errno.EADDRNOTAVAIL:
        return click.UsageError(f"--host / FURET_HOST: {host} is not an address of this "
                                f"machine (use 127.0.0.1, or 0.0.0.0 for every interface)")
    return click.ClickException(f"cannot listen on {where}: {err.strerror}")


def ready_message(listeners: list[Any]) -> str:
    """The line saying where the site answers, from the sockets gunicorn listens on."""
    addresses = []
    for listener in listeners:
        host, port = listener.sock.getsockname()[:2]
        shown = f"[{host}]" if ":" in host else host
        address = f"http://{shown}:{port}"
        if host in ("0.0.0.0", "::"):
            address += f" (every interface; on this machine: http://127.0.0.1:{port})"
        addresses.append(address)
    return f"furet-serve: serving {', '.join(addresses)} (Ctrl-C stops)"


def fresh_furet_modules() -> None:
    """Drop the master's copies of Furet's modules, so that this worker imports them from
    disk: after an upgrade, a reload (HUP) starts workers running the new code."""
    for name in list(sys.modules):
        if name.split(".")[0] in FURET_PACKAGES:
            del sys.modules[name]  # the master's running code keeps its own references


def query_log_problem(path: str | os.PathLike[str]) -> str | None:
    """Why the query log at `path` cannot be written (None when it can)."""
    import sqlite3
    from contextlib import closing

    try:
        with closing(sqlite3.connect(path, timeout=2, isolation_level=None)) as db:
            db.execute("BEGIN IMMEDIATE")  # takes the write lock: fails when read-only
            db.execute("CREATE TABLE IF NOT EXISTS furet_probe (x)")
            db.execute("ROLLBACK")
    except (sqlite3.Error, OSError) as err:
        return str(err)
    return None
