"""Incremental crawls: conditional GETs for known articles, and what changed since last time.

``ConditionalRequestMiddleware`` (downloader middleware) asks known article URLs with
``If-None-Match`` / ``If-Modified-Since`` from the crawl state, hands the WARC middleware the
earlier capture (so a ``304`` or an identical payload is archived as a ``revisit`` pointing at
it), lets ``304`` reach the spider, and stores what each article response said (validators,
payload digest, WARC location) in the state. ``UnsolicitedNotModifiedMiddleware`` retries, then
fails, a ``304`` no validator asked for. ``pipelines/changes.py`` decides new / updated /
unchanged from the cleaned record.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scrapy import Request
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response

from archiver.downloadermiddlewares.retry import retry_or_give_up
from archiver.runtime.gone import GONE_STATUSES, META_GONE, META_KNOWN_AS
from archiver.runtime.state import CrawlState, crawl_state, now_iso
from archiver.warc.middleware import META_PRIOR_CAPTURE, META_REVISIT
from spiders.base import META_ARTICLE, META_KNOWN

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

def incremental_state(crawler: Crawler) -> CrawlState:
    """The crawl state incremental components share, or ``NotConfigured`` when there is none."""
    state = crawl_state(crawler) if crawler.settings.getbool("ARCHIVER_INCREMENTAL") else None
    if state is None:
        raise NotConfigured("no crawl state (ARCHIVER_OUT_DIR / ARCHIVER_STATE_PATH) or incremental off")
    return state


class ConditionalRequestMiddleware:
    """Conditional GETs for known articles; validators and locations saved for the next run."""

    def __init__(self, crawler: Crawler, state: CrawlState, conditional: bool) -> None:
        self.crawler = crawler
        self.state = state
        self.conditional = conditional

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ConditionalRequestMiddleware:
        state = incremental_state(crawler)
        return cls(crawler, state, crawler.settings.getbool("ARCHIVER_CONDITIONAL_GET"))

    def process_request(self, request: Request) -> None:
        if not request.meta.get(META_ARTICLE):
            return
        known = self.state.get(request.meta.get(META_KNOWN_AS) or request.url)
        if known is None or known.gone_since:
            return
        request.meta[META_KNOWN] = True
        request.meta[META_PRIOR_CAPTURE] = known.prior_capture()
        handled = list(request.meta.get("handle_httpstatus_list", ()))
        # a removed article (404, 410; also at the end of a redirect) reaches the spider: gone
        request.meta["handle_httpstatus_list"] = [*handled, 304, *sorted(GONE_STATUSES)]
        if not self.conditional or request.meta.get("retry_times") or request.meta.get(META_KNOWN_AS):
            # a retry asks in full: the attempt before it may have saved the validators of a
            # response that turned out broken (a gzip stream that did not decode, see
            # archiver/downloadermiddlewares/httpcompression.py), and a 304 would then stand for a page never
            # received whole; a harvested article asked on the live site has the archive's validators
            return
        if known.etag:
            request.headers.setdefault(b"If-None-Match", known.etag)
        if known.last_modified:
            request.headers.setdefault(b"If-Modified-Since", known.last_modified)

    def process_response(self, request: Request, response: Response) -> Response:
        if not request.meta.get(META_ARTICLE):
            return response
        seen = now_iso()
        if response.status == 304:
            self.state.save(request.url, seen)
        elif response.status in GONE_STATUSES and request.meta.get(META_KNOWN):
            # the URL the state knows (a harvested article's archived URL, if asked for one)
            asked = (request.meta.get("redirect_urls") or [request.url])[0]
            known_url = request.meta.get(META_KNOWN_AS) or asked
            # gone since the WARC-Date of the capture that says so: what re-extraction reads back
            # from the WARC (archiver/offline/gone.py)
            since = str(request.meta.get("warc_date") or seen)
            if self.state.mark_gone(known_url, since):
                request.meta[META_GONE] = {"url": known_url, "since": since}
        elif response.status == 200:
            self._remember(request, response, seen)
        return response

    def _remember(self, request: Request, response: Response, seen: str) -> None:
        location = request.meta.get("warc") or {}
        values: dict[str, object] = {
            "status": 200,
            "etag": _header(response, b"ETag"),
            "last_modified": _header(response, b"Last-Modified"),
        }
        if location and not request.meta.get(META_REVISIT):
            # a full capture: later revisits refer to this one
            values.update(
                payload_digest=location.get("payload_digest"),
                warc_filename=location.get("filename"),
                warc_offset=location.get("offset"),
                warc_length=location.get("length"),
                warc_record_id=location.get("record_id"),
                warc_date=request.meta.get("warc_date"),
            )
        self.state.save(request.url, seen, **values)


class UnsolicitedNotModifiedMiddleware:
    """A ``304 Not Modified`` to a request without ``If-None-Match`` / ``If-Modified-Since`` is not
    an answer: there is no page behind it. The WARC middleware (950) has archived it as a plain
    response record (``archiver/warc/revisit.py``); here (946) it is retried (a retry carries no
    validators, see ``ConditionalRequestMiddleware``), then fails with the reason. Always on, also
    without a crawl state. Stat ``archiver/not_modified/unsolicited``.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> UnsolicitedNotModifiedMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Request | Response:
        if response.status != 304 or any(name in request.headers for name in _VALIDATORS):
            return response
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value("archiver/not_modified/unsolicited")
        detail = "unsolicited 304 Not Modified: the request had neither If-None-Match nor If-Modified-Since"
        logger.info("%s: %s", request.url, detail)
        if request.meta.get("dont_retry"):
            raise IgnoreRequest(detail)
        return retry_or_give_up(self.crawler, request, "unsolicited 304", detail)


_VALIDATORS = (b"If-None-Match", b"If-Modified-Since")


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None
