"""SIGTERM / SIGINT to a real ``archiver crawl`` in each phase: it stops within seconds with a
``shutdown`` report, valid WARCs and no process left behind, and ``--resume`` loses nothing."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from archiver.replica.process import RunningReplica
from tests.harness import FAST, children, wait_for, warcio_check

pytestmark = pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads processes from /proc")

#: generous: the crawl stops in about a second; Scrapy alone waited for stalled downloads (60 s)
STOP_BOUND = 15.0


class Crawl:
    """An ``archiver crawl`` subprocess, its output in files (a pipe nobody reads could block it)."""

    def __init__(self, site: str, out: Path, *args: str) -> None:
        self.out = out
        out.mkdir(parents=True, exist_ok=True)
        self.stdout_path = out.parent / f"{out.name}.stdout"
        self.stderr_path = out.parent / f"{out.name}.stderr"
        with self.stdout_path.open("w") as stdout, self.stderr_path.open("w") as stderr:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "archiver", "crawl", "--site", site, "--out", str(out), "--resume",
                 *FAST, *args], stdout=stdout, stderr=stderr, start_new_session=True)
        self.pids: set[int] = set()

    def log(self) -> str:
        path = self.out / "crawl.log"
        return path.read_text("utf-8", "replace") if path.exists() else ""

    def lines(self, name: str) -> int:
        path = self.out / name
        return len(path.read_bytes().splitlines()) if path.exists() else 0

    def note_children(self) -> set[int]:
        """The crawl's child processes now (extraction workers, the WACZ build), to look for later."""
        with contextlib.suppress(OSError):  # it has exited
            self.pids |= set(children(self.proc.pid))
        return self.pids

    def archived(self) -> int:
        """Bytes in the WARC files so far (records are written as responses arrive)."""
        return sum(path.stat().st_size for path in (self.out / "warc").glob("*.warc.gz*"))

    def stop(self, *numbers: signal.Signals, gap: float = 0.05, group: bool = False) -> float:
        """Send the signals ``gap`` seconds apart (to its process group, as a terminal's Ctrl-C
        does, with ``group``); the seconds until the crawl exited."""
        self.note_children()
        started = time.monotonic()
        for index, number in enumerate(numbers):
            if index:
                time.sleep(gap)
            if group:
                os.killpg(self.proc.pid, number)
            else:
                self.proc.send_signal(number)
        self.proc.wait(timeout=120)
        return time.monotonic() - started

    def stdout(self) -> str:
        return self.stdout_path.read_text("utf-8", "replace")

    def stderr(self) -> str:
        return self.stderr_path.read_text("utf-8", "replace")

    def report(self) -> dict[str, Any]:
        result: dict[str, Any] = json.loads((self.out / "report.json").read_text("utf-8"))
        return result

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def alive(pid: int) -> bool:
    """Whether ``pid`` still runs (a zombie waiting to be reaped does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def assert_no_orphan(pids: set[int]) -> None:
    assert pids, "the crawl had no child process to look for"
    deadline = time.monotonic() + 5  # a worker that got EOF may take a moment to exit
    while time.monotonic() < deadline and any(map(alive, pids)):
        time.sleep(0.05)
    assert not [pid for pid in pids if alive(pid)], "child processes left behind"


def assert_stopped_for_resume(crawl: Crawl, elapsed: float) -> None:
    assert elapsed < STOP_BOUND, f"took {elapsed:.1f} s to stop"
    assert crawl.proc.returncode == 1, crawl.stderr()[-3000:]
    assert crawl.report()["finish_reason"] == "shutdown"
    assert "STOPPED    (shutdown): run the same command with --resume" in crawl.stdout()
    assert "Traceback" not in crawl.stderr()
    assert not list((crawl.out / "warc").glob("*.open"))
    check = warcio_check(sorted((crawl.out / "warc").glob("*.warc.gz")))
    assert check.returncode == 0, check.stdout[-2000:] + check.stderr[-2000:]


def assert_resume_loses_nothing(site: RunningReplica, out: Path, *args: str) -> None:
    resumed = subprocess.run([sys.executable, "-m", "archiver", "crawl", "--site", site.base, "--out",
                              str(out), "--resume", *FAST, *args],
                             capture_output=True, text=True, timeout=600)
    assert resumed.returncode in (0, 1), resumed.stderr[-3000:]
    assert json.loads((out / "report.json").read_text())["finish_reason"] == "finished"
    kept = Counter(json.loads(line)["url"] for line in (out / "articles.jsonl").read_text().splitlines())
    failed = {json.loads(line)["url"] for line in (out / "failures.jsonl").read_text().splitlines()
              if line.strip()}
    assert {r["url"] for r in site.truth()} == set(kept) | failed
    assert max(kept.values()) == 1
    assert not set(kept) & failed
    assert resumed.returncode == (1 if failed else 0)
    check = warcio_check(sorted((out / "warc").glob("*.warc.gz")))
    assert check.returncode == 0, check.stdout[-2000:] + check.stderr[-2000:]


def test_sigterm_while_downloads_stall_stops_within_seconds_and_resume_finishes(
    fresh_replica: Callable[..., RunningReplica], tmp_path: Path
) -> None:
    """A third of the URLs send nothing for 120 s on their first request: Scrapy's graceful stop
    waited for them until DOWNLOAD_TIMEOUT (60 s); they are cancelled, and not failures."""
    site = fresh_replica("--articles", "60", "--seed", "3", "--crawl-delay", "0", "--faults", "slow=30:1",
                         "--fault-delay", "120", truth=True)
    crawl = Crawl(site.base, tmp_path / "out", "--no-wacz")
    try:
        wait_for(lambda: len(crawl.note_children()) >= 2 and crawl.archived() > 20_000, timeout=60)
        time.sleep(1.0)  # the stalled downloads are under way
        elapsed = crawl.stop(signal.SIGTERM)
    finally:
        crawl.kill()
    assert_stopped_for_resume(crawl, elapsed)
    assert crawl.report()["stats"]["warc/fetch_errors/ShutdownCancelled"] > 0
    assert not crawl.lines("failures.jsonl")  # a cancelled download is not the page's failure
    assert_no_orphan(crawl.pids)
    # the URLs not asked yet stall on their first request: a short timeout, then the retry gets them
    assert_resume_loses_nothing(site, crawl.out, "-s", "DOWNLOAD_TIMEOUT=3", "--no-wacz")


def test_sigterm_under_a_download_delay_does_not_wait_out_the_queue(
    fresh_replica: Callable[..., RunningReplica], tmp_path: Path
) -> None:
    """A polite crawl (3 s between requests) holds requests in the downloader's slot queue; each
    waited its delay before the engine could close (about 60 s): they are left for --resume."""
    site = fresh_replica("--articles", "30", "--seed", "4", "--crawl-delay", "0", truth=True)
    crawl = Crawl(site.base, tmp_path / "out", "--no-wacz", "-s", "DOWNLOAD_DELAY=3",
                  "-s", "RANDOMIZE_DOWNLOAD_DELAY=False")
    try:
        wait_for(lambda: crawl.archived() > 20_000, timeout=60)
        time.sleep(4.0)  # the listing's article requests wait in the slot behind the delay
        elapsed = crawl.stop(signal.SIGTERM)
    finally:
        crawl.kill()
    assert_stopped_for_resume(crawl, elapsed)
    assert crawl.report()["stats"]["archiver/shutdown/not_asked"] > 0
    assert not crawl.lines("failures.jsonl")  # a request not asked is not the page's failure
    assert_resume_loses_nothing(site, crawl.out, "--no-wacz")


def test_sigint_mid_crawl_stops_and_resume_finishes(fresh_replica: Callable[..., RunningReplica],
                                                    tmp_path: Path) -> None:
    """Ctrl-C: the same as SIGTERM. The terminal sends it to the workers too: they leave it to the
    crawl (they died of it, and the pages they held failed)."""
    site = fresh_replica("--articles", "80", "--seed", "5", "--crawl-delay", "0", truth=True)
    crawl = Crawl(site.base, tmp_path / "out", "--no-wacz")
    try:
        wait_for(lambda: crawl.archived() > 300_000 and crawl.note_children(), timeout=120)
        elapsed = crawl.stop(signal.SIGINT, group=True)
    finally:
        crawl.kill()
    assert_stopped_for_resume(crawl, elapsed)
    assert "extraction worker died" not in crawl.log()
    assert not crawl.lines("failures.jsonl")
    assert_no_orphan(crawl.pids)
    assert_resume_loses_nothing(site, crawl.out, "--no-wacz")


def test_a_second_sigterm_stops_at_once_without_a_traceback(fresh_replica: Callable[..., RunningReplica],
                                                            tmp_path: Path) -> None:
    site = fresh_replica("--articles", "80", "--seed", "6", "--crawl-delay", "0", truth=True)
    crawl = Crawl(site.base, tmp_path / "out", "--no-wacz")
    try:
        wait_for(lambda: crawl.archived() > 300_000 and crawl.note_children(), timeout=120)
        elapsed = crawl.stop(signal.SIGTERM, signal.SIGTERM)
    finally:
        crawl.kill()
    assert elapsed < 5, f"took {elapsed:.1f} s to stop"
    assert crawl.proc.returncode == 128 + signal.SIGTERM, crawl.stderr()[-3000:]
    assert "stopped at once; run the same command with --resume" in crawl.stderr()
    assert "Traceback" not in crawl.stderr()
    assert_no_orphan(crawl.pids)
    assert_resume_loses_nothing(site, crawl.out, "--no-wacz")


def test_sigterm_during_the_wacz_build_stops_it_and_resume_builds_it(
    fresh_replica: Callable[..., RunningReplica], tmp_path: Path
) -> None:
    site = fresh_replica("--articles", "60", "--seed", "4", "--crawl-delay", "0", truth=True)
    out = tmp_path / "out"
    crawl = Crawl(site.base, out)
    part = out / ".part-archive.wacz"
    try:
        deadline = time.monotonic() + 180
        while not part.exists() and crawl.proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        assert part.exists(), "the WACZ build was not seen"
        elapsed = crawl.stop(signal.SIGTERM)
    finally:
        crawl.kill()
    assert_stopped_for_resume(crawl, elapsed)
    assert "interrupted by SIGTERM" in crawl.report()["outputs"]["wacz_error"]
    assert not part.exists()
    assert not (out / "archive.wacz").exists()
    assert_no_orphan(crawl.pids)
    assert_resume_loses_nothing(site, out)
    validate = subprocess.run([str(Path(sys.executable).parent / "wacz"), "validate", "-f",
                               str(out / "archive.wacz")], capture_output=True, text=True, timeout=300)
    assert validate.returncode == 0, validate.stdout + validate.stderr


def huge_listing_case(folder: Path, links: int) -> Path:
    """A hostile case the replica serves as the releases listing: ``links`` article links in one
    list, no dates (each link's date search reaches the whole list)."""
    case = folder / "listing-huge"
    case.mkdir(parents=True)
    items = "".join(f'<li><a href="/News/Releases/Release/Article/{n}/r/">Release {n}</a></li>'
                    for n in range(5_000_000, 5_000_000 + links))
    (case / "body.html").write_text(f"<html><body><main><ul>{items}</ul></main></body></html>")
    (case / "info.json").write_text(json.dumps({
        "description": f"the releases listing with {links} undated links", "group": "listing",
        "serve": {"path": "/News/Releases/", "headers": [["Content-Type", "text/html; charset=utf-8"]],
                  "body": "body.html"}}))
    return folder


@pytest.mark.parametrize("links", [20_000, 200_000])
def test_sigterm_after_a_huge_listing_arrived_stops_within_seconds(
    fresh_replica: Callable[..., RunningReplica], tmp_path: Path, links: int
) -> None:
    """The listing is parsed on a worker while the crawl waits for it: parsing 20,000 links took
    30 minutes; 200,000 still take about 20 s, during which the crawl waited for the worker: the
    worker is stopped instead. Then the engine closed only once the page's 20,000 links were all
    scheduled (7 s here). The listing or the links not read yet are left for ``--resume``, which
    reads the listings again."""
    cases = huge_listing_case(tmp_path / "hostile", links)
    site = fresh_replica("--articles", "20", "--crawl-delay", "0", "--hostile", str(cases))
    crawl = Crawl(site.base, tmp_path / "out", "--no-wacz", "--sections", "releases")
    try:
        wait_for(lambda: crawl.archived() > 50_000 and crawl.note_children(), timeout=60)
        elapsed = crawl.stop(signal.SIGTERM)
    finally:
        crawl.kill()
    assert_stopped_for_resume(crawl, elapsed)
    assert_no_orphan(crawl.pids)
    assert crawl.report()["stats"]["archiver/shutdown/pages_left_unread"] == 1
    with contextlib.closing(sqlite3.connect(crawl.out / "state.sqlite")) as state:
        (discovered,) = state.execute("SELECT COUNT(*) FROM frontier WHERE kind = 'article'").fetchone()
    assert discovered < links


#: a crawl process starting a worker as the pool does, handing it a listing that takes seconds to
#: parse, printing the worker's pid, then waiting to be killed
BUSY_PARENT = """
import os, subprocess, sys, time
from archiver.runtime.extractworker import encode_frame
from tests.test_listing import undated_listing
worker = subprocess.Popen([sys.executable, "-m", "archiver.runtime.extractworker",
                           "--parent", str(os.getpid())], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
worker.stdin.write(encode_frame((0, "listing", "https://www.defense.gov/News/", undated_listing(200_000),
                                 ("www.defense.gov",))))
worker.stdin.flush()
print(worker.pid, flush=True)
time.sleep(600)
"""


def test_a_busy_worker_dies_with_its_crawl_process() -> None:
    """The crawl killed (``kill -9``, or a second SIGTERM) while a worker parses: the worker must
    not go on at full CPU with nobody to answer (it read its stdin's end only once done)."""
    parent = subprocess.Popen([sys.executable, "-c", BUSY_PARENT], stdout=subprocess.PIPE, text=True,
                              cwd=Path(__file__).resolve().parents[1])
    try:
        assert parent.stdout is not None
        worker = int(parent.stdout.readline())
        time.sleep(1.0)  # the listing is being parsed (about 7 s of CPU)
        assert alive(worker)
        parent.kill()
        parent.wait()
        assert_no_orphan({worker})
    finally:
        parent.kill()


#: how a command stopped by Ctrl-C ends: exit code 130, or dying of SIGINT (what a shell also shows as
#: 130; CPython ends so when a KeyboardInterrupt once passed through C code that evaluated Python)
INTERRUPTED = (128 + signal.SIGINT, -signal.SIGINT)

#: raises SIGINT in the process a moment into ``archiver.cli.main``: option parsing or the first
#: imports of the command, long before Scrapy installs its own signal handlers
_EARLY_CTRL_C = """
import signal, sys
from archiver.cli import main
signal.signal(signal.SIGALRM, lambda *_: signal.raise_signal(signal.SIGINT))
signal.setitimer(signal.ITIMER_REAL, 0.002)
sys.exit(main(sys.argv[1:]))
"""


def test_ctrl_c_while_the_crawl_starts_up_exits_130_and_moves_nothing(
        fresh_replica: Callable[..., RunningReplica], tmp_path: Path) -> None:
    """Ctrl-C before the crawl's own signal handling began: exit 130 with one line that says what
    to do, no traceback, and the folder's previous run left where it was."""
    site = fresh_replica("--articles", "12", "--seed", "3", "--crawl-delay", "0", truth=True)
    out = tmp_path / "out"
    args = ["crawl", "--site", site.base, "--out", str(out), "--no-wacz", *FAST]
    first = subprocess.run([sys.executable, "-m", "archiver", *args], capture_output=True, text=True,
                           timeout=300)
    assert first.returncode == 0, first.stderr[-3000:]
    before = {path.name: path.read_bytes() for path in out.iterdir()
              if path.is_file() and "state" not in path.name}
    early = subprocess.run([sys.executable, "-c", _EARLY_CTRL_C, *args], capture_output=True, text=True,
                           timeout=120)
    assert early.returncode in INTERRUPTED, early.stderr[-3000:]
    assert "archiver crawl: interrupted (Ctrl-C): run the same command with --resume" in early.stderr
    assert "Traceback" not in early.stderr
    assert {path.name: path.read_bytes() for path in out.iterdir()
            if path.is_file() and "state" not in path.name} == before
    assert not (out / "runs").exists()


def test_ctrl_c_in_any_phase_of_start_up_says_what_to_do_and_resume_finishes(
        fresh_replica: Callable[..., RunningReplica], tmp_path: Path) -> None:
    """A real SIGINT to the process group at moments across start-up (imports, preparing the folder,
    Scrapy starting, the first requests): each run ends with exit 130 or a STOPPED line and 1, never
    a traceback; ``--resume`` then finishes the crawl, losing nothing."""
    site = fresh_replica("--articles", "12", "--seed", "4", "--crawl-delay", "0", truth=True)
    out = tmp_path / "out"
    for delay in (0.1, 0.3, 0.5, 0.7, 0.9, 1.2):
        crawl = Crawl(site.base, out, "--no-wacz")
        try:
            time.sleep(delay)
            crawl.stop(signal.SIGINT, group=True)
        finally:
            crawl.kill()
        assert "Traceback" not in crawl.stderr(), (delay, crawl.stderr()[-3000:])
        if crawl.proc.returncode == -signal.SIGINT and not crawl.stderr():
            pass  # killed while the interpreter itself started, before Python handles SIGINT
        elif crawl.proc.returncode in INTERRUPTED:
            assert "interrupted (Ctrl-C): run the same command with --resume" in crawl.stderr()
        else:
            assert crawl.proc.returncode in (0, 1), (delay, crawl.proc.returncode, crawl.stderr()[-3000:])
            assert "--resume" in crawl.stdout() + crawl.stderr() or crawl.proc.returncode == 0
    assert_resume_loses_nothing(site, out, "--no-wacz")
