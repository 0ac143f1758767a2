"""Re-extract ``articles.jsonl`` from WARC files, with the crawl's own extraction and pipelines.

How it stays byte-identical to the crawl (same code version):

- **Same pages.** Every 2xx HTML response record (and identical-payload revisit, resolved through
  ``WARC-Refers-To``) goes through :func:`archiver.extract.extract_article` with the URL, decoded
  body, headers and WARC-Date the spider used; pages that are not articles (listings) give None.
- **Same pipelines.** :data:`pipelines.chain.PIPELINE_ORDER`, built by each pipeline's own
  ``from_crawler``. Pipelines whose outcome depends on the items before them
  (:data:`pipelines.chain.ORDERED_PIPELINES`, the duplicate filter) and every pipeline
  after them run in the parent process, in archive order; the others run in the worker processes.
- **Same dataset.** Every record extracted, in archive order (WARC files by name,
  ``<prefix>-<timestamp>-<serial>-…``: the order they were written; records by offset, the order
  the crawl's feed wrote them), goes to ``captures.jsonl`` (the line Scrapy's
  ``JsonLinesItemExporter`` writes with the crawl feed's options) and through the crawl's dataset rules
  (:class:`archiver.runtime.dataset.DatasetBuilder`) into ``articles.jsonl``: the latest version of each
  article, in ``article_id`` order.
- **Same gone flags.** A live article whose URL's last capture (by WARC-Date) is a 404 or 410, or
  a redirect to one, is gone since the WARC-Date of that 404/410 capture: what the crawl wrote in
  ``gone_since`` (downloadermiddlewares/conditional.py). A harvested article is looked up by its
  path and query among the live captures (the live crawl asks it there). The captures' status and
  ``Location`` wait in the builder's SQLite file (:class:`GoneCaptures`), not in memory.

Work is split into byte ranges of the WARC files (each range synchronises to its first gzip member,
see :mod:`archiver.offline.members`) handed to a process pool; results come back in range order
through a window of at most ``2 × jobs`` ranges, so memory does not grow with the archive.
"""

from __future__ import annotations

import functools
import json
import logging
import multiprocessing
import resource
import sqlite3
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any
from urllib.parse import urljoin

from scrapy.exceptions import DropItem

from archiver.exceptions import SkippedItem
from archiver.extract import EXTRACTOR_VERSION, extract_article
from archiver.extract.dates import parse_date
from archiver.items import ArticleItem
from archiver.offline.members import Member, MemberError, MemberWalk, WarcSource, reader_for
from archiver.offline.pages import (
    ArchivedPage,
    RecordLocator,
    RevisitTarget,
    archived_page,
    harvested_source,
    header,
    is_page_candidate,
    parse_record,
    record_type,
    status_of,
)
from archiver.runtime.dataset import DatasetBuilder
from archiver.runtime.gone import GONE_STATUSES
from archiver.warc.compression import UndecodableBodyError, UnsupportedEncodingError
from pipelines.chain import PIPELINE_ORDER, PipelineChain, split_order

logger = logging.getLogger(__name__)

#: record types that may hold a page a crawl extracted an article from
PAGE_RECORD_TYPES = frozenset({"response", "revisit"})
#: the parent holds up to 2 x jobs ranges' results (~0.7 MB per 4 MiB range): a cap keeps memory flat
MAX_CHUNK_BYTES = 4 * 1024 * 1024
MIN_CHUNK_BYTES = 1024 * 1024
#: ranges per worker at least (when the archive is large enough): keeps the last ones from
#: running on one core while the others idle
RANGES_PER_JOB = 8
ARTICLES_FILE = "articles.jsonl"
#: every record extracted, in archive order (with ARCHIVER_DROP_DUPLICATES=False: every capture)
CAPTURES_FILE = "captures.jsonl"
FAILURES_FILE = "failures.jsonl"
REPORT_FILE = "reextract.json"
WARC_DIR = "warc"
WARC_PREFIX = "reextract"
#: what ``--overwrite`` removes from the output folder (exactly what a re-extraction writes)
OUTPUTS = (ARTICLES_FILE, CAPTURES_FILE, FAILURES_FILE, REPORT_FILE, WARC_DIR)


@dataclass(frozen=True)
class ReextractOptions:
    """What shapes the output besides the WARCs: pipeline settings and the crawl's date range."""

    settings: tuple[tuple[str, str], ...] = ()
    since: date | None = None
    until: date | None = None
    #: every input, to find the records revisits refer to
    sources: tuple[WarcSource, ...] = ()

    def in_range(self, published: str) -> bool:
        """The spider's ``--since``/``--until`` test, on the extracted (raw) date."""
        if self.since is None and self.until is None:
            return True  # no range: no need to find the date (a regex search of the raw text)
        when = parse_date(published)
        if when is None:
            return True
        return not ((self.since and when < self.since) or (self.until and when > self.until))


@dataclass(frozen=True)
class ChunkTask:
    """The members of ``source`` starting in ``[start, end)`` (``exact``: ``start`` is a member start)."""

    source: WarcSource
    start: int
    end: int
    exact: bool = False


@dataclass(frozen=True)
class Rejected:
    """An article a pipeline dropped: its ``failures.jsonl`` line."""

    record: dict[str, Any]


@dataclass(frozen=True)
class Problem:
    """A record that could not be read or resolved."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


Entry = ArticleItem | Rejected | Problem
#: (WARC-Target-URI, WARC-Date, HTTP status, Location) of a live response or revisit record
Capture = tuple[str, str, int, str]


@dataclass
class ChunkResult:
    task: ChunkTask
    began: int
    stopped: int
    entries: list[Entry] = field(default_factory=list)
    captures: list[Capture] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    peak_rss_kb: int = 0


def chunk_size(sources: Sequence[WarcSource], jobs: int) -> int:
    """Range size: about ``RANGES_PER_JOB`` ranges per worker, within 1-4 MiB."""
    total = sum(source.size for source in sources)
    return max(MIN_CHUNK_BYTES, min(MAX_CHUNK_BYTES, total // max(jobs * RANGES_PER_JOB, 1)))


def plan_chunks(sources: Iterable[WarcSource], chunk_bytes: int = MAX_CHUNK_BYTES) -> Iterator[ChunkTask]:
    """Byte ranges of every source, in archive order; the first of each file starts exactly at 0."""
    for source in sources:
        for start in range(0, max(source.size, 1), chunk_bytes):
            yield ChunkTask(source, start, min(start + chunk_bytes, source.size), exact=start == 0)


@functools.cache
def _parallel_chain(settings: tuple[tuple[str, str], ...]) -> PipelineChain:
    # one chain per worker process, built on its first range (pipelines are stateless here)
    return PipelineChain.build(dict(settings), order=split_order(PIPELINE_ORDER)[0])


def process_chunk(task: ChunkTask, options: ReextractOptions) -> ChunkResult:
    """Extract the articles of one byte range (runs in a worker process)."""
    chain = _parallel_chain(options.settings)
    locator = RecordLocator(options.sources or (task.source,))
    with task.source.open() as stream:
        walk = MemberWalk(reader_for(stream, task.source), task.start, task.end, task.exact)
        result = ChunkResult(task, began=-1, stopped=-1)
        for member in walk:
            entry = _examine(member, task.source, options, chain, locator, result)
            if entry is not None:
                result.entries.append(entry)
    result.began, result.stopped = walk.began, walk.stopped
    result.peak_rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return result


def _examine(
    member: Member | MemberError,
    source: WarcSource,
    options: ReextractOptions,
    chain: PipelineChain,
    locator: RecordLocator,
    result: ChunkResult,
) -> Entry | None:
    counts = result.counts
    if isinstance(member, MemberError):
        counts["unreadable"] += 1
        return Problem(f"{source.label}:{member.offset}", member.reason)
    kind = record_type(member.data)
    if kind not in PAGE_RECORD_TYPES:
        counts[f"records/{kind or 'unknown'}"] += 1
        return None
    record = parse_record(member.data)
    counts[f"records/{record.rec_type}"] += 1
    capture = _capture_of(record)
    if capture is not None:
        result.captures.append(capture)
    if not is_page_candidate(record):
        return None
    payload = None
    if record.rec_type == "revisit":
        target = RevisitTarget.of(record)
        payload = locator.find(target)
        if payload is None:
            counts["revisits/unresolved"] += 1
            return Problem(
                f"{source.label}:{member.offset}",
                f"revisit of {target.record_id} ({target.target_uri}): the record it refers to "
                "is not in the inputs; add the WARCs of the earlier crawl",
            )
        counts["revisits/resolved"] += 1
    counts["pages"] += 1
    try:
        page = archived_page(source, member, record, payload)
    except UndecodableBodyError as exc:
        return _undecodable(f"{source.label}:{member.offset}", header(record, "WARC-Target-URI"), exc, counts)
    return _extract(page, options, chain, counts)


def _capture_of(record: Any) -> Capture | None:
    """What the gone flags need of a live capture (a harvested one says nothing of the live site)."""
    if harvested_source(record) is not None:
        return None
    status = status_of(record)
    location = ""
    if 300 <= status < 400 and record.http_headers is not None:
        location = record.http_headers.get_header("Location") or ""
    return header(record, "WARC-Target-URI"), header(record, "WARC-Date"), status, location


def _undecodable(where: str, url: str, exc: UndecodableBodyError, counts: Counter[str]) -> Problem | None:
    """A body the crawl could not decode either: it never reached extraction there, so it is skipped.

    A corrupt or cut stream is a fetch the crawl retried or failed (counted ``undecodable``); a
    coding this process cannot decode (unknown, or its decoder missing) may hide an article the
    crawl extracted, so it is a problem (exit code 1).
    """
    if isinstance(exc, UnsupportedEncodingError):
        counts["undecodable/unsupported"] += 1
        return Problem(where, f"{url}: {exc}; record skipped")
    counts["undecodable"] += 1
    logger.info("%s (%s): %s; record skipped, as the crawl did", where, url, exc)
    return None


def _extract(
    page: ArchivedPage, options: ReextractOptions, chain: PipelineChain, counts: Counter[str]
) -> Entry | None:
    try:
        item = extract_article(page.url, page.body, page.headers, fetched_at=page.fetched_at)
    except Exception as exc:  # as Scrapy treats a failing callback: log, count, go on with the rest
        logger.error("extraction failed on %s", page.url, exc_info=True)
        counts["errors"] += 1
        return Rejected(
            {"url": page.url, "stage": "extract", "reason": f"{type(exc).__name__}: {exc}", "warc": page.warc}
        )
    if item is None:
        counts["not_articles"] += 1
        return None
    item.warc = page.warc
    if page.source is not None:  # a capture harvested from a web archive (docs/harvest.md)
        item.source = dict(page.source)
    if not options.in_range(item.published):
        counts["out_of_range"] += 1
        return None
    return run_pipelines(chain, item, counts)


def run_pipelines(chain: PipelineChain, item: ArticleItem, counts: Counter[str]) -> Entry | None:
    """The item through ``chain``; a skip (duplicate) is counted, a rejection returned as data."""
    try:
        return chain.process(item)
    except SkippedItem:
        counts["skipped"] += 1
        return None
    except DropItem as exc:
        counts["rejected"] += 1
        return Rejected(_failure_record(item, exc))


def _failure_record(item: ArticleItem, exc: DropItem) -> dict[str, Any]:
    make = getattr(exc, "failure_record", None)
    record: dict[str, Any] = (
        make()
        if callable(make)
        else {"url": item.url, "article_id": item.article_id, "stage": "pipeline", "reason": str(exc)}
    )
    record["warc"] = item.warc
    return record


# -- running the ranges --------------------------------------------------------------------------


def ordered_results(
    tasks: Iterable[ChunkTask], options: ReextractOptions, jobs: int
) -> Iterator[ChunkResult]:
    """Results in task order; at most ``2 × jobs`` ranges in flight (memory stays flat)."""
    if jobs <= 1:
        yield from (process_chunk(task, options) for task in tasks)
        return
    with ProcessPoolExecutor(max_workers=jobs, mp_context=pool_context()) as pool:
        pending: deque[Future[ChunkResult]] = deque()
        queue = iter(tasks)
        for task in queue:
            pending.append(pool.submit(process_chunk, task, options))
            if len(pending) >= 2 * jobs:
                break
        while pending:
            result = pending.popleft().result()
            following = next(queue, None)
            if following is not None:
                pending.append(pool.submit(process_chunk, following, options))
            yield result


def pool_context() -> multiprocessing.context.BaseContext:
    """``fork`` on Linux when this process has one thread (cheap, no re-import of ``__main__``);
    otherwise ``forkserver`` (or ``spawn``), since forking a threaded process can deadlock."""
    methods = multiprocessing.get_all_start_methods()
    if sys.platform.startswith("linux") and "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def contiguous(results: Iterable[ChunkResult], options: ReextractOptions) -> Iterator[ChunkResult]:
    """Check that each range begins where the previous one stopped; redo a range that did not.

    A range synchronises on the first gzip member it can inflate to a WARC record; should that be a
    false start (a gzip stream stored inside a record), it would not meet the end of the previous
    range, and is read again from there, member after member.
    """
    expected: dict[str, int] = {}
    for result in results:
        task = result.task
        start = expected.get(task.source.name, 0)
        if result.began != start:
            logger.warning(
                "%s: range %d-%d began at %d, not %d; reading it again from %d",
                task.source.label,
                task.start,
                task.end,
                result.began,
                start,
                start,
            )
            result = process_chunk(ChunkTask(task.source, start, max(task.end, start), exact=True), options)
        expected[task.source.name] = result.stopped
        yield result


# -- the parent: ordered pipelines, the feed, conversion records ----------------------------------


@dataclass
class ReextractSummary:
    """What a re-extraction did (``reextract.json``)."""

    sources: list[WarcSource]
    jobs: int
    chunk_bytes: int = MAX_CHUNK_BYTES
    counts: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    articles: int = 0
    seconds: float = 0.0
    peak_rss_kb: dict[str, int] = field(default_factory=lambda: {"parent": 0, "worker_max": 0})
    conversion_warcs: list[str] = field(default_factory=list)
    #: what the dataset build did (:class:`archiver.runtime.dataset.DatasetSummary`)
    dataset: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems and not self.counts["rejected"] and not self.counts["errors"]

    def as_dict(self) -> dict[str, Any]:
        pages = self.counts["pages"]
        rate = pages / self.seconds if self.seconds else 0.0
        return {
            "extractor_version": EXTRACTOR_VERSION,
            "sources": [
                {"name": s.name, "path": s.path, "bytes": s.size, "in": s.container or "file"}
                for s in self.sources
            ],
            "articles": self.articles,
            "dataset": self.dataset,
            "counts": dict(sorted(self.counts.items())),
            "problems": self.problems,
            "jobs": self.jobs,
            "chunk_bytes": self.chunk_bytes,
            "duration_seconds": round(self.seconds, 3),
            "pages_per_second": round(rate, 1),
            "pages_per_second_per_core": round(rate / max(self.jobs, 1), 1),
            "peak_rss_mb": {k: round(v / 1024, 1) for k, v in self.peak_rss_kb.items()},
            "outputs": {
                "articles": ARTICLES_FILE,
                "captures": CAPTURES_FILE,
                "failures": FAILURES_FILE,
                "warc": [f"{WARC_DIR}/{name}" for name in self.conversion_warcs],
            },
        }


class ArticleSink:
    """Runs the ordered pipelines, writes ``captures.jsonl``, ``failures.jsonl``, conversion records,
    and builds ``articles.jsonl`` (the dataset) with its gone flags when closed."""

    def __init__(
        self,
        out_dir: Path,
        options: ReextractOptions,
        summary: ReextractSummary,
    ) -> None:
        self.summary = summary
        self.chain = PipelineChain.build(dict(options.settings), order=split_order(PIPELINE_ORDER)[1])
        # the crawl feed's lines (archiver/addon.py: JSON lines, ARTICLE_FIELDS, UTF-8), written by
        # _article: the same bytes per item (tests/test_offline_reextract.py compares them)
        self._captures: IO[bytes] = (out_dir / CAPTURES_FILE).open("wb")
        self._failures: IO[str] = (out_dir / FAILURES_FILE).open("w", encoding="utf-8")
        self._writer = conversion_writer(out_dir / WARC_DIR)
        self.dataset = DatasetBuilder(out_dir / ARTICLES_FILE)
        self.gone = GoneCaptures(self.dataset.db)

    def add(self, result: ChunkResult) -> None:
        self.summary.counts.update(result.counts)
        peak = self.summary.peak_rss_kb
        peak["worker_max"] = max(peak["worker_max"], result.peak_rss_kb)
        self.gone.add(result.captures)
        for entry in result.entries:
            if isinstance(entry, Problem):
                self.summary.problems.append(str(entry))
            elif isinstance(entry, Rejected):
                self._fail(entry.record)
            else:
                self._article(entry)

    def _article(self, item: ArticleItem) -> None:
        outcome = run_pipelines(self.chain, item, self.summary.counts)
        if isinstance(outcome, Rejected):
            self._fail(outcome.record)
            return
        if outcome is None:
            return
        assert isinstance(outcome, ArticleItem)
        # the record encoded once: the crawl feed's line (what its JsonLinesItemExporter writes for
        # the same fields: ScrapyJSONEncoder, ensure_ascii off, UTF-8), the conversion record's
        # payload (pipelines.conversion.record_json) and the dataset's line of a new article
        record = outcome.record()
        line = json.dumps(record, ensure_ascii=False)
        encoded = line.encode("utf-8")
        self._captures.write(encoded + b"\n")
        self.summary.articles += 1
        self.dataset.apply(record, line=line)
        self._write_conversion(outcome, encoded)

    def _write_conversion(self, item: ArticleItem, payload: bytes) -> None:
        from archiver.warc.records import serialize_conversion
        from archiver.warc.writer import encode_serialized

        if not item.warc or not item.warc.get("record_id"):
            return
        # the bytes build_conversion + warcio's writer give, built directly (as the crawl writes
        # its conversion records: tests/test_warc_records.py compares both ways)
        record = serialize_conversion(payload, target_uri=item.url, refers_to=item.warc["record_id"])
        # no CDXJ entry: this writer builds no CDXJ (it has no on_file_indexed)
        self._writer.append([encode_serialized(record, self._writer.gzip_level, indexed=False)])

    def _fail(self, record: dict[str, Any]) -> None:
        self._failures.write(json.dumps(record, ensure_ascii=False) + "\n")

    def close(self, complete: bool = True) -> None:
        self._captures.close()
        self._failures.close()
        closed = self._writer.close()
        if closed is not None:
            self.summary.conversion_warcs.append(closed.name)
        if not complete:
            self.dataset.close()
            return
        self.gone.flag(self.dataset)
        self.summary.dataset = self.dataset.write().as_dict()


class GoneCaptures:
    """The live captures' status and ``Location`` by URL, in the dataset builder's SQLite file;
    :meth:`flag` marks the dataset's articles whose URL the site later removed."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.db.execute("CREATE TABLE captures (url TEXT NOT NULL, sort_date TEXT NOT NULL, "
                        "date TEXT NOT NULL, status INTEGER NOT NULL, location TEXT NOT NULL, "
                        "path TEXT NOT NULL)")
        self.db.execute("CREATE INDEX captures_url ON captures (url, sort_date)")
        self.db.execute("CREATE INDEX captures_path ON captures (path, sort_date)")

    def add(self, captures: Iterable[Capture]) -> None:
        self.db.executemany("INSERT INTO captures VALUES (?, ?, ?, ?, ?, ?)",
                            [(url, _sortable(date), date, status, location, _path_of(url))
                             for url, date, status, location in captures])

    def flag(self, dataset: DatasetBuilder) -> None:
        for key, record in dataset.rows():
            url, fetched_at = str(record.get("url") or ""), str(record.get("fetched_at") or "")
            since = self.gone_since(url, fetched_at)
            if since is None and (record.get("source") or {}).get("archive", "live") != "live":
                # a harvested article: the live crawl asked its path on the crawled site
                # (spiders/sections.py, ``_sweep_request``)
                live = self.db.execute("SELECT url FROM captures WHERE path = ? ORDER BY sort_date DESC "
                                       "LIMIT 1", (_path_of(url),)).fetchone()
                since = self.gone_since(live[0], fetched_at) if live is not None else None
            if since is not None:
                dataset.flag_gone(key, since)

    def gone_since(self, url: str, fetched_at: str) -> str | None:
        """The WARC-Date of the 404/410 that the last capture of ``url`` is (or redirects to), if it
        is later than the article's own capture."""
        row = self.db.execute("SELECT sort_date, date, status, location FROM captures WHERE url = ? "
                              "ORDER BY sort_date DESC LIMIT 1", (url,)).fetchone()
        if row is None or row[0] <= _sortable(fetched_at):
            return None
        for _hop in range(MAX_GONE_REDIRECTS + 1):
            sort_date, date_text, status, location = row
            if status in GONE_STATUSES:
                return str(date_text)
            if not (300 <= status < 400 and location):
                return None
            url = urljoin(url, location)
            row = self.db.execute("SELECT sort_date, date, status, location FROM captures WHERE url = ? "
                                  "AND sort_date >= ? ORDER BY sort_date LIMIT 1",
                                  (url, sort_date)).fetchone()
            if row is None:
                return None
        return None


#: redirects followed from a removed article's URL to the 404 it ends in
MAX_GONE_REDIRECTS = 10


def _path_of(url: str) -> str:
    """``url`` without scheme and host: the path and query a harvested article is asked at live."""
    return url.split("://", 1)[-1].partition("/")[2]


def _sortable(warc_date: str) -> str:
    """A WARC-Date (or ISO 8601 time) as text that sorts in time order whatever its precision."""
    try:
        moment = datetime.fromisoformat(warc_date.replace("Z", "+00:00"))
    except ValueError:
        return warc_date
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="microseconds")


def conversion_writer(directory: Path) -> Any:
    """The WARC of the new conversion records (the original WARCs are never touched)."""
    from archiver.warc.records import software_name
    from archiver.warc.writer import WarcRollingWriter

    fields = {
        "software": software_name(),
        "format": "WARC File Format 1.1",
        "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
        "isPartOf": "reextract",
        "description": f"articles re-extracted offline (extractor {EXTRACTOR_VERSION}); "
        "WARC-Refers-To names the original response records",
    }
    return WarcRollingWriter(directory, prefix=WARC_PREFIX, warcinfo_fields=fields)


def reextract(
    sources: Sequence[WarcSource],
    out_dir: Path,
    options: ReextractOptions | None = None,
    *,
    jobs: int = 1,
    chunk_bytes: int | None = None,
) -> ReextractSummary:
    """Re-extract every article of ``sources`` into ``out_dir`` (which must exist).

    ``chunk_bytes``: size of the byte ranges handed to the workers (default: :func:`chunk_size`).
    """
    options = options or ReextractOptions()
    if not options.sources:
        options = ReextractOptions(options.settings, options.since, options.until, tuple(sources))
    summary = ReextractSummary(list(sources), jobs, chunk_bytes=chunk_bytes or chunk_size(sources, jobs))
    started = time.monotonic()
    sink = ArticleSink(out_dir, options, summary)
    complete = False
    try:
        tasks = plan_chunks(sources, summary.chunk_bytes)
        for result in contiguous(ordered_results(tasks, options, jobs), options):
            sink.add(result)
        complete = True
    finally:
        sink.close(complete)
    summary.seconds = time.monotonic() - started
    summary.peak_rss_kb["parent"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    report = json.dumps(summary.as_dict(), indent=2, ensure_ascii=False) + "\n"
    (out_dir / REPORT_FILE).write_text(report, encoding="utf-8")
    return summary
