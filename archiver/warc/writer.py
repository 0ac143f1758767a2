"""Rolling, gzip-per-record WARC writer.

Files are written as ``<prefix>-<timestamp>-<serial:05d>-<worker>.warc.gz.open`` and renamed
to ``.warc.gz`` when closed (rollover at ``max_size`` bytes, or :meth:`WarcRollingWriter.close`).
Each record is its own gzip member, so ``(offset, length)`` of a record is a complete gzip
stream that can be read alone (what CDXJ indexes and pywb rely on).

Threads: :func:`encode_record` is pure and may run on any thread (zlib releases the GIL);
:meth:`WarcRollingWriter.append` and everything that touches the open file must stay on
one thread, the first one that writes (enforced: another thread gets a RuntimeError).
"""

from __future__ import annotations

import logging
import os
import re
import socket
import threading
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from archiver import settings as defaults
from archiver.warc.compression import fast_zlib
from archiver.warc.index import CdxjEntry, CdxjLines, cdxj_entry, cdxj_line
from archiver.warc.records import (
    Clock,
    RecordIdFactory,
    SerializedRecord,
    build_warcinfo,
    new_record_id,
    payload_digest_of,
    record_id_of,
    serialize_record,
    utc_now,
)

logger = logging.getLogger(__name__)

#: the defaults of archiver/settings.py (one definition), for a writer made without settings
DEFAULT_MAX_SIZE: int = defaults.WARC_MAX_SIZE
DEFAULT_GZIP_LEVEL: int = defaults.WARC_GZIP_LEVEL
DEFAULT_PREFIX: str = defaults.WARC_PREFIX
OPEN_SUFFIX = ".open"
WARC_SUFFIX = ".warc.gz"
_UNSAFE_NAME_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
_READ_CHUNK = 1 << 20
_MAX_NAME_ATTEMPTS = 1000


@dataclass(frozen=True)
class EncodedRecord:
    """One record ready to append: its complete gzip member plus what to report about it;
    ``cdxj`` its CDXJ entry (None: not known, the file is then indexed by reading it)."""

    record_id: str
    payload_digest: str | None
    member: bytes
    cdxj: CdxjEntry | None = None


@dataclass(frozen=True)
class RecordLocation:
    """Where a record landed: the closed file's name, offset and length of its gzip member."""

    filename: str
    offset: int
    length: int
    record_id: str
    payload_digest: str | None

    def as_dict(self) -> dict[str, Any]:
        """The ``warc`` object of the article record."""
        return {
            "filename": self.filename,
            "offset": self.offset,
            "length": self.length,
            "record_id": self.record_id,
            "payload_digest": self.payload_digest,
        }


#: the levels ISA-L compresses (``isal_zlib``: 0-3); 0 stays zlib's stored blocks
ISAL_LEVELS = range(1, 4)


def gzip_member(data: bytes, level: int = DEFAULT_GZIP_LEVEL) -> bytes:
    """``data`` as one complete gzip stream (mtime 0, so the output is deterministic).

    Level 0 stores (zlib's stored blocks); 1-3 deflate with ISA-L when it is installed (about
    6x faster than zlib's 6 at level 2, for ~15 % more bytes: docs/performance.md), zlib at the
    same level otherwise; 4-9 are zlib's levels. Any zlib or gzip reader inflates all of them.
    """
    deflater = fast_zlib if fast_zlib is not None and level in ISAL_LEVELS else zlib
    return deflater.compress(data, level, wbits=zlib.MAX_WBITS | 16)


def encode_record(record: Any, gzip_level: int = DEFAULT_GZIP_LEVEL) -> EncodedRecord:
    """Serialize and compress one record; thread-safe, touches no writer state."""
    data = serialize_record(record)
    return EncodedRecord(
        record_id_of(record), payload_digest_of(record), gzip_member(data, gzip_level), cdxj_entry(data)
    )


def encode_serialized(record: SerializedRecord, gzip_level: int = DEFAULT_GZIP_LEVEL, *,
                      indexed: bool = True) -> EncodedRecord:
    """Compress one record already serialized (:mod:`archiver.warc.records`' ``serialize_*``).

    ``indexed=False``: no CDXJ entry (for a writer that builds no CDXJ: ~24 us a record saved)."""
    return EncodedRecord(record.record_id, record.payload_digest, gzip_member(record.data, gzip_level),
                         cdxj_entry(record.data) if indexed else None)


def default_worker_name() -> str:
    """The host name, made safe for a file name."""
    return safe_name_part(socket.gethostname()) or "worker"


def safe_name_part(text: str) -> str:
    """Keep ``[A-Za-z0-9._-]``; anything else becomes ``-``."""
    return _UNSAFE_NAME_CHARS.sub("-", text).strip("-")


class WarcRollingWriter:
    """Append gzip-per-record WARC/1.1 records to rolling ``*.warc.gz.open`` files.

    Every file starts with a ``warcinfo`` record built from ``warcinfo_fields``. When a file
    closes it is fsynced, renamed to ``*.warc.gz`` and ``on_file_closed(path)`` is called
    (on the writing thread; it should be quick and must not raise). With ``on_file_indexed``,
    the writer also makes each record's CDXJ line as it appends it (from
    :attr:`EncodedRecord.cdxj`) and, after ``on_file_closed``, calls
    ``on_file_indexed(path, lines)``; ``lines`` is None when a record came without its entry
    (the file must then be indexed by reading it).
    """

    def __init__(
        self,
        directory: Path | str,
        *,
        prefix: str = DEFAULT_PREFIX,
        max_size: int = DEFAULT_MAX_SIZE,
        gzip_level: int = DEFAULT_GZIP_LEVEL,
        worker: str | None = None,
        warcinfo_fields: Mapping[str, object] | None = None,
        on_file_closed: Callable[[Path], None] | None = None,
        on_file_indexed: Callable[[Path, CdxjLines | None], None] | None = None,
        clock: Clock = utc_now,
        make_id: RecordIdFactory = new_record_id,
    ) -> None:
        if not 0 <= gzip_level <= 9:
            raise ValueError(f"gzip_level must be 0-9, got {gzip_level}")
        self.directory = Path(directory)
        self.prefix = safe_name_part(prefix) or DEFAULT_PREFIX
        self.max_size = max_size
        self.gzip_level = gzip_level
        self.worker = safe_name_part(worker) if worker else default_worker_name()
        self.warcinfo_fields = dict(warcinfo_fields or {})
        self.on_file_closed = on_file_closed
        self.on_file_indexed = on_file_indexed
        #: the open file's CDXJ lines; None once a record came without its entry
        self._cdxj: CdxjLines | None = None
        self._clock = clock
        self._make_id = make_id
        self._serial = 0
        self._file: IO[bytes] | None = None
        self._open_path: Path | None = None
        self._size = 0
        self._warcinfo_end = 0
        self._owner: int | None = None
        self.files_started = 0
        self.bytes_written = 0

    @property
    def current_path(self) -> Path | None:
        """The ``.open`` file being written, if any."""
        return self._open_path

    def write(self, *records: Any) -> list[RecordLocation]:
        """Encode and append records (kept together in one file); see :meth:`append`."""
        return self.append([encode_record(record, self.gzip_level) for record in records])

    def append(self, encoded: Sequence[EncodedRecord]) -> list[RecordLocation]:
        """Append already encoded records, all in the same file, in order."""
        self._check_thread()
        group_size = sum(len(item.member) for item in encoded)
        if self._file is not None and self._should_roll(group_size):
            self.close()
        if self._file is None:
            self._open_next()
        start = self._size
        lines_before = self._cdxj.count if self._cdxj is not None else 0
        try:
            return [self._append_member(item) for item in encoded]
        except OSError:
            # e.g. disk full: cut the group's partial bytes so the file stays a valid WARC
            self._rollback(start)
            if self._cdxj is not None and not self._cdxj.drop_after(lines_before):
                self._drop_cdxj()
            raise

    def _rollback(self, size: int) -> None:
        assert self._file is not None
        written = self._size - size
        os.ftruncate(self._file.fileno(), size)
        self._file.seek(size)
        self._size = size
        self.bytes_written -= written

    def flush(self) -> None:
        """Push what was written to the OS (a SIGKILL then loses nothing of it). The file is
        unbuffered (each record one ``write``), so this is cheap; fsync is left to :meth:`close`."""
        if self._file is not None:
            self._file.flush()

    def close(self) -> Path | None:
        """Close the current file (fsync, rename to ``.warc.gz``); return its final path."""
        if self._file is None or self._open_path is None:
            return None
        self._check_thread()
        file, open_path = self._file, self._open_path
        self._file, self._open_path = None, None
        file.flush()
        os.fsync(file.fileno())
        file.close()
        final_path = finalize_open_path(open_path)
        logger.info("Closed WARC %s (%d bytes)", final_path, self._size)
        if self.on_file_closed is not None:
            self.on_file_closed(final_path)
        if self.on_file_indexed is not None:
            lines, self._cdxj = self._cdxj, None
            self.on_file_indexed(final_path, lines)
        return final_path

    def _drop_cdxj(self) -> None:
        """A record came without its CDXJ entry: the file will be indexed by reading it."""
        if self._cdxj is not None:
            self._cdxj.discard()
        self._cdxj = None

    def __enter__(self) -> WarcRollingWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _check_thread(self) -> None:
        ident = threading.get_ident()
        if self._owner is None:
            self._owner = ident
        elif self._owner != ident:
            raise RuntimeError("WarcRollingWriter must be used from a single thread")

    def _should_roll(self, group_size: int) -> bool:
        has_records = self._size > self._warcinfo_end
        return has_records and self._size + group_size > self.max_size

    def _next_name(self) -> str:
        stamp = self._clock().strftime("%Y%m%d%H%M%S%f")[:17]
        name = f"{self.prefix}-{stamp}-{self._serial:05d}-{self.worker}{WARC_SUFFIX}"
        self._serial += 1
        return name

    def _open_next(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        for _ in range(_MAX_NAME_ATTEMPTS):
            name = self._next_name()
            open_path = self.directory / (name + OPEN_SUFFIX)
            if (self.directory / name).exists():
                continue
            try:
                # unbuffered: a failed write (disk full) is seen at once and can be rolled back
                self._file = open_path.open("xb", buffering=0)
            except FileExistsError:
                continue
            self._start_file(open_path, name)
            return
        raise FileExistsError(f"no free WARC file name in {self.directory}")

    def _start_file(self, open_path: Path, name: str) -> None:
        self._open_path = open_path
        self._size = 0
        self._cdxj = CdxjLines() if self.on_file_indexed is not None else None
        self.files_started += 1
        warcinfo = build_warcinfo(
            name, self.warcinfo_fields, make_id=self._make_id, clock=self._clock
        )
        self._append_member(encode_record(warcinfo, self.gzip_level))
        self._warcinfo_end = self._size
        logger.info("Opened WARC %s", open_path)

    def _append_member(self, item: EncodedRecord) -> RecordLocation:
        assert self._file is not None
        assert self._open_path is not None
        offset = self._size
        view = memoryview(item.member)
        while view:  # a raw write may take only part of the bytes
            written = self._file.write(view) or 0
            self._size += written
            self.bytes_written += written
            view = view[written:]
        final_name = self._open_path.name.removesuffix(OPEN_SUFFIX)
        if self._cdxj is not None:
            if item.cdxj is None:
                self._drop_cdxj()
            elif item.cdxj.indexed:
                self._cdxj.add(cdxj_line(item.cdxj, offset, len(item.member), final_name))
        return RecordLocation(
            final_name, offset, len(item.member), item.record_id, item.payload_digest
        )


def finalize_open_path(open_path: Path) -> Path:
    """Rename ``x.warc.gz.open`` to ``x.warc.gz`` (never over an existing file) and sync."""
    final_path = open_path.with_name(open_path.name.removesuffix(OPEN_SUFFIX))
    if final_path.exists():
        raise FileExistsError(f"{final_path} already exists; left {open_path} in place")
    open_path.rename(final_path)
    _fsync_directory(final_path.parent)
    return final_path


def _fsync_directory(directory: Path) -> None:
    # The rename is only durable once the directory entry is on disk (POSIX).
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def complete_members_end(stream: IO[bytes]) -> int:
    """Offset just after the last complete gzip member holding a WARC record.

    A member counts when it decompresses to its end with a valid CRC (zlib checks the
    gzip trailer) and its content starts with ``WARC/``.
    """
    good_end = position = 0
    decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16)
    head = b""
    buffer = b""
    while True:
        if not buffer:
            buffer = stream.read(_READ_CHUNK)
            if not buffer:
                return good_end
        try:
            output = decompressor.decompress(buffer)
        except zlib.error:
            return good_end
        head = (head + output[:5])[:5]
        if not decompressor.eof:
            position += len(buffer)
            buffer = b""
            continue
        position += len(buffer) - len(decompressor.unused_data)
        if head != b"WARC/":
            return good_end
        good_end = position
        buffer = decompressor.unused_data
        decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16)
        head = b""


def repair_open_file(open_path: Path) -> Path | None:
    """Finish a ``.warc.gz.open`` left by a crash: cut after the last complete record, rename.

    Returns the final ``.warc.gz`` path, or None when no complete record was left (the
    file is then removed). Only call it for files no live writer owns.
    """
    with open_path.open("r+b") as stream:
        end = complete_members_end(stream)
        original = stream.seek(0, os.SEEK_END)
        if end:
            stream.truncate(end)
            stream.flush()
            os.fsync(stream.fileno())
    if not end:
        logger.warning("Removing %s: no complete WARC record in it", open_path)
        open_path.unlink()
        return None
    logger.warning("Repaired %s: kept %d of %d bytes", open_path, end, original)
    return finalize_open_path(open_path)


def repair_open_files(directory: Path) -> list[Path]:
    """Repair every ``*.warc.gz.open`` in ``directory``; return the final paths."""
    repaired = [repair_open_file(path) for path in sorted(directory.glob("*" + OPEN_SUFFIX))]
    return [path for path in repaired if path is not None]
