"""The article pipelines in plain Python: the same classes, in the same order, as a crawl runs them.

``archiver extract FILE.html``, offline re-extraction from WARC files and the tests call
:meth:`PipelineChain.process` after :func:`archiver.extract.extract_article`, so their records are
the ones a crawl writes (minus the crawl's ``warc`` provenance). Register the same classes in a
crawl with ``ITEM_PIPELINES = dict(PIPELINE_ORDER)`` (plus the crawl's own provenance pipeline
between ``AssembleBodyPipeline`` and ``ValidateSchemaPipeline``, i.e. priority 500-799).

Importing this module does not import Scrapy; building a chain imports the ``pipelines`` package,
whose modules use Scrapy's exception classes.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from archiver.items import ArticleItem, Prepared
from pipelines.base import (
    DictStats,
    OfflineCrawler,
    OfflineSettings,
    image_sources,
)

#: pipeline class path → priority (usable as Scrapy ``ITEM_PIPELINES``: ``dict(PIPELINE_ORDER)``)
PIPELINE_ORDER: Mapping[str, int] = MappingProxyType({
    "pipelines.whitespace.NormaliseWhitespacePipeline": 100,
    "pipelines.chrome.StripChromePipeline": 150,
    "pipelines.captions.DedupeCaptionsPipeline": 200,
    "pipelines.videos.VideoPipeline": 250,
    "pipelines.follow.FollowLinePipeline": 300,
    "pipelines.byline.BylinePipeline": 350,
    "pipelines.dates.PublishedDatePipeline": 400,
    "pipelines.body.AssembleBodyPipeline": 450,
    "pipelines.validate.ValidateSchemaPipeline": 800,
    "pipelines.duplicates.DropDuplicatesPipeline": 850,
})

#: pipelines whose outcome depends on the items before them (the duplicate filter): they, and every
#: pipeline after them, run in one process in page order (re-extraction's parent, the crawl process)
ORDERED_PIPELINES = frozenset({"pipelines.duplicates.DropDuplicatesPipeline"})


def split_order(order: Mapping[str, int]) -> tuple[dict[str, int], dict[str, int]]:
    """(pipelines that may run in any process, pipelines that must run in page order)."""
    ranked = sorted(order, key=lambda path: order[path])
    cut = next((i for i, path in enumerate(ranked) if path in ORDERED_PIPELINES), len(ranked))
    return {p: order[p] for p in ranked[:cut]}, {p: order[p] for p in ranked[cut:]}


def load_class(path: str) -> Any:
    """``package.module.Class`` → the class."""
    module_name, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module_name), name)


@dataclass
class PipelineChain:
    """Pipeline instances in priority order, sharing one :class:`DictStats`."""

    pipelines: list[Any] = field(default_factory=list)
    stats: DictStats = field(default_factory=DictStats)
    #: the class path of each pipeline
    paths: list[str] = field(default_factory=list)

    @classmethod
    def build(cls, settings: Mapping[str, Any] | None = None,
              order: Mapping[str, int] = PIPELINE_ORDER) -> PipelineChain:
        """Each pipeline made by its own ``from_crawler`` (a pipeline switched off by its setting,
        ``NotConfigured``, is left out as Scrapy leaves it out)."""
        from scrapy.exceptions import NotConfigured

        crawler = OfflineCrawler(OfflineSettings(dict(settings or {})), DictStats())
        pipelines, paths = [], []
        for path in sorted(order, key=lambda p: order[p]):
            try:
                pipelines.append(load_class(path).from_crawler(crawler))
            except NotConfigured:
                continue
            paths.append(path)
        return cls(pipelines, crawler.stats, paths)

    def process(self, item: ArticleItem) -> ArticleItem:
        """The cleaned item; raises the pipelines' ``DropItem`` (``ArticleRejected``) to reject it."""
        result: Any = item
        for pipeline in self.pipelines:
            result = pipeline.process_item(result)
        if not isinstance(result, ArticleItem):
            raise TypeError(f"a pipeline returned {type(result).__name__}, not ArticleItem")
        return result

    def prepare(self, item: ArticleItem) -> ArticleItem:
        """The item after the chain, with what happened on it as ``item.prepared`` (the stats it
        counted, and the exception of a pipeline that dropped it, as data): an extraction worker
        hands that to the crawl, whose own instances of these pipelines then skip the item."""
        self.stats.values.clear()
        sources = image_sources(item)
        dropped: Exception | None = None
        dropped_by = ""
        result: Any = item
        for path, pipeline in zip(self.paths, self.pipelines, strict=True):
            try:
                result = pipeline.process_item(result)
            except Exception as exc:  # raised again by the crawl's own instance of the pipeline
                dropped, dropped_by, result = exc, path, item
                break
        if not isinstance(result, ArticleItem):
            raise TypeError(f"a pipeline returned {type(result).__name__}, not ArticleItem")
        result.prepared = Prepared(frozenset(self.paths), dict(self.stats.values), dropped, dropped_by,
                                   sources)
        return result


def extract_record(url: str, body: bytes, headers: Mapping[str, str] | None = None,
                   fetched_at: str = "") -> dict[str, Any] | None:
    """The cleaned record of one page (extraction + the pipeline chain), as ``articles.jsonl`` holds it
    minus the crawl's ``warc``; ``None`` for a non-article page. Raises the pipelines' ``DropItem``
    (``pipelines.rejections.ArticleRejected``) for a page they reject."""
    from archiver.extract import extract_article  # lxml and the selectors: only when extracting here

    item = extract_article(url, body, headers, fetched_at)
    if item is None:
        return None
    return PipelineChain.build().process(item).record()
