"""The WARC middleware of a harvest: archive captures under their original URL and time.

It replaces :class:`archiver.warc.middleware.WarcMiddleware` at the same order (950) in the harvest
spider's settings and behaves the same for every other fetch (CDX pages, robots.txt, an archive's
own 404 or 429 answer: recorded as fetched, under the URL asked, at the time of the fetch).
A request carrying ``request.meta["harvest_capture"]`` is a capture:

- ``id_`` captures (Wayback, pywb), status 200 or an archived redirect: a ``response`` record under
  the original URL at the capture time plus a provenance ``metadata`` record
  (:mod:`archiver.harvest.records`); an archived redirect to another page of the site is followed
  in the archive (``<prefix>/<same timestamp>id_/<target>``: the archive answers its capture
  nearest that time), at most ``ARCHIVER_HARVEST_MAX_REDIRECTS`` hops, never off the site's hosts,
  never in a loop;
- Range captures (Common Crawl): the answer must be exactly the promised bytes, one complete gzip
  member holding a WARC response record; a short, cut or wrong answer is retried, then fails with
  its reason (nothing of it is written: appended as it came it would break the WARC file); a good
  one is appended verbatim and handed on as the HTTP response it holds.

``request.meta["harvest_source"]`` then holds the record's ``source`` object, ``meta["warc"]`` and
``meta["warc_date"]`` the capture record's location and date, as the live crawl's middleware does.

:class:`UnreachableArchiveMiddleware` (955) stops a harvest whose archive cannot be reached.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from scrapy.exceptions import CannotResolveHostError, DownloadConnectionRefusedError, IgnoreRequest
from scrapy.http import Headers, HtmlResponse, Request, Response
from scrapy.utils.asyncio import run_in_thread
from scrapy.utils.defer import deferred_from_coro
from twisted.internet.error import ConnectError, DNSLookupError

from archiver.downloadermiddlewares.refusals import NotAsked, drop_queued_requests
from archiver.downloadermiddlewares.retry import retry_or_give_up
from archiver.harvest.captures import REDIRECT_STATUSES, timestamp_datetime, timestamp_of_datetime
from archiver.harvest.records import (
    RangeAnswerError,
    capture_response,
    provenance_record,
    read_verbatim,
)
from archiver.harvest.sources import raw_capture_of
from archiver.harvest.urlspaces import is_site_host
from archiver.warc.middleware import (
    META_DATE,
    META_LOCATION,
    WarcMiddleware,
    exchange_from_scrapy,
    sent_request_headers,
)
from archiver.warc.records import HttpExchange, warc_date
from archiver.warc.writer import EncodedRecord

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

META_CAPTURE = "harvest_capture"
META_SOURCE = "harvest_source"
META_HOPS = "harvest_redirects"
DEFAULT_MAX_REDIRECTS = 5
#: headers of a Common Crawl record's HTTP message that no longer describe the decoded payload
_PAYLOAD_FRAMING = frozenset({"content-encoding", "transfer-encoding", "content-length"})


class HarvestWarcMiddleware(WarcMiddleware):
    """WarcMiddleware for harvests (see the module docstring). Stats: ``archiver/harvest/archived``,
    ``archiver/harvest/redirects_followed``, ``archiver/harvest/bad_range``."""

    max_redirects = DEFAULT_MAX_REDIRECTS

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> HarvestWarcMiddleware:
        middleware = super().from_crawler(crawler)
        assert isinstance(middleware, HarvestWarcMiddleware)
        middleware.max_redirects = crawler.settings.getint("ARCHIVER_HARVEST_MAX_REDIRECTS")
        return middleware

    async def process_response(self, request: Request, response: Response) -> Any:
        capture = request.meta.get(META_CAPTURE)
        if capture is None:
            return await super().process_response(request, response)
        if capture.get("kind") == "range":
            return await self._range_capture(request, response, capture)
        return await self._raw_capture(request, response, capture)

    # -- id_ captures (Wayback, pywb) -----------------------------------------------------------------

    def _raw_prefix(self) -> str:
        source = getattr(self.crawler.spider, "source", None) if self.crawler else None
        return str(source.raw_prefix()) if source is not None else ""

    def _archived_redirect_target(self, request: Request, original: str, response: Response) -> str | None:
        """The target of an archived redirect (a Location outside the archive), else None."""
        if response.status not in REDIRECT_STATUSES or b"Location" not in response.headers:
            return None
        location = (response.headers.get(b"Location") or b"").decode("latin-1").strip()
        target = urljoin(original, location)
        prefix = self._raw_prefix()
        if prefix and urljoin(request.url, location).startswith(prefix):
            return None  # the archive's own redirect (another timestamp): Scrapy follows it
        return target

    async def _raw_capture(self, request: Request, response: Response, capture: dict[str, Any]) -> Any:
        found = raw_capture_of(request.url)
        if found is None or response.status not in (200, *REDIRECT_STATUSES):
            return await super().process_response(request, response)
        timestamp, original = _capture_identity(response, *found)
        target = self._archived_redirect_target(request, original, response)
        if response.status != 200 and target is None:
            return await super().process_response(request, response)
        source = _source_of(capture, timestamp, original, self._capture_url(request, timestamp, original))
        await self._write_raw(request, response, original, timestamp, source)
        if target is not None:
            return self._follow(request, timestamp, target, capture)
        return response

    def _capture_url(self, request: Request, timestamp: str, original: str) -> str:
        """The raw URL of the capture the archive answered with: an archived redirect is followed at
        the redirect's time and the archive answers with the target's nearest capture, whose own
        time is in ``timestamp``."""
        source = getattr(self.crawler.spider, "source", None) if self.crawler else None
        if source is None or raw_capture_of(request.url) == (timestamp, original):
            return request.url
        return str(source.raw_url_for(timestamp, original))

    async def _write_raw(self, request: Request, response: Response, original: str, timestamp: str,
                         source: dict[str, Any]) -> None:
        exchange = exchange_from_scrapy(request, response, self._clock())
        captured = timestamp_datetime(timestamp)
        provenance = {"source": source, "fetched_at": warc_date(exchange.fetched_at),
                      "request_headers": _text_pairs(exchange.request_headers), "status": response.status}
        args = (exchange, original, captured, source, provenance, self.writer.gzip_level)
        # digests and gzip of a ~100 KB page: the largest share of a capture's time on the reactor
        # thread; zlib and hashlib release the GIL (WARC_ENCODE_IN_THREAD)
        records = await run_in_thread(_encode_raw, *args) if self.encode_in_thread else _encode_raw(*args)
        location, _ = self._guarded(original, lambda: self.writer.append(records))
        self._remember(request, location.as_dict(), warc_date(captured), source, kind="response")

    def _follow(self, request: Request, timestamp: str, target: str, capture: dict[str, Any]) -> Request:
        chain = [*request.meta.get("redirect_urls", []), request.url]
        hops = int(request.meta.get(META_HOPS, 0)) + 1
        source = getattr(self.crawler.spider, "source", None) if self.crawler else None
        if source is None:
            raise IgnoreRequest(f"archived redirect to {target[:300]} not followed: no archive")
        if not is_site_host(_host(target)):
            raise IgnoreRequest(f"archived redirect off the site not followed: {target[:300]}")
        new_url = source.raw_url_for(timestamp, target)
        if new_url in chain or any(raw_capture_of(url) and raw_capture_of(url)[1] == target  # type: ignore[index]
                                   for url in chain):
            raise IgnoreRequest("archived redirect loop: " + " -> ".join(u[:300] for u in [*chain, new_url]))
        if hops > self.max_redirects:
            raise IgnoreRequest(f"more than {self.max_redirects} archived redirects: {chain[0][:300]}")
        self._inc("archiver/harvest/redirects_followed")
        meta = {**request.meta, "redirect_urls": chain, META_HOPS: hops}
        for key in (META_LOCATION, META_DATE, META_SOURCE):
            meta.pop(key, None)
        return request.replace(url=new_url, meta=meta, dont_filter=True)

    # -- Range captures (Common Crawl) ----------------------------------------------------------------

    async def _range_capture(self, request: Request, response: Response, capture: dict[str, Any]) -> Any:
        if response.status not in (200, 206):  # the data host's own answer (404, 503...)
            return await super().process_response(request, response)
        expected = int(capture["length"])
        try:
            if response.status == 200 and int(capture["offset"]) != 0:
                raise RangeAnswerError(f"the server ignored the Range header ({len(response.body)} bytes)")
            record = read_verbatim(response.body, expected)
        except RangeAnswerError as exc:
            self._inc("archiver/harvest/bad_range")
            logger.info("%s (%s): %s", request.url, request.headers.get(b"Range"), exc)
            detail = f"{exc} ({(request.headers.get(b'Range') or b'').decode('latin-1')})"
            return retry_or_give_up(self.crawler, request, "bad range answer", detail)  # type: ignore[arg-type]
        timestamp = timestamp_of_datetime(timestamp_datetime(capture["timestamp"]))
        source = _source_of(capture, timestamp, record.target_uri or capture["original"], request.url)
        source.update(filename=capture["filename"], offset=int(capture["offset"]), length=expected)
        level = self.writer.gzip_level
        fetched = self._clock()
        provenance = {"source": source, "fetched_at": warc_date(fetched),
                      "request_headers": _text_pairs(sent_request_headers(request, request.url)),
                      "status": response.status}
        extra = provenance_record(record.target_uri, record.record_id, provenance, fetched, level)
        location, _ = self._guarded(record.target_uri,
                                    lambda: self.writer.append([record.encoded(), extra]))
        self._remember(request, location.as_dict(), record.warc_date, source, kind="verbatim")
        headers: dict[str, list[str]] = {}
        for name, value in record.http_headers:
            if name.lower() not in _PAYLOAD_FRAMING:
                headers.setdefault(name, []).append(value)
        return response.replace(cls=HtmlResponse, status=record.status, headers=Headers(headers),
                                body=record.payload, flags=[])

    def _remember(self, request: Request, location: dict[str, Any], date: str, source: dict[str, Any],
                  kind: str) -> None:
        request.meta[META_LOCATION] = location
        request.meta[META_DATE] = date
        request.meta[META_SOURCE] = source
        self._inc("archiver/harvest/archived")
        self._inc(f"warc/records/{kind}")
        self._inc("warc/records/metadata")
        self._update_totals()


def _encode_raw(exchange: HttpExchange, original: str, captured: datetime, source: dict[str, Any],
                provenance: dict[str, Any], level: int) -> list[EncodedRecord]:
    """The response and provenance records of an ``id_`` capture (pure work: thread-safe)."""
    main = capture_response(exchange, original, captured, source, level)
    return [main, provenance_record(original, main.record_id, provenance, exchange.fetched_at, level)]


def _capture_identity(response: Response, timestamp: str, original: str) -> tuple[str, str]:
    """The capture the archive answered with: it may hold another time than asked (the nearest);
    pywb says which in ``Content-Location`` and ``Memento-Datetime``."""
    content_location = (response.headers.get(b"Content-Location") or b"").decode("latin-1")
    found = raw_capture_of(content_location) if content_location else None
    if found is not None:
        timestamp, original = found
    memento = (response.headers.get(b"Memento-Datetime") or b"").decode("latin-1")
    if memento:
        try:
            timestamp = timestamp_of_datetime(parsedate_to_datetime(memento))
        except (TypeError, ValueError, IndexError):
            logger.debug("unreadable Memento-Datetime %r", memento)
    return timestamp_of_datetime(timestamp_datetime(timestamp)), original


def _source_of(capture: dict[str, Any], timestamp: str, original: str, capture_url: str) -> dict[str, Any]:
    """The ``source`` object of a record harvested from an archive."""
    source: dict[str, Any] = {
        "archive": capture["archive"],
        "timestamp": timestamp,
        "captured_at": timestamp_datetime(timestamp).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "capture_url": capture_url,
        "original_url": original,
    }
    if capture.get("index"):
        source["crawl"] = capture["index"]
    return source


def _host(url: str) -> str:
    return urlsplit(url).hostname or ""


def _text_pairs(pairs: Sequence[Any]) -> list[list[str]]:
    def text(value: Any) -> str:
        return value.decode("latin-1") if isinstance(value, bytes) else str(value)

    return [[text(name), text(value)] for name, value in pairs]


#: exceptions of a fetch that say the archive's host cannot be reached at all: refused, no such
#: host, no route, connect timeout (not a slow answer: ``DownloadTimeoutError``)
UNREACHABLE_ERRORS = (DownloadConnectionRefusedError, CannotResolveHostError, ConnectError, DNSLookupError)
#: unreachable fetches in a row that stop a harvest the archive did answer before (it went away)
UNREACHABLE_IN_A_ROW = 10
#: the finish reason of a harvest stopped because the archive cannot be reached
FINISH_UNREACHABLE = "unreachable"
UNREACHABLE_STAT = "archiver/harvest/unreachable"


class UnreachableArchiveMiddleware:
    """Stops a harvest whose archive cannot be reached (downloader middleware, 955: it sees every
    attempt, retries included, before the retry middleware).

    Without it, an archive that refuses connections (wrong port, down, no such host) had every CDX
    query of every URL space asked and retried, one after the other, each ending in the same
    failure. Now: once the archive has failed one request's worth of attempts in a row
    (``RETRY_TIMES`` + 1) without answering anything in this run, or ``UNREACHABLE_IN_A_ROW``
    fetches in a row after it did answer, the harvest stops (finish reason ``unreachable``, the
    reason in the ``archiver/harvest/unreachable`` stat and the summary); requests not sent yet are
    ``NotAsked`` (left for ``--resume``, not failures).
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.first_limit = max(1, crawler.settings.getint("RETRY_TIMES") + 1)
        self.in_a_row = 0
        self.answered = False
        self.stopping = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> UnreachableArchiveMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        if self.stopping:
            raise NotAsked(f"not asked: the harvest stopped ({self._stat()})")

    def process_response(self, request: Request, response: Response) -> Response:
        self.answered = True
        self.in_a_row = 0
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        if not isinstance(exception, UNREACHABLE_ERRORS) or self.stopping:
            return
        self.in_a_row += 1
        limit = UNREACHABLE_IN_A_ROW if self.answered else self.first_limit
        if self.in_a_row < limit:
            return
        why = f"the archive cannot be reached ({urlsplit(request.url).netloc}: {exception})"
        if self.answered:
            why += f", {self.in_a_row} fetches in a row"
        self._stop(why)

    def _stat(self) -> str:
        assert self.crawler.stats is not None
        return str(self.crawler.stats.get_value(UNREACHABLE_STAT, ""))

    def _stop(self, why: str) -> None:
        self.stopping = True
        stats = self.crawler.stats
        assert stats is not None
        stats.set_value(UNREACHABLE_STAT, why)
        logger.error("stopping the harvest: %s", why)
        engine = self.crawler.engine
        stats.inc_value("archiver/harvest/not_asked", drop_queued_requests(engine.downloader, why))
        from twisted.internet import reactor  # here: importing it early would install a reactor

        clock: Any = reactor
        clock.callLater(0, lambda: deferred_from_coro(engine.close_spider_async(reason=FINISH_UNREACHABLE)))
