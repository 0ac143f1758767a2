"""``archiver verify``: a sound crawl passes; damage is named by file and offset (or line)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from archiver.offline.verify import verify
from tests.test_offline_helpers import articles, copy_crawl, crawl_once, flip_bytes, run_cli


@pytest.fixture(scope="module")
def crawled(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return crawl_once(request.config, tmp_path_factory).out


@pytest.fixture
def copy(crawled: Path, tmp_path: Path) -> Path:
    return copy_crawl(crawled, tmp_path / "copy")


def test_a_sound_crawl_has_no_problems(crawled: Path) -> None:
    report = verify(crawled)
    assert report.problems == []
    assert report.counts["articles/lines"] == len(articles(crawled))
    assert report.counts["cdxj/lines"] > report.counts["articles/lines"]


def test_cli_exit_code_0_and_a_report(crawled: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli("verify", str(crawled)) == 0
    out = capsys.readouterr().out
    assert "all digests hold" in out
    assert "ok: no problems" in out


def test_damaged_record_is_named_by_file_and_offset(copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    victim = articles(copy)[7]["warc"]
    flip_bytes(copy / "warc" / victim["filename"], victim["offset"] + victim["length"] // 2)
    assert run_cli("verify", str(copy)) == 1
    out = capsys.readouterr().out
    assert f"warc/{victim['filename']}:{victim['offset']}: damaged gzip member" in out
    assert f"articles.jsonl:8: warc pointer {victim['filename']}:{victim['offset']}: damaged" in out


def test_damaged_record_also_breaks_the_wacz_and_cdxj_agreement(copy: Path) -> None:
    victim = articles(copy)[7]["warc"]
    flip_bytes(copy / "warc" / victim["filename"], victim["offset"] + victim["length"] // 2)
    problems = verify(copy).problems
    assert f"archive.wacz!archive/{victim['filename']}: differs from warc/{victim['filename']}" in problems
    assert any(p.startswith("indexes/") and f"offset {victim['offset']} " in p for p in problems)


def test_tampered_pointer_is_named_by_line(copy: Path) -> None:
    lines = (copy / "articles.jsonl").read_text("utf-8").splitlines(keepends=True)
    record = json.loads(lines[4])
    other = next(a["warc"] for a in map(json.loads, lines[5:])
                 if a["warc"]["filename"] == record["warc"]["filename"])
    record["warc"] = {**record["warc"], "offset": other["offset"], "length": other["length"]}
    lines[4] = json.dumps(record, ensure_ascii=False) + "\n"
    (copy / "articles.jsonl").write_text("".join(lines), "utf-8")
    problems = verify(copy).problems
    assert problems
    assert all(p.startswith("articles.jsonl:5: warc pointer") for p in problems)
    assert any("record_id is" in p for p in problems)


def test_invalid_article_line_is_named(copy: Path) -> None:
    lines = (copy / "articles.jsonl").read_text("utf-8").splitlines(keepends=True)
    record = json.loads(lines[2])
    record["content_type"] = "blog"
    lines[2] = json.dumps(record) + "\n"
    lines.insert(3, "{not json\n")
    (copy / "articles.jsonl").write_text("".join(lines), "utf-8")
    problems = verify(copy).problems
    assert any(p.startswith("articles.jsonl:3: content_type") for p in problems)
    assert any(p.startswith("articles.jsonl:4: not JSON") for p in problems)


def test_an_article_twice_or_out_of_order_in_the_dataset_is_named(copy: Path) -> None:
    lines = (copy / "articles.jsonl").read_text("utf-8").splitlines(keepends=True)
    lines.insert(3, lines[2])  # line 4: the article of line 3 again
    lines[6], lines[7] = lines[7], lines[6]  # lines 7 and 8 swapped
    (copy / "articles.jsonl").write_text("".join(lines), "utf-8")
    problems = verify(copy).problems
    twice = json.loads(lines[2])["article_id"]
    assert f"articles.jsonl:4: article {twice!r} is there twice" in problems
    assert any(p.startswith("articles.jsonl:8: article ") and p.endswith("out of article_id order")
               for p in problems)


def test_cdxj_line_pointing_elsewhere_is_named(copy: Path) -> None:
    index = sorted((copy / "indexes").glob("*.cdxj"))[0]
    lines = index.read_text("utf-8").splitlines(keepends=True)
    surt, stamp, text = lines[0].split(" ", 2)
    entry = json.loads(text)
    entry["digest"] = "sha1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    lines[0] = f"{surt} {stamp} {json.dumps(entry)}\n"
    index.write_text("".join(lines), "utf-8")
    problems = verify(copy).problems
    assert [p for p in problems if p.startswith(f"indexes/{index.name}:1: disagrees with")]


def test_wacz_with_a_wrong_hash_is_named(copy: Path, tmp_path: Path) -> None:
    wacz = copy / "archive.wacz"
    rebuilt = tmp_path / "rebuilt.wacz"
    with zipfile.ZipFile(wacz) as source, zipfile.ZipFile(rebuilt, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "pages/pages.jsonl":
                data += b'{"url": "http://example.mil/extra", "ts": "2020-01-01T00:00:00Z"}\n'
            target.writestr(info, data)
    rebuilt.replace(wacz)
    problems = verify(copy).problems
    assert any(p.startswith("archive.wacz!pages/pages.jsonl: sha256") for p in problems)
    assert any(p.startswith("archive.wacz!pages/pages.jsonl:") and "pages" in p for p in problems)


def test_not_a_folder_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli("verify", str(tmp_path / "missing")) == 2
    assert capsys.readouterr().err.startswith("archiver verify: error:")
