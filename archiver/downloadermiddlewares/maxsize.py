"""A download past ``DOWNLOAD_MAXSIZE`` is stopped there, archived as far as received, and fails
with its reason.

Scrapy 2.19 alone (``scrapy/core/downloader/handlers/http11.py``) gives nothing to archive and no
reason a reader can use: with a ``Content-Length`` above the limit it aborts the connection before
reading the body (``DownloadCancelledError: Expected to receive N bytes ...``); a chunked body
(no ``Content-Length``) it throws away when the limit is passed and cancels with an *empty*
``DownloadCancelledError``. Here, through Scrapy's ``headers_received`` / ``bytes_received``
signals:

- a ``Content-Length`` above the limit lifts Scrapy's own check for that one request
  (``download_maxsize`` meta 0, restored when the response or error comes back), so that the body
  is read up to the limit;
- the byte that passes the limit stops the download (``StopDownload(fail=False)``): Scrapy hands
  on the response with the bytes received so far (the limit plus at most one network read);
- the WARC middleware (950) archives it with ``WARC-Truncated: length`` (``META_TRUNCATED``);
  ``DownloadMaxSizeMiddleware`` (948) then fails the request, without a retry (the page would be
  as large again): ``exceeded DOWNLOAD_MAXSIZE (33554432 bytes): ...``.

A decoded body past the limit (a gzip bomb) is still the decompression middleware's (590) to stop.
Stat ``archiver/maxsize/exceeded``. See docs/reliability.md.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import IgnoreRequest, NotConfigured, StopDownload

from archiver.warc.middleware import META_TRUNCATED

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

logger = logging.getLogger(__name__)

#: request.meta: bytes of the body received so far (reset when the headers of an attempt arrive)
META_RECEIVED = "archiver_bytes_received"
#: request.meta: the limit of a request whose Content-Length is above it (Scrapy's check lifted)
META_LIMIT = "archiver_maxsize"
#: request.meta: ``(received, content_length)`` of a download stopped at the limit
META_EXCEEDED = "archiver_maxsize_exceeded"
#: request.meta: ``(had_one, value)`` of the ``download_maxsize`` meta before it was lifted
META_SAVED = "archiver_maxsize_saved"


class DownloadMaxSizeMiddleware:
    """Stops a download at ``DOWNLOAD_MAXSIZE`` (or the request's ``download_maxsize``), keeps
    what arrived for the WARC, and fails the request with the reason. Off when the limit is 0."""

    def __init__(self, crawler: Crawler, maxsize: int) -> None:
        self.crawler = crawler
        self.maxsize = maxsize

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DownloadMaxSizeMiddleware:
        maxsize = crawler.settings.getint("DOWNLOAD_MAXSIZE")
        if maxsize <= 0:
            raise NotConfigured("DOWNLOAD_MAXSIZE is 0 (no limit)")
        middleware = cls(crawler, maxsize)
        crawler.signals.connect(middleware.headers_received, signal=signals.headers_received)
        crawler.signals.connect(middleware.bytes_received, signal=signals.bytes_received)
        return middleware

    def limit(self, request: Request) -> int:
        """The limit of ``request``: its own (``download_maxsize`` meta) or the setting's."""
        lifted = request.meta.get(META_LIMIT)
        return int(lifted if lifted is not None else request.meta.get("download_maxsize", self.maxsize))

    # -- signals (the download handler calls them; raising StopDownload stops the body) -----------

    def headers_received(self, headers: Any, body_length: Any, request: Request) -> None:
        request.meta[META_RECEIVED] = 0
        limit = self.limit(request)
        if limit and isinstance(body_length, int) and body_length > limit and META_LIMIT not in request.meta:
            # Scrapy reads download_maxsize after this signal: 0 lets it read the body, which
            # bytes_received then stops at the limit
            meta = request.meta
            meta[META_SAVED] = ("download_maxsize" in meta, meta.get("download_maxsize"))
            request.meta[META_LIMIT] = limit
            request.meta["download_maxsize"] = 0

    def bytes_received(self, data: bytes, request: Request) -> None:
        received = request.meta.get(META_RECEIVED, 0) + len(data)
        request.meta[META_RECEIVED] = received
        limit = self.limit(request)
        if limit and received > limit:
            request.meta[META_EXCEEDED] = received
            request.meta[META_TRUNCATED] = "length"
            raise StopDownload(fail=False)

    # -- the downloader middleware (948: after the WARC middleware has archived the response) ------

    def process_response(self, request: Request, response: Response) -> Response:
        limit = self.limit(request)
        self._restore(request)
        request.meta.pop(META_TRUNCATED, None)
        received = request.meta.pop(META_EXCEEDED, None)
        if received is None:
            return response
        expected = response.headers.get(b"Content-Length")
        body = (f"a body of {expected.decode('latin-1')} bytes (Content-Length)" if expected
                else "a chunked body (no Content-Length)")
        # the same words for the same page on every run (how far past the limit the last network
        # read went varies): the byte count is in the log line and the WARC record
        detail = (f"exceeded DOWNLOAD_MAXSIZE ({limit} bytes): {body}, stopped at the limit; "
                  "the part received is archived (WARC-Truncated: length)")
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value("archiver/maxsize/exceeded")
        logger.warning("%s: %s (%d bytes received)", request.url, detail, received)
        raise IgnoreRequest(detail)

    def process_exception(self, request: Request, exception: Exception) -> None:
        self._restore(request)
        request.meta.pop(META_TRUNCATED, None)
        request.meta.pop(META_EXCEEDED, None)

    @staticmethod
    def _restore(request: Request) -> None:
        """Put back the ``download_maxsize`` meta lifted for the body (retries and redirects copy
        meta; the decompression middleware reads it)."""
        request.meta.pop(META_LIMIT, None)
        request.meta.pop(META_RECEIVED, None)
        saved = request.meta.pop(META_SAVED, None)
        if saved is None:
            return
        had_one, value = saved
        if had_one:
            request.meta["download_maxsize"] = value
        else:
            request.meta.pop("download_maxsize", None)
