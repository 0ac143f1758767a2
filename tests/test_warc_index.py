"""CDXJ indexes and WACZ packages for closed WARC files."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import json
import os
import subprocess
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from warcio.warcwriter import WARCWriter

import archiver.warc.index as index_module
from archiver.warc.index import (
    BackgroundIndexer,
    CdxjLines,
    WaczPage,
    cdxj_path_for,
    write_cdxj,
    write_cdxj_lines,
)
from archiver.warc.records import (
    HttpExchange,
    PriorCapture,
    RevisitOf,
    RevisitProfile,
    build_capture,
    build_conversion,
    warc_date,
)
from archiver.warc.wacz import build_wacz
from archiver.warc.writer import WarcRollingWriter, encode_record
from tests.warc_helpers import VENV_BIN, assert_warcs_pass_check, read_record_at

URL = "https://www.defense.gov/News/Article/{}/"


def fetched(number: int) -> datetime:
    return datetime(2024, 5, 6, 7, 8, number, tzinfo=UTC)


def page(number: int, body: bytes | None = None) -> HttpExchange:
    return HttpExchange(
        method="GET",
        url=URL.format(number),
        request_headers=[(b"Host", b"www.defense.gov")],
        status=200,
        response_headers=[(b"Content-Type", b"text/html; charset=utf-8")],
        response_body=body or f"<html><title>T{number}</title>{number}</html>".encode(),
        fetched_at=fetched(number),
    )


def _write_pages_revisit_conversion(writer: WarcRollingWriter) -> None:
    """3 responses, an identical-payload revisit of the first, a conversion record of it."""
    locations = []
    for number in range(3):
        locations += writer.write(*build_capture(page(number)))
    prior = PriorCapture(URL.format(0), warc_date(fetched(0)), locations[0].record_id)
    revisit = RevisitOf(RevisitProfile.IDENTICAL_PAYLOAD_DIGEST, prior)
    writer.write(*build_capture(page(9, page(0).response_body), revisit=revisit))
    writer.write(build_conversion(b"{}", target_uri=URL.format(0), refers_to=locations[0].record_id))


@pytest.fixture
def warc_file(tmp_path: Path) -> Path:
    """A closed WARC: 3 responses, 1 revisit, 1 conversion (plus requests, warcinfo)."""
    with WarcRollingWriter(tmp_path, prefix="idx", worker="w") as writer:
        _write_pages_revisit_conversion(writer)
    [path] = tmp_path.glob("*.warc.gz")
    assert_warcs_pass_check(tmp_path)
    return path


def cdxj_lines(path: Path) -> list[tuple[str, str, dict[str, str]]]:
    lines = []
    for line in path.read_text().splitlines():
        urlkey, timestamp, block = line.split(" ", 2)
        lines.append((urlkey, timestamp, json.loads(block)))
    return lines


def test_cdxj_goes_to_indexes_dir_next_to_the_warc(warc_file: Path) -> None:
    index = write_cdxj(warc_file)
    name = warc_file.name.removesuffix(".warc.gz") + ".cdxj"
    assert index == warc_file.parent / "indexes" / name
    assert cdxj_path_for(warc_file, Path("/x")) == Path("/x") / index.name


def test_cdxj_lists_responses_and_revisits_sorted(warc_file: Path) -> None:
    lines = cdxj_lines(write_cdxj(warc_file))
    assert [line[0] for line in lines] == sorted(line[0] for line in lines)
    assert [(key, ts) for key, ts, _ in lines] == [
        ("gov,defense)/news/article/0", "20240506070800"),
        ("gov,defense)/news/article/1", "20240506070801"),
        ("gov,defense)/news/article/2", "20240506070802"),
        ("gov,defense)/news/article/9", "20240506070809"),
    ]
    assert [block["mime"] for _, _, block in lines] == ["text/html"] * 3 + ["warc/revisit"]


def test_cdxj_offsets_and_lengths_point_at_the_records(warc_file: Path) -> None:
    cases = cdxj_lines(write_cdxj(warc_file))
    assert cases
    for _, _, block in cases:
        assert block["filename"] == warc_file.name
        record, _ = read_record_at(warc_file, int(block["offset"]), int(block["length"]))
        assert record.rec_type in ("response", "revisit")
        assert record.rec_headers.get_header("WARC-Target-URI") == block["url"]
        assert record.rec_headers.get_header("WARC-Payload-Digest") == block["digest"]


def test_cdxj_is_not_affected_by_importing_wacz(warc_file: Path, tmp_path: Path) -> None:
    import wacz.waczindexer  # noqa: F401 - appends "warcinfo" to the default record types

    lines = cdxj_lines(write_cdxj(warc_file, tmp_path / "other"))
    assert len(lines) == 4


def test_background_indexer_indexes_closed_files(tmp_path: Path) -> None:
    indexer = BackgroundIndexer()
    with WarcRollingWriter(tmp_path, max_size=1, on_file_closed=indexer) as writer:
        for number in range(3):
            writer.write(*build_capture(page(number)))
    indexer.close()
    assert_warcs_pass_check(tmp_path)
    indexes = sorted((tmp_path / "indexes").glob("*.cdxj"))
    assert [path.name for path in indexes] == [
        cdxj_path_for(path).name for path in sorted(tmp_path.glob("*.warc.gz"))
    ]
    assert len(indexes) == 3


def test_writer_makes_the_cdxj_cdxj_indexer_makes(tmp_path: Path) -> None:
    """Responses, a revisit, a conversion, a resource, a 301, odd MIME types, over two files."""
    made: dict[Path, CdxjLines | None] = {}
    with WarcRollingWriter(tmp_path, max_size=2500, on_file_indexed=made.__setitem__) as writer:
        _write_pages_revisit_conversion(writer)
        moved = HttpExchange(method="GET", url="https://www.defense.gov/Old?b=2&a=1", request_headers=[],
                             status=301, response_headers=[(b"Location", b"/New"),
                                                           (b"Content-Type", b"TEXT/HTML ;x=1")],
                             fetched_at=fetched(20))
        writer.write(*build_capture(moved))
        writer.write(*build_capture(page(21)))  # the same line twice: cdxj-indexer keeps one
        writer.write(WARCWriter(None).create_warc_record(
            "https://www.defense.gov/x.txt", "resource", payload=io.BytesIO(b"x"),
            warc_content_type="text/plain; charset=ascii"))
    assert len(made) >= 2
    texts = []
    for path, lines in made.items():
        assert lines is not None
        write_cdxj_lines(path, lines, tmp_path / "made")
        texts.append(cdxj_path_for(path, tmp_path / "made").read_text())
        assert texts[-1].encode() == write_cdxj(path, tmp_path / "oracle").read_bytes()
    assert "warc/revisit" in "".join(texts)


def test_cdxj_lines_sorted_in_runs_are_sorted_whole(tmp_path: Path) -> None:
    lines = CdxjLines(buffer=30)  # a run every two lines
    for number in (5, 3, 3, 9, 1, 7, 3, 0, 2):
        lines.add(f"gov,defense)/{number} 2024 {{}}\n")
    assert lines.drop_after(9)
    assert not lines.drop_after(2)  # in a run already
    lines.write(tmp_path / "out.cdxj")
    assert (tmp_path / "out.cdxj").read_text() == "".join(f"gov,defense)/{n} 2024 {{}}\n" for n in
                                                          (0, 1, 2, 3, 5, 7, 9))


def test_a_record_without_its_entry_leaves_the_file_to_cdxj_indexer(tmp_path: Path) -> None:
    made: dict[Path, CdxjLines | None] = {}
    with WarcRollingWriter(tmp_path, on_file_indexed=made.__setitem__) as writer:
        writer.write(*build_capture(page(1)))
        writer.append([dataclasses.replace(encode_record(build_capture(page(2))[0]), cdxj=None)])
    assert list(made.values()) == [None]


def test_background_indexer_wait_keeps_accepting_files(warc_file: Path, tmp_path: Path) -> None:
    indexer = BackgroundIndexer(index_dir=tmp_path / "idx")
    indexer.wait()
    indexer(warc_file)
    indexer.wait()
    assert (tmp_path / "idx" / cdxj_path_for(warc_file).name).exists()
    indexer.close()


def test_background_indexer_reports_failures(tmp_path: Path) -> None:
    failures: list[Path] = []
    indexer = BackgroundIndexer(on_error=lambda path, _exc: failures.append(path))
    indexer(tmp_path / "missing.warc.gz")
    indexer.close()
    assert failures == [tmp_path / "missing.warc.gz"]


def wacz_pages(numbers: list[int]) -> list[WaczPage]:
    return [WaczPage(URL.format(n), warc_date(fetched(n)), f"Title {n}") for n in numbers]


def test_wacz_validates_and_lists_article_pages(warc_file: Path, tmp_path: Path) -> None:
    out = build_wacz([warc_file], tmp_path / "out" / "crawl.wacz", wacz_pages([0, 1, 2]))
    result = subprocess.run(
        [str(VENV_BIN / "wacz"), "validate", "-f", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout
    assert "is valid" in result.stdout
    with zipfile.ZipFile(out) as archive:
        names = set(archive.namelist())
        pages = [json.loads(line) for line in archive.read("pages/pages.jsonl").splitlines()]
    assert f"archive/{warc_file.name}" in names
    assert "indexes/index.cdx.gz" in names
    assert pages[0]["format"] == "json-pages-1.0"
    assert [(p["url"], p["title"], p["ts"]) for p in pages[1:]] == [
        (URL.format(n), f"Title {n}", warc_date(fetched(n))) for n in range(3)
    ]


def test_wacz_drops_pages_without_a_capture(
    warc_file: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    missing = WaczPage("https://www.defense.gov/none", "2024-01-01T00:00:00Z", "x")
    pages = [*wacz_pages([1]), missing]
    out = build_wacz([warc_file], tmp_path / "crawl.wacz", pages)
    with zipfile.ZipFile(out) as archive:
        lines = archive.read("pages/pages.jsonl").splitlines()
    assert [json.loads(line)["url"] for line in lines[1:]] == [URL.format(1)]
    assert "https://www.defense.gov/none" in caplog.text


def test_a_cdxj_sorted_in_runs_on_disk_equals_one_sorted_in_memory(
    warc_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = write_cdxj(warc_file, tmp_path / "whole").read_text()
    monkeypatch.setattr(index_module, "CDXJ_SORT_BUFFER", 200)  # a run of about one line
    in_runs = write_cdxj(warc_file, tmp_path / "runs").read_text()
    assert len(whole.splitlines()) > 3
    assert in_runs == whole


def _index_blocks(wacz_path: Path) -> tuple[list[str], list[tuple[str, dict]]]:
    """The WACZ's index lines, read block by block through ``index.idx`` as replay tools read it."""
    with zipfile.ZipFile(wacz_path) as archive:
        packed = archive.read("indexes/index.cdx.gz")
        idx = archive.read("indexes/index.idx").decode().splitlines()
    assert json.loads(idx[0].split(" ", 2)[2]) == {"format": "cdxj-gzip-1.0", "filename": "index.cdx.gz"}
    lines, blocks = [], []
    for entry in idx[1:]:
        urlkey, timestamp, where = entry.split(" ", 2)
        place = json.loads(where)
        block = gzip.decompress(packed[place["offset"]:place["offset"] + place["length"]]).decode()
        assert block.startswith(f"{urlkey} {timestamp} ")
        assert place["digest"] == "sha256:" + hashlib.sha256(
            packed[place["offset"]:place["offset"] + place["length"]]).hexdigest()
        lines += block.splitlines()
        blocks.append((urlkey, place))
    assert sum(place["length"] for _, place in blocks) == len(packed)
    return lines, blocks


def test_wacz_index_is_the_crawls_cdxj_merged_in_blocks(warc_file: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Two WARCs with their CDXJ in an index folder: the WACZ's index is those lines merged in
    order, in gzip blocks that ``index.idx`` finds; a WARC newer than its CDXJ is indexed again."""
    from archiver.warc import wacz as wacz_module

    second = tmp_path / "copy" / warc_file.name.replace("idx", "idy")
    second.parent.mkdir()
    second.write_bytes(warc_file.read_bytes())
    indexes = tmp_path / "indexes"
    written = [write_cdxj(path, indexes) for path in (warc_file, second)]
    monkeypatch.setattr(wacz_module, "LINES_PER_BLOCK", 2)  # several blocks of a small index
    out = build_wacz([warc_file, second], tmp_path / "two.wacz", wacz_pages([0, 1, 2]), indexes)
    lines, blocks = _index_blocks(out)
    assert lines == sorted(line for path in written for line in path.read_text().splitlines())
    assert len(blocks) == (len(lines) + 1) // 2
    validate = subprocess.run([str(VENV_BIN / "wacz"), "validate", "-f", str(out)], capture_output=True,
                              text=True, check=False)
    assert validate.returncode == 0, validate.stdout

    stale = written[1].read_text().splitlines()[0] + "\n"
    written[1].write_text(stale)  # a CDXJ cut short, then its WARC written after it
    os.utime(written[1], (1_000_000, 1_000_000))
    again, _ = _index_blocks(build_wacz([warc_file, second], tmp_path / "again.wacz", [], indexes))
    assert again == lines
