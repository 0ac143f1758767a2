"""The compact duplicate filter (archiver/runtime/dupefilter.py) and its key set
(archiver/runtime/compact.py): the same requests filtered as Scrapy's RFPDupeFilter, in real crawls
of the replica, with JOBDIR."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.dupefilters import RFPDupeFilter

from archiver import settings as archiver_settings
from archiver.replica.process import RunningReplica
from archiver.runtime.compact import KeySet, url_key
from archiver.runtime.dupefilter import CompactDupeFilter

ROOT = Path(__file__).resolve().parents[1]

SPIDER = '''
import json
from pathlib import Path

import scrapy
from scrapy import signals


class Twice(scrapy.Spider):
    name = "twice"

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.dump, signal=signals.spider_closed)
        return spider

    async def start(self):
        for url in json.loads(self.urls):
            yield scrapy.Request(url)

    def parse(self, response):
        yield {"url": response.url}

    def dump(self, spider):
        stats = self.crawler.stats.get_stats()
        Path("stats.json").write_text(json.dumps({
            "filtered": stats.get("dupefilter/filtered", 0),
            "requests": stats.get("downloader/request_count", 0),
            "dupefilter": type(self.crawler.engine._slot.scheduler.df).__name__,
        }))
'''


def crawl(work: Path, urls: list[str], *settings: str) -> tuple[dict[str, object], list[str]]:
    work.mkdir(parents=True, exist_ok=True)
    (work / "spider.py").write_text(SPIDER)
    command = [sys.executable, "-m", "scrapy", "runspider", "spider.py", "-a", f"urls={json.dumps(urls)}",
               "-s", f"DUPEFILTER_CLASS={archiver_settings.DUPEFILTER_CLASS}", "-O", "items.jsonl",
               "-s", "ROBOTSTXT_OBEY=False", "-s", "LOG_LEVEL=INFO"]
    for setting in settings:
        command += ["-s", setting]
    done = subprocess.run(command, cwd=work, env=dict(os.environ, PYTHONPATH=str(ROOT)),
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    fetched = [json.loads(line)["url"] for line in (work / "items.jsonl").read_text().splitlines()]
    return json.loads((work / "stats.json").read_text()), fetched


def test_the_archivers_crawls_use_the_compact_filter() -> None:
    assert archiver_settings.DUPEFILTER_CLASS == "archiver.runtime.dupefilter.CompactDupeFilter"


def test_a_crawl_asks_each_url_once(tmp_path: Path, replica300: RunningReplica) -> None:
    first, second = replica300.base + "/News/Releases/", replica300.base + "/News/Transcripts/"
    stats, fetched = crawl(tmp_path, [first, first, second, first + "#top", second])
    assert stats["dupefilter"] == "CompactDupeFilter"
    assert sorted(fetched) == sorted([first, second])
    assert (stats["requests"], stats["filtered"]) == (2, 3)


def test_jobdir_keeps_what_was_asked_in_scrapys_format(tmp_path: Path, replica300: RunningReplica) -> None:
    first, second = replica300.base + "/News/Releases/", replica300.base + "/News/Transcripts/"
    jobdir = tmp_path / "job"
    stats, fetched = crawl(tmp_path / "one", [first], f"JOBDIR={jobdir}")
    assert fetched == [first]
    # a second run of the same job: the first URL was asked already (requests.seen read back)
    stats, fetched = crawl(tmp_path / "two", [first, second], f"JOBDIR={jobdir}")
    assert fetched == [second]
    assert stats["filtered"] == 1
    # Scrapy's own filter reads the file the compact one wrote, and the other way round
    scrapys = RFPDupeFilter(str(jobdir))
    try:
        assert scrapys.request_seen(Request(first))
        assert scrapys.request_seen(Request(second))
        assert not scrapys.request_seen(Request(replica300.base + "/News/Speeches/"))
    finally:
        scrapys.close("finished")
    ours = CompactDupeFilter(str(jobdir))
    try:
        assert len(ours.keys) == 3
        assert ours.request_seen(Request(replica300.base + "/News/Speeches/"))
    finally:
        ours.close("finished")


def test_the_key_set_is_a_set() -> None:
    chosen = random.Random(5)
    keys, expected = KeySet(buffer=7), set()
    for _ in range(3000):
        fresh = chosen.random() < 0.7 or not expected
        key = chosen.getrandbits(64) if fresh else chosen.choice(sorted(expected))
        assert (key in keys) == (key in expected)
        keys.add(key)
        expected.add(key)
        assert len(keys) == len(expected)
    assert list(keys) == sorted(expected)
    assert 0 not in keys
    assert -1 not in keys
    assert 1 << 64 not in keys
    assert "x" not in keys
    keys.update([0, (1 << 64) - 1])
    assert 0 in keys
    assert (1 << 64) - 1 in keys
    for bad in (-1, 1 << 64):
        with pytest.raises(ValueError, match="64-bit"):
            keys.add(bad)


def test_the_key_set_takes_about_8_bytes_a_key() -> None:
    tracemalloc.start()
    try:
        keys = KeySet(url_key(f"https://www.defense.gov/{n}") for n in range(100_000))
        size, _peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(keys) == 100_000
    assert size < 100_000 * 12  # a set of these ints: ~60 bytes a key
