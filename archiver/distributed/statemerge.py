"""Merge incremental crawl states (SQLite, ``archiver/runtime/state.py``) from several workers.

Every worker keeps its own ``state.sqlite`` (SQLite must not be shared across machines).
During one run each URL is fetched by one worker only (the shared duplicate filter), so the
union of the workers' states, per URL the row seen last, is the state of the whole crawl.
``archiver merge`` writes that union; the next run's workers start from it
(``ARCHIVER_REDIS_STATE_FROM``). The union is idempotent and order-free: merging a state
twice, or in any order, gives the same rows.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from archiver.runtime.state import CrawlState, KnownCapture

logger = logging.getLogger(__name__)

_COLUMNS = tuple(name for name in KnownCapture.__dataclass_fields__ if name not in {"url", "first_seen"})


def _upsert_sql() -> str:
    names = ", ".join(("url", "first_seen", *_COLUMNS))
    newer = "excluded.last_seen > captures.last_seen"
    updates = ",\n    ".join(
        f"{name} = CASE WHEN {newer} THEN excluded.{name} ELSE captures.{name} END" for name in _COLUMNS
    )
    return (
        f"INSERT INTO captures ({names}) SELECT {names} FROM src.captures WHERE true\n"
        f"ON CONFLICT(url) DO UPDATE SET\n    first_seen = MIN(captures.first_seen, excluded.first_seen),\n"
        f"    {updates}"
    )


UPSERT = _upsert_sql()


def merge_state_files(target: Path, sources: Sequence[Path]) -> int:
    """Merge ``sources`` into ``target`` (created when missing); return the rows read from them.

    Per URL the row with the latest ``last_seen`` wins (validators, WARC location, record
    digest, gone mark); ``first_seen`` is the earliest of all.
    """
    state = CrawlState(target)
    try:
        return sum(_merge_one(state.db, target, source) for source in sources)
    finally:
        state.close()


def _merge_one(db: sqlite3.Connection, target: Path, source: Path) -> int:
    if not source.is_file():
        raise FileNotFoundError(f"no crawl state at {source}")
    if source.resolve() == target.resolve():
        return 0
    db.execute("ATTACH DATABASE ? AS src", (str(source),))
    try:
        db.execute("BEGIN IMMEDIATE")
        rows = int(db.execute("SELECT COUNT(*) FROM src.captures").fetchone()[0])
        db.execute(UPSERT)
        db.execute("COMMIT")
    except sqlite3.Error:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    finally:
        db.execute("DETACH DATABASE src")
    logger.info("merged %d crawl state row(s) from %s into %s", rows, source, target)
    return rows
