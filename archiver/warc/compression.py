"""Content-Encoding decoders shared by the crawl and re-extraction: strict, and probed.

**Strict.** Scrapy's decoders return whatever decoded before a corrupt byte or a missing end
(``gunzip``, ``_unbrotli``, ``_unzstd``), so a broken stream became a silently truncated page.
These raise :class:`UndecodableBodyError` instead. One leniency, as gzip(1) and browsers have it:
bytes after a complete, CRC-checked gzip member that do not start another member (a stray
``\\r\\n`` an IIS filter appended) are ignored and reported (:attr:`Decoded.trailing`).

**Probed.** br and zstd come from third-party modules another package can shadow (pywb's
``brotlipy`` installs a ``brotli`` without ``Decompressor.process``): :func:`decoder_problem`
decodes a tiny known stream once per process, and :func:`working_encodings` lists only the
codings whose decoder gave it back, for ``Accept-Encoding``. A body in a coding without a
working decoder, or in one unknown here, raises :class:`UnsupportedEncodingError`.

``max_size`` caps the decoded size with Scrapy's own check (``_DecompressionMaxSizeExceeded``,
which Scrapy's middleware turns into its ``DOWNLOAD_MAXSIZE`` message): each call asks the
decoder for at most what is left plus one byte, so a bomb stops there.
"""

from __future__ import annotations

import functools
import io
import sys
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import ModuleType

from scrapy.utils._compression import _check_max_size


def _fast_zlib() -> ModuleType | None:
    """ISA-L's zlib module (a dependency): the same decoded bytes as zlib, in about half the time
    (docs/performance.md); without it zlib alone gives the same results."""
    try:
        from isal import isal_zlib
    except ImportError:
        return None
    return isal_zlib


fast_zlib = _fast_zlib()

#: gzip members a body may hold (servers send one; a hostile body of millions costs minutes)
MAX_GZIP_MEMBERS = 100
#: zstd frames a body may hold, for the same reason
MAX_ZSTD_FRAMES = 100
GZIP_MAGIC = b"\x1f\x8b"
#: codings the crawler may advertise, in Scrapy's order
ADVERTISABLE = (b"gzip", b"deflate", b"br", b"zstd")
#: what each coding is called in Content-Encoding besides its name (RFC 9110 8.4.1.3)
ALIASES = {b"x-gzip": b"gzip"}
_CHUNK = 64 * 1024
NO_DECODER = "no decoder for it"

Decoder = Callable[[bytes, int], tuple[bytes, int]]


class UndecodableBodyError(ValueError):
    """A Content-Encoding body that does not decode whole (corrupt, or cut short)."""


class UnsupportedEncodingError(UndecodableBodyError):
    """A Content-Encoding that cannot be decoded in this process: unknown, or its decoder is
    missing or broken. Asking again does not help."""


@dataclass
class Decoded:
    """A decoded body, and the bytes ignored after a complete stream, by coding (``gzip: 2``)."""

    body: bytes
    trailing: dict[str, int] = field(default_factory=dict)


# -- gzip and deflate (zlib, part of Python) ------------------------------------------------------


def gunzip_members(data: bytes, max_size: int = 0) -> tuple[bytes, int]:
    """Every gzip member of ``data`` decoded, CRC and length checked (RFC 1952), and the number of
    bytes after the last member that were ignored (they did not start another member)."""
    parts: list[bytes] = []
    size = 0
    rest = data
    while rest:
        if not rest.startswith(GZIP_MAGIC) and (parts or not rest.strip(b"\0")):
            break  # after a complete member (or zero padding alone): a stray CRLF, padding
        if len(parts) >= MAX_GZIP_MEMBERS:  # each member copies the rest: many tiny ones cost O(n²)
            raise UndecodableBodyError(f"more than {MAX_GZIP_MEMBERS} gzip members")
        part, complete, after = inflate_gzip_member(rest, _limit(max_size, size))
        size += len(part)
        _check_max_size(size, max_size)
        parts.append(part)
        if not complete:
            raise UndecodableBodyError(f"gzip stream cut short after {size} decoded bytes")
        rest = after
    return (parts[0] if len(parts) == 1 else b"".join(parts)), len(rest)


def inflate_gzip_member(data: bytes, limit: int = 0) -> tuple[bytes, bool, bytes]:
    """The gzip member at the start of ``data``, decoded (at most ``limit`` bytes, 0: all, CRC and
    length checked): (its bytes, whether it ended, the bytes after it).

    ISA-L first when installed; a member it does not decode whole is decoded again by zlib, whose
    outcome and error messages (the reasons a failure gives) are what this returns or raises.
    """
    if fast_zlib is not None:
        fast = fast_zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)
        try:
            part = fast.decompress(data, limit)
        except fast_zlib.error:
            pass
        else:
            if fast.eof:
                return part, True, fast.unused_data
    decoder = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)
    try:
        part = decoder.decompress(data, limit)
    except zlib.error as exc:
        raise UndecodableBodyError(f"corrupt gzip stream: {exc}") from exc
    return part, decoder.eof, decoder.unused_data


def strict_gunzip(data: bytes, max_size: int = 0) -> bytes:
    """:func:`gunzip_members` without the trailing count."""
    return gunzip_members(data, max_size)[0]


def strict_inflate(data: bytes, max_size: int = 0) -> tuple[bytes, int]:
    """``deflate``: a zlib stream (RFC 1950), or the raw deflate some servers send instead."""
    problems: list[str] = []
    for wbits in (zlib.MAX_WBITS, -zlib.MAX_WBITS):
        decoder = zlib.decompressobj(wbits=wbits)
        try:
            body = decoder.decompress(data, _limit(max_size, 0))
        except zlib.error as exc:
            problems.append(str(exc))
            continue
        _check_max_size(len(body), max_size)
        if not decoder.eof:
            raise UndecodableBodyError(f"deflate stream cut short after {len(body)} decoded bytes")
        return body, len(decoder.unused_data)
    raise UndecodableBodyError(f"corrupt deflate stream: {problems[0]}")


# -- br and zstd (third-party modules: probed) ----------------------------------------------------


def _brotli() -> ModuleType:
    try:  # the module Scrapy itself imports (scrapy/utils/_compression.py)
        import brotli
    except ImportError:
        import brotlicffi as brotli
    return brotli


def _zstd() -> ModuleType:
    if sys.version_info >= (3, 14):
        from compression import zstd
    else:
        from backports import zstd
    return zstd


def strict_unbrotli(data: bytes, max_size: int = 0) -> tuple[bytes, int]:
    """``br`` (RFC 7932), decoded to its end."""
    brotli = _brotli()
    decoder = brotli.Decompressor()
    parts: list[bytes] = []
    size = 0
    try:
        part = decoder.process(data, output_buffer_limit=_brotli_limit(max_size, size))
        while True:
            size += len(part)
            _check_max_size(size, max_size)
            parts.append(part)
            if decoder.is_finished():
                break
            part = decoder.process(b"", output_buffer_limit=_brotli_limit(max_size, size))
            if not part:
                break  # no input left, stream unfinished
    except brotli.error as exc:
        raise UndecodableBodyError(f"corrupt br stream: {exc}") from exc
    if not decoder.is_finished():
        raise UndecodableBodyError(f"br stream cut short after {size} decoded bytes")
    return b"".join(parts), 0


def _brotli_limit(max_size: int, size: int) -> int:
    return min(_CHUNK, _limit(max_size, size) or _CHUNK)


def strict_unzstd(data: bytes, max_size: int = 0) -> tuple[bytes, int]:
    """``zstd`` (RFC 8878): every frame, each decoded to its end."""
    zstd = _zstd()
    parts: list[bytes] = []
    size = 0
    rest = data
    while rest or not parts:
        if len(parts) >= MAX_ZSTD_FRAMES:
            raise UndecodableBodyError(f"more than {MAX_ZSTD_FRAMES} zstd frames")
        decoder = zstd.ZstdDecompressor()
        try:
            part = decoder.decompress(rest, _limit(max_size, size) or -1)
        except zstd.ZstdError as exc:
            raise UndecodableBodyError(f"corrupt zstd stream: {exc}") from exc
        size += len(part)
        _check_max_size(size, max_size)
        parts.append(part)
        if not decoder.eof:
            raise UndecodableBodyError(f"zstd stream cut short after {size} decoded bytes")
        rest = decoder.unused_data
    return b"".join(parts), 0


def _limit(max_size: int, size: int) -> int:
    """How much a decoder may return: what is left of ``max_size`` plus one byte (0: no limit)."""
    return max_size - size + 1 if max_size else 0


def _gunzip(data: bytes, max_size: int) -> tuple[bytes, int]:
    return gunzip_members(data, max_size)


DECODERS: dict[bytes, Decoder] = {
    b"gzip": _gunzip,
    b"deflate": strict_inflate,
    b"br": strict_unbrotli,
    b"zstd": strict_unzstd,
}

#: a known stream per third-party decoder: ``"archiver decoder probe, " * 4`` encoded
PROBE_TEXT = b"archiver decoder probe, " * 4
PROBES = {
    b"br": bytes.fromhex("1b5f00f01d09364e746fe43d966164700d52f626a759c4c6e4240c85"
                         "0058279094c99a309f02"),
    b"zstd": bytes.fromhex("28b52ffd2060fd0000c06172636869766572206465636f6465722070"
                           "726f62652c200100d4a2730c"),
}


def decoder_problem(coding: bytes) -> str | None:
    """Why ``coding`` cannot be decoded in this process, else None."""
    if coding not in DECODERS:
        return NO_DECODER
    return _probe(coding)


@functools.cache  # once per process and coding (only the four of DECODERS reach it)
def _probe(coding: bytes) -> str | None:
    probe = PROBES.get(coding)
    if probe is None:
        return None
    return _probe_decoder(coding)


def _probe_decoder(coding: bytes) -> str | None:
    try:
        body, _ = DECODERS[coding](PROBES[coding], 0)
    except Exception as exc:  # whatever a missing or shadowed module raises: the decoder does not work
        return f"{type(exc).__name__}: {exc}"
    return None if body == PROBE_TEXT else f"it decodes a known {coding.decode()} stream wrong"


def warcio_problem(coding: bytes, probe: bytes) -> str | None:
    """Why warcio (``warcio check``, the WACZ indexer, pywb's loader) cannot read a record whose
    body is in ``coding``, else None: a coding the crawl can decode but the archive's own tools
    cannot read must not be asked for. warcio 1.8.1 builds its br decompressor for ``brotlipy``
    (it sets ``unused_data`` on it), which Google's ``brotli`` refuses with an AttributeError."""
    from warcio.bufferedreaders import BufferedReader

    name = coding.decode()
    if name not in BufferedReader.DECOMPRESSORS:
        return None  # warcio leaves such a body as it is: nothing to break
    try:
        read = BufferedReader(io.BytesIO(probe), decomp_type=name).read()
    except Exception as exc:  # whatever warcio's decompressor raises: the archive tools would too
        return f"warcio cannot read it ({type(exc).__name__}: {exc})"
    return None if read == PROBE_TEXT else f"warcio reads a known {name} stream wrong"


def advertise_problem(coding: bytes) -> str | None:
    """Why ``Accept-Encoding`` must not offer ``coding``: its decoder does not work here, or warcio
    (the archive's own tools) cannot read a record in it; else None."""
    return decoder_problem(coding) or (
        warcio_problem(coding, PROBES[coding]) if coding in PROBES else None)


def working_encodings(codings: Iterable[bytes] = ADVERTISABLE) -> list[bytes]:
    """The ``codings`` whose decoder works here and that warcio reads: what ``Accept-Encoding``
    may say."""
    return [coding for coding in codings if advertise_problem(coding) is None]


def content_codings(header_values: Iterable[bytes]) -> list[bytes]:
    """The codings of ``Content-Encoding`` values, in the order they were applied, lower case."""
    codings = (c.strip().lower() for value in header_values for c in value.split(b","))
    return [ALIASES.get(c, c) for c in codings if c and c != b"identity"]


def decode_content(body: bytes, header_values: Iterable[bytes], max_size: int = 0) -> Decoded:
    """``body`` with every coding of its ``Content-Encoding`` undone, the last applied first.

    Raises :class:`UnsupportedEncodingError` for a coding unknown here or whose decoder does not
    work, :class:`UndecodableBodyError` for a stream that does not decode whole.
    """
    decoded = Decoded(body)
    if not body:  # a 304, a HEAD-like answer: nothing to decode, whatever the header says
        return decoded
    for coding in reversed(content_codings(header_values)):
        name = coding.decode("latin-1")
        problem = decoder_problem(coding)
        if problem == NO_DECODER:
            raise UnsupportedEncodingError(f"unsupported Content-Encoding {name!r}")
        if problem is not None:
            raise UnsupportedEncodingError(
                f"cannot decode Content-Encoding {name!r}: its decoder does not work in this "
                f"Python ({problem})"
            )
        decoded.body, ignored = DECODERS[coding](decoded.body, max_size)
        if ignored:
            decoded.trailing[name] = decoded.trailing.get(name, 0) + ignored
    return decoded


class _BrotliForWarcio:
    """Google ``brotli``'s Decompressor with the interface warcio's BufferedReader expects of one
    (``decompress``, ``unused_data``, ``flush``): warcio 1.8.1's own factory assumes ``brotlipy``."""

    unused_data = None

    def __init__(self) -> None:
        self._decoder = _brotli().Decompressor()

    def decompress(self, data: bytes) -> bytes:
        return bytes(self._decoder.process(data))

    def flush(self) -> bytes:
        return b""


def repair_warcio_brotli() -> bool:
    """Make warcio read br bodies in this process (the WACZ indexer, ``verify``) when its own
    factory fails and Google's ``brotli`` works; True when it then reads them."""
    from warcio.bufferedreaders import BufferedReader

    if warcio_problem(b"br", PROBES[b"br"]) is None:
        return True
    if _probe_decoder(b"br") is not None:
        return False
    BufferedReader.DECOMPRESSORS["br"] = _BrotliForWarcio
    return warcio_problem(b"br", PROBES[b"br"]) is None
