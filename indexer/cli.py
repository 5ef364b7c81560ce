"""`furet-index`: build, update (cron), delete, inspect an index; show what a file yields.

`--backend postgresql --database-url URL` (FURET_BACKEND, FURET_DATABASE_URL) writes the
PostgreSQL index (indexer/pg_writing.py) instead of the Whoosh folder; `init` creates or
upgrades its schema.

Exit codes: 0 all indexed; 1 some articles rejected (each on stderr as `path[:line]:
reason`, every good article committed) or the run failed; 2 usage error; 75 another
process is writing the index (EX_TEMPFAIL: cron tries again next time; or pass --wait).
"""

from __future__ import annotations

import errno
import json
import logging
import os
import shutil
import sqlite3
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from search.errors import ArticleError, FuretError, IndexLockedError

EXIT_REJECTED = 1
EXIT_BUSY = 75  # EX_TEMPFAIL in sysexits.h

_index_dir = click.option(
    "--index-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="FURET_INDEX_DIR",
    default=Path("index"),
    show_default=True,
    show_envvar=True,
    help="Folder holding the index.",
)
_wait = click.option(
    "--wait",
    type=click.FloatRange(min=0),
    default=0.0,
    metavar="SECONDS",
    help="If another process is writing, wait up to this long instead of exiting with 75.",
)
_backend = click.option(
    "--backend",
    type=click.Choice(["whoosh", "postgresql"]),
    envvar="FURET_BACKEND",
    default="whoosh",
    show_default=True,
    show_envvar=True,
    help="Where the index lives: a Whoosh folder, or a PostgreSQL database.",
)
_database_url = click.option(
    "--database-url",
    envvar="FURET_DATABASE_URL",
    show_envvar=True,
    metavar="URL",
    help="The PostgreSQL database (postgresql://USER@HOST:5432/DATABASE) of --backend "
    "postgresql.",
)
_quiet = click.option("--quiet", "-q", is_flag=True, help="Print only errors.")
_verbose = click.option("--verbose", "-v", is_flag=True, help="Say what happens to each article.")
_sources = click.argument(
    "sources",
    nargs=-1,
    required=True,
    type=click.Path(exists=True, path_type=str),
    metavar="SOURCE...",
)


def _print_error(error: ArticleError) -> None:
    click.echo(str(error), err=True)


class _EchoHandler(logging.Handler):
    """Log lines on stderr, through click (so they follow --verbose, and tests see them)."""

    def emit(self, record: logging.LogRecord) -> None:
        click.echo(self.format(record), err=True)


def _setup_logging(verbose: bool) -> None:
    logger = logging.getLogger("furet")
    logger.handlers[:] = [_EchoHandler()]
    logger.setLevel(logging.INFO if verbose else logging.WARNING)
    logger.propagate = False


@contextmanager
def _progress_bar(quiet: bool) -> Iterator[Callable[[int], None] | None]:
    """A progress bar on stderr when it is a terminal (never under cron)."""
    if quiet or not sys.stderr.isatty():
        yield None
        return
    from tqdm import tqdm

    with tqdm(unit=" articles", file=sys.stderr, leave=False, dynamic_ncols=True) as bar:
        yield bar.update


def _disk_full(err: BaseException, folder: Path | None) -> bool:
    """True if `err`, or an error that led to it, is a full disk (SQLite only says "disk
    I/O error": then the free space of `folder` tells)."""
    seen: BaseException | None = err
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno == errno.ENOSPC:
            return True
        if isinstance(seen, sqlite3.Error) and ("full" in str(seen) or "I/O" in str(seen)):
            try:
                return folder is not None and shutil.disk_usage(folder).free < 1024 * 1024
            except OSError:
                return False
        seen = seen.__cause__ or seen.__context__
    return False


@contextmanager
def _failures(index_dir: Path | None = None) -> Iterator[None]:
    """Turn every failure into a message and an exit code: never a traceback on the screen
    (with --verbose, unexpected ones are logged with theirs)."""
    unchanged = "the last committed index is unchanged"
    try:
        yield
    except IndexLockedError as err:
        click.echo(f"Error: {err}", err=True)
        sys.exit(EXIT_BUSY)
    except FuretError as err:
        raise click.ClickException(str(err)) from None
    except (click.ClickException, click.exceptions.Exit, KeyboardInterrupt, SystemExit):
        raise
    except Exception as err:  # noqa: BLE001 - the last line of defence, logged in full
        if _disk_full(err, index_dir):
            message = f"no space left on device; {unchanged}"
        elif isinstance(err, OSError):
            where = f" ({err.filename})" if err.filename else ""
            message = f"{err.strerror or err}{where}; {unchanged}"
        elif isinstance(err, sqlite3.Error):
            message = f"the manifest cannot be written ({err}); {unchanged}"
        else:
            message = (f"unexpected {type(err).__name__}: {err}; {unchanged} "
                       "(run again with --verbose for details)")
        logging.getLogger("furet").info("details", exc_info=err)
        raise click.ClickException(message) from None


def _finish(report: Any, quiet: bool) -> None:
    if not quiet:
        click.echo(report.summary())
    if report.rejected:
        sys.exit(EXIT_REJECTED)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="furet")
def main() -> None:
    """Build and update Furet's search index of French news articles."""


@main.command()
@_sources
@_index_dir
@_backend
@_database_url
@click.option("--jobs", "-j", type=click.IntRange(min=1), envvar="FURET_JOBS",
              show_envvar=True, default=None,
              help="Processes sharing a large Whoosh build (default: the CPUs, at most 4).")
@_wait
@_quiet
@_verbose
def build(sources: tuple[str, ...], index_dir: Path, backend: str, database_url: str | None,
          jobs: int | None, wait: float, quiet: bool, verbose: bool) -> None:
    """Index SOURCE... (files or folders) into a new index, then switch to it atomically."""
    _setup_logging(verbose)
    with _failures(index_dir if backend == "whoosh" else None), \
            _progress_bar(quiet) as progress:
        if backend == "postgresql":
            from indexer import pg_writing

            report = pg_writing.build(database_url, sources, wait=wait, on_error=_print_error,
                                      progress=progress)
        else:
            from indexer.writing import build as run_build

            report = run_build(index_dir, sources, wait=wait, on_error=_print_error,
                               progress=progress, jobs=jobs)
    _finish(report, quiet)


@main.command()
@_sources
@_index_dir
@_backend
@_database_url
@click.option("--prune", is_flag=True,
              help="Delete articles whose file has gone (only under the SOURCEs given).")
@_wait
@_quiet
@_verbose
def update(sources: tuple[str, ...], index_dir: Path, backend: str, database_url: str | None,
           prune: bool, wait: float, quiet: bool, verbose: bool) -> None:
    """Add new articles, reindex changed ones, delete removed ones: what cron runs."""
    _setup_logging(verbose)
    with _failures(index_dir if backend == "whoosh" else None), \
            _progress_bar(quiet) as progress:
        if backend == "postgresql":
            from indexer import pg_writing

            report = pg_writing.update(database_url, sources, prune=prune, wait=wait,
                                       on_error=_print_error, progress=progress)
        else:
            from indexer.writing import update as run_update

            report = run_update(index_dir, sources, prune=prune, wait=wait,
                                on_error=_print_error, progress=progress)
    _finish(report, quiet)


@main.command()
@click.argument("keys", nargs=-1, required=True, metavar="ID_OR_URL...")
@_index_dir
@_backend
@_database_url
@_wait
@_quiet
def delete(keys: tuple[str, ...], index_dir: Path, backend: str, database_url: str | None,
           wait: float, quiet: bool) -> None:
    """Delete articles by id or URL."""
    with _failures(index_dir if backend == "whoosh" else None):
        if backend == "postgresql":
            from indexer import pg_writing

            deleted, missing = pg_writing.delete(database_url, keys, wait=wait)
        else:
            from indexer.writing import delete as run_delete

            deleted, missing = run_delete(index_dir, keys, wait=wait)
    for key in missing:
        click.echo(f"{key}: no article with this id or URL", err=True)
    if not quiet:
        click.echo(f"deleted {len(deleted)}")
    if missing:
        sys.exit(EXIT_REJECTED)


@main.command()
@_index_dir
@_backend
@_database_url
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def status(index_dir: Path, backend: str, database_url: str | None, as_json: bool) -> None:
    """Documents, last update, generation, size on disk and schema version of the index."""
    with _failures(index_dir if backend == "whoosh" else None):
        if backend == "postgresql":
            from indexer.pg_status import database_status

            info = database_status(database_url)
        else:
            from indexer.status import index_status

            info = index_status(index_dir)
    if as_json:
        click.echo(json.dumps(info, ensure_ascii=False, indent=2))
        return
    width = max(map(len, info))
    for key, value in info.items():
        click.echo(f"{key.replace('_', ' '):<{width}}  {value if value is not None else '-'}")


@main.command()
@_index_dir
@_backend
@_database_url
def check(index_dir: Path, backend: str, database_url: str | None) -> None:
    """Verify the index: every segment readable, the manifest in step with it."""
    with _failures(index_dir if backend == "whoosh" else None):
        if backend == "postgresql":
            from indexer.pg_status import check_database

            problems, figures = check_database(database_url)
        else:
            from indexer.status import check_index

            problems, figures = check_index(index_dir)
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        sys.exit(EXIT_REJECTED)
    click.echo(f"index OK: {figures['documents']} documents, generation {figures['generation']}")


@main.command()
@_backend
@_database_url
@_wait
@_quiet
def init(backend: str, database_url: str | None, wait: float, quiet: bool) -> None:
    """Create or upgrade the PostgreSQL schema (versioned migrations; safe to rerun)."""
    if backend != "postgresql":
        raise click.UsageError("init prepares a PostgreSQL database: pass --backend "
                               "postgresql (a Whoosh index needs none: build makes it)")
    from indexer import pg_writing
    from search.postgres.connection import describe
    from search.postgres.schema import SCHEMA_VERSION

    with _failures():
        applied = pg_writing.init(database_url, wait=wait)
    if not quiet:
        done = f"applied {', '.join(map(str, applied))}" if applied else "already up to date"
        click.echo(f"{describe(database_url or '')}: Furet schema version {SCHEMA_VERSION} "
                   f"({done})")


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=str))
@click.option("--json", "as_json", is_flag=True, help="Print the articles as a JSON array.")
@click.option("--body", "body_only", is_flag=True, help="Print only the body text.")
def show(file: str, as_json: bool, body_only: bool) -> None:
    """Print what the indexer makes of FILE, to check a page before indexing it."""
    from indexer.sources import read_articles, walk_sources

    articles, rejected = [], 0
    for item in walk_sources([file]):
        if isinstance(item, ArticleError):
            _print_error(item)
            rejected += 1
            continue
        for article in read_articles(item):
            if isinstance(article, ArticleError):
                _print_error(article)
                rejected += 1
            else:
                articles.append(article)
    if as_json:
        click.echo(json.dumps([a.to_json() for a in articles], ensure_ascii=False, indent=2))
    elif body_only:
        click.echo("\n\n".join(a.body for a in articles))
    else:
        for n, article in enumerate(articles):
            if n:
                click.echo("\n" + "-" * 72 + "\n")
            for key, value in article.to_json().items():
                if key != "body":
                    shown = ", ".join(value) if isinstance(value, list) else value
                    click.echo(f"{key:<10} {shown if shown not in (None, '') else '-'}")
            click.echo("\n" + article.body)
    if rejected:
        sys.exit(EXIT_REJECTED)


if __name__ == "__main__":  # pragma: no cover
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    main()
