"""One crawl at a time per output folder."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from archiver.runtime.lock import LOCK_FILE, CrawlLock, LockedError


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_second_lock_names_the_holder(tmp_path: Path) -> None:
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        (tmp_path / LOCK_FILE).write_text(f"{holder.pid} {socket.gethostname()}\n")
        with pytest.raises(LockedError, match=f"pid {holder.pid}"):
            CrawlLock(tmp_path).acquire()
    finally:
        holder.kill()
        holder.wait()


def test_stale_lock_is_taken_over_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / LOCK_FILE).write_text(f"{dead_pid()} {socket.gethostname()}\n")
    with caplog.at_level(logging.WARNING), CrawlLock(tmp_path):
        assert (tmp_path / LOCK_FILE).read_text().split()[0] == str(os.getpid())
    assert "stale lock" in caplog.text
    assert not (tmp_path / LOCK_FILE).exists()


def lock_in_another_process(folder: Path) -> subprocess.CompletedProcess[str]:
    code = ("from pathlib import Path; from archiver.runtime.lock import CrawlLock; "
            f"CrawlLock(Path({str(folder)!r})).acquire()")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)


def test_lock_is_held_then_released(tmp_path: Path) -> None:
    with CrawlLock(tmp_path):
        refused = lock_in_another_process(tmp_path)
        assert refused.returncode != 0
        assert f"pid {os.getpid()}" in refused.stderr
    assert lock_in_another_process(tmp_path).returncode == 0
