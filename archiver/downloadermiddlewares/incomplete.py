"""Bodies that are not whole (cut short, or an empty 200) are retried, then fail with the reason.

``IncompleteResponseMiddleware`` (945): a body cut short (``dataloss``, with
``DOWNLOAD_FAIL_ON_DATALOSS = False`` so that the WARC middleware at 950 archives it first, marked
``WARC-Truncated``) or an empty 200 is retried, then fails with its reason, instead of reaching the
spider as a broken page.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from archiver.downloadermiddlewares.retry import retry_or_give_up

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

logger = logging.getLogger(__name__)

#: request.meta flag: an empty 200 is a valid answer (a CDX query that matched nothing)
META_EMPTY_OK = "archiver_empty_ok"


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
        return retry_or_give_up(self.crawler, request, f"{kind} body", detail)


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
