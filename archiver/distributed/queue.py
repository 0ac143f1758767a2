"""scrapy-redis' priority queue, with a pop that records the request as in flight."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy_redis.queue import PriorityQueue

if TYPE_CHECKING:
    from scrapy import Request, Spider

    from archiver.distributed.scripts import CrawlScripts

logger = logging.getLogger(__name__)


class TrackedPriorityQueue(PriorityQueue):
    """The shared queue (a sorted set, score = -priority), popped atomically into an in-flight hash.

    ``push``, ``__len__`` and the request encoding are scrapy-redis' own; ``pop_tracked`` replaces
    its ``pop`` (ZRANGE + ZREMRANGEBYRANK), which loses the request if the worker dies before
    the request is done.
    """

    def __init__(self, server: Any, spider: Spider, key: str, scripts: CrawlScripts, worker: str,
                 serializer: Any = None) -> None:
        super().__init__(server, spider, key, serializer=serializer)
        self.scripts = scripts
        self.worker = worker

    def pop(self, timeout: int = 0) -> Request | None:
        raise NotImplementedError("use pop_tracked(): an untracked pop loses requests when a worker dies")

    def pop_tracked(self) -> tuple[str, Request] | None:
        """(in-flight id, request) of the best queued request, or None when the queue is empty.

        An entry that does not decode (a spider method renamed since it was queued, say) is
        logged and dropped from the in-flight hash, otherwise it would come back forever.
        """
        while True:
            popped = self.scripts.pop_tracked(self.worker)
            if popped is None:
                return None
            inflight_id, encoded = popped
            try:
                return inflight_id, self._decode_request(encoded)
            except (ValueError, TypeError, KeyError, AttributeError):
                logger.error("dropping a queued request that does not decode: %r", encoded[:300],
                             exc_info=True)
                self.server.hdel(self.scripts.keys.inflight(self.worker), inflight_id)
