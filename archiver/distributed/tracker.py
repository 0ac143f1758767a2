"""Which requests a worker took are finished, and when Redis may forget them.

A request popped from the shared queue sits in the worker's in-flight hash until it is
*committed*: Scrapy is done with it (downloaded, its callback's items through the pipelines
and into the feed, its new requests queued in Redis; or handed back to the queue as a redirect
or retry) **and** what it wrote is out of the process' buffers. Every ``ARCHIVER_REDIS_COMMIT_INTERVAL``
the tracker flushes the feed files and the open WARC file, then removes the finished ids from
the hash (HDEL). A worker killed with SIGKILL therefore leaves in the hash exactly the requests
whose outputs may be lost; the next worker puts them back in the queue. Some of them may also
have reached the dead worker's files (a buffer flushed on its own): ``archiver merge`` keeps
one record per article, so "at least once" here gives "exactly once" in the merged output.

Scrapy sends no signal when it is done with a request; "done" is read from the engine: the
request is neither in the downloader (``downloader.active``) nor being scraped
(``scraper.slot.active`` / ``queue``). A request is in one of them from ``next_request()`` until
its scrape, items included, has finished (``ExecutionEngine._download`` and
``Scraper.enqueue_scrape`` hand it over synchronously).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler

    from archiver.distributed.keys import CrawlKeys

logger = logging.getLogger(__name__)

BusyRequests = Callable[[], Collection[Any]]


class InflightTracker:
    """The worker's taken requests, by in-flight id; ``commit()`` forgets the finished ones."""

    def __init__(self, server: Any, keys: CrawlKeys, worker: str, busy: BusyRequests,
                 flush: Callable[[], None]) -> None:
        self.server = server
        self.keys = keys
        self.worker = worker
        self._busy = busy
        self._flush = flush
        self._taken: dict[str, Request] = {}
        self.committed = 0

    def started(self, inflight_id: str, request: Request) -> None:
        self._taken[inflight_id] = request

    def __len__(self) -> int:
        return len(self._taken)

    def finished_ids(self) -> list[str]:
        busy = {id(request) for request in self._busy()}
        return [key for key, request in self._taken.items() if id(request) not in busy]

    def commit(self) -> int:
        """Flush the outputs, then drop the finished requests from Redis; how many were dropped."""
        done = self.finished_ids()
        if not done:
            return 0
        self._flush()
        pipe = self.server.pipeline()
        pipe.hdel(self.keys.inflight(self.worker), *done)
        pipe.hincrby(self.keys.stats(self.worker), "done", len(done))
        pipe.execute()
        for key in done:
            del self._taken[key]
        self.committed += len(done)
        return len(done)


def engine_busy_requests(crawler: Crawler) -> Collection[Any]:
    """Requests the engine is still working on: downloading, or being scraped (items included)."""
    engine = crawler.engine
    if engine is None:
        return ()
    busy: list[Any] = list(engine.downloader.active)
    slot = engine.scraper.slot
    if slot is not None:
        busy.extend(slot.active)
        busy.extend(request for _result, request, _deferred in slot.queue)
    return busy


def flush_outputs(crawler: Crawler) -> None:
    """Push the feed files and the open WARC file to the OS (a SIGKILL then loses nothing)."""
    from scrapy.extensions.feedexport import FeedExporter

    from archiver.runtime.state import commit_crawl_state
    from archiver.warc.middleware import WarcMiddleware

    feeds = crawler.get_extension(FeedExporter)
    for slot in feeds.slots if feeds is not None else ():
        if slot.file is not None and not slot.file.closed:
            slot.file.flush()
    warc = crawler.get_downloader_middleware(WarcMiddleware)
    if warc is not None:
        warc.writer.flush()
    commit_crawl_state(crawler)
