"""Incremental crawl benchmark: run 2 vs run 1 on an unchanged replica (bytes and wall time).

    .venv/bin/python -m benchmarks.incremental [--articles 10000]

Crawls the replica into a fresh folder (run 1), restarts the replica on the same port with the
same seed (nothing changed), crawls again into the same folder (run 2, incremental) and prints
the bytes received and wall time of each run and their ratios. Target: run 2 <= 10 % of run 1's
bytes.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from archiver.replica.process import replica

FAST = ["-s", "AUTOTHROTTLE_ENABLED=False", "-s", "DOWNLOAD_DELAY=0", "-s",
        "CONCURRENT_REQUESTS_PER_DOMAIN=16", "--progress", "0", "--no-wacz"]


def crawl(site: str, out: Path) -> dict:
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "archiver", "crawl", "--site", site, "--out", str(out),
                             *FAST], capture_output=True, text=True, check=False)
    wall = time.monotonic() - started
    if result.returncode != 0:
        raise SystemExit(f"crawl failed ({result.returncode}):\n{result.stdout}\n{result.stderr[-3000:]}")
    report = json.loads((out / "report.json").read_text())
    return {"wall": wall, "bytes": report["bytes"]["received"], "responses": report["counts"]["responses"],
            "changes": report["counts"]["changes"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        site_args = ("--articles", str(args.articles), "--seed", "3", "--crawl-delay", "0")
        with replica(*site_args) as site:
            first = crawl(site.base, out)
            port = str(site.port)
        with replica("--port", port, *site_args) as site:
            second = crawl(site.base, out)
    print(f"incremental crawl, unchanged replica of {args.articles} articles")
    print(f"{'':8}{'responses':>10}{'MB received':>13}{'wall s':>9}")
    for name, run in (("run 1", first), ("run 2", second)):
        print(f"{name:8}{run['responses']:>10}{run['bytes'] / 1e6:>13.2f}{run['wall']:>9.1f}")
    print(f"run 2 / run 1: bytes {second['bytes'] / first['bytes']:.3f} (target <= 0.10), "
          f"wall time {second['wall'] / first['wall']:.3f}")
    print(f"run 2 changes: {second['changes']}")


if __name__ == "__main__":
    main()
