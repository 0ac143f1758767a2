"""Pages seen through a web archive's playback (the Wayback Machine, pywb): back to the original site.

A played-back page has every link rewritten to ``https://web.archive.org/web/<timestamp><mod>/<original>``
(``og:url`` too), the archive's toolbar and scripts (``wombat.js``) injected, and trailer comments
after ``</html>``. The record must carry the original site's URLs, so a playback page has its
URL attributes unwrapped before any field reads them, and its toolbar removed. The archive says
which URL it played back (``__wm.wombat("<original>", "<timestamp>", ...)`` on the Wayback
Machine, ``wbinfo.url = "<original>"`` on pywb): :func:`played_url` reads it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urljoin

from lxml import etree

from archiver.extract.dom import HtmlElement

#: ``[<scheme>://<archive host>]/<collection path>/<timestamp>[<modifier>_]/<original URL>``;
#: the archive collapses the original's ``//`` to ``/`` at times (``https:/www.defense.gov``)
_PLAYBACK_RE = re.compile(
    r"^(?:https?://[^/]+)?/(?:[^/?#]+/)*?(\d{8,14})(?:[a-z]{2}_|\*)?/+((?:https?:/{1,2})?[A-Za-z0-9.-]+\.[A-Za-z]{2,}"
    r"(?::\d+)?(?:[/?#].*)?)$", re.I)
#: markers only an archive's playback injects, all in the scripts it adds: ``<script src=".../wombat.js">``
#: and the inline set-up (``__wm.wombat(...)`` on the Wayback Machine, ``wbinfo.url = ...`` and the
#: ``_WB_wombat`` / ``WB_wombat_`` names on pywb)
PLAYBACK_MARKERS: tuple[str, ...] = ("wombat.js", "__wm.wombat(", "_WB_wombat", "wbinfo.url", "WB_wombat_")
_WOMBAT_RE = re.compile(r"""__wm\.wombat\(\s*["']([^"']+)["']""")
_WBINFO_RE = re.compile(r"""wbinfo\.url\s*=\s*["']([^"']+)["']""")
#: URL-holding attributes rewritten by the playback
_URL_ATTRS: tuple[str, ...] = ("href", "src", "content", "action", "data-src", "data-lazy-src",
                               "data-original", "poster", "data-popup-src")
#: the archive's toolbar and banners (Wayback ``#wm-ipp-base``, pywb ``#_wb_frame_top_banner``)
_TOOLBAR = etree.XPath(
    "//*[@id='wm-ipp-base' or @id='wm-ipp' or @id='wm-ipp-print' or @id='donato' or @id='wm-bipp'"
    " or @id='_wb_frame_top_banner' or @id='_wb_plain_banner' or starts-with(@id, '_wm_')]")


def is_playback(scripts: str, url: str = "", sources: Iterable[str] = ()) -> bool:
    """Whether the page is an archive's playback: the scripts it injects (``scripts``: the page's
    inline script text; ``sources``: its scripts' ``src``), or a playback URL.

    Only the scripts are searched, not the whole page: that is where the archive puts its markers,
    and a page's own text naming them (an article on web archiving) does not make it a playback."""
    return (any(marker in scripts for marker in PLAYBACK_MARKERS)
            or any("wombat.js" in source for source in sources) or bool(url and _PLAYBACK_RE.match(url)))


def original_url(url: str) -> str:
    """``https://web.archive.org/web/20211125211021im_/https://media.defense.gov/x.JPG`` →
    ``https://media.defense.gov/x.JPG``; any other URL unchanged."""
    match = _PLAYBACK_RE.match(url.strip())
    if not match:
        return url
    original = match.group(2)
    scheme = re.match(r"^(https?):/{1,2}", original, re.I)
    if scheme:
        return f"{scheme.group(1).lower()}://{original[scheme.end():]}"
    return f"http://{original}"


def played_url(scripts: str) -> str:
    """The original URL the archive says it played back (from its inline scripts), else ``""``."""
    for pattern in (_WOMBAT_RE, _WBINFO_RE):
        match = pattern.search(scripts)
        if match:
            return match.group(1)
    return ""


def unwrap_document(root: HtmlElement, page_url: str) -> None:
    """Remove the archive's toolbar; every URL attribute back to the original site's. Link
    attributes are made absolute against the playback URL first (the archive writes them
    ``/web/<ts>/<original>``); ``content`` only when it is a URL (``og:url``, ``og:image``)."""
    for element in _TOOLBAR(root):
        if isinstance(element, HtmlElement):
            element.drop_tree()
    web_base = page_url if page_url.startswith(("http://", "https://")) else ""
    for element in root.iter():
        if not isinstance(element, HtmlElement):
            continue
        for attr in _URL_ATTRS:
            value = (element.get(attr) or "").strip()
            if not value or (attr == "content" and not value.startswith(("http", "/"))):
                continue
            absolute = urljoin(web_base, value) if web_base and attr != "content" else value
            unwrapped = original_url(absolute)
            if unwrapped != absolute:
                element.set(attr, unwrapped)
