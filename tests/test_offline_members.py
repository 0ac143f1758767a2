"""Gzip members without an index: ranges synchronise on record starts, false starts are repaired."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from archiver.offline.members import GZIP_MAGIC, Member, MemberError, MemberReader, MemberWalk, WarcSource
from archiver.offline.reextract import ChunkTask, ReextractOptions, contiguous, process_chunk
from archiver.warc.records import build_conversion, serialize_record
from archiver.warc.writer import WarcRollingWriter, gzip_member


def _conversion(payload: bytes, content_type: str = "text/plain") -> object:
    return build_conversion(payload, target_uri="http://example.mil/x", refers_to="<urn:uuid:0>",
                            content_type=content_type)


@pytest.fixture
def stored_warc(tmp_path: Path) -> Path:
    """Uncompressed (level 0) members; the second record's payload is itself a gzipped WARC record."""
    embedded = gzip_member(serialize_record(_conversion(b"inner record")))
    with WarcRollingWriter(tmp_path, prefix="stored", gzip_level=0) as writer:
        writer.write(_conversion(b"first " * 1000))
        writer.write(_conversion(b"x" * 3000 + embedded + b"y" * 3000, "application/warc"))
        for number in range(5):
            writer.write(_conversion(f"record {number} ".encode() * 500))
    [path] = list(tmp_path.glob("*.warc.gz"))
    return path


def _walk(path: Path, start: int, end: int, exact: bool) -> tuple[MemberWalk, list[Member | MemberError]]:
    source = WarcSource.file(path)
    with source.open() as stream:
        walk = MemberWalk(MemberReader(stream, source), start, end, exact)
        return walk, list(walk)


def test_sequential_walk_finds_every_record(stored_warc: Path) -> None:
    _, members = _walk(stored_warc, 0, stored_warc.stat().st_size, exact=True)
    assert len(members) == 8  # warcinfo + 7 conversions
    assert all(isinstance(m, Member) and m.data.startswith(b"WARC/1.1") for m in members)


def test_ranges_meet_where_records_start(stored_warc: Path) -> None:
    size = stored_warc.stat().st_size
    first, left = _walk(stored_warc, 0, size // 2, exact=True)
    second, right = _walk(stored_warc, size // 2, size, exact=False)
    assert first.stopped == second.began
    assert len(left) + len(right) == 8


def _embedded_start(path: Path) -> int:
    data = path.read_bytes()
    _, members = _walk(path, 0, len(data), exact=True)
    outer = members[2]
    assert isinstance(outer, Member)
    return data.index(GZIP_MAGIC, outer.offset + 1)


def test_a_range_can_start_falsely_inside_a_stored_record(stored_warc: Path) -> None:
    start = _embedded_start(stored_warc)
    walk, _ = _walk(stored_warc, start - 1, stored_warc.stat().st_size, exact=False)
    assert walk.began == start  # the gzipped record inside the payload looks like a record start


def test_false_start_is_detected_and_the_range_read_again(stored_warc: Path) -> None:
    source, cut = WarcSource.file(stored_warc), _embedded_start(stored_warc) - 1
    tasks = [ChunkTask(source, 0, cut, exact=True), ChunkTask(source, cut, source.size)]
    options = ReextractOptions(sources=(source,))
    results = list(contiguous((process_chunk(task, options) for task in tasks), options))
    counts = sum((r.counts for r in results), Counter())
    assert counts == Counter({"records/warcinfo": 1, "records/conversion": 7})
    assert results[1].began == results[0].stopped


def test_damaged_member_is_reported_and_the_walk_goes_on(stored_warc: Path) -> None:
    _, members = _walk(stored_warc, 0, stored_warc.stat().st_size, exact=True)
    victim = members[3]
    assert isinstance(victim, Member)
    data = bytearray(stored_warc.read_bytes())
    data[victim.offset + victim.length - 6] ^= 0xFF  # the CRC of the gzip trailer
    stored_warc.write_bytes(bytes(data))
    _, again = _walk(stored_warc, 0, len(data), exact=True)
    errors = [m for m in again if isinstance(m, MemberError)]
    assert [e.offset for e in errors] == [victim.offset]
    assert len(again) == 8


def test_junk_before_the_first_record_is_skipped_by_a_synchronising_walk(tmp_path: Path,
                                                                        stored_warc: Path) -> None:
    path = tmp_path / "junk.warc.gz"
    junk = b"\x1f\x8b\x08 not really gzip " * 10
    path.write_bytes(junk + stored_warc.read_bytes())
    walk, members = _walk(path, 0, path.stat().st_size, exact=False)
    assert walk.began == len(junk)
    assert len(members) == 8
