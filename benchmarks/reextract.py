"""Re-extraction speed and memory: pages/s per core, peak RSS at two archive sizes, and the ratio
to lxml's parse.

Run on demand (not in CI)::

    python -m benchmarks.reextract                      # 1,000 and 10,000 archived articles
    python -m benchmarks.reextract --sizes 1000 --jobs 2
    python -m benchmarks.reextract --work /tmp/bench-reextract   # keep the crawls, reuse them
    python -m benchmarks.reextract --sizes 1000 --ratio-only     # the floor ratio alone

**The floor ratio** (issue 21; target >= 0.5): articles/s of the whole command
``python -m archiver reextract --jobs 1 CRAWL --out DIR`` (a fresh process: start-up, reading the
WARC, extraction, pipelines, every output), divided by pages/s of one ``lxml.html.fromstring`` per
page over the same pages (every page re-extraction parses: articles and listings, bodies already
decoded, in memory), both measured in the same run on the smallest size. Any lxml-based extractor
parses each page at least once, so 1.0 is out of reach; it is printed by wall clock and by
CPU-second (the command's and its children's, against this process's: the ratio to read on a
loaded machine).

**The skeleton** (:mod:`benchmarks.reextract_skeleton`, also a fresh process, printed after the
ratio): the same reading of the WARC, decoding, parse and outputs with no extraction logic at all.
Its floor ratio is the most an extractor could reach with these readers and outputs, and the benchmark
prints what the 0.5 target leaves extraction and cleaning, CPU-ms an article, beside what they take.

For each size the replica is crawled once into a temporary folder (no WACZ), then
``archiver reextract`` runs in a fresh process with 1 worker and with ``--jobs`` workers; its
``reextract.json`` gives the pages/s and the peak RSS of the parent and of the largest worker.
Printed: pages/s per core (wall clock), pages per CPU-second (parent + workers: the per-core rate
even when other jobs share the machine), peak memory, the memory ratio between the largest and the
smallest size (flat = about 1.0), and the ratio of re-extraction to extraction alone (the same
pages already in memory: what the WARC reading, pool and output cost on top), both per
CPU-second. Targets: ≥ 300 pages/s per core, memory flat, floor ratio ≥ 0.5. Numbers go in
``docs/performance.md`` (the table) and ``docs/datasets.md``.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archiver.offline.commands import default_jobs
from archiver.replica.process import replica

CRAWL_OPTIONS = [
    "--progress", "0", "--no-wacz", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0",
    "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16", "-s", "LOG_LEVEL=WARNING",
]
REEXTRACT = (
    "import sys; from pathlib import Path; "
    "from archiver.offline.reextract import reextract; "
    "from archiver.offline.sources import resolve_inputs; "
    "out = Path(sys.argv[2]); out.mkdir(parents=True); "
    "reextract(resolve_inputs([Path(sys.argv[1])]), out, jobs=int(sys.argv[3]))"
)


@dataclass
class Run:
    size: int
    jobs: int
    report: dict[str, Any]
    cpu_seconds: float

    @property
    def per_cpu_second(self) -> float:
        """Pages per CPU-second (parent + workers): the per-core rate, even on a busy machine."""
        return self.report["counts"].get("pages", 0) / self.cpu_seconds if self.cpu_seconds else 0.0

    @property
    def per_core(self) -> float:
        return float(self.report["pages_per_second_per_core"])

    @property
    def peak_mb(self) -> float:
        return float(max(self.report["peak_rss_mb"].values()))


def crawl(size: int, folder: Path) -> Path:
    out = folder / f"crawl-{size}"
    if (out / "report.json").exists():
        return out  # kept from an earlier run (--work)
    with replica("--articles", str(size), "--seed", "5", "--crawl-delay", "0", timeout=120) as site:
        started = time.monotonic()
        subprocess.run([sys.executable, "-m", "archiver", "crawl", "--site", site.base, "--out", str(out),
                        *CRAWL_OPTIONS], check=True, capture_output=True, text=True)
    print(f"crawled {size} articles in {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
    return out


def reextract(archive: Path, folder: Path, jobs: int) -> tuple[dict[str, Any], float]:
    """``reextract.json`` of a run in a fresh process, and the CPU seconds it and its workers used."""
    out = folder / f"reextract-{archive.name}-{jobs}"
    shutil.rmtree(out, ignore_errors=True)
    before = _children_cpu()
    subprocess.run([sys.executable, "-c", REEXTRACT, str(archive), str(out), str(jobs)], check=True)
    cpu = _children_cpu() - before
    report: dict[str, Any] = json.loads((out / "reextract.json").read_text("utf-8"))
    return report, cpu


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # waited-for descendants: the pool's workers too
    return usage.ru_utime + usage.ru_stime


@dataclass
class CommandRun:
    """``archiver reextract --jobs 1`` as a user runs it: articles, wall seconds, CPU seconds."""

    articles: int
    seconds: float
    cpu_seconds: float


def reextract_command(archive: Path, folder: Path) -> CommandRun:
    """The whole command in a fresh process (start-up and every output included)."""
    out = folder / f"command-{archive.name}"
    shutil.rmtree(out, ignore_errors=True)
    before = _children_cpu()
    started = time.monotonic()
    command = [sys.executable, "-m", "archiver", "reextract", "--jobs", "1", str(archive), "--out", str(out)]
    subprocess.run(command, check=True, capture_output=True)
    seconds = time.monotonic() - started
    cpu = _children_cpu() - before
    report = json.loads((out / "reextract.json").read_text("utf-8"))
    return CommandRun(int(report["articles"]), seconds, cpu)


def skeleton_command(archive: Path, folder: Path) -> CommandRun:
    """:mod:`benchmarks.reextract_skeleton` in a fresh process: the same reading, parsing and outputs
    as the command, with no extraction logic (what is left of the 0.5 target for extraction)."""
    out = folder / f"skeleton-{archive.name}"
    shutil.rmtree(out, ignore_errors=True)
    before = _children_cpu()
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "benchmarks.reextract_skeleton", str(archive), str(out)],
                          check=True, capture_output=True, text=True)
    seconds = time.monotonic() - started
    cpu = _children_cpu() - before
    return CommandRun(int(json.loads(done.stdout)["articles"]), seconds, cpu)


def lxml_floor(archive: Path) -> tuple[float, float]:
    """(pages/s by wall clock, pages per CPU-second) of one ``lxml.html.fromstring`` per page."""
    import lxml.html

    bodies = [page.body for page in archived_pages(archive)]
    started, cpu = time.monotonic(), time.process_time()
    for body in bodies:
        lxml.html.fromstring(body)
    seconds, cpu = time.monotonic() - started, time.process_time() - cpu
    return len(bodies) / seconds, len(bodies) / cpu


def print_ratio(command: CommandRun, floor: tuple[float, float], skeleton: CommandRun | None = None) -> None:
    wall = command.articles / command.seconds
    per_cpu = command.articles / command.cpu_seconds
    print(f"archiver reextract --jobs 1 (whole command): {command.articles} articles in "
          f"{command.seconds:.1f} s ({command.cpu_seconds:.1f} CPU-s): {wall:.1f} articles/s, "
          f"{per_cpu:.1f} per CPU-second")
    print(f"lxml.html.fromstring floor, same pages: {floor[0]:.1f} pages/s, "
          f"{floor[1]:.1f} per CPU-second")
    print(f"floor ratio: {wall / floor[0]:.2f} by wall clock, {per_cpu / floor[1]:.2f} by CPU-second "
          "(target >= 0.5)")
    if skeleton is None or not skeleton.articles:
        return
    skeleton_per_cpu = skeleton.articles / skeleton.cpu_seconds
    # at 0.5 the command may spend 1 / (0.5 x floor) CPU-seconds an article, the skeleton's share included
    allowed = 1000 / (0.5 * floor[1])
    budget = allowed - 1000 / skeleton_per_cpu
    spent = 1000 / per_cpu - 1000 / skeleton_per_cpu
    skeleton_wall = skeleton.articles / skeleton.seconds
    print(f"skeleton (the same reading, parse and outputs, no extraction logic): {skeleton.articles} "
          f"articles in {skeleton.cpu_seconds:.1f} CPU-s: floor ratio {skeleton_wall / floor[0]:.2f} "
          f"by wall clock, {skeleton_per_cpu / floor[1]:.2f} by CPU-second")
    print(f"extraction and cleaning: {spent:.2f} CPU-ms an article; the 0.5 target leaves them "
          f"{budget:.2f} CPU-ms an article")


def archived_pages(archive: Path) -> list[Any]:
    """Every page of the archive re-extraction reads (articles and listings), decoded, in memory."""
    from archiver.offline.members import Member, MemberReader, MemberWalk, WarcSource
    from archiver.offline.pages import ArchivedPage, archived_page, is_page_candidate, parse_record

    pages: list[ArchivedPage] = []
    for path in sorted((archive / "warc").glob("*.warc.gz")):
        source = WarcSource.file(path)
        with source.open() as stream:
            for member in MemberWalk(MemberReader(stream, source), 0, source.size, exact=True):
                if not isinstance(member, Member):
                    continue
                record = parse_record(member.data)
                if is_page_candidate(record):
                    pages.append(archived_page(source, member, record))
    return pages


def extraction_alone(archive: Path) -> float:
    """Pages per CPU-second of extract_article + the pipelines on the same pages, already in memory
    (every page of the archive: the same mix of articles and listings as re-extraction reads)."""
    from archiver.extract import extract_article
    from pipelines.chain import PipelineChain

    pages = archived_pages(archive)
    chain = PipelineChain.build()
    started = time.process_time()
    for page in pages:
        item = extract_article(page.url, page.body, page.headers, page.fetched_at)
        if item is not None:
            chain.process(item)
    return len(pages) / (time.process_time() - started)


def print_table(runs: list[Run], alone: float) -> None:
    print(f"{'articles':>8} {'pages':>6} {'jobs':>4} {'seconds':>8} {'pages/s':>8} {'per core':>8} "
          f"{'pages/CPU-s':>11} {'RSS parent MB':>13} {'RSS worker MB':>13}")
    for run in runs:
        r = run.report
        print(f"{run.size:>8} {r['counts'].get('pages', 0):>6} {run.jobs:>4} {r['duration_seconds']:>8.1f} "
              f"{r['pages_per_second']:>8.1f} {run.per_core:>8.1f} {run.per_cpu_second:>11.1f} "
              f"{r['peak_rss_mb']['parent']:>13.1f} {r['peak_rss_mb']['worker_max']:>13.1f}")
    sizes = sorted({run.size for run in runs})
    if len(sizes) > 1:
        small = max(r.peak_mb for r in runs if r.size == sizes[0])
        large = max(r.peak_mb for r in runs if r.size == sizes[-1])
        print(f"peak memory {sizes[-1]}/{sizes[0]} articles: {large / small:.2f} (flat = 1.0)")
    best = max(run.per_cpu_second for run in runs)
    print(f"extraction alone (in memory): {alone:.1f} pages per CPU-second; re-extraction / extraction "
          f"alone: {best / alone if alone else 0:.2f}")
    print(f"target >= 300 pages/s per core: best {best:.1f} pages per CPU-second "
          f"({best / 300:.2f}x the target)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", default="1000,10000",
                        help="archive sizes in articles (default: 1000,10000)")
    parser.add_argument("--jobs", type=int, default=default_jobs(), help="workers of the multi-core run")
    parser.add_argument("--work", type=Path, help="keep the crawls in this folder and reuse them next time "
                        "(default: a temporary folder)")
    parser.add_argument("--ratio-only", action="store_true",
                        help="only the floor ratio (whole command vs lxml's parse) on the first size")
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",")]
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="bench-reextract-") as tmp:
        folder = args.work or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for size in sizes[:1] if args.ratio_only else sizes:
            archive = crawl(size, folder)
            if args.ratio_only:
                break
            for jobs in dict.fromkeys((1, args.jobs)):
                runs.append(Run(size, jobs, *reextract(archive, folder, jobs)))
        smallest = folder / f"crawl-{sizes[0]}"
        command = reextract_command(smallest, folder)
        skeleton = skeleton_command(smallest, folder)
        # last: they hold the pages in this process, and Linux keeps a process's peak RSS across
        # fork + exec, so a re-extraction started after them would report this process's peak as its own
        floor = lxml_floor(smallest)
        alone = 0.0 if args.ratio_only else extraction_alone(smallest)
    if runs:
        print_table(runs, alone)
    print_ratio(command, floor, skeleton)
    return 0


if __name__ == "__main__":
    sys.exit(main())
