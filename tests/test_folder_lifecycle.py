"""A crawl folder over its life: quiet nights, merged folders, a state shared by two folders."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from archiver.replica.process import RunningReplica, replica
from tests.harness import FAST, crawl

ARTICLES = 20


@pytest.fixture(scope="module")
def small_replica() -> Iterator[RunningReplica]:
    with replica("--articles", str(ARTICLES), "--seed", "5", "--crawl-delay", "0") as running:
        yield running


def verify(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "archiver", "verify", *map(str, args)],
                          capture_output=True, text=True, timeout=300)


def pages(wacz: Path) -> list[dict]:
    with zipfile.ZipFile(wacz) as archive:
        lines = archive.read("pages/pages.jsonl").decode("utf-8").splitlines()
    return [page for page in map(json.loads, lines) if "format" not in page]


# -- a quiet night ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def quiet(small_replica: RunningReplica, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("quiet") / "out"
    for _ in range(2):  # the second run finds nothing new
        result = crawl(out, small_replica.base)
        assert result.returncode == 0, result.stderr[-2000:]
    return out


def test_a_quiet_run_has_no_changes_of_its_own(quiet: Path) -> None:
    assert (quiet / "changes.jsonl").read_text("utf-8") == ""
    assert len((quiet / "articles.jsonl").read_text("utf-8").splitlines()) == ARTICLES  # the dataset


def test_a_quiet_runs_wacz_lists_the_pages_of_every_run(quiet: Path) -> None:
    first = [json.loads(line) for line in next(quiet.glob("runs/*/changes.jsonl")).read_text().splitlines()]
    assert len(first) == ARTICLES
    assert sorted(p["url"] for p in pages(quiet / "archive.wacz")) == sorted(a["url"] for a in first)


def test_a_quiet_run_passes_verify(quiet: Path) -> None:
    result = verify(quiet)
    assert result.returncode == 0, result.stdout


# -- archiver merge --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def merged(small_replica: RunningReplica, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("merge")
    for name, section in (("a", "news-stories"), ("b", "releases")):
        result = crawl(root / name, small_replica.base, "--sections", section, "-s", f"WARC_WORKER={name}")
        assert result.returncode == 0, result.stderr[-2000:]
    done = subprocess.run([sys.executable, "-m", "archiver", "merge", str(root / "a"), str(root / "b"),
                           "--out", str(root / "merged")], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr[-2000:]
    return root / "merged"


def test_a_merged_folder_passes_verify(merged: Path) -> None:
    assert (merged / "indexes" / "index.cdxj").exists()
    result = verify(merged)
    assert result.returncode == 0, result.stdout


def test_verify_names_a_wrong_line_of_a_merged_index(merged: Path, tmp_path: Path) -> None:
    import shutil

    copy = Path(shutil.copytree(merged, tmp_path / "merged"))
    index = copy / "indexes" / "index.cdxj"
    lines = index.read_text("utf-8").splitlines()
    key, stamp, fields = lines[2].split(" ", 2)
    moved = json.loads(fields)
    moved["offset"] = str(int(moved["offset"]) + 1)
    lines[2] = f"{key} {stamp} {json.dumps(moved)}"
    index.write_text("\n".join(lines) + "\n", "utf-8")
    result = verify(copy)
    assert result.returncode == 1
    assert "indexes/index.cdxj:3: points to offset" in result.stdout


# -- one ARCHIVER_STATE_PATH, two folders ----------------------------------------------------------


def crawl_process(out: Path, site: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "archiver", "crawl", "--site", site, "--out", str(out),
                             *FAST, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_a_second_crawl_on_a_shared_state_exits_3_while_the_first_runs(
        small_replica: RunningReplica, tmp_path: Path) -> None:
    state = tmp_path / "shared" / "state.sqlite"
    shared = ["-s", f"ARCHIVER_STATE_PATH={state}"]
    # the first crawl waits 1 s between requests: it holds the state for ~30 s
    first = crawl_process(tmp_path / "a", small_replica.base, *shared, "-s", "DOWNLOAD_DELAY=1")
    try:
        lock = state.with_name("state.sqlite.lock")
        deadline = time.monotonic() + 60
        while not lock.exists() and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert lock.exists(), "the first crawl never took the state's lock"
        second = crawl(tmp_path / "b", small_replica.base, *shared)
        assert first.poll() is None, "the first crawl ended before the second was refused"
    finally:
        first.send_signal(signal.SIGKILL)
        first.communicate()
    assert second.returncode == 3, second.stdout + second.stderr[-2000:]
    assert f"the crawl state {state} is in use by another crawl (pid {first.pid}" in second.stderr
    assert not list((tmp_path / "b").glob("warc/*"))  # nothing crawled into the second folder


@pytest.fixture(scope="module")
def sharing(small_replica: RunningReplica, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two folders crawled one after the other with one ARCHIVER_STATE_PATH (docs/scheduling.md)."""
    root = tmp_path_factory.mktemp("sharing")
    for name in ("a", "b"):
        # without requisites: the revisits counted below are the articles' (the requisites' 304
        # revisits refer to folder a's captures too)
        result = crawl(root / name, small_replica.base, "--no-requisites",
                       "-s", f"ARCHIVER_STATE_PATH={root / 'state.sqlite'}")
        assert result.returncode == 0, result.stderr[-2000:]
    return root


def test_verify_names_revisits_whose_original_is_in_another_folder(sharing: Path) -> None:
    result = verify(sharing / "b")
    assert result.returncode == 1
    problems = [line for line in result.stdout.splitlines() if "its original (WARC-Refers-To)" in line]
    assert len(problems) == ARTICLES  # every article was a 304 revisit of folder a's capture
    assert "--with OTHER_DIR" in problems[0]


def test_verify_with_the_other_folder_says_where_the_originals_are(sharing: Path) -> None:
    result = verify(sharing / "b", "--with", sharing / "a")
    assert result.returncode == 0, result.stdout
    assert f"originals of {ARTICLES} in {sharing / 'a'}" in result.stdout
