"""Re-extraction from the raw archive: byte-identical articles.jsonl, revisits, damaged records."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from archiver.offline.members import Member, MemberReader, MemberWalk, WarcSource, reader_for
from archiver.offline.pages import RecordLocator, parse_record
from archiver.offline.reextract import ReextractOptions, reextract, split_order
from archiver.offline.sources import resolve_inputs
from archiver.warc.index import write_cdxj
from archiver.warc.records import (
    HttpExchange,
    PriorCapture,
    RevisitOf,
    RevisitProfile,
    build_capture,
    record_id_of,
)
from archiver.warc.writer import WarcRollingWriter
from tests.test_offline_helpers import articles, copy_crawl, crawl_once, flip_bytes, run_cli, run_cli_process


@pytest.fixture(scope="module")
def crawled(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return crawl_once(request.config, tmp_path_factory).out


@pytest.fixture(scope="module")
def reextracted(crawled: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two workers, 1 MB ranges: many ranges synchronise inside WARC files."""
    out = tmp_path_factory.mktemp("reextracted")
    reextract(resolve_inputs([crawled]), out, jobs=2, chunk_bytes=1024 * 1024)
    return out


def test_crawl_spans_several_warc_files(crawled: Path) -> None:
    assert len(list((crawled / "warc").glob("*.warc.gz"))) >= 2


def test_reextract_is_byte_identical_to_the_crawl(crawled: Path, reextracted: Path) -> None:
    assert (reextracted / "articles.jsonl").read_bytes() == (crawled / "articles.jsonl").read_bytes()


def test_reextract_captures_are_the_crawls_changes_byte_for_byte(crawled: Path, reextracted: Path) -> None:
    """A first crawl's own records (changes.jsonl, in archive order) are every capture re-extracted."""
    assert (reextracted / "captures.jsonl").read_bytes() == (crawled / "changes.jsonl").read_bytes()


def test_reextract_report_counts_every_article_page(crawled: Path, reextracted: Path) -> None:
    report = json.loads((reextracted / "reextract.json").read_text())
    assert report["articles"] == len(articles(crawled))
    assert report["problems"] == []
    assert report["counts"]["pages"] == report["articles"] + report["counts"]["not_articles"]


def test_reextract_writes_conversion_records_referring_to_the_originals(
        crawled: Path, reextracted: Path) -> None:
    from warcio.archiveiterator import ArchiveIterator

    [warc] = list((reextracted / "warc").glob("*.warc.gz"))
    with warc.open("rb") as stream:
        records = [r for r in ArchiveIterator(stream, check_digests="raise")
                   if r.rec_type == "conversion" and r.content_stream().read()]
    refers = [r.rec_headers.get_header("WARC-Refers-To") for r in records]
    assert refers == [a["warc"]["record_id"] for a in articles(crawled, "changes.jsonl")]


def test_crawl_feed_order_is_archive_order(crawled: Path) -> None:
    """What makes the byte comparison hold: the crawl exported items in the order of their response
    (and conversion) records in the WARC files."""
    from warcio.archiveiterator import ArchiveIterator

    responses, conversions = [], []
    for path in sorted((crawled / "warc").glob("*.warc.gz")):
        with path.open("rb") as stream:
            for record in ArchiveIterator(stream):
                record_id = record.rec_headers.get_header("WARC-Record-ID")
                if record.rec_type == "response":
                    responses.append(record_id)
                elif record.rec_type == "conversion":
                    conversions.append(record.rec_headers.get_header("WARC-Refers-To"))
    exported = [a["warc"]["record_id"] for a in articles(crawled, "changes.jsonl")]
    kept = set(exported)
    assert exported == conversions
    assert exported == [r for r in responses if r in kept]


def test_originals_are_untouched(crawled: Path, reextracted: Path) -> None:
    assert not list((crawled / "warc").glob("reextract-*"))
    assert all(p.name.startswith("defense-news-") for p in (crawled / "warc").iterdir())


def test_reextract_from_the_wacz_through_the_cli(crawled: Path, tmp_path: Path) -> None:
    result = run_cli_process("reextract", str(crawled / "archive.wacz"), "--out", str(tmp_path / "x"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"re-extracted {len(articles(crawled))} articles" in result.stdout
    assert (tmp_path / "x" / "articles.jsonl").read_bytes() == (crawled / "articles.jsonl").read_bytes()


def test_reextract_program_runs_without_twisted(crawled: Path, tmp_path: Path) -> None:
    """``archiver reextract`` as a program skips the ``scrapy`` package's ``__init__`` (Twisted, the
    HTTP stack: start-up time) and writes the same bytes; the pipelines' drops are still Scrapy's."""
    import subprocess
    import sys

    out = tmp_path / "x"
    code = ("import sys; sys.argv = ['archiver', 'reextract', '--jobs', '1', *sys.argv[1:]]; "
            "from archiver.cli import main; code = main(); "
            "from scrapy.exceptions import DropItem; from pipelines.rejections import ArticleRejected; "
            "assert issubclass(ArticleRejected, DropItem); "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'twisted', 'OpenSSL'})); sys.exit(code)")
    result = subprocess.run([sys.executable, "-c", code, str(crawled), "--out", str(out)],
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1] == "[]"
    assert (out / "articles.jsonl").read_bytes() == (crawled / "articles.jsonl").read_bytes()


def test_damaged_record_is_reported_and_the_rest_extracted(crawled: Path, tmp_path: Path) -> None:
    copy = copy_crawl(crawled, tmp_path / "copy")
    victim = articles(copy)[40]["warc"]
    warc = copy / "warc" / victim["filename"]
    in_file = sum(a["warc"]["filename"] == victim["filename"] for a in articles(crawled))
    flip_bytes(warc, victim["offset"] + victim["length"] // 2)
    summary = reextract(resolve_inputs([warc]), _mkdir(tmp_path / "out"), jobs=2, chunk_bytes=512 * 1024)
    assert not summary.ok
    assert summary.problems
    assert summary.problems[0].startswith(f"{warc}:{victim['offset']}: damaged gzip member")
    assert summary.articles == in_file - 1


def test_reextract_respects_the_date_range(crawled: Path, tmp_path: Path) -> None:
    warc = sorted((crawled / "warc").glob("*.warc.gz"))[0]
    in_file = [a for a in articles(crawled) if a["warc"]["filename"] == warc.name]
    year = int(in_file[0]["published"][:4])
    options = ReextractOptions(since=date(year, 1, 1), until=date(year, 12, 31))
    summary = reextract(resolve_inputs([warc]), _mkdir(tmp_path / "out"), options, jobs=1)
    expected = [a for a in in_file if a["published"].startswith(str(year))]
    assert articles(tmp_path / "out") == expected
    assert summary.counts["out_of_range"] == len(in_file) - len(expected)


def test_the_duplicate_filter_runs_in_archive_order() -> None:
    parallel, ordered = split_order({"a.First": 100, "pipelines.duplicates.DropDuplicatesPipeline": 850,
                                     "b.Later": 900, "c.Validate": 800})
    assert list(parallel) == ["a.First", "c.Validate"]
    assert list(ordered) == ["pipelines.duplicates.DropDuplicatesPipeline", "b.Later"]


# -- identical-payload revisits --------------------------------------------------------------------


def _article_response(crawled: Path) -> tuple[str, list[tuple[str, str]], bytes]:
    pointer = articles(crawled)[0]["warc"]
    source = WarcSource.file(crawled / "warc" / pointer["filename"])
    with source.open() as stream:
        record = parse_record(MemberReader(stream, source).member_at(pointer["offset"]).data)
    url = record.rec_headers.get_header("WARC-Target-URI")
    return url, record.http_headers.headers, record.raw_stream.read()


def _exchange(url: str, headers: list[tuple[str, str]], body: bytes, second: int) -> HttpExchange:
    return HttpExchange(method="GET", url=url, request_headers=[("Host", "127.0.0.1")], status=200,
                        response_headers=headers, response_body=body,
                        fetched_at=datetime(2025, 1, 2, 3, 4, second, tzinfo=UTC))


def write_revisit_case(crawled: Path, directory: Path, with_original: bool = True) -> Path:
    """A WARC with an article response, then the same payload from another URL as a revisit."""
    url, headers, body = _article_response(crawled)
    response, request = build_capture(_exchange(url, headers, body, 5))
    digest = response.rec_headers.get_header("WARC-Payload-Digest")
    prior = PriorCapture(url, "2025-01-02T03:04:05Z", record_id_of(response), digest)
    revisit = build_capture(_exchange(url + "?copy=1", headers, body, 9),
                            revisit=RevisitOf(RevisitProfile.IDENTICAL_PAYLOAD_DIGEST, prior))
    with WarcRollingWriter(directory, prefix="revisits") as writer:
        if with_original:
            writer.write(response, request)
        writer.write(*revisit)
    [path] = list(directory.glob("*.warc.gz"))
    return path


@pytest.fixture
def revisit_warc(crawled: Path, tmp_path: Path) -> Path:
    return write_revisit_case(crawled, tmp_path / "warc")


@pytest.mark.parametrize("indexed", [False, True], ids=["scan", "cdxj"])
def test_revisit_is_resolved_to_the_payload_it_repeats(revisit_warc: Path, tmp_path: Path, indexed: bool,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    if indexed:
        write_cdxj(revisit_warc)
        monkeypatch.setattr(RecordLocator, "_scan", lambda *_: pytest.fail("scanned despite the index"))
    options = ReextractOptions(settings=(("ARCHIVER_DROP_DUPLICATES", "False"),))
    summary = reextract(resolve_inputs([revisit_warc]), _mkdir(tmp_path / "out"), options)
    first, second = articles(tmp_path / "out", "captures.jsonl")  # every capture, in archive order
    assert summary.counts["revisits/resolved"] == 1
    assert second["url"] == first["url"] + "?copy=1"
    assert second["body"] == first["body"]
    assert second["fetched_at"] == "2025-01-02T03:04:09Z"
    assert second["warc"]["offset"] > first["warc"]["offset"]


def test_revisit_of_the_same_article_is_dropped_as_a_duplicate(revisit_warc: Path, tmp_path: Path) -> None:
    summary = reextract(resolve_inputs([revisit_warc]), _mkdir(tmp_path / "out"))
    assert summary.articles == 1
    assert summary.counts["skipped"] == 1
    assert summary.ok


def test_revisit_of_a_capture_outside_the_inputs_is_a_problem(crawled: Path, tmp_path: Path) -> None:
    warc = write_revisit_case(crawled, tmp_path / "warc", with_original=False)
    summary = reextract(resolve_inputs([warc]), _mkdir(tmp_path / "out"))
    assert summary.articles == 0
    assert not summary.ok
    [problem] = summary.problems
    assert "is not in the inputs" in problem


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True)
    return path


def test_reextract_refuses_to_write_over_its_inputs(crawled: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli("reextract", str(crawled), "--out", str(crawled)) == 2
    assert "holds an input" in capsys.readouterr().err


def test_reextract_refuses_an_earlier_output_without_overwrite(
        crawled: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "articles.jsonl").write_text("", "utf-8")
    assert run_cli("reextract", str(crawled), "--out", str(tmp_path)) == 2
    assert "use --overwrite" in capsys.readouterr().err


def test_reextract_rejects_what_is_not_an_archive(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "notes.txt").write_text("x", "utf-8")
    assert run_cli("reextract", str(tmp_path / "notes.txt"), "--out", str(tmp_path / "out")) == 2
    assert capsys.readouterr().err.startswith("archiver reextract: error: ")


# -- uncompressed .warc inputs ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def plain_warcs(crawled: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The crawl's WARC files uncompressed (``X.warc.gz`` -> ``X.warc``): the same records in a row."""
    folder = tmp_path_factory.mktemp("plain")
    for path in sorted((crawled / "warc").glob("*.warc.gz")):
        (folder / path.name.removesuffix(".gz")).write_bytes(gzip.decompress(path.read_bytes()))
    return folder


def test_plain_warc_records_are_where_warcio_finds_them(plain_warcs: Path) -> None:
    from warcio.archiveiterator import ArchiveIterator

    cases = sorted(plain_warcs.glob("*.warc"))
    assert cases
    for path in cases:
        with path.open("rb") as stream:
            iterator = ArchiveIterator(stream)
            expected = []
            for record in iterator:
                offset = iterator.get_record_offset()
                iterator.read_to_end(record)
                expected.append((offset, iterator.get_record_length()))
        source = WarcSource.file(path)
        with source.open() as stream:
            walk = MemberWalk(reader_for(stream, source), 0, source.size, exact=True)
            walked = [(m.offset, m.length) for m in walk if isinstance(m, Member)]
        assert not source.compressed
        assert walked == expected


def test_reextract_reads_uncompressed_warcs(crawled: Path, plain_warcs: Path, tmp_path: Path) -> None:
    """Ranges of 256 KiB: most of them synchronise on a record start inside a file."""
    inputs = sorted(plain_warcs.glob("*.warc"))
    summary = reextract(resolve_inputs(inputs), _mkdir(tmp_path / "out"), jobs=2, chunk_bytes=256 * 1024)
    assert summary.ok, summary.problems
    crawl, again = articles(crawled), articles(tmp_path / "out")
    assert [dict(a, warc=None) for a in again] == [dict(a, warc=None) for a in crawl]
    for before, after in zip(crawl, again, strict=True):
        assert after["warc"]["filename"] == before["warc"]["filename"].removesuffix(".gz")
        assert after["warc"]["record_id"] == before["warc"]["record_id"]
        with (plain_warcs / after["warc"]["filename"]).open("rb") as stream:
            stream.seek(after["warc"]["offset"])
            record = parse_record(stream.read(after["warc"]["length"]))
        assert record.rec_headers.get_header("WARC-Record-ID") == after["warc"]["record_id"]


def test_reextract_takes_a_warc_file_through_the_cli(plain_warcs: Path, tmp_path: Path) -> None:
    first = sorted(plain_warcs.glob("*.warc"))[0]
    assert run_cli("reextract", str(first), "--out", str(tmp_path / "out")) == 0


NOT_A_WARC = "not a WARC file (neither gzip nor WARC/ at its start)"


@pytest.mark.parametrize(("name", "content", "message"), [
    ("notes.txt", b"x", "not a .warc, .warc.gz or .wacz file, nor a crawl folder"),
    ("fake.warc", b"<html>not a WARC</html>", NOT_A_WARC),
    ("fake.warc.gz", b"PK\x03\x04", NOT_A_WARC),
])
def test_reextract_refuses_other_files_in_one_line(tmp_path: Path, name: str, content: bytes, message: str
                                                   ) -> None:
    (tmp_path / name).write_bytes(content)
    result = run_cli_process("reextract", str(tmp_path / name), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert result.stderr == f"archiver reextract: error: {tmp_path / name}: {message}\n"
