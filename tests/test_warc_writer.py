"""Rolling writer: naming, warcinfo first, rollover, locations, gzip members, .open repair."""

from __future__ import annotations

import gzip
import random
import re
import threading
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from archiver import settings as defaults
from archiver.warc.records import HttpExchange, build_capture, build_conversion
from archiver.warc.writer import (
    DEFAULT_MAX_SIZE,
    WarcRollingWriter,
    complete_members_end,
    gzip_member,
    repair_open_file,
    repair_open_files,
)
from tests.harness import warcio_check
from tests.warc_helpers import assert_warcs_pass_check, read_record_at, read_records

START = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
NAME_RE = re.compile(r"^test-(\d{17})-(\d{5})-worker1\.warc\.gz$")


@pytest.fixture(autouse=True)
def _every_warc_passes_check(tmp_path: Path) -> Iterator[None]:
    yield
    assert_warcs_pass_check(tmp_path)


class Clock:
    """A clock advancing one millisecond per call."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=1)
        return self.now


def exchange(number: int, size: int = 2000) -> HttpExchange:
    body = (f"page {number} ".encode() * size)[:size]
    return HttpExchange(
        method="GET",
        url=f"https://www.defense.gov/News/Article/{number}/",
        request_headers=[(b"Host", b"www.defense.gov")],
        status=200,
        response_headers=[(b"Content-Type", b"text/html"), (b"Set-Cookie", b"a=1")],
        response_body=body,
        fetched_at=START,
    )


def writer(directory: Path, **options: Any) -> WarcRollingWriter:
    options.setdefault("prefix", "test")
    options.setdefault("worker", "worker1")
    options.setdefault("clock", Clock())
    options.setdefault("warcinfo_fields", {"software": "tests"})
    return WarcRollingWriter(directory, **options)


def write_pages(target: WarcRollingWriter, count: int, size: int = 2000) -> list[Any]:
    locations = []
    for number in range(count):
        locations += target.write(*build_capture(exchange(number, size)))
    return locations


def test_file_is_open_while_writing_and_renamed_on_close(tmp_path: Path) -> None:
    closed: list[Path] = []
    target = writer(tmp_path, on_file_closed=closed.append)
    write_pages(target, 1)
    [open_file] = tmp_path.iterdir()
    assert open_file.name.endswith(".warc.gz.open")
    assert target.current_path == open_file
    final = target.close()
    assert final is not None
    assert closed == [final]
    assert NAME_RE.match(final.name)
    assert list(tmp_path.iterdir()) == [final]
    assert target.close() is None


def test_every_record_passes_warcio_check_and_warcinfo_is_first(tmp_path: Path) -> None:
    with writer(tmp_path) as target:
        write_pages(target, 3)
    [path] = tmp_path.glob("*.warc.gz")
    result = warcio_check([path])
    assert result.returncode == 0, result.stdout
    records = read_records(path)
    assert [r["type"] for r in records] == ["warcinfo"] + ["response", "request"] * 3
    warcinfo_headers = dict(records[0]["warc_headers"])
    assert warcinfo_headers["WARC-Filename"] == path.name
    assert records[0]["raw"] == b"software: tests\r\n"


def test_round_trip_of_body_bytes(tmp_path: Path) -> None:
    with writer(tmp_path) as target:
        write_pages(target, 2, size=5000)
    [path] = tmp_path.glob("*.warc.gz")
    responses = [r for r in read_records(path) if r["type"] == "response"]
    assert [r["raw"] for r in responses] == [exchange(n, 5000).response_body for n in range(2)]


def test_locations_point_at_their_records(tmp_path: Path) -> None:
    with writer(tmp_path) as target:
        locations = write_pages(target, 3)
        conversion = build_conversion(
            b'{"a": 1}', target_uri="https://x.mil/", refers_to=locations[0].record_id
        )
        locations += target.write(conversion)
    for location in locations:
        record, raw = read_record_at(tmp_path / location.filename, location.offset, location.length)
        assert record.rec_headers.get_header("WARC-Record-ID") == location.record_id
        assert record.rec_headers.get_header("WARC-Payload-Digest") == location.payload_digest
    assert raw == b'{"a": 1}'


def test_each_record_is_a_complete_gzip_member(tmp_path: Path) -> None:
    with writer(tmp_path) as target:
        locations = write_pages(target, 2)
    data = (tmp_path / locations[0].filename).read_bytes()
    assert locations
    for location in locations:
        member = data[location.offset : location.offset + location.length]
        assert gzip.decompress(member).startswith(b"WARC/1.1\r\n")


@pytest.mark.parametrize("level", [0, 1, 9])
def test_gzip_level_is_configurable(tmp_path: Path, level: int) -> None:
    with writer(tmp_path, gzip_level=level) as target:
        write_pages(target, 2, size=20000)
    [path] = tmp_path.glob("*.warc.gz")
    assert warcio_check([path]).returncode == 0
    if level == 0:
        assert path.stat().st_size > 2 * 20000


@pytest.mark.parametrize("level", range(10))
def test_every_level_makes_one_deterministic_member_any_gzip_reader_inflates(level: int) -> None:
    data = b"<p>page</p>" * 4000
    member = gzip_member(data, level)
    assert member == gzip_member(data, level)
    assert gzip.decompress(member) == data
    assert zlib.decompress(member, wbits=zlib.MAX_WBITS | 16) == data


def test_levels_1_to_3_deflate_with_isal_and_the_others_with_zlib() -> None:
    isal_zlib = pytest.importorskip("isal.isal_zlib")
    data = b"<p>page</p>" * 4000
    for level in (1, 2, 3):
        assert gzip_member(data, level) == isal_zlib.compress(data, level, wbits=zlib.MAX_WBITS | 16)
    for level in (0, 4, 6, 9):
        assert gzip_member(data, level) == zlib.compress(data, level, wbits=zlib.MAX_WBITS | 16)
    assert WarcRollingWriter.__init__.__kwdefaults__["gzip_level"] == defaults.WARC_GZIP_LEVEL == 2


def test_invalid_gzip_level_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="gzip_level"):
        writer(tmp_path, gzip_level=10)


def test_rollover_makes_several_files_each_starting_with_warcinfo(tmp_path: Path) -> None:
    closed: list[Path] = []
    with writer(tmp_path, max_size=3000, gzip_level=0, on_file_closed=closed.append) as target:
        locations = write_pages(target, 5, size=1000)
    files = sorted(tmp_path.glob("*.warc.gz"))
    assert len(files) == 5
    assert sorted(closed) == files
    assert [NAME_RE.match(f.name).group(2) for f in files] == [f"{n:05d}" for n in range(5)]
    for path in files:
        assert warcio_check([path]).returncode == 0
        assert [r["type"] for r in read_records(path)] == ["warcinfo", "response", "request"]
    # a response and its request always land in the same file
    assert [loc.filename for loc in locations[::2]] == [loc.filename for loc in locations[1::2]]


def test_file_stays_under_max_size_when_records_fit(tmp_path: Path) -> None:
    with writer(tmp_path, max_size=20_000, gzip_level=0) as target:
        write_pages(target, 12, size=1000)
    sizes = [path.stat().st_size for path in tmp_path.glob("*.warc.gz")]
    assert len(sizes) > 1
    assert max(sizes) <= 20_000


def test_default_max_size_is_one_gigabyte(tmp_path: Path) -> None:
    assert DEFAULT_MAX_SIZE == 1_000_000_000
    assert WarcRollingWriter(tmp_path).max_size == DEFAULT_MAX_SIZE


def test_worker_name_is_made_file_safe(tmp_path: Path) -> None:
    with writer(tmp_path, worker="host name/1") as target:
        write_pages(target, 1)
    [path] = tmp_path.glob("*.warc.gz")
    assert path.name.endswith("-host-name-1.warc.gz")


def test_existing_name_is_never_overwritten(tmp_path: Path) -> None:
    first = writer(tmp_path, clock=lambda: START)
    write_pages(first, 1)
    first.close()
    second = writer(tmp_path, clock=lambda: START)
    write_pages(second, 1)
    second.close()
    names = sorted(path.name for path in tmp_path.glob("*.warc.gz"))
    assert [NAME_RE.match(name).group(2) for name in names] == ["00000", "00001"]


def test_writing_from_a_second_thread_is_refused(tmp_path: Path) -> None:
    target = writer(tmp_path)
    write_pages(target, 1)
    errors: list[BaseException] = []

    def other_thread() -> None:
        try:
            write_pages(target, 1)
        except RuntimeError as exc:
            errors.append(exc)

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join()
    assert len(errors) == 1
    target.close()


def crashed_open_file(tmp_path: Path, tail: bytes) -> tuple[Path, int]:
    """A .open file with 3 page captures and then ``tail``; return it and the good size."""
    with writer(tmp_path / "src") as target:
        write_pages(target, 3)
    [source] = (tmp_path / "src").glob("*.warc.gz")
    good = source.read_bytes()
    open_path = tmp_path / (source.name + ".open")
    open_path.write_bytes(good + tail)
    return open_path, len(good)


def test_repair_truncates_a_half_written_record(tmp_path: Path) -> None:
    noise = random.Random(2).randbytes(5000)
    member = gzip.compress(b"WARC/1.1\r\nWARC-Type: response\r\n" + noise)
    open_path, good_size = crashed_open_file(tmp_path, member[: len(member) // 2])
    final = repair_open_file(open_path)
    assert final == open_path.with_name(open_path.name.removesuffix(".open"))
    assert not open_path.exists()
    assert final.stat().st_size == good_size
    assert warcio_check([final]).returncode == 0
    assert len(read_records(final)) == 7


def test_repair_drops_trailing_garbage_and_non_warc_members(tmp_path: Path) -> None:
    open_path, good_size = crashed_open_file(tmp_path, gzip.compress(b"not a record") + b"\0\0")
    with open_path.open("rb") as stream:
        assert complete_members_end(stream) == good_size
    final = repair_open_file(open_path)
    assert final is not None
    assert final.stat().st_size == good_size


def test_repair_keeps_a_complete_file_intact(tmp_path: Path) -> None:
    _open_path, good_size = crashed_open_file(tmp_path, b"")
    [final] = repair_open_files(tmp_path)
    assert final.stat().st_size == good_size


def test_repair_removes_a_file_without_any_complete_record(tmp_path: Path) -> None:
    open_path = tmp_path / "x.warc.gz.open"
    member = gzip.compress(b"WARC/1.1\r\n" + random.Random(1).randbytes(5000))
    open_path.write_bytes(member[: len(member) - 10])
    assert repair_open_file(open_path) is None
    assert not open_path.exists()
