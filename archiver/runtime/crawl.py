"""Run one crawl in this process and sum it up (``archiver crawl`` and ``archiver demo``)."""

from __future__ import annotations

import json
import logging
import re
import shutil
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from archiver.addon import ARTICLES_FILE, CHANGES_FILE, FAILURES_FILE, REPORT_FILE
from archiver.requisites.middleware import FAILURES_FILE as REQUISITE_FAILURES_FILE
from archiver.runtime.diskfull import is_disk_full
from archiver.runtime.packaging import WACZ_FILE
from archiver.runtime.state import STATE_FILE, CrawlState
from archiver.warc.index import cdxj_path_for, write_cdxj
from archiver.warc.writer import repair_open_files

if TYPE_CHECKING:
    from scrapy.settings import Settings

logger = logging.getLogger(__name__)

#: outputs of one run, moved to ``runs/<started>/`` when the next (incremental) run starts;
#: ``articles.jsonl`` (the current dataset of every run) stays
RUN_OUTPUTS = (CHANGES_FILE, REPORT_FILE, FAILURES_FILE, WACZ_FILE, "crawl.log", REQUISITE_FAILURES_FILE)
#: everything a crawl keeps in its folder (``--overwrite`` removes exactly these)
OUTPUTS = ("warc", "indexes", "runs", STATE_FILE, ARTICLES_FILE, *RUN_OUTPUTS)


@dataclass
class CrawlJob:
    spider: str
    out: Path
    spider_args: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)


def prepare_output(
    out: Path, overwrite: bool, resume: bool = False, state: Path | None = None
) -> Path | None:
    """Make ``out`` ready for a run.

    A folder holding an earlier run gets an incremental run: the earlier run's own outputs
    (changes.jsonl, report.json, ...) move to ``runs/<its start time>/``, which is returned;
    WARC files, indexes, the crawl state and the dataset (articles.jsonl) stay. The dataset is
    first brought up to date with the earlier run's changes when that run did not do it itself
    (killed), and a folder of the older layout (each run's own articles.jsonl) gets its dataset
    (:func:`settle_dataset`). ``overwrite`` removes every output instead.
    With ``resume``, an interrupted run (no report.json) is continued in place instead.
    Whatever the mode, WARC files a crash left open are repaired and indexed first. ``state``: the
    crawl state when it is not ``out/state.sqlite`` (``ARCHIVER_STATE_PATH``).
    """
    out.mkdir(parents=True, exist_ok=True)
    if not overwrite:
        repair_archive(out)
    if resume and interrupted(out):
        reconcile(out, state)
        return None
    if overwrite:
        for name in OUTPUTS:
            _remove(out / name)
        for leftover in out.glob(f"{STATE_FILE}-*"):  # SQLite's -wal and -shm files
            leftover.unlink()
        return None
    settle_dataset(out)
    previous = [name for name in RUN_OUTPUTS if (out / name).exists()]
    if not previous:
        return None
    archive = _free_name(out / "runs", _run_name(out))
    archive.mkdir(parents=True)
    for name in previous:
        (out / name).replace(archive / name)
    return archive


def settle_dataset(out: Path) -> None:
    """Make ``out/articles.jsonl`` the whole dataset of every run so far, before a new run starts.

    A run that finished built it (``report.json`` ``outputs.dataset``); one that was killed or
    stopped did not (or not with all its changes): its ``changes.jsonl`` is applied now (applying
    changes twice gives the same dataset). A folder written before the dataset existed holds each
    run's records in its ``articles.jsonl`` (``runs/*/articles.jsonl`` and the last one's): the
    last one becomes its ``changes.jsonl``, and the dataset is built from every run, oldest first.
    """
    from archiver.runtime.dataset import rebuild_dataset, update_dataset

    report = _read_report(out)
    if report is not None and not (out / CHANGES_FILE).exists() and (out / ARTICLES_FILE).exists() \
            and "dataset" not in report.get("outputs", {}):
        (out / ARTICLES_FILE).replace(out / CHANGES_FILE)
        runs = [*(out / "runs").glob(f"*/{ARTICLES_FILE}"), *(out / "runs").glob(f"*/{CHANGES_FILE}")]
        summary = rebuild_dataset(out, [*sorted(runs, key=lambda p: p.parent.name), out / CHANGES_FILE])
        logger.warning("%s: a folder of the older layout: its dataset %s is built from every run "
                       "(%d articles)", out, ARTICLES_FILE, summary.articles)
        return
    finished = report is not None and report.get("finish_reason") == "finished" \
        and "dataset" in report.get("outputs", {})
    if (out / CHANGES_FILE).exists() and not finished:
        update_dataset(out)


def _read_report(out: Path) -> dict[str, Any] | None:
    try:
        found = json.loads((out / REPORT_FILE).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) else None


def _run_name(out: Path) -> str:
    """The start time of the run whose outputs are in ``out``: from report.json, else the oldest
    output's modification time (a run that was killed has no report)."""
    try:
        started = str(json.loads((out / REPORT_FILE).read_text("utf-8"))["started"])
    except (OSError, ValueError, KeyError, TypeError):
        times = [(out / name).stat().st_mtime for name in RUN_OUTPUTS if (out / name).exists()]
        started = datetime.fromtimestamp(min(times, default=0), UTC).isoformat()
    # report.json is a file in the folder, not trusted input: the name it gives runs/ keeps letters
    # and digits only, so "../" or "/" in it cannot move outputs out of the folder (docs/reliability.md)
    return re.sub(r"[^0-9A-Za-z]", "", started[:19]) or "run"


def _free_name(parent: Path, name: str) -> Path:
    """``parent/name``, or ``parent/name-2``, ``-3``... when taken: never mix two runs' outputs."""
    candidate, number = parent / name, 1
    while candidate.exists():
        number += 1
        candidate = parent / f"{name}-{number}"
    return candidate


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def crawl_settings(job: CrawlJob) -> Settings:
    """The settings the crawl of ``job`` runs with (also read by the checks before it starts)."""
    from scrapy.settings import Settings

    settings = Settings()
    settings.setmodule("archiver.settings", priority="project")
    settings.set("ARCHIVER_OUT_DIR", str(job.out), priority="cmdline")
    settings.set("LOG_FILE", str(job.out / "crawl.log"), priority="cmdline")
    settings.setdict(job.settings, priority="cmdline")
    return settings


class CrawlNotStarted(RuntimeError):
    """The crawl process ended before the crawl began: a signal while Scrapy was starting up."""


def run(job: CrawlJob) -> dict[str, Any]:
    """Run the crawl to its end in this process; return ``report.json``'s content."""
    from scrapy import signals
    from scrapy.crawler import CrawlerProcess

    process = CrawlerProcess(crawl_settings(job))
    crawler = process.create_crawler(job.spider)
    # the crawler installs its log file handler when it starts: patch it once the engine runs
    crawler.signals.connect(_quiet_log_file_on_full_disk, signal=signals.engine_started)
    errors: list[BaseException] = []

    def keep(failure: Any) -> None:  # the crawl could not start (e.g. no room for its state)
        errors.append(failure.value)

    done: Any = process.crawl(crawler, **job.spider_args)
    done.addErrback(keep)
    process.start()
    if errors:
        raise errors[0]  # a full disk: archiver crawl says "the disk is full ... --resume"
    from archiver.extensions.report import CrawlReport

    try:
        extension = crawler.get_extension(CrawlReport)
    except RuntimeError:  # the crawler did not get as far as its extensions
        extension = None
    if extension is not None and extension.report is not None:  # also when report.json did not fit
        return extension.report
    report_path = job.out / REPORT_FILE
    if not report_path.exists():  # stopped (SIGINT, SIGTERM) before its engine and extensions ran
        raise CrawlNotStarted(f"the crawl stopped before it started (nothing fetched, no {REPORT_FILE}; "
                              f"see {job.out / 'crawl.log'})")
    report: dict[str, Any] = json.loads(report_path.read_text("utf-8"))
    return report


def _quiet_log_file_on_full_disk() -> None:
    """``crawl.log`` on a full disk: drop the lines that cannot be written (logging would print a
    traceback to stderr for each of them); the crawl stops with ``disk_full`` by itself."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.FileHandler):
            report_error = handler.handleError

            def handle_error(record: logging.LogRecord, report_error: Any = report_error) -> None:
                if not is_disk_full(sys.exc_info()[1]):
                    report_error(record)

            handler.handleError = handle_error  # type: ignore[method-assign]


def succeeded(report: dict[str, Any]) -> bool:
    return report.get("finish_reason") == "finished" and not report["counts"]["failures"] \
        and not report["outputs"].get("wacz_error")


def exit_code(report: dict[str, Any]) -> int:
    """``archiver crawl``'s exit code: 0 nothing failed, 1 something did (or the crawl stopped
    early), ``EXIT_REFUSED`` (4) the site refused the crawl (archiver/downloadermiddlewares/refusals.py)."""
    from archiver.downloadermiddlewares.refusals import EXIT_REFUSED

    if report.get("refused"):
        return EXIT_REFUSED
    return 0 if succeeded(report) else 1


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
        f"  articles   {counts['articles']} new, updated or gone in {out / CHANGES_FILE}"
        + (f" ({counts['dropped']} dropped)" if counts["dropped"] else ""),
        *_dataset_line(report, out),
        f"  failures   {counts['failures']}"
        + (f" (see {out / FAILURES_FILE})" if counts["failures"] else ""),
        f"  WARC       {len(warcs)} file(s), {size['warc'] / 1e6:.1f} MB in {out / 'warc'} ({records})",
        f"  received   {size['received'] / 1e6:.1f} MB",
        f"  indexes    {out / 'indexes'}",
    ]
    requisites = _requisites_line(report.get("requisites"), out)
    if requisites:
        lines.insert(3, requisites)
    harvested = _harvest_line(report.get("stats", {}))
    if harvested:
        lines.insert(1, harvested)
    wacz = report["outputs"].get("wacz")
    if wacz:
        lines.append(f"  WACZ       {out / wacz}")
    elif report["outputs"].get("wacz_error"):
        lines.append(f"  WACZ       not built: {report['outputs']['wacz_error']}")
    fallback = report.get("stats", {}).get("archiver/extract/inline_fallback")
    if fallback:  # archiver/runtime/extractpool.py
        lines.append(f"  extraction in the crawl process: {fallback}")
    written = not report["outputs"].get("report_error")
    lines.append(f"  report     {out / REPORT_FILE if written else 'not written: the disk is full'}, "
                 f"log {out / 'crawl.log'}")
    if report["finish_reason"] == "disk_full":
        lines.append("  STOPPED    the disk is full: free some space, then run the same command "
                     "with --resume")
    elif report.get("refused"):
        from archiver.downloadermiddlewares.refusals import summary_lines

        lines.extend(summary_lines(report["refused"]))
    elif report["finish_reason"] == "unreachable":  # a harvest's archive (spiders/harvest.py)
        why = report.get("stats", {}).get("archiver/harvest/unreachable") or "the archive cannot be reached"
        lines.append(f"  STOPPED    {why}: check --archive and that the archive is up, then run the "
                     "same command with --resume")
    elif report["finish_reason"] in {"shutdown", "cancelled", "closespider_timeout"}:
        reason = report["finish_reason"]
        lines.append(f"  STOPPED    ({reason}): run the same command with --resume to go on")
    stream.write("\n".join(lines) + "\n")


def _requisites_line(requisites: dict[str, Any] | None, out: Path) -> str:
    """``requisites N asked: A archived, R as revisits (M not modified), K failed`` (page requisites,
    apart from articles; the words of report.json's ``requisites``: archived is a new payload)."""
    if not requisites or not requisites.get("requested"):
        return ""
    line = (f"  requisites {requisites['requested']} asked: {requisites['archived']} archived, "
            f"{requisites['revisits']} as revisits ({requisites['not_modified']} not modified), "
            f"{requisites['failed']} failed")
    if requisites.get("failures"):
        line += f" (see {out / requisites['failures']})"
    return line


def _dataset_line(report: dict[str, Any], out: Path) -> list[str]:
    dataset = report["outputs"].get("dataset")
    if not isinstance(dataset, dict):
        return []
    return [f"  dataset    {dataset['articles']} articles ({dataset['gone']} gone from the site) "
            f"in {out / ARTICLES_FILE}"]


def _harvest_line(stats: dict[str, Any]) -> str:
    """``captures listed / chosen / fetched`` of a harvest (archiver harvest), else ""."""
    if "archiver/harvest/listed" not in stats:
        return ""
    return (f"  captures   {stats.get('archiver/harvest/listed', 0)} listed, "
            f"{stats.get('archiver/harvest/chosen', 0)} chosen, {stats.get('archiver/harvest/fetched', 0)} "
            f"fetched ({stats.get('archiver/harvest/archived', 0)} archived under their original URL)")


def interrupted(out: Path) -> bool:
    """Whether ``out`` holds a run that did not finish: killed (outputs but no report.json) or
    stopped early (disk full, shutdown: report.json with another finish reason)."""
    started = (out / CHANGES_FILE).exists() or any((out / "warc").glob("*.warc.gz*"))
    if not started:
        return False
    try:
        return bool(json.loads((out / REPORT_FILE).read_text("utf-8"))["finish_reason"] != "finished")
    except FileNotFoundError:
        return True
    except (OSError, ValueError, KeyError):
        return True


def repair_archive(out: Path) -> list[Path]:
    """Close WARC files a crash left ``.open`` and index every WARC file that has no CDXJ yet."""
    warc_dir = out / "warc"
    if not warc_dir.is_dir():
        return []
    repaired = repair_open_files(warc_dir)
    for path in repaired:
        logger.warning("repaired %s (cut after its last complete record)", path)
    for path in sorted(warc_dir.glob("*.warc.gz")):
        if not cdxj_path_for(path, out / "indexes").exists():
            write_cdxj(path, out / "indexes")
    return repaired


def _complete_lines(path: Path) -> list[str]:
    """The complete lines of a JSON Lines file; a line cut by a crash is removed from the file."""
    if not path.exists():
        return []
    data = path.read_bytes()
    end = data.rfind(b"\n") + 1
    if end < len(data):
        logger.warning("%s: removing a line cut short by the interruption", path)
        with path.open("r+b") as fh:
            fh.truncate(end)
    return data[:end].decode("utf-8", errors="replace").splitlines()


def _urls(lines: list[str]) -> set[str]:
    urls = set()
    for line in lines:
        try:
            urls.add(json.loads(line)["url"])
        except (ValueError, KeyError, TypeError):
            continue
    return urls


def _drop_failures_of(path: Path, urls: set[str]) -> None:
    """Remove the lines of ``urls`` from failures.jsonl (atomically: a new file replaces it)."""
    lines = _complete_lines(path)
    kept = [line for line in lines if not _urls([line]) & urls]
    if len(kept) == len(lines):
        return
    tmp = path.with_name(path.name + ".part")
    tmp.write_text("".join(line + "\n" for line in kept), "utf-8")
    tmp.replace(path)
    logger.warning("resuming: %d failure(s) of articles asked again removed from %s",
                   len(lines) - len(kept), path.name)


def reconcile(out: Path, state_file: Path | None = None) -> None:
    """Before resuming: every article the interrupted run asked for that is neither in
    changes.jsonl nor in failures.jsonl (never answered, or its line was still buffered when the
    process died) is asked again in full and counts as new content. Articles that were unchanged
    in an interrupted incremental run may so be written again as ``new``: nothing is lost."""
    path = state_file or out / STATE_FILE
    if not path.exists():
        return
    state = CrawlState(path)
    try:
        # refused articles (archiver/downloadermiddlewares/refusals.py) failed without being finished:
        # asked again now, so their failure lines go (an article is never in both files)
        _drop_failures_of(out / FAILURES_FILE, {url for url, kind, _ in state.pending() if kind == "article"})
        done = _urls(_complete_lines(out / CHANGES_FILE)) | _urls(_complete_lines(out / FAILURES_FILE))
        articles = [(url, finished) for url, finished in state.frontier_articles_finished()
                    if url not in done]
        missing = [url for url, finished in articles if finished]
        state.reopen(missing)
        # the unfinished too: the state may hold an answer whose record died with the process
        state.forget_content([url for url, _ in articles])
    finally:
        state.close()
    if missing:
        logger.warning("resuming: %d finished article(s) missing from %s and %s (their lines were lost "
                       "with the process) are asked again", len(missing), CHANGES_FILE, FAILURES_FILE)
    unfinished = len(articles) - len(missing)
    if unfinished:
        logger.info("resuming: %d article(s) the interrupted run did not finish (still queued, in "
                    "flight or refused) are asked again", unfinished)
