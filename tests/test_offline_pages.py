"""parse_record reads plain header blocks itself: the same warcio objects as warcio's parser, and
warcio's parser for every record that is not plain (its leniencies stay its own)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from warcio.recordloader import ArcWarcRecordLoader

from archiver.offline.pages import _plain_record, parse_record

BODY = b"\x1f\x8b\x08\x00binary\r\n\r\nbody"
HTTP = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Encoding: gzip\r\n\r\n"


def warc(block: bytes, record_type: str = "response", uri: str = "https://www.defense.gov/News/",
         extra: bytes = b"") -> bytes:
    head = (f"WARC/1.1\r\nWARC-Type: {record_type}\r\nWARC-Record-ID: <urn:uuid:1>\r\n"
            f"WARC-Date: 2026-01-01T00:00:00Z\r\nWARC-Target-URI: {uri}\r\n").encode() + extra
    return head + b"Content-Length: " + str(len(block)).encode() + b"\r\n\r\n" + block + b"\r\n\r\n"


def seen(record: Any) -> dict[str, Any]:
    """Everything of a record the offline commands read."""
    def heads(h: Any) -> Any:
        return None if h is None else (h.statusline, h.protocol, h.headers, h.total_len)
    return {"format": record.format, "type": record.rec_type, "warc": heads(record.rec_headers),
            "http": heads(record.http_headers), "content_type": record.content_type,
            "length": record.length, "payload_length": record.payload_length,
            "payload": record.raw_stream.read()}


def warcio_record(data: bytes) -> Any:
    return ArcWarcRecordLoader().parse_record_stream(io.BytesIO(data))


PLAIN = {
    "response": warc(HTTP + BODY),
    "revisit with HTTP headers": warc(HTTP, "revisit"),
    "revisit without a block": warc(b"", "revisit"),
    "metadata": warc(b"via: x\r\n", "metadata"),
    "value with colons and trailing space": warc(HTTP + BODY, extra=b"Archiver-Note:  a: b \t\r\n"),
    "non-ASCII UTF-8 value": warc(HTTP.replace(b"OK", "Très bien".encode()) + BODY),
    "dns record": warc(b"dns answer", "response", uri="dns:www.defense.gov"),
}
NOT_PLAIN = {
    "continuation line": warc(HTTP.replace(b"\r\nContent-Encoding", b"\r\n more\r\nContent-Encoding") + BODY),
    "bare LF in the HTTP head": warc(HTTP.replace(b"OK\r\n", b"OK\n") + BODY),
    "Latin-1 header value": warc(HTTP.replace(b"OK", b"Tr\xe8s") + BODY),
    "line without a colon": warc(HTTP.replace(b"\r\n\r\n", b"\r\nno colon\r\n\r\n") + BODY),
    "space in the target URI": warc(HTTP + BODY, uri="https://www.defense.gov/a b"),
    "bracketed target URI": warc(HTTP + BODY, uri="<https://www.defense.gov/>"),
    "request": warc(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "request"),
    "HTTP head past the block": warc(HTTP[:-4]),
}


@pytest.mark.parametrize("data", PLAIN.values(), ids=PLAIN.keys())
def test_a_plain_record_is_read_as_warcio_reads_it(data: bytes) -> None:
    fast = _plain_record(data)
    assert fast is not None
    assert seen(fast) == seen(warcio_record(data))


@pytest.mark.parametrize("data", NOT_PLAIN.values(), ids=NOT_PLAIN.keys())
def test_any_other_record_is_left_to_warcio(data: bytes) -> None:
    assert _plain_record(data) is None
    assert seen(parse_record(data)) == seen(warcio_record(data))
