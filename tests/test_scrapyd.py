"""Scheduled crawls through a real Scrapyd: deploy the project with scrapyd-deploy, schedule, finish."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from archiver.replica.process import RunningReplica
from tests.harness import free_port

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parent.parent


def call(url: str, data: list[tuple[str, str]] | None = None) -> dict:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    with urllib.request.urlopen(url, data=body, timeout=30) as response:
        return json.loads(response.read())


@pytest.fixture(scope="module")
def scrapyd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("scrapyd")
    port = free_port()
    (home / "scrapyd.conf").write_text(
        "[scrapyd]\nbind_address = 127.0.0.1\n"
        f"http_port = {port}\neggs_dir = {home}/eggs\nlogs_dir = {home}/logs\n"
        f"items_dir = {home}/items\ndbs_dir = {home}/dbs\nmax_proc = 2\npoll_interval = 0.5\n")
    proc = subprocess.Popen([str(BIN / "scrapyd")], cwd=home, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(100):
            try:
                if call(url + "daemonstatus.json")["status"] == "ok":
                    break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("scrapyd did not start")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_deploy_schedule_and_finish(scrapyd: str, replica300: RunningReplica, tmp_path: Path) -> None:
    deploy = subprocess.run([str(BIN / "scrapyd-deploy"), "env"], cwd=ROOT, capture_output=True, text=True,
                            timeout=300, env={**os.environ, "SCRAPYD_URL": scrapyd})
    assert deploy.returncode == 0, deploy.stdout + deploy.stderr
    spiders = call(scrapyd + "listspiders.json?project=archiver")["spiders"]
    assert spiders == ["harvest", "ids", "rss", "sections", "sitemap"]
    out = tmp_path / "out"
    job = call(scrapyd + "schedule.json", [
        ("project", "archiver"), ("spider", "sections"), ("site", replica300.base),
        ("sections", "advisories"), ("setting", f"ARCHIVER_OUT_DIR={out}"),
        ("setting", "AUTOTHROTTLE_ENABLED=False"), ("setting", "DOWNLOAD_DELAY=0")])
    assert job["status"] == "ok"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        jobs = call(scrapyd + "listjobs.json?project=archiver")
        if any(j["id"] == job["jobid"] for j in jobs["finished"]):
            break
        time.sleep(0.5)
    else:
        pytest.fail("the Scrapyd job did not finish")
    advisories = [r for r in replica300.truth() if r["content_type"] == "advisory"]
    lines = (out / "articles.jsonl").read_text().splitlines()
    assert sorted(json.loads(line)["url"] for line in lines) == sorted(r["url"] for r in advisories)
    warcs = list((out / "warc").glob("*.warc.gz"))
    assert warcs
    check = subprocess.run([str(BIN / "warcio"), "check", *map(str, warcs)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout
    assert json.loads((out / "report.json").read_text())["counts"]["failures"] == 0
