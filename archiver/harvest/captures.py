"""A capture an archive lists (one CDX line), as plain data, and the article it is a version of.

CDX servers name their fields differently (the Wayback Machine: ``original``, ``mimetype``,
``statuscode``; pywb and Common Crawl: ``url``, ``mime``, ``status``); :func:`capture_from_cdx`
reads either. A line that cannot be a capture raises :class:`BadCdxLine` with the reason, which
the harvest writes to ``failures.jsonl`` before going on.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

#: a CDX timestamp: 4 to 14 digits (YYYY[MM[DD[hh[mm[ss]]]]])
TIMESTAMP = re.compile(r"^\d{4,14}$")
#: media types of pages (captures of other types are not articles)
HTML_TYPES = ("text/html", "application/xhtml+xml")
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})

#: URL forms that name one article of one id space, and the key kind each gives; every era's ids
#: are their own number spaces (ReleaseID 10242 and DNN article 10242 are different items)
_KEYED_FORMS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"/Article/(\d+)(?:[/?#]|$)", re.I), "article"),
    (re.compile(r"[?&]ReleaseID=(\d+)", re.I), "release"),
    (re.compile(r"[?&]TranscriptID=(\d+)", re.I), "transcript"),
    (re.compile(r"[?&]SpeechID=(\d+)", re.I), "speech"),
    (re.compile(r"[?&]ContractID=(\d+)", re.I), "contract"),
    (re.compile(r"[?&]AdvisoryID=(\d+)", re.I), "advisory"),
    (re.compile(r"/newsarticle\.aspx\?(?:[^#]*&)?ID=(\d+)", re.I), "news"),
)


class BadCdxLine(ValueError):
    """A CDX line that is not a usable capture (the message says why)."""


@dataclass(frozen=True)
class Capture:
    """One capture an archive holds: what its CDX line says, plus the article it belongs to."""

    archive: str
    original: str
    timestamp: str
    status: int
    mime: str
    digest: str
    length: int | None = None
    offset: int | None = None
    filename: str | None = None

    @property
    def key(self) -> str:
        return article_key(self.original)

    @property
    def captured_at(self) -> str:
        """The capture time, ISO 8601 UTC (the WARC-Date of its record)."""
        return iso_of_timestamp(self.timestamp)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def iso_of_timestamp(timestamp: str) -> str:
    """``20090302101112`` → ``2009-03-02T10:11:12Z`` (a short timestamp is padded with its start)."""
    return timestamp_datetime(timestamp).strftime("%Y-%m-%dT%H:%M:%SZ")


def timestamp_datetime(timestamp: str) -> datetime:
    """A CDX timestamp as an aware UTC datetime; raises ValueError for one that is not a time."""
    if not TIMESTAMP.match(timestamp):
        raise ValueError(f"not a CDX timestamp: {timestamp!r}")
    padded = timestamp + "0101000000"[len(timestamp) - 4:] if len(timestamp) < 14 else timestamp
    return datetime.strptime(padded, "%Y%m%d%H%M%S").replace(tzinfo=UTC)


def timestamp_of_datetime(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%d%H%M%S")


def article_key(url: str) -> str:
    """What makes two archived URLs the same article: the id of its era's id space
    (``release:10242``, ``article:605989``), else the path and query without host, scheme, case
    or trailing slash (a 1990s static page: ``page:/news/jun1998/b06011998_bt278-98.html``)."""
    for pattern, kind in _KEYED_FORMS:
        match = pattern.search(url)
        if match:
            return f"{kind}:{int(match.group(1))}"
    parts = urlsplit(url)
    path = parts.path.rstrip("/").lower() or "/"
    return "page:" + path + (f"?{parts.query.lower()}" if parts.query else "")


def _field(row: dict[str, Any], *names: str) -> str:
    for name in names:
        value = row.get(name)
        if value not in (None, ""):
            return str(value)
    return ""


def _int_or_none(value: str) -> int | None:
    return int(value) if value.isdigit() else None


def capture_from_cdx(row: dict[str, Any], archive: str) -> Capture:
    """A :class:`Capture` from one CDX result (fields of either naming); :class:`BadCdxLine` when
    the line lacks a URL or a valid timestamp or status."""
    original = _field(row, "original", "url")
    timestamp = _field(row, "timestamp")
    status = _field(row, "statuscode", "status")
    parts = urlsplit(original)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadCdxLine(f"bad CDX line: not an http(s) URL: {original!r}")
    try:
        timestamp_datetime(timestamp)
    except ValueError:
        raise BadCdxLine(f"bad CDX line: not a timestamp: {timestamp!r} ({original})") from None
    if not status.isdigit():
        raise BadCdxLine(f"bad CDX line: not a status code: {status!r} ({original} {timestamp})")
    return Capture(
        archive=archive,
        original=original,
        timestamp=timestamp_of_datetime(timestamp_datetime(timestamp)),
        status=int(status),
        mime=_field(row, "mimetype", "mime").lower(),
        digest=_field(row, "digest"),
        length=_int_or_none(_field(row, "length")),
        offset=_int_or_none(_field(row, "offset")),
        filename=_field(row, "filename") or None,
    )


def is_page_capture(capture: Capture) -> bool:
    """An HTML page answered 200, or an archived redirect (followed to its target when fetched;
    archives label a redirect's type in many ways, ``unk`` or ``warc/revisit`` among them)."""
    if capture.status in REDIRECT_STATUSES:
        return True
    return capture.status == 200 and capture.mime.startswith(HTML_TYPES)
