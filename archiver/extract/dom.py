"""Small lxml helpers for the extractor: parsing, CSS queries compiled once, element text."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache

import lxml.html
from lxml import etree
from lxml.cssselect import CSSSelector
from lxml.html import HtmlElement as HtmlElement

#: elements whose text is never page text
_NON_TEXT = ("script", "style", "noscript", "template", "svg", "head")
_HIDDEN_STYLE_RE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_BOLD_STYLE_RE = re.compile(r"font-weight\s*:\s*(?:bold|[6-9]00)", re.I)


class NotHtmlError(ValueError):
    """The bytes hold no HTML document lxml can build a tree from."""


#: every element an ``HtmlElement``, chosen in C. lxml.html's own lookup calls back into Python for
#: each element proxy to pick a per-tag class (forms, inputs, labels) the extractor never uses,
#: which made every walk over the tree ~3x slower (docs/performance.md).
ELEMENT_LOOKUP = etree.ElementDefaultClassLookup(element=HtmlElement, comment=lxml.html.HtmlComment,
                                                 pi=lxml.html.HtmlProcessingInstruction,
                                                 entity=lxml.html.HtmlEntity)


def parse_html(text: str | bytes) -> HtmlElement:
    """An lxml tree of ``text``, or of ``text`` as UTF-8 bytes (UTF-8 is imposed, so encoding
    declarations cannot confuse lxml)."""
    # collect_ids=False: no hash table of id attributes (nothing here looks elements up by id: CSS
    # ``#x`` compares the attribute); ~10 % of the parse
    parser = etree.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True, collect_ids=False)
    parser.set_element_class_lookup(ELEMENT_LOOKUP)
    data = text if isinstance(text, bytes) else text.encode("utf-8", errors="replace")
    try:
        root = etree.fromstring(data, parser=parser)
    except (etree.ParserError, ValueError) as exc:
        raise NotHtmlError(str(exc)) from exc
    if root is None:
        raise NotHtmlError("empty document")
    return root


def strip_non_text(root: HtmlElement) -> None:
    """Remove scripts, styles and other never-visible elements (their tails are kept), and give
    every ``<br>`` a newline as text, so that an element's text (``itertext``, in C) keeps line
    breaks where the page shows them."""
    etree.strip_elements(root, *[t for t in _NON_TEXT if t != "head"], with_tail=False)
    for br in root.iter("br"):
        br.text = "\n"


@cache
def css(query: str) -> CSSSelector:
    """A compiled CSS selector (HTML rules: case-insensitive element names)."""
    return CSSSelector(query, translator="html")


def select(element: HtmlElement, query: str) -> list[HtmlElement]:
    return [e for e in css(query)(element) if isinstance(e, HtmlElement)]


#: XPath's ``normalize-space`` whitespace: what separates class tokens in cssselect's ``.class`` test
_XML_SPACE_RE = re.compile(r"[ \t\r\n]+")
#: ``tag.class``, the one query shape :func:`iter_select` walks itself
_TAG_CLASS_RE = re.compile(r"^([a-z][a-z0-9]*)\.([\w-]+)$")


def iter_select(element: HtmlElement, query: str) -> Iterator[HtmlElement]:
    """What ``select(element, query)`` finds, in the same order, found as it is asked for: a caller
    that stops at the first good element spares the rest of the walk (a ``tag.class`` query walks
    the ``tag`` elements in C and tests the class as cssselect's XPath does; others run ``select``)."""
    simple = _TAG_CLASS_RE.match(query)
    if simple is None:
        yield from select(element, query)
        return
    name, token = simple.groups()
    for found in element.iter(name):
        value = found.get("class") or ""
        if token in value and token in _XML_SPACE_RE.split(value) and isinstance(found, HtmlElement):
            yield found


def first(element: HtmlElement, query: str) -> HtmlElement | None:
    found = select(element, query)
    return found[0] if found else None


_NO_CLASSES: frozenset[str] = frozenset()


def classes(element: HtmlElement) -> frozenset[str]:
    value = element.get("class")
    return frozenset(value.split()) if value else _NO_CLASSES


def tag(element: HtmlElement) -> str:
    return element.tag.lower() if isinstance(element.tag, str) else ""


def is_hidden(element: HtmlElement) -> bool:
    if element.get("hidden") is not None or element.get("aria-hidden") == "true":
        return True
    return bool(_HIDDEN_STYLE_RE.search(element.get("style") or ""))


def is_bold(element: HtmlElement) -> bool:
    return tag(element) in {"b", "strong"} or bool(_BOLD_STYLE_RE.search(element.get("style") or ""))


def text_of(element: HtmlElement) -> str:
    """The element's text as in the page (whitespace untouched; ``<br>`` is a newline once
    :func:`strip_non_text` ran)."""
    return "".join(element.itertext())


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
