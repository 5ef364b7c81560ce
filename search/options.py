"""Where the index is, as every command takes it: --index-dir, --backend, --database-url.

`furet-index`, `furet-search` and `furet-admin` read their defaults from the environment
(FURET_INDEX_DIR, FURET_BACKEND, FURET_DATABASE_URL); `furet-serve` leaves them to its
settings table, which also reads the environment (`settings_help` gives the help texts).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import click

from search.stores import BACKENDS

__all__ = ["store_options"]

_F = TypeVar("_F", bound=Callable[..., Any])

_HELP = {
    "index_dir": "Folder holding the index.",
    "backend": "Where the index lives: a Whoosh folder, or a PostgreSQL database.",
    "database_url": "The PostgreSQL database (postgresql://USER@HOST:5432/DATABASE) of "
                    "--backend postgresql.",
}


def store_options(*, settings_help: Mapping[str, str] | None = None) -> Callable[[_F], _F]:
    """The three options, passed to the command as `index_dir`, `backend`, `database_url`."""
    own = settings_help is None
    helps = _HELP if settings_help is None else settings_help

    def env(name: str) -> dict[str, Any]:
        return {"envvar": name, "show_envvar": True} if own else {}

    options = [
        click.option("--index-dir", type=click.Path(file_okay=False, path_type=Path),
                     default=Path("index") if own else None, show_default=own,
                     help=helps["index_dir"], **env("FURET_INDEX_DIR")),
        click.option("--backend", type=click.Choice(BACKENDS),
                     default="whoosh" if own else None, show_default=own,
                     help=helps["backend"], **env("FURET_BACKEND")),
        click.option("--database-url", metavar="URL", help=helps["database_url"],
                     **env("FURET_DATABASE_URL")),
    ]

    def decorate(command: _F) -> _F:
        for option in reversed(options):
            command = option(command)
        return command

    return decorate
