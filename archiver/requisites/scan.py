"""Which URLs a page or a stylesheet needs to render (framework-free: bytes in, URLs out).

What a browser fetches on its own when it shows the page, as Heritrix's and Browsertrix's
"embeds": stylesheets (``<link rel=stylesheet>``, ``@import``), scripts (``<script src>``),
fonts (``url()`` inside ``@font-face``), images (``<img src|srcset>``, ``<picture><source
srcset>``, ``<video poster>``, ``<input type=image>``, the legacy ``background`` attribute,
``url()`` in stylesheets, ``<style>`` blocks and ``style=""`` attributes) and the favicon
(``<link rel=icon>``). Not what a browser fetches only when asked (links, ``<video>`` and
``<audio>`` media, ``<iframe>`` pages) nor metadata (``og:image``). See docs/replay.md.

A tag scanner over the raw bytes, not a parser: a page is parsed once already for its article
(docs/performance.md), and requisites need only a few tags. Comments and inline script bodies
are skipped, so markup quoted in JavaScript is not taken for a tag.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache, lru_cache
from urllib.parse import urldefrag, urljoin, urlsplit

STYLESHEET = "stylesheet"
SCRIPT = "script"
FONT = "font"
IMAGE = "image"
ICON = "icon"
KINDS = (STYLESHEET, SCRIPT, FONT, IMAGE, ICON)


@dataclass(frozen=True)
class Requisite:
    """One URL a page needs: absolute, without fragment, and what it is for."""

    url: str
    kind: str


# comments | <script ...>body</script> | <style ...>body</style> | one of the tags with requisites
# (one leading literal: the regex engine then jumps from "<" to "<"). A comment or a block's body
# is read up to its first end ("-->", "</script>") as a lazy ``.*?`` would, but in runs of
# possessive character classes rather than one try of the end per byte: a page's inline scripts
# (~40 KB of a defense.gov page) are skipped ~3x faster.
_TOKEN = re.compile(
    rb"<(?:!--(?:[^-]++|-(?!->))*+-->"
    rb"|(script|style)\b([^>]*)>((?:[^<]++|<(?!/\1\s*>))*+)</\1\s*>"
    rb"|(link|img|source|video|input|body|table|td|th)\b([^>]*)>)",
    re.I | re.S,
)
_BASE = re.compile(rb"<base\b([^>]*)>", re.I)
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_FONT_FACE = re.compile(r"@font-face\s*\{[^}]*\}", re.I)
_CSS_IMPORT = re.compile(r"""@import\s+(?:url\(\s*)?(?:"([^"]*)"|'([^']*)'|([^\s"');]+))""", re.I)
_CSS_URL = re.compile(r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)"'\s]*))\s*\)""", re.I)
_SKIPPED_SCHEMES = ("data:", "javascript:", "about:", "blob:", "mailto:", "tel:", "#")
_ICON_RELS = frozenset({"icon", "apple-touch-icon", "apple-touch-icon-precomposed", "mask-icon"})
_PRELOAD_KINDS = {"style": STYLESHEET, "script": SCRIPT, "font": FONT, "image": IMAGE}


def absolute(ref: str, base: str, origin: str = "") -> str | None:
    """``ref`` made absolute against ``base`` (http/https only, fragment dropped), else None.

    ``origin`` (``scheme://host[:port]`` of ``base``) spares urljoin (~5 us) for root-relative
    references, which most of a page's are.
    """
    ref = ref.strip()
    if not ref or ref.lower().startswith(_SKIPPED_SCHEMES):
        return None
    if ref.startswith(("http://", "https://")):
        url = ref
    elif origin and ref.startswith("/") and not ref.startswith("//"):
        url = origin + ref
    else:
        url = urljoin(base, ref)
    if "#" in url:
        url = urldefrag(url)[0]
    return url if url.startswith(("http://", "https://")) else None


@cache
def _attribute_pattern(name: str) -> re.Pattern[bytes]:
    return re.compile(rb"(?:^|\s)" + name.encode("ascii")
                      + rb"""\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", re.I)


def _attribute(raw: bytes, name: str) -> str:
    """One attribute's value in a tag's attribute text ("" when absent): a search per attribute
    the tag needs is cheaper than reading every attribute (long ``class`` and ``alt`` values)."""
    match = _attribute_pattern(name).search(raw)
    if match is None:
        return ""
    double, single, bare = match.groups()
    raw_value = double if double is not None else single if single is not None else bare
    value = raw_value.decode("utf-8", "replace")
    return html.unescape(value) if "&" in value else value


def _srcset(value: str) -> Iterator[str]:
    """The URLs of a ``srcset`` (``a.jpg 1x, b.jpg 2x``): a browser picks one, the archive keeps all."""
    for candidate in value.split(","):
        url = candidate.strip().split(" ")[0]
        if url:
            yield url


def _tag_refs(tag: str, raw: bytes) -> Iterator[tuple[str, str]]:
    """(reference, kind) pairs of one tag, from its attribute text."""
    if tag == "link":
        rels = set(_attribute(raw, "rel").lower().split())
        if "stylesheet" in rels:
            yield _attribute(raw, "href"), STYLESHEET
        elif rels & _ICON_RELS:
            yield _attribute(raw, "href"), ICON
        elif rels & {"preload", "modulepreload"}:
            kind = SCRIPT if "modulepreload" in rels else _PRELOAD_KINDS.get(_attribute(raw, "as").lower())
            if kind:
                yield _attribute(raw, "href"), kind
    elif tag in ("img", "source"):
        if tag == "img":
            yield _attribute(raw, "src"), IMAGE
        for url in _srcset(_attribute(raw, "srcset")):
            yield url, IMAGE
    elif tag == "video":
        yield _attribute(raw, "poster"), IMAGE
    elif tag == "input":
        if _attribute(raw, "type").lower() == "image":
            yield _attribute(raw, "src"), IMAGE
    else:  # body, table, td, th: the 1990s way to set a background image
        yield _attribute(raw, "background"), IMAGE


def css_refs(text: str) -> Iterator[tuple[str, str]]:
    """(reference, kind) pairs of a stylesheet's text: ``@import`` (stylesheet), ``url()`` in
    ``@font-face`` (font), every other ``url()`` (image)."""
    text = _CSS_COMMENT.sub("", text)
    imports = set()
    for match in _CSS_IMPORT.finditer(text):
        ref = next(v for v in match.group(1, 2, 3) if v is not None)
        imports.add(ref)
        yield ref, STYLESHEET
    fonts = set()
    for block in _FONT_FACE.findall(text):
        for match in _CSS_URL.finditer(block):
            ref = next(v for v in match.group(1, 2, 3) if v is not None)
            fonts.add(ref)
            yield ref, FONT
    for match in _CSS_URL.finditer(text):
        ref = next(v for v in match.group(1, 2, 3) if v is not None)
        if ref not in imports and ref not in fonts:
            yield ref, IMAGE


def _unique(pairs: Iterator[tuple[str, str]], base: str) -> list[Requisite]:
    parts = urlsplit(base)
    origin = f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") else ""
    seen: set[str] = set()
    found = []
    for ref, kind in pairs:
        url = absolute(ref, base, origin)
        if url is not None and url not in seen:
            seen.add(url)
            found.append(Requisite(url, kind))
    return found


def page_requisites(body: bytes, url: str) -> list[Requisite]:
    """The requisites of an HTML page fetched from ``url``, in page order, each URL once."""
    return _unique(_page_refs(body, url), _base_of(body, url))


def _base_of(body: bytes, url: str) -> str:
    """``<base href>`` changes what relative references resolve against."""
    match = _BASE.search(body)
    href = _attribute(match.group(1), "href") if match else None
    return urljoin(url, href.strip()) if href else url


def _page_refs(body: bytes, url: str) -> Iterator[tuple[str, str]]:
    for match in _TOKEN.finditer(body):
        block_tag = match.group(1)
        if block_tag is not None:
            if block_tag.lower() == b"script":
                yield _script_src(match.group(2)), SCRIPT
            else:
                yield from _style_block_refs(match.group(3))
            continue
        tag = match.group(4)
        if tag is None:
            continue  # a comment
        yield from _known_tag_refs(tag, match.group(5))
    if b"url(" in body or b"URL(" in body:
        yield from _style_attributes(body)


# A site's pages repeat the same chrome (stylesheet links, scripts, icons, style blocks) byte for
# byte: what a tag yields is remembered by its bytes, so a page reads only the tags new to it.
# Pure functions of their arguments; bounded in entries and in the size of what is kept (a long
# tag or style block, e.g. of a hostile page, is read every time), and a page's own tags (its
# photos) pass through.
_CACHED_TAG_BYTES = 2048
_CACHED_STYLE_BYTES = 16384


def _known_tag_refs(tag: bytes, raw: bytes) -> tuple[tuple[str, str], ...]:
    return _cached_tag_refs(tag, raw) if len(raw) <= _CACHED_TAG_BYTES else _tag_pairs(tag, raw)


def _tag_pairs(tag: bytes, raw: bytes) -> tuple[tuple[str, str], ...]:
    return tuple(_tag_refs(tag.decode("latin-1").lower(), raw))


_cached_tag_refs = lru_cache(maxsize=4096)(_tag_pairs)


def _script_src(raw: bytes) -> str:
    return _cached_script_src(raw) if len(raw) <= _CACHED_TAG_BYTES else _attribute(raw, "src")


@lru_cache(maxsize=4096)
def _cached_script_src(raw: bytes) -> str:
    return _attribute(raw, "src")


def _style_block_refs(text: bytes) -> tuple[tuple[str, str], ...]:
    return _cached_style_refs(text) if len(text) <= _CACHED_STYLE_BYTES else _style_pairs(text)


def _style_pairs(text: bytes) -> tuple[tuple[str, str], ...]:
    return tuple(css_refs(text.decode("utf-8", "replace")))


_cached_style_refs = lru_cache(maxsize=256)(_style_pairs)


_STYLE_ATTRIBUTE = re.compile(rb"""\sstyle\s*=\s*(?:"([^"]*url\([^"]*)"|'([^']*url\([^']*)')""", re.I)


def _style_attributes(body: bytes) -> Iterator[tuple[str, str]]:
    """``url()`` in the ``style=""`` attributes of any tag (``<div style="background: url(...)">``);
    a separate pass, as most pages have none (the tag pass reads only the tags above)."""
    for match in _STYLE_ATTRIBUTE.finditer(body):
        raw = match.group(1) or match.group(2)
        yield from css_refs(html.unescape(raw.decode("utf-8", "replace")))


def stylesheet_requisites(text: str, url: str) -> list[Requisite]:
    """The requisites of a stylesheet fetched from ``url`` (its references are relative to it)."""
    return _unique(css_refs(text), url)
