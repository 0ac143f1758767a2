"""Distributed crawls for real: worker processes, a real redis-server, the replica, kill -9.

Every test here runs ``archiver crawl --redis`` in subprocesses against a ``redis-server`` this
module starts on a free port (no mocks). The tests are skipped only when no redis-server binary
can be found (``.ci/services.sh`` installs one), and fail instead when ``CI`` is set. The workers
need scrapy-redis and redis-py >= 4.2, which the ``test`` extra installs into the test venv.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import pytest

from archiver.replica.process import RunningReplica, replica
from tests import harness
from tests.harness import ROOT, VENV_BIN, free_port, warc_files, warc_records

SCHEMA = json.loads((ROOT / "archiver/schema/article.schema.json").read_text("utf-8"))
FAST = [*harness.FAST, "--no-wacz"]
CHECK_DEPENDENCIES = ("from archiver.distributed.connection import dependency_problem as p; "
                      "problem = p(); print(problem or ''); raise SystemExit(bool(problem))")


# -- a real redis-server on a free port ---------------------------------------------------------------


def redis_server_binary() -> str | None:
    for candidate in (os.environ.get("ARCHIVER_REDIS_SERVER"), shutil.which("redis-server"),
                      "/usr/sbin/redis-server", "/usr/local/bin/redis-server"):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    found = sorted((ROOT / ".venv" / "tools").rglob("redis-server"))
    return str(found[0]) if found else None


def ping(port: int) -> bool:
    """A RESP PING on a raw socket (the test process itself needs no Redis client)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"*1\r\n$4\r\nPING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = redis_server_binary()
    if binary is None:
        missing = "no redis-server binary (run .ci/services.sh)"
        if os.environ.get("CI"):  # CI must run these tests: a skip there would hide them
            pytest.fail(missing)
        pytest.skip(missing)
    port = free_port()
    folder = tmp_path_factory.mktemp("redis")
    log = (folder / "redis.log").open("w")
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(folder)], stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 20
        while not ping(port):
            assert proc.poll() is None, (folder / "redis.log").read_text()
            assert time.monotonic() < deadline, "redis-server does not answer"
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


@pytest.fixture(scope="module")
def worker_env() -> dict[str, str]:
    """The environment of worker processes: this venv, which has scrapy-redis and redis-py >= 4.2."""
    env = dict(os.environ)
    check = subprocess.run([sys.executable, "-c", CHECK_DEPENDENCIES], env=env, capture_output=True,
                           text=True, timeout=60, cwd=ROOT)
    if check.returncode != 0:
        pytest.fail(f"workers cannot run: {check.stdout.strip()} {check.stderr[-500:]} (run make setup)")
    return env


# -- workers -------------------------------------------------------------------------------------------


def crawl_command(site: str, out: Path, redis: str, key: str, worker: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "archiver", "crawl", "--site", site, "--out", str(out), "--redis", redis,
            "--redis-key", key, "--worker", worker, *FAST, *extra]


def start_worker(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[str]:
    with log.open("w") as output:  # a file, not a pipe: nobody reads it while the worker runs
        return subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT, text=True,
                                cwd=ROOT)


def finish(proc: subprocess.Popen[str], log: Path, timeout: float = 300) -> tuple[int, str]:
    try:
        code = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise
    return code, log.read_text()


def archiver(env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "archiver", *args], env=env, capture_output=True,
                          text=True, timeout=timeout, cwd=ROOT)


def status(env: dict[str, str], redis: str, key: str) -> dict:
    result = archiver(env, "redis", "status", "--json", "--redis", redis, "--redis-key", key, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def worker_status(crawl: dict, name: str) -> dict:
    return next((w for w in crawl["workers"] if w["name"] == name), {"done": 0, "inflight": 0})


def captures(folder: Path) -> Counter[str]:
    """How many response records each URL has in the folder's closed WARC files."""
    counts: Counter[str] = Counter()
    for _path, _iterator, record in warc_records(warc_files(folder)):
        if record.rec_type == "response":
            counts[record.rec_headers.get_header("WARC-Target-URI")] += 1
    return counts


def merged_articles(folder: Path) -> list[dict]:
    with (folder / "articles.jsonl").open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


# -- two workers share a 500-article crawl -----------------------------------------------------------------


@pytest.fixture(scope="module")
def replica500(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningReplica]:
    truth = tmp_path_factory.mktemp("replica500")
    with replica("--articles", "500", "--seed", "11", "--crawl-delay", "0", "--page-size", "25",
                 truth_dir=truth) as running:
        yield running


@dataclass
class SharedCrawl:
    workers: dict[str, Path]
    logs: dict[str, str]
    codes: dict[str, int]
    merged: Path
    merge: subprocess.CompletedProcess[str]
    key: str


@pytest.fixture(scope="module")
def shared_crawl(redis_url: str, worker_env: dict[str, str], replica500: RunningReplica,
                 tmp_path_factory: pytest.TempPathFactory) -> SharedCrawl:
    root = tmp_path_factory.mktemp("shared")
    key = "test:two"
    workers = {name: root / name for name in ("w1", "w2")}
    # at most 50 pages/s a worker: an idle worker polls the queue on Scrapy's 5 s heartbeat, and one
    # unthrottled worker may otherwise crawl all 500 articles before the other's first poll
    paced = ["-s", "DOWNLOAD_DELAY=0.02", "-s", "RANDOMIZE_DOWNLOAD_DELAY=False"]
    procs = {name: start_worker(crawl_command(replica500.base, out, redis_url, key, name, *paced), worker_env,
                                root / f"{name}.log")
             for name, out in workers.items()}
    results = {name: finish(proc, root / f"{name}.log") for name, proc in procs.items()}
    merged = root / "merged"
    merge = archiver(worker_env, "merge", str(workers["w1"]), str(workers["w2"]), "--out", str(merged))
    return SharedCrawl(workers, {n: r[1] for n, r in results.items()}, {n: r[0] for n, r in results.items()},
                       merged, merge, key)


def test_workers_finish_and_merge_succeeds(shared_crawl: SharedCrawl) -> None:
    for name, code in shared_crawl.codes.items():
        assert code == 0, shared_crawl.logs[name][-3000:]
        assert "failures   0" in shared_crawl.logs[name]
    assert shared_crawl.merge.returncode == 0, shared_crawl.merge.stdout + shared_crawl.merge.stderr


def test_every_article_exactly_once_in_the_merged_output(shared_crawl: SharedCrawl,
                                                         replica500: RunningReplica) -> None:
    records = merged_articles(shared_crawl.merged)
    assert Counter(r["article_id"] for r in records) == Counter(t["article_id"] for t in replica500.truth())
    assert [r["article_id"] for r in records] == sorted((r["article_id"] for r in records), key=int)
    validator = jsonschema.validators.validator_for(SCHEMA)(SCHEMA)
    for record in records:
        validator.validate(record)


def test_every_article_page_fetched_once_across_workers(shared_crawl: SharedCrawl,
                                                        replica500: RunningReplica) -> None:
    fetched = captures(shared_crawl.workers["w1"]) + captures(shared_crawl.workers["w2"])
    cases = replica500.truth()
    assert cases
    for truth in cases:
        assert fetched[truth["url"]] == 1, truth["url"]


def test_both_workers_did_work(shared_crawl: SharedCrawl) -> None:
    summaries = json.loads((shared_crawl.merged / "merge.json").read_text())["workers"]
    assert {s["worker"] for s in summaries.values()} == {"w1", "w2"}
    for summary in summaries.values():
        assert summary["finish_reason"] == "finished"
        assert summary["articles"] >= 50, summaries  # of 500


def test_all_warcs_pass_warcio_check(shared_crawl: SharedCrawl) -> None:
    warcs = sorted((shared_crawl.merged / "warc").glob("*.warc.gz"))
    assert {p.name.rsplit("-", 1)[1] for p in warcs} == {"w1.warc.gz", "w2.warc.gz"}  # worker in the name
    result = harness.warcio_check(warcs, verbose=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_one_cdxj_and_a_valid_wacz(shared_crawl: SharedCrawl) -> None:
    merged = shared_crawl.merged
    fetched = captures(shared_crawl.workers["w1"]) + captures(shared_crawl.workers["w2"])
    lines = (merged / "indexes" / "index.cdxj").read_text().splitlines()
    assert len(lines) == sum(fetched.values())
    assert lines == sorted(lines)
    result = subprocess.run([str(VENV_BIN / "wacz"), "validate", "-f", str(merged / "archive.wacz")],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_merge_is_deterministic(shared_crawl: SharedCrawl, worker_env: dict[str, str],
                                tmp_path: Path) -> None:
    again = archiver(worker_env, "merge", str(shared_crawl.workers["w2"]), str(shared_crawl.workers["w1"]),
                     "--out", str(tmp_path / "again"), "--no-wacz")
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "again" / "articles.jsonl").read_bytes() == \
        (shared_crawl.merged / "articles.jsonl").read_bytes()


def test_redis_shows_the_crawl_finished(shared_crawl: SharedCrawl, redis_url: str,
                                        worker_env: dict[str, str]) -> None:
    crawl = status(worker_env, redis_url, shared_crawl.key)
    assert crawl["finished"]
    assert crawl["queued"] == 0
    assert {w["name"]: (w["alive"], w["inflight"]) for w in crawl["workers"]} == \
        {"w1": (False, 0), "w2": (False, 0)}
    assert all(w["done"] > 0 for w in crawl["workers"])


def test_a_late_worker_does_not_restart_a_finished_crawl_until_reset(
    shared_crawl: SharedCrawl, redis_url: str, worker_env: dict[str, str], replica500: RunningReplica,
    tmp_path: Path
) -> None:
    command = crawl_command(replica500.base, tmp_path / "w3", redis_url, shared_crawl.key, "w3")[3:]
    late = archiver(worker_env, *command)
    assert late.returncode == 2, late.stdout + late.stderr
    assert "finished at" in late.stderr
    assert len(late.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "w3").exists()
    reset = archiver(worker_env, "redis", "reset", "--redis", redis_url, "--redis-key", shared_crawl.key)
    assert reset.returncode == 0, reset.stderr
    assert status(worker_env, redis_url, shared_crawl.key)["seen"] == 0


# -- a worker killed with SIGKILL loses nothing; the next run starts from the merged state -------------


@dataclass
class KilledCrawl:
    site: RunningReplica
    folders: Path
    held: int
    code: int
    log: str
    merge: subprocess.CompletedProcess[str]


@pytest.fixture(scope="module")
def killed_crawl(redis_url: str, worker_env: dict[str, str],
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[KilledCrawl]:
    """Worker a is killed with SIGKILL mid-crawl, worker b joins and finishes; a + b merged into m."""
    root = tmp_path_factory.mktemp("killed")
    key, ttl = "test:kill", ["-s", "ARCHIVER_REDIS_HEARTBEAT_TTL=2"]
    with replica("--articles", "120", "--seed", "5", "--crawl-delay", "0", "--page-size", "20",
                 truth_dir=root) as site:
        # the victim goes slowly enough to be caught mid-crawl however fast the machine is
        slow = ["-s", "DOWNLOAD_DELAY=0.05"]
        victim = start_worker(crawl_command(site.base, root / "a", redis_url, key, "a", *ttl, *slow),
                              worker_env, root / "a.log")
        held = kill_mid_crawl(victim, worker_env, redis_url, key)
        survivor = start_worker(crawl_command(site.base, root / "b", redis_url, key, "b", *ttl), worker_env,
                                root / "b.log")
        code, log = finish(survivor, root / "b.log")
        open_files = list((root / "a" / "warc").glob("*.warc.gz.open"))
        merge = archiver(worker_env, "merge", str(root / "a"), str(root / "b"), "--out", str(root / "m"),
                         "--no-wacz")
        assert open_files, "the victim did not die with its WARC file open"
        yield KilledCrawl(site, root, held, code, log, merge)


def test_kill_9_of_a_worker_loses_nothing(killed_crawl: KilledCrawl) -> None:
    root, truth = killed_crawl.folders, killed_crawl.site.truth()
    assert killed_crawl.code == 0, killed_crawl.log[-3000:]
    assert killed_crawl.held > 0  # the victim died holding requests
    report = json.loads((root / "b" / "report.json").read_text())
    assert report["stats"]["archiver/redis/requeued"] == killed_crawl.held
    assert killed_crawl.merge.returncode == 0, killed_crawl.merge.stdout + killed_crawl.merge.stderr
    assert Counter(r["article_id"] for r in merged_articles(root / "m")) == \
        Counter(t["article_id"] for t in truth)
    fetched = captures(root / "a") + captures(root / "b")
    assert all(fetched[t["url"]] >= 1 for t in truth)
    result = harness.warcio_check(sorted((root / "m" / "warc").glob("*.warc.gz")), verbose=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_next_run_starts_from_the_merged_state(killed_crawl: KilledCrawl, redis_url: str,
                                                   worker_env: dict[str, str]) -> None:
    root = killed_crawl.folders
    state = ["-s", f"ARCHIVER_REDIS_STATE_FROM={root / 'm' / 'state.sqlite'}"]
    command = crawl_command(killed_crawl.site.base, root / "c", redis_url, "test:next", "c", *state)
    code, log = finish(start_worker(command, worker_env, root / "c.log"), root / "c.log")
    assert code == 0, log[-3000:]
    changes = json.loads((root / "c" / "report.json").read_text())["counts"]["changes"]
    assert changes == {"new": 0, "updated": 0, "unchanged": len(killed_crawl.site.truth()), "gone": 0}


def kill_mid_crawl(proc: subprocess.Popen[str], env: dict[str, str], redis: str, key: str) -> int:
    """SIGKILL the worker once it has committed some requests and holds others; what it held."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the worker finished before it could be killed"
        victim = worker_status(status(env, redis, key), "a")
        if victim["done"] >= 20 and victim["inflight"] >= 5:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
            held: int = worker_status(status(env, redis, key), "a")["inflight"]
            return held
        time.sleep(0.2)
    proc.kill()
    raise AssertionError("the worker never got going")
