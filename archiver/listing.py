"""Listing pages, read by meaning: article links in the main content, their dates, the next page.

Works on the site's listing markup (``div.item`` > ``h3.title a`` + ``time[data-dateap]``) and on
listings built differently: any link to an ``/Article/<id>/`` URL outside the page chrome
(header, nav, footer) counts, and its date is the nearest ``time`` / ``.date`` around it.
"""

from __future__ import annotations

import re
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
#: what any link ARTICLE_URL matches once joined must contain already
_MAYBE_ARTICLE = re.compile(r"article|id=", re.I)
_DATE_NODES = ".//time | .//*[contains(concat(' ', normalize-space(@class), ' '), ' date ')]"
#: article pages of the ASP.NET site (DefenseLink, archive.defense.gov), each kind its own numbers
LEGACY_ARTICLE_URL = re.compile(
    r"/(?:news/newsarticle|releases/release|transcripts/transcript|speeches/speech|contracts/contract|"
    r"advisories/advisory)\.aspx\?(?:[^#]*&)?(?:id|releaseid|transcriptid|speechid|contractid|advisoryid)"
    r"=\d+(?:&|#|$)", re.I)


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
    entries: dict[str, ListingEntry] = {}
    for link in doc.iter("a"):
        href = link.get("href")
        if href is None or not _MAYBE_ARTICLE.search(href):  # cheap: most links are not articles
            continue
        url = urljoin(base_url, href.strip())
        if not is_article_url(url) or NOT_NEWS.search(url) or url in entries or not on_hosts(url, hosts) \
                or _in_chrome(link):
            continue
        entries[url] = ListingEntry(url, _date_near(link) or _date_of_row(link))
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
            when = parse_date(node.text_content())
            if when:
                return when
            break
    return parse_date(link.text_content())


def _in_chrome(link: lxml.html.HtmlElement) -> bool:
    """Whether ``link`` sits in the page's chrome (header outside ``main``, nav, footer).

    The ancestor walk in Python, for the few links that point at articles, costs a tenth of an
    XPath ``ancestor::`` test on every link of the page (~2 ms a listing page).
    """
    ancestors = list(link.iterancestors())
    for depth, node in enumerate(ancestors):
        if node.tag in _CHROME_TAGS or node.get("id") in _CHROME_IDS:
            return True
        if node.tag == "header" and not any(above.tag == "main" for above in ancestors[depth + 1:]):
            return True
    return False


def _date_near(link: lxml.html.HtmlElement) -> date | None:
    node = link
    for _ in range(6):  # the listing item holding the link, a few levels up at most
        node = node.getparent()
        if node is None:
            return None
        for candidate in node.xpath(_DATE_NODES):
            for text in (candidate.get("datetime"), candidate.get("data-dateago"),
                         candidate.get("data-dateap"), candidate.text_content()):
                when = parse_date(text)
                if when:
                    return when
        if len(node.xpath(".//a[@href]")) > 6:  # reached a container of several items
            return None
    return None


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
