"""Politeness toward the real site: robots.txt ``Crawl-delay`` and a User-Agent with a contact.

Scrapy obeys robots.txt allow/deny rules but ignores ``Crawl-delay``. ``CrawlDelayMiddleware``
listens for Scrapy's ``robots_parsed`` signal and keeps the delay of that host's downloader slot
at least at the announced value on every request, after AutoThrottle (which would otherwise
lower it below the site's wish) has had its say.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any
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


#: hosts of the real site: a crawl of them without a contact is warned about
REAL_SITE_HOSTS = ("defense.gov", "war.gov")
#: what a contact may be: an e-mail address or an http(s) URL, no spaces or control characters
_CONTACT = re.compile(r"^(?:https?://[^\s<>\"]+|mailto:[^\s<>\"@]+@[^\s<>\"@]+|[^\s<>\"@:/]+@[^\s<>\"@]+)$")
NO_CONTACT_WARNING = (
    "crawling {host} without a contact: the site's operators cannot reach you, and a CDN is more "
    "likely to block an anonymous crawler; name yourself with --contact EMAIL_OR_URL "
    "(setting ARCHIVER_CONTACT), which goes into the User-Agent")


def contact_problem(contact: str) -> str | None:
    """Why ``contact`` cannot go into a User-Agent header, else None."""
    if _CONTACT.match(contact):
        return None
    return f"not an e-mail address or an http(s) URL: {contact[:200]!r}"


def is_real_site(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return any(host == real or host.endswith("." + real) for real in REAL_SITE_HOSTS)


def contact_of(settings: Any) -> str:
    """The crawl owner's contact: ``ARCHIVER_CONTACT``, else the older ``ARCHIVER_CONTACT_URL``."""
    return str(settings.get("ARCHIVER_CONTACT") or settings.get("ARCHIVER_CONTACT_URL") or "").strip()


def user_agent(settings: Any) -> str:
    """``USER_AGENT`` if set, else ``ARCHIVER_USER_AGENT (+contact)``, or the product alone."""
    explicit = settings.get("USER_AGENT")
    if explicit:
        return str(explicit)
    product = str(settings.get("ARCHIVER_USER_AGENT"))
    contact = contact_of(settings)
    if contact and contact_problem(contact) is None:
        return f"{product} (+{contact})"
    if contact:
        logger.warning("contact left out of the User-Agent: %s", contact_problem(contact))
    return product


class ContactUserAgentMiddleware:
    """Sets ``User-Agent`` to ``ARCHIVER_USER_AGENT (+contact)`` (``ARCHIVER_CONTACT``, or
    ``ARCHIVER_CONTACT_URL``), or to ``USER_AGENT`` if set.

    Replaces Scrapy's ``UserAgentMiddleware`` so that site operators can reach the crawl's owner:
    ``archiver crawl --contact you@example.org`` (or ``-s ARCHIVER_CONTACT=...``). There is no
    default contact (a placeholder would name someone who does not run the crawl); a crawl of the
    real site without one is warned about once, when the spider opens.
    """

    def __init__(self, user_agent: str, contact: str) -> None:
        self.user_agent = user_agent
        self.contact = contact

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ContactUserAgentMiddleware:
        settings = crawler.settings
        middleware = cls(user_agent(settings), "" if settings.get("USER_AGENT") else contact_of(settings))
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        return middleware

    def spider_opened(self, spider: Any) -> None:
        site = str(getattr(spider, "site", "") or "")
        if not self.contact and is_real_site(site):
            logger.warning(NO_CONTACT_WARNING.format(host=urlsplit(site).hostname))

    def process_request(self, request: Request) -> None:
        request.headers.setdefault(b"User-Agent", self.user_agent)
