"""The site refusing the crawl: CDN bot walls, and ``Retry-After`` longer than the crawl will wait.

defense.gov sits behind Akamai, which answers a client it does not trust with ``403`` and its
"Access Denied ... Reference #18.xxxx" page, every time; Cloudflare-fronted sites answer ``403``
with "Attention Required! | Cloudflare" or a "Just a moment..." JavaScript challenge. Retrying such
an answer, or asking the other 50,000 URLs of the site, only deepens the block. So
``RefusalMiddleware`` (downloader middleware, 560: after decompression, before the retry
middleware) recognises refusals, fails each refused request with a reason that says what refused
it (``RefusedRequest``; never retried), and after ``ARCHIVER_REFUSALS_MAX`` refusals in a row stops
the crawl (finish reason ``refused``): requests waiting in the downloader are not sent
(``NotAsked``: left for ``--resume``, not failures). A 429/503 whose ``Retry-After`` is longer than
``ARCHIVER_RETRY_AFTER_MAX`` stops the crawl at once: the site asked for a pause longer than the
crawl will wait.

``report.json`` gets a ``refused`` object (:func:`refusal_report`); ``archiver crawl`` prints what
to try and exits with ``EXIT_REFUSED``. The refused responses are in the WARC like any other (the
WARC middleware, 950, archives them first). See docs/reliability.md ("Issue 15: the real web").
"""

from __future__ import annotations

import html
import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.utils.defer import deferred_from_coro
from twisted.python.failure import Failure

from archiver.downloadermiddlewares.retry import retry_after_seconds

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.core.downloader import Downloader
    from scrapy.crawler import Crawler
    from scrapy.http import Response

logger = logging.getLogger(__name__)

#: ``archiver crawl`` exit code when the site refused the crawl (README, docs/crawling.md)
EXIT_REFUSED = 4
#: the finish reason of a crawl stopped by refusals
FINISH_REASON = "refused"
STATS = "archiver/refusals"
#: answers that refuse whoever asks, whatever the page
ALWAYS_REFUSALS = frozenset({401, 403})
#: answers that refuse the crawler when a CDN's block or challenge page comes with them
CDN_REFUSALS = frozenset({429, 503})
#: answers that show the site lets the crawler in (they end a run of refusals)
_WELCOME_ERRORS = frozenset({404, 410})
#: how much of a body is searched for a block page's marks (they are small pages)
_SNIFF_BYTES = 64 * 1024

_AKAMAI_REFERENCE = re.compile(r"Reference\s*#\s*([0-9A-Za-z]+(?:\.[0-9A-Za-z]+)+)")
_CLOUDFLARE_RAY = re.compile(r"Ray ID:\s*(?:<[^>]*>\s*)*([0-9a-f]{8,})", re.I)
_CLOUDFLARE_CHALLENGE_RAY = re.compile(r"cRay:\s*['\"]([0-9a-f]{8,})['\"]", re.I)
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)


@dataclass(frozen=True)
class Refusal:
    """What refused one request: the status, the CDN (``""``: not recognised), the page's kind
    (``block``, ``challenge``, ``retry-after``), the reference to quote to the site's operators."""

    url: str
    status: int
    cdn: str
    kind: str
    reference: str = ""
    title: str = ""
    retry_after: float | None = None

    def reason(self) -> str:
        """The failure reason of the refused request (failures.jsonl)."""
        if self.kind == "retry-after":
            return (f"refused: HTTP {self.status} with Retry-After: {self.retry_after:g} s "
                    "(longer than ARCHIVER_RETRY_AFTER_MAX)")
        who = f"the site's CDN ({self.cdn})" if self.cdn else "the site"
        what = {"challenge": "a bot challenge page", "block": "a block page"}.get(self.kind, "no page")
        page = f" \"{self.title}\"" if self.title else ""
        reference = f", reference {self.reference}" if self.reference else ""
        return f"refused by {who}: HTTP {self.status}, {what}{page}{reference}"


class RefusedRequest(IgnoreRequest):
    """A request the site refused (a failure with its reason, asked again by ``--resume``)."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.reason())
        self.refusal = refusal
        self.status = refusal.status


class NotAsked(IgnoreRequest):
    """A request never sent because the crawl stopped: not a failure, left for ``--resume``."""


def _header(headers: Any, name: bytes) -> str:
    value = headers.get(name) if headers is not None else None
    return value.decode("latin-1").strip() if value else ""


def _text(body: bytes) -> str:
    # Akamai writes its page with character references (``Reference&#32;&#35;18&#46;...``)
    return html.unescape(body[:_SNIFF_BYTES].decode("utf-8", "replace"))


def _title(text: str) -> str:
    match = _TITLE.search(text)
    return " ".join(match.group(1).split())[:200] if match else ""


def _akamai(headers: Any, text: str) -> tuple[str, str] | None:
    """``(kind, reference)`` of an Akamai "Access Denied" answer, else None."""
    page = ("Access Denied" in text and "permission to access" in text) or "errors.edgesuite.net" in text
    if not page and not _header(headers, b"Server").lower().startswith("akamai"):
        return None
    reference = _AKAMAI_REFERENCE.search(text)
    return "block", ("#" + reference.group(1)) if reference else ""


def _cloudflare(headers: Any, text: str) -> tuple[str, str] | None:
    """``(kind, reference)`` of a Cloudflare block or challenge answer, else None."""
    server = _header(headers, b"Server").lower()
    ray = _header(headers, b"CF-RAY")
    mitigated = _header(headers, b"cf-mitigated").lower()
    challenge = mitigated == "challenge" or "Just a moment..." in text or "_cf_chl_opt" in text
    blocked = "Attention Required! | Cloudflare" in text or "Sorry, you have been blocked" in text
    if not (challenge or blocked or ray or server == "cloudflare"):
        return None
    found = _CLOUDFLARE_RAY.search(text) or _CLOUDFLARE_CHALLENGE_RAY.search(text)
    reference = ray or (found.group(1) if found else "")
    return ("challenge" if challenge else "block"), (f"Ray ID {reference}" if reference else "")


def detect_refusal(url: str, status: int, headers: Any, body: bytes) -> Refusal | None:
    """The refusal a response is, else None: any 401/403 (its CDN named when its page or headers
    show one), and a 429/503 that carries a CDN's block or challenge page."""
    if status not in ALWAYS_REFUSALS and status not in CDN_REFUSALS:
        return None
    text = _text(body)
    for cdn, sniff in (("Akamai", _akamai), ("Cloudflare", _cloudflare)):
        found = sniff(headers, text)
        if found is None:
            continue
        kind, reference = found
        if status in CDN_REFUSALS and not _is_page_of(cdn, headers, text):
            return None  # e.g. an origin's 503 passed through the CDN: a fault, retried
        return Refusal(url, status, cdn, kind, reference, _title(text))
    if status in ALWAYS_REFUSALS:
        return Refusal(url, status, "", "block" if body else "", "", _title(text))
    return None


def _is_page_of(cdn: str, headers: Any, text: str) -> bool:
    """Whether a 429/503 is the CDN's own refusal page (not the origin's error passed through)."""
    if cdn == "Akamai":
        return "Access Denied" in text or "Reference #18." in text
    return _header(headers, b"cf-mitigated") != "" or "Just a moment..." in text \
        or "Attention Required! | Cloudflare" in text


class RefusalMiddleware:
    """Fails refused requests with their reason; stops the crawl after a run of them.

    Stats (``archiver/refusals/...``): ``count``, ``in_a_row`` (the longest run), ``stopped``,
    ``cdn``, ``reference``, ``status``, ``kind``, ``url``, ``title``, ``retry_after`` (of the refusal
    that stopped the crawl, else the last one), ``not_asked``.
    """

    def __init__(self, crawler: Crawler, max_in_a_row: int, max_wait: float) -> None:
        self.crawler = crawler
        self.max_in_a_row = max_in_a_row
        self.max_wait = max_wait
        self.streak = 0
        self.stopping = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RefusalMiddleware:
        settings = crawler.settings
        limit = settings.getint("ARCHIVER_REFUSALS_MAX")
        if limit <= 0:
            raise NotConfigured("ARCHIVER_REFUSALS_MAX is 0: refusals are plain HTTP errors")
        middleware = cls(crawler, limit, settings.getfloat("ARCHIVER_RETRY_AFTER_MAX"))
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def process_request(self, request: Request) -> None:
        if self.stopping:
            raise NotAsked(f"not asked: the crawl stopped ({self._stat('reason')})")

    def process_response(self, request: Request, response: Response) -> Response:
        refusal = self._refusal(request, response)
        if refusal is None:
            if response.status < 400 or response.status in _WELCOME_ERRORS:
                self.streak = 0
            return response
        self.streak += 1
        self._record(refusal)
        if refusal.kind == "retry-after":
            self._stop(refusal, f"the site asked to wait {refusal.retry_after:g} s (Retry-After on "
                                f"an HTTP {refusal.status} answer), more than ARCHIVER_RETRY_AFTER_MAX")
        elif self.streak >= self.max_in_a_row:
            self._stop(refusal, f"{self.streak} requests in a row refused ({refusal.reason()})")
        raise RefusedRequest(refusal)

    def _refusal(self, request: Request, response: Response) -> Refusal | None:
        if response.status in CDN_REFUSALS:
            wait = retry_after_seconds(response.headers.get(b"Retry-After"))
            if wait is not None and wait > self.max_wait:
                text = _text(response.body)
                return Refusal(request.url, response.status, "", "retry-after", "", _title(text), wait)
        return detect_refusal(request.url, response.status, response.headers, response.body)

    def _record(self, refusal: Refusal) -> None:
        stats = self.crawler.stats
        assert stats is not None
        stats.inc_value(f"{STATS}/count")
        stats.max_value(f"{STATS}/in_a_row", self.streak)
        if self.stopping:
            return  # the details of the refusal that stopped the crawl are kept
        for name, value in (("url", refusal.url), ("status", refusal.status), ("cdn", refusal.cdn),
                            ("kind", refusal.kind), ("reference", refusal.reference),
                            ("title", refusal.title)):
            stats.set_value(f"{STATS}/{name}", value)
        if refusal.retry_after is not None:
            stats.set_value(f"{STATS}/retry_after", refusal.retry_after)
        logger.info("%s: %s", refusal.reason(), refusal.url)

    def _stat(self, name: str) -> Any:
        assert self.crawler.stats is not None
        return self.crawler.stats.get_value(f"{STATS}/{name}", "")

    def _stop(self, refusal: Refusal, why: str) -> None:
        if self.stopping:
            return
        self.stopping = True
        assert self.crawler.stats is not None
        self.crawler.stats.set_value(f"{STATS}/stopped", 1)
        self.crawler.stats.set_value(f"{STATS}/reason", why)
        logger.error("stopping the crawl: %s", why)
        engine = self.crawler.engine
        not_asked = drop_queued_requests(engine.downloader, why)
        self.crawler.stats.inc_value(f"{STATS}/not_asked", not_asked)
        from twisted.internet import reactor  # here: importing it early would install a reactor

        clock: Any = reactor
        clock.callLater(0, lambda: deferred_from_coro(engine.close_spider_async(reason=FINISH_REASON)))

    def spider_closed(self) -> None:
        """Count the articles left for ``--resume`` (the frontier's unfinished entries)."""
        if not self.stopping:
            return
        spider: Any = self.crawler.spider
        frontier = getattr(spider, "frontier", None)
        if frontier is not None:
            assert self.crawler.stats is not None
            self.crawler.stats.set_value(f"{STATS}/pending", frontier.pending_count())


def drop_queued_requests(downloader: Downloader, why: str) -> int:
    """Fail the requests waiting in the downloader's slots with ``NotAsked``; how many.

    Once the engine closes, it waits for every request handed to the downloader, and a request
    waiting in a slot (behind the concurrency limit or the download delay) would still be sent to
    a site that refuses the crawl. Scrapy 2.19 keeps them in ``Slot.queue`` as (request, deferred).
    """
    dropped = 0
    for slot in list(downloader.slots.values()):
        while slot.queue:
            _request, deferred = slot.queue.popleft()
            deferred.errback(Failure(NotAsked(f"not asked: the crawl stopped ({why})")))
            dropped += 1
    return dropped


def refusal_report(stats: dict[str, Any]) -> dict[str, Any] | None:
    """The ``refused`` object of report.json: the crawl was stopped by refusals, or every response
    it got was one; None when the site let the crawl in."""
    count = stats.get(f"{STATS}/count", 0)
    stopped = bool(stats.get(f"{STATS}/stopped"))
    responses = stats.get("downloader/response_count", 0)
    if not count or not (stopped or count >= responses):
        return None
    return {
        "stopped": stopped,
        "reason": stats.get(f"{STATS}/reason") or "every response was a refusal",
        "refusals": count,
        "in_a_row": stats.get(f"{STATS}/in_a_row", 0),
        "status": stats.get(f"{STATS}/status"),
        "cdn": stats.get(f"{STATS}/cdn") or None,
        "kind": stats.get(f"{STATS}/kind"),
        "reference": stats.get(f"{STATS}/reference") or None,
        "title": stats.get(f"{STATS}/title") or None,
        "url": stats.get(f"{STATS}/url"),
        "retry_after": stats.get(f"{STATS}/retry_after"),
        "not_asked": stats.get(f"{STATS}/not_asked", 0),
        "pending": stats.get(f"{STATS}/pending", 0),
    }


def summary_lines(refused: dict[str, Any]) -> list[str]:
    """What ``archiver crawl`` prints about a refused crawl, in plain words, with what to try."""
    if refused.get("kind") == "retry-after":
        wait = float(refused.get("retry_after") or 0)
        return [
            f"  REFUSED    the site asked to wait {wait:g} s ({_duration(wait)}) before asking again "
            f"(HTTP {refused.get('status')} with Retry-After, {refused.get('url')}): the crawl stopped "
            "instead of waiting that long",
            "             run the same command with --resume after that time",
        ]
    who = f"the site's CDN ({refused['cdn']})" if refused.get("cdn") else "the site"
    reference = f", reference {refused['reference']}" if refused.get("reference") else ""
    how = "stopped" if refused.get("stopped") else "ended"
    lines = [
        f"  REFUSED    {who} refused the crawler: {refused.get('refusals')} request(s) answered "
        f"HTTP {refused.get('status')}{' (a bot challenge)' if refused.get('kind') == 'challenge' else ''}"
        f"{reference}; the crawl {how} early",
        "             try: name yourself to the site's operators with --contact EMAIL_OR_URL (sent in "
        "the User-Agent);",
        "             slow down (-s DOWNLOAD_DELAY=10 -s AUTOTHROTTLE_START_DELAY=10); or fetch the "
        "history from web archives with `archiver harvest`",
    ]
    if refused.get("stopped"):
        lines.append("             then run the same command with --resume "
                     f"({refused.get('pending', 0)} article(s) found and not archived yet)")
    return lines


def _duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:g} h"
    if seconds >= 60:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"
