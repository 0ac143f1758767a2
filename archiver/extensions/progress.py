"""A progress line while crawling: pages/s, articles, queue, errors (stderr)."""

from __future__ import annotations

import sys
import time
from typing import IO, TYPE_CHECKING

from scrapy import signals
from scrapy.exceptions import NotConfigured
from twisted.internet import task

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


class ProgressLine:
    """Every ``ARCHIVER_PROGRESS_INTERVAL`` seconds, one line of progress on stderr.

    On a terminal the line is redrawn in place; otherwise (logs, CI) a new line is printed.
    """

    def __init__(self, crawler: Crawler, interval: float, stream: IO[str] = sys.stderr) -> None:
        self.crawler = crawler
        self.interval = interval
        self.stream = stream
        self._loop: task.LoopingCall | None = None
        self._last = (time.monotonic(), 0)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ProgressLine:
        interval = crawler.settings.getfloat("ARCHIVER_PROGRESS_INTERVAL")
        if interval <= 0:
            raise NotConfigured("ARCHIVER_PROGRESS_INTERVAL is 0")
        progress = cls(crawler, interval)
        crawler.signals.connect(progress.start, signal=signals.spider_opened)
        crawler.signals.connect(progress.stop, signal=signals.spider_closed)
        return progress

    def start(self) -> None:
        self._loop = task.LoopingCall(self.tick)
        self._loop.start(self.interval, now=False)

    def stop(self) -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        if self.stream.isatty():
            self.stream.write("\n")

    def line(self) -> str:
        assert self.crawler.stats is not None
        stats = self.crawler.stats
        pages = int(stats.get_value("response_received_count", 0))
        now = time.monotonic()
        then, before = self._last
        rate = (pages - before) / max(now - then, 1e-9)
        self._last = (now, pages)
        engine = self.crawler.engine
        scheduler = engine.scheduler if engine is not None else None
        queued = len(scheduler) if scheduler is not None and hasattr(scheduler, "__len__") else 0
        in_flight = len(engine.downloader.active) if engine is not None else 0
        harvest = ""
        if stats.get_value("archiver/harvest/cdx_pages") is not None:  # archiver harvest
            harvest = (f"  captures listed {stats.get_value('archiver/harvest/listed_new', 0)}"
                       f" fetched {stats.get_value('archiver/harvest/fetched', 0)}")
        return (f"pages {pages} ({rate:.1f}/s){harvest}  articles {stats.get_value('item_scraped_count', 0)}"
                f"  queue {queued + in_flight}  errors {stats.get_value('archiver/failures', 0)}")

    def tick(self) -> None:
        end = "\r" if self.stream.isatty() else "\n"
        self.stream.write(self.line() + end)
        self.stream.flush()
