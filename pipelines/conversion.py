"""Archive each cleaned article in the WARC too: a ``conversion`` record next to its response.

The record's payload is the same JSON object as the article's line of ``articles.jsonl``;
``WARC-Refers-To`` names the response record it was extracted from (WARC 1.1, section 6.7).
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from itemadapter import ItemAdapter
from scrapy.exceptions import NotConfigured

from archiver.items import ARTICLE_FIELDS
from archiver.runtime.state import CrawlState, crawl_state
from archiver.warc.middleware import WarcMiddleware, find_warc_middleware

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


def record_json(item: Any) -> bytes:
    """The exported record of an item as UTF-8 JSON (the fields of articles.jsonl, in order)."""
    adapter = ItemAdapter(item)
    record = {name: adapter.get(name) for name in ARTICLE_FIELDS}
    return json.dumps(record, ensure_ascii=False).encode("utf-8")


class WarcConversionPipeline:
    """Writes a ``conversion`` record per article whose response is in this crawl's WARC."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self._middleware: WarcMiddleware | None = None

    def _state(self) -> CrawlState | None:
        if not self.crawler.settings.getbool("ARCHIVER_INCREMENTAL"):
            return None
        return crawl_state(self.crawler)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcConversionPipeline:
        if not crawler.settings.get("WARC_DIR"):
            raise NotConfigured("WARC_DIR is not set")
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        warc = ItemAdapter(item).get("warc")
        if ItemAdapter(item).get("gone_since"):  # a removed article: its conversion record exists
            return item
        if not warc or not warc.get("record_id"):
            self._count("archiver/conversion/skipped")
            return item
        middleware = self._middleware or find_warc_middleware(self.crawler)
        if middleware is None:
            self._count("archiver/conversion/skipped")
            return item
        self._middleware = middleware
        url = str(ItemAdapter(item).get("url"))
        location = middleware.write_conversion(record_json(item), refers_to=warc["record_id"], target_uri=url)
        self._count("archiver/conversion/written")
        state = self._state()
        if state is not None:  # where the last record is, should the article be removed later
            state.set_conversion(url, location.filename, location.offset, location.length)
        return item

    def _count(self, key: str) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(key)
