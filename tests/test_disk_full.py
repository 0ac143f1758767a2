"""A real full disk (small tmpfs mounts) at each phase of a crawl, then ``--resume`` once freed.

Each case mounts a tmpfs too small for one part of the folder (the rest on mounts big enough),
so the first ENOSPC comes from that part: the WARC writer, ``articles.jsonl``, the crawl state,
the CDXJ indexes, the WACZ. The crawl must end with the "disk is full ... --resume" summary
and exit code 1 (no traceback); after the mount is made bigger ("space freed"), the same command
with ``--resume`` finishes with every article once, valid WARCs and a folder ``verify`` accepts.
Needs root (mount); skipped otherwise.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import pytest

from archiver.replica.process import RunningReplica, replica
from archiver.runtime.diskfull import EXIT_DISK_FULL
from archiver.warc.records import HttpExchange, build_capture
from archiver.warc.writer import WarcRollingWriter
from tests.harness import FAST, warcio_check

ARTICLES = 60
Mount = Callable[[Path, str], Path]


@pytest.fixture(scope="module")
def replica60(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningReplica]:
    truth = tmp_path_factory.mktemp("replica60")
    with replica("--articles", str(ARTICLES), "--seed", "9", "--crawl-delay", "0",
                 truth_dir=truth) as running:
        yield running


@pytest.fixture
def tmpfs() -> Iterator[Mount]:
    """``tmpfs(dir, size)``: a tmpfs of ``size`` mounted on ``dir`` (unmounted at the end)."""
    with ExitStack() as mounts:
        def mount(target: Path, size: str) -> Path:
            target.mkdir(parents=True, exist_ok=True)
            done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(target)],
                                  capture_output=True, text=True)
            if done.returncode != 0:
                pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.strip()}")
            mounts.callback(subprocess.run, ["umount", "-l", str(target)], check=True)
            return target

        yield mount


def grow(target: Path, size: str) -> None:
    """Free space: make the tmpfs mounted on ``target`` bigger."""
    subprocess.run(["mount", "-o", f"remount,size={size}", str(target)], check=True)


def crawl_command(site: str, out: Path, log: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "archiver", "crawl", "--site", site, "--out", str(out), "--resume",
            *FAST, "-s", f"LOG_FILE={log}", *extra]


#: phase -> (what is mounted small, its size, the line crawl.log must show)
PHASES = {
    "warc": ("out", "1m", "disk full: cannot write to"),
    "articles": ("out", "160k", "changes.jsonl"),  # the feed (the dataset is built from it at the end)
    "state": ("state", "192k", "database or disk is full"),  # with a commit per write (below)
    "state-open": ("state", "8k", ""),  # no room to create the state: the crawl cannot start
    "cdxj": ("indexes", "20k", "the CDXJ index of"),
    "wacz": ("out", "4m", "could not build the WACZ"),
}


@pytest.mark.parametrize("phase", list(PHASES))
def test_a_full_disk_stops_with_the_summary_and_resume_finishes(
        phase: str, replica60: RunningReplica, tmpfs: Mount, tmp_path: Path) -> None:
    small, size, logged = PHASES[phase]
    out, state = tmp_path / "out", tmp_path / "state"
    limited = {"out": out, "state": state, "indexes": out / "indexes"}[small]
    tmpfs(limited, size)
    if phase == "articles":  # only changes.jsonl, articles.jsonl (and failures.jsonl, report.json) small
        tmpfs(out / "warc", "64m")
        tmpfs(out / "indexes", "8m")
    shared_state = small == "state" or phase == "articles"
    extra = ["-s", f"ARCHIVER_STATE_PATH={state / 'state.sqlite'}"] if shared_state else []
    if phase == "state":  # every write its own commit: the WAL grows steadily past the mount's size
        extra += ["-s", "ARCHIVER_STATE_COMMIT_SECONDS=0"]
    command = crawl_command(replica60.base, out, tmp_path / "crawl.log", *extra)

    full = subprocess.run(command, capture_output=True, text=True, timeout=600)
    output = full.stdout + full.stderr
    assert full.returncode == 1, output[-3000:]
    assert "the disk is full" in output, output[-3000:]
    assert "Traceback" not in output, output[-3000:]
    assert logged in (tmp_path / "crawl.log").read_text("utf-8", errors="replace")

    grow(limited, "96m")
    resumed = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr[-3000:]
    urls = Counter(json.loads(line)["url"] for line in (out / "articles.jsonl").read_text().splitlines())
    assert set(urls) == {record["url"] for record in replica60.truth()}
    assert max(urls.values()) == 1
    check = warcio_check(sorted((out / "warc").glob("*.warc.gz")))
    assert check.returncode == 0, check.stdout
    verified = subprocess.run([sys.executable, "-m", "archiver", "verify", str(out)],
                              capture_output=True, text=True, timeout=300)
    assert verified.returncode == 0, verified.stdout


def test_archiver_wacz_on_a_full_disk_exits_with_its_own_code(tmp_path: Path, tmpfs: Mount) -> None:
    """``archiver wacz`` says a full disk with EXIT_DISK_FULL (what a crawl's WACZ step reads),
    in one line, and leaves no half-written file."""
    with WarcRollingWriter(tmp_path / "crawl" / "warc", prefix="full", worker="w") as writer:
        writer.write(*build_capture(HttpExchange(
            method="GET", url="https://www.war.gov/News/Article/1/", request_headers=[],
            status=200, response_headers=[(b"Content-Type", b"image/jpeg")],
            response_body=os.urandom(256 * 1024), fetched_at=datetime.now(UTC))))  # bigger than the mount
    small = tmpfs(tmp_path / "small", "64k")
    done = subprocess.run([sys.executable, "-m", "archiver", "wacz", str(tmp_path / "crawl"),
                           "--output", str(small / "archive.wacz")], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == EXIT_DISK_FULL, done.stdout + done.stderr
    assert done.stderr.startswith("archiver wacz: error: disk full: "), done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert list(small.iterdir()) == []


def test_a_full_disk_before_the_crawl_starts_is_recorded_without_an_error() -> None:
    """A full disk met before the engine exists (Scrapy raises on reading ``crawler.engine`` then):
    the crawler is marked, nothing raises, there is no engine to stop yet."""
    from scrapy import Spider
    from scrapy.crawler import Crawler

    from archiver.runtime.diskfull import stop_for_full_disk

    crawler = Crawler(Spider)
    with pytest.raises(RuntimeError):
        crawler.engine  # noqa: B018 - what Scrapy does before the crawl starts
    stop_for_full_disk(crawler, OSError(28, "No space left on device"), "failures.jsonl")
    assert crawler._archiver_disk_full  # type: ignore[attr-defined]
