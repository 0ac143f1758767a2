"""Politeness toward the real site: robots.txt ``Crawl-delay``.

Scrapy obeys robots.txt allow/deny rules but ignores ``Crawl-delay``. ``CrawlDelayMiddleware``
listens for Scrapy's ``robots_parsed`` signal and keeps the delay of that host's downloader slot
at least at the announced value on every request, after AutoThrottle (which would otherwise
lower it below the site's wish) has had its say.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from scrapy import Request, signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.httpobj import urlparse_cached

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.robotstxt import RobotParser

logger = logging.getLogger(__name__)


class CrawlDelayMiddleware:
    """Downloader middleware honouring robots.txt ``Crawl-delay`` per host."""

    def __init__(self, crawler: Crawler, user_agent: str, max_delay: float) -> None:
        self.crawler = crawler
        self.user_agent = user_agent
        self.max_delay = max_delay
        self.delays: dict[str, float] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlDelayMiddleware:
        settings = crawler.settings
        if not settings.getbool("ROBOTSTXT_OBEY") or not settings.getbool("ARCHIVER_OBEY_CRAWL_DELAY"):
            raise NotConfigured("Crawl-delay is only honoured with ROBOTSTXT_OBEY")
        middleware = cls(
            crawler,
            settings.get("ROBOTSTXT_USER_AGENT") or settings.get("USER_AGENT") or "*",
            settings.getfloat("ARCHIVER_CRAWL_DELAY_MAX"),
        )
        crawler.signals.connect(middleware.robots_parsed, signal=signals.robots_parsed)
        return middleware

    def robots_parsed(self, robotparser: RobotParser, request: Request) -> None:
        delay = robotparser.crawl_delay(self.user_agent)
        host = urlsplit(request.url).hostname or ""
        if delay is None or delay <= 0:
            return
        if delay > self.max_delay:
            logger.warning("robots.txt of %s asks Crawl-delay %gs; capped at %gs (ARCHIVER_CRAWL_DELAY_MAX)",
                           host, delay, self.max_delay)
            delay = self.max_delay
        self.delays[host] = delay
        assert self.crawler.stats is not None
        self.crawler.stats.set_value(f"archiver/crawl_delay/{host}", delay)
        logger.info("honouring robots.txt Crawl-delay of %gs for %s", delay, host)

    def process_request(self, request: Request) -> None:
        delay = self.delays.get(urlparse_cached(request).hostname or "")
        if delay is None:
            return
        downloader = self.crawler.engine.downloader
        key = downloader.get_slot_key(request)
        slot = downloader.slots.get(key)
        if slot is None:  # the slot is created after this; make it start with the delay
            downloader.per_slot_settings.setdefault(key, {})["delay"] = delay
        elif slot.delay < delay:
            slot.delay = delay
