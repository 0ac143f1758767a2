"""Baseline of benchmarks/crawl.py: a bare Scrapy spider that only downloads the same pages.

It walks the same section listings and fetches the same article pages as the archiver's
``sections`` spider, with Scrapy's default settings (plus the same concurrency), and no WARC,
extraction, pipelines or feed. Its stats go to ``-a stats=FILE``. With ``-a extra=FILE`` it also
fetches the URLs listed there (one a line: the page requisites an archiver crawl of the same
replica fetched), at the archiver's requisite priority, so that both download the same URLs.

    scrapy runspider benchmarks/bare_spider.py -a site=http://127.0.0.1:PORT -a stats=bare.json
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import scrapy
from scrapy.http import Response

SECTIONS = ("/News/News-Stories/", "/News/Releases/", "/News/Transcripts/", "/News/Speeches/",
            "/News/Contracts/", "/News/Feature-Stories/", "/News/Advisories/")


class BareSpider(scrapy.Spider):
    name = "bare"

    def __init__(self, site: str, stats: str, extra: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.site = site.rstrip("/")
        self.stats_path = Path(stats)
        self.extra = Path(extra).read_text().split() if extra else []

    async def start(self) -> Any:
        self.started = time.monotonic()
        for section in SECTIONS:
            yield scrapy.Request(self.site + section, callback=self.parse_listing)
        for url in self.extra:  # the archiver's REQUISITE_PRIORITY
            yield scrapy.Request(url, callback=self.parse_article, priority=-1)

    def parse_listing(self, response: Response) -> Iterator[scrapy.Request]:
        for href in response.css("div.item h3.title a::attr(href)").getall():
            yield scrapy.Request(response.urljoin(href), callback=self.parse_article)
        next_page = response.css("ul.pagination a.next::attr(href)").get()
        if next_page:
            yield scrapy.Request(response.urljoin(next_page), callback=self.parse_listing)

    def parse_article(self, response: Response) -> None:
        return None

    def closed(self, reason: str) -> None:
        assert self.crawler.stats is not None
        stats = self.crawler.stats.get_stats()
        self.stats_path.write_text(json.dumps({
            "pages": stats.get("response_received_count", 0),
            "seconds": time.monotonic() - self.started,
        }))
