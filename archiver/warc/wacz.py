"""A WACZ 1.1.1 package (https://specs.webrecorder.net/wacz/1.1.1/) built from the crawl's own CDXJ.

The ``wacz`` tool (py-wacz) indexes every record of every WARC again, then reads each file of the
package once more to hash it: ~0.6 ms of CPU per archived response, a sixth of a crawl's CPU
(docs/performance.md). The crawl has already written a sorted CDXJ per WARC (``indexes/``), so this
writer only merges those, copies the WARCs in (hashing as it copies) and writes what py-wacz writes:

- ``indexes/index.cdx.gz``: the merged CDXJ in gzip blocks of :data:`LINES_PER_BLOCK` lines (ZipNum,
  ``cdxj-gzip-1.0``), with ``indexes/index.idx``, the first key of each block with its offset,
  length and sha256, as pywb and ReplayWeb.page read them;
- ``archive/<name>.warc.gz``: each WARC, stored as it is;
- ``pages/pages.jsonl``: the pages that have a capture in the index (matched by URL, either scheme,
  and capture second, as py-wacz matches them; the others are left out with a warning), each once;
- ``datapackage.json`` (every file's sha256 and size) and ``datapackage-digest.json``.

A WARC without a CDXJ next to it, or with one older than the WARC, is indexed here first
(cdxj-indexer, :func:`archiver.warc.index.write_cdxj`). ``wacz validate`` (py-wacz) and
ReplayWeb.page check the result in the tests.
"""

from __future__ import annotations

import gzip
import hashlib
import heapq
import json
import logging
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from archiver.warc.index import PAGES_HEADER, WaczPage, cdxj_path_for, unique_lines, write_cdxj

logger = logging.getLogger(__name__)

WACZ_VERSION = "1.1.1"
#: CDXJ lines per gzip block of ``index.cdx.gz`` (py-wacz's default)
LINES_PER_BLOCK = 1024
_COPY_CHUNK = 1024 * 1024


def build_wacz(warc_paths: Sequence[Path], out_path: Path, pages: Iterable[WaczPage],
               index_dir: Path | None = None) -> Path:
    """Package ``warc_paths``, their CDXJ (from ``index_dir``, default ``indexes/`` next to each
    WARC) and ``pages`` into the WACZ file ``out_path``."""
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack, zipfile.ZipFile(out_path, "w") as wacz:
        indexes = [_cdxj_of(warc, index_dir, stack) for warc in warc_paths]
        resources: list[dict[str, Any]] = []
        captures = _write_index(wacz, indexes, resources)
        for warc in warc_paths:
            info = zipfile.ZipInfo.from_file(warc, f"archive/{warc.name}")
            info.compress_type = zipfile.ZIP_STORED  # already gzip: replay reads records at offsets
            with warc.open("rb") as source, wacz.open(info, "w") as target:
                resources.append(_resource(info.filename, _copy(source, target)))
        _write_pages(wacz, pages, captures, resources)
        package = json.dumps({"profile": "data-package", "resources": resources,
                              "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                              "wacz_version": WACZ_VERSION, "software": _software()}, indent=2).encode()
        wacz.writestr(_entry("datapackage.json"), package)
        digest = {"path": "datapackage.json", "hash": f"sha256:{hashlib.sha256(package).hexdigest()}"}
        wacz.writestr(_entry("datapackage-digest.json"), json.dumps(digest, indent=2))
    logger.info("Wrote WACZ %s from %d WARC file(s)", out_path, len(warc_paths))
    return out_path


def _cdxj_of(warc: Path, index_dir: Path | None, stack: ExitStack) -> Path:
    """The WARC's CDXJ as the crawl wrote it, or one made now (in a temporary folder)."""
    path = cdxj_path_for(warc, index_dir)
    try:
        if path.stat().st_mtime >= warc.stat().st_mtime:
            return path
    except FileNotFoundError:
        pass
    logger.info("%s has no up-to-date CDXJ: indexing it for the WACZ", warc)
    return write_cdxj(warc, Path(stack.enter_context(tempfile.TemporaryDirectory())))


def _write_index(wacz: zipfile.ZipFile, indexes: list[Path], resources: list[dict[str, Any]]) -> set[int]:
    """``index.cdx.gz`` and ``index.idx`` from the merged CDXJ files; returns the hashes of the
    captures' page keys (:func:`_page_key`) for matching pages."""
    captures: set[int] = set()
    blocks: list[str] = []
    with ExitStack() as files:
        lines = heapq.merge(*(files.enter_context(path.open(encoding="utf-8")) for path in indexes))
        with wacz.open(_entry("indexes/index.cdx.gz", stored=True), "w") as packed:
            hasher, offset = hashlib.sha256(), 0
            for block in _blocks(_noting_captures(unique_lines(lines), captures)):
                data = gzip.compress("".join(block).encode("utf-8"), compresslevel=6, mtime=0)
                hasher.update(data)
                packed.write(data)
                key = " ".join(block[0].split(" ", 2)[:2])
                where = {"offset": offset, "length": len(data), "digest": _sha(data)}
                blocks.append(f"{key} {json.dumps(where)}\n")
                offset += len(data)
    resources.append(_resource("indexes/index.cdx.gz", (offset, f"sha256:{hasher.hexdigest()}")))
    idx = ('!meta 0 {"format": "cdxj-gzip-1.0", "filename": "index.cdx.gz"}\n' + "".join(blocks)).encode()
    wacz.writestr(_entry("indexes/index.idx"), idx)
    resources.append(_resource("indexes/index.idx", (len(idx), _sha(idx))))
    return captures


def _noting_captures(lines: Iterable[str], captures: set[int]) -> Iterator[str]:
    """The index lines, each ending in a newline, noting each capture's page key."""
    for line in lines:
        if not line.strip():
            continue
        if not line.endswith("\n"):
            line += "\n"
        _, timestamp, fields = line.split(" ", 2)
        try:
            url = json.loads(fields).get("url")
        except ValueError:
            url = None
        if url:
            captures.add(_page_key(timestamp, url))
        yield line


def _blocks(lines: Iterable[str]) -> Iterator[list[str]]:
    block: list[str] = []
    for line in lines:
        block.append(line)
        if len(block) == LINES_PER_BLOCK:
            yield block
            block = []
    if block:
        yield block


def _page_key(timestamp: str, url: str) -> int:
    """A page or capture as py-wacz matches them: capture second and URL, either scheme, no fragment."""
    return hash(f"{timestamp[:14]}/{url.split('#', 1)[0].split(':', 1)[-1]}")


def _write_pages(wacz: zipfile.ZipFile, pages: Iterable[WaczPage], captures: set[int],
                 resources: list[dict[str, Any]]) -> None:
    seen: set[int] = set()
    header = (json.dumps(PAGES_HEADER) + "\n").encode()
    hasher, size = hashlib.sha256(header), len(header)
    with wacz.open(_entry("pages/pages.jsonl"), "w") as out:
        out.write(header)
        for page in pages:
            stamp = "".join(ch for ch in page.ts if ch.isdigit())[:14]
            key = _page_key(stamp, page.url)
            if key in seen:
                continue
            seen.add(key)
            if key not in captures:
                logger.warning("wacz: page %s of %s has no capture in the index: left out of pages.jsonl",
                               page.url, page.ts)
                continue
            line = {"url": page.url, "ts": page.ts, "title": page.title,
                    "id": hashlib.sha1(f"{stamp}/{page.url}".encode()).hexdigest()[:22]}
            data = (json.dumps(line) + "\n").encode()
            hasher.update(data)
            out.write(data)
            size += len(data)
    resources.append(_resource("pages/pages.jsonl", (size, f"sha256:{hasher.hexdigest()}")))


def _copy(source: IO[bytes], target: IO[bytes]) -> tuple[int, str]:
    hasher, size = hashlib.sha256(), 0
    while chunk := source.read(_COPY_CHUNK):
        hasher.update(chunk)
        target.write(chunk)
        size += len(chunk)
    return size, f"sha256:{hasher.hexdigest()}"


def _resource(path: str, size_and_hash: tuple[int, str]) -> dict[str, Any]:
    size, digest = size_and_hash
    return {"name": path.rsplit("/", 1)[-1].lower(), "path": path, "hash": digest, "bytes": size}


def _sha(data: bytes) -> str:
    return f"sha256:{hashlib.sha256(data).hexdigest()}"


def _entry(name: str, stored: bool = False) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, datetime.now(UTC).timetuple()[:6])
    info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    return info


def _software() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"defense-news-archiver {version('defense-news-archiver')}"
    except PackageNotFoundError:
        return "defense-news-archiver"
