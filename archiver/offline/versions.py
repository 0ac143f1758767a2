"""``archiver versions DIR ARTICLE_ID``: every archived version of one article, with its capture time.

``articles.jsonl`` holds an article's latest version only; the earlier ones stay in the WARC files:
the raw response of each capture, and next to it the ``conversion`` record holding the cleaned
record written from it (``WARC-Refers-To`` the response; pipelines/conversion.py). A crawl writes a
conversion record for each new or updated version (an unchanged article gets none), so the
conversion records of an article are its versions. They are found by reading the folder's WARC
files once, record by record (conversion records are not in the CDXJ index: it lists what a replay
needs), keeping only the small JSON payloads of the article asked for.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from warcio.archiveiterator import ArchiveIterator

from archiver.runtime.state import record_digest

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Version:
    """One archived version: the cleaned record and where its conversion record is."""

    record: dict[str, Any]
    filename: str
    offset: int

    @property
    def fetched_at(self) -> str:
        return str(self.record.get("fetched_at") or "")

    def as_dict(self) -> dict[str, Any]:
        return {**self.record, "conversion": {"filename": self.filename, "offset": self.offset}}


def article_versions(folder: Path, article_id: str) -> list[Version]:
    """The versions of ``article_id`` in ``folder/warc/*.warc.gz`` (also a re-extraction's WARCs),
    oldest capture first; the same content captured twice (a re-extraction of the same capture,
    a harvest of identical captures) is listed once, at its first capture."""
    found = sorted(_conversions(folder, article_id), key=lambda v: (v.fetched_at, v.filename, v.offset))
    seen: set[str] = set()
    versions = []
    for version in found:
        key = f"{version.fetched_at}|{record_digest(version.record)}"
        if key not in seen:
            seen.add(key)
            versions.append(version)
    return versions


def _conversions(folder: Path, article_id: str) -> Iterator[Version]:
    for path in sorted((folder / "warc").glob("*.warc.gz")):
        with path.open("rb") as stream:
            records = ArchiveIterator(stream)
            for record in records:
                if record.rec_type != "conversion":
                    continue
                try:
                    payload = json.loads(record.content_stream().read().decode("utf-8"))
                except (ValueError, UnicodeDecodeError):
                    logger.warning("%s:%d: a conversion record that is not JSON", path, records.offset)
                    continue
                if isinstance(payload, dict) and str(payload.get("article_id")) == article_id:
                    yield Version(payload, path.name, records.offset)


def render_versions(article_id: str, versions: list[Version]) -> str:
    """A table: capture time, change, title, where the raw response and the conversion record are."""
    if not versions:
        return f"no archived version of article {article_id}\n"
    lines = [f"{len(versions)} version(s) of article {article_id}, oldest first:"]
    for number, version in enumerate(versions, 1):
        record, warc = version.record, version.record.get("warc") or {}
        change, title = record.get("change", ""), record.get("title", "")
        lines.append(f"  {number}. {version.fetched_at}  {change}  {title}")
        lines.append(f"     response {warc.get('filename')}:{warc.get('offset')}  "
                     f"conversion {version.filename}:{version.offset}")
    return "\n".join(lines) + "\n"
