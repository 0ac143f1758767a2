"""What earlier runs archived of each requisite, in the crawl state (``state.sqlite``).

One row per requisite URL: the validators the server gave (``ETag``, ``Last-Modified``), the
payload digest, record id and WARC-Date of the last full capture (so the next run asks
conditionally, and a ``304`` or an identical payload becomes a ``revisit`` record pointing at
it), and, for a stylesheet, the references it holds (a ``304`` has no body to read them from).
A table of its own, beside ``captures``: requisites are not articles (incremental sweeps and
change detection never see them).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from archiver.runtime.state import CrawlState

SCHEMA = """
CREATE TABLE IF NOT EXISTS requisites (
    url TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    etag TEXT,
    last_modified TEXT,
    payload_digest TEXT,
    warc_target_uri TEXT,
    warc_record_id TEXT,
    warc_date TEXT,
    refs TEXT,
    last_seen TEXT NOT NULL
)
"""


@dataclass(frozen=True)
class KnownRequisite:
    url: str
    kind: str
    etag: str | None
    last_modified: str | None
    payload_digest: str | None
    warc_target_uri: str | None
    warc_record_id: str | None
    warc_date: str | None
    refs: str | None
    last_seen: str

    def prior_capture(self) -> dict[str, str] | None:
        """What a revisit record needs of the last full capture (``WARC-Refers-To*``), if known: the
        response record holding the payload (another URL's, when this one was an identical payload)."""
        if not (self.warc_record_id or self.warc_date):
            return None
        prior = {"target_uri": self.warc_target_uri or self.url}
        for key, value in (("warc_date", self.warc_date), ("record_id", self.warc_record_id),
                           ("payload_digest", self.payload_digest)):
            if value:
                prior[key] = value
        return prior

    def references(self) -> list[tuple[str, str]]:
        """(url, kind) of the requisites a stylesheet held when last fetched in full."""
        return [(url, kind) for url, kind in json.loads(self.refs or "[]")]


class RequisiteStore:
    """The ``requisites`` table, on the crawl's one state connection (its batched writes)."""

    def __init__(self, state: CrawlState) -> None:
        self.state = state
        # one statement (not executescript): it joins a batch transaction open on the connection
        state.db.execute(SCHEMA)

    def get(self, url: str) -> KnownRequisite | None:
        row = self.state.db.execute("SELECT * FROM requisites WHERE url = ?", (url,)).fetchone()
        return KnownRequisite(**dict(row)) if row else None

    def seen(self, url: str, kind: str, when: str) -> None:
        """A conditional answer (304): the capture it refers to stays the last full one."""
        self._execute("INSERT INTO requisites (url, kind, last_seen) VALUES (?, ?, ?) "
                      "ON CONFLICT(url) DO UPDATE SET last_seen = excluded.last_seen", (url, kind, when))

    def save(self, url: str, kind: str, when: str, *, etag: str | None, last_modified: str | None,
             capture: dict[str, str] | None, refs: list[tuple[str, str]] | None) -> None:
        """A full answer (200): its validators, and its WARC capture unless it was a revisit."""
        capture = capture or {}
        self._execute(
            "INSERT INTO requisites (url, kind, etag, last_modified, payload_digest, warc_target_uri, "
            "warc_record_id, warc_date, refs, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(url) DO UPDATE SET "
            "kind = excluded.kind, etag = excluded.etag, last_modified = excluded.last_modified, "
            "payload_digest = coalesce(excluded.payload_digest, payload_digest), "
            "warc_target_uri = coalesce(excluded.warc_target_uri, warc_target_uri), "
            "warc_record_id = coalesce(excluded.warc_record_id, warc_record_id), "
            "warc_date = coalesce(excluded.warc_date, warc_date), "
            "refs = coalesce(excluded.refs, refs), last_seen = excluded.last_seen",
            (url, kind, etag, last_modified, capture.get("payload_digest") or None,
             capture.get("target_uri") or (url if capture else None), capture.get("record_id") or None,
             capture.get("warc_date") or None, json.dumps(refs) if refs is not None else None, when))

    def __len__(self) -> int:
        return int(self.state.db.execute("SELECT COUNT(*) FROM requisites").fetchone()[0])

    def _execute(self, sql: str, params: tuple[object, ...]) -> None:
        # joins the crawl state's open batch transaction, if any (committed with it), else autocommits
        self.state.db.execute(sql, params)
