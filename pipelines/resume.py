"""After ``--resume``: an article already in changes.jsonl is not written again.

An interrupted run may have written an article and died before its request was marked finished;
resuming asks it again. This pipeline reads the article ids already in the folder's
``changes.jsonl`` (this run's records) when a resumed crawl opens and drops those (a skip, not a
failure), so every article is there exactly once. Stat: ``archiver/resume/already_written``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from itemadapter import ItemAdapter
from scrapy.exceptions import NotConfigured

from archiver.addon import CHANGES_FILE
from archiver.exceptions import SkippedItem

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


class AlreadyWritten(SkippedItem):
    """The article is in changes.jsonl (this run's records) from before the interruption."""


def written_ids(path: Path) -> set[str]:
    ids: set[str] = set()
    if not path.exists():
        return ids
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            try:
                ids.add(str(json.loads(line)["article_id"]))
            except (ValueError, KeyError, TypeError):
                continue
    return ids


class ResumeDedupePipeline:
    def __init__(self, crawler: Crawler, ids: set[str]) -> None:
        self.crawler = crawler
        self.ids = ids

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ResumeDedupePipeline:
        out = crawler.settings.get("ARCHIVER_OUT_DIR")
        if not crawler.settings.getbool("ARCHIVER_RESUME") or not out:
            raise NotConfigured("not resuming")
        return cls(crawler, written_ids(Path(out) / CHANGES_FILE))

    def process_item(self, item: Any) -> Any:
        article_id = str(ItemAdapter(item).get("article_id"))
        if article_id in self.ids:
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value("archiver/resume/already_written")
            raise AlreadyWritten(f"article {article_id} is already in {CHANGES_FILE}")
        self.ids.add(article_id)
        return item
