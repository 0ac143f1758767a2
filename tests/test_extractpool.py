"""Extraction on a worker process (archiver/runtime/extractpool.py): same items, and a dead worker loses
no page silently."""

from __future__ import annotations

import fcntl
import io
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator

from archiver.extract import extract_article
from archiver.extract.listing import read_listing
from archiver.replica.process import RunningReplica
from archiver.requisites.scan import page_requisites
from archiver.runtime.extractpool import PIPE_BYTES
from archiver.runtime.extractworker import PrepareConfig, encode_frame, read_frame
from pipelines.base import image_sources
from pipelines.chain import PIPELINE_ORDER, PipelineChain, split_order
from tests.harness import FAST, children, crawl, wait_for, warcio_check

FIXTURES = Path(__file__).parent / "fixtures"
#: fields that differ between two crawls of the same pages
VOLATILE = ("fetched_at", "warc")


def fixture_pages() -> list[tuple[str, bytes, dict[str, str], str]]:
    pages = []
    for info_path in sorted(FIXTURES.glob("*/*/info.json")):
        info = json.loads(info_path.read_text("utf-8"))
        if "url" not in info:
            continue  # hostile cases are whole HTTP answers for the replica, not pages
        body = (info_path.parent / "body.html").read_bytes()
        pages.append((info["url"], body, info.get("headers", {}), info.get("fetched_at", "")))
    return pages


def test_the_worker_answers_what_the_extractor_gives_in_process() -> None:
    pages = fixture_pages()
    assert len(pages) > 20
    frames = b"".join(encode_frame((job, "article", *page)) for job, page in enumerate(pages))
    proc = subprocess.run([sys.executable, "-m", "archiver.runtime.extractworker"], input=frames,
                          capture_output=True, timeout=120, check=True)
    stream = io.BytesIO(proc.stdout)
    answers = []
    while (answer := read_frame(stream)) is not None:
        answers.append(answer)
    assert [job for job, _ok, _value in answers] == list(range(len(pages)))
    for (url, body, headers, fetched_at), (_job, ok, value) in zip(pages, answers, strict=True):
        assert ok, value
        expected = extract_article(url, body, headers, fetched_at=fetched_at)
        assert (value.record() if value is not None else None) == \
            (expected.record() if expected is not None else None), url
    assert any(value is None for _job, _ok, value in answers)  # not-article pages among them
    assert sum(value is not None for _job, _ok, value in answers) > 15


def run_worker(frames: list[bytes], *args: str) -> list[Any]:
    proc = subprocess.run([sys.executable, "-m", "archiver.runtime.extractworker", *args],
                          input=b"".join(frames), capture_output=True, timeout=120, check=True)
    stream = io.BytesIO(proc.stdout)
    answers = []
    while (answer := read_frame(stream)) is not None:
        answers.append(answer)
    return answers


def test_a_worker_with_the_cleaning_pipelines_answers_what_the_chain_gives() -> None:
    """With ``--prepare`` the worker runs the pipelines: the record, the stats each page counted and
    the exception of a drop come back as the chain gives them in process."""
    pages = fixture_pages()
    order = split_order(PIPELINE_ORDER)[0]
    config = PrepareConfig(order, {"ARCHIVER_VALIDATE": "True"})
    warc = {"filename": "x.warc.gz", "offset": 0, "length": 1, "record_id": "<urn:uuid:1>",
            "payload_digest": "sha1:X"}
    answers = run_worker([config.frame(), *(encode_frame((job, "article", *page, warc))
                                            for job, page in enumerate(pages))], "--prepare")
    dropped = 0
    for (url, body, headers, fetched_at), (_job, ok, item) in zip(pages, answers, strict=True):
        assert ok, item
        expected = extract_article(url, body, headers, fetched_at=fetched_at)
        if expected is None:
            assert item is None
            continue
        expected.warc = warc
        chain = PipelineChain.build({"ARCHIVER_VALIDATE": "True"}, order=order)
        assert item.prepared.applied == set(order)
        assert item.prepared.image_sources == image_sources(expected)  # as extracted
        outcome = chain_outcome(chain, expected)
        if isinstance(outcome, Exception):
            dropped += 1
            assert type(item.prepared.dropped) is type(outcome), url
            assert str(item.prepared.dropped) == str(outcome)
            assert item.prepared.dropped_by == "pipelines.validate.ValidateSchemaPipeline"
            assert item.prepared.dropped.failure_record() == outcome.failure_record()  # type: ignore[attr-defined]
        else:
            assert item.prepared.dropped is None
            assert item.record() == outcome, url
        assert item.prepared.stats == chain.stats.get_stats(), url
    assert dropped == len(list((FIXTURES / "bad-input").glob("*/info.json")))  # they fail validation


def chain_outcome(chain: PipelineChain, item: Any) -> dict[str, Any] | Exception:
    try:
        return chain.process(item).record()
    except Exception as exc:  # the drop, as the worker must hand it over
        return exc


def test_a_preparing_worker_loads_scrapys_exceptions_not_all_of_scrapy() -> None:
    """The pipelines raise Scrapy's exceptions; importing the whole package would cost each worker
    ~37 MB (the memory target of docs/performance.md)."""
    code = (
        "import sys\n"
        "from archiver.runtime.extractworker import Worker, PrepareConfig, import_scrapy_exceptions_alone\n"
        "from pipelines.chain import PIPELINE_ORDER, split_order\n"
        "import_scrapy_exceptions_alone()\n"
        "worker = Worker(PrepareConfig(split_order(PIPELINE_ORDER)[0], {}))\n"
        "assert worker.chain.paths == list(split_order(PIPELINE_ORDER)[0]), worker.chain.paths\n"
        "from scrapy.exceptions import DropItem\n"
        "from pipelines.rejections import ArticleRejected\n"
        "assert issubclass(ArticleRejected, DropItem)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'scrapy', 'twisted'}))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['scrapy', 'scrapy.exceptions']"


def test_a_worker_asked_for_requisites_scans_the_page_as_the_crawl_process_does() -> None:
    pages = fixture_pages()
    answers = run_worker([encode_frame((job, "article", *page, None, True)) for job, page in enumerate(pages)]
                         + [encode_frame((len(pages), "article", *pages[0], None, False))])
    scanned = 0
    for (url, body, _headers, _fetched_at), (_job, ok, item) in zip(pages, answers, strict=False):
        assert ok, item
        if item is not None:
            assert item.requisites == tuple((r.url, r.kind) for r in page_requisites(body, url)), url
            scanned += bool(item.requisites)
    assert scanned > 15
    (_job, ok, unasked) = answers[-1]
    assert ok
    assert unasked.requisites is None


def test_a_worker_leaves_an_article_outside_the_date_range_unprepared() -> None:
    url, body, headers, fetched_at = next(p for p in fixture_pages() if "2460001" not in p[0]
                                          and extract_article(*p[:3]) is not None)
    config = PrepareConfig(split_order(PIPELINE_ORDER)[0], {}, since="2999-01-01")
    [(_job, ok, item)] = run_worker([config.frame(), encode_frame((0, "article", url, body, headers,
                                                                   fetched_at, None))], "--prepare")
    assert ok
    assert item is not None
    assert item.prepared is None  # the spider drops it as out of range, no pipeline counted it


def test_a_worker_reads_listing_pages_as_the_crawl_process_does() -> None:
    listings = [(path, path.read_bytes()) for path in sorted(FIXTURES.glob("*/*/body.html"))]
    hosts = ("www.defense.gov",)
    answers = run_worker([encode_frame((job, "listing", "https://www.defense.gov/News/", body, hosts))
                          for job, (_path, body) in enumerate(listings)])
    found = 0
    for (path, body), (_job, ok, page) in zip(listings, answers, strict=True):
        if not body.strip():  # lxml's "Document is empty", as the crawl process gets it
            assert not ok
            assert "Document is empty" in str(page)
            continue
        assert ok, page
        assert page == read_listing(body, "https://www.defense.gov/News/", hosts), path
        found += len(page.entries)
    assert found > 10  # the listing fixtures hold article links


def test_an_extractor_error_comes_back_as_the_pages_error() -> None:
    frame = encode_frame((7, "article", "http://x/a", None, {}, ""))  # no body: the extractor raises
    proc = subprocess.run([sys.executable, "-m", "archiver.runtime.extractworker"], input=frame,
                          capture_output=True, timeout=60, check=True)
    job, ok, value = read_frame(io.BytesIO(proc.stdout))
    assert (job, ok) == (7, False)
    assert isinstance(value, AttributeError)


def articles(out: Path) -> dict[str, dict[str, Any]]:
    found = {}
    for line in (out / "articles.jsonl").read_text("utf-8").splitlines():
        record = json.loads(line)
        for field in VOLATILE:
            record.pop(field, None)
        found[record["url"]] = record
    return found


def test_a_crawl_extracts_the_same_articles_with_and_without_the_worker(
    replica300: RunningReplica, tmp_path: Path
) -> None:
    with_worker = crawl(tmp_path / "worker", replica300.base, "--no-wacz", "--images")
    inline = crawl(tmp_path / "inline", replica300.base, "--no-wacz", "--images", "-s",
                   "ARCHIVER_EXTRACT_WORKERS=0")
    assert with_worker.returncode == 0, with_worker.stderr[-3000:]
    assert inline.returncode == 0, inline.stderr[-3000:]
    got, expected = articles(tmp_path / "worker"), articles(tmp_path / "inline")
    assert len(got) == len(replica300.truth())
    assert got == expected
    for out in (tmp_path / "worker", tmp_path / "inline"):
        check = warcio_check(sorted((out / "warc").glob("*.warc.gz")))
        assert check.returncode == 0, check.stdout[-2000:] + check.stderr[-2000:]
    # the cleaning pipelines ran in the workers, and their counts reached the crawl's stats; the
    # same photos were fetched (the page's, as extracted: the pipelines merge duplicates later)
    stats = pipeline_stats(tmp_path / "worker")
    assert stats == pipeline_stats(tmp_path / "inline")
    assert stats["archiver/validate/valid"] == len(got)
    assert stats["archiver/images/archived"] >= stats["archiver/captions/images"] > 0
    # the article pages' requisites were scanned on the workers, and the same ones were archived
    # as when the crawl process scans every page itself
    report = json.loads((tmp_path / "worker" / "report.json").read_text())["stats"]
    assert report["archiver/extract/requisites_scanned"] == len(got)
    requisites = archived_requisites(tmp_path / "worker")
    assert requisites == archived_requisites(tmp_path / "inline")
    assert len(requisites) > stats["archiver/requisites/archived"] > len(got)  # with the full-size photos


def archived_requisites(out: Path) -> set[str]:
    """The target URIs of the crawl's non-HTML responses (requisites, and photos with --images)."""
    found = set()
    for path in sorted((out / "warc").glob("*.warc.gz")):
        with path.open("rb") as stream:
            for record in ArchiveIterator(stream):
                if record.rec_type == "response" and record.http_headers is not None and \
                        not (record.http_headers.get_header("Content-Type") or "").startswith("text/html"):
                    found.add(record.rec_headers.get_header("WARC-Target-URI"))
    return found


def pipeline_stats(out: Path) -> dict[str, Any]:
    stats = json.loads((out / "report.json").read_text())["stats"]
    return {k: v for k, v in stats.items() if k.startswith("archiver/") and "/extract/" not in k}


def pipe_size(pid: int, fd: int) -> int:
    """The capacity of the pipe on ``fd`` of process ``pid`` (opened through /proc, never read)."""
    handle = os.open(f"/proc/{pid}/fd/{fd}", os.O_RDONLY | os.O_NONBLOCK)
    try:
        return fcntl.fcntl(handle, fcntl.F_GETPIPE_SZ)
    finally:
        os.close(handle)


def widened(pid: int, size: int) -> bool:
    """Whether stdin and another pipe of the worker (its frame sink) have ``size`` (False while
    the worker is still moving its descriptors about at start-up)."""
    try:
        fds = Path(f"/proc/{pid}/fd")
        if (fds / "1").readlink() != (fds / "2").readlink():  # not yet: worker.main has not run
            return False
        others = [pipe_size(pid, int(fd.name)) for fd in fds.iterdir()
                  if fd.name != "0" and str(fd.readlink()).startswith("pipe:")]
        return pipe_size(pid, 0) == size and size in others
    except OSError:
        return False


def expected_pipe_size() -> int:
    limit = int(Path("/proc/sys/fs/pipe-max-size").read_text())
    return PIPE_BYTES if limit >= PIPE_BYTES else 65536


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads child processes from /proc")
def test_a_killed_worker_is_replaced_and_its_pages_are_reported(
    fresh_replica: Callable[..., RunningReplica], tmp_path: Path
) -> None:
    site = fresh_replica("--articles", "600", "--seed", "11", "--crawl-delay", "0", truth=True)
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "archiver", "crawl", "--site", site.base, "--out",
                             str(out), "--no-wacz", *FAST, "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=2",
                             "-s", "ARCHIVER_EXTRACT_WORKERS=2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        workers = set(wait_for(lambda: len(children(proc.pid)) == 2 and children(proc.pid), timeout=60))
        # the pipes to and from each worker hold several page frames (extractpool._widen_pipes, just
        # after the fork): stdin, and the frame sink the worker dups from fd 1 before fd 1 becomes
        # stderr (worker.main)
        wide = expected_pipe_size()
        wait_for(lambda: all(widened(pid, wide) for pid in workers), timeout=10)
        time.sleep(1.0)  # mid-crawl: the workers hold pages
        first = min(workers)
        os.kill(first, signal.SIGKILL)
        wait_for(lambda: set(children(proc.pid)) - workers, timeout=30)  # a new worker took its place
        _stdout, stderr = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode in (0, 1), stderr[-3000:]
    assert "extraction worker died" in (out / "crawl.log").read_text("utf-8")

    kept = {json.loads(line)["url"] for line in (out / "articles.jsonl").read_text().splitlines()}
    failures = [json.loads(line) for line in (out / "failures.jsonl").read_text().splitlines()
                if line.strip()] if (out / "failures.jsonl").exists() else []
    lost = [f for f in failures if "extraction worker died" in f.get("reason", "")]
    stats = json.loads((out / "report.json").read_text())["stats"]
    assert stats.get("archiver/extract/worker_lost", 0) == len(lost)
    assert {r["url"] for r in site.truth()} == kept | {f["url"] for f in lost}
    assert proc.returncode == (1 if lost else 0)
    check = warcio_check(sorted((out / "warc").glob("*.warc.gz")))
    assert check.returncode == 0, check.stdout + check.stderr


#: an interpreter that fails as a broken environment does: after its imports took a while
FAILING_PYTHON = """#!/bin/sh
sleep 2
echo "ModuleNotFoundError: No module named 'lxml'" >&2
exit 1
"""


@pytest.mark.parametrize("python", ["missing", "failing"])
def test_workers_that_cannot_start_fall_back_to_extraction_in_the_crawl_process(
    fresh_replica: Callable[..., RunningReplica], tmp_path: Path, python: str
) -> None:
    """No interpreter, or one that fails at start: the pages sent to the workers are not lost (they
    failed with the worker, every listing page and article meanwhile), the crawl extracts them
    itself and says so."""
    interpreter = tmp_path / "python"
    if python == "failing":
        interpreter.write_text(FAILING_PYTHON)
        interpreter.chmod(0o755)
    site = fresh_replica("--articles", "60", "--seed", "9", "--crawl-delay", "0", truth=True)
    out = tmp_path / "out"
    result = crawl(out, site.base, "--no-wacz", "-s", f"ARCHIVER_EXTRACT_PYTHON={interpreter}")
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert set(articles(out)) == {r["url"] for r in site.truth()}
    stats = json.loads((out / "report.json").read_text())["stats"]
    assert stats["archiver/extract/workers_not_started"] >= 3
    assert "could not start" in stats["archiver/extract/inline_fallback"]
    assert "archiver/extract/worker_lost" not in stats
    assert "extraction in the crawl process: the extraction workers could not start" in result.stdout
    log = (out / "crawl.log").read_text("utf-8")
    assert log.count("extracting in the crawl process from now on") == 1  # one warning
