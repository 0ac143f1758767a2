"""``archiver demo`` (what ``make demo`` runs): the replica started and crawled into DIR; ``--images``;
a later demo from scratch; ``--full`` / ``--resume`` going on with the crawl in DIR at its URLs."""

from __future__ import annotations

import json
from pathlib import Path

from tests.harness import archiver, jsonl

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
