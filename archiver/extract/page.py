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
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

from archiver.extract import blocks as body_walk
from archiver.extract import media
from archiver.extract import selectors as sel
from archiver.extract.dates import iso_date
from archiver.extract.decode import decode_html
from archiver.extract.dom import (
    HtmlElement,
    NotHtmlError,
    classes,
    first,
    has_ancestor_in,
    parse_html,
    select,
    strip_non_text,
    text_of,
    value_of,
)
from archiver.extract.text import NOTICE_SENTENCE_RE, collapse_space, is_notice
from archiver.items import Block

logger = logging.getLogger(__name__)

_ARTICLE_ID_RES = (
    re.compile(r"/Article/(\d+)(?:/|$|\?)", re.I),
    re.compile(r"[?&](?:ID|TranscriptID|ArticleID|SpeechID|ReleaseID)=(\d+)", re.I),
)
_CONTENT_TYPE_CLASS_RE = re.compile(r"^content-type-(\d+)$")
_TITLE_SPLIT_RE = re.compile(r"\s+(?:>|\||::)\s+")


@dataclass
class PageData:
    """What the page says about itself outside the visible DOM: JSON-LD and script variables."""

    jsonld: dict[str, Any] = field(default_factory=dict)
    scripts: str = ""


@dataclass
class ArticlePage:
    """One parsed article page (use :meth:`parse`)."""

    url: str
    root: HtmlElement
    container: HtmlElement
    era: str
    data: PageData
    base_url: str

    # -- construction ----------------------------------------------------------------------------

    @classmethod
    def parse(cls, url: str, body: bytes, headers: Mapping[str, str] | None = None) -> ArticlePage | None:
        """The page object, or ``None`` when the bytes are not an article page."""
        decoded = decode_html(body, headers)
        try:
            root = parse_html(decoded.text)
        except NotHtmlError as exc:
            logger.debug("not HTML: %s (%s)", url, exc)
            return None
        data = _page_data(root)
        strip_non_text(root)
        container = find_container(root)
        if container is None:
            logger.debug("no article container: %s", url)
            return None
        base = first(root, "base[href]")
        base_url = urljoin(url, base.get("href", "")) if base is not None else url
        return cls(url, root, container, detect_era(container), data, base_url)

    # -- ladders ---------------------------------------------------------------------------------

    def ladder(self, name: str) -> Iterator[sel.Step]:
        """The steps for field ``name``: this era's own, then the generic ones."""
        yield from sel.FIELDS.get(self.era, {}).get(name, ())
        yield from sel.FIELDS["generic"].get(name, ())

    def region(self, name: str) -> HtmlElement:
        """The container's ``header`` or ``body`` region (the container itself if none matches)."""
        for era in (self.era, "generic"):
            for query in sel.REGIONS.get(era, {}).get(name, ()):
                found = first(self.container, query)
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
        scope = {"page": self.root, "container": self.container}.get(step.source)
        if scope is None:
            scope = self.region(step.source)
        elements = select(scope, step.query)
        if step.source != "page":
            elements = self._outside_asides(elements)
        return [value_of(e, step.attr) for e in elements]

    def first_value(self, name: str, accept: Any = None) -> str:
        """The first non-blank value of field ``name``'s ladder (that ``accept`` approves)."""
        for step in self.ladder(name):
            for value in self.step_values(step):
                if value.strip() and (accept is None or accept(value)):
                    return value
        return ""

    def _outside_asides(self, elements: list[HtmlElement]) -> list[HtmlElement]:
        """Header-ish lookups in the container must not read the related stories or media blocks."""
        asides = set(select(self.container, ".related, .media-inline, .gallery"))
        if not asides:
            return elements
        return [e for e in elements if e not in asides and not has_ancestor_in(e, asides)]

    # -- fields ----------------------------------------------------------------------------------

    def canonical_url(self) -> str:
        value = self.first_value("canonical")
        return clean_url(urljoin(self.base_url, value.strip())) if value else self.url

    def article_id(self) -> str:
        for step in self.ladder("article_id"):
            for value in self.step_values(step):
                found = _article_id_in(value) if step.source != "script" else value
                if found and found.isdigit():
                    return found
        return _article_id_in(self.url)

    def content_type(self) -> str:
        """From the section label, the ``content-type-N`` class, the label's link, the ``<title>``,
        and last the URL."""
        for finder in (self._type_from_label, self._type_from_class, self._type_from_link,
                       self._type_from_title, self._type_from_urls):
            found = finder()
            if found:
                return found
        return "other"

    def _type_from_label(self) -> str:
        return _type_of_label(self.first_value("section_label"))

    def _type_from_class(self) -> str:
        for element in (self.container, *select(self.container, "[class*='content-type-']")):
            for token in classes(element):
                match = _CONTENT_TYPE_CLASS_RE.match(token)
                if match and int(match.group(1)) in sel.CODE_TYPES:
                    return sel.CODE_TYPES[int(match.group(1))]
        for element in select(self.container, ".presenterinfoType"):
            found = _type_of_label(" ".join(classes(element)))
            if found:
                return found
        return ""

    def _type_from_link(self) -> str:
        return _type_of_path(self.first_value("section_link"))

    def _type_from_title(self) -> str:
        title = first(self.root, "title")
        parts = _TITLE_SPLIT_RE.split(collapse_space(text_of(title))) if title is not None else []
        return _type_of_label(parts[-2]) if len(parts) >= 3 else ""

    def _type_from_urls(self) -> str:
        return _type_of_path(self.canonical_url()) or _type_of_path(self.url)

    def title(self) -> str:
        for step in self.ladder("title"):
            for value in self.step_values(step):
                if step.source == "page" and step.query == "title":
                    # "<headline> > U.S. Department of War > Release | U.S. Department of War"
                    value = _TITLE_SPLIT_RE.split(collapse_space(value))[0]
                if value.strip():
                    return value
        return ""

    def published(self) -> str:
        """The raw date as printed (the dates pipeline makes it ISO 8601); the title's date last
        (the real contracts page prints its date only there)."""
        found = self.first_value("published", accept=lambda v: iso_date(v) is not None)
        if found:
            return found
        title = self.title()
        return title if iso_date(title) else ""

    def byline(self) -> str:
        for step in self.ladder("byline"):
            for element in self._byline_elements(step):
                value = element if isinstance(element, str) else text_of(element, br="\n")
                if value.strip():
                    return value
        return ""

    def _byline_elements(self, step: sel.Step) -> list[HtmlElement | str]:
        if step.source == "jsonld":
            return list(self.step_values(step))
        scope = self.container if step.source == "container" else self.region(step.source)
        return list(self._outside_asides(select(scope, step.query)))

    def tags(self) -> list[str]:
        """Tag link texts; meta / JSON-LD keyword lists are comma-separated."""
        for step in self.ladder("tags"):
            values = [v for v in self.step_values(step) if v.strip()]
            if step.source in {"page", "jsonld"}:
                values = [part for v in values for part in v.split(",") if part.strip()]
            if values:
                return list(dict.fromkeys(values))
        return []

    def related(self) -> list[dict[str, str]]:
        for step in self.ladder("related"):
            scope = self.root if step.source == "page" else self.container
            links = [a for a in select(scope, step.query) if a.get("href") and text_of(a).strip()]
            if links:
                items = {urljoin(self.base_url, a.get("href", "").strip()): text_of(a) for a in links}
                return [{"title": title, "url": url} for url, title in items.items()]
        return []

    def images(self) -> list[dict[str, str]]:
        return media.photos(self.container, self.region("body"), self.root, self.base_url)

    def videos(self) -> list[dict[str, str]]:
        return media.videos(self.container, self.base_url)

    def blocks(self) -> list[Block]:
        """Notices anywhere on the page first (they sit above the body), then the body's blocks."""
        body = self.region("body")
        return [*self._notices(body), *body_walk.body_blocks(body)]

    def _notices(self, body: HtmlElement) -> list[Block]:
        found: list[HtmlElement] = []
        for element in select(self.root, ", ".join(sel.NOTICE)):
            if is_notice(text_of(element)) and not has_ancestor_in(element, set(found)):
                found.append(element)
        for element in self.root.iter():
            if isinstance(element, HtmlElement) and element.text and NOTICE_SENTENCE_RE.search(element.text):
                if element not in found and not has_ancestor_in(element, set(found)):
                    found.append(element)
        body_nodes = set(body.iter())
        return [Block("notice", text_of(e)) for e in found if e not in body_nodes]


# -- module functions -----------------------------------------------------------------------------


def find_container(root: HtmlElement) -> HtmlElement | None:
    """The article container: the first ladder step that matches outside listings and boxes."""
    excluded = set(select(root, ", ".join(sel.NOT_CONTAINER_INSIDE)))
    for query in sel.CONTAINER:
        for element in select(root, query):
            if element not in excluded and not has_ancestor_in(element, excluded):
                return element
    return None


def detect_era(container: HtmlElement) -> str:
    """``legacy`` / ``modern`` from the container's markup, ``generic`` when neither matches."""
    parent = container.getparent()
    scope = parent if parent is not None else container
    for era, markers in sel.ERA_MARKERS.items():
        for query in markers:
            if any(e is container or e.getparent() is container for e in select(scope, query)):
                return era
    return "generic"


def clean_url(url: str) -> str:
    """Repeated slashes in the path collapsed (the real contracts page's ``og:url`` ends ``//``)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=re.sub(r"/{2,}", "/", parts.path)))


def _article_id_in(value: str) -> str:
    for pattern in _ARTICLE_ID_RES:
        match = pattern.search(value)
        if match:
            return match.group(1)
    return ""


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
    """JSON-LD Article object and inline script text, read before scripts are stripped."""
    scripts: list[str] = []
    article: dict[str, Any] = {}
    for script in select(root, "script"):
        text = script.text or ""
        if (script.get("type") or "").lower() == "application/ld+json":
            article = article or _jsonld_article(text)
        elif not script.get("src"):
            scripts.append(text)
    return PageData(article, "\n".join(scripts))


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
        stack.extend(item.get("@graph") or [])
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
