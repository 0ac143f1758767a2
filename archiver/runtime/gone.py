"""Articles the live site removed: their last archived record, flagged ``gone_since``.

A known article (in the crawl state) that now answers ``404`` or ``410``, or redirects to a page
that does (the 2025 removals redirected to a URL with ``dei`` in it that answers 404), is gone:
the state flags it (``gone_since``: the WARC-Date of the capture that showed it gone) and this
run's ``changes.jsonl`` carries the article's last cleaned record, read back from the WARC
``conversion`` record the state points to, with ``gone_since`` set and ``change: "gone"``; the
dataset (``articles.jsonl``, archiver/runtime/dataset.py) keeps the article flagged so. Its last capture
stays where it is (the record's ``warc`` pointer still names it); a gone article is not a failure.

A state written before conversion records were pointed to has only the response record's place:
the conversion record is then looked for after it, in the same file (it is written once the
article has been extracted, a few records later).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from warcio.archiveiterator import ArchiveIterator

from archiver.runtime.state import KnownCapture

logger = logging.getLogger(__name__)

#: statuses that say an article is no more
GONE_STATUSES = frozenset({404, 410})
#: request.meta key: ``{"url": ..., "since": ...}`` of a known article found gone
META_GONE = "archiver_gone"
#: request.meta key: the known URL a request asks for on the live site (an article harvested from a
#: web archive, known under its archived URL: ``https://www.defense.gov/News/...`` asked at the same
#: path of the crawled site)
META_KNOWN_AS = "archiver_known_as"
#: records looked through after the response record for its conversion record (older states)
_SCAN_RECORDS = 2000


def last_record(capture: KnownCapture, warc_dir: Path) -> dict[str, Any] | None:
    """The last cleaned record of a known article, from the WARC, or None if it cannot be found."""
    try:
        if capture.conversion_filename and capture.conversion_offset is not None:
            return _read_conversion(warc_dir / capture.conversion_filename, capture.conversion_offset)
        if capture.warc_filename and capture.warc_offset is not None and capture.warc_record_id:
            return _find_conversion(warc_dir / capture.warc_filename, capture.warc_offset,
                                    capture.warc_record_id)
    except (OSError, ValueError) as exc:
        logger.warning("the last record of %s could not be read: %s", capture.url, exc, exc_info=True)
    return None


def gone_record(record: dict[str, Any], since: str) -> dict[str, Any]:
    """``record`` flagged as removed from the live site since ``since`` (ISO 8601)."""
    return {**record, "change": "gone", "gone_since": since}


def _read_conversion(path: Path, offset: int) -> dict[str, Any] | None:
    with path.open("rb") as fh:
        fh.seek(offset)
        for record in ArchiveIterator(fh):
            if record.rec_type != "conversion":
                return None
            return _payload(record)
    return None


def _find_conversion(path: Path, offset: int, response_id: str) -> dict[str, Any] | None:
    with path.open("rb") as fh:
        fh.seek(offset)
        for number, record in enumerate(ArchiveIterator(fh)):
            if number > _SCAN_RECORDS:
                break
            refers_to = record.rec_headers.get_header("WARC-Refers-To")
            if record.rec_type == "conversion" and refers_to == response_id:
                return _payload(record)
    return None


def _payload(record: Any) -> dict[str, Any] | None:
    found = json.loads(record.content_stream().read().decode("utf-8"))
    return found if isinstance(found, dict) else None
