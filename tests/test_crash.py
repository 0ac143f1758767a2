"""kill -9 at random moments, then `--resume`: every article exactly once, every WARC valid."""

from __future__ import annotations

import json
import random
import resource
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from archiver.replica.process import RunningReplica
from tests.harness import FAST, VENV_BIN, records, warcio_check


def crawl_command(site: str, out: Path) -> list[str]:
    return [sys.executable, "-m", "archiver", "crawl", "--site", site, "--out", str(out), "--resume",
            *FAST]


def kill_at_random_moments(site: str, out: Path, kills: int, seed: int) -> list[float]:
    rng = random.Random(seed)
    moments = []
    for _ in range(kills):
        proc = subprocess.Popen(crawl_command(site, out), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        moment = rng.uniform(1.5, 4.5)  # start-up takes ~1.5 s: most kills land mid-crawl
        time.sleep(moment)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        moments.append(moment)
    return moments


def test_kill_9_five_times_then_resume(replica300: RunningReplica, tmp_path: Path) -> None:
    out = tmp_path / "out"
    kill_at_random_moments(replica300.base, out, kills=5, seed=20261126)
    final = subprocess.run(crawl_command(replica300.base, out), capture_output=True, text=True, timeout=600)
    assert final.returncode == 0, final.stdout + final.stderr[-3000:]

    lines = (out / "articles.jsonl").read_text("utf-8").splitlines()
    urls = Counter(json.loads(line)["url"] for line in lines)
    assert set(urls) == {r["url"] for r in replica300.truth()}
    assert max(urls.values()) == 1

    warcs = sorted((out / "warc").glob("*.warc.gz"))
    assert not list((out / "warc").glob("*.open"))
    check = warcio_check(warcs)
    assert check.returncode == 0, check.stdout + check.stderr

    found = records(out)
    captures = {(r["file"], r["offset"]): r for r in found if r["type"] in {"response", "revisit"}}
    cdxj = [json.loads(line.split(" ", 2)[2]) for path in sorted((out / "indexes").glob("*.cdxj"))
            for line in path.read_text().splitlines() if line.strip()]
    assert len(cdxj) == len(captures)
    for entry in cdxj:
        assert captures[(entry["filename"], int(entry["offset"]))]["uri"] == entry["url"]
    validate = subprocess.run([str(VENV_BIN / "wacz"), "validate", "-f", str(out / "archive.wacz")],
                              capture_output=True, text=True)
    assert validate.returncode == 0, validate.stdout + validate.stderr


def limit_file_size(max_bytes: int) -> None:
    """In the child: no file may grow past ``max_bytes`` (EFBIG, SIGXFSZ ignored), as on a full disk."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes, max_bytes))


def test_disk_full_stops_cleanly_and_resume_finishes(replica300: RunningReplica, tmp_path: Path) -> None:
    out = tmp_path / "out"
    full = subprocess.run(crawl_command(replica300.base, out), capture_output=True, text=True, timeout=600,
                          preexec_fn=lambda: limit_file_size(2_000_000))
    assert full.returncode != 0
    assert "the disk is full" in full.stdout
    assert not list((out / "warc").glob("*.open"))  # closed cleanly, the last record rolled back
    stopped = warcio_check(list((out / "warc").glob("*.warc.gz")))
    assert stopped.returncode == 0, stopped.stdout
    resumed = subprocess.run(crawl_command(replica300.base, out), capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr[-3000:]
    urls = Counter(json.loads(line)["url"] for line in (out / "articles.jsonl").read_text().splitlines())
    assert set(urls) == {r["url"] for r in replica300.truth()}
    assert max(urls.values()) == 1
    warcs = sorted((out / "warc").glob("*.warc.gz"))
    check = warcio_check(warcs)
    assert check.returncode == 0, check.stdout
