"""One writer at a time on a PostgreSQL index: a session advisory lock, freed when the
writer's connection ends (a killed writer frees it too). The writer writes to the primary:
a replica (a server in recovery) is refused before anything starts."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

from search.errors import ConfigurationError, IndexLockedError
from search.postgres.connection import connect, database_errors, describe

__all__ = ["LOCK_KEY", "writer_connection"]

LOCK_KEY = 0x6675726574  # "furet": every furet-index of one database takes this lock
_HOLDER = """
SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
  AND l.classid::bigint = %(high)s AND l.objid::bigint = %(low)s
"""


def _holder(conn: Any) -> str:
    row = conn.execute(_HOLDER, {"high": LOCK_KEY >> 32, "low": LOCK_KEY & 0xFFFFFFFF}
                       ).fetchone()
    found = re.fullmatch(r"furet-index (\d+)", row[0]) if row and row[0] else None
    return f" (process {found[1]})" if found else ""


def _refuse_replica(conn: Any, url: str) -> None:
    """ConfigurationError when `conn` reached a replica: PostgreSQL would refuse the first
    write, after the run had started."""
    if conn.execute("SELECT pg_is_in_recovery()").fetchone()[0]:
        raise ConfigurationError(
            f"{describe(url)} is a read-only replica (a standby in recovery): furet-index "
            "writes to the primary only; point FURET_DATABASE_URL at the primary (with several "
            "hosts, add target_session_attrs=read-write)", setting="FURET_DATABASE_URL")


@contextmanager
def writer_connection(url: str, *, wait: float = 0.0) -> Iterator[Any]:
    """An autocommit connection holding the index's write lock, waiting up to `wait`
    seconds for it, else IndexLockedError."""
    conn = connect(url, application=f"furet-index {os.getpid()}", autocommit=True)
    try:
        with database_errors(url):
            _refuse_replica(conn, url)
            deadline = time.monotonic() + max(wait, 0.0)
            while not conn.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,)
                                   ).fetchone()[0]:
                if time.monotonic() >= deadline:
                    advice = "try again later" if wait else "try again later, or pass --wait"
                    raise IndexLockedError(f"{describe(url)} is being written by another "
                                           f"furet-index{_holder(conn)}; {advice}")
                time.sleep(0.2)
        try:
            yield conn
        finally:
            _unlock(conn)
    finally:
        conn.close()  # ending the session releases the lock, if _unlock could not


def _unlock(conn: Any) -> None:
    """Release the lock now: the server ends a closed session a moment after the client
    has gone, and a writer started in that moment would find the lock still held."""
    if conn.closed or conn.broken:
        return
    try:
        conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
    except psycopg.Error:
        pass  # closing the session releases it anyway
