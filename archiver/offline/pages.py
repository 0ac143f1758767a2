"""Archived pages: what a crawl handed to extraction, read back from WARC records.

A crawl extracts articles from HTML responses with a 2xx status (Scrapy's HttpErrorMiddleware drops
the rest before the spider sees them), with the body decoded (HttpCompressionMiddleware), the URL
fetched, the response headers and ``fetched_at`` = the response record's WARC-Date. An
``identical-payload-digest`` revisit stands for a response whose body was already archived: its
payload is read from the record named by ``WARC-Refers-To`` (looked up in the CDXJ indexes next to
the WARCs, else by scanning the inputs).
"""

from __future__ import annotations

import gzip
import io
import json
import logging
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from warcio.digestverifyingreader import DigestChecker
from warcio.limitreader import LimitReader
from warcio.recordloader import ArcWarcRecord, ArcWarcRecordLoader
from warcio.statusandheaders import StatusAndHeaders

from archiver.offline.members import Member, MemberError, MemberWalk, WarcSource, reader_for
from archiver.offline.sources import WACZ_INDEX, index_files_for
from archiver.warc.records import RevisitProfile

logger = logging.getLogger(__name__)

HTML_TYPES = ("text/html", "application/xhtml+xml")
_RECORD_ID_HEADER = b"WARC-Record-ID: "
_TYPE_HEADER = b"\r\nWARC-Type: "
_HEAD_LIMIT = 8192


def parse_record(data: bytes, check_digests: bool = False) -> ArcWarcRecord:
    """A warcio record over the bytes of one (decompressed) member.

    A record whose header blocks are plain (UTF-8, CRLF lines, each ``Name: value``, no continuation
    line, a WARC or HTTP/1.x status line) is read without warcio's line-by-line parser, into the
    same objects it builds (:func:`_plain_record`: ~4x faster, ~2,600 records a 1,000-article
    re-extraction); any other, and any read with digests checked, is warcio's."""
    if not check_digests:
        record = _plain_record(data)
        if record is not None:
            return record
    loader = ArcWarcRecordLoader()
    return loader.parse_record_stream(io.BytesIO(data), check_digests=check_digests)


_WARC_VERSIONS = tuple(ArcWarcRecordLoader.WARC_TYPES)
_HTTP_VERSIONS = tuple(ArcWarcRecordLoader.HTTP_TYPES)
_HTTP_RECORD_TYPES = frozenset({"response", "revisit"})  # a request's verb line: warcio's parser


def _plain_record(data: bytes) -> ArcWarcRecord | None:
    """What ``ArcWarcRecordLoader().parse_record_stream`` returns for ``data``, or ``None`` when its
    header blocks are not plain (then warcio's parser reads it, with its own leniencies)."""
    end = data.find(b"\r\n\r\n")
    warc = _plain_head(data, 0, end, _WARC_VERSIONS)
    if warc is None:
        return None
    named: dict[str, str] = {}
    for name, value in warc.headers:  # get_header's answers (the first of each name), in one pass
        key = name.lower()
        if key in _RECORD_FIELDS and key not in named:
            named[key] = value
    uri, length_text = named.get("warc-target-uri"), named.get("content-length")
    if length_text is None or not (length_text.isascii() and length_text.isdigit()) or (uri is not None and (
            " " in uri or uri.startswith("<"))):
        return None  # warcio mends or defaults these
    rec_type, length = named.get("warc-type"), int(length_text)
    start = end + 4
    http = None
    head = 0
    payload_length = -1
    if length and rec_type in _HTTP_RECORD_TYPES and uri is not None and uri.startswith(("http:", "https:")):
        http_end = data.find(b"\r\n\r\n", start, start + length)
        http = _plain_head(data, start, http_end, _HTTP_VERSIONS)
        if http is None:
            return None
        head = http_end + 4 - start
        payload_length = length - head
    elif rec_type in ArcWarcRecordLoader.HTTP_RECORDS and length and (uri is None or rec_type == "request"):
        return None
    stream = io.BytesIO(data)
    stream.seek(start + head)
    return ArcWarcRecord("warc", rec_type, warc, LimitReader(stream, length - head), http,
                         named.get("content-type"), length, payload_length=payload_length,
                         digest_checker=DigestChecker(False))


#: the WARC headers the record loader reads (lower case)
_RECORD_FIELDS = frozenset({"warc-target-uri", "content-length", "warc-type", "content-type"})


def _plain_head(data: bytes, start: int, end: int, versions: tuple[str, ...]) -> StatusAndHeaders | None:
    """The status line and headers of ``data[start:end]`` as warcio's parser reads them, or ``None``
    when a line is not plain (no colon, a continuation, a bare CR or LF, blank, not UTF-8)."""
    if end < 0:
        return None
    try:
        text = data[start:end].decode("utf-8")
    except UnicodeDecodeError:
        return None
    lines = text.split("\r\n")
    breaks = len(lines) - 1  # every CR and LF is one of these CRLFs: no bare CR or LF
    if text.count("\r") != breaks or text.count("\n") != breaks or "\r\n " in text or "\r\n\t" in text:
        return None
    status = lines[0].rstrip()
    upper = status.upper()
    version = next((v for v in versions if upper.startswith(v)), None)
    if version is None:
        return None
    headers = []
    for line in lines[1:]:
        name, colon, value = line.rstrip().partition(":")
        if not colon or not name:
            return None
        headers.append((name.rstrip(" \t"), value.lstrip()))
    parsed = StatusAndHeaders(status[len(version):].strip(), [], protocol=upper[:len(version)],
                              total_len=len(text) + 4)
    parsed.headers = headers  # str pairs already: what its constructor would copy them into
    return parsed


def header(record: ArcWarcRecord, name: str) -> str:
    return str(record.rec_headers.get_header(name) or "")


def status_of(record: ArcWarcRecord) -> int:
    if record.http_headers is None:
        return 0
    try:
        return int(record.http_headers.get_statuscode())
    except (TypeError, ValueError):
        return 0


def is_html(record: ArcWarcRecord) -> bool:
    """HTML, or no Content-Type at all (extraction then decides)."""
    if record.http_headers is None:
        return False
    content_type = (record.http_headers.get_header("Content-Type") or "").lower()
    return not content_type or any(kind in content_type for kind in HTML_TYPES)


def is_page_candidate(record: ArcWarcRecord) -> bool:
    """A 2xx HTML response or identical-payload revisit: what a crawl may have extracted. Not a
    response marked ``WARC-Truncated``: the crawl never extracts a body cut short (it retries it,
    then fails it: archiver/downloadermiddlewares/incomplete.py, .../maxsize.py)."""
    if header(record, "WARC-Truncated"):
        return False
    if record.rec_type == "revisit":
        if header(record, "WARC-Profile") != RevisitProfile.IDENTICAL_PAYLOAD_DIGEST.value:
            return False
    elif record.rec_type != "response":
        return False
    return 200 <= status_of(record) < 300 and is_html(record)


def record_type(data: bytes) -> str:
    """The WARC-Type of a record's bytes, read from its header block without parsing it all."""
    head = data[: data.find(b"\r\n\r\n", 0, _HEAD_LIMIT) + 2 or _HEAD_LIMIT]
    start = head.find(_TYPE_HEADER)
    if start < 0:
        return ""
    start += len(_TYPE_HEADER)
    end = head.find(b"\r\n", start)
    return head[start : end if end >= 0 else len(head)].strip().decode("ascii", "replace")


def decode_body(body: bytes, encodings: list[str]) -> tuple[bytes, list[str]]:
    """Undo Content-Encoding as the crawl's StrictHttpCompressionMiddleware does before the spider
    sees the body (same decoders, :mod:`archiver.warc.compression`); returns the body and the encodings
    it kept (none: a body it cannot decode raises ``UndecodableBodyError``, as the crawl failed it)."""
    from archiver.warc.compression import decode_content

    return decode_content(body, [e.encode("latin-1") for e in encodings]).body, []


def spider_view(record: ArcWarcRecord, payload: ArcWarcRecord) -> tuple[bytes, dict[str, str]]:
    """The body and headers the spider passed to extraction: ``payload``'s body, decoded, and
    ``record``'s headers (repeated values joined by ``, ``; Content-Encoding as Scrapy leaves it)."""
    encodings = [value for name, value in payload.http_headers.headers if name.lower() == "content-encoding"]
    body: bytes = payload.raw_stream.read()
    kept: list[str] = []
    if encodings:
        body, kept = decode_body(body, encodings)
    joined: dict[str, list[str]] = {}
    for name, value in record.http_headers.headers:
        joined.setdefault(name.title(), []).append(value)  # Scrapy's Headers title-case names
    if encodings:  # Scrapy rewrites the header with what it could not decode, or drops it
        joined.pop("Content-Encoding", None)
        if kept:
            joined["Content-Encoding"] = kept
    return body, {name: ", ".join(values) for name, values in joined.items()}


@dataclass(frozen=True)
class ArchivedPage:
    """One page as extraction saw it in the crawl, plus the ``warc`` pointer of its record."""

    url: str
    body: bytes = field(repr=False)
    headers: Mapping[str, str]
    fetched_at: str
    warc: dict[str, Any]
    #: the record's ``source`` when the capture was harvested from an archive (``Archiver-Source``)
    source: dict[str, Any] | None = None


#: the order of a harvested record's ``source`` keys (``_source_of`` in archiver/harvest/middleware.py,
#: then Common Crawl's place of the record)
SOURCE_ORDER = ("archive", "timestamp", "captured_at", "capture_url", "original_url", "crawl", "filename",
                "offset", "length")


def harvested_source(record: ArcWarcRecord) -> dict[str, Any] | None:
    """The ``source`` object a harvest wrote in a response record's ``Archiver-Source`` header."""
    value = record.rec_headers.get_header("Archiver-Source")
    if not value:
        return None
    try:
        source = json.loads(value)
    except ValueError:
        logger.warning("unreadable Archiver-Source header: %.200r", value)
        return None
    if not isinstance(source, dict):
        return None
    # the header's keys are sorted; the record's ``source`` has the harvest's order (as in the
    # crawl feed's line: archiver/harvest/middleware.py), so that re-extraction gives its bytes
    ordered = {key: source[key] for key in SOURCE_ORDER if key in source}
    return ordered | source


def pointer(source: WarcSource, member: Member, record: ArcWarcRecord) -> dict[str, Any]:
    """The article's ``warc`` object: where the response (or revisit) record is."""
    return {
        "filename": source.name,
        "offset": member.offset,
        "length": member.length,
        "record_id": header(record, "WARC-Record-ID"),
        "payload_digest": header(record, "WARC-Payload-Digest"),
    }


def archived_page(
    source: WarcSource, member: Member, record: ArcWarcRecord, payload: ArcWarcRecord | None = None
) -> ArchivedPage:
    """The page of a response record (or of a revisit, with ``payload`` the record it refers to)."""
    body, headers = spider_view(record, payload if payload is not None else record)
    return ArchivedPage(
        url=header(record, "WARC-Target-URI"),
        body=body,
        headers=headers,
        fetched_at=header(record, "WARC-Date"),
        warc=pointer(source, member, record),
        source=harvested_source(record),
    )


@dataclass(frozen=True)
class RevisitTarget:
    """What a revisit record says about the capture it repeats."""

    record_id: str
    target_uri: str
    date: str
    digest: str

    @classmethod
    def of(cls, record: ArcWarcRecord) -> RevisitTarget:
        return cls(
            header(record, "WARC-Refers-To"),
            header(record, "WARC-Refers-To-Target-URI"),
            header(record, "WARC-Refers-To-Date"),
            header(record, "WARC-Payload-Digest"),
        )

    def cdxj_matches(self, entry: Mapping[str, Any], timestamp: str) -> bool:
        stamp = "".join(ch for ch in self.date if ch.isdigit())[:14]
        return (
            entry.get("digest") == self.digest
            and entry.get("url") == self.target_uri
            and (not stamp or timestamp == stamp)
        )


class RecordLocator:
    """Finds the record a revisit refers to among the inputs (CDXJ lookup, else a scan)."""

    def __init__(self, sources: Sequence[WarcSource]) -> None:
        self.sources = list(sources)
        self._by_name = {source.name: source for source in sources}

    def find(self, target: RevisitTarget) -> ArcWarcRecord | None:
        """The response record with ``target.record_id``, or None when no input holds it."""
        if not target.record_id:
            return None
        for filename, offset in self._index_candidates(target):
            record = self._record_at(filename, offset, target.record_id)
            if record is not None:
                return record
        logger.info("no index entry for %s; scanning the inputs", target.record_id)
        return self._scan(target.record_id)

    def _index_candidates(self, target: RevisitTarget) -> Iterator[tuple[str, int]]:
        for line in self._index_lines(target.digest):
            _key, _, rest = line.partition(" ")
            timestamp, _, text = rest.partition(" ")
            try:
                entry = json.loads(text)
                if target.cdxj_matches(entry, timestamp):
                    yield str(entry["filename"]), int(entry["offset"])
            except (ValueError, KeyError, TypeError):
                continue

    def _index_lines(self, digest: str) -> Iterator[str]:
        needle = digest.encode("ascii", "replace")
        for source in self.sources:
            for path in index_files_for(source):
                with path.open("rb") as lines:
                    yield from (line.decode("utf-8", "replace") for line in lines if needle in line)
        for wacz in dict.fromkeys(s.path for s in self.sources if s.container == "wacz"):
            yield from _wacz_index_lines(Path(wacz), needle)

    def _record_at(self, filename: str, offset: int, record_id: str) -> ArcWarcRecord | None:
        source = self._by_name.get(filename)
        if source is None:
            return None
        with source.open() as stream:
            try:
                member = reader_for(stream, source).member_at(offset)
            except MemberError:
                return None
        record = parse_record(member.data)
        return record if header(record, "WARC-Record-ID") == record_id else None

    def _scan(self, record_id: str) -> ArcWarcRecord | None:
        needle = _RECORD_ID_HEADER + record_id.encode("ascii", "replace")
        for source in self.sources:
            with source.open() as stream:
                reader = reader_for(stream, source)
                for member in MemberWalk(reader, 0, source.size, exact=True):
                    if isinstance(member, Member) and needle in member.data[:4096]:
                        return parse_record(member.data)
        return None


def _wacz_index_lines(path: Path, needle: bytes) -> Iterator[str]:
    try:
        with zipfile.ZipFile(path) as archive, archive.open(WACZ_INDEX) as packed, gzip.open(packed) as lines:
            yield from (line.decode("utf-8", "replace") for line in lines if needle in line)
    except KeyError:
        return
