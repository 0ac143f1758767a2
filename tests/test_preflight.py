"""Start-up errors of ``archiver crawl`` are found before the folder is touched (runtime/preflight.py)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from scrapy.settings import Settings

from archiver.replica.process import RunningReplica, replica
from archiver.runtime.preflight import PreflightError, check_settings
from tests.harness import crawl


@pytest.fixture(scope="module")
def small_replica(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningReplica]:
    with replica("--articles", "20", "--seed", "3", "--crawl-delay", "0") as running:
        yield running


@pytest.fixture(scope="module")
def crawled(small_replica: RunningReplica, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("preflight") / "out"
    result = crawl(out, small_replica.base)
    assert result.returncode == 0, result.stderr[-2000:]
    return out


@pytest.fixture
def folder(crawled: Path, tmp_path: Path) -> Path:
    """A copy of a finished crawl's folder (its outputs in place, a sound state)."""
    return Path(shutil.copytree(crawled, tmp_path / "out"))


def snapshot(out: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(out)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(out.rglob("*")) if p.is_file()}


def assert_one_line_error(result: subprocess.CompletedProcess[str], code: int, *words: str) -> None:
    assert result.returncode == code, result.stdout + result.stderr[-2000:]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr[-2000:]
    assert lines[0].startswith("archiver crawl: error: ")
    for word in words:
        assert word in lines[0]


@pytest.mark.parametrize(("args", "named"), [
    (["--discovery", "ids", "--ids", "5-1"], "--ids"),
    (["--discovery", "ids", "--ids", "12,x"], "--ids"),
    (["-s", "DOWNLOAD_TIMEOUT=abc"], "DOWNLOAD_TIMEOUT"),
    (["-s", "RETRY_TIMES=2.5"], "RETRY_TIMES"),
    (["-s", "ROBOTSTXT_OBEY=maybe"], "ROBOTSTXT_OBEY"),
    (["-s", "ARCHIVER_RETRY_AFTER_MAX=soon"], "ARCHIVER_RETRY_AFTER_MAX"),
    (["-s", "WARC_DEDUPE_MEMORY=lots"], "WARC_DEDUPE_MEMORY"),
    (["-s", "ARCHIVER_VALIDATE=perhaps"], "ARCHIVER_VALIDATE"),
    (["-s", "FEEDS=not-json"], "FEEDS"),
    (["-s", "CONCURRENT_REQUESTS=-3"], "CONCURRENT_REQUESTS: -3 must be 1 or more"),
], ids=lambda v: v if isinstance(v, str) else " ".join(v))
def test_a_bad_option_is_a_one_line_error_and_nothing_moves(
        folder: Path, small_replica: RunningReplica, args: list[str], named: str) -> None:
    before = snapshot(folder)
    result = crawl(folder, small_replica.base, *args)
    assert_one_line_error(result, 2, named)
    assert snapshot(folder) == before
    assert not (folder / "runs").exists()


@pytest.mark.parametrize(("name", "value", "said"), [
    ("CONCURRENT_REQUESTS", "0", "0 must be 1 or more"),
    ("CONCURRENT_REQUESTS_PER_DOMAIN", "-1", "-1 must be 1 or more"),
    ("DOWNLOAD_DELAY", "-0.5", "-0.5 must be 0 or more"),
    ("AUTOTHROTTLE_MAX_DELAY", "-1", "-1 must be 0 or more"),
    ("DOWNLOAD_TIMEOUT", "0", "0 must be more than 0"),
    ("DNS_TIMEOUT", "-2", "-2 must be more than 0"),
    ("RETRY_TIMES", "-1", "-1 must be 0 or more"),
    ("ARCHIVER_REFUSALS_MAX", "-10", "-10 must be 0 or more"),
    ("WARC_DEDUPE_MEMORY", "0", "0 must be 1 or more"),
    ("WARC_GZIP_LEVEL", "10", "10 must be from 0 to 9"),
    ("ARCHIVER_HARVEST_DELAY", "-1", "-1 must be 0 or more"),
])
def test_a_number_out_of_its_settings_range_is_named(name: str, value: str, said: str) -> None:
    settings = Settings({name: value})
    with pytest.raises(PreflightError, match=f"^setting {name}: {re.escape(said)}$"):
        check_settings(settings, {name: value})


@pytest.mark.parametrize(("name", "value"), [
    ("CONCURRENT_REQUESTS", "1"), ("DOWNLOAD_DELAY", "0"), ("DOWNLOAD_TIMEOUT", "0.5"),
    ("ARCHIVER_EXTRACT_WORKERS", "0"), ("ARCHIVER_REFUSALS_MAX", "0"), ("WARC_GZIP_LEVEL", "9"),
    ("DOWNLOAD_MAXSIZE", "0"),
])
def test_the_ends_of_a_settings_range_are_accepted(name: str, value: str) -> None:
    check_settings(Settings({name: value}), {name: value})


def test_a_float_where_scrapy_reads_a_float_is_accepted(folder: Path, small_replica: RunningReplica) -> None:
    result = crawl(folder, small_replica.base, "-s", "DOWNLOAD_TIMEOUT=7.5", "--max-pages", "1")
    assert result.returncode == 0, result.stderr[-2000:]


def damage(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[:100] = b"x" * 100  # the SQLite header
    path.write_bytes(bytes(data))


def test_a_damaged_state_is_named_with_the_way_out_and_nothing_moves(
        folder: Path, small_replica: RunningReplica) -> None:
    damage(folder / "state.sqlite")
    before = snapshot(folder)
    for extra in ([], ["--resume"]):  # every later run says the same, none moves anything
        result = crawl(folder, small_replica.base, *extra)
        assert_one_line_error(result, 2, "state.sqlite", "damaged", "--reset-state")
        assert snapshot(folder) == before


def test_reset_state_moves_the_damaged_state_aside_and_crawls(
        folder: Path, small_replica: RunningReplica) -> None:
    damage(folder / "state.sqlite")
    damaged = (folder / "state.sqlite").read_bytes()
    result = crawl(folder, small_replica.base, "--reset-state")
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    aside = list(folder.glob("state.sqlite.damaged-*"))
    assert [p.read_bytes() for p in aside if not p.name.endswith(("-wal", "-shm"))] == [damaged]
    lines = (folder / "changes.jsonl").read_text("utf-8").splitlines()
    assert len(lines) == 20  # an empty state: every article is new again
    assert list((folder / "runs").glob("*/changes.jsonl"))  # the previous outputs kept


def test_a_sound_shared_state_path_is_not_reported(tmp_path: Path, small_replica: RunningReplica) -> None:
    result = crawl(tmp_path / "out", small_replica.base, "-s", f"ARCHIVER_STATE_PATH={tmp_path / 's.sqlite'}",
                   "--max-pages", "1")
    assert result.returncode == 0, result.stderr[-2000:]


@pytest.mark.parametrize("kind", ["a file", "under a file", "a name too long", "a path too long"])
def test_an_out_that_cannot_be_a_folder_is_a_one_line_error(
        tmp_path: Path, small_replica: RunningReplica, kind: str) -> None:
    (tmp_path / "file").write_text("x")
    out = {
        "a file": tmp_path / "file",
        "under a file": tmp_path / "file" / "out",
        "a name too long": tmp_path / ("n" * 300),
        "a path too long": tmp_path.joinpath(*["d" * 200] * 21),
    }[kind]
    result = crawl(out, small_replica.base)
    assert_one_line_error(result, 2, "--out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


@pytest.fixture
def read_only_dir(tmp_path: Path) -> Iterator[Path]:
    """A read-only file system (a tmpfs mounted ro: root ignores permission bits)."""
    target = tmp_path / "ro"
    target.mkdir()
    if os.geteuid() != 0:
        target.chmod(0o555)
        yield target
        target.chmod(0o755)
        return
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(target)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a read-only tmpfs here: {mounted.stderr.strip()}")
    try:
        yield target
    finally:
        subprocess.run(["umount", str(target)], check=True)


@pytest.mark.parametrize("inside", [False, True], ids=["the folder", "a folder under it"])
def test_a_read_only_out_is_a_one_line_error(read_only_dir: Path, small_replica: RunningReplica,
                                             inside: bool) -> None:
    out = read_only_dir / "out" if inside else read_only_dir
    result = crawl(out, small_replica.base)
    assert_one_line_error(result, 2, "--out")
