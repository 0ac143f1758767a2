"""The current dataset of a folder: ``articles.jsonl``, every article once, its latest version.

A run writes its own records (new, updated, gone) to ``changes.jsonl`` (the crawl's feed); at the
end of the run this module merges the previous ``articles.jsonl`` with them into a new one. The
merge runs on disk, in a temporary SQLite file next to the output (one row per article: its key,
the digest of its content, its capture time and its line), so memory does not grow with the
number of articles; the result is written to a temporary file and renamed, so a run killed at any
moment leaves the previous dataset whole.

Rules (the same for the crawl, ``archiver merge`` and ``archiver reextract``, which is what makes
re-extraction give the same bytes):

- An article is keyed by ``article_id`` (a legacy id such as ``release:10242`` is its own key; a
  record without one by its ``url``).
- A record replaces the article's line when its content differs (:func:`content_digest`, which
  leaves out where and when it was fetched) and it is not older (``fetched_at``) than the line
  kept; its ``change`` is then ``updated`` when the article was in the dataset, else the
  record's own (``new``). A record with the same content keeps the earlier line (the first
  capture of the latest version).
- A page whose URL names another item than the id it gives (a page under ``/Article/9000301/``
  whose canonical link says ``9000300``: docs/reliability.md) never replaces a line taken from a
  URL of that id, and such a line gives way to the article's own page, as new: the article's own
  page wins whatever the order of the crawl (``other_page``).
- A gone record (``change: "gone"``, ``gone_since``) flags the line kept: the article's last
  version with ``change: "gone"`` and ``gone_since``; a later version of the article clears it. A
  version captured before ``gone_since`` (a web archive's capture, harvested after the live crawl
  saw the article removed) does not: it becomes the line kept, still flagged gone since then.
- Order: numeric ids by number, then legacy ids, then records without an id, by text
  (:func:`sort_key`): independent of the order of the crawl.
- Bytes: each line is ``json.dumps(record, ensure_ascii=False)`` with the fields of
  :data:`archiver.items.EXPORT_FIELDS` the record has, in that order (the crawl feed's bytes).
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archiver.addon import ARTICLES_FILE, CHANGES_FILE
from archiver.items import EXPORT_FIELDS
from archiver.runtime.state import record_digest
from archiver.site import article_id_of

logger = logging.getLogger(__name__)

DATASET_FILE = ARTICLES_FILE
__all__ = ["CHANGES_FILE", "DATASET_FILE", "DatasetBuilder", "rebuild_dataset", "update_dataset"]
#: rows written per SQLite transaction while building
_BATCH = 2000

_SCHEMA = """
CREATE TABLE articles (
    key TEXT PRIMARY KEY,
    digest TEXT NOT NULL,
    fetched_at TEXT NOT NULL,
    gone INTEGER NOT NULL,
    line TEXT NOT NULL,
    other INTEGER NOT NULL  -- the line came from a page whose URL names another item
) WITHOUT ROWID;
"""


def sort_key(record: dict[str, Any]) -> str:
    """The article's key, which is also its place in ``articles.jsonl``."""
    article_id = str(record.get("article_id") or "")
    if article_id.isdigit():
        return f"0:{int(article_id):020d}"
    if article_id:
        return f"1:{article_id}"
    return f"2:{record.get('url') or ''}"


def content_digest(record: dict[str, Any]) -> str:
    """What "the same version" means: the cleaned content, not where, when or whether gone."""
    return record_digest({k: v for k, v in record.items() if k != "gone_since"})


def dataset_line(record: dict[str, Any]) -> str:
    """The record as a line of ``articles.jsonl`` (no newline)."""
    return json.dumps({name: record[name] for name in EXPORT_FIELDS if name in record}, ensure_ascii=False)


def _names_other_item(record: dict[str, Any]) -> bool:
    """The record's ``url`` names an item, and not the one of its ``article_id``."""
    named = article_id_of(str(record.get("url") or ""))
    return named is not None and named != str(record.get("article_id") or "")


def is_gone(record: dict[str, Any]) -> bool:
    return bool(record.get("gone_since")) or record.get("change") == "gone"


@dataclass
class DatasetSummary:
    """What a build did (``report.json`` ``outputs.dataset``)."""

    articles: int = 0
    gone: int = 0
    applied: dict[str, int] = field(default_factory=lambda: {"new": 0, "updated": 0, "gone": 0,
                                                              "same": 0, "older": 0,
                                                              "other_page": 0})
    invalid_lines: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"file": DATASET_FILE, "articles": self.articles, "gone": self.gone,
                "applied": dict(self.applied), "invalid_lines": self.invalid_lines}


class DatasetBuilder:
    """Builds a new ``articles.jsonl`` from an earlier one and records applied in order, on disk."""

    def __init__(self, target: Path) -> None:
        self.target = target
        self.summary = DatasetSummary()
        self._db_path = target.with_name(f".{target.name}.build.sqlite")
        self._remove_db()
        self.db = sqlite3.connect(str(self._db_path), isolation_level=None)
        self.db.execute("PRAGMA journal_mode=OFF")
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.execute("PRAGMA cache_size=-8000")  # ~8 MB whatever the size of the dataset
        self.db.executescript(_SCHEMA)
        self._pending = 0
        self.db.execute("BEGIN")

    def _remove_db(self) -> None:
        for suffix in ("", "-journal", "-wal", "-shm"):
            Path(f"{self._db_path}{suffix}").unlink(missing_ok=True)

    # -- loading --------------------------------------------------------------------------------------

    def load(self, path: Path) -> None:
        """Take ``path`` (an earlier ``articles.jsonl``) as the dataset so far, as it is."""
        for record in self._records(path):
            self._put(sort_key(record), record)

    def apply_file(self, path: Path) -> None:
        """Apply every record of a ``changes.jsonl`` (or an older run's ``articles.jsonl``)."""
        for record in self._records(path):
            self.apply(record)

    def apply_all(self, records: Iterable[dict[str, Any]]) -> None:
        for record in records:
            self.apply(record)

    def apply(self, record: dict[str, Any], line: str | None = None) -> None:
        """One record of a run, by the rules of the module docstring.

        ``line``: the record's :func:`dataset_line` when the caller has it (its fields in
        ``EXPORT_FIELDS`` order, encoded as that does): written as it is when the record is new."""
        key = sort_key(record)
        row = self.db.execute("SELECT digest, fetched_at, gone, line, other FROM articles WHERE key = ?",
                              (key,)).fetchone()
        if is_gone(record):
            self._apply_gone(key, record, row)
            return
        other = _names_other_item(record)
        own_page = row is not None and row[4] and not other
        if row is not None and not own_page:
            digest, fetched_at, gone, line, kept_other = row
            if not kept_other and other:
                self.summary.applied["other_page"] += 1
                return
            if str(record.get("fetched_at") or "") < fetched_at:
                self.summary.applied["older"] += 1
                return
            if digest == content_digest(record) and not gone:
                self.summary.applied["same"] += 1
                return
            since = json.loads(line).get("gone_since") or "" if gone else ""
            if since and str(record.get("fetched_at") or "") < since:
                # captured while the article was still online: its last version, still gone
                self.summary.applied["older"] += 1
                if digest != content_digest(record):
                    self._put(key, {**record, "change": "gone", "gone_since": since}, other=other)
                return
        kept = {k: v for k, v in record.items() if k != "gone_since"}
        if row is not None and not own_page:
            kept["change"] = "updated"
        self.summary.applied["updated" if row is not None and not own_page else "new"] += 1
        if line is not None and (row is None or own_page) and "gone_since" not in record:
            self._put(key, kept, line, other)  # kept is the record itself: its line is the one given
        else:
            self._put(key, kept, other=other)

    def _apply_gone(self, key: str, record: dict[str, Any], row: tuple[Any, ...] | None) -> None:
        self.summary.applied["gone"] += 1
        if row is None:
            self._put(key, {**record, "change": "gone"})
            return
        last = json.loads(row[3])
        if row[2]:  # gone already: gone since the first time it was seen gone
            return
        self._put(key, {**last, "change": "gone", "gone_since": record.get("gone_since") or ""})

    def flag_gone(self, key: str, since: str) -> None:
        """Flag the article ``key`` gone since ``since`` (re-extraction: a later 404 capture)."""
        row = self.db.execute("SELECT line FROM articles WHERE key = ?", (key,)).fetchone()
        if row is not None:
            self._put(key, {**json.loads(row[0]), "change": "gone", "gone_since": since})

    def rows(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """(key, record) of every article not flagged gone, in order, a page at a time (the caller
        may flag rows meanwhile: each page is read after the previous one was handled)."""
        last = ""
        while True:
            page = self.db.execute("SELECT key, line FROM articles WHERE key > ? AND gone = 0 "
                                   "ORDER BY key LIMIT 500", (last,)).fetchall()
            if not page:
                return
            for key, line in page:
                yield key, json.loads(line)
            last = page[-1][0]

    def _put(self, key: str, record: dict[str, Any], line: str | None = None,
             other: bool | None = None) -> None:
        """Store ``record``'s line under ``key``; ``other``: whether its URL names another item
        (:func:`_names_other_item`, worked out here when the caller has not)."""
        if other is None:
            other = _names_other_item(record)
        self.db.execute(
            "INSERT INTO articles (key, digest, fetched_at, gone, line, other) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(key) DO UPDATE SET digest = excluded.digest, fetched_at = excluded.fetched_at, "
            "gone = excluded.gone, line = excluded.line, other = excluded.other",
            (key, content_digest(record), str(record.get("fetched_at") or ""), int(is_gone(record)),
             dataset_line(record) if line is None else line, int(other)))
        self._pending += 1
        if self._pending >= _BATCH:
            self.db.execute("COMMIT")
            self.db.execute("BEGIN")
            self._pending = 0

    def _records(self, path: Path) -> Iterator[dict[str, Any]]:
        if not path.exists():
            return
        with path.open(encoding="utf-8", errors="replace") as lines:
            for number, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except ValueError:
                    record = None
                if not isinstance(record, dict):
                    self.summary.invalid_lines += 1
                    logger.warning("%s:%d: not a JSON record; left out of the dataset", path, number)
                    continue
                yield record

    # -- writing --------------------------------------------------------------------------------------

    def write(self) -> DatasetSummary:
        """Write the dataset to a temporary file, then rename it over :attr:`target`."""
        self.db.execute("COMMIT")
        tmp = self.target.with_name(f".{self.target.name}.part")
        try:
            with tmp.open("w", encoding="utf-8") as out:
                cursor = self.db.execute("SELECT gone, line FROM articles ORDER BY key")
                for gone, line in _iterate(cursor):
                    out.write(line + "\n")
                    self.summary.articles += 1
                    self.summary.gone += gone
                out.flush()
                os.fsync(out.fileno())
            tmp.replace(self.target)
        finally:
            tmp.unlink(missing_ok=True)
            self.close()
        return self.summary

    def close(self) -> None:
        self.db.close()
        self._remove_db()


def _iterate(cursor: sqlite3.Cursor) -> Iterator[Any]:
    while rows := cursor.fetchmany(500):
        yield from rows


def update_dataset(folder: Path, changes: Iterable[Path] = ()) -> DatasetSummary:
    """``folder/articles.jsonl`` with the records of ``changes`` applied (default: the folder's
    ``changes.jsonl``). Applying the same changes twice gives the same file (idempotent), so a run
    that is resumed, or a folder whose last build was cut short, is simply built again."""
    target = folder / DATASET_FILE
    builder = DatasetBuilder(target)
    try:
        builder.load(target)
        for path in list(changes) or [folder / CHANGES_FILE]:
            builder.apply_file(path)
    except BaseException:
        builder.close()
        raise
    summary = builder.write()
    logger.info("%s: %d articles (%d gone)", target, summary.articles, summary.gone)
    return summary


def rebuild_dataset(folder: Path, run_files: Iterable[Path]) -> DatasetSummary:
    """``folder/articles.jsonl`` from the records of every run, oldest first (no earlier dataset)."""
    builder = DatasetBuilder(folder / DATASET_FILE)
    try:
        for path in run_files:
            builder.apply_file(path)
    except BaseException:
        builder.close()
        raise
    return builder.write()
