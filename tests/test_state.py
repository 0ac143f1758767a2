"""The crawl state's batched commits (archiver/runtime/state.py): one connection, writes grouped."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from scrapy import signals
from scrapy.utils.test import get_crawler

from archiver.runtime.state import CrawlState, crawl_state


def frontier_rows(path: Path) -> int:
    """What another process sees: committed rows only."""
    with sqlite3.connect(str(path)) as other:
        return int(other.execute("SELECT COUNT(*) FROM frontier").fetchone()[0])


def test_a_batch_is_invisible_outside_until_committed(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    state = CrawlState(path, commit_every=3600)
    assert state.discover("https://x/a", "article")
    assert not state.discover("https://x/a", "article")  # the batch sees its own writes
    state.finish("https://x/a")
    assert frontier_rows(path) == 0
    state.commit()
    assert frontier_rows(path) == 1
    state.discover("https://x/b", "article")
    state.close()  # commits what is left
    assert frontier_rows(path) == 2


def test_an_old_batch_is_committed_at_the_next_write(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    state = CrawlState(path, commit_every=1e-9)
    state.discover("https://x/a", "article")
    state.save("https://x/a", "2026-01-01T00:00:00Z", etag='"e"')  # the batch is old by now
    assert frontier_rows(path) == 1
    assert CrawlState(path).get("https://x/a") is not None
    state.close()


def test_without_batching_every_write_commits(tmp_path: Path) -> None:
    path = tmp_path / "state.sqlite"
    state = CrawlState(path)
    state.discover("https://x/a", "article")
    assert frontier_rows(path) == 1
    state.close()


def test_a_crawl_shares_one_connection_committed_when_idle_and_at_the_end(tmp_path: Path) -> None:
    crawler = get_crawler(settings_dict={"ARCHIVER_OUT_DIR": str(tmp_path), "MEMUSAGE_ENABLED": False,
                                         "ARCHIVER_STATE_COMMIT_SECONDS": 3600})
    state = crawl_state(crawler)
    assert state is not None
    assert crawl_state(crawler) is state
    state.discover("https://x/a", "article")
    assert frontier_rows(state.path) == 0
    crawler.signals.send_catch_log(signals.spider_idle)
    assert frontier_rows(state.path) == 1
    state.discover("https://x/b", "article")
    crawler.signals.send_catch_log(signals.engine_stopped)
    assert frontier_rows(state.path) == 2


def test_no_state_without_an_output_folder() -> None:
    assert crawl_state(get_crawler(settings_dict={"MEMUSAGE_ENABLED": False})) is None
