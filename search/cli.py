"""`furet-search`: query the index from a terminal or a script.

It obeys the newsroom console's choices as the site does (synonyms, pinned articles first,
hidden articles never), read from the editors' store: FURET_ADMIN_DB (admin.sqlite in the
index folder by default) beside a Whoosh index, the `furet` schema in PostgreSQL;
`--no-editorial` searches the index as it is.

Exit codes: 0 with results or none, 1 when there is no usable index (the message gives the
command that builds one), 2 for a bad option, a wrong setting, or a query Furet refuses
(too long, bad date, a page out of range).
"""

from __future__ import annotations

import json
import os
import re
import sys
from html import unescape
from pathlib import Path

import click

from search.backend import Backend
from search.editorial import Editorial, EditorialCache, open_editorial, with_pins
from search.errors import ConfigurationError, FuretError, IndexNotFoundError, QueryError
from search.options import store_options
from search.request import SORTS, SearchRequest
from search.results import Results
from search.stores import open_backend

_MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
           "septembre", "octobre", "novembre", "décembre")


def _terminal(html: str, bold: bool) -> str:
    """Snippet HTML as terminal text: <mark> in bold on a terminal, else plain."""
    marked = re.sub(r"<mark>(.*?)</mark>",
                    (lambda m: click.style(m[1], bold=True)) if bold else r"\1", html)
    return unescape(marked)


def _french_date(iso: str | None) -> str:
    if not iso:
        return ""
    year, month, day = int(iso[:4]), int(iso[5:7]), int(iso[8:10])
    return f"{'1er' if day == 1 else day} {_MONTHS[month - 1]} {year}"


def _choices(backend: str, index_dir: Path, database_url: str | None) -> Editorial:
    """The editors' choices, as the site reads them (none when nothing was ever set)."""
    if backend == "whoosh":
        path: str | Path | None = os.environ.get("FURET_ADMIN_DB") or index_dir / "admin.sqlite"
        if not Path(path).exists():
            return Editorial()
    else:
        path = None  # a reader: copying a console file in is the site's business
    return EditorialCache(open_editorial(backend=backend, path=path,
                                         database_url=database_url)).current()


def _search(index: Backend, request: SearchRequest, choices: Editorial) -> Results:
    """One page of results, pinned articles first as on the site."""
    return with_pins(index, request, index.search(request), choices.pinned(request.query))


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("query")
@store_options()
@click.option("--page", type=int, default=1, show_default=True, help="From 1 to 1000.")
@click.option("--per-page", type=int, default=10, show_default=True, help="From 1 to 100.")
@click.option("--sort", default="relevance", show_default=True, metavar="|".join(SORTS),
              help="Order of the results.")
@click.option("--section", help="Only articles of this section (exact name).")
@click.option("--author", help="Only articles by this author (exact name).")
@click.option("--since", metavar="DATE", help="Published on or after (2024, 2024-01, 2024-01-15).")
@click.option("--until", metavar="DATE", help="Published up to (2024, 2024-01, 2024-01-15).")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.option("--editorial/--no-editorial", default=True, show_default=True,
              help="Apply the newsroom console's synonyms, pinned and hidden articles.")
def main(query: str, index_dir: Path, backend: str, database_url: str | None, page: int,
         per_page: int, sort: str, section: str | None, author: str | None, since: str | None,
         until: str | None, as_json: bool, editorial: bool) -> None:
    """Search the index for QUERY and print the results (the query syntax: docs/searching.md)."""
    filters = {k: v for k, v in (("section", section), ("author", author), ("since", since),
                                 ("until", until)) if v}
    try:
        index = open_backend(backend=backend, index_dir=index_dir, database_url=database_url)
        try:
            choices = _choices(backend, index_dir, database_url) if editorial else Editorial()
            request = SearchRequest(query, page=page, per_page=per_page, sort=sort,
                                    filters=filters, synonyms=choices.synonyms,
                                    hidden=choices.hidden)
            results = _search(index, request, choices)
        finally:
            index.close()
    except (QueryError, ConfigurationError) as err:
        raise click.UsageError(str(err)) from None
    except IndexNotFoundError as err:
        if backend != "whoosh":
            raise click.ClickException(str(err)) from None
        raise click.ClickException(
            f"{err} (looked in {index_dir.resolve()}; --index-dir DIR or FURET_INDEX_DIR=DIR "
            f"searches another folder)") from None
    except FuretError as err:
        raise click.ClickException(str(err)) from None
    if as_json:
        click.echo(json.dumps(results.to_json(), ensure_ascii=False, indent=2))
        return
    bold = sys.stdout.isatty()
    count = f"{results.total:,}".replace(",", "\u202f")
    if not results.total_is_exact:
        count = f"environ {count}"
    click.echo(f"{count} résultat{'s' if results.total > 1 else ''} pour « {results.query} »")
    if results.suggestion:
        verb = "Résultats pour" if results.corrected else "Vouliez-vous dire :"
        click.echo(f"{verb} {results.suggestion} ?" if not results.corrected
                   else f"{verb} « {results.suggestion} »")
    if results.synonyms:
        click.echo(f"Résultats incluant aussi : {', '.join(results.synonyms)}")
    pinned = set(results.pinned)
    for n, hit in enumerate(results.hits, (page - 1) * per_page + 1):
        meta = " · ".join(x for x in (_french_date(hit.published), hit.section,
                                      ", ".join(hit.authors)) if x)
        label = " — Sélection de la rédaction" if hit.id in pinned else ""
        click.echo(f"\n{n}. {_terminal(hit.title_html, bold)}{label}")
        if meta:
            click.echo(f"   {meta}")
        if hit.snippet_html:
            click.echo(f"   {_terminal(hit.snippet_html, bold)}")
        if hit.url:
            click.echo(f"   {hit.url}")
