"""The console's chart of searches per day, drawn server-side as SVG shapes
(templates/admin_chart.html draws them): one bar per day, its failed searches darker."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from web.french import format_date

__all__ = ["DayBar", "DayChart", "day_chart"]

WIDTH = 720
HEIGHT = 120  # the tallest bar
TOP = 16  # room for the largest count
BOTTOM = 18  # room for the first and last days' names


@dataclass(frozen=True)
class DayBar:
    """One day: where its bars are, and its name for people ("3 mars 2026 : 12 …")."""

    x: float
    width: float
    y: float
    height: float
    zero_y: float
    zero_height: float
    name: str


@dataclass(frozen=True)
class DayChart:
    width: int
    height: int
    baseline: int
    bars: list[DayBar]
    most: int
    first: str
    last: str


def day_chart(per_day: list[dict[str, Any]]) -> DayChart:
    """The bars of `per_day` rows ({"day", "searches", "zero_results"}), oldest first."""
    most = max((d["searches"] for d in per_day), default=0)
    slot = WIDTH / max(1, len(per_day))
    gap = min(4.0, slot / 4)
    bars = []
    for n, d in enumerate(per_day):
        height = HEIGHT * d["searches"] / most if most else 0
        zero = HEIGHT * d["zero_results"] / most if most else 0
        name = (f"{format_date(d['day'])} : {d['searches']} recherche"
                f"{'s' if d['searches'] > 1 else ''}, dont {d['zero_results']} sans résultat")
        bars.append(DayBar(round(n * slot + gap / 2, 1), round(slot - gap, 1),
                           round(TOP + HEIGHT - height, 1), round(height, 1),
                           round(TOP + HEIGHT - zero, 1), round(zero, 1), name))
    days = [d["day"] for d in per_day]
    return DayChart(WIDTH, TOP + HEIGHT + BOTTOM, TOP + HEIGHT, bars, most,
                    format_date(days[0]) if days else "", format_date(days[-1]) if days else "")
