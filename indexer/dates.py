"""Publication dates as news sites write them, turned into timezone-aware datetimes.

Reads ISO 8601 (`2024-01-07`, `2024-01-07T10:15:00+01:00`, `...Z`), RFC 822 as in RSS
(`Sun, 07 Jan 2024 10:15:00 +0100`), French (`7 janvier 2024`, `lundi 1er janvier 2024 à
14h30`, `07/01/2024`), and what python-dateutil understands (`January 7, 2024`). A date
without a timezone is taken in the site's timezone (`FURET_TIMEZONE`, Europe/Paris).
"""

from __future__ import annotations

import os
import re
from datetime import UTC, date, datetime, time, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# (email.utils and dateutil's parser, for the dates ISO 8601 does not read, are imported
# when one comes: together about 15 ms of every indexer run, most of whose dates are ISO,
# or which have none)

__all__ = ["parse_date", "site_timezone"]

_MONTHS = {
    "janvier": 1, "janv": 1, "jan": 1,
    "fevrier": 2, "février": 2, "fevr": 2, "févr": 2, "fev": 2, "fév": 2,
    "mars": 3, "mar": 3,
    "avril": 4, "avr": 4,
    "mai": 5,
    "juin": 6,
    "juillet": 7, "juil": 7,
    "aout": 8, "août": 8,
    "septembre": 9, "sept": 9, "sep": 9,
    "octobre": 10, "oct": 10,
    "novembre": 11, "nov": 11,
    "decembre": 12, "décembre": 12, "dec": 12, "déc": 12,
}  # fmt: skip
_FRENCH = re.compile(
    r"(?P<day>\d{1,2})(?:er)?\s+(?P<month>[a-zéûè]+)\.?\s+(?P<year>\d{4})"
    r"(?:\D{0,8}?(?P<hour>\d{1,2})\s*(?:h|:)\s*(?P<minute>\d{2})?)?",
    re.IGNORECASE,
)
_NUMERIC = re.compile(
    r"^(?P<day>\d{1,2})[/.](?P<month>\d{1,2})[/.](?P<year>\d{4})"
    r"(?:\D{1,8}?(?P<hour>\d{1,2})\s*(?:h|:)\s*(?P<minute>\d{2})?)?"
)
_MIN_YEAR, _MAX_YEAR = 1700, 2200


def site_timezone() -> tzinfo:
    """The timezone of dates written without one (FURET_TIMEZONE, default Europe/Paris)."""
    name = os.environ.get("FURET_TIMEZONE", "Europe/Paris")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def parse_date(value: object) -> datetime:
    """Return `value` as an aware datetime, or raise ValueError saying what was wrong."""
    if isinstance(value, bool):
        raise ValueError(f"expected a date, got {value!r}")
    if isinstance(value, datetime):
        result = value
    elif isinstance(value, date):
        result = datetime.combine(value, time())
    elif isinstance(value, int | float):
        try:
            result = datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            raise ValueError(f"timestamp {value!r} is out of range") from None
    elif isinstance(value, str):
        result = _parse_text(value.strip())
    else:
        raise ValueError(f"expected a date, got {type(value).__name__}")
    if result.tzinfo is None or result.utcoffset() is None:
        result = result.replace(tzinfo=site_timezone())
    if not _MIN_YEAR <= result.year <= _MAX_YEAR:
        raise ValueError(f"date {value!r} is out of range")
    return result


def _parse_text(text: str) -> datetime:
    if not text:
        raise ValueError("empty date")
    if len(text) > 100:
        raise ValueError(f"unreadable date {text[:40]!r}…")
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        pass
    if re.match(r"^[A-Za-z]{3},? ", text) or re.search(r"[+-]\d{4}$|\bGMT$|\bUT$", text):
        from email.utils import parsedate_to_datetime

        try:
            return parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            pass
    for pattern, month_of in ((_FRENCH, _MONTHS.get), (_NUMERIC, int)):
        match = pattern.search(text)
        if match:
            month = month_of(match["month"].lower().rstrip("."))
            if month:
                try:
                    return datetime(
                        int(match["year"]),
                        month,
                        int(match["day"]),
                        int(match["hour"] or 0),
                        int(match["minute"] or 0),
                    )
                except ValueError:
                    raise ValueError(f"no such date {text!r}") from None
    from dateutil import parser as dateutil_parser

    try:
        return dateutil_parser.parse(text, dayfirst=True)
    except (ValueError, OverflowError, TypeError):
        raise ValueError(f"unreadable date {text!r}") from None
