"""``archiver harvest`` against a real pywb (the Wayback Machine's stand-in), the Wayback Machine's
and Common Crawl's APIs (tests/archive_front.py) with faults, and kill -9 then --resume."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from archiver.harvest.captures import BadCdxLine, article_key, capture_from_cdx
from archiver.harvest.pywb import build_collection, serving
from archiver.harvest.records import RangeAnswerError, read_verbatim
from archiver.harvest.sources import PywbSource, WaybackSource
from archiver.harvest.urlspaces import is_article_url, url_spaces
from tests.harvest_support import (
    DEFENSELINK,
    DGOV2,
    DGOV2_EDITED,
    DGOV2_SENTENCE,
    DNN_CONTRACT,
    FIXTURES,
    LEGACY_REDIRECT,
    LOCAL,
    REAL_CASES,
    ROOT,
    WARGOV,
    ArchivedPage,
    commoncrawl_data,
    era_pages,
    front_server,
    harvest,
    jsonl,
    pywb_collection,
    real_page,
)
from tests.warc_helpers import assert_cdxj_is_cdxj_indexers, assert_warcs_pass_check, read_records

CONTACT = "archives@example.org"
SCHEMA = json.loads((ROOT / "archiver" / "schema" / "article.schema.json").read_text())


def by_id(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["article_id"]: r for r in records}


def capture_records(out: Path) -> list[dict[str, Any]]:
    records = [r for path in sorted((out / "warc").glob("*.warc.gz")) for r in read_records(path)]
    return [r for r in records if dict(r["warc_headers"]).get("WARC-Source-URI")]


@pytest.fixture(scope="module")
def collection(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with pywb_collection(tmp_path_factory.mktemp("eras"), era_pages()) as url:
        yield url


@pytest.fixture(scope="module")
def eras(collection: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("harvest") / "out"
    result = harvest(out, collection, "--contact", CONTACT)
    assert (out / "report.json").exists(), result.stderr[-3000:]
    return out


# -- the four eras ------------------------------------------------------------------------------------


def test_the_harvest_folder_passes_verify(eras: Path) -> None:
    """The WACZ's index also holds the provenance metadata records (the wacz tool indexes them)."""
    done = subprocess.run([sys.executable, "-m", "archiver", "verify", str(eras)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_each_article_once_with_original_url_and_capture_time(eras: Path) -> None:
    records = jsonl(eras / "articles.jsonl")
    ids = Counter(r["article_id"] for r in records)
    assert {"605989", "2411893", "3981590"} <= set(ids)
    assert all(count == 1 for count in ids.values()), ids
    found = by_id(records)
    assert found["605989"]["url"] == DNN_CONTRACT  # the latest of the two hosts' captures
    assert found["605989"]["fetched_at"] == "2018-03-14T09:30:00Z"
    assert found["2411893"]["fetched_at"] == "2021-12-15T12:00:00Z"  # the latest capture
    assert DGOV2_EDITED.decode() in found["2411893"]["body"]
    assert found["3981590"]["url"] == WARGOV


def test_records_carry_their_source_and_match_the_schema(eras: Path, collection: str) -> None:
    cases = jsonl(eras / "articles.jsonl")
    assert cases
    for record in cases:
        jsonschema.validate(record, SCHEMA)
        source = record["source"]
        assert source["archive"] == collection
        assert source["original_url"] == record["url"]
        assert source["captured_at"] == record["fetched_at"]
        assert source["capture_url"] == f"{collection}/{source['timestamp']}id_/{record['url']}"


def test_cleaned_as_from_the_live_markup(eras: Path) -> None:
    """Each era's article as extracted from the live page (the fixture's reviewed output.json): the
    2006 DefenseLink release, the 2018 DNN contract, the DGOV2 release (its edited second capture:
    the one sentence differs) and the war.gov release."""
    found = by_id(jsonl(eras / "articles.jsonl"))
    for name, case in REAL_CASES.items():
        expected = json.loads((FIXTURES / case / "output.json").read_text("utf-8"))
        record = found[expected["article_id"]]
        if expected["article_id"] == "2411893":
            expected["body"] = expected["body"].replace(DGOV2_SENTENCE.decode(), DGOV2_EDITED.decode())
        for field in ("title", "published", "body", "content_type", "authors", "images", "videos",
                      "canonical_url", "markup_era", "legacy_id"):
            assert record[field] == expected[field], (name, field)


def test_defenselink_release_is_harvested(eras: Path) -> None:
    assert any(r["url"] == DEFENSELINK for r in jsonl(eras / "articles.jsonl"))


def test_archived_redirect_is_followed_to_its_target(eras: Path, collection: str) -> None:
    records = capture_records(eras)
    targets = [(dict(r["warc_headers"])["WARC-Target-URI"], r["http"].get_statuscode()) for r in records]
    assert (LEGACY_REDIRECT, "301") in targets
    assert sum(1 for r in jsonl(eras / "articles.jsonl") if r["article_id"] == "3981590") == 1


def test_cdxj_made_while_writing_is_cdxj_indexers(eras: Path, tmp_path: Path) -> None:
    """Verbatim copies, rebuilt captures and their metadata records alike."""
    assert_cdxj_is_cdxj_indexers(eras, tmp_path)


def test_listings_and_photos_are_not_fetched(eras: Path) -> None:
    uris = [dict(r["warc_headers"])["WARC-Target-URI"] for r in capture_records(eras)]
    assert not [u for u in uris if "?Page=" in u or u.endswith(".jpg")]


def test_warcs_valid_and_indexed_under_original_url_and_time(eras: Path) -> None:
    assert_warcs_pass_check(eras / "warc")
    captures = capture_records(eras)
    assert captures
    for record in captures:
        headers = dict(record["warc_headers"])
        assert headers["WARC-Target-URI"].startswith(
            ("http://www.", "https://www.", "http://dod.", "http://archive.")
        )
        assert "id_/" in headers["WARC-Source-URI"]
        assert json.loads(headers["Archiver-Source"])["original_url"] == headers["WARC-Target-URI"]
    cdxj = "".join(p.read_text() for p in (eras / "indexes").glob("*.cdxj"))
    assert "gov,defense)/news/releases/release/article/2411893/" in cdxj
    line = next(
        x for x in cdxj.splitlines() if x.startswith("gov,defense)/news/releases/release/article/2411893")
    )
    assert line.split(" ")[1] == "20211215120000"


def test_wacz_pages_at_capture_time(eras: Path) -> None:
    import zipfile

    with zipfile.ZipFile(eras / "archive.wacz") as wacz:
        pages = [json.loads(x) for x in wacz.read("pages/pages.jsonl").decode().splitlines()[1:]]
    assert {"url": DGOV2, "ts": "2021-12-15T12:00:00Z"}.items() <= next(
        p for p in pages if p["url"] == DGOV2
    ).items()


def test_pywb_replays_the_harvest_under_the_original_url(eras: Path, tmp_path: Path) -> None:
    """The DGOV2 release as of its second capture, the DefenseLink release as of 2009."""
    build_collection(tmp_path, "again", sorted((eras / "warc").glob("*.warc.gz")))
    with serving(tmp_path) as base:
        with urllib.request.urlopen(f"{base}/again/20211215120000id_/{DGOV2}") as answer:
            assert answer.read() == real_page("dgov2-2021-release-2411893").replace(
                b"personnel changes", DGOV2_EDITED
            )
        with urllib.request.urlopen(f"{base}/again/2009id_/{DEFENSELINK}") as answer:
            assert answer.headers["Memento-Datetime"] == "Mon, 02 Mar 2009 10:11:12 GMT"
            assert answer.read() == real_page("defenselink-2006-release-10242")


def test_requests_name_the_users_contact(eras: Path) -> None:
    agents = {
        r["http"].get_header("User-Agent")
        for p in sorted((eras / "warc").glob("*.warc.gz"))
        for r in read_records(p)
        if r["type"] == "request"
    }
    assert agents == {f"defense-news-archiver/0.1 (+{CONTACT})"}


@pytest.mark.parametrize(
    ("archive", "options", "warned"),
    [
        ("wayback", [], True),
        ("commoncrawl:CC-MAIN-2024-10", [], True),
        ("wayback", ["--contact", CONTACT], False),
        ("http://127.0.0.1:8080/coll", [], False),  # a local pywb
        ("wayback", ["-s", "ARCHIVER_HARVEST_WAYBACK_URL=http://127.0.0.1:8080"], False),  # a stand-in
        ("commoncrawl", ["-s", "ARCHIVER_HARVEST_CC_INDEX_URL=http://127.0.0.1:8081"], False),
        ("wayback", ["-s", "ARCHIVER_HARVEST_WAYBACK_URL=https://web.archive.org/"], True),
    ],
)
def test_a_public_archive_harvested_without_a_contact_is_warned_about(
    archive: str, options: list[str], warned: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    from archiver.cli import build_parser
    from archiver.runtime.crawlcommand import warn_without_contact

    warn_without_contact(build_parser().parse_args(["harvest", "--archive", archive, "--out", "x", *options]))
    assert ("without a contact" in capsys.readouterr().err) is warned


def test_summary_counts_captures(eras: Path) -> None:
    report = json.loads((eras / "report.json").read_text())
    stats = report["stats"]
    assert stats["archiver/harvest/listed"] == 7  # article URLs only: not the listing, not the photo
    assert stats["archiver/harvest/chosen"] == 5  # one per article key (the redirect is its own key)


# -- --captures all, a second harvest ----------------------------------------------------------------


def test_captures_all_keeps_each_distinct_version(collection: str, tmp_path: Path) -> None:
    result = harvest(tmp_path / "out", collection, "--captures", "all")
    records = [r for r in jsonl(tmp_path / "out" / "changes.jsonl") if r["article_id"] == "2411893"]
    # fetched one after the other, oldest first: the versions in capture order, the first one new
    assert [(r["fetched_at"], r["change"]) for r in records] == [
        ("2021-10-01T12:00:00Z", "new"), ("2021-12-15T12:00:00Z", "updated")], result.stderr[-2000:]
    contract = [r for r in jsonl(tmp_path / "out" / "changes.jsonl") if r["article_id"] == "605989"]
    assert len(contract) == 1  # same payload under two hosts: one version
    [latest] = [r for r in jsonl(tmp_path / "out" / "articles.jsonl") if r["article_id"] == "2411893"]
    assert latest["fetched_at"] == "2021-12-15T12:00:00Z"  # the dataset: the latest version


def test_second_harvest_asks_only_for_newer_captures(collection: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    harvest(out, collection)
    second = harvest(out, collection)
    report = json.loads((out / "report.json").read_text())
    assert report["stats"].get("archiver/harvest/listed", 0) == 0, second.stderr[-2000:]
    asked = [
        dict(r["warc_headers"])["WARC-Target-URI"]
        for p in sorted((out / "warc").glob("*.warc.gz"))
        for r in read_records(p)
        if r["type"] == "response"
    ]
    assert any("from=20251021100001" in u for u in asked)  # one second after the newest capture


def test_an_unreachable_archive_stops_early_with_a_clear_message(tmp_path: Path) -> None:
    """Connection refused: the harvest stops after one request's attempts (``RETRY_TIMES`` + 1), not
    after every CDX query of every URL space and their retries, one after the other (~90 attempts);
    exit code 1 (it did not finish), what to do in the summary, the queries left for --resume."""
    from archiver.harvest.pywb import free_port

    out = tmp_path / "out"
    started = time.monotonic()
    result = harvest(out, f"http://127.0.0.1:{free_port()}/history")
    assert time.monotonic() - started < 30
    assert result.returncode == 1, result.stdout + result.stderr[-2000:]
    assert "STOPPED    the archive cannot be reached (127.0.0.1:" in result.stdout
    assert "Connection was refused" in result.stdout
    assert "--resume" in result.stdout
    report = json.loads((out / "report.json").read_text())
    assert report["finish_reason"] == "unreachable"
    stats = report["stats"]
    refused = stats["downloader/exception_type_count/scrapy.exceptions.DownloadConnectionRefusedError"]
    assert refused <= 3 + 4  # one request's attempts (RETRY_TIMES=2), + those in flight (4 connections)
    assert stats.get("downloader/response_count", 0) == 0
    assert not jsonl(out / "failures.jsonl")  # nothing was asked that the archive answered or refused
    assert "cannot be reached" in (out / "crawl.log").read_text()


# -- the Wayback Machine's API, faults ---------------------------------------------------------------


def test_wayback_api_paging_faults_and_reasons(collection: str, tmp_path: Path) -> None:
    faults = [
        {
            "match": r"^/cdx/search/cdx\?url=defense\.gov%2Fnews%2F",
            "status": 429,
            "times": 1,
            "headers": {"Retry-After": "1"},
        },
        {"match": r"^/cdx/search/cdx\?url=war\.gov%2Fnews%2F", "bad_lines": True, "times": 1},
        {"match": r"^/web/20251020164500id_/", "status": 503, "times": 1, "headers": {"Retry-After": "1"}},
        {"match": r"^/web/20180314093000id_/", "status": 404, "times": -1},
    ]
    config = {"mode": "wayback", "pywb": collection, "faults": faults, "log": str(tmp_path / "asked.log")}
    with front_server(config, tmp_path) as base:
        result = harvest(
            tmp_path / "out",
            "wayback",
            "-s",
            f"ARCHIVER_HARVEST_WAYBACK_URL={base}",
            "-s",
            "ARCHIVER_HARVEST_CDX_PAGE_SIZE=1",
        )
    out = tmp_path / "out"
    assert result.returncode == 1  # failures
    found = by_id(jsonl(out / "articles.jsonl"))
    assert {"2411893", "3981590"} <= set(found), result.stderr[-3000:]
    assert found["2411893"]["source"]["archive"] == "wayback"
    failures = jsonl(out / "failures.jsonl")
    reasons = {f["url"]: f["reason"] for f in failures}
    assert (
        reasons[f"{base}/web/20180314093000id_/{DNN_CONTRACT}"]
        == "the archive has no such capture (HTTP 404)"
    )
    assert sum("bad CDX line" in f["reason"] for f in failures) == 2
    asked = (tmp_path / "asked.log").read_text().splitlines()
    assert any("resumeKey=" in line for line in asked)  # paged, one row a page
    stats = json.loads((out / "report.json").read_text())["stats"]
    assert stats["archiver/retry_after/waits"] >= 2  # the 429 and the 503 waited
    assert_warcs_pass_check(out / "warc")


# -- Common Crawl: Range requests, records kept verbatim ----------------------------------------------


def cc_pages() -> dict[str, list[ArchivedPage]]:
    return {
        "CC-MAIN-2021-43": [
            ArchivedPage(DGOV2, "2021-10-20T01:02:03Z", real_page("dgov2-2021-release-2411893")),
            ArchivedPage(DNN_CONTRACT, "2021-10-21T01:02:03Z", real_page("dnn2018-contract-605989")),
        ],
        "CC-MAIN-2025-43": [
            ArchivedPage(WARGOV, "2025-10-20T01:02:03Z", real_page("release-3981590-rendered"))
        ],
    }


def test_commoncrawl_ranges_verbatim_truncated_answers_retried(tmp_path: Path) -> None:
    config = {
        "mode": "commoncrawl",
        "crawls": commoncrawl_data(tmp_path, cc_pages()),
        "data": str(tmp_path / "data"),
        "page_size": 1,
        "faults": [{"match": r"^/data/crawl-data/CC-MAIN-2025-43/", "truncate": 500, "times": 1}],
    }
    with front_server(config, tmp_path) as base:
        result = harvest(
            tmp_path / "out",
            "commoncrawl",
            "-s",
            f"ARCHIVER_HARVEST_CC_INDEX_URL={base}",
            "-s",
            f"ARCHIVER_HARVEST_CC_DATA_URL={base}/data",
        )
    out = tmp_path / "out"
    assert result.returncode == 0, result.stderr[-3000:] + (out / "failures.jsonl").read_text()
    found = by_id(jsonl(out / "articles.jsonl"))
    assert set(found) == {"2411893", "605989", "3981590"}
    source = found["3981590"]["source"]
    assert source["crawl"] == "CC-MAIN-2025-43"
    assert found["3981590"]["fetched_at"] == "2025-10-20T01:02:03Z"
    original = (tmp_path / "data" / source["filename"]).read_bytes()
    ours = (out / "warc" / found["3981590"]["warc"]["filename"]).read_bytes()
    offset = found["3981590"]["warc"]["offset"]
    assert (
        ours[offset : offset + source["length"]]
        == original[source["offset"] : source["offset"] + source["length"]]
    )
    stats = json.loads((out / "report.json").read_text())["stats"]
    assert stats["archiver/harvest/bad_range"] == 1
    assert_warcs_pass_check(out / "warc")


def test_commoncrawl_one_crawl_only(tmp_path: Path) -> None:
    config = {
        "mode": "commoncrawl",
        "crawls": commoncrawl_data(tmp_path, cc_pages()),
        "data": str(tmp_path / "data"),
    }
    with front_server(config, tmp_path) as base:
        harvest(
            tmp_path / "out",
            "commoncrawl:CC-MAIN-2025-43",
            "-s",
            f"ARCHIVER_HARVEST_CC_INDEX_URL={base}",
            "-s",
            f"ARCHIVER_HARVEST_CC_DATA_URL={base}/data",
        )
    assert set(by_id(jsonl(tmp_path / "out" / "articles.jsonl"))) == {"3981590"}


# -- kill -9 mid-harvest, then --resume ---------------------------------------------------------------


def replica_pages(count: int) -> list[ArchivedPage]:
    from archiver.replica.corpus import Corpus, CorpusOptions
    from archiver.replica.render import ArticleRenderer

    corpus = Corpus(CorpusOptions(seed=3, articles=count))
    pages = []
    for k in range(count):
        article = corpus.article(k)
        html = ArticleRenderer(article, "https://www.defense.gov").html().encode()
        when = article.head.published.strftime("%Y-%m-%dT%H:%M:%SZ")
        pages.append(ArchivedPage("https://www.defense.gov" + article.head.path, when, html))
    return pages


def test_kill_9_then_resume_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    pages = replica_pages(30)
    with pywb_collection(tmp_path / "archive", pages) as url:
        out = tmp_path / "out"
        command = [
            sys.executable,
            "-m",
            "archiver",
            "harvest",
            "--archive",
            url,
            "--out",
            str(out),
            "--progress",
            "0",
            *LOCAL,
            "-s",
            "DOWNLOAD_DELAY=0.15",
            "-s",
            "ARCHIVER_HARVEST_CONCURRENCY=1",
            "-s",
            "ARCHIVER_STATE_COMMIT_SECONDS=0.5",
        ]
        proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while len(jsonl(out / "changes.jsonl")) < 5 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert len(jsonl(out / "changes.jsonl")) < 30  # killed mid-harvest
        result = subprocess.run(
            [*command, "--resume"], cwd=ROOT, capture_output=True, text=True, timeout=180, check=False
        )
    records = jsonl(out / "articles.jsonl")
    ids = Counter(r["url"] for r in records)
    assert set(ids) == {p.url for p in pages}, result.stderr[-3000:]
    assert max(ids.values()) == 1
    assert not jsonl(out / "failures.jsonl")
    assert_warcs_pass_check(out / "warc")


# -- the pieces ------------------------------------------------------------------------------------


def test_article_key_unifies_hosts_schemes_slugs_and_keeps_id_spaces_apart() -> None:
    assert (
        article_key(DNN_CONTRACT)
        == article_key(DNN_CONTRACT.replace("https://www.", "http://dod."))
        == article_key("https://www.war.gov/News/Contracts/Contract/Article/605989/slug/")
        == "article:605989"
    )
    assert article_key(DEFENSELINK) == article_key(DEFENSELINK.lower()) == "release:10242"
    assert article_key(DEFENSELINK) != article_key("https://www.defense.gov/News/Article/Article/10242/")
    assert (
        article_key("http://www.defenselink.mil/news/Jun1998/b06011998_bt278-98.html")
        == "page:/news/jun1998/b06011998_bt278-98.html"
    )


@pytest.mark.parametrize(
    ("url", "article"),
    [
        ("http://www.defenselink.mil/news/newsarticle.aspx?id=12345", True),
        (DEFENSELINK, True),
        ("http://www.defenselink.mil/transcripts/transcript.aspx?transcriptid=999", True),
        ("http://www.defenselink.mil/speeches/speech.aspx?speechid=12", True),
        ("http://www.defenselink.mil/contracts/contract.aspx?contractid=3", True),
        ("http://www.defenselink.mil/advisories/advisory.aspx?advisoryid=4", True),
        ("http://www.defenselink.mil/news/Jun1998/b06011998_bt278-98.html", True),
        ("http://www.defenselink.mil/news/Jun1998/releases.html", False),  # the month's index
        (DNN_CONTRACT, True),
        (WARGOV, True),
        ("https://www.defense.gov/News/Releases/?Page=2", False),
        ("https://www.defense.gov/News/", False),
        ("https://www.defense.gov/About/Biographies/Biography/Article/1/x/", False),
    ],
)
def test_article_url_forms_of_every_era(url: str, article: bool) -> None:
    assert is_article_url(url) is article


def test_url_spaces_cover_every_host_family_once() -> None:
    spaces = url_spaces()
    assert {s.host for s in spaces} == {
        "defenselink.mil",
        "defense.gov",
        "dod.defense.gov",
        "archive.defense.gov",
        "war.gov",
    }
    assert len({s.url for s in spaces}) == len(spaces)
    releases = {s.prefix for s in url_spaces(["releases"])}
    assert releases == {"/releases/", "/news/releases/", "/news/news-releases/"}


def test_wayback_page_parsing_resume_key_and_bad_lines() -> None:
    body = json.dumps(
        [
            ["urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length"],
            ["k", "20090302101112", DEFENSELINK, "text/html", "200", "D", "10"],
            ["short"],
            ["k", "2009xx", DEFENSELINK, "text/html", "200", "D", "10"],
            [],
            ["KEY"],
        ]
    ).encode()
    page = WaybackSource().parse_page(body, "")
    assert [c.timestamp for c in page.captures] == ["20090302101112"]
    assert page.next_cursor == "KEY"
    assert len(page.bad) == 2


def test_pywb_page_parsing_paged_and_unpaged() -> None:
    source = PywbSource("http://127.0.0.1:1/coll")
    assert source.parse_page(b'{"pages": 3, "pageSize": 5}\n', "").next_cursor == "page:0/3"
    row = json.dumps(
        {
            "urlkey": "k",
            "timestamp": "20211001120000",
            "url": DGOV2,
            "mime": "text/html",
            "status": "200",
            "digest": "D",
        }
    ).encode()
    assert source.parse_page(row + b"\n", "page:2/3").next_cursor is None
    unpaged = source.parse_page(row + b"\n{broken\n", "")
    assert len(unpaged.captures) == 1
    assert unpaged.next_cursor is None
    assert len(unpaged.bad) == 1


def test_bad_cdx_lines_raise_with_a_reason() -> None:
    with pytest.raises(BadCdxLine, match="not an http"):
        capture_from_cdx({"url": "ftp://x/", "timestamp": "20200101000000", "status": "200"}, "a")
    with pytest.raises(BadCdxLine, match="status"):
        capture_from_cdx({"url": DGOV2, "timestamp": "20200101000000", "status": "-"}, "a")


def test_short_or_broken_range_answers_are_refused(tmp_path: Path) -> None:
    from tests.harvest_support import write_warc

    path = write_warc(
        tmp_path / "x.warc.gz", [ArchivedPage(DGOV2, "2021-10-01T12:00:00Z", b"<html>x</html>")]
    )
    member = path.read_bytes()
    assert read_verbatim(member, len(member)).status == 200
    with pytest.raises(RangeAnswerError, match="short"):
        read_verbatim(member[:-10], len(member))
    with pytest.raises(RangeAnswerError):
        read_verbatim(member[:-10] + b"\0" * 10, len(member))


def test_reextraction_keeps_the_harvested_source(eras: Path, tmp_path: Path) -> None:
    warcs = [str(p) for p in sorted((eras / "warc").glob("*.warc.gz"))]
    result = subprocess.run(
        [sys.executable, "-m", "archiver", "reextract", *warcs, "--out", str(tmp_path / "re")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    again = by_id(jsonl(tmp_path / "re" / "articles.jsonl"))
    harvested = by_id(jsonl(eras / "articles.jsonl"))
    assert set(again) == set(harvested), result.stderr[-2000:]
    for article_id, record in harvested.items():
        assert again[article_id]["source"] == record["source"]
        assert again[article_id]["fetched_at"] == record["fetched_at"]
    # the same bytes: the header's sorted keys are put back in the record's order
    assert (tmp_path / "re" / "articles.jsonl").read_bytes() == (eras / "articles.jsonl").read_bytes()


def test_crawl_and_harvest_make_one_dataset_archive_only_articles_flagged_gone(
    collection: str, tmp_path: Path
) -> None:
    """A live crawl, a harvest into the same folder, then a full live crawl: one articles.jsonl; the
    articles only the archive has are asked at the same path of the crawled site (not at the
    archive's hosts), answer 404 there and are flagged gone with their archived record; reextract
    rebuilds the file byte for byte."""
    from archiver.replica.process import replica
    from tests.harness import archiver, crawl

    out = tmp_path / "out"
    archived = {"605989", "2411893", "3981590", "release:10242"}
    with replica("--articles", "8", "--seed", "18", "--crawl-delay", "0") as site:
        assert crawl(out, site.base, "--no-wacz").returncode == 0
        live = {r["article_id"] for r in jsonl(out / "articles.jsonl")}
        harvested = harvest(out, collection, "--no-wacz")
        assert harvested.returncode == 0, harvested.stderr[-2000:]
        after_harvest = by_id(jsonl(out / "articles.jsonl"))
        assert set(after_harvest) == live | archived
        full = crawl(out, site.base, "--full", "--no-wacz")
    assert full.returncode == 0, full.stdout + (out / "failures.jsonl").read_text()
    dataset = jsonl(out / "articles.jsonl")
    assert len(dataset) == len(live) + len(archived)
    found = by_id(dataset)
    for article_id in archived:
        record = found[article_id]
        assert (record["change"], record["source"]["archive"]) == ("gone", collection), article_id
        assert record["gone_since"] > record["fetched_at"]
        assert record["body"] == after_harvest[article_id]["body"]
    assert not [r for r in dataset if r["article_id"] in live and r.get("gone_since")]
    last_run = read_records(sorted((out / "warc").glob("*.warc.gz"))[-1])
    asked = [dict(r["warc_headers"]).get("WARC-Target-URI", "") for r in last_run if r["type"] == "request"]
    assert f"{site.base}/Releases/Release.aspx?ReleaseID=10242" in asked
    assert not [u for u in asked if "defense.gov" in u or "war.gov" in u or "defenselink" in u]
    again = archiver("reextract", str(out), "--out", str(tmp_path / "re"), "--jobs", "1")
    assert again.returncode == 0, again.stdout + again.stderr
    assert (tmp_path / "re" / "articles.jsonl").read_bytes() == (out / "articles.jsonl").read_bytes()


def test_the_history_demo_archives_pages_of_every_era_under_their_eras_hosts() -> None:
    """``archiver demo --history``'s archive: pages of each markup era (the 1990s static ones too),
    at article URLs of the hosts of their time, each extracted as the replica's truth says."""
    from archiver.harvest.demo import history_pages
    from archiver.replica.corpus import truth_record
    from archiver.replica.eras import ERAS
    from pipelines.chain import extract_record

    eras, hosts = Counter(), Counter()
    for site, article, body, _ in history_pages(40, 1):
        truth = truth_record(article, site)
        assert is_article_url(truth["url"]), truth["url"]
        record = extract_record(truth["url"], body)
        assert record is not None, truth["url"]
        for name in ("article_id", "title", "published", "body", "content_type", "markup_era"):
            assert record[name] == truth[name], (truth["url"], name)
        eras[record["markup_era"]] += 1
        hosts[site] += 1
    assert set(eras) == set(ERAS), eras
    assert set(hosts) == {"http://www.defenselink.mil", "http://www.defense.gov", "https://www.defense.gov",
                          "https://www.war.gov"}, hosts
