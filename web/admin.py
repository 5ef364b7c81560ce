"""`furet-admin`: the newsroom console's levers as commands, for scripts and cron mail.

    furet-admin report [--days N] [--json]     what readers searched (web/analytics.py)
    furet-admin user add NAME | remove NAME | list
    furet-admin synonyms import FILE [--replace] | export | list
    furet-admin pin QUERY ID... [--until DATE] | unpin QUERY | pins
    furet-admin hide ID_OR_URL... [--reason TEXT] | unhide ID_OR_URL... | hidden

Each command takes --index-dir, --backend, --database-url as the other commands do (the
query log and the console's file sit in the index folder unless FURET_QUERY_LOG and
FURET_ADMIN_DB say otherwise; with PostgreSQL, the editors' settings are in the
database). Exit codes: 0 done; 1 entries rejected (each reason on stderr) or the command
failed; 2 usage error.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import click

from search.editorial import EditorialCache, EditorialStore, load_rules
from search.errors import FuretError
from search.options import store_options
from search.stores import open_backend
from search.synonyms import SynonymError, format_rules, parse_rules
from web.accounts import AccountError, add_user, list_users, remove_user
from web.analytics import COLUMNS, Report, read_report, table_row
from web.editorial import (
    hide,
    list_hidden,
    list_pins,
    pin,
    unhide,
    unpin,
)
from web.fixes import propose
from web.settings import SettingError, editorial_store, load_settings, query_log_path
from web.synonymstore import add_rules, replace_rules

__all__ = ["main"]

EXIT_REJECTED = 1
EXIT_USAGE = 2

_TITLES = {
    "top_queries": "Recherches les plus fréquentes",
    "zero_result_queries": "Recherches sans résultat",
    "no_click_queries": "Recherches avec résultats mais sans clic",
    "slowest_queries": "Recherches les plus lentes (ms)",
    "clicked_queries": "Recherches les plus cliquées",
}
_HEADINGS = {"count": "fois", "hits": "résultats", "clicks": "clics", "click_rate": "taux",
             "mean_position": "position", "last_seen": "dernière", "previous_count": "avant",
             "trend": "tendance", "max_ms": "max", "mean_ms": "moyenne",
             "proposal": "proposition"}


class UsageFailure(click.ClickException):
    """A wrong setting or argument: exit 2."""

    exit_code = EXIT_USAGE


def settings_for(index_dir: Path, backend: str, database_url: str | None) -> dict[str, Any]:
    """The site's settings, with the store options given to the command."""
    try:
        return load_settings({"INDEX_DIR": str(index_dir), "BACKEND": backend,
                              "DATABASE_URL": database_url or ""})
    except SettingError as err:
        raise UsageFailure(str(err)) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """The newsroom console's levers: analytics, editors' accounts, synonyms."""


@main.command()
@store_options()
@click.option("--days", type=click.IntRange(1, 3650), default=7, show_default=True,
              help="The period: this many days, today included (UTC).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--rows", type=click.IntRange(1, 1000), default=20, show_default=True,
              help="Rows of each table.")
def report(index_dir: Path, backend: str, database_url: str | None, days: int,
           as_json: bool, rows: int) -> None:
    """Print what readers searched: top queries, searches without results (with a proposed
    fix), without clicks, the slowest, click-through rates."""
    settings = settings_for(index_dir, backend, database_url)
    path = query_log_path(settings)
    if path is None:
        raise UsageFailure("the query log is off (FURET_QUERY_LOG is empty): nothing to report")
    if not path.exists():
        click.echo(f"furet-admin: no query log yet at {path}: searches are logged there "
                   f"once the site answers them", err=True)
    found = read_report(path, days, limit=rows)
    proposals = _proposals(settings, [q.query for q in found.tables["zero_result_queries"]])
    if as_json:
        data = found.to_json()
        for row in data["zero_result_queries"]:
            fix = proposals.get(row["query"])
            row["proposal"] = fix.to_json() if fix else None
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    click.echo(report_text(found, {q: _proposal_text(p) for q, p in proposals.items()}))


def _proposals(settings: dict[str, Any], queries: list[str]) -> dict[str, Any]:
    """The proposed fix of each failed query, on the current index (none without one)."""
    if not queries:
        return {}
    try:
        index = open_backend(backend=settings["BACKEND"], index_dir=settings["INDEX_DIR"],
                             database_url=settings["DATABASE_URL"])
    except FuretError as err:
        click.echo(f"furet-admin: no proposed fixes: {err}", err=True)
        return {}
    try:
        choices = EditorialCache(editorial_store(settings)).current()
        return {q: propose(index, q, choices.synonyms, choices.hidden) for q in queries}
    finally:
        index.close()


def _proposal_text(fix: Any) -> str:
    if fix is None:
        return ""
    if fix.kind == "found":
        return f"trouve maintenant {fix.hits}"
    return f"{fix.text} ({fix.hits})"


def report_text(found: Report, proposals: dict[str, str] | None = None) -> str:
    """The report as text tables, in French, for a cron mail."""
    share = f"{found.corrected_share:.1%}".replace(".", ",")
    zero = f"{found.zero_share:.1%}".replace(".", ",")
    rate = "—" if found.click_rate is None else f"{found.click_rate:.1%}".replace(".", ",")
    lines = [f"Du {found.since} au {found.until} ({found.days} jours, UTC)",
             f"{found.searches} recherches, dont {found.zero_results} sans résultat ({zero}) "
             f"et {share} corrigées ; {found.clicks} clics (taux de clic {rate})", ""]
    for name, rows in found.tables.items():
        lines.append(f"{_TITLES[name]} :")
        if not rows:
            lines += ["  (aucune)", ""]
            continue
        columns = COLUMNS[name]
        if name == "zero_result_queries" and proposals is not None:
            columns = (*columns, "proposal")
        table = [["recherche", *(_HEADINGS[c] for c in columns)]]
        for q in rows:
            values = table_row(name, q) | {"proposal": (proposals or {}).get(q.query, "")}
            table.append([_cell(values[c]) for c in ("query", *columns)])
        widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
        for r in table:
            lines.append("  " + "  ".join(cell.ljust(w) for cell, w in zip(r, widths,
                                                                           strict=True)).rstrip())
        lines.append("")
    return "\n".join(lines).rstrip()


_TRENDS = {"new": "nouvelle", "up": "hausse", "down": "baisse", "same": "stable"}


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, str) and value in _TRENDS:
        return _TRENDS[value]
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d.*", value):
        return value[:16].replace("T", " ")  # a time, to the minute
    text = f"{value:g}" if isinstance(value, float) else str(value)
    # A query's odd spaces and control characters never break the table or the terminal.
    text = " ".join(re.sub(r"[\x00-\x1f\x7f-\x9f]", " ", text).split())
    return text if len(text) <= 60 else text[:59] + "…"


def _admin(index_dir: Path, backend: str, database_url: str | None) -> EditorialStore:
    return editorial_store(settings_for(index_dir, backend, database_url))


@main.group()
def user() -> None:
    """Editors' accounts: the console is off until one exists."""


@user.command("add")
@click.argument("name")
@store_options()
@click.option("--password-stdin", is_flag=True,
              help="Read the password from the first line of stdin (else asked twice).")
def user_add(name: str, index_dir: Path, backend: str, database_url: str | None,
             password_stdin: bool) -> None:
    """Create the account NAME, or give it a new password."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    admin = _admin(index_dir, backend, database_url)
    try:
        add_user(admin, name, password)
    except AccountError as err:
        raise UsageFailure(str(err)) from None
    click.echo(f"account {name}: ready (console at /admin)")


@user.command("remove")
@click.argument("name")
@store_options()
def user_remove(name: str, index_dir: Path, backend: str, database_url: str | None) -> None:
    """Remove the account NAME and end its sessions."""
    if not remove_user(_admin(index_dir, backend, database_url), name):
        raise UsageFailure(f"no account named {name!r}")
    click.echo(f"account {name}: removed")


@user.command("list")
@store_options()
def user_list(index_dir: Path, backend: str, database_url: str | None) -> None:
    """Every account, with when it was created."""
    for name, created in list_users(_admin(index_dir, backend, database_url)):
        click.echo(f"{name}\t{created}")


@main.group()
def synonyms() -> None:
    """Synonym rules, in the Solr synonyms.txt format ("a, b, c" and "a => b")."""


@synonyms.command("import")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@store_options()
@click.option("--replace", is_flag=True, help="Replace every rule instead of adding.")
def synonyms_import(file: Any, index_dir: Path, backend: str, database_url: str | None,
                    replace: bool) -> None:
    """Add the rules of FILE (- for stdin); nothing is written if any line is wrong."""
    admin = _admin(index_dir, backend, database_url)
    try:
        text = file.read()
    except UnicodeDecodeError as err:
        raise UsageFailure(f"{file.name}: not UTF-8 text ({err.reason} at byte "
                           f"{err.start})") from None
    try:
        if replace:
            rules = parse_rules(text)
            replace_rules(admin, rules, user="furet-admin", action="synonymes : import")
        else:
            rules = add_rules(admin, text, user="furet-admin")
    except SynonymError as err:
        for line, message in err.problems:
            where = f"{file.name}:{line}" if line else file.name
            click.echo(f"{where}: {message}", err=True)
        raise SystemExit(EXIT_REJECTED) from None
    for rule in rules:
        click.echo(f"added: {rule.text()}")


@synonyms.command("export")
@store_options()
def synonyms_export(index_dir: Path, backend: str, database_url: str | None) -> None:
    """Print every rule in the synonyms.txt format."""
    click.echo(format_rules(load_rules(_admin(index_dir, backend, database_url))), nl=False)


@synonyms.command("list")
@store_options()
def synonyms_list(index_dir: Path, backend: str, database_url: str | None) -> None:
    """Every rule, numbered."""
    for n, rule in enumerate(load_rules(_admin(index_dir, backend, database_url)), 1):
        click.echo(f"{n}\t{rule.text()}")


def _resolve(index_dir: Path, backend: str, database_url: str | None,
             keys: tuple[str, ...], *, known: bool = True) -> list[str]:
    """The article ids that `keys` (ids or addresses) name, in order. With `known`, a key
    that names no article of the index is a UsageFailure; else it is kept as given (an
    article hidden, then removed from the index, can still be shown again)."""
    settings = settings_for(index_dir, backend, database_url)
    try:
        index = open_backend(backend=settings["BACKEND"], index_dir=settings["INDEX_DIR"],
                             database_url=settings["DATABASE_URL"])
    except FuretError as err:
        if known:
            raise click.ClickException(str(err)) from None
        return list(dict.fromkeys(keys))
    ids: list[str] = []
    try:
        for key in keys:
            found = index.find(key)
            if not found and known:
                raise UsageFailure(f"{key}: no article has this id or address")
            ids += found or [key]
    finally:
        index.close()
    return list(dict.fromkeys(ids))


@main.command("pin")
@click.argument("query")
@click.argument("ids", nargs=-1, required=True, metavar="ID...")
@store_options()
@click.option("--until", metavar="DATE", help="Last day shown first (YYYY-MM-DD).")
def pin_command(query: str, ids: tuple[str, ...], index_dir: Path, backend: str,
                database_url: str | None, until: str | None) -> None:
    """Show these articles first for QUERY (« Sélection de la rédaction »)."""
    found = _resolve(index_dir, backend, database_url, ids)
    try:
        pin(_admin(index_dir, backend, database_url), query, found, until=until,
            user="furet-admin")
    except ValueError as err:
        raise UsageFailure(str(err)) from None
    for article_id in found:
        click.echo(f"pinned for « {query} »: {article_id}")


@main.command("unpin")
@click.argument("query")
@store_options()
def unpin_command(query: str, index_dir: Path, backend: str, database_url: str | None) -> None:
    """Unpin the articles pinned for QUERY."""
    count = unpin(_admin(index_dir, backend, database_url), query, user="furet-admin")
    if not count:
        raise UsageFailure(f"nothing is pinned for {query!r}")
    click.echo(f"unpinned for « {query} »: {count} article{'s' if count > 1 else ''}")


@main.command("pins")
@store_options()
def pins_command(index_dir: Path, backend: str, database_url: str | None) -> None:
    """Every pinned query and its articles."""
    for row in list_pins(_admin(index_dir, backend, database_url)):
        until = f" (until {row['until']})" if row["until"] else ""
        click.echo(f"{row['query']}{until}: {' '.join(row['ids'])}")


@main.command("hide")
@click.argument("ids", nargs=-1, required=True, metavar="ID_OR_URL...")
@store_options()
@click.option("--reason", default="", help="Why (a takedown, a request…), for the log.")
def hide_command(ids: tuple[str, ...], index_dir: Path, backend: str,
                 database_url: str | None, reason: str) -> None:
    """Never show these articles (they stay in the archive and the index)."""
    found = _resolve(index_dir, backend, database_url, ids)
    hide(_admin(index_dir, backend, database_url), found, reason=reason, user="furet-admin")
    for article_id in found:
        click.echo(f"hidden: {article_id}")


@main.command("unhide")
@click.argument("ids", nargs=-1, required=True, metavar="ID_OR_URL...")
@store_options()
def unhide_command(ids: tuple[str, ...], index_dir: Path, backend: str,
                   database_url: str | None) -> None:
    """Show these articles again."""
    found = _resolve(index_dir, backend, database_url, ids, known=False)
    shown = unhide(_admin(index_dir, backend, database_url), found, user="furet-admin")
    for article_id in shown:
        click.echo(f"shown again: {article_id}")
    for article_id in sorted(set(found) - set(shown)):
        click.echo(f"{article_id}: was not hidden", err=True)
    if len(shown) < len(set(found)):
        raise SystemExit(EXIT_REJECTED)


@main.command("hidden")
@store_options()
def hidden_command(index_dir: Path, backend: str, database_url: str | None) -> None:
    """Every hidden article, with why and when."""
    for row in list_hidden(_admin(index_dir, backend, database_url)):
        click.echo(f"{row['article_id']}\t{row['at']}\t{row['user']}\t{row['reason']}")
