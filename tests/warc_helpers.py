"""Shared helpers for the WARC tests: a tiny HTTP server and WARC readers.

Run as a script (``python tests/warc_helpers.py``) it serves, on 127.0.0.1 and a free port,
the pages the WARC tests need and prints ``serving http://127.0.0.1:PORT/`` first:

* ``/gzip``      article page, gzip-encoded when the client accepts gzip (Content-Length)
* ``/chunked``   article page sent with ``Transfer-Encoding: chunked``
* ``/cookies``   two ``Set-Cookie`` headers and a non-UTF-8 header byte
* ``/old``       301 to ``/gzip``
* ``/missing``   404
* ``/copy``      same bytes as ``/chunked`` (identical payload -> revisit)
* ``/robots.txt``
"""

from __future__ import annotations

import gzip
import io
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from warcio.archiveiterator import ArchiveIterator

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
#: pywb's own venv (``make setup``; pyproject.toml ``[tool.archiver.tools]``): kept out of the product's
PYWB_BIN = VENV_BIN.parent / "tools" / "pywb" / "bin"
HERE = Path(__file__).resolve()


def pywb_tool(name: str) -> Path:
    """``wayback`` or ``wb-manager`` from pywb's venv; skips the test when it is not installed
    (fails it under CI, where ``make setup`` must have installed it)."""
    import pytest

    path = PYWB_BIN / name
    if not (path.is_file() and os.access(path, os.X_OK)):
        message = f"pywb is not installed: no {path} (run make setup)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def article_html(title: str, links: str, paragraphs: int = 200) -> bytes:
    """A deterministic article page, large enough that gzip matters."""
    body = "".join(
        f"<p>Paragraph {i} of {title}: the Secretary said the exercise went well.</p>\n"
        for i in range(paragraphs)
    )
    page = (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head>"
        f"<body><h1>{title}</h1>{links}\n{body}</body></html>"
    )
    return page.encode("utf-8")


GZIP_PAGE = article_html(
    "Gzip Article",
    "<a href='/chunked'>next</a> <a href='/cookies'>c</a> <a href='/old'>old</a> "
    "<a href='/missing'>gone</a>",
)
# Only this page links to /copy, so /chunked is always archived first.
CHUNKED_PAGE = article_html("Chunked Article", "<a href='/copy'>copy</a>")
COOKIE_PAGE = b"<html><head><title>Cookies</title></head><body>cookies</body></html>"
ROBOTS = b"User-agent: *\nAllow: /\n"


def _page_gzip(request: Any) -> bytes:
    request.setHeader(b"content-type", b"text/html; charset=utf-8")
    if b"gzip" not in (request.getHeader(b"accept-encoding") or b""):
        request.setHeader(b"content-length", str(len(GZIP_PAGE)).encode())
        return GZIP_PAGE
    data = gzip.compress(GZIP_PAGE, mtime=0)
    request.setHeader(b"content-encoding", b"gzip")
    request.setHeader(b"content-length", str(len(data)).encode())
    return data


def _page_chunked(request: Any) -> int:
    from twisted.web import server

    request.setHeader(b"content-type", b"text/html; charset=utf-8")
    # No Content-Length: Twisted frames an HTTP/1.1 response with chunks.
    for start in range(0, len(CHUNKED_PAGE), 4096):
        request.write(CHUNKED_PAGE[start : start + 4096])
    request.finish()
    return int(server.NOT_DONE_YET)


def _page_cookies(request: Any) -> bytes:
    request.setHeader(b"content-type", b"text/html")
    request.responseHeaders.addRawHeader(b"set-cookie", b"a=1; Path=/")
    request.responseHeaders.addRawHeader(b"set-cookie", b"b=2; Path=/")
    request.responseHeaders.addRawHeader(b"x-latin", b"caf\xe9")
    return COOKIE_PAGE


def _page_old(request: Any) -> bytes:
    request.setResponseCode(301)
    request.setHeader(b"location", b"/gzip")
    return b"moved"


def _page_robots(request: Any) -> bytes:
    request.setHeader(b"content-type", b"text/plain")
    return ROBOTS


def _page_missing(request: Any) -> bytes:
    request.setResponseCode(404)
    return b"not found"


PAGES = {
    b"/gzip": _page_gzip,
    b"/chunked": _page_chunked,
    b"/copy": _page_chunked,
    b"/cookies": _page_cookies,
    b"/old": _page_old,
    b"/robots.txt": _page_robots,
}


def _serve(port: int) -> None:
    from twisted.internet import reactor
    from twisted.web import resource, server

    class Site(resource.Resource):
        isLeaf = True

        def render_GET(self, request: Any) -> Any:
            return PAGES.get(request.path, _page_missing)(request)

    listening = reactor.listenTCP(port, server.Site(Site()), interface="127.0.0.1")
    sys.stdout.write(f"serving http://127.0.0.1:{listening.getHost().port}/\n")
    sys.stdout.flush()
    reactor.run()


@contextmanager
def running_server() -> Iterator[str]:
    """Start the test server in a subprocess; yield its base URL."""
    proc = subprocess.Popen(
        [sys.executable, str(HERE)], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        assert line.startswith("serving "), line
        yield line.removeprefix("serving ")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def assert_warcs_pass_check(directory: Path) -> None:
    """Every ``*.warc.gz`` under ``directory`` passes ``warcio check`` (one process for all)."""
    from tests.harness import warcio_check  # here: this file also runs as a script, outside the package

    paths = sorted(directory.rglob("*.warc.gz"))
    if not paths:
        return
    result = warcio_check(paths, verbose=False)
    assert result.returncode == 0, result.stdout


def read_records(path: Path) -> list[dict[str, Any]]:
    """Every record of a WARC, digests checked, as plain dicts."""
    records = []
    with path.open("rb") as stream:
        iterator = ArchiveIterator(stream, check_digests="raise")
        for record in iterator:
            records.append(
                {
                    "type": record.rec_type,
                    "warc_headers": list(record.rec_headers.headers),
                    "http": record.http_headers,
                    "raw": record.raw_stream.read(),
                    "offset": iterator.get_record_offset(),
                }
            )
            records[-1]["length"] = iterator.get_record_length()
    return records


def read_record_at(path: Path, offset: int, length: int) -> Any:
    """Read the single record at ``offset`` (a gzip member of ``length`` bytes)."""
    with path.open("rb") as stream:
        stream.seek(offset)
        member = stream.read(length)
    records = []
    for record in ArchiveIterator(io.BytesIO(member), check_digests="raise"):
        records.append((record, record.raw_stream.read()))
    assert len(records) == 1
    return records[0]


def wait_for_http(url: str, timeout: float = 20.0) -> None:
    """Poll ``url`` until it answers (any status)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


if __name__ == "__main__":
    _serve(0)


def assert_cdxj_is_cdxj_indexers(out: Path, scratch: Path) -> None:
    """Every ``out/indexes/*.cdxj`` (made by the WARC writer as it wrote the records) is byte for
    byte what cdxj-indexer writes reading its ``out/warc/*.warc.gz`` (the old path, the oracle)."""
    from archiver.warc.index import cdxj_path_for, write_cdxj

    warcs = sorted((out / "warc").glob("*.warc.gz"))
    assert warcs
    for warc in warcs:
        made = cdxj_path_for(warc, out / "indexes").read_bytes()
        assert made == write_cdxj(warc, scratch).read_bytes(), warc.name
