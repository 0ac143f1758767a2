"""Photos and video players of the article container, read through their own markup.

A photo is a ``.media-inline`` block (its ``.media-inline-popup`` holds the full-size link, title,
caption, ``Photo By:`` and ``VIRIN:``), a gallery slide (``.gallery .item``, carousel clones
skipped), an HTML5 ``figure``, or a plain ``<img>`` in the body that is not a tracking pixel.
Values are returned as printed (whitespace is the pipelines' business), labels stripped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin

from archiver.extract import selectors as sel
from archiver.extract.blocks import is_video
from archiver.extract.css import Index
from archiver.extract.dom import HtmlElement, classes, has_ancestor_in, is_hidden, tag, value_of
from archiver.extract.text import PHOTO_BY_RE, VIRIN_LABEL_RE, strip_label, virin_in

_IMAGE_FILE_RE = re.compile(r"\.(?:jpe?g|png|gif|webp|tiff?)(?:$|\?)", re.I)
#: media.defense.gov sizes: /<yyyy>/<Mon>/<dd>/<id>/<w>/<h>/0/<VIRIN>.JPG; -1/-1 is the original
_SIZED_MEDIA_RE = re.compile(r"(/\d{4}/[A-Za-z]{3}/\d{1,2}/\d+/)-?\d+/-?\d+(/\d+/[^/]+$)")
_PIXEL_SRC_RE = re.compile(r"(?:pixel|spacer|blank|clear|1x1|transparent|beacon|tracking)[^/]*\.(?:gif|png)"
                           r"|/pixel\b|^data:", re.I)


_PLAYER_INSIDE = "video, .video-control, .media-inline-video"


@dataclass(frozen=True)
class MediaScope:
    """A photo or player element with its popup (read separately: the popup repeats the caption)."""

    element: HtmlElement
    popup: HtmlElement | None
    base_url: str
    index: Index

    def values(self, ladder: tuple[sel.Step, ...]) -> list[str]:
        """Values of the first step of ``ladder`` that finds any non-blank one."""
        for step in ladder:
            found = [v for v in (value_of(e, step.attr) for e in self._select(step)) if v.strip()]
            if found:
                return found
        return []

    def value(self, ladder: tuple[sel.Step, ...]) -> str:
        found = self.values(ladder)
        return found[0] if found else ""

    def _select(self, step: sel.Step) -> list[HtmlElement]:
        if step.source == "popup":
            return self.index.select(self.popup, step.query) if self.popup is not None else []
        found = self.index.select(self.element, step.query)  # the element itself included
        if self.popup is None:
            return found
        return [e for e in found if e is not self.popup and not has_ancestor_in(e, {self.popup})]


def photos(index: Index, body: HtmlElement, root: HtmlElement, base_url: str) -> list[dict[str, str]]:
    """Every photo of the container (``index.root``) in page order (inline photos, then the
    gallery where it sits)."""
    container = index.root
    excluded = set(index.select(container, ", ".join(sel.NOT_PHOTOS)))
    accepted: set[HtmlElement] = set()
    records: list[dict[str, str]] = []
    body_nodes = set(body.iter())
    for element in index.select(container, ", ".join((*sel.PHOTOS, "img"))):
        if element in excluded or has_ancestor_in(element, excluded | accepted):
            continue
        if tag(element) == "img":
            if element in body_nodes and not is_pixel(element):
                accepted.add(element)
                records.append(_plain_image(element, base_url))
            continue
        if is_video(element) or index.first(element, _PLAYER_INSIDE) is not None:
            continue  # a player (or a gallery slide holding one) is a video, not a photo
        accepted.add(element)
        record = _photo(MediaScope(element, _popup_of(element, root, index), base_url, index))
        if record["src"] or record["caption"]:
            records.append(record)
    return records


def _popup_of(element: HtmlElement, root: HtmlElement, index: Index) -> HtmlElement | None:
    inner = index.first(element, sel.POPUP)
    if inner is not None and inner is not element:
        return inner
    link = index.first(element, "[data-popup]")
    refs = [link.get("data-popup", "").lstrip("#")] if link is not None else []
    if element.get("data-id"):
        refs.append(f"popup-{element.get('data-id')}")
    for ref in refs:
        target = root.get_element_by_id(ref, None) if ref else None
        if isinstance(target, HtmlElement) and sel.POPUP.lstrip(".") in classes(target):
            return target
    return None


def _photo(scope: MediaScope) -> dict[str, str]:
    src = _absolute(scope.value(sel.POPUP_SRC), scope.base_url)
    if not src:
        src = _thumbnail_src(scope)
    credit = strip_label(scope.value(sel.PHOTO_CREDIT), PHOTO_BY_RE)
    virin = strip_label(scope.value(sel.PHOTO_VIRIN), VIRIN_LABEL_RE) or virin_in(src.rsplit("/", 1)[-1])
    return {
        "src": src,
        "title": scope.value(sel.PHOTO_TITLE),
        "caption": scope.value(sel.PHOTO_CAPTION),
        "credit": credit,
        "virin": virin,
        "alt": scope.value(sel.PHOTO_ALT),
    }


def _thumbnail_src(scope: MediaScope) -> str:
    """No popup: a link to the image file, else the inline image upgraded to its full size."""
    for link in scope.index.select(scope.element, "a[href]"):
        if _IMAGE_FILE_RE.search(link.get("href", "")):
            return _absolute(link.get("href", ""), scope.base_url)
    img = scope.index.first(scope.element, "img")
    return full_size(_img_src(img, scope.base_url)) if img is not None else ""


def _plain_image(img: HtmlElement, base_url: str) -> dict[str, str]:
    src = full_size(_img_src(img, base_url))
    return {"src": src, "title": img.get("title") or "", "caption": "", "credit": "",
            "virin": virin_in(src.rsplit("/", 1)[-1]), "alt": img.get("alt") or ""}


def _img_src(img: HtmlElement, base_url: str) -> str:
    for attr in sel.IMG_SRC_ATTRS:
        value = (img.get(attr) or "").strip()
        if value and not value.startswith("data:"):
            return _absolute(value, base_url)
    return ""


def full_size(src: str) -> str:
    """A media.defense.gov rendition URL turned into the original's (``/-1/-1/``)."""
    return _SIZED_MEDIA_RE.sub(r"\1-1/-1\2", src) if "/0/" in src else src


def is_pixel(img: HtmlElement) -> bool:
    """Tracking pixels and spacers (1x1, hidden, ``pixel.gif``) are not photos."""
    for attr in ("width", "height"):
        value = (img.get(attr) or "").strip().rstrip("px")
        if value.isdigit() and int(value) <= 2:
            return True
    if is_hidden(img):
        return True
    return bool(_PIXEL_SRC_RE.search(img.get("src") or ""))


def videos(index: Index, base_url: str) -> list[dict[str, str]]:
    """Every video player of the container (``index.root``) in page order: raw title line, clock
    text and source URL."""
    accepted: set[HtmlElement] = set()
    records: list[dict[str, str]] = []
    for element in index.select(index.root, ", ".join(sel.VIDEOS)):
        if has_ancestor_in(element, accepted) or not _is_player(element):
            continue
        scope_element = _player_scope(element)
        if scope_element in accepted or has_ancestor_in(scope_element, accepted):
            continue
        accepted.add(scope_element)
        scope = MediaScope(scope_element, None, base_url, index)
        records.append({
            "title": scope.value(sel.VIDEO_TITLE),
            "duration": scope.value(sel.VIDEO_DURATION),
            "src": _absolute(scope.value(sel.VIDEO_SRC), base_url),
        })
    return records


def _is_player(element: HtmlElement) -> bool:
    if tag(element) != "iframe":
        return True
    src = (element.get("src") or element.get("data-src") or "").lower()
    return any(hint in src for hint in sel.VIDEO_IFRAME_HINTS)


def _player_scope(element: HtmlElement) -> HtmlElement:
    """A bare ``<video>`` / ``<iframe>`` is read within its enclosing media block, if any."""
    if tag(element) not in {"video", "iframe"}:
        return element
    for ancestor in element.iterancestors():
        if isinstance(ancestor, HtmlElement) and classes(ancestor) & {"media-inline", "video-control"}:
            return ancestor
        if tag(ancestor) == "figure":
            return ancestor
    return element


def _absolute(url: str, base_url: str) -> str:
    url = url.strip()
    return urljoin(base_url, url) if url else ""
