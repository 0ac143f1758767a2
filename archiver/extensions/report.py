"""End-of-crawl outputs: ``failures.jsonl`` (live), the dataset, ``report.json``, the WACZ.

``failures.jsonl`` gets one line per URL that finally failed (download error after retries, HTTP
error, an article page that could not be extracted, an item a pipeline dropped), flushed as it
happens so that nothing is lost if the crawl dies. ``report.json`` sums the crawl up when the
engine stops, after the WARC files, their indexes and the feed (``changes.jsonl``) are closed;
before it, ``articles.jsonl`` (the whole current dataset) is rebuilt from the previous one and this
run's ``changes.jsonl`` (archiver/runtime/dataset.py), also when the run stopped early (the changes it has
are real; ``--resume`` applies them again, which changes nothing, and the rest).
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from scrapy import Request, Spider, signals
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.utils.defer import deferred_from_coro
from twisted.python.failure import Failure

from archiver import signals as archiver_signals
from archiver.addon import ARTICLES_FILE, CHANGES_FILE, FAILURES_FILE, REPORT_FILE
from archiver.downloadermiddlewares.refusals import refusal_report
from archiver.exceptions import SkippedItem
from archiver.extensions.shutdown import ShutdownRequested, run_interruptibly
from archiver.requisites.middleware import requisites_report
from archiver.runtime.diskfull import DISK_FULL_STAT, EXIT_DISK_FULL, is_disk_full, stop_for_full_disk
from archiver.runtime.packaging import WACZ_FILE

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Response

logger = logging.getLogger(__name__)


class CrawlReport:
    """Writes failures.jsonl while crawling and report.json (+ archive.wacz) at the end."""

    def __init__(self, crawler: Crawler, out_dir: Path, build_wacz: bool) -> None:
        self.crawler = crawler
        self.out_dir = out_dir
        self.build_wacz = build_wacz
        self.failures = 0
        self.started = time.monotonic()
        self.started_at = datetime.now(UTC)
        self._failures_file: IO[str] | None = None
        self.wacz_error = ""
        #: what the dataset build did (archiver/runtime/dataset.py), None when it could not be built
        self.dataset: dict[str, Any] | None = None
        self._stopping = False
        self.interrupted = False  # a stop signal ended the WACZ build
        #: the report.json of the run, also when the disk was too full to write it
        self.report: dict[str, Any] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlReport:
        out = crawler.settings.get("ARCHIVER_OUT_DIR")
        if not out:
            raise NotConfigured("ARCHIVER_OUT_DIR is not set")
        report = cls(crawler, Path(out), crawler.settings.getbool("ARCHIVER_WACZ"))
        connect = crawler.signals.connect
        connect(report.spider_opened, signal=signals.spider_opened)
        connect(report.item_dropped, signal=signals.item_dropped)
        connect(report.item_error, signal=signals.item_error)
        connect(report.spider_error, signal=signals.spider_error)
        connect(report.url_failed, signal=archiver_signals.url_failed)
        connect(report.engine_stopped, signal=signals.engine_stopped)
        return report

    # -- failures -----------------------------------------------------------------------------------

    def spider_opened(self, spider: Spider) -> None:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._failures_file = (self.out_dir / FAILURES_FILE).open("a", encoding="utf-8", buffering=1)

    def record_failure(self, url: str, reason: str, **extra: Any) -> None:
        self.failures += 1
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value("archiver/failures")
        line = {"url": url, "reason": reason, "time": datetime.now(UTC).isoformat(), **extra}
        if self._failures_file is not None:
            try:
                self._failures_file.write(json.dumps(line, ensure_ascii=False) + "\n")
            except OSError as exc:  # left out of failures.jsonl: --resume asks the URL again
                if not is_disk_full(exc):
                    raise
                stop_for_full_disk(self.crawler, exc, str(self.out_dir / FAILURES_FILE))
        logger.warning("failed: %s: %s", url, reason)

    def url_failed(self, url: str, reason: str, status: int | None = None) -> None:
        extra = {"status": status} if status is not None else {}
        self.record_failure(url, reason, **extra)

    def item_dropped(self, item: Any, response: Response | None, exception: DropItem) -> None:
        url = getattr(item, "url", None) or (response.url if response is not None else "")
        if isinstance(exception, SkippedItem):  # a duplicate, an unchanged article: not failures
            return
        self.record_failure(url, f"dropped: {exception}")

    def item_error(self, item: Any, response: Response | None, failure: Failure) -> None:
        url = getattr(item, "url", None) or (response.url if response is not None else "")
        if self._disk_full(failure):
            return
        self.record_failure(url, f"pipeline error: {failure.getErrorMessage()}")

    def _disk_full(self, failure: Failure) -> bool:
        """A full disk is not the page's failure: stop the crawl; --resume asks the page again."""
        if not is_disk_full(failure.value):
            return False
        self._count_disk_full()
        engine = self.crawler.engine
        if engine is not None and not self._stopping:
            self._stopping = True
            logger.error("disk full (%s): stopping the crawl; free some space, then run the same "
                         "command with --resume", failure.getErrorMessage())
            from twisted.internet import reactor  # here: importing it early would install a reactor

            clock: Any = reactor
            clock.callLater(0, lambda: deferred_from_coro(engine.close_spider_async(reason="disk_full")))
        return True

    def spider_error(self, failure: Failure, response: Response | None, spider: Spider) -> None:
        if self._disk_full(failure):
            return
        error = f"{type(failure.value).__name__}: {failure.getErrorMessage()}"
        # an error in the spider's start() comes without a response
        self.record_failure(response.url if response is not None else "", f"spider error: {error}")

    # -- the end ------------------------------------------------------------------------------------

    def engine_stopped(self) -> None:
        if self._failures_file is not None:
            try:
                self._failures_file.close()
            except OSError as exc:
                if not is_disk_full(exc):
                    raise
                self._count_disk_full()
        assert self.crawler.stats is not None
        # a crawl the site refused holds block pages only: nothing to replay
        refused = refusal_report(self.crawler.stats.get_stats()) is not None
        self._build_dataset()
        finished = self._finish_reason() == "finished"
        wacz = self._build_wacz() if self.build_wacz and finished and not refused else None
        if self.interrupted:  # stopped during the WACZ build: --resume builds it
            self.crawler.stats.set_value("finish_reason", "shutdown")
        self.report = self.summary(wacz)
        self._write_report(self.report)

    def _build_dataset(self) -> None:
        """``articles.jsonl`` = the previous dataset with this run's changes (before the WACZ, whose
        pages are the dataset's articles)."""
        from archiver.runtime.dataset import update_dataset

        if not (self.out_dir / CHANGES_FILE).exists() and not (self.out_dir / ARTICLES_FILE).exists():
            return
        try:
            self.dataset = update_dataset(self.out_dir).as_dict()
        except (OSError, sqlite3.Error) as exc:  # the previous dataset stays whole; --resume builds it
            if not is_disk_full(exc):
                raise
            self._count_disk_full()
            logger.error("disk full: could not build %s; free some space, then run the same command "
                         "with --resume", ARTICLES_FILE)

    def _write_report(self, report: dict[str, Any]) -> None:
        """Write ``report.json``; on a full disk there is none (the run counts as interrupted, and
        ``archiver crawl`` prints the summary from :attr:`report`, finish reason ``disk_full``)."""
        path = self.out_dir / REPORT_FILE
        tmp = path.with_suffix(".json.part")
        try:
            tmp.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n", "utf-8")
            tmp.replace(path)
        except OSError as exc:
            if not is_disk_full(exc):
                raise
            tmp.unlink(missing_ok=True)
            report["finish_reason"] = "disk_full"
            report["outputs"]["report_error"] = f"disk full: {exc.strerror}"
            logger.error("disk full: could not write %s; free some space, then run the same command "
                         "with --resume", path)

    def _count_disk_full(self) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(DISK_FULL_STAT)

    def _finish_reason(self) -> str:
        """The engine's finish reason, ``disk_full`` once any write met a full disk (even the last
        CDXJ index or feed flush, after the spider closed)."""
        assert self.crawler.stats is not None
        if self.crawler.stats.get_value(DISK_FULL_STAT):
            return "disk_full"
        return str(self.crawler.stats.get_value("finish_reason") or "")

    def _build_wacz(self) -> Path | None:
        """``archiver wacz`` on the output folder, in a child process: a stop signal ends it at
        once (on the reactor thread the build is one long step the graceful stop cannot reach)."""
        started = time.time()
        try:
            done = run_interruptibly(["-m", "archiver", "wacz", str(self.out_dir)])
        except ShutdownRequested as exc:
            self.interrupted = True
            wacz = self.out_dir / WACZ_FILE
            if wacz.exists() and wacz.stat().st_mtime >= started - 1:
                # the child finished its rename as the signal came: the run still counts as
                # interrupted, so no WACZ of it is left (--resume builds it)
                wacz.unlink()
            self.wacz_error = f"interrupted by {exc}: run the same command with --resume to build it"
            logger.warning("WACZ build interrupted by %s", exc)
            return None
        except OSError as exc:
            if is_disk_full(exc):
                self._wacz_disk_full()
                return None
            self.wacz_error = str(exc)
            logger.error("could not build the WACZ: %s", exc, exc_info=True)
            return None
        lines = done.stdout.splitlines()
        for line in lines:
            logger.info("archiver wacz: %s", line)
        if done.returncode != 0:
            last = lines[-1] if lines else f"exit code {done.returncode}"
            error = last.removeprefix("archiver wacz: error: ")
            if done.returncode == EXIT_DISK_FULL:  # the child met a full disk
                self._wacz_disk_full()
                return None
            self.wacz_error = error
            logger.error("could not build the WACZ: %s", self.wacz_error)
            return None
        return self.out_dir / WACZ_FILE

    def _wacz_disk_full(self) -> None:
        self._count_disk_full()
        logger.error("disk full: could not build the WACZ; free some space, then run the "
                     "same command with --resume")

    def summary(self, wacz: Path | None) -> dict[str, Any]:
        assert self.crawler.stats is not None
        stats = self.crawler.stats.get_stats()
        by_status = {
            key.rsplit("/", 1)[1]: value for key, value in stats.items()
            if key.startswith("downloader/response_status_count/")
        }
        return {
            "spider": getattr(self.crawler.spider, "name", ""),
            "site": getattr(self.crawler.spider, "site", "") or self.crawler.settings.get("ARCHIVER_SITE"),
            "started": self.started_at.isoformat(),
            "finished": datetime.now(UTC).isoformat(),
            "duration_seconds": round(time.monotonic() - self.started, 3),
            "finish_reason": self._finish_reason(),
            "counts": {
                "requests": stats.get("downloader/request_count", 0),
                "responses": stats.get("downloader/response_count", 0),
                "responses_by_status": by_status,
                "articles": stats.get("item_scraped_count", 0),
                "dropped": stats.get("item_dropped_count", 0),
                # pages that were an article already in changes.jsonl (same id, title and text)
                "duplicates": stats.get("archiver/duplicates/dropped", 0),
                "retries": stats.get("retry/count", 0),
                "failures": self.failures,
                "changes": {kind: stats.get(f"archiver/changes/{kind}", 0)
                            for kind in ("new", "updated", "unchanged", "gone")},
                "warc_records": {k.rsplit("/", 1)[1]: v for k, v in stats.items()
                                 if k.startswith("warc/records/")},
            },
            # page requisites (stylesheets, scripts, fonts, images): apart from the articles
            "requisites": requisites_report(stats, self.out_dir),
            "bytes": {
                "received": stats.get("downloader/response_bytes", 0),
                "warc": stats.get("warc/bytes", 0),
            },
            "refused": refusal_report(stats),
            "errors": {k: v for k, v in stats.items()
                       if "error" in k or "exception" in k or k.startswith("archiver/failures")},
            "outputs": {
                "warc": "warc/",
                "indexes": "indexes/",
                "articles": ARTICLES_FILE,
                "changes": CHANGES_FILE,
                **({"dataset": self.dataset} if self.dataset is not None else {}),
                "failures": FAILURES_FILE,
                "wacz": wacz.name if wacz else None,
                "wacz_error": self.wacz_error or None,
            },
            "stats": {k: v for k, v in stats.items() if isinstance(v, (int, float, str))},
        }


def fail(crawler: Crawler, request: Request | str, reason: str, status: int | None = None) -> None:
    """Announce that ``request`` (or a URL no request could be made for) finally failed.

    A redirected request is reported under the URL first asked for (``redirect_urls[0]``): that
    is the URL the spider (listing, feed, --resume frontier) knows the article by.
    """
    url = request if isinstance(request, str) else (request.meta.get("redirect_urls") or [request.url])[0]
    crawler.signals.send_catch_log(signal=archiver_signals.url_failed, url=url,
                                   reason=reason, status=status)
