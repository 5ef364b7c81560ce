"""`furet-search`: query the index from a terminal or a script."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import click

from search.errors import FuretError, IndexNotFoundError, QueryError


def _terminal_snippet(html: str, bold: bool) -> str:
    from html import unescape

    marked = re.sub(r"<mark>(.*?)</mark>", (lambda m: click.style(m[1], bold=True))
                    if bold else r"\1", html)
    return unescape(marked)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("query")
@click.option("--index-dir", type=click.Path(file_okay=False, path_type=Path),
              envvar="FURET_INDEX_DIR", default=Path("index"), show_default=True,
              show_envvar=True, help="Folder holding the index.")
@click.option("--page", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--per-page", type=click.IntRange(1, 100), default=10, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
def main(query: str, index_dir: Path, page: int, per_page: int, as_json: bool) -> None:
    """Search the index for QUERY and print the results."""
    from search.engine import search
    from search.index import open_index

    try:
        results = search(open_index(index_dir), query, page=page, per_page=per_page)
    except QueryError as err:
        raise click.UsageError(str(err)) from None
    except IndexNotFoundError as err:
        raise click.ClickException(str(err)) from None
    except FuretError as err:
        raise click.ClickException(str(err)) from None
    if as_json:
        click.echo(json.dumps(results.to_json(), ensure_ascii=False, indent=2))
        return
    bold = sys.stdout.isatty()
    click.echo(f"{results.total} résultat(s) pour « {results.query} »")
    for n, hit in enumerate(results.hits, (page - 1) * per_page + 1):
        meta = " · ".join(x for x in (hit.published and hit.published[:10], hit.section) if x)
        click.echo(f"\n{n}. {_terminal_snippet(hit.title_html, bold)}")
        if meta:
            click.echo(f"   {meta}")
        click.echo(f"   {_terminal_snippet(hit.snippet_html, bold)}")
        if hit.url:
            click.echo(f"   {hit.url}")
