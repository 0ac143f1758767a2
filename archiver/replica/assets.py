"""The page requisites the replica's pages reference: the real stylesheet, stand-ins for the rest.

The real pages (``data/skeleton-*.html``) load some fifty stylesheets, scripts, fonts and images
from the site's own paths (``/Portals/...``, ``/DesktopModules/...``, ``/Resources/...``,
``/js/...``, ``*.axd``; the older eras' ``/style/``, ``/Images/``, ``/graphics/``, ``/ssi/``,
``/news/graphics/``). The replica answers each of those paths, so that an archive of it replays
with everything a page asks for and a replay test means something:

- ``/desktopmodules/ArticleCS/styles/DefenseGOV2/style.css``: the site's real main stylesheet
  (``data/site-style-2020-11.css``, November 2020; the DGOV2 article styles the pages use);
- every other stylesheet: a stand-in with one rule (so a browser shows it applied), the Font
  Awesome ones with the ``@font-face`` of the real file (fonts under ``../webfonts/``);
- scripts: a stand-in comment; fonts: a valid two-glyph font (``archiver/replica/fonts.py``);
- images: a valid 1x1 PNG or GIF, a small SVG, an ICO holding a PNG, a small JPEG.

Paths are matched without regard to case, as the real site's IIS does; the query string
(``?cdv=1913``) does not matter. Answers carry ``Last-Modified`` and an ``ETag`` (the server's),
so a conditional request gets ``304``. See docs/replica.md.
"""

from __future__ import annotations

import re
import struct
import zlib
from functools import cache
from importlib import resources

from archiver.replica.fonts import stand_in_font

#: the paths the real pages load requisites from (case-insensitive), and the handler kinds
ASSET_PATH = re.compile(
    r"^/(?:(?:resources|desktopmodules|portals|js|home/images|style|images|graphics|ssi|news/graphics)/[^?#]+"
    r"\.(css|js|png|gif|jpe?g|svg|ico|woff2?|ttf|eot|otf)"
    r"|(?:webresource|scriptresource|telerik\.web\.ui\.webresource)\.(axd))$",
    re.I,
)
SITE_STYLESHEET_PATH = "/desktopmodules/articlecs/styles/defensegov2/style.css"
SITE_STYLESHEET_FILE = "site-style-2020-11.css"

CONTENT_TYPES = {
    "css": b"text/css", "js": b"application/javascript", "axd": b"application/javascript",
    "png": b"image/png", "gif": b"image/gif", "jpg": b"image/jpeg", "jpeg": b"image/jpeg",
    "svg": b"image/svg+xml", "ico": b"image/x-icon", "woff2": b"font/woff2", "woff": b"font/woff",
    "ttf": b"font/ttf", "otf": b"font/otf", "eot": b"application/vnd.ms-fontobject",
}
#: the ``@font-face`` rules of Font Awesome's all.min.css (5 and 6), as the real file has them
_FONT_AWESOME_FACES = "".join(
    f'@font-face{{font-family:"{family}";font-style:normal;font-weight:{weight};font-display:block;'
    f'src:url(../webfonts/{name}.woff2) format("woff2"),url(../webfonts/{name}.woff) format("woff")}}\n'
    for family, weight, name in (("Font Awesome 5 Free", 900, "fa-solid-900"),
                                 ("Font Awesome 5 Free", 400, "fa-regular-400"),
                                 ("Font Awesome 5 Brands", 400, "fa-brands-400")))


def asset(path: str) -> tuple[bytes, bytes] | None:
    """(body, content type) of the requisite at ``path`` (no query), or None when it is not one."""
    match = ASSET_PATH.match(path)
    if match is None:
        return None
    extension = (match.group(1) or match.group(2)).lower()
    return _body(path.lower(), extension), CONTENT_TYPES[extension]


def _body(path: str, extension: str) -> bytes:
    if extension == "css":
        return _stylesheet(path)
    if extension in ("js", "axd"):
        return f"/* replica stand-in for {path} (the real script is not in the replica) */\n".encode()
    if extension in ("png", "gif", "jpg", "jpeg", "svg", "ico"):
        return _image(extension, path)
    if extension == "eot":  # Internet Explorer's format, which no browser of today loads
        return f"replica stand-in font for {path}\n".encode()
    return stand_in_font(path, extension)


def _stylesheet(path: str) -> bytes:
    if path == SITE_STYLESHEET_PATH:
        return site_stylesheet()
    rule = f"/* replica stand-in for {path} (the real stylesheet is not in the replica) */\n" \
           f':root {{ --replica-stand-in: "{path.rsplit("/", 1)[-1]}"; }}\n'
    if "/font-awesome" in path and path.endswith("/all.min.css"):
        rule += _FONT_AWESOME_FACES
    if "/bootstrap" in path and path.endswith("/bootstrap.min.css"):
        rule += _BOOTSTRAP_SR_ONLY
    return rule.encode()


#: Bootstrap 3's own ``.sr-only`` rules (text for screen readers: the photo links' captions, the
#: search labels), which the pages rely on to hide that text; the rest of Bootstrap is not needed
#: by what the replica's pages show
_BOOTSTRAP_SR_ONLY = (
    ".sr-only{position:absolute;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;"
    "clip:rect(0,0,0,0);border:0}\n"
    ".sr-only-focusable:active,.sr-only-focusable:focus{position:static;width:auto;height:auto;"
    "margin:0;overflow:visible;clip:auto}\n")


@cache
def site_stylesheet() -> bytes:
    """The real site stylesheet (as saved: UTF-8 with a byte-order mark)."""
    return resources.files("archiver.replica").joinpath("data", SITE_STYLESHEET_FILE).read_bytes()


def _image(extension: str, path: str) -> bytes:
    """A valid small image naming ``path`` inside (a comment), so that each is its own payload:
    were they the same bytes, all but one would be archived as revisits of another URL's capture."""
    note = path.encode("utf-8")[:2000]
    if extension == "png":
        return png_1x1(note)
    if extension == "gif":  # the classic transparent 1x1 GIF, with a comment extension
        return (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
                + b"!\xfe" + bytes([len(note[:255])]) + note[:255] + b"\x00"
                + b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")
    if extension == "svg":
        comment = b"<!-- replica stand-in for " + note.replace(b"--", b"- -") + b" -->"
        return (b'<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 16 16">'
                + comment + b'<rect width="16" height="16" fill="#112e51"/></svg>\n')
    if extension == "ico":  # an ICO directory with one PNG image (what browsers accept)
        png = png_1x1(note)
        return struct.pack("<HHH", 0, 1, 1) + struct.pack("<BBBBHHII", 1, 1, 0, 0, 1, 32, len(png), 22) + png
    jpeg = resources.files("archiver.replica").joinpath("data", "photo-0.jpg").read_bytes()
    return jpeg[:2] + b"\xff\xfe" + (len(note) + 2).to_bytes(2, "big") + note + jpeg[2:]


def png_1x1(note: bytes = b"") -> bytes:
    """A valid 1x1 PNG (one navy pixel), built here rather than shipped; ``note`` in a tEXt chunk."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixel = zlib.compress(b"\x00\x11\x2e\x51")  # filter byte 0, then R G B
    text = chunk(b"tEXt", b"Comment\x00" + note.replace(b"\x00", b"")) if note else b""
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + text + chunk(b"IDAT", pixel) + chunk(b"IEND", b"")
