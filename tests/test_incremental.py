"""Scheduled crawls: the second run fetches only what is new or changed, and says so in the archive."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from archiver.replica.process import replica
from tests.harness import crawl, jsonl, records, warc_files, warc_records
from tests.warc_helpers import assert_cdxj_is_cdxj_indexers

ARTICLES = 120


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Run 1 on a replica; run 2 (--full) on the same site after 10 % edits, 5 new and 3 removed."""
    base = tmp_path_factory.mktemp("incremental")
    out = base / "out"
    with replica("--articles", str(ARTICLES), "--seed", "9", "--crawl-delay", "0",
                 truth_dir=base) as first:
        truth1 = {r["url"]: r for r in first.truth()}
        run1 = crawl(out, first.base, "--no-wacz")  # the WACZ: tests/test_crawl.py
        port = str(first.port)
    (base / "truth.jsonl").rename(base / "truth1.jsonl")
    with replica("--port", port, "--articles", str(ARTICLES), "--seed", "9", "--crawl-delay", "0",
                 "--mutate", "10", "--new", "5", "--gone", "3", truth_dir=base) as second:
        truth2 = {r["url"]: r for r in second.truth()}
        run2 = crawl(out, second.base, "--full", "--no-wacz")
    return {"out": out, "run1": run1, "run2": run2, "truth1": truth1, "truth2": truth2}


def test_both_runs_succeed(two_runs: dict) -> None:
    for run in ("run1", "run2"):
        assert two_runs[run].returncode == 0, two_runs[run].stdout + two_runs[run].stderr
    assert "incremental run" in two_runs["run2"].stdout


def test_second_run_emits_exactly_the_new_and_edited_articles(two_runs: dict) -> None:
    truth1, truth2 = two_runs["truth1"], two_runs["truth2"]
    new = truth2.keys() - truth1.keys()
    edited = {u for u in truth1.keys() & truth2.keys() if truth1[u]["body"] != truth2[u]["body"]}
    assert len(new) == 5
    assert len(edited) == round(ARTICLES * 0.1)
    emitted = [r for r in jsonl(two_runs["out"] / "changes.jsonl") if r["change"] != "gone"]
    assert sorted(r["url"] for r in emitted) == sorted(new | edited)
    expected = {u: "new" if u in new else "updated" for u in new | edited}
    assert {r["url"]: r["change"] for r in emitted} == expected
    for record in emitted:
        assert record["body"] == truth2[record["url"]]["body"]


def test_first_run_is_kept_and_nothing_is_lost(two_runs: dict) -> None:
    out, truth1, truth2 = two_runs["out"], two_runs["truth1"], two_runs["truth2"]
    [previous] = list((out / "runs").glob("*/changes.jsonl"))
    first = jsonl(previous)
    assert sorted(r["url"] for r in first) == sorted(truth1)
    assert {r["change"] for r in first} == {"new"}
    latest = {r["url"]: r for r in jsonl(out / "articles.jsonl")}  # the dataset: every run
    assert truth2
    for url, record in truth2.items():
        assert latest[url]["body"] == record["body"]


def test_cdxj_of_revisits_made_while_writing_is_cdxj_indexers(two_runs: dict, tmp_path: Path) -> None:
    assert_cdxj_is_cdxj_indexers(two_runs["out"], tmp_path)


def test_unchanged_articles_are_revisits_that_point_at_run_1(two_runs: dict) -> None:
    out, truth1, truth2 = two_runs["out"], two_runs["truth1"], two_runs["truth2"]
    unchanged = {u for u in truth1.keys() & truth2.keys() if truth1[u]["body"] == truth2[u]["body"]}
    found = records(out)
    first_capture = {r["uri"]: r for r in found if r["type"] == "response" and r["uri"] in unchanged}
    revisits = [r for r in found if r["type"] == "revisit" and r["uri"] in unchanged]
    assert {r["uri"] for r in revisits} == unchanged
    for revisit in revisits:
        headers = revisit["headers"]
        assert headers["WARC-Profile"] == "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
        assert revisit["status"] is None  # no HTTP head: replay shows the original's (docs/warc.md)
        assert revisit["payload"] == b""
        original = first_capture[revisit["uri"]]
        assert headers["WARC-Refers-To"] == original["headers"]["WARC-Record-ID"]
        assert headers["WARC-Refers-To-Target-URI"] == revisit["uri"]
        assert headers["WARC-Refers-To-Date"] == original["headers"]["WARC-Date"]


def test_report_counts_changes(two_runs: dict) -> None:
    report = json.loads((two_runs["out"] / "report.json").read_text())
    changes = report["counts"]["changes"]
    assert changes == {"new": 5, "updated": round(ARTICLES * 0.1),
                       "unchanged": ARTICLES - round(ARTICLES * 0.1) - 3, "gone": 3}


def test_known_articles_were_asked_conditionally(two_runs: dict) -> None:
    asked = Counter()
    for _path, _iterator, record in warc_records(warc_files(two_runs["out"])):
        if record.rec_type == "request" and "/Article/" in record.rec_headers["WARC-Target-URI"]:
            asked[bool(record.http_headers.get_header("If-None-Match"))] += 1
    assert asked[True] == ARTICLES  # every article of run 1 (3 of them now gone) in run 2
    assert asked[False] == ARTICLES + 5  # run 1, and the 5 new ones


def test_paging_stops_at_a_page_of_unchanged_articles(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with replica("--articles", "150", "--seed", "4", "--crawl-delay", "0") as first:
        assert crawl(out, first.base, "--sections", "archive", "--no-wacz").returncode == 0
        port = str(first.port)
    same_site = ("--port", port, "--articles", "150", "--seed", "4", "--crawl-delay", "0")
    with replica(*same_site, "--new", "3") as second:
        result = crawl(out, second.base, "--sections", "archive", "--no-wacz")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads((out / "report.json").read_text())
    listings = [k for k in report["stats"] if k == "archiver/listing/pages/archive"]
    assert report["stats"][listings[0]] == 2  # page 1 (3 new), page 2 (all unchanged): stop
    assert report["counts"]["changes"]["new"] == 3
    assert len(jsonl(out / "changes.jsonl")) == 3
    assert len(jsonl(out / "articles.jsonl")) == 153
