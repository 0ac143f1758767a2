"""Bytes → text for HTML pages: BOM, HTTP charset, ``<meta charset>``, default UTF-8; never raises.

The order follows the WHATWG encoding sniffing algorithm (https://html.spec.whatwg.org/#encoding-sniffing-algorithm):
a byte order mark wins over everything (it cannot be there by accident), then the HTTP
``Content-Type`` charset, then a ``<meta charset>`` / ``http-equiv`` declaration in the first 4 KB,
else UTF-8. One deliberate addition: when the declared charset is a single-byte Western one
(``iso-8859-1``, ``windows-1252``, ``ascii``) but the bytes are valid UTF-8 with non-ASCII
sequences, the bytes are UTF-8 — a mislabelled page (a classic CMS/CDN fault), since Latin-1 text
practically never forms valid multi-byte UTF-8. Another: a declared UTF-16 or UTF-32 (no BOM) on
bytes with almost no NUL byte is UTF-8 — such text encodes every ASCII character of the markup with
NUL bytes, so bytes without them cannot be it (a wrong label, seen on the real web). Undecodable
bytes become U+FFFD. An undeclared page whose bytes are not UTF-8 is windows-1252 (a page of the
DefenseLink era: what a browser assumes for an English page).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping
from dataclasses import dataclass

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_CHARSET_RE = re.compile(rb"""charset\s*=\s*["']?\s*([A-Za-z0-9._:\-]+)""", re.I)
_META_RE = re.compile(rb"<meta\b[^>]*>", re.I)
_HEADER_CHARSET_RE = re.compile(r"""charset\s*=\s*["']?\s*([A-Za-z0-9._:\-]+)""", re.I)
#: labels WHATWG maps to windows-1252 (a superset used by every browser for them)
_WESTERN = frozenset({"latin-1", "iso8859-1", "cp1252", "ascii"})
_PRESCAN_BYTES = 4096
#: codecs whose text of an HTML page is full of NUL bytes (each ASCII character takes 2 or 4 bytes)
_WIDE = ("utf-16", "utf-32")


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str  # Python codec name actually used
    source: str  # "bom" | "http" | "meta" | "default" | "utf-8-sniffed" | "default-cp1252"
    #: ``text`` as UTF-8 when the body held exactly that (valid UTF-8): no need to encode it again
    utf8: bytes | None = None

    def as_utf8(self) -> bytes:
        """``text`` encoded as UTF-8 (the body's own bytes when they are that already)."""
        return self.utf8 if self.utf8 is not None else self.text.encode("utf-8", errors="replace")


def decode_html(body: bytes, headers: Mapping[str, str] | None = None) -> Decoded:
    """Decode an HTML response body; undecodable bytes are replaced, never an exception."""
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            return _decoded(body[len(bom):], encoding, "bom")
    declared, source = _declared(body, headers)
    encoding = declared or "utf-8"
    if encoding in _WESTERN and _is_utf8_with_non_ascii(body):
        return Decoded(body.decode("utf-8"), "utf-8", "utf-8-sniffed", body)
    if encoding in _WESTERN:
        encoding = "cp1252"
    if encoding.startswith(_WIDE) and not _has_wide_nuls(body):
        return _decoded(body, "utf-8", "utf-8-sniffed")
    if not declared:
        try:
            return Decoded(body.decode("utf-8"), "utf-8", "default", body)
        except UnicodeDecodeError:
            # no declaration and not UTF-8: a page of the 1990s-2000s Western web, windows-1252
            # (what browsers assume for an undeclared English page)
            return _decoded(body, "cp1252", "default-cp1252")
    return _decoded(body, encoding, source)


def _decoded(body: bytes, encoding: str, source: str) -> Decoded:
    if encoding == "utf-8":
        try:
            return Decoded(body.decode("utf-8"), encoding, source, body)  # valid: text is the body
        except UnicodeDecodeError:
            pass
    return Decoded(body.decode(encoding, errors="replace"), encoding, source)


def _declared(body: bytes, headers: Mapping[str, str] | None) -> tuple[str | None, str]:
    http = _codec(_header_charset(headers), from_meta=False)
    if http:
        return http, "http"
    meta = _codec(_meta_charset(body[:_PRESCAN_BYTES]), from_meta=True)
    if meta:
        return meta, "meta"
    return None, "default"


def _header_charset(headers: Mapping[str, str] | None) -> str | None:
    if not headers:
        return None
    for name, value in headers.items():
        if name.lower() == "content-type":
            match = _HEADER_CHARSET_RE.search(value)
            return match.group(1) if match else None
    return None


def _meta_charset(head: bytes) -> str | None:
    for meta in _META_RE.finditer(head):
        match = _CHARSET_RE.search(meta.group(0))
        if match:
            return match.group(1).decode("ascii", errors="replace")
    return None


def _codec(label: str | None, *, from_meta: bool) -> str | None:
    """Python codec name of a charset label; ``None`` for unknown labels (ignored, as browsers do)."""
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip().lower()).name
    except LookupError:
        return None
    # a page cannot be UTF-16 when its label was found by an ASCII scan: WHATWG says UTF-8
    if from_meta and name.startswith(("utf-16", "utf-32")):
        return "utf-8"
    return "latin-1" if name == "iso8859-1" else name


def _has_wide_nuls(body: bytes) -> bool:
    """Whether the head of ``body`` has the NUL bytes UTF-16/32 markup has (about 1 byte in 2, or
    3 in 4); 1 in 10 is the threshold: UTF-8 or ASCII bytes have none, or a stray few."""
    head = body[:_PRESCAN_BYTES]
    return head.count(b"\0") * 10 >= len(head) > 0


def _is_utf8_with_non_ascii(body: bytes) -> bool:
    if body.isascii():
        return False
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
