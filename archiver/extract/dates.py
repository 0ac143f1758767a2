"""The one date parser: dates as defense.gov prints them in every era, as ISO 8601 or ``date``.

Formats (each seen in a real saved page or printed by the replica, ``tests/test_dates.py``):
ISO 8601 and W3C datetime (``2016-12-15``, ``2025-10-09T07:39:18.7398887-04:00``; sitemap
``lastmod``, ``time[datetime]``, ``data-dateago``), AP style (``Dec. 15, 2016``, ``Sept. 30, 2025``,
``December 01, 2006``, ``Nov. 8 2020``, ``July 19th, 2001``, ``Dec 15, 2016``; ``data-dateap``),
day first (``15 December 2016``; the RSS ``pubDate`` of RFC 822, ``Thu, 15 Dec 2016 09:00:00 GMT``),
``13-Jan-2006`` (DefenseLink ``PUB_DATE``) and US numeric (``12/15/2016``).

Pure Python: extraction imports it, and extraction must not import Scrapy or the pipelines.
"""

from __future__ import annotations

import re
from datetime import date

_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
    "oct": 10, "nov": 11, "dec": 12,
}
#: ``2016-12-15`` or ``2016-12-15T14:32[:05[.123]][Z|-05:00]``
_ISO_RE = re.compile(
    r"\b(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})?)?\b")
#: ``Dec. 15, 2016``, ``Sept. 30, 2025``, ``September 30 2025``, ``Sep 30, 2025``
_MONTH = (r"(Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
          r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)")
_AP_RE = re.compile(rf"\b{_MONTH}\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b", re.I)
#: ``15 December 2016``, ``Thu, 15 Dec 2016 09:00:00 GMT``
_DMY_RE = re.compile(rf"\b(\d{{1,2}})\s+{_MONTH}\.?,?\s+(\d{{4}})\b", re.I)
#: ``13-Jan-2006``
_DMON_RE = re.compile(rf"\b(\d{{1,2}})-{_MONTH}-(\d{{4}})\b", re.I)
#: ``12/15/2016`` (US order)
_US_RE = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b")


def iso_date(text: str | None) -> str | None:
    """The first date in ``text`` as ISO 8601 (a datetime when ``text`` gives a time), else ``None``."""
    if not text:
        return None
    for finder in (_iso, _ap, _dmy, _dmon, _us):
        found = finder(text)
        if found:
            return found
    return None


def parse_date(text: str | None) -> date | None:
    """The first date in ``text`` (the day :func:`iso_date` finds), or None; never raises."""
    found = iso_date(text)
    return date.fromisoformat(found[:10]) if found else None


def in_range(when: date | None, since: date | None, until: date | None) -> bool:
    """Whether ``when`` is within ``since``..``until`` (a bound or a date that is ``None`` passes)."""
    return not ((until and when and when > until) or (since and when and when < since))


def _valid(year: int, month: int, day: int) -> str | None:
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def _iso(text: str) -> str | None:
    match = _ISO_RE.search(text)
    if not match:
        return None
    year, month, day, hour, minute, second, zone = match.groups()
    day_part = _valid(int(year), int(month), int(day))
    if day_part is None or hour is None:
        return day_part
    if int(hour) > 23 or int(minute) > 59 or (second and int(second) > 59):
        return day_part
    clock = f"{hour}:{minute}:{second or '00'}"
    if zone and zone != "Z" and ":" not in zone:
        zone = f"{zone[:3]}:{zone[3:]}"
    return f"{day_part}T{clock}{zone or ''}"


def _ap(text: str) -> str | None:
    for match in _AP_RE.finditer(text):
        month, day, year = match.groups()
        found = _valid(int(year), _MONTHS[month[:3].lower()], int(day))
        if found:
            return found
    return None


def _day_first(pattern: re.Pattern[str], text: str) -> str | None:
    for match in pattern.finditer(text):
        day, month, year = match.groups()
        found = _valid(int(year), _MONTHS[month[:3].lower()], int(day))
        if found:
            return found
    return None


def _dmy(text: str) -> str | None:
    return _day_first(_DMY_RE, text)


def _dmon(text: str) -> str | None:
    return _day_first(_DMON_RE, text)


def _us(text: str) -> str | None:
    for match in _US_RE.finditer(text):
        month, day, year = match.groups()
        found = _valid(int(year), int(month), int(day))
        if found:
            return found
    return None
