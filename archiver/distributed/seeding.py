"""Spider middleware: the start requests of a shared crawl are queued once, by one worker.

Every worker runs the same command, so every worker's spider has the same ``start()``. The
first worker to claim ``<prefix>:seed`` passes its start requests on (into the Redis queue)
and then marks the seed ``:done``; the others take nothing from their ``start()`` and work
from the queue. If the seeding worker dies half-way, the next worker whose claim finds its
lease expired seeds again (requests already queued are dropped by the shared duplicate
filter). While a worker waits for another to finish seeding, its start is not over, so Scrapy
does not close it as idle; it still takes requests from the queue meanwhile.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from scrapy.exceptions import NotConfigured
from scrapy.utils.asyncio import sleep

from archiver.distributed.coordinator import Coordinator, find_coordinator

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.5


class SeedOnce:
    """Let the start requests through on the worker that claims the seeding, drop them elsewhere."""

    def __init__(self, coordinator: Coordinator, poll: float = POLL_SECONDS) -> None:
        self.coordinator = coordinator
        self.poll = poll

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SeedOnce:
        coordinator = find_coordinator(crawler)
        if coordinator is None:
            raise NotConfigured("not a distributed crawl")
        return cls(coordinator)

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        coordinator = self.coordinator
        while True:
            outcome = coordinator.scripts.claim_seeding(coordinator.worker) if coordinator.ready else "wait"
            if outcome == "done":
                logger.info("start requests already queued by another worker")
                return
            if outcome == "won":
                break
            await sleep(self.poll)
        logger.info("worker %s queues the start requests", coordinator.worker)
        count = 0
        async for item in start:
            count += 1
            yield item
        coordinator.scripts.finish_seeding(coordinator.worker)
        logger.info("worker %s queued %d start request(s)", coordinator.worker, count)
