"""`furet-index`: build, update (cron), delete, inspect an index; show what a file yields.

`--backend postgresql --database-url URL` (FURET_BACKEND, FURET_DATABASE_URL) writes a
PostgreSQL index instead of the Whoosh folder; `init` creates or upgrades its schema. The
commands only parse options and print: the planner (indexer/planner.py) decides what to
write, and the store's Writer writes it.

Exit codes: 0 all indexed; 1 some articles rejected (each on stderr as `path[:line]:
reason`, every good article committed) or the run failed; 2 usage error or a wrong
setting (the message names it); 75 another process is writing the index (EX_TEMPFAIL:
cron tries again next time; or pass --wait).
"""

from __future__ import annotations

import atexit
import gc
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import click

from indexer import planner
from indexer.terminal import printable
from search.errors import ArticleError, ConfigurationError, FuretError, IndexLockedError
from search.options import store_options
from search.store import Store
from search.stores import store_for
from search.writer import Writer

EXIT_REJECTED = 1
EXIT_USAGE = 2
EXIT_BUSY = 75  # EX_TEMPFAIL in sysexits.h

_wait = click.option(
    "--wait",
    type=click.FloatRange(min=0),
    default=0.0,
    metavar="SECONDS",
    help="If another process is writing, wait up to this long instead of exiting with 75.",
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
_allow = click.option(
    "--allow-links-to",
    "allow",
    multiple=True,
    type=click.Path(exists=True, file_okay=False, path_type=str),
    metavar="DIR",
    help="Also read the files that symbolic links under a SOURCE folder lead to inside DIR "
    "(repeatable; by default a link must stay inside its SOURCE folder).",
)


class _SettingError(click.ClickException):
    """A wrong setting: exit 2, as a usage error."""

    exit_code = EXIT_USAGE


def _printable_text(text: str) -> str:
    """Lines kept, every other control character escaped."""
    return "\n".join(map(printable, text.split("\n")))


def _print_error(error: ArticleError) -> None:
    click.echo(printable(str(error)), err=True)


class _EchoHandler(logging.Handler):
    """Log lines on stderr, through click (so they follow --verbose, and tests see them),
    each line's control characters escaped."""

    def emit(self, record: logging.LogRecord) -> None:
        click.echo(_printable_text(self.format(record)), err=True)


class _Stopped(BaseException):
    """SIGTERM or SIGHUP arrived: unwind, so that the writer cleans up what it started."""


@contextmanager
def _stopping_on_signals() -> Iterator[None]:
    """Turn SIGTERM and SIGHUP (a cron timeout, a shutdown, a closed terminal) into _Stopped
    while a writer works, once: a second signal does not interrupt the clean-up."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may handle signals
        return
    stopping = (signal.SIGTERM, signal.SIGHUP)

    def stop(number: int, frame: object) -> None:
        for other in stopping:
            signal.signal(other, signal.SIG_IGN)
        raise _Stopped(signal.Signals(number).name)

    previous = {number: signal.signal(number, stop) for number in stopping}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, signal.SIG_DFL if handler is None else handler)


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

    # No monitor thread (it tunes how often a stalled bar redraws): a build shared between
    # processes forks its workers only from a process running no other thread.
    tqdm.monitor_interval = 0
    with tqdm(unit=" articles", file=sys.stderr, leave=False, dynamic_ncols=True) as bar:
        yield bar.update


@contextmanager
def _failures() -> Iterator[None]:
    """Turn every failure into a message and an exit code: never a traceback on the screen
    (with --verbose, unexpected ones are logged with theirs)."""
    try:
        yield
    except IndexLockedError as err:
        click.echo(printable(f"Error: {err}"), err=True)
        sys.exit(EXIT_BUSY)
    except ConfigurationError as err:
        raise _SettingError(printable(str(err))) from None
    except FuretError as err:
        raise click.ClickException(printable(str(err))) from None
    except _Stopped as err:
        raise click.ClickException(f"stopped by {err}; the index is as the last commit left "
                                   "it") from None
    except (click.ClickException, click.exceptions.Exit, KeyboardInterrupt, SystemExit):
        raise
    except Exception as err:  # noqa: BLE001 - the last line of defence, logged in full
        logging.getLogger("furet").info("details", exc_info=err)
        raise click.ClickException(printable(
            f"unexpected {type(err).__name__}: {err}; the last committed index is unchanged "
            "(run again with --verbose for details)")) from None


def _store(index_dir: Path, backend: str, database_url: str | None) -> Store:
    return store_for(backend=backend, index_dir=index_dir, database_url=database_url)


def _write(store: Store, wait: float, quiet: bool, verbose: bool,
           run: Callable[[Writer, Callable[[int], None] | None], planner.Report]) -> None:
    """Run a build or an update in a write session; print its summary, exit 1 when it
    rejected articles."""
    _setup_logging(verbose)
    with _failures(), _stopping_on_signals(), _progress_bar(quiet) as progress, \
            store.open_writer(wait=wait) as writer:
        report = run(writer, progress)
    if not quiet:
        click.echo(_stamped(report.summary()))
    if report.rejected:
        sys.exit(EXIT_REJECTED)


def _stamped(summary: str) -> str:
    """The summary line, with the time it ended when it goes to a log file (cron) rather
    than a terminal: added at the end, so the line still starts as documented."""
    if sys.stdout.isatty():
        return summary
    return f"{summary} at {datetime.now().astimezone().isoformat(timespec='seconds')}"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="furet")
def main() -> None:
    """Build and update Furet's search index of French news articles."""


@main.command()
@_sources
@store_options()
@click.option("--jobs", "-j", type=click.IntRange(min=1), envvar="FURET_JOBS",
              show_envvar=True, default=None,
              help="Processes sharing a large build, where the store allows it (default: the "
              "CPUs, at most 4).")
@_allow
@_wait
@_quiet
@_verbose
def build(sources: tuple[str, ...], index_dir: Path, backend: str, database_url: str | None,
          jobs: int | None, allow: tuple[str, ...], wait: float, quiet: bool,
          verbose: bool) -> None:
    """Index SOURCE... (files or folders) into a new index, then switch to it atomically."""
    _leave_objects_at_exit()
    _write(_store(index_dir, backend, database_url), wait, quiet, verbose,
           lambda writer, progress: planner.build(writer, sources, on_error=_print_error,
                                                  progress=progress, jobs=jobs, allow=allow))


def _leave_objects_at_exit() -> None:
    """At exit, after the other exit handlers, move every object out of the collector's
    reach (`gc.freeze`): the interpreter's last collection then skips the modules' hundreds
    of thousands of objects (about 50 to 90 ms of a build's last, serial step, and of each
    update cron runs; the memory goes back to the system with the process). Files and
    connections are closed by then: the write session has ended."""
    atexit.unregister(gc.freeze)  # (once, however many builds a process runs)
    atexit.register(gc.freeze)


@main.command()
@_sources
@store_options()
@click.option("--prune", is_flag=True,
              help="Delete articles whose file has gone (only under the SOURCEs given).")
@_allow
@_wait
@_quiet
@_verbose
def update(sources: tuple[str, ...], index_dir: Path, backend: str, database_url: str | None,
           prune: bool, allow: tuple[str, ...], wait: float, quiet: bool,
           verbose: bool) -> None:
    """Add new articles, reindex changed ones, delete removed ones: what cron runs."""
    _leave_objects_at_exit()
    _write(_store(index_dir, backend, database_url), wait, quiet, verbose,
           lambda writer, progress: planner.update(writer, sources, prune=prune,
                                                   on_error=_print_error, progress=progress,
                                                   allow=allow))


@main.command()
@click.argument("keys", nargs=-1, required=True, metavar="ID_OR_URL...")
@store_options()
@_wait
@_quiet
def delete(keys: tuple[str, ...], index_dir: Path, backend: str, database_url: str | None,
           wait: float, quiet: bool) -> None:
    """Delete articles by id or URL."""
    with _failures(), _stopping_on_signals(), \
            _store(index_dir, backend, database_url).open_writer(wait=wait) as writer:
        deleted, missing = planner.delete(writer, keys)
    for key in missing:
        click.echo(printable(f"{key}: no article with this id or URL"), err=True)
    if not quiet:
        click.echo(f"deleted {len(deleted)}")
    if missing:
        sys.exit(EXIT_REJECTED)


@main.command()
@store_options()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def status(index_dir: Path, backend: str, database_url: str | None, as_json: bool) -> None:
    """Documents, last update, generation, size on disk and schema version of the index."""
    with _failures():
        info = _store(index_dir, backend, database_url).status()
    if as_json:
        click.echo(json.dumps(info, ensure_ascii=False, indent=2))
        return
    width = max(map(len, info))
    for key, value in info.items():
        click.echo(f"{key.replace('_', ' '):<{width}}  {value if value is not None else '-'}")


@main.command()
@store_options()
def check(index_dir: Path, backend: str, database_url: str | None) -> None:
    """Verify the index: every segment readable, the manifest in step with it."""
    with _failures():
        problems, figures = _store(index_dir, backend, database_url).check()
    for problem in problems:
        click.echo(problem, err=True)
    if problems:
        sys.exit(EXIT_REJECTED)
    click.echo(f"index OK: {figures['documents']} documents, generation {figures['generation']}")


@main.command()
@store_options()
@_wait
@_quiet
def init(index_dir: Path, backend: str, database_url: str | None, wait: float,
         quiet: bool) -> None:
    """Create or upgrade the PostgreSQL schema (versioned migrations; safe to rerun)."""
    with _failures():
        store = _store(index_dir, backend, database_url)
        version, applied = store.init(wait=wait)
    if not quiet:
        done = f"applied {', '.join(map(str, applied))}" if applied else "already up to date"
        click.echo(f"{store.describe()}: Furet schema version {version} ({done})")


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
        click.echo("\n\n".join(_printable_text(a.body) for a in articles))
    else:
        for n, article in enumerate(articles):
            if n:
                click.echo("\n" + "-" * 72 + "\n")
            for key, value in article.to_json().items():
                if key != "body":
                    shown = ", ".join(value) if isinstance(value, list) else value
                    click.echo(printable(f"{key:<10} {shown if shown not in (None, '') else '-'}"))
            click.echo("\n" + _printable_text(article.body))
    if rejected:
        sys.exit(EXIT_REJECTED)


if __name__ == "__main__":  # pragma: no cover
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    main()
