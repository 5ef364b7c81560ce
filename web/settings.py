"""The settings table: every knob of the site, its default and its help, read in one place.

Order of precedence: the defaults below → `FURET_*` environment variables → what the caller
passes (command-line flags of `furet-serve`, or the `config` given to `create_app`).
Values are converted and checked here, so a bad one is reported by name before anything runs.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from search.deadline import DEFAULT_TIMEOUT
from search.editorial import EditorialStore, open_editorial
from search.stores import BACKENDS

__all__ = ["Setting", "SETTINGS", "SettingError", "admin_db_path", "editorial_store",
           "load_settings", "query_log_path", "settings_table"]

PREFIX = "FURET_"


class SettingError(ValueError):
    """A setting has a value Furet cannot use."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name


def _text(value: str) -> str:
    return value.strip()


def _whole(low: int, high: int) -> Callable[[str], int]:
    def convert(value: str) -> int:
        try:
            number = int(str(value).strip())
        except ValueError:
            raise ValueError(f"expected a whole number from {low} to {high}, got {value!r}") \
                from None
        if not low <= number <= high:
            raise ValueError(f"expected a whole number from {low} to {high}, got {number}")
        return number

    return convert


def _days(value: str) -> float:
    try:
        number = float(str(value).strip())
    except ValueError:
        raise ValueError(f"expected a number of days (0 turns it off), got {value!r}") from None
    if not 0 <= number <= 36500:
        raise ValueError(f"expected a number of days from 0 to 36500, got {number:g}")
    return number


_RATE = re.compile(r"\s*\d+\s*(/|per)\s*(\d+\s*)?(second|minute|hour|day|month|year)s?\s*",
                   re.IGNORECASE)


def _rate(value: str) -> str:
    value = str(value).strip()
    for part in filter(None, (p.strip() for p in re.split(r"[;,]", value))):
        if not _RATE.fullmatch(part):
            raise ValueError(f"expected a rate like 60/minute (or empty to turn it off), "
                             f"got {value!r}")
    return value


def _seconds(value: str) -> float:
    try:
        number = float(str(value).strip())
    except ValueError:
        raise ValueError(f"expected a number of seconds, got {value!r}") from None
    if not 0 < number <= 600:
        raise ValueError(f"expected a number of seconds above 0 and at most 600, got "
                         f"{number:g}")
    return number


def _networks(value: str) -> str:
    networks = []
    for part in filter(None, re.split(r"[\s,]+", str(value).strip())):
        try:
            networks.append(str(ipaddress.ip_network(part, strict=False)))
        except ValueError:
            raise ValueError(f"expected addresses or networks such as 127.0.0.1, ::1 or "
                             f"10.0.0.0/8, separated by commas (empty: none), got "
                             f"{part!r}") from None
    return ",".join(networks)


def _base_url(value: str) -> str:
    value = str(value).strip().rstrip("/")
    if value and not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", value):
        raise ValueError(f"expected an address like https://recherche.example.org, got {value!r}")
    return value


def _hosts(value: str) -> tuple[str, ...]:
    hosts = tuple(h.strip().lower() for h in str(value).split(",") if h.strip())
    for host in hosts:
        if not re.fullmatch(r"\.?[a-z0-9-]+(\.[a-z0-9-]+)*(:\d{1,5})?|\[[0-9a-f:.]+\](:\d{1,5})?",
                            host):
            raise ValueError(f"expected host names separated by commas, like "
                             f"recherche.example.org, .example.org; got {host!r}")
    return hosts


def _backend(value: str) -> str:
    value = str(value).strip().lower()
    if value not in BACKENDS:
        raise ValueError(f"expected {' or '.join(BACKENDS)}, got {value!r}")
    return value


@dataclass(frozen=True)
class Setting:
    """One setting: its environment name, default, help, and how to read a value."""

    name: str  # environment variable, e.g. FURET_INDEX_DIR
    default: Any
    help: str
    convert: Callable[[str], Any] = _text

    @property
    def key(self) -> str:
        """The key in the Flask config (the name without FURET_)."""
        return self.name.removeprefix(PREFIX)


SETTINGS: tuple[Setting, ...] = (
    Setting("FURET_INDEX_DIR", "index", "Folder holding the index (built by furet-index)."),
    Setting("FURET_BACKEND", "whoosh", "Where the index lives: whoosh (the folder "
            "FURET_INDEX_DIR) or postgresql (the database FURET_DATABASE_URL).", _backend),
    Setting("FURET_DATABASE_URL", "", "PostgreSQL database of the postgresql backend, e.g. "
            "postgresql://furet@db.example.org:5432/furet (a read replica serves too)."),
    Setting("FURET_SITE_NAME", "Furet", "Name shown in the pages, the feeds and OpenSearch."),
    Setting("FURET_PER_PAGE", 10, "Results per page on the site, and the API's default "
            "per_page (1 to 100).", _whole(1, 100)),
    Setting("FURET_BASE_URL", "", "Public address of the site, for absolute links in Atom "
            "feeds and OpenSearch (empty: taken from each request).", _base_url),
    Setting("FURET_ALLOWED_HOSTS", "", "Host names the site answers to, separated by commas "
            "(.example.org: the domain and its subdomains; a port may follow); a request "
            "naming another Host gets 400 invalid_host (/api/v1/health excepted). Empty: "
            "any.", _hosts),
    Setting("FURET_RATELIMIT", "60/minute", "Requests per client address to /api/, per worker "
            "(e.g. 60/minute; several with ';'; empty turns it off); suggestions and health "
            "checks are not counted.", _rate),
    Setting("FURET_SUGGEST_RATELIMIT", "600/minute", "Requests per client address to "
            "/api/v1/suggest, per worker: a budget of their own, as readers type (empty "
            "turns it off).", _rate),
    Setting("FURET_TRUSTED_PROXIES", "127.0.0.1,::1", "Reverse proxies whose "
            "X-Forwarded-For and X-Forwarded-Proto are believed: addresses or networks, "
            "separated by commas (empty: none). A request from one of them is counted for "
            "the client address it forwards.", _networks),
    Setting("FURET_QUERY_LOG", None, "SQLite file logging each search (time, normalised "
            "query, filters, hit count, latency; no address). Default: querylog.sqlite in the "
            "index folder; empty turns it off."),
    Setting("FURET_QUERY_LOG_ROWS", 100_000, "Most recent searches the query log keeps.",
            _whole(100, 100_000_000)),
    Setting("FURET_ADMIN_DB", None, "SQLite file of the newsroom console (editors' accounts, "
            "synonyms, pins, hidden articles, the audit log). Default: admin.sqlite in the "
            "index folder, beside its builds, so a rebuild keeps it. With PostgreSQL they "
            "live in the furet schema, and this file is taken in once if it exists."),
    Setting("FURET_RECENCY_HALF_LIFE", 0.0, "Ranking by relevance favours recent articles: "
            "an article this many days old counts half as much for recency (0: off).", _days),
    Setting("FURET_SEARCH_TIMEOUT", DEFAULT_TIMEOUT, "Seconds a search (or a completion, or "
            "related articles) may take: past it, it is stopped and answered with 504 "
            "search_timeout.", _seconds),
    Setting("FURET_CACHE_MAX_AGE", 60, "Seconds browsers and proxies may reuse a search "
            "page or API answer (Cache-Control max-age).", _whole(0, 86400)),
    Setting("FURET_WORKERS", 2, "furet-serve: number of gunicorn worker processes.",
            _whole(1, 64)),
    Setting("FURET_HOST", "127.0.0.1", "furet-serve: address to listen on (0.0.0.0 for "
            "every interface)."),
    Setting("FURET_PORT", 8000, "furet-serve: port to listen on.", _whole(1, 65535)),
)

_BY_KEY = {s.key: s for s in SETTINGS}


def settings_table() -> list[tuple[str, str, str]]:
    """(name, default, help) of every setting, as docs/configuration.md documents them."""
    return [(s.name, "" if s.default is None else str(s.default), s.help) for s in SETTINGS]


def load_settings(overrides: Mapping[str, Any] | None = None,
                  environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Every setting by config key: defaults, then FURET_* variables, then `overrides`."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        values[setting.key] = setting.default
        if setting.name in environ:
            values[setting.key] = _convert(setting, environ[setting.name])
    for key, value in (overrides or {}).items():
        setting = _BY_KEY.get(key.removeprefix(PREFIX))
        if setting is None or value is None:
            continue
        values[setting.key] = _convert(setting, str(value))
    return values


def _convert(setting: Setting, value: str) -> Any:
    try:
        return setting.convert(value)
    except ValueError as err:
        raise SettingError(setting.name, str(err)) from None


def query_log_path(settings: Mapping[str, Any]) -> Path | None:
    """The query log's file (None when FURET_QUERY_LOG is empty: no log)."""
    value = settings["QUERY_LOG"]
    if value is None:
        return Path(settings["INDEX_DIR"]) / "querylog.sqlite"
    return Path(value) if value else None


def admin_db_path(settings: Mapping[str, Any]) -> Path:
    """The console's file: FURET_ADMIN_DB, else admin.sqlite in the index folder."""
    value = settings["ADMIN_DB"]
    return Path(value) if value else Path(settings["INDEX_DIR"]) / "admin.sqlite"


def editorial_store(settings: Mapping[str, Any]) -> EditorialStore:
    """The editors' store: the console's file with the Whoosh store, the `furet` schema
    with PostgreSQL (which takes in what the console's file held before, once)."""
    return open_editorial(backend=settings["BACKEND"], path=admin_db_path(settings),
                          database_url=settings["DATABASE_URL"] or None)
