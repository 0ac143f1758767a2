"""WarcMiddleware: unit checks, a real Scrapy crawl against a local server, pywb replay."""

from __future__ import annotations

import asyncio
import gzip
import ipaddress
import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from scrapy import Request
from scrapy.exceptions import NotConfigured
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from archiver.warc.index import cdxj_path_for
from archiver.warc.middleware import MIDDLEWARE_ORDER, WarcMiddleware
from archiver.warc.revisit import RevisitPolicy
from archiver.warc.writer import WarcRollingWriter
from tests.harness import free_port, warcio_check
from tests.warc_helpers import (
    CHUNKED_PAGE,
    GZIP_PAGE,
    ROOT,
    assert_warcs_pass_check,
    pywb_tool,
    read_record_at,
    read_records,
    running_server,
    wait_for_http,
)

SPIDER = '''
import json
from pathlib import Path

import scrapy
from scrapy import signals

from archiver.warc.middleware import find_warc_middleware


class WarcTestSpider(scrapy.Spider):
    name = "warctest"
    allowed_domains = ["127.0.0.1"]
    custom_settings = {
        "DOWNLOADER_MIDDLEWARES": {"archiver.warc.middleware.WarcMiddleware": 950},
        "ROBOTSTXT_OBEY": True,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_LEVEL": "INFO",
    }

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.dump_stats, signal=signals.engine_stopped)
        return spider

    async def start(self):
        yield scrapy.Request(self.start_url)

    def parse(self, response):
        location = response.meta["warc"]
        item = {"url": response.url, "warc": location, "warc_date": response.meta["warc_date"]}
        middleware = find_warc_middleware(self.crawler)
        conversion = middleware.write_conversion(
            json.dumps({"url": response.url}).encode(),
            refers_to=location["record_id"],
            target_uri=response.url,
        )
        item["conversion"] = conversion.as_dict()
        yield item
        if isinstance(response, scrapy.http.TextResponse):
            yield from response.follow_all(css="a::attr(href)")

    def dump_stats(self):
        stats = {k: v for k, v in self.crawler.stats.get_stats().items() if k.startswith("warc/")}
        Path(self.stats_path).write_text(json.dumps(stats))
'''


@dataclass
class Crawl:
    base: str
    warc_dir: Path
    items: list[dict[str, Any]]
    stats: dict[str, int]
    log: str

    def records(self) -> list[dict[str, Any]]:
        found = []
        for path in sorted(self.warc_dir.glob("*.warc.gz")):
            found += [dict(record, file=path) for record in read_records(path)]
        return found

    def records_for(self, url: str, rec_type: str) -> list[dict[str, Any]]:
        return [
            record
            for record in self.records()
            if record["type"] == rec_type
            and dict(record["warc_headers"]).get("WARC-Target-URI") == url
        ]


def read_location(directory: Path, location: dict[str, Any]) -> Any:
    path = directory / location["filename"]
    return read_record_at(path, location["offset"], location["length"])


def run_crawl(work: Path, base: str, start_url: str, *settings: str) -> Crawl:
    """Run the test spider with WarcMiddleware in a subprocess (no project settings)."""
    work.mkdir(parents=True, exist_ok=True)
    (work / "spider.py").write_text(SPIDER)
    command = [
        sys.executable, "-m", "scrapy", "runspider", "spider.py",
        "-a", f"start_url={start_url}", "-a", "stats_path=stats.json",
        "-s", "WARC_DIR=warcs", "-s", "WARC_PREFIX=test", "-O", "items.jsonl",
    ]  # fmt: skip
    for setting in settings:
        command += ["-s", setting]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run(
        command, cwd=work, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    items = [json.loads(line) for line in (work / "items.jsonl").read_text().splitlines()]
    stats = json.loads((work / "stats.json").read_text())
    return Crawl(base, work / "warcs", items, stats, result.stderr)


@pytest.fixture(scope="module")
def crawl(tmp_path_factory: pytest.TempPathFactory) -> Crawl:
    """One real crawl of the test server (default settings + WarcMiddleware at 950).

    Records are encoded inline here; the replica crawl below encodes them on a thread.
    """
    with running_server() as base:
        work = tmp_path_factory.mktemp("crawl")
        return run_crawl(work, base, base + "gzip", "WARC_MAX_SIZE=6000")


def test_crawl_writes_valid_warcs_that_pass_warcio_check(crawl: Crawl) -> None:
    files = sorted(crawl.warc_dir.glob("*.warc.gz"))
    assert len(files) > 1  # WARC_MAX_SIZE forced a rollover
    assert not list(crawl.warc_dir.glob("*.open"))
    for path in files:
        result = warcio_check([path])
        assert result.returncode == 0, result.stdout
        assert read_records(path)[0]["type"] == "warcinfo"


def test_every_fetch_has_a_request_and_response_record(crawl: Crawl) -> None:
    for path in ["robots.txt", "gzip", "chunked", "cookies", "old", "missing"]:
        url = crawl.base + path
        assert len(crawl.records_for(url, "response")) == 1, path
        assert len(crawl.records_for(url, "request")) == 1, path


def test_gzip_body_is_archived_as_received(crawl: Crawl) -> None:
    [record] = crawl.records_for(crawl.base + "gzip", "response")
    assert record["http"].get_header("Content-Encoding") == "gzip"
    assert record["http"].get_header("Content-Length") == str(len(record["raw"]))
    assert gzip.decompress(record["raw"]) == GZIP_PAGE


def test_chunked_body_is_archived_dechunked_without_framing_headers(crawl: Crawl) -> None:
    # Twisted drops Transfer-Encoding (a connection-control header) before Scrapy sees it.
    [record] = crawl.records_for(crawl.base + "chunked", "response")
    assert record["raw"] == CHUNKED_PAGE
    assert record["http"].get_header("Transfer-Encoding") is None
    assert record["http"].get_header("Content-Length") is None


def test_repeated_and_non_utf8_headers_are_kept(crawl: Crawl) -> None:
    [record] = crawl.records_for(crawl.base + "cookies", "response")
    cookies = [v for k, v in record["http"].headers if k.lower() == "set-cookie"]
    assert cookies == ["a=1; Path=/", "b=2; Path=/"]
    assert record["http"].get_header("X-Latin") == "caf\xe9"


def test_redirect_and_404_are_archived_with_status_lines(crawl: Crawl) -> None:
    [moved] = crawl.records_for(crawl.base + "old", "response")
    assert moved["http"].statusline == "301 Moved Permanently"
    assert moved["http"].get_header("Location") == "/gzip"
    [missing] = crawl.records_for(crawl.base + "missing", "response")
    assert missing["http"].statusline == "404 Not Found"
    assert missing["raw"] == b"not found"


def test_request_record_holds_the_headers_scrapy_sent(crawl: Crawl) -> None:
    [request] = crawl.records_for(crawl.base + "gzip", "request")
    headers = request["http"]
    assert headers.protocol == "GET"
    assert headers.statusline == "/gzip HTTP/1.1"
    assert "Scrapy" in headers.get_header("User-Agent")
    assert "gzip" in headers.get_header("Accept-Encoding")
    assert headers.get_header("Host") == crawl.base.split("/")[2]
    warc = dict(request["warc_headers"])
    [response] = crawl.records_for(crawl.base + "gzip", "response")
    response_warc = dict(response["warc_headers"])
    assert warc["WARC-Concurrent-To"] == response_warc["WARC-Record-ID"]
    assert response_warc["WARC-Concurrent-To"] == warc["WARC-Record-ID"]
    assert response_warc["WARC-IP-Address"] == "127.0.0.1"


def test_identical_payload_is_written_as_revisit(crawl: Crawl) -> None:
    [original] = crawl.records_for(crawl.base + "chunked", "response")
    [revisit] = crawl.records_for(crawl.base + "copy", "revisit")
    headers = dict(revisit["warc_headers"])
    assert headers["WARC-Refers-To"] == dict(original["warc_headers"])["WARC-Record-ID"]
    assert headers["WARC-Refers-To-Target-URI"] == crawl.base + "chunked"
    assert headers["WARC-Profile"].endswith("/identical-payload-digest")


def test_item_location_points_at_its_response_record(crawl: Crawl) -> None:
    by_url = {item["url"]: item for item in crawl.items}
    assert set(by_url) == {crawl.base + p for p in ("gzip", "chunked", "cookies", "copy")}
    for item in crawl.items:
        location = item["warc"]
        record, _ = read_location(crawl.warc_dir, location)
        headers = record.rec_headers
        assert headers.get_header("WARC-Record-ID") == location["record_id"]
        assert headers.get_header("WARC-Target-URI") == item["url"]
        assert headers.get_header("WARC-Date") == item["warc_date"]
        assert headers.get_header("WARC-Payload-Digest") == location["payload_digest"]


def test_conversion_record_refers_to_the_response(crawl: Crawl) -> None:
    assert crawl.items
    for item in crawl.items:
        location = item["conversion"]
        record, raw = read_location(crawl.warc_dir, location)
        assert record.rec_type == "conversion"
        assert record.rec_headers.get_header("WARC-Refers-To") == item["warc"]["record_id"]
        assert json.loads(raw) == {"url": item["url"]}


def test_stats_count_records_bytes_and_files(crawl: Crawl) -> None:
    stats = crawl.stats
    assert stats["warc/records/request"] == 7
    assert stats["warc/records/response"] == 6
    assert stats["warc/records/revisit"] == 1
    assert stats["warc/records/conversion"] == 4
    files = sorted(crawl.warc_dir.glob("*.warc.gz"))
    assert stats["warc/files"] == len(files)
    assert stats["warc/bytes"] == sum(path.stat().st_size for path in files)


def test_cdxj_index_is_written_for_every_closed_file(crawl: Crawl) -> None:
    warcs = sorted(p.name.removesuffix(".warc.gz") for p in crawl.warc_dir.glob("*.warc.gz"))
    indexes = sorted(p.name.removesuffix(".cdxj") for p in (crawl.warc_dir / "indexes").glob("*"))
    assert indexes == warcs


def test_crawl_of_the_replica_archives_gzip_chunked_and_cookies(tmp_path: Path) -> None:
    replica_process = pytest.importorskip("archiver.replica.process")
    with replica_process.replica("--articles", "20", "--seed", "1", "--crawl-delay", "0") as site:
        start = site.base + "/News/Releases/"
        settings = ("DEPTH_LIMIT=1", "WARC_DEDUPE=False", "WARC_ENCODE_IN_THREAD=True")
        result = run_crawl(tmp_path, site.base, start, *settings)
    files = sorted(result.warc_dir.glob("*.warc.gz"))
    assert files
    for path in files:
        assert warcio_check([path]).returncode == 0
    records = [record for path in files for record in read_records(path)]
    responses = [r for r in records if r["type"] == "response"]
    assert len(responses) == len([r for r in records if r["type"] == "request"])
    gzipped = [r for r in responses if r["http"].get_header("Content-Encoding") == "gzip"]
    assert gzipped
    assert all(gzip.decompress(r["raw"]) for r in gzipped)
    unframed = [r for r in responses if r["http"].get_header("Content-Length") is None]
    assert unframed  # the replica sends some pages chunked
    assert any(
        len([k for k, _ in r["http"].headers if k.lower() == "set-cookie"]) > 1 for r in responses
    )


@pytest.fixture(scope="module")
def pywb(crawl: Crawl, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """pywb serving the crawl's WARCs through our own CDXJ files; yields the collection URL."""
    wayback = pywb_tool("wayback")
    root = tmp_path_factory.mktemp("pywb")
    archive = root / "collections" / "coll" / "archive"
    indexes = root / "collections" / "coll" / "indexes"
    archive.mkdir(parents=True)
    indexes.mkdir()
    for path in crawl.warc_dir.glob("*.warc.gz"):
        (archive / path.name).write_bytes(path.read_bytes())
    for path in (crawl.warc_dir / "indexes").glob("*.cdxj"):
        (indexes / path.name).write_bytes(path.read_bytes())
    port = free_port()
    proc = subprocess.Popen(
        [str(wayback), "-p", str(port), "-b", "127.0.0.1"],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/")
        yield f"http://127.0.0.1:{port}/coll/"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def replay(collection: str, url: str) -> tuple[int, bytes, Any]:
    with urllib.request.urlopen(f"{collection}id_/{url}", timeout=20) as response:
        return response.status, response.read(), response.headers


def test_pywb_replays_gzip_page(crawl: Crawl, pywb: str) -> None:
    status, body, headers = replay(pywb, crawl.base + "gzip")
    if headers.get("Content-Encoding") == "gzip":
        body = gzip.decompress(body)
    assert status == 200
    assert body == GZIP_PAGE


def test_pywb_replays_chunked_page(crawl: Crawl, pywb: str) -> None:
    status, body, _ = replay(pywb, crawl.base + "chunked")
    assert status == 200
    assert body == CHUNKED_PAGE


def test_pywb_replays_revisit_from_original_payload(crawl: Crawl, pywb: str) -> None:
    status, body, _ = replay(pywb, crawl.base + "copy")
    assert status == 200
    assert body == CHUNKED_PAGE


# -- unit checks, no reactor -------------------------------------------------------------


class FakeStats:
    def __init__(self) -> None:
        self.values: dict[str, int] = {}

    def inc_value(self, key: str) -> None:
        self.values[key] = self.values.get(key, 0) + 1

    def set_value(self, key: str, value: int) -> None:
        self.values[key] = value


@pytest.fixture
def unit(tmp_path: Path) -> Iterator[Callable[..., tuple[WarcMiddleware, FakeStats]]]:
    """Factory of middlewares writing to tmp_path (no reactor: encoding stays inline).

    At teardown every middleware is closed and every WARC must pass ``warcio check``.
    """
    made: list[WarcMiddleware] = []

    def make(**options: Any) -> tuple[WarcMiddleware, FakeStats]:
        stats = FakeStats()
        writer = WarcRollingWriter(tmp_path, prefix="unit", worker="w")
        middleware = WarcMiddleware(writer, stats=stats, encode_in_thread=False, **options)
        made.append(middleware)
        return middleware, stats

    yield make
    for middleware in made:
        middleware.spider_closed()
    assert_warcs_pass_check(tmp_path)


def request_and_response(
    url: str, status: int = 200, body: bytes = b"<p>x</p>", **kw: Any
) -> tuple[Request, HtmlResponse]:
    headers = {"User-Agent": "ua", **kw.pop("request_headers", {})}
    request = Request(url, meta=kw.pop("meta", {}), headers=headers)
    response = HtmlResponse(
        url,
        status=status,
        body=body,
        headers=kw.pop("headers", {"Content-Type": "text/html"}),
        request=request,
        protocol="HTTP/1.1",
        ip_address=ipaddress.ip_address("192.0.2.1"),
        flags=kw.pop("flags", []),
    )
    return request, response


def fetch(middleware: WarcMiddleware, url: str, **kw: Any) -> Request:
    request, response = request_and_response(url, **kw)
    assert asyncio.run(middleware.process_response(request, response)) is response
    return request


def test_cached_responses_are_not_archived(unit: Any) -> None:
    middleware, stats = unit()
    request = fetch(middleware, "https://x.mil/a", flags=["cached"])
    assert "warc" not in request.meta
    assert stats.values == {"warc/skipped/cached": 1}
    assert middleware.writer.current_path is None


def test_not_modified_becomes_server_not_modified_revisit(tmp_path: Path, unit: Any) -> None:
    middleware, stats = unit()
    prior = {"target_uri": "https://x.mil/a", "warc_date": "2024-01-01T00:00:00Z"}
    meta = {"warc_prior_capture": prior}
    request = fetch(middleware, "https://x.mil/a", status=304, body=b"", meta=meta,
                    request_headers={"If-None-Match": '"1"'})
    middleware.spider_closed()
    location = request.meta["warc"]
    record, _ = read_location(tmp_path, location)
    assert record.rec_type == "revisit"
    assert record.rec_headers.get_header("WARC-Profile").endswith("/server-not-modified")
    assert record.rec_headers.get_header("WARC-Refers-To-Date") == "2024-01-01T00:00:00Z"
    assert stats.values["warc/records/revisit"] == 1


@pytest.mark.parametrize(("validators", "prior"), [
    ({}, {"target_uri": "https://x.mil/a", "warc_date": "2024-01-01T00:00:00Z", "record_id": "<urn:uuid:1>"}),
    ({"If-Modified-Since": "Mon, 01 Jan 2024 00:00:00 GMT"}, None),
    ({"If-None-Match": '"1"'}, {"target_uri": "https://x.mil/a"}),
], ids=["unsolicited", "no-prior-capture", "prior-without-date-or-id"])
def test_not_modified_referring_to_nothing_is_a_response_record(
        tmp_path: Path, unit: Any, validators: dict[str, str], prior: dict[str, str] | None) -> None:
    """A 304 that no validator asked for, or whose earlier capture is unknown: a revisit would
    refer to nothing, so it is archived as the response it is."""
    middleware, stats = unit()
    meta = {"warc_prior_capture": prior} if prior else {}
    request = fetch(middleware, "https://x.mil/a", status=304, body=b"", meta=meta,
                    request_headers=validators)
    middleware.spider_closed()
    record, _ = read_location(tmp_path, request.meta["warc"])
    assert record.rec_type == "response"
    assert record.http_headers.statusline == "304 Not Modified"
    assert "warc_revisit" not in request.meta
    assert stats.values["warc/records/response"] == 1


def test_dedupe_can_be_switched_off(unit: Any) -> None:
    middleware, stats = unit(revisits=RevisitPolicy(dedupe=False))
    fetch(middleware, "https://x.mil/a")
    fetch(middleware, "https://x.mil/b")
    assert stats.values["warc/records/response"] == 2
    assert "warc/records/revisit" not in stats.values


def test_dataloss_response_is_marked_truncated(tmp_path: Path, unit: Any) -> None:
    middleware, _ = unit()
    request = fetch(middleware, "https://x.mil/a", flags=["dataloss"])
    middleware.spider_closed()
    location = request.meta["warc"]
    record, _ = read_location(tmp_path, location)
    assert record.rec_headers.get_header("WARC-Truncated") == "disconnect"


def test_stopped_download_is_marked_truncated(tmp_path: Path, unit: Any) -> None:
    middleware, _ = unit()
    request = fetch(middleware, "https://x.mil/a", flags=["download_stopped"])
    middleware.spider_closed()
    record, _ = read_location(tmp_path, request.meta["warc"])
    assert record.rec_headers.get_header("WARC-Truncated") == "unspecified"


def test_non_http_schemes_are_not_archived(unit: Any) -> None:
    middleware, stats = unit()
    request = fetch(middleware, "data:text/html,<p>x</p>")
    assert "warc" not in request.meta
    assert stats.values == {"warc/skipped/scheme": 1}


def test_request_record_adds_host_and_length_and_drops_proxy_credentials(
    tmp_path: Path, unit: Any
) -> None:
    middleware, _ = unit()
    request = Request(
        "https://x.mil:8443/search?q=1#top",
        method="POST",
        body=b"a=1",
        headers={"Proxy-Authorization": "Basic c2VjcmV0", "Accept": "*/*"},
    )
    response = HtmlResponse("https://x.mil:8443/search?q=1", body=b"ok", request=request)
    asyncio.run(middleware.process_response(request, response))
    middleware.spider_closed()
    [path] = tmp_path.glob("*.warc.gz")
    [record] = [r for r in read_records(path) if r["type"] == "request"]
    assert record["http"].protocol == "POST"
    assert record["http"].statusline == "/search?q=1 HTTP/1.1"
    assert record["http"].headers == [
        ("Content-Length", "3"),
        ("Accept", "*/*"),
        ("Host", "x.mil:8443"),
    ]
    assert record["raw"] == b"a=1"


def test_exceptions_are_counted(unit: Any) -> None:
    middleware, stats = unit()
    assert middleware.process_exception(Request("https://x.mil/"), TimeoutError()) is None
    assert stats.values == {"warc/fetch_errors": 1, "warc/fetch_errors/TimeoutError": 1}


def test_index_dir_setting_is_used(tmp_path: Path) -> None:
    settings = {"WARC_DIR": str(tmp_path / "warc"), "WARC_INDEX_DIR": str(tmp_path / "idx")}
    middleware = WarcMiddleware.from_crawler(get_crawler(settings_dict=settings))
    asyncio.run(middleware.process_response(*request_and_response("https://x.mil/a")))
    middleware.spider_closed()
    [warc] = (tmp_path / "warc").glob("*.warc.gz")
    assert [p.name for p in (tmp_path / "idx").iterdir()] == [cdxj_path_for(warc).name]


def test_middleware_needs_warc_dir() -> None:
    with pytest.raises(NotConfigured, match="WARC_DIR"):
        WarcMiddleware.from_crawler(get_crawler(settings_dict={}))


def test_from_crawler_reads_settings(tmp_path: Path) -> None:
    settings = {
        "WARC_DIR": str(tmp_path),
        "WARC_PREFIX": "dod",
        "WARC_MAX_SIZE": 12345,
        "WARC_GZIP_LEVEL": 3,
        "WARC_CDXJ": False,
    }
    middleware = WarcMiddleware.from_crawler(get_crawler(settings_dict=settings))
    assert middleware.writer.directory == tmp_path
    assert middleware.writer.prefix == "dod"
    assert middleware.writer.max_size == 12345
    assert middleware.writer.gzip_level == 3
    assert middleware.indexer is None
    assert MIDDLEWARE_ORDER == 950
    fields = middleware.writer.warcinfo_fields
    assert fields["robots"] == "ignore"
    assert fields["crawl-settings"]["WARC_GZIP_LEVEL"] == 3
    assert fields["crawl-settings"]["WARC_DEDUPE"] is True
