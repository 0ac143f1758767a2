"""The --redis options, the add-on that turns a crawl into a worker, and key names (no Redis needed)."""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from scrapy.addons import AddonManager
from scrapy.settings import Settings

from archiver.distributed.addon import DistributedCrawl
from archiver.distributed.commands import ADDON, redis_settings
from archiver.distributed.coordinator import Coordinator, default_worker_name
from archiver.distributed.keys import CrawlKeys, check_worker_name, crawl_prefix
from archiver.distributed.seeding import SeedOnce

URL = "redis://127.0.0.1:6379/0"


def project_settings(**cmdline: object) -> Settings:
    settings = Settings()
    settings.setmodule("archiver.settings", priority="project")
    settings.setdict(cmdline, priority="cmdline")
    return settings


def test_without_a_redis_url_the_addon_changes_nothing() -> None:
    settings = project_settings()
    before = settings.copy_to_dict()
    DistributedCrawl().update_settings(settings)
    assert settings.copy_to_dict() == before


def test_a_redis_url_makes_the_crawl_a_worker() -> None:
    settings = project_settings(ARCHIVER_REDIS_URL=URL, ARCHIVER_REDIS_WORKER="w1", SCHEDULER_PERSIST=False)
    DistributedCrawl().update_settings(settings)
    assert settings["SCHEDULER"] == "archiver.distributed.scheduler.DistributedScheduler"
    assert settings["DUPEFILTER_CLASS"] == "archiver.distributed.dupefilter.SharedDupeFilter"
    assert settings.getbool("SCHEDULER_PERSIST")  # forced: a closing worker must not empty the queue
    assert not settings.getbool("SCHEDULER_FLUSH_ON_START")
    assert settings["REDIS_URL"] == URL
    assert settings["WARC_WORKER"] == "w1"
    assert Coordinator in settings.getdict("EXTENSIONS")
    assert SeedOnce in settings.getdict("SPIDER_MIDDLEWARES")
    assert "archiver.extensions.report.CrawlReport" in settings.getdict("EXTENSIONS")  # the project's stay


def test_an_explicit_warc_worker_wins() -> None:
    settings = project_settings(ARCHIVER_REDIS_URL=URL, ARCHIVER_REDIS_WORKER="w1", WARC_WORKER="box-7")
    DistributedCrawl().update_settings(settings)
    assert settings["WARC_WORKER"] == "box-7"


def test_without_a_name_the_worker_is_host_and_pid() -> None:
    settings = project_settings(ARCHIVER_REDIS_URL=URL)
    DistributedCrawl().update_settings(settings)
    assert settings["ARCHIVER_REDIS_WORKER"] == default_worker_name()
    assert default_worker_name().endswith(f"-{os.getpid()}")


def test_spiders_see_a_full_walk_and_no_resume() -> None:
    settings = project_settings(ARCHIVER_REDIS_URL=URL, ARCHIVER_FULL=False, ARCHIVER_RESUME=True,
                                ADDONS={ADDON: 10})
    AddonManager.load_pre_crawler_settings(settings)  # what CrawlerProcess does before building spiders
    assert settings.getbool("ARCHIVER_FULL")
    assert not settings.getbool("ARCHIVER_RESUME")


@pytest.mark.parametrize("name", ["w1", "host-12.a_b"])
def test_valid_worker_names(name: str) -> None:
    assert check_worker_name(name) == name


@pytest.mark.parametrize("name", ["", "a b", ":done", "w/1", "x" * 101])
def test_invalid_worker_names(name: str) -> None:
    with pytest.raises(ValueError, match="worker name"):
        check_worker_name(name)


def test_key_names() -> None:
    keys = CrawlKeys(crawl_prefix("archiver:%(spider)s", "sections"))
    assert (keys.queue, keys.dupefilter, keys.inflight("w1"), keys.heartbeat("w1")) == (
        "archiver:sections:requests", "archiver:sections:dupefilter", "archiver:sections:inflight:w1",
        "archiver:sections:worker:w1")


def test_no_redis_no_settings() -> None:
    assert redis_settings(argparse.Namespace(redis=None, worker=None, redis_key=None)) == {}


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("args", [
    ["--worker", "w1"],
    ["--redis-key", "k"],
    ["--redis", "http://127.0.0.1:6379"],
    ["--redis", URL, "--worker", "a b"],
    ["--redis", "redis://127.0.0.1:{port}/0"],
])
def test_bad_redis_options_exit_2(args: list[str], tmp_path: Path) -> None:
    args = [arg.format(port=closed_port()) for arg in args]
    result = subprocess.run([sys.executable, "-m", "archiver", "crawl", "--out", str(tmp_path / "o"), *args],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()
