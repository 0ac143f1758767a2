"""Record building: golden bytes, round trips, digests, header injection, revisit/conversion."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator

from archiver.warc.records import (
    HttpExchange,
    PriorCapture,
    RevisitOf,
    RevisitProfile,
    build_capture,
    build_conversion,
    build_response,
    build_warcinfo,
    clean_header_value,
    payload_digest,
    payload_digest_of,
    record_id_of,
    serialize_archived_response,
    serialize_capture,
    serialize_conversion,
    serialize_metadata,
    serialize_record,
    warc_date,
)
from archiver.warc.revisit import RevisitPolicy
from tests.harness import warcio_check

FETCHED = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
EVIL = "\r\nWARC-Type: evil"


def fixed_ids() -> Iterator[str]:
    for number in range(1, 100):
        yield f"<urn:uuid:00000000-0000-4000-8000-{number:012d}>"


def make_id_factory() -> Any:
    ids = fixed_ids()
    return lambda: next(ids)


def exchange(**changes: Any) -> HttpExchange:
    base = HttpExchange(
        method="GET",
        url="https://www.defense.gov/News/Releases/?page=2",
        request_headers=[
            (b"Accept", b"text/html"),
            (b"User-Agent", b"archiver/0.1"),
            (b"Accept-Encoding", b"gzip, deflate"),
            (b"Host", b"www.defense.gov"),
        ],
        status=200,
        response_headers=[
            (b"Content-Type", b"text/html; charset=utf-8"),
            (b"Set-Cookie", b"a=1"),
            (b"Set-Cookie", b"b=2"),
            (b"Content-Length", b"13"),
        ],
        response_body=b"<p>Hello</p>\n",
        ip_address="192.0.2.7",
        fetched_at=FETCHED,
    )
    return replace(base, **changes)


def read_all(data: bytes) -> list[tuple[Any, bytes]]:
    """Parse records back, failing on any digest mismatch."""
    out = []
    for record in ArchiveIterator(io.BytesIO(data), check_digests="raise"):
        out.append((record, record.raw_stream.read()))
    return out


def decoded_contents(data: bytes) -> list[bytes]:
    """Each record's content as a replay tool sees it (transfer and content encoding undone)."""
    return [record.content_stream().read() for record in ArchiveIterator(io.BytesIO(data))]


def capture_bytes(ex: HttpExchange, revisit: RevisitOf | None = None) -> bytes:
    records = build_capture(ex, revisit=revisit, make_id=make_id_factory())
    return b"".join(serialize_record(record) for record in records)


GOLDEN_PAIR = (
    b"WARC/1.1\r\n"
    b"WARC-Type: response\r\n"
    b"WARC-Record-ID: <urn:uuid:00000000-0000-4000-8000-000000000001>\r\n"
    b"WARC-Date: 2024-05-06T07:08:09.123456Z\r\n"
    b"WARC-Target-URI: https://www.defense.gov/News/Releases/?page=2\r\n"
    b"WARC-IP-Address: 192.0.2.7\r\n"
    b"WARC-Concurrent-To: <urn:uuid:00000000-0000-4000-8000-000000000002>\r\n"
    b"WARC-Payload-Digest: sha1:2RT562FCMPBHFLYL3EANFLMZLOND57XB\r\n"
    b"WARC-Block-Digest: sha1:I4UNHY5JOSNQI2PVY7IDH7AUOFSS6ZAQ\r\n"
    b"Content-Type: application/http; msgtype=response\r\n"
    b"Content-Length: 126\r\n"
    b"\r\n"
    b"HTTP/1.1 200 OK\r\n"
    b"Content-Type: text/html; charset=utf-8\r\n"
    b"Set-Cookie: a=1\r\n"
    b"Set-Cookie: b=2\r\n"
    b"Content-Length: 13\r\n"
    b"\r\n"
    b"<p>Hello</p>\n"
    b"\r\n\r\n"
    b"WARC/1.1\r\n"
    b"WARC-Type: request\r\n"
    b"WARC-Record-ID: <urn:uuid:00000000-0000-4000-8000-000000000002>\r\n"
    b"WARC-Date: 2024-05-06T07:08:09.123456Z\r\n"
    b"WARC-Target-URI: https://www.defense.gov/News/Releases/?page=2\r\n"
    b"WARC-IP-Address: 192.0.2.7\r\n"
    b"WARC-Concurrent-To: <urn:uuid:00000000-0000-4000-8000-000000000001>\r\n"
    b"WARC-Payload-Digest: sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ\r\n"
    b"WARC-Block-Digest: sha1:3M2CQ42DBTAAZ6TEJBBJNV64LHHHXAS7\r\n"
    b"Content-Type: application/http; msgtype=request\r\n"
    b"Content-Length: 139\r\n"
    b"\r\n"
    b"GET /News/Releases/?page=2 HTTP/1.1\r\n"
    b"Accept: text/html\r\n"
    b"User-Agent: archiver/0.1\r\n"
    b"Accept-Encoding: gzip, deflate\r\n"
    b"Host: www.defense.gov\r\n"
    b"\r\n"
    b"\r\n\r\n"
)


def test_request_response_pair_matches_golden_bytes() -> None:
    assert capture_bytes(exchange()) == GOLDEN_PAIR


def test_golden_digests_are_sha1_base32_of_payload_and_block() -> None:
    def sha1(data: bytes) -> str:
        return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode()

    block = GOLDEN_PAIR.split(b"\r\n\r\n", 1)[1].split(b"\r\n\r\nWARC/1.1", 1)[0]
    assert f"WARC-Block-Digest: {sha1(block)}".encode() in GOLDEN_PAIR
    assert f"WARC-Payload-Digest: {sha1(b'<p>Hello</p>' + bytes([10]))}".encode() in GOLDEN_PAIR


def test_written_pair_passes_warcio_check(tmp_path: Path) -> None:
    path = tmp_path / "pair.warc"
    path.write_bytes(capture_bytes(exchange()))
    result = warcio_check([path])
    assert result.returncode == 0, result.stdout
    assert result.stdout.count("digest pass") == 2


def test_response_round_trips_body_and_repeated_headers() -> None:
    body = bytes(range(256)) * 50
    headers = [(b"Set-Cookie", b"a=1"), (b"X-Other", b"x"), (b"Set-Cookie", b"b=2")]
    (response, raw), _request = read_all(
        capture_bytes(exchange(response_body=body, response_headers=headers))
    )
    assert raw == body
    assert response.http_headers.headers == [
        ("Set-Cookie", "a=1"),
        ("X-Other", "x"),
        ("Set-Cookie", "b=2"),
    ]


def test_non_utf8_header_bytes_are_kept_byte_for_byte() -> None:
    data = capture_bytes(exchange(response_headers=[(b"X-Latin", b"caf\xe9")]))
    assert b"\r\nX-Latin: caf\xe9\r\n" in data
    read_all(data)  # digests still verify


def test_request_round_trips_method_target_and_body() -> None:
    ex = exchange(method="POST", url="http://example.mil/search?q=a%20b#frag", request_body=b"x=1")
    _response, (request, raw) = read_all(capture_bytes(ex))
    assert request.http_headers.protocol == "POST"
    assert request.http_headers.statusline == "/search?q=a%20b HTTP/1.1"
    assert raw == b"x=1"


def test_gzip_body_is_stored_still_encoded() -> None:
    encoded = gzip.compress(b"<html>page</html>", mtime=0)
    headers = [(b"Content-Encoding", b"gzip"), (b"Content-Length", str(len(encoded)).encode())]
    data = capture_bytes(exchange(response_body=encoded, response_headers=headers))
    (_response, raw), _ = read_all(data)
    assert raw == encoded
    assert decoded_contents(data)[0] == b"<html>page</html>"


def test_chunked_framing_header_is_renamed_and_no_length_invented() -> None:
    headers = [(b"Content-Type", b"text/html"), (b"Transfer-Encoding", b"chunked")]
    data = capture_bytes(exchange(response_body=b"dechunked body", response_headers=headers))
    (response, raw), _ = read_all(data)
    assert response.http_headers.get_header("Transfer-Encoding") is None
    assert response.http_headers.get_header("X-Archiver-Orig-Transfer-Encoding") == "chunked"
    assert response.http_headers.get_header("Content-Length") is None
    assert raw == b"dechunked body"
    assert decoded_contents(data)[0] == b"dechunked body"


@pytest.mark.parametrize(
    ("status", "line"), [(404, "404 Not Found"), (301, "301 Moved Permanently"), (599, "599 ")]
)
def test_reason_phrase_comes_from_http_status(status: int, line: str) -> None:
    data = capture_bytes(exchange(status=status))
    assert f"\r\n\r\nHTTP/1.1 {line}\r\n".encode() in data
    read_all(data)


def test_h2_is_written_as_http11_with_warc_protocol() -> None:
    (response, _), (request, _) = read_all(capture_bytes(exchange(protocol="h2")))
    assert response.http_headers.protocol == "HTTP/1.1"
    assert response.rec_headers.get_header("WARC-Protocol") == "h2"
    assert request.rec_headers.get_header("WARC-Protocol") == "h2"


def test_truncated_response_is_marked() -> None:
    (response, _), _ = read_all(capture_bytes(exchange(truncated="disconnect")))
    assert response.rec_headers.get_header("WARC-Truncated") == "disconnect"


def test_crlf_in_url_and_headers_cannot_inject_warc_headers() -> None:
    ex = exchange(
        url="https://www.defense.gov/a?b=1" + EVIL,
        request_headers=[(b"User-Agent", ("ua" + EVIL).encode()), ("X-Str", "v" + EVIL)],
        response_headers=[((f"X-Name{EVIL}").encode(), b"v"), (b"Location", f"/x{EVIL}".encode())],
        ip_address="127.0.0.1" + EVIL,
    )
    records = read_all(capture_bytes(ex))
    for record, _ in records:
        assert [v for k, v in record.rec_headers.headers if k == "WARC-Type"] == [record.rec_type]
        assert all("\r" not in v and "\n" not in v for _, v in record.http_headers.headers)
    response, request = records[0][0], records[1][0]
    assert response.rec_headers.get_header("WARC-Target-URI").endswith("%0D%0AWARC-Type:%20evil")
    assert len(response.http_headers.headers) == 2
    assert len(request.http_headers.headers) == 2
    assert request.http_headers.get_header("User-Agent") == "ua WARC-Type: evil"


def test_crlf_in_warcinfo_and_conversion_fields_is_neutralised() -> None:
    warcinfo = build_warcinfo("f.warc.gz" + EVIL, {"robots" + EVIL: "obey" + EVIL})
    conversion = build_conversion(
        b"{}", target_uri="https://x.mil/" + EVIL, refers_to="<urn:uuid:1>" + EVIL
    )
    for record, body in read_all(serialize_record(warcinfo) + serialize_record(conversion)):
        assert [v for k, v in record.rec_headers.headers if k == "WARC-Type"] == [record.rec_type]
        assert b"\nWARC-Type" not in body


def test_identical_payload_revisit_refers_to_first_capture(tmp_path: Path) -> None:
    prior = PriorCapture(
        target_uri="https://www.defense.gov/first",
        warc_date="2024-01-01T00:00:00Z",
        record_id="<urn:uuid:first>",
    )
    revisit = RevisitOf(RevisitProfile.IDENTICAL_PAYLOAD_DIGEST, prior)
    data = capture_bytes(exchange(), revisit)
    (record, raw), (request, _) = read_all(data)
    headers = record.rec_headers
    assert record.rec_type == "revisit"
    assert headers.get_header("WARC-Profile") == RevisitProfile.IDENTICAL_PAYLOAD_DIGEST.value
    assert headers.get_header("WARC-Refers-To") == "<urn:uuid:first>"
    assert headers.get_header("WARC-Refers-To-Target-URI") == "https://www.defense.gov/first"
    assert headers.get_header("WARC-Refers-To-Date") == "2024-01-01T00:00:00Z"
    assert headers.get_header("WARC-Payload-Digest") == payload_digest(b"<p>Hello</p>\n")
    assert raw == b""
    assert record.http_headers.get_statuscode() == "200"
    assert request.rec_headers.get_header("WARC-Concurrent-To") == headers.get_header(
        "WARC-Record-ID"
    )
    path = tmp_path / "revisit.warc"
    path.write_bytes(data)
    assert warcio_check([path]).returncode == 0


def test_server_not_modified_revisit_without_known_date() -> None:
    revisit = RevisitOf(RevisitProfile.SERVER_NOT_MODIFIED, PriorCapture("https://x.mil/a"))
    ex = exchange(status=304, response_body=b"", response_headers=[(b"ETag", b'"1"')])
    (record, _), _ = read_all(capture_bytes(ex, revisit))
    headers = record.rec_headers
    assert headers.get_header("WARC-Profile").endswith("/revisit/server-not-modified")
    assert headers.get_header("WARC-Refers-To-Target-URI") == "https://x.mil/a"
    assert headers.get_header("WARC-Refers-To-Date") is None
    assert headers.get_header("WARC-Payload-Digest") is None
    assert record.http_headers is None  # an empty block: replay shows the original's head
    assert record.rec_headers.get_header("Content-Length") == "0"


def test_conversion_record_refers_to_response() -> None:
    payload = json.dumps({"title": "Héllo"}, ensure_ascii=False).encode()
    record = build_conversion(
        payload,
        target_uri="https://www.defense.gov/a",
        refers_to="<urn:uuid:resp>",
        make_id=lambda: "<urn:uuid:conv>",
        clock=lambda: FETCHED,
    )
    [(parsed, raw)] = read_all(serialize_record(record))
    headers = parsed.rec_headers
    assert parsed.rec_type == "conversion"
    assert headers.get_header("WARC-Refers-To") == "<urn:uuid:resp>"
    assert headers.get_header("WARC-Target-URI") == "https://www.defense.gov/a"
    assert headers.get_header("Content-Type") == "application/json"
    assert headers.get_header("WARC-Date") == warc_date(FETCHED)
    assert raw == payload


def test_warcinfo_holds_fields_and_json_for_structured_values() -> None:
    record = build_warcinfo(
        "x.warc.gz",
        {"software": "archiver/1", "robots": "obey", "crawl-settings": {"B": 2, "A": 1}},
        make_id=lambda: "<urn:uuid:info>",
        clock=lambda: FETCHED,
    )
    [(parsed, raw)] = read_all(serialize_record(record))
    assert parsed.rec_headers.get_header("WARC-Filename") == "x.warc.gz"
    assert parsed.rec_headers.get_header("Content-Type") == "application/warc-fields"
    assert raw == b'software: archiver/1\r\nrobots: obey\r\ncrawl-settings: {"A":1,"B":2}\r\n'


def test_warc_date_is_utc_with_micros_only_when_present() -> None:
    assert warc_date(datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2024-01-02T03:04:05Z"
    assert warc_date(FETCHED) == "2024-05-06T07:08:09.123456Z"


# -- direct serialization (what the crawl writes) gives warcio's bytes ----------------------------

PRIOR = PriorCapture("https://a/b c", "2020-01-01T00:00:00Z", "<urn:uuid:x>", "sha1:AAA")
REVISITS = [
    None,
    RevisitOf(RevisitProfile.IDENTICAL_PAYLOAD_DIGEST, PRIOR),
    RevisitOf(RevisitProfile.SERVER_NOT_MODIFIED, PRIOR),
    RevisitOf(RevisitProfile.SERVER_NOT_MODIFIED, PriorCapture("https://a/")),
    RevisitOf(RevisitProfile.SERVER_NOT_MODIFIED, None),
]
EXCHANGE_VARIANTS: list[dict[str, Any]] = [
    {},
    {"ip_address": None},
    {"protocol": "h2"},
    {"protocol": None, "request_protocol": "HTTP/1.0"},
    {"status": 599},
    {"status": 301, "reason": "Moved" + EVIL},
    {"reason": "Örk"},
    {"truncated": "disconnect"},
    {"method": "post", "request_body": b"a=1&b=2"},
    {"url": "https://x/" + EVIL + "?q= 1#frag"},
    {"response_headers": [(b"X-Bin", bytes(range(128, 256))), ("Str", "välue"),
                          (b"Transfer-Encoding", b"chunked"), (b"Evil", EVIL.encode())]},
    {"response_body": b""},
    {"response_body": bytes(range(256)) * 100, "fetched_at": datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)},
]


@pytest.mark.parametrize("revisit", REVISITS)
@pytest.mark.parametrize("changes", EXCHANGE_VARIANTS)
def test_serialize_capture_gives_warcios_bytes(changes: dict[str, Any], revisit: RevisitOf | None) -> None:
    ex = exchange(**changes)
    built = build_capture(ex, revisit=revisit, make_id=make_id_factory())
    direct = serialize_capture(ex, revisit=revisit, make_id=make_id_factory())
    assert [record.data for record in direct] == [serialize_record(record) for record in built]
    assert [record.record_id for record in direct] == [record_id_of(record) for record in built]
    assert [record.payload_digest for record in direct] == [payload_digest_of(record) for record in built]


@pytest.mark.parametrize(("payload", "content_type", "uri"), [
    (b'{"a": 1}', "application/json", "https://x/y"),
    (b"", "text/plain", "https://x/" + EVIL),
    ("ü".encode() * 1000, "application/json" + EVIL, "https://x/ y"),
])
def test_serialize_conversion_gives_warcios_bytes(payload: bytes, content_type: str, uri: str) -> None:
    fields: dict[str, Any] = {"target_uri": uri, "refers_to": "<urn:uuid:r>", "content_type": content_type}
    built = build_conversion(payload, **fields, make_id=make_id_factory(), clock=lambda: FETCHED)
    direct = serialize_conversion(payload, **fields, make_id=make_id_factory(), clock=lambda: FETCHED)
    assert direct.data == serialize_record(built)
    assert direct.payload_digest == payload_digest_of(built)


@pytest.mark.parametrize("changes", EXCHANGE_VARIANTS)
def test_serialize_archived_response_gives_warcios_bytes(changes: dict[str, Any]) -> None:
    """The response record of a harvested capture (archiver/harvest/records.py): warcio's record
    with headers added after it was built, as the harvest wrote it before."""
    ex = exchange(**changes)
    extra = [("WARC-Source-URI", clean_header_value("https://archive/1id_/x" + EVIL)),
             ("Archiver-Source", clean_header_value(json.dumps({"a": "é" + EVIL})))]
    built = build_response(ex, record_id="<urn:uuid:r>", concurrent_to=None)
    for name, value in extra:
        built.rec_headers.add_header(name, value)
    direct = serialize_archived_response(ex, "<urn:uuid:r>", extra)
    assert direct.data == serialize_record(built)
    assert direct.payload_digest == payload_digest_of(built)


@pytest.mark.parametrize(("payload", "uri"),
                         [(b'{"a": 1}', "https://x/y"), ("ü".encode() * 1000, "https://x/ y")])
def test_serialize_metadata_gives_warcios_bytes(payload: bytes, uri: str) -> None:
    from warcio.recordbuilder import RecordBuilder

    built = RecordBuilder(warc_version="1.1").create_warc_record(
        uri, "metadata", payload=io.BytesIO(payload), length=len(payload),
        warc_content_type="application/json",
        warc_headers_dict={"WARC-Refers-To": "<urn:uuid:r>", "WARC-Date": warc_date(FETCHED),
                           "WARC-Record-ID": "<urn:uuid:m>"})
    direct = serialize_metadata(payload, target_uri=uri, record_id="<urn:uuid:m>", when=FETCHED,
                                refers_to="<urn:uuid:r>")
    assert direct.data == serialize_record(built)
    assert direct.payload_digest == payload_digest_of(built)


def test_revisit_memory_is_bounded_and_forgets_the_least_recently_seen() -> None:
    policy = RevisitPolicy(memory=2)
    pages = {name: exchange(url=f"https://x/{name}", response_body=name.encode()) for name in "abc"}
    digests = {name: payload_digest(ex.response_body) for name, ex in pages.items()}
    for name in "ab":
        assert policy.decide(pages[name], digests[name]) is None
        policy.remember(pages[name], digests[name], f"<urn:uuid:{name}>")
    again = policy.decide(pages["a"], digests["a"])  # "a" seen again: now the most recent
    assert again is not None
    assert again.prior is not None
    assert again.prior.record_id == "<urn:uuid:a>"
    policy.remember(pages["c"], digests["c"], "<urn:uuid:c>")  # "b" is forgotten
    assert policy.decide(pages["b"], digests["b"]) is None
    assert policy.decide(pages["a"], digests["a"]) is not None
    assert policy.decide(pages["c"], digests["c"]) is not None
    with pytest.raises(ValueError, match="WARC_DEDUPE_MEMORY"):
        RevisitPolicy(memory=0)
