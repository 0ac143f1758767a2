"""Recognise a full disk (or quota) in the exceptions a crawl meets: WARC writes, SQLite, feeds."""

from __future__ import annotations

import errno
import logging
import sqlite3
import threading
from typing import Any

logger = logging.getLogger(__name__)

DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EFBIG, errno.EDQUOT})
#: ``archiver wacz`` exit code when the disk (or quota) was too full to write the WACZ (docs/crawling.md)
EXIT_DISK_FULL = 5


def is_disk_full(exc: BaseException | None) -> bool:
    """Whether ``exc`` (or what caused it) says the disk or a file-size limit is full."""
    while exc is not None:
        if isinstance(exc, OSError) and exc.errno in DISK_FULL_ERRNOS:
            return True
        if isinstance(exc, sqlite3.OperationalError) and (
                "full" in str(exc) or "disk I/O error" in str(exc)):
            return True
        if type(exc).__name__ == "DiskFullError":
            return True
        exc = exc.__cause__ or exc.__context__
    return False


#: stat counting the disk-full errors of a crawl; any makes its finish reason ``disk_full``
DISK_FULL_STAT = "archiver/disk_full_errors"


def stop_for_full_disk(crawler: Any, exc: BaseException, what: str) -> None:
    """A write of ``what`` met a full disk: count it and close the spider with ``disk_full`` (once).

    Safe from any thread (the CDXJ indexer's): the close is scheduled on the reactor. Whatever
    could not be written is left for ``--resume`` (docs/reliability.md).
    """
    stats = _set_yet(crawler, "stats")
    if stats is not None:
        stats.inc_value(DISK_FULL_STAT)
    if getattr(crawler, "_archiver_disk_full", False):
        return
    crawler._archiver_disk_full = True
    logger.error("disk full: could not write %s (%s); stopping the crawl. Free some space, then run "
                 "the same command with --resume", what, exc)
    engine = _set_yet(crawler, "engine")
    if engine is None:
        return
    from scrapy.utils.defer import deferred_from_coro
    from twisted.internet import reactor

    clock: Any = reactor

    def close() -> None:
        if engine.spider is not None and getattr(engine, "_slot", None) is not None:
            deferred_from_coro(engine.close_spider_async(reason="disk_full"))

    if threading.current_thread() is threading.main_thread():
        clock.callLater(0, close)
    else:
        clock.callFromThread(close)


def _set_yet(crawler: Any, name: str) -> Any:
    """``crawler.engine`` / ``crawler.stats``, or None before the crawl sets them (Scrapy 2.19 raises
    ``RuntimeError`` on reading them early, which ``getattr``'s default does not catch)."""
    try:
        return getattr(crawler, name, None)
    except RuntimeError:
        return None
