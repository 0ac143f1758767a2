"""The DefenseLink / ASP.NET pages (about 1997-2016) and the 1990s static news pages, read by meaning.

These pages are HTML 4 table layouts without the article markup of later eras. What they do have,
in every variant, is an order: the letterhead ("U.S. Department of Defense", "Office of the
Assistant Secretary of Defense (Public Affairs)", "News Release"), the "On the Web:" line, the
media / public contact lines, "IMMEDIATE RELEASE" with the release number and date, **then the
headline**, the AFPS byline ("By Jim Garamone / American Forces Press Service"), the text, and the
"Printer-friendly Version" / "Email A Copy" links. So:

- the container is the ASP.NET label the item is written into (``selectors.ASPNET_CONTAINER``),
  else the element holding the page's main run of text (:func:`main_text_element`), else (a static
  page) ``<body>``;
- the headline is the element that prints the ``<title>``'s headline ("DefenseLink News Release:
  Stephen A. Cambone to Resign"), else the first heading;
- everything above the headline is the header: never body text, but where the item's date, its
  type ("News Release") and release number are read;
- furniture lines after it (``text.LEGACY_FURNITURE_RES``) and photo captions are not body text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urljoin

from archiver.extract import selectors as sel
from archiver.extract.css import select_each
from archiver.extract.dates import iso_date
from archiver.extract.dom import HtmlElement, classes, select, tag, text_of
from archiver.extract.media import full_size, is_pixel
from archiver.extract.text import collapse_space, is_legacy_furniture, virin_in
from archiver.items import Block
from archiver.site import item_ref

#: the eras this module reads
LEGACY_ERAS = frozenset({"aspnet", "static"})
#: ``<title>`` of the era: "DefenseLink News Release: X", "Defense.gov News Article: X",
#: "DefenseLINK News: X", "Defense.gov Transcript: X"
_TITLE_RE = re.compile(
    r"^\s*(?P<site>DefenseLink|Defense\s?Link|Defense\.gov)\b(?P<label>[A-Za-z ]{0,30}?)\s*:\s+"
    r"(?P<title>\S.*)$", re.I | re.S)
#: a page of the 1990s static site says so in its ``<title>`` ("DefenseLINK News: ...")
_STATIC_TITLE_RE = re.compile(r"^\s*DefenseLINK\s+News\s*:", re.I)
#: a dateline opening the first paragraph: "WASHINGTON, Dec. 1, 2006 –"
_DATELINE_RE = re.compile(r"^[A-Z][A-Za-z .,'’-]{1,60}?,\s+(.{6,24}?\d{4})\s*[–—-]")
#: caption trailers of DefenseLink photos
_CAPTION_TRAILER_RE = re.compile(
    r"\s*\(?\s*(?:Click photo for screen-resolution image|high-resolution image available)[^()]*\)?[.;]?",
    re.I)
_CREDIT_RE = re.compile(r"\b(?:photo|photograph)\s+by\s*:?\s*(?P<credit>[^()]+?)\s*\.?\s*$", re.I)
#: an image this small is an icon or a rule (the print / e-mail icons, spacers), not a photo
MAX_ICON_PIXELS = 50
#: a caption longer than this is article text around the photo, not its caption
MAX_CAPTION_CHARS = 700
_INLINE_TAGS = frozenset({"a", "b", "strong", "i", "em", "br", "font"})
_TEXT_TAGS = frozenset({"p", "div", "td", "span", "font", "blockquote", "li", "center"})


@dataclass
class LegacyLayout:
    """What the era's order says about one page: the headline, the header above it, the byline,
    and the elements of the body that are not body text (each with its block kind)."""

    headline: HtmlElement | None
    headline_text: str
    header: list[HtmlElement] = field(default_factory=list)
    byline: HtmlElement | None = None
    label: str = ""
    skip: dict[HtmlElement, str] = field(default_factory=dict)
    #: links of the "Related Articles:" box (not its "Related Sites:" links)
    related: list[HtmlElement] = field(default_factory=list)
    #: (image, its caption element) of each photo
    photos: list[tuple[HtmlElement, HtmlElement | None]] = field(default_factory=list)


def head_title(root: HtmlElement) -> str:
    head = root.find("head")
    title = head.find("title") if head is not None else None
    return collapse_space(text_of(title)) if title is not None else ""


def split_title(value: str) -> tuple[str, str]:
    """``"DefenseLink News Release: X"`` → ``("News Release", "X")``; ``("", value)`` otherwise."""
    match = _TITLE_RE.match(value)
    if not match:
        return "", value
    return collapse_space(match.group("label")), collapse_space(match.group("title"))


def find_container(root: HtmlElement, url: str) -> tuple[HtmlElement, str] | None:
    """(container, era) of a DefenseLink / ASP.NET or static page, ``None`` for any other page."""
    for each in select_each(root, sel.ASPNET_CONTAINER):
        found = [e for e in each if not (e.get("id") or "").startswith(sel.DNN_ID_PREFIX)]
        if found:
            return found[0], "aspnet"
    title = head_title(root)
    ref = item_ref(url)
    static = (ref is not None and ref.kind == "static") or bool(_STATIC_TITLE_RE.match(title))
    # (not __VIEWSTATE alone: the DNN and DGOV2 pages are ASP.NET postback pages too)
    aspnet = (ref is not None and ref.kind not in (None, "static")) or bool(_TITLE_RE.match(title))
    body = root.find("body")
    if body is None:
        return None
    if static and not _is_aspnet_form(root):
        return body, "static"
    if aspnet:
        main = main_text_element(body)
        if main is not None:
            return _widen_to_headline(main, body, split_title(title)[1]), "aspnet"
    return None


def _is_aspnet_form(root: HtmlElement) -> bool:
    """The ASP.NET page form: ``<input name="__VIEWSTATE">`` (every postback page has one; a
    static page has none)."""
    return bool(select(root, "input[name=__VIEWSTATE]"))


def main_text_element(body: HtmlElement) -> HtmlElement | None:
    """The element whose own paragraphs hold the most text (links, forms and navigation not
    counted): where a table-layout page keeps its item."""
    best: HtmlElement | None = None
    best_score = 0
    for element in body.iter():
        if not isinstance(element, HtmlElement) or tag(element) not in _TEXT_TAGS:
            continue
        score = _own_text_score(element)
        if score > best_score:
            best, best_score = element, score
    return best


def _own_text_score(element: HtmlElement) -> int:
    """Text in the element's direct children paragraphs and its own loose text, minus link text."""
    total = len((element.text or "").strip())
    for child in element:
        if not isinstance(child, HtmlElement):
            continue
        name = tag(child)
        if name in {"p", "div", "blockquote", "font", "span", "b", "i", "em", "strong"}:
            text = collapse_space(text_of(child))
            links = sum(len(collapse_space(text_of(a))) for a in child.iter("a"))
            total += max(0, len(text) - 2 * links)
        total += len((child.tail or "").strip())
    return total


def _widen_to_headline(main: HtmlElement, body: HtmlElement, title: str) -> HtmlElement:
    """The text element's nearest ancestor that also holds the headline (the headline sits above
    the text, often in another table row)."""
    if not title:
        return main
    wanted = title.casefold()
    node: HtmlElement | None = main
    while node is not None and node is not body:
        if wanted in collapse_space(text_of(node)).casefold():
            return node
        parent = node.getparent()
        node = parent if isinstance(parent, HtmlElement) else None
    return main


# -- the layout of one page ---------------------------------------------------------------------------


def read_layout(root: HtmlElement, container: HtmlElement, base_url: str) -> LegacyLayout:
    """Headline, header, byline, furniture and photos of a legacy container."""
    label, from_head = split_title(head_title(root))
    headline = find_headline(container, from_head)
    headline_text = collapse_space(text_of(headline)) if headline is not None else from_head
    if headline_text.isupper() and headline_text.casefold() == from_head.casefold():
        headline_text = from_head  # an upper-case heading (the 1990s pages): the <title>'s casing
    layout = LegacyLayout(headline, headline_text, label=label)
    if headline is not None:
        layout.header = preceding(headline, container)
        for element in layout.header:
            layout.skip[element] = "chrome"
        layout.skip[headline] = "chrome"
        layout.byline = _byline_after(headline, container)
        if layout.byline is not None:
            layout.skip[layout.byline] = "chrome"
    for block, links in _related_boxes(container):
        layout.skip.setdefault(block, "chrome")
        layout.related.extend(links)
    for bar in link_bars(container):
        layout.skip.setdefault(bar, "chrome")
    for photo, caption in _photos(container, layout):
        layout.photos.append((photo, caption))
        if caption is not None:
            layout.skip.setdefault(caption, "caption")
    return layout


def find_headline(container: HtmlElement, title: str) -> HtmlElement | None:
    """The deepest element printing ``title`` (case and spacing aside), else the first heading
    that is not the letterhead's (a 1990s page's ``<H3>OFFICE OF ASSISTANT SECRETARY OF DEFENSE
    (PUBLIC AFFAIRS)</H3>`` above its headline)."""
    if title:
        wanted = title.casefold()
        found: HtmlElement | None = None
        for element in container.iter():
            if isinstance(element, HtmlElement) and tag(element) not in {"title", "a"} \
                    and collapse_space(text_of(element)).casefold() == wanted:
                found = element  # iteration is depth-first: a later match is inside an earlier one
        if found is not None:
            return found
    for element in container.iter():
        if not isinstance(element, HtmlElement):
            continue
        text = collapse_space(text_of(element))
        if not text or len(text) > 300 or is_legacy_furniture(text):
            continue
        if tag(element) in {"h1", "h2", "h3", "h4"} or any(
                "headline" in c.lower() or c.lower() in {"title", "articletitle"} for c in classes(element)):
            return element
    return None


def preceding(element: HtmlElement, container: HtmlElement) -> list[HtmlElement]:
    """The elements above ``element`` in the container (its and its ancestors' preceding
    siblings), nearest first."""
    found: list[HtmlElement] = []
    node: HtmlElement | None = element
    while node is not None and node is not container:
        found.extend(s for s in node.itersiblings(preceding=True) if isinstance(s, HtmlElement))
        parent = node.getparent()
        node = parent if isinstance(parent, HtmlElement) else None
    return found


def _following_texts(element: HtmlElement, container: HtmlElement, limit: int) -> list[HtmlElement]:
    """The first ``limit`` text-bearing elements after ``element`` (document order, innermost)."""
    found: list[HtmlElement] = []
    node: HtmlElement | None = element
    while node is not None and node is not container and len(found) < limit:
        for sibling in node.itersiblings():
            if isinstance(sibling, HtmlElement) and collapse_space(text_of(sibling)):
                found.append(sibling)
                if len(found) >= limit:
                    break
        parent = node.getparent()
        node = parent if isinstance(parent, HtmlElement) else None
    return found


def _byline_after(headline: HtmlElement, container: HtmlElement) -> HtmlElement | None:
    """The "By Jim Garamone / American Forces Press Service" element right after the headline."""
    for element in _following_texts(headline, container, 2):
        candidate = _first_text_leaf(element)
        text = collapse_space(text_of(candidate))
        if re.match(r"^By\s+\S", text) and len(text) <= 200:
            return candidate
    return None


def _first_text_leaf(element: HtmlElement) -> HtmlElement:
    """The innermost block-level element where ``element``'s text starts."""
    node = element
    while True:
        children = [c for c in node if isinstance(c, HtmlElement) and collapse_space(text_of(c))]
        if (node.text or "").strip() or not children or tag(children[0]) in _INLINE_TAGS:
            return node
        node = children[0]


# -- dates and types ------------------------------------------------------------------------------------


def header_date(layout: LegacyLayout) -> str:
    """The item's date from the header (nearest the headline first): "December 01, 2006"."""
    for element in layout.header:
        text = text_of(element)
        if iso_date(text):
            return _date_line(text)
    return ""


def _date_line(text: str) -> str:
    """The line of ``text`` that holds the date (not the phone numbers around it)."""
    for line in reversed(text.splitlines()):
        if iso_date(line):
            return collapse_space(line)
    return collapse_space(text)


def dateline_date(first_paragraphs: list[str]) -> str:
    """The date of an AFPS dateline: "WASHINGTON, Dec. 1, 2006 – ..."."""
    for text in first_paragraphs:
        match = _DATELINE_RE.match(collapse_space(text))
        if match and iso_date(match.group(1)):
            return match.group(1)
    return ""


def header_text(layout: LegacyLayout) -> str:
    return " ".join(collapse_space(text_of(e)) for e in reversed(layout.header))


def self_link(container: HtmlElement, base_url: str) -> str:
    """The "On the Web:" link: a link that prints its own URL, an item URL of the site."""
    for a in container.iter("a"):
        href = (a.get("href") or "").strip()
        if href.startswith(("http://", "https://")) and collapse_space(text_of(a)) == href:
            ref = item_ref(href)
            if ref is not None and ref.kind is not None:
                return urljoin(base_url, href)
    return ""


def form_action_ref(root: HtmlElement, base_url: str) -> str:
    """The ASP.NET form posts back to the page itself: its action names the item."""
    for form in root.iter("form"):
        action = (form.get("action") or "").strip()
        if action:
            ref = item_ref(urljoin(base_url, action))
            if ref is not None:
                return ref.article_id
    return ""


# -- related boxes ----------------------------------------------------------------------------------------

_RELATED_LABEL_RE = re.compile(r"^Related\s+(Articles|Stories|News|Sites|Links|Web\s?Sites)\s*:?", re.I)
_BLOCK_TAGS = frozenset({"p", "div", "td", "table", "ul", "ol", "dl", "center", "blockquote"})


def _related_boxes(container: HtmlElement) -> list[tuple[HtmlElement, list[HtmlElement]]]:
    """("Related Articles:" / "Related Sites:" box, the links that are related stories) of each box:
    the label's block, with the list after it when the label stands alone."""
    boxes: list[tuple[HtmlElement, list[HtmlElement]]] = []
    taken: set[HtmlElement] = set()
    for element in container.iter():
        if not isinstance(element, HtmlElement) or element in taken:
            continue
        own = collapse_space(element.text or "")
        match = _RELATED_LABEL_RE.match(own)
        if not match:
            continue
        block = element
        while tag(block) not in _BLOCK_TAGS and isinstance(block.getparent(), HtmlElement) \
                and block.getparent() is not container:
            block = block.getparent()
        parts = [block]
        if _RELATED_LABEL_RE.fullmatch(collapse_space(text_of(block))):
            follower = block.getnext()
            if isinstance(follower, HtmlElement) and follower.find(".//a") is not None:
                parts.append(follower)
        stories = match.group(1).lower() in {"articles", "stories", "news"}
        links = [a for part in parts for a in part.iter("a") if a.get("href")] if stories else []
        for part in parts:
            taken.update(part.iter())
            boxes.append((part, links if part is parts[0] else []))
    return boxes


# -- navigation bars -----------------------------------------------------------------------------------

#: what may stand between the links of a navigation bar ("[ DefenseLINK News | News Releases ]")
_BAR_GLUE_RE = re.compile(r"[\s\[\]|•·:,/-]*")
#: a bar links to this many pages at least, and is a line, not a paragraph
MIN_BAR_LINKS = 3
MAX_BAR_CHARS = 300


def link_bars(container: HtmlElement) -> list[HtmlElement]:
    """Elements that are nothing but links and separators (the 1990s pages' "[ DefenseLINK News |
    News Releases | DefenseLINK Home ]" line): the site's navigation, never the item's text."""
    bars: list[HtmlElement] = []
    inside: set[HtmlElement] = set()
    for element in container.iter():
        if not isinstance(element, HtmlElement) or element is container or element in inside \
                or tag(element) == "a":
            continue
        links = [collapse_space(text_of(a)) for a in element.iter("a") if a.get("href")]
        links = [text for text in links if text]
        if len(links) < MIN_BAR_LINKS:
            continue
        rest = collapse_space(text_of(element))
        if len(rest) > MAX_BAR_CHARS:
            continue
        for text in links:
            rest = rest.replace(text, " ", 1)
        if _BAR_GLUE_RE.fullmatch(rest):
            bars.append(element)
            inside.update(element.iter())
    return bars


# -- photos ---------------------------------------------------------------------------------------------


def _photos(container: HtmlElement, layout: LegacyLayout) -> list[tuple[HtmlElement, HtmlElement | None]]:
    """(img, caption element) of each photo below the headline."""
    header_nodes = {n for e in layout.header for n in e.iter()}
    found = []
    for img in container.iter("img"):
        if not isinstance(img, HtmlElement) or img in header_nodes or is_pixel(img) or _is_icon(img):
            continue
        found.append((img, _caption_of(img, container)))
    return found


def _is_icon(img: HtmlElement) -> bool:
    sizes = [(img.get(a) or "").strip().rstrip("px") for a in ("width", "height")]
    numbers = [int(v) for v in sizes if v.isdigit()]
    return bool(numbers) and max(numbers) <= MAX_ICON_PIXELS


def _caption_of(img: HtmlElement, container: HtmlElement) -> HtmlElement | None:
    """The smallest element around the photo that holds some text and not much (its caption
    cell or paragraph): a photo table, a ``<div>`` with the image and its caption."""
    node = img.getparent()
    while isinstance(node, HtmlElement) and node is not container:
        text = collapse_space(text_of(node))
        if len(text) > MAX_CAPTION_CHARS:
            return None
        if text and tag(node) in {"table", "div", "p", "td", "center", "span"}:
            if tag(node) == "td":  # the image cell: its caption is the row below / the next cell
                table = next((a for a in node.iterancestors("table")), None)
                if table is not None and len(collapse_space(text_of(table))) <= MAX_CAPTION_CHARS:
                    return table
            return node
        node = node.getparent()
    return None


def photo_record(img: HtmlElement, caption_element: HtmlElement | None, base_url: str) -> dict[str, str]:
    """One photo: the full-size link if the image links to one, its caption and credit as printed."""
    link = next((a for a in img.iterancestors("a")), None)
    href = (link.get("href") or "").strip() if link is not None else ""
    src = urljoin(base_url, href) if re.search(r"\.(?:jpe?g|png|gif|tiff?)(?:$|\?)", href, re.I) else ""
    if not src:
        src = full_size(urljoin(base_url, (img.get("src") or "").strip()))
    caption = ""
    if caption_element is not None:
        caption = collapse_space(_CAPTION_TRAILER_RE.sub(" ", text_of(caption_element)))
    credit_match = _CREDIT_RE.search(caption)
    return {
        "src": src,
        "title": img.get("title") or "",
        "caption": caption,
        "credit": credit_match.group("credit").strip() if credit_match else "",
        "virin": virin_in(src.rsplit("/", 1)[-1]),
        "alt": img.get("alt") or "",
    }


_END_RE = re.compile(r"^-+ ?END ?-+$", re.I)


def label_furniture(blocks: list[Block]) -> list[Block]:
    """Body blocks that are the era's furniture become ``chrome``; so does everything after the
    release's "-END-" line (the page's section links)."""
    out: list[Block] = []
    ended = False
    for block in blocks:
        if block.kind in {"p", "h"} and (ended or is_furniture(block.text)):
            ended = ended or bool(_END_RE.match(collapse_space(block.text)))
            out.append(Block("chrome", block.text))
        else:
            out.append(block)
    return out


#: the print / e-mail links, however they are laid out on one line
_PRINT_LINKS_RE = re.compile(r"Printer[- ]friendly\s+Version|E-?mail\s+(?:A|This)\s+(?:Copy|Page)|\bPRINT\b|"
                             r"\bE-?MAIL\b|[|•]", re.I)


def is_furniture(text: str) -> bool:
    """A block of the body that is the era's furniture ("Printer-friendly Version | Email A Copy")."""
    if is_legacy_furniture("\n".join(part for part in text.split(" | "))):
        return True
    return bool(_PRINT_LINKS_RE.search(text)) and not collapse_space(_PRINT_LINKS_RE.sub(" ", text))
