"""Recognise a full disk (or quota) in the exceptions a crawl meets: WARC writes, SQLite, feeds."""

from __future__ import annotations

import errno
import sqlite3

DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EFBIG, errno.EDQUOT})


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
