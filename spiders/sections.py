"""Section listings with ``?Page=N`` pagination (News Stories, Releases, Transcripts, ...)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, Self

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Response

from archiver.listing import listing_entries, next_page_url
from archiver.paging import IncrementalPaging
from archiver.site import parse_sections, section_path
from archiver.spiderbase import ArchiverSpider
from archiver.state import CrawlState, now_iso, state_path

META_PAGE = "archiver_listing_page"  # (section, page, url) of the listing an article came from


class SectionsSpider(ArchiverSpider):
    """Pages through section listings newest first and archives every article they list.

    Arguments: ``sections`` (comma list, default all: news-stories, releases, transcripts,
    speeches, contracts, feature-stories, advisories; also ``archive``), ``since``/``until``
    (paging stops once a whole listing page is older than ``since``), ``max_pages`` (per section).
    """

    name = "sections"

    def __init__(self, sections: str | None = None, max_pages: str | int | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.section_names = parse_sections(sections)
        self.max_pages = int(max_pages) if max_pages not in (None, "", 0, "0") else None
        if self.max_pages is not None and self.max_pages < 1:
            raise ValueError("max_pages must be at least 1")
        self.seen_articles: set[str] = set()
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
        return spider

    def sweep_unlisted(self) -> None:
        """Once the listings are done, re-ask known articles no listing showed (404: gone)."""
        if self.sweep_state is None:
            return
        state = CrawlState(self.sweep_state)
        self.sweep_state = None
        try:
            urls = state.not_seen_since(self.run_started)
        finally:
            state.close()
        requests = [r for r in map(self.new_article_request, urls) if r is not None]
        if not requests:
            return
        self.logger.info("asking %d known article(s) no listing showed any more", len(requests))
        engine: Any = self.crawler.engine
        for request in requests:
            engine.crawl(request)
        raise DontCloseSpider

    async def start(self) -> AsyncIterator[Any]:
        for request in self.resumed_requests():
            yield request
        for name in self.section_names:
            yield self.listing_request(self.site + section_path(name), name, 1)

    def listing_request(self, url: str, section: str, page: int) -> scrapy.Request:
        return scrapy.Request(url, callback=self.parse_listing, errback=self.on_error,
                              cb_kwargs={"section": section, "page": page}, priority=10)

    def parse_listing(self, response: Response, section: str, page: int) -> Iterator[Any]:
        entries = listing_entries(response.body, response.url, self.allowed_domains)
        stats = self.crawler.stats
        assert stats is not None
        stats.inc_value(f"archiver/listing/pages/{section}")
        new = [e for e in entries if e.url not in self.seen_articles]
        self.seen_articles.update(e.url for e in new)
        in_range = [e.url for e in new if not (self.too_new(e.published) or self.too_old(e.published))]
        next_url = None if self._last_page(section, page, entries, new) else next_page_url(
            response.body, response.url)
        next_request = self.listing_request(next_url, section, page + 1) if next_url else None
        if self.paging is None:
            yield from (r for r in map(self.new_article_request, in_range) if r is not None)
            if next_request is not None:
                yield next_request
            return
        # incremental: the next page waits for this page's articles (see archiver/paging.py)
        wanted = []
        for url in in_range:
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
        if not entries:
            reason = "empty listing page"
        elif not new:
            reason = "listing page repeats earlier items"
        elif self.since and all(self.too_old(e.published) for e in entries):
            reason = f"whole page older than {self.since}"
        elif self.max_pages is not None and page >= self.max_pages:
            reason = f"max_pages={self.max_pages} reached"
        if reason:
            self.logger.info("section %s: stop paging at page %d: %s", section, page, reason)
        return bool(reason)


def _has_rows(path: Path) -> bool:
    state = CrawlState(path)
    try:
        return len(state) > 0
    finally:
        state.close()
