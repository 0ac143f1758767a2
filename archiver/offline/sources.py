"""Inputs of the offline commands: WARC files, WACZ packages and crawl folders, as :class:`WarcSource`.

A WACZ stores its WARCs uncompressed in the zip (``archive/*.warc.gz``, WACZ 1.1.1), so a WARC inside
one is read in place: its slice of the zip file is the WARC. Sources are sorted by file name, which
for the archiver's WARCs (``<prefix>-<timestamp>-<serial>-<worker>.warc.gz``) is the order they were
written in.
"""

from __future__ import annotations

import logging
import struct
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from archiver.offline.members import GZIP_MAGIC, WARC_MAGIC, WarcSource

logger = logging.getLogger(__name__)

WARC_GLOB = "*.warc.gz"
#: what a WARC file's name ends with: gzip per record, or uncompressed
WARC_SUFFIXES = (".warc.gz", ".warc")
WACZ_WARC_PREFIX = "archive/"
WACZ_INDEX = "indexes/index.cdx.gz"
_LOCAL_HEADER = struct.Struct("<4s22xHH")  # signature .. file name length, extra field length
_LOCAL_SIGNATURE = b"PK\x03\x04"


class InputError(ValueError):
    """An input that is not a WARC, a WACZ or a crawl folder."""


def resolve_inputs(paths: Iterable[Path]) -> list[WarcSource]:
    """Every WARC of the inputs, once, sorted by file name."""
    found: dict[str, WarcSource] = {}
    for path in paths:
        for source in _sources_of(path):
            known = found.setdefault(source.name, source)
            if known is not source:
                if known.size != source.size:
                    raise InputError(
                        f"two different WARCs named {source.name}: {known.label}, {source.label}"
                    )
                logger.info(
                    "%s given twice (%s, %s); reading it once", source.name, known.label, source.label
                )
    if not found:
        raise InputError("no WARC files in the inputs")
    return [found[name] for name in sorted(found)]


def _sources_of(path: Path) -> Iterator[WarcSource]:
    if path.is_dir():
        warcs = _warcs_in(path / "warc") or _warcs_in(path)
        if not warcs:
            raise InputError(f"{path}: no warc/{WARC_GLOB} (nor {WARC_GLOB}, *.warc) in this folder")
        yield from (_warc_file(warc) for warc in warcs)
    elif not path.exists():
        raise InputError(f"{path}: no such file or folder")
    elif path.name.endswith(".wacz"):
        yield from wacz_sources(path)
    elif path.name.endswith(WARC_SUFFIXES):
        yield _warc_file(path)
    else:
        raise InputError(f"{path}: not a .warc, .warc.gz or .wacz file, nor a crawl folder")


def _warcs_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.warc*") if p.is_file() and p.name.endswith(WARC_SUFFIXES))


def _warc_file(path: Path) -> WarcSource:
    try:
        source = WarcSource.file(path)
    except OSError as exc:
        raise InputError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    if source.compressed and source.size and not _starts_with_gzip(path):
        raise InputError(f"{path}: not a WARC file (neither gzip nor WARC/ at its start)")
    return source


def _starts_with_gzip(path: Path) -> bool:
    with path.open("rb") as stream:
        return stream.read(len(GZIP_MAGIC)) == GZIP_MAGIC


def wacz_sources(path: Path) -> list[WarcSource]:
    """The WARCs stored in a WACZ, each as a slice of the zip file."""
    try:
        with zipfile.ZipFile(path) as archive, path.open("rb") as raw:
            entries = [
                info
                for info in archive.infolist()
                if info.filename.startswith(WACZ_WARC_PREFIX) and info.filename.endswith(WARC_SUFFIXES)
            ]
            return [_stored_entry(path, raw, info) for info in entries]
    except zipfile.BadZipFile as exc:
        raise InputError(f"{path}: not a WACZ (zip) file: {exc}") from None


def _stored_entry(path: Path, raw: BinaryIO, info: zipfile.ZipInfo) -> WarcSource:
    if info.compress_type != zipfile.ZIP_STORED:
        raise InputError(f"{path}: {info.filename} is compressed inside the zip; unzip the WACZ first")
    raw.seek(info.header_offset)
    signature, name_length, extra_length = _LOCAL_HEADER.unpack(raw.read(_LOCAL_HEADER.size))
    if signature != _LOCAL_SIGNATURE:
        raise InputError(f"{path}: damaged zip entry {info.filename}")
    base = info.header_offset + _LOCAL_HEADER.size + name_length + extra_length
    name = info.filename.removeprefix(WACZ_WARC_PREFIX)
    raw.seek(base)
    plain = raw.read(len(WARC_MAGIC)) == WARC_MAGIC
    return WarcSource(name, str(path), info.file_size, base=base, container="wacz", compressed=not plain)


def index_files_for(source: WarcSource) -> list[Path]:
    """CDXJ indexes that may list the records of a WARC file (the crawl folder's ``indexes/``)."""
    if source.container:
        return []
    warc = Path(source.path)
    stem = source.name.removesuffix(".gz").removesuffix(".warc")
    candidates = (warc.parent / "indexes" / f"{stem}.cdxj", warc.parent.parent / "indexes" / f"{stem}.cdxj")
    return [path for path in dict.fromkeys(candidates) if path.is_file()]
