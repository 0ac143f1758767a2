"""Crawl speed: the archiver's full pipeline vs a bare Scrapy spider, same replica, same machine.

    .venv/bin/python -m benchmarks.crawl [--articles 3000] [--runs 3]

Alternates (a) benchmarks/bare_spider.py, which only downloads the pages, and (b) `archiver crawl`
(WARC + extraction + pipelines + feed + CDXJ), ``--runs`` times each, against one replica, and
prints pages/s (min/median/max, from each crawl's own elapsed time, start-up excluded) and the
ratio of the medians. Target: ratio >= 0.75. One warm-up run of (a) comes first.

Also alternated, for transparency: (a2) the same bare spider with ``CONCURRENT_ITEMS=1``, the one
engine setting the archiver changes for speed (Scrapy's default of 100 starts 100 asyncio tasks
per callback, a large share of a bare spider's CPU). The ratio (b)/(a2) says how much the
archiver's own work costs once that is set aside (docs/performance.md).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from archiver.replica.process import replica

HERE = Path(__file__).resolve().parent
SAME = ["-s", "CONCURRENT_REQUESTS=16", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16", "-s", "LOG_LEVEL=WARNING"]


def bare(site: str, work: Path, *extra: str) -> float:
    stats = work / "bare.json"
    subprocess.run([sys.executable, "-m", "scrapy", "runspider", str(HERE / "bare_spider.py"), "-a",
                    f"site={site}", "-a", f"stats={stats}", "-s", "TELNETCONSOLE_ENABLED=False", *SAME,
                    *extra],
                   check=True, cwd=work, capture_output=True)
    data = json.loads(stats.read_text())
    return data["pages"] / data["seconds"]


def full(site: str, work: Path, run: int) -> float:
    out = work / f"full{run}"
    subprocess.run([sys.executable, "-m", "archiver", "crawl", "--site", site, "--out", str(out),
                    "--progress", "0", "--no-wacz", "-s", "AUTOTHROTTLE_ENABLED=False", "-s",
                    "DOWNLOAD_DELAY=0", *SAME], check=True, capture_output=True)
    report = json.loads((out / "report.json").read_text())
    return float(report["stats"]["response_received_count"] / report["stats"]["elapsed_time_seconds"])


def summary(name: str, rates: list[float]) -> str:
    return (f"{name:28} min {min(rates):7.1f}  median {statistics.median(rates):7.1f}  "
            f"max {max(rates):7.1f} pages/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=3000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    bare_rates: list[float] = []
    tuned_rates: list[float] = []
    full_rates: list[float] = []
    with tempfile.TemporaryDirectory() as tmp, replica("--articles", str(args.articles), "--seed", "5",
                                                       "--crawl-delay", "0") as site:
        work = Path(tmp)
        bare(site.base, work)  # warm-up
        for run in range(args.runs):
            bare_rates.append(bare(site.base, work))
            full_rates.append(full(site.base, work, run))
            tuned_rates.append(bare(site.base, work, "-s", "CONCURRENT_ITEMS=1"))
    print(f"crawl of a {args.articles}-article replica, {args.runs} alternating runs each")
    print(summary("(a) bare Scrapy download", bare_rates))
    print(summary("(a2) bare, CONCURRENT_ITEMS=1", tuned_rates))
    print(summary("(b) archiver full pipeline", full_rates))
    ratio = statistics.median(full_rates) / statistics.median(bare_rates)
    print(f"ratio (b)/(a) of medians: {ratio:.2f} (target >= 0.75)")
    tuned = statistics.median(full_rates) / statistics.median(tuned_rates)
    print(f"ratio (b)/(a2) of medians: {tuned:.2f} (the archiver's own work, engine setting aside)")


if __name__ == "__main__":
    main()
