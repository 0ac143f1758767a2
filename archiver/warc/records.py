"""Build WARC/1.1 records from plain data (no Scrapy imports).

The record layer of the WARC package: functions here turn an :class:`HttpExchange`
(what was sent and received) into warcio ``ArcWarcRecord`` objects, and
:func:`serialize_record` turns one record into its uncompressed bytes. Writing and
compressing records is :mod:`archiver.warc.writer`'s job.

Spec: https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/
Every choice where a record cannot hold the exact wire bytes is listed in docs/warc.md.
"""

from __future__ import annotations

import base64
import hashlib
import http
import importlib.metadata
import io
import json
import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from warcio.recordbuilder import RecordBuilder
from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date
from warcio.warcwriter import WARCWriter

WARC_VERSION = "1.1"
HeaderValue = str | bytes
HeaderPair = tuple[HeaderValue, HeaderValue]
Clock = Callable[[], datetime]
RecordIdFactory = Callable[[], str]

# The message body of an HttpExchange is stored after transfer decoding (Scrapy hands us
# de-chunked bytes), so the header announcing the framing is kept under this name instead.
ORIG_HEADER_PREFIX = "X-Archiver-Orig-"
_FRAMING_HEADERS = frozenset({"transfer-encoding"})
# warcio and pywb only parse these protocols in status lines (ArcWarcRecordLoader.HTTP_TYPES).
_STATUS_LINE_PROTOCOLS = frozenset({"HTTP/1.0", "HTTP/1.1"})
_CRLF = re.compile(r"[\r\n]+")


class RevisitProfile(StrEnum):
    """WARC 1.1 revisit profiles (section 6.7)."""

    IDENTICAL_PAYLOAD_DIGEST = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
    SERVER_NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"


@dataclass(frozen=True, kw_only=True)
class HttpExchange:
    """One HTTP request and the response received for it, as plain data.

    Header lists keep every occurrence (two ``Set-Cookie`` stay two pairs) in the given
    order. ``response_body`` is the message body after transfer decoding but *before*
    content decoding (still gzip when ``Content-Encoding: gzip`` was sent).
    ``reason=None`` means "not known": the standard phrase for ``status`` is used.
    ``protocol`` is the response's; ``request_protocol`` defaults to it. ``truncated`` is a
    WARC-Truncated reason (``disconnect``, ``length``, ``time``, ``unspecified``) when the body
    is incomplete.
    """

    method: str
    url: str
    request_headers: Sequence[HeaderPair]
    request_body: bytes = b""
    protocol: str | None = "HTTP/1.1"
    request_protocol: str | None = None
    status: int
    reason: str | None = None
    response_headers: Sequence[HeaderPair]
    response_body: bytes = b""
    ip_address: str | None = None
    fetched_at: datetime
    truncated: str | None = None


@dataclass(frozen=True)
class PriorCapture:
    """The earlier capture a revisit record refers to."""

    target_uri: str
    warc_date: str | None = None
    record_id: str | None = None
    payload_digest: str | None = None


@dataclass(frozen=True)
class RevisitOf:
    """Why and to what a capture is written as a revisit instead of a response."""

    profile: RevisitProfile
    prior: PriorCapture | None = None


def new_record_id() -> str:
    """A fresh ``<urn:uuid:...>`` WARC-Record-ID."""
    return f"<urn:uuid:{uuid.uuid4()}>"


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def warc_date(moment: datetime) -> str:
    """WARC-Date text: UTC, ``Z`` suffix, microseconds when non-zero (WARC 1.1 allows it)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return str(datetime_to_iso_date(moment, use_micros=True))


def payload_digest(data: bytes) -> str:
    """``sha1:<BASE32>``, the digest form warcio writes and checks."""
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode("ascii")


def clean_header_value(value: str) -> str:
    """Replace CR/LF runs with a space so a value can never start a new header line."""
    return _CRLF.sub(" ", value)


def clean_uri(uri: str) -> str:
    """Percent-encode CR, LF and space in a URI: it stays one valid URI on one line."""
    return uri.replace("\r", "%0D").replace("\n", "%0A").replace(" ", "%20")


def _wire_text(value: HeaderValue) -> str:
    """Bytes as Latin-1 text (one char per byte, lossless); ``str`` is taken as UTF-8."""
    raw = value.encode("utf-8") if isinstance(value, str) else bytes(value)
    return raw.decode("latin-1")


class _WireHeaders(StatusAndHeaders):
    """HTTP status line + headers serialized byte-for-byte (Latin-1 round trip).

    warcio's default ``compute_headers_buffer`` %-encodes non-ASCII header values; these
    values hold the received bytes as Latin-1 text, so encoding back gives those bytes.
    """

    def compute_headers_buffer(self, header_filter: Any = None) -> None:
        self.headers_buff = self.to_str(header_filter).encode("latin-1") + b"\r\n"


def _http_headers(pairs: Sequence[HeaderPair]) -> list[tuple[str, str]]:
    headers = []
    for name, value in pairs:
        clean_name = _CRLF.sub("", _wire_text(name)).strip()
        clean_value = clean_header_value(_wire_text(value)).strip()
        if clean_name.lower() in _FRAMING_HEADERS:
            clean_name = ORIG_HEADER_PREFIX + clean_name
        headers.append((clean_name, clean_value))
    return headers


def status_line_protocol(protocol: str | None) -> tuple[str, str | None]:
    """``(protocol for the status line, value for WARC-Protocol or None)``.

    Readers only accept HTTP/1.0 and HTTP/1.1 status lines, so ``h2`` is written as
    HTTP/1.1 and the real protocol goes into the proposed ``WARC-Protocol`` header.
    """
    if not protocol:
        return "HTTP/1.1", None
    if protocol.upper() in _STATUS_LINE_PROTOCOLS:
        return protocol.upper(), None
    return "HTTP/1.1", clean_header_value(protocol.lower())


def reason_phrase(status: int, reason: str | None = None) -> str:
    """The given reason, else the standard phrase (Scrapy does not keep the received one)."""
    if reason is not None:
        return clean_header_value(reason)
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


def request_target(url: str) -> str:
    """Origin-form request target (path + query, no fragment), as Twisted sends it."""
    parts = urlsplit(url)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    return target


def _response_headers(exchange: HttpExchange) -> _WireHeaders:
    protocol, _ = status_line_protocol(exchange.protocol)
    statusline = f"{exchange.status} {reason_phrase(exchange.status, exchange.reason)}"
    return _WireHeaders(
        _wire_text(statusline), _http_headers(exchange.response_headers), protocol=protocol
    )


def _request_headers(exchange: HttpExchange) -> _WireHeaders:
    protocol, _ = status_line_protocol(exchange.request_protocol or exchange.protocol)
    method = _CRLF.sub("", exchange.method).strip().upper() or "GET"
    target = request_target(clean_uri(exchange.url))
    return _WireHeaders(
        _wire_text(f"{target} {protocol}"),
        _http_headers(exchange.request_headers),
        protocol=method,
    )


def _warc_headers(pairs: Sequence[tuple[str, str | None]]) -> StatusAndHeaders:
    headers = [(name, clean_header_value(value)) for name, value in pairs if value]
    return StatusAndHeaders("", headers, protocol="WARC/" + WARC_VERSION)


def _builder() -> RecordBuilder:
    return RecordBuilder(warc_version=WARC_VERSION)


def _exchange_warc_headers(
    exchange: HttpExchange, rec_type: str, record_id: str, concurrent_to: str | None
) -> list[tuple[str, str | None]]:
    _, warc_protocol = status_line_protocol(exchange.protocol)
    return [
        ("WARC-Type", rec_type),
        ("WARC-Record-ID", record_id),
        ("WARC-Date", warc_date(exchange.fetched_at)),
        ("WARC-Target-URI", clean_uri(exchange.url)),
        ("WARC-IP-Address", exchange.ip_address),
        ("WARC-Concurrent-To", concurrent_to),
        ("WARC-Protocol", warc_protocol),
    ]


def build_request(exchange: HttpExchange, *, record_id: str, concurrent_to: str | None) -> Any:
    """The ``request`` record: request line, headers and body."""
    warc_headers = _warc_headers(
        _exchange_warc_headers(exchange, "request", record_id, concurrent_to)
    )
    return _builder().create_warc_record(
        clean_uri(exchange.url),
        "request",
        payload=io.BytesIO(exchange.request_body),
        length=len(exchange.request_body),
        warc_headers=warc_headers,
        http_headers=_request_headers(exchange),
    )


def build_response(exchange: HttpExchange, *, record_id: str, concurrent_to: str | None) -> Any:
    """The ``response`` record: status line, headers and body as received."""
    pairs = _exchange_warc_headers(exchange, "response", record_id, concurrent_to)
    pairs.append(("WARC-Truncated", exchange.truncated))
    return _builder().create_warc_record(
        clean_uri(exchange.url),
        "response",
        payload=io.BytesIO(exchange.response_body),
        length=len(exchange.response_body),
        warc_headers=_warc_headers(pairs),
        http_headers=_response_headers(exchange),
    )


def _revisit_pairs(exchange: HttpExchange, revisit: RevisitOf, record_id: str,
                   concurrent_to: str | None,
                   body_digest: str | None = None) -> tuple[list[tuple[str, str | None]], str]:
    """A revisit's WARC header pairs, and its payload digest (the prior's for a 304)."""
    prior = revisit.prior
    digest = body_digest if body_digest is not None else payload_digest(exchange.response_body)
    if revisit.profile is RevisitProfile.SERVER_NOT_MODIFIED:
        digest = prior.payload_digest if prior and prior.payload_digest else ""
    pairs = _exchange_warc_headers(exchange, "revisit", record_id, concurrent_to)
    pairs += [
        ("WARC-Profile", revisit.profile.value),
        ("WARC-Refers-To", prior.record_id if prior else None),
        ("WARC-Refers-To-Target-URI", clean_uri(prior.target_uri) if prior else None),
        ("WARC-Refers-To-Date", prior.warc_date if prior else None),
        ("WARC-Payload-Digest", digest),
    ]
    return pairs, digest


def keeps_http_head(revisit: RevisitOf) -> bool:
    """Whether the revisit's block holds the response's status line and headers.

    An ``identical-payload-digest`` revisit does (a 2xx, replayed with the original's payload). A
    ``server-not-modified`` one has an empty block (WARC 1.1 section 6.7.2 makes the headers
    optional): ReplayWeb.page (wabac.js) serves a revisit whose HTTP status is 3xx as it is, and a
    304 has no body there, so the unchanged page would replay empty; without a head both it and pywb
    replay the original capture's status, headers and payload. The 304 is still said by the
    ``WARC-Profile``, the conditional request by its ``request`` record (docs/decisions.md)."""
    return revisit.profile is not RevisitProfile.SERVER_NOT_MODIFIED


def build_revisit(
    exchange: HttpExchange, revisit: RevisitOf, *, record_id: str, concurrent_to: str | None
) -> Any:
    """A ``revisit`` record: the response's status line and headers (:func:`keeps_http_head`), no
    payload."""
    pairs, _digest = _revisit_pairs(exchange, revisit, record_id, concurrent_to)
    return _builder().create_warc_record(
        clean_uri(exchange.url),
        "revisit",
        warc_headers=_warc_headers(pairs),
        http_headers=_response_headers(exchange) if keeps_http_head(revisit) else None,
    )


def build_capture(
    exchange: HttpExchange,
    *,
    revisit: RevisitOf | None = None,
    make_id: RecordIdFactory = new_record_id,
) -> tuple[Any, Any]:
    """``(response-or-revisit, request)``, each pointing at the other (WARC-Concurrent-To).

    The response comes first, as warcio's ``write_request_response_pair`` writes them.
    """
    response_id, request_id = make_id(), make_id()
    if revisit is None:
        main = build_response(exchange, record_id=response_id, concurrent_to=request_id)
    else:
        main = build_revisit(exchange, revisit, record_id=response_id, concurrent_to=request_id)
    request = build_request(exchange, record_id=request_id, concurrent_to=response_id)
    return main, request


def _field_text(value: object) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def build_warcinfo(
    filename: str,
    fields: Mapping[str, object],
    *,
    make_id: RecordIdFactory = new_record_id,
    clock: Clock = utc_now,
) -> Any:
    """The ``warcinfo`` record (``application/warc-fields``); non-text values become JSON."""
    body = "".join(
        f"{_CRLF.sub('', name).replace(':', '')}: {clean_header_value(_field_text(value))}\r\n"
        for name, value in fields.items()
        if value is not None and value != ""
    ).encode("utf-8")
    warc_headers = _warc_headers(
        [
            ("WARC-Type", "warcinfo"),
            ("WARC-Record-ID", make_id()),
            ("WARC-Date", warc_date(clock())),
            ("WARC-Filename", filename),
        ]
    )
    return _builder().create_warc_record(
        "",
        "warcinfo",
        payload=io.BytesIO(body),
        length=len(body),
        warc_content_type="application/warc-fields",
        warc_headers=warc_headers,
    )


def _conversion_pairs(record_id: str, when: datetime, target_uri: str,
                      refers_to: str) -> list[tuple[str, str | None]]:
    return [
        ("WARC-Type", "conversion"),
        ("WARC-Record-ID", record_id),
        ("WARC-Date", warc_date(when)),
        ("WARC-Target-URI", clean_uri(target_uri)),
        ("WARC-Refers-To", refers_to),
    ]


def build_conversion(
    payload: bytes,
    *,
    target_uri: str,
    refers_to: str,
    content_type: str = "application/json",
    make_id: RecordIdFactory = new_record_id,
    clock: Clock = utc_now,
) -> Any:
    """A ``conversion`` record (e.g. the cleaned article JSON) derived from ``refers_to``."""
    warc_headers = _warc_headers(_conversion_pairs(make_id(), clock(), target_uri, refers_to))
    return _builder().create_warc_record(
        clean_uri(target_uri),
        "conversion",
        payload=io.BytesIO(payload),
        length=len(payload),
        warc_content_type=clean_header_value(content_type),
        warc_headers=warc_headers,
    )


# -- direct serialization ------------------------------------------------------------------------
#
# The crawl writes a request + response pair for every fetch and a conversion record per article.
# Building those through warcio's RecordBuilder and WARCWriter (StatusAndHeaders objects, stream
# copies, header lookups) costs about as much as the rest of the WARC work together, on the reactor
# thread. The functions below give the same bytes directly: the same header values (built by the
# same helpers), in the order warcio writes them (the given WARC headers, WARC-Payload-Digest,
# WARC-Block-Digest, Content-Type, Content-Length). tests/test_warc_records.py compares both ways.

_CAPTURE_CONTENT_TYPES = {
    "response": "application/http; msgtype=response",
    "revisit": "application/http; msgtype=response",
    "request": "application/http; msgtype=request",
}


@dataclass(frozen=True)
class SerializedRecord:
    """One record's uncompressed bytes, with what the writer reports about it."""

    record_id: str
    payload_digest: str | None
    data: bytes


def _http_block(first_line: str, pairs: Sequence[HeaderPair]) -> bytes:
    # _WireHeaders.compute_headers_buffer, without the object: Latin-1 text is the received bytes
    lines = [first_line, *(f"{name}: {value}" for name, value in _http_headers(pairs)), "", ""]
    return "\r\n".join(lines).encode("latin-1")


def _response_block(exchange: HttpExchange) -> bytes:
    protocol, _ = status_line_protocol(exchange.protocol)
    statusline = _wire_text(f"{exchange.status} {reason_phrase(exchange.status, exchange.reason)}")
    return _http_block(f"{protocol} {statusline}", exchange.response_headers)


def _request_block(exchange: HttpExchange) -> bytes:
    protocol, _ = status_line_protocol(exchange.request_protocol or exchange.protocol)
    method = _CRLF.sub("", exchange.method).strip().upper() or "GET"
    target = request_target(clean_uri(exchange.url))
    return _http_block(f"{method} {_wire_text(f'{target} {protocol}')}", exchange.request_headers)


def _record_bytes(pairs: Sequence[tuple[str, str | None]], digests: Sequence[tuple[str, str]],
                  content_type: str, block: bytes, body: bytes = b"") -> bytes:
    """``WARC/1.1`` + headers (empty values left out, as :func:`_warc_headers` does) + block."""
    lines = [f"WARC/{WARC_VERSION}"]
    lines += [f"{name}: {clean_header_value(value)}" for name, value in pairs if value]
    lines += [f"{name}: {value}" for name, value in digests]
    lines += [f"Content-Type: {content_type}", f"Content-Length: {len(block) + len(body)}", "", ""]
    return "\r\n".join(lines).encode("utf-8") + block + body + b"\r\n\r\n"


def _sha1(*parts: bytes) -> str:
    digest = hashlib.sha1()
    for part in parts:
        digest.update(part)
    return "sha1:" + base64.b32encode(digest.digest()).decode("ascii")


def serialize_capture(
    exchange: HttpExchange,
    *,
    revisit: RevisitOf | None = None,
    make_id: RecordIdFactory = new_record_id,
    response_digest: str | None = None,
) -> tuple[SerializedRecord, SerializedRecord]:
    """``(response-or-revisit, request)`` as bytes: what :func:`build_capture` then
    :func:`serialize_record` give, built directly. ``response_digest``: the response body's
    :func:`payload_digest` when the caller has it already (the revisit decision needs it)."""
    response_id, request_id = make_id(), make_id()
    if response_digest is None:
        response_digest = payload_digest(exchange.response_body)
    if revisit is None:
        pairs = _exchange_warc_headers(exchange, "response", response_id, request_id)
        pairs.append(("WARC-Truncated", exchange.truncated))
        main = _message_bytes("response", response_id, pairs, _response_block(exchange),
                              exchange.response_body, response_digest)
    else:
        main = _revisit_bytes(exchange, revisit, response_id, request_id, response_digest)
    request = _message_bytes("request", request_id,
                             _exchange_warc_headers(exchange, "request", request_id, response_id),
                             _request_block(exchange), exchange.request_body,
                             payload_digest(exchange.request_body))
    return main, request


def serialize_archived_response(exchange: HttpExchange, record_id: str,
                                extra: Sequence[tuple[str, str]] = ()) -> SerializedRecord:
    """A ``response`` record alone (no request record beside it: a capture copied from another
    archive), ``extra`` headers after its payload digest: what :func:`build_response`, those
    headers added, then :func:`serialize_record` give, built directly."""
    digest = payload_digest(exchange.response_body)
    head = _response_block(exchange)
    pairs = _exchange_warc_headers(exchange, "response", record_id, None)
    pairs += [("WARC-Truncated", exchange.truncated), ("WARC-Payload-Digest", digest), *extra]
    digests = [("WARC-Block-Digest", _sha1(head, exchange.response_body))]
    return SerializedRecord(record_id, digest, _record_bytes(
        pairs, digests, _CAPTURE_CONTENT_TYPES["response"], head, exchange.response_body))


def serialize_metadata(payload: bytes, *, target_uri: str, record_id: str, when: datetime,
                       refers_to: str, content_type: str = "application/json") -> SerializedRecord:
    """A ``metadata`` record about another record: what warcio's ``create_warc_record`` (with
    ``WARC-Refers-To``, ``WARC-Date``, ``WARC-Record-ID`` given) then :func:`serialize_record`
    give, built directly."""
    digest = payload_digest(payload)
    pairs = [("WARC-Refers-To", refers_to), ("WARC-Date", warc_date(when)), ("WARC-Record-ID", record_id),
             ("WARC-Type", "metadata"), ("WARC-Target-URI", target_uri)]
    digests = [("WARC-Payload-Digest", digest), ("WARC-Block-Digest", digest)]
    return SerializedRecord(record_id, digest, _record_bytes(
        pairs, digests, clean_header_value(content_type), b"", payload))


def _message_bytes(kind: str, record_id: str, pairs: list[tuple[str, str | None]], head: bytes,
                   body: bytes, digest: str) -> SerializedRecord:
    """A ``response`` or ``request`` record: HTTP head + body, both digests."""
    digests = [("WARC-Payload-Digest", digest), ("WARC-Block-Digest", _sha1(head, body))]
    return SerializedRecord(record_id, digest, _record_bytes(pairs, digests, _CAPTURE_CONTENT_TYPES[kind],
                                                             head, body))


def _revisit_bytes(exchange: HttpExchange, revisit: RevisitOf, record_id: str,
                   request_id: str, response_digest: str) -> SerializedRecord:
    head = _response_block(exchange) if keeps_http_head(revisit) else b""
    pairs, digest = _revisit_pairs(exchange, revisit, record_id, request_id, response_digest)
    data = _record_bytes(pairs, [("WARC-Block-Digest", _sha1(head))], _CAPTURE_CONTENT_TYPES["revisit"], head)
    return SerializedRecord(record_id, clean_header_value(digest) or None, data)


def serialize_conversion(
    payload: bytes,
    *,
    target_uri: str,
    refers_to: str,
    content_type: str = "application/json",
    make_id: RecordIdFactory = new_record_id,
    clock: Clock = utc_now,
) -> SerializedRecord:
    """What :func:`build_conversion` then :func:`serialize_record` give, built directly."""
    record_id = make_id()
    pairs = _conversion_pairs(record_id, clock(), target_uri, refers_to)
    digest = payload_digest(payload)
    digests = [("WARC-Payload-Digest", digest), ("WARC-Block-Digest", digest)]
    return SerializedRecord(record_id, digest, _record_bytes(
        pairs, digests, clean_header_value(content_type), b"", payload))


def serialize_record(record: Any) -> bytes:
    """The uncompressed bytes of one record (digests and Content-Length filled in by warcio).

    A record's payload stream is consumed: serialize each record once.
    """
    out = io.BytesIO()
    WARCWriter(out, gzip=False, warc_version=WARC_VERSION).write_record(record)
    return out.getvalue()


def record_id_of(record: Any) -> str:
    """The WARC-Record-ID of a built record."""
    return str(record.rec_headers.get_header("WARC-Record-ID"))


def payload_digest_of(record: Any) -> str | None:
    """The WARC-Payload-Digest of a built record, if it has one."""
    value = record.rec_headers.get_header("WARC-Payload-Digest")
    return str(value) if value else None


def software_name() -> str:
    """``defense-news-archiver/<v> (Scrapy/<v>; warcio/<v>)`` for the warcinfo record."""

    def version(dist: str) -> str:
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            return "unknown"

    return (
        f"defense-news-archiver/{version('defense-news-archiver')} "
        f"(Scrapy/{version('scrapy')}; warcio/{version('warcio')})"
    )
