"""``archiver harvest --captures all``: each distinct version of an article kept once.

The duplicate filter keeps one record per ``article_id``; a harvest of every capture keeps one per
``article_id`` and cleaned content (the record without where and when it was fetched:
:func:`archiver.runtime.state.record_digest`), so an article the site edited twice is there three times,
each with its capture time, and a capture identical to an earlier one is skipped. When resuming,
the versions already in ``changes.jsonl`` count as kept. Replaces ``DropDuplicatesPipeline`` and
``ResumeDedupePipeline`` in such a harvest (spiders/harvest.py). Stats:
``archiver/versions/kept``, ``archiver/versions/dropped``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from itemadapter import ItemAdapter
from scrapy.exceptions import NotConfigured

from archiver.addon import CHANGES_FILE
from archiver.items import ARTICLE_FIELDS
from archiver.runtime.state import record_digest
from pipelines.rejections import ArticleSkipped

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


def version_key(record: dict[str, Any]) -> tuple[str, str]:
    return str(record.get("article_id")), record_digest(record)


def written_versions(path: Path) -> set[tuple[str, str]]:
    """The versions already in a ``changes.jsonl`` (this run's records)."""
    keys: set[tuple[str, str]] = set()
    if not path.exists():
        return keys
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            try:
                keys.add(version_key(json.loads(line)))
            except (ValueError, TypeError, AttributeError):
                continue
    return keys


class DistinctVersionsPipeline:
    def __init__(self, crawler: Crawler, kept: set[tuple[str, str]]) -> None:
        self.crawler = crawler
        self.kept = kept

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DistinctVersionsPipeline:
        if not crawler.settings.getbool("ARCHIVER_DROP_DUPLICATES", True):
            raise NotConfigured("ARCHIVER_DROP_DUPLICATES is off")
        out = crawler.settings.get("ARCHIVER_OUT_DIR")
        resuming = crawler.settings.getbool("ARCHIVER_RESUME") and out
        return cls(crawler, written_versions(Path(out) / CHANGES_FILE) if resuming else set())

    def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        key = version_key({name: adapter.get(name) for name in ARTICLE_FIELDS})
        assert self.crawler.stats is not None
        if key in self.kept:
            self.crawler.stats.inc_value("archiver/versions/dropped")
            raise ArticleSkipped(str(adapter.get("url")), "versions",
                                 f"this version of article {key[0]} is kept already", key[0],
                                 log_level="INFO")
        self.kept.add(key)
        self.crawler.stats.inc_value("archiver/versions/kept")
        return item
