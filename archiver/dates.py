"""Dates as defense.gov prints them: ISO 8601, AP style (``Sept. 30, 2025``), RFC 2822 (RSS)."""

from __future__ import annotations

import re
from datetime import date, datetime
from email.utils import parsedate_to_datetime

_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
    "oct": 10, "nov": 11, "dec": 12,
}
_AP = re.compile(r"\b([A-Z][a-z]{2,8})\.?\s+(\d{1,2}),?\s+(\d{4})\b")
_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?")


def parse_date(text: str | None) -> date | None:
    """The first date found in ``text`` (ISO, AP style or RFC 2822), or None; never raises."""
    return _parse(text, want_datetime=False)


def in_range(when: date | None, since: date | None, until: date | None) -> bool:
    """Whether ``when`` is within ``since``..``until`` (a bound or a date that is ``None`` passes)."""
    return not ((until and when and when > until) or (since and when and when < since))


def parse_datetime(text: str | None) -> datetime | None:
    """Like ``parse_date`` but keeps a time of day when the text gives one (naive if no zone)."""
    return _parse(text, want_datetime=True)  # type: ignore[return-value]


def _parse(text: str | None, want_datetime: bool) -> date | datetime | None:
    if not text:
        return None
    text = " ".join(text.split())
    iso = _ISO.search(text)
    if iso:
        try:
            if want_datetime and iso.group(4):
                return datetime.fromisoformat(text[iso.start():].split()[0].replace("Z", "+00:00"))
            return date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
        except ValueError:
            pass
    ap = _AP.search(text)
    if ap:
        month = _MONTHS.get(ap.group(1)[:3].lower())
        if month:
            try:
                return date(int(ap.group(3)), month, int(ap.group(2)))
            except ValueError:
                return None
    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if want_datetime else parsed.date()
