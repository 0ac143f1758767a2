"""Crawl state for incremental runs: what was fetched before, in SQLite.

One row per URL: the validators the server gave (``ETag``, ``Last-Modified``), the payload
digest and WARC location of the last full capture (so a later identical fetch is archived as a
``revisit`` pointing at it), the article id and a digest of the cleaned record (so "updated"
means the article changed, not that a page's boilerplate did), first/last seen, and when it
went missing. The database lives in the output folder by default (``state.sqlite``); one crawl
at a time uses it (see ``archiver.lock``). SQLite is not safe to share across machines: see
docs/distributed.md.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS captures (
    url TEXT PRIMARY KEY,
    article_id TEXT,
    etag TEXT,
    last_modified TEXT,
    payload_digest TEXT,
    record_digest TEXT,
    warc_filename TEXT,
    warc_offset INTEGER,
    warc_length INTEGER,
    warc_record_id TEXT,
    warc_date TEXT,
    status INTEGER,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    gone_since TEXT,
    conversion_filename TEXT,
    conversion_offset INTEGER,
    conversion_length INTEGER
);
CREATE INDEX IF NOT EXISTS captures_article ON captures(article_id);
CREATE TABLE IF NOT EXISTS frontier (
    url TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    data TEXT NOT NULL DEFAULT '{}',
    done INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS frontier_pending ON frontier(done);
"""

STATE_FILE = "state.sqlite"
#: columns added since the first state files: added to an older file when it is opened
_ADDED_COLUMNS = {"conversion_filename": "TEXT", "conversion_offset": "INTEGER",
                  "conversion_length": "INTEGER"}

PROVENANCE_FIELDS = frozenset({"fetched_at", "warc", "extractor_version", "change", "url", "source"})


@dataclass(frozen=True)
class KnownCapture:
    url: str
    article_id: str | None
    etag: str | None
    last_modified: str | None
    payload_digest: str | None
    record_digest: str | None
    warc_filename: str | None
    warc_offset: int | None
    warc_length: int | None
    warc_record_id: str | None
    warc_date: str | None
    status: int | None
    first_seen: str
    last_seen: str
    gone_since: str | None
    #: where the WARC ``conversion`` record of the article's last cleaned record is (what a gone
    #: article's record is read back from, archiver/gone.py)
    conversion_filename: str | None = None
    conversion_offset: int | None = None
    conversion_length: int | None = None

    def prior_capture(self) -> dict[str, str]:
        """What a revisit record needs of this capture (``WARC-Refers-To*``)."""
        prior = {"target_uri": self.url}
        if self.warc_date:
            prior["warc_date"] = self.warc_date
        if self.warc_record_id:
            prior["record_id"] = self.warc_record_id
        if self.payload_digest:
            prior["payload_digest"] = self.payload_digest
        return prior


def state_path(settings: Any) -> Path | None:
    """``ARCHIVER_STATE_PATH``, else ``<ARCHIVER_OUT_DIR>/state.sqlite``, else None (Scrapy settings)."""
    explicit = settings.get("ARCHIVER_STATE_PATH")
    if explicit:
        return Path(explicit)
    out = settings.get("ARCHIVER_OUT_DIR")
    return Path(out) / STATE_FILE if out else None


def crawl_state(crawler: Any) -> CrawlState | None:
    """The crawl's one connection to its state (``None`` without a state path), shared by the
    spider's frontier, the conditional-GET middleware and the change pipeline: writes are batched
    (``ARCHIVER_STATE_COMMIT_SECONDS``), so they must share one connection (two connections would
    wait on each other's open transaction). Committed when the spider goes idle and closed, with a
    last commit, when the engine stops."""
    path = state_path(crawler.settings)
    if path is None:
        return None
    state: CrawlState | None = getattr(crawler, "_archiver_state", None)
    if state is None or state.path != path:
        from scrapy import signals

        every = crawler.settings.getfloat("ARCHIVER_STATE_COMMIT_SECONDS")
        state = CrawlState(path, commit_every=every)
        crawler._archiver_state = state  # the crawler holds it: the signals hold their receivers weakly
        crawler.signals.connect(state.commit, signal=signals.spider_idle)
        crawler.signals.connect(state.close, signal=signals.engine_stopped)
    return state


def commit_crawl_state(crawler: Any) -> None:
    """Commit the batch of the crawl's shared state connection, if :func:`crawl_state` opened one
    (before another process or connection reads or merges the file)."""
    state: CrawlState | None = getattr(crawler, "_archiver_state", None)
    if state is not None:
        state.commit()


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def record_digest(record: dict[str, Any]) -> str:
    """Digest of a cleaned record's content (not where or when it was fetched)."""
    content = {k: v for k, v in record.items() if k not in PROVENANCE_FIELDS}
    blob = json.dumps(content, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return "sha256:" + hashlib.sha256(blob).hexdigest()


class CrawlState:
    """The SQLite state of one output folder (or a shared path)."""

    def __init__(self, path: Path, commit_every: float = 0.0) -> None:
        """``commit_every`` > 0: writes are grouped in one transaction, committed once it is that
        many seconds old (at the next write), by :meth:`commit` and by :meth:`close`. A crawl does
        this (:func:`crawl_state`): five statements an article, each its own transaction, cost it
        ~0.6 ms an article; batched, ~0.1 ms. A process killed mid-batch loses those writes only,
        which ``--resume`` tolerates (docs/decisions.md)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(str(path), isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        present = {row[1] for row in self.db.execute("PRAGMA table_info(captures)")}
        for name, kind in _ADDED_COLUMNS.items():
            if name not in present:
                self.db.execute(f"ALTER TABLE captures ADD COLUMN {name} {kind}")
        self.commit_every = commit_every
        self._batch_started: float | None = None

    def _write(self, sql: str, params: Any = (), many: bool = False) -> sqlite3.Cursor:
        if self.commit_every <= 0:
            return self.db.executemany(sql, params) if many else self.db.execute(sql, params)
        now = time.monotonic()
        if self._batch_started is None:
            self.db.execute("BEGIN")
            self._batch_started = now
        cursor = self.db.executemany(sql, params) if many else self.db.execute(sql, params)
        if now - self._batch_started >= self.commit_every:
            self.commit()
        return cursor

    def commit(self) -> None:
        """Commit the writes of the current batch (nothing to do without one)."""
        if self._batch_started is not None:
            self._batch_started = None
            self.db.execute("COMMIT")

    def close(self) -> None:
        self.commit()
        self.db.close()

    def get(self, url: str) -> KnownCapture | None:
        row = self.db.execute("SELECT * FROM captures WHERE url = ?", (url,)).fetchone()
        return KnownCapture(**dict(row)) if row else None

    def __len__(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM captures").fetchone()[0])

    def save(self, url: str, seen_at: str, **values: Any) -> None:
        """Insert or update ``url``'s row with ``values`` (column names), marking it seen now."""
        columns = {k: v for k, v in values.items() if k in KnownCapture.__dataclass_fields__}
        if set(values) - set(columns):
            raise ValueError(f"unknown state columns: {sorted(set(values) - set(columns))}")
        columns.update(last_seen=seen_at, gone_since=None)
        names = ", ".join(columns)
        marks = ", ".join("?" for _ in columns)
        updates = ", ".join(f"{name} = excluded.{name}" for name in columns)
        self._write(
            f"INSERT INTO captures (url, first_seen, {names}) VALUES (?, ?, {marks}) "
            f"ON CONFLICT(url) DO UPDATE SET {updates}",
            (url, seen_at, *columns.values()),
        )

    def set_conversion(self, url: str, filename: str, offset: int, length: int) -> None:
        """Remember where the conversion record of ``url``'s last cleaned record is."""
        self._write("UPDATE captures SET conversion_filename = ?, conversion_offset = ?, "
                    "conversion_length = ? WHERE url = ?", (filename, offset, length, url))

    def not_seen_since(self, moment: str) -> list[str]:
        """Known URLs, not gone, that no fetch has touched since ``moment`` (ISO 8601)."""
        rows = self.db.execute(
            "SELECT url FROM captures WHERE last_seen < ? AND gone_since IS NULL ORDER BY url", (moment,))
        return [row[0] for row in rows]

    # -- the frontier of the current run (what makes --resume lose nothing) -------------------------

    def discover(self, url: str, kind: str, data: dict[str, Any] | None = None) -> bool:
        """Add ``url`` to this run's frontier; False when it was there already (seen this run)."""
        cursor = self._write("INSERT OR IGNORE INTO frontier (url, kind, data) VALUES (?, ?, ?)",
                                 (url, kind, json.dumps(data or {})))
        return cursor.rowcount > 0

    def finish(self, url: str) -> None:
        self._write("UPDATE frontier SET done = 1 WHERE url = ?", (url,))

    def reopen(self, urls: list[str]) -> None:
        self._write("UPDATE frontier SET done = 0 WHERE url = ?", [(u,) for u in urls], many=True)

    def pending(self) -> list[tuple[str, str, dict[str, Any]]]:
        """Frontier entries not finished: (url, kind, data), listings first."""
        rows = self.db.execute("SELECT url, kind, data FROM frontier WHERE done = 0 "
                               "ORDER BY kind = 'article', rowid")
        return [(url, kind, json.loads(data)) for url, kind, data in rows]

    def pending_count(self) -> int:
        """Frontier entries not finished (what ``--resume`` would ask)."""
        return int(self.db.execute("SELECT COUNT(*) FROM frontier WHERE done = 0").fetchone()[0])

    def frontier_articles_finished(self) -> list[tuple[str, bool]]:
        """Every article of the frontier with whether it was finished: (url, finished)."""
        return [(url, bool(done)) for url, done in
                self.db.execute("SELECT url, done FROM frontier WHERE kind = 'article'")]

    def frontier_size(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM frontier").fetchone()[0])

    def clear_frontier(self) -> None:
        self._write("DELETE FROM frontier")

    def forget_content(self, urls: list[str]) -> None:
        """Fetch these URLs in full next time and count their record as new (it was lost in a crash)."""
        self._write(
            "UPDATE captures SET record_digest = NULL, etag = NULL, last_modified = NULL WHERE url = ?",
            [(u,) for u in urls], many=True)

    def mark_gone(self, url: str, when: str) -> bool:
        """Record that a known URL is gone now (404, 410, a redirect to a 404); True when it was
        known and not gone yet."""
        cursor = self._write(
            "UPDATE captures SET gone_since = ?, last_seen = ? WHERE url = ? AND gone_since IS NULL",
            (when, when, url))
        return cursor.rowcount > 0
