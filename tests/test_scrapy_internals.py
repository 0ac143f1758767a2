"""Guards on the private Scrapy, Twisted and warcio internals the archiver relies on.

Each row of the table in docs/decisions.md ("Private Scrapy internals") has a test here. They run
the installed library (no crawl, no network) and fail with a message naming what changed and which
archiver code depends on it, so that upgrading Scrapy (pinned in pyproject.toml) breaks here, loudly,
and not as a silent change of behaviour in a crawl.
"""

from __future__ import annotations

import ast
import gzip
import inspect
import textwrap
from collections.abc import Callable
from typing import Any

import pytest
from scrapy import Request, Spider
from scrapy.core.downloader import Downloader
from scrapy.core.downloader import Slot as DownloaderSlot
from scrapy.core.engine import ExecutionEngine
from scrapy.core.scraper import Scraper
from scrapy.core.scraper import Slot as ScraperSlot
from scrapy.downloadermiddlewares import httpcompression
from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.downloadermiddlewares.redirect import BaseRedirectMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.extensions.feedexport import FeedExporter, FeedSlot
from scrapy.http import HtmlResponse, Response
from scrapy.utils import _compression
from scrapy.utils.test import get_crawler
from twisted.internet.defer import Deferred
from twisted.web import http
from warcio.bufferedreaders import BufferedReader
from warcio.statusandheaders import StatusAndHeaders

from archiver.downloadermiddlewares.httpcompression import StrictHttpCompressionMiddleware
from archiver.downloadermiddlewares.redirect import GuardedMetaRefreshMiddleware, GuardedRedirectMiddleware

WHERE = "see docs/decisions.md, 'Private Scrapy internals'"


def parameters(function: Callable[..., Any]) -> list[str]:
    return list(inspect.signature(function).parameters)


def assert_parameters(function: Callable[..., Any], expected: list[str], user: str) -> None:
    found = parameters(function)
    assert found == expected, (f"{function.__qualname__} now takes {found}, {user} expects {expected} "
                               f"({WHERE})")


def attributes_set_by(init: Callable[..., Any]) -> set[str]:
    """The ``self.<name>`` an ``__init__`` assigns, read from its source."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(init)))
    return {node.attr for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store)
            and isinstance(node.value, ast.Name) and node.value.id == "self"}


def assert_sets(cls: type, names: set[str], user: str) -> None:
    missing = names - attributes_set_by(cls.__init__)
    assert not missing, f"{cls.__qualname__} no longer sets {sorted(missing)}, which {user} reads ({WHERE})"


def assert_source_mentions(function: Callable[..., Any], text: str, user: str) -> None:
    assert text in inspect.getsource(function), (
        f"{function.__qualname__} no longer uses {text!r}, which {user} relies on ({WHERE})")


@pytest.fixture
def crawler() -> Any:
    return get_crawler(Spider, {"DOWNLOAD_MAXSIZE": 1000})


# -- overridden private hooks ---------------------------------------------------------------------


def test_redirect_middlewares_still_pass_every_followed_redirect_through_redirect() -> None:
    assert_parameters(BaseRedirectMiddleware._redirect, ["self", "redirected", "request", "reason"],
                      "archiver.downloadermiddlewares.redirect.GuardedRedirectMiddleware._redirect")


@pytest.mark.parametrize("middleware", [GuardedRedirectMiddleware, GuardedMetaRefreshMiddleware])
def test_the_guarded_redirect_hook_is_reached(middleware: type, crawler: Any) -> None:
    """A followed redirect reaches our ``_redirect`` (it drops the URL's credentials)."""
    request = Request("http://127.0.0.1/a")
    target = "http://user:secret@127.0.0.1/b"
    response: Response
    if middleware is GuardedRedirectMiddleware:
        response = Response(request.url, status=301, headers={"Location": target})
    else:
        body = f'<html><head><meta http-equiv="refresh" content="0;url={target}"></head></html>'
        response = HtmlResponse(request.url, body=body.encode())
    followed = middleware.from_crawler(crawler).process_response(request, response)
    assert isinstance(followed, Request), f"{middleware.__name__} did not follow the redirect"
    assert followed.url == "http://127.0.0.1/b", (
        f"Scrapy's {middleware.__mro__[1].__name__} no longer calls _redirect ({WHERE})")
    assert crawler.stats.get_value("archiver/redirects/credentials_removed") == 1


def test_http_compression_still_decodes_through_handle_encoding() -> None:
    assert_parameters(HttpCompressionMiddleware._handle_encoding,
                      ["self", "body", "content_encoding", "max_size"],
                      "archiver.downloadermiddlewares.httpcompression.StrictHttpCompressionMiddleware._handle_encoding")
    assert_source_mentions(HttpCompressionMiddleware.process_response, "self._handle_encoding(",
                           "StrictHttpCompressionMiddleware")


def test_the_strict_decoders_are_reached(crawler: Any) -> None:
    """Our ``_handle_encoding`` decodes (it reports the bytes after a complete gzip member)."""
    request = Request("http://127.0.0.1/a")
    body = gzip.compress(b"x" * 100) + b"\r\n"
    response = Response(request.url, headers={"Content-Encoding": "gzip"}, body=body)
    decoded = StrictHttpCompressionMiddleware.from_crawler(crawler).process_response(request, response)
    assert isinstance(decoded, Response)
    assert decoded.body == b"x" * 100
    assert crawler.stats.get_value("archiver/gzip/trailing_garbage") == 1, (
        f"HttpCompressionMiddleware.process_response no longer calls _handle_encoding ({WHERE})")


# -- scrapy.utils._compression: Scrapy's DOWNLOAD_MAXSIZE check -------------------------------------


def test_check_max_size_raises_what_the_compression_middleware_catches() -> None:
    assert_parameters(_compression._check_max_size, ["decompressed_size", "max_size"],
                      "archiver.warc.compression")
    assert httpcompression._DecompressionMaxSizeExceeded is _compression._DecompressionMaxSizeExceeded, (
        f"HttpCompressionMiddleware catches another exception than _check_max_size raises ({WHERE})")
    with pytest.raises(_compression._DecompressionMaxSizeExceeded):
        _compression._check_max_size(11, 10)
    _compression._check_max_size(11, 0)  # 0: no limit


def test_a_bomb_through_the_strict_decoders_gets_scrapys_maxsize_message(crawler: Any) -> None:
    request = Request("http://127.0.0.1/a")
    response = Response(request.url, headers={"Content-Encoding": "gzip"}, body=gzip.compress(b"x" * 5000))
    with pytest.raises(IgnoreRequest, match="exceeded DOWNLOAD_MAXSIZE"):
        StrictHttpCompressionMiddleware.from_crawler(crawler).process_response(request, response)


# -- the downloader's slots (pause_host, the Crawl-delay, drop_queued_requests) ---------------------


def test_the_downloader_keeps_slots_and_requests_where_archiver_reads_them() -> None:
    assert_sets(Downloader, {"slots", "active", "per_slot_settings", "middleware"},
                "archiver (pause_host, CrawlDelayMiddleware, drop_queued_requests, the Redis tracker)")
    assert_parameters(Downloader.get_slot_key, ["self", "request"], "CrawlDelayMiddleware, pause_host")
    assert_source_mentions(Downloader._get_slot, "per_slot_settings", "CrawlDelayMiddleware")
    assert_sets(DownloaderSlot, {"delay", "queue", "lastseen", "latercall"},
                "pause_host, CrawlDelayMiddleware, drop_queued_requests")


def test_a_pending_latercall_holds_the_slots_queue_until_latercall_runs() -> None:
    """``pause_host`` sets ``Slot.latercall`` to ``call_later(seconds, downloader._latercall, slot)``."""
    assert_parameters(Downloader._latercall, ["self", "slot"],
                      "archiver.downloadermiddlewares.retry.pause_host")
    downloader = Downloader.__new__(Downloader)  # _process_queue returns before touching it
    slot = DownloaderSlot(concurrency=1, delay=0)
    request = Request("http://127.0.0.1/a")
    slot.queue.append((request, Deferred()))
    slot.latercall = object()  # type: ignore[assignment]  # any pending call
    downloader._process_queue(slot)
    assert [queued for queued, _deferred in slot.queue] == [request], (
        f"a pending Slot.latercall no longer holds the slot's queue ({WHERE})")
    slot.queue.clear()
    downloader._latercall(slot)
    assert slot.latercall is None


# -- the engine and the scraper (the Redis tracker, progress) -------------------------------------


def test_the_engine_and_scraper_keep_the_requests_in_progress_where_the_tracker_reads_them() -> None:
    user = "archiver.distributed.tracker.engine_busy_requests"
    assert_sets(ExecutionEngine, {"downloader", "scraper"}, user)
    assert_sets(Scraper, {"slot"}, user)
    slot = ScraperSlot()
    request = Request("http://127.0.0.1/a")
    slot.add_response_request(Response(request.url), request)
    queued = [entry[1] for entry in slot.queue]
    assert queued == [request], f"Scraper Slot.queue no longer holds (result, request, deferred) ({WHERE})"
    slot.next_response_request_deferred()
    assert request in slot.active, f"a request being scraped is no longer in Scraper Slot.active ({WHERE})"


def test_an_engine_without_a_slot_cannot_close_its_spider() -> None:
    """``stop_for_full_disk`` closes the spider only while the engine has its slot (else
    ``close_spider_async`` raises: the spider is closed or not open yet)."""
    user = "archiver.runtime.diskfull.stop_for_full_disk"
    assert_sets(ExecutionEngine, {"_slot"}, user)
    assert_source_mentions(ExecutionEngine.close_spider_async, "if self._slot is None:", user)


def test_the_feed_exporter_keeps_its_open_files_in_slots() -> None:
    user = "archiver.distributed.tracker.flush_outputs"
    assert_sets(FeedExporter, {"slots"}, user)
    assert_sets(FeedSlot, {"file"}, user)


# -- scrapy-redis (the distributed crawl's scheduler and queue) -----------------------------------


def test_scrapy_redis_still_decodes_and_keeps_what_the_distributed_scheduler_uses() -> None:
    queue = pytest.importorskip("scrapy_redis.queue")  # the distributed extra (in the test venv)
    scheduler = pytest.importorskip("scrapy_redis.scheduler")
    assert_parameters(queue.Base._decode_request, ["self", "encoded_request"],
                      "archiver.distributed.queue.TrackedPriorityQueue.pop_tracked")
    assert_sets(scheduler.Scheduler, {"server", "queue_key", "df", "serializer", "stats"},
                "archiver.distributed.scheduler.DistributedScheduler")


# -- Twisted and warcio ---------------------------------------------------------------------------


def test_twisted_requests_still_say_when_their_client_went_away() -> None:
    assert isinstance(getattr(http.Request, "_disconnected", None), bool), (
        f"twisted.web.http.Request._disconnected is gone: archiver.replica.faults reads it ({WHERE})")


def test_warcio_still_picks_its_decompressor_from_the_class_table() -> None:
    assert "br" in getattr(BufferedReader, "DECOMPRESSORS", {}), (
        f"warcio's BufferedReader.DECOMPRESSORS changed: archiver.warc.compression.repair_warcio_brotli "
        f"replaces its 'br' entry ({WHERE})")
    assert_source_mentions(BufferedReader._init_decomp, "self.DECOMPRESSORS[", "repair_warcio_brotli")


def test_warcio_still_serializes_http_headers_from_headers_buff() -> None:
    assert_parameters(StatusAndHeaders.compute_headers_buffer, ["self", "header_filter"],
                      "archiver.warc.records._WireHeaders")
    headers = StatusAndHeaders("200 OK", [("X-Name", "caf\xe9")], protocol="HTTP/1.1")
    headers.compute_headers_buffer()
    assert isinstance(headers.headers_buff, bytes), (
        f"StatusAndHeaders.compute_headers_buffer no longer fills headers_buff ({WHERE})")


def test_scrapys_duplicate_filter_still_loads_a_jobdir_into_fingerprints(tmp_path: Any) -> None:
    from scrapy.dupefilters import RFPDupeFilter

    from archiver.runtime.dupefilter import CompactDupeFilter

    first = RFPDupeFilter(str(tmp_path))
    first.request_seen(Request("https://www.defense.gov/a"))
    first.close("finished")
    loaded = RFPDupeFilter(str(tmp_path))
    try:
        expected = {first.fingerprinter.fingerprint(Request("https://www.defense.gov/a"))}
        assert getattr(loaded, "_fingerprints", None) == expected, (
            "RFPDupeFilter no longer loads requests.seen into _fingerprints: "
            "archiver/runtime/dupefilter.py CompactDupeFilter reads a JOBDIR from there")
    finally:
        loaded.close("finished")
    ours = CompactDupeFilter(str(tmp_path))
    try:
        assert len(ours.keys) == 1
    finally:
        ours.close("finished")
