"""The gzip members of a WARC file, read one record at a time, without an index.

Every record of a ``.warc.gz`` is its own gzip member (WARC 1.1 annex D, docs/warc.md), so a record
is the bytes ``[offset, offset + length)`` of the file. :class:`MemberReader` inflates the member at
an offset (zlib checks the gzip CRC), and finds the next member start after any position — which
lets several processes share one file (each starts at a byte position and synchronises to the next
record) and lets a reader step over a damaged record instead of giving up on the rest of the file.

A WARC may also sit *stored* (not re-compressed) inside a WACZ zip: :class:`WarcSource` then points
at that slice of the zip file.

An uncompressed ``.warc`` is read the same way by :class:`PlainRecordReader`: a record there is its
header block, ``Content-Length`` bytes of block and the two CRLFs after it, and a record start is
a line beginning ``WARC/``. :func:`reader_for` picks the reader a source needs.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from archiver.warc.compression import fast_zlib

GZIP_MAGIC = b"\x1f\x8b\x08"
WARC_MAGIC = b"WARC/"
_GZIP_WBITS = zlib.MAX_WBITS | 16
_PIECE = 64 * 1024  # fed to zlib at a time: keeps unused_data copies small
_BLOCK = 1024 * 1024  # read from the file at a time


@dataclass(frozen=True)
class WarcSource:
    """One WARC: a file, or a stored entry of a WACZ (``base`` = where its bytes start in ``path``).

    ``name`` is the WARC's file name as ``warc`` pointers and CDXJ lines name it.
    """

    name: str
    path: str
    size: int
    base: int = 0
    container: str = ""  # "wacz" when the WARC is inside a WACZ
    compressed: bool = True  # gzip per record (.warc.gz); False: records one after the other (.warc)

    @classmethod
    def file(cls, path: Path) -> WarcSource:
        """The WARC file at ``path``: compressed or not as its first bytes say (not its name)."""
        with path.open("rb") as stream:
            plain = stream.read(len(WARC_MAGIC)) == WARC_MAGIC
        return cls(path.name, str(path), path.stat().st_size, compressed=not plain)

    @property
    def label(self) -> str:
        """How problems name it: the file path, or ``archive.wacz!name``."""
        return f"{self.path}!{self.name}" if self.container else self.path

    def open(self) -> BinaryIO:
        return Path(self.path).open("rb")


class MemberError(Exception):
    """A member that does not inflate to a WARC record (damaged, truncated, not gzip)."""

    def __init__(self, offset: int, reason: str) -> None:
        super().__init__(f"offset {offset}: {reason}")
        self.offset = offset
        self.reason = reason


@dataclass(frozen=True)
class Member:
    """One gzip member: its offset and compressed length in the WARC, and the record bytes.

    In an uncompressed WARC, one record; ``length`` leaves out the CRLFs after its block (as
    warcio and CDXJ indexes count it), ``gap`` is how many there were.
    """

    offset: int
    length: int
    data: bytes = field(repr=False)
    gap: int = 0

    @property
    def end(self) -> int:
        """Where the next member may start."""
        return self.offset + self.length + self.gap


class MemberReader:
    """Random and sequential access to the gzip members of one :class:`WarcSource`."""

    #: what every member starts with
    MAGIC = GZIP_MAGIC

    def __init__(self, stream: BinaryIO, source: WarcSource) -> None:
        self._stream = stream
        self.source = source
        self._buf = b""
        self._buf_pos = 0

    @property
    def size(self) -> int:
        return self.source.size

    def member_at(self, offset: int) -> Member:
        """The member starting at ``offset``; raises :class:`MemberError` when it is not one."""
        if fast_zlib is not None:  # ISA-L: zlib's bytes, faster; zlib says why a member is damaged
            try:
                return self._inflate_at(offset, fast_zlib)
            except MemberError:
                pass
        return self._inflate_at(offset, zlib)

    def _inflate_at(self, offset: int, inflater: Any) -> Member:
        decompressor = inflater.decompressobj(_GZIP_WBITS)
        parts: list[bytes] = []
        position = offset
        while not decompressor.eof:
            piece = self._read(position, _PIECE)
            if not piece:
                raise MemberError(offset, "truncated gzip member (the file ends inside it)")
            try:
                parts.append(decompressor.decompress(piece))
            except inflater.error as exc:
                raise MemberError(offset, f"damaged gzip member ({exc})") from None
            position += len(piece) - len(decompressor.unused_data)
        data = b"".join(parts)
        if not data.startswith(WARC_MAGIC):
            raise MemberError(offset, "gzip member does not hold a WARC record")
        return Member(offset, position - offset, data)

    def find_member(self, offset: int) -> Member | None:
        """The first complete member holding a WARC record at or after ``offset``, else None."""
        position = offset
        while position < self.size:
            block = self._read(position, _BLOCK)
            found = bytes(block).find(self.MAGIC)
            if found < 0:
                position += max(len(block) - len(self.MAGIC) + 1, 1)
                continue
            candidate = position + found
            if self._may_start(candidate):
                try:
                    return self.member_at(candidate)
                except MemberError:
                    pass
            position = candidate + 1
        return None

    def _may_start(self, position: int) -> bool:
        """Whether a member may start at ``position`` (where :attr:`MAGIC` was found)."""
        return True

    def _read(self, position: int, count: int) -> memoryview:
        count = min(count, self.size - position)
        if count <= 0:
            return memoryview(b"")
        start = position - self._buf_pos
        if start < 0 or start + count > len(self._buf):
            self._stream.seek(self.source.base + position)
            self._buf = self._stream.read(min(max(count, _BLOCK), self.size - position))
            self._buf_pos = position
            start = 0
        return memoryview(self._buf)[start : start + count]


class PlainRecordReader(MemberReader):
    """The records of an uncompressed WARC, with the interface of :class:`MemberReader`."""

    MAGIC = WARC_MAGIC
    #: a header block longer than this is not one
    HEAD_LIMIT = 256 * 1024

    def member_at(self, offset: int) -> Member:
        """The record starting at ``offset`` (the CRLFs after its block are its ``gap``)."""
        head = bytes(self._read(offset, self.HEAD_LIMIT))
        if not head.startswith(WARC_MAGIC):
            raise MemberError(offset, "no WARC record starts here")
        end = head.find(b"\r\n\r\n")
        if end < 0:
            raise MemberError(offset, "WARC header block without its end (the file ends inside it)")
        block_length = _content_length(head[:end])
        if block_length is None:
            raise MemberError(offset, "WARC record without a valid Content-Length")
        block_end = offset + end + 4 + block_length
        if block_end > self.size:
            raise MemberError(offset, "truncated WARC record (the file ends inside it)")
        separator = bytes(self._read(block_end, 4))
        gap = len(separator) - len(separator.lstrip(b"\r\n"))
        return Member(offset, block_end - offset, bytes(self._read(offset, block_end - offset)), gap)

    def _may_start(self, position: int) -> bool:
        return position == 0 or self._read(position - 1, 1) == b"\n"


def _content_length(head: bytes) -> int | None:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            value = value.strip()
            return int(value) if value.isdigit() else None
    return None


def reader_for(stream: BinaryIO, source: WarcSource) -> MemberReader:
    """The reader of ``source``'s records: gzip members, or an uncompressed WARC's records."""
    return MemberReader(stream, source) if source.compressed else PlainRecordReader(stream, source)


@dataclass
class MemberWalk:
    """The members whose start lies in ``[start, end)``, in file order.

    With ``exact`` the walk starts at ``start`` (a known member start); otherwise it first
    synchronises to the next member start at or after ``start``. A damaged member is yielded as a
    :class:`MemberError` and the walk goes on at the next good member. After the walk, ``began``
    is where it started and ``stopped`` the first member start at or after ``end`` (or the size):
    consecutive walks over adjacent ranges of one file agree when ``stopped`` of one equals
    ``began`` of the next.
    """

    reader: MemberReader
    start: int
    end: int
    exact: bool = False
    began: int = -1
    stopped: int = -1

    def __iter__(self) -> Iterator[Member | MemberError]:
        end = min(self.end, self.reader.size)
        pending: Member | None = None
        position = self.start
        if not self.exact:
            pending = self.reader.find_member(self.start)
            position = pending.offset if pending is not None else self.reader.size
        self.began = position
        while position < end:
            if pending is None:
                try:
                    pending = self.reader.member_at(position)
                except MemberError as error:
                    yield error
                    pending = self.reader.find_member(position + 1)
                    position = pending.offset if pending is not None else self.reader.size
                    continue
            yield pending
            position, pending = pending.end, None
        self.stopped = min(position, self.reader.size)
