"""The dataset build (archiver/runtime/dataset.py) on hand-made records: keys, order, rules, atomicity."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from archiver.runtime.crawl import prepare_output
from archiver.runtime.dataset import DatasetBuilder, update_dataset


def record(article_id: str, body: str = "text", fetched_at: str = "2026-01-01T00:00:00Z",
           **extra: object) -> dict:
    return {"url": f"http://127.0.0.1/News/Article/{article_id}/", "article_id": article_id, "title": "T",
            "body": body, "fetched_at": fetched_at, "change": "new", **extra}


def write(path: Path, records: list[dict]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), "utf-8")


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


def test_numeric_ids_by_number_then_legacy_ids_then_records_without_an_id(tmp_path: Path) -> None:
    no_id = {"url": "http://x/a", "body": "b"}
    write(tmp_path / "changes.jsonl", [record("release:10242"), record("100"), no_id, record("99"),
                                       record("news:7")])
    update_dataset(tmp_path)
    assert [r.get("article_id") for r in lines(tmp_path / "articles.jsonl")] == \
        ["99", "100", "news:7", "release:10242", None]


def test_applying_the_same_changes_twice_changes_nothing(tmp_path: Path) -> None:
    write(tmp_path / "articles.jsonl", [record("1"), record("2")])
    write(tmp_path / "changes.jsonl", [record("2", "edited", "2026-02-01T00:00:00Z"), record("3"),
                                       record("1", fetched_at="2026-02-01T00:00:00Z", change="gone",
                                              gone_since="2026-02-01T00:00:01Z")])
    update_dataset(tmp_path)
    once = (tmp_path / "articles.jsonl").read_bytes()
    update_dataset(tmp_path)
    assert (tmp_path / "articles.jsonl").read_bytes() == once
    one, two, three = lines(tmp_path / "articles.jsonl")
    assert (one["change"], one["gone_since"], one["fetched_at"]) == ("gone", "2026-02-01T00:00:01Z",
                                                                      "2026-01-01T00:00:00Z")
    assert (two["change"], two["body"]) == ("updated", "edited")
    assert three["change"] == "new"


def test_an_older_capture_does_not_replace_a_newer_version(tmp_path: Path) -> None:
    write(tmp_path / "articles.jsonl", [record("1", "new text", "2026-03-01T00:00:00Z")])
    write(tmp_path / "changes.jsonl", [record("1", "old text", "2015-01-01T00:00:00Z")])  # a harvest
    update_dataset(tmp_path)
    assert lines(tmp_path / "articles.jsonl")[0]["body"] == "new text"


def test_a_later_version_brings_a_gone_article_back(tmp_path: Path) -> None:
    write(tmp_path / "articles.jsonl", [record("1", change="gone", gone_since="2026-01-02T00:00:00Z")])
    write(tmp_path / "changes.jsonl", [record("1", fetched_at="2026-01-03T00:00:00Z")])
    update_dataset(tmp_path)
    [back] = lines(tmp_path / "articles.jsonl")
    assert "gone_since" not in back
    assert back["change"] == "updated"


def test_a_capture_from_before_the_removal_keeps_the_article_gone(tmp_path: Path) -> None:
    """A web archive's capture harvested after the live crawl saw the article removed: taken while
    it was online, it is the article's last version, and the article stays gone."""
    gone = record("1", fetched_at="2026-01-01T00:00:00Z", change="gone", gone_since="2026-03-01T00:00:00Z")
    write(tmp_path / "articles.jsonl", [gone, record("2", fetched_at="2026-01-01T00:00:00Z", change="gone",
                                                     gone_since="2026-03-01T00:00:00Z")])
    archived = {"source": {"archive": "wayback"}}
    write(tmp_path / "changes.jsonl", [record("1", "edited", "2026-02-01T00:00:00Z", **archived),
                                       record("2", fetched_at="2026-02-01T00:00:00Z", **archived)])
    update_dataset(tmp_path)
    one, two = lines(tmp_path / "articles.jsonl")
    assert (one["change"], one["gone_since"], one["body"], one["fetched_at"]) == \
        ("gone", "2026-03-01T00:00:00Z", "edited", "2026-02-01T00:00:00Z")
    assert (two["change"], two["gone_since"], two["fetched_at"]) == \
        ("gone", "2026-03-01T00:00:00Z", "2026-01-01T00:00:00Z")  # the same text: the first capture


@pytest.mark.parametrize("order", ["own page first", "other page first"])
def test_the_articles_own_page_wins_over_a_page_giving_its_id(tmp_path: Path, order: str) -> None:
    """A page under another article's URL whose canonical link gives id 1 (docs/reliability.md:
    kept by the crawl, with its own text) never takes id 1's line from the page at id 1's URL,
    in either order and whichever was fetched later; the own page is then new, not updated."""
    own = record("1", "own text", "2026-01-01T00:00:02Z")
    other = {**record("1", "other text", "2026-01-01T00:00:01Z"), "url": "http://127.0.0.1/News/Article/2/"}
    write(tmp_path / "changes.jsonl", [own, other] if order == "own page first" else [other, own])
    summary = update_dataset(tmp_path)
    [kept] = lines(tmp_path / "articles.jsonl")
    assert (kept["url"], kept["body"], kept["change"]) == (own["url"], "own text", "new")
    assert (summary.applied["new"], summary.applied["other_page"]) == \
        ((1, 1) if order == "own page first" else (2, 0))
    later = {**other, "fetched_at": "2026-06-01T00:00:00Z", "body": "other text, edited"}
    write(tmp_path / "changes.jsonl", [later])  # a later night: still not the article's own page
    update_dataset(tmp_path)
    assert lines(tmp_path / "articles.jsonl") == [kept]


def test_a_build_cut_short_leaves_the_previous_dataset_whole(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "articles.jsonl", [record("1"), record("2")])
    write(tmp_path / "changes.jsonl", [record(str(n), "x") for n in range(3, 3000)])
    before = (tmp_path / "articles.jsonl").read_bytes()
    calls = {"n": 0}
    original = DatasetBuilder._put

    def put_then_die(self: DatasetBuilder, key: str, value: dict, *args: Any, **kwargs: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 2500:
            raise KeyboardInterrupt  # a stop signal in the middle of the build
        original(self, key, value, *args, **kwargs)

    monkeypatch.setattr(DatasetBuilder, "_put", put_then_die)
    with pytest.raises(KeyboardInterrupt):
        update_dataset(tmp_path)
    assert (tmp_path / "articles.jsonl").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["articles.jsonl", "changes.jsonl"]


def test_a_folder_of_the_older_layout_gets_its_dataset(tmp_path: Path) -> None:
    """Before the dataset, each run's articles.jsonl held that run's records (runs/*/ and the last)."""
    out = tmp_path / "out"
    (out / "runs" / "20260101T000000").mkdir(parents=True)
    write(out / "runs" / "20260101T000000" / "articles.jsonl", [record("1"), record("2")])
    write(out / "articles.jsonl", [record("2", "edited", "2026-01-02T00:00:00Z", change="updated")])
    (out / "report.json").write_text(json.dumps({"started": "2026-01-02T00:00:00+00:00",
                                                 "finish_reason": "finished", "outputs": {}}), "utf-8")
    archive = prepare_output(out, overwrite=False)
    assert archive is not None
    dataset = [(r["article_id"], r["body"]) for r in lines(out / "articles.jsonl")]
    assert dataset == [("1", "text"), ("2", "edited")]
    assert [r["article_id"] for r in lines(archive / "changes.jsonl")] == ["2"]  # the last run's own records
    assert (out / "runs" / "20260101T000000" / "articles.jsonl").exists()  # old run folders stay readable


def test_a_killed_runs_changes_reach_the_dataset_before_the_next_run(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    write(out / "articles.jsonl", [record("1")])
    write(out / "changes.jsonl", [record("2")])  # the run was killed: no report.json, no build
    archive = prepare_output(out, overwrite=False)
    assert [r["article_id"] for r in lines(out / "articles.jsonl")] == ["1", "2"]
    assert archive is not None
    assert (archive / "changes.jsonl").exists()
    shutil.rmtree(archive)
