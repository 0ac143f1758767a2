"""Section listings with ``?Page=N`` pagination (News Stories, Releases, Transcripts, ...)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from scrapy.http import Response

from archiver.listing import listing_entries, next_page_url
from archiver.site import parse_sections, section_path
from archiver.spiderbase import ArchiverSpider


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

    async def start(self) -> AsyncIterator[Any]:
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
        for entry in new:
            if self.too_new(entry.published) or self.too_old(entry.published):
                continue
            yield self.article_request(entry.url)
        if self._last_page(section, page, entries, new):
            return
        next_url = next_page_url(response.body, response.url)
        if next_url:
            yield self.listing_request(next_url, section, page + 1)

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
