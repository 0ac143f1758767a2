"""Harvest speed: ``archiver harvest`` from a local pywb vs pywb serving the same captures to a bare client.

    .venv/bin/python -m benchmarks.harvest [--captures 2000] [--runs 3] [--concurrency 8] [-s NAME=VALUE ...]
    .venv/bin/python -m benchmarks.harvest --work /tmp/bench-harvest   # keep the collection, reuse it

Builds once (cached under ``--work``) a pywb collection of ``--captures`` replica articles rendered
under their defense.gov URLs (one capture each, one WARC file, ``wb-manager add``), starts pywb
(``wayback``, from its tool venv ``.venv/tools/pywb``) on a free port of 127.0.0.1, then alternates
``--runs`` times:

- (a) a bare Scrapy spider (benchmarks/bare_capture_spider.py) fetching the same ``id_`` URLs the
  harvest fetches, same concurrency, nothing else done with them;
- (a2) a bare threaded client (``http.client``, one keep-alive connection per thread, as many
  threads as the concurrency): how fast pywb itself serves them to the lightest client;
- (b) the whole ``archiver harvest --archive <collection> --out DIR --no-wacz`` command, timed from
  its start to its exit (start-up, CDX listing, fetching, WARC, extraction, pipelines, outputs),
  with the archive's politeness delay set to 0: ``-s ARCHIVER_HARVEST_DELAY=0`` (no delay, no
  AutoThrottle), ``-s ARCHIVER_HARVEST_CONCURRENCY=<concurrency>``.

Printed per run: captures/s and CPU milliseconds a capture of the client (the harvest with its
extraction workers) and of pywb; then the ratios of the medians (who is the limit: near 1, pywb;
well below 1, the archiver), and for each client the rate its CPU per capture (client + pywb) would
allow on the machine's cores if nothing else ran (a shared machine's wall-clock rates vary with its
load; CPU per capture does not). Target: (b) >= 100 captures/s on this machine (issue 21). pywb is
one gevent process (one core at most): its CPU per capture says how close to that it was.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from archiver.harvest.pywb import build_collection, wayback_process

HERE = Path(__file__).resolve().parent
COLLECTION = "bench"
SITE = "https://www.defense.gov"
#: CPU ticks per second of /proc/<pid>/stat
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Run:
    name: str
    captures: int
    seconds: float
    client_cpu: float
    pywb_cpu: float

    @property
    def rate(self) -> float:
        return self.captures / self.seconds if self.seconds else 0.0

    @property
    def ms_per_capture(self) -> float:
        """CPU milliseconds per capture, client + pywb: what bounds the rate on a busy machine."""
        return 1000 * (self.client_cpu + self.pywb_cpu) / self.captures if self.captures else 0.0


def build(root: Path, count: int) -> Path:
    """The pywb root holding collection ``bench`` of ``count`` article captures (built once)."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    from archiver.replica.corpus import Corpus, CorpusOptions
    from archiver.replica.render import ArticleRenderer

    done = root / "built.json"
    if done.exists() and json.loads(done.read_text()).get("captures") == count:
        return root
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    started = time.monotonic()
    corpus = Corpus(CorpusOptions(seed=5, articles=count))
    warc = root / "source" / "bench.warc.gz"
    warc.parent.mkdir()
    with warc.open("wb") as stream:
        writer = WARCWriter(stream, gzip=True, warc_version="1.1")
        for k in range(count):
            article = corpus.article(k)
            body = ArticleRenderer(article, SITE).html().encode()
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                                               ("Content-Length", str(len(body)))], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(
                SITE + article.head.path, "response", payload=io.BytesIO(body), http_headers=http,
                warc_headers_dict={"WARC-Date": article.head.published.strftime("%Y-%m-%dT%H:%M:%SZ")}))
    build_collection(root, COLLECTION, [warc])
    done.write_text(json.dumps({"captures": count}))
    print(f"built a pywb collection of {count} captures in {time.monotonic() - started:.0f} s",
          file=sys.stderr, flush=True)
    return root


@contextmanager
def pywb(root: Path) -> Iterator[tuple[str, int]]:
    """``wayback`` over ``root`` on a free port; yields (collection URL, pid)."""
    with wayback_process(root) as (base, proc):
        yield f"{base}/{COLLECTION}", proc.pid


def cpu_of(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far (/proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def capture_urls(collection: str, path: Path) -> int:
    """The ``id_`` URL of every capture of the collection (from its CDX API) into ``path``."""
    query = f"{collection}/cdx?url=defense.gov/news/&matchType=prefix&output=json"
    with urllib.request.urlopen(query, timeout=60) as answer:
        rows = [json.loads(line) for line in answer.read().splitlines() if line.strip()]
    path.write_text("".join(f"{collection}/{row['timestamp']}id_/{row['url']}\n" for row in rows))
    return len(rows)


def bare_spider(urls: Path, work: Path, concurrency: int, pywb_pid: int) -> Run:
    stats = work / "bare.json"
    cpu, server = children_cpu(), cpu_of(pywb_pid)
    subprocess.run([sys.executable, "-m", "scrapy", "runspider", str(HERE / "bare_capture_spider.py"),
                    "-a", f"urls={urls}", "-a", f"stats={stats}", "-s", "TELNETCONSOLE_ENABLED=False",
                    "-s", f"CONCURRENT_REQUESTS={concurrency}",
                    "-s", f"CONCURRENT_REQUESTS_PER_DOMAIN={concurrency}", "-s", "LOG_LEVEL=WARNING"],
                   check=True, cwd=work, capture_output=True)
    data = json.loads(stats.read_text())
    return Run("bare Scrapy", data["captures"], data["seconds"], children_cpu() - cpu,
               cpu_of(pywb_pid) - server)


def bare_threads(urls: Path, concurrency: int, pywb_pid: int) -> Run:
    """Every URL fetched by ``concurrency`` threads, one keep-alive connection each."""
    todo = urls.read_text().split()
    lock = threading.Lock()
    ok = [0]

    def worker() -> None:
        parts = urlsplit(todo[0])
        connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=60)
        while True:
            with lock:
                if not todo:
                    break
                url = todo.pop()
            target = urlsplit(url)
            connection.request("GET", target.path + (f"?{target.query}" if target.query else ""))
            answer = connection.getresponse()
            answer.read()
            if answer.status == 200:
                with lock:
                    ok[0] += 1
        connection.close()

    cpu, server = time.process_time(), cpu_of(pywb_pid)
    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Run("bare threads", ok[0], time.monotonic() - started, time.process_time() - cpu,
               cpu_of(pywb_pid) - server)


def harvest(collection: str, work: Path, run: int, concurrency: int, pywb_pid: int, *extra: str) -> Run:
    out = work / f"harvest{run}"
    shutil.rmtree(out, ignore_errors=True)
    cpu, server = children_cpu(), cpu_of(pywb_pid)
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "archiver", "harvest", "--archive", collection, "--out", str(out),
                    "--progress", "0", "--no-wacz", "-s", "ARCHIVER_HARVEST_DELAY=0",
                    "-s", f"ARCHIVER_HARVEST_CONCURRENCY={concurrency}", "-s", "LOG_LEVEL=WARNING", *extra],
                   check=True, capture_output=True)
    seconds = time.monotonic() - started
    stats = json.loads((out / "report.json").read_text())["stats"]
    return Run("archiver harvest", int(stats.get("archiver/harvest/archived", 0)), seconds,
               children_cpu() - cpu, cpu_of(pywb_pid) - server)


def line(run: Run) -> str:
    per = 1000 / run.captures if run.captures else 0.0
    return (f"  {run.name:17} {run.captures:6d} captures in {run.seconds:6.1f} s: {run.rate:7.1f} captures/s"
            f"  (CPU ms a capture: client {run.client_cpu * per:5.2f}, pywb {run.pywb_cpu * per:5.2f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--captures", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8,
                        help="connections to pywb (ARCHIVER_HARVEST_CONCURRENCY, the bare clients')")
    parser.add_argument("--work", type=Path, help="keep the pywb collection here and reuse it")
    parser.add_argument("-s", dest="settings", action="append", default=[], metavar="NAME=VALUE",
                        help="a setting for the archiver's harvests, e.g. WARC_GZIP_LEVEL=6")
    args = parser.parse_args()
    extra = [arg for setting in args.settings for arg in ("-s", setting)]
    with tempfile.TemporaryDirectory() as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        root = build(work / f"pywb-{args.captures}", args.captures)
        runs: dict[str, list[Run]] = {"bare Scrapy": [], "bare threads": [], "archiver harvest": []}
        with pywb(root) as (collection, pid):
            urls = work / "urls.txt"
            listed = capture_urls(collection, urls)
            bare_threads(urls, args.concurrency, pid)  # warm-up: pywb's index and WARC in the page cache
            for run in range(args.runs):
                for result in (bare_spider(urls, work, args.concurrency, pid),
                               bare_threads(urls, args.concurrency, pid),
                               harvest(collection, work, run, args.concurrency, pid, *extra)):
                    runs[result.name].append(result)
                    print(f"run {run + 1}: {line(result)}", file=sys.stderr, flush=True)
    print(f"harvest of a {listed}-capture local pywb collection, concurrency {args.concurrency}, "
          f"{args.runs} alternating runs each")
    for name, results in runs.items():
        for result in results:
            print(line(result))
        rates = [r.rate for r in results]
        print(f"  {name:17} min {min(rates):7.1f}  median {statistics.median(rates):7.1f}  "
              f"max {max(rates):7.1f} captures/s")
    cores = os.cpu_count() or 1
    for name, results in runs.items():
        ms = statistics.median(r.ms_per_capture for r in results)
        print(f"  {name:17} CPU-bound ceiling on {cores} idle cores: {1000 * cores / ms:7.1f} captures/s "
              f"(median {ms:.2f} CPU ms a capture, client + pywb)")
    harvest_rate = statistics.median(r.rate for r in runs["archiver harvest"])
    for name in ("bare Scrapy", "bare threads"):
        ratio = harvest_rate / statistics.median(r.rate for r in runs[name])
        print(f"ratio harvest/{name} of medians: {ratio:.2f}")
    print(f"archiver harvest: {harvest_rate:.1f} captures/s (median; target >= 100)")


if __name__ == "__main__":
    main()
