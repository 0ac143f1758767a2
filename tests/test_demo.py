"""``archiver demo`` (what ``make demo`` runs): the replica started and crawled into DIR; ``--images``;
a later demo from scratch; ``--full`` / ``--resume`` going on with the crawl in DIR at its URLs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.harness import archiver, jsonl, wait_for, warcio_check

DEMO = ("demo", "--articles", "10", "--seed", "3", "--no-wacz", "--progress", "0")


def _report(out: Path) -> dict:
    report: dict = json.loads((out / "report.json").read_text("utf-8"))
    return report


def _archived_urls(out: Path) -> set[str]:
    return {json.loads(line.split(" ", 2)[2])["url"] for path in (out / "indexes").glob("*.cdxj")
            for line in path.read_text("utf-8").splitlines()}


def test_demo_with_images_then_full_goes_on_at_the_same_urls_then_starts_again(tmp_path: Path) -> None:
    out = tmp_path / "demo-out"
    first = archiver(*DEMO, "--images", "--out", str(out))
    assert first.returncode == 0, first.stderr[-3000:]
    articles = jsonl(out / "articles.jsonl")
    site = _report(out)["site"]
    assert len(articles) >= 9
    assert all(a["url"].startswith(site) for a in articles)
    photos = {image["src"] for a in articles for image in a.get("images", [])}
    assert photos
    assert photos <= _archived_urls(out)  # --images: every full-size photo archived

    again = archiver(*DEMO, "--full", "--out", str(out))
    assert again.returncode == 0, again.stderr[-3000:]
    assert _report(out)["site"] == site  # the replica at the earlier demo's port: the same URLs
    assert _report(out)["counts"]["changes"]["new"] == 0  # an incremental run: nothing new
    assert [a["article_id"] for a in jsonl(out / "articles.jsonl")] == [a["article_id"] for a in articles]

    fresh = archiver(*DEMO, "--out", str(out))
    assert fresh.returncode == 0, fresh.stderr[-3000:]
    assert not (out / "runs").exists()  # from scratch, as --overwrite
    assert _report(out)["counts"]["changes"]["new"] == len(articles)


def test_a_killed_demo_resumes_at_the_same_urls(tmp_path: Path) -> None:
    """``kill -9`` mid-demo (no report.json), then ``--resume``: the replica serves at the killed
    demo's port again (read from its WARC), so the frontier's URLs are fetched and nothing is lost."""
    out = tmp_path / "demo-out"
    args = ["demo", "--articles", "60", "--seed", "4", "--no-wacz", "--progress", "0", "--out", str(out)]
    killed = subprocess.Popen([sys.executable, "-m", "archiver", *args], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: sum(p.stat().st_size for p in (out / "warc").glob("*.warc.gz*")) > 200_000
                 if (out / "warc").exists() else False, timeout=120)
    finally:
        killed.kill()
        killed.wait()
    assert not (out / "report.json").exists()
    resumed = archiver(*args, "--resume")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    site = _report(out)["site"]
    urls = [a["url"] for a in jsonl(out / "articles.jsonl")]
    assert len(urls) >= 55
    assert all(url.startswith(site) for url in urls)
    assert not jsonl(out / "failures.jsonl", missing_ok=True)
    check = warcio_check(sorted((out / "warc").glob("*.warc.gz")))  # the killed run's WARC repaired
    assert check.returncode == 0, check.stdout[-2000:] + check.stderr[-2000:]
