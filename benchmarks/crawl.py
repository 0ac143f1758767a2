"""Crawl speed and CPU: the archiver's default crawl vs a bare Scrapy spider, same replica, same machine.

    .venv/bin/python -m benchmarks.crawl [--articles 2000] [--runs 3] [-s NAME=VALUE ...]

Runs `archiver crawl` once to warm the replica up (it renders each page once) and to learn which
requisites the archiver fetches, then alternates, ``--runs`` times each, against that replica:

- (a) benchmarks/bare_spider.py: the listings and articles only (Scrapy's default settings plus
  the same concurrency);
- (ar) the same bare spider, also fetching the URLs of the requisites the warm-up crawl archived
  (the same downloads as (b): stylesheets, scripts, fonts and the ~1.3 images a page displays:
  ~3,000 responses on top of ~2,200 pages at 2,000 articles);
- (b) `archiver crawl` as a user runs it: WARC + page requisites + extraction workers + pipelines +
  feed + CDXJ + dataset + WACZ;
- (c) `archiver crawl --no-requisites`: the same pages as (a).

For each it prints responses/s (min/median/max, each crawl's responses over its own elapsed time:
start-up and the end-of-crawl outputs excluded) and CPU ms per response, summed over the whole
process tree (the crawl, its extraction workers, the WACZ builder: start-up and end included),
then ratios of the medians. Targets (issue 21): (b)/(ar) >= 0.75 in responses/s and <= 2 in CPU
per response, the default crawl against a bare spider downloading the same URLs. (c)/(a) is the
same comparison without requisites, and (b) per page of the site (its requisites charged to the
pages that need them) against (a) says what archiving a page with what it displays costs.

Also alternated, for transparency: (a2) the same bare spider with ``CONCURRENT_ITEMS=1``, the one
engine setting the archiver changes for speed (Scrapy's default of 100 starts 100 asyncio tasks
per callback, a large share of a bare spider's CPU). The ratios against (a2) say how much the
archiver's own work costs once that is set aside (docs/performance.md).

CPU is read twice for each crawl and the larger kept: ``resource.getrusage(RUSAGE_CHILDREN)``
around the crawl's subprocess (every descendant that was waited for), and the per-process
``utime + stime`` of ``/proc/<pid>/stat`` of every process of the tree, sampled every 0.1 s (a
descendant its parent never waited for).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from archiver.replica.process import replica

HERE = Path(__file__).resolve().parent
SAME = ["-s", "CONCURRENT_REQUESTS=16", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16", "-s", "LOG_LEVEL=WARNING"]
TICK = os.sysconf("SC_CLK_TCK")


@dataclass
class Run:
    pages: int  # responses received
    rate: float  # pages/s over the crawl's own elapsed time
    cpu: float  # CPU seconds of the whole process tree

    @property
    def cpu_ms(self) -> float:
        return 1000 * self.cpu / self.pages


def _own_cpu(pid: int) -> float:
    """utime + stime of ``pid`` itself, in seconds (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def _tree(pid: int) -> list[int]:
    found, queue = [pid], [pid]
    while queue:
        parent = queue.pop()
        try:
            children = [int(c) for c in Path(f"/proc/{parent}/task/{parent}/children").read_text().split()]
        except OSError:
            continue
        found += children
        queue += children
    return found


def measured(command: list[str], cwd: Path | None = None) -> float:
    """Run ``command`` to its end; the CPU seconds of its whole process tree."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    last: dict[int, float] = {}
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=errors)
        while proc.poll() is None:
            for pid in _tree(proc.pid):
                last[pid] = max(last.get(pid, 0.0), _own_cpu(pid))
            time.sleep(0.1)
        if proc.returncode != 0:
            errors.seek(0)
            raise SystemExit(f"{command[:4]} failed ({proc.returncode}): {errors.read().decode()[-3000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    waited = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return max(waited, sum(last.values()))


def bare(site: str, work: Path, *extra: str) -> Run:
    stats = work / "bare.json"
    cpu = measured([sys.executable, "-m", "scrapy", "runspider", str(HERE / "bare_spider.py"), "-a",
                    f"site={site}", "-a", f"stats={stats}", "-s", "TELNETCONSOLE_ENABLED=False", *SAME,
                    *extra], cwd=work)
    data = json.loads(stats.read_text())
    return Run(data["pages"], data["pages"] / data["seconds"], cpu)


def full(site: str, work: Path, name: str, *extra: str) -> Run:
    out = work / name
    cpu = measured([sys.executable, "-m", "archiver", "crawl", "--site", site, "--out", str(out),
                    "--progress", "0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0", *SAME,
                    *extra])
    stats = json.loads((out / "report.json").read_text())["stats"]
    pages = int(stats["response_received_count"])
    return Run(pages, pages / float(stats["elapsed_time_seconds"]), cpu)


def requisite_urls(out: Path, target: Path) -> Path:
    """The URLs of the requisites an archiver crawl in ``out`` archived (non-HTML responses of its
    CDXJ: stylesheets, scripts, fonts, images; robots.txt and the sitemap too), one a line."""
    urls = []
    for index in sorted((out / "indexes").glob("*.cdxj")):
        for line in index.read_text().splitlines():
            fields = json.loads(line.split(" ", 2)[2])
            if not fields.get("mime", "").startswith("text/html") and fields.get("status") != "-":
                urls.append(fields["url"])
    target.write_text("\n".join(dict.fromkeys(urls)) + "\n")
    return target


def summary(name: str, runs: list[Run]) -> str:
    rates = [r.rate for r in runs]
    cpu = [r.cpu_ms for r in runs]
    return (f"{name:36} responses/s min {min(rates):6.1f} median {statistics.median(rates):6.1f} "
            f"max {max(rates):6.1f} | CPU ms/response median {statistics.median(cpu):5.2f} "
            f"({' '.join(f'{c:.2f}' for c in cpu)}) | responses {runs[0].pages}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("-s", dest="settings", action="append", default=[], metavar="NAME=VALUE",
                        help="a setting for the archiver's crawls (b) and (c), e.g. WARC_GZIP_LEVEL=6")
    args = parser.parse_args()
    archiver_settings = [arg for setting in args.settings for arg in ("-s", setting)]
    runs: dict[str, list[Run]] = {"a": [], "ar": [], "a2": [], "b": [], "c": []}
    with tempfile.TemporaryDirectory() as tmp, replica("--articles", str(args.articles), "--seed", "5",
                                                       "--crawl-delay", "0") as site:
        work = Path(tmp)
        full(site.base, work, "warm-up")  # the replica renders each page once; what (ar) fetches
        extra = requisite_urls(work / "warm-up", work / "requisites.txt")
        for run in range(args.runs):
            runs["a"].append(bare(site.base, work))
            runs["ar"].append(bare(site.base, work, "-a", f"extra={extra}"))
            runs["b"].append(full(site.base, work, f"full{run}", *archiver_settings))
            runs["a2"].append(bare(site.base, work, "-s", "CONCURRENT_ITEMS=1"))
            runs["c"].append(full(site.base, work, f"pages{run}", "--no-requisites", *archiver_settings))
    print(f"crawl of a {args.articles}-article replica, {args.runs} alternating runs each")
    print(summary("(a) bare Scrapy, pages only", runs["a"]))
    print(summary("(ar) bare, pages + (b)'s requisites", runs["ar"]))
    print(summary("(a2) bare, CONCURRENT_ITEMS=1", runs["a2"]))
    print(summary("(b) archiver crawl (default)", runs["b"]))
    print(summary("(c) archiver crawl --no-requisites", runs["c"]))

    def median(key: str, attr: str) -> float:
        return statistics.median(getattr(r, attr) for r in runs[key])

    for pair, baseline in (("b", "ar"), ("c", "a"), ("b", "a"), ("c", "a2")):
        speed = median(pair, "rate") / median(baseline, "rate")
        cpu = median(pair, "cpu_ms") / median(baseline, "cpu_ms")
        target = " (targets: >= 0.75, <= 2.00)" if (pair, baseline) == ("b", "ar") else ""
        print(f"({pair})/({baseline}) of medians: responses/s {speed:.2f}, CPU ms/response {cpu:.2f}{target}")
    pages = median("a", "pages")
    site_rate = statistics.median(r.rate * pages / r.pages for r in runs["b"])
    site_cpu = statistics.median(r.cpu * 1000 / pages for r in runs["b"])
    print(f"(b) per page of the site ({pages:.0f} pages, its requisites' downloads and CPU charged to them): "
          f"{site_rate:.1f} pages/s, {site_cpu:.2f} CPU ms/page; against (a): pages/s "
          f"{site_rate / median('a', 'rate'):.2f}, CPU {site_cpu / median('a', 'cpu_ms'):.2f}")


if __name__ == "__main__":
    main()
