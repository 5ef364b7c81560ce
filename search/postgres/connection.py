"""Reaching PostgreSQL: checking the database URL, connecting, and errors a person can act on.

Every psycopg error that leaves `search.postgres` goes through `database_errors()`, and
comes out with the fix in its message: a bad URL, a wrong user or password, or a database
that does not exist are ConfigurationErrors naming FURET_DATABASE_URL (exit 2 on the
command line); an unreachable server (or a lost connection) is IndexUnreachableError and a
missing schema IndexNotFoundError (a 503 on the site, exit 1); a statement cancelled at the
search's deadline is SearchTimeoutError; anything else PostgreSQL refuses is
IndexCorruptError.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import conninfo, errors

from search.deadline import timed_out
from search.errors import (
    ConfigurationError,
    FuretError,
    IndexCorruptError,
    IndexNotFoundError,
    IndexUnreachableError,
)

__all__ = ["CONNECT_TIMEOUT", "connect", "database_errors", "describe", "check_url"]

CONNECT_TIMEOUT = 5  # seconds: an unreachable server is reported, not waited for
INIT_HINT = "furet-index init --backend postgresql"
BUILD_HINT = "furet-index build --backend postgresql ARTICLES_FOLDER"


def check_url(url: str | None) -> str:
    """The URL, checked: ConfigurationError saying what to give when it is missing or bad."""
    if not url or not url.strip():
        raise ConfigurationError(
            "no database given for the postgresql backend; set FURET_DATABASE_URL (or pass "
            "--database-url) to postgresql://USER@HOST:5432/DATABASE",
            setting="FURET_DATABASE_URL")
    url = url.strip()
    try:
        conninfo.conninfo_to_dict(url)
    except psycopg.Error as err:
        raise ConfigurationError(
            f"FURET_DATABASE_URL is not a PostgreSQL address ({_first_line(err)}); write it "
            "like postgresql://USER@HOST:5432/DATABASE", setting="FURET_DATABASE_URL") from None
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


# What libpq says (without an SQLSTATE) when the server refuses a login: settings to fix.
_REFUSED_LOGIN = ("password authentication failed", "no password supplied",
                  "authentication failed for user", "does not exist")


def _refusal(text: str) -> str:
    """The server's reason, without libpq's "connection failed: ... FATAL:" preamble."""
    for line in text.splitlines():
        if any(m in line for m in _REFUSED_LOGIN):
            return line.split("FATAL:", 1)[-1].strip()
    return _first_line(RuntimeError(text))


def translate(err: psycopg.Error, url: str) -> FuretError:
    """The FuretError for a psycopg error met while using the database at `url`."""
    where = describe(url)
    if isinstance(err, errors.QueryCanceled):
        return timed_out()  # statement_timeout: the search's deadline (search/deadline.py)
    if isinstance(err, errors.UndefinedTable | errors.InvalidSchemaName
                  | errors.UndefinedObject | errors.UndefinedFunction):
        return IndexNotFoundError(
            f"{where} holds no Furet index ({_first_line(err)}); create it with: "
            f"{INIT_HINT}, then {BUILD_HINT}")
    if isinstance(err, errors.UndefinedFile) and "extension control file" in str(err):
        name = re.search(r"/([A-Za-z0-9_]+)\.control", str(err))
        extension = name[1] if name else "an extension"
        return ConfigurationError(
            f"{where}: PostgreSQL's {extension} extension is not installed on the database "
            "server; install the server's contrib extensions (Debian: apt-get install "
            f"postgresql-contrib), then run: {INIT_HINT}")
    if isinstance(err, errors.InvalidCatalogName):
        return ConfigurationError(
            f"{where}: {_first_line(err)}; create the database (createdb), then run: "
            f"{INIT_HINT}; or correct FURET_DATABASE_URL", setting="FURET_DATABASE_URL")
    if isinstance(err, errors.InsufficientPrivilege | errors.InvalidPassword
                  | errors.InvalidAuthorizationSpecification):
        return ConfigurationError(
            f"{where}: {_first_line(err)}; check the user and password in FURET_DATABASE_URL",
            setting="FURET_DATABASE_URL")
    text = str(err)
    if isinstance(err, psycopg.OperationalError) and any(m in text for m in _REFUSED_LOGIN):
        return ConfigurationError(
            f"{where}: {_refusal(text)}; check the user, the password and the database name "
            "in FURET_DATABASE_URL", setting="FURET_DATABASE_URL")
    if isinstance(err, psycopg.OperationalError | psycopg.InterfaceError):
        return IndexUnreachableError(
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
