"""New, updated or unchanged since the last crawl: the ``change`` field, and the state updated.

An article whose cleaned content (everything but where and when it was fetched) is the same as
last time is dropped as ``unchanged`` (its fetch is in the WARC as a revisit or a response);
others go on with ``change`` = ``new`` or ``updated``. Stats: ``archiver/changes/<kind>``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from itemadapter import ItemAdapter

from archiver.downloadermiddlewares.conditional import incremental_state
from archiver.exceptions import SkippedItem
from archiver.items import ARTICLE_FIELDS
from archiver.runtime.state import CrawlState, now_iso, record_digest

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


class UnchangedArticle(SkippedItem):
    """Not a failure: the article is as it was."""


class ChangeDetectionPipeline:
    def __init__(self, crawler: Crawler, state: CrawlState) -> None:
        self.crawler = crawler
        self.state = state

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ChangeDetectionPipeline:
        return cls(crawler, incremental_state(crawler))

    def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        if adapter.get("gone_since"):  # a removed article's last record (archiver/runtime/gone.py): counted
            return item
        record = {name: adapter.get(name) for name in ARTICLE_FIELDS}
        digest = record_digest(record)
        known = self.state.get(adapter["url"])
        if known is not None and known.record_digest == digest and not known.gone_since:
            self.state.save(adapter["url"], now_iso())
            self._count("unchanged")
            raise UnchangedArticle(f"unchanged since {known.last_seen}: {adapter['url']}")
        change = "new" if known is None or known.record_digest is None else "updated"
        adapter["change"] = change
        self.state.save(adapter["url"], now_iso(), record_digest=digest,
                        article_id=adapter.get("article_id"))
        self._count(change)
        return item

    def _count(self, kind: str) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(f"archiver/changes/{kind}")
