"""Scrapy downloader middleware writing every fetch to WARC (thin: see records/writer).

Register at order 950 (``DOWNLOADER_MIDDLEWARES = {"archiver.warc.middleware.WarcMiddleware":
950}``): ``process_response`` runs from high to low order, so at 950 it sees each response
before HttpCacheMiddleware (900), RedirectMiddleware (600), HttpCompressionMiddleware (590)
and RetryMiddleware (550) touch it: the body is still gzip, 301s and 404s are visible. The
request it records has been through every ``process_request`` below 950 (User-Agent,
default headers, Accept-Encoding, cookies). See docs/warc.md.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urldefrag, urlsplit

from scrapy import signals
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.utils.asyncio import run_in_thread

from archiver import settings as defaults
from archiver.downloadermiddlewares.useragent import user_agent
from archiver.runtime.diskfull import DISK_FULL_ERRNOS, is_disk_full, stop_for_full_disk
from archiver.warc.index import BackgroundIndexer
from archiver.warc.records import (
    Clock,
    HeaderPair,
    HttpExchange,
    PriorCapture,
    RecordIdFactory,
    RevisitOf,
    new_record_id,
    payload_digest,
    serialize_capture,
    serialize_conversion,
    software_name,
    utc_now,
    warc_date,
)
from archiver.warc.revisit import RevisitPolicy, prior_capture_from
from archiver.warc.writer import (
    EncodedRecord,
    RecordLocation,
    WarcRollingWriter,
    encode_serialized,
)

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.settings import BaseSettings
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

MIDDLEWARE_ORDER = 950
META_LOCATION = "warc"
META_DATE = "warc_date"
META_PRIOR_CAPTURE = "warc_prior_capture"
META_REVISIT = "warc_revisit"
#: request.meta: the capture a revisit record refers to (target_uri, warc_date, record_id, payload_digest)
META_REVISIT_OF = "warc_revisit_of"
#: request.meta: a WARC-Truncated reason (``length``...) set by whatever cut this download short
META_TRUNCATED = "warc_truncated"


class DiskFullError(IgnoreRequest):
    """The WARC could not be written: the disk (or a quota) is full. Not the page's failure."""
  # set to the revisit profile when a revisit record was written
_ARCHIVED_SCHEMES = ("http", "https")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_UNRECORDED_REQUEST_HEADERS = frozenset({b"proxy-authorization"})
#: media types whose bytes are compressed already (a second deflate gains next to nothing)
_COMPRESSED_MEDIA = (b"image/", b"video/", b"audio/", b"application/zip", b"application/gzip",
                     b"application/x-gzip", b"application/pdf", b"font/woff")
_WARCINFO_SETTINGS = (
    "BOT_NAME",
    "USER_AGENT",
    "ROBOTSTXT_OBEY",
    "CONCURRENT_REQUESTS",
    "CONCURRENT_REQUESTS_PER_DOMAIN",
    "DOWNLOAD_DELAY",
    "AUTOTHROTTLE_ENABLED",
    "AUTOTHROTTLE_TARGET_CONCURRENCY",
    "DEPTH_LIMIT",
)


def warcinfo_fields(
    settings: BaseSettings, spider_name: str | None, effective: Mapping[str, Any]
) -> dict[str, object]:
    """The warcinfo fields: software, format, robots policy and the crawl settings.

    ``effective`` holds the values in force for settings read with a fallback default.
    """
    crawl_settings = {name: settings.get(name) for name in _WARCINFO_SETTINGS}
    return {
        "software": software_name(),
        "format": "WARC File Format 1.1",
        "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
        "isPartOf": spider_name,
        "http-header-user-agent": user_agent(settings),  # the one requests carry (the UA middleware)
        "robots": "obey" if settings.getbool("ROBOTSTXT_OBEY") else "ignore",
        "crawl-settings": crawl_settings | dict(effective),
    }


def _header_pairs(headers: Mapping[Any, Any]) -> list[HeaderPair]:
    """Scrapy Headers (name -> list of values) as pairs, every repeated value kept."""
    return [(name, value) for name, values in headers.items() for value in values]


def _as_bytes(value: str | bytes) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else value


def _host_header(url: str) -> str:
    # What twisted.web.client.Agent adds when the request has no Host header.
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    default_port = _DEFAULT_PORTS.get(parts.scheme)
    if parts.port is not None and parts.port == default_port:
        host = host.rpartition(":")[0]
    return host


def sent_request_headers(request: Request, url: str) -> list[HeaderPair]:
    """The request headers as Twisted's HTTP/1.1 client writes them for Scrapy.

    Twisted writes Content-Length (when there is a body) before the headers and appends
    ``Host`` (when missing) after them; Scrapy's header names are Title-Cased. Proxy
    credentials are for the proxy, not the site, and stay out of the archive.
    """
    pairs = [
        (name, value)
        for name, value in _header_pairs(request.headers)
        if _as_bytes(name).lower() not in _UNRECORDED_REQUEST_HEADERS
    ]
    names = {_as_bytes(name).lower() for name, _ in pairs}
    if request.body and b"content-length" not in names:
        pairs.insert(0, (b"Content-Length", str(len(request.body)).encode("ascii")))
    if b"host" not in names:
        pairs.append((b"Host", _host_header(url).encode("utf-8")))
    return pairs


def payload_is_compressed(headers: Sequence[HeaderPair]) -> bool:
    """Whether a response body is compressed already: a ``Content-Encoding`` other than
    ``identity`` (the WARC keeps the body as sent, still gzip), or a compressed media type
    (JPEG, video, PDF...; ``image/svg+xml`` is text)."""
    for name, value in headers:
        lowered = _as_bytes(name).lower()
        if lowered == b"content-encoding" and _as_bytes(value).strip().lower() not in (b"", b"identity"):
            return True
        if lowered == b"content-type":
            media = _as_bytes(value).strip().lower()
            if media.startswith(_COMPRESSED_MEDIA) and not media.startswith(b"image/svg"):
                return True
    return False


def truncation_reason(flags: list[str]) -> str | None:
    """WARC-Truncated reason from Scrapy's response flags (body cut short), else None."""
    if "dataloss" in flags:
        return "disconnect"  # DOWNLOAD_FAIL_ON_DATALOSS=False let a broken body through
    if "download_stopped" in flags:
        return "unspecified"  # a headers_received/bytes_received handler raised StopDownload
    return None


def exchange_from_scrapy(
    request: Request, response: Response, fetched_at: datetime
) -> HttpExchange:
    """An HttpExchange from what Scrapy kept of a fetch (see docs/warc.md for the gaps)."""
    url = urldefrag(request.url)[0]
    protocol = response.protocol
    is_http1 = protocol is None or protocol.upper().startswith("HTTP/1")
    return HttpExchange(
        method=request.method,
        url=url,
        request_headers=sent_request_headers(request, url),
        request_body=request.body,
        protocol=protocol,
        request_protocol="HTTP/1.1" if is_http1 else None,
        status=response.status,
        response_headers=_header_pairs(response.headers),
        response_body=response.body,
        ip_address=str(response.ip_address) if response.ip_address is not None else None,
        fetched_at=fetched_at,
        truncated=request.meta.get(META_TRUNCATED) or truncation_reason(response.flags),
    )


class WarcMiddleware:
    """Write a request + response (or revisit) record pair for every downloaded response.

    The response record's location goes to ``request.meta["warc"]`` (a dict of filename,
    offset, length, record_id, payload_digest) and its WARC-Date to
    ``request.meta["warc_date"]``, so extraction can copy both into the item.
    """

    def __init__(
        self,
        writer: WarcRollingWriter,
        *,
        stats: StatsCollector | None = None,
        revisits: RevisitPolicy | None = None,
        indexer: BackgroundIndexer | None = None,
        encode_in_thread: bool = False,
        compressed_gzip_level: int | None = None,
        clock: Clock = utc_now,
        make_id: RecordIdFactory = new_record_id,
    ) -> None:
        self.writer = writer
        self.stats = stats
        self.revisits = revisits if revisits is not None else RevisitPolicy()
        self.indexer = indexer
        self.encode_in_thread = encode_in_thread
        if compressed_gzip_level is not None and not 0 <= compressed_gzip_level <= 9:
            raise ValueError(f"compressed_gzip_level must be 0-9, got {compressed_gzip_level}")
        #: zlib level of a response record whose payload is compressed already (None: the writer's)
        self.compressed_gzip_level = compressed_gzip_level
        self._clock = clock
        self._make_id = make_id
        self.crawler: Crawler | None = None
        self._stopping = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcMiddleware:
        # the middleware also runs in a crawl without the archiver's settings (a plain Scrapy
        # project, tests): the defaults are archiver/settings.py's, read from there
        settings = crawler.settings
        warc_dir = settings.get("WARC_DIR")
        if not warc_dir:
            raise NotConfigured("WARC_DIR must be set")
        effective: dict[str, Any] = {
            "WARC_MAX_SIZE": settings.getint("WARC_MAX_SIZE", defaults.WARC_MAX_SIZE),
            "WARC_GZIP_LEVEL": settings.getint("WARC_GZIP_LEVEL", defaults.WARC_GZIP_LEVEL),
            "WARC_GZIP_LEVEL_COMPRESSED": settings.getint("WARC_GZIP_LEVEL_COMPRESSED",
                                                          defaults.WARC_GZIP_LEVEL_COMPRESSED),
            "WARC_DEDUPE": settings.getbool("WARC_DEDUPE", defaults.WARC_DEDUPE),
            "WARC_DEDUPE_MEMORY": settings.getint("WARC_DEDUPE_MEMORY", defaults.WARC_DEDUPE_MEMORY),
        }
        indexer = None
        if settings.getbool("WARC_CDXJ", defaults.WARC_CDXJ):
            index_dir = settings.get("WARC_INDEX_DIR")
            indexer = BackgroundIndexer(
                index_dir=Path(index_dir) if index_dir else None,
                on_error=lambda path, exc: _index_failed(crawler, path, exc),
            )
        spider_name = getattr(crawler.spidercls, "name", None)
        writer = WarcRollingWriter(
            Path(warc_dir),
            prefix=settings.get("WARC_PREFIX") or defaults.WARC_PREFIX,
            max_size=effective["WARC_MAX_SIZE"],
            gzip_level=effective["WARC_GZIP_LEVEL"],
            worker=settings.get("WARC_WORKER") or None,
            warcinfo_fields=warcinfo_fields(settings, spider_name, effective),
            on_file_indexed=indexer,
        )
        middleware = cls(
            writer,
            stats=crawler.stats,
            revisits=RevisitPolicy(dedupe=effective["WARC_DEDUPE"], memory=effective["WARC_DEDUPE_MEMORY"]),
            indexer=indexer,
            encode_in_thread=settings.getbool("WARC_ENCODE_IN_THREAD", defaults.WARC_ENCODE_IN_THREAD),
            compressed_gzip_level=effective["WARC_GZIP_LEVEL_COMPRESSED"],
        )
        middleware.crawler = crawler
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    async def process_response(self, request: Request, response: Response) -> Response:
        if "cached" in response.flags:
            # Served by HttpCacheMiddleware (900) from process_request: not a fetch.
            self._inc("warc/skipped/cached")
            return response
        if urlsplit(request.url).scheme not in _ARCHIVED_SCHEMES:
            self._inc("warc/skipped/scheme")
            return response
        exchange = exchange_from_scrapy(request, response, self._clock())
        prior = prior_capture_from(request.meta.get(META_PRIOR_CAPTURE))
        if self.encode_in_thread:
            encoded, revisit = await run_in_thread(self._encode, exchange, prior)
        else:
            encoded, revisit = self._encode(exchange, prior)
        location = self._append(encoded, exchange, revisit)
        request.meta[META_LOCATION] = location.as_dict()
        request.meta[META_DATE] = warc_date(exchange.fetched_at)
        if revisit is not None:
            request.meta[META_REVISIT] = str(revisit.profile)
            prior = revisit.prior
            if prior is not None:
                request.meta[META_REVISIT_OF] = {
                    "target_uri": prior.target_uri, "warc_date": prior.warc_date or "",
                    "record_id": prior.record_id or "", "payload_digest": prior.payload_digest or ""}
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        """Nothing was received, so nothing is archived; count it."""
        self._inc("warc/fetch_errors")
        self._inc(f"warc/fetch_errors/{type(exception).__name__}")

    def write_conversion(
        self,
        payload: bytes,
        *,
        refers_to: str,
        target_uri: str,
        content_type: str = "application/json",
    ) -> RecordLocation:
        """Write a ``conversion`` record (e.g. the cleaned article JSON) for a response.

        Call it from the crawl's thread (item pipelines run there), like every write.
        """
        record = serialize_conversion(
            payload,
            target_uri=target_uri,
            refers_to=refers_to,
            content_type=content_type,
            make_id=self._make_id,
            clock=self._clock,
        )
        encoded = encode_serialized(record, self.writer.gzip_level)
        [location] = self._guarded(target_uri, lambda: self.writer.append([encoded]))
        self._inc("warc/records/conversion")
        self._update_totals()
        return location

    def spider_closed(self) -> None:
        """Close the current WARC file and wait for its CDXJ index."""
        self.writer.close()
        if self.indexer is not None:
            self.indexer.wait()
        self._update_totals()

    def _encode(
        self, exchange: HttpExchange, prior: PriorCapture | None
    ) -> tuple[list[EncodedRecord], RevisitOf | None]:
        # Pure work (digests, serialization, gzip): safe on a worker thread.
        digest = payload_digest(exchange.response_body)
        revisit = self.revisits.decide(exchange, digest, prior)
        main, request = serialize_capture(exchange, revisit=revisit, make_id=self._make_id,
                                          response_digest=digest)
        level = self.writer.gzip_level
        main_level = level
        if revisit is None and self.compressed_gzip_level is not None \
                and payload_is_compressed(exchange.response_headers):
            # the body is gzip (or JPEG...) already: deflating it again costs ~0.8 ms per 33 KB
            # for ~1 % fewer bytes (docs/performance.md); the record's headers are the 1 %
            main_level = self.compressed_gzip_level
        return [encode_serialized(main, main_level), encode_serialized(request, level)], revisit

    def _append(
        self, encoded: list[EncodedRecord], exchange: HttpExchange, revisit: RevisitOf | None
    ) -> RecordLocation:
        main, _request = self._guarded(exchange.url, lambda: self.writer.append(encoded))
        if revisit is None:
            self.revisits.remember(exchange, main.payload_digest or "", main.record_id)
        self._inc("warc/records/request")
        self._inc("warc/records/revisit" if revisit else "warc/records/response")
        self._update_totals()
        return main

    def _guarded(self, url: str, write: Callable[[], list[RecordLocation]]) -> list[RecordLocation]:
        """Run a write; a full disk stops the crawl and raises ``DiskFullError``."""
        try:
            return write()
        except OSError as exc:
            self._inc("warc/errors")
            if exc.errno in DISK_FULL_ERRNOS:
                self._stop_for_full_disk(exc)
                raise DiskFullError(f"disk full: the WARC records of {url} were not written") from exc
            logger.error("Could not write WARC records for %s", url, exc_info=True)
            raise

    def _stop_for_full_disk(self, exc: OSError) -> None:
        """Stop the crawl cleanly: the WARC files stay valid, and ``--resume`` continues later."""
        if self._stopping:
            return
        self._stopping = True
        logger.error("disk full: cannot write to %s (%s); stopping the crawl. Free some space, then "
                     "run the same command with --resume", self.writer.directory, exc.strerror)
        if self.crawler is None or self.crawler.engine is None:
            return
        from scrapy.utils.defer import deferred_from_coro
        from twisted.internet import reactor

        engine = self.crawler.engine
        clock: Any = reactor
        clock.callLater(0, lambda: deferred_from_coro(engine.close_spider_async(reason="disk_full")))

    def _inc(self, key: str) -> None:
        _inc(self.stats, key)

    def _update_totals(self) -> None:
        if self.stats is not None:
            self.stats.set_value("warc/bytes", self.writer.bytes_written)
            self.stats.set_value("warc/files", self.writer.files_started)


def _index_failed(crawler: Crawler, path: Path, exc: BaseException) -> None:
    """A CDXJ index could not be written (indexer thread); a full disk stops the crawl."""
    _inc(crawler.stats, "warc/index_errors")
    if is_disk_full(exc):
        stop_for_full_disk(crawler, exc, f"the CDXJ index of {path.name}")


def _inc(stats: StatsCollector | None, key: str) -> None:
    if stats is not None:
        stats.inc_value(key)


def find_warc_middleware(crawler: Crawler) -> WarcMiddleware | None:
    """The running crawl's WarcMiddleware (e.g. for a pipeline writing conversion records)."""
    return crawler.get_downloader_middleware(WarcMiddleware)
