"""Articles the live site removed, found by an incremental crawl: flagged gone, last record kept.

Run 1 crawls a replica; run 2 (``--full``) crawls it again after three articles were removed, in
each of the ways the real site removes them (``archiver replica --gone 3 --gone-mode``): a 404, a
410, or a redirect to the URL with ``dei`` in its slug that answers 404 (the 2025 removals).
"""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import jsonschema
import pytest

from archiver.replica.process import replica
from tests.harness import crawl, jsonl, records

ARTICLES = 60
GONE = 3
SITE = ("--articles", str(ARTICLES), "--seed", "9", "--crawl-delay", "0")
SCHEMA = json.loads((Path(__file__).parents[1] / "archiver" / "schema" / "article.schema.json").read_text())


@pytest.fixture(scope="module", params=["404", "410", "redirect"])
def removed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Run 1, then run 2 (--full) after GONE articles were removed the way ``request.param`` says."""
    base = tmp_path_factory.mktemp(f"gone-{request.param}")
    out = base / "out"
    first_truth, second_truth = base / "1", base / "2"
    first_truth.mkdir()
    second_truth.mkdir()
    with replica(*SITE, truth_dir=first_truth) as first:
        run1 = crawl(out, first.base)
        port = str(first.port)
        truth1 = {r["url"]: r for r in first.truth()}
    with replica(*SITE, "--port", port, "--gone", str(GONE), "--gone-mode", request.param,
                 truth_dir=second_truth) as second:
        run2 = crawl(out, second.base, "--full")
        truth2 = {r["url"]: r for r in second.truth()}
    [previous] = list((out / "runs").glob("*/changes.jsonl"))
    return {"mode": request.param, "out": out, "run1": run1, "run2": run2,
            "gone": sorted(truth1.keys() - truth2.keys()), "first": {r["url"]: r for r in jsonl(previous)}}


def test_a_removed_article_is_not_a_failure(removed: dict) -> None:
    assert removed["run1"].returncode == 0, removed["run1"].stdout + removed["run1"].stderr
    assert removed["run2"].returncode == 0, removed["run2"].stdout + removed["run2"].stderr
    assert len(removed["gone"]) == GONE
    assert jsonl(removed["out"] / "failures.jsonl") == []
    report = json.loads((removed["out"] / "report.json").read_text())
    assert report["counts"]["changes"]["gone"] == GONE


def test_articles_jsonl_carries_the_last_record_flagged_gone(removed: dict) -> None:
    emitted = {r["url"]: r for r in jsonl(removed["out"] / "articles.jsonl") if r.get("gone_since")}
    assert sorted(emitted) == removed["gone"]
    for url, record in emitted.items():
        jsonschema.validate(record, SCHEMA)
        assert record["change"] == "gone"
        assert datetime.fromisoformat(record["gone_since"]).tzinfo is not None
        last = removed["first"][url]
        assert {k: v for k, v in record.items() if k not in {"change", "gone_since"}} == \
            {k: v for k, v in last.items() if k != "change"}  # its warc pointer: the last capture


def test_the_state_flags_the_removed_articles(removed: dict) -> None:
    db = sqlite3.connect(removed["out"] / "state.sqlite")
    try:
        rows = db.execute("SELECT url FROM captures WHERE gone_since IS NOT NULL")
        flagged = sorted(url for (url,) in rows)
    finally:
        db.close()
    assert flagged == removed["gone"]


def test_the_removal_is_archived_and_the_folder_verifies(removed: dict) -> None:
    out = removed["out"]
    answers = [r for r in records(out) if r["type"] == "response"]
    expected = {"404": {"404"}, "410": {"410"}, "redirect": {"301", "404"}}[removed["mode"]]
    assert removed["gone"]
    for url in removed["gone"]:
        article_id = re.search(r"/Article/(\d+)/", url).group(1)  # type: ignore[union-attr]
        statuses = {r["status"] for r in answers if r["uri"] == url or f"/{article_id}/dei" in r["uri"]}
        assert expected <= statuses, (url, statuses)
    result = subprocess.run([sys.executable, "-m", "archiver", "verify", str(out)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout


def test_a_state_from_before_conversion_pointers_still_finds_the_last_record(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with replica(*SITE) as first:
        assert crawl(out, first.base, "--sections", "archive").returncode == 0
        port = str(first.port)
    db = sqlite3.connect(out / "state.sqlite")  # as an older state: only the response record's place
    with db:
        db.execute("UPDATE captures SET conversion_filename = NULL, conversion_offset = NULL, "
                   "conversion_length = NULL")
    db.close()
    with replica(*SITE, "--port", port, "--gone", str(GONE)) as second:
        result = crawl(out, second.base, "--sections", "archive", "--full")
    assert result.returncode == 0, result.stdout + result.stderr
    [previous] = [jsonl(p) for p in (out / "runs").glob("*/changes.jsonl")]
    gone = [r for r in jsonl(out / "articles.jsonl") if r.get("gone_since")]
    report = json.loads((out / "report.json").read_text())
    assert len(gone) == report["counts"]["changes"]["gone"]
    assert len(gone) == GONE
    last = {r["url"]: r for r in previous}
    for record in gone:
        assert record["body"] == last[record["url"]]["body"]
