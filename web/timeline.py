"""The timeline above the results: matching articles per year, or per month of the year
chosen, as a bar chart drawn here in SVG (templates/_timeline.html draws the shapes).

Each bar with articles is a link filtering the results to its period, named with its
count ("2024 : 12 résultats"); its count is also written above it. The chart is as wide
as its bars need (SLOT pixels each): a long span scrolls sideways within its box,
showing the newest periods first, rather than shrinking the text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from flask import url_for

from search import Results, SearchRequest
from search.results import FacetValue
from web.french import MONTHS, MONTHS_SHORT, plural
from web.links import search_pairs
from web.params import FRENCH_FILTERS

__all__ = ["Bar", "Timeline", "build_timeline", "results_timeline", "SLOT", "CHART_HEIGHT"]

_PARAM_OF = {target: name for name, target in FRENCH_FILTERS.items()}  # year -> annee

SLOT = 44  # pixels per bar, gap included
BAR = 30
CHART_HEIGHT = 80  # the tallest bar
TOP = 18  # room for the count above a bar
BOTTOM = 20  # room for the period below the bars


@dataclass(frozen=True)
class Bar:
    """One period: where it is drawn, what it says, where it leads (None: no articles)."""

    value: str  # "2024" or "2024-03"
    short: str  # "2024", "mars"
    label: str  # "2024", "mars 2024": with the count, the link's name
    count: int
    url: str | None
    active: bool
    x: int
    y: int
    height: int

    @property
    def name(self) -> str:
        """The link's accessible name: "mars 2024 : 3 résultats"."""
        return f"{self.label} : {plural(self.count, 'résultat')}"


@dataclass(frozen=True)
class Timeline:
    """The chart: its caption, its bars, its size, and the way back to every year."""

    caption: str
    bars: list[Bar]
    width: int
    height: int
    all_years_url: str | None

    @property
    def baseline(self) -> int:
        return TOP + CHART_HEIGHT

    @property
    def bar_width(self) -> int:
        return BAR


def _labels(value: str) -> tuple[str, str]:
    if "-" in value:
        year, month = value.split("-")
        return MONTHS_SHORT[int(month) - 1], f"{MONTHS[int(month) - 1]} {year}"
    return value, value


def build_timeline(values: list[FacetValue], *, year: int | None, active_months: set[str],
                   link: Callable[[str], str], all_years: Callable[[], str]
                   ) -> Timeline | None:
    """The chart of `values` (years, or the months of `year`); None when nothing to show.

    `link(value)` is the address filtering to one period, `all_years()` the one leaving
    the chosen year."""
    if not values or not any(v.count for v in values):
        return None
    most = max(v.count for v in values)
    bars = []
    for n, v in enumerate(values):
        height = max(2, round(CHART_HEIGHT * v.count / most)) if v.count else 0
        short, label = _labels(v.value)
        bars.append(Bar(value=v.value, short=short, label=label, count=v.count,
                        url=link(v.value) if v.count else None,
                        active=v.value in active_months, x=n * SLOT + (SLOT - BAR) // 2,
                        y=TOP + CHART_HEIGHT - height, height=height))
    caption = f"Résultats par mois en {year}" if year is not None else "Résultats par année"
    return Timeline(caption=caption, bars=bars, width=len(values) * SLOT,
                    height=TOP + CHART_HEIGHT + BOTTOM,
                    all_years_url=all_years() if year is not None else None)


def results_timeline(results: Results, req: SearchRequest) -> Timeline | None:
    """The chart of a page of results: a bar leads to the same search filtered to its year
    (to its month, once a year is chosen), from the first page."""
    year = req.parsed_filters.single_year
    name = _PARAM_OF["month" if year is not None else "year"]
    dropped = {_PARAM_OF["month"], "page"} | ({_PARAM_OF["year"]} if year is None else set())
    base = [(key, value) for key, value in search_pairs(req) if key not in dropped]
    address = url_for("pages.results")

    def link(value: str) -> str:
        return f"{address}?{urlencode([*base, (name, value)])}"

    def all_years() -> str:
        pairs = [(key, value) for key, value in base if key != _PARAM_OF["year"]]
        return f"{address}?{urlencode(pairs)}" if pairs else address

    return build_timeline(results.timeline, year=year,
                          active_months=set(req.filters.get("month", [])), link=link,
                          all_years=all_years)
