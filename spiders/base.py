"""What every archiver spider shares: arguments, article handling, failures.

Spiders only discover URLs; an article response becomes an ``ArticleItem`` through the
framework-free extractor, and the item pipelines clean it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self, TypeVar
from urllib.parse import urlsplit

import scrapy
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from archiver.downloadermiddlewares.refusals import NotAsked, RefusedRequest
from archiver.extensions.report import fail
from archiver.extensions.shutdown import ShutdownCancelled
from archiver.extract.dates import in_range, parse_date
from archiver.extract.listing import ListingPage, read_listing
from archiver.requisites.middleware import META_PAGE_REQUISITES, RequisitesMiddleware
from archiver.runtime.diskfull import is_disk_full, stop_for_full_disk
from archiver.runtime.gone import GONE_STATUSES, META_GONE, gone_record, last_record
from archiver.runtime.state import CrawlState, crawl_state
from archiver.site import DEFAULT_SITE, normalise_site, url_problem, without_credentials
from archiver.warc.middleware import META_REVISIT, DiskFullError
from pipelines.base import image_sources

if TYPE_CHECKING:
    from archiver.runtime.extractpool import ExtractionPool

logger = logging.getLogger(__name__)

META_ARTICLE = "archiver_article"  # request.meta flag: this URL is expected to be an article
META_KNOWN = "archiver_known"  # request.meta flag: the crawl state knew this URL (incremental)
#: pages (listings, feeds, sitemaps) whose remaining links a stopping crawl left unread
STAT_LINKS_LEFT = "archiver/shutdown/pages_left_unread"

T = TypeVar("T")


def _date_arg(name: str, value: str | None) -> date | None:
    if value in (None, ""):
        return None
    parsed = parse_date(value)
    if parsed is None or parsed.isoformat() != str(value).strip()[:10]:
        raise ValueError(f"{name}: not a date (YYYY-MM-DD): {value!r}")
    return parsed


def _bool_arg(value: Any) -> bool:
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


class ArchiverSpider(scrapy.Spider):
    """Base of the archiver's spiders. Arguments (``-a name=value``): ``site``, ``since``,
    ``until`` (YYYY-MM-DD), ``images`` (1: also archive full-size photos)."""

    allowed_domains: list[str]
    #: the pages' requisites are archived too (archiver/requisites/; ARCHIVER_REQUISITES)
    archive_requisites = True

    def __init__(self, site: str | None = None, since: str | None = None, until: str | None = None,
                 images: str | bool | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._asked: set[str] = set()
        self._wants_requisites: bool | None = None  # known once the engine exists
        self.site = normalise_site(site) if site else ""
        self.since = _date_arg("since", since)
        self.until = _date_arg("until", until)
        if self.since and self.until and self.since > self.until:
            raise ValueError(f"since ({self.since}) is after until ({self.until})")
        self.images = _bool_arg(images) if images is not None else None

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.site = spider.site or normalise_site(settings.get("ARCHIVER_SITE") or DEFAULT_SITE)
        if spider.images is None:
            spider.images = settings.getbool("ARCHIVER_IMAGES")
        host = urlsplit(spider.site).hostname or ""
        spider.allowed_domains = [host, *settings.getlist("ARCHIVER_SITE_HOSTS")]  # OffsiteMiddleware
        state = crawl_state(crawler)
        if state is not None:
            spider.frontier = state
            spider.resuming = settings.getbool("ARCHIVER_RESUME") and spider.frontier.frontier_size() > 0
            if not spider.resuming:
                spider.frontier.clear_frontier()
        from archiver.runtime.extractpool import ExtractionPool

        spider.extraction = ExtractionPool.from_crawler(crawler)  # another core (docs/performance.md)
        return spider

    # -- the frontier: every article requested once per run, and --resume loses none -----------------

    frontier: CrawlState | None = None
    resuming: bool = False
    extraction: ExtractionPool | None = None  # None: extract on the reactor thread

    def new_article_request(self, url: str, **kwargs: Any) -> scrapy.Request | None:
        """A request for ``url`` unless this run has asked for it already (also before a crash).

        A discovered link that is not an http(s) URL is refused (logged, ``archiver/links/refused``);
        credentials in it are dropped (``archiver/links/credentials_removed``). See docs/reliability.md.
        """
        problem = url_problem(url)
        if problem is not None:
            self.logger.warning("refused link: %s", problem)
            self._count("archiver/links/refused")
            return None
        if without_credentials(url) != url:
            url = without_credentials(url)
            self.logger.warning("dropped the credentials of a link to %s", url)
            self._count("archiver/links/credentials_removed")
        if self.frontier is not None:
            if not self.frontier.discover(url, "article"):
                return None
        elif url in self._asked:
            return None
        else:
            self._asked.add(url)
        return self.article_request(url, **kwargs)

    def stopping(self) -> bool:
        """True once the crawl is closing: a stop signal, a bot wall, a full disk."""
        engine = self.crawler.engine
        if engine is None or not engine.running:
            return True
        slot = getattr(engine, "_slot", None)  # Scrapy has no public flag for a closing spider
        return getattr(slot, "closing", None) is not None

    def read_on(self, links: Iterable[T], page: str) -> Iterator[T]:
        """``links`` of a listing, feed or sitemap until the crawl is stopping.

        The engine closes only once a callback's output is used up: the 20,000 links of one
        listing page, each scheduled, kept a stopped crawl going for seconds (a minute for
        100,000). What is left unread is read again by ``--resume``, which reads the listings,
        feeds and sitemaps again. A worker of a distributed crawl reads on: its links go to the
        shared queue, which the other workers still crawl.
        """
        distributed = bool(self.crawler.settings.get("ARCHIVER_REDIS_URL"))
        for link in links:
            if not distributed and self.stopping():
                self.logger.info("the crawl is stopping: the other links of %s are left for --resume", page)
                self._count(STAT_LINKS_LEFT)
                return
            yield link

    def resumed_requests(self) -> Iterator[scrapy.Request]:
        """With ``--resume``: the articles an interrupted run asked for and never finished."""
        if not self.resuming or self.frontier is None:
            return
        pending = self.frontier.pending()
        self.logger.info("resuming: %d article(s) of the interrupted run asked again",
                         len(pending))
        for url, _kind, _data in pending:
            yield self.article_request(url, dont_filter=True)

    def finish(self, meta: dict[str, Any], url: str) -> None:
        if self.frontier is not None:
            self.frontier.finish(meta.get("redirect_urls", [url])[0])

    # -- dates --------------------------------------------------------------------------------------

    def too_new(self, when: date | None) -> bool:
        return not in_range(when, None, self.until)

    def too_old(self, when: date | None) -> bool:
        return not in_range(when, self.since, None)

    # -- articles -----------------------------------------------------------------------------------

    def article_request(self, url: str, **kwargs: Any) -> scrapy.Request:
        meta = {META_ARTICLE: True, **kwargs.pop("meta", {})}
        return scrapy.Request(url, callback=self.parse_article, errback=self.on_article_error,
                              meta=meta, **kwargs)

    async def parse_article(self, response: Response) -> AsyncIterator[Any]:
        if response.status == 304:  # incremental crawl: not modified since the last capture
            self._count("archiver/changes/unchanged")
            changed = False
        elif response.status in GONE_STATUSES:  # incremental crawl: an article seen before is gone
            self._count("archiver/changes/gone")
            gone = self._gone_record(response.meta.get(META_GONE))
            if gone is not None:
                yield gone
            changed = True
        else:
            async for output in self._extract(response):
                yield output
            changed = not response.meta.get(META_REVISIT)
        self.finish(response.meta, response.url)
        for output in self.article_settled(response.meta, changed=changed):
            yield output

    def _gone_record(self, gone: dict[str, str] | None) -> dict[str, Any] | None:
        """The last archived record of a removed article, flagged ``gone_since`` (runtime/gone.py)."""
        if gone is None or self.frontier is None:
            return None
        capture = self.frontier.get(gone["url"])
        warc_dir = self.crawler.settings.get("WARC_DIR")
        record = last_record(capture, Path(warc_dir)) if capture is not None and warc_dir else None
        if record is None:
            self.logger.warning("%s is gone; its last record was not found in the WARC files", gone["url"])
            self._count("archiver/gone/record_not_found")
            return None
        return gone_record(record, gone["since"])

    def article_settled(self, meta: dict[str, Any], changed: bool) -> Iterator[Any]:
        """An article request has its outcome; spiders paging incrementally go on from here."""
        return iter(())

    async def _extract(self, response: Response) -> AsyncIterator[Any]:
        fetched_at = response.meta.get("warc_date") or ""
        headers = {k.decode("latin-1"): b", ".join(v).decode("latin-1") for k, v in response.headers.items()}
        if self.extraction is not None:
            item = await self.extraction.extract(response.url, response.body, headers, fetched_at=fetched_at,
                                                 warc=response.meta.get("warc"),
                                                 requisites=self._requisites_wanted())
            if item is not None and item.requisites is not None:
                # scanned on the worker, off the reactor thread: the requisites middleware takes them
                response.meta[META_PAGE_REQUISITES] = item.requisites
                item.requisites = None
                self._count("archiver/extract/requisites_scanned")
        else:
            from archiver.extract import extract_article

            item = extract_article(response.url, response.body, headers, fetched_at=fetched_at)
        if item is None:
            fail(self.crawler, response.request or scrapy.Request(response.url),
                 "not an article page (no article container found)", response.status)
            return
        item.warc = response.meta.get("warc")
        # a prepared item was in range as extracted (the worker checked; its date may be ISO now)
        if item.prepared is None and (self.too_new(parse_date(item.published))
                                      or self.too_old(parse_date(item.published))):
            logger.debug("out of the date range: %s (%s)", response.url, item.published)
            self._count("archiver/articles/out_of_range")
            return
        # the photos the page links, as extracted (before the pipelines merge duplicates), whether
        # the pipelines already ran on a worker or run after this item is yielded
        sources = item.prepared.image_sources if item.prepared is not None else image_sources(item)
        yield item
        if self.images:
            for src in sources:
                yield scrapy.Request(src, callback=self.parse_image, errback=self.on_error, priority=-1)

    def _requisites_wanted(self) -> bool:
        """Whether the crawl asks for page requisites (the requisites middleware is on): the
        extraction worker then scans the page for them too."""
        if self._wants_requisites is None:
            self._wants_requisites = self.crawler.get_spider_middleware(RequisitesMiddleware) is not None
        return self._wants_requisites

    async def listing_page(self, response: Response) -> ListingPage:
        """A listing page's article links on the site's hosts and its next page (on an extraction
        worker when there is one: parsing is most of a listing page's cost)."""
        if self.extraction is not None:
            return await self.extraction.listing(response.url, response.body, self.allowed_domains)
        return read_listing(response.body, response.url, self.allowed_domains)

    def parse_image(self, response: Response) -> None:
        """Photos are archived (WARC) only: nothing to extract."""
        self._count("archiver/images/archived")

    def parse_requisite(self, response: Response) -> Iterator[Any]:
        """A page requisite is archived (WARC) only; archiver.requisites.middleware reads it."""
        return iter(())

    def on_requisite_error(self, failure: Failure) -> None:
        """A requisite failed: reported apart (requisite-failures.jsonl), never an article's failure."""
        from archiver.requisites.middleware import requisite_failed

        self.crawler.signals.send_catch_log(signal=requisite_failed, failure=failure)

    def _count(self, key: str) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(key)

    def on_error(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        error = failure.value
        if isinstance(error, (ShutdownCancelled, NotAsked)):  # not the page's: left for --resume
            return
        if error is not None and is_disk_full(error):  # not the page's failure: left for --resume
            if not isinstance(error, DiskFullError):  # the state (SQLite), not the WARC writer
                stop_for_full_disk(self.crawler, error, f"the crawl state for {request.url}")
            return
        if isinstance(error, HttpError):
            response = error.response
            if self.ignore_http_error(response):
                return
            fail(self.crawler, request, f"HTTP {response.status}", response.status)
            return
        if isinstance(error, IgnoreRequest) and str(error):
            # a request given up on with its reason (retries, incomplete bodies, redirects, size limits,
            # offsite, refusals: archiver/downloadermiddlewares/)
            fail(self.crawler, request, str(error), getattr(error, "status", None))
            return
        fail(self.crawler, request, f"{type(error).__name__}: {failure.getErrorMessage()}")

    def on_article_error(self, failure: Failure) -> Iterator[Any]:
        request = failure.request  # type: ignore[attr-defined]
        if isinstance(failure.value, (ShutdownCancelled, NotAsked)):  # not the page's: for --resume
            return
        if is_disk_full(failure.value):  # not the page's failure: on_error stops the crawl, and
            self.on_error(failure)       # the page stays unfinished in the frontier for --resume
            return
        self.on_error(failure)
        if not isinstance(failure.value, RefusedRequest):  # a refused article: --resume asks it again
            self.finish(request.meta, request.url)
        yield from self.article_settled(request.meta, changed=True)

    def ignore_http_error(self, response: Response) -> bool:
        """Whether an HTTP error response is an expected outcome rather than a failure."""
        return False
