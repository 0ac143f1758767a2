"""SIGTERM / SIGINT: the crawl stops within seconds, whatever it is doing, and ``--resume`` goes on.

Scrapy's own handling stops the engine gracefully: it waits for every download in progress, so a
server that sends nothing keeps the crawl up until ``DOWNLOAD_TIMEOUT`` (60 s), and a second signal
stops the reactor, which still waits for the same crawl to close (and ``archiver crawl`` then
printed a traceback). Here, as the engine starts, :class:`GracefulShutdown` takes the signals over:

- the first signal cancels the downloads in progress (:class:`StoppableDownloadHandler`: they end
  with :class:`ShutdownCancelled`, which is not the page's failure: the page stays in the crawl
  state's frontier and ``--resume`` asks it again), then stops the engine as Scrapy would (reason
  ``shutdown``: WARC files closed, ``report.json``, the summary telling to run with ``--resume``);
- a second signal ends the process at once (exit code 128 + the signal's number), without a
  traceback: ``--resume`` repairs what it leaves, as after ``kill -9``.

The extraction workers die with the crawl (archiver/runtime/extractworker.py). The WACZ is built after the
engine stopped, in one long step the reactor cannot interrupt: it runs in a child process
(``archiver wacz``, :func:`run_interruptibly`) that a signal stops at once (the step is then
reported interrupted, finish reason ``shutdown``). docs/reliability.md.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.defer import deferred_from_coro, maybe_deferred_to_future
from twisted.internet import defer

import archiver
from archiver import signals as archiver_signals

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from twisted.internet.defer import Deferred

logger = logging.getLogger(__name__)

#: the signals that stop a crawl
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class ShutdownCancelled(IgnoreRequest):
    """A download the crawl's shutdown cancelled: not the page's failure, ``--resume`` asks again."""


class ShutdownRequested(BaseException):
    """A stop signal arrived during a step that :func:`interruptible` lets it interrupt.

    A ``BaseException``, as ``KeyboardInterrupt`` is: raised wherever the step happens to be, it
    must pass the ``except Exception`` of the libraries it runs (warcio took one for a bad record).
    """


class StoppableDownloadHandler(HTTP11DownloadHandler):
    """Scrapy's HTTP/1.1 download handler, whose downloads in progress a shutdown cancels
    (:data:`archiver.signals.shutdown_requested`): the engine's graceful stop waits for them."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self._downloads: set[Deferred[Response]] = set()
        self._stopping = False
        crawler.signals.connect(self.cancel_downloads, signal=archiver_signals.shutdown_requested)

    async def download_request(self, request: Request) -> Response:
        if self._stopping:
            raise ShutdownCancelled(f"not downloaded, the crawl is stopping: {request.url}")
        download = deferred_from_coro(super().download_request(request))
        self._downloads.add(download)
        try:
            response: Response = await maybe_deferred_to_future(download)
            return response
        except (defer.CancelledError, asyncio.CancelledError):
            if not self._stopping:
                raise
            raise ShutdownCancelled(f"download cancelled, the crawl is stopping: {request.url}") from None
        finally:
            self._downloads.discard(download)

    def cancel_downloads(self) -> None:
        self._stopping = True
        if self._downloads:
            logger.info("cancelling %d download(s) in progress: the crawl is stopping", len(self._downloads))
        for download in list(self._downloads):
            download.cancel()


class GracefulShutdown:
    """Scrapy extension: the first SIGTERM/SIGINT cancels the downloads in progress and stops the
    engine (finish reason ``shutdown``), a second one ends the process at once."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.received: int | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> GracefulShutdown:
        extension = cls(crawler)
        # once the reactor runs: Scrapy installs its own handlers at its start-up
        crawler.signals.connect(extension.install, signal=signals.engine_started)
        return extension

    def install(self) -> None:
        if threading.current_thread() is threading.main_thread():
            for number in STOP_SIGNALS:
                signal.signal(number, self._first_signal)

    def _first_signal(self, number: int, _frame: FrameType | None) -> None:
        from twisted.internet import reactor

        self.received = number
        for each in STOP_SIGNALS:
            signal.signal(each, self._second_signal)
        clock: Any = reactor
        clock.callFromThread(self.stop, number)  # logging is not safe in a signal handler

    def stop(self, number: int) -> None:
        logger.warning("received %s: stopping the crawl (downloads in progress cancelled); send it "
                       "again to stop at once; run the same command with --resume to go on",
                       signal.Signals(number).name)
        assert self.crawler.stats is not None
        self.crawler.stats.set_value("archiver/shutdown/signal", signal.Signals(number).name)
        self.crawler.signals.send_catch_log(archiver_signals.shutdown_requested)
        # requests waiting in the downloader's slots would each wait out the download delay (Crawl-
        # delay, AutoThrottle) before the engine could close: they are left for --resume instead
        from archiver.downloadermiddlewares.refusals import drop_queued_requests

        engine = self.crawler.engine
        if engine is not None:
            dropped = drop_queued_requests(engine.downloader, "shutdown")
            self.crawler.stats.set_value("archiver/shutdown/not_asked", dropped)
        deferred_from_coro(self.crawler.stop_async())

    @staticmethod
    def _second_signal(number: int, _frame: FrameType | None) -> None:
        name = signal.Signals(number).name
        os.write(2, f"archiver: {name} again: stopped at once; run the same command with --resume "
                    f"to go on\n".encode())
        os._exit(128 + number)


@contextmanager
def interruptible() -> Iterator[None]:
    """While the block runs, SIGTERM / SIGINT raise :class:`ShutdownRequested` in it.

    For a long synchronous step on the reactor thread (the WACZ build), which the graceful stop,
    run by the reactor, could only reach once it is over. Off the main thread: a no-op.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(number: int, _frame: FrameType | None) -> None:
        for each, handler in previous.items():  # the next signal goes where it went before
            signal.signal(each, handler)
        raise ShutdownRequested(signal.Signals(number).name)

    previous = {number: signal.getsignal(number) for number in STOP_SIGNALS}
    for number in STOP_SIGNALS:
        signal.signal(number, interrupt)
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def run_interruptibly(args: Sequence[str], grace: float = 5.0) -> subprocess.CompletedProcess[str]:
    """Run ``args`` (a Python module of this package: ``-m archiver ...``) to its end, its stdout
    and stderr together as the result's ``stdout``.

    A stop signal meanwhile interrupts it: the child gets SIGINT (it cleans up its temporary
    files), SIGKILL after ``grace`` seconds, and :class:`ShutdownRequested` is raised. Only the
    wait is interrupted, never the work itself halfway through some library's code.
    """
    env = dict(os.environ)
    root = str(Path(archiver.__file__).resolve().parents[1])  # the same code as this process
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH", "")]))
    with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as output:
        child = subprocess.Popen([sys.executable, *args], stdout=output, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL, env=env)
        try:
            with interruptible():
                code = child.wait()
        except ShutdownRequested:
            child.send_signal(signal.SIGINT)
            try:
                child.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
            raise
        output.seek(0)
        return subprocess.CompletedProcess(list(args), code, output.read(), "")
