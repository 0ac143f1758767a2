"""One crawl at a time per output folder: a lock file holding the crawl's PID.

A second crawl finds the lock, says which process holds it and exits with ``EXIT_LOCKED``. A
lock left by a process that no longer runs (killed, machine rebooted) is taken over with a
warning. The lock is taken with ``O_CREAT | O_EXCL`` so two crawls starting together cannot
both win.
"""

from __future__ import annotations

import errno
import logging
import os
import socket
from pathlib import Path

logger = logging.getLogger(__name__)

LOCK_FILE = ".crawl.lock"
EXIT_LOCKED = 3


class LockedError(RuntimeError):
    """Another live crawl holds the folder."""

    def __init__(self, path: Path, pid: int, host: str, what: str = "") -> None:
        what = what or str(path.parent)
        super().__init__(f"{what} is in use by another crawl (pid {pid} on {host}, lock file {path})")
        self.pid = pid


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError as exc:
        return exc.errno == errno.EPERM  # exists, belongs to someone else
    return True


def _holder(path: Path) -> tuple[int, str]:
    try:
        pid_text, _, host = path.read_text("ascii").partition(" ")
        return int(pid_text), host.strip()
    except (OSError, ValueError):
        return 0, ""


class CrawlLock:
    """``with CrawlLock(out_dir):`` around a crawl."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / LOCK_FILE
        self.host = socket.gethostname()
        self.what = ""  # how LockedError names what is locked (default: the folder)

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                pid, host = _holder(self.path)
                if pid and host == self.host and not _alive(pid):
                    logger.warning("taking over the stale lock %s of pid %d (no longer running)",
                                   self.path, pid)
                    self.path.unlink(missing_ok=True)
                    continue
                if not pid and not host:
                    logger.warning("taking over the unreadable lock %s", self.path)
                    self.path.unlink(missing_ok=True)
                    continue
                raise LockedError(self.path, pid, host or "?", self.what) from None
            with os.fdopen(fd, "w") as fh:
                fh.write(f"{os.getpid()} {self.host}\n")
            return
        raise LockedError(self.path, *_holder(self.path), self.what)

    def release(self) -> None:
        pid, _ = _holder(self.path)
        if pid == os.getpid():
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> CrawlLock:
        self.acquire()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()


class StateLock(CrawlLock):
    """``with StateLock(state_path):`` around a crawl whose state is not its folder's own
    (``ARCHIVER_STATE_PATH`` shared by several folders, docs/scheduling.md): two crawls writing one
    state at once would each take the other's captures for their own. The lock file is
    ``<state>.lock``; a second crawl exits with ``EXIT_LOCKED`` like a second crawl in a folder."""

    def __init__(self, state: Path) -> None:
        super().__init__(state.parent)
        self.path = state.with_name(state.name + ".lock")
        self.what = f"the crawl state {state}"
