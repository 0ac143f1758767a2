"""Names of a distributed crawl's Redis keys, all under one prefix (``ARCHIVER_REDIS_KEY``).

| key | type | holds |
|---|---|---|
| ``<prefix>:requests`` | sorted set | the shared request queue (scrapy-redis ``PriorityQueue``) |
| ``<prefix>:dupefilter`` | set | fingerprints of every request ever queued (scrapy-redis) |
| ``<prefix>:seed`` | string | who pushes the start requests; ``:done`` once they are queued |
| ``<prefix>:finished`` | string | set (ISO time) when the crawl has nothing left anywhere |
| ``<prefix>:workers`` | set | workers that joined and may hold requests |
| ``<prefix>:worker:<name>`` | string, TTL | the worker's heartbeat (its lease token) |
| ``<prefix>:inflight:<name>`` | hash | id -> ``<score>|<request>`` taken by the worker, not yet committed |
| ``<prefix>:inflight-seq`` | string | counter for in-flight ids |
| ``<prefix>:stats:<name>`` | hash | ``host``, ``pid``, ``out``, ``started``, ``done`` (requests committed) |

The Lua scripts build the per-worker names from the prefix, so the crawl needs one Redis
instance (not a Redis Cluster).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_KEY = "archiver:%(spider)s"
SEED_DONE = ":done"  # cannot be a worker name (see WORKER_NAME)
WORKER_NAME = re.compile(r"[A-Za-z0-9._-]{1,100}")


def crawl_prefix(template: str, spider_name: str) -> str:
    """``ARCHIVER_REDIS_KEY`` with ``%(spider)s`` filled in."""
    return (template or DEFAULT_KEY) % {"spider": spider_name}


def check_worker_name(name: str) -> str:
    """``name`` if it is a valid worker name (``[A-Za-z0-9._-]``, 1-100 characters)."""
    if not WORKER_NAME.fullmatch(name):
        raise ValueError(f"worker name must be 1-100 characters of A-Z a-z 0-9 . _ -: {name!r}")
    return name


@dataclass(frozen=True)
class CrawlKeys:
    """The Redis keys of one crawl."""

    prefix: str

    @property
    def queue(self) -> str:
        return f"{self.prefix}:requests"

    @property
    def dupefilter(self) -> str:
        return f"{self.prefix}:dupefilter"

    @property
    def seed(self) -> str:
        return f"{self.prefix}:seed"

    @property
    def finished(self) -> str:
        return f"{self.prefix}:finished"

    @property
    def workers(self) -> str:
        return f"{self.prefix}:workers"

    @property
    def sequence(self) -> str:
        return f"{self.prefix}:inflight-seq"

    def heartbeat(self, worker: str) -> str:
        return f"{self.prefix}:worker:{worker}"

    def inflight(self, worker: str) -> str:
        return f"{self.prefix}:inflight:{worker}"

    def stats(self, worker: str) -> str:
        return f"{self.prefix}:stats:{worker}"
