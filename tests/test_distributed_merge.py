"""``archiver merge`` on small hand-made worker folders, and the union of crawl states."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archiver.distributed.merge import FolderInUseError, MergeError, merge_crawls
from archiver.distributed.statemerge import merge_state_files
from archiver.runtime.state import CrawlState

SITE = "http://127.0.0.1:8000"


def write_warc(path: Path, urls: list[str]) -> dict[str, dict]:
    """A gzip WARC with one response record per URL; each record's location, as an item's ``warc``."""
    locations = {}
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        for url in urls:
            headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
            record = writer.create_warc_record(url, "response", payload=io.BytesIO(b"<html>" + url.encode()),
                                               http_headers=headers)
            offset = stream.tell()
            writer.write_record(record)
            locations[url] = {"filename": path.name.removesuffix(".open"), "offset": offset,
                              "length": stream.tell() - offset}
    return locations


def article(article_id: str, fetched_at: str, warc: dict) -> dict:
    return {"url": f"{SITE}/News/Article/Article/{article_id}/", "article_id": article_id,
            "title": f"Article {article_id}", "fetched_at": fetched_at, "warc": warc}


def worker(folder: Path, name: str, ids: list[str], fetched_at: str = "2025-01-01T00:00:00Z",
           extra_lines: str = "") -> dict[str, dict]:
    """A worker folder: one WARC holding the articles' pages, and their articles.jsonl."""
    urls = [f"{SITE}/News/Article/Article/{i}/" for i in ids]
    locations = write_warc(folder / "warc" / f"defense-news-20250101000000000-00000-{name}.warc.gz", urls)
    lines = [json.dumps(article(i, fetched_at, locations[u])) for i, u in zip(ids, urls, strict=True)]
    (folder / "articles.jsonl").write_text("".join(line + "\n" for line in lines) + extra_lines, "utf-8")
    return locations


def merged_ids(out: Path) -> list[str]:
    return [json.loads(line)["article_id"] for line in (out / "articles.jsonl").read_text().splitlines()]


def test_one_record_per_article_in_article_id_order(tmp_path: Path) -> None:
    worker(tmp_path / "a", "a", ["1000003", "1000001"])
    worker(tmp_path / "b", "b", ["1000002", "1000001"], fetched_at="2025-02-01T00:00:00Z")
    report = merge_crawls([tmp_path / "a", tmp_path / "b"], tmp_path / "m", wacz=False)
    assert merged_ids(tmp_path / "m") == ["1000001", "1000002", "1000003"]
    assert (report.articles, report.duplicates) == (3, 1)
    kept = json.loads((tmp_path / "m" / "articles.jsonl").read_text().splitlines()[0])
    assert kept["fetched_at"] == "2025-02-01T00:00:00Z"  # the latest capture


def test_lines_are_kept_byte_for_byte(tmp_path: Path) -> None:
    worker(tmp_path / "a", "a", ["7"])
    merge_crawls([tmp_path / "a"], tmp_path / "m", wacz=False)
    merged = (tmp_path / "m" / "articles.jsonl").read_bytes()
    assert merged == (tmp_path / "a" / "articles.jsonl").read_bytes()


def test_a_record_whose_warc_record_exists_wins(tmp_path: Path) -> None:
    worker(tmp_path / "a", "a", ["5"])
    locations = worker(tmp_path / "b", "b", ["6"])
    cut = dict(next(iter(locations.values())), offset=10**9)  # beyond the end: lost with a killed worker
    line = json.dumps(article("5", "2026-01-01T00:00:00Z", cut))
    with (tmp_path / "b" / "articles.jsonl").open("a") as lines:
        lines.write(line + "\n")
    report = merge_crawls([tmp_path / "b", tmp_path / "a"], tmp_path / "m", wacz=False)
    kept = [json.loads(x) for x in (tmp_path / "m" / "articles.jsonl").read_text().splitlines()]
    assert kept[0]["fetched_at"] == "2025-01-01T00:00:00Z"
    assert report.dangling_warc == 0


def test_the_output_does_not_depend_on_the_input_order(tmp_path: Path) -> None:
    worker(tmp_path / "a", "a", ["1", "2", "3"])
    worker(tmp_path / "b", "b", ["3", "4", "2"])
    merge_crawls([tmp_path / "a", tmp_path / "b"], tmp_path / "ab", wacz=False)
    merge_crawls([tmp_path / "b", tmp_path / "a"], tmp_path / "ba", wacz=False)
    assert (tmp_path / "ab" / "articles.jsonl").read_bytes() == \
        (tmp_path / "ba" / "articles.jsonl").read_bytes()
    assert (tmp_path / "ab" / "indexes" / "index.cdxj").read_bytes() == \
        (tmp_path / "ba" / "indexes" / "index.cdxj").read_bytes()


def test_a_line_cut_by_a_killed_worker_is_skipped_and_counted(tmp_path: Path) -> None:
    worker(tmp_path / "a", "a", ["1", "2"], extra_lines='{"url": "http://127.0.0.1:8000/News/Art')
    report = merge_crawls([tmp_path / "a"], tmp_path / "m", wacz=False)
    assert merged_ids(tmp_path / "m") == ["1", "2"]
    assert report.invalid_lines == 1


def test_earlier_runs_of_a_folder_are_merged_too(tmp_path: Path) -> None:
    worker(tmp_path / "a", "a", ["2"])
    earlier = tmp_path / "a" / "runs" / "20250101T000000"
    earlier.mkdir(parents=True)
    (tmp_path / "a" / "articles.jsonl").replace(earlier / "articles.jsonl")
    worker(tmp_path / "a2", "a2", ["1"])
    (tmp_path / "a2" / "articles.jsonl").replace(tmp_path / "a" / "articles.jsonl")
    (tmp_path / "a2" / "warc").rename(tmp_path / "a" / "warc2")
    for path in (tmp_path / "a" / "warc2").iterdir():
        path.rename(tmp_path / "a" / "warc" / path.name)
    merge_crawls([tmp_path / "a"], tmp_path / "m", wacz=False)
    assert merged_ids(tmp_path / "m") == ["1", "2"]


def test_a_warc_left_open_is_repaired_and_merged(tmp_path: Path) -> None:
    worker(tmp_path / "a", "a", ["1"])
    open_path = tmp_path / "a" / "warc" / "defense-news-20250102000000000-00000-a.warc.gz.open"
    write_warc(open_path, [f"{SITE}/News/Article/Article/2/"])
    with open_path.open("ab") as stream:
        stream.write(b"\x1f\x8b\x08\x00 cut short")
    report = merge_crawls([tmp_path / "a"], tmp_path / "m", wacz=False)
    assert len(report.repaired) == 1
    assert not list((tmp_path / "a" / "warc").glob("*.open"))
    assert report.warcs == 2
    assert report.cdxj_lines == 2


def test_cdxj_points_into_the_merged_warc_folder(tmp_path: Path) -> None:
    worker(tmp_path / "a", "a", ["1", "2"])
    worker(tmp_path / "b", "b", ["3"])
    merge_crawls([tmp_path / "a", tmp_path / "b"], tmp_path / "m", wacz=False)
    names = {p.name for p in (tmp_path / "m" / "warc").iterdir()}
    lines = (tmp_path / "m" / "indexes" / "index.cdxj").read_text().splitlines()
    assert len(lines) == 3
    assert {json.loads(line.split(" ", 2)[2])["filename"] for line in lines} == names


def test_two_different_warcs_with_one_name_are_refused(tmp_path: Path) -> None:
    worker(tmp_path / "a", "same", ["1"])
    worker(tmp_path / "b", "same", ["2"])
    with pytest.raises(MergeError, match="two different WARC files"):
        merge_crawls([tmp_path / "a", tmp_path / "b"], tmp_path / "m", wacz=False)


def test_a_folder_whose_crawl_still_runs_is_refused(tmp_path: Path) -> None:
    worker(tmp_path / "a", "a", ["1"])
    (tmp_path / "a" / ".crawl.lock").write_text(f"{os.getpid()} {socket.gethostname()}")
    with pytest.raises(FolderInUseError):
        merge_crawls([tmp_path / "a"], tmp_path / "m", wacz=False)


@pytest.mark.parametrize("out", ["a", "crawl"])
def test_out_must_be_a_folder_of_its_own(tmp_path: Path, out: str) -> None:
    worker(tmp_path / "a", "a", ["1"])
    (tmp_path / "crawl").mkdir()
    (tmp_path / "crawl" / "crawl.log").write_text("")
    with pytest.raises(MergeError):
        merge_crawls([tmp_path / "a"], tmp_path / out, wacz=False)


def test_merging_again_into_the_same_folder_replaces_the_outputs(tmp_path: Path) -> None:
    worker(tmp_path / "a", "a", ["1"])
    worker(tmp_path / "b", "b", ["2"])
    merge_crawls([tmp_path / "a", tmp_path / "b"], tmp_path / "m", wacz=False)
    merge_crawls([tmp_path / "a"], tmp_path / "m", wacz=False)
    assert merged_ids(tmp_path / "m") == ["1"]
    assert [p.name.rsplit("-", 1)[1] for p in (tmp_path / "m" / "warc").iterdir()] == ["a.warc.gz"]


@pytest.mark.parametrize(("setup", "code"), [("missing", 2), ("locked", 3)])
def test_merge_command_exit_codes(tmp_path: Path, setup: str, code: int) -> None:
    if setup == "locked":
        worker(tmp_path / "a", "a", ["1"])
        (tmp_path / "a" / ".crawl.lock").write_text(f"{os.getpid()} {socket.gethostname()}")
    result = subprocess.run([sys.executable, "-m", "archiver", "merge", str(tmp_path / "a"), "--out",
                             str(tmp_path / "m")], capture_output=True, text=True, timeout=120)
    assert result.returncode == code, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


# -- crawl states -------------------------------------------------------------------------------------


def state(path: Path, rows: dict[str, tuple[str, str]]) -> Path:
    """A crawl state: url -> (seen at, etag)."""
    crawl_state = CrawlState(path)
    for url, (seen, etag) in rows.items():
        crawl_state.save(url, seen, etag=etag, status=200)
    crawl_state.close()
    return path


def rows(path: Path) -> dict[str, tuple[str, str, str]]:
    crawl_state = CrawlState(path)
    try:
        found = crawl_state.db.execute("SELECT url, first_seen, last_seen, etag FROM captures ORDER BY url")
        return {url: (first, last, etag) for url, first, last, etag in found}
    finally:
        crawl_state.close()


def test_the_state_union_keeps_the_row_seen_last(tmp_path: Path) -> None:
    a = state(tmp_path / "a.sqlite", {"u1": ("2025-01-01", "a1"), "u2": ("2025-01-05", "a2")})
    b = state(tmp_path / "b.sqlite", {"u1": ("2025-01-03", "b1"), "u3": ("2025-01-02", "b3")})
    assert merge_state_files(tmp_path / "m.sqlite", [a, b]) == 4
    assert rows(tmp_path / "m.sqlite") == {
        "u1": ("2025-01-01", "2025-01-03", "b1"),
        "u2": ("2025-01-05", "2025-01-05", "a2"),
        "u3": ("2025-01-02", "2025-01-02", "b3"),
    }


def test_the_state_union_is_order_free_and_idempotent(tmp_path: Path) -> None:
    a = state(tmp_path / "a.sqlite", {"u1": ("2025-01-01", "a1")})
    b = state(tmp_path / "b.sqlite", {"u1": ("2025-01-03", "b1")})
    merge_state_files(tmp_path / "ab.sqlite", [a, b])
    merge_state_files(tmp_path / "ba.sqlite", [b, a, b])
    assert rows(tmp_path / "ab.sqlite") == rows(tmp_path / "ba.sqlite")


# -- the dataset of a merged folder (archiver/runtime/dataset.py) -------------------------------------------


def test_the_merged_folder_holds_the_workers_changes(tmp_path: Path) -> None:
    worker(tmp_path / "a", "a", ["1"])
    worker(tmp_path / "b", "b", ["2"])
    (tmp_path / "a" / "changes.jsonl").write_text('{"article_id": "1", "change": "new"}\n', "utf-8")
    cut = '{"article_id": "2", "change": "new"}\n{"url": "cut'
    (tmp_path / "b" / "changes.jsonl").write_text(cut, "utf-8")
    merge_crawls([tmp_path / "b", tmp_path / "a"], tmp_path / "m", wacz=False)
    merged = (tmp_path / "m" / "changes.jsonl").read_text("utf-8").splitlines()
    # by folder name; the line a killed worker cut short is left out
    assert [json.loads(line)["article_id"] for line in merged] == ["1", "2"]


def test_a_gone_flag_a_killed_worker_left_in_its_changes_is_kept(tmp_path: Path) -> None:
    worker(tmp_path / "a", "a", ["5"])
    dataset_line = (tmp_path / "a" / "articles.jsonl").read_text("utf-8").splitlines()[0]
    gone = {**json.loads(dataset_line), "change": "gone", "gone_since": "2025-02-01T00:00:00Z"}
    (tmp_path / "a" / "changes.jsonl").write_text(json.dumps(gone) + "\n", "utf-8")  # not built: killed
    merge_crawls([tmp_path / "a"], tmp_path / "m", wacz=False)
    [kept] = [json.loads(line) for line in (tmp_path / "m" / "articles.jsonl").read_text().splitlines()]
    assert (kept["change"], kept["gone_since"]) == ("gone", "2025-02-01T00:00:00Z")


def test_the_merged_dataset_is_a_dataset(tmp_path: Path) -> None:
    """In the dataset's order and bytes: building it again with no changes gives the same file."""
    from archiver.runtime.dataset import update_dataset

    worker(tmp_path / "a", "a", ["100", "99", "release:7"])
    worker(tmp_path / "b", "b", ["1000", "99"], fetched_at="2025-02-01T00:00:00Z")
    merge_crawls([tmp_path / "a", tmp_path / "b"], tmp_path / "m", wacz=False)
    merged = (tmp_path / "m" / "articles.jsonl").read_bytes()
    assert merged_ids(tmp_path / "m") == ["99", "100", "1000", "release:7"]
    (tmp_path / "m" / "changes.jsonl").unlink()
    update_dataset(tmp_path / "m")
    assert (tmp_path / "m" / "articles.jsonl").read_bytes() == merged
