"""Run one crawl in this process and sum it up (``archiver crawl`` and ``archiver demo``)."""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from archiver.addon import ARTICLES_FILE, FAILURES_FILE, REPORT_FILE
from archiver.incremental import STATE_FILE
from archiver.packaging import WACZ_FILE

#: outputs of one run, moved to ``runs/<started>/`` when the next (incremental) run starts
RUN_OUTPUTS = (ARTICLES_FILE, REPORT_FILE, FAILURES_FILE, WACZ_FILE, "crawl.log")
#: everything a crawl keeps in its folder (``--overwrite`` removes exactly these)
OUTPUTS = ("warc", "indexes", "runs", STATE_FILE, *RUN_OUTPUTS)


@dataclass
class CrawlJob:
    spider: str
    out: Path
    spider_args: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)


def prepare_output(out: Path, overwrite: bool) -> Path | None:
    """Make ``out`` ready for a run.

    A folder holding an earlier run gets an incremental run: the earlier run's own outputs
    (articles.jsonl, report.json, ...) move to ``runs/<its start time>/``, which is returned;
    WARC files, indexes and the crawl state stay. ``overwrite`` removes every output instead.
    """
    out.mkdir(parents=True, exist_ok=True)
    if overwrite:
        for name in OUTPUTS:
            _remove(out / name)
        for leftover in out.glob(f"{STATE_FILE}-*"):  # SQLite's -wal and -shm files
            leftover.unlink()
        return None
    previous = [name for name in RUN_OUTPUTS if (out / name).exists()]
    if not previous:
        return None
    archive = out / "runs" / _run_name(out / REPORT_FILE)
    archive.mkdir(parents=True, exist_ok=True)
    for name in previous:
        (out / name).replace(archive / name)
    return archive


def _run_name(report: Path) -> str:
    try:
        started = json.loads(report.read_text("utf-8"))["started"]
    except (OSError, ValueError, KeyError):
        started = datetime.fromtimestamp(report.stat().st_mtime if report.exists() else 0, UTC).isoformat()
    return started[:19].replace(":", "").replace("-", "")


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def run(job: CrawlJob) -> dict[str, Any]:
    """Run the crawl to its end in this process; return ``report.json``'s content."""
    from scrapy.crawler import CrawlerProcess
    from scrapy.settings import Settings

    settings = Settings()
    settings.setmodule("archiver.settings", priority="project")
    settings.set("ARCHIVER_OUT_DIR", str(job.out), priority="cmdline")
    settings.set("LOG_FILE", str(job.out / "crawl.log"), priority="cmdline")
    settings.setdict(job.settings, priority="cmdline")
    process = CrawlerProcess(settings)
    process.crawl(job.spider, **job.spider_args)
    process.start()
    report_path = job.out / REPORT_FILE
    if not report_path.exists():
        raise RuntimeError(f"the crawl wrote no {REPORT_FILE}; see {job.out / 'crawl.log'}")
    report: dict[str, Any] = json.loads(report_path.read_text("utf-8"))
    return report


def succeeded(report: dict[str, Any]) -> bool:
    return report.get("finish_reason") == "finished" and not report["counts"]["failures"] \
        and not report["outputs"].get("wacz_error")


def print_summary(report: dict[str, Any], out: Path, stream: IO[str] = sys.stdout) -> None:
    """A one-screen summary of a finished crawl."""
    counts, size = report["counts"], report["bytes"]
    statuses = ", ".join(f"{code}: {n}" for code, n in sorted(counts["responses_by_status"].items()))
    warcs = sorted((out / "warc").glob("*.warc.gz"))
    records = ", ".join(f"{kind} {n}" for kind, n in sorted(counts["warc_records"].items()))
    lines = [
        f"crawl {report['finish_reason']} in {report['duration_seconds']:.1f} s "
        f"({report['spider']} spider, {report['site']})",
        f"  pages      {counts['responses']} fetched ({statuses or 'none'}), {counts['retries']} retries",
        f"  articles   {counts['articles']} in {out / ARTICLES_FILE}"
        + (f" ({counts['dropped']} dropped)" if counts["dropped"] else ""),
        f"  failures   {counts['failures']}"
        + (f" (see {out / FAILURES_FILE})" if counts["failures"] else ""),
        f"  WARC       {len(warcs)} file(s), {size['warc'] / 1e6:.1f} MB in {out / 'warc'} ({records})",
        f"  received   {size['received'] / 1e6:.1f} MB",
        f"  indexes    {out / 'indexes'}",
    ]
    wacz = report["outputs"].get("wacz")
    if wacz:
        lines.append(f"  WACZ       {out / wacz}")
    elif report["outputs"].get("wacz_error"):
        lines.append(f"  WACZ       not built: {report['outputs']['wacz_error']}")
    lines.append(f"  report     {out / REPORT_FILE}, log {out / 'crawl.log'}")
    stream.write("\n".join(lines) + "\n")
