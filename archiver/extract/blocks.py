"""The body region as :class:`~archiver.items.Block` s in page order, each labelled with its role.

Paragraph-level text becomes ``p`` (or ``h`` for ``h1``-``h6`` and for a paragraph whose whole
text is bold); text inside a photo, gallery or video player becomes ``caption``, ``media-title``,
``credit``, ``virin`` or ``player``; the notice becomes ``notice``; share boxes, screen-reader-only
text, header parts met in the body become ``chrome``. Nothing is dropped here: the pipelines decide
what reaches ``body`` (and count it). Loose text between blocks and ``<br><br>`` breaks (old pages
separate paragraphs that way) make paragraphs too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from archiver.extract import selectors as sel
from archiver.extract.dom import HtmlElement, classes, is_bold, is_hidden, tag, text_of
from archiver.extract.text import is_notice
from archiver.items import Block

HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
BLOCK_TAGS = frozenset({
    "p", "div", "section", "article", "main", "ul", "ol", "li", "dl", "dt", "dd", "table", "thead",
    "tbody", "tfoot", "tr", "td", "th", "caption", "blockquote", "figcaption", "pre", "center",
    "address", "details", "summary", "fieldset", *HEADINGS,
})
MEDIA_TAGS = frozenset({"figure", "video", "audio", "iframe", "object", "embed", "picture"})
CHROME_TAGS = frozenset({"form", "nav", "aside", "button", "select", "input", "textarea", "footer",
                         "header", "label"})
#: a bold paragraph longer than this is emphasis, not a subheading
MAX_HEADING_CHARS = 200
#: below this nesting depth an element's text is taken whole (hostile pages nest thousands deep;
#: the walk recurses, and Python's stack is finite)
MAX_DEPTH = 120


def role_of(element: HtmlElement) -> str:
    """``media``, ``notice``, ``chrome`` or ``""`` (ordinary content), from classes and microdata.

    A notice-class element is the notice only when it says "historical collection"; otherwise a
    ``.disclaimer`` is boilerplate (chrome) and an ``.alert`` box is content (an editor's update).
    """
    tokens = classes(element)
    roles = {sel.ROLE_CLASSES[c] for c in tokens if c in sel.ROLE_CLASSES}
    if "media" in roles:
        return "media"
    if "notice" in roles:
        if is_notice(text_of(element)):
            return "notice"
        roles.discard("notice")
        if "disclaimer" in tokens:
            roles.add("chrome")
    if "chrome" in roles:
        return "chrome"
    return sel.ROLE_ITEMPROPS.get(element.get("itemprop") or "", "")


def body_blocks(region: HtmlElement, skip: Mapping[HtmlElement, str] | None = None, *,
                layout_tables: bool = False) -> list[Block]:
    """The blocks of the body region, in page order. ``skip`` maps elements the era's layout
    already knows (a legacy page's header, headline, byline, captions) to their block kind;
    ``layout_tables``: tables are the page's layout (a 1990s-2000s page), not data."""
    walk = _Walk(skip=skip or {}, layout_tables=layout_tables)
    walk.children(region, bold=False)
    walk.flush()
    return walk.blocks


@dataclass
class _Walk:
    blocks: list[Block] = field(default_factory=list)
    #: the current paragraph: (text, bold) pieces of inline content
    pieces: list[tuple[str, bool]] = field(default_factory=list)
    #: consecutive <br> with only whitespace between (two make a paragraph break)
    breaks: int = 0
    depth: int = 0
    skip: Mapping[HtmlElement, str] = field(default_factory=dict)
    layout_tables: bool = False

    def children(self, element: HtmlElement, *, bold: bool) -> None:
        if self.depth >= MAX_DEPTH:
            self.text(text_of(element), bold)
            return
        self.depth += 1
        self.text(element.text, bold)
        for child in element:
            if isinstance(child, HtmlElement):
                self.node(child, bold)
            self.text(child.tail, bold)
        self.depth -= 1

    def text(self, value: str | None, bold: bool) -> None:
        if not value:
            return
        if value.strip():
            self.breaks = 0
        self.pieces.append((value, bold))

    def flush(self) -> None:
        pieces, self.pieces, self.breaks = self.pieces, [], 0
        text = "".join(p for p, _ in pieces)
        if not text.strip():
            return
        whole_bold = all(b for p, b in pieces if p.strip())
        heading = whole_bold and len(" ".join(text.split())) <= MAX_HEADING_CHARS
        self.blocks.append(Block("h" if heading else "p", text))

    def node(self, element: HtmlElement, bold: bool) -> None:
        name = tag(element)
        if self.skip and element in self.skip:
            self.flush()
            self.blocks.append(Block(self.skip[element], text_of(element)))
            return
        role = role_of(element)
        if role == "media" or name in MEDIA_TAGS:
            self.flush()
            media_blocks(element, self.blocks)
        elif role:
            if name in BLOCK_TAGS:  # an inline one ("opens in a new window") does not end the paragraph
                self.flush()
            self.blocks.append(Block(role, text_of(element)))
        elif name == "br":
            self.line_break(bold)
        elif name == "img":
            return
        elif is_hidden(element):
            self.hidden(element, name)
        elif name in HEADINGS:
            self.flush()
            self.blocks.append(Block("h", text_of(element)))
        elif name == "tr":
            self.flush()
            self.row(element)
        elif name in CHROME_TAGS:
            self.flush()
            self.blocks.append(Block("chrome", text_of(element)))
        elif name == "hr":
            self.flush()
        elif name in BLOCK_TAGS or _holds_blocks(element):
            self.block(element, name, bold)
        else:
            self.children(element, bold=bold or is_bold(element))

    def block(self, element: HtmlElement, name: str, bold: bool) -> None:
        self.flush()
        before = len(self.blocks)
        self.children(element, bold=bold or is_bold(element))
        self.flush()
        if name == "p" and len(self.blocks) == before:
            # an empty paragraph (often <p>&nbsp;</p>): the whitespace pipeline drops and counts it
            self.blocks.append(Block("p", text_of(element)))

    def line_break(self, bold: bool) -> None:
        self.breaks += 1
        if self.breaks >= 2:
            self.flush()
        else:
            self.pieces.append(("\n", bold))

    def hidden(self, element: HtmlElement, name: str) -> None:
        if name in BLOCK_TAGS:
            self.flush()
        self.blocks.append(Block("chrome", text_of(element)))

    def row(self, element: HtmlElement) -> None:
        """A data row is one block (cells joined by `` | ``); a layout row (a cell holding
        paragraphs or tables, as table-layout pages of the 1990s-2000s have) is walked cell by cell."""
        cells_in = [c for c in element if tag(c) in {"td", "th"}]
        if self.layout_tables and any(_holds_blocks(c) or _holds_skipped(c, self.skip) for c in cells_in):
            for cell in cells_in:
                self.block(cell, "td", bold=False)
            return
        cells = [" ".join(text_of(c).split()) for c in cells_in]
        text = " | ".join(c for c in cells if c)
        if text:
            self.blocks.append(Block("p", text))


def _holds_skipped(element: HtmlElement, skip: Mapping[HtmlElement, str]) -> bool:
    return any(child in skip for child in element.iter())


def _holds_blocks(element: HtmlElement) -> bool:
    """An inline element wrapping paragraphs or media (``<span><p>…</p></span>``) acts as a block."""
    for child in element.iterdescendants():
        if not isinstance(child, HtmlElement):
            continue
        name = tag(child)
        if name in BLOCK_TAGS or name in MEDIA_TAGS or role_of(child) == "media":
            return True
    return False


# -- media ------------------------------------------------------------------------------------------


def is_video(element: HtmlElement) -> bool:
    """A video player: ``.media-inline-video``, a gallery ``.video-control``, ``<video>``, or an
    inline media block holding a ``<video>`` / player ``<iframe>`` (a gallery is not one video)."""
    tokens = classes(element)
    if tokens & {"media-inline-video", "video-control"} or tag(element) in {"video", "audio"}:
        return True
    if "media-inline" in tokens:
        return any(tag(e) in {"video", "source", "audio", "iframe"} for e in element.iterdescendants()
                   if isinstance(e, HtmlElement))
    return False


def media_blocks(element: HtmlElement, out: list[Block]) -> None:
    """The texts of a photo, popup, gallery or player, each labelled (none of it is body text)."""
    _media_node(element, out, video=is_video(element))


def _media_node(element: HtmlElement, out: list[Block], video: bool) -> None:
    video = video or is_video(element)
    kind = _media_kind(element, video)
    if kind:
        text = text_of(element)
        if text.strip():
            out.append(Block(kind, text))
        return
    default = "player" if video else "chrome"
    if element.text and element.text.strip():
        out.append(Block(default, element.text))
    for child in element:
        if isinstance(child, HtmlElement):
            _media_node(child, out, video)
        if child.tail and child.tail.strip():
            out.append(Block(default, child.tail))


def _media_kind(element: HtmlElement, video: bool) -> str:
    tokens = classes(element)
    kind = next((k for c, k in sel.MEDIA_TEXT_CLASSES.items() if c in tokens), "")
    if not kind and tag(element) == "figcaption":
        kind = "caption"
    if video and kind in {"caption", "media-title"}:
        return "player"
    return kind
