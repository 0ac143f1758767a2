"""Listing pages, read by meaning: article links in the main content, their dates, the next page.

Works on the site's listing markup (``div.item`` > ``h3.title a`` + ``time[data-dateap]``) and on
listings built differently: any link to an ``/Article/<id>/`` URL outside the page chrome
(header, nav, footer) counts, and its date is the nearest ``time`` / ``.date`` around it.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from urllib.parse import urljoin, urlsplit

import lxml.etree
import lxml.html

from archiver.dates import parse_date
from archiver.extract.dom import ELEMENT_LOOKUP, NotHtmlError
from archiver.site import ARTICLE_URL, NOT_NEWS

#: ancestors that make a link page chrome: nav, footer, a header outside ``main``, these ids
_CHROME_TAGS = frozenset({"nav", "footer"})
_CHROME_IDS = frozenset({"footer", "footer-main", "header-main"})
#: what any link ARTICLE_URL matches once joined must contain already (``.htm``: the 1990s static
#: pages, linked relative to their month folder: ``b06011998_bt276-98.html``)
_MAYBE_ARTICLE = re.compile(r"article|id=|\.htm", re.I)
#: article pages of the ASP.NET site (DefenseLink, archive.defense.gov), each kind its own numbers
LEGACY_ARTICLE_URL = re.compile(
    r"/(?:news/newsarticle|releases/release|transcripts/transcript|speeches/speech|contracts/contract|"
    r"advisories/advisory)\.aspx\?(?:[^#]*&)?(?:id|releaseid|transcriptid|speechid|contractid|advisoryid)"
    r"=\d+(?:&|#|$)", re.I)
#: date nodes and a few more (``class="update"``): the class test in XPath is 5x slower
_MAYBE_DATE_NODES = "//time | //*[contains(@class, 'date')]"
#: the whitespace XPath's ``normalize-space()`` collapses, which separates classes
_XML_SPACE = re.compile(r"[ \t\r\n]+")


@dataclass(frozen=True)
class ListingEntry:
    url: str
    published: date | None


@dataclass(frozen=True)
class ListingPage:
    """What the crawl reads of a listing page."""

    entries: list[ListingEntry]
    next_url: str | None


def read_listing(html: bytes | str, base_url: str, hosts: Iterable[str] = ()) -> ListingPage:
    """The page's article links (:func:`listing_entries`) and next page (:func:`next_page_url`),
    parsed once. Raises :class:`~archiver.extract.dom.NotHtmlError` for bytes lxml cannot build a
    tree from (an empty body), the same in the crawl process and on a worker (lxml's own error
    does not pickle)."""
    try:
        doc = parse_html(html)
    except (lxml.etree.ParserError, ValueError) as exc:
        raise NotHtmlError(f"listing page: {exc}") from exc
    return ListingPage(listing_entries(doc, base_url, hosts), next_page_url(doc, base_url))


def on_hosts(url: str, hosts: Iterable[str]) -> bool:
    """Whether ``url``'s host is one of ``hosts`` or a subdomain of one."""
    host = (urlsplit(url).hostname or "").lower()
    return any(host == h or host.endswith("." + h) for h in hosts)


def _parser() -> lxml.html.HTMLParser:
    """lxml.html's parser with the extractor's element lookup (every element an ``HtmlElement``,
    chosen in C: lxml.html's own calls into Python for each element proxy, ~3x slower walks)."""
    parser = lxml.html.HTMLParser(collect_ids=False)  # nothing here looks elements up by id
    parser.set_element_class_lookup(ELEMENT_LOOKUP)
    return parser


_PARSER = _parser()


def parse_html(html: bytes | str | lxml.html.HtmlElement) -> lxml.html.HtmlElement:
    """Parse once, read many times: the functions here take the page or its parsed tree."""
    return html if isinstance(html, lxml.html.HtmlElement) else lxml.html.fromstring(html, parser=_PARSER)


def listing_entries(html: bytes | str | lxml.html.HtmlElement, base_url: str,
                    hosts: Iterable[str] = ()) -> list[ListingEntry]:
    """News article links of a listing page in page order (each URL once), with their dates.

    Only links on ``hosts`` count (default: the listing's own host): the site's pages also link
    to articles of other DoD sites (af.mil, navy.mil...), which are not this site's news.
    """
    doc = parse_html(html)
    hosts = list(hosts) or [urlsplit(base_url).hostname or ""]
    page = _PageIndex(doc)
    entries: dict[str, ListingEntry] = {}
    for link in doc.iter("a"):
        href = link.get("href")
        if href is None or not _MAYBE_ARTICLE.search(href):  # cheap: most links are not articles
            continue
        url = urljoin(base_url, href.strip())
        if not is_article_url(url) or NOT_NEWS.search(url) or url in entries or not on_hosts(url, hosts) \
                or page.in_chrome(link):
            continue
        entries[url] = ListingEntry(url, page.date_near(link) or _date_of_row(link))
    return list(entries.values())


def is_article_url(url: str) -> bool:
    """An article page of any era: ``/Article/<id>/``, ``?ID=``, or an ASP.NET ``*.aspx?...ID=<n>``."""
    return bool(ARTICLE_URL.search(url) or LEGACY_ARTICLE_URL.search(url))


def _date_of_row(link: lxml.html.HtmlElement) -> date | None:
    """The date of a listing item that has no ``time`` / ``.date`` holding one: the text of its
    table row (DefenseLink monthly lists: a date cell beside the link), else the link's own text
    (the DNN skin's contracts listing leaves ``.date`` empty; the title says "Contracts For July
    30, 2014")."""
    for depth, node in enumerate(link.iterancestors()):
        if depth > 3:
            break
        if node.tag == "tr":
            # cell by cell: ``<TD>June 1, 1998</TD><TD><A>DOD Announces...`` reads "1998DOD" whole
            cells = [c.text_content() for c in node if c.tag in {"td", "th"}]
            when = parse_date(" ".join(cells) if cells else node.text_content())
            if when:
                return when
            break
    return parse_date(link.text_content())


def _is_date_node(node: lxml.html.HtmlElement) -> bool:
    """A ``time`` element, or one with the class ``date``."""
    return node.tag == "time" or "date" in _XML_SPACE.split(node.get("class") or "")


def _node_date(node: lxml.html.HtmlElement) -> date | None:
    for text in (node.get("datetime"), node.get("data-dateago"), node.get("data-dateap"),
                 node.text_content()):
        when = parse_date(text)
        if when:
            return when
    return None


class _PageIndex:
    """The page's nodes numbered in document order, for questions about a link's surroundings
    that stay linear in the page however many links it holds.

    A node's descendants are the numbers right after its own, up to its last descendant's: "the
    first date under this node" and "how many links under it" are each a bisection of a sorted
    list, not a search of the node's whole subtree. Searching it for every link was quadratic:
    a container of 20,000 links without dates took about 30 minutes (docs/reliability.md).
    """

    def __init__(self, doc: lxml.html.HtmlElement) -> None:
        # the whole tree: lxml.html.fromstring of a fragment returns a node below <body>, and
        # the walk up from a link may leave it
        nodes = list(doc.getroottree().getroot().iter())
        self._start = {node: number for number, node in enumerate(nodes)}
        self._last = list(range(len(nodes)))  # the number of each node's last descendant
        for number in range(len(nodes) - 1, -1, -1):  # children before their parent
            node = nodes[number]
            if len(node):
                self._last[number] = self._last[self._start[node[-1]]]
        root = nodes[0]
        self._links = [self._start[node] for node in root.xpath("//a[@href]")]
        self._date_nodes = [node for node in root.xpath(_MAYBE_DATE_NODES) if _is_date_node(node)]
        self._date_numbers = [self._start[node] for node in self._date_nodes]
        #: date node position → the position of the first date node from there on that has a date
        self._next_dated: dict[int, int] = {}
        self._dates: dict[int, date | None] = {}
        #: node → (a link below it is chrome, it or a node above it is ``main``)
        self._chrome: dict[lxml.html.HtmlElement, tuple[bool, bool]] = {}

    def date_near(self, link: lxml.html.HtmlElement) -> date | None:
        """The first date under the listing item holding ``link``: the lowest of its six nearest
        ancestors with one, unless a container of several items comes first."""
        node = link
        for _ in range(6):  # the listing item holding the link, a few levels up at most
            node = node.getparent()
            if node is None:
                return None
            first, last = self._start[node] + 1, self._last[self._start[node]]
            when = self._first_date(first, last)
            if when:
                return when
            if bisect_right(self._links, last) - bisect_left(self._links, first) > 6:
                return None  # reached a container of several items
        return None

    def _first_date(self, first: int, last: int) -> date | None:
        """The date of the first date node numbered ``first``..``last`` that gives one."""
        position = self._first_dated(bisect_left(self._date_numbers, first))
        if position < len(self._date_numbers) and self._date_numbers[position] <= last:
            return self._dates[position]
        return None

    def _first_dated(self, position: int) -> int:
        """The first date node at ``position`` or after that gives a date (``len`` if none); each
        node's date is read once and each stretch without one skipped once."""
        passed = []
        while position < len(self._date_numbers) and position not in self._next_dated:
            if position not in self._dates:
                self._dates[position] = _node_date(self._date_nodes[position])
            if self._dates[position]:
                break
            passed.append(position)
            position += 1
        found = self._next_dated.get(position, position)
        for skipped in (*passed, position):
            self._next_dated[skipped] = found
        return found

    def in_chrome(self, link: lxml.html.HtmlElement) -> bool:
        """Whether ``link`` sits in the page's chrome (header outside ``main``, nav, footer).

        Each node's answer is kept: the walk up from a link stops at the first node already
        known, so a page's links cost one walk over its nodes, however deep they sit.
        """
        parent = link.getparent()
        return parent is not None and self._chrome_below(parent)[0]

    def _chrome_below(self, node: lxml.html.HtmlElement) -> tuple[bool, bool]:
        path = []
        above: tuple[bool, bool] = (False, False)
        current: lxml.html.HtmlElement | None = node
        while current is not None:
            known = self._chrome.get(current)
            if known is not None:
                above = known
                break
            path.append(current)
            current = current.getparent()
        for step in reversed(path):  # from the top down
            chrome, main = above
            own = step.tag in _CHROME_TAGS or step.get("id") in _CHROME_IDS \
                or (step.tag == "header" and not main)
            above = self._chrome[step] = (chrome or own, main or step.tag == "main")
        return above


def next_page_url(html: bytes | str | lxml.html.HtmlElement, base_url: str) -> str | None:
    """The listing's next page: ``rel=next``, ``a.next``, or a link whose text is "Next"."""
    doc = parse_html(html)
    for xpath in ("//link[@rel='next']/@href", "//a[@rel='next']/@href",
                  "//a[contains(concat(' ', normalize-space(@class), ' '), ' next ')]/@href",
                  "//a[normalize-space(translate(., 'NEXT', 'next'))='next' or "
                  "normalize-space(translate(., 'NEXT', 'next'))='next »' or "
                  "normalize-space(translate(., 'NEXT', 'next'))='next page']/@href"):
        found = [str(href).strip() for href in doc.xpath(xpath)]
        if found and found[0] and not found[0].lower().startswith("javascript:"):
            return urljoin(base_url, found[0])
    return _older_page_url(doc, base_url)


#: pagers without a "next" link: the DNN skin's numbered pager (the page after ``li.active``),
#: DefenseLink's monthly lists ("« Previous Month": older items come next)
_OLDER_PAGE_XPATHS = (
    "//ul[contains(concat(' ', normalize-space(@class), ' '), ' pagination ')]"
    "/li[contains(concat(' ', normalize-space(@class), ' '), ' active ')]/following-sibling::li[1]"
    "[not(contains(concat(' ', normalize-space(@class), ' '), ' disabled '))]/a/@href",
    "//a[contains(translate(normalize-space(.), 'PREVIOUS MONTH', 'previous month'), 'previous month')]"
    "/@href",
)


def _older_page_url(doc: lxml.html.HtmlElement, base_url: str) -> str | None:
    for xpath in _OLDER_PAGE_XPATHS:
        found = [str(href).strip() for href in doc.xpath(xpath)]
        if found and found[0] and found[0] != "#" and not found[0].lower().startswith("javascript:"):
            return urljoin(base_url, found[0])
    return None
