"""``archiver harvest``: defense.gov's history from a web archive (docs/harvest.md).

Arguments (``-a name=value``): ``archive`` (``wayback``, ``commoncrawl[:CC-MAIN-YYYY-WW]``, or a pywb
collection URL), ``capture_from`` / ``capture_to`` (capture time, ``YYYY[MM[DD]]``), ``sections``
(comma list, default all). Which captures of an article: setting ``ARCHIVER_HARVEST_CAPTURES``
(``latest``, ``earliest``, ``all``).

Two phases, both through Scrapy's downloader (politeness, retries, ``Retry-After``, the WARC):
the CDX queries of every URL space are paged through and their captures stored in the crawl state;
then the chosen captures are streamed from there, fetched, archived under their original URL and
time (:mod:`archiver.harvest.middleware`) and cleaned by the same extraction and pipelines as a
live crawl, each record carrying its ``source``.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import deque
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, Self

from scrapy import Request, signals
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.settings import BaseSettings
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

from archiver.addon import CHANGES_FILE, FAILURES_FILE
from archiver.downloadermiddlewares.incomplete import META_EMPTY_OK
from archiver.downloadermiddlewares.refusals import NotAsked
from archiver.extensions.report import fail
from archiver.harvest.captures import Capture, article_key, is_page_capture, timestamp_datetime
from archiver.harvest.middleware import META_CAPTURE, META_SOURCE, UNREACHABLE_STAT
from archiver.harvest.sources import CdxError, CdxIndex, CdxPage, CdxSource, CommonCrawlSource, source_for
from archiver.harvest.state import MODES, HarvestState
from archiver.harvest.urlspaces import UrlSpace, is_article_url, url_spaces
from archiver.items import ArticleItem
from archiver.runtime.state import crawl_state
from archiver.site import parse_sections
from archiver.warc.middleware import DiskFullError
from spiders.base import ArchiverSpider

META_QUERY = "harvest_query"
META_CURSOR = "harvest_cursor"
#: a CDX answer "no captures" (Common Crawl answers 404 for it)
_NO_CAPTURES = re.compile(rb"no captures found", re.I)


def _timestamp_arg(name: str, value: str | None) -> str | None:
    if value in (None, ""):
        return None
    text = str(value).strip()
    try:
        if len(text) not in (4, 6, 8):
            raise ValueError
        timestamp_datetime(text)
    except ValueError:
        raise ValueError(f"{name}: not a capture time (YYYY, YYYYMM or YYYYMMDD): {value!r}") from None
    return text


def capture_name(source: CdxSource, data: dict[str, Any]) -> str:
    """The URL a capture is known by in failures.jsonl: the raw-capture URL, plus the byte range for
    a record inside a WARC file (many captures share one file)."""
    capture = _capture(data)
    url = source.raw_url(capture)
    if capture.offset is not None and isinstance(source, CommonCrawlSource):
        return f"{url}#offset={capture.offset}&length={capture.length}"
    return url


def _capture(data: dict[str, Any]) -> Capture:
    fields = {name: data.get(name) for name in Capture.__dataclass_fields__}
    return Capture(**fields)  # type: ignore[arg-type]


class HarvestSpider(ArchiverSpider):
    """Harvests the news captures of a web archive (module docstring)."""

    name = "harvest"
    #: a capture's requisites would be the archive's captures, not the live site's: not asked
    archive_requisites = False
    source: CdxSource
    harvest: HarvestState
    mode = "latest"

    def __init__(self, archive: str = "wayback", capture_from: str | None = None,
                 capture_to: str | None = None, sections: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.archive = archive
        self.capture_from = _timestamp_arg("capture_from", capture_from)
        self.capture_to = _timestamp_arg("capture_to", capture_to)
        if self.capture_from and self.capture_to and self.capture_from > self.capture_to:
            raise ValueError(f"capture_from ({self.capture_from}) is after capture_to ({self.capture_to})")
        self.sections = parse_sections(sections) if sections else None
        self._listing = 0
        self._listed: Deferred[None] = Deferred()
        #: ``--captures all``: article key -> its later versions, waiting for the one being fetched
        self._versions: dict[str, deque[Request]] = {}

    @classmethod
    def update_settings(cls, settings: BaseSettings) -> None:
        super().update_settings(settings)
        middlewares = dict(settings.getdict("DOWNLOADER_MIDDLEWARES"))
        middlewares["archiver.warc.middleware.WarcMiddleware"] = None
        middlewares["archiver.harvest.middleware.HarvestWarcMiddleware"] = 950
        # before the retry middleware (550): it sees every attempt; an archive that cannot be
        # reached stops the harvest instead of failing every query and capture one after the other
        middlewares["archiver.harvest.middleware.UnreachableArchiveMiddleware"] = 955
        settings.set("DOWNLOADER_MIDDLEWARES", middlewares, priority="spider")
        # few connections to an archive (a -s CONCURRENT_REQUESTS_PER_DOMAIN=... still wins)
        settings.set("CONCURRENT_REQUESTS_PER_DOMAIN", settings.getint("ARCHIVER_HARVEST_CONCURRENCY"),
                     priority="spider")
        # the politeness delay toward the archive (a -s DOWNLOAD_DELAY=... still wins); 0, a local
        # archive: no AutoThrottle either (it would still pace requests by the archive's latency)
        delay = settings.getfloat("ARCHIVER_HARVEST_DELAY")
        settings.set("DOWNLOAD_DELAY", delay, priority="spider")
        if delay <= 0:
            settings.set("AUTOTHROTTLE_ENABLED", False, priority="spider")
        if settings.get("ARCHIVER_HARVEST_CAPTURES") == "all":
            pipelines = dict(settings.getdict("ITEM_PIPELINES"))
            pipelines["pipelines.duplicates.DropDuplicatesPipeline"] = None
            pipelines["pipelines.resume.ResumeDedupePipeline"] = None
            pipelines["pipelines.versions.DistinctVersionsPipeline"] = 850
            settings.set("ITEM_PIPELINES", pipelines, priority="spider")

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.mode = settings.get("ARCHIVER_HARVEST_CAPTURES") or "latest"
        if spider.mode not in MODES:
            raise ValueError(f"ARCHIVER_HARVEST_CAPTURES must be one of {', '.join(MODES)}: {spider.mode!r}")
        spider.source = source_for(spider.archive, settings)
        spider.allowed_domains = spider.source.hosts()
        spider.site = spider.source.archive
        state = crawl_state(crawler)
        if state is None:
            raise ValueError("a harvest needs a crawl state: set ARCHIVER_OUT_DIR or ARCHIVER_STATE_PATH")
        spider.harvest = HarvestState(state)
        spider.resuming = settings.getbool("ARCHIVER_RESUME") and spider.harvest.unfinished_run()
        crawler.signals.connect(spider.harvest_closed, signal=signals.spider_closed)
        return spider

    # -- the run --------------------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[Any]:
        if self.resuming:
            self._reconcile()
        else:
            self.harvest.start_run(self.source.archive, self.mode)
        for index in self.source.indexes():
            self._add_queries(index)
        collinfo = self.source.collinfo_url()
        if collinfo and not self.harvest.open_queries() and not self.resuming:
            yield self._listing_request(Request(collinfo, callback=self.parse_collinfo,
                                                errback=self.on_listing_error, dont_filter=True))
        for query in self.harvest.open_queries():
            yield self._cdx_request(query["name"], query["cursor"])
        if self._listing:
            await maybe_deferred_to_future(self._listed)
        if self._stopped():  # the archive cannot be reached: nothing to choose from
            return
        chosen = self.harvest.choose(self.mode)
        self._stat_set("archiver/harvest/chosen", chosen)
        self.logger.info("harvest: %d capture(s) chosen to fetch (--captures %s)", chosen, self.mode)
        for rank, (capture_id, data) in enumerate(self.harvest.to_fetch(self.mode)):
            if self._stopped():
                return
            request = self._capture_request(capture_id, data, rank)
            if self.mode == "all":  # an article's versions one after the other, oldest first
                waiting = self._versions.get(key := article_key(data["original"]))
                if waiting is not None:
                    waiting.append(request)
                    continue
                self._versions[key] = deque()
            yield request
            while self.crawler.engine is not None and self.crawler.engine.needs_backout():
                await asyncio.sleep(0.05)  # stream: the scheduler holds only what can be sent soon

    def _add_queries(self, index: CdxIndex) -> None:
        for space in url_spaces(self.sections):
            self.harvest.add_query(self._query_name(index, space), index.endpoint, index.name, space.url,
                                   self.capture_from)

    def _query_name(self, index: CdxIndex, space: UrlSpace) -> str:
        return f"{self.source.archive}|{index.name}|{space.url}"

    def harvest_closed(self, reason: str) -> None:
        counts = self.harvest.counts()
        self._stat_set("archiver/harvest/listed", counts["listed"])
        if reason == "finished":
            self.harvest.finish_run()

    # -- listing: CDX pages ---------------------------------------------------------------------------

    def _listing_request(self, request: Request) -> Request:
        self._listing += 1
        return request

    def _listing_finished(self) -> None:
        self._listing -= 1
        if self._listing == 0 and not self._listed.called:
            self._listed.callback(None)

    def _cdx_request(self, name: str, cursor: str) -> Request:
        query = self.harvest.query(name)
        assert query is not None
        index = CdxIndex(query["index_name"], query["endpoint"])
        url = self.source.query_url(index, UrlSpace("", query["space"]), cursor, query["since"],
                                    self.capture_to)
        meta = {META_QUERY: name, META_CURSOR: cursor, "handle_httpstatus_list": [404], META_EMPTY_OK: True}
        return self._listing_request(Request(url, callback=self.parse_cdx, errback=self.on_listing_error,
                                             meta=meta, dont_filter=True, priority=10))

    def parse_collinfo(self, response: Response) -> Iterator[Request]:
        try:
            assert isinstance(self.source, CommonCrawlSource)
            indexes = self.source.indexes_from_collinfo(response.body, self.capture_from, self.capture_to)
        except CdxError as exc:
            fail(self.crawler, response.request or response.url, f"bad collinfo.json: {exc}")
            indexes = []
        for index in indexes:
            self._add_queries(index)
        for query in self.harvest.open_queries():
            yield self._cdx_request(query["name"], query["cursor"])
        self._listing_finished()

    def parse_cdx(self, response: Response) -> Iterator[Request]:
        name, cursor = response.meta[META_QUERY], response.meta[META_CURSOR]
        try:
            page = self._cdx_page(response, cursor)
        except CdxError as exc:  # the query stays open: --resume asks this page again
            fail(self.crawler, response.request or response.url, f"bad CDX answer: {exc}")
        else:
            for reason in page.bad:
                self._count("archiver/harvest/bad_cdx_lines")
                fail(self.crawler, response.url, reason)
            query = self.harvest.query(name)
            assert query is not None
            # checked here too: a pywb collection without ZipNum pages answers showNumPages=true with
            # every line, neither from= nor to= applied
            keep = [c for c in page.captures if self._wanted(c, query["since"])]
            added = self.harvest.page_listed(name, keep, query["index_name"], page.next_cursor, page.newest)
            self._count("archiver/harvest/cdx_pages")
            self._count("archiver/harvest/cdx_lines", len(page.captures))
            self._count("archiver/harvest/listed_new", added)
            if page.next_cursor:
                yield self._cdx_request(name, page.next_cursor)
        self._listing_finished()

    def _cdx_page(self, response: Response, cursor: str) -> CdxPage:
        if response.status == 404:
            if _NO_CAPTURES.search(response.body[:1000]):
                return CdxPage()
            raise CdxError("HTTP 404 from the CDX server")
        return self.source.parse_page(response.body, cursor)

    def _wanted(self, capture: Capture, since: str | None) -> bool:
        """A capture of an article page (200, or a redirect) in the asked time range (``since``: the
        query's start, after the last harvest's newest capture on a later harvest)."""
        if not is_page_capture(capture) or not is_article_url(capture.original):
            return False
        stamp = capture.timestamp
        if since and stamp[:len(since)] < since:
            return False
        return not (self.capture_to and stamp[:len(self.capture_to)] > self.capture_to)

    def on_listing_error(self, failure: Failure) -> None:
        if not isinstance(failure.value, DiskFullError):
            self.on_error(failure)
        self._listing_finished()

    # -- fetching captures ------------------------------------------------------------------------------

    def _capture_request(self, capture_id: int, data: dict[str, Any], rank: int) -> Request:
        capture = _capture(data)
        kind = "range" if isinstance(self.source, CommonCrawlSource) else "raw"
        meta = {META_CAPTURE: {**data, "id": capture_id, "kind": kind}}
        return Request(self.source.raw_url(capture), headers=self.source.raw_headers(capture),
                       callback=self.parse_capture, errback=self.on_capture_error, meta=meta,
                       dont_filter=True, priority=-rank)

    async def parse_capture(self, response: Response) -> AsyncIterator[Any]:
        data = response.meta[META_CAPTURE]
        source = response.meta.get(META_SOURCE)
        self._count("archiver/harvest/fetched")
        if response.status != 200 or source is None:
            fail(self.crawler, capture_name(self.source, data), f"HTTP {response.status}", response.status)
            for request in self._settle(data, "failed"):
                yield request
            return
        assert response.request is not None
        named = response.request.replace(url=capture_name(self.source, data))  # failures say which capture
        page = response.replace(url=source["original_url"], request=named)
        outcome, url, fetched_at = "skipped", "", ""
        assert self.crawler.stats is not None
        failures = self.crawler.stats.get_value("archiver/failures", 0)
        async for output in self._extract(page):
            if isinstance(output, ArticleItem):
                output.source = dict(source)
                outcome, url, fetched_at = "written", output.url, output.fetched_at
            yield output
        if outcome == "skipped" and self.crawler.stats.get_value("archiver/failures", 0) > failures:
            outcome = "failed"
        for request in self._settle(data, outcome, url, fetched_at):
            yield request

    def on_capture_error(self, failure: Failure) -> list[Request]:
        request = failure.request  # type: ignore[attr-defined]
        data = request.meta[META_CAPTURE]
        error = failure.value
        if isinstance(error, (DiskFullError, NotAsked)):  # not the capture's failure: left for --resume
            self._versions.pop(article_key(data["original"]), None)  # with its later versions
            return []
        status = None
        if isinstance(error, HttpError):
            status = error.response.status
            reason = "the archive has no such capture (HTTP 404)" if status == 404 else f"HTTP {status}"
        elif isinstance(error, IgnoreRequest) and str(error):
            reason = str(error)
        else:
            reason = f"{type(error).__name__}: {failure.getErrorMessage()}"
        fail(self.crawler, capture_name(self.source, data), reason, status)
        return self._settle(data, "failed")

    def _settle(self, data: dict[str, Any], outcome: str, url: str = "",
                fetched_at: str = "") -> list[Request]:
        """Record how a capture's fetch ended; with ``--captures all``, the article's next version
        to fetch (so that its versions reach the pipelines, and ``changes.jsonl``, in capture order)."""
        self.harvest.settle(data["id"], outcome, url, fetched_at)
        if self.mode != "all":
            return []
        key = article_key(data["original"])
        waiting = self._versions.get(key)
        if not waiting:
            self._versions.pop(key, None)
            return []
        return [waiting.popleft()]

    # -- resuming ---------------------------------------------------------------------------------------

    def _reconcile(self) -> None:
        """Captures whose outcome the interrupted run recorded but whose output line was lost, or
        whose failure was written but whose outcome was not, are set right before going on."""
        out = Path(self.crawler.settings.get("ARCHIVER_OUT_DIR") or ".")
        written: set[tuple[str, str]] = set()
        for record in _json_lines(out / CHANGES_FILE):
            written.add((str(record.get("url")), str(record.get("fetched_at"))))
        failed = {str(record.get("url")) for record in _json_lines(out / FAILURES_FILE)}
        lost = self.harvest.reopen_lost(written, failed, lambda data: capture_name(self.source, data))
        if lost:
            self.logger.warning("resuming: %d capture(s) whose outcome was lost are fetched again", lost)

    def _stopped(self) -> bool:
        """Whether the archive could not be reached (:class:`UnreachableArchiveMiddleware`)."""
        assert self.crawler.stats is not None
        return bool(self.crawler.stats.get_value(UNREACHABLE_STAT))

    def _count(self, key: str, value: int = 1) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(key, value)

    def _stat_set(self, key: str, value: int) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.set_value(key, value)


def _json_lines(path: Path) -> Iterator[dict[str, Any]]:
    if not path.exists():
        return
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                yield record
