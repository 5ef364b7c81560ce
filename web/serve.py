"""`furet-serve`: the site and the API under gunicorn (pre-fork, one app thread per worker).

Each worker builds the app and opens the index itself, after the fork, and follows new
index generations without a restart; with no index yet the server starts anyway (pages say
« indisponible », the API answers 503) and serves the index as soon as one is built.
SIGTERM and Ctrl-C stop gracefully (requests in flight finish; a second Ctrl-C is
immediate); HUP starts new workers running the Furet code installed since, and stops the old
ones once their requests are answered (web/startup.py); USR2 re-executes the whole server
(docs/deploying.md). Access and error logs go to stderr. Exit 2 for bad options or
settings, 1 when the port is taken.

Workers are web/worker.py's FrontWorker: a search is CPU-bound and takes milliseconds, so
each process runs one request at a time (Whoosh searchers are not shared across threads),
as sync workers do; but its main loop reads every request's head first, so a client that
sends its headers slowly holds a socket, not the worker, and gunicorn's own errors come out
in the site's error shape. Every search stops at FURET_SEARCH_TIMEOUT; a request still
unanswered long after that gets a 503 and its worker is replaced.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import click
from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter
from gunicorn.glogging import Logger

from search import FuretError, store_for
from search.options import store_options
from web.settings import SETTINGS, SettingError, load_settings
from web.startup import (
    check_port,
    fresh_furet_modules,
    inherits_socket,
    query_log_problem,
    ready_message,
)
from web.worker import FrontWorker

__all__ = ["main", "FuretServer"]

GRACEFUL_TIMEOUT = 10  # seconds requests in flight get to finish on shutdown
HEARTBEAT_TIMEOUT = 30  # seconds a worker's main loop may go silent before it is killed
UNLOGGED_PATHS = frozenset({"/api/v1/clicks"})  # never in the access log (see StderrLogger)
REQUEST_LINE_LIMIT = 8190  # gunicorn's maximum; the app refuses long URLs itself (414)
_HELP = {s.key: s for s in SETTINGS}


class StderrLogger(Logger):
    """Gunicorn's logger, with the access log on stderr (gunicorn writes "-" to stdout),
    leaving out the results' click beacons: an access log line would tie a reader's
    address to the article they opened, which the click log is designed never to hold."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for handler in self.access_log.handlers:
            if isinstance(handler, logging.StreamHandler) \
                    and not isinstance(handler, logging.FileHandler):
                handler.setStream(sys.stderr)

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        if environ.get("PATH_INFO") in UNLOGGED_PATHS:
            return
        super().access(resp, req, environ, request_time)


class _Arbiter(Arbiter):
    def handle_int(self) -> None:
        # Ctrl-C: stop gracefully, as SIGTERM does; gunicorn's default drops requests.
        self.handle_term()


class FuretServer(BaseApplication):  # type: ignore[misc]
    """Gunicorn running `web.create_app(overrides)` in every worker."""

    def __init__(self, overrides: dict[str, Any], options: dict[str, Any]) -> None:
        self.overrides = overrides
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for name, value in self.options.items():
            self.cfg.set(name, value)
        if "control_socket_disable" in self.cfg.settings:
            # gunicorn >= 24 opens a control socket in the home folder; Furet needs none,
            # and two servers would fight over it.
            self.cfg.set("control_socket_disable", True)

    def load(self) -> Any:
        fresh_furet_modules()  # a worker started by a reload runs the code installed since
        from web import create_app

        return create_app(self.overrides)

    def run(self) -> None:
        try:
            _Arbiter(self).run()
        except RuntimeError as err:
            click.echo(f"furet-serve: {err}", err=True)
            sys.exit(1)


def _option_help(key: str) -> str:
    setting = _HELP[key]
    text = setting.help.removeprefix("furet-serve: ")
    return f"{text[:1].upper()}{text[1:]} [default: {setting.default}; env {setting.name}]"


def _describe_index(settings: dict[str, Any]) -> str:
    try:
        store = store_for(backend=settings["BACKEND"], index_dir=settings["INDEX_DIR"],
                          database_url=settings["DATABASE_URL"])
        index = store.open_backend()
    except FuretError as err:
        return f"no index yet ({err}); pages say « indisponible » until one is built"
    try:
        return f"index {store.describe()} (generation {index.generation})"
    except FuretError as err:
        return f"index unavailable ({err})"
    finally:
        index.close()


def _check_query_log(settings: dict[str, Any], overrides: dict[str, Any]) -> None:
    """Warn once, here, when the query log cannot be written; the workers then keep none."""
    path = settings["QUERY_LOG"]
    if path is None:
        folder = Path(settings["INDEX_DIR"])
        if settings["BACKEND"] == "whoosh" and not folder.is_dir():
            return  # the folder comes with the index (furet-index build)
        path = str(folder / "querylog.sqlite")
    if not path:
        return
    problem = query_log_problem(path)
    if problem is None:
        return
    click.echo(f"furet-serve: warning: the query log {path} cannot be written ({problem}) by "
               f"the user running furet-serve; searches are not logged until it is fixed and "
               f"the server restarted. Make it writable, point FURET_QUERY_LOG at a writable "
               f"file, or set FURET_QUERY_LOG= (empty) to turn the log off.", err=True)
    overrides["QUERY_LOG"] = ""


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--host", help=_option_help("HOST"))
@click.option("--port", type=click.IntRange(1, 65535), help=_option_help("PORT"))
@click.option("--workers", type=click.IntRange(1, 64), help=_option_help("WORKERS"))
@store_options(settings_help={"index_dir": _option_help("INDEX_DIR"),
                               "backend": _option_help("BACKEND"),
                               "database_url": _option_help("DATABASE_URL")})
def main(host: str | None, port: int | None, workers: int | None,
         index_dir: Path | None, backend: str | None, database_url: str | None) -> None:
    """Serve the search site and the JSON API (gunicorn), e.g. on http://127.0.0.1:8000."""
    overrides = {"HOST": host, "PORT": port, "WORKERS": workers,
                 "INDEX_DIR": str(index_dir) if index_dir else None,
                 "BACKEND": backend, "DATABASE_URL": database_url}
    try:
        settings = load_settings(overrides)
    except SettingError as err:
        raise click.UsageError(str(err)) from None
    bind_host = settings["HOST"]
    bind = f"[{bind_host}]:{settings['PORT']}" if ":" in bind_host else \
        f"{bind_host}:{settings['PORT']}"
    if not inherits_socket():
        check_port(bind_host, settings["PORT"])
    _check_query_log(settings, overrides)
    click.echo(f"furet-serve: {_describe_index(settings)}", err=True)
    click.echo(f"furet-serve: starting {settings['WORKERS']} worker(s) on http://{bind}",
               err=True)
    # A request unanswered well past the search deadline has a stuck thread (see worker.py).
    FrontWorker.stuck_after = min(2 * settings["SEARCH_TIMEOUT"] + 5, 2 * HEARTBEAT_TIMEOUT)
    options = {
        "bind": bind,
        "workers": settings["WORKERS"],
        "worker_class": FrontWorker,
        "threads": 1,
        "accesslog": "-",
        "errorlog": "-",
        "loglevel": "info",
        "logger_class": StderrLogger,
        "graceful_timeout": GRACEFUL_TIMEOUT,
        "timeout": HEARTBEAT_TIMEOUT,
        "limit_request_line": REQUEST_LINE_LIMIT,
        "proc_name": "furet-serve",
        "forwarded_allow_ips": settings["TRUSTED_PROXIES"],  # X-Forwarded-Proto
        "when_ready": lambda arbiter: click.echo(ready_message(arbiter.LISTENERS), err=True),
    }
    FuretServer({k: v for k, v in overrides.items() if v is not None}, options).run()


if __name__ == "__main__":  # pragma: no cover
    main()
