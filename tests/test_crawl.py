"""Real crawls of the replica: discovery, politeness, and a faithful, replayable raw archive."""

from __future__ import annotations

import gzip
import itertools
import json
import socket
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from archiver.replica.process import RunningReplica
from tests.harness import VENV_BIN, crawl, records, warcio_check
from tests.warc_helpers import assert_cdxj_is_cdxj_indexers

Crawled = tuple[Path, subprocess.CompletedProcess[str]]


@pytest.fixture(scope="module")
def crawl300(
    replica300: RunningReplica, tmp_path_factory: pytest.TempPathFactory
) -> Crawled:
    out = tmp_path_factory.mktemp("crawl300")
    result = crawl(out, replica300.base)
    return out, result


def test_crawl_exits_0_and_prints_a_summary(crawl300: Crawled) -> None:
    out, result = crawl300
    assert result.returncode == 0, result.stdout + result.stderr
    assert "articles" in result.stdout
    assert "failures   0" in result.stdout
    for name in ("warc", "indexes", "articles.jsonl", "report.json", "failures.jsonl", "archive.wacz"):
        assert (out / name).exists(), name


def test_every_article_fetched_exactly_once(
    crawl300: Crawled, replica300: RunningReplica
) -> None:
    out, _ = crawl300
    fetched = Counter(r["uri"] for r in records(out) if r["type"] in {"response", "revisit"})
    cases = replica300.truth()
    assert cases
    for record in cases:
        assert fetched[record["url"]] == 1, record["url"]


def test_every_response_has_one_request_record(
    crawl300: Crawled,
) -> None:
    out, _ = crawl300
    found = records(out)
    requests = {r["headers"]["WARC-Record-ID"]: r for r in found if r["type"] == "request"}
    responses = [r for r in found if r["type"] in {"response", "revisit"}]
    assert len(requests) == len(responses)
    paired = Counter(r["headers"]["WARC-Concurrent-To"] for r in requests.values())
    for response in responses:
        assert paired[response["headers"]["WARC-Record-ID"]] == 1
    assert {r["uri"] for r in requests.values()} == {r["uri"] for r in responses}
    report = json.loads((out / "report.json").read_text())
    assert report["counts"]["responses"] == len(responses)


def test_robots_txt_and_listings_are_archived(
    crawl300: Crawled,
) -> None:
    out, _ = crawl300
    paths = {urlsplit(r["uri"]).path for r in records(out) if r["type"] == "response"}
    assert "/robots.txt" in paths
    assert {
        "/News/News-Stories/",
        "/News/Releases/",
        "/News/Transcripts/",
        "/News/Speeches/",
        "/News/Contracts/",
        "/News/Feature-Stories/",
        "/News/Advisories/",
    } <= paths


def test_bodies_are_kept_content_encoded(crawl300: Crawled) -> None:
    out, _ = crawl300
    pages = [r for r in records(out) if r["type"] == "response" and "/Article/" in r["uri"]]
    assert pages
    for page in pages[:20]:
        assert page["payload"][:2] == b"\x1f\x8b"  # still gzip, as the server sent it
        assert b"<html" in gzip.decompress(page["payload"])[:200]


def test_warcs_pass_warcio_check(crawl300: Crawled) -> None:
    out, _ = crawl300
    warcs = sorted((out / "warc").glob("*.warc.gz"))
    assert warcs
    assert not list((out / "warc").glob("*.open"))
    result = warcio_check(warcs)
    assert result.returncode == 0, result.stdout + result.stderr


def test_wacz_validates(crawl300: Crawled) -> None:
    out, _ = crawl300
    result = subprocess.run(
        [str(VENV_BIN / "wacz"), "validate", "-f", str(out / "archive.wacz")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_cdxj_lines_point_at_their_records(crawl300: Crawled) -> None:
    out, _ = crawl300
    by_location = {(r["file"], r["offset"]): r for r in records(out)}
    lines = [
        line
        for path in sorted((out / "indexes").glob("*.cdxj"))
        for line in path.read_text().splitlines()
        if line.strip()
    ]
    assert len(lines) == sum(1 for r in by_location.values() if r["type"] in {"response", "revisit"})
    for line in lines:
        fields = json.loads(line.split(" ", 2)[2])
        record = by_location[(fields["filename"], int(fields["offset"]))]
        assert record["uri"] == fields["url"]
        assert record["length"] == int(fields["length"])


def test_cdxj_made_while_writing_is_cdxj_indexers(crawl300: Crawled, tmp_path: Path) -> None:
    assert_cdxj_is_cdxj_indexers(crawl300[0], tmp_path)


def test_crawl_delay_from_robots_is_honoured(
    fresh_replica: Callable[..., RunningReplica], tmp_path: Path
) -> None:
    """One request a second whatever the concurrency, measured between the archived responses
    (their WARC-Dates, in microseconds): the crawl's start-up does not count. Scrapy's random
    0.5-1.5x spread of a download delay is off, so that every gap is the Crawl-delay."""
    running = fresh_replica("--articles", "10", "--crawl-delay", "1")
    ids = "1000000-1000003"  # 4 fetches at 4 a time: without the delay, all within a few ms
    result = crawl(tmp_path / "out", running.base, "--discovery", "ids", "--ids", ids, "--no-wacz",
                   "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=4", "-s", "RANDOMIZE_DOWNLOAD_DELAY=False")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["stats"]["archiver/crawl_delay/127.0.0.1"] == 1
    dates = sorted(datetime.fromisoformat(r["headers"]["WARC-Date"]) for r in records(tmp_path / "out")
                   if r["type"] == "response" and "/Article/" in r["uri"])
    assert len(dates) == 4
    gaps = [(later - earlier).total_seconds() for earlier, later in itertools.pairwise(dates)]
    # a request goes a second after the previous one; its answer may come a little sooner
    assert min(gaps) > 0.8, gaps


@pytest.mark.parametrize("discovery", ["rss", "sitemap"])
def test_other_discovery_strategies_find_articles(
    discovery: str, replica300: RunningReplica, tmp_path: Path
) -> None:
    result = crawl(tmp_path / "out", replica300.base, "--discovery", discovery, "--no-wacz")
    assert result.returncode == 0, result.stdout + result.stderr
    fetched = {r["uri"] for r in records(tmp_path / "out") if r["type"] == "response"}
    truth = {r["url"]: r for r in replica300.truth()}
    articles = fetched & truth.keys()
    if discovery == "sitemap":
        assert articles == truth.keys()
    else:  # the five feeds, newest 100 items each
        assert {truth[u]["content_type"] for u in articles} == {
            "news-story",
            "transcript",
            "release",
            "contract",
            "feature",
        }


def test_ids_follow_legacy_redirects(replica300: RunningReplica, tmp_path: Path) -> None:
    stories = [r for r in replica300.truth() if r["content_type"] == "news-story"][:3]
    ids = ",".join(r["article_id"] for r in stories) + ",12"
    result = crawl(tmp_path / "out", replica300.base, "--discovery", "ids", "--ids", ids, "--legacy-ids",
                   "--no-wacz")
    assert result.returncode == 0, result.stdout + result.stderr
    found = records(tmp_path / "out")
    redirects = [r for r in found if r["type"] == "response" and r["status"] == "301"]
    assert len(redirects) == 3
    assert {r["url"] for r in stories} <= {r["uri"] for r in found if r["status"] == "200"}
    assert any(r["status"] == "404" for r in found)  # the missing id is archived too


def test_since_stops_paging(replica300: RunningReplica, tmp_path: Path) -> None:
    truth = replica300.truth()
    since = truth[40]["published"]
    result = crawl(tmp_path / "out", replica300.base, "--since", since, "--sections", "archive", "--no-wacz")
    assert result.returncode == 0, result.stdout + result.stderr
    found = records(tmp_path / "out")
    listings = [r for r in found if r["type"] == "response" and "/News/Archive/" in r["uri"]]
    assert len(listings) <= 6  # 40-odd newest articles at 10 a page, then one older page
    fetched = {r["uri"] for r in found if r["type"] == "response"}
    wanted = {r["url"] for r in truth if r["published"] >= since}
    assert wanted <= fetched
    assert not ({r["url"] for r in truth if r["published"] < since} & fetched)


def test_max_pages_and_sections(replica300: RunningReplica, tmp_path: Path) -> None:
    result = crawl(tmp_path / "out", replica300.base, "--sections", "releases,contracts", "--max-pages", "1",
                   "--no-wacz")
    assert result.returncode == 0, result.stdout + result.stderr
    paths = [urlsplit(r["uri"]).path for r in records(tmp_path / "out") if r["type"] == "response"]
    # the pages' requisites (stylesheets, scripts, photos: docs/replay.md) are not under /News/
    listings = sorted(p for p in paths if "/Article/" not in p and p.startswith("/News/"))
    assert listings == ["/News/Contracts/", "/News/Releases/"]
    assert sum("/Article/" in p for p in paths) == 20


def test_plain_scrapy_crawl_works_too(replica300: RunningReplica, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = subprocess.run(
        [
            str(VENV_BIN / "scrapy"),
            "crawl",
            "sections",
            "-a",
            f"site={replica300.base}",
            "-a",
            "sections=advisories",
            "-s",
            f"ARCHIVER_OUT_DIR={out}",
            "-s",
            "AUTOTHROTTLE_ENABLED=False",
            "-s",
            "DOWNLOAD_DELAY=0",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=Path(__file__).parent.parent,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert list((out / "warc").glob("*.warc.gz"))
    assert json.loads((out / "report.json").read_text())["counts"]["failures"] == 0


@pytest.mark.parametrize(
    "args",
    [
        ["--site", "ftp://example.org"],
        ["--since", "2020-13-01"],
        ["--sections", "weather"],
        ["--max-pages", "0"],
        ["--discovery", "ids"],
        ["--ids", "5"],
        ["--since", "2021-01-01", "--until", "2020-01-01"],
    ],
)
def test_bad_crawl_options_exit_2(args: list[str], tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "archiver", "crawl", "--out", str(tmp_path / "o"), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_folder_in_use_by_a_live_crawl_exits_3(replica300: RunningReplica, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (out / ".crawl.lock").write_text(f"{holder.pid} {socket.gethostname()}\n")
        result = crawl(out, replica300.base)
    finally:
        holder.kill()
        holder.wait()
    assert result.returncode == 3
    assert f"pid {holder.pid}" in result.stderr


def test_resume_counts_finished_articles_whose_lines_were_lost_apart_from_unfinished_ones(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from archiver.runtime.crawl import reconcile
    from archiver.runtime.state import STATE_FILE, CrawlState

    site = "https://www.war.gov/News/News-Stories/Article/Article"
    kept, lost, queued, refused = (f"{site}/{n}/a/" for n in range(1, 5))
    state = CrawlState(tmp_path / STATE_FILE)
    for url in (kept, lost, queued, refused):
        state.discover(url, "article")
    state.finish(kept)
    state.finish(lost)  # finished, but its changes.jsonl line died with the process
    state.close()
    (tmp_path / "changes.jsonl").write_text(json.dumps({"url": kept}) + "\n", "utf-8")
    failure = {"url": refused, "reason": "refused"}
    (tmp_path / "failures.jsonl").write_text(json.dumps(failure) + "\n", "utf-8")
    with caplog.at_level("INFO", logger="archiver.runtime.crawl"):
        reconcile(tmp_path)
    messages = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("resuming: 1 finished article(s) missing from changes.jsonl") for m in messages)
    assert any(m.startswith("resuming: 2 article(s) the interrupted run did not finish") for m in messages)
    state = CrawlState(tmp_path / STATE_FILE)
    assert sorted(url for url, _kind, _data in state.pending()) == sorted([lost, queued, refused])
    state.close()
    assert (tmp_path / "failures.jsonl").read_text("utf-8") == ""  # the refused one is asked again
