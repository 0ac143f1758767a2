"""Fault injection: a real crawl of a 500-article replica where ≥ 10 % of the URLs misbehave.

The replica (``--faults``) decides per URL, from a seed, which fault it meets; its ground truth
says which articles a fault touches. After retries every article must be in articles.jsonl or in
failures.jsonl with its reason, none twice, every WARC valid, failed fetches archived too.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from scrapy import Request

from archiver.downloadermiddlewares.httpcompression import (
    MAX_GZIP_MEMBERS,
    UndecodableBodyError,
    strict_gunzip,
)
from archiver.downloadermiddlewares.redirect import redirect_problem
from archiver.downloadermiddlewares.retry import retry_after_seconds
from archiver.replica.faults import (
    KINDS_BY_NAME,
    OFFSITE_HOST,
    Fault,
    FaultInjector,
    FaultPlan,
    FaultSpecError,
    corrupt_gzip,
    faulty_listing,
    pad_page,
    parse_fault_spec,
)
from archiver.replica.process import RunningReplica, replica
from tests.harness import archiver, jsonl, warc_files, warc_records

#: 15 % of article URLs and 16 % of listing pages meet a fault (percentages add up, see faults.py)
SPEC = ("5xx=3,429=1.5,slow=1,reset=1.5,truncate=1.5,badgzip=1.5,charset=1.5,loop=1,offsite=1,"
        "empty=1,huge=0.5,listing-repeat=8,listing-skip=8")
ARTICLES = 500
RETRY_TIMES = 3
#: what failures.jsonl must say for an article whose fault is permanent
PERMANENT_REASONS = {
    "loop": "redirect loop",
    "offsite": "off-site redirect not followed",
    "empty": "empty response: 200 with no body",
}
CRAWL_SETTINGS = {
    "AUTOTHROTTLE_ENABLED": "False",
    "DOWNLOAD_DELAY": "0",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "8",
    "DOWNLOAD_TIMEOUT": "2",  # the replica's slow faults stall 3 s
    "RETRY_TIMES": str(RETRY_TIMES),
    "ARCHIVER_RETRY_AFTER_MAX": "5",
}


class Crawl:
    """One crawl's outputs, read once."""

    def __init__(self, out: Path, result: subprocess.CompletedProcess[str], truth: list[dict]) -> None:
        self.out = out
        self.result = result
        self.truth = truth
        self.articles = jsonl(out / "articles.jsonl")
        self.failures = jsonl(out / "failures.jsonl")
        self.report = json.loads((out / "report.json").read_text("utf-8"))
        self.records = list(_warc_records(out))

    def article(self, truth: dict) -> dict | None:
        return next((a for a in self.articles if a["article_id"] == truth["article_id"]), None)

    def failure(self, truth: dict) -> dict | None:
        return next((f for f in self.failures if f["url"] == truth["url"]), None)

    def responses_for(self, truth: dict) -> list[dict]:
        return [r for r in self.records if r["type"] in {"response", "revisit"}
                and f"/Article/{truth['article_id']}/" in r["uri"]]


def _warc_records(out: Path) -> Iterator[dict]:
    for _path, _iterator, record in warc_records(warc_files(out)):
        headers = dict(record.rec_headers.headers)
        yield {
            "type": record.rec_type,
            "uri": headers.get("WARC-Target-URI", ""),
            "date": headers.get("WARC-Date", ""),
            "truncated": headers.get("WARC-Truncated"),
            "status": int(record.http_headers.get_statuscode())
            if record.http_headers and record.rec_type in {"response", "revisit"} else None,
        }


def _kinds(truth: dict) -> set[str]:
    return {f["kind"] for f in truth["faults"]}


def _article_fault(truth: dict) -> dict | None:
    return next((f for f in truth["faults"] if f["on"] == "article"), None)


@pytest.fixture(scope="module")
def crawl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crawl]:
    root = tmp_path_factory.mktemp("faults")
    args = ["--articles", str(ARTICLES), "--seed", "11", "--crawl-delay", "0", "--faults", SPEC,
            "--fault-seed", "5", "--fault-delay", "3"]
    with replica(*args, truth_dir=root) as running:
        yield _crawl(running, root / "out")


def _crawl(running: RunningReplica, out: Path) -> Crawl:
    settings = [arg for name, value in CRAWL_SETTINGS.items() for arg in ("-s", f"{name}={value}")]
    result = archiver("crawl", "--site", running.base, "--out", str(out), "--progress", "0", *settings)
    return Crawl(out, result, running.truth())


# -- the crawl -------------------------------------------------------------------------------------


def test_at_least_ten_percent_of_articles_meet_a_fault(crawl: Crawl) -> None:
    faulty = [t for t in crawl.truth if t["faults"]]
    assert len(crawl.truth) == ARTICLES
    assert len(faulty) >= ARTICLES // 10
    assert {f["kind"] for t in faulty for f in t["faults"]} == set(KINDS_BY_NAME)


def test_crawl_finishes_and_reports_its_failures(crawl: Crawl) -> None:
    assert crawl.report["finish_reason"] == "finished"
    assert crawl.result.returncode == 1, crawl.result.stdout + crawl.result.stderr  # some failed for good
    assert f"failures   {len(crawl.failures)}" in crawl.result.stdout
    assert crawl.report["counts"]["failures"] == len(crawl.failures)


def test_every_article_is_archived_or_failed_with_a_reason(crawl: Crawl) -> None:
    lost = [t["url"] for t in crawl.truth if crawl.article(t) is None and crawl.failure(t) is None]
    assert not lost
    assert all(f["reason"].strip() for f in crawl.failures)


def test_no_article_twice(crawl: Crawl) -> None:
    ids = Counter(a["article_id"] for a in crawl.articles)
    assert max(ids.values()) == 1
    assert max(Counter(f["url"] for f in crawl.failures).values()) == 1
    both = [t["url"] for t in crawl.truth if crawl.article(t) and crawl.failure(t)]
    assert not both


def test_transient_faults_recover_after_retries(crawl: Crawl) -> None:
    transient = [t for t in crawl.truth if (f := _article_fault(t)) and not f["permanent"]]
    assert transient
    for truth in transient:
        article = crawl.article(truth)
        assert article is not None, (truth["url"], truth["faults"], crawl.failure(truth))
        assert (article["title"], article["body"]) == (truth["title"], truth["body"])


@pytest.mark.parametrize("kind", sorted(PERMANENT_REASONS))
def test_permanent_faults_fail_with_their_reason(crawl: Crawl, kind: str) -> None:
    broken = [t for t in crawl.truth if kind in _kinds(t)]
    assert broken
    for truth in broken:
        failure = crawl.failure(truth)
        assert failure is not None, truth["url"]
        assert PERMANENT_REASONS[kind] in failure["reason"]


def test_wrong_or_missing_charset_still_decodes_right(crawl: Crawl) -> None:
    pages = [t for t in crawl.truth if "charset" in _kinds(t)]
    assert any(not t["body"].isascii() for t in pages)
    for truth in pages:
        article = crawl.article(truth)
        assert article is not None
        assert (article["title"], article["body"]) == (truth["title"], truth["body"])


def test_ten_megabyte_pages_are_extracted(crawl: Crawl) -> None:
    pages = [t for t in crawl.truth if "huge" in _kinds(t)]
    assert pages
    for truth in pages:
        article = crawl.article(truth)
        assert article is not None
        assert article["body"] == truth["body"]


def test_listings_that_repeat_or_skip_items_lose_nothing(crawl: Crawl) -> None:
    hidden = [t for t in crawl.truth if _kinds(t) & {"listing-repeat", "listing-skip"}]
    assert hidden
    for truth in hidden:
        assert crawl.article(truth) is not None or crawl.failure(truth) is not None, truth["url"]
    stats = crawl.report["stats"]
    assert stats.get("archiver/crosscheck/found", 0) >= 1
    assert stats.get("archiver/listing/repeated_pages", 0) >= 1


def test_every_warc_passes_warcio_check(crawl: Crawl) -> None:
    warcs = sorted((crawl.out / "warc").glob("*.warc.gz"))
    result = subprocess.run([str(Path(sys.executable).parent / "warcio"), "check", "-v", *map(str, warcs)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]


@pytest.mark.parametrize(("kind", "status"), [("5xx", 500), ("429", 429), ("loop", 302), ("offsite", 301)])
def test_failed_fetches_are_archived(crawl: Crawl, kind: str, status: int) -> None:
    cases = [t for t in crawl.truth if kind in _kinds(t)]
    assert cases
    for truth in cases:
        statuses = [r["status"] for r in crawl.responses_for(truth)]
        assert any(s is not None and s // 100 == status // 100 and (s == status or kind == "5xx")
                   for s in statuses), (truth["url"], statuses)


def test_truncated_responses_are_recorded_and_marked(crawl: Crawl) -> None:
    pages = [t for t in crawl.truth if "truncate" in _kinds(t)]
    assert pages
    for truth in pages:
        records = crawl.responses_for(truth)
        assert any(r["truncated"] == "disconnect" for r in records), truth["url"]
        assert [r["status"] for r in records if r["truncated"] is None] == [200]  # then the retry


def test_reset_responses_are_marked_or_absent_never_silently_partial(crawl: Crawl) -> None:
    # a TCP reset may destroy the half body before the client reads it: then nothing was received
    cases = [t for t in crawl.truth if "reset" in _kinds(t)]
    assert cases
    for truth in cases:
        records = crawl.responses_for(truth)
        assert [r["status"] for r in records if r["truncated"] is None] == [200], truth["url"]
        assert all(r["truncated"] in {None, "disconnect"} for r in records)
    assert crawl.report["stats"].get("archiver/incomplete/truncated", 0) >= 1


def test_undecodable_gzip_is_archived_then_retried(crawl: Crawl) -> None:
    pages = [t for t in crawl.truth if "badgzip" in _kinds(t)]
    assert pages
    for truth in pages:
        assert len(crawl.responses_for(truth)) >= 2  # the broken response and the good retry
    assert crawl.report["stats"]["archiver/undecodable"] >= len(pages)


def test_offsite_redirects_are_never_followed(crawl: Crawl) -> None:
    assert not [r for r in crawl.records if OFFSITE_HOST in r["uri"]]
    assert crawl.report["stats"].get("archiver/redirects/refused", 0) >= 1


def test_retry_after_is_honoured(crawl: Crawl) -> None:
    pages = [t for t in crawl.truth if "429" in _kinds(t)]
    assert pages
    for truth in pages:
        records = [r for r in crawl.responses_for(truth) if r["type"] == "response"]
        asked = min(_when(r["date"]) for r in records if r["status"] == 429)
        answered = min(_when(r["date"]) for r in records if r["status"] == 200)
        assert answered - asked >= timedelta(seconds=0.9), truth["url"]
    assert crawl.report["stats"]["archiver/retry_after/waits"] >= len(pages)


def _when(warc_date: str) -> datetime:
    return datetime.fromisoformat(warc_date.replace("Z", "+00:00"))


# -- the replica's fault model ----------------------------------------------------------------------


def _truth(tmp_path: Path, *args: str) -> list[dict]:
    path = tmp_path / f"truth-{len(list(tmp_path.iterdir()))}.jsonl"
    subprocess.run([sys.executable, "-m", "archiver", "replica", "--articles", "200", "--no-serve",
                    "--dump-truth", str(path), *args], check=True, capture_output=True, timeout=120)
    return jsonl(path)


def test_fault_draw_is_deterministic(tmp_path: Path) -> None:
    first = _truth(tmp_path, "--faults", "5xx=20,loop=5", "--fault-seed", "3")
    assert first == _truth(tmp_path, "--faults", "5xx=20,loop=5", "--fault-seed", "3")
    assert first != _truth(tmp_path, "--faults", "5xx=20,loop=5", "--fault-seed", "4")
    assert "faults" not in _truth(tmp_path)[0]  # no --faults: truth records as before


@pytest.mark.parametrize("args", [
    ["--faults", "fire=3"], ["--faults", "5xx=101"], ["--faults", "5xx=60,429=60"], ["--faults", "5xx"],
    ["--faults", "5xx=3:0"], ["--faults", "5xx=3,5xx=4"], ["--fault-seed", "3"], ["--faults", ""],
])
def test_bad_fault_options_exit_2(args: list[str]) -> None:
    result = subprocess.run([sys.executable, "-m", "archiver", "replica", "--port", "0", *args],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_spec_percentages_partition_the_urls() -> None:
    plan = FaultPlan(parse_fault_spec("5xx=10,loop=20", seed=1))
    kinds = Counter((f.kind if (f := plan.fault_for(f"article:{i}", "article")) else None)
                    for i in range(20_000))
    assert 0.09 < kinds["5xx"] / 20_000 < 0.11
    assert 0.19 < kinds["loop"] / 20_000 < 0.21
    assert not any(plan.fault_for(f"/x/{i}", "other") and plan.fault_for(f"/x/{i}", "other").kind == "loop"
                   for i in range(2000))  # an article-only kind never hits other URLs


def test_transient_faults_fail_only_the_first_requests() -> None:
    injector = FaultInjector(FaultPlan(parse_fault_spec("5xx=100:2,empty=0", seed=1)))
    assert [injector.take("article:1", "article") is not None for _ in range(4)] == [True, True, False, False]
    permanent = FaultInjector(FaultPlan(parse_fault_spec("loop=100", seed=1)))
    assert all(permanent.take("article:1", "article") for _ in range(5))


def test_spec_errors_say_what_is_wrong() -> None:
    with pytest.raises(FaultSpecError, match="one of 5xx, 429"):
        parse_fault_spec("fire=1")
    with pytest.raises(FaultSpecError, match="add up to 150"):
        parse_fault_spec("5xx=100,slow=50")


def test_listing_faults_repeat_or_skip() -> None:
    ks = list(range(30))
    assert faulty_listing(Fault("listing-repeat", None, 0), ks, 2, 10) == list(range(10))
    skipped = faulty_listing(Fault("listing-skip", None, 3), ks, 2, 10)
    assert skipped == [10, 11, 12, 14, 15, 16, 17, 18, 19]
    assert faulty_listing(None, ks, 3, 10) == list(range(20, 30))


def test_huge_padding_reaches_ten_megabytes() -> None:
    page = pad_page(b"<html><body><p>x</p></body></html>", variant=1)
    assert len(page) == pytest.approx(10 * 1024 * 1024, abs=200)
    assert page.endswith(b"</script></body></html>")


# -- the crawler's side, unit by unit --------------------------------------------------------------


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    now = datetime(2025, 1, 1, tzinfo=UTC)
    assert retry_after_seconds(b"7") == 7
    assert retry_after_seconds(format_datetime(now + timedelta(seconds=30), usegmt=True), now) == 30
    assert retry_after_seconds(format_datetime(now - timedelta(seconds=30), usegmt=True), now) == 0
    assert retry_after_seconds(b"soon") is None
    assert retry_after_seconds(None) is None


def test_strict_gunzip_refuses_what_scrapy_let_through() -> None:
    data = gzip.compress(b"<html>" + b"x" * 50_000 + b"</html>")
    assert strict_gunzip(data) == gzip.decompress(data)
    assert strict_gunzip(data + gzip.compress(b"more")).endswith(b"more")  # several members
    for variant in (0, 1):  # bytes flipped, stream cut
        with pytest.raises(UndecodableBodyError):
            strict_gunzip(corrupt_gzip(data, variant))
    with pytest.raises(ValueError, match="exceeded"):  # a gzip bomb stops at max_size
        strict_gunzip(gzip.compress(b"\0" * 10_000_000), max_size=1_000_000)


@pytest.mark.parametrize(("target", "reason"), [
    ("http://127.0.0.1:8000/b", None),
    (f"http://{OFFSITE_HOST}/x", "off-site redirect not followed"),
    ("javascript:alert(1)", "non-HTTP(S)"),
    ("file:///etc/passwd", "non-HTTP(S)"),
    ("http://127.0.0.1:8000/a", "redirect loop"),
])
def test_redirect_problems(target: str, reason: str | None) -> None:
    request = Request("http://127.0.0.1:8000/a")
    problem = redirect_problem(request, target, ["127.0.0.1"])
    assert (problem is None) if reason is None else (reason in str(problem))


def test_redirect_loop_through_a_second_url() -> None:
    request = Request("http://h/a?loop=1", meta={"redirect_urls": ["http://h/a"]})
    assert redirect_problem(request, "http://h/a", ["h"]) == \
        "redirect loop: http://h/a -> http://h/a?loop=1 -> http://h/a"


def test_only_permanent_faults_end_in_failures(crawl: Crawl) -> None:
    by_url = {t["url"]: t for t in crawl.truth}
    assert crawl.failures
    for failure in crawl.failures:
        truth = by_url.get(failure["url"])
        assert truth is not None, failure  # only articles can fail here: listings and sitemaps recover
        fault = _article_fault(truth)
        assert fault is not None, (failure, truth["faults"])
        assert fault["permanent"], (failure, truth["faults"])


def test_strict_gunzip_stops_a_bomb_at_max_size_and_keeps_every_member() -> None:
    members = [gzip.compress(bytes([65 + n]) * 70_000) for n in range(3)]
    data = b"".join(members) + b"\0" * 8  # zero padding after the last member, as gzip(1) allows
    assert strict_gunzip(data) == b"".join(gzip.decompress(m) for m in members)
    assert strict_gunzip(data, max_size=210_000) == b"A" * 70_000 + b"B" * 70_000 + b"C" * 70_000
    with pytest.raises(ValueError, match="exceeded") as caught:  # the budget spans the members
        strict_gunzip(data, max_size=209_999)
    assert "210000" in str(caught.value)  # it stopped one byte past the limit, not at the end
    with pytest.raises(UndecodableBodyError, match="cut short after 140000 decoded bytes"):
        strict_gunzip(members[0] + members[1][:-9])


def test_strict_gunzip_refuses_a_body_of_many_tiny_members() -> None:
    tiny = gzip.compress(b"")
    assert strict_gunzip(tiny * MAX_GZIP_MEMBERS) == b""
    with pytest.raises(UndecodableBodyError, match=f"more than {MAX_GZIP_MEMBERS} gzip members"):
        strict_gunzip(tiny * (MAX_GZIP_MEMBERS + 1))
