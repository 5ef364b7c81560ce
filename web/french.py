"""French formatting for the pages: dates ("7 janvier 2024"), numbers, plurals, facet names,
and the spaces of French typography."""

from __future__ import annotations

import re
from datetime import date, datetime
from html import escape
from urllib.parse import urlsplit

from markupsafe import Markup

__all__ = ["MONTHS", "MONTHS_SHORT", "format_date", "format_month", "format_number", "plural",
           "FACET_NAMES", "french_spaces", "host_name"]

MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
          "septembre", "octobre", "novembre", "décembre")
MONTHS_SHORT = ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.",
                "oct.", "nov.", "déc.")
FACET_NAMES = {"section": "Rubrique", "author": "Auteur", "year": "Année", "month": "Mois"}
NNBSP = "\u202f"  # narrow no-break space: French thousands separator


def _as_date(value: str | date | None) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        # The date as published, in the article's own time zone.
        return datetime.fromisoformat(value).date()
    except ValueError:
        return None


def format_date(value: str | date | None) -> str:
    """"7 janvier 2024", "1er mai 2023"; empty for no or unreadable date."""
    day = _as_date(value)
    if day is None:
        return ""
    number = "1er" if day.day == 1 else str(day.day)
    return f"{number} {MONTHS[day.month - 1]} {day.year}"


def format_month(value: str) -> str:
    """"2024-01" -> "janvier 2024" (anything else unchanged)."""
    try:
        year, month = value.split("-")
        return f"{MONTHS[int(month) - 1]} {int(year)}"
    except (ValueError, IndexError):
        return value


def format_number(value: int | float, decimals: int = 0) -> str:
    """1234 -> "1 234", 0.5 with decimals=1 -> "0,5"."""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", NNBSP).replace(".", ",")


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """"1 résultat", "0 résultat", "12 résultats" (French: 0 and 1 are singular)."""
    word = singular if count < 2 else (plural_form or singular + "s")
    return f"{format_number(count)} {word}"


# A space (ordinary or no-break) after « or before » ; : ! ? lets the sign start or end a
# line on its own: French typography wants a narrow no-break space there.
_OPENING = re.compile(r"«[ \u00a0]+")
_CLOSING = re.compile(r"[ \u00a0]+(?=[»;:!?])")


def french_spaces(value: str | Markup) -> Markup:
    """Text (escaped here) or HTML (Markup) with narrow no-break spaces inside « » and
    before ; : ! ?, so that no sign is left alone at the start or end of a line."""
    html = value if isinstance(value, Markup) else escape(value, quote=False)
    html = _CLOSING.sub(NNBSP, _OPENING.sub("«" + NNBSP, str(html)))
    return Markup(html)


def host_name(url: str | None) -> str:
    """The site an address belongs to, as readers name it: "exemple-actu.fr"."""
    host = (urlsplit(url).hostname or "") if url else ""
    return host.removeprefix("www.")
