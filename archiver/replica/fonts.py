"""A stand-in web font the replica serves for every font a page links (framework-free).

A real, valid TrueType font (two glyphs: a box for ``.notdef``, an empty space), built here rather
than shipped, so that a browser replaying an archive of the replica loads it (``document.fonts``
says ``loaded``, not ``error``) and draws the box where the real font had an icon. Its ``name``
table names the URL path it was served for, so each font URL is its own payload (were they the
same bytes, all but one would be archived as revisits of another URL's capture). ``.woff`` and
``.woff2`` URLs get it wrapped as WOFF 1.0 (tables zlib-compressed; browsers tell the format by
its signature, not by the URL or the CSS ``format()`` hint), ``.ttf`` / ``.otf`` the bare font.
"""

from __future__ import annotations

import struct
import zlib

_UNITS_PER_EM = 1000


def _checksum(data: bytes) -> int:
    data += b"\0" * (-len(data) % 4)
    return sum(struct.unpack(f">{len(data) // 4}I", data)) & 0xFFFFFFFF


def _tables(note: str) -> dict[bytes, bytes]:
    """The font's tables (``head`` with checkSumAdjustment 0): glyph 0 a box, glyph 1 the space."""
    box = [(100, 0), (100, 700), (500, 700), (500, 0)]
    xs = [x - px for (x, _), (px, _) in zip(box, [(0, 0), *box[:-1]], strict=True)]
    ys = [y - py for (_, y), (_, py) in zip(box, [(0, 0), *box[:-1]], strict=True)]
    notdef = (struct.pack(">hhhhhHH", 1, 100, 0, 500, 700, 3, 0) + bytes([1] * 4)  # on-curve points
              + struct.pack(">4h", *xs) + struct.pack(">4h", *ys))
    head = struct.pack(">IIIIHHqqhhhhHHhhh", 0x00010000, 0x00010000, 0, 0x5F0F3CF5, 0x000B, _UNITS_PER_EM,
                       0, 0, 0, 0, 500, 700, 0, 8, 2, 0, 0)
    hhea = struct.pack(">IhhhHhhhhhhhhhhhH", 0x00010000, 800, -200, 0, 600, 0, 0, 500, 1, 0, 0,
                       0, 0, 0, 0, 0, 2)
    maxp = struct.pack(">IHHHHHHHHHHHHHH", 0x00010000, 2, 4, 1, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0)
    os2 = (struct.pack(">HhHHHhhhhhhhhhhh", 4, 600, 400, 5, 0,
                       650, 600, 0, 75, 650, 600, 0, 350, 50, 300, 0)
           + bytes(10) + bytes(16) + b"RPLC" + struct.pack(">HHH", 0x40, 0x20, 0x20)
           + struct.pack(">hhhHHII", 800, -200, 0, 1000, 200, 1, 0)
           + struct.pack(">hhHHH", 500, 700, 0, 0x20, 1))
    # cmap: one (3, 1) format 4 subtable mapping the space to glyph 1 (and the closing 0xFFFF segment)
    segments = [(0x20, (1 - 0x20) & 0xFFFF), (0xFFFF, 1)]
    count = len(segments)
    codes = [code for code, _ in segments]
    fmt4 = (struct.pack(">7H", 4, 16 + 8 * count, 0, 2 * count, 4, 1, 0) + struct.pack(f">{count}H", *codes)
            + b"\0\0" + struct.pack(f">{count}H", *codes)
            + struct.pack(f">{count}H", *(delta for _, delta in segments)) + bytes(2 * count))
    cmap = struct.pack(">HHHHI", 0, 1, 3, 1, 12) + fmt4
    names = {0: note, 1: "Replica Stand-in", 2: "Regular", 4: "Replica Stand-in", 5: "Version 1.0",
             6: "ReplicaStandIn"}
    records, strings = b"", b""
    for number, text in names.items():
        raw = text.encode("utf-16-be")
        records += struct.pack(">6H", 3, 1, 0x409, number, len(raw), len(strings))
        strings += raw
    return {
        b"OS/2": os2, b"cmap": cmap, b"glyf": notdef, b"head": head, b"hhea": hhea,
        b"hmtx": struct.pack(">HhHh", 600, 100, 600, 0), b"loca": struct.pack(">3H", 0, 17, 17),
        b"maxp": maxp, b"name": struct.pack(">3H", 0, len(names), 6 + 12 * len(names)) + records + strings,
        b"post": struct.pack(">IIhhIIIII", 0x00030000, 0, -100, 50, 0, 0, 0, 0, 0),
    }


def _sfnt(tables: dict[bytes, bytes]) -> tuple[bytes, bytes]:
    """(the TrueType file, its ``head`` table with checkSumAdjustment set)."""
    tags = sorted(tables)
    count = len(tags)
    selector = count.bit_length() - 1
    search = (1 << selector) * 16
    directory = struct.pack(">IHHHH", 0x00010000, count, search, selector, count * 16 - search)
    offset, body, head_at = 12 + 16 * count, b"", 0
    for tag in tags:
        data = tables[tag]
        if tag == b"head":
            head_at = offset + len(body)
        directory += struct.pack(">4sIII", tag, _checksum(data), offset + len(body), len(data))
        body += data + b"\0" * (-len(data) % 4)
    font = bytearray(directory + body)
    font[head_at + 8:head_at + 12] = struct.pack(">I", (0xB1B0AFBA - _checksum(bytes(font))) & 0xFFFFFFFF)
    return bytes(font), bytes(font[head_at:head_at + len(tables[b"head"])])


def _woff(tables: dict[bytes, bytes]) -> bytes:
    sfnt, head = _sfnt(tables)
    tags = sorted(tables)
    offset = 44 + 20 * len(tags)
    directory, body = b"", b""
    for tag in tags:
        data = head if tag == b"head" else tables[tag]
        packed = zlib.compress(data)
        if len(packed) >= len(data):
            packed = data
        # origChecksum: the sfnt directory's (head's with checkSumAdjustment 0)
        directory += struct.pack(">4sIIII", tag, offset + len(body), len(packed), len(data),
                                 _checksum(tables[tag]))
        body += packed + b"\0" * (-len(packed) % 4)
    header = struct.pack(">4sIIHHIHHIIIII", b"wOFF", 0x00010000, 44 + len(directory) + len(body),
                         len(tags), 0, len(sfnt), 1, 0, 0, 0, 0, 0, 0)
    return header + directory + body


def stand_in_font(path: str, extension: str) -> bytes:
    """The stand-in font for ``path``: WOFF for ``woff`` / ``woff2``, else TrueType."""
    tables = _tables(f"replica stand-in for {path}"[:200])
    return _woff(tables) if extension in ("woff", "woff2") else _sfnt(tables)[0]
