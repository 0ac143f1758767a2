"""Peak memory of the full pipeline (WARC + extraction + pipelines + feed + CDXJ) by crawl size.

    .venv/bin/python -m benchmarks.memory [--articles 10000 50000]

For each size, starts a replica of that many articles, crawls it in full with ``archiver crawl``
(fast settings, no WACZ) and samples the resident memory of the crawl's process tree (the crawl
and its extraction worker; not the replica) every 0.2 s from ``/proc`` (Linux). Prints per size:
the crawl process's own peak (Scrapy's ``memusage/max``, its ``ru_maxrss``), the extraction
worker's peak, the peak of their sum, pages and wall time, then the ratio of the largest size's
peak to the smallest's. Targets: <= 250 MB, and 50k within 10 % of 10k (nothing kept per article
beyond the duplicate filter). A 10k crawl takes ~4 min here, 50k ~20 min (the replica renders each
page once).

    .venv/bin/python -m benchmarks.memory --dataset 10000 100000 [--articles]

The crawl's last step, building the current dataset (``articles.jsonl`` = the previous dataset
merged with the run's ``changes.jsonl``, archiver/runtime/dataset.py), is measured on its own too, since a
crawl of 100k articles takes hours here: for each size, a synthetic previous dataset of that many
articles (bodies of ~4 KB) and a run's changes (10 % updated, 1 % new, 1 % gone) are built into a new
dataset in a fresh process, whose ``ru_maxrss`` is printed. Target: flat (100k within 10 % of 10k).
Without ``--articles`` given, ``--dataset`` measures the build only.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from archiver.replica.process import replica

FAST = ["-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0", "-s", "CONCURRENT_REQUESTS=16",
        "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16", "-s", "LOG_LEVEL=WARNING",
        "-s", "MEMUSAGE_CHECK_INTERVAL_SECONDS=1", "--progress", "0", "--no-wacz"]
MB = 1024 * 1024


@dataclass
class Peak:
    articles: int
    pages: int
    seconds: float
    crawl: int  # bytes: the crawl process's peak RSS (memusage/max)
    worker: int  # bytes: the largest peak RSS of its other processes (extraction worker)
    tree: int  # bytes: the peak of the process tree's summed RSS


def rss(pid: int) -> int:
    """Resident set size of ``pid`` in bytes (0 once it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return 0
    return 0


def descendants(pid: int) -> list[int]:
    found, queue = [], [pid]
    while queue:
        parent = queue.pop()
        try:
            children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
        except OSError:
            continue
        found += [int(c) for c in children]
        queue += [int(c) for c in children]
    return found


def crawl(site: str, out: Path, articles: int) -> Peak:
    started = time.monotonic()
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen([sys.executable, "-m", "archiver", "crawl", "--site", site, "--out", str(out),
                                 *FAST], stdout=subprocess.DEVNULL, stderr=errors)
        tree = worker = 0
        while proc.poll() is None:
            others = [rss(child) for child in descendants(proc.pid)]
            tree = max(tree, rss(proc.pid) + sum(others))
            worker = max([worker, *others])
            time.sleep(0.2)
        if proc.returncode != 0:
            errors.seek(0)
            raise SystemExit(f"crawl failed ({proc.returncode}): {errors.read().decode()[-3000:]}")
    stats = json.loads((out / "report.json").read_text())["stats"]
    return Peak(articles, stats["response_received_count"], time.monotonic() - started,
                int(stats["memusage/max"]), worker, tree)


_BUILD = """
import json, resource, sys, time
from pathlib import Path
from archiver.runtime.dataset import update_dataset
started = time.monotonic()
summary = update_dataset(Path(sys.argv[1]))
print(json.dumps({"articles": summary.articles, "seconds": time.monotonic() - started,
                  "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def synthetic_folder(folder: Path, articles: int) -> None:
    """``articles.jsonl`` of ``articles`` records (shuffled ids, as a dataset is ordered by id only
    once built) and a ``changes.jsonl`` of 10 % updates, 1 % new and 1 % gone."""
    import random

    rng = random.Random(articles)
    body = "Paragraph of a synthetic article body. " * 100

    def record(number: int, change: str, text: str, when: str) -> str:
        return json.dumps({"url": f"https://www.defense.gov/News/Article/Article/{number}/",
                           "article_id": str(number), "title": f"Article {number}", "body": text,
                           "fetched_at": when, "change": change})

    folder.mkdir(parents=True)
    ids = list(range(1_000_000, 1_000_000 + articles))
    rng.shuffle(ids)
    with (folder / "articles.jsonl").open("w", encoding="utf-8") as out:
        out.writelines(record(i, "new", body, "2026-01-01T00:00:00Z") + "\n" for i in ids)
    with (folder / "changes.jsonl").open("w", encoding="utf-8") as out:
        for i in ids[: articles // 10]:
            out.write(record(i, "updated", body + " Edited.", "2026-01-02T00:00:00Z") + "\n")
        for i in range(2_000_000, 2_000_000 + articles // 100):
            out.write(record(i, "new", body, "2026-01-02T00:00:00Z") + "\n")
        for i in ids[-(articles // 100):]:
            gone = json.loads(record(i, "gone", body, "2026-01-01T00:00:00Z"))
            out.write(json.dumps({**gone, "gone_since": "2026-01-02T00:00:00Z"}) + "\n")


def dataset_build(articles: int) -> dict[str, float]:
    """Peak memory of one dataset build over a synthetic folder, in a fresh process."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "out"
        synthetic_folder(folder, articles)
        done = subprocess.run([sys.executable, "-c", _BUILD, str(folder)], capture_output=True, text=True,
                              check=True)
        found: dict[str, float] = json.loads(done.stdout)
    return found


def dataset_main(sizes: list[int]) -> None:
    results = [dataset_build(size) for size in sizes]
    print("peak resident memory of the dataset build (previous articles.jsonl + changes.jsonl)")
    print(f"{'articles':>9}{'built':>9}{'wall s':>8}{'peak MB':>9}")
    for size, result in zip(sizes, results, strict=True):
        peak = result["maxrss_kb"] / 1024
        print(f"{size:>9}{int(result['articles']):>9}{result['seconds']:>8.1f}{peak:>9.1f}")
    if len(results) > 1:
        ratio = results[-1]["maxrss_kb"] / results[0]["maxrss_kb"]
        print(f"{sizes[-1]} vs {sizes[0]}: {ratio:.3f}x (target <= 1.10)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, nargs="+", default=None)
    parser.add_argument("--dataset", type=int, nargs="+", default=None, metavar="ARTICLES",
                        help="measure the dataset build at these sizes (e.g. 10000 100000)")
    args = parser.parse_args()
    if args.dataset:
        dataset_main(args.dataset)
        if args.articles is None:
            return
    crawl_main(args.articles or [10_000, 50_000])


def crawl_main(sizes: list[int]) -> None:
    peaks = []
    for articles in sizes:
        with tempfile.TemporaryDirectory() as tmp, replica("--articles", str(articles), "--seed", "4",
                                                           "--crawl-delay", "0") as site:
            peaks.append(crawl(site.base, Path(tmp) / "out", articles))
        print(f"  {articles} articles done in {peaks[-1].seconds:.0f} s: crawl {peaks[-1].crawl / MB:.1f} MB,"
              f" sum {peaks[-1].tree / MB:.1f} MB", file=sys.stderr, flush=True)
    print("peak resident memory of the full pipeline (crawl process + extraction worker)")
    print(f"{'articles':>9}{'pages':>8}{'wall s':>8}{'crawl MB':>10}{'worker MB':>11}{'sum MB':>8}")
    for p in peaks:
        print(f"{p.articles:>9}{p.pages:>8}{p.seconds:>8.0f}{p.crawl / MB:>10.1f}{p.worker / MB:>11.1f}"
              f"{p.tree / MB:>8.1f}")
    if len(peaks) > 1:
        first, last = peaks[0], peaks[-1]
        print(f"{last.articles} vs {first.articles}: crawl process {last.crawl / first.crawl:.3f}x, "
              f"sum {last.tree / first.tree:.3f}x (target <= 1.10; <= 250 MB)")


if __name__ == "__main__":
    main()
