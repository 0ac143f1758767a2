"""Downloader middlewares that keep a long crawl correct when the site misbehaves.

Each replaces or completes a Scrapy 2.19 component where fault injection (``archiver replica
--faults``, tests/test_faults.py) showed a gap; docs/reliability.md has the list.

- ``RetryAfterMiddleware`` (replaces ``RetryMiddleware``, 550): Scrapy retries a 429/503 at once;
  this one pauses the whole host for what ``Retry-After`` asks first (capped by
  ``ARCHIVER_RETRY_AFTER_MAX``).
- ``IncompleteResponseMiddleware`` (945): a body cut short (``dataloss``, with
  ``DOWNLOAD_FAIL_ON_DATALOSS = False`` so that the WARC middleware at 950 archives it first,
  marked ``WARC-Truncated``) or an empty 200 is retried, then fails with its reason, instead of
  reaching the spider as a broken page.
- ``StrictHttpCompressionMiddleware`` (replaces ``HttpCompressionMiddleware``, 590): Scrapy's
  ``gunzip`` returns whatever decoded before a corrupt byte or a missing end, so a broken gzip
  stream became a silently truncated page; here it is retried, then fails with its reason.
  ``Accept-Encoding`` names only the codings whose decoder works in this process, and a body in
  any other coding fails at once with the reason (:mod:`archiver.compression`).
- ``GuardedRedirectMiddleware`` / ``GuardedMetaRefreshMiddleware`` (replace Scrapy's, 600 / 580):
  a redirect off the site, to a non-HTTP(S) URL, or back into its own chain fails the request
  with that reason. Scrapy drops such redirects silently (its offsite filter and dupefilter run
  when the new request is scheduled, where no errback is called), and lets a retried request
  (``dont_filter``) follow an off-site redirect.

A request given up on raises ``IgnoreRequest``: the spider's errback records it in failures.jsonl.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit, urlunsplit

from scrapy import Request
from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware, RedirectMiddleware
from scrapy.downloadermiddlewares.retry import RetryMiddleware, get_retry_request
from scrapy.exceptions import IgnoreRequest

from archiver.compression import (  # noqa: F401  (MAX_GZIP_MEMBERS, strict_gunzip: re-exported)
    ADVERTISABLE,
    MAX_GZIP_MEMBERS,
    UndecodableBodyError,
    UnsupportedEncodingError,
    advertise_problem,
    decode_content,
    decoder_problem,
    strict_gunzip,
    working_encodings,
)
from archiver.listing import on_hosts

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.settings import BaseSettings
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
#: request.meta flag: an empty 200 is a valid answer (a CDX query that matched nothing)
META_EMPTY_OK = "archiver_empty_ok"


# -- Retry-After ------------------------------------------------------------------------------------


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

    A ``Retry-After`` longer than the cap stops the crawl (``archiver.refusals``, 560, sees it
    first). Stats: ``archiver/retry_after/waits``, ``.../max_seconds``.
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


# -- incomplete bodies ------------------------------------------------------------------------------


def _retry_or_give_up(crawler: Crawler, request: Request, reason: str, detail: str) -> Request:
    """The retry of ``request``, or ``IgnoreRequest(detail)`` once its retries are used up."""
    assert crawler.spider is not None
    retry = get_retry_request(request, spider=crawler.spider, reason=reason)
    if retry is not None:
        return retry
    attempts = request.meta.get("retry_times", 0) + 1
    raise IgnoreRequest(f"{detail} (gave up after {attempts} attempts)")


class IncompleteResponseMiddleware:
    """Retries responses whose body is not whole; gives up with the reason.

    Register between the WARC middleware (950: the broken response is archived first, marked
    ``WARC-Truncated``) and everything that reads bodies. A request with ``dont_retry`` is left alone.
    Stats: ``archiver/incomplete/truncated``, ``archiver/incomplete/empty``.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> IncompleteResponseMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Request | Response:
        if request.meta.get("dont_retry"):
            return response
        problem = incomplete(request, response)
        if problem is None:
            return response
        kind, detail = problem
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(f"archiver/incomplete/{kind}")
        logger.info("incomplete response for %s: %s", request.url, detail)
        return _retry_or_give_up(self.crawler, request, f"{kind} body", detail)


def incomplete(request: Request, response: Response) -> tuple[str, str] | None:
    """``(kind, reason)`` when the body of ``response`` is not whole, else None."""
    if "dataloss" in response.flags:
        expected = (response.headers.get(b"Content-Length") or b"?").decode("latin-1")
        return "truncated", (f"truncated response: {len(response.body)} of {expected} bytes received "
                             "before the connection was lost")
    if response.status == 200 and not response.body and request.method != "HEAD" \
            and not urlsplit(request.url).path.endswith("/robots.txt") \
            and not request.meta.get(META_EMPTY_OK):
        return "empty", "empty response: 200 with no body"
    return None


# -- strict decompression ---------------------------------------------------------------------------


def _disabled_reason(coding: bytes) -> str:
    problem = decoder_problem(coding)
    if problem is not None:
        return f"its decoder does not work in this Python ({problem})"
    return str(advertise_problem(coding))


class StrictHttpCompressionMiddleware(HttpCompressionMiddleware):
    """Scrapy's HttpCompressionMiddleware with the decoders of :mod:`archiver.compression`.

    - ``Accept-Encoding`` lists the codings whose decoder works here (probed once per process; a
      coding left out is logged and counted ``archiver/encoding/disabled/<coding>``).
    - A corrupt or cut stream is retried, then fails with its reason (``archiver/undecodable``).
    - A coding unknown here or without a working decoder fails at once with the reason
      (``archiver/encoding/unsupported``): asking again would bring the same bytes.
    - Bytes after a complete gzip member are ignored (``archiver/gzip/trailing_garbage``).

    ``DOWNLOAD_MAXSIZE`` still caps the decoded size (gzip bombs), as in Scrapy.
    """

    def __init__(self, stats: StatsCollector | None = None, *, crawler: Crawler | None = None) -> None:
        super().__init__(stats, crawler=crawler)
        self.crawler = crawler
        self.accepted = working_encodings()
        self.accept_encoding = b", ".join(self.accepted)
        self._trailing: dict[str, int] = {}
        self._report_disabled()

    def _report_disabled(self) -> None:
        for coding in ADVERTISABLE:
            if coding not in self.accepted:
                logger.warning("Accept-Encoding leaves out %s: %s", coding.decode(),
                               _disabled_reason(coding))
                if self.stats:
                    self.stats.set_value(f"archiver/encoding/disabled/{coding.decode()}", 1)

    def process_request(self, request: Request, spider: Spider | None = None) -> Request | Response | None:
        request.headers.setdefault("Accept-Encoding", self.accept_encoding)
        return None

    def _handle_encoding(self, body: bytes, content_encoding: list[bytes], max_size: int
                         ) -> tuple[bytes, list[bytes]]:
        decoded = decode_content(body, content_encoding, max_size)
        self._trailing = decoded.trailing  # read back by process_response, which knows the URL
        return decoded.body, []

    def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Request | Response:
        self._trailing = {}
        try:
            decoded = super().process_response(request, response)
        except UndecodableBodyError as exc:
            return self._undecodable(request, response, exc)
        for coding, count in self._trailing.items():
            if self.stats:
                self.stats.inc_value(f"archiver/{coding}/trailing_garbage")
            logger.info("%s: %d bytes after the end of the %s stream ignored", request.url, count, coding)
        return decoded

    def _undecodable(self, request: Request, response: Response, exc: UndecodableBodyError) -> Request:
        encoding = b",".join(response.headers.getlist("Content-Encoding")).decode("latin-1")
        size = len(response.body)
        crawler = self.crawler
        if isinstance(exc, UnsupportedEncodingError):
            if self.stats:
                self.stats.inc_value("archiver/encoding/unsupported")
            detail = f"{exc} ({size} bytes, archived as received)"
            logger.info("%s: %s", request.url, detail)
            raise IgnoreRequest(detail) from exc
        if self.stats:
            self.stats.inc_value("archiver/undecodable")
        detail = f"undecodable {encoding} body ({size} bytes): {exc}"
        logger.info("%s: %s", request.url, detail)
        if crawler is None or request.meta.get("dont_retry"):
            raise IgnoreRequest(detail) from exc
        return _retry_or_give_up(crawler, request, "undecodable body", detail)


# -- URLs -------------------------------------------------------------------------------------------


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be fetched (hostile or broken input: not http(s), no host), else None."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in {"http", "https"}:
        return f"not an http(s) URL: {url[:200]!r}"
    if not parts.hostname:
        return f"no host name: {url[:200]!r}"
    return None


def without_credentials(url: str) -> str:
    """``url`` without ``user:password@``: credentials must not be sent, archived or logged."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


# -- redirects --------------------------------------------------------------------------------------


def redirect_problem(request: Request, target: str, allowed_domains: list[str]) -> str | None:
    """Why the redirect of ``request`` to ``target`` must not be followed, else None."""
    if urlsplit(target).scheme.lower() not in {"http", "https"}:
        return f"redirect to a non-HTTP(S) URL not followed: {target[:300]}"
    if allowed_domains and not on_hosts(target, allowed_domains):  # OffsiteMiddleware's rule
        host = urlsplit(target).hostname or ""
        return f"off-site redirect not followed: {target[:300]} ({host} is not one of the site's hosts)"
    chain = [*request.meta.get("redirect_urls", []), request.url]
    if target in chain:
        return "redirect loop: " + " -> ".join(u[:300] for u in [*chain, target])
    return None


def _check_redirect(crawler: Crawler, request: Request, target: str) -> None:
    allowed = [d for d in getattr(crawler.spider, "allowed_domains", None) or [] if d]
    problem = redirect_problem(request, target, allowed)
    if problem is None:
        return
    assert crawler.stats is not None
    crawler.stats.inc_value("archiver/redirects/refused")
    logger.info("%s: %s", request.url, problem)
    raise IgnoreRequest(problem)


def _followable(crawler: Crawler, redirected: Request, request: Request) -> Request:
    """``redirected`` if it may be followed (credentials dropped), else ``IgnoreRequest``."""
    _check_redirect(crawler, request, redirected.url)
    if without_credentials(redirected.url) != redirected.url:
        redirected = redirected.replace(url=without_credentials(redirected.url))
        logger.warning("dropped the credentials of the redirect of %s to %s", request.url, redirected.url)
        assert crawler.stats is not None
        crawler.stats.inc_value("archiver/redirects/credentials_removed")
    return redirected


class GuardedRedirectMiddleware(RedirectMiddleware):
    """Scrapy's RedirectMiddleware; refused redirects (see ``redirect_problem``) fail the request,
    credentials in a redirect's URL are dropped. Stats ``archiver/redirects/refused``,
    ``archiver/redirects/credentials_removed``.
    """

    def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Request | Response:
        if self._would_follow(request, response):
            # a Location of another scheme (javascript:, data:, file:) is refused before Scrapy
            # builds a request of it (it raises ValueError on some, hands back the 3xx on others)
            location = (response.headers.get(b"Location") or b"").decode("latin-1").strip()
            target = urljoin(request.url, location)
            if urlsplit(target).scheme.lower() not in {"http", "https"}:
                _check_redirect(self.crawler, request, target)
        return super().process_response(request, response)

    def _would_follow(self, request: Request, response: Response) -> bool:
        handled = (*getattr(self.crawler.spider, "handle_httpstatus_list", ()),
                   *request.meta.get("handle_httpstatus_list", ()))
        return response.status in REDIRECT_STATUSES and b"Location" in response.headers \
            and not request.meta.get("dont_redirect") and response.status not in handled \
            and not request.meta.get("handle_httpstatus_all")

    def _redirect(self, redirected: Request, request: Request, reason: Any) -> Request:
        # Scrapy's private hook where every followed redirect passes (pinned Scrapy 2.19)
        return super()._redirect(_followable(self.crawler, redirected, request), request, reason)


class GuardedMetaRefreshMiddleware(MetaRefreshMiddleware):
    """Scrapy's MetaRefreshMiddleware with the same refusals as ``GuardedRedirectMiddleware``."""

    def _redirect(self, redirected: Request, request: Request, reason: Any) -> Request:
        return super()._redirect(_followable(self.crawler, redirected, request), request, reason)
