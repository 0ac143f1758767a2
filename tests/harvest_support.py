"""Test support for the harvest: archived pages as WARCs, a real pywb, the API front servers.

``pywb_tool`` (the one place pywb's commands are looked up: the tool venv ``.venv/tools/pywb/bin/``
first, then ``.venv/bin``) is :func:`archiver.harvest.pywb.pywb_tool`, shared with the demo.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archiver.harvest.pywb import build_collection, pywb_tool, serving

__all__ = ["pywb_tool"]

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
#: the real pages of four eras (byte copies of shared/fixtures/real/, see each case's info.json),
#: by their name in shared/fixtures/real/
REAL_CASES = {
    "defenselink-2006-release-10242": "release/real-defenselink-10242",
    "dnn2018-contract-605989": "contract/real-dnn-605989",
    "dgov2-2021-release-2411893": "release/real-dgov2-2411893",
    "release-3981590-rendered": "release/real-3981590",
}
FRONT = ROOT / "tests" / "archive_front.py"
#: settings of a harvest of a local archive: no delays (the archive is this machine)
LOCAL = (
    "-s",
    "DOWNLOAD_DELAY=0",
    "-s",
    "AUTOTHROTTLE_ENABLED=False",
    "-s",
    "ARCHIVER_EXTRACT_WORKERS=1",
    "-s",
    "ARCHIVER_HARVEST_CONCURRENCY=4",
    "-s",
    "RETRY_TIMES=2",
    "-s",
    "ARCHIVER_RETRY_AFTER_MAX=3",
)

DEFENSELINK = "http://www.defenselink.mil/Releases/Release.aspx?ReleaseID=10242"
DNN_CONTRACT = "https://www.defense.gov/News/Contracts/Contract-View/Article/605989/"
DNN_CONTRACT_OTHER_HOST = "http://dod.defense.gov/News/Contracts/Contract-View/Article/605989/"
DGOV2 = (
    "https://www.defense.gov/News/Releases/Release/Article/2411893/"
    "dod-statement-on-personnel-changes-at-the-pentagon/"
)
WARGOV = (
    "https://www.war.gov/News/Releases/Release/Article/3981590/dod-announces-2024-defense-acquisition-awards/"
)
LEGACY_REDIRECT = "http://archive.defense.gov/news/newsarticle.aspx?id=123456"
#: the sentence of the DGOV2 release the second capture edits
DGOV2_SENTENCE = b"personnel changes"
DGOV2_EDITED = b"personnel moves"


@dataclass(frozen=True)
class ArchivedPage:
    """One capture to put in a test archive."""

    url: str
    captured: str  # WARC-Date, e.g. 2009-03-02T10:11:12Z
    body: bytes
    status: int = 200
    headers: Sequence[tuple[str, str]] = field(default=(("Content-Type", "text/html; charset=utf-8"),))

    @property
    def timestamp(self) -> str:
        return "".join(ch for ch in self.captured if ch.isdigit())[:14]


def real_page(name: str) -> bytes:
    return (FIXTURES / REAL_CASES[name] / "body.html").read_bytes()


def dgov2_edited() -> bytes:
    body = real_page("dgov2-2021-release-2411893")
    assert DGOV2_SENTENCE in body
    return body.replace(DGOV2_SENTENCE, DGOV2_EDITED)


def era_pages() -> list[ArchivedPage]:
    """The four eras' real pages, as archives hold them: the DNN contract under two hosts and
    schemes, the DGOV2 release captured twice (edited in between), a legacy URL whose capture is a
    redirect to the war.gov release, a listing page and a photo (neither is fetched)."""
    html = (("Content-Type", "text/html"),)
    return [
        ArchivedPage(
            DEFENSELINK, "2009-03-02T10:11:12Z", real_page("defenselink-2006-release-10242"), headers=html
        ),
        ArchivedPage(DNN_CONTRACT_OTHER_HOST, "2017-06-01T08:00:00Z", real_page("dnn2018-contract-605989")),
        ArchivedPage(DNN_CONTRACT, "2018-03-14T09:30:00Z", real_page("dnn2018-contract-605989")),
        ArchivedPage(DGOV2, "2021-10-01T12:00:00Z", real_page("dgov2-2021-release-2411893")),
        ArchivedPage(DGOV2, "2021-12-15T12:00:00Z", dgov2_edited()),
        ArchivedPage(WARGOV, "2025-10-20T16:45:00Z", real_page("release-3981590-rendered")),
        ArchivedPage(
            LEGACY_REDIRECT,
            "2025-10-21T10:00:00Z",
            b"",
            status=301,
            headers=(("Location", WARGOV), ("Content-Length", "0")),
        ),
        ArchivedPage(
            "https://www.defense.gov/News/Releases/?Page=2", "2021-10-01T12:00:00Z", b"<html>list</html>"
        ),
        ArchivedPage(
            "https://www.defense.gov/News/Releases/photo.jpg",
            "2021-10-01T12:00:00Z",
            b"\xff\xd8jpeg",
            headers=(("Content-Type", "image/jpeg"),),
        ),
    ]


def write_warc(path: Path, pages: Sequence[ArchivedPage]) -> Path:
    """The pages as a WARC/1.1 file of response records (original URLs, capture dates)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as stream:
        writer = WARCWriter(stream, gzip=True, warc_version="1.1")
        for page in pages:
            headers = list(page.headers)
            if not any(name.lower() == "content-length" for name, _ in headers):
                headers.append(("Content-Length", str(len(page.body))))
            reason = {200: "OK", 301: "Moved Permanently", 302: "Found"}.get(page.status, "")
            http = StatusAndHeaders(f"{page.status} {reason}", headers, protocol="HTTP/1.1")
            record = writer.create_warc_record(
                page.url,
                "response",
                payload=io.BytesIO(page.body),
                http_headers=http,
                warc_headers_dict={"WARC-Date": page.captured},
            )
            writer.write_record(record)
    return path


@contextmanager
def pywb_collection(root: Path, pages: Sequence[ArchivedPage], name: str = "history") -> Iterator[str]:
    """A real pywb serving ``pages``; yields the collection URL (``http://127.0.0.1:PORT/history``)."""
    warc = write_warc(root / "source" / "history.warc.gz", pages)
    build_collection(root / "pywb", name, [warc])
    with serving(root / "pywb") as base:
        yield f"{base}/{name}"


def commoncrawl_data(root: Path, crawls: dict[str, Sequence[ArchivedPage]]) -> dict[str, Any]:
    """WARC files of each crawl under ``root/data`` and their CDX index (JSON lines, with
    filename/offset/length as Common Crawl's); returns the ``crawls`` part of the front's config."""
    from surt import surt as canonicalize  # what pywb's canonicalize does (cdxj-indexer's dependency)

    result: dict[str, Any] = {}
    for crawl, pages in crawls.items():
        filename = f"crawl-data/{crawl}/segments/1/warc/{crawl}-00000.warc.gz"
        path = write_warc(root / "data" / filename, pages)
        lines = []
        with path.open("rb") as stream:
            iterator = ArchiveIterator(stream)
            for record, page in zip(iterator, pages, strict=True):
                record.raw_stream.read()
                lines.append(
                    {
                        "urlkey": canonicalize(page.url),
                        "timestamp": page.timestamp,
                        "url": page.url,
                        "mime": "text/html",
                        "status": str(page.status),
                        "digest": record.rec_headers.get_header("WARC-Payload-Digest").split(":")[-1],
                        "length": str(iterator.get_record_length()),
                        "offset": str(iterator.get_record_offset()),
                        "filename": filename,
                    }
                )
        index = root / f"{crawl}.jsonl"
        index.write_text(
            "".join(json.dumps(line) + "\n" for line in sorted(lines, key=lambda r: r["urlkey"]))
        )
        stamps = sorted(page.timestamp for page in pages)
        result[crawl] = {"index": str(index), "from": stamps[0], "to": stamps[-1]}
    return result


@contextmanager
def front_server(config: dict[str, Any], root: Path) -> Iterator[str]:
    """``tests/archive_front.py`` with ``config``; yields its base URL (no trailing slash)."""
    path = root / "front.json"
    path.write_text(json.dumps(config))
    errors = (root / "front.err").open("w")
    # the front canonicalizes URLs with pywb's own function: it runs in pywb's tool venv
    proc = subprocess.Popen(
        [str(pywb_tool("python")), str(FRONT), str(path)], stdout=subprocess.PIPE, stderr=errors, text=True
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line.startswith("serving "):
            raise RuntimeError(f"front server did not start: {line!r}; see {root / 'front.err'}")
        yield line.split()[1].rstrip("/")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        errors.close()


def harvest(out: Path, archive: str, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """``archiver harvest --archive ARCHIVE --out OUT ARGS`` with the local-archive settings."""
    command = [
        sys.executable,
        "-m",
        "archiver",
        "harvest",
        "--archive",
        archive,
        "--out",
        str(out),
        "--progress",
        "0",
        *LOCAL,
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False, cwd=ROOT)


def jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
