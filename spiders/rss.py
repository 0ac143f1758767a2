"""The site's RSS feeds (``/DesktopModules/ArticleCS/RSS.ashx?ContentType=N``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import lxml.etree
from scrapy.http import Response

from archiver.extract.dates import parse_date
from archiver.site import RSS_CONTENT_TYPES, RSS_PATH, parse_sections
from spiders.base import ArchiverSpider

# no entity expansion, no DTD or network access: feeds are untrusted input
SAFE_XML = lxml.etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


class RssSpider(ArchiverSpider):
    """Archives the articles of the RSS feeds. Arguments: ``sections`` (those with a feed:
    news-stories, transcripts, releases, contracts, feature-stories), ``max_items`` (per feed,
    default 100), ``since``/``until``."""

    name = "rss"

    def __init__(self, sections: str | None = None, max_items: str | int = 100, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        names = parse_sections(sections)
        self.codes = [RSS_CONTENT_TYPES[n] for n in names if n in RSS_CONTENT_TYPES]
        if not self.codes:
            raise ValueError(f"none of the sections {names} has an RSS feed")
        self.max_items = int(max_items)

    async def start(self) -> AsyncIterator[Any]:
        for request in self.resumed_requests():
            yield request
        for code in self.codes:
            url = self.site + RSS_PATH.format(code=code, max=self.max_items)
            yield self.feed_request(url)

    def feed_request(self, url: str) -> Any:
        import scrapy

        return scrapy.Request(url, callback=self.parse_feed, errback=self.on_error, priority=10)

    def parse_feed(self, response: Response) -> Iterator[Any]:
        try:
            root = lxml.etree.fromstring(response.body, parser=SAFE_XML)
        except lxml.etree.XMLSyntaxError as exc:
            from archiver.extensions.report import fail

            fail(self.crawler, response.request, f"feed is not well-formed XML: {exc}")  # type: ignore[arg-type]
            return
        for item in self.read_on(root.iter("item"), response.url):
            link = (item.findtext("link") or "").strip()
            when = parse_date(item.findtext("pubDate"))
            if not link:  # e.g. an unresolved entity: entities are never expanded (XXE)
                self.logger.warning("feed %s: an item without a usable <link> skipped", response.url)
                continue
            if not (self.too_new(when) or self.too_old(when)):
                request = self.new_article_request(response.urljoin(link))
                if request is not None:
                    yield request
