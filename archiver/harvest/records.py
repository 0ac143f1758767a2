"""A capture fetched from an archive, as WARC records under its original URL and capture time.

Replay tools (pywb, ReplayWeb.page) look a page up by ``WARC-Target-URI`` and ``WARC-Date``; for a
harvested capture those must be the page's original URL and the time the archive captured it, not
the archive's ``id_`` URL and the time of our fetch. What the harvest itself did is kept beside:

- a Wayback/pywb capture becomes a ``response`` record: ``WARC-Target-URI`` the original URL,
  ``WARC-Date`` the capture time, the HTTP status line, headers and body as the archive sent them
  for the ``id_`` URL (the archive's own ``Memento-Datetime``/``Link`` headers included: they say
  where the bytes came from), plus ``WARC-Source-URI`` (the ``id_`` URL), ``WARC-Creation-Date``
  (when we fetched it; both from the WARC extensions proposals) and ``Archiver-Source`` (the
  record's ``source`` object as JSON);
- a Common Crawl capture is already a WARC record: its gzip member is appended byte for byte
  (its own ``WARC-Record-ID``, date and digests stay valid);
- either is followed by a ``metadata`` record (``WARC-Refers-To`` the capture record) holding the
  provenance as JSON: archive, capture URL, request headers we sent, when.
"""

from __future__ import annotations

import gzip
import io
import json
import zlib
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from warcio.archiveiterator import ArchiveIterator

from archiver.warc.index import CdxjEntry, cdxj_entry_of
from archiver.warc.records import (
    HttpExchange,
    clean_header_value,
    new_record_id,
    serialize_archived_response,
    serialize_metadata,
    warc_date,
)
from archiver.warc.writer import EncodedRecord, encode_serialized

#: WARC header holding the record's ``source`` object (JSON) on a harvested response record
SOURCE_HEADER = "Archiver-Source"


class RangeAnswerError(ValueError):
    """A Range answer that is not the complete WARC record the index promised (retry it)."""


def capture_response(exchange: HttpExchange, original: str, captured_at: datetime,
                     source: dict[str, Any], gzip_level: int) -> EncodedRecord:
    """The ``response`` record of a raw capture, under ``original`` at ``captured_at``."""
    archived = replace(exchange, url=original, fetched_at=captured_at, ip_address=None)
    extra = [("WARC-Source-URI", clean_header_value(exchange.url)),
             ("WARC-Creation-Date", warc_date(exchange.fetched_at)),
             (SOURCE_HEADER, clean_header_value(json.dumps(source, sort_keys=True)))]
    return encode_serialized(serialize_archived_response(archived, new_record_id(), extra), gzip_level)


def provenance_record(target_uri: str, refers_to: str, provenance: dict[str, Any], when: datetime,
                      gzip_level: int) -> EncodedRecord:
    """The ``metadata`` record next to a harvested capture: how it was fetched, as JSON."""
    payload = json.dumps(provenance, sort_keys=True, ensure_ascii=False).encode("utf-8")
    record = serialize_metadata(payload, target_uri=target_uri, record_id=new_record_id(), when=when,
                                refers_to=refers_to)
    return encode_serialized(record, gzip_level)


@dataclass(frozen=True)
class VerbatimRecord:
    """A WARC record fetched by a Range request, checked whole, with what extraction needs."""

    member: bytes
    record_id: str
    target_uri: str
    warc_date: str
    payload_digest: str | None
    status: int
    http_headers: list[tuple[str, str]]
    payload: bytes
    #: its CDXJ entry, None when the member holds more than this one record
    cdxj: CdxjEntry | None = None

    def encoded(self) -> EncodedRecord:
        return EncodedRecord(self.record_id, self.payload_digest, self.member, self.cdxj)


def _check_member(member: bytes, expected: int) -> None:
    if len(member) != expected:
        raise RangeAnswerError(f"short Range answer: {len(member)} of {expected} bytes")
    inflate = zlib.decompressobj(zlib.MAX_WBITS | 16)
    try:
        head = inflate.decompress(member, 16)
        inflate.decompress(inflate.unconsumed_tail)
    except zlib.error as exc:
        raise RangeAnswerError(f"Range answer is not one gzip member: {exc}") from None
    if not inflate.eof or inflate.unused_data:
        raise RangeAnswerError("Range answer is not exactly one complete gzip member")
    if not head.startswith(b"WARC/"):
        raise RangeAnswerError("Range answer is not a WARC record")


def read_verbatim(member: bytes, expected: int) -> VerbatimRecord:
    """Check that ``member`` is the whole record (``expected`` bytes, one complete gzip member of
    a WARC ``response`` record) and read its HTTP message; :class:`RangeAnswerError` otherwise."""
    _check_member(member, expected)
    records = iter(ArchiveIterator(io.BytesIO(member), check_digests=True))
    try:
        record = next(records)
        if record.rec_type != "response" or record.http_headers is None:
            raise RangeAnswerError(f"Range answer is a {record.rec_type} record, not a response")
        payload = record.content_stream().read()
        entry = cdxj_entry_of(record.rec_type, record.rec_headers, record.http_headers)
        if next(records, None) is not None:  # another record in the member: index the file by reading it
            entry = None
    except (OSError, EOFError, ValueError, zlib.error, gzip.BadGzipFile) as exc:
        raise RangeAnswerError(f"Range answer does not read as a WARC record: {exc}") from None
    except StopIteration:
        raise RangeAnswerError("Range answer holds no WARC record") from None
    rec = record.rec_headers
    status = record.http_headers.get_statuscode()
    return VerbatimRecord(
        member=member,
        record_id=str(rec.get_header("WARC-Record-ID")),
        target_uri=str(rec.get_header("WARC-Target-URI")),
        warc_date=str(rec.get_header("WARC-Date")),
        payload_digest=rec.get_header("WARC-Payload-Digest"),
        status=int(status) if str(status).isdigit() else 0,
        http_headers=list(record.http_headers.headers),
        payload=payload,
        cdxj=entry,
    )
