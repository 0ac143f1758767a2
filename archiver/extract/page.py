"""The article page object: one method per field of the record, each a ladder of selectors.

``ArticlePage.parse`` decodes and parses the bytes once, finds the article container and tells the
markup era from it; each field method then walks its ladder from :mod:`archiver.extract.selectors`
(era steps first, then the generic meta / JSON-LD / microdata → visible DOM → URL fallbacks).
Values are raw (as printed): the pipelines normalise whitespace and dates, parse bylines and
player lines, and decide which blocks are body text.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

from lxml import etree

from archiver.extract import blocks as body_walk
from archiver.extract import css, legacy, media, playback
from archiver.extract import selectors as sel
from archiver.extract.css import Index
from archiver.extract.dates import iso_date
from archiver.extract.decode import decode_html
from archiver.extract.dom import (
    HtmlElement,
    NotHtmlError,
    classes,
    first,
    has_ancestor_in,
    iter_select,
    parse_html,
    strip_non_text,
    text_of,
    value_of,
)
from archiver.extract.text import NOTICE_RE, NOTICE_SENTENCE_RE, collapse_space, is_notice
from archiver.items import Block
from archiver.site import NOT_NEWS, item_ref

logger = logging.getLogger(__name__)

#: the record's ``markup_era`` of each internal era (``legacy`` and ``modern`` are the two DGOV2
#: layouts; ``generic`` is an unknown variant of the same platform)
MARKUP_ERAS: dict[str, str] = {
    "aspnet": "aspnet", "static": "defenselink-static", "dnn": "dnn",
    "legacy": "dgov2", "modern": "dgov2", "generic": "dgov2",
}
#: the site names itself this since September 2025 (``og:site_name``, the ``<title>`` suffix)
_WAR_BRANDING_RE = re.compile(r"Department\s+of\s+War\b", re.I)
#: ``<title>`` of a page that is no news item: a biography, a fact file
_NOT_NEWS_TITLE_RE = re.compile(r"^\s*(?:Biography|Biographies|Bio)\b", re.I)
_CONTENT_TYPE_CLASS_RE = re.compile(r"^content-type-(\d+)$")
_TITLE_SPLIT_RE = re.compile(r"\s+(?:>|\||::)\s+")
#: elements that may hold the historical notice (searched only when the page's text has its words):
#: notice classes, and any element whose own text has the words
_NOTICE_CLASSES = frozenset(q.lstrip(".") for q in sel.NOTICE)
_NOTICE_CANDIDATES = etree.XPath(
    "//*[(@class and (contains(@class, 'disclaimer') or contains(@class, 'alert')))"
    " or text()[contains(., 'istorical collection') or contains(., 'ISTORICAL COLLECTION')"
    " or contains(., 'istorical purposes only')]]")


@dataclass
class PageData:
    """What the page says about itself outside the visible DOM: JSON-LD and script variables."""

    jsonld: dict[str, Any] = field(default_factory=dict)
    scripts: str = ""
    #: the ``src`` of each external script
    sources: tuple[str, ...] = ()


@dataclass(eq=False)
class ArticlePage:
    """One parsed article page (use :meth:`parse`)."""

    url: str
    root: HtmlElement
    container: HtmlElement
    era: str
    data: PageData
    base_url: str
    #: whether the decoded page mentions "historical collection" anywhere (a cheap pre-check)
    has_notice_words: bool = True

    # -- construction ----------------------------------------------------------------------------

    #: what the era's order says about a DefenseLink / ASP.NET / static page (``None`` otherwise)
    layout: legacy.LegacyLayout | None = None
    #: the page was seen through a web archive's playback (its URLs are unwrapped)
    played_back: bool = False

    @classmethod
    def parse(cls, url: str, body: bytes, headers: Mapping[str, str] | None = None) -> ArticlePage | None:
        """The page object, or ``None`` when the bytes are not an article page."""
        found = cls.read(url, body, headers)
        return found if isinstance(found, ArticlePage) else None

    @classmethod
    def read(cls, url: str, body: bytes, headers: Mapping[str, str] | None = None) -> ArticlePage | str:
        """The page object, or why the bytes are not an article page (a sentence)."""
        decoded = decode_html(body, headers)
        try:
            root = parse_html(decoded.as_utf8())
        except NotHtmlError as exc:
            logger.debug("not HTML: %s (%s)", url, exc)
            return f"not HTML ({exc})"
        data = _page_data(root)
        played_back = playback.is_playback(data.scripts, url, data.sources)
        if played_back:
            played = playback.played_url(data.scripts)
            unwrapped = playback.original_url(url)
            # a saved playback page (no http URL given): the URL the archive says it played back
            url = unwrapped if unwrapped != url or url.startswith(("http://", "https://")) or not played \
                else played
            playback.unwrap_document(root, url)
        strip_non_text(root)
        head = root.find("head")
        base = first(head, "base[href]") if head is not None else None
        base_url = urljoin(url, base.get("href", "")) if base is not None else url
        container = find_container(root)
        era = detect_era(container) if container is not None else ""
        if container is None:
            found = legacy.find_container(root, url)
            if found is None:
                logger.debug("no article container: %s", url)
                return _refusal(root, url)
            container, era = found
        page = cls(url, root, container, era, data, base_url,
                   has_notice_words=_mentions_notice(decoded.text), played_back=played_back)
        if era in legacy.LEGACY_ERAS:
            page.layout = legacy.read_layout(root, container, base_url)
            if page.content_type() == "other":
                return _refusal(root, url, legacy_page=True)
        return page

    # -- ladders ---------------------------------------------------------------------------------

    def ladder(self, name: str) -> Iterator[sel.Step]:
        """The steps for field ``name``: this era's own, then the generic ones."""
        own = "aspnet" if self.era == "static" else self.era
        for era in (own, "generic") if own != "generic" else ("generic",):
            ladders = sel.FIELDS.get(era)
            if ladders is not None:
                yield from ladders.get(name, ())

    @cached_property
    def head(self) -> HtmlElement:
        found = self.root.find("head")
        return found if found is not None else self.root

    @cached_property
    def index(self) -> Index:
        """The container's class/tag index: every container question is answered from it."""
        return Index(self.container)

    @cached_property
    def head_index(self) -> Index:
        return Index(self.head)

    def select(self, scope: HtmlElement, query: str) -> list[HtmlElement]:
        """CSS ``query`` in ``scope`` (the container's or the head's index; lxml elsewhere)."""
        index = self.head_index if scope is self.head else self.index
        return index.select(scope, query)

    @cached_property
    def regions(self) -> dict[str, HtmlElement]:
        return {name: self._region(name) for name in ("header", "body")}

    def region(self, name: str) -> HtmlElement:
        """The container's ``header`` or ``body`` region (the container itself if none matches)."""
        return self.regions.get(name, self.container)

    def _region(self, name: str) -> HtmlElement:
        for era in (self.era, "generic"):
            regions = sel.REGIONS.get(era)
            for query in regions.get(name, ()) if regions is not None else ():
                found = self.index.first(self.container, query)
                if found is not None:
                    return found
        return self.container

    def step_values(self, step: sel.Step) -> list[str]:
        """Raw values one step finds (in page order)."""
        if step.source == "jsonld":
            return _jsonld_values(self.data.jsonld.get(step.query))
        if step.source == "script":
            match = re.search(rf"\b{re.escape(step.query)}\s*=\s*['\"]?(\w+)", self.data.scripts)
            return [match.group(1)] if match else []
        scope = self.scope(step.source)
        elements = self.select(scope, step.query)
        if step.source not in {"page", "head", "around"}:
            elements = self._outside_asides(elements)
        return [value_of(e, step.attr) for e in elements]

    def first_value(self, name: str, accept: Any = None) -> str:
        """The first non-blank value of field ``name``'s ladder (that ``accept`` approves)."""
        for step in self.ladder(name):
            for value in self.step_values(step):
                if value.strip() and (accept is None or accept(value)):
                    return value
        return ""

    def scope(self, source: str) -> HtmlElement:
        """The element a step's ``source`` names."""
        if source == "around":
            parent = self.container.getparent()
            return parent if parent is not None else self.container
        fixed = {"page": self.root, "head": self.head, "container": self.container}.get(source)
        return fixed if fixed is not None else self.region(source)

    @cached_property
    def asides(self) -> set[HtmlElement]:
        return set(self.select(self.container, ".related, .media-inline, .gallery"))

    def _outside_asides(self, elements: list[HtmlElement]) -> list[HtmlElement]:
        """Header-ish lookups in the container must not read the related stories or media blocks."""
        asides = self.asides
        if not asides:
            return elements
        return [e for e in elements if e not in asides and not has_ancestor_in(e, asides)]

    # -- fields ----------------------------------------------------------------------------------

    def canonical_url(self) -> str:
        """``link[rel=canonical]`` / ``og:url``; on a DefenseLink page the "On the Web:" link."""
        value = self.first_value("canonical")
        if not value and self.layout is not None:
            value = legacy.self_link(self.container, self.base_url)
        return clean_url(urljoin(self.base_url, value.strip())) if value else self.url

    def article_id(self) -> str:
        """The id of the first ladder value that names an item (``site.item_ref``: current ids
        plain, legacy ones ``release:10242``), then the ASP.NET form's postback URL, then the URL."""
        for step in self.ladder("article_id"):
            for value in self.step_values(step):
                if step.source == "script":
                    if value.isdigit():
                        return value
                    continue
                ref = item_ref(urljoin(self.base_url, value.strip())) if value.strip() else None
                if ref is not None:
                    return ref.article_id
        if self.layout is not None:
            own = legacy.self_link(self.container, self.base_url)
            ref = item_ref(own) if own else None
            if ref is not None:
                return ref.article_id
            from_form = legacy.form_action_ref(self.root, self.base_url)
            if from_form:
                return from_form
        ref = item_ref(self.url)
        return ref.article_id if ref is not None else ""

    def markup_era(self) -> str:
        """``aspnet``, ``defenselink-static``, ``dnn``, ``dgov2`` or ``wargov``: DGOV2 markup is
        ``wargov`` when the page names its site the Department of War (``og:site_name``, else the
        ``<title>``), or, naming none, when it is on war.gov."""
        era = MARKUP_ERAS.get(self.era, "dgov2")
        if era != "dgov2":
            return era
        site_name = self.head_index.first(self.head, "meta[property='og:site_name']")
        named = (site_name.get("content") or "") if site_name is not None else ""
        if not named.strip():  # "<headline> > U.S. Department of War > Release | U.S. Department of War"
            named = " ".join(_TITLE_SPLIT_RE.split(legacy.head_title(self.root))[1:])
        if named.strip():
            return "wargov" if _WAR_BRANDING_RE.search(named) else "dgov2"
        host = (urlsplit(self.canonical_url()).hostname or "").lower()
        return "wargov" if host == "war.gov" or host.endswith(".war.gov") else "dgov2"

    def content_type(self) -> str:
        return self._content_type

    @cached_property
    def _content_type(self) -> str:
        """From the section label, the ``content-type-N`` class, the label's link, the ``<title>``,
        and last the URL; a DefenseLink page from its ``<title>`` label ("News Release"), its URL
        form, then its letterhead."""
        finders: tuple[Callable[[], str], ...] = (
            self._type_from_label, self._type_from_class, self._type_from_link, self._type_from_title,
            self._type_from_urls)
        if self.layout is not None:
            finders = (self._legacy_type_from_title, self._type_from_item_urls, self._legacy_type_from_header)
        elif self.era == "dnn":
            finders = (self._type_from_dnn_class, *finders)
        for finder in finders:
            found = finder()
            if found:
                return found
        return "other"

    def _type_from_dnn_class(self) -> str:
        """The DNN skin names the type on the container: ``div.adetail.contract``, ``.news``..."""
        tokens = classes(self.container)
        return next((name for token, name in sel.DNN_TYPE_CLASSES if token in tokens), "")

    def _legacy_type_from_title(self) -> str:
        assert self.layout is not None
        return _type_of_label(self.layout.label)

    def _legacy_type_from_header(self) -> str:
        assert self.layout is not None
        return _type_of_label(legacy.header_text(self.layout))

    def _type_from_item_urls(self) -> str:
        for url in (self.canonical_url(), self.url):
            ref = item_ref(url)
            if ref is not None and ref.content_type != "other":
                return ref.content_type
        return ""

    def _type_from_label(self) -> str:
        return _type_of_label(self.first_value("section_label"))

    def _type_from_class(self) -> str:
        """``content-type-N`` on the container (or inside it), else a ``presenterinfoType`` class."""
        tokens = [*classes(self.container), *self.index.by_class]
        for token in tokens:
            match = _CONTENT_TYPE_CLASS_RE.match(token)
            if match and int(match.group(1)) in sel.CODE_TYPES:
                return sel.CODE_TYPES[int(match.group(1))]
        for element in self.select(self.container, ".presenterinfoType"):
            found = _type_of_label(" ".join(classes(element)))
            if found:
                return found
        return ""

    def _type_from_link(self) -> str:
        return _type_of_path(self.first_value("section_link"))

    def _type_from_title(self) -> str:
        title = self.head_index.first(self.head, "title")
        parts: list[str] = _TITLE_SPLIT_RE.split(collapse_space(text_of(title))) if title is not None else []
        return _type_of_label(parts[-2]) if len(parts) >= 3 else ""

    def _type_from_urls(self) -> str:
        return _type_of_path(self.canonical_url()) or _type_of_path(self.url)

    def title(self) -> str:
        """The item's headline; a heading that only names the section ("Contracts") gives way to
        ``og:title`` / ``<title>`` ("Contracts for July 31, 2014")."""
        if self.layout is not None and self.layout.headline_text:
            return self.layout.headline_text
        for step in self.ladder("title"):
            for value in self.step_values(step):
                if step.source == "head" and step.query == "title":
                    # "<headline> > U.S. Department of War > Release | U.S. Department of War"
                    value = _TITLE_SPLIT_RE.split(collapse_space(value))[0]
                if value.strip() and collapse_space(value).casefold() not in sel.GENERIC_TITLES:
                    return value
        return ""

    def published(self) -> str:
        """The raw date as printed (the dates pipeline makes it ISO 8601); the title's date last
        (the real contracts page prints its date only there). A DefenseLink page: the header's
        date (by the release number), the AFPS dateline, then its meta tags."""
        if self.layout is not None:
            found = legacy.header_date(self.layout) or legacy.dateline_date(
                [b.text for b in self.blocks() if b.kind == "p"][:3])
            if found:
                return found
        found = self.first_value("published", accept=lambda v: iso_date(v) is not None)
        if found:
            return found
        title = self.title()
        return title if iso_date(title) else ""

    def byline(self) -> str:
        if self.layout is not None:
            return text_of(self.layout.byline) if self.layout.byline is not None else ""
        for step in self.ladder("byline"):
            for element in self._byline_elements(step):
                value = element if isinstance(element, str) else text_of(element)
                if value.strip():
                    return value
        return ""

    def _byline_elements(self, step: sel.Step) -> list[HtmlElement | str]:
        if step.source == "jsonld":
            return list(self.step_values(step))
        return list(self._outside_asides(self.select(self.scope(step.source), step.query)))

    def tags(self) -> list[str]:
        """Tag link texts; meta / JSON-LD keyword lists are comma-separated."""
        for step in self.ladder("tags"):
            values = [v for v in self.step_values(step) if v.strip()]
            if step.source in {"head", "page", "jsonld"}:
                values = [part for v in values for part in v.split(",") if part.strip()]
            if values:
                return list(dict.fromkeys(values))
        return []

    def related(self) -> list[dict[str, str]]:
        if self.layout is not None:
            return self._links(self.layout.related)
        for step in self.ladder("related"):
            links = self._links(self.select(self.scope(step.source), step.query))
            if links:
                return links
        return []

    def _links(self, anchors: list[HtmlElement]) -> list[dict[str, str]]:
        """Each URL once, with its first title (links without text or href skipped)."""
        items: dict[str, str] = {}
        for a in anchors:
            if a.get("href") and text_of(a).strip():
                items.setdefault(urljoin(self.base_url, a.get("href", "").strip()), text_of(a))
        return [{"title": title, "url": url} for url, title in items.items()]

    def images(self) -> list[dict[str, str]]:
        if self.layout is not None:
            records = [legacy.photo_record(img, caption, self.base_url)
                       for img, caption in self.layout.photos]
            return list({r["src"]: r for r in records if r["src"]}.values())
        return media.photos(self.index, self.region("body"), self.root, self.base_url)

    def videos(self) -> list[dict[str, str]]:
        return media.videos(self.index, self.base_url)

    def blocks(self) -> list[Block]:
        return list(self._blocks)

    @cached_property
    def _blocks(self) -> tuple[Block, ...]:
        """Notices anywhere on the page first (they sit above the body), then the body's blocks
        (a DefenseLink page: header, headline, byline and captions labelled by its layout, its
        furniture lines as chrome)."""
        body = self.region("body")
        if self.layout is None:
            walked = body_walk.body_blocks(body)
        else:
            walked = legacy.label_furniture(body_walk.body_blocks(body, self.layout.skip, layout_tables=True))
        return (*self._notices(body), *_without_section_heading(walked))

    def _notices(self, body: HtmlElement) -> list[Block]:
        """The historical notice wherever it is: in the container (legacy header), beside it
        (modern alert above it), else anywhere in the document (one search, only when the page's
        text has the notice's words at all)."""
        if not self.has_notice_words:
            return []
        found = [e for e in self.select(self.container, ", ".join(sel.NOTICE)) if is_notice(text_of(e))]
        found += [e for e in _siblings(self.container)
                  if classes(e) & _NOTICE_CLASSES and is_notice(text_of(e))]
        if not found:
            found = self._notices_anywhere()
        outermost = [e for e in found if not has_ancestor_in(e, set(found))]
        body_nodes = set(body.iter())
        return [Block("notice", text_of(e)) for e in outermost if e not in body_nodes]

    def _notices_anywhere(self) -> list[HtmlElement]:
        found: list[HtmlElement] = []
        for element in _NOTICE_CANDIDATES(self.root):
            if not isinstance(element, HtmlElement):
                continue
            marked = bool(classes(element) & _NOTICE_CLASSES)
            if (marked and is_notice(text_of(element))) or NOTICE_SENTENCE_RE.search(element.text or ""):
                found.append(element)
        return found


# -- module functions -----------------------------------------------------------------------------


def find_container(root: HtmlElement) -> HtmlElement | None:
    """The article container: the first ladder step that matches outside listings and boxes (the
    first step, which nearly every article page answers, alone; the others in one walk)."""
    first_step, *others = sel.CONTAINER
    for element in iter_select(root, first_step):
        if not _in_excluded_box(element):
            return element
    for found in css.select_each(root, tuple(others)):
        for element in found:
            if not _in_excluded_box(element):
                return element
    return None


def _in_excluded_box(element: HtmlElement) -> bool:
    """Inside a listing, related box, subscribe box or footer (``NOT_CONTAINER_INSIDE``)?"""
    for ancestor in element.iterancestors():
        if not isinstance(ancestor, HtmlElement):
            continue
        tokens = {f".{c}" for c in classes(ancestor)} | {ancestor.tag, f"#{ancestor.get('id', '')}"}
        if tokens & set(sel.NOT_CONTAINER_INSIDE):
            return True
    return False


def detect_era(container: HtmlElement) -> str:
    """``legacy`` / ``modern`` from the container's markup, ``generic`` when neither matches.

    A marker is the container itself (``div.adetail.news``) or the container and one of its
    children (``.adetail > div.header``).
    """
    for era, markers in sel.ERA_MARKERS.items():
        for query in markers:
            for chain in css.parse(query) or ():
                own, *child = chain.compounds
                if own.matches(container) and (not child or any(
                        isinstance(c, HtmlElement) and child[0].matches(c) for c in container)):
                    return era
    return "generic"


def clean_url(url: str) -> str:
    """Repeated slashes in the path collapsed (the real contracts page's ``og:url`` ends ``//``)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=re.sub(r"/{2,}", "/", parts.path)))


def _siblings(element: HtmlElement) -> list[HtmlElement]:
    return [e for e in (*element.itersiblings(preceding=True), *element.itersiblings())
            if isinstance(e, HtmlElement)]


def _mentions_notice(text: str) -> bool:
    """Cheap pre-check (substring search in C) before the regex and the document search."""
    for word in ("istorical", "ISTORICAL"):
        at = text.find(word)
        if at >= 0 and NOTICE_RE.search(text, max(0, at - 1)) is not None:
            return True
    return False


def _without_section_heading(blocks: list[Block]) -> list[Block]:
    """A body opening with a heading that only names the section (the DNN contracts pages'
    "CONTRACTS") loses it: it is the page's label, not a part of the item."""
    for index, block in enumerate(blocks):
        if block.kind == "p" and block.text.strip():
            return blocks
        if block.kind == "h":
            if collapse_space(block.text).casefold() in sel.GENERIC_TITLES:
                return [*blocks[:index], Block("chrome", block.text), *blocks[index + 1:]]
            return blocks
    return blocks


def _refusal(root: HtmlElement, url: str, *, legacy_page: bool = False) -> str:
    """Why a page is not an article page, in words a user can act on."""
    title = legacy.head_title(root)
    if NOT_NEWS.search(urlsplit(url).path) or _NOT_NEWS_TITLE_RE.match(title):
        return f"not a news item: a biography page ({title!r})"
    if legacy_page:
        return (f"not a news item: a DefenseLink page that is no release, article, transcript, speech, "
                f"contract or advisory ({title!r})")
    return "not an article page (no article container)"


def _type_of_label(label: str) -> str:
    lowered = collapse_space(label).lower()
    if not lowered:
        return ""
    for word, name in sel.LABEL_TYPES:
        if word in lowered:
            return name
    return ""


def _type_of_path(url: str) -> str:
    path = urlsplit(url.strip()).path.lower() if url else ""
    for fragment, name in sel.PATH_TYPES:
        if fragment in path:
            return name
    return ""


def _page_data(root: HtmlElement) -> PageData:
    """JSON-LD Article object, inline script text and external scripts' ``src``, read before scripts are
    stripped."""
    scripts: list[str] = []
    sources: list[str] = []
    article: dict[str, Any] = {}
    for script in root.iter("script"):
        text = script.text or ""
        source = script.get("src")
        if (script.get("type") or "").lower() == "application/ld+json":
            article = article or _jsonld_article(text)
        elif source:
            sources.append(source)
        else:
            scripts.append(text)
    return PageData(article, "\n".join(scripts), tuple(sources))


def _jsonld_article(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return {}
    stack = data if isinstance(data, list) else [data]
    while stack:
        item = stack.pop(0)
        if not isinstance(item, dict):
            continue
        graph = item.get("@graph")
        stack.extend(graph if isinstance(graph, list) else [graph] if isinstance(graph, dict) else [])
        kind = item.get("@type")
        kinds = kind if isinstance(kind, list) else [kind]
        if any(isinstance(k, str) and k.endswith(("Article", "BlogPosting", "Report")) for k in kinds):
            return item
    return {}


def _jsonld_values(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return _jsonld_values(value.get("name"))
    if isinstance(value, list):
        return [v for item in value for v in _jsonld_values(item)]
    return [str(value)]
