"""One current dataset in the crawl folder across nightly runs (issue 17).

Run 1 crawls a 60-article replica; run 2 crawls it again unchanged; run 3 (``--full``) crawls it
after edits, new articles and removals. After each run ``articles.jsonl`` holds every article once
with its latest text (checked against the replica's ``--dump-truth``), removed ones flagged
``gone_since``; ``changes.jsonl`` lists exactly that run's changes; export and stats count the whole
dataset; ``archiver reextract`` over the folder's WARCs rebuilds ``articles.jsonl`` byte for byte.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from archiver.replica.process import replica
from archiver.runtime.dataset import sort_key
from tests.harness import archiver, crawl, jsonl

ARTICLES = 60
MUTATED_PERCENT = 20
NEW = 5
GONE = 3
SITE = ("--articles", str(ARTICLES), "--seed", "17", "--crawl-delay", "0")


def _snapshot(out: Path, run: subprocess.CompletedProcess[str], truth: list[dict], work: Path) -> dict:
    """What the tests check after one run, taken before the next run changes the folder."""
    assert run.returncode == 0, run.stdout + run.stderr
    export = work / "export.jsonl"
    exported = archiver("export", str(out), "--format", "jsonl", "--output", str(export))
    assert exported.returncode == 0, exported.stdout + exported.stderr
    stats = archiver("stats", str(out), "--json")
    assert stats.returncode == 0, stats.stderr
    rebuilt = work / "reextract"
    redone = archiver("reextract", str(out), "--out", str(rebuilt), "--jobs", "1")
    assert redone.returncode == 0, redone.stdout + redone.stderr
    return {
        "dataset_bytes": (out / "articles.jsonl").read_bytes(),
        "dataset": jsonl(out / "articles.jsonl"),
        "changes": jsonl(out / "changes.jsonl"),
        "truth": {r["article_id"]: r for r in truth},
        "exported": len(jsonl(export)),
        "stats": json.loads(stats.stdout),
        "reextracted": (rebuilt / "articles.jsonl").read_bytes(),
    }


@pytest.fixture(scope="module", params=["404", "redirect"])
def nights(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    """The three nights; the removed articles answer 404, or redirect to a 404 (``--gone-mode``)."""
    base = tmp_path_factory.mktemp(f"dataset-{request.param}")
    out = base / "out"
    snapshots = []
    with replica(*SITE, truth_dir=base) as site:
        port = str(site.port)
        truth1 = site.truth()
        snapshots.append(_snapshot(out, crawl(out, site.base), truth1, base / "1"))
        snapshots.append(_snapshot(out, crawl(out, site.base), truth1, base / "2"))
    changed = base / "changed"
    changed.mkdir()
    with replica(*SITE, "--port", port, "--mutate", str(MUTATED_PERCENT), "--new", str(NEW),
                 "--gone", str(GONE), "--gone-mode", request.param, truth_dir=changed) as site:
        snapshots.append(_snapshot(out, crawl(out, site.base, "--full"), site.truth(), base / "3"))
    snapshots[-1]["out"] = out
    return snapshots


def _by_id(records: list[dict]) -> dict[str, dict]:
    return {r["article_id"]: r for r in records}


def test_every_article_is_in_the_dataset_once_in_id_order(nights: list[dict]) -> None:
    for night in nights:
        keys = [sort_key(r) for r in night["dataset"]]
        assert keys == sorted(set(keys))


def test_the_dataset_holds_the_latest_text_of_every_article(nights: list[dict]) -> None:
    first_truth = nights[0]["truth"]
    for night in nights:
        dataset, truth = _by_id(night["dataset"]), night["truth"]
        removed = first_truth.keys() - truth.keys()
        assert dataset.keys() == truth.keys() | removed
        for article_id, expected in truth.items():
            assert (dataset[article_id]["title"], dataset[article_id]["body"]) == \
                (expected["title"], expected["body"])
            assert "gone_since" not in dataset[article_id]


def test_removed_articles_stay_flagged_with_their_last_version(nights: list[dict]) -> None:
    first_truth, last = nights[0]["truth"], nights[-1]
    removed = first_truth.keys() - last["truth"].keys()
    assert len(removed) == GONE
    dataset = _by_id(last["dataset"])
    for article_id in removed:
        record = dataset[article_id]
        assert record["change"] == "gone"
        assert record["gone_since"] > record["fetched_at"]
        assert record["body"] == first_truth[article_id]["body"]


def test_changes_list_exactly_each_runs_changes(nights: list[dict]) -> None:
    first, quiet, changed = nights
    assert {r["article_id"]: r["change"] for r in first["changes"]} == dict.fromkeys(first["truth"], "new")
    assert quiet["changes"] == []
    before, after = first["truth"], changed["truth"]
    expected = {i: "new" for i in after.keys() - before.keys()}
    expected |= {i: "updated" for i in after.keys() & before.keys() if after[i]["body"] != before[i]["body"]}
    expected |= dict.fromkeys(before.keys() - after.keys(), "gone")
    assert len(expected) == NEW + round(ARTICLES * MUTATED_PERCENT / 100) + GONE
    assert {r["article_id"]: r["change"] for r in changed["changes"]} == expected
    assert len(changed["changes"]) == len(expected)


def test_a_quiet_night_leaves_the_dataset_as_it_was(nights: list[dict]) -> None:
    assert nights[1]["dataset_bytes"] == nights[0]["dataset_bytes"]


def test_export_and_stats_count_the_whole_dataset(nights: list[dict]) -> None:
    for night in nights:
        assert night["exported"] == len(night["dataset"])
        assert night["stats"]["articles"] == len(night["dataset"])


def test_reextract_rebuilds_the_dataset_byte_for_byte(nights: list[dict]) -> None:
    for night in nights:
        assert night["reextracted"] == night["dataset_bytes"]


def test_the_folder_verifies_as_a_dataset(nights: list[dict]) -> None:
    result = archiver("verify", str(nights[-1]["out"]))
    assert result.returncode == 0, result.stdout


def test_an_updated_articles_versions_are_listed_with_their_capture_times(nights: list[dict]) -> None:
    first, last = nights[0], nights[-1]
    [updated] = [r for r in last["changes"] if r["change"] == "updated"][:1]
    result = archiver("versions", str(last["out"]), updated["article_id"], "--jsonl")
    assert result.returncode == 0, result.stderr
    versions = [json.loads(line) for line in result.stdout.splitlines()]
    assert [v["change"] for v in versions] == ["new", "updated"]
    assert versions[0]["body"] == first["truth"][updated["article_id"]]["body"]
    assert versions[1]["body"] == _by_id(last["dataset"])[updated["article_id"]]["body"]
    assert versions[0]["fetched_at"] < versions[1]["fetched_at"]
    table = archiver("versions", str(last["out"]), updated["article_id"])
    assert f"2 version(s) of article {updated['article_id']}" in table.stdout


def test_export_changes_writes_one_runs_changes(nights: list[dict], tmp_path: Path) -> None:
    out = nights[-1]["out"]
    last = tmp_path / "last.jsonl"
    result = archiver("export", str(out), "--format", "jsonl", "--changes", "--output", str(last))
    assert result.returncode == 0, result.stderr
    assert [r["article_id"] for r in jsonl(last)] == [r["article_id"] for r in nights[-1]["changes"]]
    first_run = sorted(p.parent.name for p in (out / "runs").glob("*/changes.jsonl"))[0]
    earlier = tmp_path / "first.jsonl"
    result = archiver("export", str(out), "--format", "jsonl", "--changes", first_run,
                       "--output", str(earlier))
    assert result.returncode == 0, result.stderr
    assert len(jsonl(earlier)) == ARTICLES
    assert "one run's changes only" in (tmp_path / "DATASET.md").read_text("utf-8")


def test_parquet_partitioned_by_year_loads_with_pyarrow(nights: list[dict], tmp_path: Path) -> None:
    ds = pytest.importorskip("pyarrow.dataset")
    out, dataset = nights[-1]["out"], nights[-1]["dataset"]
    folder = tmp_path / "articles"
    result = archiver("export", str(out), "--format", "parquet", "--partition-by", "year",
                       "--output", str(folder))
    assert result.returncode == 0, result.stderr
    years = {r["published"][:4] for r in dataset}
    assert {p.name for p in folder.iterdir()} == {f"year={y}" for y in years}
    table = ds.dataset(folder, format="parquet", partitioning="hive").to_table()
    assert sorted(table.column("article_id").to_pylist()) == sorted(r["article_id"] for r in dataset)
    gone = {r["article_id"] for r in dataset if r.get("gone_since")}
    flagged = {row["article_id"] for row in table.to_pylist() if row["gone_since"] is not None}
    assert flagged == gone
    card = (tmp_path / "DATASET.md").read_text("utf-8")
    assert "| markup era | articles |" in card
    assert f"{len(gone)} removed from the live site" in card


def test_the_cards_loading_code_runs(nights: list[dict], tmp_path: Path) -> None:
    """The card's pyarrow code (and the ``datasets`` one, when that library is installed) loads the
    export as it is printed."""
    pytest.importorskip("pyarrow")
    from archiver.offline.card import loading_code
    from archiver.offline.export import EXPORT_FIELDS, export

    out, dataset = nights[-1]["out"], nights[-1]["dataset"]
    for partition in (None, "year"):
        target = tmp_path / str(partition) / ("articles" if partition else "articles.parquet")
        result = export(out, "parquet", list(EXPORT_FIELDS), target, partition_by=partition)
        libraries = ["pyarrow"] + (["datasets"] if _importable("datasets") else [])
        code = loading_code(result)
        for library in libraries:
            scope: dict = {}
            with _cwd(target.parent):
                exec(code[library], scope)
            loaded = scope.get("table") or scope.get("data")
            assert loaded.num_rows == len(dataset), library


def _importable(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


class _cwd:
    def __init__(self, path: Path) -> None:
        self.path, self.previous = path, Path.cwd()

    def __enter__(self) -> None:
        import os

        os.chdir(self.path)

    def __exit__(self, *_: object) -> None:
        import os

        os.chdir(self.previous)
