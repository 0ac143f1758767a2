"""scrapy-redis' scheduler for the archiver: shared queue and fingerprints, tracked pops.

A small subclass of ``scrapy_redis.scheduler.Scheduler``: it is built from the crawler (the
coordinator extension owns the Redis connection and the worker's identity), counts stats
without the ``spider=`` argument and logs without ``Spider.log()`` (both deprecated in Scrapy
2.19), never flushes the shared queue when a worker closes (``SCHEDULER_PERSIST`` is forced on:
a closing worker would otherwise wipe the other workers' queue), and pops every request into
the worker's in-flight hash (``archiver.distributed.tracker``).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Self

from scrapy_redis.scheduler import Scheduler

from archiver.distributed import serializer
from archiver.distributed.coordinator import require_coordinator
from archiver.distributed.dupefilter import SharedDupeFilter
from archiver.distributed.queue import TrackedPriorityQueue
from archiver.extensions.report import fail

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler

    from archiver.distributed.coordinator import Coordinator

logger = logging.getLogger(__name__)


class DistributedScheduler(Scheduler):
    """The Redis scheduler of one worker (``SCHEDULER``, set by the add-on)."""

    coordinator: Coordinator
    queue: TrackedPriorityQueue

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        coordinator = require_coordinator(crawler)
        keys = coordinator.keys
        dupefilter = SharedDupeFilter(coordinator.server, key=keys.dupefilter,
                                      debug=crawler.settings.getbool("DUPEFILTER_DEBUG"))
        scheduler = cls(server=coordinator.server, persist=True, flush_on_start=False,
                        queue_key=keys.queue, dupefilter=dupefilter, dupefilter_key=keys.dupefilter,
                        serializer=serializer)
        scheduler.stats = crawler.stats
        scheduler.coordinator = coordinator
        return scheduler

    def open(self, spider: Spider) -> None:
        self.spider = spider
        self.queue = TrackedPriorityQueue(self.server, spider, self.queue_key, self.coordinator.scripts,
                                          self.coordinator.worker, serializer=self.serializer)
        queued = len(self.queue)
        if queued:
            logger.info("joining crawl %s: %d request(s) queued in Redis", self.coordinator.keys.prefix,
                        queued)

    def close(self, reason: str) -> None:
        """Leave the shared queue and fingerprints to the other workers."""

    def enqueue_request(self, request: Request) -> bool:
        if not request.dont_filter and self.df.request_seen(request):
            self.df.log(request, self.spider)
            return False
        try:
            self.queue.push(request)
        except TypeError as exc:  # meta the JSON serializer refuses (archiver/distributed/serializer.py)
            logger.error("cannot queue %s in Redis: %s", request, exc)
            self._inc("archiver/redis/unqueueable")
            fail(self.coordinator.crawler, request, f"cannot queue in Redis: {exc}")
            return False
        self._inc("scheduler/enqueued/redis")
        return True

    def next_request(self) -> Request | None:
        if not self.coordinator.ready:
            return None
        popped = self.queue.pop_tracked()
        if popped is None:
            return None
        inflight_id, request = popped
        self.coordinator.tracker.started(inflight_id, request)
        self._inc("scheduler/dequeued/redis")
        return request

    def _inc(self, key: str) -> None:
        stats: Any = self.stats
        if stats is not None:
            stats.inc_value(key)
