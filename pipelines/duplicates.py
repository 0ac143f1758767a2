"""An article reached through several URLs (legacy ``?ID=`` redirects, slugs, hosts) kept once."""

from __future__ import annotations

from typing import Self

from scrapy.exceptions import NotConfigured

from archiver.compact import id_key
from archiver.extract.pipeline_support import ArticlePipeline, CrawlerLike, StatsLike
from archiver.items import ArticleItem
from pipelines.rejections import ArticleSkipped


class DropDuplicatesPipeline(ArticlePipeline):
    """Drops a second record with the same ``article_id`` (``ArticleSkipped``, stage
    ``duplicates``, logged at INFO; a skip, not a failure). Runs after validation, so only a valid
    record claims an id.
    Memory: one small key per article of the crawl (the id as an int, archiver/compact.py: ~30
    bytes), not its URL; the skip's reason names the id, which finds the kept record.

    Setting: ``ARCHIVER_DROP_DUPLICATES`` (default ``True``). Stats:
    ``archiver/duplicates/unique``, ``archiver/duplicates/dropped``.
    """

    stat_group = "duplicates"

    @classmethod
    def from_crawler(cls, crawler: CrawlerLike) -> Self:
        if not crawler.settings.getbool("ARCHIVER_DROP_DUPLICATES", True):
            raise NotConfigured("ARCHIVER_DROP_DUPLICATES is off")
        return cls(crawler.stats)

    def __init__(self, stats: StatsLike) -> None:
        super().__init__(stats)
        self.kept: set[int | str] = set()

    def process_article(self, item: ArticleItem) -> None:
        key = id_key(item.article_id)
        if key not in self.kept:
            self.kept.add(key)
            self.count("unique")
            return
        self.count("dropped")
        raise ArticleSkipped(item.url, "duplicates",
                              f"article {item.article_id} already kept from another URL of this crawl",
                              item.article_id, log_level="INFO")
