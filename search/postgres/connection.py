"""Reaching PostgreSQL: checking the database URL, connecting, and errors a person can act on.

Every psycopg error that leaves `search.postgres` or the PostgreSQL writer goes through
`database_errors()`: an unreachable server, a bad URL or a missing schema become
IndexNotFoundError (a 503 on the site, exit 1 on the command line) with the fix in the
message; anything else PostgreSQL refuses becomes IndexCorruptError.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import conninfo, errors

from search.errors import FuretError, IndexCorruptError, IndexNotFoundError

__all__ = ["CONNECT_TIMEOUT", "connect", "database_errors", "describe", "check_url"]

CONNECT_TIMEOUT = 5  # seconds: an unreachable server is reported, not waited for
INIT_HINT = "furet-index init --backend postgresql"
BUILD_HINT = "furet-index build --backend postgresql ARTICLES_FOLDER"


def check_url(url: str | None) -> str:
    """The URL, checked: IndexNotFoundError saying what to give when it is missing or bad."""
    if not url or not url.strip():
        raise IndexNotFoundError(
            "no database given for the postgresql backend; set FURET_DATABASE_URL (or pass "
            "--database-url) to postgresql://USER@HOST:5432/DATABASE")
    url = url.strip()
    try:
        conninfo.conninfo_to_dict(url)
    except psycopg.Error as err:
        raise IndexNotFoundError(
            f"FURET_DATABASE_URL is not a PostgreSQL address ({_first_line(err)}); write it "
            "like postgresql://USER@HOST:5432/DATABASE") from None
    return url


def describe(url: str) -> str:
    """The URL as it can be printed: host, port and database, never a password."""
    try:
        info = conninfo.conninfo_to_dict(url)
    except psycopg.Error:
        return "the database"
    host = info.get("host") or os.environ.get("PGHOST") or "localhost"
    where = f"{host}:{info['port']}" if info.get("port") else str(host)
    return f"postgresql://{where}/{info.get('dbname') or info.get('user') or ''}"


def _first_line(err: BaseException) -> str:
    text = str(err).strip() or type(err).__name__
    return text.splitlines()[0]


def translate(err: psycopg.Error, url: str) -> FuretError:
    """The FuretError for a psycopg error met while using the database at `url`."""
    where = describe(url)
    if isinstance(err, errors.UndefinedTable | errors.InvalidSchemaName
                  | errors.UndefinedObject | errors.UndefinedFunction):
        return IndexNotFoundError(
            f"{where} holds no Furet index ({_first_line(err)}); create it with: "
            f"{INIT_HINT}, then {BUILD_HINT}")
    if isinstance(err, errors.InvalidCatalogName):
        return IndexNotFoundError(
            f"{where}: {_first_line(err)}; create the database (createdb), then run: "
            f"{INIT_HINT}")
    if isinstance(err, errors.InsufficientPrivilege | errors.InvalidPassword
                  | errors.InvalidAuthorizationSpecification):
        return IndexNotFoundError(
            f"{where}: {_first_line(err)}; check the user and password in FURET_DATABASE_URL")
    if isinstance(err, psycopg.OperationalError | psycopg.InterfaceError):
        return IndexNotFoundError(
            f"cannot reach PostgreSQL at {where} ({_first_line(err)}); check "
            "FURET_DATABASE_URL and that the server is running")
    return IndexCorruptError(f"{where}: PostgreSQL refused the request ({_first_line(err)})")


@contextmanager
def database_errors(url: str) -> Iterator[None]:
    """Turn psycopg errors raised inside into FuretErrors that say what to do."""
    try:
        yield
    except psycopg.Error as err:
        raise translate(err, url) from err


def connect(url: str, *, application: str = "furet", **kwargs: Any) -> psycopg.Connection[Any]:
    """One connection (errors translated); `kwargs` go to psycopg.connect."""
    url = check_url(url)
    with database_errors(url):
        return psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT,
                               application_name=application, **kwargs)
