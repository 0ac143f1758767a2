"""Baseline of benchmarks/harvest.py: a bare Scrapy spider that only downloads the same captures.

It fetches every raw-capture URL of ``-a urls=FILE`` (one a line, the ``id_`` URLs a harvest of
the same collection fetches) with Scrapy's default settings plus the same concurrency, and no CDX
paging, WARC, extraction, pipelines or feed. Its stats go to ``-a stats=FILE``.

    scrapy runspider benchmarks/bare_capture_spider.py -a urls=urls.txt -a stats=bare.json
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import scrapy
from scrapy.http import Response


class BareCaptureSpider(scrapy.Spider):
    name = "bare-captures"

    def __init__(self, urls: str, stats: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.urls_path = Path(urls)
        self.stats_path = Path(stats)

    async def start(self) -> Any:
        self.started = time.monotonic()
        with self.urls_path.open(encoding="utf-8") as lines:
            for line in lines:
                if line.strip():
                    yield scrapy.Request(line.strip(), callback=self.parse_capture, dont_filter=True)

    def parse_capture(self, response: Response) -> None:
        return None

    def closed(self, reason: str) -> None:
        assert self.crawler.stats is not None
        stats = self.crawler.stats.get_stats()
        self.stats_path.write_text(json.dumps({
            "captures": stats.get("downloader/response_status_count/200", 0),
            "seconds": time.monotonic() - self.started,
        }))
