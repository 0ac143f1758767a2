"""Items: plain data that exports and replays (never a Scrapy Response inside)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: the fields of articles.jsonl, in export order (archiver/schema/article.schema.json)
ARTICLE_FIELDS: tuple[str, ...] = (
    "url", "canonical_url", "article_id", "content_type", "title", "published", "authors",
    "body", "images", "videos", "tags", "related", "historical", "fetched_at", "warc",
    "extractor_version", "change", "markup_era", "legacy_id", "source",
)
#: fields only some records have (``gone_since``: a removed article's last record, archiver/runtime/gone.py)
OPTIONAL_FIELDS: tuple[str, ...] = ("gone_since",)
#: what articles.jsonl exports, in order: a record's fields, then the optional ones it has
EXPORT_FIELDS: tuple[str, ...] = ARTICLE_FIELDS + OPTIONAL_FIELDS


@dataclass
class Block:
    """One text block of the article container, in page order, with what the page says it is.

    ``kind`` is ``"p"`` (paragraph), ``"h"`` (subheading) or a non-body role the extractor
    recognised (``"caption"``, ``"media-title"``, ``"credit"``, ``"virin"``, ``"player"``,
    ``"follow"``, ``"notice"``, ``"chrome"``); pipelines decide what reaches ``body``.
    """

    kind: str
    text: str


@dataclass
class Prepared:
    """What the cleaning pipelines did to an item in an extraction worker (archiver/runtime/extractpool.py).

    The crawl's own instances of the ``applied`` pipelines pass the item through; the one that
    dropped it (``dropped_by``) raises ``dropped`` again, so that Scrapy logs, counts and signals
    the drop as if it happened in the crawl process. ``stats`` are what those pipelines counted
    (the first of them in the crawl adds them to the crawl's stats as the item reaches it).
    """

    applied: frozenset[str]
    stats: dict[str, Any] = field(default_factory=dict)
    dropped: Exception | None = None
    dropped_by: str = ""
    #: the photos' ``src`` as extracted, before the pipelines (a crawl with images fetches these)
    image_sources: tuple[str, ...] = ()
    #: whether the crawl process has added ``stats`` to its own
    counted: bool = False


@dataclass
class ArticleItem:
    """One article: the cleaned record of articles.jsonl plus working fields for the pipelines.

    Only ``ARTICLE_FIELDS`` are exported (``FEED_EXPORT_FIELDS``); ``blocks`` and ``byline`` are
    the extractor's raw material that pipelines turn into ``body`` and ``authors``.
    """

    url: str
    canonical_url: str = ""
    article_id: str = ""
    content_type: str = "other"
    title: str = ""
    published: str = ""
    authors: list[str] = field(default_factory=list)
    body: str = ""
    images: list[dict[str, str]] = field(default_factory=list)
    videos: list[dict[str, Any]] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    related: list[dict[str, str]] = field(default_factory=list)
    historical: bool = False
    fetched_at: str = ""
    warc: dict[str, Any] | None = None
    extractor_version: str = ""
    #: ``new`` or ``updated`` since the previous crawl into the same state (incremental crawls);
    #: ``gone`` on a removed article's last record (a plain dict, archiver/runtime/gone.py)
    change: str = "new"
    #: which era's markup the page was: ``aspnet``, ``defenselink-static``, ``dnn``, ``dgov2``,
    #: ``wargov`` (the schema's enum)
    markup_era: str = "dgov2"
    #: ``{"kind": "release", "number": "10242"}`` for a legacy id (``article_id`` ``release:10242``),
    #: ``None`` for a DNN / DGOV2 / war.gov id
    legacy_id: dict[str, str | None] | None = None
    #: where this version came from: ``{"archive": "live"}`` for the live site, else the archive,
    #: capture time and capture URL (``archiver harvest``, docs/harvest.md)
    source: dict[str, Any] = field(default_factory=lambda: {"archive": "live"})
    blocks: list[Block] = field(default_factory=list)
    byline: str = ""
    #: set by an extraction worker that already ran the cleaning pipelines on the item (the
    #: crawl's own instances of those pipelines then pass it through): never exported
    prepared: Prepared | None = field(default=None, repr=False, compare=False)
    #: the page's requisites as ``(url, kind)`` pairs, when an extraction worker scanned them
    #: (archiver/requisites/scan.py; the crawl's requisites middleware asks for them): never exported
    requisites: tuple[tuple[str, str], ...] | None = field(default=None, repr=False, compare=False)

    def record(self) -> dict[str, Any]:
        """The exported record: ``ARTICLE_FIELDS`` only, in schema order."""
        return {name: getattr(self, name) for name in ARTICLE_FIELDS}


def __getattr__(name: str) -> Any:
    # ``SkippedItem`` lives in archiver.exceptions (it needs Scrapy; this module must not import it)
    if name == "SkippedItem":
        from archiver.exceptions import SkippedItem

        return SkippedItem
    raise AttributeError(name)
