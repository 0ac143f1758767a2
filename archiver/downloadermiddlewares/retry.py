"""Retries that wait for what the site asks: ``Retry-After`` pauses the whole host.

``RetryAfterMiddleware`` (replaces Scrapy's ``RetryMiddleware``, 550): Scrapy retries a 429/503 at
once; this one pauses the whole host for what ``Retry-After`` asks first (capped by
``ARCHIVER_RETRY_AFTER_MAX``). :func:`retry_or_give_up` is the retry-then-fail step the other
middlewares share (incomplete bodies, undecodable bodies, unsolicited 304s). Each of these
middlewares replaces or completes a Scrapy 2.19 component where fault injection (``archiver replica
--faults``, tests/test_faults.py) showed a gap; docs/reliability.md has the list.

A request given up on raises ``IgnoreRequest``: the spider's errback records it in failures.jsonl.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

from scrapy import Request
from scrapy.downloadermiddlewares.retry import RetryMiddleware, get_retry_request
from scrapy.exceptions import IgnoreRequest

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)


def retry_after_seconds(value: bytes | str | None, now: datetime | None = None) -> float | None:
    """Seconds a ``Retry-After`` value asks to wait (delta-seconds or an HTTP date), else None."""
    if not value:
        return None
    text = (value.decode("latin-1") if isinstance(value, bytes) else value).strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def pause_host(crawler: Crawler, request: Request, seconds: float) -> bool:
    """Send nothing more to ``request``'s downloader slot (its host) for ``seconds``; False when
    the slot is gone (the crawl is closing).

    Scrapy 2.19's downloader holds a slot's queue while ``Slot.latercall`` is pending (that is how
    it waits out ``DOWNLOAD_DELAY``); a pause is such a call, later. ``lastseen`` moves to the end
    of the pause so that the slot is not collected as idle meanwhile and the download delay counts
    from there.
    """
    from time import monotonic

    from scrapy.utils.asyncio import call_later

    downloader = crawler.engine.downloader if crawler.engine is not None else None
    if downloader is None:
        return False
    slot = downloader.slots.get(downloader.get_slot_key(request))
    if slot is None:
        return False
    until = monotonic() + seconds
    if slot.lastseen >= until:  # a pause as long is on already
        return True
    if slot.latercall:
        slot.latercall.cancel()
    slot.latercall = call_later(seconds, downloader._latercall, slot)
    slot.lastseen = until
    return True


class RetryAfterMiddleware(RetryMiddleware):
    """Scrapy's RetryMiddleware, but a retried response with ``Retry-After`` (429, 503) pauses its
    host that long (at most ``ARCHIVER_RETRY_AFTER_MAX`` seconds): no request goes to the host
    meanwhile, the retry included (Scrapy alone retries at once, and the other requests go on).

    A ``Retry-After`` longer than the cap stops the crawl (``archiver.downloadermiddlewares.refusals``,
    560, sees it first). Stats: ``archiver/retry_after/waits``, ``.../max_seconds``.
    """

    def __init__(self, settings: BaseSettings) -> None:
        super().__init__(settings)
        self.max_wait = settings.getfloat("ARCHIVER_RETRY_AFTER_MAX")

    def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Request | Response:
        result = super().process_response(request, response)
        if not isinstance(result, Request):
            return result
        wait = retry_after_seconds(response.headers.get(b"Retry-After"))
        if wait:
            wait = min(wait, self.max_wait)
            logger.info("%s answered %d with Retry-After: pausing the host %gs before retrying it",
                        request.url, response.status, wait)
            stats = self.crawler.stats
            assert stats is not None
            stats.inc_value("archiver/retry_after/waits")
            stats.max_value("archiver/retry_after/max_seconds", wait)
            pause_host(self.crawler, request, wait)
        return result


def retry_or_give_up(crawler: Crawler, request: Request, reason: str, detail: str) -> Request:
    """The retry of ``request``, or ``IgnoreRequest(detail)`` once its retries are used up."""
    assert crawler.spider is not None
    retry = get_retry_request(request, spider=crawler.spider, reason=reason)
    if retry is not None:
        return retry
    attempts = request.meta.get("retry_times", 0) + 1
    raise IgnoreRequest(f"{detail} (gave up after {attempts} attempts)")
