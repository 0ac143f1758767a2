"""The worker's side of a shared crawl: lease, heartbeat, recovery of dead workers, the end.

``Coordinator`` is a Scrapy extension, on when ``ARCHIVER_REDIS_URL`` is set (the add-on
registers it). It owns the Redis connection and the worker's identity, which the scheduler and
the seeding middleware use.

- **Lease**: ``<prefix>:worker:<name>`` holds a token with a TTL (``ARCHIVER_REDIS_HEARTBEAT_TTL``),
  renewed every third of it. A second live process with the same name is refused.
- **Recovery**: at start and at every heartbeat, the in-flight requests of every worker whose
  lease has expired go back to the queue (one Lua script that checks the lease, so a worker
  that is only slow is never robbed). A worker restarted under its old name first takes back
  what its previous life left.
- **Commit**: every ``ARCHIVER_REDIS_COMMIT_INTERVAL`` the tracker flushes the outputs and drops
  finished requests from the in-flight hash.
- **The end**: Scrapy closes a spider whose scheduler is empty; here an idle worker stays while
  requests are queued or any live worker holds requests (they may queue more), and the crawl
  is over only when nothing is queued and no worker holds anything: the first worker to see it
  sets ``<prefix>:finished``. Unlike scrapy-redis' ``MAX_IDLE_TIME_BEFORE_CLOSE`` (counted from
  process start), this needs no guess of how long other workers may stay silent.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import DontCloseSpider, NotConfigured
from scrapy.utils.asyncio import call_later, create_looping_call, sleep
from scrapy.utils.defer import deferred_from_coro

from archiver.distributed.connection import connect, dependency_problem
from archiver.distributed.keys import CrawlKeys, check_worker_name, crawl_prefix
from archiver.distributed.scripts import CrawlScripts, Snapshot
from archiver.distributed.tracker import InflightTracker, engine_busy_requests, flush_outputs

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

REASON_FINISHED = "redis_crawl_finished"  # the crawl was over before this worker joined
REASON_NAME_IN_USE = "redis_worker_name_in_use"


def default_worker_name() -> str:
    """``<host>-<pid>``: unique per process, so workers on one machine never collide."""
    from archiver.warc.writer import default_worker_name as host_name

    return f"{host_name()}-{os.getpid()}"


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _redis_errors() -> tuple[type[Exception], ...]:
    from redis.exceptions import RedisError

    return (RedisError,)


class Coordinator:
    """This worker's lease, heartbeat, commits and end-of-crawl decision."""

    def __init__(self, crawler: Crawler, server: Any, keys: CrawlKeys, worker: str, *,
                 ttl: float, commit_interval: float) -> None:
        self.crawler = crawler
        self.server = server
        self.keys = keys
        self.worker = worker
        self.ttl = ttl
        self.commit_interval = commit_interval
        self.scripts = CrawlScripts(server, keys)
        self.token = uuid.uuid4().hex
        self.tracker = InflightTracker(server, keys, worker, busy=lambda: engine_busy_requests(crawler),
                                       flush=lambda: flush_outputs(crawler))
        self.ready = False
        self._refusal = ""
        self._loops: list[Any] = []
        self._last_wait = ""
        self._errors = _redis_errors()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Coordinator:
        settings = crawler.settings
        url = settings.get("ARCHIVER_REDIS_URL")
        if not url:
            raise NotConfigured("ARCHIVER_REDIS_URL is not set")
        problem = dependency_problem()
        if problem:
            raise RuntimeError(problem)
        server = connect(url, settings.getdict("REDIS_PARAMS"))
        server.ping()
        keys = CrawlKeys(crawl_prefix(settings.get("ARCHIVER_REDIS_KEY"), crawler.spidercls.name))
        worker = check_worker_name(settings.get("ARCHIVER_REDIS_WORKER") or default_worker_name())
        import_state(crawler)
        coordinator = cls(crawler, server, keys, worker,
                          ttl=max(settings.getfloat("ARCHIVER_REDIS_HEARTBEAT_TTL"), 1.0),
                          commit_interval=max(settings.getfloat("ARCHIVER_REDIS_COMMIT_INTERVAL"), 0.05))
        crawler.signals.connect(coordinator.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(coordinator.engine_started, signal=signals.engine_started)
        crawler.signals.connect(coordinator.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(coordinator.spider_closed, signal=signals.spider_closed)
        return coordinator

    @property
    def ttl_ms(self) -> int:
        return int(self.ttl * 1000)

    # -- joining ------------------------------------------------------------------------------------

    async def spider_opened(self, spider: Spider) -> None:
        finished = self.server.get(self.keys.finished)
        if finished:
            logger.error("crawl %s finished at %s; to crawl again use another ARCHIVER_REDIS_KEY "
                         "(--redis-key) or clear it: archiver redis reset", self.keys.prefix,
                         finished.decode() if isinstance(finished, bytes) else finished)
            self._refusal = REASON_FINISHED
            return
        if not await self._claim_lease():
            self._refusal = REASON_NAME_IN_USE
            return
        self._record_info()
        self.requeue_dead()
        self.ready = True
        if self.crawler.stats is not None:
            self.crawler.stats.set_value("archiver/redis/worker", self.worker)
            self.crawler.stats.set_value("archiver/redis/crawl", self.keys.prefix)
        self._start_loop(self._beat, self.ttl / 3)
        self._start_loop(self._commit, self.commit_interval)
        logger.info("worker %s joined crawl %s (heartbeat TTL %.0f s)", self.worker, self.keys.prefix,
                    self.ttl)

    def engine_started(self) -> None:
        # a refused worker stops once the engine runs: closing it from spider_opened would skip
        # engine_stopped, hence report.json
        if self._refusal:
            call_later(0, self._close, self._refusal)

    async def _claim_lease(self) -> bool:
        """Take the worker name; wait (at most one TTL) for a previous life's lease to expire."""
        deadline = time.monotonic() + self.ttl + 2
        while True:
            recovered = self.scripts.requeue_if_dead(self.worker)  # what a previous life left
            if recovered > 0:
                logger.warning("worker %s: %d request(s) of its previous run back in the queue",
                               self.worker, recovered)
                self._inc("archiver/redis/requeued", recovered)
            if self.scripts.claim_lease(self.worker, self.token, self.ttl_ms):
                return True
            if time.monotonic() > deadline:
                logger.error("worker name %s is in use by another live process of crawl %s; "
                             "give every worker its own --worker NAME", self.worker, self.keys.prefix)
                return False
            await sleep(0.5)

    def _record_info(self) -> None:
        settings = self.crawler.settings
        self.server.hset(self.keys.stats(self.worker), mapping={
            "host": socket.gethostname(), "pid": os.getpid(), "started": now_iso(),
            "out": settings.get("ARCHIVER_OUT_DIR") or "", "spider": self.crawler.spidercls.name or "",
        })

    def _start_loop(self, function: Any, interval: float) -> None:
        loop = create_looping_call(function)
        loop.start(interval, now=False)
        self._loops.append(loop)

    # -- while crawling -------------------------------------------------------------------------------

    def _beat(self) -> None:
        try:
            renewed = self.scripts.renew_lease(self.worker, self.token, self.ttl_ms)
            if renewed == 0:
                logger.warning("worker %s was silent longer than its heartbeat TTL (%.0f s): its requests "
                               "may have gone to other workers too; archiver merge removes duplicates",
                               self.worker, self.ttl)
            elif renewed < 0:
                logger.error("another process took the worker name %s; stopping", self.worker)
                self._close(REASON_NAME_IN_USE)
                return
            self.requeue_dead()
        except self._errors:
            logger.warning("heartbeat of worker %s failed", self.worker, exc_info=True)

    def _commit(self) -> None:
        try:
            self.tracker.commit()
        except self._errors:
            logger.warning("commit of finished requests failed; retrying", exc_info=True)

    def requeue_dead(self) -> int:
        """Put the in-flight requests of workers without a heartbeat back in the queue."""
        moved = 0
        for raw in sorted(self.server.smembers(self.keys.workers)):
            name = raw.decode() if isinstance(raw, bytes) else str(raw)
            if name == self.worker:
                continue
            count = self.scripts.requeue_if_dead(name)
            if count > 0:
                logger.warning("worker %s is gone (no heartbeat for %.0f s): %d request(s) it held are "
                               "back in the queue", name, self.ttl, count)
                self._inc("archiver/redis/requeued", count)
                moved += count
        return moved

    # -- the end ---------------------------------------------------------------------------------------

    def spider_idle(self, spider: Spider) -> None:
        """Stay while anything is queued or held by a live worker; otherwise mark the crawl finished."""
        if not self.ready:
            raise DontCloseSpider
        try:
            self.tracker.commit()
            self.requeue_dead()
            snapshot = self.scripts.snapshot()
            if self._must_wait(snapshot) or not self.scripts.finish(now_iso()):
                raise DontCloseSpider
        except self._errors:
            logger.warning("cannot reach Redis to decide whether the crawl is over; waiting", exc_info=True)
            raise DontCloseSpider from None
        logger.info("crawl %s is finished: nothing queued and no worker holds a request", self.keys.prefix)

    def _must_wait(self, snapshot: Snapshot) -> bool:
        busy = snapshot.busy_workers()
        if not (snapshot.queued or busy or not snapshot.seeded or snapshot.dead_with_requests()):
            return False
        parts = [f"{snapshot.queued} queued", *(f"{w.name} holds {w.inflight}" for w in busy)]
        if not snapshot.seeded:
            parts.append("start requests not queued yet")
        reason = ", ".join(parts)
        if reason != self._last_wait:
            logger.info("idle, waiting for the other workers: %s", reason)
            self._last_wait = reason
        return True

    def spider_closed(self, spider: Spider, reason: str) -> None:
        for loop in self._loops:
            if loop.running:
                loop.stop()
        if not self.ready:
            return
        self.ready = False
        try:
            self.tracker.commit()
            self.scripts.release_lease(self.worker, self.token)
        except self._errors:
            logger.warning("could not release worker %s cleanly; its requests return to the queue "
                           "when its lease expires", self.worker, exc_info=True)
        logger.info("worker %s left crawl %s (%s): %d request(s) committed, %d left in flight",
                    self.worker, self.keys.prefix, reason, self.tracker.committed, len(self.tracker))

    def _close(self, reason: str) -> None:
        deferred_from_coro(self.crawler.engine.close_spider_async(reason=reason))

    def _inc(self, key: str, count: int = 1) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(key, count)


def find_coordinator(crawler: Crawler) -> Coordinator | None:
    return crawler.get_extension(Coordinator)


def require_coordinator(crawler: Crawler) -> Coordinator:
    coordinator = find_coordinator(crawler)
    if coordinator is None:
        raise NotConfigured("the Redis scheduler needs the Coordinator extension (ARCHIVER_REDIS_URL)")
    return coordinator


def import_state(crawler: Crawler) -> None:
    """Merge ``ARCHIVER_REDIS_STATE_FROM`` into this worker's crawl state before the crawl starts."""
    settings = crawler.settings
    source = settings.get("ARCHIVER_REDIS_STATE_FROM")
    if not source:
        return
    from archiver.distributed.statemerge import merge_state_files
    from archiver.runtime.state import commit_crawl_state, state_path

    target = state_path(settings)
    if target is None or not settings.getbool("ARCHIVER_INCREMENTAL"):
        logger.warning("ARCHIVER_REDIS_STATE_FROM ignored: this crawl keeps no state")
        return
    commit_crawl_state(crawler)  # an open batch would lock the merge out
    rows = merge_state_files(target, [Path(source)])
    logger.info("crawl state: %d row(s) from %s merged into %s", rows, source, target)
