"""Strict decompression: a corrupt or cut Content-Encoding stream is retried, then fails.

``StrictHttpCompressionMiddleware`` (replaces Scrapy's ``HttpCompressionMiddleware``, 590): Scrapy's
``gunzip`` returns whatever decoded before a corrupt byte or a missing end, so a broken gzip stream
became a silently truncated page; here it is retried, then fails with its reason.
``Accept-Encoding`` names only the codings whose decoder works in this process, and a body in any
other coding fails at once with the reason (:mod:`archiver.warc.compression`).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.exceptions import IgnoreRequest

from archiver.downloadermiddlewares.retry import retry_or_give_up
from archiver.warc.compression import (  # noqa: F401  (MAX_GZIP_MEMBERS, strict_gunzip: re-exported)
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

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)


def _disabled_reason(coding: bytes) -> str:
    problem = decoder_problem(coding)
    if problem is not None:
        return f"its decoder does not work in this Python ({problem})"
    return str(advertise_problem(coding))


class StrictHttpCompressionMiddleware(HttpCompressionMiddleware):
    """Scrapy's HttpCompressionMiddleware with the decoders of :mod:`archiver.warc.compression`.

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
        return retry_or_give_up(crawler, request, "undecodable body", detail)
