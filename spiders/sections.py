"""Section listings with ``?Page=N`` pagination (News Stories, Releases, Transcripts, ...)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, Self

import lxml.etree
import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Response
from scrapy.utils.gz import gunzip, gzip_magic_number
from scrapy.utils.sitemap import Sitemap
from twisted.python.failure import Failure

from archiver.downloadermiddlewares.refusals import RefusedRequest
from archiver.extract.dates import parse_date
from archiver.runtime.compact import id_key, url_key
from archiver.runtime.extractpool import ListingAbandoned
from archiver.runtime.gone import META_KNOWN_AS
from archiver.runtime.paging import IncrementalPaging
from archiver.runtime.state import CrawlState, crawl_state, now_iso, state_path
from archiver.site import NOT_NEWS, article_id_of, on_hosts, parse_sections, section_path
from spiders.base import STAT_LINKS_LEFT, ArchiverSpider

META_PAGE = "archiver_listing_page"  # (section, page, url) of the listing an article came from


#: listing pages wait behind the articles (and photos) already queued: the scheduler then holds
#: about one listing page of articles per section, not every article of the site (a listing page
#: answers in one round trip, ten articles take ten), so memory does not grow with the crawl
#: (benchmarks/memory.py, docs/performance.md)
LISTING_PRIORITY = -10


class SectionsSpider(ArchiverSpider):
    """Pages through section listings newest first and archives every article they list.

    Arguments: ``sections`` (comma list, default all: news-stories, releases, transcripts,
    speeches, contracts, feature-stories, advisories; also ``archive``), ``since``/``until``
    (paging stops once a whole listing page is older than ``since``), ``max_pages`` (per section).

    Listings that repeat or skip items (a cache serving a stale page, items shifting while paging)
    lose nothing: paging stops only after ``ARCHIVER_LISTING_MAX_REPEATS`` pages in a row without
    a new item, and once the listings are done the site's sitemap is read for articles of the
    crawled sections no listing showed (``ARCHIVER_SITEMAP_CROSSCHECK``; full runs only, not with
    ``max_pages`` or incremental paging). See docs/reliability.md.
    """

    name = "sections"

    def __init__(self, sections: str | None = None, max_pages: str | int | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.section_names = parse_sections(sections)
        self.max_pages = int(max_pages) if max_pages not in (None, "", 0, "0") else None
        if self.max_pages is not None and self.max_pages < 1:
            raise ValueError("max_pages must be at least 1")
        # every article this crawl has listed, by id (its URL's key when it has none), as compact
        # keys (archiver/runtime/compact.py): a 50k-article crawl must not grow with its URLs
        self.seen_ids: set[int | str] = set()
        self.max_repeats = 3
        self.repeat_streak: dict[str, int] = {}
        self.crosscheck_pending = False
        self.paging: IncrementalPaging[scrapy.Request] | None = None
        self.sweep_state: Path | None = None
        self.run_started = now_iso()

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        path = state_path(settings)
        known = settings.getbool("ARCHIVER_INCREMENTAL") and path is not None and path.exists() \
            and _has_rows(path)
        if known and not settings.getbool("ARCHIVER_FULL") and not spider.resuming:
            spider.paging = IncrementalPaging(settings.getint("ARCHIVER_INCREMENTAL_STOP_PAGES"))
            spider.logger.info("incremental: paging stops after %d listing page(s) of unchanged articles",
                               spider.paging.stop_after)
        elif known and path is not None:
            # a full incremental run sees every listed article: ask the others whether they are gone
            spider.sweep_state = path
            crawler.signals.connect(spider.sweep_unlisted, signal=signals.spider_idle)
        spider.max_repeats = max(1, settings.getint("ARCHIVER_LISTING_MAX_REPEATS"))
        # a worker of a distributed crawl (ARCHIVER_REDIS_URL) sees only part of the listings
        if settings.getbool("ARCHIVER_SITEMAP_CROSSCHECK") and spider.paging is None \
                and spider.max_pages is None and not settings.get("ARCHIVER_REDIS_URL"):
            spider.crosscheck_pending = True
            crawler.signals.connect(spider.crosscheck_sitemap, signal=signals.spider_idle)
        return spider

    # -- the sitemap cross-check: articles the listings skipped ----------------------------------------

    def crosscheck_sitemap(self) -> None:
        """Once the listings are done, read the sitemap for articles no listing showed."""
        if not self.crosscheck_pending:
            return
        self.crosscheck_pending = False
        self.logger.info("listings done: cross-checking them against %s/sitemap.xml", self.site)
        self.crawler.engine.crawl(self._crosscheck_request(self.site + "/sitemap.xml"))
        raise DontCloseSpider

    def _crosscheck_request(self, url: str) -> scrapy.Request:
        return scrapy.Request(url, callback=self.parse_crosscheck, errback=self.crosscheck_failed,
                              priority=10)

    def parse_crosscheck(self, response: Response) -> Iterator[Any]:
        sitemap = self._sitemap(response)
        if sitemap is None:
            return
        if sitemap.type == "sitemapindex":
            for entry in sitemap:
                loc = str(entry.get("loc", ""))
                if loc.startswith(("http://", "https://")) and on_hosts(loc, self.allowed_domains):
                    yield self._crosscheck_request(loc)
            return
        found = [r for r in map(self._unlisted_article, sitemap) if r is not None]
        if found:
            self.logger.warning("sitemap %s lists %d article(s) of the crawled sections no listing showed; "
                                "fetching them", response.url, len(found))
            self._count_by("archiver/crosscheck/found", len(found))
        yield from found

    def _sitemap(self, response: Response) -> Sitemap | None:
        body = response.body
        if gzip_magic_number(response):
            body = gunzip(body, max_size=self.crawler.settings.getint("DOWNLOAD_MAXSIZE"))
        try:
            return Sitemap(body)  # Scrapy's parser: no entity expansion, no network (XXE-safe)
        except (lxml.etree.XMLSyntaxError, StopIteration, ValueError) as exc:
            self.logger.warning("cross-check: %s is not a sitemap (%s)", response.url, exc)
            return None

    def _unlisted_article(self, entry: dict[str, Any]) -> scrapy.Request | None:
        loc = str(entry.get("loc", ""))
        article_id = article_id_of(loc)
        if not article_id or id_key(article_id) in self.seen_ids or NOT_NEWS.search(loc) \
                or not loc.startswith(("http://", "https://")) or not on_hosts(loc, self.allowed_domains):
            return None
        path = loc.split("://", 1)[1].partition("/")[2].lower()
        if "archive" not in self.section_names and not any(
                ("/" + path).startswith(section_path(n).lower()) for n in self.section_names):
            return None  # another section's article: not asked for
        when = parse_date(entry.get("lastmod"))
        if self.too_new(when) or self.too_old(when):
            return None
        self.seen_ids.add(id_key(article_id))
        return self.new_article_request(loc)

    def crosscheck_failed(self, failure: Failure) -> None:
        """A sitemap the site refused (a bot wall, archiver/refusals.py) is a failure with its
        reason, as a refused listing is; a missing or broken one only means the cross-check could
        not run (a warning)."""
        if isinstance(failure.value, RefusedRequest):
            self.on_error(failure)
            return
        self.logger.warning("cross-check: could not read %s: %s", failure.request.url,  # type: ignore[attr-defined]
                            failure.getErrorMessage())

    def _count_by(self, key: str, count: int) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(key, count)

    def sweep_unlisted(self) -> None:
        """Once the listings are done, re-ask known articles no listing showed (404: gone)."""
        if self.sweep_state is None:
            return
        self.sweep_state = None
        state = crawl_state(self.crawler)  # the crawl's own connection: it sees this run's writes
        if state is None:
            return
        urls = state.not_seen_since(self.run_started)
        requests = [r for r in map(self._sweep_request, urls) if r is not None]
        if not requests:
            return
        self.logger.info("asking %d known article(s) no listing showed any more", len(requests))
        for request in requests:
            self.crawler.engine.crawl(request)
        raise DontCloseSpider

    def _sweep_request(self, url: str) -> scrapy.Request | None:
        """A known article no listing showed, asked again. One known from a harvest of a web archive
        (``archiver harvest`` into this folder: its URL is an archived one, on another host) is asked
        at the same path of the crawled site, unless a listing showed its id: a 404 there flags the
        archived article gone (its record from the archive, ``gone_since``), a page is its live
        version."""
        if self._on_crawled_site(url):
            return self.new_article_request(url)
        if _seen_key(url) in self.seen_ids:
            return None
        path = url.split("://", 1)[-1].partition("/")[2]
        return self.new_article_request(f"{self.site}/{path}", meta={META_KNOWN_AS: url})

    def _on_crawled_site(self, url: str) -> bool:
        """``url`` is the crawled site's: its host, or (crawling the real site) one of the site's
        hosts (``ARCHIVER_SITE_HOSTS``: they redirect to one another)."""
        site_host, *site_hosts = self.allowed_domains
        return on_hosts(url, [site_host]) or (on_hosts(self.site, site_hosts) and on_hosts(url, site_hosts))

    async def start(self) -> AsyncIterator[Any]:
        for request in self.resumed_requests():
            yield request
        for name in self.section_names:
            yield self.listing_request(self.site + section_path(name), name, 1)

    def listing_request(self, url: str, section: str, page: int) -> scrapy.Request:
        return scrapy.Request(url, callback=self.parse_listing, errback=self.on_error,
                              cb_kwargs={"section": section, "page": page}, priority=LISTING_PRIORITY)

    async def parse_listing(self, response: Response, section: str, page: int) -> AsyncIterator[Any]:
        try:
            listing = await self.listing_page(response)
        except ListingAbandoned:  # a stop signal while a worker read it: --resume reads it again
            self.logger.info("the crawl is stopping: %s is left unread, for --resume", response.url)
            self._count(STAT_LINKS_LEFT)
            return
        entries = listing.entries
        stats = self.crawler.stats
        assert stats is not None
        stats.inc_value(f"archiver/listing/pages/{section}")
        new = [e for e in entries if _seen_key(e.url) not in self.seen_ids]
        self.seen_ids.update(_seen_key(e.url) for e in new)
        in_range = [e.url for e in new if not (self.too_new(e.published) or self.too_old(e.published))]
        next_url = None if self._last_page(section, page, entries, new) else listing.next_url
        next_request = self.listing_request(next_url, section, page + 1) if next_url else None
        if self.paging is None:
            for request in map(self.new_article_request, self.read_on(in_range, response.url)):
                if request is not None:
                    yield request
            if next_request is not None:
                yield next_request
            return
        # incremental: the next page waits for this page's articles (see archiver/runtime/paging.py)
        wanted = []
        for url in self.read_on(in_range, response.url):
            request = self.new_article_request(url, meta={META_PAGE: (section, page, url)}, dont_filter=True)
            if request is not None:
                wanted.append(url)
                yield request
        ready = self.paging.open_page(section, page, wanted, next_request)
        if ready is not None:
            yield ready

    def article_settled(self, meta: dict[str, Any], changed: bool) -> Iterator[Any]:
        if self.paging is None or META_PAGE not in meta:
            return
        section, page, url = meta[META_PAGE]
        ready = self.paging.settle(section, page, url, changed)
        if ready is not None:
            yield ready
        elif section in self.paging.stopped:
            self.logger.info("section %s: stop paging at page %d: only unchanged articles", section, page)

    def _last_page(self, section: str, page: int, entries: list[Any], new: list[Any]) -> bool:
        reason = ""
        streak = 0 if new else self.repeat_streak.get(section, 0) + 1
        self.repeat_streak[section] = streak
        if not entries:
            reason = "empty listing page"
        elif streak >= self.max_repeats:
            reason = f"{streak} listing page(s) in a row repeat earlier items"
        elif streak:  # a stale or shifted page: the next one may still hold new items
            self.logger.info("section %s: page %d repeats earlier items; going on (%d of %d)",
                             section, page, streak, self.max_repeats)
            self._count_by("archiver/listing/repeated_pages", 1)
        elif self.since and all(self.too_old(e.published) for e in entries):
            reason = f"whole page older than {self.since}"
        elif self.max_pages is not None and page >= self.max_pages:
            reason = f"max_pages={self.max_pages} reached"
        if reason:
            self.logger.info("section %s: stop paging at page %d: %s", section, page, reason)
        return bool(reason)


def _seen_key(url: str) -> int | str:
    """A listed article's key: its id (the same article under another URL is not new)."""
    article_id = article_id_of(url)
    return id_key(article_id) if article_id else f"url:{url_key(url):x}"


def _has_rows(path: Path) -> bool:
    state = CrawlState(path)
    try:
        return len(state) > 0
    finally:
        state.close()
