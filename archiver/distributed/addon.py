"""Scrapy add-on: ``ARCHIVER_REDIS_URL`` turns a crawl into one worker of a shared crawl.

Sets scrapy-redis' scheduler (``archiver.distributed.scheduler.DistributedScheduler``) and
duplicate filter, forces what several workers need (``SCHEDULER_PERSIST=True``, no
``SCHEDULER_FLUSH_ON_START``: a closing or starting worker must never empty the shared queue),
names WARC files after the worker (``WARC_WORKER``), and enables the coordinator extension and
the seeding middleware. Without ``ARCHIVER_REDIS_URL`` it does nothing.

Listing pages are always walked in full (``ARCHIVER_FULL=True``): the incremental early stop
(archiver/runtime/paging.py) waits for every article of a page to settle on the worker that read the
page, and in a shared crawl those articles are fetched by other workers. ``--resume`` is off
(``ARCHIVER_RESUME=False``): Redis is the crawl's frontier.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)

SCHEDULER = "archiver.distributed.scheduler.DistributedScheduler"
DUPEFILTER = "archiver.distributed.dupefilter.SharedDupeFilter"
COORDINATOR = "archiver.distributed.coordinator.Coordinator"
SEEDING = "archiver.distributed.seeding.SeedOnce"
#: read by the spiders when they are built: a full listing walk, and no --resume (the shared queue
#: and the in-flight recovery replace the local frontier; resuming would ask again, with
#: dont_filter, articles other workers fetched)
SPIDER_SETTINGS = {"ARCHIVER_FULL": True, "ARCHIVER_RESUME": False}
#: close to the engine: a worker that does not seed never even starts its spider's start()
SEEDING_ORDER = 10


class DistributedCrawl:
    """Configure a worker of a shared crawl when ``ARCHIVER_REDIS_URL`` is set."""

    @classmethod
    def update_pre_crawler_settings(cls, settings: BaseSettings) -> None:
        # before the spider is built: spiders read these in from_crawler, before add-ons run
        if settings.get("ARCHIVER_REDIS_URL"):
            for name, value in SPIDER_SETTINGS.items():
                settings.set(name, value, priority="cmdline")

    def update_settings(self, settings: BaseSettings) -> None:
        url = settings.get("ARCHIVER_REDIS_URL")
        if not url:
            return
        from archiver.distributed.coordinator import default_worker_name
        from archiver.distributed.keys import check_worker_name

        worker = check_worker_name(settings.get("ARCHIVER_REDIS_WORKER") or default_worker_name())
        settings.set("ARCHIVER_REDIS_WORKER", worker, priority="cmdline")
        settings.set("WARC_WORKER", worker, priority="addon")
        forced = {
            "SCHEDULER": SCHEDULER,
            "DUPEFILTER_CLASS": DUPEFILTER,
            "SCHEDULER_PERSIST": True,
            "SCHEDULER_FLUSH_ON_START": False,
            "REDIS_URL": url,
            **SPIDER_SETTINGS,
        }
        for name, value in forced.items():
            settings.set(name, value, priority="cmdline")
        settings.set_in_component_priority_dict("EXTENSIONS", _load(COORDINATOR), 0)
        settings.set_in_component_priority_dict("SPIDER_MIDDLEWARES", _load(SEEDING), SEEDING_ORDER)
        logger.info("worker %s of a shared crawl in %s", worker, _redacted(url))


def _load(path: str) -> type:
    from scrapy.utils.misc import load_object

    cls: type = load_object(path)
    return cls


def _redacted(url: str) -> str:
    """The URL without a password (``redis://:secret@host`` -> ``redis://:***@host``)."""
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at or ":" not in credentials:
        return url
    user = credentials.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***@{host}"
