"""Small lxml helpers for the extractor: parsing, CSS queries compiled once, element text."""

from __future__ import annotations

import re
from functools import cache

import lxml.html
from lxml import etree
from lxml.cssselect import CSSSelector

HtmlElement = lxml.html.HtmlElement

#: elements whose text is never page text
_NON_TEXT = ("script", "style", "noscript", "template", "svg", "head")
_HIDDEN_STYLE_RE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_BOLD_STYLE_RE = re.compile(r"font-weight\s*:\s*(?:bold|[6-9]00)", re.I)


class NotHtmlError(ValueError):
    """The bytes hold no HTML document lxml can build a tree from."""


def parse_html(text: str) -> HtmlElement:
    """An lxml tree of ``text`` (re-encoded so encoding declarations cannot confuse lxml)."""
    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True)
    try:
        root = lxml.html.document_fromstring(text.encode("utf-8", errors="replace"), parser=parser)
    except (etree.ParserError, ValueError) as exc:
        raise NotHtmlError(str(exc)) from exc
    if root is None:
        raise NotHtmlError("empty document")
    return root


def strip_non_text(root: HtmlElement) -> None:
    """Remove scripts, styles and other never-visible elements (their tails are kept)."""
    etree.strip_elements(root, *[t for t in _NON_TEXT if t != "head"], with_tail=False)


@cache
def css(query: str) -> CSSSelector:
    """A compiled CSS selector (HTML rules: case-insensitive element names)."""
    return CSSSelector(query, translator="html")


def select(element: HtmlElement, query: str) -> list[HtmlElement]:
    return [e for e in css(query)(element) if isinstance(e, HtmlElement)]


def first(element: HtmlElement, query: str) -> HtmlElement | None:
    found = select(element, query)
    return found[0] if found else None


def classes(element: HtmlElement) -> frozenset[str]:
    value = element.get("class")
    return frozenset(value.split()) if value else frozenset()


def tag(element: HtmlElement) -> str:
    return element.tag.lower() if isinstance(element.tag, str) else ""


def is_hidden(element: HtmlElement) -> bool:
    if element.get("hidden") is not None or element.get("aria-hidden") == "true":
        return True
    return bool(_HIDDEN_STYLE_RE.search(element.get("style") or ""))


def is_bold(element: HtmlElement) -> bool:
    return tag(element) in {"b", "strong"} or bool(_BOLD_STYLE_RE.search(element.get("style") or ""))


def text_of(element: HtmlElement, *, br: str = " ") -> str:
    """The element's visible text (``<br>`` as ``br``), whitespace as in the page."""
    parts: list[str] = []
    _collect(element, parts, br)
    return "".join(parts)


def _collect(element: HtmlElement, parts: list[str], br: str) -> None:
    if tag(element) == "br":
        parts.append(br)
    elif element.text:
        parts.append(element.text)
    for child in element:
        if isinstance(child, HtmlElement):
            _collect(child, parts, br)
        if child.tail:
            parts.append(child.tail)


def value_of(element: HtmlElement, attr: str) -> str:
    """``attr`` of the element, or its text when ``attr`` is empty."""
    if not attr:
        return text_of(element)
    return element.get(attr) or ""


def has_ancestor_in(element: HtmlElement, group: set[HtmlElement]) -> bool:
    """Whether an ancestor of ``element`` is one of ``group`` (lxml keeps one proxy per live node)."""
    parent = element.getparent()
    while parent is not None:
        if parent in group:
            return True
        parent = parent.getparent()
    return False
