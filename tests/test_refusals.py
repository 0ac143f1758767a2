"""The site refusing the crawl: a CDN bot wall (the replica's ``--botwall``), and a ``Retry-After``.

Real crawls against the replica: each discovery method meets the wall, the crawl stops after
``ARCHIVER_REFUSALS_MAX`` refusals in a row (or ends with every response refused), says so in
plain words with the block page's reference and what to try, exits with code 4, and leaves a
folder ``archiver verify`` accepts; ``--resume`` once the wall is gone finishes the crawl.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from scrapy.http import Headers

from archiver.downloadermiddlewares.refusals import EXIT_REFUSED, detect_refusal
from archiver.replica.process import RunningReplica, replica
from tests.harness import archiver, crawl, jsonl, records, warc_files, warc_records, warcio_check

ARTICLES = 60
#: FAST's CONCURRENT_REQUESTS_PER_DOMAIN (8) and Scrapy's CONCURRENT_REQUESTS (16): requests that
#: may be on their way when the run of refusals is complete
IN_FLIGHT = 16
REFUSALS_MAX = 10
WALL = ("--articles", str(ARTICLES), "--seed", "3", "--crawl-delay", "0")


def _report(out: Path) -> dict:
    return json.loads((out / "report.json").read_text("utf-8"))


def _verify(out: Path) -> subprocess.CompletedProcess[str]:
    return archiver("verify", str(out), timeout=300)


def _asked_articles(out: Path) -> set[str]:
    return {r["uri"] for r in records(out) if r["type"] == "request" and "/Article/" in r["uri"]}


@pytest.fixture(scope="module")
def walls() -> Iterator[dict[str, RunningReplica]]:
    with replica(*WALL, "--botwall", "akamai") as akamai, \
            replica(*WALL, "--botwall", "cloudflare") as cloudflare, \
            replica(*WALL, "--botwall", "cloudflare-challenge") as challenge:
        yield {"akamai": akamai, "cloudflare": cloudflare, "cloudflare-challenge": challenge}


CASES = [  # (discovery, wall, CDN named, what the reference looks like)
    ("sections", "akamai", "Akamai", "#18."),
    ("rss", "cloudflare", "Cloudflare", "Ray ID "),
    ("sitemap", "cloudflare-challenge", "Cloudflare", "Ray ID "),
    ("ids", "akamai", "Akamai", "#18."),
]


@pytest.fixture(scope="module")
def walled(walls: dict[str, RunningReplica], tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple]:
    """One crawl per discovery method against a wall."""
    done = {}
    for discovery, wall, _cdn, _ref in CASES:
        out = tmp_path_factory.mktemp(f"wall-{discovery}")
        extra = ["--ids", "1000000-1000400"] if discovery == "ids" else []
        done[discovery] = (out, crawl(out, walls[wall].base, "--discovery", discovery, *extra))
    return done


@pytest.mark.parametrize(("discovery", "wall", "cdn", "reference"), CASES)
def test_a_bot_wall_ends_the_crawl_with_exit_4_and_says_who_refused(
        walled: dict[str, tuple], discovery: str, wall: str, cdn: str, reference: str) -> None:
    out, result = walled[discovery]
    assert result.returncode == EXIT_REFUSED, result.stdout + result.stderr
    refused = _report(out)["refused"]
    assert refused["cdn"] == cdn
    assert refused["reference"].startswith(reference)
    assert refused["kind"] == ("challenge" if wall == "cloudflare-challenge" else "block")
    assert f"the site's CDN ({cdn}) refused the crawler" in result.stdout
    assert refused["reference"] in result.stdout
    for advice in ("--contact", "DOWNLOAD_DELAY", "archiver harvest"):
        assert advice in result.stdout


def test_an_id_range_stops_after_a_few_refusals_instead_of_asking_every_url(walled: dict[str, tuple]) -> None:
    out, result = walled["ids"]
    report = _report(out)
    assert report["finish_reason"] == "refused"
    assert report["refused"]["stopped"] is True
    assert report["refused"]["in_a_row"] >= REFUSALS_MAX
    assert report["counts"]["requests"] <= 1 + REFUSALS_MAX + IN_FLIGHT  # robots.txt, the run, in flight
    assert "--resume" in result.stdout


@pytest.mark.parametrize("discovery", [case[0] for case in CASES])
def test_refused_folders_verify_and_every_asked_article_failed_with_the_reason(
        walled: dict[str, tuple], discovery: str) -> None:
    out, _result = walled[discovery]
    assert _verify(out).returncode == 0, _verify(out).stdout
    warcs = sorted((out / "warc").glob("*.warc.gz"))
    assert warcio_check(warcs).returncode == 0
    failures = {f["url"]: f for f in jsonl(out / "failures.jsonl", missing_ok=True)}
    for url in _asked_articles(out):
        assert url in failures, url
        assert failures[url]["reason"].startswith("refused by the site's CDN")
        assert failures[url]["status"] == 403


@pytest.mark.parametrize("discovery", ["sections", "rss", "sitemap"])
def test_a_refused_listing_feed_or_sitemap_is_a_failure_with_the_reason(
        walled: dict[str, tuple], discovery: str) -> None:
    out, _result = walled[discovery]
    failures = {f["url"]: f for f in jsonl(out / "failures.jsonl")}
    asked = {r["uri"] for r in records(out) if r["type"] == "request"
             and "/Article/" not in r["uri"] and not r["uri"].endswith("/robots.txt")}
    assert asked  # the listings, the feeds, sitemap.xml
    for url in asked:
        assert url in failures, url
        assert failures[url]["reason"].startswith("refused by the site's CDN")
        assert failures[url]["status"] == 403


def test_refusals_are_archived_as_received(walled: dict[str, tuple]) -> None:
    out, _result = walled["sections"]
    refused = [r for r in records(out) if r["type"] == "response"]
    assert refused
    for record in refused:
        assert record["status"] == "403"
        assert b"Access Denied" in record["payload"]
    response = next(r for _path, _iterator, r in warc_records(warc_files(out)) if r.rec_type == "response")
    assert response.http_headers.get_header("Server") == "AkamaiGHost"


def test_a_wall_met_mid_crawl_stops_it_and_loses_no_article(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with replica(*WALL, "--botwall", "akamai", "--botwall-after", "25") as site:
        result = crawl(out, site.base, "--sections", "archive")
    assert result.returncode == EXIT_REFUSED, result.stdout + result.stderr
    report = _report(out)
    assert report["finish_reason"] == "refused"
    articles = {a["url"] for a in jsonl(out / "articles.jsonl", missing_ok=True)}
    failures = {f["url"] for f in jsonl(out / "failures.jsonl", missing_ok=True)}
    assert articles  # what got through before the wall is kept
    assert not articles & failures
    assert _asked_articles(out) <= articles | failures
    assert report["counts"]["requests"] <= 25 + REFUSALS_MAX + IN_FLIGHT
    assert _verify(out).returncode == 0


def test_resume_once_the_wall_is_gone_finishes_every_article(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with replica(*WALL, "--botwall", "akamai", "--botwall-after", "12", truth_dir=tmp_path) as walled_site:
        truth = {r["article_id"] for r in walled_site.truth()}
        ids = ",".join(sorted(truth))
        first = crawl(out, walled_site.base, "--discovery", "ids", "--ids", ids)
        port = str(walled_site.port)
    assert first.returncode == EXIT_REFUSED, first.stdout + first.stderr
    assert jsonl(out / "failures.jsonl", missing_ok=True)
    with replica(*WALL, "--port", port) as open_site:
        second = crawl(out, open_site.base, "--discovery", "ids", "--ids", ids, "--resume")
    assert second.returncode == 0, second.stdout + second.stderr
    written = [a["article_id"] for a in jsonl(out / "articles.jsonl", missing_ok=True)]
    assert sorted(written) == sorted(truth)  # each once, the refused ones included
    assert jsonl(out / "failures.jsonl", missing_ok=True) == []


# -- Retry-After ------------------------------------------------------------------------------------


def _when(record: dict) -> datetime:
    return datetime.fromisoformat(record["headers"]["WARC-Date"].replace("Z", "+00:00"))


def test_retry_after_pauses_the_whole_host(tmp_path: Path) -> None:
    out = tmp_path / "out"
    wait = 4
    with replica(*WALL, "--faults", "429=6", "--fault-seed", "2", "--fault-retry-after", str(wait)) as site:
        result = crawl(out, site.base, "--discovery", "sitemap", "-s", f"ARCHIVER_RETRY_AFTER_MAX={wait + 1}")
    assert result.returncode == 0, result.stdout + result.stderr
    responses = sorted((r for r in records(out) if r["type"] in {"response", "revisit"}), key=_when)
    asked_to_wait = [r for r in responses if r["status"] == "429"]
    assert asked_to_wait
    for refusal in asked_to_wait:
        start = _when(refusal)
        # answers on their way when the 429 came may still arrive just after it; nothing else may
        during = [r["uri"] for r in responses
                  if start + timedelta(seconds=1) < _when(r) < start + timedelta(seconds=wait - 0.3)]
        assert not during, (refusal["uri"], during)
    assert _report(out)["stats"]["archiver/retry_after/waits"] >= len(asked_to_wait)


def test_retry_after_longer_than_the_cap_stops_the_crawl_with_a_clear_message(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with replica(*WALL, "--faults", "429=6", "--fault-seed", "2", "--fault-retry-after", "3600") as site:
        result = crawl(out, site.base, "--discovery", "sitemap", "-s", "ARCHIVER_RETRY_AFTER_MAX=5",
                       timeout=120)
    assert result.returncode == EXIT_REFUSED, result.stdout + result.stderr
    report = _report(out)
    assert report["finish_reason"] == "refused"
    assert report["refused"]["kind"] == "retry-after"
    assert report["refused"]["retry_after"] == 3600
    assert report["duration_seconds"] < 30  # neither an hour nor the 5 s cap per 429
    assert report["stats"].get("archiver/retry_after/waits", 0) == 0
    assert "the site asked to wait 3600 s (1 h)" in result.stdout
    assert "--resume" in result.stdout
    failures = {f["url"] for f in jsonl(out / "failures.jsonl", missing_ok=True)}
    articles = {a["url"] for a in jsonl(out / "articles.jsonl", missing_ok=True)}
    assert _asked_articles(out) <= failures | articles
    assert _verify(out).returncode == 0


# -- recognising refusals ---------------------------------------------------------------------------


AKAMAI_PAGE = (b"<HTML><HEAD>\n<TITLE>Access Denied</TITLE>\n</HEAD><BODY>\n<H1>Access Denied</H1>\n \n"
               b"You don't have permission to access \"http&#58;&#47;&#47;www&#46;defense&#46;gov&#47;\" on "
               b"this server.<P>\nReference&#32;&#35;18&#46;5c3e3e17&#46;1712345678&#46;1a2b3c4d\n</BODY>\n"
               b"</HTML>\n")


def test_akamai_reference_is_read_through_its_character_references() -> None:
    refusal = detect_refusal("u", 403, Headers({"Server": "AkamaiGHost"}), AKAMAI_PAGE)
    assert refusal is not None
    assert (refusal.cdn, refusal.kind) == ("Akamai", "block")
    assert refusal.reference == "#18.5c3e3e17.1712345678.1a2b3c4d"


@pytest.mark.parametrize(("status", "headers", "body", "cdn"), [
    (403, {"Server": "cloudflare", "CF-RAY": "8c1f2a3b4d5e6f70-IAD"},
     b"<title>Attention Required! | Cloudflare", "Cloudflare"),
    (403, {"cf-mitigated": "challenge"}, b"<title>Just a moment...</title>", "Cloudflare"),
    (503, {"Server": "cloudflare"}, b"<title>Just a moment...</title>", "Cloudflare"),
    (429, {}, AKAMAI_PAGE, "Akamai"),
    (401, {}, b"", ""),
])
def test_refusals_are_recognised(status: int, headers: dict, body: bytes, cdn: str) -> None:
    refusal = detect_refusal("u", status, Headers(headers), body)
    assert refusal is not None
    assert refusal.cdn == cdn


@pytest.mark.parametrize(("status", "headers", "body"), [
    (503, {"Server": "cloudflare", "CF-RAY": "8c1f2a3b4d5e6f70-IAD"}, b"<h1>503 Server Error</h1>"),
    (429, {"Retry-After": "1"}, b"<h1>Too Many Requests</h1>"),
    (404, {"Server": "AkamaiGHost"}, b"Not Found"),
    (200, {"Server": "cloudflare"}, b"<title>Just a moment...</title>"),
])
def test_faults_and_pages_are_not_refusals(status: int, headers: dict, body: bytes) -> None:
    assert detect_refusal("u", status, Headers(headers), body) is None
