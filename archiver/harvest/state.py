"""What a harvest keeps in ``state.sqlite``: its queries, the captures they listed, its marks.

- ``harvest_queries``: one row per CDX query of the run (index × URL space) with the cursor of its
  next page; a page's captures and the new cursor are written in the same transaction, so a
  ``kill -9`` loses at most pages that are asked again (``INSERT OR IGNORE``: never twice).
- ``harvest_captures``: every listed capture worth fetching, on disk rather than in memory; after
  the listing, :meth:`HarvestState.choose` marks those to fetch (``--captures latest|earliest|all``)
  and the spider streams them in order; ``outcome`` records how each fetch ended.
- ``harvest_marks``: per query, the newest capture time the last finished harvest listed: the next
  harvest into the folder asks only for what is newer.

It shares the crawl's connection (:func:`archiver.runtime.state.crawl_state`): writes are batched there.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from archiver.harvest.captures import Capture, timestamp_datetime, timestamp_of_datetime
from archiver.runtime.state import CrawlState

SCHEMA = """
CREATE TABLE IF NOT EXISTS harvest_queries (
    name TEXT PRIMARY KEY,
    endpoint TEXT NOT NULL,
    index_name TEXT NOT NULL,
    space TEXT NOT NULL,
    since TEXT,
    cursor TEXT NOT NULL DEFAULT '',
    done INTEGER NOT NULL DEFAULT 0,
    newest TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS harvest_captures (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    original TEXT NOT NULL,
    timestamp TEXT NOT NULL,
    digest TEXT NOT NULL,
    index_name TEXT NOT NULL,
    data TEXT NOT NULL,
    chosen INTEGER NOT NULL DEFAULT 0,
    outcome TEXT,
    result_url TEXT,
    result_time TEXT,
    UNIQUE (original, timestamp, index_name)
);
CREATE INDEX IF NOT EXISTS harvest_captures_key ON harvest_captures(key, timestamp);
CREATE TABLE IF NOT EXISTS harvest_marks (
    name TEXT PRIMARY KEY,
    newest TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS harvest_run (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""

MODES = ("latest", "earliest", "all")
#: captures handed to the spider per read (the scheduler holds only a few of them at a time)
BATCH = 200


class HarvestState:
    """The harvest's tables in a :class:`~archiver.runtime.state.CrawlState` database."""

    def __init__(self, state: CrawlState) -> None:
        self.state = state
        self.db = state.db
        state.commit()  # executescript() commits any open transaction: end the batch first
        self.db.executescript(SCHEMA)

    # -- the run ------------------------------------------------------------------------------------

    def unfinished_run(self) -> bool:
        """Whether the folder holds a harvest that did not finish (``--resume`` continues it)."""
        row = self.db.execute("SELECT value FROM harvest_run WHERE name = 'finished'").fetchone()
        return row is not None and row[0] == "0"

    def start_run(self, archive: str, mode: str) -> None:
        """A new harvest: forget the previous run's queries and captures (its marks stay)."""
        self.state._write("DELETE FROM harvest_queries")
        self.state._write("DELETE FROM harvest_captures")
        self._set("finished", "0")
        self._set("archive", archive)
        self._set("mode", mode)

    def finish_run(self) -> None:
        """The harvest ended normally: its queries' newest capture times become the marks."""
        self.state._write(
            "INSERT INTO harvest_marks (name, newest) SELECT name, newest FROM harvest_queries "
            "WHERE done = 1 AND newest != '' ON CONFLICT(name) DO UPDATE SET newest = "
            "MAX(harvest_marks.newest, excluded.newest)")
        self._set("finished", "1")
        self.state.commit()

    def _set(self, name: str, value: str) -> None:
        self.state._write("INSERT INTO harvest_run (name, value) VALUES (?, ?) "
                          "ON CONFLICT(name) DO UPDATE SET value = excluded.value", (name, value))

    # -- queries ------------------------------------------------------------------------------------

    def add_query(self, name: str, endpoint: str, index_name: str, space: str, since: str | None) -> None:
        """Register a query (kept as it is when a resumed run registers it again)."""
        mark = self.db.execute("SELECT newest FROM harvest_marks WHERE name = ?", (name,)).fetchone()
        if mark is not None:  # a later harvest: only captures after the last one listed
            after = timestamp_of_datetime(timestamp_datetime(mark[0]) + timedelta(seconds=1))
            since = max(since or "", after)
        self.state._write("INSERT OR IGNORE INTO harvest_queries (name, endpoint, index_name, space, since) "
                          "VALUES (?, ?, ?, ?, ?)", (name, endpoint, index_name, space, since or None))

    def open_queries(self) -> list[sqlite3.Row]:
        return list(self.db.execute("SELECT * FROM harvest_queries WHERE done = 0 ORDER BY rowid"))

    def query(self, name: str) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.db.execute("SELECT * FROM harvest_queries WHERE name = ?",
                                                  (name,)).fetchone()
        return row

    def page_listed(self, name: str, captures: list[Capture], index_name: str, next_cursor: str | None,
                    newest: str) -> int:
        """Store a page's captures and move the query to its next page (one batch); returns how
        many captures were new."""
        before = self.db.total_changes
        self.state._write(
            "INSERT OR IGNORE INTO harvest_captures (key, original, timestamp, digest, index_name, data) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(c.key, c.original, c.timestamp, c.digest, index_name, json.dumps(c.as_dict()))
             for c in captures], many=True)
        added = self.db.total_changes - before
        self.state._write(
            "UPDATE harvest_queries SET cursor = ?, done = ?, newest = MAX(newest, ?) WHERE name = ?",
            (next_cursor or "", 0 if next_cursor else 1, newest, name))
        return added

    # -- choosing and fetching ----------------------------------------------------------------------

    def choose(self, mode: str) -> int:
        """Mark the captures to fetch: per article key the latest (or earliest) capture, or with
        ``all`` the first capture of each distinct payload digest of each key. Returns how many."""
        if mode not in MODES:
            raise ValueError(f"--captures must be one of {', '.join(MODES)}: {mode!r}")
        order = "timestamp DESC" if mode == "latest" else "timestamp ASC"
        partition = "key, digest" if mode == "all" else "key"
        self.state._write("UPDATE harvest_captures SET chosen = 0")
        self.state._write(
            f"UPDATE harvest_captures SET chosen = 1 WHERE id IN (SELECT id FROM (SELECT id, "
            f"ROW_NUMBER() OVER (PARTITION BY {partition} ORDER BY {order}, id) AS rank "
            f"FROM harvest_captures) WHERE rank = 1)")
        self.state.commit()
        return int(self.db.execute("SELECT COUNT(*) FROM harvest_captures WHERE chosen = 1").fetchone()[0])

    def to_fetch(self, mode: str) -> Iterator[tuple[int, dict[str, Any]]]:
        """The chosen captures not fetched yet, ``(id, capture data)``, newest first for ``latest``
        (so the first version of an article kept is the latest), oldest first otherwise; read in
        batches, never all at once."""
        order = "DESC" if mode == "latest" else "ASC"
        last: tuple[str, int] | None = None
        while True:
            sql = "SELECT id, timestamp, data, index_name FROM harvest_captures WHERE chosen = 1 " \
                  "AND outcome IS NULL"
            params: tuple[Any, ...] = ()
            if last is not None:
                cmp = "<" if order == "DESC" else ">"
                sql += f" AND (timestamp, id) {cmp} (?, ?)"
                params = last
            rows = self.db.execute(f"{sql} ORDER BY timestamp {order}, id {order} LIMIT {BATCH}",
                                   params).fetchall()
            if not rows:
                return
            for row in rows:
                data = json.loads(row["data"])
                data["index"] = row["index_name"]
                yield int(row["id"]), data
            last = (rows[-1]["timestamp"], int(rows[-1]["id"]))

    def settle(self, capture_id: int, outcome: str, url: str = "", fetched_at: str = "") -> None:
        """How a capture's fetch ended: ``written`` (an article record, by url and time),
        ``failed`` (in failures.jsonl), ``skipped`` (not an article, out of range)."""
        self.state._write("UPDATE harvest_captures SET outcome = ?, result_url = ?, result_time = ? "
                          "WHERE id = ?", (outcome, url or None, fetched_at or None, capture_id))

    def reopen_lost(self, written: set[tuple[str, str]], failed: set[str], name_of: Any) -> int:
        """Before resuming, set the outcomes right where the process died between an output line and
        the state's commit: a capture settled ``written`` whose record is not in articles.jsonl is
        fetched again (the line was still buffered); one whose failure is in failures.jsonl (written
        at once) counts as failed, not asked again. ``name_of(data)``: a capture's name in
        failures.jsonl. Returns how many are fetched again."""
        lost, failed_ids = [], []
        rows = self.db.execute("SELECT id, outcome, result_url, result_time, data FROM harvest_captures "
                               "WHERE outcome = 'written' OR (outcome IS NULL AND chosen = 1)")
        for row in rows:
            if name_of(json.loads(row["data"])) in failed:
                failed_ids.append(row["id"])
            elif row["outcome"] == "written" and (row["result_url"], row["result_time"]) not in written:
                lost.append(row["id"])
        self.state._write("UPDATE harvest_captures SET outcome = NULL WHERE id = ?",
                          [(i,) for i in lost], many=True)
        self.state._write("UPDATE harvest_captures SET outcome = 'failed' WHERE id = ?",
                          [(i,) for i in failed_ids], many=True)
        self.state.commit()
        return len(lost)

    def counts(self) -> dict[str, int]:
        row = self.db.execute(
            "SELECT COUNT(*), SUM(chosen), SUM(outcome IS NOT NULL) FROM harvest_captures").fetchone()
        return {"listed": int(row[0] or 0), "chosen": int(row[1] or 0), "settled": int(row[2] or 0)}
