"""CDXJ indexes and WACZ packages for closed WARC files.

CDXJ (https://specs.webrecorder.net/cdxj/0.1.0/) lines are written as Webrecorder's
``cdxj-indexer`` writes them (by the WARC writer, or by that package for a WARC read back), so pywb
and ReplayWeb.page read them; the WACZ is built from them by :mod:`archiver.warc.wacz` and checked
with the ``wacz`` package (py-wacz, :func:`validate_wacz`).
"""

from __future__ import annotations

import contextlib
import functools
import heapq
import io
import json
import logging
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from warcio.recordloader import ArcWarcRecordLoader
from warcio.timeutils import iso_date_to_timestamp

logger = logging.getLogger(__name__)

INDEX_DIR_NAME = "indexes"
# Records replay needs; request/warcinfo/conversion records are not looked up by URL.
# Passed explicitly: importing ``wacz`` appends "warcinfo" to CDXJIndexer.DEFAULT_RECORDS.
CDXJ_RECORD_TYPES = "response,revisit,resource"
PAGES_HEADER = {"format": "json-pages-1.0", "id": "pages", "title": "Articles"}


@dataclass(frozen=True)
class WaczPage:
    """One entry of ``pages/pages.jsonl``.

    ``ts`` is the capture's WARC-Date (ISO 8601); :mod:`archiver.warc.wacz` matches a page to its
    index line by URL and that timestamp to the second, and leaves out pages it cannot match.
    """

    url: str
    ts: str
    title: str


#: characters of CDXJ lines sorted in memory; past that, cdxj-indexer sorts runs in temporary files
#: and merges them, so indexing a 1 GB WARC (~30k captures) stays within a few MB
#: (benchmarks/memory.py; its default, 32 MiB of characters, costs ~15 MB more per such file)
CDXJ_SORT_BUFFER = 2 * 1024 * 1024


def cdxj_path_for(warc_path: Path, index_dir: Path | None = None) -> Path:
    """``<index_dir>/<name>.cdxj``; ``index_dir`` defaults to ``indexes/`` next to the WARC."""
    directory = index_dir if index_dir is not None else warc_path.parent / INDEX_DIR_NAME
    name = warc_path.name.removesuffix(".gz").removesuffix(".warc")
    return directory / f"{name}.cdxj"


@dataclass(frozen=True)
class CdxjEntry:
    """What a record's CDXJ line holds before it is written: ``indexed`` False for a record
    cdxj-indexer leaves out (request, metadata, warcinfo, conversion); else its SURT key and
    timestamp and the url/mime/status/digest fields (in cdxj-indexer's order, absent ones left
    out). Offset, length and file name are added by :func:`cdxj_line` once the record is written."""

    indexed: bool
    key: str = ""
    fields: tuple[tuple[str, str], ...] = ()


NOT_INDEXED = CdxjEntry(False)
_INDEXED_TYPES = frozenset(CDXJ_RECORD_TYPES.split(","))
_MIME_END = re.compile(r"[;\s]")  # CDXJIndexer.RE_SPACE


def cdxj_entry_of(rec_type: str, rec_headers: Any, http_headers: Any) -> CdxjEntry | None:
    """The CDXJ entry cdxj-indexer (``records=CDXJ_RECORD_TYPES``, default fields) makes of a
    record its ``ArchiveIterator`` parsed into these (a warcio ``ArcWarcRecord``'s ``rec_type``,
    ``rec_headers``, ``http_headers``); None when this cannot tell (no payload digest to copy:
    the file is then indexed by cdxj-indexer itself)."""
    if rec_type not in _INDEXED_TYPES:
        return NOT_INDEXED
    url = rec_headers.get_header("WARC-Target-URI")
    digest = rec_headers.get_header("WARC-Payload-Digest")
    date = rec_headers.get_header("WARC-Date")
    if not url or not digest or not date:
        return None
    mime: str | None = "warc/revisit"
    if rec_type != "revisit":
        if rec_type == "resource":
            mime = rec_headers.get_header("content-type")
        else:
            mime = http_headers.get_header("content-type") if http_headers else None
        if mime:
            mime = _MIME_END.split(mime, 1)[0].strip()
    status = http_headers.get_statuscode() if rec_type != "resource" and http_headers else None
    fields = [("url", url), ("mime", mime), ("status", status), ("digest", digest)]
    return CdxjEntry(True, f"{_surt_key(url)} {iso_date_to_timestamp(date)}",
                     tuple((name, value) for name, value in fields if value is not None))


#: as the indexer's ArchiveIterator makes it; parsing keeps no state, so threads may share it
_LOADER = ArcWarcRecordLoader(verify_http=False, arc2warc=True)


def cdxj_entry(data: bytes) -> CdxjEntry | None:
    """:func:`cdxj_entry_of` the one uncompressed WARC record ``data``, parsed as the indexer's
    ``ArchiveIterator`` does (``parse_record_stream`` in two steps, so that the HTTP head of a
    record left out of the index, a request's, is not parsed)."""
    try:
        record = _LOADER.parse_record_stream(io.BytesIO(data), no_record_parse=True)
        if record.rec_type not in _INDEXED_TYPES:
            return NOT_INDEXED
        uri = record.rec_headers.get_header("WARC-Target-URI")  # as _ensure_target_uri_format left it
        http_headers = _LOADER.load_http_headers(record.rec_type, uri, record.raw_stream, record.length)
    except Exception:
        return None
    return cdxj_entry_of(record.rec_type, record.rec_headers, http_headers)


def cdxj_line(entry: CdxjEntry, offset: int, length: int, filename: str) -> str:
    """The line cdxj-indexer writes for a record at ``offset``/``length`` of ``filename``."""
    index = dict(entry.fields)
    index.update(length=str(length), offset=str(offset), filename=filename)
    return f"{entry.key} {json.dumps(index)}\n"


@functools.cache
def _surt() -> Callable[[str], str]:
    import surt  # lazily: ~0.12 s to import (tldextract), only for a crawl's first record

    return cast(Callable[[str], str], surt.surt)


def _surt_key(url: str) -> str:
    try:  # as CDXJIndexer.get_url_key
        return str(_surt()(url))
    except Exception:
        return url


class CdxjLines:
    """The CDXJ lines of one WARC being written, sorted as cdxj-indexer's ``SortingWriter`` sorts
    them: past ``buffer`` characters the lines so far are sorted into a temporary file (a run), and
    :meth:`write` merges the runs, repeats dropped, so one open 1 GB WARC costs a few MB, not ~20."""

    def __init__(self, buffer: int = CDXJ_SORT_BUFFER) -> None:
        self.buffer = buffer
        self.count = 0  # lines added
        self._lines: list[str] = []
        self._chars = 0
        self._runs: list[Path] = []
        self._spilled_at = 0  # lines added when the last run was written

    def add(self, line: str) -> None:
        self._lines.append(line)
        self.count += 1
        self._chars += len(line)
        if self._chars > self.buffer:
            self._spill()

    def drop_after(self, count: int) -> bool:
        """Forget the lines added after the first ``count``; False when some are in a run already."""
        if count < self._spilled_at:
            return False
        del self._lines[count - self._spilled_at:]
        self.count = count
        self._chars = sum(map(len, self._lines))
        return True

    def write(self, out_path: Path) -> None:
        """Write every line to ``out_path`` in order, each once; the runs are removed."""
        with out_path.open("w", encoding="utf-8") as out:
            if not self._runs:
                self._lines.sort()
                out.writelines(unique_lines(self._lines))
                return
            self._spill()
            with contextlib.ExitStack() as stack:
                runs = [stack.enter_context(run.open(encoding="utf-8")) for run in self._runs]
                out.writelines(unique_lines(heapq.merge(*runs)))
        self.discard()

    def discard(self) -> None:
        """Remove the runs (a file left to cdxj-indexer)."""
        for run in self._runs:
            run.unlink(missing_ok=True)
        self._runs = []

    def _spill(self) -> None:
        self._lines.sort()
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".cdxj", delete=False) as run:
            run.writelines(unique_lines(self._lines))
        self._runs.append(Path(run.name))
        self._lines, self._chars, self._spilled_at = [], 0, self.count


def unique_lines(lines: Iterable[str]) -> Iterator[str]:
    """Sorted lines, each once."""
    previous = None
    for line in lines:
        if line != previous:
            yield line
        previous = line


def write_cdxj_lines(warc_path: Path, lines: CdxjLines, index_dir: Path | None = None) -> Path:
    """Write the CDXJ of a closed WARC from its records' :func:`cdxj_line` lines, as cdxj-indexer
    would (written atomically); return its path."""
    out_path = cdxj_path_for(warc_path, index_dir)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp_path = out_path.with_name(out_path.name + ".tmp")
    lines.write(tmp_path)
    tmp_path.replace(out_path)
    logger.info("Indexed %s into %s (from its writer)", warc_path, out_path)
    return out_path


def write_cdxj(warc_path: Path, index_dir: Path | None = None) -> Path:
    """Index a closed WARC into a sorted CDXJ file (written atomically); return its path."""
    out_path = cdxj_path_for(warc_path, index_dir)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp_path = out_path.with_name(out_path.name + ".tmp")
    from cdxj_indexer.main import CDXJIndexer  # lazily: ~0.25 s to import (pkg_resources, pyamf)

    indexer = CDXJIndexer(str(tmp_path), [str(warc_path)], sort=True, records=CDXJ_RECORD_TYPES,
                          max_sort_buff_size=CDXJ_SORT_BUFFER)
    indexer.process_all()
    tmp_path.replace(out_path)
    logger.info("Indexed %s into %s", warc_path, out_path)
    return out_path


class BackgroundIndexer:
    """Index closed WARC files on one worker thread (a ``WarcRollingWriter.on_file_closed``).

    ``on_error(path, exc)`` is called on the worker thread when indexing a file fails.
    """

    def __init__(
        self,
        index_dir: Path | None = None,
        on_error: Callable[[Path, BaseException], None] | None = None,
    ) -> None:
        self.index_dir = index_dir
        self.on_error = on_error
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cdxj")

    def __call__(self, warc_path: Path, lines: CdxjLines | None = None) -> None:
        """Index ``warc_path``: from the writer's ``lines`` (:func:`write_cdxj_lines`) when given,
        else by reading it (:func:`write_cdxj`)."""
        if lines is not None:
            future = self._executor.submit(write_cdxj_lines, warc_path, lines, self.index_dir)
        else:
            future = self._executor.submit(write_cdxj, warc_path, self.index_dir)
        future.add_done_callback(functools.partial(self._report, warc_path))

    def wait(self) -> None:
        """Block until every file queued so far is indexed (later files are still accepted)."""
        self._executor.submit(_nothing).result()

    def close(self) -> None:
        """Wait for the queued files, then stop the worker thread."""
        self._executor.shutdown(wait=True)

    def _report(self, warc_path: Path, future: Future[Path]) -> None:
        # Futures keep exceptions to themselves; make every failure visible.
        exc = future.exception()
        if exc is None:
            return
        logger.error("Could not index %s", warc_path, exc_info=exc)
        if self.on_error is not None:
            self.on_error(warc_path, exc)


def _nothing() -> None:
    """A no-op job: once the single worker runs it, everything queued before is done."""


def _run_wacz(args: list[str]) -> tuple[int, str]:
    # ``wacz`` is a CLI that prints its progress; keep that out of our stdout. Imported
    # lazily: it is slow to import and appends to CDXJIndexer.DEFAULT_RECORDS on import.
    from wacz.main import main as wacz_main

    from archiver.warc.compression import repair_warcio_brotli

    repair_warcio_brotli()  # a br record (sent although not asked for) must not stop its indexer

    captured = io.StringIO()
    with contextlib.redirect_stdout(captured):
        code = wacz_main(args)
    return int(code or 0), captured.getvalue()


def validate_wacz(path: Path) -> bool:
    """Run ``wacz validate`` on a file; True when valid."""
    code, output = _run_wacz(["validate", "-f", str(path)])
    if code != 0:
        logger.warning("wacz validate %s failed: %s", path, output[-2000:])
    return code == 0
