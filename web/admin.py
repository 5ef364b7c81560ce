"""`furet-admin`: the newsroom console's levers as commands, for scripts and cron mail.

    furet-admin report [--days N] [--json]     what readers searched (web/analytics.py)
    furet-admin user add NAME | remove NAME | list
    furet-admin synonyms import FILE | export | list

Each command takes --index-dir, --backend, --database-url as the other commands do (the
query log and the console's file sit in the index folder unless FURET_QUERY_LOG and
FURET_ADMIN_DB say otherwise). Exit codes: 0 done; 1 entries rejected (each reason on
stderr) or the command failed; 2 usage error.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import click

from search.options import store_options
from web.analytics import COLUMNS, Report, read_report, table_row
from web.settings import SettingError, load_settings, query_log_path

__all__ = ["main"]

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
             "trend": "tendance", "max_ms": "max", "mean_ms": "moyenne", "proposal": "proposition"}


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
    if as_json:
        click.echo(json.dumps(found.to_json(), ensure_ascii=False, indent=2))
    else:
        click.echo(report_text(found))


def report_text(found: Report) -> str:
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
        table = [["recherche", *(_HEADINGS[c] for c in columns)]]
        for q in rows:
            values = table_row(name, q)
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
