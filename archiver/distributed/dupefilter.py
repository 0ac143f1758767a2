"""scrapy-redis' duplicate filter (a Redis set of request fingerprints), shared by the workers."""

from __future__ import annotations

from scrapy_redis.dupefilter import RFPDupeFilter


class SharedDupeFilter(RFPDupeFilter):
    """Fingerprints in ``<prefix>:dupefilter``; never cleared by a worker.

    scrapy-redis' ``close()`` deletes the set: one worker closing would let every other worker
    fetch again what was already fetched. Clearing a finished crawl is ``archiver redis reset``.
    """

    def close(self, reason: str = "") -> None:
        """Keep the shared fingerprints."""
