"""CDX clients, one small class per kind of archive: how to ask, page, parse and fetch.

- :class:`WaybackSource`: the Internet Archive's CDX server (``/cdx/search/cdx``): ``output=json``
  answers one JSON array of rows, a header row first; ``showResumeKey=true`` ends a page that has
  more with an empty row and ``[resumeKey]``; the next page repeats the query with ``resumeKey=``.
  Raw captures: ``/web/<timestamp>id_/<original>`` (``id_``: the bytes as archived, no rewriting).
- :class:`PywbSource`: any pywb collection (``<URL>/cdx``): ``output=json`` answers one JSON object a
  line. A collection indexed as ZipNum pages with ``showNumPages=true`` / ``page=N``; a plain CDXJ
  collection ignores ``showNumPages`` and answers every line at once. Raw: ``<URL>/<ts>id_/<original>``.
- :class:`CommonCrawlSource`: Common Crawl's index server (pywb, ZipNum: always paged),
  ``collinfo.json`` lists the crawls; each capture is a WARC record inside a WARC file of the data
  host, fetched with ``Range: bytes=offset-(offset+length-1)`` and kept verbatim.

Clients build URLs and parse bodies only; the spider sends the requests through Scrapy (politeness,
retries, ``Retry-After``), one page at a time, so a result set is never all in memory.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from archiver.harvest.captures import BadCdxLine, Capture, capture_from_cdx
from archiver.harvest.urlspaces import UrlSpace

WAYBACK_URL = "https://web.archive.org"
CC_INDEX_URL = "https://index.commoncrawl.org"
CC_DATA_URL = "https://data.commoncrawl.org"
#: ``CC-MAIN-2024-10``
CC_CRAWL = re.compile(r"^CC-MAIN-\d{4}-\d{2}$")
#: the fields asked of the Wayback Machine's CDX server, in its names
WAYBACK_FIELDS = "urlkey,timestamp,original,mimetype,statuscode,digest,length"
#: ``.../<timestamp>id_/<original>`` (what a raw-capture URL says)
RAW_URL = re.compile(r"/(\d{4,14})id_/(https?://.+)$", re.I)


class CdxError(ValueError):
    """A CDX answer that is not a page of results at all (retrying the query is the remedy)."""


@dataclass
class CdxPage:
    """One page of results: rows (dicts of the server's field names), the lines that could not be
    read (with the reason), and the cursor of the next page (None: the last page)."""

    captures: list[Capture] = field(default_factory=list)
    bad: list[str] = field(default_factory=list)
    next_cursor: str | None = None
    #: newest timestamp of every line of the page, kept or not (the next harvest starts after it)
    newest: str = ""


@dataclass(frozen=True)
class CdxIndex:
    """One index to query: ``name`` (a Common Crawl crawl id, else "") and its CDX endpoint."""

    name: str
    endpoint: str


def _range_params(since: str | None, until: str | None) -> dict[str, str]:
    params = {}
    if since:
        params["from"] = since
    if until:
        params["to"] = until
    return params


def _rows_to_page(rows: list[Any], archive: str, page: CdxPage) -> CdxPage:
    for number, row in enumerate(rows, 1):
        if not isinstance(row, dict):
            page.bad.append(f"bad CDX line {number}: not an object: {str(row)[:200]!r}")
            continue
        timestamp = str(row.get("timestamp", ""))
        page.newest = max(page.newest, timestamp) if timestamp.isdigit() else page.newest
        try:
            page.captures.append(capture_from_cdx(row, archive))
        except BadCdxLine as exc:
            page.bad.append(str(exc))
    return page


def _json_lines(body: bytes) -> tuple[list[Any], list[str]]:
    """The JSON values of a JSON Lines body, and the lines that were not JSON."""
    values, bad = [], []
    for number, line in enumerate(body.splitlines(), 1):
        if not line.strip():
            continue
        try:
            values.append(json.loads(line))
        except ValueError:
            bad.append(f"bad CDX line {number}: not JSON: {line[:200]!r}")
    return values, bad


class CdxSource:
    """What every kind of archive answers; subclasses fill the specifics."""

    #: the ``source.archive`` of the records (``wayback``, ``commoncrawl``, a pywb URL)
    archive = ""

    def hosts(self) -> list[str]:
        """Hosts the harvest fetches from (Scrapy ``allowed_domains``)."""
        raise NotImplementedError

    def indexes(self) -> list[CdxIndex]:
        """The indexes to query; empty when they must be read from ``collinfo_url`` first."""
        raise NotImplementedError

    def collinfo_url(self) -> str | None:
        return None

    def query_url(self, index: CdxIndex, space: UrlSpace, cursor: str, since: str | None,
                  until: str | None) -> str:
        raise NotImplementedError

    def parse_page(self, body: bytes, cursor: str) -> CdxPage:
        raise NotImplementedError

    def raw_url(self, capture: Capture) -> str:
        """Where the capture's bytes are fetched from."""
        raise NotImplementedError

    def raw_headers(self, capture: Capture) -> dict[str, str]:
        return {}

    def raw_prefix(self) -> str:
        """What every raw-capture URL of this archive starts with (archived redirects stay in it)."""
        raise NotImplementedError

    def raw_url_for(self, timestamp: str, original: str) -> str:
        raise NotImplementedError


class WaybackSource(CdxSource):
    """The Internet Archive's Wayback Machine (or a server answering its CDX API)."""

    archive = "wayback"

    def __init__(self, base: str = WAYBACK_URL, page_size: int = 5000) -> None:
        self.base = base.rstrip("/")
        self.page_size = page_size

    def hosts(self) -> list[str]:
        return [urlsplit(self.base).hostname or ""]

    def indexes(self) -> list[CdxIndex]:
        return [CdxIndex("", self.base + "/cdx/search/cdx")]

    def query_url(self, index: CdxIndex, space: UrlSpace, cursor: str, since: str | None,
                  until: str | None) -> str:
        params: list[tuple[str, str]] = [
            ("url", space.url), ("matchType", "prefix"), ("output", "json"), ("fl", WAYBACK_FIELDS),
            # the IA's filters are regular expressions; 2xx and 3xx (redirects are followed)
            ("filter", "statuscode:[23].."), ("collapse", "digest"),
            ("showResumeKey", "true"), ("limit", str(self.page_size)),
            *_range_params(since, until).items(),
        ]
        if cursor:
            params.append(("resumeKey", cursor))
        return f"{index.endpoint}?{urlencode(params)}"

    def parse_page(self, body: bytes, cursor: str) -> CdxPage:
        try:
            data = json.loads(body) if body.strip() else []
        except ValueError as exc:
            raise CdxError(f"CDX answer is not JSON: {exc}") from None
        if not isinstance(data, list):
            raise CdxError("CDX answer is not a JSON array")
        page = CdxPage()
        if not data:
            return page
        header, rows = data[0], data[1:]
        if not isinstance(header, list) or not all(isinstance(name, str) for name in header):
            raise CdxError(f"CDX answer has no header row: {str(header)[:200]!r}")
        objects: list[Any] = []
        for position, row in enumerate(rows):
            if row == []:  # the resume key follows the empty row
                rest = rows[position + 1:]
                if rest and isinstance(rest[0], list) and rest[0] and isinstance(rest[0][0], str):
                    page.next_cursor = rest[0][0]
                break
            if not isinstance(row, list) or len(row) != len(header):
                page.bad.append(f"bad CDX line: {len(row) if isinstance(row, list) else 0} fields "
                                f"for {len(header)}: {str(row)[:200]!r}")
                continue
            objects.append(dict(zip(header, row, strict=True)))
        return _rows_to_page(objects, self.archive, page)

    def raw_prefix(self) -> str:
        return self.base + "/web/"

    def raw_url_for(self, timestamp: str, original: str) -> str:
        return f"{self.base}/web/{timestamp}id_/{original}"

    def raw_url(self, capture: Capture) -> str:
        return self.raw_url_for(capture.timestamp, capture.original)


class PagedCdxSource(CdxSource):
    """pywb's CDX API (pywb collections, Common Crawl): JSON Lines, paged with ``showNumPages``.

    Cursors: ``""`` (first request: how many pages?), ``page:N/M`` (page N of M).
    """

    #: filters in pywb's syntax (``~``: regular expression, ``=``: exact)
    filters: tuple[str, ...] = ("~status:[23]..",)

    def query_url(self, index: CdxIndex, space: UrlSpace, cursor: str, since: str | None,
                  until: str | None) -> str:
        params: list[tuple[str, str]] = [
            ("url", space.url), ("matchType", "prefix"), ("output", "json"),
            *(("filter", value) for value in self.filters), *_range_params(since, until).items(),
        ]
        if cursor:
            params.append(("page", cursor.removeprefix("page:").split("/")[0]))
        else:
            params.append(("showNumPages", "true"))
        return f"{index.endpoint}?{urlencode(params)}"

    def parse_page(self, body: bytes, cursor: str) -> CdxPage:
        values, bad = _json_lines(body)
        if not cursor and len(values) == 1 and isinstance(values[0], dict) and "pages" in values[0] \
                and "urlkey" not in values[0]:
            pages = values[0].get("pages")
            if not isinstance(pages, int) or pages < 0:
                raise CdxError(f"CDX page count is not a number: {values[0]!r}")
            return CdxPage(next_cursor=f"page:0/{pages}" if pages else None)
        page = _rows_to_page(values, self.archive, CdxPage(bad=bad))
        if cursor:  # a paged index: the next page, unless that was the last one
            number, _, total = cursor.removeprefix("page:").partition("/")
            if int(number) + 1 < int(total):
                page.next_cursor = f"page:{int(number) + 1}/{total}"
        return page


class PywbSource(PagedCdxSource):
    """A pywb collection at ``url`` (``http://host/coll``): the End of Term archive, a library's
    archive, a local pywb."""

    def __init__(self, url: str) -> None:
        self.base = url.rstrip("/")
        self.archive = self.base

    def hosts(self) -> list[str]:
        return [urlsplit(self.base).hostname or ""]

    def indexes(self) -> list[CdxIndex]:
        return [CdxIndex("", self.base + "/cdx")]

    def raw_prefix(self) -> str:
        return self.base + "/"

    def raw_url_for(self, timestamp: str, original: str) -> str:
        return f"{self.base}/{timestamp}id_/{original}"

    def raw_url(self, capture: Capture) -> str:
        return self.raw_url_for(capture.timestamp, capture.original)


class CommonCrawlSource(PagedCdxSource):
    """Common Crawl: one crawl (``commoncrawl:CC-MAIN-2024-10``) or every crawl ``collinfo.json``
    lists whose dates meet ``--from``/``--to``. Only 200s: a Common Crawl redirect record's target
    is another lookup in another crawl (docs/harvest.md)."""

    archive = "commoncrawl"
    filters = ("=status:200", "~mime:text/html|application/xhtml")

    def __init__(self, crawl: str | None = None, index_url: str = CC_INDEX_URL,
                 data_url: str = CC_DATA_URL) -> None:
        if crawl is not None and not CC_CRAWL.match(crawl):
            raise ValueError(f"not a Common Crawl crawl id (CC-MAIN-YYYY-WW): {crawl!r}")
        self.crawl = crawl
        self.index_url = index_url.rstrip("/")
        self.data_url = data_url.rstrip("/")

    def hosts(self) -> list[str]:
        return [urlsplit(self.index_url).hostname or "", urlsplit(self.data_url).hostname or ""]

    def indexes(self) -> list[CdxIndex]:
        if self.crawl is None:
            return []
        return [CdxIndex(self.crawl, f"{self.index_url}/{self.crawl}-index")]

    def collinfo_url(self) -> str | None:
        return None if self.crawl else self.index_url + "/collinfo.json"

    def indexes_from_collinfo(self, body: bytes, since: str | None, until: str | None) -> list[CdxIndex]:
        """The crawls of ``collinfo.json`` whose time span meets ``since``..``until`` (CDX
        timestamps), oldest first."""
        try:
            crawls = json.loads(body)
        except ValueError as exc:
            raise CdxError(f"collinfo.json is not JSON: {exc}") from None
        if not isinstance(crawls, list):
            raise CdxError("collinfo.json is not a JSON array")
        found = []
        for crawl in crawls:
            if not isinstance(crawl, dict) or not CC_CRAWL.match(str(crawl.get("id", ""))):
                continue
            start = re.sub(r"\D", "", str(crawl.get("from", "")))[:14]
            end = re.sub(r"\D", "", str(crawl.get("to", "")))[:14]
            too_new = bool(until and start and start[:len(until)] > until)
            if too_new or (since and end and end[:len(since)] < since):
                continue
            endpoint = str(crawl.get("cdx-api") or f"{self.index_url}/{crawl['id']}-index")
            if urlsplit(endpoint).hostname != urlsplit(self.index_url).hostname:
                endpoint = f"{self.index_url}/{crawl['id']}-index"  # never another host than asked
            found.append(CdxIndex(str(crawl["id"]), endpoint))
        return sorted(found, key=lambda index: index.name)

    def raw_prefix(self) -> str:
        return self.data_url + "/"

    def raw_url(self, capture: Capture) -> str:
        return f"{self.data_url}/{capture.filename}"

    def raw_headers(self, capture: Capture) -> dict[str, str]:
        assert capture.offset is not None
        assert capture.length is not None
        return {"Range": f"bytes={capture.offset}-{capture.offset + capture.length - 1}"}


def source_for(archive: str, settings: Any) -> CdxSource:
    """The client of ``--archive`` (``wayback``, ``commoncrawl[:CC-MAIN-YYYY-WW]``, a pywb URL);
    ValueError for anything else. Base URLs come from the ``ARCHIVER_HARVEST_*_URL`` settings."""
    page_size = settings.getint("ARCHIVER_HARVEST_CDX_PAGE_SIZE")
    if archive == "wayback":
        return WaybackSource(settings.get("ARCHIVER_HARVEST_WAYBACK_URL") or WAYBACK_URL, page_size)
    if archive == "commoncrawl" or archive.startswith("commoncrawl:"):
        crawl = archive.partition(":")[2] or None
        return CommonCrawlSource(crawl, settings.get("ARCHIVER_HARVEST_CC_INDEX_URL") or CC_INDEX_URL,
                                 settings.get("ARCHIVER_HARVEST_CC_DATA_URL") or CC_DATA_URL)
    parts = urlsplit(archive)
    if parts.scheme in ("http", "https") and parts.hostname and not parts.query and not parts.fragment:
        return PywbSource(archive)
    raise ValueError(f"not an archive: {archive!r} (wayback, commoncrawl[:CC-MAIN-YYYY-WW] or the "
                     "URL of a pywb collection)")


def raw_capture_of(url: str) -> tuple[str, str] | None:
    """``(timestamp, original)`` of a raw-capture URL (``.../<ts>id_/<original>``), else None."""
    match = RAW_URL.search(url)
    return (match.group(1), match.group(2)) if match else None
