"""Article extraction on worker processes, so that it uses another core than the crawl's reactor.

Extraction (decode, lxml parse, the selector ladders) costs about as much CPU per page as Scrapy
spends downloading it, and all of it but lxml's parse holds the GIL, so a thread gains little. It is
a pure function of url + bytes + headers (archiver/extract/), so it runs unchanged in a worker
process (``python -m archiver.runtime.extractworker``): the spider awaits :meth:`ExtractionPool.extract`
while the reactor thread goes on with downloads, WARC records and pipelines. The workers are
Twisted child processes: the reactor writes and reads their pipes itself, no thread of ours
(``concurrent.futures.ProcessPoolExecutor``'s feeder and manager threads took the GIL from the
reactor often enough to make a crawl slower, not faster: docs/performance.md).

The workers also run the crawl's cleaning pipelines (``ARCHIVER_EXTRACT_PIPELINES``, default on):
by priority, the pipelines of ``ITEM_PIPELINES`` that are pure functions of one item (those
re-extraction runs in its workers, :func:`pipelines.chain.split_order`), up to the first
other one. The item comes back cleaned with what happened as ``item.prepared``: the stats those
pipelines counted and the exception of one that dropped it. The crawl's own instances of those
pipelines pass a prepared item through (the first adds the stats to the crawl's, as the item
reaches it), except the one that dropped it, which raises the same exception, so Scrapy logs,
counts and signals the drop (failures.jsonl) as before. Change detection, the duplicate filter and
the WARC conversion record stay in the crawl process: they depend on the items before them or on
the crawl's files.

Same code and bytes in, same item out (tests/test_extractpool.py compares them, and a crawl's
outputs and stats with and without workers). Setting: ``ARCHIVER_EXTRACT_WORKERS`` (default 2; 0:
extract on the reactor thread, e.g. on one core). A worker that dies (killed, out of memory) is
replaced; the pages it held fail with the reason (stat ``archiver/extract/worker_lost``) and the
crawl goes on; after ``MAX_RESTARTS`` deaths the crawl extracts on the reactor thread.

A worker that dies before it says it has started (``--ready``: a bad interpreter,
``ARCHIVER_EXTRACT_PYTHON``, an import that fails) never saw the pages sent to it: they are sent
again, to the next worker or, after ``MAX_RESTARTS`` such failures, extracted in this process (a
warning once, stat ``archiver/extract/inline_fallback``; workers that could not start used to fail
every page of the crawl).
"""

from __future__ import annotations

import fcntl
import itertools
import logging
import os
import pickle
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.utils.conf import build_component_list
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import protocol
from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

import archiver
from archiver import signals as archiver_signals
from archiver.extract import extract_article
from archiver.extract.listing import ListingPage, read_listing
from archiver.runtime.extractworker import HEADER, READY_JOB, PrepareConfig, encode_frame
from pipelines.base import ArticlePipeline, class_path
from pipelines.chain import PIPELINE_ORDER, load_class, split_order

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings

    from archiver.items import ArticleItem

logger = logging.getLogger(__name__)

#: worker deaths after which extraction goes back to the reactor thread for the rest of the crawl
MAX_RESTARTS = 3
WORKER_MODULE = "archiver.runtime.extractworker"
#: size asked for the pipes to and from each worker (Linux's default limit for unprivileged users)
PIPE_BYTES = 1 << 20


def worker_pipelines(settings: BaseSettings) -> dict[str, int]:
    """The crawl's item pipelines a worker runs: in priority order, those that re-extraction also
    runs in its workers (pure functions of one item), up to the first other one."""
    movable = split_order(PIPELINE_ORDER)[0]
    chosen: dict[str, int] = {}
    for rank, component in enumerate(build_component_list(settings.getwithbase("ITEM_PIPELINES"))):
        cls = load_class(component) if isinstance(component, str) else component
        path = class_path(cls)
        if path not in movable or not (isinstance(cls, type) and issubclass(cls, ArticlePipeline)):
            break
        chosen[path] = rank
    return chosen


def prepare_config(crawler: Crawler) -> PrepareConfig | None:
    """What the workers need to run the crawl's cleaning pipelines (None: extraction only)."""
    settings = crawler.settings
    if not settings.getbool("ARCHIVER_EXTRACT_PIPELINES"):
        return None
    pipelines = worker_pipelines(settings)
    if not pipelines:
        return None
    plain = {name: value for name, value in settings.copy_to_dict().items()  # what our pipelines read
             if name.startswith("ARCHIVER_") and isinstance(value, (str, int, float, bool, type(None)))}
    spider = crawler.spider
    since, until = getattr(spider, "since", None), getattr(spider, "until", None)
    return PrepareConfig(pipelines, plain, since.isoformat() if since else None,
                         until.isoformat() if until else None)


def _widen_pipes(transport: Any) -> None:
    """Grow the worker's stdin and stdout pipes to ``PIPE_BYTES`` where the OS allows (Linux).

    A page frame is ~130 KB and a pipe holds 64 KB: the worker would wait, mid-frame, until the
    reactor thread next got round to writing the rest, idle while pages queue for it. With 1 MB the
    reactor hands over several whole frames in one write (docs/performance.md).
    """
    set_size = getattr(fcntl, "F_SETPIPE_SZ", None)  # Linux only
    if set_size is None:
        return
    for pipe in getattr(transport, "pipes", {}).values():
        try:
            fcntl.fcntl(pipe.fileno(), set_size, PIPE_BYTES)
        except OSError:  # over /proc/sys/fs/pipe-max-size, or not a pipe: keep the default
            continue


class ExtractionWorkerLost(RuntimeError):
    """The worker process died while it held the page (the page fails; the crawl goes on)."""


class ExtractionWorkerNotStarted(ExtractionWorkerLost):
    """The worker died before it had started: it never saw the page, which is sent again."""


class ListingAbandoned(RuntimeError):
    """The crawl is stopping: the listing page was not read (``--resume`` reads it again)."""


class _WorkerProtocol(protocol.ProcessProtocol):
    """One worker process: frames out on its stdin, frames back from its stdout."""

    def __init__(self, pool: ExtractionPool) -> None:
        self.pool = pool
        #: job → (task, its result)
        self.pending: dict[int, tuple[str, Deferred[Any]]] = {}
        self._buffer = bytearray()
        self.ended = False
        self.ready = False  # it said it has started (``--ready``)
        self.abandoned = False  # stopped while it read a listing (the crawl is stopping)

    def submit(self, frame: bytes, job: int, task: str) -> Deferred[Any]:
        done: Deferred[Any] = Deferred()
        self.pending[job] = (task, done)
        transport: Any = self.transport  # zope interfaces do not type-check as classes
        transport.write(frame)
        return done

    def outReceived(self, data: bytes) -> None:
        self._buffer += data
        while len(self._buffer) >= HEADER.size:
            (size,) = HEADER.unpack_from(self._buffer)
            end = HEADER.size + size
            if len(self._buffer) < end:
                return
            job, ok, value = pickle.loads(self._buffer[HEADER.size:end])  # our own worker's frames
            del self._buffer[:end]
            if job == READY_JOB:
                self.ready = True
                continue
            _task, done = self.pending.pop(job, (None, None))
            if done is None:
                continue
            if ok:
                done.callback(value)
            else:
                done.errback(Failure(value))

    def errReceived(self, data: bytes) -> None:
        for line in data.decode("utf-8", "replace").splitlines():
            logger.warning("extraction worker: %s", line)

    def abandon(self) -> None:
        """Stop this worker, which reads a listing page: the listings it holds are left unread; the
        article pages queued behind them, which it never saw, go to the other workers."""
        self.abandoned = True
        for job, (task, done) in list(self.pending.items()):
            if task == "listing":
                del self.pending[job]
                done.errback(Failure(ListingAbandoned("the crawl is stopping")))
        transport: Any = self.transport  # an IProcessTransport
        if transport is not None and not self.ended:
            transport.signalProcess("KILL")

    def processEnded(self, reason: Failure) -> None:
        self.ended = True
        pending, self.pending = self.pending, {}
        tasks = [task for task, _done in pending.values()]
        if self.abandoned:
            for _task, done in pending.values():
                done.errback(Failure(ExtractionWorkerNotStarted("queued behind an abandoned listing page")))
            return
        if not self.ready:
            self.pool.worker_not_started(self, reason)
        else:
            self.pool.worker_ended(self, reason, tasks.count("article"), tasks.count("listing"))
        lost = ExtractionWorkerLost if self.ready else ExtractionWorkerNotStarted
        for url_job, (_task, done) in pending.items():
            done.errback(Failure(lost(
                f"the extraction worker died while extracting this page (job {url_job}): "
                f"{reason.getErrorMessage()}")))


class ExtractionPool:
    """``extract_article`` on ``workers`` child processes (0: inline, on the calling thread)."""

    def __init__(self, workers: int, crawler: Crawler | None = None, python: str = sys.executable) -> None:
        if workers < 0:
            raise ValueError(f"ARCHIVER_EXTRACT_WORKERS must be >= 0, got {workers}")
        self.workers = workers
        self.python = python
        self.crawler = crawler  # for stats, which exist only once the crawl starts
        self.restarts = 0
        self.not_started = 0  # workers that died before they had started
        self._procs: list[_WorkerProtocol] = []
        self._jobs = itertools.count()
        self._closed = False
        self._stopping = False  # a stop signal: no new worker
        self._last_delivered: Deferred[None] | None = None
        self._config: PrepareConfig | None = None
        self._configured = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractionPool:
        pool = cls(crawler.settings.getint("ARCHIVER_EXTRACT_WORKERS"), crawler,
                   python=crawler.settings.get("ARCHIVER_EXTRACT_PYTHON") or sys.executable)
        crawler.signals.connect(pool.start, signal=signals.engine_started)
        crawler.signals.connect(pool.close, signal=signals.spider_closed)
        crawler.signals.connect(pool.abandon_listings, signal=archiver_signals.shutdown_requested)
        return pool

    @property
    def inline(self) -> bool:
        """Whether pages are extracted on the calling thread (no worker, or too many deaths)."""
        return self.workers == 0 or self._closed or self.restarts >= MAX_RESTARTS \
            or self.not_started >= MAX_RESTARTS

    def start(self) -> None:
        """Spawn the workers (they import the extractor while the first pages download)."""
        if self._stopping:
            return
        if not self._configured and self.crawler is not None and not self.inline:
            self._config = prepare_config(self.crawler)
            self._configured = True
        while not self.inline and len(self._procs) < self.workers:
            try:
                self._procs.append(self._spawn())
            except OSError as exc:  # no process at all (fork failed, bad executable)
                self.worker_not_started(None, Failure(exc))

    def _spawn(self) -> _WorkerProtocol:
        from twisted.internet import reactor

        worker = _WorkerProtocol(self)
        env = dict(os.environ)
        # the package's own location first: the worker imports the same code (also from an egg)
        root = str(Path(archiver.__file__).resolve().parents[1])
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH", "")]))
        args = [self.python, "-m", WORKER_MODULE, "--ready", "--parent", str(os.getpid()),
                *(["--prepare"] if self._config is not None else [])]
        spawn: Any = reactor
        spawn.spawnProcess(worker, self.python, args, env=env)
        _widen_pipes(worker.transport)
        if self._config is not None:
            transport: Any = worker.transport
            transport.write(self._config.frame())
        return worker

    async def extract(self, url: str, body: bytes, headers: Mapping[str, str], fetched_at: str = "",
                      warc: dict[str, Any] | None = None, requisites: bool = False) -> ArticleItem | None:
        """:func:`archiver.extract.extract_article` of the page, on a worker when there is one
        (prepared by the cleaning pipelines there, with ``warc`` as its provenance; with
        ``requisites``, the page's requisites scanned there too, in ``item.requisites``). Run
        inline, the item has no ``requisites``: whoever needs them scans the page."""
        done = self._submit("article", url, body, dict(headers), fetched_at, warc, requisites)
        if done is None:
            return extract_article(url, body, headers, fetched_at=fetched_at)
        # items leave in the order their pages arrived (the feed's order is the WARC's: the
        # re-extraction of docs/datasets.md relies on it), whichever worker finishes first
        previous, delivered = self._last_delivered, Deferred[None]()
        self._last_delivered = delivered
        try:
            item: ArticleItem | None = await self._answer(done, "article", url, body, dict(headers),
                                                          fetched_at, warc, requisites)
        finally:
            if previous is not None and not previous.called:
                await maybe_deferred_to_future(previous)
            delivered.callback(None)
        return item

    async def listing(self, url: str, body: bytes, hosts: Iterable[str]) -> ListingPage:
        """:func:`archiver.extract.listing.read_listing` of a listing page, on a worker when there is
        one. A listing lost with a dead worker is read again (on the next worker, or inline once
        the pool gave up on workers): its articles would otherwise never be found."""
        for attempt in range(2):
            done = self._submit("listing", url, body, tuple(hosts))
            if done is None:
                break
            try:
                page: ListingPage = await self._answer(done, "listing", url, body, tuple(hosts))
                return page
            except ExtractionWorkerLost:
                if attempt:
                    raise
                logger.warning("listing page %s lost with an extraction worker: reading it again", url)
                self._count("archiver/extract/listings_read_again")
        return read_listing(body, url, hosts)

    async def _answer(self, done: Deferred[Any], task: str, *args: Any) -> Any:
        """The worker's answer to the task. A worker that died before it had started never saw
        the page: it goes to the next worker, or is run here once the pool gave up on workers."""
        while True:
            try:
                return await maybe_deferred_to_future(done)
            except ExtractionWorkerNotStarted:
                again = self._submit(task, *args)
                if again is None:
                    return self._run_inline(task, *args)
                done = again

    @staticmethod
    def _run_inline(task: str, *args: Any) -> Any:
        if task == "listing":
            url, body, hosts = args
            return read_listing(body, url, hosts)
        url, body, headers, fetched_at = args[:4]  # then warc and requisites: a worker's concern
        return extract_article(url, body, headers, fetched_at=fetched_at)

    def _submit(self, task: str, *args: Any) -> Deferred[Any] | None:
        """The task sent to the least busy worker (None: no worker, run it inline)."""
        self.start()
        if self.inline or not self._procs:
            return None
        worker = min(self._procs, key=lambda w: len(w.pending))
        job = next(self._jobs)
        return worker.submit(encode_frame((job, task, *args)), job, task)

    def _count(self, key: str, count: int = 1) -> None:
        stats = self.crawler.stats if self.crawler is not None else None
        if stats is not None and count:
            stats.inc_value(key, count)

    def worker_ended(self, worker: _WorkerProtocol, reason: Failure, lost: int, listings: int = 0) -> None:
        """``lost`` article pages fail with the reason; ``listings`` listing pages are read again."""
        if worker in self._procs:
            self._procs.remove(worker)
        if self._closed:
            return
        self.restarts += 1
        self._count("archiver/extract/worker_lost", lost)
        then = "extracting on the reactor thread from now on" if self.inline else "starting a new one"
        logger.error("extraction worker died (%s) holding %d article page(s) and %d listing page(s); %s",
                     reason.getErrorMessage(), lost, listings, then)

    def worker_not_started(self, worker: _WorkerProtocol | None, reason: Failure) -> None:
        """A worker died before it had started (its pages are sent again); after ``MAX_RESTARTS``
        of them, extraction runs in this process for the rest of the crawl."""
        if worker in self._procs:
            self._procs.remove(worker)
        if self._closed:
            return
        self.not_started += 1
        self._count("archiver/extract/workers_not_started")
        if self.not_started < MAX_RESTARTS:
            logger.warning("an extraction worker could not start (%s); starting another",
                           reason.getErrorMessage())
            return
        if self.not_started > MAX_RESTARTS:  # one started with the last: the fallback is said already
            return
        logger.warning("the extraction workers could not start (%s, %d times): extracting in the crawl "
                       "process from now on (slower: one core)", reason.getErrorMessage(), self.not_started)
        stats = self.crawler.stats if self.crawler is not None else None
        if stats is not None:
            stats.set_value("archiver/extract/inline_fallback",
                            f"the extraction workers could not start: {reason.getErrorMessage()}")

    def abandon_listings(self) -> None:
        """A stop signal: the workers reading a listing page are stopped, not waited for (a page of
        300,000 links takes a minute; the crawl could not stop meanwhile). Those listings are left
        unread (:class:`ListingAbandoned`) for ``--resume``, which reads the listings again. An
        article page takes milliseconds: the other workers finish theirs."""
        self._stopping = True
        for worker in list(self._procs):
            if any(task == "listing" for task, _done in worker.pending.values()):
                self._procs.remove(worker)
                self._count("archiver/extract/listings_abandoned")
                worker.abandon()

    def close(self) -> None:
        """Close the workers' stdin: each finishes what it holds and exits."""
        self._closed = True
        for worker in self._procs:
            transport: Any = worker.transport  # an IProcessTransport
            if transport is not None and not worker.ended:
                transport.closeStdin()
        self._procs = []
