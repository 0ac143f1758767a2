"""``archiver export`` (Parquet, CSV, JSON Lines + DATASET.md) and ``archiver stats`` against the truth."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from archiver.items import EXPORT_FIELDS
from archiver.offline.export import arrow_schema
from archiver.offline.stats import crawl_stats, section_of
from tests.test_offline_helpers import Crawl, articles, crawl_once, run_cli


@pytest.fixture(scope="module")
def crawl(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Crawl:
    return crawl_once(request.config, tmp_path_factory)


@pytest.fixture(scope="module")
def pq() -> Any:
    return pytest.importorskip("pyarrow.parquet")  # pyarrow is needed for Parquet only


@pytest.fixture(scope="module")
def parquet(crawl: Crawl, pq: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("parquet") / "articles.parquet"
    assert run_cli("export", str(crawl.out), "--format", "parquet", "--output", str(out)) == 0
    return out


def test_parquet_has_one_row_per_article(crawl: Crawl, parquet: Path, pq: Any) -> None:
    assert pq.read_table(parquet).num_rows == len(articles(crawl.out))


def test_parquet_columns_have_the_stable_schema(parquet: Path, pq: Any) -> None:
    import pyarrow as pa

    schema = pq.read_schema(parquet)
    assert schema.names == list(EXPORT_FIELDS)  # the record's fields, then gone_since
    assert schema.equals(arrow_schema(EXPORT_FIELDS))
    assert schema.field("gone_since").type == pa.timestamp("us", tz="UTC")
    assert schema.field("images").type == pa.list_(pa.struct(
        [(k, pa.string()) for k in ("src", "title", "caption", "credit", "virin", "alt")]))
    assert schema.field("fetched_at").type == pa.timestamp("us", tz="UTC")
    assert schema.field("warc").type.field("offset").type == pa.int64()


def test_parquet_values_round_trip(crawl: Crawl, parquet: Path, pq: Any) -> None:
    rows = pq.read_table(parquet).to_pylist()
    assert rows
    for row, record in zip(rows, articles(crawl.out), strict=True):
        assert row["images"] == record["images"]
        assert row["videos"] == record["videos"]
        assert row["warc"] == record["warc"]
        assert row["fetched_at"].isoformat().replace("+00:00", "Z") == record["fetched_at"]


def test_dataset_card_is_written_next_to_the_parquet(crawl: Crawl, parquet: Path) -> None:
    card = (parquet.parent / "DATASET.md").read_text("utf-8")
    counts = Counter(a["content_type"] for a in articles(crawl.out))
    assert counts
    for content_type, count in counts.items():
        assert f"| {content_type} | {count} |" in card
    assert "17 U.S.C. § 105" in card
    assert "public domain" in card
    assert f"| `articles.parquet` | parquet | {len(articles(crawl.out))} |" in card


def test_csv_flattens_lists_as_json(crawl: Crawl, tmp_path: Path) -> None:
    out = tmp_path / "a.csv"
    assert run_cli("export", str(crawl.out), "--format", "csv", "--fields", "article_id,images,historical",
                   "--output", str(out)) == 0
    with out.open(newline="", encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    records = articles(crawl.out)
    assert list(rows[0]) == ["article_id", "images", "historical"]
    assert [json.loads(r["images"]) for r in rows] == [r["images"] for r in records]
    assert {r["historical"] for r in rows} <= {"true", "false"}


def test_jsonl_keeps_the_chosen_fields_in_order(crawl: Crawl, tmp_path: Path) -> None:
    assert run_cli("export", str(crawl.out), "--format", "jsonl", "--fields", "title,url",
                   "--output", str(tmp_path / "a.jsonl")) == 0
    rows = [json.loads(line) for line in (tmp_path / "a.jsonl").read_text("utf-8").splitlines()]
    assert rows == [{"title": r["title"], "url": r["url"]} for r in articles(crawl.out)]
    assert (tmp_path / "DATASET.md").exists()


def test_unknown_field_is_a_usage_error(crawl: Crawl, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli("export", str(crawl.out), "--format", "csv", "--fields", "title,nope") == 2
    assert "unknown field(s) nope" in capsys.readouterr().err


def test_bad_format_is_a_usage_error(crawl: Crawl) -> None:
    with pytest.raises(SystemExit) as exit_info:
        run_cli("export", str(crawl.out), "--format", "xlsx")
    assert exit_info.value.code == 2


# -- stats -----------------------------------------------------------------------------------------


def test_stats_count_what_the_truth_says(crawl: Crawl) -> None:
    stats = crawl_stats(crawl.out)
    truth = crawl.truth
    assert stats.articles == len(truth)
    assert stats.by_content_type == Counter(t["content_type"] for t in truth)
    assert stats.by_year == Counter(t["published"][:4] for t in truth)
    assert stats.by_section == Counter(section_of(t["url"]) for t in truth)
    assert stats.historical == sum(t["historical"] for t in truth)
    assert stats.videos == sum(len(t["videos"]) for t in truth)


def test_stats_images_and_bytes(crawl: Crawl) -> None:
    stats = crawl_stats(crawl.out)
    assert stats.images == sum(len(t["images"]) for t in crawl.truth)
    assert stats.bytes["warc"] == sum(p.stat().st_size for p in (crawl.out / "warc").glob("*.warc.gz"))
    assert stats.failures == 0


def test_sections_come_from_the_url() -> None:
    assert section_of("https://www.defense.gov/News/Releases/Release/Article/1/x/") == "releases"
    assert section_of("https://www.defense.gov/News/NewsArticle.aspx?ID=1") == "legacy"


def test_stats_cli_prints_json(crawl: Crawl, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli("stats", str(crawl.out), "--json") == 0
    numbers = json.loads(capsys.readouterr().out)
    assert numbers["articles"] == len(crawl.truth)
    assert sum(numbers["by_year"].values()) == len(crawl.truth)
